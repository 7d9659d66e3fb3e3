//! `POST /api/v1/videos/{id}/thumbnail`: a frame captured by the browser for
//! a video without a thumbnail. Bounded: one upload per video at a time,
//! at most `route::IMAGE_BODY` bytes arriving within the body timeout, at most
//! `thumbs::MAX_UPLOAD_SIDE` pixels on a side (read before decoding), and
//! one decode at a time in the whole server.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use hyper::header::HeaderMap;
use hyper::{Response, StatusCode};
use serde_json::json;
use tokio::sync::Semaphore;

use super::user::{existing, read_bytes, Payload};
use super::{json, ApiError};
use crate::app::Library;
use crate::http::body::Body;
use crate::library::ids::VideoId;
use crate::media::thumbs::Thumbs;

/// Uploads received at once (each may hold `route::IMAGE_BODY` bytes).
const RECEIVING_AT_ONCE: usize = 8;

/// Image uploads in progress: one per video, a few received at once, one
/// decoded at a time (a decode may take up to 128 MiB). The claim and the
/// decoding turn move into the decoding task, so a client that leaves
/// mid-way frees them only when the decode is over.
pub struct Uploads {
    receiving: Mutex<HashSet<VideoId>>,
    slots: Arc<Semaphore>,
    decoding: Arc<Semaphore>,
}

impl Default for Uploads {
    fn default() -> Uploads {
        Uploads {
            receiving: Mutex::default(),
            slots: Arc::new(Semaphore::new(RECEIVING_AT_ONCE)),
            decoding: Arc::new(Semaphore::new(1)),
        }
    }
}

impl Uploads {
    /// The right to receive an image for `id`: `None` while another is.
    fn claim(self: &Arc<Self>, id: VideoId) -> Option<Claim> {
        let fresh = self.receiving.lock().ok()?.insert(id);
        // (The guard is gone: dropping a refused claim must not lock twice.)
        fresh.then(|| Claim(self.clone(), id))
    }
}

struct Claim(Arc<Uploads>, VideoId);

impl Drop for Claim {
    fn drop(&mut self) {
        if let Ok(mut set) = self.0.receiving.lock() {
            set.remove(&self.1);
        }
    }
}

/// `POST /api/v1/videos/{id}/thumbnail`: a frame captured by the browser,
/// for videos that have no thumbnail yet. Decoded with limits and
/// re-encoded; anything that is not a sane image is refused.
pub async fn upload_thumbnail(
    library: &Library,
    thumbs: &Arc<Thumbs>,
    uploads: &Arc<Uploads>,
    id: VideoId,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    existing(&library.catalog(), id)?;
    if thumbs.has(id) {
        return Ok(json(StatusCode::OK, &json!({ "success": true, "stored": false })));
    }
    let Some(claim) = uploads.claim(id) else {
        return Err(ApiError::Conflict("an image for this video is being received already".into()));
    };
    let Ok(slot) = uploads.slots.clone().try_acquire_owned() else {
        return Err(ApiError::Unavailable("too many images are being received; try again soon".into()));
    };
    let bytes = read_bytes(headers, body).await?;
    let turn = uploads.decoding.clone().acquire_owned().await.map_err(|e| ApiError::Internal(e.into()))?;
    let thumbs = thumbs.clone();
    let stored = crate::blocking::spawn(move || {
        let _held = (claim, slot, turn); // until the decode is over, whatever the client does
        thumbs.store_upload(id, &bytes)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    match stored {
        Ok(()) => Ok(json(StatusCode::CREATED, &json!({ "success": true, "stored": true }))),
        Err(crate::media::MediaError::Image(why)) => Err(ApiError::BadRequest(format!("not a usable image: {why}"))),
        Err(e) => Err(ApiError::Internal(anyhow::Error::new(e))),
    }
}
