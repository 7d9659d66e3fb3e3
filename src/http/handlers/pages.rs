//! Page handlers: read the catalog, build a view, render it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use hyper::Response;
use serde::Deserialize;

use super::{html, ApiError};
use crate::http::body::Body;
use crate::http::pages::{admin::admin as admin_page, gallery::gallery as gallery_page, watch::watch as watch_page};
use crate::http::pages::{admin::AdminView, gallery::GalleryView, watch::WatchView};
use crate::http::route::VideoKey;
use crate::store::cache::{Catalog, Order, RootState, Sort, Video};
use crate::App;

pub const PER_PAGE: usize = 48;

#[derive(Debug, Default, Deserialize)]
pub struct GalleryQuery {
    #[serde(default)]
    pub sort: Sort,
    pub order: Option<Order>,
    pub page: Option<usize>,
}

pub fn gallery(app: &App, q: GalleryQuery) -> Result<Response<Body>, ApiError> {
    let catalog = app.cache.load();
    let order = q.order.unwrap_or(q.sort.default_order());
    let total = catalog.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let videos = catalog.page(q.sort, order, (page - 1) * PER_PAGE, PER_PAGE);
    let users = app.users.with(|m| videos.iter().map(|v| m.get(&v.id).cloned().unwrap_or_default()).collect());
    let view = GalleryView {
        videos,
        users,
        total,
        page,
        pages,
        sort: q.sort,
        order,
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
    let (prev, next) = catalog.neighbours(video.id, Sort::Added, Sort::Added.default_order());
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
