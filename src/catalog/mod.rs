//! The in-memory model every read is served from, and its queries.
//!
//! Owns: `Catalog` (an immutable snapshot of the library built by each scan,
//! with the gallery orders precomputed), `Cache` (swaps catalogs atomically;
//! readers never lock), user data in memory (`user`), listings (`query`),
//! search (`search`, `fold`) and orders (`sort`). Never: touches the disk,
//! redb or HTTP; this module only computes over what it is given.

pub mod fold;
pub mod folders;
pub mod listing;
pub mod names;
pub mod personal;
pub mod query;
pub mod search;
pub mod series;
pub mod sight;
pub mod sort;
mod table;
pub mod texts;
pub mod user;
pub mod words;

pub use personal::{Personal, Viewer};
pub use sight::{Sight, Visible};
pub use sort::{Order, Sort};
pub use user::{UserCache, UserData};

use std::borrow::Cow;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::library::fsafe::Expect;
use crate::library::ids::VideoId;
use crate::library::probe::MediaInfo;
use crate::library::roots::Roots;

/// Seconds since 1970 as `YYYY-MM-DDThh:mm:ss` (UTC).
pub fn utc(unix: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else { return "1970-01-01T00:00:00".into() };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// One piece of content, with every path it was found at.
#[derive(Debug)]
pub struct Video {
    pub id: VideoId,
    /// Most videos have one file: it is held inline, not in a block of its own.
    pub files: smallvec::SmallVec<[VideoFile; 1]>,
    pub added: i64,
    /// Held inline (a copy of the stored record's): one allocation a video,
    /// laid out with the others, not a block of its own left wherever the
    /// stored index was read.
    pub info: Option<MediaInfo>,
    pub broken: Option<Box<str>>,
    /// Position in `Catalog::videos` (set by `Catalog::new`; `u32::MAX`
    /// for broken videos, which are not listed).
    pub pos: u32,
}

impl Video {
    /// Its primary file's size.
    pub fn size(&self) -> u64 {
        self.primary().size
    }

    pub fn duration_ms(&self) -> Option<u64> {
        self.info.as_ref().and_then(|i| i.duration_ms)
    }

    /// When it was recorded, as its own metadata says (seconds since 1970).
    pub fn taken(&self) -> Option<i64> {
        self.info.as_ref().and_then(|i| i.taken).map(|t| i64::from(t.get()))
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
        self.title_named(user, None)
    }

    /// The title to show: the user's, else `name` (an episode's own
    /// title), else the file's.
    pub fn title_named<'a>(&'a self, user: &'a UserData, name: Option<&'a str>) -> Cow<'a, str> {
        match (&user.title, name) {
            (Some(t), _) => Cow::Borrowed(t),
            (None, Some(n)) => Cow::Borrowed(n),
            (None, None) => self.title(),
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
    /// Opens it through its root (`roots`: `Catalog::sources`), checking
    /// it is still the file the scan saw.
    pub fn open(&self, roots: &Roots) -> std::io::Result<crate::library::roots::Opened> {
        roots.open(self.root, &self.rel, Some(self.expect))
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

/// An immutable snapshot of the library: what it lists (shared by the
/// catalogs of scans that changed nothing) and how the last scan went.
/// Reads through to `Contents`.
#[derive(Debug, Default)]
pub struct Catalog {
    contents: Arc<Contents>,
    pub roots: Vec<RootStatus>,
    /// Where the roots' files are read (`library::roots`).
    sources: Roots,
    pub stats: ScanStats,
}

impl std::ops::Deref for Catalog {
    type Target = Contents;
    fn deref(&self) -> &Contents {
        &self.contents
    }
}

/// The videos of a catalog, their lookups, orders and search index.
#[derive(Debug, Default)]
pub struct Contents {
    /// Playable (not broken) videos from online roots.
    videos: Vec<Arc<Video>>,
    /// Videos whose files could not be understood.
    pub broken: Vec<Arc<Video>>,
    /// Id -> position (`videos`, then `broken` after them).
    by_id: table::PosTable,
    /// Root-relative path of any file -> position, as `by_id`; the first
    /// video in primary path order wins (so the first root in `--dir`
    /// order). Keyed by a seeded hash; a lookup checks the path itself.
    by_rel: table::PosTable,
    /// The seed of `by_rel`'s hash (random: file names cannot be chosen to
    /// collide).
    rel_seed: u64,
    /// For each sort of file facts, indexes into `videos` in ascending order.
    orders: [Arc<[u32]>; 5],
    /// Distinguishes contents (orders derived from one are only valid for
    /// it); the catalog of a scan that changed nothing keeps it.
    pub generation: u64,
    /// Each video's primary path, folded for search (`fold::fold`).
    folded: texts::Texts,
    /// The words of `folded`, for search.
    words: words::WordIndex,
    /// Paths that held the same content as another (shown once).
    pub duplicates: usize,
    /// Which videos each set of folders lets through, for the few sets in
    /// use (`Sight`), newest first.
    visible: std::sync::Mutex<std::collections::VecDeque<Arc<Visible>>>,
    /// Every folder, built when first browsed (`folders`).
    folders: std::sync::OnceLock<Arc<folders::Tree>>,
    /// Series and years, built when first asked for (`series`).
    series: std::sync::OnceLock<Arc<series::Series>>,
    /// Whether a build of `series` in the background was started.
    series_started: std::sync::atomic::AtomicBool,
}

/// Sets of folders whose visible videos a catalog keeps at once.
const VISIBLE_KEPT: usize = 32;

impl Catalog {
    /// Builds the lookups, the precomputed orders and the search index
    /// (the last on a second thread). `all` is listed in primary path order
    /// (`--dir` order, then relative path): it is sorted here unless it
    /// comes sorted, as the scanner gives it.
    /// Each video is held only by `all` (its position is set here).
    /// `sources`: where the files of `roots` are read (`Roots::new`).
    pub fn new(mut all: Vec<Arc<Video>>, roots: Vec<RootStatus>, sources: Roots, stats: ScanStats) -> Self {
        let by_path = |a: &Arc<Video>, b: &Arc<Video>| {
            a.primary().root.cmp(&b.primary().root).then_with(|| a.primary().rel.cmp(&b.primary().rel))
        };
        if !all.is_sorted_by(|a, b| by_path(a, b).is_le()) {
            // As pointers; no two videos share a primary path, so an
            // unstable sort is exact.
            all.sort_unstable_by(by_path);
        }
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
        let rel_seed = std::hash::BuildHasher::hash_one(&std::collections::hash_map::RandomState::new(), 0u8);
        let fold_all = |videos: &[Arc<Video>]| -> texts::Texts {
            videos.iter().map(|v| fold::fold(&String::from_utf8_lossy(&v.primary().rel))).collect()
        };
        // The search index takes longer than the lookups: this thread folds
        // the second half of the paths for it before making the lookups.
        let half = videos.len() / 2;
        let ((folded, words), (by_id, by_rel, orders)) = std::thread::scope(|s| {
            let (give, take) = std::sync::mpsc::sync_channel::<texts::Texts>(1);
            let (mine, fold_all) = (&videos[..], &fold_all);
            let search = s.spawn(move || {
                let t = std::time::Instant::now();
                let mut folded = fold_all(&mine[..half]);
                folded.append(&take.recv().unwrap_or_else(|_| fold_all(&mine[half..])));
                folded.shrink_to_fit();
                let t1 = t.elapsed();
                let words = words::WordIndex::build(&folded);
                tracing::debug!(
                    fold_ms = t1.as_millis() as u64,
                    words_ms = (t.elapsed() - t1).as_millis() as u64,
                    "search index built"
                );
                (folded, words)
            });
            // Fails only when the search thread has ended (a panic, reported at its join).
            let _ = give.send(fold_all(&videos[half..]));
            let t = std::time::Instant::now();
            let all = |p: u32| Contents::at_in(&videos, &broken, p).expect("a stored position");
            let count = videos.len() + broken.len();
            let mut by_id = table::PosTable::with_capacity(count);
            let mut by_rel = table::PosTable::with_capacity(count + duplicates);
            for (pos, v) in videos.iter().chain(&broken).enumerate() {
                let pos = pos as u32;
                by_id.insert(v.id.0, pos, |p| all(p).id == v.id);
                for f in &v.files {
                    by_rel.insert(xxh3_64_with_seed(&f.rel, rel_seed), pos, |p| {
                        all(p).files.iter().any(|g| g.rel == f.rel)
                    });
                }
            }
            let t1 = t.elapsed();
            let orders = Self::orders(&videos);
            tracing::debug!(
                tables_ms = t1.as_millis() as u64,
                orders_ms = (t.elapsed() - t1).as_millis() as u64,
                "lookups built"
            );
            (search.join().expect("building the search index does not panic"), (by_id, by_rel, orders))
        });
        static GENERATION: AtomicU64 = AtomicU64::new(1);
        let generation = GENERATION.fetch_add(1, AtomicOrdering::Relaxed);
        let contents = Contents {
            videos,
            broken,
            by_id,
            by_rel,
            rel_seed,
            orders,
            generation,
            folded,
            words,
            duplicates,
            visible: Default::default(),
            folders: Default::default(),
            series: Default::default(),
            series_started: Default::default(),
        };
        Catalog { contents: Arc::new(contents), sources, roots, stats }
    }

    /// The catalog after a scan that changed nothing: the same contents
    /// (and generation, so what was derived from them stays valid), the
    /// new scan's facts.
    pub fn unchanged(&self, stats: ScanStats) -> Catalog {
        Catalog { contents: self.contents.clone(), roots: self.roots.clone(), sources: self.sources.clone(), stats }
    }

    /// For each sort of file facts, the positions of `videos` in ascending
    /// order. Titles compare without regard to case or accents, numbers in
    /// them as numbers (`Episode 2` before `Episode 10`). Ties of the other
    /// facts are in title order when read newest (largest, longest) first,
    /// as they are by default: a season added at once lists in its order.
    ///
    /// Only the title order compares strings. The others sort pairs of
    /// integers (the fact, then the place in title order), with no pointer
    /// followed and no string compared.
    fn orders(videos: &[Arc<Video>]) -> [Arc<[u32]>; 5] {
        // Without regard to case or accents (`Bärchen` before `broken`).
        let lower: texts::Texts = videos.iter().map(|v| fold::natural(&fold::fold(&v.title()))).collect();
        let mut by_title: Vec<u32> = (0..videos.len() as u32).collect();
        by_title.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            lower.get(a).cmp(lower.get(b)).then_with(|| videos[a].title().cmp(&videos[b].title()))
        });
        let mut rank = vec![0u32; videos.len()];
        for (r, &i) in by_title.iter().enumerate() {
            rank[i as usize] = r as u32;
        }
        let by_fact = |fact: fn(&Video) -> u64| -> Arc<[u32]> {
            // Later titles first among equals: read backwards, they come in order.
            let mut keyed: Vec<(u64, u32)> = videos.iter().zip(&rank).map(|(v, &r)| (fact(v), u32::MAX - r)).collect();
            keyed.sort_unstable();
            keyed.iter().map(|&(_, r)| by_title[(u32::MAX - r) as usize]).collect()
        };
        // Shifted so that the order of the signed times is kept.
        let added = by_fact(|v| (v.added as u64) ^ (1 << 63));
        let size = by_fact(|v| v.size());
        // Unknown first.
        let duration = by_fact(|v| v.duration_ms().map_or(0, |d| d.saturating_add(1)));
        // Unknown first (a recording time is never before 1980).
        let taken = by_fact(|v| v.taken().map_or(0, |t| t as u64));
        [added, by_title.into(), size, duration, taken]
    }

    /// The videos `folders` let through (kept while the contents stay).
    pub fn visible(&self, folders: &Arc<sight::Folders>) -> Arc<Visible> {
        let found = |kept: &std::collections::VecDeque<Arc<Visible>>| kept.iter().find(|v| v.is_for(folders)).cloned();
        let lock = || self.contents.visible.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = found(&lock()) {
            return v;
        }
        // Built without the lock held: a pass over the library.
        let built = Arc::new(Visible::build(self, folders));
        let mut kept = lock();
        if let Some(v) = found(&kept) {
            return v;
        }
        if kept.len() >= VISIBLE_KEPT {
            kept.pop_back();
        }
        kept.push_front(built.clone());
        built
    }

    /// Where a file of the catalog is on disk (for messages and logs; open
    /// with `open`).
    pub fn abs_path(&self, file: &VideoFile) -> PathBuf {
        self.roots[file.root].path.join(file.rel_path())
    }

    /// Where the roots' files are read, in `--dir` order.
    pub fn sources(&self) -> &Roots {
        &self.sources
    }

    /// Where a file is, for `Located::open`: its root's index
    /// and path below it, with what the scan saw of it.
    pub fn located(&self, file: &VideoFile) -> Located {
        Located {
            root: file.root,
            rel: file.rel_path().to_path_buf(),
            expect: Expect { dev: file.dev, ino: file.ino, size: file.size },
        }
    }
}

impl Contents {
    pub fn len(&self) -> usize {
        self.videos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.videos.is_empty()
    }

    /// The video at a position of `by_id` and `by_rel`.
    fn at_in<'a>(videos: &'a [Arc<Video>], broken: &'a [Arc<Video>], pos: u32) -> Option<&'a Arc<Video>> {
        let pos = pos as usize;
        videos.get(pos).or_else(|| broken.get(pos.checked_sub(videos.len())?))
    }

    fn at(&self, pos: u32) -> Option<&Arc<Video>> {
        Self::at_in(&self.videos, &self.broken, pos)
    }

    pub fn get(&self, id: VideoId) -> Option<&Arc<Video>> {
        let pos = self.by_id.find(id.0, |p| self.at(p).is_some_and(|v| v.id == id))?;
        self.at(pos)
    }

    /// Looks up the original server's `<filename>`: a root-relative path.
    pub fn by_rel_path(&self, rel: &[u8]) -> Option<&Arc<Video>> {
        let has = |p: u32| self.at(p).is_some_and(|v| v.files.iter().any(|f| f.rel == rel));
        let pos = self.by_rel.find(xxh3_64_with_seed(rel, self.rel_seed), has)?;
        self.at(pos)
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

impl Catalog {
    /// Every folder with its counts, built at the first call (one pass)
    /// and kept while the contents stay.
    pub fn folder_tree(&self) -> Arc<folders::Tree> {
        self.contents.folders.get_or_init(|| Arc::new(folders::Tree::build(self))).clone()
    }

    /// Series and years, built at the first call (one pass over the
    /// names) and kept while the contents stay.
    pub fn series(&self) -> Arc<series::Series> {
        self.contents.series.get_or_init(|| Arc::new(series::Series::build(self))).clone()
    }

    /// Whether the caller is the first to ask for a build of the series
    /// index in the background (each catalog builds it once).
    pub fn claim_series_build(&self) -> bool {
        !self.contents.series_started.swap(true, AtomicOrdering::SeqCst)
    }

    /// The series index when it is built already (so a page never waits for it).
    pub fn series_ready(&self) -> Option<Arc<series::Series>> {
        self.contents.series.get().cloned()
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
            files: smallvec::smallvec![VideoFile {
                root: 0,
                rel: title.as_bytes().to_vec(),
                size,
                mtime_ns: 0,
                dev: 0,
                ino: 0
            }],
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
            Roots::default(),
            ScanStats::default(),
        );
        let titles = |sort| {
            let idx = c.base_order(sort).unwrap();
            idx.iter().map(|&i| c.videos()[i as usize].title().into_owned()).collect::<Vec<_>>().join(",")
        };
        assert_eq!(titles(Sort::Title), "A,b,c");
        let accents = Catalog::new(
            vec![video(1, "broken", 1, 1), video(2, "Bärchen", 1, 2), video(3, "Äpfel", 1, 3), video(4, "zebra", 1, 4)]
                .into_iter()
                .map(Arc::new)
                .collect(),
            vec![],
            Roots::default(),
            ScanStats::default(),
        );
        let idx = accents.base_order(Sort::Title).unwrap();
        let sorted: Vec<String> = idx.iter().map(|&i| accents.videos()[i as usize].title().into_owned()).collect();
        assert_eq!(sorted, ["Äpfel", "Bärchen", "broken", "zebra"]);
        assert_eq!(titles(Sort::Size), "A,c,b");
        assert_eq!(titles(Sort::Added), "A,c,b");
        assert!(c.base_order(Sort::Rating).is_none());
        assert_eq!(c.by_rel_path(b"c").unwrap().id, VideoId(3));
    }
}
#[cfg(test)]
mod layout {
    /// A video and its one file in one block of at most 192 bytes (with
    /// the `Arc`'s counts): the size class a million of them are held in.
    #[test]
    fn a_video_fits_its_block() {
        assert!(std::mem::size_of::<super::Video>() + 16 <= 192, "{}", std::mem::size_of::<super::Video>());
    }
}
