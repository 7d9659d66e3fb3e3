//! Scanning: walks every root, reuses the stored id of each file whose size
//! and mtime did not change, hashes and probes the rest, writes what changed
//! in one transaction and builds a new `Catalog`.
//!
//! Policy: hidden files and dirs are skipped; symlinks are followed only when
//! their target stays inside a served root (walkdir reports loops); a root
//! that is missing, unreadable or suddenly empty is marked offline and its
//! records are kept — a scan never mass-deletes. An offline folder's videos
//! leave the catalog until it returns; an offline bucket's stay in it (a
//! store down for a while: playing says so).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use xxhash_rust::xxh3::Xxh3Builder;

use crate::catalog::{Catalog, RootState, RootStatus, ScanStats, Video, VideoFile};
use crate::config::Root;
use crate::library::ids::{id_and_edges, VideoId};
use crate::library::probe::{probe_file, MediaInfo, ProbeError};
use crate::library::roots::Roots;
use crate::library::walk::{in_disk_order, Before, Facts, Listed};
use crate::store::records::{FileRecord, VideoRecord};
use crate::store::{Index, IndexChanges, Store, StoreError};

/// A video file found by the walk, and its root.
struct Found {
    root: usize,
    file: Listed,
}

/// Owns the scan state between runs. The stored index is read from redb
/// when a walk starts and dropped when it ends; catalogs are built from the
/// store row by row. Between scans (most of a server's life) the records
/// take no memory.
pub struct Scanner {
    roots: Vec<Root>,
    /// Where new files are read to identify and probe them.
    sources: Roots,
    store: Arc<dyn Store>,
    /// Root states from the last scan (until then, all assumed online).
    root_states: Vec<RootState>,
    /// Each folder's modification time at the last walk (`poll` skips the
    /// files of those that kept it).
    dirs: HashMap<PathBuf, i64>,
    /// Whether the store holds these roots (checked by the first walk).
    roots_stored: bool,
}

impl Scanner {
    pub fn new(roots: Vec<Root>, store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let root_states = vec![RootState::Online; roots.len()];
        Ok(Scanner {
            sources: Roots::new(&roots),
            roots,
            store,
            root_states,
            dirs: HashMap::new(),
            roots_stored: false,
        })
    }

    /// Whether the stored index knows any file (restarts can serve at once).
    pub fn has_index(&self) -> Result<bool, StoreError> {
        self.store.index_has_files()
    }

