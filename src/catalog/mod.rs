//! The in-memory model every read is served from, and its queries.
//!
//! Owns: `Catalog` (an immutable snapshot of the library built by each scan,
//! with the gallery orders precomputed), `Cache` (swaps catalogs atomically;
//! readers never lock), user data in memory (`user`), listings (`query`),
//! search (`search`, `fold`) and orders (`sort`). Never: touches the disk,
//! redb or HTTP; this module only computes over what it is given.

pub mod fold;
pub mod personal;
pub mod query;
pub mod search;
pub mod sort;
pub mod texts;
pub mod user;
pub mod words;

pub use personal::{Personal, Viewer};
pub use sort::{Order, Sort};
pub use user::{UserCache, UserData};

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use xxhash_rust::xxh3::{xxh3_64, Xxh3Builder};

use crate::library::fsafe::Expect;
use crate::library::ids::VideoId;
use crate::library::probe::MediaInfo;

/// One piece of content, with every path it was found at.
#[derive(Debug)]
pub struct Video {
    pub id: VideoId,
    pub files: Vec<VideoFile>,
    pub size: u64,
    pub added: i64,
    /// Held inline (a copy of the stored record's): one allocation a video,
    /// laid out with the others, not a block of its own left wherever the
    /// stored index was read.
    pub info: Option<MediaInfo>,
    pub broken: Option<String>,
    /// Position in `Catalog::videos` (set by `Catalog::new`; `u32::MAX`
    /// for broken videos, which are not listed).
    pub pos: u32,
}

impl Video {
    pub fn duration_ms(&self) -> Option<u64> {
        self.info.as_ref().and_then(|i| i.duration_ms)
    }
    /// The file's title: its primary file's name without the extension,
    /// lossily decoded (derived, not stored: a million videos keep no
    /// second copy of their names).
    pub fn title(&self) -> Cow<'_, str> {
        Path::new(std::ffi::OsStr::from_bytes(&self.primary().rel))
            .file_stem()
            .map_or(Cow::Borrowed(""), |s| s.to_string_lossy())
    }

    /// The title to show: the user's, else the file's.
    pub fn title_for<'a>(&'a self, user: &'a UserData) -> Cow<'a, str> {
        match &user.title {
            Some(t) => Cow::Borrowed(t),
            None => self.title(),
        }
    }

    /// The file that is streamed: the first path, in `--dir` order.
    pub fn primary(&self) -> &VideoFile {
        &self.files[0]
    }
}

#[derive(Debug, Clone)]
pub struct VideoFile {
    /// Index of its root in `--dir` order.
    pub root: usize,
    /// Path below the root, `/`-separated, raw bytes.
    pub rel: Vec<u8>,
    pub size: u64,
    pub mtime_ns: i64,
    /// Device and inode when scanned (0: unknown).
    pub dev: u64,
    pub ino: u64,
}

impl VideoFile {
    pub fn rel_display(&self) -> String {
        String::from_utf8_lossy(&self.rel).into_owned()
    }
    pub fn rel_path(&self) -> &Path {
        Path::new(std::ffi::OsStr::from_bytes(&self.rel))
    }
}

/// A file of the library as `library::fsafe` opens it.
#[derive(Debug, Clone)]
pub struct Located {
    pub root: usize,
    pub rel: PathBuf,
    pub expect: Expect,
}

impl Located {
    /// Opens it beneath its root (`roots`: `Catalog::root_paths`), checking
    /// it is still the file the scan saw.
    pub fn open(&self, roots: &[PathBuf]) -> std::io::Result<crate::library::fsafe::Opened> {
        crate::library::fsafe::open_beneath(roots, self.root, &self.rel, Some(self.expect))
    }

    /// A file beside it (same folder), with nothing to expect of it.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.rel.with_file_name(name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootState {
    Online,
    /// Missing, unreadable, or suddenly empty: its records are kept.
    Offline(String),
}

#[derive(Debug, Clone)]
pub struct RootStatus {
    pub path: PathBuf,
    /// Its canonical path: files are opened beneath it (`library::fsafe`).
    pub canonical: PathBuf,
    pub state: RootState,
    pub files: usize,
}

/// Facts about the scan that built a catalog.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    pub files_seen: usize,
    pub hashed: usize,
    pub probed: usize,
    pub unreadable: Vec<(PathBuf, String)>,
    pub duration: Duration,
    /// Unix seconds when the scan finished (0: loaded from the stored index).
    pub finished_at: i64,
    /// Whether the scan changed the index or a folder's state.
    pub changed: bool,
}

