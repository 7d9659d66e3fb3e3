//! Plans kept for the videos being played: a few, the most recently used,
//! keyed by video, audio track and the file's size and modification time.
//! Building one reads the whole file: `gate` lets two builds run at once
//! (one slow or bad file does not hold up every other film). A file that
//! cannot be remuxed is remembered, until it changes, so asking again
//! costs nothing.
//!
//! The sample tables a plan is made from are also kept in the data dir
//! (`plans/ID-AUDIO.plan`: a header naming the file's size and time, then
//! the tables in postcard), so a film is read whole once, not again after
//! a restart or when it comes back into the few kept in memory. A kept
//! table is used only for the file as it was (same size and time) and only
//! if every frame it names lies inside the file; the folder is held under
//! `DISK_BUDGET`, the least recently used going first. Plans with remade
//! sound are kept in memory only (the sound file may be made again).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::demux::Demuxed;
use super::Plan;
use crate::library::ids::VideoId;

/// The first bytes of a kept table file, with its layout's version.
const MAGIC: &[u8; 8] = b"vsplan2\n";
/// What the plans folder may hold in all (a film's tables are some MiB).
const DISK_BUDGET: u64 = 512 << 20;
/// The largest table file read back (a day-long recording's).
const MOST_READ: u64 = 256 << 20;

/// Plans kept (each about 40 bytes a frame: some MiB for a film).
const KEEP: usize = 4;
/// Files remembered as not remuxable (the most recent).
const FAILURES: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanKey {
    pub id: VideoId,
    pub audio: usize,
    pub size: u64,
    pub mtime_ns: i64,
    /// With the chosen track's sound remade by ffmpeg.
    pub with_sound: bool,
}

impl PlanKey {
    /// The plan of video `v`'s file as it is now, with its `audio`th track.
    pub fn of(v: &crate::catalog::Video, audio: usize) -> PlanKey {
        let f = v.primary();
        PlanKey { id: v.id, audio, size: f.size, mtime_ns: f.mtime_ns, with_sound: false }
    }
}

pub struct Plans {
    kept: Mutex<Vec<(PlanKey, Arc<Plan>)>>,
    /// Files that could not be remuxed, and why (most recent last).
    failed: Mutex<Vec<(PlanKey, String)>>,
    /// Taken (asynchronously) before a build.
    pub gate: tokio::sync::Semaphore,
    /// Where sample tables are kept between runs (`None`: memory only).
    dir: Option<PathBuf>,
    /// Tables read from files (whole passes over a film).
    pub read_whole: AtomicU64,
    /// Tables found kept in the data dir.
    pub found_kept: AtomicU64,
    /// Files being read whole now (a player and the background never read
    /// one twice at once: the second waits for the first's tables).
    reading: Mutex<std::collections::HashSet<PlanKey>>,
    read_done: std::sync::Condvar,
}

impl Default for Plans {
    fn default() -> Self {
        Plans {
            kept: Mutex::default(),
            failed: Mutex::default(),
            gate: tokio::sync::Semaphore::new(2),
            dir: None,
            read_whole: AtomicU64::new(0),
            found_kept: AtomicU64::new(0),
            reading: Mutex::default(),
            read_done: std::sync::Condvar::new(),
        }
    }
}

impl Plans {
    /// Plans whose tables are kept in `data_dir/plans`.
    pub fn open(data_dir: &Path) -> std::io::Result<Plans> {
        let dir = data_dir.join("plans");
        std::fs::create_dir_all(&dir)?;
        Ok(Plans { dir: Some(dir), ..Plans::default() })
    }

    fn path(&self, key: &PlanKey) -> Option<PathBuf> {
        let dir = self.dir.as_ref().filter(|_| !key.with_sound)?;
        Some(dir.join(format!("{}-{}.plan", key.id, key.audio)))
    }

    /// The plan for `key` from its kept tables, or else from `read` (a
    /// whole pass over the file), whose tables are then kept. Blocking.
    pub fn load_or_build(
        &self,
        key: &PlanKey,
        read: impl FnOnce() -> Result<Demuxed, super::RemuxError>,
    ) -> Result<Plan, super::RemuxError> {
        let mut reading = self.reading.lock().unwrap_or_else(|e| e.into_inner());
        while reading.contains(key) {
            reading = self.read_done.wait(reading).unwrap_or_else(|e| e.into_inner());
        }
        if let Some(tables) = self.load(key) {
            self.found_kept.fetch_add(1, Ordering::Relaxed);
            return Plan::from_tables(tables);
        }
        reading.insert(*key);
        drop(reading);
        // Whatever happens in `read` (a panic included), the key is let go.
        let _done = Reading { plans: self, key };
        let tables = read()?;
        self.read_whole.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.save(key, &tables) {
            tracing::warn!(id = %key.id, "the remux tables could not be kept: {e}");
        }
        Plan::from_tables(tables)
    }

    /// Whether tables are kept for the file as `key` names it (their
    /// header only is read; blocking).
    pub fn is_kept(&self, key: &PlanKey) -> bool {
        let Some(file) = self.path(key).and_then(|p| std::fs::File::open(p).ok()) else { return false };
        let mut head = [0u8; HEADER];
        std::io::Read::read_exact(&mut &file, &mut head).is_ok() && head == header(key)
    }

