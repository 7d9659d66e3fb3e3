//! Routing: method and raw path in, a `Route` value out. Pure; a table of
//! unit tests covers odd paths. Paths never become file system paths here:
//! a `VideoKey::Path` is only ever looked up in the catalog.

use hyper::Method;
use percent_encoding::percent_decode_str;

use crate::library::ids::VideoId;

/// How a request names a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoKey {
    Id(VideoId),
    /// The original server's `<filename>`: a root-relative path, decoded.
    Path(Vec<u8>),
}

#[derive(Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Gallery,
    Favorites,
    BestOf,
    Random,
    ApiRandom,
    Watch(VideoKey),
    Video(VideoKey),
    Asset(&'a str),
    /// `/thumb/{id}/{width}`.
    Thumb(VideoId, u32),
    /// `/sprite/{id}.jpg`: the preview strip; `/sprite/{id}.vtt`: its cues.
    Sprite(VideoId),
    SpriteVtt(VideoId),
    Healthz,
    Readyz,
    Metrics,
    Ping,
    Admin,
    CacheStatus,
    CacheRefresh,
    RegenerateThumbnails,
    /// `GET` a report, `POST {"action": "load_test"}` runs one.
    Performance,
    ApiVideos,
    ApiVideo(VideoId),
    /// `PATCH /api/v1/videos/{id}`: edit the title.
    ApiEditVideo(VideoId),
    /// `PUT` remembers, `DELETE` forgets the resume position.
    ApiPosition(VideoId),
    /// `POST` a frame captured by the browser.
    ApiThumbnail(VideoId),
    /// `GET` a signed, expiring link of the video's bytes.
    ApiLink(VideoId),
    /// `PUT` sets, `DELETE` clears.
    ApiRating(VideoId),
    ApiView(VideoId),
    /// `PUT` marks, `DELETE` unmarks.
    ApiFavorite(VideoId),
    ApiAddTag(VideoId),
    ApiRemoveTag(VideoId, String),
    ApiTags,
    ApiBatch,
    ApiEvents,
    ApiOpenApi,
    Tags,
    Tag(String),
    LegacyTag,
    LegacyDeleteTag,
    /// The original server's JSON/form routes, keyed by file name.
    LegacyRate,
    LegacyView,
    LegacyFavorite,
    LegacyViews,
    /// `GET` the sign-in form, `POST` signs in.
    Login,
    /// `POST` signs out.
    Logout,
    /// `GET` lists accounts, `POST` changes one.
    AdminUsers,
    /// `POST` a conversation; the answer streams back.
    ApiChat,
    /// `/subtitles/{id}/{n}.vtt`: the video's `n`th subtitle file, and
    /// `/subtitles/{id}/e{n}.vtt` its `n`th text track inside the file, as WebVTT.
    Subtitle(VideoId, SubtitleRef),
    /// `/sw.js`: the service worker.
    ServiceWorker,
    /// `/playlist.m3u`: a listing as an M3U playlist of signed links.
    Playlist,
    /// `/play/{id}.mp4`: a Matroska video remuxed to fragmented MP4.
    Play(VideoId),
    /// `/playlists`: the asking person's playlists.
    Playlists,
    /// `/playlists/{n}`: one playlist as a gallery, with its editor.
    PlaylistPage(u64),
    /// `GET` lists the asking person's playlists, `POST` makes one.
    ApiPlaylists,
    /// `GET`, `PATCH` (name, videos in order) or `DELETE` one playlist.
    ApiPlaylist(u64),
    /// `POST` adds videos to the end of a playlist.
    ApiPlaylistAdd(u64),
    /// `DELETE` takes a video out of a playlist.
    ApiPlaylistRemove(u64, VideoId),
}

/// Which subtitle track: a file beside the video, or a text track inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtitleRef {
    Beside(usize),
    Inside(usize),
}

