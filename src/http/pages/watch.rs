//! The watch page: player, facts, previous/next.

use std::sync::Arc;

use maud::{html, Markup};

use super::layout::{page, Nav, Visitor};
use super::{duration, size};
use crate::catalog::UserData;
use crate::catalog::Video;
use crate::http::listing::QUERY_VALUE;
use percent_encoding::utf8_percent_encode;

pub struct WatchView {
    pub video: Arc<Video>,
    /// Neighbours in the library, with the titles to show.
    pub prev: Option<(Arc<Video>, String)>,
    pub next: Option<(Arc<Video>, String)>,
    pub user: UserData,
    /// Whether a thumbnail exists (shown before playback starts).
    pub poster: bool,
    /// The preview strip's tile size, for seek previews.
    pub sprite: Option<(u32, u32)>,
    /// Subtitle files: URL, label, language, forced.
    pub subtitles: Vec<(String, String, Option<String>, bool)>,
    pub visitor: Visitor,
}

pub fn watch(view: &WatchView) -> Markup {
    let v = &view.video;
    let info = v.info.as_ref();
    page(
        v.title_for(&view.user),
        Nav::Library,
        &view.visitor,
        html! {
            div.watch {
                video #player controls autoplay preload="metadata" src={ "/video/" (v.id) }
                    data-resume=[view.user.position_ms]
                    poster=[view.poster.then(|| format!("/thumb/{}/640", v.id))]
                    data-needs-thumb=[(!view.poster).then_some("1")]
                    data-sprite=[view.sprite.map(|(w, h)| format!("{w}x{h}"))]
                    width=[info.and_then(|i| i.width)] height=[info.and_then(|i| i.height)] {
                    @for (url, label, lang, forced) in &view.subtitles {
                        track kind="subtitles" src=(url) label=(label) srclang=[lang.as_deref()] default[*forced];
                    }
                    "Your browser cannot play this video here; "
                    a href={ "/video/" (v.id) } download { "download it" } " instead."
                }
                p #resumed.meta role="status" { span #resumed-text {} button #start-over type="button" hidden { "Start over" } }
                h1 #title { (v.title_for(&view.user)) }
                details.rename {
                    summary { "Rename" }
                    form #title-form data-id=(v.id) {
                        label for="title-input" class="skip" { "Title" }
                        input #title-input type="text" value=(v.title_for(&view.user)) maxlength="300";
                        button type="submit" { "Save" }
                        button #title-reset type="button" data-file-title=(v.title) { "Use the file name" }
                    }
                }
                (actions(v, &view.user))
                div.nav {
                    @if let Some((p, t)) = &view.prev { a href={ "/watch/" (p.id) } rel="prev" { "‹ " (t) } }
                    @if let Some((n, t)) = &view.next { a href={ "/watch/" (n.id) } rel="next" { (t) " ›" } }
                }
                div #share data-id=(v.id) hidden {
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
                @if let Some(reason) = &v.broken { p.notice.warn { "This file could not be read as a video: " (reason) } }
                @if let Some(i) = info {
                    @if !i.browser_playable { p.notice.warn { "Browsers may not play this file as stored (" (i.container) ", " (i.video_codec.as_deref().unwrap_or("no video")) ")." } }
                    @if i.index_at_end { p.notice { "This MP4 keeps its index at the end; playback starts once that is fetched." } }
                }
                dl.facts {
                    @if let Some(ms) = v.duration_ms() { dt { "Duration" } dd { (duration(ms)) } }
                    @if let Some((w, h)) = info.and_then(|i| Some((i.width?, i.height?))) { dt { "Resolution" } dd { (w) "×" (h) } }
                    @if let Some(i) = info {
                        dt { "Format" } dd {
                            (i.container)
                            @if let Some(c) = &i.video_codec { " · " (c) }
                            @if let Some(c) = &i.audio_codec { " · " (c) }
                        }
                        @if let Some(b) = i.bitrate { dt { "Bitrate" } dd { (b / 1000) " kbit/s" } }
                    }
                    dt { "Size" } dd { (size(v.size)) }
                    @for f in &v.files {
                        // Below its folder: where the server keeps it is the admin's business.
                        dt { "File" } dd { (f.rel_display()) }
                    }
                }
                p.meta { "Keys: " kbd { "Space" } " play/pause · " kbd { "←" } kbd { "→" } " 5 s · " kbd { "J" } kbd { "L" } " 10 s · " kbd { "0" } "–" kbd { "9" } " jump · " kbd { "F" } " fullscreen · " kbd { "M" } " mute" }
            }
        },
    )
}

/// Stars, favorite and views; `watch.js` makes them work (PUT/DELETE to the API).
fn actions(v: &Video, user: &UserData) -> Markup {
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
        div.tags #tags data-id=(v.id) {
            ul #tag-list aria-label="Tags" {
                @for t in &user.tags {
                    li {
                        a href={ "/tag/" (utf8_percent_encode(t, QUERY_VALUE)) } { "#" (t) }
                        button.untag type="button" data-tag=(t) aria-label={ "Remove tag " (t) } { "×" }
                    }
                }
            }
            form #tag-form method="post" action="/tag" {
                input type="hidden" name="filename" value=(v.primary().rel_display());
                label for="tag-input" class="skip" { "Add a tag" }
                input #tag-input type="text" name="tag" placeholder="Add a tag" maxlength="100" autocomplete="off";
                button type="submit" { "Add" }
            }
        }
    }
}
