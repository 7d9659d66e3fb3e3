//! Routing: method and raw path in, the table's entry and the path's
//! parameters out, once per request. Pure; unit tests cover odd paths.
//! Paths never become file system paths here: a `VideoKey::Path` is only
//! ever looked up in the catalog.

mod table;

use hyper::Method;
use percent_encoding::percent_decode_str;

use crate::library::ids::VideoId;
use crate::people::Role;

pub use table::{IMAGE_BODY, JSON_BODY, ROUTES};

/// One route of the table.
#[derive(Debug)]
pub struct Endpoint {
    pub verb: Verb,
    /// The path template (`/api/v1/videos/{id}/rating`).
    pub path: &'static str,
    /// Which handler answers.
    pub name: Name,
    /// Who may call it once accounts exist.
    pub access: Access,
    pub kind: Kind,
    /// The largest body it reads (0: it reads none).
    pub body: usize,
    /// Its OpenAPI entry (JSON routes).
    pub doc: Option<Doc>,
    /// Its label in metrics (never request data).
    pub metric: &'static str,
}

/// A route's method; `Get` answers `HEAD` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    /// UPnP event subscriptions (GENA).
    Subscribe,
    Unsubscribe,
}

impl Verb {
    pub fn allows(self, method: &Method) -> bool {
        match self {
            Verb::Get => method == Method::GET || method == Method::HEAD,
            Verb::Post => method == Method::POST,
            Verb::Put => method == Method::PUT,
            Verb::Patch => method == Method::PATCH,
            Verb::Delete => method == Method::DELETE,
            Verb::Subscribe => method.as_str() == "SUBSCRIBE",
            Verb::Unsubscribe => method.as_str() == "UNSUBSCRIBE",
        }
    }

    /// As in `Allow` headers.
    pub fn allow(self) -> &'static str {
        match self {
            Verb::Get => "GET, HEAD",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
            Verb::Subscribe => "SUBSCRIBE",
            Verb::Unsubscribe => "UNSUBSCRIBE",
        }
    }

    /// As in OpenAPI documents.
    pub fn lowercase(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::Subscribe => "subscribe",
            Verb::Unsubscribe => "unsubscribe",
        }
    }
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, sign-in, assets.
    Public,
    /// A signed-in person of at least this role (or, for `Viewer` reads,
    /// a guest with `--guest`).
    Role(Role),
}

/// What a route answers, which decides how its errors look and what an
/// anonymous visitor is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A page a browser navigates to: HTML errors; the anonymous are sent
    /// to sign in.
    Page,
    /// JSON (or an event stream): JSON errors, whatever `Accept` says.
    Json,
    /// Bytes (video, images, assets, playlists, metrics): errors as the
    /// client's `Accept` asks.
    File,
}

/// A JSON route's OpenAPI entry. Schemas are JSON text; `#Name` refers to
/// a component.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    pub request: Option<&'static str>,
    pub response: &'static str,
    /// Takes the listing's query parameters.
    pub listing: bool,
}

