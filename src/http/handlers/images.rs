//! Stored images: thumbnails, preview strips and their WebVTT cues.

use hyper::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Response, StatusCode};

use super::ApiError;
use crate::app::Library;
use crate::http::body::Body;
use crate::http::conditional::{self, Validators};
use crate::library::ids::VideoId;
use crate::media::thumbs::Thumbs;

/// `GET /thumb/{id}/{width}`: a stored thumbnail.
pub async fn thumb(thumbs: &Thumbs, id: VideoId, width: u32, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    if !thumbs.has(id) {
        return Err(ApiError::NotFound("no thumbnail for this video yet".into()));
    }
    image_file(thumbs.path(id, width), headers).await
}

/// `GET /poster/{id}.jpg`: the video's 2:3 poster, cut from its thumbnail
/// where the subject is (made the first time when the thumbnail is older).
pub async fn poster(
    thumbs: &std::sync::Arc<Thumbs>,
    id: VideoId,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let missing = || ApiError::NotFound("no picture for this video yet".into());
    if !thumbs.has(id) {
        return Err(missing());
    }
    let t = thumbs.clone();
    let made = crate::blocking::spawn(move || t.poster_path(id)).await.map_err(|e| ApiError::Internal(e.into()))?;
    match made {
        Ok(Some(path)) => image_file(path, headers).await,
        Ok(None) => Err(missing()),
        Err(e) => Err(ApiError::Internal(e.into())),
    }
}

/// `GET /sprite/{id}.jpg`: the preview strip (10 x 2 frames).
pub async fn sprite(thumbs: &Thumbs, id: VideoId, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let tile = thumbs.sprite(id).ok_or_else(|| ApiError::NotFound("no preview strip for this video".into()))?;
    image_file(thumbs.sprite_path(id, tile), headers).await
}

/// `GET /sprite/{id}.vtt`: WebVTT cues pointing into the strip, for players
/// that show seek previews.
pub fn sprite_vtt(
    thumbs: &Thumbs,
    library: &Library,
    sight: &crate::catalog::Sight,
    id: VideoId,
) -> Result<Response<Body>, ApiError> {
    let missing = || ApiError::NotFound("no preview strip for this video".into());
    let (w, h) = thumbs.sprite(id).ok_or_else(missing)?;
    let catalog = library.catalog();
    let ms = super::visible(&catalog, sight, id)?.duration_ms().ok_or_else(missing)?;
    let frames = crate::media::ffmpeg::SPRITE_FRAMES as u64;
    let stamp = |t: u64| format!("{:02}:{:02}:{:02}.{:03}", t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000);
    let mut vtt = String::from("WEBVTT\n\n");
    for i in 0..frames {
        let (start, end) = (ms * i / frames, ms * (i + 1) / frames);
        let (x, y) = ((i % 10) as u32 * w, (i / 10) as u32 * h);
        vtt.push_str(&format!("{} --> {}\n/sprite/{id}.jpg#xywh={x},{y},{w},{h}\n\n", stamp(start), stamp(end)));
    }
    let mut res = Response::new(Body::full(vtt));
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/vtt; charset=utf-8"));
    Ok(res)
}

/// Serves a stored JPEG (a day of caching; the `ETag` lets a browser
/// revalidate cheaply).
pub(super) async fn image_file(path: std::path::PathBuf, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let read = crate::blocking::spawn(move || -> std::io::Result<(Vec<u8>, i64, u64)> {
        let bytes = std::fs::read(&path)?;
        let meta = std::fs::metadata(&path)?;
        Ok((bytes, crate::library::mtime_ns(&meta), xxhash_rust::xxh3::xxh3_64(path.as_os_str().as_encoded_bytes())))
    });
    let (bytes, mtime, name) =
        read.await.map_err(|e| ApiError::Internal(e.into()))?.map_err(|_| ApiError::not_found())?;
    let etag = format!("\"i{name:x}-{mtime:x}\"");
    let fresh = conditional::unchanged(headers, &etag);
    let mut res = Response::new(if fresh { Body::Empty } else { Body::full(bytes) });
    if fresh {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    conditional::add_validators(h, &Validators { etag: &etag, modified: None });
    Ok(res)
}
