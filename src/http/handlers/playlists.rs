//! Playlists in the API: each person's own (`app::playlists`). Who: any
//! signed-in person, for their own (a guest is refused changes and has
//! none). How much: at most `MAX_PLAYLISTS` of `MAX_ITEMS` videos each, a
//! body of at most 64 KiB; every change is one small redb commit, made on
//! the blocking pool.

use super::user::Payload;

use hyper::header::HeaderMap;
use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::user::read_body;
use super::{json, ApiError};
use crate::app::playlists::PlaylistError;
use crate::app::playlists::Playlists;
use crate::catalog::{Catalog, Sight, Viewer};
use crate::http::body::Body;
use crate::http::listing::Lists;
use crate::library::ids::VideoId;
use crate::store::playlists::PlaylistRecord;

fn error(e: PlaylistError) -> ApiError {
    match e {
        PlaylistError::NotFound => ApiError::NotFound("no such playlist".into()),
        PlaylistError::Guest => ApiError::Unauthorized(e.to_string()),
        PlaylistError::Invalid(why) => ApiError::BadRequest(why),
        PlaylistError::Taken(_) => ApiError::Conflict(e.to_string()),
        PlaylistError::Store(e) => crate::http::error::store_error(&e),
    }
}

/// A playlist as JSON; `videos` (those still in the library that the
/// person may see, in order) when `full`. A video they may not see stays
/// in the list, unshown and uncounted.
fn listed(lists: &Lists, who: &Viewer, sight: &Sight, n: u64, rec: &PlaylistRecord, full: bool) -> Value {
    let catalog = lists.library.catalog();
    let within = sight.visible(&catalog);
    let sees = sight.seer(&catalog);
    let present: Vec<_> = rec.items.iter().filter_map(|id| catalog.get(*id).filter(|v| sees(v))).collect();
    let mut out = json!({
        "id": n,
        "name": rec.name,
        "count": present.len(),
        "created": rec.created,
        "updated": rec.updated,
        "url": format!("/playlists/{n}"),
        "play_url": present.first().map(|v| format!("/watch/{}?playlist={n}", v.id)),
        "m3u_url": format!("/playlist.m3u?playlist={n}"),
    });
    if full {
        let videos: Vec<Value> = present
            .iter()
            .map(|v| super::api::video_json(v, &lists.user_data.data.get_for(who, v.id), within.as_deref()))
            .collect();
        out["videos"] = Value::Array(videos);
    }
    out
}

/// `GET /api/v1/playlists`.
pub fn list(lists: &Lists, who: &Viewer, sight: &Sight) -> Response<Body> {
    let all: Vec<Value> =
        lists.playlists.list(who).iter().map(|(n, rec)| listed(lists, who, sight, *n, rec, false)).collect();
    json(StatusCode::OK, &json!({ "playlists": all }))
}

/// `GET /api/v1/playlists/{n}`.
pub fn one(lists: &Lists, who: &Viewer, sight: &Sight, n: u64) -> Result<Response<Body>, ApiError> {
    let rec = lists.playlists.get(who, n).ok_or_else(|| error(PlaylistError::NotFound))?;
    Ok(json(StatusCode::OK, &listed(lists, who, sight, n, &rec, true)))
}

/// Video ids as sent, each of a video in the library the person may see.
fn ids(catalog: &Catalog, sight: &Sight, raw: &[String]) -> Result<Vec<VideoId>, ApiError> {
    if raw.len() > crate::app::playlists::MAX_ITEMS {
        return Err(error(PlaylistError::Invalid(format!(
            "at most {} videos in a playlist",
            crate::app::playlists::MAX_ITEMS
        ))));
    }
    let sees = sight.seer(catalog);
    raw.iter()
        .map(|s| {
            let id: VideoId = s.parse().map_err(|_| ApiError::BadRequest(format!("not a video id: {s:?}")))?;
            catalog
                .get(id)
                .filter(|v| sees(v))
                .map(|_| id)
                .ok_or_else(|| ApiError::BadRequest(format!("no video {s} in the library")))
        })
        .collect()
}

#[derive(Deserialize)]
struct Change {
    name: Option<String>,
    /// The videos, in order (replacing the list).
    ids: Option<Vec<String>>,
}

