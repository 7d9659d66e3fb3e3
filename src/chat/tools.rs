//! What the model may ask of the library (the OpenAI tools protocol):
//! search, list with filters, one video's details, statistics. Each reads
//! the in-memory catalog and the asking person's view of user data, and
//! answers compact JSON with each video's watch link; lists are capped.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::catalog::query::{Filter, Source};
use crate::catalog::search::SearchCache;
use crate::catalog::user::UserCache;
use crate::catalog::{Catalog, Order, Sort, UserData, Video, Viewer};

/// Most videos one tool answer lists.
pub const MAX_LIST: usize = 20;

/// The library as one person sees it.
#[derive(Clone)]
pub struct Shelf {
    pub catalog: Arc<Catalog>,
    pub users: Arc<UserCache>,
    pub who: Viewer,
}

impl Shelf {
    fn data(&self, v: &Video) -> UserData {
        self.users.get_for(&self.who, v.id)
    }

    /// Whether this person has not watched `v` (the household: nobody has).
    fn unwatched(&self, d: &UserData) -> bool {
        match self.who {
            Viewer::Household => d.views == 0,
            _ => d.last_viewed.is_none(),
        }
    }
}

/// The tools, as the endpoint is told of them.
pub fn definitions() -> Value {
    let list_props = json!({
        "tag": { "type": "string", "description": "only videos with this tag" },
        "min_rating": { "type": "integer", "minimum": 1, "maximum": 5 },
        "favorites": { "type": "boolean", "description": "only the user's favorites" },
        "unwatched": { "type": "boolean", "description": "only videos the user has not watched" },
        "min_minutes": { "type": "number" },
        "max_minutes": { "type": "number" },
        "sort": { "enum": ["added", "rating", "views", "duration", "title", "random"] },
        "order": { "enum": ["asc", "desc"] },
        "limit": { "type": "integer", "minimum": 1, "maximum": MAX_LIST }
    });
    let tool = |name: &str, description: &str, properties: Value, required: Value| {
        json!({ "type": "function", "function": { "name": name, "description": description,
                "parameters": { "type": "object", "properties": properties, "required": required } } })
    };
    json!([
        tool(
            "search_videos",
            "Search titles, paths and tags; best matches first.",
            json!({ "query": { "type": "string" }, "limit": { "type": "integer", "minimum": 1, "maximum": MAX_LIST } }),
            json!(["query"])
        ),
        tool(
            "list_videos",
            "List videos by tag, rating, favorites, unwatched or length, in an order.",
            list_props,
            json!([])
        ),
        tool("video_details", "One video's details by id.", json!({ "id": { "type": "string" } }), json!(["id"])),
        tool("library_stats", "Counts, total length and the most used tags.", json!({}), json!([])),
    ])
}

/// Runs one tool call; the answer (or what was wrong) as JSON text.
pub fn run(shelf: &Shelf, name: &str, arguments: &str) -> String {
    let args: Value = if arguments.trim().is_empty() {
        json!({})
    } else {
        match serde_json::from_str(arguments) {
            Ok(v) => v,
            Err(_) => return json!({ "error": "the arguments are not JSON" }).to_string(),
        }
    };
    let answer = match name {
        "search_videos" => search(shelf, &args),
        "list_videos" => list(shelf, &args),
        "video_details" => details(shelf, &args),
        "library_stats" => stats(shelf),
        other => json!({ "error": format!("there is no tool {other:?}") }),
    };
    answer.to_string()
}

fn limit(args: &Value) -> usize {
    args["limit"].as_u64().map_or(10, |n| n as usize).clamp(1, MAX_LIST)
}

/// One video, briefly.
pub fn brief(v: &Video, d: &UserData) -> Value {
    json!({
        "id": v.id.to_string(),
        "title": v.title_for(d),
        "watch_url": format!("/watch/{}", v.id),
        "minutes": v.duration_ms().map(|ms| (ms as f64 / 6000.0).round() / 10.0),
        "rating": d.rating,
        "views": d.views,
        "favorite": d.favorite,
        "tags": d.tags,
    })
}

fn search(shelf: &Shelf, args: &Value) -> Value {
    let words = crate::catalog::fold::words(args["query"].as_str().unwrap_or(""));
    if words.is_empty() {
        return json!({ "error": "give a query with at least one word" });
    }
    let c = &shelf.catalog;
    let Some(idx) = c.base_order(Sort::Added) else { return json!({ "videos": [], "total": 0 }) };
    let cache = SearchCache::default();
    let src =
        Source { catalog: c, users: &shelf.users, who: &shelf.who, idx: &idx, order: Order::Desc, ranks: &cache.ranks };
    let (found, total) =
        crate::catalog::search::search(&cache, &src, Sort::Added, &Filter::default(), &words, 0, limit(args), None)
            .unwrap_or_default();
    let videos: Vec<Value> = found.iter().map(|v| brief(v, &shelf.data(v))).collect();
    json!({ "videos": videos, "total": total })
}

