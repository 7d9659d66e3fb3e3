//! The library grid with its sort bar and pagination.

use maud::{html, Markup};

use super::layout::{page, Nav, Visitor};
use super::{duration, Text};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::catalog::listing::{ListQuery, Listing, MAX_YEAR, MIN_YEAR, QUERY_VALUE};
use crate::catalog::names::{this_year, Kind};
use crate::catalog::query::Watch;
use crate::catalog::UserData;
use crate::catalog::{Order, Sort, Video};
use crate::library::ids::VideoId;
use percent_encoding::utf8_percent_encode;

/// A row of cards on the home page: videos with the person's data.
pub type Row = Vec<(Arc<Video>, UserData)>;

pub struct GalleryView {
    pub heading: String,
    /// The page's own path, for its links.
    pub path: String,
    pub query: ListQuery,
    pub listing: Listing,
    /// User data of each listed video, in the same order.
    pub users: Vec<UserData>,
    /// Which videos have a thumbnail.
    pub thumbs: HashSet<VideoId>,
    /// Preview strips (tile size) of the videos that have one.
    pub sprites: HashMap<VideoId, (u32, u32)>,
    /// Started but not finished videos, most recent first (first page only).
    pub continue_watching: Vec<(Arc<Video>, UserData)>,
    /// The next episode of each series one is in the middle of (first page only).
    pub next_up: Vec<(Arc<Video>, UserData)>,
    /// Each library's newest videos, when there are two or more to see
    /// (first page only).
    pub latest: Vec<(String, Row)>,
    /// Series whose names match the search (its first page only).
    pub series: Vec<super::series::Tile>,
    /// The first scan is still running.
    pub scanning: bool,
    pub offline_roots: Vec<String>,
    /// The years videos are from, newest first, to pick from (empty until
    /// the catalog's series index is built).
    pub years: Arc<[u16]>,
    /// A playlist's editor, shown under its gallery.
    pub editor: Option<Markup>,
    pub visitor: Visitor,
}

/// Every extension served as a video, for the empty library's notice.
fn served_extensions() -> String {
    crate::library::VIDEO_TYPES.iter().map(|(ext, _)| *ext).collect::<Vec<_>>().join(", ")
}

impl GalleryView {
    fn link(&self, page: usize) -> String {
        format!("{}?{}", self.path, self.query.with_page(page))
    }

    /// This page without its search (within its library, if it names one).
    fn unsearched(&self) -> String {
        match self.query.library() {
            Some(l) => format!("{}?library={}", self.path, utf8_percent_encode(l, QUERY_VALUE)),
            None => self.path.clone(),
        }
    }
}

