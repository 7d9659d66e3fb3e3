//! Request handling: route, dispatch to a handler, map its error once (as
//! JSON or HTML, by route and `Accept`), and add the security headers every
//! response carries.

mod accounts;
mod admin;
mod api;
mod auth;
mod cast;
mod chat;
mod dlna;
mod events;
mod images;
mod legacy;
mod loadtest;
mod pages;
mod play;
mod playlists;
mod series;
mod subtitles;
mod transcode;
mod upload;
mod user;
mod video;

use user::Payload;

pub use events::EventStreams;
pub use upload::Uploads;
pub use video::Streaming;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, LOCATION};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::body::Body;
use super::error::ApiError;
use super::guard::{self, HostNames, Over, MAX_HEAD};
use super::route::{route, Kind, Name, Route};
use crate::catalog::listing::ListQuery;
use crate::catalog::{Sight, Viewer};
use crate::http::listing::Lists;
use crate::http::pages::layout::Visitor;
use crate::App;

/// What the request handlers share: the app, the handles lent to
/// handlers (built once), and the HTTP layer's own state.
pub struct State {
    pub app: Arc<App>,
    /// The catalog, user data and playlists, as listings read them.
    pub lists: Lists,
    /// The files of hot videos, their meter, remux plans and remade sound.
    pub streaming: Streaming,
    /// The names `Host` may carry.
    pub hosts: HostNames,
    /// Image uploads in progress.
    pub uploads: Arc<Uploads>,
    /// Event streams open, by client.
    pub streams: EventStreams,
    /// The DLNA media server (`--dlna`).
    pub dlna: Option<Arc<crate::dlna::Dlna>>,
}

/// `Cross-Origin-Resource-Policy`, which `http` names no constant for.
const CROSS_ORIGIN_RESOURCE_POLICY: HeaderName = HeaderName::from_static("cross-origin-resource-policy");

const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// The hyper service function: never fails, errors become responses here.
pub async fn handle(state: Arc<State>, peer: SocketAddr, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let app = &state.app;
    let (parts, body) = req.into_parts();
    let head = parts.method == Method::HEAD;
    let gzip = super::compress::accepts_gzip(&parts.headers);
    let started = std::time::Instant::now();
    // The one time the path is routed.
    let routed = route(&parts.method, parts.uri.path());
    let json = wants_json(routed.as_ref().ok().map(|r| r.endpoint.kind), &parts);
    let name = routed.as_ref().map_or("unmatched", |r| r.endpoint.metric);
    let client = guard::client_ip(peer.ip(), &parts.headers, &app.config().trusted_proxies);
    let over = parts.extensions.get::<Over>().copied().unwrap_or(Over::Http);
    // A trusted proxy's own health checks (from its address, forwarding
    // for nobody) are answered: liveness and readiness only.
    let probe = routed.as_ref().is_ok_and(|r| matches!(r.endpoint.name, Name::Healthz | Name::Readyz))
        && guard::from_proxy_itself(peer.ip(), &parts.headers, &app.config().trusted_proxies);
    let result = if client.is_none() && !app.config().allow_public && !probe {
        Err(ApiError::Forbidden(
            "this request came through a proxy vidserve does not know, so the client cannot be told; \
             start vidserve with --trusted-proxy PROXY_ADDRESS"
                .into(),
        ))
    } else if !app.config().allow_public && !client.is_some_and(guard::is_local) && !probe {
        Err(ApiError::Forbidden("vidserve only answers devices on the local network".into()))
    } else if let Err(e) = guard::check_host(guard::request_host(&parts), &state.hosts) {
        Err(e)
    } else if let Some(e) = head_too_large(&parts.headers) {
        Err(e)
    } else if over == Over::HttpBesideHttps
        && !routed.as_ref().is_ok_and(|r| plain_allowed(r.endpoint.name, parts.uri.query().unwrap_or("")))
    {
        Ok(to_https(&parts, app.ops().listen.get()))
    } else {
        match routed {
            Ok(route) => {
                let client = guard::Client { ip: client.unwrap_or(peer.ip()), known: client.is_some() };
                dispatch(&state, client, over, &parts, body, route).await
            }
            Err(e) => Err(ApiError::from(e)),
        }
    };
    let mut res = result.unwrap_or_else(|e| e.into_response(json));
    super::compress::apply(&mut res, gzip);
    app.ops().metrics.observe(name, res.status().as_u16(), started.elapsed());
    let h = res.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    // `same-origin`, not `no-referrer`: with the latter browsers send
    // `Origin: null` on our own forms, which the same-origin check refuses.
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    // Other sites may not embed our media, images or text (and so cannot
    // learn from a load or an error whether a file exists); signed links
    // say `cross-origin` themselves.
    if !h.contains_key(CROSS_ORIGIN_RESOURCE_POLICY) {
        h.insert(CROSS_ORIGIN_RESOURCE_POLICY, HeaderValue::from_static("same-origin"));
    }
    if head {
        // Same headers as GET (Content-Length included), no body.
        *res.body_mut() = Body::Empty;
    }
    Ok(res)
}

