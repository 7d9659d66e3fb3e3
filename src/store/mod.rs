//! Persistent metadata in one redb file (`vidserve.redb` in the data dir).
//!
//! Owns: the table definitions, schema version and migrations, the scan
//! index, user data on disk, the group-commit `writer`, and the only `redb`
//! calls in the crate. Never: called from an async worker thread (every
//! `Store` method blocks; callers use `spawn_blocking` or their own thread;
//! the `Writer`'s async methods only queue and wait); never
//! tells anyone what changed (it returns it; the caller publishes).

mod index;
pub mod people;
pub mod playlists;
pub mod records;
mod tables;
mod userdata;
pub mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableTable};

use crate::library::ids::VideoId;
use records::{FileRecord, VideoRecord};
use tables::{FILES, IMPORTED, INDEX_SCHEMA_VERSION, META, USER, USER_DAMAGED, USER_SCHEMA_VERSION, VIDEOS};

pub use index::IndexReader;

/// The scan index: rebuildable.
pub const DB_FILE: &str = "vidserve.redb";
/// What people entered: never rebuilt, backed up.
pub const USER_FILE: &str = "userdata.redb";
const DB_CACHE: usize = 4 * 1024 * 1024;
/// Index files smaller than this are never compacted at start.
const COMPACT_FROM: u64 = 64 * 1024 * 1024;
/// Generous bytes a stored record takes with its share of the tree (a
/// million files and their videos take 146 MB in all).
const LIKELY_RECORD_BYTES: u64 = 256;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {} is damaged ({}); move it aside (it will be rebuilt by a rescan) and start again", .0.display(), .1)]
    Corrupt(PathBuf, String),
    #[error("the user data file {} is damaged ({}); keep it (move it aside, do not delete it), start again and restore the newest backup from the data dir's backups folder with `vidserve import`", .0.display(), .1)]
    UserCorrupt(PathBuf, String),
    #[error("the database {} is in use by another vidserve; stop it or pass another --data", .0.display())]
    InUse(PathBuf),
    #[error("the database {} was written by a newer vidserve (schema {}); upgrade vidserve", .0.display(), .1)]
    TooNew(PathBuf, u64),
    #[error("cannot open the database {} ({}); check that the data dir is writable", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self { StoreError::Db(e.into()) }
        }
    )*};
}
from_redb!(redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError, redb::CompactionError);

/// Everything the scanner remembers between runs.
#[derive(Debug, Default)]
pub struct Index {
    /// By absolute path (raw bytes: file names need not be UTF-8).
    pub files: PathMap<FileRecord>,
    /// The videos already probed (their records stay in the store).
    pub known: std::collections::HashSet<VideoId, xxhash_rust::xxh3::Xxh3Builder>,
}

/// A map by path bytes hashed with xxh3: a million paths are hashed
/// several times a second faster than with SipHash. The paths are the
/// library's own file names, not request input.
pub type PathMap<V> = HashMap<Vec<u8>, V, xxhash_rust::xxh3::Xxh3Builder>;

/// What one scan changed, written in a single transaction.
#[derive(Debug, Default)]
pub struct IndexChanges {
    pub put_files: Vec<(Vec<u8>, FileRecord)>,
    pub delete_files: Vec<Vec<u8>>,
    pub put_videos: HashMap<VideoId, VideoRecord>,
}

impl IndexChanges {
    pub fn is_empty(&self) -> bool {
        self.put_files.is_empty() && self.delete_files.is_empty() && self.put_videos.is_empty()
    }
}

pub struct Store {
    /// `vidserve.redb`: the scan index.
    index: Database,
    /// `userdata.redb`: user data and import marks.
    user: Database,
    path: PathBuf,
    user_path: PathBuf,
}

