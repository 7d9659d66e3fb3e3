//! The player's own controls, drawn over the video (`controls.js` makes
//! them work and takes the browser's controls away; without scripts the
//! browser's stay): play, ten seconds back and on, sound, the time, a seek
//! bar with the chapters marked on it, a menu of subtitles, audio and
//! speed, picture-in-picture, full screen, and the keyboard shortcuts
//! (`?`). The same controls for a file played as stored, remuxed or
//! transcoded.

use maud::{html, Markup};

use super::duration;
use crate::media::inside::Chapter;

/// Icons (24 × 24 paths, Material Design, Apache 2.0), drawn in the
/// text's colour.
const PLAY: &str = "M8 5v14l11-7z";
const PAUSE: &str = "M6 5h4v14H6zm8 0h4v14h-4z";
const SOUND: &str = "M3 9v6h4l5 5V4L7 9H3zm13.5 3c0-1.77-1.02-3.29-2.5-4.03v8.05c1.48-.73 2.5-2.25 2.5-4.02zM14 3.23v2.06c2.89.86 5 3.54 5 6.71s-2.11 5.85-5 6.71v2.06c4.01-.91 7-4.49 7-8.77s-2.99-7.86-7-8.77z";
const MUTED: &str = "M16.5 12c0-1.77-1.02-3.29-2.5-4.03v2.21l2.45 2.45c.03-.2.05-.41.05-.63zm2.5 0c0 .94-.2 1.82-.54 2.64l1.51 1.51C20.63 14.91 21 13.5 21 12c0-4.28-2.99-7.86-7-8.77v2.06c2.89.86 5 3.54 5 6.71zM4.27 3L3 4.27 7.73 9H3v6h4l5 5v-6.73l4.25 4.25c-.67.52-1.42.93-2.25 1.18v2.06c1.38-.31 2.63-.95 3.69-1.81L19.73 21 21 19.73l-9-9L4.27 3zM12 4L9.91 6.09 12 8.18V4z";
const SETTINGS: &str = "M19.14 12.94c.04-.3.06-.61.06-.94 0-.32-.02-.64-.07-.94l2.03-1.58a.49.49 0 00.12-.61l-1.92-3.32a.488.488 0 00-.59-.22l-2.39.96c-.5-.38-1.03-.7-1.62-.94l-.36-2.54a.484.484 0 00-.48-.41h-3.84c-.24 0-.43.17-.47.41l-.36 2.54c-.59.24-1.13.57-1.62.94l-2.39-.96a.49.49 0 00-.59.22L2.74 8.87a.49.49 0 00.12.61l2.03 1.58c-.05.3-.09.63-.09.94s.02.64.07.94l-2.03 1.58a.49.49 0 00-.12.61l1.92 3.32c.12.22.37.29.59.22l2.39-.96c.5.38 1.03.7 1.62.94l.36 2.54c.05.24.24.41.48.41h3.84c.24 0 .44-.17.47-.41l.36-2.54c.59-.24 1.13-.56 1.62-.94l2.39.96c.22.08.47 0 .59-.22l1.92-3.32c.12-.22.07-.47-.12-.61l-2.01-1.58zM12 15.6A3.6 3.6 0 1112 8.4a3.6 3.6 0 010 7.2z";
const FULL: &str = "M7 14H5v5h5v-2H7v-3zm-2-4h2V7h3V5H5v5zm12 7h-3v2h5v-5h-2v3zM14 5v2h3v3h2V5h-5z";
const FULL_EXIT: &str = "M5 16h3v3h2v-5H5v2zm3-8H5v2h5V5H8v3zm6 11h2v-3h3v-2h-5v5zm2-11V5h-2v5h5V8h-3z";
const PIP: &str = "M19 11h-8v6h8v-6zm4 8V4.98C23 3.88 22.1 3 21 3H3c-1.1 0-2 .88-2 1.98V19c0 1.1.9 2 2 2h18c1.1 0 2-.9 2-2zm-2 .02H3V4.97h18v14.05z";
const BACK: &str =
    "M11.99 5V1l-5 5 5 5V7c3.31 0 6 2.69 6 6s-2.69 6-6 6-6-2.69-6-6h-2c0 4.42 3.58 8 8 8s8-3.58 8-8-3.58-8-8-8z";
const ON: &str =
    "M12 5V1l5 5-5 5V7c-3.31 0-6 2.69-6 6s2.69 6 6 6 6-2.69 6-6h2c0 4.42-3.58 8-8 8s-8-3.58-8-8 3.58-8 8-8z";

fn icon(path: &str, class: &str) -> Markup {
    html! {
        svg class=(class) viewBox="0 0 24 24" aria-hidden="true" focusable="false" {
            path d=(path) {}
        }
    }
}