/// Which handler answers; one per table entry (`/admin` and `/admin/`
/// share one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    Gallery,
    Favorites,
    BestOf,
    Random,
    Tags,
    Folders,
    SeriesIndex,
    Films,
    SeriesPage,
    SeriesPoster,
    SeasonPoster,
    ApiSeries,
    ApiOneSeries,
    Tag,
    Watch,
    Playlists,
    PlaylistPage,
    Admin,
    LoginForm,
    SignIn,
    SignOut,
    Video,
    /// A Matroska video (or an MP4 with its index at the end) remuxed to
    /// fragmented MP4.
    Play,
    Transcode,
    /// A transcode as HLS, for players without Media Source Extensions:
    /// its playlist, and its segments.
    TranscodePlaylist,
    TranscodeSegment,
    Thumb,
    /// A video's 2:3 poster, cut from its thumbnail.
    Poster,
    /// The preview strip, and its cues.
    Sprite,
    SpriteVtt,
    /// A subtitle file beside the video, or a text track inside it, as WebVTT.
    Subtitle,
    /// The same as SubRip, for televisions (a cast's metadata names it).
    SubtitleSrt,
    /// A listing as an M3U playlist of signed links.
    M3u,
    Asset,
    Favicon,
    ServiceWorker,
    Metrics,
    ApiVideos,
    ApiVideo,
    ApiEditVideo,
    ApiRate,
    ApiUnrate,
    ApiFavorite,
    ApiUnfavorite,
    ApiView,
    ApiAddTag,
    ApiRemoveTag,
    ApiRemember,
    ApiForget,
    ApiLink,
    ApiRenderers,
    ApiRenderer,
    ApiRendererPlay,
    ApiRendererPause,
    ApiRendererResume,
    ApiRendererSeek,
    ApiRendererStop,
    ApiThumbnail,
    ApiBatch,
    ApiTags,
    ApiRandom,
    ApiEvents,
    ApiOpenApi,
    ApiChat,
    ApiPlaylists,
    ApiNewPlaylist,
    ApiPlaylist,
    ApiEditPlaylist,
    ApiDeletePlaylist,
    ApiPlaylistAdd,
    ApiPlaylistRemove,
    Healthz,
    Readyz,
    /// The certificate of the server's own authority (`--tls auto`).
    Authority,
    /// DLNA (`--dlna`): the device description, the services' documents,
    /// their control and events, and what players fetch.
    DlnaDevice,
    DlnaCdsScpd,
    DlnaCmsScpd,
    DlnaCdsControl,
    DlnaCmsControl,
    DlnaSubscribe,
    DlnaUnsubscribe,
    DlnaMedia,
    DlnaPlay,
    DlnaArt,
    DlnaSubtitle,
    Ping,
    CacheStatus,
    CacheRefresh,
    RegenerateThumbnails,
    Performance,
    LoadTest,
    Accounts,
    ChangeAccount,
    Libraries,
    ChangeLibrary,
    LegacyViews,
    LegacyRate,
    LegacyView,
    LegacyFavorite,
    LegacyTag,
    LegacyDeleteTag,
}

/// How a request names a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoKey {
    Id(VideoId),
    /// The original server's `<filename>`: a root-relative path, decoded.
    Path(Vec<u8>),
}

/// Which subtitle track: a file beside the video, or a text track inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtitleRef {
    Beside(usize),
    Inside(usize),
}

/// The parameters a template took from the path.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Params<'a> {
    id: Option<VideoId>,
    n: Option<u64>,
    tag: Option<String>,
    key: Option<VideoKey>,
    width: Option<u32>,
    sub: Option<SubtitleRef>,
    name: Option<&'a str>,
}

/// A parameter the handler needs that its template does not have: a
/// mistake in the table, found by the tests that call every route.
#[derive(Debug, PartialEq, Eq)]
pub struct Missing(pub &'static str);

impl<'a> Params<'a> {
    pub fn id(&self) -> Result<VideoId, Missing> {
        self.id.ok_or(Missing("id"))
    }
    pub fn n(&self) -> Result<u64, Missing> {
        self.n.ok_or(Missing("n"))
    }
    pub fn tag(&mut self) -> Result<String, Missing> {
        self.tag.take().ok_or(Missing("tag"))
    }
    pub fn key(&self) -> Result<&VideoKey, Missing> {
        self.key.as_ref().ok_or(Missing("key"))
    }
    pub fn width(&self) -> Result<u32, Missing> {
        self.width.ok_or(Missing("width"))
    }
    pub fn sub(&self) -> Result<SubtitleRef, Missing> {
        self.sub.ok_or(Missing("sub"))
    }
    pub fn name(&self) -> Result<&'a str, Missing> {
        self.name.ok_or(Missing("name"))
    }
}

/// A routed request.
#[derive(Debug)]
pub struct Route<'a> {
    pub endpoint: &'static Endpoint,
    pub params: Params<'a>,
}