impl Store {
    /// Opens (or creates) both databases in `data_dir`, brings their schema
    /// up to date and moves user data out of an index written before the
    /// split.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        let user_path = data_dir.join(USER_FILE);
        read_ahead(&path);
        read_ahead(&user_path);
        // Every read is served from our own cache: redb's page cache only
        // needs to help the writers.
        let index = Database::builder().set_cache_size(DB_CACHE).create(&path).map_err(|e| open_error(&path, e))?;
        let user = Database::builder().set_cache_size(DB_CACHE).create(&user_path).map_err(|e| {
            match open_error(&user_path, e) {
                StoreError::Corrupt(p, why) => StoreError::UserCorrupt(p, why),
                other => other,
            }
        })?;
        let mut store = Store { index, user, path, user_path };
        // After a migration the old records' pages are free but still in
        // the file; scans that rewrote many records leave free pages too.
        if store.migrate()? {
            store.compact_index()?;
        } else {
            // Only space is at stake: a failure (a full disk) is reported
            // and the server starts with the file as it is.
            if let Err(e) = store.compact_if_mostly_free(COMPACT_FROM) {
                tracing::warn!("the index file was not compacted: {e}");
            }
        }
        store.migrate_from_index()?;
        store.set_aside_damaged_user_records()?;
        Ok(store)
    }

    /// Compacts the index file if it is `from` bytes or more and its pages
    /// in use are less than half of it (a compaction rewrites the whole
    /// file). Counting the pages in use reads the whole tree, so that is
    /// done only for a file larger than its records would likely need.
    fn compact_if_mostly_free(&mut self, from: u64) -> Result<bool, StoreError> {
        let len = std::fs::metadata(&self.path).map_err(|e| StoreError::Io(self.path.clone(), e))?.len();
        let reader = self.index_reader()?;
        let records = (reader.file_count()? + reader.video_count()?) as u64;
        drop(reader);
        if len < from.max(records.saturating_mul(LIKELY_RECORD_BYTES)) {
            return Ok(false);
        }
        let txn = self.index.begin_write()?;
        let stats = txn.stats()?;
        txn.abort()?;
        let used = stats.allocated_pages().saturating_mul(stats.page_size() as u64);
        tracing::debug!(file = len, used, "index file pages counted");
        if used >= len / 2 {
            return Ok(false);
        }
        self.compact_index()?;
        Ok(true)
    }

    fn compact_index(&mut self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        self.index.compact()?;
        tracing::info!(ms = started.elapsed().as_millis() as u64, "index file compacted");
        Ok(())
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The user data file.
    pub fn user_path(&self) -> &Path {
        &self.user_path
    }

    /// Creates missing tables and runs migrations from older schema
    /// versions; says whether the index's records were rewritten.
    fn migrate(&self) -> Result<bool, StoreError> {
        let mut rewrote = false;
        let files =
            [(&self.index, &self.path, INDEX_SCHEMA_VERSION), (&self.user, &self.user_path, USER_SCHEMA_VERSION)];
        for (db, path, current) in files {
            let txn = db.begin_write()?;
            let version = txn.open_table(META)?.get("schema_version")?.map(|v| v.value());
            match version {
                Some(v) if v > current => return Err(StoreError::TooNew(path.clone(), v)),
                Some(v) if v == current => continue,
                // The index's records were JSON in schema 1.
                Some(1) if current == 2 => {
                    let started = std::time::Instant::now();
                    Store::migrate_index_records(&txn)?;
                    rewrote = true;
                    tracing::info!(ms = started.elapsed().as_millis() as u64, "index records rewritten in schema 2");
                }
                // A new file, or one written before versions were kept.
                Some(_) | None => {}
            }
            txn.open_table(META)?.insert("schema_version", current)?;
            txn.commit()?;
        }
        let txn = self.index.begin_write()?;
        txn.open_table(FILES)?;
        txn.open_table(VIDEOS)?;
        txn.commit()?;
        let txn = self.user.begin_write()?;
        txn.open_table(USER)?;
        txn.open_table(USER_DAMAGED)?;
        txn.open_table(IMPORTED)?;
        txn.open_table(tables::ACCOUNTS)?;
        txn.open_table(tables::TOKENS)?;
        txn.open_table(tables::SESSIONS)?;
        txn.open_table(tables::SECRETS)?;
        txn.open_table(tables::PERSONAL)?;
        txn.open_table(tables::HOUSEHOLD)?;
        txn.open_table(tables::PLAYLISTS)?;
        txn.open_table(tables::PLAYLIST_NEXT)?;
        txn.commit()?;
        Ok(rewrote)
    }
}

pub(super) fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

/// Decodes every JSON value of a table keyed by video id; a record that
/// fails to decode is skipped with a warning (`what` names its kind).
pub(super) fn read_by_id<T: serde::de::DeserializeOwned>(
    txn: &redb::ReadTransaction,
    table: redb::TableDefinition<u64, &[u8]>,
    what: &str,
) -> Result<HashMap<VideoId, T>, StoreError> {
    let mut out = HashMap::new();
    for row in txn.open_table(table)?.iter()? {
        let (k, v) = row?;
        match serde_json::from_slice(v.value()) {
            Ok(rec) => {
                out.insert(VideoId(k.value()), rec);
            }
            Err(e) => tracing::warn!("skipping an unreadable {what} record: {e}"),
        }
    }
    Ok(out)
}

pub(super) fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records are plain data and always serialise")
}

/// Asks the kernel to read `path` into the page cache in the background,
/// in large sequential reads: a start after a reboot then reads the
/// index's tree from memory instead of page by page from the disk. The
/// kernel reads ahead at most its read-ahead window a call (8 MiB here),
/// so the file is advised in pieces; the calls only queue the reads (a
/// 139 MiB index: 31 ms to queue, all of it cached 0.3 s later). Only
/// advice: a missing file or a refusal changes nothing.
fn read_ahead(path: &Path) {
    const PIECE: u64 = 4 << 20;
    let Ok(file) = std::fs::File::open(path) else { return };
    let len = file.metadata().map_or(0, |m| m.len());
    for at in (0..len).step_by(PIECE as usize) {
        let advice = rustix::fs::fadvise(&file, at, std::num::NonZeroU64::new(PIECE), rustix::fs::Advice::WillNeed);
        if advice.is_err() {
            return;
        }
    }
}

fn open_error(path: &Path, e: redb::DatabaseError) -> StoreError {
    use redb::{DatabaseError as D, StorageError as S};
    match e {
        D::DatabaseAlreadyOpen => StoreError::InUse(path.to_path_buf()),
        D::Storage(S::Io(io)) if io.kind() != std::io::ErrorKind::InvalidData => StoreError::Io(path.to_path_buf(), io),
        other => StoreError::Corrupt(path.to_path_buf(), other.to_string()),
    }
}