/// What plain HTTP may still ask of a server that speaks HTTPS: the
/// authority's certificate (a device fetches it before it trusts the
/// server), the health checks of a service manager or proxy, and DLNA
/// (players speak only plain HTTP to a media server), and videos by a
/// signed link (what TVs are sent: they fetch it over plain HTTP; the
/// link is checked as over HTTPS).
fn plain_allowed(name: Name, query: &str) -> bool {
    let signed = crate::people::links::read(query).is_some();
    (signed && matches!(name, Name::Video | Name::Play))
        || matches!(
            name,
            Name::Authority
                | Name::Healthz
                | Name::Readyz
                | Name::DlnaDevice
                | Name::DlnaCdsScpd
                | Name::DlnaCmsScpd
                | Name::DlnaCdsControl
                | Name::DlnaCmsControl
                | Name::DlnaSubscribe
                | Name::DlnaUnsubscribe
                | Name::DlnaMedia
                | Name::DlnaPlay
                | Name::DlnaArt
        )
}

/// A permanent redirect of a plain HTTP request to the same place over
/// HTTPS, on the host it named (already checked) or, without one, the
/// address the server listens on.
fn to_https(parts: &Parts, listen: Option<&SocketAddr>) -> Response<Body> {
    let fallback = listen.map_or("localhost".to_string(), |a| {
        if a.ip().is_unspecified() {
            format!("localhost:{}", a.port())
        } else {
            a.to_string()
        }
    });
    let host = guard::request_host(parts).filter(|h| !h.is_empty()).map_or(fallback, String::from);
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = StatusCode::PERMANENT_REDIRECT;
    // Both parts are header and URI text already; checked again anyway.
    if let Ok(location) = HeaderValue::from_str(&format!("https://{host}{target}")) {
        res.headers_mut().insert(LOCATION, location);
    }
    res
}

