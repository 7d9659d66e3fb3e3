//! vidserve's own export document (`vidserve export`, and the automatic
//! backups): every video's user data, complete, keyed by content id, plus
//! the original server's maps keyed by path. `vidserve import` reads it
//! back (`read_export`): export, import into an empty data dir and export
//! again gives the same document. Version 3 adds `people`: each account's
//! own ratings, favorites, positions and history (the household's are the
//! videos' own fields; `household` names the account they belong to), and
//! `playlists`: each with its owner (`null` for the household), name and
//! video ids in order.

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use std::sync::Arc;

use crate::catalog::personal::{Personal, PersonalMap};
use crate::catalog::user::{normalise_title, UserData, MAX_POSITION_MS, MAX_TAGS};
use crate::catalog::Catalog;
use crate::library::ids::VideoId;
use crate::store::playlists::PlaylistRecord;

/// The version of the document written now; older ones are read too.
pub const EXPORT_VERSION: u64 = 3;

/// The export document for `users`, with paths and file titles from
/// `catalog` where the video is known.
/// `household`: the account holding the videos' own ratings (the first
/// admin), when there is one.
pub fn document(
    users: &HashMap<VideoId, UserData>,
    personal: &PersonalMap,
    household: Option<&str>,
    playlists: &[(String, u64, PlaylistRecord)],
    catalog: &Catalog,
) -> Value {
    let mut videos = Vec::new();
    let (mut ratings, mut views, mut tags) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut favorites = Vec::new();
    let mut sorted: Vec<_> = users.iter().collect();
    sorted.sort_by_key(|(id, _)| **id);
    for (id, d) in sorted {
        let video = catalog.get(*id);
        let paths: Vec<String> = video.map(|v| v.files.iter().map(|f| f.rel_display()).collect()).unwrap_or_default();
        videos.push(json!({
            "id": id.to_string(),
            "title": video.map(|v| v.title()),
            "paths": paths,
            "user_title": d.title,
            "rating": d.rating, "views": d.views, "last_viewed": d.last_viewed,
            "favorite": d.favorite, "tags": d.tags,
            "position_ms": d.position_ms, "position_at": d.position_at,
        }));
        let Some(name) = paths.first().cloned() else { continue };
        if let Some(r) = d.rating {
            ratings.insert(name.clone(), json!(r));
        }
        if d.views > 0 {
            views.insert(name.clone(), json!(d.views));
        }
        if !d.tags.is_empty() {
            tags.insert(name.clone(), json!(d.tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>()));
        }
        if d.favorite {
            favorites.push(name);
        }
    }
    let mut people = BTreeMap::new();
    for (name, theirs) in personal {
        let mut list: Vec<(&VideoId, &Personal)> = theirs.iter().collect();
        list.sort_by_key(|(id, _)| **id);
        let list: Vec<Value> = list
            .into_iter()
            .map(|(id, p)| {
                json!({ "id": id.to_string(), "rating": p.rating, "favorite": p.favorite, "views": p.views,
                        "last_viewed": p.last_viewed, "position_ms": p.position_ms, "position_at": p.position_at })
            })
            .collect();
        people.insert(name.to_string(), list);
    }
    // In one order: the same data makes the same document.
    let mut sorted: Vec<&(String, u64, PlaylistRecord)> = playlists.iter().collect();
    sorted.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let playlists: Vec<Value> = sorted
        .into_iter()
        .map(|(owner, n, p)| {
            json!({ "owner": (!owner.is_empty()).then_some(owner), "number": n, "name": p.name,
                    "ids": p.items.iter().map(|id| id.to_string()).collect::<Vec<_>>(),
                    "created": p.created, "updated": p.updated })
        })
        .collect();
    json!({
        "vidserve_export": EXPORT_VERSION,
        "household": household,
        "videos": videos,
        "people": people,
        "playlists": playlists,
        "ratings": ratings,
        "views": views,
        "tags": tags,
        "favorites": { "favorites": favorites },
    })
}

/// Whether a JSON document is a vidserve export.
pub fn is_export(v: &Value) -> bool {
    v.get("vidserve_export").is_some_and(Value::is_u64)
}

/// What an export document holds.
#[derive(Debug, Default, PartialEq)]
pub struct Restored {
    /// Each video's shared record (with the household's own fields).
    pub shared: Vec<(VideoId, UserData)>,
    /// Each person's own records (lowercase account name).
    pub personal: Vec<(Arc<str>, VideoId, Personal)>,
    /// Playlists: owner (lowercase account name, `""` the household) and record.
    /// (owner, number it had, playlist).
    pub playlists: Vec<(String, Option<u64>, PlaylistRecord)>,
}

