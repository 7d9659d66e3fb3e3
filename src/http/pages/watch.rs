//! The watch page: player, chapters, subtitle and audio menus, facts,
//! previous/next.

use std::sync::Arc;

use maud::{html, Markup};

use super::layout::{page, Nav, Visitor};
use super::{duration, size};
use crate::catalog::listing::QUERY_VALUE;
use crate::catalog::UserData;
use crate::catalog::Video;
use crate::media::inside::{label_of, Chapter, Described};
use percent_encoding::utf8_percent_encode;

pub struct WatchView {
    pub video: Arc<Video>,
    /// Its paths the person may see (below their folders).
    pub paths: Vec<String>,
    /// Neighbours in the library, with the titles to show.
    pub prev: Option<(Arc<Video>, String)>,
    pub next: Option<(Arc<Video>, String)>,
    pub user: UserData,
    /// Whether a thumbnail exists (shown before playback starts).
    pub poster: bool,
    /// The preview strip's tile size, for seek previews.
    pub sprite: Option<(u32, u32)>,
    /// Subtitles beside and inside the file, in menu order.
    pub subtitles: Vec<Offered>,
    /// Chapters and audio tracks inside the file.
    pub inside: Arc<Described>,
    pub up_next: UpNext,
    /// Its series, when it is an episode (and the page goes on in the
    /// series' order).
    pub series: Option<InSeries>,
    /// What the player loads: the file, or its remux (`/play/{id}.mp4`).
    pub play_url: String,
    /// A remux for browsers that cannot open the file as stored.
    pub alternative: Option<String>,
    /// Whether to offer the TVs on the network (`--dlna`, not a guest).
    pub tv: bool,
    /// Whether the server transcodes (it has ffmpeg).
    pub transcodes: bool,
    /// Its remux is not planned yet: the player starts with a stream copy.
    pub by_copy: bool,
    pub visitor: Visitor,
}

/// The listing the page continues with.
pub struct UpNext {
    /// The query string naming it (`?sort=…&shuffle=1`; empty for the
    /// whole library in the default order), kept on the neighbour links.
    pub context: String,
    /// Whether the next video is a random one of the listing.
    pub shuffle: bool,
    /// `context` with shuffling turned the other way.
    pub toggle_shuffle: String,
}

/// An episode's place in its series.
pub struct InSeries {
    /// The series' key (`/series/{key}`) and name.
    pub key: String,
    pub name: String,
    /// `S1 E2`.
    pub label: String,
    /// The episode's own title, when its name has one.
    pub title: Option<String>,
    /// The episodes before and after it, with the titles to show.
    pub prev: Option<(Arc<Video>, String)>,
    pub next: Option<(Arc<Video>, String)>,
}

/// One subtitle track as the page offers it.
pub struct Offered {
    pub url: String,
    pub label: String,
    pub language: Option<String>,
    pub forced: bool,
    /// `sidecar` or `embedded`.
    pub source: &'static str,
}

/// Video codecs some browser decodes; others are transcoded to play.
const DECODED: [&str; 5] = ["h264", "hevc", "vp8", "vp9", "av1"];

