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
            label for=(id) { "Libraries" span.skip { " " (shown) " may see (comma-separated; empty: everything)" } }
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
            thead { tr { th { "Library" } th { "Folders" } th { span.skip { "Remove" } } } }
            tbody {
                @for l in libraries {
                    tr {
                        td { (l.name) }
                        td { @for f in &l.folders { code { (f) } " " } }
                        td.actions {
                            @if l.default {
                                span.count title="A video folder is always a library" { "a video folder" }
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
            // Four short facts a row; what can be done to an account
            // behind its Manage (the same forms, in the same order, for each).
            @let admins = rows.iter().filter(|r| r.role == Role::Admin).count();
            table.list.users tabindex="0" {
                thead { tr { th { "Name" } th { "Role" } th { "Sign-in" } th { "Sees" } th { span.skip { "Manage" } } } }
                tbody {
                    @for r in rows {
                        tr {
                            td data-label="Name" { (r.name) @if r.owner { " " span.count title="Holds what was rated before accounts existed" { "(household)" } } }
                            td data-label="Role" { (r.role.name()) }
                            td data-label="Sign-in" { @if r.password { "password" } @else { "no password (private addresses)" } }
                            td data-label="Sees" { (sees(r.role, r.libraries.as_deref())) }
                            td.actions { (manage(r, !(r.role == Role::Admin && admins == 1 && rows.len() > 1))) }
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

/// What can be done to one account, behind its Manage: each form labelled
/// in words, in the same order for every account. The last admin is not
/// offered Remove while other accounts exist (it would be refused).
fn manage(r: &AccountRow, removable: bool) -> Markup {
    let name = r.name.as_str();
    html! {
        details.manage {
            summary { "Manage" span.skip { " " (name) } }
            div.manage-forms {
                form method="post" action="/admin/users" {
                    (action(name, "password"))
                    label for={ "pw-" (name) } { "New password" }
                    input id={ "pw-" (name) } type="password" name="password" minlength="8" autocomplete="new-password" required;
                    button type="submit" { "Set" }
                }
                @if r.role != Role::Admin {
                    (libraries_form(name, name, r.libraries.as_deref()))
                }
                div.manage-buttons {
                    form method="post" action="/admin/users" {
                        (action(name, "token"))
                        button type="submit" { "New API token" }
                    }
                    form method="post" action="/admin/users" {
                        (action(name, "revoke"))
                        button type="submit" { "Revoke API tokens" }
                    }
                    form method="post" action="/admin/users" {
                        (action(name, "sign_out"))
                        button type="submit" { "Sign out everywhere" }
                    }
                }
                @if removable {
                    form.remove method="post" action="/admin/users" {
                        (action(name, "remove"))
                        @if r.owner {
                            label {
                                input type="checkbox" name="confirm" value="true" required;
                                " Yes, delete the household's ratings, favorites, positions and playlists with this account (a backup is written first)"
                            }
                        }
                        button.danger type="submit" aria-label={ "Remove " (name) } { "Remove " (name) }
                    }
                } @else {
                    p.hint { "The last admin cannot be removed while other accounts exist." }
                }
            }
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
