//! Signing in and out, and the check every request passes once accounts
//! exist: a session cookie (`vidserve_session`: random, kept server-side
//! as a digest, `HttpOnly; SameSite=Lax; Path=/`) or an API token
//! (`Authorization: Bearer`), then the route's `Access`. Pages send the
//! anonymous to `/login?next=…` (303); everything else answers 401.

use super::user::Payload;
use std::sync::Arc;

use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, COOKIE, SET_COOKIE};
use hyper::{Method, Response, StatusCode};
use serde::Deserialize;

use super::{html, redirect, ApiError};
use crate::catalog::{Sight, Viewer};
use crate::http::body::Body;
use crate::http::guard::Client;
use crate::http::pages::login::{login as login_page, LoginView};
use crate::http::route::{Access, Endpoint, Kind, Route};
use crate::people::limiter::Refused;
use crate::people::{People, Person, Role};

const COOKIE_NAME: &str = "vidserve_session";

/// The session id a request carries, if any.
fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
        .filter(|id| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get(AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

/// What a request said about who sent it, kept by long-lived streams to
/// ask again later.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    session: Option<String>,
    token: Option<String>,
}

impl Credentials {
    pub fn of(headers: &HeaderMap) -> Credentials {
        Credentials { session: session_id(headers).map(String::from), token: bearer(headers).map(String::from) }
    }

    /// Whose data these credentials see now, whether they are an admin's,
    /// and what of the library they may see; `None` when they no longer
    /// may read (signed out, removed, accounts appeared).
    pub fn viewer(&self, people: &People, guest: bool) -> Option<(Viewer, bool, Sight)> {
        if !people.enabled() {
            return Some((Viewer::Household, true, Sight::All));
        }
        let person = match (&self.session, &self.token) {
            (Some(id), _) => people.by_session(id).map(|(p, _)| p),
            (None, Some(t)) => people.by_token(t),
            (None, None) => None,
        };
        match person {
            Some(p) => Some((p.viewer, p.role == Role::Admin, p.sight)),
            None if guest => Some((Viewer::Guest, false, people.profile_sight("guest"))),
            None => None,
        }
    }
}

/// With a database shared by several servers, a session or token made on
/// another one a moment ago is looked up in the store before `authorize`
/// (one keyed read; only for credentials unknown here).
pub async fn catch_up(people: &Arc<People>, headers: &HeaderMap) {
    let (session, token) = (session_id(headers), bearer(headers));
    if !people.enabled() || !people.may_catch_up(session, token) {
        return;
    }
    let (people, session, token) = (people.clone(), session.map(String::from), token.map(String::from));
    let _ = crate::blocking::spawn(move || people.catch_up(session.as_deref(), token.as_deref())).await;
}

/// Who is asking, when accounts exist; `Err` when the route may not be
/// called by them. A page a browser navigates to sends the anonymous to
/// sign in rather than answering 401. Without accounts: `Ok(None)`, always.
pub fn authorize(
    people: &Arc<People>,
    guest: bool,
    headers: &HeaderMap,
    method: &Method,
    endpoint: &Endpoint,
    target: &str,
) -> Result<Option<Person>, ApiError> {
    let page = endpoint.kind == Kind::Page;
    if !people.enabled() {
        return Ok(None);
    }
    let who = match (session_id(headers), bearer(headers)) {
        (Some(id), _) => people.by_session(id).map(|(p, stale)| {
            if stale {
                let (people, id) = (people.clone(), id.to_string());
                crate::blocking::spawn(move || people.touch(&id));
            }
            p
        }),
        (None, Some(token)) => people.by_token(token),
        (None, None) => None,
    };
    let Access::Role(needed) = endpoint.access else { return Ok(who) };
    match &who {
        Some(p) if p.role >= needed => Ok(who),
        Some(p) => {
            Err(ApiError::Forbidden(format!("{} may not do this (it needs the {} role)", p.name, needed.name())))
        }
        None if guest && needed == Role::Viewer && (method == Method::GET || method == Method::HEAD) => Ok(None),
        None if page && method == Method::GET => Err(ApiError::SignIn(target.to_string())),
        None => Err(ApiError::Unauthorized("sign in first (or send Authorization: Bearer TOKEN)".into())),
    }
}

/// Whether the request is a video fetched through a valid signed link (it
/// then needs no session), and what it may show: what the account that
/// made it may see now. A link that was changed or has expired is 403.
pub fn signed_link(people: &People, route: &Route, query: &str) -> Result<Option<Sight>, ApiError> {
    let Some(id) = route.video_by_id() else { return Ok(None) };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    match people.check_link(id, query, now) {
        None => Ok(None),
        Some(true) => Ok(Some(people.link_sight(query))),
        Some(false) => Err(ApiError::Forbidden("this link has expired or was changed; ask for a new one".into())),
    }
}

/// `next`, when it is a path of this server (never another site) that can
/// stand in a `Location` header as it is (visible ASCII: the paths we send
/// to sign-in are percent-encoded).
fn local_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains("://")
        && next.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if ok {
        next
    } else {
        "/"
    }
}