impl Route<'_> {
    /// A short name for metrics (one per route, never request data).
    pub fn metric_name(&self) -> &'static str {
        use Route::*;
        match self {
            Gallery => "gallery",
            Favorites => "favorites",
            BestOf => "best_of",
            Random => "random",
            Watch(_) => "watch",
            Video(_) => "video",
            Asset(_) | ServiceWorker => "asset",
            Playlist => "playlist",
            Playlists | PlaylistPage(_) => "playlists",
            Play(_) => "play",
            Thumb(..) => "thumb",
            Sprite(_) | SpriteVtt(_) => "sprite",
            Subtitle(..) => "subtitles",
            Metrics => "metrics",
            Admin => "admin",
            Tags => "tags",
            Tag(_) => "tag",
            Login => "login",
            Logout => "logout",
            other => other.api_template().unwrap_or("other"),
        }
    }

    /// The OpenAPI path template of a JSON route; `None` for pages, video
    /// bytes and assets. Exhaustive on purpose: a new route must say.
    pub fn api_template(&self) -> Option<&'static str> {
        use Route::*;
        Some(match self {
            Gallery | Favorites | BestOf | Random | Watch(_) | Video(_) | Asset(_) | Thumb(..) | Sprite(_)
            | SpriteVtt(_) | Metrics | Admin | Tags | Tag(_) | Login | Logout | Subtitle(..) | ServiceWorker
            | Playlist | Playlists | PlaylistPage(_) | Play(_) => return None,
            ApiPlaylists => "/api/v1/playlists",
            ApiPlaylist(_) => "/api/v1/playlists/{n}",
            ApiPlaylistAdd(_) => "/api/v1/playlists/{n}/videos",
            ApiPlaylistRemove(..) => "/api/v1/playlists/{n}/videos/{id}",
            ApiVideos => "/api/v1/videos",
            ApiVideo(_) | ApiEditVideo(_) => "/api/v1/videos/{id}",
            ApiRating(_) => "/api/v1/videos/{id}/rating",
            ApiFavorite(_) => "/api/v1/videos/{id}/favorite",
            ApiView(_) => "/api/v1/videos/{id}/view",
            ApiAddTag(_) => "/api/v1/videos/{id}/tags",
            ApiRemoveTag(..) => "/api/v1/videos/{id}/tags/{tag}",
            ApiPosition(_) => "/api/v1/videos/{id}/position",
            ApiThumbnail(_) => "/api/v1/videos/{id}/thumbnail",
            ApiLink(_) => "/api/v1/videos/{id}/link",
            ApiBatch => "/api/v1/batch",
            ApiTags => "/api/v1/tags",
            ApiRandom => "/api/v1/random",
            ApiEvents => "/api/v1/events",
            ApiOpenApi => "/api/v1/openapi.json",
            Healthz => "/healthz",
            Readyz => "/readyz",
            Ping => "/ping",
            CacheStatus => "/admin/cache/status",
            CacheRefresh => "/admin/cache/refresh",
            RegenerateThumbnails => "/admin/thumbnails/regenerate",
            Performance => "/admin/performance",
            AdminUsers => "/admin/users",
            ApiChat => "/api/v1/chat",
            LegacyViews => "/get_views",
            LegacyRate => "/rate",
            LegacyView => "/view",
            LegacyFavorite => "/favorite",
            LegacyTag => "/tag",
            LegacyDeleteTag => "/delete_tag",
        })
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    NotFound,
    MethodNotAllowed(&'static str),
    BadPath(&'static str),
}

const READ: &str = "GET, HEAD";

/// `/api/v1/playlists/{n}`, `…/{n}/videos`, `…/{n}/videos/{id}`.
fn playlist_api<'a>(method: &Method, rest: &str) -> Result<Route<'a>, RouteError> {
    let (n, what) = rest.split_once('/').unwrap_or((rest, ""));
    let n: u64 = n.parse().map_err(|_| RouteError::NotFound)?;
    match what {
        "" if matches!(*method, Method::GET | Method::HEAD | Method::PATCH | Method::DELETE) => {
            Ok(Route::ApiPlaylist(n))
        }
        "" => Err(RouteError::MethodNotAllowed("GET, HEAD, PATCH, DELETE")),
        "videos" => post(method, Route::ApiPlaylistAdd(n)),
        _ => {
            let id = what.strip_prefix("videos/").ok_or(RouteError::NotFound)?;
            let id = id.parse().map_err(|_| RouteError::NotFound)?;
            if method == Method::DELETE {
                Ok(Route::ApiPlaylistRemove(n, id))
            } else {
                Err(RouteError::MethodNotAllowed("DELETE"))
            }
        }
    }
}
const SET_OR_CLEAR: &str = "PUT, DELETE";

pub fn route<'a>(method: &Method, path: &'a str) -> Result<Route<'a>, RouteError> {
    let read = method == Method::GET || method == Method::HEAD;
    let need_read = |r: Route<'a>| if read { Ok(r) } else { Err(RouteError::MethodNotAllowed(READ)) };
    match path {
        "/" => return need_read(Route::Gallery),
        "/favorites" => return need_read(Route::Favorites),
        "/best-of" => return need_read(Route::BestOf),
        "/random" => return need_read(Route::Random),
        "/api/v1/random" => return need_read(Route::ApiRandom),
        "/healthz" => return need_read(Route::Healthz),
        "/metrics" => return need_read(Route::Metrics),
        "/readyz" => return need_read(Route::Readyz),
        "/ping" => return need_read(Route::Ping),
        "/admin" | "/admin/" => return need_read(Route::Admin),
        "/admin/cache/status" => return need_read(Route::CacheStatus),
        "/admin/cache/refresh" => return post(method, Route::CacheRefresh),
        "/admin/thumbnails/regenerate" => return post(method, Route::RegenerateThumbnails),
        "/admin/users" => {
            return if read || method == Method::POST {
                Ok(Route::AdminUsers)
            } else {
                Err(RouteError::MethodNotAllowed("GET, HEAD, POST"))
            }
        }
        "/admin/performance" => {
            return if read || method == Method::POST {
                Ok(Route::Performance)
            } else {
                Err(RouteError::MethodNotAllowed("GET, HEAD, POST"))
            }
        }
        "/api/v1/videos" => return need_read(Route::ApiVideos),
        "/get_views" => return need_read(Route::LegacyViews),
        "/rate" => return post(method, Route::LegacyRate),
        "/view" => return post(method, Route::LegacyView),
        "/favorite" => return post(method, Route::LegacyFavorite),
        "/tag" => return post(method, Route::LegacyTag),
        "/delete_tag" => return post(method, Route::LegacyDeleteTag),
        "/tags" => return need_read(Route::Tags),
        "/api/v1/tags" => return need_read(Route::ApiTags),
        "/api/v1/events" => return need_read(Route::ApiEvents),
        "/api/v1/openapi.json" => return need_read(Route::ApiOpenApi),
        "/api/v1/batch" => return post(method, Route::ApiBatch),
        "/api/v1/chat" => return post(method, Route::ApiChat),
        "/favicon.ico" => return need_read(Route::Asset("icon.svg")),
        // At the root, so that it may look after every page.
        "/sw.js" => return need_read(Route::ServiceWorker),
        "/playlist.m3u" => return need_read(Route::Playlist),
        "/playlists" => return need_read(Route::Playlists),
        "/api/v1/playlists" => {
            return if read || method == Method::POST {
                Ok(Route::ApiPlaylists)
            } else {
                Err(RouteError::MethodNotAllowed("GET, HEAD, POST"))
            }
        }
        "/login" => {
            return if read || method == Method::POST {
                Ok(Route::Login)
            } else {
                Err(RouteError::MethodNotAllowed("GET, HEAD, POST"))
            }
        }
        "/logout" => return post(method, Route::Logout),
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("/play/") {
        let id = rest.strip_suffix(".mp4").ok_or(RouteError::NotFound)?;
        return need_read(Route::Play(id.parse().map_err(|_| RouteError::NotFound)?));
    }
    if let Some(rest) = path.strip_prefix("/playlists/") {
        return need_read(Route::PlaylistPage(rest.parse().map_err(|_| RouteError::NotFound)?));
    }
    if let Some(rest) = path.strip_prefix("/api/v1/playlists/") {
        return playlist_api(method, rest);
    }
    if let Some(rest) = path.strip_prefix("/watch/") {
        return need_read(Route::Watch(video_key(rest)?));
    }
    if let Some(rest) = path.strip_prefix("/video/") {
        return need_read(Route::Video(video_key(rest)?));
    }
    if let Some(rest) = path.strip_prefix("/api/v1/videos/") {
        let (id, what) = rest.split_once('/').unwrap_or((rest, ""));
        let id = id.parse().map_err(|_| RouteError::NotFound)?;
        let set_or_clear = |r: Route<'a>| {
            if method == Method::PUT || method == Method::DELETE {
                Ok(r)
            } else {
                Err(RouteError::MethodNotAllowed(SET_OR_CLEAR))
            }
        };
        return match what {
            "" if method == Method::PATCH => Ok(Route::ApiEditVideo(id)),
            "" => need_read(Route::ApiVideo(id)),
            "position" => set_or_clear(Route::ApiPosition(id)),
            "thumbnail" => post(method, Route::ApiThumbnail(id)),
            "link" => need_read(Route::ApiLink(id)),
            "rating" => set_or_clear(Route::ApiRating(id)),
            "favorite" => set_or_clear(Route::ApiFavorite(id)),
            "view" => post(method, Route::ApiView(id)),
            "tags" => post(method, Route::ApiAddTag(id)),
            _ => match what.strip_prefix("tags/") {
                Some(tag) if !tag.is_empty() => {
                    if method == Method::DELETE {
                        Ok(Route::ApiRemoveTag(id, decode_text(tag)?))
                    } else {
                        Err(RouteError::MethodNotAllowed("DELETE"))
                    }
                }
                _ => Err(RouteError::NotFound),
            },
        };
    }
    if let Some(rest) = path.strip_prefix("/subtitles/") {
        let (id, n) = rest.split_once('/').ok_or(RouteError::NotFound)?;
        let n = n.strip_suffix(".vtt").ok_or(RouteError::NotFound)?;
        let n = match n.strip_prefix('e') {
            Some(n) => n.parse().map(SubtitleRef::Inside),
            None => n.parse().map(SubtitleRef::Beside),
        }
        .map_err(|_| RouteError::NotFound)?;
        return need_read(Route::Subtitle(id.parse().map_err(|_| RouteError::NotFound)?, n));
    }
    if let Some(rest) = path.strip_prefix("/sprite/") {
        if let Some(id) = rest.strip_suffix(".jpg") {
            return need_read(Route::Sprite(id.parse().map_err(|_| RouteError::NotFound)?));
        }
        if let Some(id) = rest.strip_suffix(".vtt") {
            return need_read(Route::SpriteVtt(id.parse().map_err(|_| RouteError::NotFound)?));
        }
        return Err(RouteError::NotFound);
    }
    if let Some(rest) = path.strip_prefix("/thumb/") {
        let (id, width) = rest.split_once('/').ok_or(RouteError::NotFound)?;
        let id = id.parse().map_err(|_| RouteError::NotFound)?;
        let width =
            width.parse().ok().filter(|w| crate::media::thumbs::SIZES.contains(w)).ok_or(RouteError::NotFound)?;
        return need_read(Route::Thumb(id, width));
    }
    if let Some(rest) = path.strip_prefix("/tag/") {
        return need_read(Route::Tag(decode_text(rest)?));
    }
    if let Some(rest) = path.strip_prefix("/assets/") {
        // `/assets/{hash}/{name}`: the hash only busts caches.
        let (_, name) = rest.split_once('/').ok_or(RouteError::NotFound)?;
        if name.is_empty() || name.contains('/') {
            return Err(RouteError::NotFound);
        }
        return need_read(Route::Asset(name));
    }
    Err(RouteError::NotFound)
}

