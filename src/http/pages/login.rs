//! The sign-in page.

use maud::{html, Markup};

use super::layout::{page, Nav, Visitor};

pub struct LoginView<'a> {
    /// Where to go after signing in (a local path).
    pub next: &'a str,
    pub name: &'a str,
    /// Why the last try failed.
    pub message: Option<&'a str>,
    /// Profiles picked without a password ("Who's watching?"), shown to
    /// private addresses only.
    pub profiles: Vec<String>,
}

pub fn login(view: &LoginView) -> Markup {
    page(
        "Sign in",
        Nav::SignIn,
        &Visitor { accounts: true, ..Visitor::default() },
        html! {
            h1 { "Sign in" }
            @if let Some(m) = view.message {
                p.error role="alert" { (m) }
            }
            @if !view.profiles.is_empty() {
                h2 { "Who's watching?" }
                ul.profiles {
                    @for name in &view.profiles {
                        li {
                            form method="post" action="/login" {
                                input type="hidden" name="username" value=(name);
                                input type="hidden" name="next" value=(view.next);
                                button type="submit" { (name) }
                            }
                        }
                    }
                }
                h2 { "Or sign in" }
            }
            form.login.stack method="post" action="/login" {
                input type="hidden" name="next" value=(view.next);
                p {
                    label for="username" { "Name" }
                    input #username name="username" type="text" autocomplete="username" required value=(view.name);
                }
                p {
                    label for="password" { "Password" }
                    input #password name="password" type="password" autocomplete="current-password";
                }
                button.primary type="submit" { "Sign in" }
            }
        },
    )
}
