//! Request handling: route, dispatch to a handler, map its error once (as
//! JSON or HTML, by route and `Accept`), and add the security headers every
//! response carries.

mod accounts;
mod admin;
mod api;
mod auth;
mod chat;
mod events;
mod images;
mod legacy;
mod loadtest;
mod pages;
mod play;
mod playlists;
mod subtitles;
mod upload;
mod user;
mod video;

pub use events::EventStreams;
pub use upload::Uploads;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE, LOCATION};
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::body::Body;
use super::error::ApiError;
use super::files::OpenFiles;
use super::guard::MAX_HEAD;
use super::guard::{self, HostNames};
use super::route::{route, Route, RouteError};
use crate::catalog::Viewer;
use crate::http::pages::layout::Visitor;
use crate::App;

/// What the request handlers share: the app, and the HTTP layer's own
/// state (open file handles of hot videos).
pub struct State {
    pub app: Arc<App>,
    pub files: OpenFiles,
    /// The names `Host` may carry.
    pub hosts: HostNames,
    /// Image uploads in progress.
    pub uploads: Arc<Uploads>,
    /// Event streams open, by client.
    pub streams: EventStreams,
}

const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// The hyper service function: never fails, errors become responses here.
pub async fn handle(state: Arc<State>, peer: SocketAddr, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let app = &state.app;
    let json = wants_json(&req);
    let head = req.method() == Method::HEAD;
    let gzip = super::compress::accepts_gzip(req.headers());
    let started = std::time::Instant::now();
    let mut name = "unmatched";
    let client = guard::client_ip(peer.ip(), req.headers(), &app.config.trusted_proxies);
    let result = if client.is_none() && !app.config.allow_public {
        Err(ApiError::Forbidden(
            "this request came through a proxy vidserve does not know, so the client cannot be told; \
             start vidserve with --trusted-proxy PROXY_ADDRESS"
                .into(),
        ))
    } else if !app.config.allow_public && !client.is_some_and(guard::is_local) {
        Err(ApiError::Forbidden("vidserve only answers devices on the local network".into()))
    } else if let Err(e) = guard::check_host(req.headers(), &state.hosts) {
        Err(e)
    } else {
        dispatch(&state, client.unwrap_or(peer.ip()), req, &mut name).await
    };
    let mut res = result.unwrap_or_else(|e| e.into_response(json));
    super::compress::apply(&mut res, gzip);
    app.ops.metrics.observe(name, res.status().as_u16(), started.elapsed());
    let h = res.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    // `same-origin`, not `no-referrer`: with the latter browsers send
    // `Origin: null` on our own forms, which the same-origin check refuses.
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    if head {
        // Same headers as GET (Content-Length included), no body.
        *res.body_mut() = Body::Empty;
    }
    Ok(res)
}

