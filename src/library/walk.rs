//! Walking a root: the video files below it with their size, time and
//! identity (`Listed`), for the scan. A local folder is walked with
//! `walkdir`, its files `stat`ed afterwards on many threads in disk order;
//! a folder whose time did not change since the last walk keeps its
//! files' facts without a `stat` each (`Before`).

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::mtime_ns;

/// A video file a walk found.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Its path as the index keys it (the root's path joined with `rel`).
    pub abs: PathBuf,
    /// Its path below the root.
    pub rel: PathBuf,
    pub facts: Facts,
}

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    pub size: u64,
    pub mtime_ns: i64,
    pub dev: u64,
    pub ino: u64,
}

/// `Facts::dev` of an object in a bucket (no device); its `ino` is then a
/// hash of the object's ETag.
pub const OBJECT_DEV: u64 = u64::MAX;

impl Facts {
    /// Whether a file with these facts holds the content recorded with
    /// `size`, `mtime_ns` and `ino`: same size and time (a local file may
    /// have moved to another inode, a copy keeping its time), and for an
    /// object the same ETag (`ino`, `objects::OBJECT_DEV`).
    pub fn same_content(&self, size: u64, mtime_ns: i64, ino: u64) -> bool {
        self.size == size && self.mtime_ns == mtime_ns && (self.dev != OBJECT_DEV || self.ino == ino)
    }
}

/// What the last walk knew: each folder's time, and the facts recorded for
/// a file (by `abs`).
pub struct Before<'a> {
    pub dirs: &'a HashMap<PathBuf, i64>,
    pub file: &'a dyn Fn(&Path) -> Option<Facts>,
}

/// What a walk of one root found.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<Listed>,
    /// Entries that could not be read, and why.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Each folder's time now (for the next walk's `Before`).
    pub dirs: HashMap<PathBuf, i64>,
}

/// Threads that `stat` the files a walk found.
const STAT_THREADS: usize = 16;

/// The video files below the local folder `path` (canonical `canonical`);
/// symlinks are followed when they lead into one of `all` (canonical).
/// `Err`: the folder itself cannot be read (the root is offline).
pub(super) fn walk_local(path: &Path, all: &[PathBuf], before: Option<&Before<'_>>) -> Result<Walked, String> {
    std::fs::read_dir(path).map_err(|e| e.to_string())?;
    let inside_a_root = |target: &Path| all.iter().any(|r| target.starts_with(r));
    let walker = WalkDir::new(path).follow_links(true).into_iter().filter_entry(|e| {
        e.depth() == 0
            || (!is_hidden(e.file_name())
                && (!e.path_is_symlink() || std::fs::canonicalize(e.path()).is_ok_and(|t| inside_a_root(&t))))
    });
    let mut walked = Walked::default();
    let below = |abs: &Path| abs.strip_prefix(path).map(Path::to_path_buf).unwrap_or_default();
    // Files to `stat`, done after the walk on many threads (a cold disk
    // serves many inode reads at once).
    let mut pending: Vec<(PathBuf, u64)> = Vec::new();
    let mut unchanged: HashSet<PathBuf> = HashSet::new();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                if e.loop_ancestor().is_some() {
                    tracing::debug!("symlink loop skipped: {e}");
                } else {
                    let at = e.path().map(Path::to_path_buf).unwrap_or_else(|| path.to_path_buf());
                    walked.unreadable.push((at, e.to_string()));
                }
                continue;
            }
        };
        if entry.file_type().is_dir() {
            if let Ok(meta) = entry.metadata() {
                let time = mtime_ns(&meta);
                if before.is_some_and(|b| b.dirs.get(entry.path()) == Some(&time)) {
                    unchanged.insert(entry.path().to_path_buf());
                }
                walked.dirs.insert(entry.path().to_path_buf(), time);
            }
            continue;
        }
        if !entry.file_type().is_file() || !super::is_video_name(entry.file_name()) {
            continue;
        }
        // In a folder that did not change: the facts of the last walk.
        let in_unchanged = entry.path().parent().is_some_and(|p| unchanged.contains(p));
        if let Some(facts) = before.filter(|_| in_unchanged).and_then(|b| (b.file)(entry.path())) {
            walked.files.push(Listed { abs: entry.path().to_path_buf(), rel: below(entry.path()), facts });
            continue;
        }
        let ino = walkdir::DirEntryExt::ino(&entry);
        pending.push((entry.into_path(), ino));
    }
    // Followed like the walk: the facts of a symlink's target.
    let threads = STAT_THREADS.min(pending.len() / 256);
    let metas = in_disk_order(&pending, threads, |p| (0, p.1), |p| std::fs::metadata(&p.0));
    for ((abs, _), meta) in pending.into_iter().zip(metas) {
        match meta {
            Ok(meta) => {
                let facts = Facts {
                    size: meta.len(),
                    mtime_ns: mtime_ns(&meta),
                    dev: std::os::unix::fs::MetadataExt::dev(&meta),
                    ino: std::os::unix::fs::MetadataExt::ino(&meta),
                };
                walked.files.push(Listed { rel: below(&abs), abs, facts });
            }
            Err(e) => walked.unreadable.push((abs, e.to_string())),
        }
    }
    Ok(walked)
}

