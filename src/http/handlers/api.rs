//! JSON routes: health, the original's admin cache routes, and the first
//! read-only part of `/api/v1`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::{json, ApiError};
use crate::http::body::Body;
use crate::http::listing::ListQuery;
use crate::library::ids::VideoId;
use crate::store::cache::Video;
use crate::store::query;
use crate::store::records::UserData;
use crate::App;

/// Longest wait for a requested rescan before answering.
const REFRESH_WAIT: Duration = Duration::from_secs(120);
const MAX_PER_PAGE: usize = 500;

/// Time between keep-alive comments on an event stream.
const HEARTBEAT: Duration = Duration::from_secs(20);

/// `GET /api/v1/events`: server-sent events until the client leaves or the
/// server shuts down. A task forwards broadcast events into the body.
pub fn events(app: &App) -> Response<Body> {
    let mut events = app.events.subscribe();
    let mut closing = app.closing();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        // `retry`: how soon browsers reconnect after a drop.
        if tx.send(Bytes::from_static(b"retry: 3000\n: connected\n\n")).await.is_err() {
            return;
        }
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.tick().await;
        loop {
            let frame = tokio::select! {
                e = events.recv() => match e {
                    Ok(e) => e.to_sse(),
                    Err(RecvError::Lagged(_)) => "event: resync\ndata: {}\n\n".to_string(),
                    Err(RecvError::Closed) => return,
                },
                _ = beat.tick() => ": ping\n\n".to_string(),
                _ = closing.wait_for(|c| *c) => return,
            };
            if tx.send(Bytes::from(frame)).await.is_err() {
                return; // the client left
            }
        }
    });
    let mut res = Response::new(Body::Stream(rx));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

pub fn healthz() -> Response<Body> {
    json(StatusCode::OK, &json!({ "status": "ok" }))
}

pub fn readyz(app: &App) -> Result<Response<Body>, ApiError> {
    if app.is_ready() {
        Ok(json(StatusCode::OK, &json!({ "status": "ready", "videos": app.cache.load().len() })))
    } else {
        Err(ApiError::Unavailable("the first scan of the library is still running".into()))
    }
}

pub fn ping(app: &App) -> Response<Body> {
    let c = app.cache.load();
    json(StatusCode::OK, &json!({ "status": "ok", "video_count": c.len(), "version": env!("CARGO_PKG_VERSION") }))
}

pub fn cache_status(app: &App) -> Response<Body> {
    let c = app.cache.load();
    let s = &c.stats;
    json(
        StatusCode::OK,
        &json!({
            "backend": "redb",
            "video_count": c.len(),
            "broken_count": c.broken.len(),
            "duplicate_paths": c.duplicates,
            "favorites_count": 0,
            "cache_ttl": app.config.rescan_every.as_secs(),
            "cache_hits": app.cache.hits.load(Ordering::Relaxed),
            "cache_rebuilds": app.cache.rebuilds.load(Ordering::Relaxed),
            "ready": app.is_ready(),
            "last_scan": {
                "finished_at": s.finished_at,
                "files_seen": s.files_seen,
                "hashed": s.hashed,
                "probed": s.probed,
                "unreadable": s.unreadable.len(),
                "duration_ms": s.duration.as_millis() as u64,
            },
            "roots": c.roots.iter().map(|r| json!({
                "path": r.path.display().to_string(),
                "online": r.state == crate::store::cache::RootState::Online,
                "files": r.files,
            })).collect::<Vec<_>>(),
        }),
    )
}

pub async fn cache_refresh(app: &App, from_form: bool) -> Result<Response<Body>, ApiError> {
    let scanned = app.rescan_and_wait(REFRESH_WAIT).await;
    if from_form {
        return Ok(super::redirect(StatusCode::SEE_OTHER, "/admin"));
    }
    if !scanned {
        return Err(ApiError::Unavailable("the rescan did not finish in time; it goes on in the background".into()));
    }
    let n = app.cache.load().len();
    Ok(json(
        StatusCode::OK,
        &json!({ "success": true, "message": format!("Library rescanned: {n} videos"), "video_count": n }),
    ))
}

pub fn videos(app: &App, q: ListQuery) -> Result<Response<Body>, ApiError> {
    let c = app.cache.load();
    let per_page = q.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let listing = q.list(app, &c, per_page)?;
    let list: Vec<_> = listing.videos.iter().map(|v| video_json(v, &app.users.get(v.id))).collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "total": listing.total, "page": listing.page, "pages": listing.pages, "per_page": per_page, "videos": list }),
    ))
}

