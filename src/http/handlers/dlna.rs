//! `/dlna/…` (`--dlna`; 404 without it): what a DLNA player asks of a
//! media server.
//!
//! Who may call: anyone on the local network (players sign in to
//! nothing); they see what the `dlna` profile may see. How much one
//! request can cost: a control body of at most `DLNA_BODY`, read within
//! the body timeout; an answer of at most `MAX_RETURNED` objects, worked
//! out on the blocking pool; a Search reads each video's title once. What
//! a hostile file name can do: nothing, every text is escaped for XML
//! (controls replaced).

use std::sync::Arc;

use hyper::header::{HeaderMap, HeaderValue, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};

use super::user::{read_bytes, Payload};
use super::ApiError;
use crate::catalog::{Sight, Video, Viewer};
use crate::dlna::criteria::Criteria;
use crate::dlna::directory::{self, Shelf};
use crate::dlna::soap::{self, Call, Fault};
use crate::dlna::{describe, Dlna};
use crate::http::body::Body;
use crate::http::listing::Lists;
use crate::http::zerocopy::Pending;
use crate::library::ids::VideoId;
use crate::media::inside::cache::Inside;
use crate::media::thumbs::Thumbs;
use crate::people::People;

const CONTENT_DIRECTORY: &str = "urn:schemas-upnp-org:service:ContentDirectory:1";
const CONNECTION_MANAGER: &str = "urn:schemas-upnp-org:service:ConnectionManager:1";

/// Which service a control or event request is for.
pub use crate::dlna::events::Service;

/// The server's DLNA side, or 404 when `--dlna` is off.
pub fn on(dlna: Option<&Arc<Dlna>>) -> Result<&Arc<Dlna>, ApiError> {
    dlna.ok_or_else(ApiError::not_found)
}

/// What DLNA players see: the `dlna` profile's libraries; with no
/// accounts the household's favorites and playlists, else nobody's.
pub fn sight_of(people: &People) -> (Viewer, Sight) {
    if people.enabled() {
        (Viewer::Guest, people.profile_sight("dlna"))
    } else {
        (Viewer::Household, people.profile_sight("dlna"))
    }
}

fn xml(status: StatusCode, text: String) -> Response<Body> {
    let mut res = Response::new(Body::full(text));
    *res.status_mut() = status;
    res.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=\"utf-8\""));
    res
}

/// `GET /dlna/device.xml`, `/dlna/cds.xml`, `/dlna/cms.xml`.
pub fn description(dlna: &Dlna, which: Option<Service>) -> Response<Body> {
    xml(
        StatusCode::OK,
        match which {
            None => describe::device(dlna),
            Some(Service::ContentDirectory) => describe::content_directory(),
            Some(Service::ConnectionManager) => describe::connection_manager(),
        },
    )
}

/// What the control handler needs, owned (it runs on the blocking pool).
pub struct Control {
    pub dlna: Arc<Dlna>,
    pub lists: Lists,
    pub thumbs: Arc<Thumbs>,
    /// What is inside the files (for the subtitles offered with each).
    pub inside: Arc<Inside>,
    pub who: Viewer,
    pub sight: Sight,
    /// `http://host:port`, as the player reached the server.
    pub base: String,
}

