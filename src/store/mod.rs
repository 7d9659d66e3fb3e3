//! Where state is kept: the scan index, user data, people (accounts,
//! sessions, tokens), playlists and import marks, behind one interface
//! (`Store`). Its first implementation (`local`) keeps them in two redb
//! files in the data dir; the interface's own tests (`contract`) run
//! against every implementation.
//!
//! Owns: the records as stored, the group-commit `writer`, and the only
//! `redb` calls in the crate. Never: called from an async worker thread
//! (every `Store` method blocks; callers use `spawn_blocking` or their own
//! thread; the `Writer`'s async methods only queue and wait); never tells
//! anyone what changed (it returns it; the caller publishes).

mod apply;
#[cfg(test)]
mod contract;
pub mod dump;
mod local;
pub mod people;
mod pg;
pub mod playlists;
pub mod records;
pub mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::personal::{Personal, PersonalMap, Viewer};
use crate::catalog::user::{Edit, UserData};
use crate::config::database::Database;
use crate::library::ids::VideoId;
use people::{AccountRecord, GrantRecord, PeopleRecords};
use playlists::PlaylistRecord;
use records::{FileRecord, VideoRecord};

pub use local::RedbStore;
#[cfg(any(test, feature = "test-support"))]
pub use pg::testing;
pub use pg::{Change, Follower, Leadership, PgStore, Stop};

/// The scan index: rebuildable.
pub const DB_FILE: &str = "vidserve.redb";
/// What people entered: never rebuilt, backed up.
pub const USER_FILE: &str = "userdata.redb";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the database {} is damaged ({}); move it aside (it will be rebuilt by a rescan) and start again", .0.display(), .1)]
    Corrupt(PathBuf, String),
    #[error("the user data file {} is damaged ({}); keep it (move it aside, do not delete it), start again and restore the newest backup from the data dir's backups folder with `vidserve import`", .0.display(), .1)]
    UserCorrupt(PathBuf, String),
    #[error("the database {} is in use by another vidserve; stop it or pass another --data", .0.display())]
    InUse(PathBuf),
    #[error("the database {} is open for reading only while vidserve serves it; make this change from the admin page or stop the server first", .0.display())]
    ReadOnly(PathBuf),
    #[error("the database {} was written by a newer vidserve (schema {}); upgrade vidserve", .0.display(), .1)]
    TooNew(PathBuf, u64),
    #[error("cannot open the database {} ({}); check that the data dir is writable", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
    #[error("{0} already holds vidserve's state; nothing was copied (use an empty database)")]
    NotEmpty(String),
    #[error("the database is unreachable ({0}); try again in a moment")]
    Unavailable(String),
    #[error("database error: {0}")]
    Db(Box<dyn std::error::Error + Send + Sync>),
}

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
    /// The folders walked, when they differ from those stored.
    pub roots: Option<Vec<PathBuf>>,
}

impl IndexChanges {
    pub fn is_empty(&self) -> bool {
        self.put_files.is_empty() && self.delete_files.is_empty() && self.put_videos.is_empty() && self.roots.is_none()
    }
}

/// What a batch of edits changed.
#[derive(Debug, Default)]
pub struct Applied {
    /// Each edit's video as its author sees it afterwards, in order.
    pub seen: Vec<UserData>,
    /// Shared records written, in order (a video may repeat).
    pub shared: Vec<(VideoId, UserData)>,
    /// People's own records written, in order.
    pub personal: Vec<(Arc<str>, VideoId, Personal)>,
}

/// Where state is kept. Every method blocks and is durable when it
/// returns `Ok` (a write's transaction has committed); a method that fails
/// changed nothing.
pub trait Store: Send + Sync {
    /// Where the state is, for people (`doctor`, logs).
    fn location(&self) -> String;
    /// Whether other servers write this state too (a shared database):
    /// then what is in memory may lag what is stored by a moment.
    fn is_shared(&self) -> bool {
        false
    }

    // The scan index: rebuildable, never anything people entered.

    /// A consistent read view of the index.
    fn index_reader(&self) -> Result<Box<dyn IndexRead>, StoreError>;
    /// Whether the index knows any file (a restart can serve at once).
    fn index_has_files(&self) -> Result<bool, StoreError>;
    /// What a scan compares the disk with: every file record by path, and
    /// the ids of the videos already probed.
    fn load_index(&self) -> Result<Index, StoreError>;
    /// Writes one scan's changes in one transaction.
    fn apply_index(&self, changes: &IndexChanges) -> Result<(), StoreError>;
    /// The folders the last scan walked, in `--dir` order (none before
    /// the first scan).
    fn roots(&self) -> Result<Vec<PathBuf>, StoreError>;

    // User data: what people entered.

    /// Every video's shared user data (and the household's own fields).
    fn load_user(&self) -> Result<HashMap<VideoId, UserData>, StoreError>;
    /// Everyone's own data but the household's.
    fn load_personal(&self) -> Result<PersonalMap, StoreError>;
    /// Applies a batch of edits, each by its author, in one transaction:
    /// all or nothing. A stored shared record that cannot be decoded is
    /// never overwritten unseen (it is set aside in the same transaction
    /// and the edit starts from empty data). The writer's only call.
    fn apply_user(&self, edits: &[(Viewer, VideoId, Edit)]) -> Result<Applied, StoreError>;
    /// Shared records set aside as undecodable: (video, when, raw bytes).
    fn damaged_user_records(&self) -> Result<Vec<(VideoId, i64, Vec<u8>)>, StoreError>;
    /// Whether an import named `key` was done.
    fn was_imported(&self, key: &str) -> Result<bool, StoreError>;
    /// Whether any import whose key starts with `prefix` was done.
    fn was_imported_prefix(&self, prefix: &str) -> Result<bool, StoreError>;
    /// Marks the import `key` done.
    fn mark_imported(&self, key: &str) -> Result<(), StoreError>;

