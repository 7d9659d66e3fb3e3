//! User data (`userdata.redb`): what people entered — ratings, views,
//! favorites, tags, titles, positions — and the marks of imports done. Kept
//! apart from the rebuildable index, so moving a damaged index aside never
//! costs a rating; data dirs from before the split are migrated once
//! (`migrate_from_index`).

use std::collections::HashMap;

use redb::{ReadableTable, TableError};

use std::sync::Arc;

use super::tables::{IMPORTED, PERSONAL, USER, USER_DAMAGED};
use super::{now_ns, read_by_id, RedbStore};
use crate::catalog::personal::{Personal, PersonalMap, Viewer};
use crate::catalog::user::{Edit, UserData};
use crate::library::ids::VideoId;
use crate::store::apply::{apply_edits, Rows};
use crate::store::{Applied, StoreError};

/// The tables one user-data write transaction touches.
struct RedbRows<'t> {
    shared: redb::Table<'t, u64, &'static [u8]>,
    damaged: redb::Table<'t, (u64, i64), &'static [u8]>,
    personal: redb::Table<'t, (&'static str, u64), &'static [u8]>,
    accounts: redb::Table<'t, &'static str, &'static [u8]>,
}

impl Rows for RedbRows<'_> {
    fn shared(&mut self, id: VideoId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.shared.get(id.0)?.map(|v| v.value().to_vec()))
    }
    fn put_shared(&mut self, id: VideoId, raw: &[u8]) -> Result<(), StoreError> {
        self.shared.insert(id.0, raw)?;
        Ok(())
    }
    fn personal(&mut self, who: &str, id: VideoId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.personal.get((who, id.0))?.map(|v| v.value().to_vec()))
    }
    fn put_personal(&mut self, who: &str, id: VideoId, raw: Option<&[u8]>) -> Result<(), StoreError> {
        match raw {
            Some(raw) => self.personal.insert((who, id.0), raw)?,
            None => self.personal.remove((who, id.0))?,
        };
        Ok(())
    }
    fn set_aside(&mut self, id: VideoId, raw: &[u8]) -> Result<(), StoreError> {
        self.damaged.insert((id.0, now_ns()), raw)?;
        Ok(())
    }
    fn has_account(&mut self, who: &str) -> Result<bool, StoreError> {
        Ok(self.accounts.get(who)?.is_some())
    }
}

impl RedbStore {
    /// Every video's user data.
    pub(super) fn load_user(&self) -> Result<HashMap<VideoId, UserData>, StoreError> {
        read_by_id(&self.user.begin_read()?, USER, "user")
    }

    /// Everyone's own data but the household's.
    pub(super) fn load_personal(&self) -> Result<PersonalMap, StoreError> {
        let txn = self.user.begin_read()?;
        let mut out = PersonalMap::new();
        for row in txn.open_table(PERSONAL)?.iter()? {
            let (k, v) = row?;
            let (name, id) = k.value();
            match serde_json::from_slice::<Personal>(v.value()) {
                Ok(p) => {
                    out.entry(Arc::from(name)).or_default().insert(VideoId(id), p);
                }
                Err(e) => tracing::warn!(person = name, video = %VideoId(id), "skipping an unreadable record: {e}"),
            }
        }
        Ok(out)
    }

    /// Applies a batch of edits, each by its author, in one transaction and
    /// one fsync (`store::apply`). Nothing is applied when it fails.
    pub(super) fn apply_user(&self, edits: &[(Viewer, VideoId, Edit)]) -> Result<Applied, StoreError> {
        let txn = self.user.begin_write()?;
        let out = {
            let mut rows = RedbRows {
                shared: txn.open_table(USER)?,
                damaged: txn.open_table(USER_DAMAGED)?,
                personal: txn.open_table(PERSONAL)?,
                accounts: txn.open_table(super::tables::ACCOUNTS)?,
            };
            apply_edits(&mut rows, edits)?
        };
        txn.commit()?;
        Ok(out)
    }

