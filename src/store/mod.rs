//! Persistent metadata in one redb file (`vidserve.redb` in the data dir)
//! and the in-memory `cache` that serves every read.
//!
//! Owns: the table definitions, schema version and migrations, and the only
//! `redb` calls in the crate. Never: called from an async worker thread
//! (every method blocks; callers use `spawn_blocking` or their own thread).

pub mod cache;
pub mod import;
pub mod query;
pub mod records;
pub mod search;
mod tables;
pub mod user;
pub mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable};

use crate::library::ids::VideoId;
use records::{Edit, FileRecord, UserData, VideoRecord};
use tables::{FILES, META, SCHEMA_VERSION, USER, VIDEOS};

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
    /// it fails.
    pub fn apply_user(&self, edits: &[(VideoId, Edit)]) -> Result<Vec<UserData>, StoreError> {
        let txn = self.db.begin_write()?;
        let mut after = Vec::with_capacity(edits.len());
        {
            let mut table = txn.open_table(USER)?;
            for (id, edit) in edits {
                let id = *id;
                let mut data: UserData = match table.get(id.0)? {
                    Some(v) => serde_json::from_slice(v.value()).unwrap_or_default(),
                    None => UserData::default(),
                };
                data.apply(edit.clone());
                table.insert(id.0, encode(&data).as_slice())?;
                after.push(data);
            }
        }
        txn.commit()?;
        Ok(after)
    }
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