    // People.

    /// The secret named `name`, made (32 random bytes) the first time.
    fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError>;
    /// Every account, token and session, and who holds the household's data.
    fn load_people(&self) -> Result<PeopleRecords, StoreError>;
    /// Adds or replaces an account; the first admin becomes the household's
    /// owner, whose lowercase name is returned when that happened.
    fn put_account(&self, rec: &AccountRecord) -> Result<Option<String>, StoreError>;
    /// Removes an account with its tokens, sessions, own data and
    /// playlists; whether it existed.
    fn remove_account(&self, name: &str) -> Result<bool, StoreError>;
    /// Sets (or with `None` removes) a household value: the libraries and
    /// the profiles' libraries (`people::LIBRARIES_KEY`, `PROFILES_KEY`).
    fn put_household(&self, key: &str, value: Option<&str>) -> Result<(), StoreError>;
    /// Stores a token by the digest of its secret.
    fn put_token(&self, digest: &str, rec: &GrantRecord) -> Result<(), StoreError>;
    /// Stores a session by the digest of its id.
    fn put_session(&self, digest: &str, rec: &GrantRecord) -> Result<(), StoreError>;
    fn remove_session(&self, digest: &str) -> Result<(), StoreError>;
    /// One session (`session`) or token by digest, as stored now.
    fn grant(&self, session: bool, digest: &str) -> Result<Option<GrantRecord>, StoreError>;
    /// Removes every token of `name`; how many.
    fn revoke_tokens(&self, name: &str) -> Result<usize, StoreError>;

    // Playlists.

    /// Every playlist: (owner, number, record); unreadable ones skipped.
    fn load_playlists(&self) -> Result<Vec<(String, u64, PlaylistRecord)>, StoreError>;
    /// Adds a playlist under the owner's next number (never reused).
    fn add_playlist(&self, owner: &str, rec: &PlaylistRecord) -> Result<u64, StoreError>;
    /// Replaces (`Some`) or deletes (`None`) one playlist.
    fn put_playlist(&self, owner: &str, n: u64, rec: Option<&PlaylistRecord>) -> Result<(), StoreError>;
    /// Restores a playlist from an export: replaces the owner's playlist of
    /// the same name, or adds it if the owner has fewer than `max`, under
    /// `number` (the one it had) when that is free, else the next one.
    fn restore_playlist(
        &self,
        owner: &str,
        number: Option<u64>,
        rec: &PlaylistRecord,
        max: usize,
    ) -> Result<(), StoreError>;

    // Moving state between stores.

    /// Every stored record, unchanged (`vidserve migrate`).
    fn dump(&self) -> Result<Vec<dump::Row>, StoreError>;
    /// Writes `rows` from another store's `dump`, in one transaction, into
    /// a store that holds nothing yet (`StoreError::NotEmpty` otherwise).
    fn restore(&self, rows: &[dump::Row]) -> Result<(), StoreError>;
}

/// Opens the state kept in `database`, else in `data_dir` (creating it
/// the first time).
pub fn open(data_dir: &Path, database: Option<&Database>) -> Result<Arc<dyn Store>, StoreError> {
    match database {
        Some(db) => Ok(Arc::new(PgStore::open(db)?)),
        None => Ok(Arc::new(RedbStore::open(data_dir)?)),
    }
}

/// Opens the state for a command that only reads: beside a running server
/// the data dir's files are opened read-only (`true` as the second value:
/// the server keeps writing them). A database is shared: opened as usual.
pub fn open_for_reading(data_dir: &Path, database: Option<&Database>) -> Result<(Arc<dyn Store>, bool), StoreError> {
    if let Some(db) = database {
        return Ok((Arc::new(PgStore::open(db)?), false));
    }
    match RedbStore::open(data_dir) {
        Ok(s) => Ok((Arc::new(s), false)),
        Err(StoreError::InUse(_)) => Ok((Arc::new(RedbStore::open_read_only(data_dir)?), true)),
        Err(e) => Err(e),
    }
}

/// A consistent view of the stored index, read row by row (a catalog is
/// built from it without a second copy of every record in memory).
pub trait IndexRead {
    /// Every file record, by absolute path in byte order; unreadable
    /// records are skipped (the next scan rebuilds them).
    fn for_each_file(&self, each: &mut dyn FnMut(&[u8], FileRecord)) -> Result<(), StoreError>;
    /// Every video record, in ascending id order.
    fn for_each_video(&self, each: &mut dyn FnMut(VideoId, VideoRecord)) -> Result<(), StoreError>;
    /// How many file records there are (to size what is built from them).
    fn file_count(&self) -> Result<usize, StoreError>;
    /// How many video records there are.
    fn video_count(&self) -> Result<usize, StoreError>;
}
