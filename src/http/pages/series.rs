//! `/series`: every series as a poster, and `/series/{key}`: one series,
//! season by season, with the episode to watch next.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use maud::{html, Markup};
use percent_encoding::utf8_percent_encode;

use super::gallery::card_named;
use super::layout::{page, Nav, Visitor};
use crate::catalog::listing::QUERY_VALUE;
use crate::catalog::{UserData, Video};
use crate::library::ids::VideoId;

/// The link to a series' page.
pub fn link(key: &str) -> String {
    format!("/series/{}", utf8_percent_encode(key, QUERY_VALUE))
}

/// One series' poster on the index.
pub struct Tile {
    pub key: String,
    pub name: String,
    pub episodes: usize,
    pub seasons: usize,
    /// Whether it has a picture (its folder's poster, or an episode's
    /// thumbnail).
    pub pictured: bool,
}

pub struct SeriesIndexView {
    pub tiles: Vec<Tile>,
    /// All series the person may see, of which `tiles` is the page `page`
    /// of `pages`.
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub visitor: Visitor,
}

/// A series as a poster with its name and counts (a list item).
pub fn series_tile(t: &Tile) -> Markup {
    html! {
        li {
            a href=(link(&t.key)) {
                span.poster aria-hidden="true" {
                    @if t.pictured {
                        img src={ (link(&t.key)) "/poster.jpg" } loading="lazy" decoding="async" alt="";
                    } @else {
                        span.initial { (t.name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().to_string()).unwrap_or_default()) }
                    }
                }
                span.poster-name { (t.name) }
                span.count.facts {
                    span.part { (t.episodes) (if t.episodes == 1 { " episode" } else { " episodes" }) }
                    @if t.seasons > 1 { span.part { (t.seasons) " seasons" } }
                }
            }
        }
    }
}

pub fn index(view: &SeriesIndexView) -> Markup {
    page(
        "Series",
        Nav::Series,
        &view.visitor,
        html! {
            div.bar {
                h1 { "Series" }
                span.count { (view.total) " series" }
            }
            @if view.total == 0 {
                p.notice {
                    "No series found. Episodes are recognised by names such as “Show S01E02” or “Show 1x02”, \
                     or by folders such as “Show/Season 1/02 - Title”."
                }
            }
            ul.posters #series-list {
                @for t in &view.tiles { (series_tile(t)) }
            }
            @if view.pages > 1 {
                nav.pages aria-label="Pages" {
                    @if view.page > 1 { a rel="prev" href={ "/series?page=" (view.page - 1) } { "‹ Previous" } }
                    span { "Page " (view.page) " of " (view.pages) }
                    @if view.page < view.pages { a rel="next" href={ "/series?page=" (view.page + 1) } { "Next ›" } }
                }
            }
        },
    )
}

/// One film's poster.
pub struct FilmTile {
    pub video: Arc<Video>,
    pub title: String,
    pub year: u16,
    pub thumb: bool,
    pub user: UserData,
}

pub struct FilmsView {
    pub tiles: Vec<FilmTile>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    /// Newest first (else by title).
    pub by_year: bool,
    pub visitor: Visitor,
}

/// The link to a page of the films.
fn films_link(by_year: bool, page: usize) -> String {
    match (by_year, page) {
        (false, 1) => "/films".into(),
        (false, p) => format!("/films?page={p}"),
        (true, p) => format!("/films?sort=year&page={p}"),
    }
}