    /// A catalog of the stored index as it is, without touching the disks:
    /// the files of online roots (read in path order), grouped by id through
    /// a sort of small keys and joined with the video records (read in id
    /// order, on a second thread meanwhile): no map of either is made.
    pub fn catalog(&self, stats: ScanStats) -> Result<Catalog, StoreError> {
        let started = std::time::Instant::now();
        let (records, files) = std::thread::scope(|s| {
            let records = s.spawn(|| -> Result<Vec<(VideoId, VideoRecord)>, StoreError> {
                let reader = self.store.index_reader()?;
                let mut records = Vec::with_capacity(reader.video_count()?);
                reader.for_each_video(&mut |id, rec| records.push((id, rec)))?;
                Ok(records)
            });
            let files = self.stored_files();
            (records.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), files)
        });
        let (records, StoredFiles { mut files, keys, counts }) = (records?, files?);
        let mut videos = Vec::with_capacity(keys.len());
        // Each video's place in path order (its first file's) and its index in `videos`.
        let mut by_place: Vec<(u32, u32, u32)> = Vec::with_capacity(keys.len());
        let mut keys = keys.into_iter().peekable();
        let mut add = |id: VideoId, rec: Option<VideoRecord>, keys: &mut std::iter::Peekable<_>| {
            let mut group = smallvec::SmallVec::new();
            let mut first = None;
            while let Some((_, root, place)) = keys.next_if(|(next, _, _)| *next == id) {
                first.get_or_insert((root, place));
                group.extend(files[place as usize].take());
            }
            if let Some((root, place)) = first {
                by_place.push((root, place, videos.len() as u32));
                videos.push(Some(Arc::new(video_of(id, group, rec))));
            }
        };
        for (id, rec) in records {
            // Files whose content has no record yet come first (lower ids).
            while let Some(next) = keys.peek().map(|k| k.0).filter(|next| *next < id) {
                add(next, None, &mut keys);
            }
            add(id, Some(rec), &mut keys);
        }
        while let Some(next) = keys.peek().map(|k| k.0) {
            add(next, None, &mut keys);
        }
        drop(files);
        tracing::debug!(ms = started.elapsed().as_millis() as u64, "index read");
        // In the order of their first paths, as `Catalog::new` lists them.
        by_place.sort_unstable();
        let mut list = Vec::with_capacity(by_place.len());
        list.extend(by_place.into_iter().filter_map(|(_, _, i)| videos[i as usize].take()));
        drop(videos);
        let roots = self
            .roots
            .iter()
            .zip(&self.root_states)
            .zip(counts)
            .map(|((r, s), files)| RootStatus {
                path: r.path.clone(),
                canonical: r.canonical.clone(),
                state: s.clone(),
                files,
            })
            .collect();
        Ok(Catalog::new(list, roots, self.sources.clone(), stats))
    }

    /// The stored files of online roots, in path order.
    fn stored_files(&self) -> Result<StoredFiles, StoreError> {
        let reader = self.store.index_reader()?;
        // Read in path order: within a root that is the order of relative
        // paths, so (root, place read) orders files without comparing paths.
        let stored = reader.file_count()?;
        let mut files: Vec<Option<VideoFile>> = Vec::with_capacity(stored);
        let mut keys: Vec<(VideoId, u32, u32)> = Vec::with_capacity(stored);
        let mut counts = vec![0; self.roots.len()];
        reader.for_each_file(&mut |abs, rec| {
            if let Some((root, rel)) = self.locate(abs) {
                // A bucket out of reach is a store that is down for a while,
                // not a disk taken away: its videos stay listed, and playing
                // them says the store cannot be reached.
                if self.root_states[root] == RootState::Online || self.roots[root].bucket.is_some() {
                    counts[root] += 1;
                    keys.push((rec.id, root as u32, files.len() as u32));
                    let (size, mtime_ns, dev, ino) = (rec.size, rec.mtime_ns, rec.dev, rec.ino);
                    files.push(Some(VideoFile { root, rel: rel.to_vec(), size, mtime_ns, dev, ino }));
                }
            }
        })?;
        // By id, then place: each video's files in `--dir` and path order.
        keys.sort_unstable();
        Ok(StoredFiles { files, keys, counts })
    }

    /// Which root a stored absolute path belongs to, and its relative path
    /// (compared as bytes: stored paths are the walk's, `root/rel`).
    fn locate<'a>(&self, abs: &'a [u8]) -> Option<(usize, &'a [u8])> {
        self.roots.iter().enumerate().find_map(|(i, r)| {
            let rest = abs.strip_prefix(r.path.as_os_str().as_bytes())?;
            let rel = if r.path.as_os_str().as_bytes().ends_with(b"/") { rest } else { rest.strip_prefix(b"/")? };
            (!rel.is_empty()).then_some((i, rel))
        })
    }

    /// Walks every root and brings the index up to date.
    /// Walks every root, looking at every file's size and time.
    pub fn scan(&mut self) -> Result<Catalog, StoreError> {
        self.walk(false)
    }

    /// Like `scan`, but a folder whose modification time did not change
    /// since the last walk keeps its files' records without a look at each
    /// (one `stat` a folder instead of one a file). Files added, removed or
    /// renamed change their folder's time; a file rewritten in place does
    /// not, and is seen by the next `scan` (notifications, a refresh).
    pub fn poll(&mut self) -> Result<Catalog, StoreError> {
        self.walk(true)
    }

    fn walk(&mut self, skip_unchanged: bool) -> Result<Catalog, StoreError> {
        let stats = self.walk_only(skip_unchanged)?;
        self.catalog(stats)
    }

    /// `scan` (`poll` when `poll`) after `previous`, the catalog this
    /// scanner built last: when the walk changed nothing, its contents are
    /// kept instead of built again (a restart's first walk, every poll of
    /// a network folder that did not change).
    pub fn rescan(&mut self, previous: &Catalog, poll: bool) -> Result<Catalog, StoreError> {
        let stats = self.walk_only(poll)?;
        let same_roots = previous.roots.len() == self.roots.len()
            && previous.roots.iter().zip(&self.root_states).all(|(r, s)| r.state == *s);
        if !stats.changed && same_roots {
            return Ok(previous.unchanged(stats));
        }
        self.catalog(stats)
    }

    /// Brings the index up to date with the disk.
    fn walk_only(&mut self, skip_unchanged: bool) -> Result<ScanStats, StoreError> {
        let index = self.store.load_index()?;
        let stats = self.walk_with(&index, skip_unchanged)?;
        // Dropped before a catalog is built: the two are never in memory together.
        drop(index);
        Ok(stats)
    }

    /// Compares the disk with `index` and writes what changed.
    fn walk_with(&mut self, index: &Index, skip_unchanged: bool) -> Result<ScanStats, StoreError> {
        let started = Instant::now();
        let mut stats = ScanStats::default();
        let mut changes = IndexChanges::default();
        // The paths found this walk (the stored records of the others are deleted).
        let mut seen: HashSet<Vec<u8>, Xxh3Builder> = HashSet::default();
        let mut todo: Vec<(Vec<u8>, Found)> = Vec::new();
        let states_before = self.root_states.clone();
        let now = unix_now();
        let mut dirs = HashMap::new();

        for (i, root) in self.roots.iter().enumerate() {
            let had = index
                .files
                .keys()
                .filter(|k| Path::new(std::ffi::OsStr::from_bytes(k)).starts_with(&root.path))
                .count();
            let recorded = |abs: &Path| {
                let r = index.files.get(abs.as_os_str().as_bytes())?;
                Some(Facts { size: r.size, mtime_ns: r.mtime_ns, dev: r.dev, ino: r.ino })
            };
            let before = Before { dirs: &self.dirs, file: &recorded };
            let before = (skip_unchanged && !self.dirs.is_empty()).then_some(&before);
            let state = match self.sources.walk(i, before) {
                Err(why) => RootState::Offline(why),
                Ok(w) if w.files.is_empty() && had > 0 => {
                    stats.unreadable.extend(w.unreadable);
                    RootState::Offline(format!("no videos found where {had} were before (unmounted?)"))
                }
                Ok(w) => {
                    stats.unreadable.extend(w.unreadable);
                    dirs.extend(w.dirs);
                    for file in w.files {
                        stats.files_seen += 1;
                        let key = file.abs.as_os_str().as_bytes().to_vec();
                        let f = &file.facts;
                        match index.files.get(&key) {
                            Some(prev) if f.same_content(prev.size, prev.mtime_ns, prev.ino) => {
                                // Same content; a new inode (a copy keeping
                                // the mtime) is recorded without hashing.
                                let rec = FileRecord { dev: f.dev, ino: f.ino, ..prev.clone() };
                                if rec != *prev {
                                    changes.put_files.push((key.clone(), rec));
                                }
                                seen.insert(key);
                            }
                            _ => todo.push((key, Found { root: i, file })),
                        }
                    }
                    RootState::Online
                }
            };
            if let RootState::Offline(why) = &state {
                tracing::warn!(root = %root.path.display(), "root offline: {why}; keeping its records");
            }
            self.root_states[i] = state;
        }

        let walked = started.elapsed();
        // New or changed files: hashed (and probed when their content is new)
        // on many threads, so a cold disk serves many reads at once.
        stats.hashed = todo.len();
        for ((key, f), result) in identify_all(&self.sources, &todo, &index.known) {
            match result {
                Ok((id, probed)) => {
                    if let Some(probed) = probed {
                        if let Entry::Vacant(slot) = changes.put_videos.entry(id) {
                            stats.probed += 1;
                            let (info, broken) = match probed {
                                Ok(info) => (Some(info), None),
                                Err(e) => (None, Some(e.to_string())),
                            };
                            slot.insert(VideoRecord { size: f.file.facts.size, added: now, info, broken });
                        }
                    }
                    let x = &f.file.facts;
                    let rec = FileRecord { id, size: x.size, mtime_ns: x.mtime_ns, dev: x.dev, ino: x.ino };
                    changes.put_files.push((key.clone(), rec));
                    seen.insert(key.clone());
                }
                Err(e) => stats.unreadable.push((f.file.abs.clone(), e.to_string())),
            }
        }

        // Forget only files that vanished from a root that is online now.
        for key in index.files.keys() {
            let path = Path::new(std::ffi::OsStr::from_bytes(key));
            let online_root = self
                .roots
                .iter()
                .zip(&self.root_states)
                .any(|(r, s)| *s == RootState::Online && path.starts_with(&r.path));
            if online_root && !seen.contains(key) {
                changes.delete_files.push(key.clone());
            }
        }
        // The folders, kept for commands run without `--dir`: compared by
        // the first walk, written only when they changed.
        if !self.roots_stored {
            let paths: Vec<PathBuf> = self.roots.iter().map(|r| r.path.clone()).collect();
            if self.store.roots()? != paths {
                changes.roots = Some(paths);
            }
        }
        stats.changed = !changes.is_empty() || self.root_states != states_before;
        self.dirs = dirs;
        let identified = started.elapsed();
        self.store.apply_index(&changes)?;
        self.roots_stored = true;
        stats.duration = started.elapsed();
        tracing::debug!(
            walk_ms = walked.as_millis() as u64,
            identify_ms = (identified - walked).as_millis() as u64,
            write_ms = (stats.duration - identified).as_millis() as u64,
            files = stats.files_seen,
            "walk finished"
        );
        stats.finished_at = unix_now();
        Ok(stats)
    }
}