fn list(shelf: &Shelf, args: &Value) -> Value {
    let tag = args["tag"].as_str().map(|t| t.trim().trim_start_matches('#').to_string()).filter(|t| !t.is_empty());
    let min_rating = args["min_rating"].as_u64().map(|r| r.clamp(1, 5) as u8);
    let favorites = args["favorites"].as_bool().unwrap_or(false);
    let unwatched = args["unwatched"].as_bool().unwrap_or(false);
    let min_ms = args["min_minutes"].as_f64().map(|m| (m.max(0.0) * 60_000.0) as u64);
    let max_ms = args["max_minutes"].as_f64().map(|m| (m.max(0.0) * 60_000.0) as u64);
    let mut matching: Vec<(Arc<Video>, UserData)> = shelf.users.view(&shelf.who, |view| {
        shelf
            .catalog
            .videos()
            .iter()
            .filter_map(|v| {
                let d = view.get(v.id).map(|d| d.into_owned()).unwrap_or_default();
                let length = v.duration_ms();
                let ok = tag.as_ref().is_none_or(|t| d.has_tag(t))
                    && min_rating.is_none_or(|m| d.rating.unwrap_or(0) >= m)
                    && (!favorites || d.favorite)
                    && (!unwatched || shelf.unwatched(&d))
                    && min_ms.is_none_or(|m| length.is_some_and(|l| l >= m))
                    && max_ms.is_none_or(|m| length.is_some_and(|l| l <= m));
                ok.then(|| (v.clone(), d))
            })
            .collect()
    });
    let total = matching.len();
    let desc = args["order"].as_str() != Some("asc");
    let m = &mut matching;
    match args["sort"].as_str().unwrap_or("added") {
        "random" => fastrand::shuffle(m),
        // Each title lowered once, not at every comparison.
        "title" => sort(m, desc, |(v, d)| v.title_for(d).to_lowercase()),
        "rating" => sort(m, desc, |(_, d)| d.rating),
        "views" => sort(m, desc, |(_, d)| d.views),
        "duration" => sort(m, desc, |(v, _)| v.duration_ms()),
        _ => sort(m, desc, |(v, _)| v.added),
    }
    let videos: Vec<Value> = matching.iter().take(limit(args)).map(|(v, d)| brief(v, d)).collect();
    json!({ "videos": videos, "total": total })
}

/// A stable sort by `key`, either way (equal keys keep their order).
fn sort<K: Ord>(list: &mut [(Arc<Video>, UserData)], desc: bool, key: impl Fn(&(Arc<Video>, UserData)) -> K) {
    if desc {
        list.sort_by_cached_key(|x| std::cmp::Reverse(key(x)));
    } else {
        list.sort_by_cached_key(key);
    }
}

fn details(shelf: &Shelf, args: &Value) -> Value {
    let id = args["id"].as_str().unwrap_or("").trim().trim_start_matches("/watch/");
    let Some(v) = id.parse().ok().and_then(|id| shelf.catalog.get(id)) else {
        return json!({ "error": format!("no video has the id {id:?}") });
    };
    let d = shelf.data(v);
    let mut out = brief(v, &d);
    let info = v.info.as_ref();
    out["added"] = json!(v.added);
    out["size_bytes"] = json!(v.size());
    out["file"] = json!(v.primary().rel_display());
    out["width"] = json!(info.and_then(|i| i.width));
    out["height"] = json!(info.and_then(|i| i.height));
    out["video_codec"] = json!(info.and_then(|i| i.video_codec.as_ref().map(|c| c.to_string())));
    out["last_watched"] = json!(d.last_viewed);
    out
}

/// Counts, total length and the most used tags.
pub fn stats(shelf: &Shelf) -> Value {
    let c = &shelf.catalog;
    let hours = c.videos().iter().filter_map(|v| v.duration_ms()).sum::<u64>() as f64 / 3_600_000.0;
    let (mut rated, mut favorites, mut unwatched) = (0, 0, 0);
    shelf.users.view(&shelf.who, |view| {
        for v in c.videos() {
            let d = view.get(v.id);
            let d = d.as_deref();
            rated += usize::from(d.is_some_and(|d| d.rating.is_some()));
            favorites += usize::from(d.is_some_and(|d| d.favorite));
            unwatched += usize::from(d.is_none_or(|d| shelf.unwatched(d)));
        }
    });
    let tags: Vec<Value> = crate::catalog::query::tag_counts(c, &shelf.users)
        .into_iter()
        .take(15)
        .map(|(t, n)| json!({ "tag": t, "videos": n }))
        .collect();
    json!({
        "videos": c.len(), "hours": (hours * 10.0).round() / 10.0, "rated": rated,
        "favorites": favorites, "unwatched": unwatched, "top_tags": tags,
    })
}
