//! `/folders?in=a/b`: the library as its files lie on disk, a folder at a
//! time: where it is (each folder above a link), its subfolders with how
//! many videos each holds, and the videos right in it, a page at a time.

use std::collections::{HashMap, HashSet};

use maud::{html, Markup};
use percent_encoding::utf8_percent_encode;

use super::gallery::card;
use super::layout::{page, Nav, Visitor};
use crate::catalog::folders::Folder;
use crate::catalog::listing::QUERY_VALUE;
use crate::catalog::UserData;
use crate::library::ids::VideoId;

pub struct FoldersView {
    /// Where: the components of the folder's path (empty: the top).
    pub at: Vec<String>,
    pub folder: Folder,
    /// The page of videos shown (from 1), of `pages`.
    pub page: usize,
    pub pages: usize,
    pub per_page: usize,
    /// User data of the videos shown, in their order.
    pub users: Vec<UserData>,
    pub thumbs: HashSet<VideoId>,
    pub sprites: HashMap<VideoId, (u32, u32)>,
    pub visitor: Visitor,
}

/// The link to the folder made of `parts`, at `page` (1: none said).
pub fn link(parts: &[String], page: usize) -> String {
    let path = parts.join("/");
    let mut out = String::from("/folders");
    let mut sep = '?';
    if !path.is_empty() {
        out.push_str(&format!("?in={}", utf8_percent_encode(&path, QUERY_VALUE)));
        sep = '&';
    }
    if page > 1 {
        out.push_str(&format!("{sep}page={page}"));
    }
    out
}

pub fn folders(view: &FoldersView) -> Markup {
    let heading = view.at.last().map_or("Folders", String::as_str);
    let f = &view.folder;
    let first = (view.page - 1) * view.per_page;
    let shown = f.videos.iter().skip(first).take(view.per_page);
    page(
        heading,
        Nav::Folders,
        &view.visitor,
        html! {
            // Where it is, above what it is (as on a series' page).
            @if !view.at.is_empty() {
                nav.crumbs aria-label="Folder path" {
                    ol {
                        li { a href="/folders" { "All folders" } }
                        @for (i, name) in view.at.iter().enumerate() {
                            @if i + 1 == view.at.len() {
                                li { span aria-current="page" { (name) } }
                            } @else {
                                li { a href=(link(&view.at[..=i], 1)) { (name) } }
                            }
                        }
                    }
                }
            }
            div.bar {
                h1 { (heading) }
                // What it holds, without the parts it has none of.
                @let (folders, videos) = (f.folders.len(), f.videos.len());
                @if folders > 0 || videos > 0 {
                    span.count {
                        @if folders > 0 { (folders) (if folders == 1 { " folder" } else { " folders" }) }
                        @if folders > 0 && videos > 0 { ", " }
                        @if videos > 0 { (videos) (if videos == 1 { " video" } else { " videos" }) " here" }
                    }
                }
            }
            @if f.folders.is_empty() && f.videos.is_empty() {
                p.notice { "No videos yet. Put videos in the video folder; they show here as soon as they are found." }
            }
            @if !f.folders.is_empty() {
                ul.folders #folder-list {
                    @for sub in &f.folders {
                        @let path = [&view.at[..], std::slice::from_ref(&sub.name)].concat();
                        li {
                            a href=(link(&path, 1)) {
                                span.folder-thumb aria-hidden="true" {
                                    @if view.thumbs.contains(&sub.sample) {
                                        img src={ "/thumb/" (sub.sample) "/320" } loading="lazy" decoding="async" alt="";
                                    } @else {
                                        span.initial { "▤" }
                                    }
                                }
                                span.folder-name { (sub.name) }
                                span.count { (sub.count) (if sub.count == 1 { " video" } else { " videos" }) }
                            }
                        }
                    }
                }
            }
            @if !f.videos.is_empty() {
                @if !f.folders.is_empty() { h2 { "Videos in this folder" } }
                ul.grid #gallery-grid {
                    @for (v, u) in shown.zip(&view.users) {
                        li { (card(v, u, view.thumbs.contains(&v.id), view.sprites.get(&v.id), "", view.visitor.household)) }
                    }
                }
                (super::gallery::card_keys())
                @if view.pages > 1 {
                    nav.pages aria-label="Pages" {
                        @if view.page > 1 { a rel="prev" href=(link(&view.at, view.page - 1)) { "‹ Previous" } }
                        span { "Page " (view.page) " of " (view.pages) }
                        @if view.page < view.pages { a rel="next" href=(link(&view.at, view.page + 1)) { "Next ›" } }
                    }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_name_the_folder_and_the_page() {
        assert_eq!(link(&[], 1), "/folders");
        assert_eq!(link(&[], 2), "/folders?page=2");
        let parts = ["Films & more".to_string(), "Été".to_string()];
        assert_eq!(link(&parts, 1), "/folders?in=Films%20%26%20more%2F%C3%89t%C3%A9");
        assert_eq!(link(&parts, 3), "/folders?in=Films%20%26%20more%2F%C3%89t%C3%A9&page=3");
    }
}
