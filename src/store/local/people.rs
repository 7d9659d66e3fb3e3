//! Accounts, API tokens and sessions, in `userdata.redb` beside the user
//! data (what people entered is kept together and backed up together).
//! Secrets are never stored: passwords as Argon2id PHC strings, tokens and
//! session ids as SHA-256 digests.

use std::collections::HashMap;

use redb::ReadableTable;

use super::tables::{ACCOUNTS, HOUSEHOLD, PERSONAL, SECRETS, SESSIONS, TOKENS, USER};
use super::{encode, RedbStore};
use crate::store::people::{AccountRecord, GrantRecord, PeopleRecords};
use crate::store::people::{LIBRARIES_KEY, PROFILES_KEY};
use crate::store::StoreError;

/// Clears the household's own fields (rating, favorite, position, history)
/// of every shared record; tags, titles and views stay.
fn clear_household(table: &mut redb::Table<u64, &[u8]>) -> Result<(), StoreError> {
    let mut changed = Vec::new();
    for row in table.iter()? {
        let (k, v) = row?;
        if let Ok(d) = serde_json::from_slice::<crate::catalog::UserData>(v.value()) {
            if d.has_own() {
                let cleared =
                    crate::catalog::UserData { views: d.views, tags: d.tags, title: d.title, ..Default::default() };
                changed.push((k.value(), cleared));
            }
        }
    }
    for (id, d) in changed {
        table.insert(id, encode(&d).as_slice())?;
    }
    Ok(())
}

/// Removes the tokens or sessions of `name` from `table`; how many.
fn remove_grants_of(table: &mut redb::Table<&str, &[u8]>, name: &str) -> Result<usize, StoreError> {
    let theirs: Vec<String> = table
        .iter()?
        .filter_map(Result::ok)
        .filter(|(_, v)| {
            serde_json::from_slice::<GrantRecord>(v.value()).is_ok_and(|g| g.name.to_lowercase() == name.to_lowercase())
        })
        .map(|(k, _)| k.value().to_string())
        .collect();
    for k in &theirs {
        table.remove(k.as_str())?;
    }
    Ok(theirs.len())
}

fn load<T: serde::de::DeserializeOwned>(
    txn: &redb::ReadTransaction,
    table: redb::TableDefinition<&str, &[u8]>,
) -> Result<HashMap<String, T>, StoreError> {
    let mut out = HashMap::new();
    for row in txn.open_table(table)?.iter()? {
        let (k, v) = row?;
        match serde_json::from_slice(v.value()) {
            Ok(rec) => {
                out.insert(k.value().to_string(), rec);
            }
            Err(e) => tracing::error!("skipping an unreadable account, token or session record: {e}"),
        }
    }
    Ok(out)
}

