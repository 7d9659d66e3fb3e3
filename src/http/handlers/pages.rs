//! Page handlers: read the catalog, build a view, render it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use hyper::header::{HeaderValue, LOCATION};
use hyper::{Response, StatusCode};

use super::{html, ApiError};
use crate::http::body::Body;
use crate::http::listing::{ListQuery, QUERY_VALUE};
use crate::http::pages::tags::tags as tags_page;
use crate::http::pages::{admin::admin as admin_page, gallery::gallery as gallery_page, watch::watch as watch_page};
use crate::http::pages::{admin::AdminView, gallery::GalleryView, watch::WatchView};
use crate::http::route::VideoKey;
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
    let users = app.users.with(|m| listing.videos.iter().map(|v| m.get(&v.id).cloned().unwrap_or_default()).collect());
    let view = GalleryView {
        heading,
        path,
        query: q,
        listing,
        users,
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
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = StatusCode::FOUND;
    let location = HeaderValue::from_str(&format!("/watch/{}", video.id)).expect("ascii");
    res.headers_mut().insert(LOCATION, location);
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
    Ok(html(watch_page(&WatchView { video, prev, next, roots, user })))
}

pub fn admin(app: &App) -> Result<Response<Body>, ApiError> {
    let catalog = app.cache.load();
    let view = AdminView {
        catalog: &catalog,
        cache_hits: app.cache.hits.load(Ordering::Relaxed),
        cache_rebuilds: app.cache.rebuilds.load(Ordering::Relaxed),
        data_dir: app.config.library.data_dir.display().to_string(),
        rescan_every_s: app.config.rescan_every.as_secs(),
    };
    Ok(html(admin_page(&view)))
}