pub fn films(view: &FilmsView) -> Markup {
    page(
        "Films",
        Nav::Films,
        &view.visitor,
        html! {
            div.bar {
                h1 { "Films" }
                span.count { (view.total) (if view.total == 1 { " film" } else { " films" }) }
                @if view.total > 1 {
                    nav.switch aria-label="Order" {
                        a href=(films_link(false, 1)) aria-current=[(!view.by_year).then_some("true")] { "By title" }
                        a href=(films_link(true, 1)) aria-current=[view.by_year.then_some("true")] { "Newest first" }
                    }
                }
            }
            @if view.total == 0 {
                p.notice {
                    "No films found. Films are recognised by a year after the title: “Film (1987)”, \
                     “Film.1987.1080p.BluRay”, or a folder “Film (1987)” holding the file."
                }
            }
            ul.posters #film-list {
                @for t in &view.tiles {
                    li {
                        a href={ "/watch/" (t.video.id) } {
                            span.poster aria-hidden="true" {
                                @if t.thumb {
                                    img src={ "/poster/" (t.video.id) ".jpg" } loading="lazy" decoding="async" alt="";
                                } @else {
                                    span.initial { (t.title.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().to_string()).unwrap_or_default()) }
                                }
                                @if t.user.watched(view.visitor.household) { span.seen title="Watched" { "✓" } }
                            }
                            span.poster-name {
                                (t.title)
                                @if t.user.watched(view.visitor.household) { span.skip { ", watched" } }
                            }
                            span.count.facts {
                                span.part { (t.year) }
                                // Its length, or once begun how long it has still to go (as cards say).
                                @match (t.user.position_ms, t.video.duration_ms()) {
                                    (Some(pos), Some(ms)) if pos < ms => { span.part { (super::gallery::left(ms - pos)) } }
                                    (_, Some(ms)) => { span.part { (super::duration(ms)) } }
                                    _ => {}
                                }
                            }
                        }
                    }
                }
            }
            @if view.pages > 1 {
                nav.pages aria-label="Pages" {
                    @if view.page > 1 { a rel="prev" href=(films_link(view.by_year, view.page - 1)) { "‹ Previous" } }
                    span { "Page " (view.page) " of " (view.pages) }
                    @if view.page < view.pages { a rel="next" href=(films_link(view.by_year, view.page + 1)) { "Next ›" } }
                }
            }
        },
    )
}

/// One season of a series as shown.
pub struct Season {
    /// 0: specials.
    pub number: u16,
    /// Whether its folder has a picture (`Season 1/poster.jpg`).
    pub poster: bool,
    /// Each episode's video, its own title (when its name has one), and
    /// what the person made of it.
    pub episodes: Vec<(Arc<Video>, Option<String>, UserData)>,
}

pub struct SeriesView {
    pub key: String,
    pub name: String,
    /// Its episodes the person may see, on every page.
    pub count: usize,
    /// This page's seasons (a page holds at most a few hundred episodes).
    pub seasons: Vec<Season>,
    /// The episode to watch next (its video, label, and whether it was
    /// begun), if any is left.
    pub next: Option<(Arc<Video>, String, bool)>,
    pub page: usize,
    pub pages: usize,
    pub thumbs: HashSet<VideoId>,
    pub sprites: HashMap<VideoId, (u32, u32)>,
    pub visitor: Visitor,
}

pub fn show(view: &SeriesView) -> Markup {
    let count = view.count;
    let here = link(&view.key);
    page(
        &view.name,
        Nav::Series,
        &view.visitor,
        html! {
            nav.crumbs aria-label="Where" { ol { li { a href="/series" { "Series" } } li { span aria-current="page" { (view.name) } } } }
            div.bar {
                h1 { (view.name) }
                span.count {
                    (count) (if count == 1 { " episode" } else { " episodes" })
                }
                @if let Some((v, label, begun)) = &view.next {
                    a.random.next-episode href={ "/watch/" (v.id) } {
                        (if *begun { "▶ Resume " } else { "▶ Play " }) (label)
                    }
                } @else if count > 0 {
                    span.count { "All watched" }
                }
            }
            @for s in &view.seasons {
                @let heading = if s.number == 0 { "Specials".to_string() } else { format!("Season {}", s.number) };
                section.season aria-label=(heading) {
                    @if s.poster {
                        div.season-head {
                            img.season-poster src={ (here) "/season/" (s.number) "/poster.jpg" } width="96" height="144"
                                loading="lazy" decoding="async" alt="";
                            h2 { (heading) }
                        }
                    } @else {
                        h2 { (heading) }
                    }
                    ul.grid {
                        @for (v, name, u) in &s.episodes {
                            li { (card_named(v, u, view.thumbs.contains(&v.id), view.sprites.get(&v.id), "", name.as_deref(), view.visitor.household)) }
                        }
                    }
                }
            }
            @if view.pages > 1 {
                nav.pages aria-label="Pages" {
                    @if view.page > 1 { a rel="prev" href={ (here) "?page=" (view.page - 1) } { "‹ Previous" } }
                    span { "Page " (view.page) " of " (view.pages) }
                    @if view.page < view.pages { a rel="next" href={ (here) "?page=" (view.page + 1) } { "Next ›" } }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_key_escaped() {
        assert_eq!(link("the-office-us"), "/series/the-office-us");
        assert_eq!(link("アニメ"), "/series/%E3%82%A2%E3%83%8B%E3%83%A1");
    }
}