pub fn watch(view: &WatchView) -> Markup {
    let v = &view.video;
    let info = v.info.as_ref();
    let codec = info.and_then(|i| i.video_codec.as_deref());
    // No browser decodes it, or opens its container (HEVC in AVI, say):
    // the player starts with the transcode.
    let as_stored = !view.play_url.starts_with("/play/") && view.alternative.is_none();
    let undecodable = codec.is_some_and(|c| !DECODED.contains(&c))
        || (as_stored
            && codec.is_some()
            && info.is_some_and(|i| !matches!(i.container.as_str(), "mp4" | "mov" | "webm" | "mkv" | "ogg")));
    let transcode = (view.transcodes && codec.is_some()).then(|| format!("/transcode/{}.mp4", v.id));
    // The transcode from the start: the picture encoded, or (a film whose
    // remux needs a whole read first) copied as it is.
    let must_transcode = transcode.is_some() && (undecodable || view.by_copy);
    let src = (!must_transcode).then_some(view.play_url.as_str());
    // An episode is titled as its series page titles it.
    let title = v.title_named(&view.user, view.series.as_ref().and_then(|s| s.title.as_deref()));
    page(
        &title,
        Nav::Library,
        &view.visitor,
        html! {
            div.watch {
                div.player #player-box {
                video #player controls autoplay preload="metadata" src=[src]
                    data-remuxed=[view.play_url.starts_with("/play/").then_some("1")]
                    data-codec=[codec]
                    data-transcode=[transcode.as_deref()]
                    data-must-transcode=[must_transcode.then_some("1")]
                    data-copy=[(view.by_copy && !undecodable).then_some("1")]
                    data-duration=[v.duration_ms()]
                    data-sound=[info.and_then(|i| i.audio_codec.as_ref()).map(|_| "1")]
                    data-alternative=[view.alternative.as_deref()]
                    data-resume=[view.user.position_ms]
                    poster=[view.poster.then(|| format!("/thumb/{}/640", v.id))]
                    data-needs-thumb=[(!view.poster).then_some("1")]
                    data-sprite=[view.sprite.map(|(w, h)| format!("{w}x{h}"))]
                    width=[info.and_then(|i| i.width)] height=[info.and_then(|i| i.height)] {
                    @for o in &view.subtitles {
                        track kind="subtitles" src=(o.url) label=(o.label) srclang=[o.language.as_deref()] default[o.forced];
                    }
                    "Your browser cannot play this video here; "
                    a href={ "/video/" (v.id) } download { "download it" } " instead."
                }
                (super::player::controls(&view.inside.chapters, v.duration_ms()))
                (next_status())
                // Over the picture, so nothing under the player moves when it shows.
                p #resumed role="status" { span #resumed-text {} button #start-over type="button" hidden { "Start over" } }
                }
                // player.js says so when this browser cannot decode the video.
                p #codec-note.notice.warn role="status" hidden {}
                @if let Some(s) = &view.series {
                    p.meta.in-series {
                        a href=(super::series::link(&s.key)) { (s.name) }
                        " · " (s.label)
                    }
                }
                h1 #title { (title) }
                // (Titles and tags are for editors; a viewer has neither form.)
                @if view.visitor.edits() { details.rename {
                    summary { "Rename" }
                    form #title-form data-id=(v.id) {
                        label for="title-input" class="skip" { "Title" }
                        input #title-input type="text" value=(title) maxlength="300";
                        button type="submit" { "Save" }
                        button #title-reset type="button" data-file-title=(v.title()) { "Use the file name" }
                    }
                } }
                (actions(v, view.paths.first().map_or("", String::as_str), &view.user, view.visitor.edits()))
                (track_choices(view))
                (up_next(view))
                // One row of the tools the scripts show where they work.
                div.tools {
                    // playlists.js fills and shows it.
                    div.playlist-add.waiting #playlist-add data-id=(v.id) {
                        label for="playlist-add-choice" { "Playlist" }
                        select #playlist-add-choice {}
                        label for="playlist-add-name" class="skip" { "Name of the new playlist" }
                        input #playlist-add-name type="text" placeholder="Name of the new playlist" maxlength="100" autocomplete="off" hidden;
                        button #playlist-add-button type="button" { "Add to playlist" }
                        span #playlist-add-status role="status" {}
                    }
                    // player.js shows it where the browser finds a screen (Remote Playback API).
                    button #cast type="button" hidden { "Play on another screen" }
                    // tv.js shows it when the server (`--dlna`) finds a TV on the network.
                    div.tv #tv data-id=(v.id) data-on=[view.tv.then_some("1")] hidden {
                        label for="tv-choice" { "Play on TV" }
                        select #tv-choice {}
                        button #tv-send type="button" { "Play there" }
                        span #tv-status role="status" {}
                        span.tv-controls #tv-controls hidden {
                            button #tv-pause type="button" { "Pause" }
                            input #tv-seek type="range" min="0" max="0" step="1" value="0" aria-label="Position on the TV";
                            span #tv-time.meta {}
                            button #tv-stop type="button" { "Stop" }
                        }
                    }
                    div #share.waiting data-id=(v.id) {
                        button #share-link type="button" { "Link for other players" }
                        span #share-out hidden {
                            label for="share-url" class="skip" { "Link to this video (works for a day without signing in)" }
                            input #share-url type="text" readonly;
                            button #share-copy type="button" { "Copy link" }
                            a #share-vlc href="#" { "Open in VLC" }
                        }
                    }
                    // offline.js shows it where the browser can keep a video.
                    div #offline data-id=(v.id) hidden {
                        button #offline-save type="button" { "Save for offline" }
                        button #offline-remove type="button" hidden { "Remove the offline copy" }
                        progress #offline-progress max="100" value="0" hidden aria-label="Saving for offline" {}
                        span #offline-status role="status" {}
                    }
                }
                (chapter_list(&view.inside.chapters))
                @if let Some(reason) = &v.broken { p.notice.warn { "This file could not be read as a video: " (reason) } }
                // What stops it playing here is said at once; how it plays is in the details.
                @if let Some(i) = info {
                    @if undecodable && !view.transcodes {
                        p.notice.warn {
                            "Browsers do not play this video as stored (" (codec.unwrap_or_default()) " in " (i.container) "). "
                            "Install ffmpeg on the server (or start vidserve with --ffmpeg PATH) and restart it: it then transcodes the video as it plays. "
                            "Meanwhile open it in VLC, or convert it once: "
                            code { "ffmpeg -i IN -c:v libx264 -crf 20 -c:a aac OUT.mp4" } "."
                        }
                    }
                    @if !view.play_url.starts_with("/play/") && view.inside.audio.first().is_some_and(|a| !a.browser_plays()) {
                        p.notice.warn { "Browsers cannot decode this file's sound (" (view.inside.audio[0].codec) "): the picture plays silent here. Other players (Open in VLC) play it." }
                    }
                }
                details.about #about {
                    summary { "About this file" }
                    @if let Some(i) = info {
                        @if view.play_url.starts_with("/play/") {
                            @if matches!(i.container.as_str(), "mp4" | "mov" | "3gp") {
                                p.notice { "Plays rearranged as it streams (this file keeps its index at its end, or sound browsers cannot decode): the same picture, not re-encoded. Downloads get the file itself." }
                            } @else {
                                p.notice { "Plays as an MP4 made from this file as it streams: the same picture and sound, not re-encoded. Downloads get the file itself." }
                            }
                        } @else if undecodable && view.transcodes {
                            p.notice #transcoded {
                                "Browsers do not play this video as stored (" (codec.unwrap_or_default()) " in " (i.container) "): it is transcoded to H.264 as it plays. "
                                "A seek starts the transcode again from there. Downloads get the file itself."
                            }
                        } @else if !undecodable && !i.browser_playable {
                            p.notice { "Browsers may not play this file as stored (" (i.container) ", " (codec.unwrap_or("no video")) ")." }
                        }
                        @if i.index_at_end && !view.play_url.starts_with("/play/") { p.notice { "This MP4 keeps its index at the end; playback starts once that is fetched." } }
                    }
                    dl.facts {
                        @if let Some(ms) = v.duration_ms() { dt { "Duration" } dd { (duration(ms)) } }
                        @if let Some(t) = v.taken() { dt { "Recorded" } dd { (super::day(t)) } }
                        @if let Some((w, h)) = info.and_then(|i| Some((i.width?, i.height?))) { dt { "Resolution" } dd { (w) "×" (h) } }
                        @if let Some(i) = info {
                            dt { "Format" } dd {
                                (i.container)
                                @if let Some(c) = &i.video_codec { " · " (c) }
                                @if let Some(c) = &i.audio_codec { " · " (c) }
                            }
                            @if let Some(b) = i.bitrate { dt { "Bitrate" } dd { (b / 1000) " kbit/s" } }
                        }
                        // What the player's menu offers, as it names them.
                        @if view.inside.audio.len() > 1 {
                            dt { "Audio" } dd {
                                @for (n, a) in view.inside.audio.iter().enumerate() {
                                    @if n > 0 { ", " }
                                    (label_of(&a.name, &a.language, &format!("Track {}", n + 1)))
                                }
                            }
                        }
                        @if !view.subtitles.is_empty() {
                            dt { "Subtitles" } dd {
                                @for (n, o) in view.subtitles.iter().enumerate() {
                                    @if n > 0 { ", " }
                                    (o.label)
                                }
                            }
                        }
                        dt { "Size" } dd { (size(v.size())) }
                        @for f in &view.paths {
                            // Below its folder: where the server keeps it is the admin's business.
                            dt { "File" } dd { (f) }
                        }
                    }
                }
                (super::player::shortcuts())
                p.meta.keys-hint { "Keys: " kbd { "Space" } " play/pause · " kbd { "←" } kbd { "→" } " 5 s · " kbd { "J" } kbd { "L" } " 10 s · " kbd { "0" } "–" kbd { "9" } " jump · " kbd { "F" } " fullscreen · " kbd { "M" } " mute · " kbd { "Shift" } "+" kbd { "N" } " / " kbd { "P" } " next / previous" }
            }
        },
    )
}

