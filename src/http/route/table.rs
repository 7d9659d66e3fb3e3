//! Every route, once: method, path template, handler, who may call it,
//! what its answers are, its largest body and (for JSON routes) its
//! OpenAPI entry. The router, the permission check, the OpenAPI document,
//! the metrics label and the access test all read this table.
//!
//! Templates: literal segments, and `{param}` segments with an optional
//! literal suffix (`{id}.mp4`). `{key}` and `{tag}` take the rest of the
//! path. Schemas are JSON text; `#Name` is a reference to a component of
//! the OpenAPI document.

use super::{Access, Doc, Endpoint, Kind, Name, Verb};
use crate::people::Role;

/// Largest JSON or form body of the write routes.
pub const JSON_BODY: usize = 64 * 1024;
/// Largest image upload.
pub const IMAGE_BODY: usize = 4 * 1024 * 1024;

const ANYONE: Access = Access::Public;
const VIEWER: Access = Access::Role(Role::Viewer);
const EDITOR: Access = Access::Role(Role::Editor);
const ADMIN: Access = Access::Role(Role::Admin);

use Name::*;
use Verb::{Delete, Get, Patch, Post, Put, Subscribe, Unsubscribe};

/// A page a browser visits: HTML errors, and sign-in for the anonymous.
const fn page(verb: Verb, path: &'static str, name: Name, access: Access, metric: &'static str) -> Endpoint {
    Endpoint { verb, path, name, access, kind: Kind::Page, body: 0, doc: None, metric }
}

/// Bytes that are not a page (video, images, assets, playlists, metrics).
const fn file(path: &'static str, name: Name, access: Access, metric: &'static str) -> Endpoint {
    Endpoint { verb: Get, path, name, access, kind: Kind::File, body: 0, doc: None, metric }
}

/// Largest DLNA control request (a Browse is well under 2 KiB).
pub const DLNA_BODY: usize = 64 * 1024;

/// A DLNA control or event route (public: see the table).
const fn dlna(verb: Verb, path: &'static str, name: Name) -> Endpoint {
    Endpoint { verb, path, name, access: ANYONE, kind: Kind::File, body: 0, doc: None, metric: "dlna" }
}

/// A JSON route, documented.
const fn api(
    verb: Verb,
    path: &'static str,
    name: Name,
    access: Access,
    summary: &'static str,
    response: &'static str,
) -> Endpoint {
    let doc = Doc { summary, request: None, response, listing: false };
    Endpoint { verb, path, name, access, kind: Kind::Json, body: 0, doc: Some(doc), metric: path }
}

impl Endpoint {
    /// Takes a body of at most `limit` bytes (documented by `schema`).
    const fn body(mut self, limit: usize, schema: &'static str) -> Self {
        self.body = limit;
        if let Some(doc) = &mut self.doc {
            doc.request = Some(schema);
        }
        self
    }

    /// Takes the listing's query parameters (sort, filters, search, paging).
    const fn listing(mut self) -> Self {
        if let Some(doc) = &mut self.doc {
            doc.listing = true;
        }
        self
    }
}

const OBJECT: &str = r#"{ "type": "object" }"#;
const EVENTS: &str = r#"{ "type": "string", "contentMediaType": "text/event-stream" }"#;
const RATING: &str = r#"{ "type": "object", "required": ["rating"], "properties": { "rating": { "type": "integer", "minimum": 1, "maximum": 5 } } }"#;
const TITLE: &str = r#"{ "type": "object", "properties": { "title": { "type": ["string", "null"] } } }"#;
const TAG: &str =
    r#"{ "type": "object", "required": ["tag"], "properties": { "tag": { "type": "string", "maxLength": 100 } } }"#;
const POSITION: &str =
    r#"{ "type": "object", "required": ["seconds"], "properties": { "seconds": { "type": "number", "minimum": 0 } } }"#;
