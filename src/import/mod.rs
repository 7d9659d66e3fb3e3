//! Importing the original Flask server's data files: `ratings.json`,
//! `views.json`, `tags.json`, `favorites.json` and `video_metadata.db`
//! (SQLite, the newer truth when both exist). Entries are keyed by file
//! name: the path below its folder, or a bare name that matches exactly one
//! video. The files are only read.
//!
//! Also reads vidserve's own exports and backups (`export`), restoring each
//! video's data by content id.
//!
//! Entry point `import()`: skips files imported before (`Once`) →
//! `read_sources` (tolerant: a malformed entry is reported and skipped,
//! never fatal) → `plan` (match names to videos, make edits) → the caller's
//! `apply` saves the edits → each file is marked imported.

pub mod export;
mod read;
pub mod sqlite;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use read::{parse_json, read_sources, Entry, ImportData};

use crate::catalog::user::Edit;
use crate::catalog::{Catalog, Viewer};
use crate::library::ids::VideoId;
use crate::store::{Store, StoreError};

pub const JSON_FILES: [&str; 4] = ["ratings.json", "views.json", "tags.json", "favorites.json"];
pub const SQLITE_FILE: &str = "video_metadata.db";

/// The original's data files present in `dirs`.
pub fn find_sources(dirs: &[&Path]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        for name in JSON_FILES.iter().chain([&SQLITE_FILE]) {
            let p = dir.join(name);
            if p.is_file() && !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// The edits an import makes, and which names matched.
#[derive(Debug, Default)]
pub struct Plan {
    pub edits: Vec<(VideoId, Edit)>,
    pub matched: Vec<(String, VideoId)>,
    pub unmatched: Vec<String>,
}

/// Matches each name to a video: its path below its folder, else a bare
/// file name that exactly one video has.
pub fn plan(data: &ImportData, catalog: &Catalog) -> Plan {
    let mut by_name: HashMap<&[u8], Vec<VideoId>> = HashMap::new();
    for v in catalog.videos() {
        for f in &v.files {
            let base = f.rel.rsplit(|&b| b == b'/').next().unwrap_or(&f.rel);
            let ids = by_name.entry(base).or_default();
            if !ids.contains(&v.id) {
                ids.push(v.id);
            }
        }
    }
    let mut plan = Plan::default();
    for (name, e) in &data.entries {
        let id = catalog.by_rel_path(name.as_bytes()).map(|v| v.id).or_else(|| match by_name.get(name.as_bytes()) {
            Some(ids) if ids.len() == 1 => Some(ids[0]),
            _ => None,
        });
        let Some(id) = id else {
            plan.unmatched.push(name.clone());
            continue;
        };
        plan.matched.push((name.clone(), id));
        if let Some(r) = e.rating {
            plan.edits.push((id, Edit::Rate(Some(r))));
        }
        if let Some(n) = e.views.filter(|n| *n > 0) {
            plan.edits.push((id, Edit::AddViews(n)));
        }
        if e.favorite {
            plan.edits.push((id, Edit::Favorite(true)));
        }
        for t in &e.tags {
            plan.edits.push((id, Edit::AddTag(t.clone())));
        }
    }
    plan
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Source files read.
    pub files: Vec<PathBuf>,
    /// Files not read, and why (imported before).
    pub skipped: Vec<(PathBuf, String)>,
    pub matched: usize,
    pub changes: usize,
    pub unmatched: Vec<String>,
    pub problems: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("saving the imported data failed: {0}")]
    Apply(String),
}

/// When a file counts as imported before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Once {
    /// The automatic import at start: each file once per data dir, by its
    /// place (editing or touching it later does not import it again) or by
    /// its content.
    PerDataDir,
    /// `vidserve import`: the same content once; a changed file is read.
    PerContent,
    /// `vidserve import --force`: always.
    Never,
}

/// Largest export or backup an import reads (a million videos' export is
/// some hundreds of MiB less).
pub const MAX_EXPORT_BYTES: u64 = 512 << 20;
/// Largest file of the original server's an import reads (a library of a
/// million names fits in less).
pub const MAX_ORIGINAL_BYTES: u64 = 64 << 20;

/// The bytes of a source file, refused past `max`.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than {} MiB; not read", max >> 20));
    }
    Ok(bytes)
}

/// The keys naming a source: where it is, and what it holds.
fn keys(path: &Path) -> (String, Option<String>) {
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let content =
        read_bounded(path, MAX_EXPORT_BYTES).ok().map(|b| format!("content:{:016x}", xxhash_rust::xxh3::xxh3_64(&b)));
    (format!("path:{}", canonical.display()), content)
}

