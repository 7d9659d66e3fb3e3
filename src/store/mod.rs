//! Persistent metadata in one redb file (`vidserve.redb` in the data dir).
//!
//! Owns: the table definitions, schema version and migrations, the scan
//! index, user data on disk, the group-commit `writer`, and the only `redb`
//! calls in the crate. Never: called from an async worker thread (every
//! `Store` method blocks; callers use `spawn_blocking` or their own thread;
//! the `Writer`'s async methods only queue and wait); never
//! tells anyone what changed (it returns it; the caller publishes).

pub mod records;
mod tables;
pub mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable};

use crate::catalog::user::{Edit, UserData};
use crate::library::ids::VideoId;
use records::{FileRecord, VideoRecord};
use tables::{FILES, META, SCHEMA_VERSION, USER, USER_DAMAGED, VIDEOS};

pub const DB_FILE: &str = "vidserve.redb";
const DB_CACHE: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {} is damaged ({}); move it aside (it will be rebuilt by a rescan) and start again", .0.display(), .1)]
    Corrupt(PathBuf, String),
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
from_redb!(redb::TransactionError, redb::TableError, redb::StorageError, redb::CommitError);

/// Everything the scanner remembers between runs.
#[derive(Debug, Default)]
pub struct Index {
    /// By absolute path (raw bytes: file names need not be UTF-8).
    pub files: HashMap<Vec<u8>, FileRecord>,
    pub videos: HashMap<VideoId, VideoRecord>,
}

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
    db: Database,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) the database in `data_dir` and brings its schema
    /// up to date.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(DB_FILE);
        // Every read is served from our own cache: redb's page cache only
        // needs to help the writer.
        let db = Database::builder().set_cache_size(DB_CACHE).create(&path).map_err(|e| open_error(&path, e))?;
        let store = Store { db, path };
        store.migrate()?;
        store.set_aside_damaged_user_records()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates missing tables and runs migrations from older schema versions.
    fn migrate(&self) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let version = meta.get("schema_version")?.map(|v| v.value());
            match version {
                Some(v) if v > SCHEMA_VERSION => return Err(StoreError::TooNew(self.path.clone(), v)),
                // Version 1 is the first; later versions add their steps here.
                Some(_) | None => {
                    meta.insert("schema_version", SCHEMA_VERSION)?;
                }
            }
            txn.open_table(FILES)?;
            txn.open_table(VIDEOS)?;
            txn.open_table(USER)?;
            txn.open_table(USER_DAMAGED)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Reads the whole scan index. Records that fail to decode are skipped
    /// with a warning: they are rebuilt by the next scan.
    pub fn load_index(&self) -> Result<Index, StoreError> {
        let txn = self.db.begin_read()?;
        let mut index = Index::default();
        for row in txn.open_table(FILES)?.iter()? {
            let (k, v) = row?;
            match serde_json::from_slice(v.value()) {
                Ok(rec) => {
                    index.files.insert(k.value().to_vec(), rec);
                }
                Err(e) => tracing::warn!("skipping an unreadable file record: {e}"),
            }
        }
        index.videos = read_by_id(&txn, VIDEOS, "video")?;
        Ok(index)
    }

    /// Writes one scan's changes in one durable transaction.
    pub fn apply(&self, changes: &IndexChanges) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut files = txn.open_table(FILES)?;
            for (k, rec) in &changes.put_files {
                files.insert(k.as_slice(), encode(rec).as_slice())?;
            }
            for k in &changes.delete_files {
                files.remove(k.as_slice())?;
            }
            let mut videos = txn.open_table(VIDEOS)?;
            for (id, rec) in &changes.put_videos {
                videos.insert(id.0, encode(rec).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}

impl Store {
    /// Whether an import source (named by `key`) was already imported.
    pub fn was_imported(&self, key: &str) -> Result<bool, StoreError> {
        let txn = self.db.begin_read()?;
        let found = txn.open_table(META)?.get(format!("imported:{key}").as_str())?.is_some();
        Ok(found)
    }

    pub fn mark_imported(&self, key: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write()?;
        txn.open_table(META)?.insert(format!("imported:{key}").as_str(), 1)?;
        txn.commit()?;
        Ok(())
    }

    /// Every video's user data.
    pub fn load_user(&self) -> Result<HashMap<VideoId, UserData>, StoreError> {
        read_by_id(&self.db.begin_read()?, USER, "user")
    }

    /// Applies a batch of edits in one transaction and one fsync; returns
    /// each video's data after its edit, in order. Nothing is applied when
    /// it fails. A stored record that cannot be decoded is never
    /// overwritten unseen: it is set aside (`USER_DAMAGED`) in the same
    /// transaction and the edit starts from empty data.
    pub fn apply_user(&self, edits: &[(VideoId, Edit)]) -> Result<Vec<UserData>, StoreError> {
        let txn = self.db.begin_write()?;
        let mut after = Vec::with_capacity(edits.len());
        {
            let mut table = txn.open_table(USER)?;
            let mut damaged = txn.open_table(USER_DAMAGED)?;
            for (id, edit) in edits {
                let id = *id;
                let stored = table.get(id.0)?.map(|v| v.value().to_vec());
                let mut data = match stored {
                    None => UserData::default(),
                    Some(raw) => match serde_json::from_slice(&raw) {
                        Ok(d) => d,
                        Err(e) => {
                            tracing::error!(video = %id, "a stored user record cannot be read ({e}); it is kept aside");
                            damaged.insert((id.0, now_ns()), raw.as_slice())?;
                            UserData::default()
                        }
                    },
                };
                data.apply(edit.clone());
                table.insert(id.0, encode(&data).as_slice())?;
                after.push(data);
            }
        }
        txn.commit()?;
        Ok(after)
    }

    /// Moves user records that cannot be decoded out of the way (into
    /// `USER_DAMAGED`, bytes unchanged), so that no edit replaces them and
    /// they can be recovered by hand. Logs each one.
    fn set_aside_damaged_user_records(&self) -> Result<(), StoreError> {
        let bad: Vec<(u64, Vec<u8>)> = {
            let txn = self.db.begin_read()?;
            let table = txn.open_table(USER)?;
            let mut bad = Vec::new();
            for row in table.iter()? {
                let (k, v) = row?;
                if let Err(e) = serde_json::from_slice::<UserData>(v.value()) {
                    tracing::error!(video = %VideoId(k.value()), "a stored user record cannot be read ({e}); it is kept aside");
                    bad.push((k.value(), v.value().to_vec()));
                }
            }
            bad
        };
        if bad.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(USER)?;
            let mut damaged = txn.open_table(USER_DAMAGED)?;
            let at = now_ns();
            for (id, raw) in &bad {
                damaged.insert((*id, at), raw.as_slice())?;
                table.remove(*id)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// User records set aside because they could not be read: (video,
    /// when it was set aside in Unix nanoseconds, the stored bytes).
    pub fn damaged_user_records(&self) -> Result<Vec<(VideoId, i64, Vec<u8>)>, StoreError> {
        let txn = self.db.begin_read()?;
        let mut out = Vec::new();
        for row in txn.open_table(USER_DAMAGED)?.iter()? {
            let (k, v) = row?;
            let (id, at) = k.value();
            out.push((VideoId(id), at, v.value().to_vec()));
        }
        Ok(out)
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

/// Decodes every JSON value of a table keyed by video id; a record that
/// fails to decode is skipped with a warning (`what` names its kind).
fn read_by_id<T: serde::de::DeserializeOwned>(
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

fn encode<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records are plain data and always serialise")
}

fn open_error(path: &Path, e: redb::DatabaseError) -> StoreError {
    use redb::{DatabaseError as D, StorageError as S};
    match e {
        D::DatabaseAlreadyOpen => StoreError::InUse(path.to_path_buf()),
        D::Storage(S::Io(io)) if io.kind() != std::io::ErrorKind::InvalidData => StoreError::Io(path.to_path_buf(), io),
        other => StoreError::Corrupt(path.to_path_buf(), other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_raw(store: &Store, id: u64, raw: &[u8]) {
        let txn = store.db.begin_write().unwrap();
        txn.open_table(USER).unwrap().insert(id, raw).unwrap();
        txn.commit().unwrap();
    }

    #[test]
    fn a_damaged_user_record_is_kept_aside_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        // Damaged while the server runs: the next edit keeps the bytes aside.
        put_raw(&store, 7, b"{not json");
        let after = store.apply_user(&[(VideoId(7), Edit::Rate(Some(3)))]).unwrap();
        assert_eq!(after[0].rating, Some(3));
        let damaged = store.damaged_user_records().unwrap();
        assert_eq!(damaged.len(), 1);
        assert_eq!((damaged[0].0, damaged[0].2.as_slice()), (VideoId(7), &b"{not json"[..]));
        // Damaged on disk: set aside when the database opens.
        put_raw(&store, 8, b"\xff\xfe");
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let users = store.load_user().unwrap();
        assert!(!users.contains_key(&VideoId(8)));
        assert_eq!(users[&VideoId(7)].rating, Some(3));
        let damaged = store.damaged_user_records().unwrap();
        assert_eq!(damaged.len(), 2);
        assert!(damaged.iter().any(|d| d.0 == VideoId(8) && d.2 == b"\xff\xfe"));
    }
}