/// An immutable snapshot of the library.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Playable (not broken) videos from online roots.
    videos: Vec<Arc<Video>>,
    /// Videos whose files could not be understood.
    pub broken: Vec<Arc<Video>>,
    by_id: HashMap<VideoId, Arc<Video>, Xxh3Builder>,
    /// Hash of a root-relative path -> id; the first root in `--dir` order
    /// wins. Keyed by hash to keep no second copy of every path; a lookup
    /// checks the path itself.
    by_rel: HashMap<u64, VideoId, Xxh3Builder>,
    /// For each sort of file facts, indexes into `videos` in ascending order.
    orders: [Arc<[u32]>; 4],
    /// Distinguishes catalogs (orders derived from one are only valid for it).
    pub generation: u64,
    /// Each video's primary path, folded for search (`fold::fold`).
    folded: texts::Texts,
    /// The words of `folded`, for search.
    words: words::WordIndex,
    pub roots: Vec<RootStatus>,
    pub stats: ScanStats,
    /// Paths that held the same content as another (shown once).
    pub duplicates: usize,
}

impl Catalog {
    /// Builds the lookups, the precomputed orders and the search index
    /// (the last on a second thread). `all` is listed in primary path order
    /// (`--dir` order, then relative path): it is sorted here unless it
    /// comes sorted, as the scanner gives it.
    /// Each video is held only by `all` (its position is set here).
    pub fn new(mut all: Vec<Arc<Video>>, roots: Vec<RootStatus>, stats: ScanStats) -> Self {
        let by_path = |a: &Arc<Video>, b: &Arc<Video>| {
            a.primary().root.cmp(&b.primary().root).then_with(|| a.primary().rel.cmp(&b.primary().rel))
        };
        if !all.is_sorted_by(|a, b| by_path(a, b).is_le()) {
            // As pointers; no two videos share a primary path, so an
            // unstable sort is exact.
            all.sort_unstable_by(by_path);
        }
        let mut by_rel = HashMap::with_capacity_and_hasher(all.len(), Xxh3Builder::default());
        let mut by_id = HashMap::with_capacity_and_hasher(all.len(), Xxh3Builder::default());
        let (mut videos, mut broken) = (Vec::with_capacity(all.len()), Vec::new());
        let mut duplicates = 0;
        for mut v in all {
            duplicates += v.files.len() - 1;
            let pos = if v.broken.is_some() { u32::MAX } else { videos.len() as u32 };
            Arc::get_mut(&mut v).expect("not shared yet").pos = pos;
            if v.broken.is_some() {
                broken.push(v);
            } else {
                videos.push(v);
            }
        }
        let ((folded, words), (by_id, by_rel, orders)) = std::thread::scope(|s| {
            let search = s.spawn(|| {
                let folded: texts::Texts =
                    videos.iter().map(|v| fold::fold(&String::from_utf8_lossy(&v.primary().rel))).collect();
                let words = words::WordIndex::build(&folded);
                (folded, words)
            });
            for v in videos.iter().chain(&broken) {
                for f in &v.files {
                    by_rel.entry(xxh3_64(&f.rel)).or_insert(v.id);
                }
                by_id.insert(v.id, v.clone());
            }
            let orders = Self::orders(&videos);
            (search.join().expect("building the search index does not panic"), (by_id, by_rel, orders))
        });
        static GENERATION: AtomicU64 = AtomicU64::new(1);
        let generation = GENERATION.fetch_add(1, AtomicOrdering::Relaxed);
        Catalog { videos, broken, by_id, by_rel, orders, generation, folded, words, roots, stats, duplicates }
    }

    /// For each sort of file facts, the positions of `videos` in ascending
    /// order; ties by title, case-insensitive.
    fn orders(videos: &[Arc<Video>]) -> [Arc<[u32]>; 4] {
        let lower: texts::Texts = videos.iter().map(|v| v.title().to_lowercase()).collect();
        let order_by = |cmp: &dyn Fn(usize, usize) -> Ordering| -> Arc<[u32]> {
            let mut idx: Vec<u32> = (0..videos.len() as u32).collect();
            idx.sort_by(|&a, &b| {
                cmp(a as usize, b as usize).then_with(|| lower.get(a as usize).cmp(lower.get(b as usize)))
            });
            idx.into()
        };
        [
            order_by(&|a, b| videos[a].added.cmp(&videos[b].added)),
            order_by(&|a, b| lower.get(a).cmp(lower.get(b)).then_with(|| videos[a].title().cmp(&videos[b].title()))),
            order_by(&|a, b| videos[a].size.cmp(&videos[b].size)),
            order_by(&|a, b| videos[a].duration_ms().cmp(&videos[b].duration_ms())),
        ]
    }