/// Whether an error is answered as JSON: on every JSON route (the API, the
/// original's JSON routes, health and admin actions), and wherever the
/// client asks for JSON rather than HTML; pages and unknown paths get HTML
/// (unknown paths under `/api/` get JSON).
fn wants_json(kind: Option<Kind>, parts: &Parts) -> bool {
    let route_is_json = match kind {
        Some(kind) => kind == Kind::Json,
        None => parts.uri.path().starts_with("/api/"),
    };
    let accept = parts.headers.get(hyper::header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    route_is_json || (accept.contains("application/json") && !accept.contains("text/html"))
}

/// hyper's own bound is approximate when a whole head arrives in one read.
fn head_too_large(headers: &HeaderMap) -> Option<ApiError> {
    let head_len: usize = headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
    (head_len > MAX_HEAD).then_some(ApiError::HeadersTooLarge(MAX_HEAD))
}

/// Answers a routed request: checks the origin of writes, who is
/// asking and whether they may, then calls the route's handler.
async fn dispatch(
    state: &State,
    client: guard::Client,
    over: Over,
    parts: &Parts,
    body: Incoming,
    route: Route<'_>,
) -> Result<Response<Body>, ApiError> {
    let app = &state.app;
    let (lists, streaming, people) = (&state.lists, &state.streaming, app.people());
    let (thumbs, guest) = (&app.jobs().thumbs, app.config().guest);
    if parts.method != Method::GET && parts.method != Method::HEAD {
        guard::same_origin(&parts.headers, guard::request_host(parts))?;
    }
    let query = parts.uri.query().unwrap_or("");
    let h = &parts.headers;
    // The connection's zero-copy queue, for file bodies (`zerocopy`).
    let zero_copy = parts.extensions.get::<super::zerocopy::Pending>().cloned();
    // Accounts: who is asking, and may they (every route has its `Access`).
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let linked = auth::signed_link(people, &route, query)?;
    if linked.is_none() {
        auth::catch_up(people, h).await;
    }
    let person = match linked {
        Some(_) => None,
        None => auth::authorize(people, guest, h, &parts.method, route.endpoint, target)?,
    };
    // Whose ratings, favorites and positions this request sees and changes.
    let who = match &person {
        Some(p) => p.viewer.clone(),
        None if people.enabled() => Viewer::Guest,
        None => Viewer::Household,
    };
    // What of the library it may see: a signed link what its maker sees,
    // a guest what the guest profile was given.
    let sight = match (&person, &linked) {
        (Some(p), _) => p.sight.clone(),
        (None, Some(sight)) => sight.clone(),
        (None, None) if people.enabled() => people.profile_sight("guest"),
        (None, None) => Sight::All,
    };
    let sight = &sight;
    let linked = linked.is_some();
    let who = &who;
    let visitor = &Visitor::new(people.enabled(), person.as_ref(), app.chat().is_some(), who);
    let body = Payload::new(body, route.endpoint.body, app.config().body_timeout);
    let Route { endpoint, mut params } = route;
    let p = &mut params;
    // This server as the client reached it, for links to other players.
    let here = || origin(parts, over == Over::Https);
    let (library, data) = (&lists.library, &lists.user_data);
    // Whose signed links this request makes.
    let by = person.as_ref().map(|p| p.name.as_str());
    // A listing that names a library runs within it.
    let listed = |query: &str| -> Result<(Sight, ListQuery), ApiError> {
        let mut q: ListQuery = parse_query(query)?;
        Ok((crate::http::listing::narrowed(people, sight, &mut q)?, q))
    };
    let answer = match endpoint.name {
        Name::LoginForm => Ok(auth::form(people, client, parse_query(query)?)),
        Name::SignIn => auth::sign_in(people, client, over == Over::Https, h, body).await,
        Name::SignOut => {
            let everywhere = query.split('&').any(|p| p == "everywhere=1");
            auth::sign_out(people, person.as_ref(), over == Over::Https, h, everywhere).await
        }
        Name::Gallery => {
            pages::gallery(lists, people, thumbs, who, sight, visitor, pages::Shelf::All, parse_query(query)?).await
        }
        Name::Favorites => {
            pages::gallery(lists, people, thumbs, who, sight, visitor, pages::Shelf::Favorites, parse_query(query)?)
                .await
        }
        Name::BestOf => {
            pages::gallery(lists, people, thumbs, who, sight, visitor, pages::Shelf::BestOf, parse_query(query)?).await
        }
        Name::Tag => {
            pages::gallery(lists, people, thumbs, who, sight, visitor, pages::Shelf::Tag(p.tag()?), parse_query(query)?)
                .await
        }
        Name::PlaylistPage => {
            pages::gallery(
                lists,
                people,
                thumbs,
                who,
                sight,
                visitor,
                pages::Shelf::Playlist(p.n()?),
                parse_query(query)?,
            )
            .await
        }
        Name::Random => {
            let (sight, q) = listed(query)?;
            pages::random(lists, who, &sight, q).await
        }
        Name::Tags => pages::tags(lists, sight, visitor),
        Name::Folders => pages::folders(lists, thumbs, who, sight, visitor, query).await,
        Name::SeriesIndex => series::index(lists, thumbs, sight, visitor, query).await,
        Name::Films => series::films(lists, thumbs, who, sight, visitor, query).await,
        Name::SeriesPage => series::show(lists, thumbs, who, sight, visitor, p.name()?, query).await,
        Name::SeriesPoster => series::poster(lists, thumbs, sight, p.name()?, h).await,
        Name::SeasonPoster => series::season_poster(lists, thumbs, sight, p.name()?, p.n()?, h).await,
        Name::ApiSeries => series::api_list(lists, sight, query).await,
        Name::ApiOneSeries => series::api_one(lists, who, sight, p.name()?, query).await,
        Name::Playlists => Ok(pages::playlists(lists, thumbs, who, sight, visitor)),
        Name::Watch => {
            // Playing on a TV needs DLNA, and someone it may act for.
            let tv = state.dlna.is_some() && *who != Viewer::Guest;
            pages::watch(lists, people, streaming, thumbs, app.inside(), who, sight, visitor, p.key()?, query, tv).await
        }
        Name::Admin => admin::admin(app, visitor),
        Name::Video => video::video(streaming, sight, p.key()?, &parts.method, h, zero_copy).await,
        Name::Play => play::play(streaming, sight, p.id()?, query, &parts.method, h, zero_copy).await,
        Name::Transcode => transcode::transcode(streaming, sight, who, client.ip, p.id()?, query, &parts.method).await,
        Name::TranscodePlaylist => transcode::playlist(streaming, sight, p.id()?, query).await,
        Name::TranscodeSegment => {
            transcode::segment(streaming, sight, who, client.ip, p.id()?, p.n()?, query, &parts.method).await
        }
        Name::Thumb => {
            let id = seen(library, sight, p.id()?)?;
            images::thumb(thumbs, id, p.width()?, h).await
        }
        Name::Poster => images::poster(thumbs, seen(library, sight, p.id()?)?, h).await,
        Name::Sprite => images::sprite(thumbs, seen(library, sight, p.id()?)?, h).await,
        Name::SpriteVtt => images::sprite_vtt(thumbs, library, sight, p.id()?),
        Name::Subtitle | Name::SubtitleSrt => {
            let srt = endpoint.name == Name::SubtitleSrt;
            subtitles::subtitle(library, app.inside(), sight, p.id()?, p.sub()?, srt, h).await
        }
        Name::M3u => {
            let (sight, q) = listed(query)?;
            api::playlist(lists, people, by, who, &sight, q, &here()).await
        }
        Name::Asset => asset(p.name()?, h),
        Name::Favicon => asset("icon.svg", h),
        Name::ServiceWorker => super::assets::service_worker().ok_or_else(ApiError::not_found),
        Name::Metrics => Ok(admin::metrics(app)),
        Name::ApiVideos => {
            let (sight, q) = listed(query)?;
            api::videos(lists, who, &sight, q, h).await
        }
        Name::ApiVideo => api::video(lists, app.inside(), who, sight, p.id()?).await,
        Name::ApiEditVideo => user::edit_title(library, data, who, seen(library, sight, p.id()?)?, h, body).await,
        Name::ApiRate => user::rating(library, data, who, seen(library, sight, p.id()?)?, false, h, body).await,
        Name::ApiUnrate => user::rating(library, data, who, seen(library, sight, p.id()?)?, true, h, body).await,
        Name::ApiFavorite => user::favorite(library, data, who, seen(library, sight, p.id()?)?, true).await,
        Name::ApiUnfavorite => user::favorite(library, data, who, seen(library, sight, p.id()?)?, false).await,
        Name::ApiView => user::view(library, data, who, seen(library, sight, p.id()?)?).await,
        Name::ApiAddTag => user::add_tag(library, data, who, seen(library, sight, p.id()?)?, h, body).await,
        Name::ApiRemoveTag => user::remove_tag(library, data, who, seen(library, sight, p.id()?)?, &p.tag()?).await,
        Name::ApiRemember => user::position(library, data, who, seen(library, sight, p.id()?)?, false, h, body).await,
        Name::ApiForget => user::position(library, data, who, seen(library, sight, p.id()?)?, true, h, body).await,
        Name::ApiLink => api::link(library, people, by, sight, p.id()?, parse_query(query)?, &here()),
        Name::ApiRenderers
        | Name::ApiRenderer
        | Name::ApiRendererPlay
        | Name::ApiRendererPause
        | Name::ApiRendererResume
        | Name::ApiRendererSeek
        | Name::ApiRendererStop => {
            let caster = cast::Caster {
                dlna: state.dlna.as_ref(),
                lists,
                people,
                who,
                by,
                sight,
                inside: app.inside(),
                port: app.ops().listen.get().map_or(0, |a| a.port()),
            };
            use crate::dlna::cast::Command;
            match endpoint.name {
                Name::ApiRenderers => cast::list(&caster),
                Name::ApiRenderer => cast::one(&caster, p.name()?),
                Name::ApiRendererPlay => cast::play(&caster, p.name()?, h, body).await,
                Name::ApiRendererPause => cast::control(&caster, p.name()?, Some(Command::Pause), h, body).await,
                Name::ApiRendererResume => cast::control(&caster, p.name()?, Some(Command::Resume), h, body).await,
                Name::ApiRendererSeek => cast::control(&caster, p.name()?, None, h, body).await,
                _ => cast::control(&caster, p.name()?, Some(Command::Stop), h, body).await,
            }
        }
        Name::ApiThumbnail => {
            upload::upload_thumbnail(library, thumbs, &state.uploads, seen(library, sight, p.id()?)?, h, body).await
        }
        Name::ApiBatch => user::batch(library, data, who, sight, h, body).await,
        Name::ApiTags => Ok(user::tags(library, data, sight)),
        Name::ApiRandom => {
            let (sight, q) = listed(query)?;
            api::random(lists, who, &sight, q).await
        }
        Name::ApiEvents => {
            let admin = person.as_ref().map_or(!people.enabled(), |p| p.role == crate::people::Role::Admin);
            let seer = events::Seer { who: who.clone(), admin, sight: sight.clone() };
            events::events(&state.streams, people, library, guest, client.ip, seer, auth::Credentials::of(h))
        }
        Name::ApiOpenApi => Ok(json(StatusCode::OK, &super::openapi::document())),
        Name::ApiChat => {
            let public_without_accounts = app.config().allow_public && !people.enabled();
            chat::chat(app.chat(), lists, public_without_accounts, who, sight, client.ip, h, body).await
        }
        Name::ApiPlaylists => Ok(playlists::list(lists, who, sight)),
        Name::ApiNewPlaylist => playlists::create(lists, who, sight, h, body).await,
        Name::ApiPlaylist => playlists::one(lists, who, sight, p.n()?),
        Name::ApiEditPlaylist => playlists::edit(lists, who, sight, p.n()?, h, body).await,
        Name::ApiDeletePlaylist => playlists::remove(lists, who, p.n()?).await,
        Name::ApiPlaylistAdd => playlists::add(lists, who, sight, p.n()?, h, body).await,
        Name::ApiPlaylistRemove => playlists::remove_video(lists, who, sight, p.n()?, p.id()?).await,
        Name::Healthz => Ok(admin::healthz()),
        Name::Authority => admin::authority(app),
        Name::Readyz => admin::readyz(app),
        Name::Ping => Ok(admin::ping(library, sight)),
        Name::CacheStatus => admin::cache_status(app, state.streams.count()).await,
        Name::CacheRefresh => admin::cache_refresh(library, is_form(h)).await,
        Name::RegenerateThumbnails => admin::regenerate_thumbnails(app, is_form(h)).await,
        Name::Performance => Ok(loadtest::performance(app)),
        Name::LoadTest => loadtest::run_load_test(app.ops(), h, body).await,
        Name::Accounts => Ok(accounts::list(people)),
        Name::ChangeAccount => accounts::change(app, visitor, h, body).await,
        Name::Libraries => Ok(accounts::libraries(people)),
        Name::ChangeLibrary => accounts::change_library(people, h, body).await,
        Name::LegacyViews => Ok(legacy::legacy_views(library, data, sight)),
        Name::LegacyRate => legacy::legacy_rate(library, data, who, sight, h, body).await,
        Name::LegacyView => legacy::legacy_view(library, data, who, sight, h, body).await,
        Name::LegacyFavorite => legacy::legacy_favorite(library, data, who, sight, h, body).await,
        Name::LegacyTag => legacy::legacy_tag(library, data, who, sight, h, body, true).await,
        Name::LegacyDeleteTag => legacy::legacy_tag(library, data, who, sight, h, body, false).await,
        Name::DlnaDevice => Ok(dlna::description(dlna::on(state.dlna.as_ref())?, None)),
        Name::DlnaCdsScpd => {
            Ok(dlna::description(dlna::on(state.dlna.as_ref())?, Some(dlna::Service::ContentDirectory)))
        }
        Name::DlnaCmsScpd => {
            Ok(dlna::description(dlna::on(state.dlna.as_ref())?, Some(dlna::Service::ConnectionManager)))
        }
        Name::DlnaCdsControl | Name::DlnaCmsControl => {
            let service = match endpoint.name {
                Name::DlnaCdsControl => dlna::Service::ContentDirectory,
                _ => dlna::Service::ConnectionManager,
            };
            let (who, sight) = dlna::sight_of(people);
            let control = dlna::Control {
                dlna: dlna::on(state.dlna.as_ref())?.clone(),
                lists: lists.clone(),
                thumbs: thumbs.clone(),
                inside: app.inside().clone(),
                who,
                sight,
                base: origin(parts, false),
            };
            dlna::control(control, service, h, body).await
        }
        Name::DlnaSubscribe | Name::DlnaUnsubscribe => {
            let on = dlna::on(state.dlna.as_ref())?;
            let service = if parts.uri.path().starts_with("/dlna/cds/") {
                dlna::Service::ContentDirectory
            } else {
                dlna::Service::ConnectionManager
            };
            if endpoint.name == Name::DlnaSubscribe {
                dlna::subscribe(on, lists, service, client.ip, h)
            } else {
                dlna::unsubscribe(on, service, h)
            }
        }
        Name::DlnaMedia | Name::DlnaPlay => {
            dlna::on(state.dlna.as_ref())?;
            let sight = dlna::sight_of(people).1;
            let remuxed = endpoint.name == Name::DlnaPlay;
            let id = p.id()?;
            // Samsung's televisions ask where the subtitles are.
            let caption = if h.contains_key("getcaptioninfo.sec") {
                let catalog = library.catalog();
                let video = visible(&catalog, &sight, id)?.clone();
                let tracks = subtitles::tracks(app.inside(), &catalog, &video).await?;
                tracks.for_tv(id).map(|path| format!("{}{path}", origin(parts, false)))
            } else {
                None
            };
            let res = dlna::media(streaming, &sight, id, remuxed, &parts.method, h, zero_copy).await?;
            Ok(dlna::with_caption(res, caption.as_deref()))
        }
        Name::DlnaSubtitle => {
            dlna::on(state.dlna.as_ref())?;
            let sight = dlna::sight_of(people).1;
            subtitles::subtitle(library, app.inside(), &sight, p.id()?, p.sub()?, true, h).await
        }
        Name::DlnaArt => {
            dlna::on(state.dlna.as_ref())?;
            let id = seen(library, &dlna::sight_of(people).1, p.id()?)?;
            let width = crate::media::thumbs::SIZES[0];
            images::thumb(thumbs, id, width, h).await.map(dlna::interactive)
        }
    };
    // A signed link is for other players, on other origins.
    answer.map(|mut res| {
        if linked {
            res.headers_mut().insert(CROSS_ORIGIN_RESOURCE_POLICY, HeaderValue::from_static("cross-origin"));
        }
        res
    })
}

/// This server as the request named it (`https://HOST` or `http://HOST`),
/// for links other players fetch; DLNA players get `http` (they do not
/// speak HTTPS to a media server).
fn origin(parts: &Parts, https: bool) -> String {
    let host = guard::request_host(parts).filter(|h| !h.is_empty()).unwrap_or("localhost");
    format!("{}://{host}", crate::app::scheme(https))
}

/// `id`, if `sight` lets its video be seen (else 404); what any sight
/// sees (everyone's, without libraries) is not looked up.
fn seen(
    library: &crate::app::Library,
    sight: &Sight,
    id: crate::library::ids::VideoId,
) -> Result<crate::library::ids::VideoId, ApiError> {
    if !sight.is_all() {
        visible(&library.catalog(), sight, id)?;
    }
    Ok(id)
}

/// Video `id` of `catalog`, if `sight` lets it be seen: a hidden video
/// answers 404, the same as one that does not exist.
fn visible<'c>(
    catalog: &'c crate::catalog::Catalog,
    sight: &Sight,
    id: crate::library::ids::VideoId,
) -> Result<&'c Arc<crate::catalog::Video>, ApiError> {
    catalog.get(id).filter(|v| sight.sees(catalog, v)).ok_or_else(ApiError::not_found)
}

