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
            div.signin {
                h1 { "Sign in" }
                @if !view.profiles.is_empty() {
                    h2 { "Who's watching?" }
                    ul.profiles {
                        @for name in &view.profiles {
                            li {
                                form method="post" action="/login" {
                                    input type="hidden" name="username" value=(name);
                                    input type="hidden" name="next" value=(view.next);
                                    button type="submit" {
                                        span.avatar aria-hidden="true" {
                                            (name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default())
                                        }
                                        span { (name) }
                                    }
                                }
                            }
                        }
                    }
                    h2 { "Or sign in" }
                }
                // A refused sign-in: said beside the fields, the password
                // to type again focused.
                @let refused = view.message.is_some();
                form.login.stack method="post" action="/login" {
                    @if let Some(m) = view.message {
                        p.error #login-error role="alert" { (m) }
                    }
                    input type="hidden" name="next" value=(view.next);
                    p {
                        label for="username" { "Name" }
                        input #username name="username" type="text" autocomplete="username" required value=(view.name)
                            autofocus[!refused && view.profiles.is_empty()];
                    }
                    p {
                        label for="password" { "Password" }
                        input #password name="password" type="password" autocomplete="current-password"
                            aria-describedby=[refused.then_some("login-error")] autofocus[refused];
                    }
                    button.primary type="submit" { "Sign in" }
                }
            }
        },
    )
}