impl Route<'_> {
    /// The video a `/video/{id}`, `/play/{id}`, `/subtitles/{id}/…` or
    /// HLS `/transcode/{id}…` request names (signed links are for these: a
    /// video, its subtitles, and its HLS for the player or TV it is sent
    /// to).
    pub fn video_by_id(&self) -> Option<VideoId> {
        match (self.endpoint.name, &self.params.key, self.params.id) {
            (Name::Video, Some(VideoKey::Id(id)), _) => Some(*id),
            (
                Name::Play | Name::Subtitle | Name::SubtitleSrt | Name::TranscodePlaylist | Name::TranscodeSegment,
                _,
                Some(id),
            ) => Some(id),
            _ => None,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    /// The path exists for other methods: the `Allow` header.
    MethodNotAllowed(String),
    BadPath(&'static str),
}

/// Finds the route of `method path`: 404 when no template matches, 405
/// (with every method the path allows) when only other methods' do.
pub fn route<'a>(method: &Method, path: &'a str) -> Result<Route<'a>, RouteError> {
    let mut allow: Vec<&'static str> = Vec::new();
    for endpoint in ROUTES {
        let Some(params) = matches(endpoint.path, path)? else { continue };
        if endpoint.verb.allows(method) {
            return Ok(Route { endpoint, params });
        }
        if !allow.contains(&endpoint.verb.allow()) {
            allow.push(endpoint.verb.allow());
        }
    }
    if allow.is_empty() {
        Err(RouteError::NotFound)
    } else {
        Err(RouteError::MethodNotAllowed(allow.join(", ")))
    }
}

/// The parameters of `path` when it fits `template`; `None` when it does
/// not; an error when it fits but names something no route may name.
fn matches<'a>(template: &'static str, path: &'a str) -> Result<Option<Params<'a>>, RouteError> {
    let mut params = Params::default();
    let (mut wanted, mut rest) = (template, path);
    loop {
        let (Some(w), Some(r)) = (wanted.strip_prefix('/'), rest.strip_prefix('/')) else {
            return Ok((wanted.is_empty() && rest.is_empty()).then_some(params));
        };
        let (segment, next) = first_segment(w);
        wanted = next;
        let Some(param) = segment.strip_prefix('{') else {
            let (got, after) = first_segment(r);
            if got != segment {
                return Ok(None);
            }
            rest = after;
            continue;
        };
        let (param, suffix) = param.split_once('}').unwrap_or((param, ""));
        if param == "key" || param == "tag" {
            // The rest of the path.
            let Some(value) = r.strip_suffix(suffix).filter(|v| !v.is_empty()) else { return Ok(None) };
            if param == "key" {
                params.key = Some(video_key(value)?);
            } else {
                params.tag = Some(decode_text(value)?);
            }
            rest = "";
            continue;
        }
        let (got, after) = first_segment(r);
        rest = after;
        let Some(value) = got.strip_suffix(suffix) else { return Ok(None) };
        let fits = match param {
            "id" => value.parse().map(|id| params.id = Some(id)).is_ok(),
            "n" => value.parse().map(|n| params.n = Some(n)).is_ok(),
            "width" => match value.parse() {
                Ok(w) if crate::media::thumbs::SIZES.contains(&w) => {
                    params.width = Some(w);
                    true
                }
                _ => false,
            },
            "sub" => match subtitle_ref(value) {
                Some(s) => {
                    params.sub = Some(s);
                    true
                }
                None => false,
            },
            "name" => {
                params.name = Some(value);
                !value.is_empty()
            }
            _ => !value.is_empty(),
        };
        if !fits {
            return Ok(None);
        }
    }
}

/// The first segment of `s` (a path after its leading `/`), and the rest
/// from the next `/` on.
fn first_segment(s: &str) -> (&str, &str) {
    s.find('/').map_or((s, ""), |i| s.split_at(i))
}

