//! Accounts from the admin page: `GET /admin/users` lists them (JSON);
//! `POST /admin/users` adds one, sets a password, makes or revokes API
//! tokens, or removes one (JSON, or a form from the admin page). Admins
//! only once accounts exist; without accounts, only the first account (an
//! admin with a password) may be added here, so the page never locks its
//! owner out.

use super::user::Payload;
use std::sync::Arc;

use hyper::header::HeaderMap;
use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::user::read_body_or_form;
use super::{html, is_form, json, redirect, ApiError};
use crate::http::body::Body;
use crate::http::pages::accounts::{token_page, AccountRow};
use crate::http::pages::layout::Visitor;
use crate::people::{People, PeopleError, Role};
use crate::App;

/// A checkbox (`"true"`/`"on"` from a form) or a JSON boolean.
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Text(String),
}

#[derive(Deserialize)]
pub(super) struct Change {
    action: String,
    name: String,
    role: Option<String>,
    password: Option<String>,
    no_password: Option<Flag>,
    /// Removing the household's owner: yes, its data goes too.
    confirm: Option<Flag>,
    /// What it may see (`add`, `libraries`): names, or (from a form)
    /// comma-separated names; absent or null: everything.
    libraries: Option<Names>,
}

/// Library names: a JSON list (`[]`: none), or comma-separated text
/// from a form (empty: everything).
#[derive(Deserialize)]
#[serde(untagged)]
enum Names {
    List(Vec<String>),
    Text(String),
}

impl Names {
    /// The names; `None`: everything.
    fn get(self) -> Option<Vec<String>> {
        match self {
            Names::List(l) => Some(l),
            Names::Text(t) if t.trim().is_empty() => None,
            Names::Text(t) => Some(t.split(',').map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect()),
        }
    }
}

impl Flag {
    fn on(flag: Option<&Flag>) -> bool {
        match flag {
            Some(Flag::Bool(b)) => *b,
            Some(Flag::Text(t)) => matches!(t.as_str(), "true" | "on" | "1"),
            None => false,
        }
    }
}

/// What a change led to.
enum Done {
    Saved,
    Token(String),
}

pub fn rows(people: &People) -> Vec<AccountRow> {
    let owner = people.owner();
    people
        .list()
        .into_iter()
        .map(|(name, role, password)| {
            let owner = owner.as_deref() == Some(name.as_str());
            let libraries = people.libraries_of(&name);
            AccountRow { name, role, password, owner, libraries }
        })
        .collect()
}

fn list_json(people: &People) -> serde_json::Value {
    let users: Vec<_> = rows(people)
        .iter()
        .map(|r| {
            json!({ "name": r.name, "role": r.role.name(), "password": r.password, "household": r.owner,
                    "libraries": r.libraries })
        })
        .collect();
    let profiles: serde_json::Map<String, serde_json::Value> = crate::people::libraries::PROFILES
        .iter()
        .map(|p| (p.to_string(), json!({ "libraries": people.libraries_of(p) })))
        .collect();
    json!({ "users": users, "profiles": profiles })
}

/// `GET /admin/users`.
pub fn list(people: &People) -> Response<Body> {
    json(StatusCode::OK, &list_json(people))
}

/// `POST /admin/users`.
pub async fn change(
    app: &Arc<App>,
    visitor: &Visitor,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let from_form = is_form(headers);
    let c: Change = read_body_or_form(headers, body).await?;
    let name = c.name.trim().to_string();
    let (app2, name2) = (app.clone(), name.clone());
    // Argon2 and the store block: off the async workers.
    let done =
        crate::blocking::spawn(move || apply(&app2, &name2, c)).await.map_err(|e| ApiError::Internal(e.into()))??;
    match (done, from_form) {
        (Done::Token(token), true) => {
            // Shown once: never kept by a cache or the history.
            let mut res = html(token_page(&name, &token, visitor));
            res.headers_mut().insert("cache-control", hyper::header::HeaderValue::from_static("no-store"));
            Ok(res)
        }
        (Done::Token(token), false) => Ok(json(StatusCode::OK, &json!({ "success": true, "token": token }))),
        (Done::Saved, true) => Ok(redirect(StatusCode::SEE_OTHER, "/admin#users")),
        (Done::Saved, false) => {
            let mut v = list_json(app.people());
            v["success"] = json!(true);
            Ok(json(StatusCode::OK, &v))
        }
    }
}

/// `GET /admin/libraries`: every library, its folders, and who was given it.
pub fn libraries(people: &People) -> Response<Body> {
    json(StatusCode::OK, &libraries_json(people))
}

