//! The OpenAPI 3.1 description of the JSON API, served at
//! `/api/v1/openapi.json`. `Route::api_template` names, for every route,
//! the path template documented here; a test checks the two agree.

use serde_json::{json, Value};

/// One documented operation: method, path template, summary, request body
/// schema (if any), response schema.
type Op = (&'static str, &'static str, &'static str, Option<Value>, Value);

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn ops() -> Vec<Op> {
    let ok = |v: Value| v;
    vec![
        ("get", "/api/v1/videos", "List videos: sort, order, filters, search, paging", None, r("VideoList")),
        ("get", "/api/v1/videos/{id}", "One video", None, r("Video")),
        ("patch", "/api/v1/videos/{id}", "Set or clear the title (`null` restores the file name)", Some(json!({ "type": "object", "properties": { "title": { "type": ["string", "null"] } } })), r("UserData")),
        ("put", "/api/v1/videos/{id}/rating", "Rate 1 to 5", Some(json!({ "type": "object", "required": ["rating"], "properties": { "rating": { "type": "integer", "minimum": 1, "maximum": 5 } } })), r("UserData")),
        ("delete", "/api/v1/videos/{id}/rating", "Clear the rating", None, r("UserData")),
        ("put", "/api/v1/videos/{id}/favorite", "Mark as favorite", None, r("UserData")),
        ("delete", "/api/v1/videos/{id}/favorite", "Unmark as favorite", None, r("UserData")),
        ("post", "/api/v1/videos/{id}/view", "Count one view (one per play)", None, r("UserData")),
        ("post", "/api/v1/videos/{id}/tags", "Add a tag", Some(json!({ "type": "object", "required": ["tag"], "properties": { "tag": { "type": "string", "maxLength": 100 } } })), r("UserData")),
        ("delete", "/api/v1/videos/{id}/tags/{tag}", "Remove a tag", None, r("UserData")),
        ("put", "/api/v1/videos/{id}/position", "Remember the resume position", Some(json!({ "type": "object", "required": ["seconds"], "properties": { "seconds": { "type": "number", "minimum": 0 } } })), r("UserData")),
        ("delete", "/api/v1/videos/{id}/position", "Forget the resume position", None, r("UserData")),
        ("get", "/api/v1/videos/{id}/link", "A signed link of the video's bytes that other players can fetch without signing in, until it expires (`?ttl=SECONDS`, default a day, at most a week); a changed or expired link answers 403", None, json!({ "type": "object", "properties": { "url": { "type": "string" }, "expires": { "type": "integer" } } })),
        ("post", "/api/v1/videos/{id}/thumbnail", "Upload a frame (PNG, JPEG or WebP, at most 4 MiB) for a video without a thumbnail", Some(json!({ "type": "string", "contentMediaType": "image/*" })), json!({ "type": "object" })),
        ("post", "/api/v1/batch", "Change many videos in one commit", Some(r("Batch")), ok(json!({ "type": "object" }))),
        ("get", "/api/v1/tags", "Every tag with its count", None, json!({ "type": "object", "properties": { "tags": { "type": "array", "items": { "type": "object", "properties": { "tag": { "type": "string" }, "count": { "type": "integer" } } } } } })),
        ("get", "/api/v1/random", "A random video among those the filters let through", None, r("Video")),
        ("get", "/api/v1/events", "Server-sent events: `user` (a video's user data changed), `library` (a scan changed the library), `perf` (the dashboard's numbers, each second), `resync`", None, json!({ "type": "string", "contentMediaType": "text/event-stream" })),
        ("get", "/api/v1/openapi.json", "This document", None, json!({ "type": "object" })),
        ("get", "/healthz", "Liveness", None, json!({ "type": "object" })),
        ("get", "/readyz", "Readiness (503 until the first scan of a new library ends)", None, json!({ "type": "object" })),
        ("get", "/ping", "The original server's ping", None, json!({ "type": "object" })),
        ("get", "/admin/cache/status", "Index and cache status", None, json!({ "type": "object" })),
        ("post", "/admin/cache/refresh", "Rescan now; answers when done", None, json!({ "type": "object" })),
        ("get", "/admin/performance", "Performance numbers and the last load test", None, json!({ "type": "object" })),
        ("post", "/admin/performance", "Run the built-in load test against this server (loopback, at most 50 connections for 10 s)", Some(json!({ "type": "object", "required": ["action"], "properties": { "action": { "const": "load_test" }, "scenario": { "enum": ["gallery", "stream", "ranges", "writes", "mixed"] }, "connections": { "type": "integer" }, "duration": { "type": "integer" } } })), json!({ "type": "object" })),
        ("get", "/admin/users", "Accounts: name, role, whether it has a password, which holds the household's ratings (admins)", None, json!({ "type": "object" })),
        ("post", "/admin/users", "Add an account, set a password, make or revoke API tokens, or remove one (admins; without accounts, only a first admin with a password)", Some(json!({ "type": "object", "required": ["action", "name"], "properties": { "action": { "enum": ["add", "password", "token", "revoke", "remove"] }, "name": { "type": "string" }, "role": { "enum": ["viewer", "editor", "admin"] }, "password": { "type": "string", "minLength": 8 }, "no_password": { "type": "boolean" } } })), json!({ "type": "object" })),
        ("post", "/api/v1/chat", "Ask about the library (with --chat-endpoint): the conversation in, the answer as server-sent events (data: {\"text\"}, event: tool, event: done, event: error)", Some(json!({ "type": "object", "required": ["messages"], "properties": { "messages": { "type": "array", "maxItems": 40, "items": { "type": "object", "required": ["role", "content"], "properties": { "role": { "enum": ["user", "assistant"] }, "content": { "type": "string", "maxLength": 8000 } } } } } })), json!({ "type": "string", "contentMediaType": "text/event-stream" })),
        ("get", "/api/v1/playlists", "The asking person's playlists (the household's without accounts)", None, json!({ "type": "object", "properties": { "playlists": { "type": "array", "items": r("Playlist") } } })),
        ("post", "/api/v1/playlists", "Make a playlist (at most 200 each, 5000 videos each)", Some(json!({ "type": "object", "required": ["name"], "properties": { "name": { "type": "string", "maxLength": 100 }, "ids": { "type": "array", "items": { "type": "string" } } } })), r("Playlist")),
        ("get", "/api/v1/playlists/{n}", "One playlist with its videos in order", None, r("Playlist")),
        ("patch", "/api/v1/playlists/{n}", "Rename a playlist, or give its videos in a new order (the list replaces the old one)", Some(json!({ "type": "object", "properties": { "name": { "type": "string", "maxLength": 100 }, "ids": { "type": "array", "items": { "type": "string" } } } })), r("Playlist")),
        ("delete", "/api/v1/playlists/{n}", "Delete a playlist (its videos stay in the library)", None, json!({ "type": "object" })),
        ("post", "/api/v1/playlists/{n}/videos", "Add videos at the end (those already in it stay where they are)", Some(json!({ "type": "object", "properties": { "id": { "type": "string" }, "ids": { "type": "array", "items": { "type": "string" } } } })), r("Playlist")),
        ("delete", "/api/v1/playlists/{n}/videos/{id}", "Take a video out of a playlist", None, r("Playlist")),
        ("post", "/admin/thumbnails/regenerate", "Forget every thumbnail and make them all again", None, json!({ "type": "object" })),
        ("get", "/get_views", "The original's view counts by file name", None, json!({ "type": "object", "additionalProperties": { "type": "integer" } })),
        ("post", "/rate", "The original's rating route", Some(r("Legacy")), json!({ "type": "object" })),
        ("post", "/view", "The original's view route", Some(r("Legacy")), json!({ "type": "object" })),
        ("post", "/favorite", "The original's favorite toggle", Some(r("Legacy")), json!({ "type": "object" })),
        ("post", "/tag", "The original's add-tag route", Some(r("Legacy")), json!({ "type": "object" })),
        ("post", "/delete_tag", "The original's remove-tag route", Some(r("Legacy")), json!({ "type": "object" })),
    ]
}

/// Query parameters every listing takes.
fn list_params() -> Value {
    json!([
        { "name": "sort", "in": "query", "schema": { "enum": ["added", "date", "title", "rating", "household", "views", "duration", "size", "relevance"] } },
        { "name": "order", "in": "query", "schema": { "enum": ["asc", "desc"] } },
        { "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1 } },
        { "name": "per_page", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500 } },
        { "name": "favorites", "in": "query", "schema": { "type": "boolean" } },
        { "name": "min_rating", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 5 } },
        { "name": "tag", "in": "query", "description": "comma-separated tags, all required", "schema": { "type": "string" } },
        { "name": "q", "in": "query", "description": "search words (titles, paths, tags)", "schema": { "type": "string" } },
        { "name": "ids", "in": "query", "description": "comma-separated ids (at most 100): just these videos, in this order", "schema": { "type": "string" } },
        { "name": "playlist", "in": "query", "description": "one of the asking person's playlists, in its order (sort, filters and search are ignored)", "schema": { "type": "integer" } }
    ])
}

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary, body, response) in ops() {
        let mut params: Vec<Value> = Vec::new();
        if path.contains("{id}") {
            params.push(json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[0-9a-f]{16}$" } }));
        }
        if path.contains("{n}") {
            params.push(json!({ "name": "n", "in": "path", "required": true, "schema": { "type": "integer" } }));
        }
        if path.contains("{tag}") {
            params.push(json!({ "name": "tag", "in": "path", "required": true, "schema": { "type": "string" } }));
        }
        if path == "/api/v1/videos" || path == "/api/v1/random" {
            params.extend(list_params().as_array().cloned().unwrap_or_default());
        }
        let mut op = json!({
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": { "description": "OK", "content": { "application/json": { "schema": response } } },
                "default": { "description": "Error", "content": { "application/json": { "schema": r("Error") } } }
            }
        });
        if let Some(schema) = body {
            op["requestBody"] = json!({ "required": true, "content": {
                "application/json": { "schema": schema.clone() },
                "application/x-www-form-urlencoded": { "schema": schema }
            } });
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "vidserve", "version": env!("CARGO_PKG_VERSION"),
                  "description": "The JSON API of a vidserve server. Writes need same-origin requests from browsers; a 2xx means the change is on disk." },
        "paths": paths,
        "components": { "schemas": {
            "Error": { "type": "object", "properties": { "error": { "type": "object", "properties": {
                "code": { "type": "string" }, "message": { "type": "string" } } } } },
            "UserData": { "type": "object", "properties": {
                "id": { "type": "string" }, "rating": { "type": ["integer", "null"] }, "views": { "type": "integer" },
                "favorite": { "type": "boolean" }, "tags": { "type": "array", "items": { "type": "string" } },
                "title": { "type": ["string", "null"] }, "position_ms": { "type": ["integer", "null"] },
                "last_viewed": { "type": ["integer", "null"] } } },
            "Video": { "type": "object", "properties": {
                "id": { "type": "string" }, "title": { "type": "string" }, "file_title": { "type": "string" },
                "paths": { "type": "array", "items": { "type": "string" } }, "size": { "type": "integer" },
                "added": { "type": "integer" }, "duration_ms": { "type": ["integer", "null"] },
                "width": { "type": ["integer", "null"] }, "height": { "type": ["integer", "null"] },
                "container": { "type": ["string", "null"] }, "video_codec": { "type": ["string", "null"] },
                "audio_codec": { "type": ["string", "null"] }, "bitrate": { "type": ["integer", "null"] },
                "browser_playable": { "type": "boolean" }, "index_at_end": { "type": "boolean" },
                "rating": { "type": ["integer", "null"] }, "views": { "type": "integer" }, "favorite": { "type": "boolean" },
                "tags": { "type": "array", "items": { "type": "string" } }, "position_ms": { "type": ["integer", "null"] },
                "stream_url": { "type": "string", "description": "the file's own bytes" },
                "play_url": { "type": "string", "description": "what a browser's player loads: stream_url, or /play/{id}.mp4 (Matroska, or MP4 with its index at the end, remuxed to fragmented MP4; WebM has one too, for browsers without WebM)" },
                "watch_url": { "type": "string" },
                "subtitles": { "description": "one video only: files beside it, then text tracks inside it", "type": "array", "items": r("Subtitle") },
                "chapters": { "description": "one video only", "type": "array", "items": r("Chapter") },
                "audio_tracks": { "description": "one video only", "type": "array", "items": r("AudioTrack") } } },
            "Subtitle": { "type": "object", "properties": {
                "label": { "type": "string" }, "language": { "type": ["string", "null"] },
                "url": { "type": "string", "description": "WebVTT: /subtitles/{id}/{n}.vtt beside, /subtitles/{id}/e{n}.vtt inside" },
                "forced": { "type": "boolean" }, "source": { "enum": ["sidecar", "embedded"] } } },
            "Playlist": { "type": "object", "properties": {
                "id": { "type": "integer" }, "name": { "type": "string" }, "count": { "type": "integer" },
                "created": { "type": "integer" }, "updated": { "type": "integer" }, "url": { "type": "string" },
                "play_url": { "type": ["string", "null"], "description": "the first video's page, going on through the playlist" },
                "m3u_url": { "type": "string" },
                "videos": { "type": "array", "items": r("Video"), "description": "one playlist only" } } },
            "Chapter": { "type": "object", "properties": { "start_ms": { "type": "integer" }, "title": { "type": "string" } } },
            "AudioTrack": { "type": "object", "properties": {
                "index": { "type": "integer" }, "label": { "type": "string" }, "language": { "type": ["string", "null"] },
                "codec": { "type": "string" }, "default": { "type": "boolean" },
                "browser_plays": { "type": "boolean", "description": "whether browsers decode this codec" } } },
            "VideoList": { "type": "object", "properties": {
                "total": { "type": "integer" }, "page": { "type": "integer" }, "pages": { "type": "integer" },
                "per_page": { "type": "integer" }, "videos": { "type": "array", "items": r("Video") } } },
            "Batch": { "type": "object", "required": ["ids"], "properties": {
                "ids": { "type": "array", "items": { "type": "string" }, "maxItems": 10000 },
                "add_tags": { "type": "array", "items": { "type": "string" } },
                "remove_tags": { "type": "array", "items": { "type": "string" } },
                "favorite": { "type": "boolean" }, "rating": { "type": "integer", "minimum": 0, "maximum": 5 } } },
            "Legacy": { "type": "object", "required": ["filename"], "properties": {
                "filename": { "type": "string", "description": "the path below its folder, as the original server named files" },
                "rating": { "type": "integer" }, "tag": { "type": "string" } } }
        } }
    })
}