pub fn gallery(view: &GalleryView) -> Markup {
    let l = &view.listing;
    let nav = match view.path.as_str() {
        "/favorites" => Nav::Favorites,
        p if p.starts_with("/tag/") => Nav::Tags,
        "/best-of" => Nav::BestOf,
        p if p.starts_with("/playlists/") => Nav::Playlists,
        _ => Nav::Library,
    };
    let in_playlist = view.query.playlist.is_some();
    let filtered = view.query.year.is_some() || !view.query.filter().is_ok_and(|f| f.is_empty());
    let tag_only = nav == Nav::Tags && ListQuery { tag: None, ..view.query.clone() }.is_shelf_only();
    page(
        &view.heading,
        nav,
        &view.visitor,
        html! {
            // A library's own listing: the way back to all of them.
            @if let Some(l) = view.query.library() {
                nav.crumbs aria-label="Where" { ol { li { a href="/" { "Library" } } li { span aria-current="page" { (l) } } } }
            }
            div.bar {
                h1 { (view.heading) }
                span.count { (l.total) (if l.total == 1 { " video" } else { " videos" }) }
                // Nothing listed: no controls that would do nothing.
                @if l.total > 0 {
                    @if let (Some(n), Some(first)) = (view.query.playlist, l.videos.first()) {
                        a.random href={ "/watch/" (first.id) "?playlist=" (n) } { "▶ Play" }
                    } @else if !in_playlist {
                        a.random href={ "/random?" (view.query.with_page(1)) } { "Random" }
                    }
                    a.random href={ "/playlist.m3u?" (view.query.with_page(1)) "&per_page=500" } title="A playlist of this listing for VLC and other players" { "Open in VLC" }
                    button #select-mode.waiting type="button" aria-pressed="false" { "Select" }
                    @if !in_playlist { (sort_form(view)) }
                } @else if filtered && !in_playlist {
                    // Nothing passes the filters: they stay, to be changed.
                    (sort_form(view))
                }
            }
            @for root in &view.offline_roots {
                p.notice.warn role="status" { "Offline: " (root) " — its videos come back when it does." }
            }
            // (No results: the notice below says so, once.)
            @if let Some(q) = view.query.q.as_deref().filter(|q| !q.trim().is_empty() && l.total > 0) {
                p.searching {
                    "Results for “" (q) "”" @if view.query.sort() == Sort::Relevance { ", best first" }
                    " · " a href=(view.unsearched()) { "clear the search" }
                }
            }
            @if view.scanning {
                p.notice role="status" { "Scanning your videos… this page fills in as soon as the first scan finishes." }
            } @else if l.total == 0 && view.query.searching() {
                p.notice role="status" {
                    "No video matches “" (view.query.q.as_deref().unwrap_or("").trim()) "”. Try fewer or other words, or "
                    a href=(view.unsearched()) { "clear the search" } "."
                }
            } @else if l.total == 0 && view.path == "/favorites" && view.query.is_shelf_only() {
                p.notice role="status" { "No favorites yet. Press ♥ on a video" span.keys-hint { " (or F on its card)" } " to keep it here." }
            } @else if l.total == 0 && view.path == "/best-of" && view.query.is_shelf_only() {
                p.notice role="status" { "Nothing rated 4 or 5 stars yet. Rate videos on their page (or press 4 or 5 on a card) to see the best here." }
            } @else if l.total == 0 && tag_only {
                p.notice role="status" { "No video has this tag. " a href="/tags" { "See every tag" } }
            } @else if l.total == 0 && filtered {
                p.notice role="status" { "No video matches these filters. " a href=(view.unsearched()) { "Show every video" } }
            } @else if l.total == 0 && view.path == "/" {
                p.notice { "No videos found yet. Add video files (" (served_extensions()) ") to the video folder; they appear here within seconds." }
            } @else if l.total == 0 {
                p.notice { "Nothing here yet." }
            }
            // Three groups: what is selected, favorites and the two tools. On a
            // phone the bar sits at the bottom and each tool opens on demand.
            div #batch-bar role="region" aria-label="Change the selected videos" hidden {
                div.batch-row {
                    span #batch-count { "0 selected" }
                    button #batch-all type="button" { "Select all" span.wide { " on this page" } }
                    button #batch-done type="button" { "Done" }
                }
                div.batch-row {
                    button #batch-fav type="button" { "♥ Favorite" }
                    button #batch-unfav type="button" { "Unfavorite" }
                    button.batch-open type="button" aria-expanded="false" aria-controls="batch-tags" { "Tag…" }
                    button.batch-open type="button" aria-expanded="false" aria-controls="batch-lists" { "Playlist…" }
                }
                div.batch-row.batch-tool #batch-tags {
                    label for="batch-tag" class="skip" { "Tag" }
                    input #batch-tag type="text" placeholder="Tag" maxlength="100" autocomplete="off";
                    button #batch-add type="button" { "Add tag" }
                    button #batch-remove type="button" { "Remove tag" }
                }
                div.batch-row.batch-tool #batch-lists {
                    label for="batch-playlist" class="skip" { "Playlist" }
                    select #batch-playlist {}
                    label for="batch-playlist-name" class="skip" { "Name of the new playlist" }
                    input #batch-playlist-name type="text" placeholder="Name of the new playlist" maxlength="100" autocomplete="off" hidden;
                    button #batch-playlist-add type="button" { "Add to playlist" }
                }
                span #batch-status role="status" {}
            }
            @let context = if view.query.is_plain() { String::new() } else { format!("?{}", view.query.context()) };
            @if !view.continue_watching.is_empty() {
                section.continue aria-labelledby="continue-heading" {
                    h2 #continue-heading { "Continue watching" }
                    ul.grid.row {
                        @for (v, u) in &view.continue_watching {
                            li {
                                (card(v, u, view.thumbs.contains(&v.id), view.sprites.get(&v.id), "", view.visitor.household))
                                @if let (Some(pos), Some(total)) = (u.position_ms, v.duration_ms()) {
                                    progress value=(pos.min(total)) max=(total) aria-label="Watched so far" {}
                                }
                            }
                        }
                    }
                }
            }
            @if !view.next_up.is_empty() {
                section.continue aria-labelledby="next-up-heading" {
                    h2 #next-up-heading { "Next up" }
                    ul.grid.row #next-up {
                        @for (v, u) in &view.next_up {
                            li { (card(v, u, view.thumbs.contains(&v.id), view.sprites.get(&v.id), "", view.visitor.household)) }
                        }
                    }
                }
            }
            @if !view.series.is_empty() {
                section.continue aria-labelledby="series-found" {
                    h2 #series-found { "Series" }
                    ul.posters.found { @for t in &view.series { (super::series::series_tile(t)) } }
                }
            }
            @for (n, (name, row)) in view.latest.iter().enumerate() {
                section.continue aria-labelledby={ "latest-" (n) } {
                    h2 id={ "latest-" (n) } {
                        a href={ "/?library=" (utf8_percent_encode(name, QUERY_VALUE)) } {
                            "Latest in " (name) span aria-hidden="true" { " ›" }
                        }
                    }
                    ul.grid.row {
                        @for (v, u) in row {
                            li { (card(v, u, view.thumbs.contains(&v.id), view.sprites.get(&v.id), "", view.visitor.household)) }
                        }
                    }
                }
            }
            // Under rows of their own, the whole listing is named too.
            @let rows = !view.continue_watching.is_empty() || !view.next_up.is_empty() || !view.latest.is_empty() || !view.series.is_empty();
            @if rows && l.total > 0 { h2.all { (if view.query.searching() { "Videos" } else { "All videos" }) } }
            ul.grid #gallery-grid {
                @for (v, u) in l.videos.iter().zip(&view.users) {
                    li {
                        input.pick type="checkbox" value=(v.id) aria-label={ "Select " (v.title_for(u)) } hidden;
                        (card(v, u, view.thumbs.contains(&v.id), view.sprites.get(&v.id), &context, view.visitor.household))
                    }
                }
            }
            @if l.pages > 1 { (pagination(view)) }
            (card_keys())
            @if let Some(editor) = &view.editor { (editor) }
        },
    )
}

