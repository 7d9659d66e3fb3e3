//! The read side of `/api/v1`: the video list, one video, a random one.

use std::borrow::Cow;
use std::sync::Arc;

use hyper::header::{HeaderMap, HeaderValue, CACHE_CONTROL, ETAG};
use hyper::{Response, StatusCode};
use serde_json::json;

use super::{json, ApiError};
use crate::app::Library;
use crate::catalog::listing::ListQuery;
use crate::catalog::{Sight, UserData, Video, Viewer, Visible};
use crate::http::body::Body;
use crate::http::conditional;
use crate::http::listing::Lists;
use crate::library::ids::VideoId;
use crate::library::probe::Name;
use crate::media::inside::cache::Inside;
use crate::people::People;

const MAX_PER_PAGE: usize = 500;

/// A validator of a listing: changes with the library, with anyone's user
/// data and playlists, with the query and the person asking, and with each
/// start of the server.
fn list_tag(lists: &Lists, generation: u64, who: &Viewer, sight: &Sight, q: &ListQuery) -> String {
    static BOOT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let boot = *BOOT.get_or_init(|| fastrand::u64(..));
    let asked = xxhash_rust::xxh3::xxh3_64(format!("{who:?} {:x} {q:?}", sight.key()).as_bytes());
    let (playlists, users) = (lists.playlists.generation(), lists.user_data.data.version());
    format!("W/\"{boot:x}-{generation:x}-{users:x}-{playlists:x}-{asked:x}\"")
}

pub async fn videos(
    lists: &Lists,
    who: &Viewer,
    sight: &Sight,
    q: ListQuery,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let c = lists.library.catalog();
    let tag = list_tag(lists, c.generation, who, sight, &q);
    let validated = |mut res: Response<Body>| {
        let h = res.headers_mut();
        h.insert(ETAG, HeaderValue::from_str(&tag).expect("ASCII"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        res
    };
    if conditional::unchanged(headers, &tag) {
        let mut res = Response::new(Body::Empty);
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(validated(res));
    }
    let per_page = q.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
    let within = sight.visible(&c);
    let (_, listing) = crate::http::listing::run(q, lists, who, sight, c, per_page).await?;
    let users: Vec<UserData> = listing.videos.iter().map(|v| lists.user_data.data.get_for(who, v.id)).collect();
    let videos: Vec<VideoJson> =
        listing.videos.iter().zip(&users).map(|(v, u)| VideoJson::new(v, u, within.as_deref())).collect();
    #[derive(serde::Serialize)]
    struct Page<'a> {
        page: usize,
        pages: usize,
        per_page: usize,
        total: usize,
        videos: Vec<VideoJson<'a>>,
    }
    let page = Page { page: listing.page, pages: listing.pages, per_page, total: listing.total, videos };
    Ok(validated(json(StatusCode::OK, &page)))
}

/// `GET /api/v1/random`: one random video among those the filters let through.
pub async fn random(lists: &Lists, who: &Viewer, sight: &Sight, q: ListQuery) -> Result<Response<Body>, ApiError> {
    let v = crate::http::listing::random(q, lists, who, sight, lists.library.catalog()).await?;
    let within = sight.visible(&lists.library.catalog());
    Ok(json(StatusCode::OK, &video_json(&v, &lists.user_data.data.get_for(who, v.id), within.as_deref())))
}

/// One video, with its subtitles (beside and inside), chapters and audio tracks.
pub async fn video(
    lists: &Lists,
    inside: &Arc<Inside>,
    who: &Viewer,
    sight: &Sight,
    id: VideoId,
) -> Result<Response<Body>, ApiError> {
    let c = lists.library.catalog();
    let v = super::visible(&c, sight, id)?;
    let tracks = super::subtitles::tracks(inside, &c, v).await?;
    let mut out = video_json(v, &lists.user_data.data.get_for(who, id), sight.visible(&c).as_deref());
    tracks.add_to(id, &mut out);
    Ok(json(StatusCode::OK, &out))
}

/// `within`: what the asking person may see (only those paths are shown).
pub(super) fn video_json(v: &Video, user: &UserData, within: Option<&Visible>) -> serde_json::Value {
    serde_json::to_value(VideoJson::new(v, user, within)).expect("plain data serialises")
}

/// A video as the API shows it; serialised straight to text for lists
/// (no map per video). Fields in name order, as a JSON object map prints
/// them.
#[derive(serde::Serialize)]
pub(super) struct VideoJson<'a> {
    added: i64,
    audio_codec: Option<Name>,
    bitrate: Option<u64>,
    broken: Option<&'a str>,
    browser_playable: bool,
    container: Option<Name>,
    duration_ms: Option<u64>,
    /// What its name says it is in a series.
    episode: Option<EpisodeJson>,
    favorite: bool,
    file_title: Cow<'a, str>,
    height: Option<u32>,
    id: String,
    index_at_end: bool,
    paths: Vec<String>,
    play_url: String,
    position_ms: Option<u64>,
    rating: Option<u8>,
    size: u64,
    stream_url: String,
    tags: &'a [String],
    /// When it was recorded, as its own metadata says (UTC).
    taken: Option<String>,
    title: Cow<'a, str>,
    video_codec: Option<Name>,
    views: u64,
    watch_url: String,
    width: Option<u32>,
    /// A film's, a series', or a date's in its name.
    year: Option<u16>,
}

