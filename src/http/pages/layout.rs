//! The page frame: head (CSS, theme script), header with navigation, main.

use maud::{html, Markup, DOCTYPE};

use crate::http::assets;
use crate::people::{Person, Role};

/// Who the page is for, as the header shows it.
#[derive(Debug, Clone, Default)]
pub struct Visitor {
    /// Whether accounts exist (else nobody signs in).
    pub accounts: bool,
    /// The signed-in person's name and role (`None`: not signed in).
    pub person: Option<(String, Role)>,
}

impl Visitor {
    pub fn new(accounts: bool, person: Option<&Person>) -> Visitor {
        Visitor { accounts, person: person.map(|p| (p.name.clone(), p.role)) }
    }

    /// Whether this visitor may use the admin page.
    pub fn admin(&self) -> bool {
        !self.accounts || self.person.as_ref().is_some_and(|(_, r)| *r == Role::Admin)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Library,
    Favorites,
    BestOf,
    Tags,
    Admin,
    SignIn,
    None,
}

pub fn page(title: &str, nav: Nav, visitor: &Visitor, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="dark light";
                title { (title) " · vidserve" }
                link rel="icon" href=(assets::url("icon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("theme.js")) {}
                script type="module" src=(assets::url("app.js")) {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { img src=(assets::url("icon.svg")) alt=""; "vidserve" }
                    form.search method="get" action="/" role="search" {
                        label for="search" class="skip" { "Search titles, paths and tags" }
                        input #search type="search" name="q" placeholder="Search" autocomplete="off";
                    }
                    nav aria-label="Main" {
                        a href="/" aria-current=[(nav == Nav::Library).then_some("page")] { "Library" }
                        a href="/favorites" aria-current=[(nav == Nav::Favorites).then_some("page")] { "Favorites" }
                        a href="/best-of" aria-current=[(nav == Nav::BestOf).then_some("page")] { "Best of" }
                        a href="/tags" aria-current=[(nav == Nav::Tags).then_some("page")] { "Tags" }
                        a href="/random" { "Random" }
                        @if visitor.admin() {
                            a href="/admin" aria-current=[(nav == Nav::Admin).then_some("page")] { "Admin" }
                        }
                        button #theme-toggle type="button" hidden aria-label="Switch between light and dark theme" { "◐" }
                    }
                    @if visitor.accounts {
                        div.account {
                            @if let Some((name, _)) = &visitor.person {
                                span.who { (name) }
                                form method="post" action="/logout" {
                                    button type="submit" { "Sign out" }
                                }
                            } @else if nav != Nav::SignIn {
                                a href="/login" { "Sign in" }
                            }
                        }
                    }
                }
                div #live-banner role="status" hidden {
                    "The library changed. " a href="" { "Refresh" }
                }
                main #main { (body) }
            }
        }
    }
}