    /// Moves user records that cannot be decoded out of the way (into
    /// `USER_DAMAGED`, bytes unchanged), so that no edit replaces them and
    /// they can be recovered by hand. Logs each one.
    pub(super) fn set_aside_damaged_user_records(&self) -> Result<(), StoreError> {
        let bad: Vec<(u64, Vec<u8>)> = {
            let txn = self.user.begin_read()?;
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
        let txn = self.user.begin_write()?;
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
    pub(super) fn damaged_user_records(&self) -> Result<Vec<(VideoId, i64, Vec<u8>)>, StoreError> {
        let txn = self.user.begin_read()?;
        let mut out = Vec::new();
        for row in txn.open_table(USER_DAMAGED)?.iter()? {
            let (k, v) = row?;
            let (id, at) = k.value();
            out.push((VideoId(id), at, v.value().to_vec()));
        }
        Ok(out)
    }

    /// Whether an import source (named by `key`) was already imported.
    pub(super) fn was_imported(&self, key: &str) -> Result<bool, StoreError> {
        let txn = self.user.begin_read()?;
        let found = txn.open_table(IMPORTED)?.get(key)?.is_some();
        Ok(found)
    }

    /// Whether any import mark starts with `prefix`.
    pub(super) fn was_imported_prefix(&self, prefix: &str) -> Result<bool, StoreError> {
        let txn = self.user.begin_read()?;
        let table = txn.open_table(IMPORTED)?;
        let mut after = table.range(prefix..)?;
        Ok(after.next().transpose()?.is_some_and(|(k, _)| k.value().starts_with(prefix)))
    }

    /// Records that the source named by `key` was imported (now).
    pub(super) fn mark_imported(&self, key: &str) -> Result<(), StoreError> {
        let txn = self.user.begin_write()?;
        txn.open_table(IMPORTED)?.insert(key, now_ns())?;
        txn.commit()?;
        Ok(())
    }

    /// Moves the user data of a data dir written before user data had its
    /// own file: copies the old tables of `vidserve.redb` into
    /// `userdata.redb` (durably, never over a record already there), then
    /// drops them from the index. Safe to repeat after a crash midway.
    pub(super) fn migrate_from_index(&self) -> Result<(), StoreError> {
        let old = self.index.begin_read()?;
        let users: Vec<(u64, Vec<u8>)> = match old.open_table(USER) {
            Ok(t) => t.iter()?.map(|r| r.map(|(k, v)| (k.value(), v.value().to_vec()))).collect::<Result<_, _>>()?,
            Err(TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let damaged: Vec<((u64, i64), Vec<u8>)> = match old.open_table(USER_DAMAGED) {
            Ok(t) => t.iter()?.map(|r| r.map(|(k, v)| (k.value(), v.value().to_vec()))).collect::<Result<_, _>>()?,
            Err(TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let marks: Vec<String> = match old.open_table(super::tables::META) {
            Ok(t) => t
                .iter()?
                .filter_map(|r| r.ok())
                .filter_map(|(k, _)| k.value().strip_prefix("imported:").map(String::from))
                .collect(),
            Err(TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        drop(old);
        if users.is_empty() && damaged.is_empty() && marks.is_empty() {
            return Ok(());
        }
        let txn = self.user.begin_write()?;
        let mut moved = 0;
        {
            let mut table = txn.open_table(USER)?;
            for (id, raw) in &users {
                if table.get(*id)?.is_none() {
                    table.insert(*id, raw.as_slice())?;
                    moved += 1;
                }
            }
            let mut aside = txn.open_table(USER_DAMAGED)?;
            for (key, raw) in &damaged {
                aside.insert(*key, raw.as_slice())?;
            }
            let mut imported = txn.open_table(IMPORTED)?;
            for key in &marks {
                if imported.get(key.as_str())?.is_none() {
                    imported.insert(key.as_str(), now_ns())?;
                }
            }
        }
        txn.commit()?;
        let txn = self.index.begin_write()?;
        {
            txn.delete_table(USER)?;
            txn.delete_table(USER_DAMAGED)?;
            let mut meta = txn.open_table(super::tables::META)?;
            for key in &marks {
                meta.remove(format!("imported:{key}").as_str())?;
            }
        }
        txn.commit()?;
        tracing::info!(records = moved, "user data moved to its own file, {}", super::USER_FILE);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tables::META;
    use super::super::DB_FILE;
    use super::*;
    use redb::Database;

    fn put_raw(store: &RedbStore, id: u64, raw: &[u8]) {
        let txn = store.user.begin_write().unwrap();
        txn.open_table(USER).unwrap().insert(id, raw).unwrap();
        txn.commit().unwrap();
    }

    #[test]
    fn a_damaged_user_record_is_kept_aside_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = RedbStore::open(dir.path()).unwrap();
        // Damaged while the server runs: the next edit keeps the bytes aside.
        put_raw(&store, 7, b"{not json");
        let after = store.apply_user(&[(Viewer::Household, VideoId(7), Edit::Rate(Some(3)))]).unwrap();
        assert_eq!(after.seen[0].rating, Some(3));
        let damaged = store.damaged_user_records().unwrap();
        assert_eq!(damaged.len(), 1);
        assert_eq!((damaged[0].0, damaged[0].2.as_slice()), (VideoId(7), &b"{not json"[..]));
        // Damaged on disk: set aside when the database opens.
        put_raw(&store, 8, b"\xff\xfe");
        drop(store);
        let store = RedbStore::open(dir.path()).unwrap();
        let users = store.load_user().unwrap();
        assert!(!users.contains_key(&VideoId(8)));
        assert_eq!(users[&VideoId(7)].rating, Some(3));
        let damaged = store.damaged_user_records().unwrap();
        assert_eq!(damaged.len(), 2);
        assert!(damaged.iter().any(|d| d.0 == VideoId(8) && d.2 == b"\xff\xfe"));
    }

    /// A data dir written before user data had its own file (the layout of
    /// the previous release: everything in `vidserve.redb`).
    #[test]
    fn an_older_data_dir_moves_its_user_data_once_without_loss() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join(DB_FILE)).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut meta = txn.open_table(META).unwrap();
                meta.insert("schema_version", 1).unwrap();
                meta.insert("imported:/old/views.json:10:20", 1).unwrap();
                let mut user = txn.open_table(USER).unwrap();
                user.insert(
                    5,
                    br#"{"rating":4,"views":7,"favorite":true,"tags":["a"],"title":"T","position_ms":9000}"#.as_slice(),
                )
                .unwrap();
                user.insert(6, br#"{"views":2}"#.as_slice()).unwrap();
            }
            txn.commit().unwrap();
        }
        let store = RedbStore::open(dir.path()).unwrap();
        let users = store.load_user().unwrap();
        assert_eq!(users.len(), 2);
        let d = &users[&VideoId(5)];
        assert_eq!(
            (d.rating, d.views, d.favorite, d.title.as_deref(), d.position_ms),
            (Some(4), 7, true, Some("T"), Some(9000))
        );
        assert!(store.was_imported("/old/views.json:10:20").unwrap());
        // Edited after the move, then opened again: nothing is copied twice
        // or over the newer record.
        store.apply_user(&[(Viewer::Household, VideoId(6), Edit::View(1))]).unwrap();
        drop(store);
        let store = RedbStore::open(dir.path()).unwrap();
        assert_eq!(store.load_user().unwrap()[&VideoId(6)].views, 3);
        drop(store);
        // The index can now be thrown away without losing a rating.
        std::fs::remove_file(dir.path().join(DB_FILE)).unwrap();
        let store = RedbStore::open(dir.path()).unwrap();
        assert_eq!(store.load_user().unwrap()[&VideoId(5)].rating, Some(4));
    }
}
