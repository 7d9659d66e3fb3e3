//! What the model may ask of the library (the OpenAI tools protocol):
//! search, list with filters, one video's details, statistics. Each reads
//! the in-memory catalog and the asking person's view of user data, and
//! answers compact JSON with each video's watch link; lists are capped.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::catalog::listing::{Inputs, ListQuery, MAX_MINUTES, MAX_QUERY_CHARS};
use crate::catalog::query::LiveOrders;
use crate::catalog::search::SearchCache;
use crate::catalog::user::UserCache;
use crate::catalog::{Catalog, Order, Sight, Sort, UserData, Video, Viewer};

/// Most videos one tool answer lists.
pub const MAX_LIST: usize = 20;

/// The library as one person sees it, with the listings' shared orders
/// and searches (the tools list through the same engine as the pages).
#[derive(Clone)]
pub struct Collection {
    pub catalog: Arc<Catalog>,
    pub users: Arc<UserCache>,
    pub orders: Arc<LiveOrders>,
    pub searches: Arc<SearchCache>,
    pub who: Viewer,
    /// What the person may see: nothing else is named, counted or listed.
    pub sight: Sight,
}

impl Collection {
    fn data(&self, v: &Video) -> UserData {
        self.users.get_for(&self.who, v.id)
    }

    /// The videos the person may see, in the catalog's order.
    pub fn videos(&self) -> impl Iterator<Item = &Arc<Video>> {
        let within = self.sight.visible(&self.catalog);
        self.catalog.videos().iter().filter(move |v| within.as_ref().is_none_or(|w| w.has(v.pos)))
    }

    /// A video the person may see, by id.
    pub fn get(&self, id: crate::library::ids::VideoId) -> Option<&Arc<Video>> {
        self.catalog.get(id).filter(|v| self.sight.sees(&self.catalog, v))
    }