/// The keys the page answers, for the `?` panel.
const SHORTCUTS: [(&str, &str); 15] = [
    ("Space or K", "Play or pause"),
    ("Enter", "Play or pause (then ↓ to the controls while paused)"),
    ("← →", "Back or on 5 seconds"),
    ("J L", "Back or on 10 seconds"),
    ("↑ ↓", "Louder or quieter"),
    ("M", "Sound off or on"),
    ("0 – 9", "Go to 0 % – 90 %"),
    ("Home End", "Go to the start or the end"),
    ("C", "Subtitles on or off"),
    ("< >", "Slower or faster"),
    ("F", "Full screen"),
    ("I", "Picture in picture"),
    ("Shift + N, Shift + P", "Next or previous video"),
    ("?", "These shortcuts"),
    ("Escape", "Close a menu or this panel"),
];

/// The controls, to follow the video in its box.
pub fn controls(chapters: &[Chapter], duration_ms: Option<u64>) -> Markup {
    let length = duration_ms.map_or_else(|| "0:00".to_string(), duration);
    html! {
        div.controls #controls hidden {
            div.seek {
                input #seek type="range" min="0" max="1000" step="1" value="0" aria-label="Position"
                    aria-valuetext={ "0:00 of " (length) };
                (chapter_marks(chapters, duration_ms))
            }
            div.row {
                button #c-play type="button" aria-label="Play" { (icon(PLAY, "i-play")) (icon(PAUSE, "i-pause")) }
                button #c-back type="button" aria-label="Back 10 seconds" { (icon(BACK, "")) }
                button #c-on type="button" aria-label="On 10 seconds" { (icon(ON, "")) }
                button #c-mute type="button" aria-label="Sound off" { (icon(SOUND, "i-sound")) (icon(MUTED, "i-muted")) }
                input #c-volume type="range" min="0" max="1" step="0.05" value="1" aria-label="Volume";
                span #c-time.time { "0:00 / " (length) }
                span #c-chapter.chapter-now {}
                span.grow {}
                button #c-settings type="button" aria-expanded="false" aria-controls="c-menu" aria-label="Player settings" {
                    (icon(SETTINGS, ""))
                }
                button #c-pip type="button" aria-label="Picture in picture" hidden { (icon(PIP, "")) }
                button #c-full type="button" aria-label="Full screen" { (icon(FULL, "i-full")) (icon(FULL_EXIT, "i-exit")) }
                button #c-help type="button" aria-label="Keyboard shortcuts" aria-haspopup="dialog" { "?" }
            }
        }
        // Filled by controls.js from the page's subtitle and audio menus; in
        // the player's box (not the bar), so it may be as tall as the picture.
        div.menu-panel #c-menu role="group" aria-label="Player settings" hidden {}
        div.jump #c-jump aria-hidden="true" hidden {}
    }
}

/// Where each chapter starts, as marks along the seek bar (placed by
/// `tracks.js`: the page's CSP allows no inline styles); the list below
/// the player names them.
fn chapter_marks(chapters: &[Chapter], duration_ms: Option<u64>) -> Markup {
    let Some(total) = duration_ms.filter(|&d| d > 0 && chapters.len() > 1) else { return html! {} };
    html! {
        div.chapter-marks aria-hidden="true" {
            @for c in chapters.iter().filter(|c| c.start_ms > 0 && c.start_ms < total) {
                span title=(c.title) data-at=(format!("{:.3}", c.start_ms as f64 * 100.0 / total as f64))
                    data-start=(c.start_ms) {}
            }
        }
    }
}

/// The `?` panel: every key the page answers.
pub fn shortcuts() -> Markup {
    html! {
        dialog #shortcuts aria-labelledby="shortcuts-title" {
            h2 #shortcuts-title { "Keyboard shortcuts" }
            p.meta { "They work wherever you are on the page, except while typing in a field." }
            dl {
                @for (keys, what) in SHORTCUTS {
                    div { dt { kbd { (keys) } } dd { (what) } }
                }
            }
            form method="dialog" { button type="submit" { "Close" } }
        }
    }
}

#[cfg(test)]
fn marks_of(chapters: &[Chapter], duration_ms: Option<u64>) -> String {
    chapter_marks(chapters, duration_ms).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_sit_where_chapters_start() {
        let chapters =
            [Chapter { start_ms: 0, title: "Opening".into() }, Chapter { start_ms: 25_000, title: "Middle".into() }];
        let html = marks_of(&chapters, Some(100_000));
        assert!(html.contains("data-at=\"25.000\"") && html.contains("title=\"Middle\""), "{html}");
        assert!(!html.contains("Opening"), "no mark at the very start");
        assert_eq!(marks_of(&chapters[..1], Some(100_000)), "", "one chapter: no marks");
        assert_eq!(marks_of(&chapters, None), "", "no length: no scale");
    }
}
