//! `/api/v1/renderers…` (`--dlna`; 404 without it): the watch page plays
//! a video on a TV of the house and controls it from the phone; the
//! server does the UPnP control, which browsers cannot.
//!
//! Who may call: signed-in people (without accounts, the household);
//! guests may not (403). A video is sent only if the caller may watch it,
//! as a signed link bound to their account (it ends as their other links
//! do). How much one request can cost: at most three small control
//! requests to the renderer, each within the client's time limits; a list
//! request wakes at most one search of the network every 10 seconds. What
//! a hostile renderer can do: see `dlna::renderers` (its name is text,
//! escaped where shown).

use std::sync::Arc;

use hyper::header::HeaderMap;
use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use super::user::{read_body, Payload};
use super::{json, visible, ApiError};
use crate::catalog::{Sight, Viewer};
use crate::dlna::cast::{self, CastError, Command, Start};
use crate::dlna::renderers::Renderer;
use crate::dlna::{directory, Dlna};
use crate::http::body::Body;
use crate::http::listing::Lists;
use crate::library::ids::VideoId;
use crate::media::remux::{playback, Playback};
use crate::people::People;

/// What a cast request needs.
pub struct Caster<'a> {
    pub dlna: Option<&'a Arc<Dlna>>,
    pub lists: &'a Lists,
    pub people: &'a People,
    pub who: &'a Viewer,
    /// The account the signed links are bound to.
    pub by: Option<&'a str>,
    pub sight: &'a Sight,
    /// Tracks inside files, for the subtitle sent along.
    pub inside: &'a Arc<crate::media::inside::cache::Inside>,
    /// The port the server listens on (renderers fetch from it).
    pub port: u16,
}

impl Caster<'_> {
    fn dlna(&self) -> Result<&Arc<Dlna>, ApiError> {
        if *self.who == Viewer::Guest {
            return Err(ApiError::Forbidden("sign in to play on a TV".into()));
        }
        self.dlna.ok_or_else(|| {
            ApiError::NotFound("playing on TVs needs DLNA; start vidserve with --dlna (Admin > Settings)".into())
        })
    }

    fn renderer(&self, id: &str) -> Result<Arc<Renderer>, ApiError> {
        self.dlna()?.renderers.get(id).ok_or_else(|| {
            ApiError::NotFound("no such TV on the network now (it may be off, or have left the network)".into())
        })
    }
}

/// A renderer, and what it plays for us (`casting`; `None`: nothing).
fn renderer_json(r: &Renderer, casting: Option<cast::Casting>) -> Value {
    json!({ "id": r.id, "name": r.name, "casting": casting })
}

/// `GET /api/v1/renderers`: those found, and a fresh search.
pub fn list(c: &Caster) -> Result<Response<Body>, ApiError> {
    let dlna = c.dlna()?;
    dlna.renderers.wanted();
    let list: Vec<Value> = dlna.renderers.list().iter().map(|r| renderer_json(r, r.cast.now())).collect();
    Ok(json(StatusCode::OK, &json!({ "renderers": list })))
}

/// `GET /api/v1/renderers/{id}`.
pub fn one(c: &Caster, id: &str) -> Result<Response<Body>, ApiError> {
    let r = c.renderer(id)?;
    Ok(json(StatusCode::OK, &renderer_json(&r, r.cast.now())))
}

#[derive(Deserialize)]
struct CastBody {
    video: String,
    #[serde(default)]
    position_ms: u64,
}

/// `POST /api/v1/renderers/{id}/play`.
pub async fn play(c: &Caster<'_>, id: &str, headers: &HeaderMap, body: Payload) -> Result<Response<Body>, ApiError> {
    let r = c.renderer(id)?;
    let b: CastBody = read_body(headers, body).await?;
    let video: VideoId = b.video.parse().map_err(|_| ApiError::BadRequest("video must be a video's id".into()))?;
    let catalog = c.lists.library.catalog();
    let v = visible(&catalog, c.sight, video)?;
    // The stored file where the TV says it plays it, else (or when it did
    // not say) the MP4 made from it where one can be.
    let stored = directory::mime(v);
    let remuxable = matches!(playback(v), Playback::Remuxed { .. });
    let remux = remuxable && (r.sink.is_empty() || !r.takes(&stored));
    let (path, mime) =
        if remux { (format!("play/{video}.mp4"), "video/mp4") } else { (format!("video/{video}"), stored.as_ref()) };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let ttl = (v.duration_ms().unwrap_or(0) / 1000 + 3600).min(crate::people::links::MAX_TTL);
    let signed = c
        .people
        .sign_link(video, now + ttl, c.by)
        .ok_or_else(|| ApiError::Forbidden("sign in to play on a TV".into()))?;
    let position_ms = v.duration_ms().map_or(b.position_ms, |d| b.position_ms.min(d));
    // The remuxed MP4 (fragmented, no index) cannot be seeked by some
    // renderers (GStreamer's): it is sent from the time to start at, and
    // sent again from the time asked on a seek.
    let base = format!("http://{}:{}/{path}", r.via, c.port);
    let restart = remux.then(|| cast::Restart { base: base.clone(), signed: signed.clone() });
    let url = match &restart {
        Some(restart) if position_ms >= 1000 => restart.at(position_ms),
        _ => format!("{base}?{signed}"),
    };
    // Its first subtitle, by a link signed like the video's (the TV shows
    // it where it reads DIDL's SubRip resource or Samsung's caption field).
    let tracks = super::subtitles::tracks(c.inside, &catalog, v).await?;
    let caption =
        tracks.first().map(|which| format!("http://{}:{}/subtitles/{video}/{which}.srt?{signed}", r.via, c.port));
    let user = c.lists.user_data.data.get_for(c.who, video);
    let title = v.title_for(&user);
    let start = Start {
        video,
        who: c.who.clone(),
        by: c.by.map(String::from),
        metadata: directory::cast_item(v, &title, &url, mime, remux, caption.as_deref()),
        url,
        restart,
        position_ms,
        duration_ms: v.duration_ms(),
        until: tokio::time::Instant::now() + std::time::Duration::from_secs(ttl),
    };
    let history = c.lists.user_data.clone();
    let casting = cast::play(&r.screen(), start, history).await.map_err(cast_error)?;
    Ok(json(StatusCode::OK, &renderer_json(&r, Some(casting))))
}

#[derive(Deserialize)]
struct SeekBody {
    position_ms: u64,
}

/// `POST /api/v1/renderers/{id}/{pause,resume,seek,stop}`.
pub async fn control(
    c: &Caster<'_>,
    id: &str,
    command: Option<Command>,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let r = c.renderer(id)?;
    let command = match command {
        Some(command) => command,
        None => Command::Seek(read_body::<SeekBody>(headers, body).await?.position_ms),
    };
    // Stop answers the cast as it ended (with its last position).
    let casting = cast::control(&r.screen(), command, &c.lists.user_data).await.map_err(cast_error)?;
    Ok(json(StatusCode::OK, &renderer_json(&r, Some(casting))))
}

fn cast_error(e: CastError) -> ApiError {
    match e {
        CastError::NotCasting => ApiError::Conflict(e.to_string()),
        CastError::Device(_) => ApiError::Unavailable(e.to_string()),
    }
}
