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

/// A file's path as folders see it: its root's name first when there are
/// several roots (`roots`), then the folders of `rel`, then its name.
fn components<'a>(roots: Option<&'a [String]>, root: usize, rel: &'a str) -> impl Iterator<Item = &'a str> {
    let root = roots.and_then(|names| names.get(root)).map(String::as_str);
    root.into_iter().chain(rel.split('/').filter(|p| !p.is_empty()))
}

/// What is in the folder `at` (components; empty: the top); `None` when
/// nothing the person may see lies there. Seeing everything, from the
/// catalog's tree (built at the first call); else from one pass.
pub fn folder(catalog: &Catalog, within: Option<&Visible>, at: &[String]) -> Option<Folder> {
    match within {
        None => catalog.folder_tree().folder(catalog, at),
        Some(_) => pass(catalog, within, at),
    }
}

/// Every folder of a catalog, with its counts and videos, built in one
/// pass and then kept with the catalog's contents: a folder is then
/// found in a few steps, whatever the library's size.
#[derive(Debug, Default)]
pub struct Tree {
    /// The top first.
    nodes: Vec<Node>,
}

#[derive(Debug)]
struct Node {
    name: String,
    /// Videos at any depth below.
    count: usize,
    sample: VideoId,
    /// By name, case-insensitively.
    children: Vec<u32>,
    /// Positions (`Catalog::videos`) of the videos right in it, by path.
    videos: Vec<u32>,
}

impl Node {
    fn new(name: &str, sample: VideoId) -> Node {
        Node { name: name.to_string(), count: 0, sample, children: Vec::new(), videos: Vec::new() }
    }
}

impl Tree {
    pub fn build(catalog: &Catalog) -> Tree {
        let roots = (catalog.roots.len() > 1).then(|| root_names(catalog));
        let mut nodes = vec![Node::new("", VideoId(0))];
        let mut names: Vec<HashMap<String, u32>> = vec![HashMap::new()];
        let mut counted: Vec<u32> = Vec::new();
        for (pos, v) in catalog.videos().iter().enumerate() {
            counted.clear();
            for f in &v.files {
                let rel = String::from_utf8_lossy(&f.rel);
                let parts: Vec<&str> = components(roots.as_deref(), f.root, &rel).collect();
                let Some((_file, folders)) = parts.split_last() else { continue };
                let mut at = 0u32;
                for name in folders {
                    at = match names[at as usize].get(*name) {
                        Some(&child) => child,
                        None => {
                            let child = nodes.len() as u32;
                            nodes.push(Node::new(name, v.id));
                            names.push(HashMap::new());
                            names[at as usize].insert(name.to_string(), child);
                            nodes[at as usize].children.push(child);
                            child
                        }
                    };
                    if !counted.contains(&at) {
                        counted.push(at);
                        nodes[at as usize].count += 1;
                    }
                }
                // A video's files come one after another: once is enough.
                let here = &mut nodes[at as usize].videos;
                if here.last() != Some(&(pos as u32)) {
                    here.push(pos as u32);
                }
            }
        }
        // The order `pass` gives: by name case-insensitively, then as written.
        let keys: Vec<(String, String)> = nodes.iter().map(|n| (n.name.to_lowercase(), n.name.clone())).collect();
        let videos = catalog.videos();
        for node in &mut nodes {
            node.children.sort_by(|a, b| keys[*a as usize].cmp(&keys[*b as usize]));
            node.videos.sort_by_cached_key(|&p| videos[p as usize].primary().rel_display().to_lowercase());
        }
        Tree { nodes }
    }

    fn folder(&self, catalog: &Catalog, at: &[String]) -> Option<Folder> {
        let mut node = self.nodes.first()?;
        for want in at {
            let child = node.children.iter().find(|&&c| self.nodes[c as usize].name == *want)?;
            node = &self.nodes[*child as usize];
        }
        if !at.is_empty() && node.count == 0 {
            return None;
        }
        let folders = node
            .children
            .iter()
            .map(|&c| &self.nodes[c as usize])
            .map(|n| Sub { name: n.name.clone(), count: n.count, sample: n.sample })
            .collect();
        let videos = node.videos.iter().filter_map(|&p| catalog.videos().get(p as usize).cloned()).collect();
        Some(Folder { folders, videos })
    }
}

/// One pass over the videos `within` lets through.
fn pass(catalog: &Catalog, within: Option<&Visible>, at: &[String]) -> Option<Folder> {
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
            let mut parts = components(roots.as_deref(), f.root, &rel);
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
pub(super) mod tests {
    use super::*;

    /// A catalog of videos at `paths` (`a|b`: one video at two paths).
    pub(in crate::catalog) fn catalog(paths: &[&str]) -> Catalog {
        let videos = paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Arc::new(Video {
                    id: VideoId(i as u64 + 1),
                    files: p
                        .split('|')
                        .map(|rel| crate::catalog::VideoFile {
                            root: 0,
                            rel: rel.as_bytes().to_vec(),
                            size: 1,
                            mtime_ns: 0,
                            dev: 0,
                            ino: 0,
                        })
                        .collect(),
                    added: 0,
                    info: None,
                    broken: None,
                    pos: 0,
                })
            })
            .collect();
        Catalog::new(videos, vec![], Default::default(), Default::default())
    }

    #[test]
    fn the_tree_and_the_pass_agree() {
        let c = catalog(&[
            "top.mp4",
            "Films/Alien.mp4",
            "Films/old/Nosferatu.mp4",
            "films/lower.mp4",
            "Series/Show/Season 1/e1.mp4|Series/Show/Season 1/e1 copy.mp4",
            "Series/Show/Season 2/e1.mp4|Films/e1 again.mp4",
        ]);
        let show = |f: &Folder| {
            let subs: Vec<String> = f.folders.iter().map(|s| format!("{} {} {}", s.name, s.count, s.sample)).collect();
            let videos: Vec<String> = f.videos.iter().map(|v| v.primary().rel_display()).collect();
            (subs, videos)
        };
        for at in
            ["", "Films", "films", "Series", "Series/Show", "Series/Show/Season 1", "Films/old", "Nope", "top.mp4"]
        {
            let at = parse(at).unwrap();
            let tree = c.folder_tree().folder(&c, &at);
            let pass = pass(&c, None, &at);
            assert_eq!(tree.as_ref().map(show), pass.as_ref().map(show), "{at:?}");
        }
        let top = folder(&c, None, &[]).unwrap();
        assert_eq!(
            show(&top).0.iter().map(|s| s.split(' ').next().unwrap()).collect::<Vec<_>>(),
            ["Films", "films", "Series"]
        );
        let films = folder(&c, None, &parse("Films").unwrap()).unwrap();
        assert_eq!(films.folders[0].count, 1);
        assert_eq!(show(&films).1, ["Films/Alien.mp4", "Series/Show/Season 2/e1.mp4"], "a video with a file here");
        let series = folder(&c, None, &parse("Series/Show").unwrap()).unwrap();
        assert_eq!(series.folders.iter().map(|s| s.count).collect::<Vec<_>>(), [1, 1], "a video counts once");
        assert!(folder(&c, None, &parse("Nope").unwrap()).is_none());
    }

    #[test]
    fn paths_are_checked() {
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
        assert_eq!(parse("/Films//Old/").unwrap(), ["Films", "Old"]);
        assert!(parse("Films/../etc").is_err());
        assert!(parse("./x").is_err());
        assert!(parse(&"a/".repeat(65)).is_err());
    }
}
