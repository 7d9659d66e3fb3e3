//! Playlists on disk: one record per (owner, number) in `userdata.redb`.
//! The owner is a lowercase account name, or `""` for the household (no
//! accounts, or the first admin's shared data).

use redb::ReadableTable;

use super::tables::{PLAYLISTS, PLAYLIST_NEXT};
use super::{encode, RedbStore};
use crate::store::playlists::PlaylistRecord;
use crate::store::StoreError;

impl RedbStore {
    /// Every playlist: (owner, number, record). Records that cannot be
    /// read are skipped and logged.
    pub(super) fn load_playlists(&self) -> Result<Vec<(String, u64, PlaylistRecord)>, StoreError> {
        let txn = self.user.begin_read()?;
        let table = txn.open_table(PLAYLISTS)?;
        let mut out = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            let (owner, n) = k.value();
            match serde_json::from_slice(v.value()) {
                Ok(rec) => out.push((owner.to_string(), n, rec)),
                Err(e) => tracing::warn!(owner, n, "a playlist record cannot be read ({e}); skipped"),
            }
        }
        Ok(out)
    }

    /// Adds a playlist for `owner` under a number never given before; the number.
    pub(super) fn add_playlist(&self, owner: &str, rec: &PlaylistRecord) -> Result<u64, StoreError> {
        let txn = self.user.begin_write()?;
        let n = {
            let mut table = txn.open_table(PLAYLISTS)?;
            let n = next_number(&mut txn.open_table(PLAYLIST_NEXT)?, &table, owner)?;
            table.insert((owner, n), encode(rec).as_slice())?;
            n
        };
        txn.commit()?;
        Ok(n)
    }

    /// Writes a playlist (`Some`) or removes it (`None`).
    pub(super) fn put_playlist(&self, owner: &str, n: u64, rec: Option<&PlaylistRecord>) -> Result<(), StoreError> {
        let txn = self.user.begin_write()?;
        {
            let mut table = txn.open_table(PLAYLISTS)?;
            match rec {
                Some(r) => {
                    table.insert((owner, n), encode(r).as_slice())?;
                }
                None => {
                    table.remove((owner, n))?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }
}

impl RedbStore {
    /// Restores a playlist from an export: replaces `owner`'s playlist of
    /// that name, or adds it (up to `max` playlists each) under `number`
    /// when that is free.
    pub(super) fn restore_playlist(
        &self,
        owner: &str,
        number: Option<u64>,
        rec: &PlaylistRecord,
        max: usize,
    ) -> Result<(), StoreError> {
        let txn = self.user.begin_write()?;
        {
            let mut table = txn.open_table(PLAYLISTS)?;
            let mut mine = Vec::new();
            for row in table.range((owner, 0)..=(owner, u64::MAX))? {
                let (k, v) = row?;
                let name = serde_json::from_slice::<PlaylistRecord>(v.value()).map(|r| r.name).unwrap_or_default();
                mine.push((k.value().1, name));
            }
            let n = match mine.iter().find(|(_, name)| *name == rec.name) {
                Some((n, _)) => *n,
                None if mine.len() >= max => return Ok(()),
                None => match number.filter(|n| *n > 0 && !mine.iter().any(|(m, _)| m == n)) {
                    Some(n) => {
                        // Numbers after it are never given to another.
                        let mut next = txn.open_table(PLAYLIST_NEXT)?;
                        let after = next.get(owner)?.map_or(1, |v| v.value()).max(n + 1);
                        next.insert(owner, after)?;
                        n
                    }
                    None => next_number(&mut txn.open_table(PLAYLIST_NEXT)?, &table, owner)?,
                },
            };
            table.insert((owner, n), encode(rec).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }
}

/// The number `owner`'s next playlist gets (and counts it as given): past
/// every number given before, deleted playlists' included.
fn next_number(
    next: &mut redb::Table<&'static str, u64>,
    table: &redb::Table<(&'static str, u64), &'static [u8]>,
    owner: &str,
) -> Result<u64, StoreError> {
    let last = table.range((owner, 0)..=(owner, u64::MAX))?.next_back().transpose()?.map_or(0, |(k, _)| k.value().1);
    let n = next.get(owner)?.map_or(1, |v| v.value()).max(last + 1);
    next.insert(owner, n + 1)?;
    Ok(n)
}

/// Removes every playlist of `owner` (in a write that removes an account).
pub(super) fn remove_all_of(
    table: &mut redb::Table<(&'static str, u64), &'static [u8]>,
    owner: &str,
) -> Result<usize, StoreError> {
    let ns: Vec<u64> =
        table.range((owner, 0)..=(owner, u64::MAX))?.filter_map(Result::ok).map(|(k, _)| k.value().1).collect();
    for n in &ns {
        table.remove((owner, *n))?;
    }
    Ok(ns.len())
}
