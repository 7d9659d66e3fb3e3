//! Subtitles beside a video: listed in its JSON and on its watch page,
//! served as WebVTT at `/subtitles/{id}/{n}.vtt`. The folder is read and
//! the file converted on the blocking pool, each time (small files; the
//! folder may change).

use std::sync::Arc;

use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::Response;
use serde_json::{json, Value};

use super::ApiError;
use crate::catalog::Video;
use crate::http::body::Body;
use crate::library::ids::VideoId;
use crate::media::subtitles::{beside, read_vtt, Track};
use crate::App;

/// The subtitle files beside `video`'s first file (blocking pool).
pub async fn tracks(app: &App, video: &Video) -> Result<Vec<Track>, ApiError> {
    let catalog = app.library.catalog();
    let located = catalog.located(video.primary());
    let roots = catalog.root_paths();
    tokio::task::spawn_blocking(move || beside(&located, &roots)).await.map_err(|e| ApiError::Internal(e.into()))
}

/// The video JSON's `subtitles`.
pub fn listed(id: VideoId, tracks: &[Track]) -> Value {
    let list: Vec<Value> = tracks
        .iter()
        .enumerate()
        .map(|(n, t)| {
            json!({ "label": t.label(), "language": t.language, "url": format!("/subtitles/{id}/{n}.vtt"),
                    "forced": t.forced, "source": "sidecar" })
        })
        .collect();
    Value::Array(list)
}

/// `GET /subtitles/{id}/{n}.vtt`.
pub async fn vtt(app: &Arc<App>, id: VideoId, n: usize) -> Result<Response<Body>, ApiError> {
    let catalog = app.library.catalog();
    let video = catalog.get(id).ok_or_else(ApiError::not_found)?.clone();
    let located = catalog.located(video.primary());
    let roots = catalog.root_paths();
    let text = tokio::task::spawn_blocking(move || {
        let tracks = beside(&located, &roots);
        let track = tracks.get(n).ok_or_else(|| ApiError::NotFound("no such subtitle file".into()))?;
        read_vtt(track, &roots).map_err(|e| ApiError::NotFound(format!("the subtitle file cannot be read: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))??;
    let mut res = Response::new(Body::full(text));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/vtt; charset=utf-8"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(res)
}
