//! Every record as stored (`Store::dump`), and writing another store's
//! records into an empty database in one transaction (`Store::restore`,
//! `vidserve migrate --to postgres://…`), announced to running servers.

use super::{announce, block, snapshot, PgStore, LOCK_USER};
use crate::store::dump::Row;
use crate::store::StoreError;

/// Rows sent in one statement.
const CHUNK: usize = 5_000;

impl PgStore {
    pub(super) fn dump(&self) -> Result<Vec<Row>, StoreError> {
        let mut conn = self.pool.get()?;
        block(async {
            let tx = snapshot(&mut conn).await?;
            let mut out = Vec::new();
            let all = |sql: &'static str| tx.query(sql, &[]);
            for r in all("SELECT path, rec FROM vidserve_files").await? {
                out.push(Row::File(r.get(0), r.get(1)));
            }
            for r in all("SELECT id, rec FROM vidserve_videos").await? {
                out.push(Row::Video(r.get::<_, i64>(0) as u64, r.get(1)));
            }
            for r in all("SELECT pos, path FROM vidserve_roots").await? {
                out.push(Row::Root(r.get::<_, i32>(0) as u32, r.get(1)));
            }
            for r in all("SELECT id, rec FROM vidserve_user").await? {
                out.push(Row::User(r.get::<_, i64>(0) as u64, r.get(1)));
            }
            for r in all("SELECT id, at, rec FROM vidserve_user_damaged").await? {
                out.push(Row::Damaged(r.get::<_, i64>(0) as u64, r.get(1), r.get(2)));
            }
            for r in all("SELECT name, id, rec FROM vidserve_personal").await? {
                out.push(Row::Personal(r.get(0), r.get::<_, i64>(1) as u64, r.get(2)));
            }
            for r in all("SELECT key, at FROM vidserve_imported").await? {
                out.push(Row::Imported(r.get(0), r.get(1)));
            }
            for r in all("SELECT name, rec FROM vidserve_accounts").await? {
                out.push(Row::Account(r.get(0), r.get(1)));
            }
            for r in all("SELECT digest, rec FROM vidserve_tokens").await? {
                out.push(Row::Token(r.get(0), r.get(1)));
            }
            for r in all("SELECT digest, rec FROM vidserve_sessions").await? {
                out.push(Row::Session(r.get(0), r.get(1)));
            }
            for r in all("SELECT name, value FROM vidserve_secrets").await? {
                out.push(Row::Secret(r.get(0), r.get(1)));
            }
            for r in all("SELECT key, value FROM vidserve_household").await? {
                out.push(Row::Household(r.get(0), r.get(1)));
            }
            for r in all("SELECT owner, n, rec FROM vidserve_playlists").await? {
                out.push(Row::Playlist(r.get(0), r.get::<_, i64>(1) as u64, r.get(2)));
            }
            for r in all("SELECT owner, n FROM vidserve_playlist_next").await? {
                out.push(Row::PlaylistNext(r.get(0), r.get::<_, i64>(1) as u64));
            }
            Ok(out)
        })
    }

    pub(super) fn restore(&self, rows: &[Row]) -> Result<(), StoreError> {
        let mut conn = self.pool.get()?;
        let held = block(async {
            let tx = conn.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_USER]).await?;
            let held: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM vidserve_files) OR EXISTS (SELECT 1 FROM vidserve_user) \
                     OR EXISTS (SELECT 1 FROM vidserve_accounts) OR EXISTS (SELECT 1 FROM vidserve_playlists)",
                    &[],
                )
                .await?
                .get(0);
            if held {
                return Ok(true);
            }
            // Secrets made by a server already started on this database
            // give way to the household's own (its signed links stay valid).
            tx.execute("DELETE FROM vidserve_secrets", &[]).await?;
            // The large kinds a chunk per statement, the rest a row each.
            let files: Vec<(&[u8], &[u8])> = rows
                .iter()
                .filter_map(|r| match r {
                    Row::File(k, v) => Some((k.as_slice(), v.as_slice())),
                    _ => None,
                })
                .collect();
            for chunk in files.chunks(CHUNK) {
                let (k, v): (Vec<&[u8]>, Vec<&[u8]>) = chunk.iter().copied().unzip();
                tx.execute("INSERT INTO vidserve_files SELECT * FROM unnest($1::bytea[], $2::bytea[])", &[&k, &v])
                    .await?;
            }
            for (table, kind) in [("vidserve_videos", 0), ("vidserve_user", 1)] {
                let by_id: Vec<(i64, &[u8])> = rows
                    .iter()
                    .filter_map(|r| match (r, kind) {
                        (Row::Video(k, v), 0) | (Row::User(k, v), 1) => Some((*k as i64, v.as_slice())),
                        _ => None,
                    })
                    .collect();
                for chunk in by_id.chunks(CHUNK) {
                    let (k, v): (Vec<i64>, Vec<&[u8]>) = chunk.iter().copied().unzip();
                    let sql = format!("INSERT INTO {table} SELECT * FROM unnest($1::int8[], $2::bytea[])");
                    tx.execute(&sql, &[&k, &v]).await?;
                }
            }
            for row in rows.iter().filter(|r| !matches!(r, Row::File(..) | Row::Video(..) | Row::User(..))) {
                insert(&tx, row).await?;
            }
            for kind in ["index", "people", "playlists"] {
                announce(&tx, &self.origin, kind).await?;
            }
            tx.commit().await?;
            Ok(false)
        })?;
        if held {
            return Err(StoreError::NotEmpty(self.pool.db.shown.clone()));
        }
        Ok(())
    }
}

async fn insert(tx: &tokio_postgres::Transaction<'_>, row: &Row) -> Result<u64, tokio_postgres::Error> {
    match row {
        // Written a chunk at a time by `restore`.
        Row::File(..) | Row::Video(..) | Row::User(..) => Ok(0),
        Row::Root(k, v) => tx.execute("INSERT INTO vidserve_roots VALUES ($1, $2)", &[&(*k as i32), v]).await,
        Row::Damaged(id, at, v) => {
            tx.execute("INSERT INTO vidserve_user_damaged VALUES ($1, $2, $3)", &[&(*id as i64), at, v]).await
        }
        Row::Personal(name, id, v) => {
            tx.execute("INSERT INTO vidserve_personal VALUES ($1, $2, $3)", &[name, &(*id as i64), v]).await
        }
        Row::Imported(k, at) => tx.execute("INSERT INTO vidserve_imported VALUES ($1, $2)", &[k, at]).await,
        Row::Account(k, v) => tx.execute("INSERT INTO vidserve_accounts VALUES ($1, $2)", &[k, v]).await,
        Row::Token(k, v) => tx.execute("INSERT INTO vidserve_tokens VALUES ($1, $2)", &[k, v]).await,
        Row::Session(k, v) => tx.execute("INSERT INTO vidserve_sessions VALUES ($1, $2)", &[k, v]).await,
        Row::Secret(k, v) => tx.execute("INSERT INTO vidserve_secrets VALUES ($1, $2)", &[k, v]).await,
        Row::Household(k, v) => tx.execute("INSERT INTO vidserve_household VALUES ($1, $2)", &[k, v]).await,
        Row::Playlist(owner, n, v) => {
            tx.execute("INSERT INTO vidserve_playlists VALUES ($1, $2, $3)", &[owner, &(*n as i64), v]).await
        }
        Row::PlaylistNext(owner, n) => {
            tx.execute("INSERT INTO vidserve_playlist_next VALUES ($1, $2)", &[owner, &(*n as i64)]).await
        }
    }
}
