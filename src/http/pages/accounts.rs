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
                thead { tr { th { "Name" } th { "Role" } th { "Sign-in" } th { "Actions" } } }
                tbody {
                    @for r in rows {
                        tr {
                            td { (r.name) @if r.owner { " " span.count title="Holds what was rated before accounts existed" { "(household)" } } }
                            td { (r.role.name()) }
                            td { @if r.password { "password" } @else { "no password (private addresses)" } }
                            td.actions {
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
            label { input type="checkbox" name="no_password" value="true"; " No password (viewers only: a profile picked from private addresses)" }
            button.primary type="submit" { "Add user" }
        }
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
