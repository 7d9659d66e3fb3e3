//! The HTML error page: what went wrong in words, the server's reason, a
//! way back; the status code stays visible for anyone reporting it.

use hyper::StatusCode;
use maud::{html, Markup};

use super::layout::{page as layout, Nav, Visitor};

pub fn page(status: StatusCode, message: &str) -> Markup {
    let heading = heading(status);
    let code = format!("Error {} ({})", status.as_u16(), status.canonical_reason().unwrap_or("error"));
    layout(
        heading,
        Nav::None,
        &Visitor::default(),
        html! {
            h1 { (heading) }
            p { (message) }
            p { a href="/" { "Back to the library" } }
            p.hint { (code) }
        },
    )
}

/// The page's heading: what the status means to someone browsing.
fn heading(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Nothing here",
        StatusCode::BAD_REQUEST => "This address does not look right",
        StatusCode::FORBIDDEN => "Not for this account",
        StatusCode::UNAUTHORIZED => "Sign in first",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests: wait a moment",
        StatusCode::SERVICE_UNAVAILABLE => "Not available just now",
        s if s.is_server_error() => "Something went wrong",
        _ => "This request cannot be answered",
    }
}
