//! The Tags page: every tag with its count, each a link to its listing.

use maud::{html, Markup};
use percent_encoding::utf8_percent_encode;

use super::layout::{page, Nav, Visitor};
use crate::catalog::listing::QUERY_VALUE;

pub fn tags(tags: &[(String, usize)], visitor: &Visitor) -> Markup {
    page(
        "Tags",
        Nav::Tags,
        visitor,
        html! {
            div.bar { h1 { "Tags" } span.count { (tags.len()) (if tags.len() == 1 { " tag" } else { " tags" }) } }
            @if tags.is_empty() {
                p.notice { "No tags yet. Add tags on a video's page, or to many videos at once with the selection on the Library page." }
            }
            ul.tagcloud {
                @for (tag, count) in tags {
                    li { a href={ "/tag/" (utf8_percent_encode(tag, QUERY_VALUE)) } { "#" (tag) } " " span.count { (count) } }
                }
            }
        },
    )
}
