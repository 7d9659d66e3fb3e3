//! Writes of user data through the group-commit writer, each by the person
//! asking (`Viewer`): their own ratings, favorites, views and positions, and
//! the shared tags and titles. Every write answers 2xx only once it is on
//! disk. The original server's routes are in `legacy`.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_LENGTH};
use hyper::{Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{is_form, json, ApiError};
use crate::app::{Library, UserDataHandle};
use crate::catalog::user::{normalise_tag, normalise_title, Edit, UserData, MAX_POSITION_MS};
use crate::catalog::{Catalog, Sight, Viewer};
use crate::http::body::Body;
use crate::library::ids::VideoId;
use crate::store::writer::WriteError;

/// A request's body, with the largest size its route takes (from the
/// route table).
pub struct Payload {
    body: Incoming,
    limit: usize,
    /// How long the whole body may take to arrive.
    timeout: std::time::Duration,
}

impl Payload {
    pub fn new(body: Incoming, limit: usize, timeout: std::time::Duration) -> Payload {
        Payload { body, limit, timeout }
    }
}

/// Reads a body of at most its route's limit (refused early when its
/// declared length is larger).
pub async fn read_bytes(headers: &HeaderMap, payload: Payload) -> Result<Bytes, ApiError> {
    let Payload { body, limit, timeout } = payload;
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::TooLarge(limit));
    }
    // A body that never finishes holds a connection and memory: bounded.
    match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(ApiError::RequestTimeout(timeout.as_secs())),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::TooLarge(limit)),
        Ok(Err(_)) => Err(ApiError::BadRequest("the request body could not be read".into())),
    }
}

/// Reads a JSON body (`Content-Type: application/json`). Other types are
/// refused before the body is read: a cross-site `text/plain` form must
/// not be able to carry JSON.
pub async fn read_body<T: DeserializeOwned>(headers: &HeaderMap, body: Payload) -> Result<T, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::UnsupportedMediaType(
            "send the body as JSON, with the header Content-Type: application/json".into(),
        ));
    }
    let bytes = read_bytes(headers, body).await?;
    serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(format!("bad request body: {e}")))
}

/// `read_body`, or a form (`application/x-www-form-urlencoded`): the
/// original server's routes and the pages' forms without JavaScript.
pub(super) async fn read_body_or_form<T: DeserializeOwned>(headers: &HeaderMap, body: Payload) -> Result<T, ApiError> {
    if !is_form(headers) {
        return read_body(headers, body).await;
    }
    let bytes = read_bytes(headers, body).await?;
    serde_urlencoded::from_bytes(&bytes).map_err(|e| ApiError::BadRequest(format!("bad request body: {e}")))
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(ctype) = headers.get(hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

pub(super) fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::Closed => ApiError::Unavailable("the server is shutting down; try again".into()),
        WriteError::Guest => ApiError::Unauthorized("sign in to change anything".into()),
        WriteError::Store(e) => crate::http::error::store_error(&e),
    }
}

/// A number given as JSON number or as text (forms only have text).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Number {
    Int(i64),
    Text(String),
}

impl Number {
    fn get(&self) -> Option<i64> {
        match self {
            Number::Int(n) => Some(*n),
            Number::Text(t) => t.trim().parse().ok(),
        }
    }
}

pub(super) fn valid_rating(n: Option<&Number>) -> Result<u8, ApiError> {
    match n.and_then(Number::get) {
        Some(r @ 1..=5) => Ok(r as u8),
        _ => Err(ApiError::BadRequest("Invalid rating: give a whole number from 1 to 5".into())),
    }
}

/// Whether video `id` exists (else 404); whether the person may see it
/// is asked before (`handlers::seen`).
pub(super) fn existing(catalog: &Catalog, id: VideoId) -> Result<(), ApiError> {
    catalog.get(id).map(|_| ()).ok_or_else(ApiError::not_found)
}

/// Saves one edit and answers with the video's user data after it.
async fn save(data: &UserDataHandle, who: &Viewer, id: VideoId, edit: Edit) -> Result<Response<Body>, ApiError> {
    let data = data.write(who, id, edit).await.map_err(write_error)?;
    Ok(json(StatusCode::OK, &user_json(id, &data)))
}

pub fn user_json(id: VideoId, d: &UserData) -> Value {
    json!({
        "id": id.to_string(), "rating": d.rating, "views": d.views, "favorite": d.favorite,
        "last_viewed": d.last_viewed, "tags": d.tags, "title": d.title,
        "position_ms": d.position_ms,
    })
}

#[derive(Deserialize)]
struct RatingBody {
    rating: Option<Number>,
}

pub async fn rating(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    id: VideoId,
    clear: bool,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    existing(&library.catalog(), id)?;
    let edit = if clear {
        Edit::Rate(None)
    } else {
        let b: RatingBody = read_body(headers, body).await?;
        Edit::Rate(Some(valid_rating(b.rating.as_ref())?))
    };
    save(data, who, id, edit).await
}

pub async fn favorite(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    id: VideoId,
    on: bool,
) -> Result<Response<Body>, ApiError> {
    existing(&library.catalog(), id)?;
    save(data, who, id, Edit::Favorite(on)).await
}

pub async fn view(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    id: VideoId,
) -> Result<Response<Body>, ApiError> {
    existing(&library.catalog(), id)?;
    save(data, who, id, Edit::View(unix_now())).await
}

pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[derive(Deserialize)]
struct TitleBody {
    /// A new title; `null` or empty gives the file's title back.
    title: Option<String>,
}

pub async fn edit_title(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    id: VideoId,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    existing(&library.catalog(), id)?;
    let b: TitleBody = read_body(headers, body).await?;
    let title = match b.title {
        Some(raw) => normalise_title(&raw).map_err(ApiError::BadRequest)?,
        None => None,
    };
    save(data, who, id, Edit::Title(title)).await
}

#[derive(Deserialize)]
struct PositionBody {
    /// Seconds into the video (fractions allowed).
    seconds: Option<f64>,
}

pub async fn position(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    id: VideoId,
    clear: bool,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    existing(&library.catalog(), id)?;
    let ms = if clear {
        None
    } else {
        let b: PositionBody = read_body(headers, body).await?;
        match b.seconds {
            Some(s) if s.is_finite() && (0.0..(MAX_POSITION_MS / 1000) as f64).contains(&s) => {
                Some((s * 1000.0) as u64)
            }
            _ => return Err(ApiError::BadRequest("seconds must be a number from 0".into())),
        }
    };
    save(data, who, id, Edit::Position(ms, unix_now())).await
}

pub(super) fn valid_tag(raw: Option<&str>) -> Result<String, ApiError> {
    normalise_tag(raw.unwrap_or("")).map_err(|why| ApiError::BadRequest(format!("bad tag: {why}")))
}

#[derive(Deserialize)]
struct TagBody {
    tag: Option<String>,
}

pub async fn add_tag(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    id: VideoId,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    existing(&library.catalog(), id)?;
    let b: TagBody = read_body(headers, body).await?;
    let tag = valid_tag(b.tag.as_deref())?;
    save(data, who, id, Edit::AddTag(tag)).await
}

pub async fn remove_tag(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    id: VideoId,
    tag: &str,
) -> Result<Response<Body>, ApiError> {
    existing(&library.catalog(), id)?;
    let tag = valid_tag(Some(tag))?;
    save(data, who, id, Edit::RemoveTag(tag)).await
}

/// Most videos one batch may change.
pub const MAX_BATCH_IDS: usize = 10_000;
/// Most tags one batch adds or removes.
pub const MAX_BATCH_TAGS: usize = 50;

/// `POST /api/v1/batch`: the same changes to many videos, in one commit.
#[derive(Deserialize)]
struct Batch {
    ids: Vec<String>,
    #[serde(default)]
    add_tags: Vec<String>,
    #[serde(default)]
    remove_tags: Vec<String>,
    favorite: Option<bool>,
    /// A number sets the rating, `0` clears it.
    rating: Option<Number>,
}

pub async fn batch(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    sight: &Sight,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let b: Batch = read_body(headers, body).await?;
    if b.ids.len() > MAX_BATCH_IDS {
        return Err(ApiError::BadRequest(format!("at most {MAX_BATCH_IDS} ids in one batch")));
    }
    if b.add_tags.len() + b.remove_tags.len() > MAX_BATCH_TAGS {
        return Err(ApiError::BadRequest(format!("at most {MAX_BATCH_TAGS} tags in one batch")));
    }
    let catalog = library.catalog();
    let sees = sight.seer(&catalog);
    // Each video once, whatever the repetition in the request.
    let mut ids = Vec::with_capacity(b.ids.len());
    let mut seen = std::collections::HashSet::with_capacity(b.ids.len());
    for raw in &b.ids {
        let id: VideoId = raw.parse().map_err(|_| ApiError::BadRequest(format!("not a video id: {raw:?}")))?;
        catalog.get(id).filter(|v| sees(v)).ok_or_else(|| ApiError::NotFound(format!("no video {raw}")))?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    let mut per_video: Vec<Edit> = Vec::new();
    for t in &b.add_tags {
        let e = Edit::AddTag(valid_tag(Some(t))?);
        if !per_video.contains(&e) {
            per_video.push(e);
        }
    }
    for t in &b.remove_tags {
        let e = Edit::RemoveTag(valid_tag(Some(t))?);
        if !per_video.contains(&e) {
            per_video.push(e);
        }
    }
    if let Some(f) = b.favorite {
        per_video.push(Edit::Favorite(f));
    }
    if let Some(r) = &b.rating {
        per_video.push(match r.get() {
            Some(0) => Edit::Rate(None),
            _ => Edit::Rate(Some(valid_rating(Some(r))?)),
        });
    }
    // One step per video, however many changes it gets.
    let changes = ids.len() * per_video.len();
    if changes > 0 {
        let all: std::sync::Arc<[Edit]> = per_video.into();
        let edits = ids.iter().map(|id| (*id, Edit::Many(all.clone()))).collect();
        data.write_all(who, edits).await.map_err(write_error)?;
    }
    Ok(json(StatusCode::OK, &json!({ "success": true, "videos": ids.len(), "changes": changes })))
}

/// `GET /api/v1/tags`: every tag with its count.
pub fn tags(library: &Library, data: &UserDataHandle, sight: &Sight) -> Response<Body> {
    let catalog = library.catalog();
    let list: Vec<Value> = crate::catalog::query::tag_counts(&catalog, &data.data, sight.visible(&catalog).as_deref())
        .into_iter()
        .map(|(tag, count)| json!({ "tag": tag, "count": count }))
        .collect();
    json(StatusCode::OK, &json!({ "tags": list }))
}