fn post<'a>(method: &Method, r: Route<'a>) -> Result<Route<'a>, RouteError> {
    if method == Method::POST {
        Ok(r)
    } else {
        Err(RouteError::MethodNotAllowed("POST"))
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

    #[test]
    fn table() {
        let id = VideoId(0xabc);
        assert_eq!(get("/"), Ok(Route::Gallery));
        assert_eq!(get("/watch/0000000000000abc"), Ok(Route::Watch(VideoKey::Id(id))));
        assert_eq!(get("/video/0000000000000abc"), Ok(Route::Video(VideoKey::Id(id))));
        assert_eq!(get("/video/a/b%20c.mp4"), Ok(Route::Video(VideoKey::Path(b"a/b c.mp4".to_vec()))));
        assert_eq!(get("/video/%C3%BC%23%3F.mp4"), Ok(Route::Video(VideoKey::Path("ü#?.mp4".as_bytes().to_vec()))));
        assert_eq!(get("/video/a%FFb.mp4"), Ok(Route::Video(VideoKey::Path(b"a\xFFb.mp4".to_vec()))));
        assert_eq!(get("/video/back%5Cslash.mp4"), Ok(Route::Video(VideoKey::Path(b"back\\slash.mp4".to_vec()))));
        assert_eq!(get("/assets/123/app.css"), Ok(Route::Asset("app.css")));
        assert_eq!(get("/api/v1/videos/0000000000000abc"), Ok(Route::ApiVideo(id)));
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
        assert_eq!(get("/video/"), Err(RouteError::NotFound));
        assert_eq!(get("/nope"), Err(RouteError::NotFound));
        assert_eq!(get("/assets/app.css"), Err(RouteError::NotFound));
        assert_eq!(get("/assets/1/../x"), Err(RouteError::NotFound));
    }

    #[test]
    fn methods() {
        assert_eq!(route(&Method::POST, "/"), Err(RouteError::MethodNotAllowed(READ)));
        assert_eq!(route(&Method::HEAD, "/video/0000000000000abc"), Ok(Route::Video(VideoKey::Id(VideoId(0xabc)))));
        assert_eq!(route(&Method::GET, "/admin/cache/refresh"), Err(RouteError::MethodNotAllowed("POST")));
        assert_eq!(route(&Method::POST, "/admin/cache/refresh"), Ok(Route::CacheRefresh));
    }
}
