//! Health, readiness and the admin routes: `/healthz`, `/readyz`, `/ping`,
//! `/metrics`, the admin page, the original's cache routes, and
//! regenerating thumbnails.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde_json::json;

use super::{html, json, ApiError};
use crate::app::Library;
use crate::http::body::Body;
use crate::http::pages::admin::{admin as admin_page, AdminView, JobsView, TlsView};
use crate::http::pages::layout::Visitor;
use crate::App;

/// Longest wait for a requested rescan before answering.
const REFRESH_WAIT: Duration = Duration::from_secs(120);

pub fn healthz() -> Response<Body> {
    json(StatusCode::OK, &json!({ "status": "ok" }))
}

/// `GET /ca.crt`: the certificate of this server's own authority
/// (`--tls auto`), for devices to install; 404 without one.
pub fn authority(app: &App) -> Result<Response<Body>, ApiError> {
    let authority = app.tls().and_then(|t| t.authority()).ok_or_else(ApiError::not_found)?;
    let mut res = Response::new(Body::full(authority.pem().to_string()));
    let h = res.headers_mut();
    h.insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("application/x-x509-ca-cert"));
    h.insert("content-disposition", HeaderValue::from_static("attachment; filename=\"vidserve.crt\""));
    h.insert(hyper::header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(res)
}

pub fn readyz(app: &App) -> Result<Response<Body>, ApiError> {
    let library = app.library();
    if !app.store_reachable() {
        Err(ApiError::Unavailable("the database is unreachable".into()))
    } else if library.is_ready() && app.people().enabled() {
        // Anyone may ask: with accounts, how many videos there are is not
        // for everyone (some see only their libraries).
        Ok(json(StatusCode::OK, &json!({ "status": "ready" })))
    } else if library.is_ready() {
        Ok(json(StatusCode::OK, &json!({ "status": "ready", "videos": library.catalog().len() })))
    } else {
        Err(ApiError::Unavailable("the first scan of the library is still running".into()))
    }
}