const LINK: &str = r#"{ "type": "object", "properties": { "url": { "type": "string" }, "expires": { "type": "integer", "description": "Unix seconds" }, "ttl": { "type": "integer", "description": "seconds the link works" } } }"#;
const RENDERER: &str = r##"{ "type": "object", "properties": { "id": { "type": "string" }, "name": { "type": "string" }, "casting": { "$ref": "#/components/schemas/Casting" } } }"##;
const RENDERERS: &str = r##"{ "type": "object", "properties": { "renderers": { "type": "array", "items": { "type": "object", "properties": { "id": { "type": "string" }, "name": { "type": "string" }, "casting": { "$ref": "#/components/schemas/Casting" } } } } } }"##;
const SERIES_LIST: &str = r##"{ "type": "object", "properties": { "series": { "type": "array", "items": { "type": "object", "properties": { "key": { "type": "string" }, "name": { "type": "string" }, "year": { "type": ["integer", "null"] }, "title": { "type": "string" }, "episodes": { "type": "integer" }, "seasons": { "type": "array", "items": { "type": "integer" } }, "url": { "type": "string" } } } }, "total": { "type": "integer" }, "page": { "type": "integer" }, "per_page": { "type": "integer" } } }"##;
const SERIES: &str = r##"{ "type": "object", "properties": { "key": { "type": "string" }, "name": { "type": "string" }, "year": { "type": ["integer", "null"] }, "title": { "type": "string" }, "seasons": { "type": "array", "items": { "type": "object", "properties": { "season": { "type": "integer", "description": "0: specials" }, "episodes": { "type": "array", "items": { "type": "object", "properties": { "season": { "type": "integer" }, "episode": { "type": "integer" }, "last_episode": { "type": ["integer", "null"] }, "label": { "type": "string" }, "title": { "type": ["string", "null"] }, "video": { "$ref": "#/components/schemas/Video" } } } } } } }, "next": { "oneOf": [{ "$ref": "#/components/schemas/Video" }, { "type": "null" }] } } }"##;
const CAST: &str = r#"{ "type": "object", "required": ["video"], "properties": { "video": { "type": "string" }, "position_ms": { "type": "integer", "minimum": 0 } } }"#;
const SEEK: &str = r#"{ "type": "object", "required": ["position_ms"], "properties": { "position_ms": { "type": "integer", "minimum": 0 } } }"#;
const IMAGE: &str = r#"{ "type": "string", "contentMediaType": "image/*" }"#;
const TAGS: &str = r#"{ "type": "object", "properties": { "tags": { "type": "array", "items": { "type": "object", "properties": { "tag": { "type": "string" }, "count": { "type": "integer" } } } } } }"#;
const LOAD_TEST: &str = r#"{ "type": "object", "required": ["action"], "properties": { "action": { "const": "load_test" }, "scenario": { "enum": ["gallery", "stream", "ranges", "writes", "mixed"] }, "connections": { "type": "integer" }, "duration": { "type": "integer" } } }"#;
const ACCOUNT: &str = r#"{ "type": "object", "required": ["action", "name"], "properties": { "action": { "enum": ["add", "password", "libraries", "token", "revoke", "sign_out", "remove"] }, "name": { "type": "string", "description": "an account, or (action libraries) the profiles guest and dlna" }, "role": { "enum": ["viewer", "editor", "admin"] }, "password": { "type": "string", "minLength": 8 }, "no_password": { "type": "boolean" }, "libraries": { "type": ["array", "null"], "items": { "type": "string" }, "description": "the libraries it may see; null or absent: everything" } } }"#;
const LIBRARY: &str = r#"{ "type": "object", "required": ["action", "name"], "properties": { "action": { "enum": ["add", "remove"] }, "name": { "type": "string" }, "folders": { "type": "array", "items": { "type": "string" }, "description": "absolute paths (or s3:// and az:// prefixes) of folders inside a video folder" } } }"#;
const CHAT: &str = r#"{ "type": "object", "required": ["messages"], "properties": { "messages": { "type": "array", "maxItems": 40, "items": { "type": "object", "required": ["role", "content"], "properties": { "role": { "enum": ["user", "assistant"] }, "content": { "type": "string", "maxLength": 8000 } } } } } }"#;
const PLAYLISTS: &str = r##"{ "type": "object", "properties": { "playlists": { "type": "array", "items": { "$ref": "#/components/schemas/Playlist" } } } }"##;
const NEW_PLAYLIST: &str = r#"{ "type": "object", "required": ["name"], "properties": { "name": { "type": "string", "maxLength": 100 }, "ids": { "type": "array", "items": { "type": "string" } } } }"#;
const EDIT_PLAYLIST: &str = r#"{ "type": "object", "properties": { "name": { "type": "string", "maxLength": 100 }, "ids": { "type": "array", "items": { "type": "string" } } } }"#;
const ADD_TO_PLAYLIST: &str = r#"{ "type": "object", "properties": { "id": { "type": "string" }, "ids": { "type": "array", "items": { "type": "string" } } } }"#;
const VIEWS: &str = r#"{ "type": "object", "additionalProperties": { "type": "integer" } }"#;

