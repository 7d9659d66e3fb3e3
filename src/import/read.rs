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

/// SQLite's settings for a database from elsewhere (its "defense against
/// the dark arts"): no writes, no triggers or views running functions of
/// the schema's choosing, checked pages, and bounded strings, SQL and
/// memory.
fn defend(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::config::DbConfig;
    use rusqlite::limits::Limit;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    conn.pragma_update(None, "cell_size_check", true)?;
    conn.pragma_update(None, "mmap_size", 0)?;
    conn.pragma_update(None, "query_only", true)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, 1_000_000)?;
    conn.set_limit(Limit::SQLITE_LIMIT_SQL_LENGTH, 100_000)?;
    conn.set_limit(Limit::SQLITE_LIMIT_COLUMN, 100)?;
    conn.set_limit(Limit::SQLITE_LIMIT_EXPR_DEPTH, 10)?;
    conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0)?;
    conn.set_limit(Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50)?;
    // Memory: a hard cap for the whole process's SQLite (an import is the only user).
    // SAFETY: sets SQLite's own soft/hard heap limits; no pointers involved.
    unsafe {
        rusqlite::ffi::sqlite3_hard_heap_limit64(64 << 20);
    }
    Ok(())
}

fn read_sqlite(path: &Path, data: &mut ImportData) -> Result<(), String> {
    use rusqlite::{Connection, OpenFlags};
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > super::MAX_ORIGINAL_BYTES {
        return Err(format!("larger than {} MiB; not read", super::MAX_ORIGINAL_BYTES >> 20));
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| format!("cannot open as SQLite ({e})"))?;
    defend(&conn).map_err(|e| format!("cannot open as SQLite safely ({e})"))?;
    let has_table = |name: &str| -> bool {
        conn.query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |_| Ok(())).is_ok()
    };
    // At most `MAX_ROWS` rows a table, names of at most `MAX_NAME` bytes.
    let rows = |sql: &str| -> Result<Vec<(String, rusqlite::types::Value)>, String> {
        let mut stmt = conn.prepare(&format!("{sql} LIMIT {MAX_ROWS}")).map_err(|e| e.to_string())?;
        let it = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, rusqlite::types::Value>(1)?)));
        let it = it.map_err(|e| e.to_string())?;
        Ok(it.filter_map(Result::ok).filter(|(name, _)| name.len() <= MAX_NAME).collect())
    };
    let int = |v: &rusqlite::types::Value| match v {
        rusqlite::types::Value::Integer(i) => Some(*i),
        rusqlite::types::Value::Real(f) if f.fract() == 0.0 => Some(*f as i64),
        rusqlite::types::Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    };
    if !["ratings", "views", "video_tags", "favorites"].iter().any(|t| has_table(t)) {
        return Err("no ratings, views, video_tags or favorites table".into());
    }
    if has_table("ratings") {
        for (name, v) in rows("SELECT filename, rating FROM ratings")? {
            match int(&v).filter(|r| (1..=5).contains(r)) {
                Some(r) => data.entries.entry(name).or_default().rating = Some(r as u8),
                None => data.problems.push(format!("{}: {name:?}: rating is not 1 to 5", path.display())),
            }
        }
    }
    if has_table("views") {
        for (name, v) in rows("SELECT filename, view_count FROM views")? {
            match int(&v).filter(|n| *n >= 0) {
                Some(n) => data.entries.entry(name).or_default().views = Some(n as u64),
                None => data.problems.push(format!("{}: {name:?}: view count is not a number", path.display())),
            }
        }
    }
    if has_table("video_tags") {
        // The database replaces the JSON tags of the names it lists.
        let mut from_db: HashMap<String, Vec<String>> = HashMap::new();
        for (name, v) in rows("SELECT filename, tag FROM video_tags")? {
            let rusqlite::types::Value::Text(tag) = v else { continue };
            match normalise_tag(&tag) {
                Ok(t) => from_db.entry(name).or_default().push(t),
                Err(why) => data.problems.push(format!("{}: {name:?}: tag {tag:?}: {why}", path.display())),
            }
        }
        for (name, tags) in from_db {
            data.entries.entry(name).or_default().tags = tags;
        }
    }
    if has_table("favorites") {
        for (name, _) in rows("SELECT filename, 1 FROM favorites")? {
            data.entries.entry(name).or_default().favorite = true;
        }
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