/// Runs a playlist change on the blocking pool; the playlist after it.
async fn changed(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    status: StatusCode,
    work: impl FnOnce(&Playlists) -> Result<(u64, PlaylistRecord), PlaylistError> + Send + 'static,
) -> Result<Response<Body>, ApiError> {
    let run = lists.playlists.clone();
    let (n, rec) =
        crate::blocking::spawn(move || work(&run)).await.map_err(|e| ApiError::Internal(e.into()))?.map_err(error)?;
    Ok(json(status, &listed(lists, who, sight, n, &rec, true)))
}

/// `POST /api/v1/playlists`: `{"name", "ids"?}`.
pub async fn create(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    h: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    crate::app::playlists::owner_of(who).map_err(error)?;
    let c: Change = read_body(h, body).await?;
    let items = ids(&lists.library.catalog(), sight, c.ids.as_deref().unwrap_or_default())?;
    let (who2, name) = (who.clone(), c.name.unwrap_or_default());
    changed(lists, who, sight, StatusCode::CREATED, move |playlists| playlists.create(&who2, &name, items)).await
}

/// `PATCH /api/v1/playlists/{n}`: a new name, a new order (or both).
pub async fn edit(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    n: u64,
    h: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    crate::app::playlists::owner_of(who).map_err(error)?;
    let c: Change = read_body(h, body).await?;
    let catalog = lists.library.catalog();
    let items = c.ids.as_deref().map(|raw| ids(&catalog, sight, raw)).transpose()?;
    let (sees, everything) = (sight.seer(&catalog), sight.is_all());
    change(lists, who, sight, n, move |rec| {
        if let Some(name) = c.name {
            rec.name = name;
        }
        if let Some(mut items) = items {
            // Videos the person may not see stay, after those they ordered.
            let hidden = |id: &VideoId| !everything && !catalog.get(*id).is_some_and(|v| sees(v));
            items.extend(rec.items.iter().copied().filter(hidden));
            rec.items = items;
        }
    })
    .await
}

#[derive(Deserialize)]
struct Add {
    id: Option<String>,
    #[serde(default)]
    ids: Vec<String>,
}

/// `POST /api/v1/playlists/{n}/videos`: `{"id"}` or `{"ids"}`, added at
/// the end (those already in it stay where they are).
pub async fn add(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    n: u64,
    h: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    crate::app::playlists::owner_of(who).map_err(error)?;
    let a: Add = read_body(h, body).await?;
    let raw: Vec<String> = a.id.into_iter().chain(a.ids).collect();
    if raw.is_empty() {
        return Err(ApiError::BadRequest("name a video: {\"id\": \"…\"} or {\"ids\": [\"…\"]}".into()));
    }
    let new = ids(&lists.library.catalog(), sight, &raw)?;
    change(lists, who, sight, n, move |rec| {
        for id in new {
            if !rec.items.contains(&id) {
                rec.items.push(id);
            }
        }
    })
    .await
}

/// `DELETE /api/v1/playlists/{n}/videos/{id}`.
pub async fn remove_video(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    n: u64,
    id: VideoId,
) -> Result<Response<Body>, ApiError> {
    change(lists, who, sight, n, move |rec| rec.items.retain(|v| *v != id)).await
}

/// Changes `who`'s playlist `n` with `edit` (on the blocking pool).
async fn change(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    n: u64,
    edit: impl FnOnce(&mut PlaylistRecord) + Send + 'static,
) -> Result<Response<Body>, ApiError> {
    let person = who.clone();
    changed(lists, who, sight, StatusCode::OK, move |playlists| {
        let rec = playlists.change(&person, n, |rec| {
            edit(rec);
            Ok(())
        })?;
        Ok((n, rec))
    })
    .await
}

/// `DELETE /api/v1/playlists/{n}`.
pub async fn remove(lists: &Lists, who: &Viewer, n: u64) -> Result<Response<Body>, ApiError> {
    let (run, who) = (lists.playlists.clone(), who.clone());
    crate::blocking::spawn(move || run.remove(&who, n))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(error)?;
    Ok(json(StatusCode::OK, &json!({ "success": true })))
}