/// Previous and next in the listing the page came from, shuffle (a link:
/// the next video is picked by the server), and autoplay and loop
/// (`upnext.js` shows and runs them).
fn up_next(view: &WatchView) -> Markup {
    let u = &view.up_next;
    html! {
        div.nav #up-next {
            @if let Some((p, t)) = &view.prev { a href={ "/watch/" (p.id) (u.context) } rel="prev" { "‹ " (t) } }
            @if let Some((n, t)) = &view.next {
                a #next-link href={ "/watch/" (n.id) (u.context) } rel="next" {
                    span.meta { (if u.shuffle { "Shuffle: " } else { "Up next: " }) } (t) " ›"
                }
            }
            a #shuffle href={ "/watch/" (view.video.id) (u.toggle_shuffle) } {
                (if u.shuffle { "Stop shuffling" } else { "Shuffle" })
            }
            button #autoplay type="button" aria-pressed="true" hidden { "Autoplay" }
            button #loop type="button" aria-pressed="false" hidden { "Loop" }
        }
    }
}

/// The countdown to the next video (`upnext.js`), over the picture so it
/// shows wherever the player is (also in full screen).
fn next_status() -> Markup {
    html! {
        p #next-status role="status" {
            span #next-text {}
            a #next-now href="#" hidden { "Play now" }
            button #next-cancel type="button" hidden { "Cancel" }
        }
    }
}