    fn inputs(&self) -> Inputs<'_> {
        Inputs {
            catalog: &self.catalog,
            users: &self.users,
            orders: &self.orders,
            searches: &self.searches,
            who: &self.who,
            sight: &self.sight,
            playlist: None,
        }
    }

    /// Up to `limit` videos of a listing and how many it holds, briefly.
    fn answer(&self, q: ListQuery, limit: usize, random: bool) -> Value {
        let inputs = self.inputs();
        let listed = if random {
            // Every match, then a sample: the engine has no random order.
            q.list(&inputs, 1).and_then(|all| q.list(&inputs, all.total.max(1))).map(|mut l| {
                fastrand::shuffle(&mut l.videos);
                l.videos.truncate(limit);
                l
            })
        } else {
            q.list(&inputs, limit)
        };
        match listed {
            Ok(l) => {
                let videos: Vec<Value> = l.videos.iter().map(|v| brief(v, &self.data(v))).collect();
                json!({ "videos": videos, "total": l.total })
            }
            Err(e) => json!({ "error": e.to_string() }),
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
        "sort": { "enum": ["added", "taken", "rating", "views", "duration", "title", "random"] },
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
pub fn run(shelf: &Collection, name: &str, arguments: &str) -> String {
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

fn search(shelf: &Collection, args: &Value) -> Value {
    let query = args["query"].as_str().unwrap_or("");
    if crate::catalog::fold::words(query).is_empty() {
        return json!({ "error": "give a query with at least one word" });
    }
    let q = ListQuery { q: Some(query.chars().take(MAX_QUERY_CHARS).collect()), ..ListQuery::default() };
    shelf.answer(q, limit(args), false)
}

fn list(shelf: &Collection, args: &Value) -> Value {
    let tag = args["tag"].as_str().map(|t| t.trim().trim_start_matches('#').to_string()).filter(|t| !t.is_empty());
    let minutes = |name: &str| args[name].as_f64().map(|m| m.clamp(0.0, MAX_MINUTES));
    let (sort, random) = match args["sort"].as_str().unwrap_or("added") {
        "random" => (Sort::Added, true),
        "title" => (Sort::Title, false),
        "rating" => (Sort::Rating, false),
        "views" => (Sort::Views, false),
        "duration" => (Sort::Duration, false),
        "taken" => (Sort::Taken, false),
        _ => (Sort::Added, false),
    };
    let q = ListQuery {
        sort: Some(sort),
        order: Some(if args["order"].as_str() == Some("asc") { Order::Asc } else { Order::Desc }),
        // Tags have no commas: "a,b" asks for both.
        tag,
        min_rating: args["min_rating"].as_u64().map(|r| r.clamp(1, 5) as u8),
        favorites: args["favorites"].as_bool().unwrap_or(false),
        unwatched: args["unwatched"].as_bool().unwrap_or(false),
        min_minutes: minutes("min_minutes"),
        max_minutes: minutes("max_minutes"),
        ..ListQuery::default()
    };
    shelf.answer(q, limit(args), random)
}

fn details(shelf: &Collection, args: &Value) -> Value {
    let id = args["id"].as_str().unwrap_or("").trim().trim_start_matches("/watch/");
    let Some(v) = id.parse().ok().and_then(|id| shelf.get(id)) else {
        return json!({ "error": format!("no video has the id {id:?}") });
    };
    let d = shelf.data(v);
    let mut out = brief(v, &d);
    let info = v.info.as_ref();
    out["added"] = json!(v.added);
    out["taken"] = json!(v.taken().map(|t| crate::catalog::utc(t) + "Z"));
    out["size_bytes"] = json!(v.size());
    let within = shelf.sight.visible(&shelf.catalog);
    out["file"] = json!(crate::catalog::sight::paths(v, within.as_deref()).first());
    out["width"] = json!(info.and_then(|i| i.width));
    out["height"] = json!(info.and_then(|i| i.height));
    out["video_codec"] = json!(info.and_then(|i| i.video_codec.as_ref().map(|c| c.to_string())));
    out["last_watched"] = json!(d.last_viewed);
    out
}

/// Counts, total length and the most used tags.
pub fn stats(shelf: &Collection) -> Value {
    let c = &shelf.catalog;
    let hours = shelf.videos().filter_map(|v| v.duration_ms()).sum::<u64>() as f64 / 3_600_000.0;
    let (mut count, mut rated, mut favorites, mut unwatched) = (0, 0, 0, 0);
    shelf.users.view(&shelf.who, |view| {
        for v in shelf.videos() {
            count += 1;
            let d = view.get(v.id);
            let d = d.as_deref();
            rated += usize::from(d.is_some_and(|d| d.rating.is_some()));
            favorites += usize::from(d.is_some_and(|d| d.favorite));
            unwatched += usize::from(d.is_none_or(|d| d.unwatched_by(&shelf.who)));
        }
    });
    let within = shelf.sight.visible(c);
    let tags: Vec<Value> = crate::catalog::query::tag_counts(c, &shelf.users, within.as_deref())
        .into_iter()
        .take(15)
        .map(|(t, n)| json!({ "tag": t, "videos": n }))
        .collect();
    json!({
        "videos": count, "hours": (hours * 10.0).round() / 10.0, "rated": rated,
        "favorites": favorites, "unwatched": unwatched, "top_tags": tags,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::Value;

    use super::{run, Collection};
    use crate::catalog::{Catalog, ScanStats, UserCache, UserData, Video, VideoFile, Viewer};
    use crate::library::ids::VideoId;
    use crate::library::probe::MediaInfo;

    /// Ten videos, "clip 0" to "clip 9", i minutes long (clip 0: unknown),
    /// the even ones watched and rated 1 + i / 2.
    fn collection() -> Collection {
        let videos = (0..10u64)
            .map(|i| {
                Arc::new(Video {
                    id: VideoId(i + 1),
                    files: smallvec::smallvec![VideoFile {
                        root: 0,
                        rel: format!("clip {i}.mp4").into_bytes(),
                        size: 1000,
                        mtime_ns: 0,
                        dev: 0,
                        ino: i,
                    }],
                    added: i as i64,
                    info: (i > 0).then(|| MediaInfo { duration_ms: Some(i * 60_000), ..MediaInfo::default() }),
                    broken: None,
                    pos: 0,
                })
            })
            .collect();
        let users = UserCache::default();
        users.set_all((0..10u64).step_by(2).map(|i| {
            let d = UserData { views: 1, rating: Some(1 + (i / 2) as u8), ..UserData::default() };
            (VideoId(i + 1), d)
        }));
        Collection {
            catalog: Arc::new(Catalog::new(videos, vec![], Default::default(), ScanStats::default())),
            users: Arc::new(users),
            orders: Arc::default(),
            searches: Arc::default(),
            who: Viewer::Household,
            sight: crate::catalog::Sight::All,
        }
    }

    fn titles(answer: &str) -> (Vec<String>, u64) {
        let v: Value = serde_json::from_str(answer).unwrap();
        let titles = v["videos"].as_array().unwrap().iter().map(|v| v["title"].as_str().unwrap().to_string()).collect();
        (titles, v["total"].as_u64().unwrap())
    }

    #[test]
    fn lists_through_the_listing_engine() {
        let c = collection();
        let (got, total) = titles(&run(&c, "list_videos", r#"{"unwatched": true, "sort": "added", "limit": 3}"#));
        assert_eq!((got, total), (vec!["clip 9".into(), "clip 7".into(), "clip 5".into()], 5));
        let (got, total) = titles(&run(&c, "list_videos", r#"{"min_minutes": 3, "max_minutes": 5, "order": "asc"}"#));
        assert_eq!((got, total), (vec!["clip 3".into(), "clip 4".into(), "clip 5".into()], 3));
        let (got, _) = titles(&run(&c, "list_videos", r#"{"sort": "rating", "min_rating": 4, "limit": 5}"#));
        assert_eq!(got, ["clip 8", "clip 6"]);
        let (got, total) = titles(&run(&c, "list_videos", r#"{"sort": "random", "unwatched": true, "limit": 2}"#));
        assert_eq!((got.len(), total), (2, 5));
        assert!(got.iter().all(|t| t.ends_with(['1', '3', '5', '7', '9'])), "{got:?}");
        let (got, total) = titles(&run(&c, "search_videos", r#"{"query": "clip 7"}"#));
        assert_eq!((got[0].as_str(), total > 0), ("clip 7", true));
        assert!(run(&c, "list_videos", r#"{"min_minutes": "x"}"#).contains("videos"), "bad values are ignored");
        assert!(run(&c, "search_videos", r#"{"query": " "}"#).contains("error"));
    }
}
