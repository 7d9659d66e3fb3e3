//! What people entered, in PostgreSQL: `vidserve_user` (id -> JSON
//! `UserData`), `vidserve_personal` ((name, id) -> JSON `Personal`),
//! records set aside as undecodable, and import marks. A batch of edits is
//! one transaction under the user-data lock: its rows are read in one
//! statement each, the edits applied in memory (`store::apply`), and the
//! rows written back in one statement each, so a batch of a thousand
//! edits costs a handful of round trips.

use std::collections::{HashMap, HashSet};

use std::sync::Arc;
use tokio_postgres::types::Type;

use super::{announce_items, block, decode_rows, id_of, key, now_ns, PgStore, LOCK_USER};
use crate::catalog::personal::{Personal, PersonalMap, Viewer};
use crate::catalog::user::{Edit, UserData};
use crate::library::ids::VideoId;
use crate::store::apply::{apply_edits, Rows};
use crate::store::{Applied, StoreError};

/// The rows of one batch, read before and written after.
#[derive(Default)]
struct Batch {
    shared: HashMap<VideoId, Option<Vec<u8>>>,
    personal: HashMap<(String, VideoId), Option<Vec<u8>>>,
    accounts: HashSet<String>,
    put_shared: HashMap<VideoId, Vec<u8>>,
    put_personal: HashMap<(String, VideoId), Option<Vec<u8>>>,
    aside: Vec<(VideoId, i64, Vec<u8>)>,
}

impl Rows for Batch {
    fn shared(&mut self, id: VideoId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.put_shared.get(&id).cloned().or_else(|| self.shared.get(&id).cloned().flatten()))
    }
    fn put_shared(&mut self, id: VideoId, raw: &[u8]) -> Result<(), StoreError> {
        self.put_shared.insert(id, raw.to_vec());
        Ok(())
    }
    fn personal(&mut self, who: &str, id: VideoId) -> Result<Option<Vec<u8>>, StoreError> {
        let k = (who.to_string(), id);
        Ok(match self.put_personal.get(&k) {
            Some(now) => now.clone(),
            None => self.personal.get(&k).cloned().flatten(),
        })
    }
    fn put_personal(&mut self, who: &str, id: VideoId, raw: Option<&[u8]>) -> Result<(), StoreError> {
        self.put_personal.insert((who.to_string(), id), raw.map(<[u8]>::to_vec));
        Ok(())
    }
    fn set_aside(&mut self, id: VideoId, raw: &[u8]) -> Result<(), StoreError> {
        // Distinct times within one batch: the key is (id, time).
        let at = now_ns() + self.aside.len() as i64;
        self.aside.push((id, at, raw.to_vec()));
        Ok(())
    }
    fn has_account(&mut self, who: &str) -> Result<bool, StoreError> {
        Ok(self.accounts.contains(who))
    }
}

impl PgStore {
    pub(super) fn load_user(&self) -> Result<HashMap<VideoId, UserData>, StoreError> {
        let conn = self.pool.get()?;
        let rows = block(conn.query("SELECT id, rec FROM vidserve_user", &[]))?;
        Ok(decode_rows(rows, "user", |r| id_of(r.get(0))).into_iter().collect())
    }

    pub(super) fn load_personal(&self) -> Result<PersonalMap, StoreError> {
        let conn = self.pool.get()?;
        let rows = block(conn.query("SELECT id, rec, name FROM vidserve_personal", &[]))?;
        let mut out = PersonalMap::new();
        for ((name, id), p) in
            decode_rows::<_, Personal>(rows, "personal", |r| (r.get::<_, String>(2), id_of(r.get(0))))
        {
            out.entry(Arc::from(name)).or_default().insert(id, p);
        }
        Ok(out)
    }

    /// The shared records of `ids` as stored now (`None`: none).
    pub fn user_of(&self, ids: &[VideoId]) -> Result<HashMap<VideoId, Option<UserData>>, StoreError> {
        let conn = self.pool.get()?;
        let keys: Vec<i64> = ids.iter().map(|id| key(*id)).collect();
        let rows = block(conn.query("SELECT id, rec FROM vidserve_user WHERE id = ANY($1)", &[&keys]))?;
        let mut out: HashMap<VideoId, Option<UserData>> = ids.iter().map(|id| (*id, None)).collect();
        for (id, d) in decode_rows(rows, "user", |r| id_of(r.get(0))) {
            out.insert(id, Some(d));
        }
        Ok(out)
    }

