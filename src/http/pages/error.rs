//! The HTML error page.

use hyper::StatusCode;
use maud::{html, Markup};

use super::layout::{page as layout, Nav, Visitor};

pub fn page(status: StatusCode, message: &str) -> Markup {
    let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
    layout(
        &title,
        Nav::None,
        &Visitor::default(),
        html! {
            h1 { (title) }
            p { (message) }
            p { a href="/" { "Back to the library" } }
        },
    )
}