fn asset(name: &str, h: &HeaderMap) -> Result<Response<Body>, ApiError> {
    super::assets::response(name, super::compress::accepts_gzip(h)).ok_or_else(ApiError::not_found)
}

fn is_form(h: &HeaderMap) -> bool {
    h.get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/x-www-form-urlencoded"))
}

/// The page asked for (from 1) of `total` items, `per` a page, and how
/// many pages there are; `Err(last page)` when it is past the end.
pub(super) fn paging(asked: Option<usize>, total: usize, per: usize) -> Result<(usize, usize), usize> {
    let pages = total.div_ceil(per).max(1);
    let page = asked.unwrap_or(1).max(1);
    if page > pages {
        Err(pages)
    } else {
        Ok((page, pages))
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    serde_urlencoded::from_str(query).map_err(|e| ApiError::BadRequest(format!("bad query string: {}", said(&e))))
}

/// A query's fault in words: a choice not offered is named, without the
/// list of the server's own names for its choices.
fn said(e: &serde::de::value::Error) -> String {
    let text = e.to_string();
    match text.strip_prefix("unknown variant `").and_then(|rest| rest.split_once('`')) {
        Some((value, _)) => {
            let shown: String = value.chars().take(20).collect();
            format!("“{shown}” is not one of the choices here")
        }
        None => text,
    }
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