    pub fn len(&self) -> usize {
        self.videos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.videos.is_empty()
    }

    /// Where a file of the catalog is on disk (for messages and logs; open
    /// with `open`).
    pub fn abs_path(&self, file: &VideoFile) -> PathBuf {
        self.roots[file.root].path.join(file.rel_path())
    }

    /// The canonical paths of the roots, in `--dir` order.
    pub fn root_paths(&self) -> Vec<PathBuf> {
        self.roots.iter().map(|r| r.canonical.clone()).collect()
    }

    /// Where a file is, for `library::fsafe::open_beneath`: its root's index
    /// and path below it, with what the scan saw of it.
    pub fn located(&self, file: &VideoFile) -> Located {
        Located {
            root: file.root,
            rel: file.rel_path().to_path_buf(),
            expect: Expect { dev: file.dev, ino: file.ino, size: file.size },
        }
    }

    pub fn get(&self, id: VideoId) -> Option<&Arc<Video>> {
        self.by_id.get(&id)
    }

    /// Looks up the original server's `<filename>`: a root-relative path.
    pub fn by_rel_path(&self, rel: &[u8]) -> Option<&Arc<Video>> {
        let video = self.by_rel.get(&xxh3_64(rel)).and_then(|id| self.by_id.get(id))?;
        video.files.iter().any(|f| f.rel == rel).then_some(video)
    }

    /// A precomputed ascending order (`None` for sorts by user data).
    pub fn base_order(&self, sort: Sort) -> Option<Arc<[u32]>> {
        sort.base().map(|i| self.orders[i].clone())
    }

    /// The folded primary path of each listed video, by position.
    pub fn folded_paths(&self) -> &texts::Texts {
        &self.folded
    }

    /// The search index of the folded paths.
    pub fn word_index(&self) -> &words::WordIndex {
        &self.words
    }

    /// All listed videos, by position (the values orders hold).
    pub fn videos(&self) -> &[Arc<Video>] {
        &self.videos
    }
}

/// Holds the current catalog; swapped whole by the scanner.
#[derive(Default)]
pub struct Cache {
    current: ArcSwap<Catalog>,
    /// Catalogs swapped in (one per scan that finished).
    pub rebuilds: AtomicU64,
}

impl Cache {
    pub fn new(catalog: Catalog) -> Self {
        Cache { current: ArcSwap::from_pointee(catalog), ..Cache::default() }
    }

    /// The current snapshot; cheap, lock-free.
    pub fn load(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    pub fn replace(&self, catalog: Catalog) {
        self.current.store(Arc::new(catalog));
        self.rebuilds.fetch_add(1, AtomicOrdering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(n: u64, title: &str, size: u64, added: i64) -> Video {
        Video {
            id: VideoId(n),
            files: vec![VideoFile { root: 0, rel: title.as_bytes().to_vec(), size, mtime_ns: 0, dev: 0, ino: 0 }],
            size,
            added,
            info: None,
            broken: None,
            pos: 0,
        }
    }

    #[test]
    fn orders_follow_each_sort() {
        let c = Catalog::new(
            vec![video(1, "b", 30, 3), video(2, "A", 10, 1), video(3, "c", 20, 2)].into_iter().map(Arc::new).collect(),
            vec![],
            ScanStats::default(),
        );
        let titles = |sort| {
            let idx = c.base_order(sort).unwrap();
            idx.iter().map(|&i| c.videos()[i as usize].title().into_owned()).collect::<Vec<_>>().join(",")
        };
        assert_eq!(titles(Sort::Title), "A,b,c");
        assert_eq!(titles(Sort::Size), "A,c,b");
        assert_eq!(titles(Sort::Added), "A,c,b");
        assert!(c.base_order(Sort::Rating).is_none());
        assert_eq!(c.by_rel_path(b"c").unwrap().id, VideoId(3));
    }
}