    /// The tables kept for the file as `key` names it, if they are whole
    /// and fit it; marks them used (the budget removes the least used).
    fn load(&self, key: &PlanKey) -> Option<Demuxed> {
        let path = self.path(key)?;
        let file = std::fs::File::open(&path).ok()?;
        if file.metadata().ok()?.len() > MOST_READ {
            return None;
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(&file, MOST_READ), &mut bytes).ok()?;
        let tables = decode(&bytes, key)?;
        let _ = file.set_modified(SystemTime::now());
        Some(tables)
    }

    fn save(&self, key: &PlanKey, tables: &Demuxed) -> std::io::Result<()> {
        let Some(path) = self.path(key) else { return Ok(()) };
        crate::media::inside::cache::write(&path, &encode(key, tables))?;
        if let Some(dir) = &self.dir {
            keep_within(dir, DISK_BUDGET, &path);
        }
        Ok(())
    }

    /// Removes the kept tables of videos no longer in the library.
    pub fn keep_only(&self, known: &std::collections::HashSet<VideoId>) -> usize {
        self.dir.as_ref().map_or(0, |dir| crate::media::inside::cache::forget_others(dir, known, '-', ".tmp"))
    }

    pub fn get(&self, key: &PlanKey) -> Option<Arc<Plan>> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let at = kept.iter().position(|(k, _)| k == key)?;
        let hit = kept.remove(at);
        let plan = hit.1.clone();
        kept.push(hit); // most recent last
        Some(plan)
    }

    /// Why this file (as it is now) cannot be remuxed, if it was tried.
    pub fn failure(&self, key: &PlanKey) -> Option<String> {
        let failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed.iter().find(|(k, _)| k == key).map(|(_, why)| why.clone())
    }

    /// Remembers that this file (as it is now) cannot be remuxed.
    pub fn fail(&self, key: PlanKey, why: String) {
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed.retain(|(k, _)| k.id != key.id || k.audio != key.audio || k.with_sound != key.with_sound);
        if failed.len() >= FAILURES {
            failed.remove(0);
        }
        failed.push((key, why));
    }

    pub fn put(&self, key: PlanKey, plan: Arc<Plan>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| k.id != key.id || k.audio != key.audio || k.with_sound != key.with_sound);
        if kept.len() >= KEEP {
            kept.remove(0);
        }
        kept.push((key, plan));
    }
}

/// A file being read whole: taken off the list when dropped.
struct Reading<'a> {
    plans: &'a Plans,
    key: &'a PlanKey,
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.plans.reading.lock().unwrap_or_else(|e| e.into_inner()).remove(self.key);
        self.plans.read_done.notify_all();
    }
}

/// Bytes of `header`.
const HEADER: usize = 24;

/// What a kept table file starts with: `MAGIC`, the file's size and time.
fn header(key: &PlanKey) -> [u8; HEADER] {
    let mut head = [0u8; HEADER];
    head[..8].copy_from_slice(MAGIC);
    head[8..16].copy_from_slice(&key.size.to_le_bytes());
    head[16..].copy_from_slice(&key.mtime_ns.to_le_bytes());
    head
}

/// The header, then the tables.
fn encode(key: &PlanKey, tables: &Demuxed) -> Vec<u8> {
    let mut out = header(key).to_vec();
    let body = postcard::to_allocvec(tables).expect("sample tables are plain data and always serialise");
    out.extend_from_slice(&body);
    out
}

/// The tables in `bytes` when they were kept for this very file and every
/// frame they name lies inside it (a damaged or foreign file is ignored).
fn decode(bytes: &[u8], key: &PlanKey) -> Option<Demuxed> {
    let (head, rest) = bytes.split_first_chunk::<HEADER>()?;
    if *head != header(key) {
        return None;
    }
    let tables: Demuxed = postcard::from_bytes(rest).ok()?;
    let inside = |t: &super::demux::Track| {
        let within = |pos: u64, len: u64| pos.checked_add(len).is_some_and(|end| end <= key.size);
        t.file == 0
            && match t.framing {
                super::demux::Framing::Whole => t.samples.iter().all(|s| within(s.pos, u64::from(s.size))),
                super::demux::Framing::Packets { layout, .. } => {
                    matches!((layout.stride, layout.lead), (188, 0) | (192, 4))
                        && t.spread.len() == t.samples.len()
                        && t.samples.windows(2).all(|w| w[0].pos <= w[1].pos)
                        && t.samples.iter().zip(&t.spread).all(|(s, sp)| within(s.pos, u64::from(sp.span)))
                }
                super::demux::Framing::AnnexB => {
                    t.spread.len() == t.samples.len()
                        && t.samples.windows(2).all(|w| w[0].pos <= w[1].pos)
                        && t.samples
                            .iter()
                            .zip(&t.spread)
                            .all(|(s, sp)| sp.span == sp.len && within(s.pos, u64::from(sp.len)))
                }
            }
    };
    (inside(&tables.video) && tables.audio.as_ref().is_none_or(inside)).then_some(tables)
}