/// `{n}` (a file beside the video) or `e{n}` (a track inside it).
fn subtitle_ref(raw: &str) -> Option<SubtitleRef> {
    match raw.strip_prefix('e') {
        Some(n) => n.parse().ok().map(SubtitleRef::Inside),
        None => raw.parse().ok().map(SubtitleRef::Beside),
    }
}

/// A percent-encoded UTF-8 path segment (a tag).
fn decode_text(raw: &str) -> Result<String, RouteError> {
    let text = percent_decode_str(raw).decode_utf8().map_err(|_| RouteError::BadPath("not UTF-8"))?;
    if text.is_empty() || text.contains('\0') {
        return Err(RouteError::NotFound);
    }
    Ok(text.into_owned())
}

/// An id, or a root-relative path that cannot climb or name a root.
fn video_key(raw: &str) -> Result<VideoKey, RouteError> {
    if let Ok(id) = raw.parse::<VideoId>() {
        return Ok(VideoKey::Id(id));
    }
    let bytes: Vec<u8> = percent_decode_str(raw).collect();
    if bytes.is_empty() {
        return Err(RouteError::NotFound);
    }
    if bytes.contains(&0) {
        return Err(RouteError::BadPath("NUL byte in path"));
    }
    if bytes.split(|&b| b == b'/').any(|seg| seg.is_empty() || seg == b"." || seg == b"..") {
        return Err(RouteError::BadPath("empty, '.' or '..' path segment"));
    }
    Ok(VideoKey::Path(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Result<Route<'_>, RouteError> {
        route(&Method::GET, path)
    }

    fn name(r: Result<Route<'_>, RouteError>) -> Result<Name, RouteError> {
        r.map(|r| r.endpoint.name)
    }

    /// A path that fits `template`, its parameters filled in.
    fn example(template: &str) -> String {
        template
            .replace("{id}", "0000000000000abc")
            .replace("{key}", "a/b%20c.mp4")
            .replace("{tag}", "caf%C3%A9")
            .replace("{n}", "7")
            .replace("{width}", &crate::media::thumbs::SIZES[0].to_string())
            .replace("{sub}", "e1")
            .replace("{hash}", "123")
            .replace("{name}", "app.css")
    }

    fn method(v: Verb) -> Method {
        match v {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
            Verb::Subscribe | Verb::Unsubscribe => Method::from_bytes(v.allow().as_bytes()).unwrap(),
        }
    }

    #[test]
    fn every_entry_routes_back_to_itself() {
        for e in ROUTES {
            let path = example(e.path);
            let r = route(&method(e.verb), &path).unwrap_or_else(|err| panic!("{path}: {err:?}"));
            assert!(std::ptr::eq(r.endpoint, e) || (r.endpoint.name == e.name && e.path == "/admin/"), "{path}");
            if e.kind == Kind::Json {
                let doc = e.doc.unwrap_or_else(|| panic!("{} has no OpenAPI entry", e.path));
                assert!(!doc.summary.is_empty());
            }
            assert!(e.metric.chars().all(|c| c.is_ascii_graphic()), "{}", e.metric);
        }
    }

    #[test]
    fn parameters() {
        let id = VideoId(0xabc);
        let r = get("/watch/0000000000000abc").unwrap();
        assert_eq!((r.endpoint.name, r.params.key()), (Name::Watch, Ok(&VideoKey::Id(id))));
        let r = get("/video/a/b%20c.mp4").unwrap();
        assert_eq!(r.params.key(), Ok(&VideoKey::Path(b"a/b c.mp4".to_vec())));
        let r = get("/video/%C3%BC%23%3F.mp4").unwrap();
        assert_eq!(r.params.key(), Ok(&VideoKey::Path("ü#?.mp4".as_bytes().to_vec())));
        let r = get("/video/a%FFb.mp4").unwrap();
        assert_eq!(r.params.key(), Ok(&VideoKey::Path(b"a\xFFb.mp4".to_vec())));
        let r = get("/video/back%5Cslash.mp4").unwrap();
        assert_eq!(r.params.key(), Ok(&VideoKey::Path(b"back\\slash.mp4".to_vec())));
        assert_eq!(r.video_by_id(), None);
        assert_eq!(get("/video/0000000000000abc").unwrap().video_by_id(), Some(id));
        let r = get("/assets/123/app.css").unwrap();
        assert_eq!((r.endpoint.name, r.params.name()), (Name::Asset, Ok("app.css")));
        let r = get("/subtitles/0000000000000abc/e2.vtt").unwrap();
        assert_eq!((r.params.id(), r.params.sub()), (Ok(id), Ok(SubtitleRef::Inside(2))));
        let r = get("/subtitles/0000000000000abc/3.vtt").unwrap();
        assert_eq!(r.params.sub(), Ok(SubtitleRef::Beside(3)));
        let mut r = route(&Method::DELETE, "/api/v1/videos/0000000000000abc/tags/a%2Fb/c").unwrap();
        assert_eq!((r.endpoint.name, r.params.tag()), (Name::ApiRemoveTag, Ok("a/b/c".to_string())));
        let r = route(&Method::DELETE, "/api/v1/playlists/9/videos/0000000000000abc").unwrap();
        assert_eq!((r.params.n(), r.params.id()), (Ok(9), Ok(id)));
        assert_eq!(r.params.width(), Err(Missing("width")));
        assert_eq!(name(get("/sprite/0000000000000abc.vtt")), Ok(Name::SpriteVtt));
        assert_eq!(name(get("/sprite/0000000000000abc.jpg")), Ok(Name::Sprite));
        assert_eq!(name(get("/admin/")), Ok(Name::Admin));
    }

    #[test]
    fn refuses_escapes() {
        for bad in [
            "/video/../etc/passwd",
            "/video/a/../../x.mp4",
            "/video/%2e%2e/x.mp4",
            "/video/%2E%2E%2Fx.mp4",
            "/video//etc/passwd",
            "/video/%2Fetc%2Fpasswd",
            "/video/a/./b.mp4",
            "/video/a%00.mp4",
            "/watch/x/",
        ] {
            assert!(matches!(get(bad), Err(RouteError::BadPath(_))), "{bad}");
        }
        for missing in [
            "/video/",
            "/nope",
            "/assets/app.css",
            "/assets/1/../x",
            "/assets/1/",
            "/thumb/0000000000000abc/7",
            "/sprite/0000000000000abc.png",
            "/play/0000000000000abc",
            "/api/v1/videos/xyz",
            "/api/v1/videos/0000000000000abc/tags/",
            "",
            "*",
            "//",
            "/api/v1/videos/0000000000000abc/",
        ] {
            assert_eq!(name(get(missing)), Err(RouteError::NotFound), "{missing}");
        }
    }

    #[test]
    fn methods() {
        let allow = |a: &str| Err(RouteError::MethodNotAllowed(a.into()));
        assert_eq!(name(route(&Method::POST, "/")), allow("GET, HEAD"));
        assert_eq!(name(route(&Method::HEAD, "/video/0000000000000abc")), Ok(Name::Video));
        assert_eq!(name(route(&Method::GET, "/admin/cache/refresh")), allow("POST"));
        assert_eq!(name(route(&Method::POST, "/admin/cache/refresh")), Ok(Name::CacheRefresh));
        assert_eq!(name(route(&Method::POST, "/api/v1/videos/0000000000000abc")), allow("GET, HEAD, PATCH"));
        assert_eq!(name(route(&Method::GET, "/api/v1/videos/0000000000000abc/rating")), allow("PUT, DELETE"));
        assert_eq!(name(route(&Method::PUT, "/login")), allow("GET, HEAD, POST"));
        assert_eq!(name(route(&Method::PATCH, "/api/v1/playlists/3")), Ok(Name::ApiEditPlaylist));
    }
}
