//! Writes of user data (ratings, views, favorites) through the group-commit
//! writer, and the original server's routes keyed by file name. Every write
//! answers 2xx only once it is on disk.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, CONTENT_LENGTH};
use hyper::{Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{is_form, json, ApiError};
use crate::http::body::Body;
use crate::library::ids::VideoId;
use crate::store::cache::{Catalog, Video};
use crate::store::records::{Edit, UserData};
use crate::store::writer::WriteError;
use crate::App;

/// Largest request body accepted by the write routes.
pub const MAX_BODY: usize = 64 * 1024;

/// Reads a JSON or form body of at most `MAX_BODY` bytes.
async fn read_body<T: DeserializeOwned>(headers: &HeaderMap, body: Incoming) -> Result<T, ApiError> {
    let declared = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(ApiError::TooLarge(MAX_BODY));
    }
    let bytes: Bytes = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(ApiError::TooLarge(MAX_BODY)),
        Err(_) => return Err(ApiError::BadRequest("the request body could not be read".into())),
    };
    let parsed = if is_form(headers) {
        serde_urlencoded::from_bytes(&bytes).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| ApiError::BadRequest(format!("bad request body: {e}")))
}

fn write_error(e: WriteError) -> ApiError {
    match e {
        WriteError::Closed => ApiError::Unavailable("the server is shutting down; try again".into()),
        WriteError::Store(_) => ApiError::Internal(anyhow::Error::new(e)),
    }
}

/// A number given as JSON number or as text (forms only have text).
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
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

fn valid_rating(n: Option<&Number>) -> Result<u8, ApiError> {
    match n.and_then(Number::get) {
        Some(r @ 1..=5) => Ok(r as u8),
        _ => Err(ApiError::BadRequest("Invalid rating: give a whole number from 1 to 5".into())),
    }
}

fn existing(catalog: &Catalog, id: VideoId) -> Result<(), ApiError> {
    catalog.get(id).map(|_| ()).ok_or_else(ApiError::not_found)
}

pub fn user_json(id: VideoId, d: &UserData) -> Value {
    json!({ "id": id.to_string(), "rating": d.rating, "views": d.views, "favorite": d.favorite, "last_viewed": d.last_viewed })
}

#[derive(Deserialize)]
struct RatingBody {
    rating: Option<Number>,
}

pub async fn rating(
    app: &App,
    id: VideoId,
    clear: bool,
    headers: &HeaderMap,
    body: Incoming,
) -> Result<Response<Body>, ApiError> {
    existing(&app.cache.load(), id)?;
    let edit = if clear {
        Edit::Rate(None)
    } else {
        let b: RatingBody = read_body(headers, body).await?;
        Edit::Rate(Some(valid_rating(b.rating.as_ref())?))
    };
    let data = app.writer.write(id, edit).await.map_err(write_error)?;
    Ok(json(StatusCode::OK, &user_json(id, &data)))
}

pub async fn favorite(app: &App, id: VideoId, on: bool) -> Result<Response<Body>, ApiError> {
    existing(&app.cache.load(), id)?;
    let data = app.writer.write(id, Edit::Favorite(on)).await.map_err(write_error)?;
    Ok(json(StatusCode::OK, &user_json(id, &data)))
}

pub async fn view(app: &App, id: VideoId) -> Result<Response<Body>, ApiError> {
    existing(&app.cache.load(), id)?;
    let data = app.writer.write(id, Edit::View(unix_now())).await.map_err(write_error)?;
    Ok(json(StatusCode::OK, &user_json(id, &data)))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The original's `{"filename": ...}` bodies.
#[derive(Deserialize)]
struct Legacy {
    filename: Option<String>,
    rating: Option<Number>,
}

/// The video a legacy `filename` names (its path below its folder).
fn by_filename(catalog: &Catalog, body: &Legacy) -> Result<Arc<Video>, ApiError> {
    let name = body.filename.as_deref().filter(|f| !f.is_empty());
    let name = name.ok_or_else(|| ApiError::BadRequest("filename is required".into()))?;
    catalog.by_rel_path(name.as_bytes()).cloned().ok_or_else(ApiError::not_found)
}

pub async fn legacy_rate(app: &App, headers: &HeaderMap, body: Incoming) -> Result<Response<Body>, ApiError> {
    let b: Legacy = read_body(headers, body).await?;
    let video = by_filename(&app.cache.load(), &b)?;
    let r = valid_rating(b.rating.as_ref())?;
    app.writer.write(video.id, Edit::Rate(Some(r))).await.map_err(write_error)?;
    Ok(json(StatusCode::OK, &json!({ "success": true, "rating": r })))
}

pub async fn legacy_view(app: &App, headers: &HeaderMap, body: Incoming) -> Result<Response<Body>, ApiError> {
    let b: Legacy = read_body(headers, body).await?;
    let video = by_filename(&app.cache.load(), &b)?;
    let data = app.writer.write(video.id, Edit::View(unix_now())).await.map_err(write_error)?;
    Ok(json(StatusCode::OK, &json!({ "success": true, "views": data.views })))
}

pub async fn legacy_favorite(app: &App, headers: &HeaderMap, body: Incoming) -> Result<Response<Body>, ApiError> {
    let b: Legacy = read_body(headers, body).await?;
    let catalog = app.cache.load();
    let video = by_filename(&catalog, &b)?;
    app.writer.write(video.id, Edit::ToggleFavorite).await.map_err(write_error)?;
    let favorites: Vec<String> = app.users.with(|m| {
        m.iter()
            .filter(|(_, d)| d.favorite)
            .filter_map(|(id, _)| catalog.get(*id))
            .map(|v| v.primary().rel_display())
            .collect()
    });
    Ok(json(StatusCode::OK, &json!({ "success": true, "favorites": favorites })))
}

/// `{"<filename>": views}` for every listed video that has been viewed.
pub fn legacy_views(app: &App) -> Response<Body> {
    let catalog = app.cache.load();
    let views: serde_json::Map<String, Value> = app.users.with(|m| {
        m.iter()
            .filter(|(_, d)| d.views > 0)
            .filter_map(|(id, d)| Some((catalog.get(*id)?.primary().rel_display(), json!(d.views))))
            .collect()
    });
    json(StatusCode::OK, &Value::Object(views))
}