/// Removes the least recently used files of `dir` until it holds at most
/// `budget` bytes (never `keep`, just written).
fn keep_within(dir: &Path, budget: u64, keep: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= budget {
            break;
        }
        if path != keep && std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::remux::demux::{Codec, Sample, Track};

    fn tables(frames: u64) -> Demuxed {
        let samples = (0..frames)
            .map(|n| Sample { pos: 1000 + n * 500, size: 400, pts: n as i64 * 3600, key: n % 25 == 0 })
            .collect();
        let video = Track {
            codec: Codec::H264,
            timescale: 90_000,
            config: vec![1, 0x64, 0, 0x1f, 0xff, 0xe0, 0],
            prefix: Vec::new(),
            width: 640,
            height: 360,
            channels: 0,
            rate: 0,
            samples,
            file: 0,
            framing: crate::media::remux::demux::Framing::Whole,
            spread: Vec::new(),
        };
        Demuxed { video, audio: None, audio_left_out: None }
    }

    #[test]
    fn tables_are_kept_for_the_file_as_it_was_and_never_past_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let key = PlanKey { id: VideoId(7), audio: 0, size: 1000 + 100 * 500, mtime_ns: 42, with_sound: false };
        let plans = Plans::open(dir.path()).unwrap();
        let built = plans.load_or_build(&key, || Ok(tables(100))).unwrap();
        assert_eq!(plans.read_whole.load(Ordering::Relaxed), 1);
        // After a restart: from the data dir, the same plan, no read.
        let again = Plans::open(dir.path()).unwrap();
        let kept = again.load_or_build(&key, || panic!("read the whole file again")).unwrap();
        assert_eq!((kept.len(), kept.frames()), (built.len(), built.frames()));
        assert_eq!(kept.pieces(0, kept.len()), built.pieces(0, built.len()));
        assert_eq!(again.found_kept.load(Ordering::Relaxed), 1);
        // The file changed: read again.
        for changed in [PlanKey { mtime_ns: 43, ..key }, PlanKey { size: key.size + 1, ..key }] {
            assert!(again.load(&changed).is_none());
        }
        // A frame past the file's end, damage, a foreign file: not used.
        let bytes = encode(&key, &tables(101));
        assert!(decode(&bytes, &key).is_none(), "the 101st frame ends past the file");
        let good = encode(&key, &tables(100));
        assert!(decode(&good, &key).is_some());
        assert!(decode(&good[..good.len() - 3], &key).is_none());
        assert!(decode(b"not a plan at all", &key).is_none());
        // Plans with remade sound are not kept; others of gone videos go.
        assert!(plans.path(&PlanKey { with_sound: true, ..key }).is_none());
        assert_eq!(plans.keep_only(&std::collections::HashSet::from([VideoId(8)])), 1);
        assert!(plans.load(&key).is_none());
        // A read that panics lets the file go: the next one reads it.
        let other = PlanKey { id: VideoId(9), ..key };
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = plans.load_or_build(&other, || panic!("a demuxer bug"));
        }));
        assert!(panicked.is_err());
        assert!(plans.load_or_build(&other, || Ok(tables(100))).is_ok(), "not left waiting");
    }

    #[test]
    fn the_folder_keeps_within_its_budget_the_least_used_going_first() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for (n, age) in [(1u64, 30u64), (2, 20), (3, 10)] {
            let path = dir.path().join(format!("{n}.plan"));
            std::fs::write(&path, vec![0u8; 1000]).unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(now - std::time::Duration::from_secs(age)).unwrap();
        }
        let newest = dir.path().join("3.plan");
        keep_within(dir.path(), 2000, &newest);
        let left: Vec<bool> = (1..=3).map(|n| dir.path().join(format!("{n}.plan")).exists()).collect();
        assert_eq!(left, [false, true, true]);
        keep_within(dir.path(), 500, &newest);
        assert!(newest.exists(), "what was just written stays");
        assert!(!dir.path().join("2.plan").exists());
    }

    #[test]
    fn a_file_that_cannot_be_remuxed_is_remembered_until_it_changes() {
        let plans = Plans::default();
        let key = PlanKey { id: VideoId(1), audio: 0, size: 18_000, mtime_ns: 5, with_sound: false };
        assert_eq!(plans.failure(&key), None);
        plans.fail(key, "a damaged sample table".into());
        assert_eq!(plans.failure(&key).as_deref(), Some("a damaged sample table"));
        // Changed on disk: tried again.
        assert_eq!(plans.failure(&PlanKey { mtime_ns: 6, ..key }), None);
        plans.fail(PlanKey { mtime_ns: 6, ..key }, "still damaged".into());
        assert_eq!(plans.failure(&key), None, "only the file as it is now is remembered");
        for n in 0..2 * FAILURES as u64 {
            plans.fail(PlanKey { id: VideoId(100 + n), ..key }, "bad".into());
        }
        assert!(plans.failed.lock().unwrap().len() <= FAILURES);
    }
}