/// Whether an error is answered as JSON: on every JSON route (the API, the
/// original's JSON routes, health and admin actions), and wherever the
/// client asks for JSON rather than HTML; pages and unknown paths get HTML.
fn wants_json(req: &Request<Incoming>) -> bool {
    let path = req.uri().path();
    let route_is_json = match route(req.method(), path) {
        Ok(r) => r.api_template().is_some(),
        Err(_) => path.starts_with("/api/"),
    };
    let accept = req.headers().get(hyper::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    route_is_json || (accept.contains("application/json") && !accept.contains("text/html"))
}

/// Routes and answers a request; `name` learns the route (for metrics).
async fn dispatch(
    state: &State,
    client: std::net::IpAddr,
    req: Request<Incoming>,
    name: &mut &'static str,
) -> Result<Response<Body>, ApiError> {
    let app = &state.app;
    let (parts, body) = req.into_parts();
    // hyper's own bound is approximate when a whole head arrives in one read.
    let head_len: usize = parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    if head_len > MAX_HEAD {
        return Err(ApiError::HeadersTooLarge(MAX_HEAD));
    }
    let route = route(&parts.method, parts.uri.path()).map_err(|e| match e {
        RouteError::NotFound => ApiError::not_found(),
        RouteError::MethodNotAllowed(allow) => ApiError::MethodNotAllowed(allow),
        RouteError::BadPath(why) => ApiError::BadRequest(format!("bad path: {why}")),
    })?;
    *name = route.metric_name();
    if parts.method != Method::GET && parts.method != Method::HEAD {
        guard::same_origin(&parts.headers)?;
    }
    let query = parts.uri.query().unwrap_or("");
    let h = &parts.headers;
    // The connection's zero-copy queue, for file bodies (`zerocopy`).
    let zero_copy = parts.extensions.get::<super::zerocopy::Pending>().cloned();
    // Accounts: who is asking, and may they (every route has its `Access`).
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let page = route.api_template().is_none()
        && !matches!(
            route,
            Route::Video(_)
                | Route::Play(_)
                | Route::Subtitle(..)
                | Route::ServiceWorker
                | Route::Playlist
                | Route::Asset(_)
                | Route::Metrics
                | Route::Thumb(..)
                | Route::Sprite(_)
                | Route::SpriteVtt(_)
        );
    let person = match auth::signed_link(app, &route, query)? {
        true => None,
        false => auth::authorize(app, h, &parts.method, &route, target, page)?,
    };
    // Whose ratings, favorites and positions this request sees and changes.
    let who = match &person {
        Some(p) => p.viewer.clone(),
        None if app.people.enabled() => Viewer::Guest,
        None => Viewer::Household,
    };
    let who = &who;
    let visitor = &Visitor::new(app.people.enabled(), person.as_ref(), app.chat.is_some());
    match route {
        Route::Login if parts.method == Method::POST => auth::sign_in(app, client, h, body).await,
        Route::Login => Ok(auth::form(app, client, parse_query(query)?)),
        Route::Logout => auth::sign_out(app, h).await,
        Route::ApiLink(id) => {
            api::link(app, id, parse_query(query)?, h.get(hyper::header::HOST).and_then(|v| v.to_str().ok()))
        }
        Route::Gallery => pages::gallery(app, who, visitor, pages::Shelf::All, parse_query(query)?).await,
        Route::Favorites => pages::gallery(app, who, visitor, pages::Shelf::Favorites, parse_query(query)?).await,
        Route::BestOf => pages::gallery(app, who, visitor, pages::Shelf::BestOf, parse_query(query)?).await,
        Route::Random => pages::random(app, who, parse_query(query)?).await,
        Route::ApiRandom => api::random(app, who, parse_query(query)?).await,
        Route::Watch(key) => pages::watch(app, who, visitor, &key, query).await,
        Route::Admin => admin::admin(app, visitor),
        Route::Video(key) => video::video(app, &state.files, &key, &parts.method, h, zero_copy).await,
        Route::Asset(name) => {
            super::assets::response(name, super::compress::accepts_gzip(h)).ok_or_else(ApiError::not_found)
        }
        Route::Thumb(id, width) => images::thumb(app, id, width, h).await,
        Route::Sprite(id) => images::sprite(app, id, h).await,
        Route::SpriteVtt(id) => images::sprite_vtt(app, id),
        Route::Healthz => Ok(admin::healthz()),
        Route::Metrics => Ok(admin::metrics(app)),
        Route::Readyz => admin::readyz(app),
        Route::Ping => Ok(admin::ping(app)),
        Route::CacheStatus => admin::cache_status(app, state.streams.count()).await,
        Route::CacheRefresh => admin::cache_refresh(app, is_form(h)).await,
        Route::RegenerateThumbnails => admin::regenerate_thumbnails(app, is_form(h)).await,
        Route::Performance if parts.method == Method::POST => loadtest::run_load_test(app, h, body).await,
        Route::Performance => Ok(loadtest::performance(app)),
        Route::AdminUsers if parts.method == Method::POST => accounts::change(app, visitor, h, body).await,
        Route::AdminUsers => Ok(accounts::list(app)),
        Route::ApiChat => chat::chat(app, who, client, h, body).await,
        Route::Subtitle(id, n) => subtitles::vtt(app, id, n, h).await,
        Route::ServiceWorker => super::assets::service_worker().ok_or_else(ApiError::not_found),
        Route::Playlist => {
            let host = h.get(hyper::header::HOST).and_then(|v| v.to_str().ok());
            api::playlist(app, who, parse_query(query)?, host).await
        }
        Route::ApiVideos => api::videos(app, who, parse_query(query)?, h).await,
        Route::ApiVideo(id) => api::video(app, who, id).await,
        Route::ApiEditVideo(id) => user::edit_title(app, who, id, h, body).await,
        Route::ApiThumbnail(id) => upload::upload_thumbnail(app, &state.uploads, id, h, body).await,
        Route::ApiPosition(id) => user::position(app, who, id, parts.method == Method::DELETE, h, body).await,
        Route::ApiRating(id) => user::rating(app, who, id, parts.method == Method::DELETE, h, body).await,
        Route::ApiFavorite(id) => user::favorite(app, who, id, parts.method == Method::PUT).await,
        Route::ApiView(id) => user::view(app, who, id).await,
        Route::LegacyRate => legacy::legacy_rate(app, who, h, body).await,
        Route::LegacyView => legacy::legacy_view(app, who, h, body).await,
        Route::LegacyFavorite => legacy::legacy_favorite(app, who, h, body).await,
        Route::LegacyViews => Ok(legacy::legacy_views(app)),
        Route::ApiAddTag(id) => user::add_tag(app, who, id, h, body).await,
        Route::ApiRemoveTag(id, tag) => user::remove_tag(app, who, id, &tag).await,
        Route::ApiTags => Ok(user::tags(app)),
        Route::ApiEvents => events::events(app, &state.streams, client, who.clone(), auth::Credentials::of(h)),
        Route::ApiOpenApi => Ok(json(StatusCode::OK, &super::openapi::document())),
        Route::ApiBatch => user::batch(app, who, h, body).await,
        Route::LegacyTag => legacy::legacy_tag(app, who, h, body, true).await,
        Route::LegacyDeleteTag => legacy::legacy_tag(app, who, h, body, false).await,
        Route::Tags => pages::tags(app, visitor),
        Route::Tag(tag) => pages::gallery(app, who, visitor, pages::Shelf::Tag(tag), parse_query(query)?).await,
        Route::Playlists => Ok(pages::playlists(app, who, visitor)),
        Route::Play(id) => play::play(app, &state.files, id, query, &parts.method, h, zero_copy).await,
        Route::PlaylistPage(n) => {
            pages::gallery(app, who, visitor, pages::Shelf::Playlist(n), parse_query(query)?).await
        }
        Route::ApiPlaylists if parts.method == Method::POST => playlists::create(app, who, h, body).await,
        Route::ApiPlaylists => Ok(playlists::list(app, who)),
        Route::ApiPlaylist(n) if parts.method == Method::PATCH => playlists::edit(app, who, n, h, body).await,
        Route::ApiPlaylist(n) if parts.method == Method::DELETE => playlists::remove(app, who, n).await,
        Route::ApiPlaylist(n) => playlists::one(app, who, n),
        Route::ApiPlaylistAdd(n) => playlists::add(app, who, n, h, body).await,
        Route::ApiPlaylistRemove(n, id) => playlists::remove_video(app, who, n, id).await,
    }
}

fn is_form(h: &HeaderMap) -> bool {
    h.get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/x-www-form-urlencoded"))
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    serde_urlencoded::from_str(query).map_err(|e| ApiError::BadRequest(format!("bad query string: {e}")))
}

/// A redirect with no body (`location` is our own ASCII path).
fn redirect(status: StatusCode, location: &str) -> Response<Body> {
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = status;
    res.headers_mut().insert(LOCATION, HeaderValue::from_str(location).expect("our own paths are ASCII"));
    res
}

/// A JSON response of any serialisable value (a `Value`, or a typed
/// struct written straight to text).
fn json(status: StatusCode, value: &impl serde::Serialize) -> Response<Body> {
    let text = serde_json::to_vec(value).expect("plain data serialises");
    let mut res = Response::new(Body::full(text));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// An HTML response that must not be cached (it reflects live data).
fn html(markup: maud::Markup) -> Response<Body> {
    let mut res = Response::new(Body::full(markup.into_string()));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    res
}