/// The user data in an export document. Entries that do not make sense
/// are reported in `problems` and skipped.
pub fn read_export(v: &Value, problems: &mut Vec<String>) -> Restored {
    let version = v["vidserve_export"].as_u64().unwrap_or(0);
    if version > EXPORT_VERSION {
        problems.push(format!("written by a newer vidserve (export version {version}); upgrade to import it"));
        return Restored::default();
    }
    let personal = read_people(v, problems);
    let mut out = Vec::new();
    for (n, e) in v["videos"].as_array().into_iter().flatten().enumerate() {
        let Some(id) = e["id"].as_str().and_then(|s| s.parse::<VideoId>().ok()) else {
            problems.push(format!("video {n}: no valid id"));
            continue;
        };
        // The checks the API makes, on every field.
        let mut tags: Vec<String> = Vec::new();
        for t in e["tags"].as_array().into_iter().flatten().filter_map(|t| t.as_str()) {
            match crate::catalog::user::normalise_tag(t) {
                Ok(t) if tags.len() < MAX_TAGS && !tags.iter().any(|x| x.eq_ignore_ascii_case(&t)) => tags.push(t),
                Ok(_) => {}
                Err(why) => problems.push(format!("video {id}: tag skipped: {why}")),
            }
        }
        let title = match e["user_title"].as_str().map(normalise_title).transpose() {
            Ok(t) => t.flatten(),
            Err(why) => {
                problems.push(format!("video {id}: title skipped: {why}"));
                None
            }
        };
        let data = UserData {
            rating: e["rating"].as_u64().filter(|r| (1..=5).contains(r)).map(|r| r as u8),
            views: e["views"].as_u64().unwrap_or(0),
            last_viewed: e["last_viewed"].as_i64(),
            favorite: e["favorite"].as_bool().unwrap_or(false),
            tags,
            // Version 1 had no user titles or positions.
            title,
            position_ms: e["position_ms"].as_u64().filter(|&ms| ms < MAX_POSITION_MS),
            position_at: e["position_at"].as_i64(),
        };
        out.push((id, data));
    }
    Restored { shared: out, personal, playlists: read_playlists(v, problems) }
}

fn read_playlists(v: &Value, problems: &mut Vec<String>) -> Vec<(String, Option<u64>, PlaylistRecord)> {
    let mut out = Vec::new();
    for (n, p) in v["playlists"].as_array().into_iter().flatten().enumerate() {
        let owner = p["owner"].as_str().unwrap_or("").to_lowercase();
        let name = p["name"].as_str().unwrap_or("").trim().to_string();
        let bad = name.chars().count() > crate::store::playlists::MAX_NAME_CHARS || name.chars().any(char::is_control);
        if name.is_empty() || bad {
            problems.push(format!("playlist {n}: no valid name"));
            continue;
        }
        let items: Vec<VideoId> = p["ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| id.as_str()?.parse().ok())
            .take(crate::store::playlists::MAX_ITEMS)
            .collect();
        let (created, updated) = (p["created"].as_i64().unwrap_or(0), p["updated"].as_i64().unwrap_or(0));
        let number = p["number"].as_u64().filter(|&n| n > 0);
        out.push((owner, number, PlaylistRecord { name, items, created, updated }));
    }
    out
}

fn read_people(v: &Value, problems: &mut Vec<String>) -> Vec<(Arc<str>, VideoId, Personal)> {
    let mut out = Vec::new();
    for (name, list) in v["people"].as_object().into_iter().flatten() {
        // Account names: 1–64 letters, digits, '.', '_' or '-'.
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            problems.push(format!("people: {name:?} is not a valid account name"));
            continue;
        }
        let name: Arc<str> = Arc::from(name.to_lowercase());
        for (n, e) in list.as_array().into_iter().flatten().enumerate() {
            let Some(id) = e["id"].as_str().and_then(|s| s.parse::<VideoId>().ok()) else {
                problems.push(format!("people: {name}: entry {n}: no valid id"));
                continue;
            };
            let p = Personal {
                rating: e["rating"].as_u64().filter(|r| (1..=5).contains(r)).map(|r| r as u8),
                favorite: e["favorite"].as_bool().unwrap_or(false),
                views: e["views"].as_u64().unwrap_or(0),
                last_viewed: e["last_viewed"].as_i64(),
                position_ms: e["position_ms"].as_u64().filter(|&ms| ms < MAX_POSITION_MS),
                position_at: e["position_at"].as_i64(),
            };
            out.push((name.clone(), id, p));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        let mut users = HashMap::new();
        let d = UserData {
            rating: Some(4),
            views: 3,
            last_viewed: Some(100),
            favorite: true,
            tags: vec!["a b".into()],
            title: Some("Mine".into()),
            position_ms: Some(5000),
            position_at: Some(200),
        };
        users.insert(VideoId(42), d.clone());
        let ann = Personal { rating: Some(2), views: 1, position_ms: Some(7), ..Personal::default() };
        let personal: PersonalMap = [(Arc::from("ann"), [(VideoId(42), ann.clone())].into())].into();
        let trip = PlaylistRecord { name: "Trip".into(), items: vec![VideoId(42), VideoId(7)], created: 1, updated: 2 };
        let lists = vec![(String::new(), 1, trip.clone()), ("ann".to_string(), 4, trip.clone())];
        let doc = document(&users, &personal, Some("bea"), &lists, &Catalog::default());
        assert_eq!(doc["household"], "bea");
        assert!(is_export(&doc));
        let mut problems = Vec::new();
        let back = read_export(&doc, &mut problems);
        assert_eq!(back.shared, vec![(VideoId(42), d)]);
        assert_eq!(back.personal, vec![(Arc::from("ann"), VideoId(42), ann)]);
        assert_eq!(back.playlists, vec![(String::new(), Some(1), trip.clone()), ("ann".to_string(), Some(4), trip)]);
        assert!(problems.is_empty());
        let newer = json!({ "vidserve_export": 99, "videos": [] });
        assert!(read_export(&newer, &mut problems).shared.is_empty());
        assert_eq!(problems.len(), 1);
    }
}
