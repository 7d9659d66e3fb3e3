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
    /// Whether the chat is on (and this visitor may use it).
    pub chat: bool,
    /// The words of the search the page shows (kept in the search box).
    pub search: String,
    /// Views are the visitor's own (no accounts, or the first admin): a
    /// video is watched once anyone watched it.
    pub household: bool,
}

impl Visitor {
    /// `who`: whose data the visitor's requests see (the household's views
    /// are their own only for `Viewer::Household`).
    pub fn new(accounts: bool, person: Option<&Person>, chat: bool, who: &crate::catalog::Viewer) -> Visitor {
        // With accounts, chatting needs a person.
        let chat = chat && (!accounts || person.is_some());
        Visitor {
            accounts,
            person: person.map(|p| (p.name.clone(), p.role)),
            chat,
            search: String::new(),
            household: matches!(who, crate::catalog::Viewer::Household),
        }
    }

    /// Whether this visitor may use the admin page.
    /// Whether the visitor may change titles and tags (an editor or an
    /// admin; everyone without accounts).
    pub fn edits(&self) -> bool {
        !self.accounts || self.person.as_ref().is_some_and(|(_, r)| *r >= Role::Editor)
    }

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
    Folders,
    Series,
    Films,
    Playlists,
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
                link rel="manifest" href=(assets::url("manifest.webmanifest"));
                meta name="theme-color" content="#111318";
                link rel="stylesheet" href=(assets::url("app.css"));
                script src=(assets::url("theme.js")) {}
                script type="module" src=(assets::url("app.js")) {}
            }
            // (Whether views are the visitor's own, for cards.js.)
            body data-household=[visitor.household.then_some("1")] {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { img src=(assets::url("icon.svg")) alt=""; "vidserve" }
                    @if nav != Nav::SignIn {
                        form.search method="get" action="/" role="search" {
                            label for="search" class="skip" { "Search titles, paths and tags" }
                            input #search type="search" name="q" placeholder="Search" autocomplete="off" value=(visitor.search);
                        }
                        nav aria-label="Main" {
                            a href="/" aria-current=[(nav == Nav::Library).then_some("page")] { "Library" }
                            a href="/favorites" aria-current=[(nav == Nav::Favorites).then_some("page")] { "Favorites" }
                            (more_links(nav, visitor, "extra"))
                            // On a phone the links above that do not fit are here.
                            details.more {
                                // Which page this is, when it is one of these.
                                summary.current[matches!(
                                    nav,
                                    Nav::BestOf | Nav::Tags | Nav::Series | Nav::Films | Nav::Folders | Nav::Playlists | Nav::Admin
                                )] { "More" }
                                div.menu {
                                    (more_links(nav, visitor, ""))
                                    (account(nav, visitor, false))
                                }
                            }
                            @if visitor.chat {
                                button #chat-open type="button" hidden aria-controls="chat-panel" aria-expanded="false" { "Ask" }
                            }
                            button #theme-toggle.waiting type="button" aria-label="Switch between light and dark theme" { "◐" }
                        }
                    }
                    (account(nav, visitor, true))
                }
                div #live-banner role="status" hidden {
                    "The library changed. " a href="" { "Refresh" }
                }
                main #main { (body) }
                @if visitor.chat { (chat_panel()) }
            }
        }
    }
}

/// The header's less used links (after Library and Favorites): in its row on wide screens (`class`
/// "extra"), in the More menu on a phone.
fn more_links(nav: Nav, visitor: &Visitor, class: &str) -> Markup {
    let class = (!class.is_empty()).then_some(class);
    html! {
        a href="/best-of" class=[class] aria-current=[(nav == Nav::BestOf).then_some("page")] { "Best of" }
        a href="/tags" class=[class] aria-current=[(nav == Nav::Tags).then_some("page")] { "Tags" }
        a href="/series" class=[class] aria-current=[(nav == Nav::Series).then_some("page")] { "Series" }
        a href="/films" class=[class] aria-current=[(nav == Nav::Films).then_some("page")] { "Films" }
        a href="/folders" class=[class] aria-current=[(nav == Nav::Folders).then_some("page")] { "Folders" }
        a href="/playlists" class=[class] aria-current=[(nav == Nav::Playlists).then_some("page")] { "Playlists" }
        a href="/random" class=[class] { "Random" }
        // (Not on an error page, which does not know who is asking.)
        @if visitor.admin() && nav != Nav::None {
            a href="/admin" class=[class] aria-current=[(nav == Nav::Admin).then_some("page")] { "Admin" }
        }
    }
}

/// Who is signed in, with the sign-out buttons (or the sign-in link):
/// in the header (`in_header`), and in the More menu for a phone.
fn account(nav: Nav, visitor: &Visitor, in_header: bool) -> Markup {
    let sign_out = |id: Option<&'static str>| {
        html! {
            form.sign-out id=[id] method="post" action="/logout" {
                button type="submit" { "Sign out" }
                button type="submit" formaction="/logout?everywhere=1"
                    title="End every session, API token and shared link of this account" { "Sign out everywhere" }
            }
        }
    };
    html! {
        @if visitor.accounts {
            div.account {
                @if let Some((name, _)) = &visitor.person {
                    @if in_header {
                        // The name opens its menu (one header row on a tablet).
                        details.account-menu {
                            summary { span.who { (name) } }
                            div.menu { (sign_out(Some("sign-out"))) }
                        }
                    } @else {
                        span.who { (name) }
                        (sign_out(None))
                    }
                } @else if nav != Nav::SignIn {
                    a href="/login" { "Sign in" }
                }
            }
        }
    }
}

/// The chat panel (opened by the header's Ask button; chat.js runs it).
fn chat_panel() -> Markup {
    html! {
        section #chat-panel.chat role="dialog" aria-modal="true" aria-labelledby="chat-title" hidden {
            div.chat-head {
                h2 #chat-title { "Ask the library" }
                button #chat-clear type="button" { "New chat" }
                button #chat-close type="button" aria-label="Close the chat" { "×" }
            }
            ol #chat-log aria-live="polite" {}
            p #chat-status role="status" {}
            form #chat-form {
                label for="chat-input" class="skip" { "Your question" }
                textarea #chat-input rows="2" maxlength="8000" required placeholder="Something short and highly rated?" {}
                div.chat-actions {
                    button #chat-send.primary type="submit" { "Send" }
                    button #chat-stop type="button" hidden { "Stop" }
                }
            }
        }
    }
}