/// The chapters, each a button that seeks there (`tracks.js`).
fn chapter_list(chapters: &[Chapter]) -> Markup {
    if chapters.is_empty() {
        return html! {};
    }
    html! {
        details.chapters open {
            summary { "Chapters (" (chapters.len()) ")" }
            ol #chapters {
                @for c in chapters {
                    li { button.chapter type="button" data-start=(c.start_ms) {
                        span.time { (super::clock(c.start_ms)) } " " (if c.title.is_empty() { "Chapter" } else { &c.title })
                    } }
                }
            }
        }
    }
}

/// Menus for subtitles and, with more than one, audio tracks (`tracks.js`
/// makes them work; hidden until it does).
fn track_choices(view: &WatchView) -> Markup {
    let audio = &view.inside.audio;
    if view.subtitles.is_empty() && audio.len() < 2 {
        return html! {};
    }
    html! {
        div.track-choices #track-choices hidden {
            @if !view.subtitles.is_empty() {
                label for="subtitle-choice" { "Subtitles" }
                select #subtitle-choice {
                    option value="off" { "Off" }
                    @for (n, o) in view.subtitles.iter().enumerate() {
                        option value=(n) data-language=[o.language.as_deref()] { (o.label) }
                    }
                }
            }
            @if audio.len() > 1 {
                label for="audio-choice" { "Audio" }
                select #audio-choice {
                    @for (n, a) in audio.iter().enumerate() {
                        option value=(n) disabled[!a.browser_plays()] {
                            (label_of(&a.name, &a.language, &format!("Track {}", n + 1)))
                            @if !a.browser_plays() { " (cannot play here)" }
                        }
                    }
                }
                span #audio-note.meta role="status" {}
            }
        }
    }
}

/// Stars, favorite and views; `watch.js` makes them work (PUT/DELETE to the API).
fn actions(v: &Video, file: &str, user: &UserData, edits: bool) -> Markup {
    let rating = user.rating.unwrap_or(0);
    html! {
        div.actions #actions data-id=(v.id) {
            div.stars role="group" aria-label="Rating" {
                @for n in 1..=5u8 {
                    button.star type="button" data-rating=(n) aria-pressed=(if rating >= n { "true" } else { "false" })
                        aria-label={ (n) (if n == 1 { " star" } else { " stars" }) } { "★" }
                }
                button.clear type="button" data-rating="0" aria-label="Clear rating" hidden[rating == 0] { "✕" }
            }
            button #favorite type="button" aria-pressed=(if user.favorite { "true" } else { "false" }) aria-label="Favorite" { "♥" }
            span #views { (user.views) (if user.views == 1 { " view" } else { " views" }) }
        }
        div.tags #tags data-id=(v.id) data-edits=[edits.then_some("1")] {
            ul #tag-list aria-label="Tags" {
                @for t in &user.tags {
                    li {
                        a href={ "/tag/" (utf8_percent_encode(t, QUERY_VALUE)) } { "#" (t) }
                        @if edits { button.untag type="button" data-tag=(t) aria-label={ "Remove tag " (t) } { "×" } }
                    }
                }
            }
            @if edits {
                form #tag-form method="post" action="/tag" {
                    input type="hidden" name="filename" value=(file);
                    label for="tag-input" class="skip" { "Add a tag" }
                    input #tag-input type="text" name="tag" placeholder="Add a tag" maxlength="100" autocomplete="off";
                    button type="submit" { "Add" }
                }
            }
        }
    }
}