#[cfg(test)]
mod tests {
    use hyper::Method;

    use super::document;
    use crate::http::route::route;

    /// Every JSON route the router answers, as a request; each must route,
    /// and its template must be documented for its method.
    #[test]
    fn every_api_route_is_documented() {
        let id = "00000000000000ab";
        let requests = [
            ("GET", "/api/v1/videos".to_string()),
            ("GET", format!("/api/v1/videos/{id}")),
            ("PATCH", format!("/api/v1/videos/{id}")),
            ("PUT", format!("/api/v1/videos/{id}/rating")),
            ("DELETE", format!("/api/v1/videos/{id}/rating")),
            ("PUT", format!("/api/v1/videos/{id}/favorite")),
            ("DELETE", format!("/api/v1/videos/{id}/favorite")),
            ("POST", format!("/api/v1/videos/{id}/view")),
            ("POST", format!("/api/v1/videos/{id}/tags")),
            ("DELETE", format!("/api/v1/videos/{id}/tags/cats")),
            ("PUT", format!("/api/v1/videos/{id}/position")),
            ("DELETE", format!("/api/v1/videos/{id}/position")),
            ("POST", format!("/api/v1/videos/{id}/thumbnail")),
            ("GET", format!("/api/v1/videos/{id}/link")),
            ("POST", "/api/v1/batch".into()),
            ("POST", "/api/v1/chat".into()),
            ("GET", "/api/v1/playlists".into()),
            ("POST", "/api/v1/playlists".into()),
            ("GET", "/api/v1/playlists/3".into()),
            ("PATCH", "/api/v1/playlists/3".into()),
            ("DELETE", "/api/v1/playlists/3".into()),
            ("POST", "/api/v1/playlists/3/videos".into()),
            ("DELETE", format!("/api/v1/playlists/3/videos/{id}")),
            ("GET", "/api/v1/tags".into()),
            ("GET", "/api/v1/random".into()),
            ("GET", "/api/v1/events".into()),
            ("GET", "/api/v1/openapi.json".into()),
            ("GET", "/healthz".into()),
            ("GET", "/readyz".into()),
            ("GET", "/ping".into()),
            ("GET", "/admin/cache/status".into()),
            ("POST", "/admin/cache/refresh".into()),
            ("POST", "/admin/thumbnails/regenerate".into()),
            ("GET", "/admin/performance".into()),
            ("POST", "/admin/performance".into()),
            ("GET", "/admin/users".into()),
            ("POST", "/admin/users".into()),
            ("GET", "/get_views".into()),
            ("POST", "/rate".into()),
            ("POST", "/view".into()),
            ("POST", "/favorite".into()),
            ("POST", "/tag".into()),
            ("POST", "/delete_tag".into()),
        ];
        let doc = document();
        let mut documented = 0;
        for (method, path) in &requests {
            let m = Method::from_bytes(method.as_bytes()).unwrap();
            let routed = route(&m, path).unwrap_or_else(|e| panic!("{method} {path}: {e:?}"));
            let template = routed.api_template().unwrap_or_else(|| panic!("{method} {path} has no API template"));
            let op = &doc["paths"][template][method.to_lowercase()];
            assert!(op.is_object(), "{method} {template} is not in the OpenAPI document");
            documented += 1;
        }
        // And nothing documented that the router does not answer.
        let ops: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(ops, documented);
    }
}