/// A video's place in a series.
#[derive(serde::Serialize)]
pub(super) struct EpisodeJson {
    episode: u16,
    last_episode: Option<u16>,
    season: u16,
    series: String,
    series_key: String,
    series_url: String,
    title: Option<String>,
}

impl<'a> VideoJson<'a> {
    pub(super) fn new(v: &'a Video, user: &'a UserData, within: Option<&Visible>) -> Self {
        let i = v.info.clone().unwrap_or_default();
        let kind = crate::catalog::series::recognise(v, crate::catalog::names::this_year());
        let year = kind.year();
        let episode = match kind {
            crate::catalog::names::Kind::Episode(e) => {
                let (named, series_key) = (e.series(), e.series_key());
                Some(EpisodeJson {
                    episode: e.episode,
                    last_episode: e.last,
                    season: e.season,
                    series: named,
                    series_url: crate::http::pages::series::link(&series_key),
                    series_key,
                    title: e.title,
                })
            }
            _ => None,
        };
        VideoJson {
            added: v.added,
            audio_codec: i.audio_codec,
            bitrate: i.bitrate,
            broken: v.broken.as_deref(),
            browser_playable: i.browser_playable,
            container: v.info.as_ref().map(|i| i.container),
            duration_ms: i.duration_ms,
            episode,
            favorite: user.favorite,
            file_title: v.title(),
            height: i.height,
            id: v.id.to_string(),
            index_at_end: i.index_at_end,
            paths: crate::catalog::sight::paths(v, within),
            play_url: super::play::play_url(v),
            position_ms: user.position_ms,
            rating: user.rating,
            size: v.size(),
            stream_url: format!("/video/{}", v.id),
            tags: &user.tags,
            taken: v.taken().map(|t| crate::catalog::utc(t) + "Z"),
            title: v.title_for(user),
            video_codec: i.video_codec,
            views: user.views,
            watch_url: format!("/watch/{}", v.id),
            width: i.width,
            year,
        }
    }
}

/// `GET /playlist.m3u`: a listing (same sort, filters, search and paging
/// as the pages; up to 500 videos) as an M3U playlist for VLC and other
/// players, each entry a signed link that works for a day without a
/// session, on the name the client reached us by.
pub async fn playlist(
    lists: &Lists,
    people: &People,
    by: Option<&str>,
    who: &Viewer,
    sight: &Sight,
    q: ListQuery,
    origin: &str,
) -> Result<Response<Body>, ApiError> {
    use crate::people::links::DEFAULT_TTL;
    let c = lists.library.catalog();
    let per_page = q.per_page.unwrap_or(MAX_PER_PAGE).clamp(1, MAX_PER_PAGE);
    let (_, listing) = crate::http::listing::run(q, lists, who, sight, c, per_page).await?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut out = String::from("#EXTM3U\n");
    for v in &listing.videos {
        let title = v.title_for(&lists.user_data.data.get_for(who, v.id)).replace(['\r', '\n'], " ");
        let secs = v.duration_ms().map_or(-1, |ms| (ms / 1000) as i64);
        let url = video_url(origin, v.id, people.sign_link(v.id, now + DEFAULT_TTL, by));
        out.push_str(&format!("#EXTINF:{secs},{title}\n{url}\n"));
    }
    let mut res = Response::new(Body::full(out));
    let h = res.headers_mut();
    h.insert(hyper::header::CONTENT_TYPE, HeaderValue::from_static("audio/x-mpegurl; charset=utf-8"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("content-disposition", HeaderValue::from_static("inline; filename=\"vidserve.m3u\""));
    Ok(res)
}

/// `?ttl=SECONDS` of a link request (anything unreadable: the default).
#[derive(serde::Deserialize)]
pub struct LinkQuery {
    ttl: Option<String>,
}

/// `GET /api/v1/videos/{id}/link`: a signed link for other players, on the
/// name the client reached us by (`Host`, already checked) and its scheme.
pub fn link(
    library: &Library,
    people: &People,
    by: Option<&str>,
    sight: &Sight,
    id: VideoId,
    q: LinkQuery,
    origin: &str,
) -> Result<Response<Body>, ApiError> {
    use crate::people::links::{DEFAULT_TTL, MAX_TTL};
    super::visible(&library.catalog(), sight, id)?;
    let ttl = q.ttl.and_then(|v| v.parse::<u64>().ok()).unwrap_or(DEFAULT_TTL).clamp(1, MAX_TTL);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let expires = now + ttl;
    let url = video_url(origin, id, people.sign_link(id, expires, by));
    Ok(json(StatusCode::OK, &json!({ "url": url, "expires": expires, "ttl": ttl })))
}

/// A video's URL for another player (`origin`: `https://nas:8080`, as the
/// client reached us): signed, or plain for a guest (who needs no link:
/// the server lets anyone watch).
fn video_url(origin: &str, id: VideoId, signed: Option<String>) -> String {
    match signed {
        Some(q) => format!("{origin}/video/{id}?{q}"),
        None => format!("{origin}/video/{id}"),
    }
}