/// `GET /ping`: the videos the asking person may see, counted.
pub fn ping(library: &Library, sight: &crate::catalog::Sight) -> Response<Body> {
    let c = library.catalog();
    let count = sight.visible(&c).map_or(c.len(), |v| v.count());
    json(StatusCode::OK, &json!({ "status": "ok", "video_count": count, "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /metrics`: Prometheus text.
pub fn metrics(app: &App) -> Response<Body> {
    let mut res = Response::new(Body::full(crate::metrics::render(&app.ops().metrics, &app.metrics_snapshot())));
    let ctype = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    res
}

pub async fn cache_status(app: &Arc<App>, event_streams: usize) -> Result<Response<Body>, ApiError> {
    let app2 = app.clone();
    let damaged =
        crate::blocking::spawn(move || app2.damaged_user_records()).await.map_err(|e| ApiError::Internal(e.into()))?;
    let c = app.library().catalog();
    let favorites = app
        .user_data()
        .data
        .with(|m| m.iter().filter(|(id, d)| d.favorite && c.get(**id).is_some_and(|v| v.pos != u32::MAX)).count());
    let (cache_hits, cache_misses) = app.user_data().cache_counts();
    let s = &c.stats;
    Ok(json(
        StatusCode::OK,
        &json!({
            "backend": "redb",
            "video_count": c.len(),
            "broken_count": c.broken.len(),
            "duplicate_paths": c.duplicates,
            "favorites_count": favorites,
            "damaged_user_records": damaged,
            "cache_ttl": app.config().rescan_every.as_secs(),
            "cache_hits": cache_hits,
            "cache_misses": cache_misses,
            "cache_rebuilds": app.library().cache.rebuilds.load(Ordering::Relaxed),
            "ready": app.library().is_ready(),
            "event_streams": event_streams,
            "transcoding": app.transcodes().status(),
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
                "online": r.state == crate::catalog::RootState::Online,
                "offline_reason": match &r.state {
                    crate::catalog::RootState::Offline(why) => Some(why.as_str()),
                    crate::catalog::RootState::Online => None,
                },
                "files": r.files,
            })).collect::<Vec<_>>(),
        }),
    ))
}

pub async fn cache_refresh(library: &Library, from_form: bool) -> Result<Response<Body>, ApiError> {
    let scanned = library.rescan_and_wait(REFRESH_WAIT).await;
    if from_form {
        return Ok(super::redirect(StatusCode::SEE_OTHER, "/admin"));
    }
    if !scanned {
        return Err(ApiError::Unavailable("the rescan did not finish in time; it goes on in the background".into()));
    }
    let n = library.catalog().len();
    Ok(json(
        StatusCode::OK,
        &json!({ "success": true, "message": format!("Library rescanned: {n} videos"), "video_count": n }),
    ))
}

pub fn admin(app: &App, visitor: &Visitor) -> Result<Response<Body>, ApiError> {
    let catalog = app.library().catalog();
    let view = AdminView {
        catalog: &catalog,
        perf: serde_json::to_string(&app.events().recent_perf()).unwrap_or_else(|_| "[]".into()),
        cache_hits: app.user_data().cache_counts().0,
        cache_rebuilds: app.library().cache.rebuilds.load(Ordering::Relaxed),
        data_dir: app.config().library.data_dir.display().to_string(),
        rescan_every_s: app.config().rescan_every.as_secs(),
        jobs: {
            let p = &app.jobs().progress;
            JobsView {
                ffmpeg: app.jobs().ffmpeg.as_ref().map(|p| p.display().to_string()),
                with_thumbnail: app.jobs().thumbs.count(),
                waiting: app.jobs().waiting(),
                done: p.done.load(Ordering::Relaxed),
                failed: p.failed.load(Ordering::Relaxed),
                not_retried: app.jobs().failures_remembered(),
                current: p.current.lock().map(|c| c.clone()).unwrap_or_default(),
                failures: p.failures.lock().map(|f| f.clone()).unwrap_or_default(),
            }
        },
        visitor: visitor.clone(),
        accounts: super::accounts::rows(app.people()),
        libraries: app.people().libraries(),
        guest: app.config().guest.then(|| app.people().libraries_of("guest")),
        chat: app.chat().map(|c| (c.config().endpoint.url(), c.config().model.clone())),
        network_urls: app.ops().network_urls(app.tls().is_some()),
        tls: tls_view(app),
        transcoding: app.transcodes().status(),
        polled: app
            .library()
            .watching()
            .into_iter()
            .map(|w| match w {
                crate::app::Watching::Notified => None,
                crate::app::Watching::Polled(why) => Some(why),
            })
            .collect(),
    };
    Ok(html(admin_page(&view)))
}

/// HTTPS as the admin page shows it.
fn tls_view(app: &App) -> TlsView {
    let Some(tls) = app.tls() else { return TlsView::Off };
    match (tls.source(), tls.authority()) {
        (crate::tls::Source::Files { cert, .. }, _) => TlsView::Files { cert: cert.display().to_string() },
        (crate::tls::Source::Auto, authority) => TlsView::Auto {
            name: authority.map(|a| a.name().to_string()).unwrap_or_default(),
            fingerprint: authority.map(|a| a.fingerprint()).unwrap_or_default(),
            issued_for: tls.issued_for().unwrap_or_default(),
            // Plain HTTP: a device fetches it before it trusts the server.
            download: app.ops().network_urls(false).into_iter().map(|u| format!("{u}ca.crt")).collect(),
        },
    }
}

/// `POST /admin/thumbnails/regenerate`: forgets every thumbnail and queues
/// them all again.
pub async fn regenerate_thumbnails(app: &Arc<App>, from_form: bool) -> Result<Response<Body>, ApiError> {
    let (jobs, library) = (app.jobs().clone(), app.library().clone());
    crate::blocking::spawn(move || -> std::io::Result<()> {
        jobs.thumbs.clear()?;
        jobs.forget_failures();
        crate::app::queue_thumbnails(&jobs, &library.catalog());
        Ok(())
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("removing old thumbnails")))?;
    if from_form {
        return Ok(super::redirect(StatusCode::SEE_OTHER, "/admin"));
    }
    Ok(super::json(StatusCode::OK, &serde_json::json!({ "success": true, "queued": app.jobs().waiting() })))
}
