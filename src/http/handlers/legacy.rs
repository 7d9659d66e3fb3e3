//! The original server's routes, keyed by file name (`/rate`, `/view`,
//! `/favorite`, `/get_views`, `/tag`, `/delete_tag`), with JSON or form
//! bodies; each answers as the original did.

use super::user::Payload;
use std::sync::Arc;

use hyper::header::{HeaderMap, ACCEPT};
use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::user::{read_body_or_form, unix_now, valid_rating, valid_tag, write_error, Number};
use super::{is_form, json, ApiError};
use crate::app::{Library, UserDataHandle};
use crate::catalog::user::Edit;
use crate::catalog::{Catalog, Sight, Video, Viewer};
use crate::http::body::Body;

/// The original's `{"filename": ...}` bodies.
#[derive(Deserialize)]
struct Legacy {
    filename: Option<String>,
    rating: Option<Number>,
    tag: Option<String>,
}

pub async fn legacy_tag(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    sight: &Sight,
    headers: &HeaderMap,
    body: Payload,
    add: bool,
) -> Result<Response<Body>, ApiError> {
    let (b, video) = named(library, sight, headers, body).await?;
    let tag = valid_tag(b.tag.as_deref())?;
    let edit = if add { Edit::AddTag(tag) } else { Edit::RemoveTag(tag) };
    let data = data.write(who, video.id, edit).await.map_err(write_error)?;
    let from_page =
        is_form(headers) && headers.get(ACCEPT).is_some_and(|v| v.to_str().is_ok_and(|a| a.contains("text/html")));
    if from_page {
        // The watch page's form without JavaScript: back to the page.
        return Ok(super::redirect(StatusCode::SEE_OTHER, &format!("/watch/{}", video.id)));
    }
    Ok(json(StatusCode::OK, &json!({ "success": true, "tags": data.tags })))
}

/// The video a legacy `filename` names (its path below its folder), if
/// the person may see it.
fn by_filename(catalog: &Catalog, sight: &Sight, body: &Legacy) -> Result<Arc<Video>, ApiError> {
    let name = body.filename.as_deref().filter(|f| !f.is_empty());
    let name = name.ok_or_else(|| ApiError::BadRequest("filename is required".into()))?;
    catalog.by_rel_path(name.as_bytes()).filter(|v| sight.sees(catalog, v)).cloned().ok_or_else(ApiError::not_found)
}

/// The body of an original route (JSON or form) and the video it names.
async fn named(
    library: &Library,
    sight: &Sight,
    headers: &HeaderMap,
    body: Payload,
) -> Result<(Legacy, Arc<Video>), ApiError> {
    let b: Legacy = read_body_or_form(headers, body).await?;
    let video = by_filename(&library.catalog(), sight, &b)?;
    Ok((b, video))
}

pub async fn legacy_rate(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    sight: &Sight,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let (b, video) = named(library, sight, headers, body).await?;
    let r = valid_rating(b.rating.as_ref())?;
    data.write(who, video.id, Edit::Rate(Some(r))).await.map_err(write_error)?;
    Ok(json(StatusCode::OK, &json!({ "success": true, "rating": r })))
}

pub async fn legacy_view(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    sight: &Sight,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let (_, video) = named(library, sight, headers, body).await?;
    let data = data.write(who, video.id, Edit::View(unix_now())).await.map_err(write_error)?;
    Ok(json(StatusCode::OK, &json!({ "success": true, "views": data.views })))
}

pub async fn legacy_favorite(
    library: &Library,
    data: &UserDataHandle,
    who: &Viewer,
    sight: &Sight,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let (_, video) = named(library, sight, headers, body).await?;
    let catalog = library.catalog();
    let within = sight.visible(&catalog);
    data.write(who, video.id, Edit::ToggleFavorite).await.map_err(write_error)?;
    let mut favorites: Vec<String> = data.data.view(who, |view| {
        let mut out = Vec::new();
        view.for_each(|id, d| {
            if let Some(v) = catalog.get(id).filter(|_| d.favorite) {
                out.extend(crate::catalog::sight::paths(v, within.as_deref()));
            }
        });
        out
    });
    favorites.sort();
    Ok(json(StatusCode::OK, &json!({ "success": true, "favorites": favorites })))
}

/// `{"<filename>": views}` for every listed video that has been viewed,
/// under each of its paths (the original's clients know files by name; two
/// files with the same content share one count).
pub fn legacy_views(library: &Library, data: &UserDataHandle, sight: &Sight) -> Response<Body> {
    let catalog = library.catalog();
    let within = sight.visible(&catalog);
    let views: serde_json::Map<String, Value> = data.data.with(|m| {
        m.iter()
            .filter(|(_, d)| d.views > 0)
            .filter_map(|(id, d)| Some((catalog.get(*id).filter(|v| v.broken.is_none())?, d.views)))
            .flat_map(|(v, n)| {
                crate::catalog::sight::paths(v, within.as_deref()).into_iter().map(move |p| (p, json!(n)))
            })
            .collect()
    });
    json(StatusCode::OK, &Value::Object(views))
}