fn sort_form(view: &GalleryView) -> Markup {
    html! {
        form #sort-form method="get" action=(&view.path) {
            // Each label kept on one line with its menu (a narrow screen
            // wraps between the pairs, never inside one).
            span.field {
                label for="sort" { "Sort" }
                select #sort name="sort" {
                    // The household's mean rating differs from one's own only
                    // with accounts, and is for those signed in.
                    @if view.query.searching() {
                        option value="relevance" selected[view.query.sort() == Sort::Relevance] { "Best match" }
                    }
                    // (Each with its own first direction: a new sort starts there.)
                    @for s in Sort::ALL.into_iter().filter(|s| *s != Sort::Household || view.visitor.person.is_some()) {
                        option value=(s.name()) data-order=(if s.default_order() == Order::Asc { "asc" } else { "desc" })
                            selected[s == view.query.sort()] { (s.label()) }
                    }
                }
            }
            // Best matches come first; a direction would only turn ties.
            @if view.query.sort() != Sort::Relevance {
                span.field {
                    label for="order" class="skip" { "Order" }
                    select #order name="order" {
                        option value="desc" selected[view.query.order() == Order::Desc] { "Descending" }
                        option value="asc" selected[view.query.order() == Order::Asc] { "Ascending" }
                    }
                }
            }
            span.field {
                label for="show" { "Show" }
                select #show name="show" {
                    @let now = view.query.watch().ok().flatten();
                    option value="all" selected[now.is_none()] { "All" }
                    @for (w, label) in [(Watch::Unwatched, "Unwatched"), (Watch::InProgress, "In progress"), (Watch::Watched, "Watched")] {
                        option value=(w.name()) selected[now == Some(w)] { (label) }
                    }
                }
            }
            span.field {
                label for="year" { "Year" }
                // The library's own years, so no choice finds nothing; a
                // box only while they are still being counted.
                @if view.years.is_empty() {
                    input #year type="number" name="year" min=(MIN_YEAR) max=(MAX_YEAR) inputmode="numeric"
                        value=[view.query.year] placeholder="Any";
                } @else {
                    select #year name="year" {
                        option value="" selected[view.query.year.is_none()] { "Any" }
                        @if let Some(y) = view.query.year.filter(|y| !view.years.contains(y)) { option value=(y) selected { (y) } }
                        @for y in view.years.iter() { option value=(y) selected[view.query.year == Some(*y)] { (y) } }
                    }
                }
            }
            @if let Some(q) = view.query.q.as_deref().filter(|q| !q.trim().is_empty()) { input type="hidden" name="q" value=(q); }
            @if let Some(t) = view.query.tag.as_deref().filter(|t| !t.is_empty() && view.path == "/") { input type="hidden" name="tag" value=(t); }
            @if view.query.favorites && view.path == "/" { input type="hidden" name="favorites" value="1"; }
            @if let Some(r) = view.query.min_rating { input type="hidden" name="min_rating" value=(r); }
            @if let Some(l) = view.query.library() { input type="hidden" name="library" value=(l); }
            button type="submit" { "Apply" }
        }
    }
}