/// Profiles without a password (viewers), for a client known to be on a
/// private address.
fn profiles(people: &People, client: Client) -> Vec<String> {
    if !client.is_local() {
        return Vec::new();
    }
    let open = |(_, role, has_password): &(String, Role, bool)| !has_password && *role == Role::Viewer;
    people.list().into_iter().filter(open).map(|(name, _, _)| name).collect()
}

/// `?next=PATH` of the sign-in form.
#[derive(Deserialize)]
pub struct FormQuery {
    next: Option<String>,
}

/// `GET /login`.
pub fn form(people: &People, client: Client, q: FormQuery) -> Response<Body> {
    if !people.enabled() {
        return redirect(StatusCode::SEE_OTHER, "/");
    }
    let next = q.next.unwrap_or_else(|| "/".into());
    html(login_page(&LoginView {
        next: local_next(&next),
        name: "",
        message: None,
        profiles: profiles(people, client),
    }))
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /login` (form `username`, `password`): 303 with a session cookie,
/// or 401 with the form again; 429 after repeated failures.
pub async fn sign_in(
    people: &Arc<People>,
    client: Client,
    secure: bool,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let form: LoginForm = super::user::read_body_or_form(headers, body).await?;
    let next = local_next(&form.next).to_string();
    if !client.known {
        unknown_proxy_warning();
    }
    // Counted before it is checked; one at a time per client and per name.
    let keys = vec![client.throttle_key(), format!("name:{}", form.username.to_lowercase())];
    let attempt = people.limiter.begin(keys).map_err(|refused| match refused {
        Refused::Wait(wait) => {
            let secs = wait.as_secs().max(1);
            ApiError::TooManyRequests(secs, format!("too many failed sign-ins; try again in {secs} s"))
        }
        Refused::Busy => ApiError::TooManyRequests(
            1,
            "a sign-in with this name or from this device is being checked; try again in a moment".into(),
        ),
    })?;
    // A turn to hash, waited for here: a queue of sign-ins holds no thread.
    let turn = crate::people::password::SIGN_INS.acquire().await.map_err(|e| ApiError::Internal(e.into()))?;
    let people2 = people.clone();
    let (name, password) = (form.username.clone(), form.password);
    // Profiles without a password: only from this machine and private networks.
    let private = client.is_local();
    let person = crate::blocking::spawn(move || people2.check_password(&name, &password, private))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    drop(turn);
    let Some(person) = person else {
        drop(attempt);
        let view = LoginView {
            next: &next,
            name: &form.username,
            message: Some("That name and password do not match."),
            profiles: profiles(people, client),
        };
        let mut res = html(login_page(&view));
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(res);
    };
    attempt.succeeded();
    let people2 = people.clone();
    let id = crate::blocking::spawn(move || people2.start_session(&person))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut res = redirect(StatusCode::SEE_OTHER, &next);
    let cookie = format!("{COOKIE_NAME}={id}; HttpOnly; SameSite=Lax; Path=/{}", secure_flag(secure));
    res.headers_mut().insert(SET_COOKIE, HeaderValue::from_str(&cookie).expect("hex id"));
    Ok(res)
}

/// Over HTTPS the session cookie is never sent over plain HTTP.
fn secure_flag(secure: bool) -> &'static str {
    if secure {
        "; Secure"
    } else {
        ""
    }
}

/// Says, at most once a minute, that sign-ins come through a proxy that
/// was not named, and how to name it.
fn unknown_proxy_warning() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let last = LAST.load(Ordering::Relaxed);
    if now >= last + 60 && LAST.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
        tracing::warn!(
            "sign-ins come through a proxy not named with --trusted-proxy, so their clients cannot be told: \
             no profiles without a password, one shared throttle. Start vidserve with --trusted-proxy PROXY_ADDRESS"
        );
    }
}

/// `POST /logout`: ends the session on the server, clears the cookie;
/// `?everywhere=1` also ends the account's other sessions, its tokens and
/// its signed links.
pub async fn sign_out(
    people: &Arc<People>,
    person: Option<&Person>,
    secure: bool,
    headers: &HeaderMap,
    everywhere: bool,
) -> Result<Response<Body>, ApiError> {
    let (people2, id) = (people.clone(), session_id(headers).map(String::from));
    let name = person.map(|p| p.name.clone()).filter(|_| everywhere);
    crate::blocking::spawn(move || match (name, id) {
        (Some(name), _) => people2.sign_out_everywhere(&name),
        (None, Some(id)) => people2.end_session(&id),
        (None, None) => Ok(()),
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(|e| ApiError::Internal(e.into()))?;
    let mut res = redirect(StatusCode::SEE_OTHER, "/login");
    let cookie = format!("{COOKIE_NAME}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{}", secure_flag(secure));
    res.headers_mut().insert(SET_COOKIE, HeaderValue::from_str(&cookie).expect("ascii"));
    Ok(res)
}
