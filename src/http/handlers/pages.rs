//! Page handlers: read the catalog, build a view, render it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use hyper::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use hyper::{Response, StatusCode};

use super::{html, ApiError};
use crate::http::body::Body;
use crate::http::listing::{ListQuery, QUERY_VALUE};
use crate::http::pages::tags::tags as tags_page;
use crate::http::pages::{admin::admin as admin_page, gallery::gallery as gallery_page, watch::watch as watch_page};
use crate::http::pages::{admin::AdminView, admin::JobsView, gallery::GalleryView, watch::WatchView};
use crate::http::route::VideoKey;
use crate::library::ids::VideoId;
use crate::store::cache::{Catalog, RootState, Sort, Video};
use crate::store::query;
use crate::store::records::UserData;
use crate::App;
use percent_encoding::utf8_percent_encode;

pub const PER_PAGE: usize = 48;

/// Which listing a gallery page shows.
pub enum Shelf {
    All,
    Favorites,
    BestOf,
    Tag(String),
}

pub fn gallery(app: &App, shelf: Shelf, mut q: ListQuery) -> Result<Response<Body>, ApiError> {
    let (heading, path) = match shelf {
        Shelf::All => ("Library".to_string(), "/".to_string()),
        Shelf::Favorites => {
            q.favorites = true;
            ("Favorites".into(), "/favorites".into())
        }
        Shelf::BestOf => {
            q.min_rating = Some(q.min_rating.unwrap_or(4).max(4));
            ("Best of".into(), "/best-of".into())
        }
        Shelf::Tag(tag) => {
            let tag = tag.trim().trim_start_matches('#').to_string();
            let path = format!("/tag/{}", utf8_percent_encode(&tag, QUERY_VALUE));
            q.tag = Some(match q.tag.take() {
                Some(more) if !more.is_empty() => format!("{tag},{more}"),
                _ => tag.clone(),
            });
            (format!("#{tag}"), path)
        }
    };
    let catalog = app.cache.load();
    let listing = q.list(app, &catalog, PER_PAGE)?;
    let plain =
        path == "/" && listing.page == 1 && q.filter()?.is_empty() && q.q.as_deref().unwrap_or("").trim().is_empty();
    let continue_watching = if plain { continue_watching(app, &catalog) } else { Vec::new() };
    let shown = listing.videos.iter().chain(continue_watching.iter().map(|(v, _)| v));
    let shown: Vec<&Arc<Video>> = shown.collect();
    let thumbs = shown.iter().filter(|v| app.jobs.thumbs.has(v.id)).map(|v| v.id).collect();
    let sprites = shown.iter().filter_map(|v| Some((v.id, app.jobs.thumbs.sprite(v.id)?))).collect();
    let users = app.users.with(|m| listing.videos.iter().map(|v| m.get(&v.id).cloned().unwrap_or_default()).collect());
    let view = GalleryView {
        heading,
        path,
        query: q,
        listing,
        users,
        thumbs,
        sprites,
        continue_watching,
        scanning: !app.is_ready(),
        offline_roots: catalog
            .roots
            .iter()
            .filter(|r| matches!(r.state, RootState::Offline(_)))
            .map(|r| r.path.display().to_string())
            .collect(),
    };
    Ok(html(gallery_page(&view)))
}

/// Videos with a remembered position, most recently watched first.
fn continue_watching(app: &App, catalog: &Catalog) -> Vec<(Arc<Video>, UserData)> {
    const ROW: usize = 8;
    let mut started: Vec<(i64, Arc<Video>, UserData)> = app.users.with(|m| {
        m.iter()
            .filter(|(_, d)| d.position_ms.is_some())
            .filter_map(|(id, d)| Some((d.position_at.unwrap_or(0), catalog.get(*id)?.clone(), d.clone())))
            .collect()
    });
    started.sort_by_key(|s| std::cmp::Reverse(s.0));
    started.into_iter().take(ROW).map(|(_, v, d)| (v, d)).collect()
}

/// `GET /thumb/{id}/{width}`: a stored thumbnail.
pub async fn thumb(app: &App, id: VideoId, width: u32, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    if !app.jobs.thumbs.has(id) {
        return Err(ApiError::NotFound("no thumbnail for this video yet".into()));
    }
    image_file(app.jobs.thumbs.path(id, width), headers).await
}

/// `GET /sprite/{id}.jpg`: the preview strip (10 x 2 frames).
pub async fn sprite(app: &App, id: VideoId, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let tile =
        app.jobs.thumbs.sprite(id).ok_or_else(|| ApiError::NotFound("no preview strip for this video".into()))?;
    image_file(app.jobs.thumbs.sprite_path(id, tile), headers).await
}

