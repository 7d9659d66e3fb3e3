//! The OpenAPI 3.1 description of the JSON API, served at
//! `/api/v1/openapi.json`: the JSON routes of the route table, with the
//! shared schemas (components) written here.

use serde_json::{json, Value};

use super::route::ROUTES;

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A schema of the route table: JSON text, or `#Name` for a component.
fn schema(text: &str) -> Value {
    match text.strip_prefix('#') {
        Some(name) => r(name),
        None => serde_json::from_str(text).unwrap_or_else(|e| json!({ "$comment": format!("bad schema text: {e}") })),
    }
}

/// Query parameters every listing takes (JSON text: data, not code).
const LIST_PARAMS: &str = r##"[
        { "name": "sort", "in": "query", "schema": { "enum": ["added", "date", "title", "rating", "household", "views", "duration", "size", "relevance"] } },
        { "name": "order", "in": "query", "schema": { "enum": ["asc", "desc"] } },
        { "name": "page", "in": "query", "schema": { "type": "integer", "minimum": 1 } },
        { "name": "per_page", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 500 } },
        { "name": "favorites", "in": "query", "schema": { "type": "boolean" } },
        { "name": "min_rating", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 5 } },
        { "name": "tag", "in": "query", "description": "comma-separated tags, all required", "schema": { "type": "string" } },
        { "name": "unwatched", "in": "query", "description": "only videos the asking person has not watched (as show=unwatched)", "schema": { "type": "boolean" } },
        { "name": "show", "in": "query", "description": "where the asking person is with the videos: all, unwatched, in_progress (begun, a resume position kept) or watched", "schema": { "type": "string", "enum": ["all", "unwatched", "in_progress", "watched"] } },
        { "name": "min_minutes", "in": "query", "schema": { "type": "number", "minimum": 0 } },
        { "name": "max_minutes", "in": "query", "schema": { "type": "number", "minimum": 0 } },
        { "name": "year", "in": "query", "description": "only videos of this year: a film's, a series', or a date's in the name", "schema": { "type": "integer", "minimum": 1800, "maximum": 2200 } },
        { "name": "q", "in": "query", "description": "search words (titles, paths, tags)", "schema": { "type": "string" } },
        { "name": "ids", "in": "query", "description": "comma-separated ids (at most 100): just these videos, in this order", "schema": { "type": "string" } },
        { "name": "playlist", "in": "query", "description": "one of the asking person's playlists, in its order (sort, filters and search are ignored)", "schema": { "type": "integer" } },
        { "name": "library", "in": "query", "description": "only the videos of this library (its name, any case: a video folder's, or one named in /admin/libraries) if the asking person sees it whole; another is not found", "schema": { "type": "string" } }
    ]"##;

pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for endpoint in ROUTES {
        let Some(doc) = endpoint.doc else { continue };
        let path = endpoint.path;
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
        if doc.listing {
            params.extend(schema(LIST_PARAMS).as_array().cloned().unwrap_or_default());
        }
        let response = schema(doc.response);
        let summary = doc.summary;
        let body = doc.request.map(schema);
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
        entry[endpoint.verb.lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "vidserve", "version": env!("CARGO_PKG_VERSION"),
                  "description": "The JSON API of a vidserve server. Writes need same-origin requests from browsers; a 2xx means the change is on disk." },
        "paths": paths,
        "components": { "schemas": schema(COMPONENTS) }
    })
}