/// A video's card; its link carries `context`, the listing it is in, so
/// the watch page goes on with that listing's next video.
pub(super) fn card(
    v: &Video,
    u: &UserData,
    thumb: bool,
    sprite: Option<&(u32, u32)>,
    context: &str,
    household: bool,
) -> Markup {
    card_named(v, u, thumb, sprite, context, None, household)
}

/// `card`, titled `name` (an episode's own title) unless the person gave
/// the video a title.
pub(super) fn card_named(
    v: &Video,
    u: &UserData,
    thumb: bool,
    sprite: Option<&(u32, u32)>,
    context: &str,
    name: Option<&str>,
    household: bool,
) -> Markup {
    // What its name makes it: a film is titled without its year, an
    // episode by its series (its own title beside its number), unless the
    // person titled it or the page names it (a series page: the episode's).
    let kind = crate::catalog::series::recognise(v, this_year());
    let own_title = match (&kind, name) {
        (Kind::Episode(e), None) => e.title.as_deref(),
        _ => None,
    };
    let recognised = match &kind {
        Kind::Film(f) => Some(f.title.clone()),
        Kind::Episode(e) => Some(e.series()),
        Kind::Other(_) => None,
    };
    let title = v.title_named(u, name.or(recognised.as_deref()));
    let watched = u.watched(household);
    let initial: String =
        title.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().collect()).unwrap_or_default();
    let info = v.info.as_ref();
    // What people ask of a video (what it is, how sharp, how long still),
    // not pixels and megabytes (those are on its page).
    let mut meta: Vec<(&str, String)> = Vec::new();
    match (&kind, v.taken()) {
        (Kind::Episode(e), _) => {
            meta.push(("kind", e.label()));
            if let Some(t) = own_title.filter(|_| u.title.is_none()) {
                meta.push(("episode", t.to_string()));
            }
        }
        // A home video: the day it was recorded.
        (Kind::Other(_), Some(t)) => meta.push(("kind", super::day(t))),
        // (Not again when the title says it: `Birthday 2024`.)
        (k, _) => meta.extend(k.year().filter(|y| !title.contains(&y.to_string())).map(|y| ("kind", y.to_string()))),
    }
    // How sharp (it tells two copies of one title apart).
    meta.extend(info.and_then(|i| Some(("part", quality(i.width?, i.height?).to_string()))));
    if let (Some(pos), Some(total)) = (u.position_ms, v.duration_ms()) {
        if pos < total {
            meta.push(("part", left(total - pos)));
        }
    }
    html! {
        article.card data-id=(v.id) data-sprite=[sprite.map(|(w, h)| format!("{w}x{h}"))] {
            a href={ "/watch/" (v.id) (context) } aria-describedby="card-keys" {
                div.thumb aria-hidden="true" {
                    @if thumb {
                        img src={ "/thumb/" (v.id) "/320" }
                            srcset={ "/thumb/" (v.id) "/320 320w, /thumb/" (v.id) "/640 640w" }
                            sizes="(max-width: 600px) 50vw, (min-width: 1900px) 25vw, 320px"
                            loading="lazy" decoding="async" alt="";
                    } @else {
                        span.initial { (initial) }
                    }
                    @if let Some(ms) = v.duration_ms() { span.badge { (duration(ms)) } }
                    span.fav hidden[!u.favorite] { "♥" }
                    span.seen title="Watched" hidden[!watched] { "✓" }
                }
                div.info {
                    div.title { (Text(&title)) @if watched { span.skip.seen-said { ", watched" } } }
                    // What people ask of a video (how sharp, how long still),
                    // not pixels and megabytes (those are on its page).
                    // Each part whole, lines broken only between parts; the
                    // dots between them drawn by the style, so none starts
                    // or ends a line.
                    div.meta.facts {
                        @for (class, text) in &meta {
                            span class=(class) { (text) }
                        }
                        span.user { (user_summary(u)) }
                    }
                }
            }
            // Shown by cards.js (they need it to work).
            div.card-actions.waiting {
                @for n in 1..=5u8 {
                    button.star type="button" tabindex="-1" data-rating=(n)
                        aria-pressed=(if u.rating.unwrap_or(0) >= n { "true" } else { "false" })
                        aria-label={ "Rate " (Text(&title)) ": " (n) (if n == 1 { " star" } else { " stars" }) } { "★" }
                }
                button.heart type="button" tabindex="-1" aria-pressed=(if u.favorite { "true" } else { "false" }) aria-label={ "Favorite: " (Text(&title)) } { "♥" }
            }
        }
    }
}

