//! Reading the original server's files, tolerantly: a malformed file or
//! entry is reported in `ImportData::problems` and skipped, never fatal.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::SQLITE_FILE;
use crate::catalog::user::normalise_tag;

/// What the sources say about one file name.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Entry {
    pub rating: Option<u8>,
    pub views: Option<u64>,
    pub favorite: bool,
    pub tags: Vec<String>,
}

#[derive(Debug, Default)]
pub struct ImportData {
    pub entries: BTreeMap<String, Entry>,
    /// Malformed files or entries, in words.
    pub problems: Vec<String>,
}

pub fn read_sources(files: &[PathBuf]) -> ImportData {
    let mut data = ImportData::default();
    // JSON first; SQLite second, so it wins where both speak.
    let (sqlite, json): (Vec<_>, Vec<_>) = files.iter().partition(|p| p.file_name().is_some_and(|n| n == SQLITE_FILE));
    for path in json {
        if let Err(e) = read_json(path, &mut data) {
            data.problems.push(format!("{}: {e}", path.display()));
        }
    }
    for path in sqlite {
        if let Err(e) = read_sqlite(path, &mut data) {
            data.problems.push(format!("{}: {e}", path.display()));
        }
    }
    data
}

fn as_rating(v: &Value) -> Option<u8> {
    let n = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (n.fract() == 0.0 && (1.0..=5.0).contains(&n)).then_some(n as u8)
}

fn as_count(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
        }
        Value::String(s) => s.trim().parse().ok(),
        // `{"count": 3, ...}`-style objects of later versions.
        Value::Object(o) => ["count", "views", "view_count"].iter().find_map(|k| o.get(*k).and_then(as_count)),
        _ => None,
    }
}

fn read_json(path: &Path, data: &mut ImportData) -> Result<(), String> {
    let text = super::read_bounded(path, super::MAX_ORIGINAL_BYTES)?;
    let kind = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    parse_json(kind, &text, &path.display().to_string(), data)
}

