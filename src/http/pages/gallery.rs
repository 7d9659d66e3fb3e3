//! The library grid with its sort bar and pagination.

use std::sync::Arc;

use maud::{html, Markup};

use super::layout::{page, Nav};
use super::{duration, size};
use crate::store::cache::{Order, Sort, Video};
use crate::store::records::UserData;

pub struct GalleryView {
    pub videos: Vec<Arc<Video>>,
    /// User data of each of `videos`, in the same order.
    pub users: Vec<UserData>,
    pub total: usize,
    /// 1-based.
    pub page: usize,
    pub pages: usize,
    pub sort: Sort,
    pub order: Order,
    /// The first scan is still running.
    pub scanning: bool,
    pub offline_roots: Vec<String>,
}

impl GalleryView {
    fn link(&self, page: usize) -> String {
        let order = match self.order {
            Order::Asc => "asc",
            Order::Desc => "desc",
        };
        format!("/?sort={}&order={order}&page={page}", self.sort.name())
    }
}

pub fn gallery(view: &GalleryView) -> Markup {
    page(
        "Library",
        Nav::Library,
        html! {
            div.bar {
                h1 { "Library" }
                span.count { (view.total) " videos" }
                (sort_form(view))
            }
            @for root in &view.offline_roots {
                p.notice.warn role="status" { "Offline: " (root) " — its videos come back when it does." }
            }
            @if view.scanning {
                p.notice role="status" { "Scanning your videos… this page fills in as soon as the first scan finishes." }
            } @else if view.total == 0 {
                p.notice { "No videos found yet. Add mp4, m4v, mov, webm, mkv, ogg or ogv files to the video folder; they appear here within seconds." }
            }
            ul.grid {
                @for (v, u) in view.videos.iter().zip(&view.users) { li { (card(v, u)) } }
            }
            @if view.pages > 1 { (pagination(view)) }
        },
    )
}

fn sort_form(view: &GalleryView) -> Markup {
    html! {
        form #sort-form method="get" action="/" {
            label for="sort" { "Sort " }
            select #sort name="sort" {
                @for s in Sort::ALL {
                    option value=(s.name()) selected[s == view.sort] { (s.label()) }
                }
            }
            " "
            label for="order" class="skip" { "Order" }
            select #order name="order" {
                option value="desc" selected[view.order == Order::Desc] { "Descending" }
                option value="asc" selected[view.order == Order::Asc] { "Ascending" }
            }
            " "
            button type="submit" { "Apply" }
        }
    }
}

fn card(v: &Video, u: &UserData) -> Markup {
    let initial: String =
        v.title.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().collect()).unwrap_or_default();
    let info = v.info.as_ref();
    html! {
        article.card {
            a href={ "/watch/" (v.id) } {
                div.thumb aria-hidden="true" {
                    span.initial { (initial) }
                    @if let Some(ms) = v.duration_ms() { span.badge { (duration(ms)) } }
                    @if u.favorite { span.fav title="Favorite" { "♥" } }
                }
                div.info {
                    div.title { (v.title) }
                    div.meta {
                        @if let Some((w, h)) = info.and_then(|i| Some((i.width?, i.height?))) { (w) "×" (h) " · " }
                        (size(v.size))
                        @if let Some(r) = u.rating { " · " span.rating aria-label={ (r) " stars" } { (r) "★" } }
                        @if u.views > 0 { " · " (u.views) (if u.views == 1 { " view" } else { " views" }) }
                    }
                }
            }
        }
    }
}

fn pagination(view: &GalleryView) -> Markup {
    let window = view.page.saturating_sub(3).max(1)..=(view.page + 3).min(view.pages);
    html! {
        nav.pages aria-label="Pages" {
            @if view.page > 1 { a href=(view.link(view.page - 1)) rel="prev" { "‹ Previous" } }
            @if *window.start() > 1 { a href=(view.link(1)) { "1" } }
            @for p in window.clone() {
                @if p == view.page { span aria-current="page" { (p) } } @else { a href=(view.link(p)) { (p) } }
            }
            @if *window.end() < view.pages { a href=(view.link(view.pages)) { (view.pages) } }
            @if view.page < view.pages { a href=(view.link(view.page + 1)) rel="next" { "Next ›" } }
        }
    }
}