/// A video as a link to it names it (a watch page's neighbours): the
/// person's title, an episode by its series, number and own title (as its
/// card), else the file's title.
pub fn link_title(v: &Video, u: &UserData) -> String {
    if let Some(t) = &u.title {
        return t.clone();
    }
    match crate::catalog::series::recognise(v, this_year()) {
        Kind::Episode(e) => match &e.title {
            Some(own) => format!("{} · {} · {own}", e.series(), e.label()),
            None => format!("{} · {}", e.series(), e.label()),
        },
        _ => v.title().into_owned(),
    }
}

/// What the keys do on a card (each card's link refers to it), for a
/// page of cards.
pub fn card_keys() -> Markup {
    html! { p #card-keys .skip { "On a card, 1 to 5 rate it, 0 clears the rating, F adds it to your favorites." } }
}

/// How sharp a picture is, as people say it: `4K`, `1080p`, `720p`, `SD`
/// (by its long side or its short one, so wide films and phones' upright
/// videos count as what they were shot as).
fn quality(w: u32, h: u32) -> &'static str {
    match (w.max(h), w.min(h)) {
        (long, short) if long >= 3800 || short >= 2100 => "4K",
        (long, short) if long >= 2500 || short >= 1400 => "1440p",
        (long, short) if long >= 1900 || short >= 1060 => "1080p",
        (long, short) if long >= 1260 || short >= 700 => "720p",
        _ => "SD",
    }
}

/// `12 min left`, `1 h 5 min left`; under a minute, `3 s left`.
pub(super) fn left(ms: u64) -> String {
    if ms < 59_500 {
        return format!("{} s left", ms.div_ceil(1000).max(1));
    }
    let minutes = (ms + 30_000) / 60_000;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min left"),
        (h, 0) => format!("{h} h left"),
        (h, m) => format!("{h} h {m} min left"),
    }
}

/// ` · 4★` and ` · 12 views`, the same text `cards.js` writes on live
/// updates; the rating's part is hidden where the card's stars show it.
fn user_summary(u: &UserData) -> Markup {
    html! {
        span.rated { @if let Some(r) = u.rating { (r) "★" } }
        span.viewed { @if u.views > 0 { (u.views) (if u.views == 1 { " view" } else { " views" }) } }
    }
}

fn pagination(view: &GalleryView) -> Markup {
    let (current, pages) = (view.listing.page, view.listing.pages);
    let window = current.saturating_sub(3).max(1)..=(current + 3).min(pages);
    html! {
        nav.pages aria-label="Pages" {
            @if current > 1 { a href=(view.link(current - 1)) rel="prev" { "‹ Previous" } }
            @if *window.start() > 1 { a href=(view.link(1)) { "1" } }
            @for p in window.clone() {
                @if p == current { span aria-current="page" { (p) } } @else { a href=(view.link(p)) { (p) } }
            }
            @if *window.end() < pages { a href=(view.link(pages)) { (pages) } }
            @if current < pages { a href=(view.link(current + 1)) rel="next" { "Next ›" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_say_how_sharp_and_how_long_still() {
        assert_eq!(quality(3840, 2160), "4K");
        assert_eq!(quality(1920, 800), "1080p", "a wide film counts by its width");
        assert_eq!(quality(1080, 1920), "1080p", "and a phone's by its height");
        assert_eq!(quality(1280, 720), "720p");
        assert_eq!(quality(640, 360), "SD");
        assert_eq!(left(30_000), "30 s left");
        assert_eq!(left(2_100), "3 s left");
        assert_eq!(left(0), "1 s left");
        assert_eq!(left(59_600), "1 min left");
        assert_eq!(left(89_000), "1 min left");
        assert_eq!(left(91_000), "2 min left");
        assert_eq!(left(23 * 60_000 + 5_000), "23 min left");
        assert_eq!(left(65 * 60_000), "1 h 5 min left");
        assert_eq!(left(120 * 60_000), "2 h left");
    }
}