/// The routes. Order matters only where two templates could match one
/// path (none do today; a unit test routes an example of each entry back
/// to it).
pub static ROUTES: &[Endpoint] = &[
    // Pages.
    page(Get, "/", Gallery, VIEWER, "gallery"),
    page(Get, "/favorites", Favorites, VIEWER, "favorites"),
    page(Get, "/best-of", BestOf, VIEWER, "best_of"),
    page(Get, "/random", Random, VIEWER, "random"),
    page(Get, "/tags", Tags, VIEWER, "tags"),
    page(Get, "/folders", Folders, VIEWER, "folders"),
    page(Get, "/series", SeriesIndex, VIEWER, "series"),
    page(Get, "/films", Films, VIEWER, "films"),
    page(Get, "/series/{name}", SeriesPage, VIEWER, "series"),
    page(Get, "/tag/{tag}", Tag, VIEWER, "tag"),
    page(Get, "/watch/{key}", Watch, VIEWER, "watch"),
    page(Get, "/playlists", Playlists, VIEWER, "playlists"),
    page(Get, "/playlists/{n}", PlaylistPage, VIEWER, "playlists"),
    page(Get, "/admin", Admin, ADMIN, "admin"),
    page(Get, "/admin/", Admin, ADMIN, "admin"),
    page(Get, "/login", LoginForm, ANYONE, "login"),
    Endpoint { body: JSON_BODY, ..page(Post, "/login", SignIn, ANYONE, "login") },
    page(Post, "/logout", SignOut, ANYONE, "logout"),
    // Bytes.
    file("/video/{key}", Video, VIEWER, "video"),
    file("/play/{id}.mp4", Play, VIEWER, "play"),
    file("/transcode/{id}.mp4", Transcode, VIEWER, "transcode"),
    file("/transcode/{id}.m3u8", TranscodePlaylist, VIEWER, "transcode"),
    file("/transcode/{id}/{n}.ts", TranscodeSegment, VIEWER, "transcode"),
    file("/thumb/{id}/{width}", Thumb, VIEWER, "thumb"),
    file("/poster/{id}.jpg", Poster, VIEWER, "thumb"),
    file("/series/{name}/poster.jpg", SeriesPoster, VIEWER, "thumb"),
    file("/series/{name}/season/{n}/poster.jpg", SeasonPoster, VIEWER, "thumb"),
    file("/sprite/{id}.jpg", Sprite, VIEWER, "sprite"),
    file("/sprite/{id}.vtt", SpriteVtt, VIEWER, "sprite"),
    file("/subtitles/{id}/{sub}.vtt", Subtitle, VIEWER, "subtitles"),
    file("/subtitles/{id}/{sub}.srt", SubtitleSrt, VIEWER, "subtitles"),
    file("/playlist.m3u", M3u, VIEWER, "playlist"),
    file("/assets/{hash}/{name}", Asset, ANYONE, "asset"),
    file("/favicon.ico", Favicon, ANYONE, "asset"),
    // At the root, so that it may look after every page.
    file("/sw.js", ServiceWorker, ANYONE, "asset"),
    // The certificate of this server's own authority (`--tls auto`):
    // public, and also over plain HTTP, as a device needs it before it
    // trusts the server.
    file("/ca.crt", Authority, ANYONE, "authority"),
    // DLNA (`--dlna`, else 404): players sign in to nothing, so these are
    // public and show what the `dlna` profile may see; plain HTTP too (no
    // television speaks HTTPS to a media server).
    file("/dlna/device.xml", DlnaDevice, ANYONE, "dlna"),
    file("/dlna/cds.xml", DlnaCdsScpd, ANYONE, "dlna"),
    file("/dlna/cms.xml", DlnaCmsScpd, ANYONE, "dlna"),
    dlna(Post, "/dlna/cds/control", DlnaCdsControl).body(DLNA_BODY, ""),
    dlna(Post, "/dlna/cms/control", DlnaCmsControl).body(DLNA_BODY, ""),
    dlna(Subscribe, "/dlna/cds/events", DlnaSubscribe),
    dlna(Unsubscribe, "/dlna/cds/events", DlnaUnsubscribe),
    dlna(Subscribe, "/dlna/cms/events", DlnaSubscribe),
    dlna(Unsubscribe, "/dlna/cms/events", DlnaUnsubscribe),
    file("/dlna/media/{id}", DlnaMedia, ANYONE, "dlna_media"),
    file("/dlna/play/{id}", DlnaPlay, ANYONE, "dlna_media"),
    file("/dlna/art/{id}.jpg", DlnaArt, ANYONE, "dlna"),
    file("/dlna/subtitles/{id}/{sub}.srt", DlnaSubtitle, ANYONE, "dlna"),
    file("/metrics", Metrics, ADMIN, "metrics"),
    // The JSON API.
    api(Get, "/api/v1/videos", ApiVideos, VIEWER, "List videos: sort, order, filters, search, paging", "#VideoList")
        .listing(),
    api(Get, "/api/v1/videos/{id}", ApiVideo, VIEWER, "One video", "#Video"),
    api(
        Patch,
        "/api/v1/videos/{id}",
        ApiEditVideo,
        EDITOR,
        "Set or clear the title (`null` restores the file name)",
        "#UserData",
    )
    .body(JSON_BODY, TITLE),
    api(Put, "/api/v1/videos/{id}/rating", ApiRate, VIEWER, "Rate 1 to 5", "#UserData").body(JSON_BODY, RATING),
    api(Delete, "/api/v1/videos/{id}/rating", ApiUnrate, VIEWER, "Clear the rating", "#UserData"),
    api(Put, "/api/v1/videos/{id}/favorite", ApiFavorite, VIEWER, "Mark as favorite", "#UserData"),
    api(Delete, "/api/v1/videos/{id}/favorite", ApiUnfavorite, VIEWER, "Unmark as favorite", "#UserData"),
    api(Post, "/api/v1/videos/{id}/view", ApiView, VIEWER, "Count one view (one per play)", "#UserData"),
    api(Post, "/api/v1/videos/{id}/tags", ApiAddTag, EDITOR, "Add a tag", "#UserData").body(JSON_BODY, TAG),
    api(Delete, "/api/v1/videos/{id}/tags/{tag}", ApiRemoveTag, EDITOR, "Remove a tag", "#UserData"),
    api(Put, "/api/v1/videos/{id}/position", ApiRemember, VIEWER, "Remember the resume position", "#UserData")
        .body(JSON_BODY, POSITION),
    api(Delete, "/api/v1/videos/{id}/position", ApiForget, VIEWER, "Forget the resume position", "#UserData"),
    api(
        Get,
        "/api/v1/videos/{id}/link",
        ApiLink,
        VIEWER,
        "A signed link of the video's bytes that other players can fetch without signing in, until it expires \
         (`?ttl=SECONDS`, default 6 hours, at most 2 days) or its account signs out everywhere, changes its \
         password or is removed; a changed, expired or ended link answers 403",
        LINK,
    ),
    api(
        Post,
        "/api/v1/videos/{id}/thumbnail",
        ApiThumbnail,
        EDITOR,
        "Upload a frame (PNG, JPEG or WebP, at most 4 MiB) for a video without a thumbnail",
        OBJECT,
    )
    .body(IMAGE_BODY, IMAGE),
    api(Post, "/api/v1/batch", ApiBatch, EDITOR, "Change many videos in one commit", OBJECT).body(JSON_BODY, "#Batch"),
    api(
        Get,
        "/api/v1/renderers",
        ApiRenderers,
        VIEWER,
        "The TVs and other DLNA renderers found on the network (`--dlna`), each with what it plays for us; \
         asking also searches the network again (at most every 10 seconds)",
        RENDERERS,
    ),
    api(Get, "/api/v1/renderers/{name}", ApiRenderer, VIEWER, "One renderer and what it plays for us", RENDERER),
    api(
        Post,
        "/api/v1/renderers/{name}/play",
        ApiRendererPlay,
        VIEWER,
        "Play a video on the renderer from a position (it fetches a signed link); the position is kept in the \
         history of the person who sent it",
        RENDERER,
    )
    .body(JSON_BODY, CAST),
    api(Post, "/api/v1/renderers/{name}/pause", ApiRendererPause, VIEWER, "Pause what it plays for us", RENDERER),
    api(Post, "/api/v1/renderers/{name}/resume", ApiRendererResume, VIEWER, "Play on after a pause", RENDERER),
    api(Post, "/api/v1/renderers/{name}/seek", ApiRendererSeek, VIEWER, "Go to a position", RENDERER)
        .body(JSON_BODY, SEEK),
    api(
        Post,
        "/api/v1/renderers/{name}/stop",
        ApiRendererStop,
        VIEWER,
        "Stop, keeping the position in the history",
        RENDERER,
    ),
    api(Get, "/api/v1/tags", ApiTags, VIEWER, "Every tag with its count", TAGS),
    api(
        Get,
        "/api/v1/series",
        ApiSeries,
        VIEWER,
        "The series recognised from names and folders (`Show S01E02`, `Show/Season 1/02 - Title`), by name, a page \
         at a time (`page`, `per_page` up to 500)",
        SERIES_LIST,
    ),
    api(
        Get,
        "/api/v1/series/{name}",
        ApiOneSeries,
        VIEWER,
        "One series by its key, season by season, with the episode the asking person would watch next",
        SERIES,
    ),
    api(Get, "/api/v1/random", ApiRandom, VIEWER, "A random video among those the filters let through", "#Video")
        .listing(),
    api(
        Get,
        "/api/v1/events",
        ApiEvents,
        VIEWER,
        "Server-sent events: `user` (a video's user data changed), `library` (a scan changed the library), \
         `perf` (the dashboard's numbers, each second), `resync`",
        EVENTS,
    ),
    api(Get, "/api/v1/openapi.json", ApiOpenApi, VIEWER, "This document", OBJECT),
    api(
        Post,
        "/api/v1/chat",
        ApiChat,
        VIEWER,
        "Ask about the library (with --chat-endpoint): the conversation in, the answer as server-sent events \
         (data: {\"text\"}, event: tool, event: done, event: error)",
        EVENTS,
    )
    .body(JSON_BODY, CHAT),
    api(
        Get,
        "/api/v1/playlists",
        ApiPlaylists,
        VIEWER,
        "The asking person's playlists (the household's without accounts)",
        PLAYLISTS,
    ),
    api(
        Post,
        "/api/v1/playlists",
        ApiNewPlaylist,
        VIEWER,
        "Make a playlist (at most 200 each, 5000 videos each)",
        "#Playlist",
    )
    .body(JSON_BODY, NEW_PLAYLIST),
    api(Get, "/api/v1/playlists/{n}", ApiPlaylist, VIEWER, "One playlist with its videos in order", "#Playlist"),
    api(
        Patch,
        "/api/v1/playlists/{n}",
        ApiEditPlaylist,
        VIEWER,
        "Rename a playlist, or give its videos in a new order (the list replaces the old one)",
        "#Playlist",
    )
    .body(JSON_BODY, EDIT_PLAYLIST),
    api(
        Delete,
        "/api/v1/playlists/{n}",
        ApiDeletePlaylist,
        VIEWER,
        "Delete a playlist (its videos stay in the library)",
        OBJECT,
    ),
    api(
        Post,
        "/api/v1/playlists/{n}/videos",
        ApiPlaylistAdd,
        VIEWER,
        "Add videos at the end (those already in it stay where they are)",
        "#Playlist",
    )
    .body(JSON_BODY, ADD_TO_PLAYLIST),
    api(
        Delete,
        "/api/v1/playlists/{n}/videos/{id}",
        ApiPlaylistRemove,
        VIEWER,
        "Take a video out of a playlist",
        "#Playlist",
    ),
    // Running the server.
    api(Get, "/healthz", Healthz, ANYONE, "Liveness", OBJECT),
    api(Get, "/readyz", Readyz, ANYONE, "Readiness (503 until the first scan of a new library ends)", OBJECT),
    api(Get, "/ping", Ping, VIEWER, "The original server's ping", OBJECT),
    api(Get, "/admin/cache/status", CacheStatus, ADMIN, "Index and cache status", OBJECT),
    api(Post, "/admin/cache/refresh", CacheRefresh, ADMIN, "Rescan now; answers when done", OBJECT),
    api(
        Post,
        "/admin/thumbnails/regenerate",
        RegenerateThumbnails,
        ADMIN,
        "Forget every thumbnail and make them all again",
        OBJECT,
    ),
    api(Get, "/admin/performance", Performance, ADMIN, "Performance numbers and the last load test", OBJECT),
    api(
        Post,
        "/admin/performance",
        LoadTest,
        ADMIN,
        "Run the built-in load test against this server (loopback, at most 50 connections for 10 s)",
        OBJECT,
    )
    .body(JSON_BODY, LOAD_TEST),
    api(
        Get,
        "/admin/users",
        Accounts,
        ADMIN,
        "Accounts: name, role, whether it has a password, which holds the household's ratings (admins)",
        OBJECT,
    ),
    api(
        Post,
        "/admin/users",
        ChangeAccount,
        ADMIN,
        "Add an account, set a password, make or revoke API tokens, or remove one (admins; without accounts, \
         only a first admin with a password)",
        OBJECT,
    )
    .body(JSON_BODY, ACCOUNT),
    api(
        Get,
        "/admin/libraries",
        Libraries,
        ADMIN,
        "Libraries: name, folders, whether a video folder's own, and who was given it (admins)",
        OBJECT,
    ),
    api(
        Post,
        "/admin/libraries",
        ChangeLibrary,
        ADMIN,
        "Name a library (folders inside the video folders) or remove one (admins); accounts are given \
         libraries with the action libraries of /admin/users",
        OBJECT,
    )
    .body(JSON_BODY, LIBRARY),
    // The original server's routes, keyed by file name.
    api(Get, "/get_views", LegacyViews, VIEWER, "The original's view counts by file name", VIEWS),
    api(Post, "/rate", LegacyRate, VIEWER, "The original's rating route", OBJECT).body(JSON_BODY, "#Legacy"),
    api(Post, "/view", LegacyView, VIEWER, "The original's view route", OBJECT).body(JSON_BODY, "#Legacy"),
    api(Post, "/favorite", LegacyFavorite, VIEWER, "The original's favorite toggle", OBJECT).body(JSON_BODY, "#Legacy"),
    api(Post, "/tag", LegacyTag, EDITOR, "The original's add-tag route", OBJECT).body(JSON_BODY, "#Legacy"),
    api(Post, "/delete_tag", LegacyDeleteTag, EDITOR, "The original's remove-tag route", OBJECT)
        .body(JSON_BODY, "#Legacy"),
];