/// Reads the bytes of one of the original's JSON files (`kind`: its file
/// name, which says what it holds); `label` names it in problems.
pub fn parse_json(kind: &str, text: &[u8], label: &str, data: &mut ImportData) -> Result<(), String> {
    let value: Value = serde_json::from_slice(text).map_err(|e| format!("not valid JSON ({e})"))?;
    let mut bad = |what: String| data.problems.push(format!("{label}: {what}"));
    match kind {
        "favorites.json" => {
            let names: Vec<String> = match &value {
                Value::Object(o) if o.get("favorites").is_some_and(Value::is_array) => o["favorites"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                Value::Object(o) => {
                    o.iter().filter(|(_, v)| v.as_bool() != Some(false)).map(|(k, _)| k.clone()).collect()
                }
                Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
                _ => return Err("expected {\"favorites\": [...]} or a list of names".into()),
            };
            for n in names {
                data.entries.entry(n).or_default().favorite = true;
            }
        }
        _ => {
            let Value::Object(map) = value else { return Err("expected an object of name -> value".into()) };
            for (name, v) in map {
                match kind {
                    "ratings.json" => match as_rating(&v) {
                        Some(r) => data.entries.entry(name).or_default().rating = Some(r),
                        None => bad(format!("{name:?}: rating {v} is not 1 to 5")),
                    },
                    "views.json" => match as_count(&v) {
                        Some(n) => data.entries.entry(name).or_default().views = Some(n),
                        None => bad(format!("{name:?}: view count {v} is not a whole number")),
                    },
                    _ => {
                        // tags.json: a list of tags, or one string.
                        let tags: Vec<String> = match &v {
                            Value::Array(a) => a.iter().filter_map(|t| t.as_str().map(String::from)).collect(),
                            Value::String(s) => s.split(',').map(String::from).collect(),
                            _ => {
                                bad(format!("{name:?}: tags {v} are not a list"));
                                continue;
                            }
                        };
                        let entry = data.entries.entry(name.clone()).or_default();
                        for t in tags {
                            match normalise_tag(&t) {
                                Ok(t) => {
                                    if !entry.tags.iter().any(|x| x.eq_ignore_ascii_case(&t)) {
                                        entry.tags.push(t);
                                    }
                                }
                                Err(why) => bad(format!("{name:?}: tag {t:?}: {why}")),
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Most rows read from one table of the original's database.
const MAX_ROWS: usize = 2_000_000;
/// Longest file name taken from it, in bytes.
const MAX_NAME: usize = 4096;

/// The original's SQLite database, read by our own reader (`sqlite`):
/// nothing in it is run, nothing is written, at most `MAX_ROWS` rows a
/// table and names of at most `MAX_NAME` bytes are taken.
fn read_sqlite(path: &Path, data: &mut ImportData) -> Result<(), String> {
    use super::sqlite::{Database, Value};
    // Changes still in the write-ahead log are not in the file yet.
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        return Err(format!(
            "{} holds changes not yet written into the database; stop the server that uses it \
             (SQLite folds them in when it closes), then import again",
            Path::new(&wal).display()
        ));
    }
    let bytes = super::read_bounded(path, super::MAX_ORIGINAL_BYTES)?;
    let db = Database::open(&bytes).map_err(|e| format!("cannot open as SQLite ({e})"))?;
    let tables = db.tables().map_err(|e| format!("cannot read its tables ({e})"))?;
    let table = |name: &str| tables.iter().find(|t| t.name.eq_ignore_ascii_case(name));
    // (file name, value) of each row.
    let rows = |name: &str, value: &str| -> Result<Vec<(String, Value)>, String> {
        let Some(t) = table(name) else { return Ok(Vec::new()) };
        let rows = db.rows(t, &["filename", value], MAX_ROWS).map_err(|e| format!("table {name}: {e}"))?;
        Ok(rows
            .into_iter()
            .filter_map(|mut r| {
                let v = r.pop()?;
                match r.pop()? {
                    Value::Text(name) if name.len() <= MAX_NAME => Some((name, v)),
                    _ => None,
                }
            })
            .collect())
    };
    let int = |v: &Value| match v {
        Value::Integer(i) => Some(*i),
        Value::Real(f) if f.fract() == 0.0 => Some(*f as i64),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    };
    if !["ratings", "views", "video_tags", "favorites"].iter().any(|t| table(t).is_some()) {
        return Err("no ratings, views, video_tags or favorites table".into());
    }
    for (name, v) in rows("ratings", "rating")? {
        match int(&v).filter(|r| (1..=5).contains(r)) {
            Some(r) => data.entries.entry(name).or_default().rating = Some(r as u8),
            None => data.problems.push(format!("{}: {name:?}: rating is not 1 to 5", path.display())),
        }
    }
    for (name, v) in rows("views", "view_count")? {
        match int(&v).filter(|n| *n >= 0) {
            Some(n) => data.entries.entry(name).or_default().views = Some(n as u64),
            None => data.problems.push(format!("{}: {name:?}: view count is not a number", path.display())),
        }
    }
    if table("video_tags").is_some() {
        // The database replaces the JSON tags of the names it lists.
        let mut from_db: HashMap<String, Vec<String>> = HashMap::new();
        for (name, v) in rows("video_tags", "tag")? {
            let Value::Text(tag) = v else { continue };
            match normalise_tag(&tag) {
                Ok(t) => from_db.entry(name).or_default().push(t),
                Err(why) => data.problems.push(format!("{}: {name:?}: tag {tag:?}: {why}", path.display())),
            }
        }
        for (name, tags) in from_db {
            data.entries.entry(name).or_default().tags = tags;
        }
    }
    for (name, _) in rows("favorites", "filename")? {
        data.entries.entry(name).or_default().favorite = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::find_sources;

    #[test]
    fn tolerant_json_reading() {
        let dir = tempfile::tempdir().unwrap();
        let w = |n: &str, s: &str| std::fs::write(dir.path().join(n), s).unwrap();
        w("ratings.json", r#"{"a.mp4": 5, "b.mp4": "4", "c.mp4": 9, "d.mp4": null}"#);
        w("views.json", r#"{"a.mp4": 12, "b.mp4": -1, "c.mp4": {"count": 3}}"#);
        w("tags.json", r##"{"a.mp4": ["#fun", "Fun", "  cats "], "b.mp4": "x,y", "c.mp4": 5}"##);
        w("favorites.json", r#"{"favorites": ["b.mp4"]}"#);
        let data = read_sources(&find_sources(&[dir.path()]));
        let a = &data.entries["a.mp4"];
        assert_eq!((a.rating, a.views, a.favorite), (Some(5), Some(12), false));
        assert_eq!(a.tags, ["fun", "cats"]);
        let b = &data.entries["b.mp4"];
        assert_eq!(
            (b.rating, b.views, b.favorite, b.tags.clone()),
            (Some(4), None, true, vec!["x".into(), "y".into()])
        );
        assert_eq!(data.entries["c.mp4"].views, Some(3));
        assert_eq!(data.problems.len(), 4, "{:#?}", data.problems); // c rating, d rating, b views, c tags
    }

    #[test]
    fn broken_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ratings.json"), "{not json").unwrap();
        std::fs::write(dir.path().join("video_metadata.db"), "not sqlite at all").unwrap();
        let data = read_sources(&find_sources(&[dir.path()]));
        assert!(data.entries.is_empty());
        assert_eq!(data.problems.len(), 2, "{:#?}", data.problems);
    }
}