fn libraries_json(people: &People) -> serde_json::Value {
    let list: Vec<_> = people
        .libraries()
        .into_iter()
        .map(|l| {
            let given = people.given_to(&l.name);
            json!({ "name": l.name, "folders": l.folders, "default": l.default, "given_to": given })
        })
        .collect();
    json!({ "libraries": list })
}

#[derive(Deserialize)]
pub(super) struct LibraryChange {
    action: String,
    name: String,
    /// Folders: a JSON list, or text from a form (one per line).
    folders: Option<Folders>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Folders {
    List(Vec<String>),
    Text(String),
}

/// `POST /admin/libraries`: `{"action": "add", "name", "folders": [...]}`
/// names a library (or changes its folders), `{"action": "remove",
/// "name"}` removes one. JSON, or a form from the admin page.
pub async fn change_library(
    people: &Arc<People>,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let from_form = is_form(headers);
    let c: LibraryChange = read_body_or_form(headers, body).await?;
    let folders: Vec<String> = match c.folders {
        Some(Folders::List(l)) => l,
        Some(Folders::Text(t)) => t.lines().map(str::to_string).collect(),
        None => Vec::new(),
    };
    if folders.len() > 100 {
        return Err(ApiError::BadRequest("at most 100 folders in a library".into()));
    }
    let people2 = people.clone();
    // The store blocks: off the async workers.
    crate::blocking::spawn(move || match c.action.as_str() {
        "add" => people2.define_library(&c.name, &folders).map(|_| ()),
        "remove" => people2.remove_library(&c.name).map(|_| ()),
        other => Err(PeopleError::Invalid(format!("unknown action {other:?}: add or remove"))),
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(people_error)?;
    if from_form {
        return Ok(redirect(StatusCode::SEE_OTHER, "/admin#libraries"));
    }
    let mut v = libraries_json(people);
    v["success"] = json!(true);
    Ok(json(StatusCode::OK, &v))
}

fn people_error(e: PeopleError) -> ApiError {
    match e {
        PeopleError::Invalid(why) => ApiError::BadRequest(why),
        PeopleError::NoSuchAccount(_) => ApiError::NotFound(e.to_string()),
        PeopleError::Exists(_) | PeopleError::LastAdmin(_) => ApiError::Conflict(e.to_string()),
        PeopleError::Store(e) => crate::http::error::store_error(&e),
    }
}

fn apply(app: &App, name: &str, c: Change) -> Result<Done, ApiError> {
    let people = app.people();
    match c.action.as_str() {
        "add" => {
            let role = match c.role.as_deref() {
                None => Role::Viewer,
                Some(r) => {
                    Role::parse(r).ok_or_else(|| ApiError::BadRequest("role: viewer, editor or admin".into()))?
                }
            };
            let no_password = Flag::on(c.no_password.as_ref());
            let password = c.password.filter(|p| !p.is_empty());
            if !people.enabled() && (role != Role::Admin || password.is_none() || no_password) {
                return Err(ApiError::BadRequest(
                    "the first account must be an admin with a password (else nobody could manage vidserve here)"
                        .into(),
                ));
            }
            let password = match (password, no_password) {
                (Some(_), true) => {
                    return Err(ApiError::BadRequest("give a password or choose no password, not both".into()))
                }
                (None, false) => return Err(ApiError::BadRequest("give a password (at least 8 characters)".into())),
                (p, _) => p,
            };
            let libraries = c.libraries.and_then(Names::get);
            people.add(name, role, password.as_deref(), libraries.as_deref()).map_err(people_error)?;
            Ok(Done::Saved)
        }
        "libraries" => {
            let libraries = c.libraries.and_then(Names::get);
            people.set_libraries(name, libraries.as_deref()).map_err(people_error)?;
            Ok(Done::Saved)
        }
        "password" => {
            let password = c.password.unwrap_or_default();
            people.set_password(name, &password).map_err(people_error)?;
            Ok(Done::Saved)
        }
        "token" => people.new_token(name).map(Done::Token).map_err(people_error),
        "revoke" => people.revoke_tokens(name).map(|_| Done::Saved).map_err(people_error),
        "sign_out" => people.sign_out_everywhere(name).map(|_| Done::Saved).map_err(people_error),
        "remove" => {
            let was_owner = people.is_owner(name);
            if was_owner && !Flag::on(c.confirm.as_ref()) {
                return Err(ApiError::Conflict(format!(
                    "{name} holds the household's own ratings, favorites, resume positions and playlists; they go \
                     with the account. Confirm to remove it (a backup is written first)"
                )));
            }
            app.remove_account(name).map_err(people_error)?;
            Ok(Done::Saved)
        }
        other => Err(ApiError::BadRequest(format!(
            "unknown action {other:?}: add, password, libraries, token, revoke, sign_out or remove"
        ))),
    }
}