fn is_hidden(name: &OsStr) -> bool {
    name.as_bytes().first() == Some(&b'.')
}

/// `in_turn` taking the items by `place` (a file's device and inode):
/// files made together sit together on disk, so reads in inode order
/// merge into fewer, larger requests and seek less than reads in folder
/// order (hash order on ext4). Results come back in the order of `items`.
pub fn in_disk_order<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    place: impl Fn(&T) -> (u64, u64),
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_unstable_by_key(|&i| place(&items[i]));
    let done = in_turn(&order, threads, |&i| f(&items[i]));
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (i, r) in order.into_iter().zip(done) {
        results[i] = Some(r);
    }
    results.into_iter().flatten().collect()
}

/// `f` of each item, in order, on up to `threads` threads. Each thread
/// takes the next item in turn: neighbours on disk are read close
/// together in time, and no thread idles while others have work.
pub fn in_turn<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if threads < 2 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { return done };
                        done.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_in_turn_comes_back_in_order() {
        let items: Vec<u32> = (0..5000).collect();
        let doubled: Vec<u32> = items.iter().map(|x| x * 2).collect();
        assert_eq!(in_turn(&items, 8, |x| x * 2), doubled);
        assert_eq!(in_turn(&items, 1, |x| x * 2), doubled);
        assert!(in_turn(&[] as &[u32], 8, |x| *x).is_empty());
        // Taken backwards, returned in order.
        assert_eq!(in_disk_order(&items, 8, |x| (0, u64::from(5000 - x)), |x| x * 2), doubled);
        assert_eq!(in_disk_order(&items, 1, |x| (u64::from(x % 7), 0), |x| x * 2), doubled);
    }

    #[test]
    fn a_local_walk_lists_videos_below_and_skips_hidden_and_escaping_links() {
        let (dir, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let root = dir.path().join("films");
        std::fs::create_dir_all(root.join("a b/.hidden")).unwrap();
        std::fs::write(root.join("a b/one.mp4"), b"0123").unwrap();
        std::fs::write(root.join("a b/notes.txt"), b"no").unwrap();
        std::fs::write(root.join("a b/.hidden/two.mp4"), b"no").unwrap();
        std::fs::write(outside.path().join("three.mp4"), b"no").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
        let roots =
            super::super::roots::Roots::new(&[crate::config::Root::local(root.clone(), root.canonicalize().unwrap())]);
        let w = roots.walk(0, None).unwrap();
        let rels: Vec<_> = w.files.iter().map(|f| f.rel.clone()).collect();
        assert_eq!(rels, [PathBuf::from("a b/one.mp4")]);
        assert_eq!(w.files[0].abs, root.join("a b/one.mp4"));
        assert_eq!(w.files[0].facts.size, 4);
        assert!(w.dirs.contains_key(&root.join("a b")));
        // Unchanged folders keep what was recorded, without a stat.
        let kept = Facts { size: 99, mtime_ns: 1, dev: 2, ino: 3 };
        let before = Before { dirs: &w.dirs, file: &|_| Some(kept) };
        assert_eq!(roots.walk(0, Some(&before)).unwrap().files[0].facts, kept);
        // A root that cannot be read is offline.
        std::fs::remove_dir_all(&root).unwrap();
        assert!(roots.walk(0, None).is_err());
        assert!(roots.walk(1, None).is_err());
    }
}