/// `GET /api/v1/random`: one random video among those the filters let through.
pub fn random(app: &App, q: ListQuery) -> Result<Response<Body>, ApiError> {
    let c = app.cache.load();
    let v = query::random(&c, &app.users, &q.filter()?)
        .ok_or_else(|| ApiError::NotFound("no video matches; nothing to pick from".into()))?;
    Ok(json(StatusCode::OK, &video_json(&v, &app.users.get(v.id))))
}

pub fn video(app: &App, id: VideoId) -> Result<Response<Body>, ApiError> {
    let c = app.cache.load();
    let v = c.get(id).ok_or_else(ApiError::not_found)?;
    Ok(json(StatusCode::OK, &video_json(v, &app.users.get(id))))
}

fn video_json(v: &Video, user: &UserData) -> serde_json::Value {
    let i = v.info.as_deref().cloned().unwrap_or_default();
    json!({
        "id": v.id.to_string(),
        "title": v.title_for(user),
        "file_title": v.title,
        "position_ms": user.position_ms,
        "paths": v.files.iter().map(|f| f.rel_display()).collect::<Vec<_>>(),
        "size": v.size,
        "added": v.added,
        "duration_ms": i.duration_ms,
        "width": i.width,
        "height": i.height,
        "container": v.info.as_ref().map(|i| i.container.clone()),
        "video_codec": i.video_codec,
        "audio_codec": i.audio_codec,
        "bitrate": i.bitrate,
        "browser_playable": i.browser_playable,
        "index_at_end": i.index_at_end,
        "broken": v.broken,
        "rating": user.rating,
        "views": user.views,
        "favorite": user.favorite,
        "tags": user.tags,
        "stream_url": format!("/video/{}", v.id),
        "watch_url": format!("/watch/{}", v.id),
    })
}

/// `GET /admin/performance`: the numbers behind the dashboard.
pub fn performance(app: &App) -> Response<Body> {
    let c = app.cache.load();
    let last = app.last_load_test.lock().ok().and_then(|l| l.clone());
    json(
        StatusCode::OK,
        &json!({
            "uptime_seconds": app.started.elapsed().as_secs(),
            "videos": c.len(),
            "bytes_streamed": app.metrics.bytes_streamed.get(),
            "active_streams": app.metrics.active_streams.get(),
            "cache_reads": app.cache.hits.load(Ordering::Relaxed),
            "thumbnail_jobs_waiting": app.jobs.waiting(),
            "load_test_running": app.load_test_running.load(Ordering::Relaxed),
            "last_load_test": last,
        }),
    )
}

#[derive(Deserialize)]
struct LoadTestBody {
    action: String,
    #[serde(default)]
    scenario: crate::loadtest::Scenario,
    connections: Option<usize>,
    duration: Option<u64>,
}

/// Most connections and seconds a load test started from the web may use.
const WEB_MAX_CONNECTIONS: usize = 50;
const WEB_MAX_SECONDS: u64 = 10;

/// `POST /admin/performance {"action": "load_test"}`: runs the built-in
/// load test against this server over loopback (bounded; one at a time).
pub async fn run_load_test(app: &App, headers: &HeaderMap, body: Incoming) -> Result<Response<Body>, ApiError> {
    let b: LoadTestBody = super::user::read_body(headers, body).await?;
    if b.action != "load_test" {
        return Err(ApiError::BadRequest(format!("unknown action {:?}; the one action is \"load_test\"", b.action)));
    }
    let listen = *app.listen.get().ok_or_else(|| ApiError::Unavailable("the server is not listening yet".into()))?;
    let target = match listen.ip() {
        ip if ip.is_loopback() => listen,
        ip if ip.is_unspecified() => std::net::SocketAddr::new(
            if ip.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() },
            listen.port(),
        ),
        _ => {
            return Err(ApiError::BadRequest(
                "this server listens on no loopback address; run `vidserve loadtest` on the machine instead".into(),
            ))
        }
    };
    if app.load_test_running.swap(true, Ordering::AcqRel) {
        return Err(ApiError::Unavailable("a load test is already running; try again when it ends".into()));
    }
    let connections = b.connections.unwrap_or(10).clamp(1, WEB_MAX_CONNECTIONS);
    let duration = Duration::from_secs(b.duration.unwrap_or(3).clamp(1, WEB_MAX_SECONDS));
    let result = crate::loadtest::run(target, b.scenario, connections, duration, Default::default()).await;
    app.load_test_running.store(false, Ordering::Release);
    let report = result.map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if let Ok(mut last) = app.last_load_test.lock() {
        *last = Some(report.clone());
    }
    Ok(json(StatusCode::OK, &json!({ "success": true, "report": report })))
}