/// `POST /dlna/{cds,cms}/control`: one SOAP action.
pub async fn control(
    c: Control,
    service: Service,
    headers: &HeaderMap,
    body: Payload,
) -> Result<Response<Body>, ApiError> {
    let bytes = read_bytes(headers, body).await?;
    let answer = crate::blocking::spawn(move || {
        let call = soap::read(&bytes)?;
        match service {
            Service::ContentDirectory => content_directory(&c, &call),
            Service::ConnectionManager => connection_manager(&call),
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(match answer {
        Ok(text) => xml(StatusCode::OK, text),
        Err(fault) => xml(StatusCode::INTERNAL_SERVER_ERROR, fault.body()),
    })
}

fn content_directory(c: &Control, call: &Call) -> Result<String, Fault> {
    let catalog = c.lists.library.catalog();
    let folders = c.dlna.folders(&catalog);
    let has_art = |id: VideoId| c.thumbs.has(id);
    let caption = |v: &Video| super::subtitles::tv_caption(&c.inside, &catalog, &c.dlna.listed, v);
    let shelf = Shelf {
        catalog: &catalog,
        user_data: &c.lists.user_data,
        playlists: &c.lists.playlists,
        folders: &folders,
        who: &c.who,
        sight: &c.sight,
        has_art: &has_art,
        caption: &caption,
        base: &c.base,
    };
    let answer = |page: directory::Page| {
        let (returned, total, update) =
            (page.returned.to_string(), page.total.to_string(), directory::update_id(&shelf).to_string());
        soap::response(
            CONTENT_DIRECTORY,
            &call.action,
            &[("Result", &page.didl), ("NumberReturned", &returned), ("TotalMatches", &total), ("UpdateID", &update)],
        )
    };
    let respond = |out: &[(&str, &str)]| soap::response(CONTENT_DIRECTORY, &call.action, out);
    match call.action.as_str() {
        "Browse" => {
            let children = match call.arg("BrowseFlag")? {
                "BrowseDirectChildren" => true,
                "BrowseMetadata" => false,
                _ => return Err(Fault::InvalidArgs),
            };
            let (start, count) = (call.number("StartingIndex")? as usize, call.number("RequestedCount")? as usize);
            Ok(answer(shelf.browse(call.arg("ObjectID")?, children, start, count)?))
        }
        "Search" => {
            let criteria = Criteria::parse(call.arg("SearchCriteria")?).map_err(|_| Fault::BadSearchCriteria)?;
            let (start, count) = (call.number("StartingIndex")? as usize, call.number("RequestedCount")? as usize);
            Ok(answer(shelf.search(call.arg("ContainerID")?, &criteria, start, count)?))
        }
        "GetSearchCapabilities" => Ok(respond(&[(
            "SearchCaps",
            "@id,@parentID,@refID,upnp:class,dc:title,dc:date,upnp:genre,res,res@size,res@protocolInfo",
        )])),
        "GetSortCapabilities" => Ok(respond(&[("SortCaps", "")])),
        "GetSystemUpdateID" => Ok(respond(&[("Id", &directory::update_id(&shelf).to_string())])),
        _ => Err(Fault::InvalidAction),
    }
}

fn connection_manager(call: &Call) -> Result<String, Fault> {
    let respond = |out: &[(&str, &str)]| soap::response(CONNECTION_MANAGER, &call.action, out);
    match call.action.as_str() {
        "GetProtocolInfo" => Ok(respond(&[("Source", &source_protocol_info()), ("Sink", "")])),
        "GetCurrentConnectionIDs" => Ok(respond(&[("ConnectionIDs", "0")])),
        "GetCurrentConnectionInfo" => {
            if call.arg("ConnectionID")?.trim() != "0" {
                return Err(Fault::NoSuchConnection);
            }
            Ok(respond(&[
                ("RcsID", "-1"),
                ("AVTransportID", "-1"),
                ("ProtocolInfo", ""),
                ("PeerConnectionManager", ""),
                ("PeerConnectionID", "-1"),
                ("Direction", "Output"),
                ("Status", "OK"),
            ]))
        }
        _ => Err(Fault::InvalidAction),
    }
}

/// `http-get:*:TYPE:*` for each type this server sends.
fn source_protocol_info() -> String {
    SOURCE_TYPES.iter().map(|m| format!("http-get:*:{m}:*")).collect::<Vec<_>>().join(",")
}

/// The types of what this server sends.
const SOURCE_TYPES: &[&str] = &[
    "video/mp4",
    "video/quicktime",
    "video/3gpp",
    "video/webm",
    "video/x-matroska",
    "video/ogg",
    "video/mpeg",
    "video/vnd.dlna.mpeg-tts",
    "video/x-flv",
    "video/x-msvideo",
    "video/x-ms-asf",
    "image/jpeg",
];

/// `SUBSCRIBE /dlna/{cds,cms}/events`: a new subscription (`CALLBACK`
/// and `NT: upnp:event`) or a renewal (`SID`), for at most 30 minutes
/// (`dlna::events`). Who: any device on the network (as all of DLNA);
/// events go only to the address that subscribed. How much: bounded
/// subscriptions, one watcher for all.
pub fn subscribe(
    dlna: &Dlna,
    lists: &Lists,
    service: Service,
    peer: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{0}"));
    let timeout = text("timeout");
    let (sid, seconds) = match (text("sid"), text("callback"), text("nt")) {
        (Some(sid), None, None) => {
            let seconds = dlna.events.renew(service, sid, timeout).map_err(event_error)?;
            (sid.trim().to_string(), seconds)
        }
        (None, Some(callback), Some(nt)) if nt.trim() == "upnp:event" => {
            let (sid, seconds) = dlna.events.subscribe(service, peer, callback, timeout).map_err(event_error)?;
            let l = lists.clone();
            let update_id = move || {
                directory::update_id_of(
                    l.library.catalog().generation,
                    l.user_data.data.version(),
                    l.playlists.generation(),
                )
            };
            let state = crate::dlna::events::State {
                update_id: Box::new(update_id),
                source_protocol_info: source_protocol_info(),
            };
            dlna.events.after_subscribe(sid.clone(), Arc::new(state));
            (sid, seconds)
        }
        (None, Some(_), _) => return Err(ApiError::PreconditionFailed),
        _ => return Err(event_error(crate::dlna::events::EventError::Incompatible)),
    };
    let mut res = Response::new(Body::Empty);
    let h = res.headers_mut();
    h.insert("sid", HeaderValue::from_str(&sid).map_err(|_| ApiError::BadRequest("bad SID".into()))?);
    h.insert("timeout", HeaderValue::from_str(&format!("Second-{seconds}")).expect("ascii"));
    Ok(res)
}

/// `UNSUBSCRIBE /dlna/{cds,cms}/events` with the `SID` to end.
pub fn unsubscribe(dlna: &Dlna, service: Service, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    let sid = headers.get("sid").and_then(|v| v.to_str().ok()).ok_or(ApiError::PreconditionFailed)?;
    dlna.events.unsubscribe(service, sid).map_err(event_error)?;
    Ok(Response::new(Body::Empty))
}

fn event_error(e: crate::dlna::events::EventError) -> ApiError {
    use crate::dlna::events::EventError;
    match e {
        EventError::Incompatible => ApiError::BadRequest(e.to_string()),
        EventError::Precondition(_) => ApiError::PreconditionFailed,
        EventError::Full => ApiError::Unavailable(e.to_string()),
    }
}

/// Marks a video response as DLNA players expect: streamed, seekable by
/// byte range, and whether it is converted.
fn streamed(mut res: Response<Body>, converted: bool) -> Response<Body> {
    let h = res.headers_mut();
    h.insert("transfermode.dlna.org", HeaderValue::from_static("Streaming"));
    if let Ok(v) = HeaderValue::from_str(&directory::features(converted)) {
        h.insert("contentfeatures.dlna.org", v);
    }
    res
}

/// Names the video's subtitles (SubRip) as Samsung's televisions ask
/// (`CaptionInfo.sec`).
pub fn with_caption(mut res: Response<Body>, url: Option<&str>) -> Response<Body> {
    if let Some(v) = url.and_then(|u| HeaderValue::from_str(u).ok()) {
        res.headers_mut().insert("captioninfo.sec", v);
    }
    res
}

/// Marks an image response (album art) as DLNA players expect.
pub fn interactive(mut res: Response<Body>) -> Response<Body> {
    res.headers_mut().insert("transfermode.dlna.org", HeaderValue::from_static("Interactive"));
    res
}

/// `GET /dlna/media/{id}` and `/dlna/play/{id}`: as `/video` and `/play`,
/// for the `dlna` profile's sight.
pub async fn media(
    streaming: &super::Streaming,
    sight: &Sight,
    id: VideoId,
    remuxed: bool,
    method: &Method,
    headers: &HeaderMap,
    zero_copy: Option<Pending>,
) -> Result<Response<Body>, ApiError> {
    let res = if remuxed {
        super::play::play(streaming, sight, id, "", method, headers, zero_copy).await?
    } else if headers.contains_key("timeseekrange.dlna.org") {
        // Stored files seek by byte range only (their `OP=01` says so).
        return Err(ApiError::NotAcceptable("this file seeks by byte range; its remuxed MP4 also by time".into()));
    } else {
        let key = crate::http::route::VideoKey::Id(id);
        super::video::video(streaming, sight, &key, method, headers, zero_copy).await?
    };
    Ok(streamed(res, remuxed))
}
