//! The library as its files lie on disk: one folder's subfolders (with
//! how many videos each holds, at any depth) and the videos right in it.
//! With several video folders, the top level is one folder per root,
//! named after it. Only what the asking person may see is counted and
//! shown. One pass over the listed videos: a million take tens of
//! milliseconds, so callers run it on the blocking pool.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Catalog, Video, Visible};
use crate::library::ids::VideoId;

/// Deepest folder path one may ask for, in components.
pub const MAX_DEPTH: usize = 64;

/// One folder's contents.
#[derive(Debug, Default)]
pub struct Folder {
    /// Subfolders by name (case-insensitive order), each with its video
    /// count and one video of it (for a picture).
    pub folders: Vec<Sub>,
    /// The videos right in it, by file name.
    pub videos: Vec<Arc<Video>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sub {
    pub name: String,
    pub count: usize,
    pub sample: VideoId,
}

/// A folder path as asked for (`a/b/c`): its components, or why not.
pub fn parse(path: &str) -> Result<Vec<String>, &'static str> {
    let parts: Vec<String> = path.split('/').filter(|p| !p.is_empty()).map(str::to_string).collect();
    if parts.iter().any(|p| p == "." || p == "..") {
        return Err("a folder path names folders below the library, without . or ..");
    }
    if parts.len() > MAX_DEPTH {
        return Err("a folder path is at most 64 folders deep");
    }
    Ok(parts)
}

/// Names for the roots when there are several: their last component,
/// numbered when two share one.
fn root_names(catalog: &Catalog) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    catalog
        .roots
        .iter()
        .map(|r| {
            let s = r.path.to_string_lossy();
            let base = s.trim_end_matches('/').rsplit('/').next().filter(|b| !b.is_empty()).unwrap_or("videos");
            let n = seen.entry(base.to_string()).or_insert(0);
            *n += 1;
            if *n == 1 {
                base.to_string()
            } else {
                format!("{base} ({n})")
            }
        })
        .collect()
}

/// What is in the folder `at` (components; empty: the top); `None` when
/// nothing the person may see lies there.
pub fn folder(catalog: &Catalog, within: Option<&Visible>, at: &[String]) -> Option<Folder> {
    let roots = (catalog.roots.len() > 1).then(|| root_names(catalog));
    let mut subs: HashMap<String, Sub> = HashMap::new();
    let mut videos = Vec::new();
    let mut found = at.is_empty();
    for v in catalog.videos() {
        if within.is_some_and(|w| !w.admits(v)) {
            continue;
        }
        // A video counts once in each subfolder, and once here.
        let mut counted: Vec<String> = Vec::new();
        let mut here = false;
        for f in &v.files {
            if within.is_some_and(|w| !w.admits_file(f)) {
                continue;
            }
            // Names that are not UTF-8 show as `rel_display` shows them.
            let rel = String::from_utf8_lossy(&f.rel);
            let root = roots.as_ref().and_then(|names| names.get(f.root)).map(String::as_str);
            let mut parts = root.into_iter().chain(rel.split('/').filter(|p| !p.is_empty()));
            if !at.iter().all(|want| parts.next() == Some(want.as_str())) {
                continue;
            }
            let Some(next) = parts.next() else { continue };
            found = true;
            if parts.next().is_none() {
                here = true;
            } else if v.files.len() == 1 || !counted.iter().any(|c| c == next) {
                if v.files.len() > 1 {
                    counted.push(next.to_string());
                }
                match subs.get_mut(next) {
                    Some(sub) => sub.count += 1,
                    None => {
                        subs.insert(next.to_string(), Sub { name: next.to_string(), count: 1, sample: v.id });
                    }
                }
            }
        }
        if here {
            videos.push(v.clone());
        }
    }
    if !found {
        return None;
    }
    let mut folders: Vec<Sub> = subs.into_values().collect();
    folders.sort_by_cached_key(|s| (s.name.to_lowercase(), s.name.clone()));
    videos.sort_by_cached_key(|v| v.primary().rel_display().to_lowercase());
    Some(Folder { folders, videos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
        assert_eq!(parse("/Films//Old/").unwrap(), ["Films", "Old"]);
        assert!(parse("Films/../etc").is_err());
        assert!(parse("./x").is_err());
        assert!(parse(&"a/".repeat(65)).is_err());
    }
}