impl RedbStore {
    /// The secret named `name`, made (32 random bytes) the first time.
    pub(super) fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        if let Some(v) = self.user.begin_read()?.open_table(SECRETS)?.get(name)? {
            return Ok(v.value().to_vec());
        }
        let mut fresh = vec![0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| StoreError::Db(Box::new(e)))?;
        let txn = self.user.begin_write()?;
        txn.open_table(SECRETS)?.insert(name, fresh.as_slice())?;
        txn.commit()?;
        Ok(fresh)
    }

    pub(super) fn load_people(&self) -> Result<PeopleRecords, StoreError> {
        let txn = self.user.begin_read()?;
        let household = txn.open_table(HOUSEHOLD)?;
        let owner = household.get("owner")?.map(|v| v.value().to_string());
        let mut out = PeopleRecords {
            accounts: load(&txn, ACCOUNTS)?,
            tokens: load(&txn, TOKENS)?,
            sessions: load(&txn, SESSIONS)?,
            owner,
            ..PeopleRecords::default()
        };
        for key in [LIBRARIES_KEY, PROFILES_KEY] {
            if let Some(v) = household.get(key)? {
                out.read_household(key, v.value());
            }
        }
        Ok(out)
    }

    pub(super) fn put_household(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        let txn = self.user.begin_write()?;
        {
            let mut household = txn.open_table(HOUSEHOLD)?;
            match value {
                Some(v) => drop(household.insert(key, v)?),
                None => drop(household.remove(key)?),
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Adds or replaces an account. The first admin made becomes the
    /// household's owner (returned when it happens now); the owner never
    /// changes otherwise.
    pub(super) fn put_account(&self, rec: &AccountRecord) -> Result<Option<String>, StoreError> {
        let key = rec.name.to_lowercase();
        let txn = self.user.begin_write()?;
        txn.open_table(ACCOUNTS)?.insert(key.as_str(), encode(rec).as_slice())?;
        let mut household = txn.open_table(HOUSEHOLD)?;
        let owner = (rec.role == "admin" && household.get("owner")?.is_none()).then(|| key.clone());
        if let Some(k) = &owner {
            household.insert("owner", k.as_str())?;
        }
        drop(household);
        txn.commit()?;
        Ok(owner)
    }

    /// Removes an account with its tokens, sessions, playlists and own ratings,
    /// favorites, positions and history (the household's, when it is the
    /// owner: then there is no owner until the next first admin); false
    /// when there was none.
    pub(super) fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        let key = name.to_lowercase();
        let txn = self.user.begin_write()?;
        let existed = txn.open_table(ACCOUNTS)?.remove(key.as_str())?.is_some();
        let was_owner = txn.open_table(HOUSEHOLD)?.get("owner")?.is_some_and(|v| v.value() == key);
        if was_owner {
            txn.open_table(HOUSEHOLD)?.remove("owner")?;
            clear_household(&mut txn.open_table(USER)?)?;
            super::playlists::remove_all_of(&mut txn.open_table(super::tables::PLAYLISTS)?, "")?;
        }
        super::playlists::remove_all_of(&mut txn.open_table(super::tables::PLAYLISTS)?, &key)?;
        for table in [TOKENS, SESSIONS] {
            remove_grants_of(&mut txn.open_table(table)?, &key)?;
        }
        {
            let mut own = txn.open_table(PERSONAL)?;
            let ids: Vec<u64> = own
                .range((key.as_str(), 0)..=(key.as_str(), u64::MAX))?
                .filter_map(Result::ok)
                .map(|(k, _)| k.value().1)
                .collect();
            for id in ids {
                own.remove((key.as_str(), id))?;
            }
        }
        txn.commit()?;
        Ok(existed)
    }

    pub(super) fn put_token(&self, digest: &str, rec: &GrantRecord) -> Result<(), StoreError> {
        self.put_grant(TOKENS, digest, rec)
    }

    pub(super) fn put_session(&self, digest: &str, rec: &GrantRecord) -> Result<(), StoreError> {
        self.put_grant(SESSIONS, digest, rec)
    }

    pub(super) fn remove_session(&self, digest: &str) -> Result<(), StoreError> {
        let txn = self.user.begin_write()?;
        txn.open_table(SESSIONS)?.remove(digest)?;
        txn.commit()?;
        Ok(())
    }

    pub(super) fn grant(&self, session: bool, digest: &str) -> Result<Option<GrantRecord>, StoreError> {
        let txn = self.user.begin_read()?;
        let table = txn.open_table(if session { SESSIONS } else { TOKENS })?;
        let raw = table.get(digest)?.map(|v| v.value().to_vec());
        Ok(raw.and_then(|r| serde_json::from_slice(&r).ok()))
    }

    /// Removes every token of `name`; how many there were.
    pub(super) fn revoke_tokens(&self, name: &str) -> Result<usize, StoreError> {
        let txn = self.user.begin_write()?;
        let n = remove_grants_of(&mut txn.open_table(TOKENS)?, name)?;
        txn.commit()?;
        Ok(n)
    }

    fn put_grant(
        &self,
        table: redb::TableDefinition<&str, &[u8]>,
        digest: &str,
        rec: &GrantRecord,
    ) -> Result<(), StoreError> {
        let txn = self.user.begin_write()?;
        txn.open_table(table)?.insert(digest, encode(rec).as_slice())?;
        txn.commit()?;
        Ok(())
    }
}