/// The shared schemas (JSON text: data, not code).
const COMPONENTS: &str = r##"{
            "Error": { "type": "object", "properties": { "error": { "type": "object", "properties": {
                "code": { "type": "string" }, "message": { "type": "string" } } } } },
            "Casting": { "type": ["object", "null"], "description": "what a renderer plays for us (null: nothing)",
                "properties": { "video": { "type": "string" }, "by": { "type": ["string", "null"] },
                "state": { "enum": ["PLAYING", "PAUSED_PLAYBACK", "STOPPED", "TRANSITIONING", "NO_MEDIA_PRESENT"] },
                "position_ms": { "type": "integer" }, "duration_ms": { "type": ["integer", "null"] } } },
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
                "year": { "type": ["integer", "null"], "description": "a film's (Film (1987)), a series' (Show (2005)), or a date's in the name (VID_20230512_…)" },
                "episode": { "description": "its place in a series, recognised from its name and folders", "oneOf": [{ "type": "null" }, { "type": "object", "properties": {
                    "series": { "type": "string" }, "series_key": { "type": "string" }, "series_url": { "type": "string" },
                    "season": { "type": "integer", "description": "0: specials" }, "episode": { "type": "integer", "description": "0: not numbered" },
                    "last_episode": { "type": ["integer", "null"] }, "title": { "type": ["string", "null"] } } }] },
                "subtitles": { "description": "one video only: files beside it, then text tracks inside it", "type": "array", "items": { "$ref": "#/components/schemas/Subtitle" } },
                "chapters": { "description": "one video only", "type": "array", "items": { "$ref": "#/components/schemas/Chapter" } },
                "audio_tracks": { "description": "one video only", "type": "array", "items": { "$ref": "#/components/schemas/AudioTrack" } } } },
            "Subtitle": { "type": "object", "properties": {
                "label": { "type": "string" }, "language": { "type": ["string", "null"] },
                "url": { "type": "string", "description": "WebVTT: /subtitles/{id}/{n}.vtt beside, /subtitles/{id}/e{n}.vtt inside" },
                "forced": { "type": "boolean" }, "source": { "enum": ["sidecar", "embedded"] } } },
            "Playlist": { "type": "object", "properties": {
                "id": { "type": "integer" }, "name": { "type": "string" }, "count": { "type": "integer" },
                "created": { "type": "integer" }, "updated": { "type": "integer" }, "url": { "type": "string" },
                "play_url": { "type": ["string", "null"], "description": "the first video's page, going on through the playlist" },
                "m3u_url": { "type": "string" },
                "videos": { "type": "array", "items": { "$ref": "#/components/schemas/Video" }, "description": "one playlist only" } } },
            "Chapter": { "type": "object", "properties": { "start_ms": { "type": "integer" }, "title": { "type": "string" } } },
            "AudioTrack": { "type": "object", "properties": {
                "index": { "type": "integer" }, "label": { "type": "string" }, "language": { "type": ["string", "null"] },
                "codec": { "type": "string" }, "default": { "type": "boolean" },
                "browser_plays": { "type": "boolean", "description": "whether browsers decode this codec" } } },
            "VideoList": { "type": "object", "properties": {
                "total": { "type": "integer" }, "page": { "type": "integer" }, "pages": { "type": "integer" },
                "per_page": { "type": "integer" }, "videos": { "type": "array", "items": { "$ref": "#/components/schemas/Video" } } } },
            "Batch": { "type": "object", "required": ["ids"], "properties": {
                "ids": { "type": "array", "items": { "type": "string" }, "maxItems": 10000 },
                "add_tags": { "type": "array", "items": { "type": "string" } },
                "remove_tags": { "type": "array", "items": { "type": "string" } },
                "favorite": { "type": "boolean" }, "rating": { "type": "integer", "minimum": 0, "maximum": 5 } } },
            "Legacy": { "type": "object", "required": ["filename"], "properties": {
                "filename": { "type": "string", "description": "the path below its folder, as the original server named files" },
                "rating": { "type": "integer" }, "tag": { "type": "string" } } }
        }"##;

#[cfg(test)]
mod tests {
    use super::document;
    use crate::http::route::{Kind, ROUTES};

    /// Every JSON route of the table is documented for its method, every
    /// schema is JSON, and every reference names a component.
    #[test]
    fn every_json_route_is_documented() {
        let doc = document();
        let text = doc.to_string();
        assert!(!text.contains("bad schema text"), "{text}");
        let mut documented = 0;
        for e in ROUTES.iter().filter(|e| e.kind == Kind::Json) {
            assert!(doc["paths"][e.path][e.verb.lowercase()].is_object(), "{} {}", e.verb.lowercase(), e.path);
            documented += 1;
        }
        let ops: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
        assert_eq!(ops, documented);
        for name in text.split("#/components/schemas/").skip(1).map(|t| t.split('"').next().unwrap()) {
            assert!(doc["components"]["schemas"][name].is_object(), "{name}");
        }
    }
}