    /// People's own records of these (name, video) pairs as stored now.
    pub fn personal_of(
        &self,
        pairs: &[(Arc<str>, VideoId)],
    ) -> Result<HashMap<(Arc<str>, VideoId), Personal>, StoreError> {
        let conn = self.pool.get()?;
        let names: Vec<&str> = pairs.iter().map(|(n, _)| &**n).collect();
        let keys: Vec<i64> = pairs.iter().map(|(_, id)| key(*id)).collect();
        let rows = block(conn.query(
            "SELECT p.id, p.rec, p.name FROM vidserve_personal p \
             JOIN unnest($1::text[], $2::int8[]) AS w(name, id) ON p.name = w.name AND p.id = w.id",
            &[&names, &keys],
        ))?;
        let mut out: HashMap<(Arc<str>, VideoId), Personal> =
            pairs.iter().map(|(n, id)| ((n.clone(), *id), Personal::default())).collect();
        for ((name, id), p) in decode_rows(rows, "personal", |r| (r.get::<_, String>(2), id_of(r.get(0)))) {
            out.insert((Arc::from(name), id), p);
        }
        Ok(out)
    }

    /// A batch of edits in one transaction, announced to the others, in
    /// four round trips whatever its size: BEGIN; the lock and every read,
    /// pipelined; every write and announcement, pipelined; COMMIT. Each
    /// statement is sent typed (parsed, bound and run in one message).
    pub(super) fn apply_user(&self, edits: &[(Viewer, VideoId, Edit)]) -> Result<Applied, StoreError> {
        let mut conn = self.pool.get()?;
        let ids: Vec<i64> = edits.iter().map(|(_, id, _)| key(*id)).collect();
        let (names, keys): (Vec<&str>, Vec<i64>) = edits
            .iter()
            .filter_map(|(who, id, _)| match who {
                Viewer::Person(name) => Some((&**name, key(*id))),
                _ => None,
            })
            .unzip();
        block(async {
            let tx = conn.transaction().await?;
            let lock = [(&LOCK_USER as Param, Type::INT8)];
            let by_id = [(&ids as Param, Type::INT8_ARRAY)];
            let pairs = [(&names as Param, Type::TEXT_ARRAY), (&keys, Type::INT8_ARRAY)];
            let by_name = [(&names as Param, Type::TEXT_ARRAY)];
            // Run in order: the reads only once the lock is held.
            let (_, shared, personal, accounts) = tokio::try_join!(
                tx.execute_typed("SELECT pg_advisory_xact_lock($1)", &lock),
                tx.query_typed("SELECT id, rec FROM vidserve_user WHERE id = ANY($1)", &by_id),
                tx.query_typed(
                    "SELECT p.name, p.id, p.rec FROM vidserve_personal p \
                     JOIN unnest($1::text[], $2::int8[]) AS w(name, id) ON p.name = w.name AND p.id = w.id",
                    &pairs,
                ),
                tx.query_typed("SELECT name FROM vidserve_accounts WHERE name = ANY($1)", &by_name),
            )?;
            let mut batch = Batch::default();
            for row in shared {
                batch.shared.insert(id_of(row.get(0)), Some(row.get(1)));
            }
            for row in personal {
                batch.personal.insert((row.get(0), id_of(row.get(1))), Some(row.get(2)));
            }
            batch.accounts.extend(accounts.iter().map(|row| row.get(0)));
            let applied = match apply_edits(&mut batch, edits) {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let shared: Vec<String> = batch.put_shared.keys().map(|id| id.to_string()).collect();
            let personal: Vec<String> = batch.put_personal.keys().map(|(n, id)| format!("{n}/{id}")).collect();
            tokio::try_join!(
                write_batch(&tx, &batch),
                announce_items(&tx, &self.origin, "user", &shared),
                announce_items(&tx, &self.origin, "personal", &personal),
            )?;
            tx.commit().await?;
            Ok(Ok(applied))
        })?
    }

    pub(super) fn damaged_user_records(&self) -> Result<Vec<(VideoId, i64, Vec<u8>)>, StoreError> {
        let conn = self.pool.get()?;
        let rows = block(conn.query("SELECT id, at, rec FROM vidserve_user_damaged ORDER BY id, at", &[]))?;
        Ok(rows.iter().map(|r| (id_of(r.get(0)), r.get(1), r.get(2))).collect())
    }

    pub(super) fn was_imported(&self, key: &str) -> Result<bool, StoreError> {
        let conn = self.pool.get()?;
        let row = block(conn.query_one("SELECT EXISTS (SELECT 1 FROM vidserve_imported WHERE key = $1)", &[&key]))?;
        Ok(row.get(0))
    }

    pub(super) fn was_imported_prefix(&self, prefix: &str) -> Result<bool, StoreError> {
        let conn = self.pool.get()?;
        let sql = "SELECT EXISTS (SELECT 1 FROM vidserve_imported WHERE starts_with(key, $1))";
        Ok(block(conn.query_one(sql, &[&prefix]))?.get(0))
    }

    pub(super) fn mark_imported(&self, key: &str) -> Result<(), StoreError> {
        let conn = self.pool.get()?;
        let sql = "INSERT INTO vidserve_imported VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at";
        block(conn.execute(sql, &[&key, &now_ns()]))?;
        Ok(())
    }
}

/// A statement's parameter.
type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// Writes what a batch changed, one typed statement per kind, pipelined.
async fn write_batch(tx: &tokio_postgres::Transaction<'_>, batch: &Batch) -> Result<(), tokio_postgres::Error> {
    let aside = (
        batch.aside.iter().map(|a| key(a.0)).collect::<Vec<i64>>(),
        batch.aside.iter().map(|a| a.1).collect::<Vec<i64>>(),
        batch.aside.iter().map(|a| a.2.as_slice()).collect::<Vec<&[u8]>>(),
    );
    let shared = (
        batch.put_shared.keys().map(|id| key(*id)).collect::<Vec<i64>>(),
        batch.put_shared.values().map(Vec::as_slice).collect::<Vec<&[u8]>>(),
    );
    let (put, gone): (Vec<_>, Vec<_>) = batch.put_personal.iter().partition(|(_, rec)| rec.is_some());
    let gone = (
        gone.iter().map(|((n, _), _)| n.as_str()).collect::<Vec<&str>>(),
        gone.iter().map(|((_, id), _)| key(*id)).collect::<Vec<i64>>(),
    );
    let put = (
        put.iter().map(|((n, _), _)| n.as_str()).collect::<Vec<&str>>(),
        put.iter().map(|((_, id), _)| key(*id)).collect::<Vec<i64>>(),
        put.iter().map(|(_, r)| r.as_deref().unwrap_or_default()).collect::<Vec<&[u8]>>(),
    );
    let (ids, texts, bytes) = (Type::INT8_ARRAY, Type::TEXT_ARRAY, Type::BYTEA_ARRAY);
    let aside = [(&aside.0 as Param, ids.clone()), (&aside.1, ids.clone()), (&aside.2, bytes.clone())];
    let shared = [(&shared.0 as Param, ids.clone()), (&shared.1, bytes.clone())];
    let gone = [(&gone.0 as Param, texts.clone()), (&gone.1, ids.clone())];
    let put = [(&put.0 as Param, texts), (&put.1, ids), (&put.2, bytes)];
    // Statements with nothing to write cost nothing on the server (unnest
    // of empty arrays) and keep the pipeline one shape.
    tokio::try_join!(
        tx.execute_typed(
            "INSERT INTO vidserve_user_damaged SELECT * FROM unnest($1::int8[], $2::int8[], $3::bytea[]) \
             ON CONFLICT DO NOTHING",
            &aside,
        ),
        tx.execute_typed(
            "INSERT INTO vidserve_user SELECT * FROM unnest($1::int8[], $2::bytea[]) \
             ON CONFLICT (id) DO UPDATE SET rec = EXCLUDED.rec",
            &shared,
        ),
        tx.execute_typed(
            "DELETE FROM vidserve_personal p USING unnest($1::text[], $2::int8[]) AS w(name, id) \
             WHERE p.name = w.name AND p.id = w.id",
            &gone,
        ),
        tx.execute_typed(
            "INSERT INTO vidserve_personal SELECT * FROM unnest($1::text[], $2::int8[], $3::bytea[]) \
             ON CONFLICT (name, id) DO UPDATE SET rec = EXCLUDED.rec",
            &put,
        ),
    )?;
    Ok(())
}
