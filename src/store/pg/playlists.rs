//! Playlists in PostgreSQL: `vidserve_playlists` ((owner, number) -> JSON
//! `PlaylistRecord`) and `vidserve_playlist_next` (owner -> the number the
//! next one gets). Numbers are given under the user-data lock, so two
//! servers never give the same one; each write is announced
//! (`playlists`).

use super::{announce, block, decode_rows, PgStore, LOCK_USER};
use crate::store::apply::encode;
use crate::store::playlists::PlaylistRecord;
use crate::store::StoreError;

impl PgStore {
    pub(super) fn load_playlists(&self) -> Result<Vec<(String, u64, PlaylistRecord)>, StoreError> {
        let conn = self.pool.get()?;
        let rows = block(conn.query("SELECT n, rec, owner FROM vidserve_playlists ORDER BY owner, n", &[]))?;
        let found = decode_rows::<_, PlaylistRecord>(rows, "playlist", |r| (r.get::<_, String>(2), r.get::<_, i64>(0)));
        Ok(found.into_iter().map(|((owner, n), rec)| (owner, n as u64, rec)).collect())
    }

    pub(super) fn add_playlist(&self, owner: &str, rec: &PlaylistRecord) -> Result<u64, StoreError> {
        let mut conn = self.pool.get()?;
        block(async {
            let tx = conn.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_USER]).await?;
            let n = next_number(&tx, owner, None).await?;
            tx.execute("INSERT INTO vidserve_playlists VALUES ($1, $2, $3)", &[&owner, &n, &encode(rec)]).await?;
            announce(&tx, &self.origin, "playlists").await?;
            tx.commit().await?;
            Ok(n as u64)
        })
    }

    pub(super) fn put_playlist(&self, owner: &str, n: u64, rec: Option<&PlaylistRecord>) -> Result<(), StoreError> {
        let mut conn = self.pool.get()?;
        let n = n as i64;
        block(async {
            let tx = conn.transaction().await?;
            match rec {
                Some(r) => {
                    tx.execute(
                        "INSERT INTO vidserve_playlists VALUES ($1, $2, $3) \
                         ON CONFLICT (owner, n) DO UPDATE SET rec = EXCLUDED.rec",
                        &[&owner, &n, &encode(r)],
                    )
                    .await?
                }
                None => tx.execute("DELETE FROM vidserve_playlists WHERE owner = $1 AND n = $2", &[&owner, &n]).await?,
            };
            announce(&tx, &self.origin, "playlists").await?;
            tx.commit().await
        })
    }

    /// As the redb store: replaces the owner's playlist of that name, or
    /// adds it (up to `max`) under `number` when that is free.
    pub(super) fn restore_playlist(
        &self,
        owner: &str,
        number: Option<u64>,
        rec: &PlaylistRecord,
        max: usize,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.get()?;
        block(async {
            let tx = conn.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_USER]).await?;
            let rows = tx.query("SELECT n, rec FROM vidserve_playlists WHERE owner = $1", &[&owner]).await?;
            let mine: Vec<(i64, String)> = rows
                .iter()
                .map(|r| {
                    let name = serde_json::from_slice::<PlaylistRecord>(r.get(1)).map(|p| p.name).unwrap_or_default();
                    (r.get(0), name)
                })
                .collect();
            let n = match mine.iter().find(|(_, name)| *name == rec.name) {
                Some((n, _)) => *n,
                None if mine.len() >= max => return Ok(()),
                None => {
                    let wanted = number.map(|n| n as i64).filter(|n| *n > 0 && !mine.iter().any(|(m, _)| m == n));
                    next_number(&tx, owner, wanted).await?
                }
            };
            tx.execute(
                "INSERT INTO vidserve_playlists VALUES ($1, $2, $3) ON CONFLICT (owner, n) DO UPDATE SET rec = EXCLUDED.rec",
                &[&owner, &n, &encode(rec)],
            )
            .await?;
            announce(&tx, &self.origin, "playlists").await?;
            tx.commit().await
        })
    }
}

/// The number `owner`'s next playlist gets (`wanted` when given: a free
/// number restored from an export), counted as given: numbers are never
/// given twice, deleted playlists' included.
async fn next_number(
    tx: &tokio_postgres::Transaction<'_>,
    owner: &str,
    wanted: Option<i64>,
) -> Result<i64, tokio_postgres::Error> {
    let last: i64 =
        tx.query_one("SELECT coalesce(max(n), 0) FROM vidserve_playlists WHERE owner = $1", &[&owner]).await?.get(0);
    let next: i64 =
        tx.query_opt("SELECT n FROM vidserve_playlist_next WHERE owner = $1", &[&owner]).await?.map_or(1, |r| r.get(0));
    let n = wanted.unwrap_or(next.max(last + 1));
    let after = next.max(n + 1);
    tx.execute(
        "INSERT INTO vidserve_playlist_next VALUES ($1, $2) ON CONFLICT (owner) DO UPDATE SET n = EXCLUDED.n",
        &[&owner, &after],
    )
    .await?;
    Ok(n)
}
