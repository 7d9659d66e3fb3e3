//! Importing the original Flask server's data files: `ratings.json`,
//! `views.json`, `tags.json`, `favorites.json` and `video_metadata.db`
//! (SQLite, the newer truth when both exist). Entries are keyed by file
//! name: the path below its folder, or a bare name that matches exactly one
//! video. The files are only read.
//!
//! Entry point `import()`: skips files already imported (`source_key`) →
//! `read_sources` (tolerant: a malformed entry is reported and skipped,
//! never fatal) → `plan` (match names to videos, make edits) → the caller's
//! `apply` saves the edits → each file is marked imported.

mod read;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use read::{read_sources, Entry, ImportData};

use crate::catalog::user::Edit;
use crate::catalog::Catalog;
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

/// A key naming a source file's current version, for "imported once".
pub fn source_key(path: &Path) -> String {
    let meta = std::fs::metadata(path).ok();
    let (len, mtime) = meta.map_or((0, 0), |m| (m.len(), crate::library::mtime_ns(&m)));
    let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("{}:{len}:{mtime}", canonical.display())
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
    /// Source files read (those not imported before, or all with `force`).
    pub files: Vec<PathBuf>,
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

/// Imports `files` (skipping those imported before unless `force`), with
/// `apply` saving the edits; marks each file imported once saved.
pub fn import(
    store: &Store,
    catalog: &Catalog,
    files: &[PathBuf],
    force: bool,
    apply: impl FnOnce(Vec<(VideoId, Edit)>) -> Result<(), String>,
) -> Result<Report, ImportError> {
    let mut fresh = Vec::new();
    for f in files {
        if force || !store.was_imported(&source_key(f))? {
            fresh.push(f.clone());
        }
    }
    let mut report = Report { files: fresh.clone(), ..Report::default() };
    if fresh.is_empty() {
        return Ok(report);
    }
    let data = read_sources(&fresh);
    let plan = plan(&data, catalog);
    report.matched = plan.matched.len();
    report.changes = plan.edits.len();
    report.unmatched = plan.unmatched;
    report.problems = data.problems;
    if !plan.edits.is_empty() {
        apply(plan.edits).map_err(ImportError::Apply)?;
    }
    for f in &fresh {
        store.mark_imported(&source_key(f))?;
    }
    Ok(report)
}