/// Threads that hash and probe new files. The work is mostly waiting on
/// the disk (two small reads a file): many reads in flight let the disk
/// and the I/O scheduler serve them together, on flash and spinning disks.
/// A first scan of 100,000 files from the host's cache identified them in
/// 1.50 s with 32 threads, 1.37 s with 64, 1.15–1.20 s with 128 and
/// 1.12–1.20 s with 256; a million cold took 76 s with 128 (99 s with 32,
/// another day).
const IDENTIFY_THREADS: usize = 128;

type Identified = std::io::Result<(VideoId, Option<Result<MediaInfo, ProbeError>>)>;

/// Hashes each file, and probes it when its content id is not `known`.
/// Results come back in the order of `todo`.
fn identify_all<'a>(
    roots: &Roots,
    todo: &'a [(Vec<u8>, Found)],
    known: &HashSet<VideoId, Xxh3Builder>,
) -> Vec<(&'a (Vec<u8>, Found), Identified)> {
    let identify = |f: &Found| -> Identified {
        // Through its root, as every later read: never a link out of the
        // served folders, never a FIFO that would hold the scan.
        let (size, file) = (f.file.facts.size, roots.open(f.root, &f.file.rel, None)?.content);
        let (id, edges) = id_and_edges(&file, size)?;
        // A probe bug must cost one file, not the scan.
        let probe = || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| probe_file(&file, &edges)))
                .unwrap_or_else(|_| Err(ProbeError::Damaged("media", "the probe failed on this file".into())))
        };
        let probed = (!known.contains(&id)).then(probe);
        Ok((id, probed))
    };
    let threads = IDENTIFY_THREADS.min(todo.len() / 16);
    let results = in_disk_order(todo, threads, |t| (t.1.file.facts.dev, t.1.file.facts.ino), |t| identify(&t.1));
    todo.iter().zip(results).collect()
}

fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The stored files of online roots (`Scanner::stored_files`).
struct StoredFiles {
    /// In path order (taken as they are grouped into videos).
    files: Vec<Option<VideoFile>>,
    /// (id, root, place in `files`), sorted: by id, then path order.
    keys: Vec<(VideoId, u32, u32)>,
    /// How many files each root has.
    counts: Vec<usize>,
}

/// A video of the catalog from its files and its stored record (`None`:
/// not probed yet, so not listed).
fn video_of(id: VideoId, mut files: smallvec::SmallVec<[VideoFile; 1]>, rec: Option<VideoRecord>) -> Video {
    // Kept for the life of the catalog: no spare room.
    files.shrink_to_fit();
    let (added, info, broken) = match rec {
        Some(r) => (r.added, r.info, r.broken.map(String::into_boxed_str)),
        None => (0, None, Some("not probed yet".into())),
    };
    Video { id, added, info, broken, files, pos: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::probe::synth::{mp4_file, noise};

    #[test]
    fn a_poll_skips_folders_that_did_not_change() {
        let (dir, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let sub = dir.path().join("a");
        std::fs::create_dir(&sub).unwrap();
        std::fs::write(sub.join("one.mp4"), mp4_file(&noise(500, 1), false)).unwrap();
        let root = Root::local(dir.path().to_path_buf(), dir.path().canonicalize().unwrap());
        let mut scanner = Scanner::new(vec![root], crate::store::open(data.path(), None).unwrap()).unwrap();
        let sizes = |c: &Catalog| c.videos().iter().map(|v| v.size()).collect::<Vec<_>>();
        let first = sizes(&scanner.scan().unwrap());
        // Rewritten in place: its folder keeps its time, so a poll keeps the record…
        std::fs::write(sub.join("one.mp4"), mp4_file(&noise(900, 2), false)).unwrap();
        assert_eq!(sizes(&scanner.poll().unwrap()), first);
        // …and a full scan sees it.
        let rewritten = sizes(&scanner.scan().unwrap());
        assert_ne!(rewritten, first);
        // A file added changes its folder's time: a poll sees it.
        std::fs::write(sub.join("two.mp4"), mp4_file(&noise(700, 3), false)).unwrap();
        assert_eq!(scanner.poll().unwrap().videos().len(), 2);
    }

    #[test]
    fn a_rescan_that_changes_nothing_keeps_the_contents() {
        let (dir, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::write(dir.path().join("one.mp4"), mp4_file(&noise(500, 1), false)).unwrap();
        let root = Root::local(dir.path().to_path_buf(), dir.path().canonicalize().unwrap());
        let mut scanner = Scanner::new(vec![root], crate::store::open(data.path(), None).unwrap()).unwrap();
        let first = scanner.rescan(&Catalog::default(), false).unwrap();
        assert_eq!((first.len(), first.roots.len()), (1, 1), "nothing to keep: built");
        let same = scanner.rescan(&first, false).unwrap();
        assert_eq!(same.generation, first.generation, "kept");
        assert!(std::ptr::eq(same.videos(), first.videos()));
        assert_eq!(same.stats.files_seen, 1, "with the new scan's facts");
        std::fs::write(dir.path().join("two.mp4"), mp4_file(&noise(700, 3), false)).unwrap();
        let grown = scanner.rescan(&same, true).unwrap();
        assert_ne!(grown.generation, same.generation);
        assert_eq!(grown.len(), 2);
        // A root gone: built again, the root offline, its videos kept in the index.
        let moved = dir.path().with_extension("moved");
        std::fs::rename(dir.path(), &moved).unwrap();
        let offline = scanner.rescan(&grown, false).unwrap();
        std::fs::rename(&moved, dir.path()).unwrap();
        assert_ne!(offline.generation, grown.generation);
        assert!(matches!(offline.roots[0].state, RootState::Offline(_)));
        assert_eq!(scanner.rescan(&offline, false).unwrap().len(), 2, "back online");
    }
}
