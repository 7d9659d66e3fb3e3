//! The admin page's Users section, and the page that shows a new API token
//! once.

use maud::{html, Markup};

use super::layout::{page, Nav, Visitor};
use crate::people::Role;

/// One account as the Users section lists it.
pub struct AccountRow {
    pub name: String,
    pub role: Role,
    pub password: bool,
    /// Holds the household's ratings (the first admin).
    pub owner: bool,
    /// The libraries it may see (`None`: everything).
    pub libraries: Option<Vec<String>>,
}

/// What an account or profile sees, in words.
fn sees(role: Role, libraries: Option<&[String]>) -> String {
    match (role, libraries) {
        (Role::Admin, _) | (_, None) => "Everything".into(),
        (_, Some([])) => "Nothing".into(),
        (_, Some(l)) => l.join(", "),
    }
}

/// The form that chooses what `name` sees (comma-separated; empty:
/// everything).
fn libraries_form(name: &str, shown: &str, libraries: Option<&[String]>) -> Markup {
    let id = format!("libs-{name}");
    html! {
        form method="post" action="/admin/users" {
            (action(name, "libraries"))
            label for=(id) class="skip" { "Libraries " (shown) " may see (comma-separated; empty: everything)" }
            input id=(id) type="text" name="libraries" value=(libraries.map(|l| l.join(", ")).unwrap_or_default()) placeholder="Everything" autocomplete="off";
            button type="submit" { "Set" }
        }
    }
}

/// The admin page's Libraries section: the libraries there are, what the
/// guest profile sees, and a form naming a new one.
pub fn libraries_section(libraries: &[crate::people::libraries::Library], guest: Option<Option<&[String]>>) -> Markup {
    html! {
        h2 #libraries { "Libraries" }
        p { "Give an account libraries (Users, above) and it sees only the videos in their folders; admins see everything. Every video folder is a library of its own." }
        table.list tabindex="0" {
            thead { tr { th { "Library" } th { "Folders" } th { "Actions" } } }
            tbody {
                @for l in libraries {
                    tr {
                        td { (l.name) }
                        td { @for f in &l.folders { code { (f) } " " } }
                        td.actions {
                            @if l.default {
                                span.count { "A video folder: always there" }
                            } @else {
                                form method="post" action="/admin/libraries" {
                                    input type="hidden" name="action" value="remove";
                                    input type="hidden" name="name" value=(l.name);
                                    button.danger type="submit" aria-label={ "Remove library " (l.name) } { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.add-user method="post" action="/admin/libraries" {
            input type="hidden" name="action" value="add";
            label { "Name " input type="text" name="name" required maxlength="64" autocomplete="off"; }
            label { "Folders (one per line, inside a video folder) " textarea name="folders" rows="2" required {} }
            button.primary type="submit" { "Add library" }
        }
        @if let Some(guest) = guest {
            h3 { "Guests" }
            p { "Visitors who are not signed in see: " strong { (sees(Role::Viewer, guest)) } }
            (libraries_form("guest", "guests", guest))
        }
    }
}

const ROLES: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];

/// Hidden fields every Users form sends.
fn action(name: &str, what: &str) -> Markup {
    html! {
        input type="hidden" name="action" value=(what);
        input type="hidden" name="name" value=(name);
    }
}

pub fn users_section(rows: &[AccountRow]) -> Markup {
    html! {
        h2 #users { "Users" }
        @if rows.is_empty() {
            p.notice { "No accounts: everyone on the local network may use vidserve, without signing in. Add an admin to require sign-in." }
        } @else {
            table.list.users tabindex="0" {
                thead { tr { th { "Name" } th { "Role" } th { "Sign-in" } th { "Sees" } th { "Actions" } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (r.name) @if r.owner { " " span.count title="Holds what was rated before accounts existed" { "(household)" } } }
                            td { (r.role.name()) }
                            td { @if r.password { "password" } @else { "no password (private addresses)" } }
                            td { (sees(r.role, r.libraries.as_deref())) }
                            td.actions {
                                @if r.role != Role::Admin {
                                    (libraries_form(&r.name, &r.name, r.libraries.as_deref()))
                                }
                                form method="post" action="/admin/users" {
                                    (action(&r.name, "password"))
                                    label for={ "pw-" (r.name) } class="skip" { "New password for " (r.name) }
                                    input id={ "pw-" (r.name) } type="password" name="password" minlength="8" autocomplete="new-password" placeholder="New password" required;
                                    button type="submit" { "Set" }
                                }
                                form method="post" action="/admin/users" {
                                    (action(&r.name, "token"))
                                    button type="submit" { "New API token" }
                                }
                                form method="post" action="/admin/users" {
                                    (action(&r.name, "revoke"))
                                    button type="submit" { "Revoke tokens" }
                                }
                                form method="post" action="/admin/users" {
                                    (action(&r.name, "sign_out"))
                                    button type="submit" { "Sign out everywhere" }
                                }
                                form method="post" action="/admin/users" {
                                    (action(&r.name, "remove"))
                                    @if r.owner {
                                        label { input type="checkbox" name="confirm" value="true" required; " with the household's ratings, favorites, positions and playlists (backed up first)" }
                                    }
                                    button.danger type="submit" aria-label={ "Remove " (r.name) } { "Remove" }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.add-user method="post" action="/admin/users" {
            input type="hidden" name="action" value="add";
            label { "Name " input type="text" name="name" required maxlength="64" pattern="[A-Za-z0-9._\\-]+" autocomplete="off"; }
            label { "Role "
                select name="role" {
                    @for role in ROLES { option value=(role.name()) selected[rows.is_empty() == (role == Role::Admin)] { (role.name()) } }
                }
            }
            label { "Password " input type="password" name="password" minlength="8" autocomplete="new-password"; }
            label { input type="checkbox" name="no_password" value="true" aria-describedby="no-password-hint"; " No password" }
            label { "Libraries " input type="text" name="libraries" placeholder="Everything" autocomplete="off"; }
            button.primary type="submit" { "Add user" }
        }
        p.hint #no-password-hint { "Without a password: a viewer only, picked as a profile from devices at home (private addresses)." }
    }
}

/// The page that shows a new API token, once.
pub fn token_page(name: &str, token: &str, visitor: &Visitor) -> Markup {
    page(
        "New API token",
        Nav::Admin,
        visitor,
        html! {
            h1 { "New API token for " (name) }
            p { "Copy it now: it is shown only once (vidserve keeps only its digest). Send it as " code { "Authorization: Bearer TOKEN" } "." }
            p { code #new-token { (token) } }
            p { a href="/admin#users" { "Back to Users" } }
        },
    )
}
