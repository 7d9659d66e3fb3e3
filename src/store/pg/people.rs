//! Accounts, tokens, sessions, secrets and the household's owner in
//! PostgreSQL. Each write is announced (`people`) so every server's copy
//! follows: a sign-out or a new password on one ends the session on all.

use super::{announce, announce_items, block, decode_rows, id_of, key, snapshot, PgStore, LOCK_USER};
use crate::catalog::UserData;
use crate::store::apply::encode;
use crate::store::people::{AccountRecord, GrantRecord, PeopleRecords};
use crate::store::StoreError;

impl PgStore {
    /// The secret named `name`: the first server to ask makes it, every
    /// other one reads the same.
    pub(super) fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let mut fresh = vec![0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| StoreError::Db(Box::new(e)))?;
        let conn = self.pool.get()?;
        block(async {
            conn.execute("INSERT INTO vidserve_secrets VALUES ($1, $2) ON CONFLICT DO NOTHING", &[&name, &fresh])
                .await?;
            Ok(conn.query_one("SELECT value FROM vidserve_secrets WHERE name = $1", &[&name]).await?.get(0))
        })
    }

    pub(super) fn load_people(&self) -> Result<PeopleRecords, StoreError> {
        let mut conn = self.pool.get()?;
        block(async {
            let tx = snapshot(&mut conn).await?;
            let by_name = |r: &tokio_postgres::Row| r.get::<_, String>(0);
            let accounts = tx.query("SELECT name, rec FROM vidserve_accounts", &[]).await?;
            let tokens = tx.query("SELECT digest, rec FROM vidserve_tokens", &[]).await?;
            let sessions = tx.query("SELECT digest, rec FROM vidserve_sessions", &[]).await?;
            let household = tx.query("SELECT key, value FROM vidserve_household", &[]).await?;
            let what = "account, token or session";
            let mut out = PeopleRecords {
                accounts: decode_rows(accounts, what, by_name).into_iter().collect(),
                tokens: decode_rows(tokens, what, by_name).into_iter().collect(),
                sessions: decode_rows(sessions, what, by_name).into_iter().collect(),
                ..PeopleRecords::default()
            };
            for row in household {
                let (key, value): (String, String) = (row.get(0), row.get(1));
                match key.as_str() {
                    "owner" => out.owner = Some(value),
                    key => out.read_household(key, &value),
                }
            }
            Ok(out)
        })
    }

    /// Sets or removes a household value, announced (`people`).
    pub(super) fn put_household(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        let mut conn = self.pool.get()?;
        block(async {
            let tx = conn.transaction().await?;
            match value {
                Some(v) => {
                    tx.execute(
                        "INSERT INTO vidserve_household VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                        &[&key, &v],
                    )
                    .await?
                }
                None => tx.execute("DELETE FROM vidserve_household WHERE key = $1", &[&key]).await?,
            };
            announce(&tx, &self.origin, "people").await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Adds or replaces an account; the first admin becomes the owner.
    pub(super) fn put_account(&self, rec: &AccountRecord) -> Result<Option<String>, StoreError> {
        let name = rec.name.to_lowercase();
        let mut conn = self.pool.get()?;
        block(async {
            let tx = conn.transaction().await?;
            tx.execute(
                "INSERT INTO vidserve_accounts VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET rec = EXCLUDED.rec",
                &[&name, &encode(rec)],
            )
            .await?;
            let owner = if rec.role == "admin" {
                let made = tx
                    .execute("INSERT INTO vidserve_household VALUES ('owner', $1) ON CONFLICT DO NOTHING", &[&name])
                    .await?;
                (made == 1).then(|| name.clone())
            } else {
                None
            };
            announce(&tx, &self.origin, "people").await?;
            tx.commit().await?;
            Ok(owner)
        })
    }

    /// Removes an account and everything only its own, in one transaction
    /// (under the user-data lock: no edit of theirs lands after it).
    pub(super) fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_lowercase();
        let mut conn = self.pool.get()?;
        block(async {
            let tx = conn.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_USER]).await?;
            let existed = tx.execute("DELETE FROM vidserve_accounts WHERE name = $1", &[&name]).await? > 0;
            let was_owner =
                tx.execute("DELETE FROM vidserve_household WHERE key = 'owner' AND value = $1", &[&name]).await? > 0;
            let mut cleared = Vec::new();
            if was_owner {
                // The household's own fields go; tags, titles and views stay.
                let rows = tx.query("SELECT id, rec FROM vidserve_user", &[]).await?;
                for (id, d) in decode_rows::<_, UserData>(rows, "user", |r| id_of(r.get(0))) {
                    if d.has_own() {
                        let kept = UserData { views: d.views, tags: d.tags, title: d.title, ..Default::default() };
                        tx.execute("UPDATE vidserve_user SET rec = $2 WHERE id = $1", &[&key(id), &encode(&kept)])
                            .await?;
                        cleared.push(id.to_string());
                    }
                }
                tx.execute("DELETE FROM vidserve_playlists WHERE owner = ''", &[]).await?;
            }
            tx.execute("DELETE FROM vidserve_playlists WHERE owner = $1", &[&name]).await?;
            tx.execute("DELETE FROM vidserve_personal WHERE name = $1", &[&name]).await?;
            for table in ["vidserve_tokens", "vidserve_sessions"] {
                remove_grants_of(&tx, table, &name).await?;
            }
            announce_items(&tx, &self.origin, "user", &cleared).await?;
            announce(&tx, &self.origin, "people").await?;
            announce(&tx, &self.origin, "playlists").await?;
            tx.commit().await?;
            Ok(existed)
        })
    }

    pub(super) fn put_grant(&self, table: &str, digest: &str, rec: &GrantRecord) -> Result<(), StoreError> {
        let sql = format!("INSERT INTO {table} VALUES ($1, $2) ON CONFLICT (digest) DO UPDATE SET rec = EXCLUDED.rec");
        self.write_people(&sql, &[&digest, &encode(rec)]).map(|_| ())
    }

    pub(super) fn grant(&self, session: bool, digest: &str) -> Result<Option<GrantRecord>, StoreError> {
        let table = if session { "vidserve_sessions" } else { "vidserve_tokens" };
        let conn = self.pool.get()?;
        let row = block(conn.query_opt(&format!("SELECT rec FROM {table} WHERE digest = $1"), &[&digest]))?;
        Ok(row.and_then(|r| serde_json::from_slice(r.get::<_, &[u8]>(0)).ok()))
    }

    pub(super) fn remove_session(&self, digest: &str) -> Result<(), StoreError> {
        self.write_people("DELETE FROM vidserve_sessions WHERE digest = $1", &[&digest]).map(|_| ())
    }

    pub(super) fn revoke_tokens(&self, name: &str) -> Result<usize, StoreError> {
        let mut conn = self.pool.get()?;
        block(async {
            let tx = conn.transaction().await?;
            let n = remove_grants_of(&tx, "vidserve_tokens", &name.to_lowercase()).await?;
            announce(&tx, &self.origin, "people").await?;
            tx.commit().await?;
            Ok(n)
        })
    }

    /// One statement about people, announced; rows changed.
    fn write_people(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let mut conn = self.pool.get()?;
        block(async {
            let tx = conn.transaction().await?;
            let n = tx.execute(sql, params).await?;
            announce(&tx, &self.origin, "people").await?;
            tx.commit().await?;
            Ok(n)
        })
    }
}

/// Removes the grants in `table` held by `name` (lowercase); how many.
async fn remove_grants_of(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    name: &str,
) -> Result<usize, tokio_postgres::Error> {
    let rows = tx.query(&format!("SELECT digest, rec FROM {table}"), &[]).await?;
    let theirs: Vec<String> = decode_rows::<_, GrantRecord>(rows, "token or session", |r| r.get::<_, String>(0))
        .into_iter()
        .filter(|(_, g)| g.name.to_lowercase() == name)
        .map(|(d, _)| d)
        .collect();
    if !theirs.is_empty() {
        tx.execute(&format!("DELETE FROM {table} WHERE digest = ANY($1)"), &[&theirs]).await?;
    }
    Ok(theirs.len())
}