/// `GET /sprite/{id}.vtt`: WebVTT cues pointing into the strip, for players
/// that show seek previews.
pub fn sprite_vtt(app: &App, id: VideoId) -> Result<Response<Body>, ApiError> {
    let missing = || ApiError::NotFound("no preview strip for this video".into());
    let (w, h) = app.jobs.thumbs.sprite(id).ok_or_else(missing)?;
    let ms = app.cache.load().get(id).and_then(|v| v.duration_ms()).ok_or_else(missing)?;
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
async fn image_file(path: std::path::PathBuf, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let read = tokio::task::spawn_blocking(move || -> std::io::Result<(Vec<u8>, i64, u64)> {
        let bytes = std::fs::read(&path)?;
        let meta = std::fs::metadata(&path)?;
        Ok((
            bytes,
            crate::library::scan::mtime_ns(&meta),
            xxhash_rust::xxh3::xxh3_64(path.as_os_str().as_encoded_bytes()),
        ))
    });
    let (bytes, mtime, name) =
        read.await.map_err(|e| ApiError::Internal(e.into()))?.map_err(|_| ApiError::not_found())?;
    let etag = format!("\"i{name:x}-{mtime:x}\"");
    let fresh = headers.get(IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == etag.as_bytes());
    let mut res = Response::new(if fresh { Body::Empty } else { Body::full(bytes) });
    if fresh {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
    }
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400"));
    h.insert(ETAG, HeaderValue::from_str(&etag).expect("ascii"));
    Ok(res)
}

/// `GET /tags`: every tag with its count.
pub fn tags(app: &App) -> Result<Response<Body>, ApiError> {
    let tags = query::tag_counts(&app.cache.load(), &app.users);
    Ok(html(tags_page(&tags)))
}

/// `GET /random`: a redirect to a random video's watch page, among those
/// the query's filters let through.
pub fn random(app: &App, q: ListQuery) -> Result<Response<Body>, ApiError> {
    let catalog = app.cache.load();
    let video = query::random(&catalog, &app.users, &q.filter()?)
        .ok_or_else(|| ApiError::NotFound("no video matches; nothing to pick from".into()))?;
    let mut res = super::redirect(StatusCode::FOUND, &format!("/watch/{}", video.id));
    res.headers_mut().insert("cache-control", HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Finds a video by id or by the original's root-relative file name.
pub fn lookup(catalog: &Catalog, key: &VideoKey) -> Result<Arc<Video>, ApiError> {
    match key {
        VideoKey::Id(id) => catalog.get(*id),
        VideoKey::Path(rel) => catalog.by_rel_path(rel),
    }
    .cloned()
    .ok_or_else(ApiError::not_found)
}

pub fn watch(app: &App, key: &VideoKey) -> Result<Response<Body>, ApiError> {
    let catalog = app.cache.load();
    let video = lookup(&catalog, key)?;
    let idx = app.live_orders.order(&catalog, &app.users, Sort::Added);
    let (prev, next) = query::neighbours(&catalog, &idx, Sort::Added.default_order(), video.id);
    let titled = |v: Option<Arc<Video>>| {
        v.map(|v| {
            let t = v.title_for(&app.users.get(v.id)).to_string();
            (v, t)
        })
    };
    let (prev, next) = (titled(prev), titled(next));
    let roots = catalog.roots.iter().map(|r| r.path.display().to_string()).collect();
    let user = app.users.get(video.id);
    let poster = app.jobs.thumbs.has(video.id);
    let sprite = app.jobs.thumbs.sprite(video.id);
    Ok(html(watch_page(&WatchView { video, prev, next, roots, user, poster, sprite })))
}

pub fn admin(app: &App) -> Result<Response<Body>, ApiError> {
    let catalog = app.cache.load();
    let view = AdminView {
        catalog: &catalog,
        cache_hits: app.cache.hits.load(Ordering::Relaxed),
        cache_rebuilds: app.cache.rebuilds.load(Ordering::Relaxed),
        data_dir: app.config.library.data_dir.display().to_string(),
        rescan_every_s: app.config.rescan_every.as_secs(),
        jobs: {
            let p = &app.jobs.progress;
            JobsView {
                ffmpeg: app.jobs.ffmpeg.as_ref().map(|p| p.display().to_string()),
                with_thumbnail: app.jobs.thumbs.count(),
                waiting: app.jobs.waiting(),
                done: p.done.load(Ordering::Relaxed),
                failed: p.failed.load(Ordering::Relaxed),
                current: p.current.lock().map(|c| c.clone()).unwrap_or_default(),
                failures: p.failures.lock().map(|f| f.clone()).unwrap_or_default(),
            }
        },
    };
    Ok(html(admin_page(&view)))
}

/// `POST /admin/thumbnails/regenerate`: forgets every thumbnail and queues
/// them all again.
pub async fn regenerate_thumbnails(app: &Arc<App>, from_form: bool) -> Result<Response<Body>, ApiError> {
    let app2 = app.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        app2.jobs.thumbs.clear()?;
        app2.jobs.forget_failures();
        crate::app::queue_thumbnails(&app2.jobs, &app2.cache.load());
        Ok(())
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("removing old thumbnails")))?;
    if from_form {
        return Ok(super::redirect(StatusCode::SEE_OTHER, "/admin"));
    }
    Ok(super::json(StatusCode::OK, &serde_json::json!({ "success": true, "queued": app.jobs.waiting() })))
}