/// Whether a source with these `keys` was imported before, as `once`
/// counts it; the reason.
fn imported_before(
    store: &dyn Store,
    keys: &(String, Option<String>),
    once: Once,
) -> Result<Option<String>, StoreError> {
    let (place, content) = keys;
    if once == Once::Never {
        return Ok(None);
    }
    if let Some(c) = &content {
        if store.was_imported(c)? {
            return Ok(Some("the same content was imported before".into()));
        }
    }
    // Marks of older versions were `{canonical}:{len}:{mtime}`.
    let old_mark = format!("{}:", place.trim_start_matches("path:"));
    if once == Once::PerDataDir && (store.was_imported(place)? || store.was_imported_prefix(&old_mark)?) {
        return Ok(Some("imported into this data dir before (vidserve import --force reads it again)".into()));
    }
    Ok(None)
}

/// Imports `files` — the original server's files, or vidserve exports and
/// backups — skipping those imported before as `once` says, with `apply`
/// saving the edits; marks each file imported once saved.
pub fn import(
    store: &dyn Store,
    catalog: &Catalog,
    files: &[PathBuf],
    once: Once,
    apply: impl FnOnce(Vec<(Viewer, VideoId, Edit)>) -> Result<(), String>,
) -> Result<Report, ImportError> {
    let mut report = Report::default();
    // Each source's keys, read once: checked now, marked once saved.
    let mut marks = Vec::new();
    for f in files {
        let keys = keys(f);
        match imported_before(store, &keys, once)? {
            Some(why) => report.skipped.push((f.clone(), why)),
            None => {
                report.files.push(f.clone());
                marks.push(keys);
            }
        }
    }
    if report.files.is_empty() {
        return Ok(report);
    }
    // Each file read once: exports with their document, the rest the original's.
    let (mut exports, mut originals) = (Vec::new(), Vec::new());
    for f in &report.files {
        match read_export_file(f) {
            Some(doc) => exports.push((f.clone(), doc)),
            None => originals.push(f.clone()),
        }
    }
    let data = read_sources(&originals);
    let plan = plan(&data, catalog);
    report.matched = plan.matched.len();
    report.unmatched = plan.unmatched;
    report.problems = data.problems;
    // The original's data is the household's (the first admin's, once
    // accounts exist).
    let mut edits: Vec<(Viewer, VideoId, Edit)> =
        plan.edits.into_iter().map(|(id, e)| (Viewer::Household, id, e)).collect();
    // A person's data goes only to their account: never to one made
    // later under that name.
    let accounts = store.load_people()?.accounts;
    for (f, doc) in &exports {
        let mut problems = Vec::new();
        let mut restored = export::read_export(doc, &mut problems);
        let mut strangers = std::collections::BTreeMap::<String, usize>::new();
        let mut known = |name: &str| {
            let known = name.is_empty() || accounts.contains_key(name);
            if !known {
                *strangers.entry(name.to_string()).or_default() += 1;
            }
            known
        };
        restored.personal.retain(|(who, _, _)| known(who));
        restored.playlists.retain(|(owner, _, _)| known(owner));
        for (name, n) in strangers {
            problems.push(format!(
                "{n} records of {name} not imported: no account has that name here (vidserve user add {name}, then \
                 vidserve import --force)"
            ));
        }
        report.matched += restored.shared.len();
        report.problems.extend(problems.into_iter().map(|p| format!("{}: {p}", f.display())));
        edits.extend(restored.shared.into_iter().map(|(id, d)| (Viewer::Household, id, Edit::Set(Box::new(d)))));
        edits.extend(
            restored.personal.into_iter().map(|(who, id, p)| (Viewer::Person(who), id, Edit::SetPersonal(Box::new(p)))),
        );
        for (owner, number, list) in &restored.playlists {
            store.restore_playlist(owner, *number, list, crate::store::playlists::MAX_PLAYLISTS)?;
            report.changes += 1;
        }
    }
    report.changes += edits.len();
    if !edits.is_empty() {
        apply(edits).map_err(ImportError::Apply)?;
    }
    for (place, content) in &marks {
        store.mark_imported(place)?;
        if let Some(c) = content {
            store.mark_imported(c)?;
        }
    }
    Ok(report)
}

/// The document, when `path` holds a vidserve export (at most `MAX_EXPORT_BYTES`).
fn read_export_file(path: &Path) -> Option<serde_json::Value> {
    if path.file_name().is_some_and(|n| JSON_FILES.iter().any(|j| n == *j) || n == SQLITE_FILE) {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&read_bounded(path, MAX_EXPORT_BYTES).ok()?).ok()?;
    export::is_export(&v).then_some(v)
}
