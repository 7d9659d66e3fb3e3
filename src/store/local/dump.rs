//! Every record of both files as stored (`Store::dump`), and writing such
//! records into empty files (`Store::restore`).

use redb::{ReadableTable, ReadableTableMetadata};

use super::tables::{
    ACCOUNTS, FILES, HOUSEHOLD, IMPORTED, PERSONAL, PLAYLISTS, PLAYLIST_NEXT, ROOTS, SECRETS, SESSIONS, TOKENS, USER,
    USER_DAMAGED, VIDEOS,
};
use super::RedbStore;
use crate::store::dump::Row;
use crate::store::StoreError;

impl RedbStore {
    pub(super) fn dump(&self) -> Result<Vec<Row>, StoreError> {
        let mut out = Vec::new();
        let txn = self.index.begin_read()?;
        for r in txn.open_table(FILES)?.iter()? {
            let (k, v) = r?;
            out.push(Row::File(k.value().to_vec(), v.value().to_vec()));
        }
        for r in txn.open_table(VIDEOS)?.iter()? {
            let (k, v) = r?;
            out.push(Row::Video(k.value(), v.value().to_vec()));
        }
        for r in txn.open_table(ROOTS)?.iter()? {
            let (k, v) = r?;
            out.push(Row::Root(k.value(), v.value().to_vec()));
        }
        let txn = self.user.begin_read()?;
        for r in txn.open_table(USER)?.iter()? {
            let (k, v) = r?;
            out.push(Row::User(k.value(), v.value().to_vec()));
        }
        for r in txn.open_table(USER_DAMAGED)?.iter()? {
            let (k, v) = r?;
            let (id, at) = k.value();
            out.push(Row::Damaged(id, at, v.value().to_vec()));
        }
        for r in txn.open_table(PERSONAL)?.iter()? {
            let (k, v) = r?;
            let (name, id) = k.value();
            out.push(Row::Personal(name.to_string(), id, v.value().to_vec()));
        }
        for r in txn.open_table(IMPORTED)?.iter()? {
            let (k, v) = r?;
            out.push(Row::Imported(k.value().to_string(), v.value()));
        }
        for (table, make) in [
            (ACCOUNTS, Row::Account as fn(String, Vec<u8>) -> Row),
            (TOKENS, Row::Token),
            (SESSIONS, Row::Session),
            (SECRETS, Row::Secret),
        ] {
            for r in txn.open_table(table)?.iter()? {
                let (k, v) = r?;
                out.push(make(k.value().to_string(), v.value().to_vec()));
            }
        }
        for r in txn.open_table(HOUSEHOLD)?.iter()? {
            let (k, v) = r?;
            out.push(Row::Household(k.value().to_string(), v.value().to_string()));
        }
        for r in txn.open_table(PLAYLISTS)?.iter()? {
            let (k, v) = r?;
            let (owner, n) = k.value();
            out.push(Row::Playlist(owner.to_string(), n, v.value().to_vec()));
        }
        for r in txn.open_table(PLAYLIST_NEXT)?.iter()? {
            let (k, v) = r?;
            out.push(Row::PlaylistNext(k.value().to_string(), v.value()));
        }
        Ok(out)
    }

    pub(super) fn restore(&self, rows: &[Row]) -> Result<(), StoreError> {
        let (index, user) = (self.index.begin_write()?, self.user.begin_write()?);
        let empty = index.open_table(FILES)?.is_empty()?
            && user.open_table(USER)?.is_empty()?
            && user.open_table(ACCOUNTS)?.is_empty()?
            && user.open_table(PLAYLISTS)?.is_empty()?;
        if !empty {
            return Err(StoreError::NotEmpty(format!("{} and {}", self.path.display(), self.user_path.display())));
        }
        {
            let (mut files, mut videos, mut roots) =
                (index.open_table(FILES)?, index.open_table(VIDEOS)?, index.open_table(ROOTS)?);
            let (mut users, mut damaged, mut personal, mut imported) = (
                user.open_table(USER)?,
                user.open_table(USER_DAMAGED)?,
                user.open_table(PERSONAL)?,
                user.open_table(IMPORTED)?,
            );
            let (mut accounts, mut tokens, mut sessions, mut secrets) = (
                user.open_table(ACCOUNTS)?,
                user.open_table(TOKENS)?,
                user.open_table(SESSIONS)?,
                user.open_table(SECRETS)?,
            );
            let (mut household, mut playlists, mut next) =
                (user.open_table(HOUSEHOLD)?, user.open_table(PLAYLISTS)?, user.open_table(PLAYLIST_NEXT)?);
            for row in rows {
                match row {
                    Row::File(k, v) => drop(files.insert(k.as_slice(), v.as_slice())?),
                    Row::Video(k, v) => drop(videos.insert(k, v.as_slice())?),
                    Row::Root(k, v) => drop(roots.insert(k, v.as_slice())?),
                    Row::User(k, v) => drop(users.insert(k, v.as_slice())?),
                    Row::Damaged(id, at, v) => drop(damaged.insert((*id, *at), v.as_slice())?),
                    Row::Personal(name, id, v) => drop(personal.insert((name.as_str(), *id), v.as_slice())?),
                    Row::Imported(k, at) => drop(imported.insert(k.as_str(), at)?),
                    Row::Account(k, v) => drop(accounts.insert(k.as_str(), v.as_slice())?),
                    Row::Token(k, v) => drop(tokens.insert(k.as_str(), v.as_slice())?),
                    Row::Session(k, v) => drop(sessions.insert(k.as_str(), v.as_slice())?),
                    Row::Secret(k, v) => drop(secrets.insert(k.as_str(), v.as_slice())?),
                    Row::Household(k, v) => drop(household.insert(k.as_str(), v.as_str())?),
                    Row::Playlist(owner, n, v) => drop(playlists.insert((owner.as_str(), *n), v.as_slice())?),
                    Row::PlaylistNext(owner, n) => drop(next.insert(owner.as_str(), n)?),
                }
            }
        }
        // The user data first: a crash between the two leaves an index to rebuild, never half the people.
        user.commit()?;
        index.commit()?;
        Ok(())
    }
}
