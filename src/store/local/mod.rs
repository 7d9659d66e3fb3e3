//! The state in two redb files in the data dir: `vidserve.redb` (the scan
//! index, rebuildable) and `userdata.redb` (what people entered). Table
//! definitions, schema versions and migrations live here.

mod dump;
mod index;
mod people;
mod playlists;
pub(super) mod tables;
mod userdata;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use redb::{
    ConcurrencyMode, Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction,
};

use super::{Applied, Index, IndexChanges, IndexRead, Store, StoreError, DB_FILE, USER_FILE};
use crate::catalog::personal::{PersonalMap, Viewer};
use crate::catalog::user::{Edit, UserData};
use crate::library::ids::VideoId;
use crate::store::people::{AccountRecord, GrantRecord, PeopleRecords};
use crate::store::playlists::PlaylistRecord;
use tables::{FILES, IMPORTED, INDEX_SCHEMA_VERSION, META, USER, USER_DAMAGED, USER_SCHEMA_VERSION, VIDEOS};

const DB_CACHE: usize = 4 * 1024 * 1024;
/// Index files smaller than this are never compacted at start.
const COMPACT_FROM: u64 = 64 * 1024 * 1024;
/// Generous bytes a stored record takes with its share of the tree (a
/// million files and their videos take 146 MB in all).
const LIKELY_RECORD_BYTES: u64 = 256;

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self { StoreError::Db(Box::new(redb::Error::from(e))) }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::CompactionError
);

pub struct RedbStore {
    /// `vidserve.redb`: the scan index.
    index: Db,
    /// `userdata.redb`: user data and import marks.
    user: Db,
    path: PathBuf,
    user_path: PathBuf,
}

/// One database file, open for writing (one process at a time) or for
/// reading beside the process that writes it. Both files are opened in
/// redb's single-writer mode: a read-only command (`doctor`, `user
/// list`, `export`) follows a running server's commits.
enum Db {
    Write(Database),
    Read(ReadOnlyDatabase, PathBuf),
}

impl Db {
    fn begin_read(&self) -> Result<ReadTransaction, redb::TransactionError> {
        match self {
            Db::Write(d) => d.begin_read(),
            Db::Read(d, _) => d.begin_read(),
        }
    }

    fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        match self {
            Db::Write(d) => Ok(d.begin_write()?),
            Db::Read(_, path) => Err(StoreError::ReadOnly(path.clone())),
        }
    }
}

fn builder() -> redb::Builder {
    let mut b = Database::builder();
    // Every read is served from our own cache: redb's page cache only
    // needs to help the writers.
    b.set_cache_size(DB_CACHE).set_concurrency_mode(ConcurrencyMode::SingleWriter);
    b
}

impl RedbStore {
    /// Opens (or creates) both databases in `data_dir`, brings their schema
    /// up to date and moves user data out of an index written before the
    /// split.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        let user_path = data_dir.join(USER_FILE);
        read_ahead(&path);
        read_ahead(&user_path);
        let index = builder().create(&path).map_err(|e| open_error(&path, e))?;
        let user = builder().create(&user_path).map_err(|e| match open_error(&user_path, e) {
            StoreError::Corrupt(p, why) => StoreError::UserCorrupt(p, why),
            other => other,
        })?;
        let mut store = RedbStore { index: Db::Write(index), user: Db::Write(user), path, user_path };
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

