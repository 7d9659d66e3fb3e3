//! The Playlists page (each a link, a form to make one) and a playlist's
//! editor under its gallery (rename, delete, reorder, take out);
//! `playlists.js` makes the forms and buttons work.

use maud::{html, Markup};

use super::layout::{page, Nav, Visitor};
use crate::library::ids::VideoId;

/// One playlist as listed: number, name, videos.
pub struct Listed {
    pub n: u64,
    pub name: String,
    pub count: usize,
    /// The first video, where "Play" starts.
    pub first: Option<VideoId>,
    /// The first video with a thumbnail: the playlist's cover.
    pub cover: Option<VideoId>,
}

pub fn playlists(lists: &[Listed], visitor: &Visitor, can_keep: bool) -> Markup {
    page(
        "Playlists",
        Nav::Playlists,
        visitor,
        html! {
            div.bar { h1 { "Playlists" } span.count { (lists.len()) (if lists.len() == 1 { " playlist" } else { " playlists" }) } }
            @if !can_keep {
                p.notice { "Sign in to keep playlists." }
            } @else {
                form #playlist-new {
                    label for="playlist-name" { "New playlist" }
                    input #playlist-name type="text" maxlength="100" required autocomplete="off" placeholder="Sunday films";
                    button type="submit" { "Create" }
                    span #playlist-status role="status" {}
                }
                @if lists.is_empty() {
                    p.notice { "No playlists yet. Create one here, then add videos from their pages or from a selection in the Library." }
                }
                ul.playlists {
                    @for l in lists {
                        li {
                            a.cover href={ "/playlists/" (l.n) } tabindex="-1" aria-hidden="true" {
                                @if let Some(id) = l.cover {
                                    img src={ "/thumb/" (id) "/320" } alt="" loading="lazy" decoding="async";
                                } @else {
                                    span.initial { (l.name.chars().find(|c| c.is_alphanumeric()).map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default()) }
                                }
                            }
                            div {
                                a.name href={ "/playlists/" (l.n) } { (l.name) }
                                " " span.count { (l.count) (if l.count == 1 { " video" } else { " videos" }) }
                                @if let Some(first) = l.first { " " a.play href={ "/watch/" (first) "?playlist=" (l.n) } aria-label={ "Play " (l.name) } { "▶ Play" } }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// Under a playlist's gallery: play, rename, delete, and the videos in
/// order with buttons to move them or take them out.
pub fn editor(n: u64, name: &str, items: &[(VideoId, String)]) -> Markup {
    html! {
        // Closed until wanted: its list is the cards above, with buttons.
        details.playlist-editor #playlist-editor data-n=(n) {
            summary { "Edit this playlist" }
            form #playlist-rename {
                label for="playlist-rename-input" { "Name" }
                input #playlist-rename-input type="text" value=(name) maxlength="100" required;
                button type="submit" { "Rename" }
                button.danger #playlist-delete type="button" { "Delete the playlist" }
            }
            ol #playlist-items {
                @for (i, (id, title)) in items.iter().enumerate() {
                    li data-id=(id) {
                        a href={ "/watch/" (id) "?playlist=" (n) } { (title) }
                        button.up type="button" aria-label={ "Move up: " (title) } disabled[i == 0] { "↑" }
                        button.down type="button" aria-label={ "Move down: " (title) } disabled[i + 1 == items.len()] { "↓" }
                        button.out type="button" aria-label={ "Take out: " (title) } { "✕" }
                    }
                }
            }
            p #playlist-edit-status role="status" {}
        }
    }
}