    /// Opens both databases in `data_dir` for reading only, beside a
    /// running server (which keeps writing them): no schema change, no
    /// migration; every write answers `StoreError::ReadOnly`.
    pub fn open_read_only(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        let user_path = data_dir.join(USER_FILE);
        let open = |p: &Path| -> Result<Db, StoreError> {
            let db = builder().open_read_only(p).map_err(|e| open_error(p, e))?;
            Ok(Db::Read(db, p.to_path_buf()))
        };
        let store = RedbStore { index: open(&path)?, user: open(&user_path)?, path, user_path };
        store.check_read_only_schema()?;
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
        let Db::Write(index) = &mut self.index else { return Err(StoreError::ReadOnly(self.path.clone())) };
        index.compact()?;
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

    /// A read-only open understands the files only at this schema (the
    /// running server migrated them when it started).
    fn check_read_only_schema(&self) -> Result<(), StoreError> {
        let files =
            [(&self.index, &self.path, INDEX_SCHEMA_VERSION), (&self.user, &self.user_path, USER_SCHEMA_VERSION)];
        for (db, path, current) in files {
            let txn = db.begin_read()?;
            let version = txn.open_table(META)?.get("schema_version")?.map(|v| v.value());
            match version {
                Some(v) if v > current => return Err(StoreError::TooNew(path.clone(), v)),
                Some(v) if v == current => {}
                _ => return Err(StoreError::ReadOnly(path.clone())),
            }
        }
        Ok(())
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
                    RedbStore::migrate_index_records(&txn)?;
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
        txn.open_table(tables::ROOTS)?;
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

pub(super) use crate::store::apply::encode;

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

impl Store for RedbStore {
    fn location(&self) -> String {
        format!("{} and {}", self.path.display(), self.user_path.display())
    }
    fn index_reader(&self) -> Result<Box<dyn IndexRead>, StoreError> {
        Ok(Box::new(RedbStore::index_reader(self)?))
    }
    fn index_has_files(&self) -> Result<bool, StoreError> {
        RedbStore::index_has_files(self)
    }
    fn load_index(&self) -> Result<Index, StoreError> {
        RedbStore::load_index(self)
    }
    fn apply_index(&self, changes: &IndexChanges) -> Result<(), StoreError> {
        RedbStore::apply(self, changes)
    }
    fn roots(&self) -> Result<Vec<PathBuf>, StoreError> {
        RedbStore::roots(self)
    }
    fn load_user(&self) -> Result<HashMap<VideoId, UserData>, StoreError> {
        RedbStore::load_user(self)
    }
    fn load_personal(&self) -> Result<PersonalMap, StoreError> {
        RedbStore::load_personal(self)
    }
    fn apply_user(&self, edits: &[(Viewer, VideoId, Edit)]) -> Result<Applied, StoreError> {
        RedbStore::apply_user(self, edits)
    }
    fn damaged_user_records(&self) -> Result<Vec<(VideoId, i64, Vec<u8>)>, StoreError> {
        RedbStore::damaged_user_records(self)
    }
    fn was_imported(&self, key: &str) -> Result<bool, StoreError> {
        RedbStore::was_imported(self, key)
    }
    fn was_imported_prefix(&self, prefix: &str) -> Result<bool, StoreError> {
        RedbStore::was_imported_prefix(self, prefix)
    }
    fn mark_imported(&self, key: &str) -> Result<(), StoreError> {
        RedbStore::mark_imported(self, key)
    }
    fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        RedbStore::secret(self, name)
    }
    fn load_people(&self) -> Result<PeopleRecords, StoreError> {
        RedbStore::load_people(self)
    }
    fn put_account(&self, rec: &AccountRecord) -> Result<Option<String>, StoreError> {
        RedbStore::put_account(self, rec)
    }
    fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        RedbStore::remove_account(self, name)
    }
    fn put_household(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        RedbStore::put_household(self, key, value)
    }
    fn put_token(&self, digest: &str, rec: &GrantRecord) -> Result<(), StoreError> {
        RedbStore::put_token(self, digest, rec)
    }
    fn put_session(&self, digest: &str, rec: &GrantRecord) -> Result<(), StoreError> {
        RedbStore::put_session(self, digest, rec)
    }
    fn remove_session(&self, digest: &str) -> Result<(), StoreError> {
        RedbStore::remove_session(self, digest)
    }
    fn grant(&self, session: bool, digest: &str) -> Result<Option<GrantRecord>, StoreError> {
        RedbStore::grant(self, session, digest)
    }
    fn revoke_tokens(&self, name: &str) -> Result<usize, StoreError> {
        RedbStore::revoke_tokens(self, name)
    }
    fn load_playlists(&self) -> Result<Vec<(String, u64, PlaylistRecord)>, StoreError> {
        RedbStore::load_playlists(self)
    }
    fn add_playlist(&self, owner: &str, rec: &PlaylistRecord) -> Result<u64, StoreError> {
        RedbStore::add_playlist(self, owner, rec)
    }
    fn put_playlist(&self, owner: &str, n: u64, rec: Option<&PlaylistRecord>) -> Result<(), StoreError> {
        RedbStore::put_playlist(self, owner, n, rec)
    }
    fn restore_playlist(
        &self,
        owner: &str,
        number: Option<u64>,
        rec: &PlaylistRecord,
        max: usize,
    ) -> Result<(), StoreError> {
        RedbStore::restore_playlist(self, owner, number, rec, max)
    }
    fn dump(&self) -> Result<Vec<crate::store::dump::Row>, StoreError> {
        RedbStore::dump(self)
    }
    fn restore(&self, rows: &[crate::store::dump::Row]) -> Result<(), StoreError> {
        RedbStore::restore(self, rows)
    }
}
