//! The scan index in PostgreSQL: `vidserve_files` (path bytes -> postcard
//! `FileRecord`), `vidserve_videos` (id -> postcard `VideoRecord`) and
//! `vidserve_roots`. Written by the scanning server only; a commit is
//! announced (`index`) so the others rebuild their catalog from it.

use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use futures_util::TryStreamExt;

use super::{announce, block, id_of, key, Conn, PgStore};
use crate::library::ids::VideoId;
use crate::store::records::{decode, decode_video, encode, encode_video, FileRecord, VideoRecord};
use crate::store::{Index, IndexChanges, IndexRead, StoreError};

/// Rows sent in one statement of a large write.
const CHUNK: usize = 10_000;

/// A consistent view of the index: one read-only transaction at the
/// repeatable-read level, on a connection of its own until dropped.
pub(super) struct Reader {
    conn: Option<Conn>,
}

impl Reader {
    pub(super) fn new(conn: Conn) -> Result<Reader, StoreError> {
        block(conn.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))?;
        Ok(Reader { conn: Some(conn) })
    }

    fn conn(&self) -> &Conn {
        self.conn.as_ref().expect("the reader's connection is there until dropped")
    }

    /// Calls `each` with every row of `sql` (two columns), streamed.
    fn each_row(&self, sql: &str, each: &mut dyn FnMut(&tokio_postgres::Row)) -> Result<(), StoreError> {
        let client = self.conn();
        block(async {
            let rows = client.query_raw(sql, std::iter::empty::<i64>()).await?;
            let mut rows = std::pin::pin!(rows);
            while let Some(row) = rows.try_next().await? {
                each(&row);
            }
            Ok(())
        })
    }

    fn count(&self, table: &str) -> Result<usize, StoreError> {
        let row = block(self.conn().query_one(&format!("SELECT count(*) FROM {table}"), &[]))?;
        Ok(row.get::<_, i64>(0) as usize)
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if block(conn.batch_execute("ROLLBACK")).is_err() {
                conn.discard();
            }
        }
    }
}

fn warn_damaged(n: usize, what: &str) {
    if n > 0 {
        tracing::warn!("skipped {n} unreadable {what} records; the next scan rebuilds them");
    }
}

impl IndexRead for Reader {
    fn for_each_file(&self, each: &mut dyn FnMut(&[u8], FileRecord)) -> Result<(), StoreError> {
        let mut damaged = 0;
        self.each_row("SELECT path, rec FROM vidserve_files ORDER BY path", &mut |row| match decode(
            row.get::<_, &[u8]>(1),
        ) {
            Ok(rec) => each(row.get::<_, &[u8]>(0), rec),
            Err(_) => damaged += 1,
        })?;
        warn_damaged(damaged, "file");
        Ok(())
    }

    fn for_each_video(&self, each: &mut dyn FnMut(VideoId, VideoRecord)) -> Result<(), StoreError> {
        let mut damaged = 0;
        // Ascending as unsigned numbers: negative keys are the upper half.
        let sql = "SELECT id, rec FROM vidserve_videos ORDER BY id < 0, id";
        self.each_row(sql, &mut |row| match decode_video(row.get::<_, &[u8]>(1)) {
            Ok(rec) => each(id_of(row.get(0)), rec),
            Err(_) => damaged += 1,
        })?;
        warn_damaged(damaged, "video");
        Ok(())
    }

    fn file_count(&self) -> Result<usize, StoreError> {
        self.count("vidserve_files")
    }

    fn video_count(&self) -> Result<usize, StoreError> {
        self.count("vidserve_videos")
    }
}

impl PgStore {
    pub(super) fn index_has_files(&self) -> Result<bool, StoreError> {
        let conn = self.pool.get()?;
        let row = block(conn.query_one("SELECT EXISTS (SELECT 1 FROM vidserve_files)", &[]))?;
        Ok(row.get(0))
    }

    pub(super) fn load_index(&self) -> Result<Index, StoreError> {
        let reader = Reader::new(self.pool.get()?)?;
        let mut index = Index::default();
        reader.for_each_file(&mut |k, rec| {
            index.files.insert(k.to_vec(), rec);
        })?;
        reader.each_row("SELECT id, 0 FROM vidserve_videos", &mut |row| {
            index.known.insert(id_of(row.get(0)));
        })?;
        Ok(index)
    }

    /// One scan's changes in one transaction, announced to the others.
    pub(super) fn apply_index(&self, changes: &IndexChanges) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut conn = self.pool.get()?;
        block(async {
            let tx = conn.transaction().await?;
            for chunk in changes.delete_files.chunks(CHUNK) {
                tx.execute("DELETE FROM vidserve_files WHERE path = ANY($1)", &[&chunk]).await?;
            }
            for chunk in changes.put_files.chunks(CHUNK) {
                let paths: Vec<&[u8]> = chunk.iter().map(|(p, _)| p.as_slice()).collect();
                let recs: Vec<Vec<u8>> = chunk.iter().map(|(_, r)| encode(r)).collect();
                tx.execute(
                    "INSERT INTO vidserve_files SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                     ON CONFLICT (path) DO UPDATE SET rec = EXCLUDED.rec",
                    &[&paths, &recs],
                )
                .await?;
            }
            let videos: Vec<_> = changes.put_videos.iter().collect();
            for chunk in videos.chunks(CHUNK) {
                let ids: Vec<i64> = chunk.iter().map(|(id, _)| key(**id)).collect();
                let recs: Vec<Vec<u8>> = chunk.iter().map(|(_, r)| encode_video(r)).collect();
                tx.execute(
                    "INSERT INTO vidserve_videos SELECT * FROM unnest($1::int8[], $2::bytea[]) \
                     ON CONFLICT (id) DO UPDATE SET rec = EXCLUDED.rec",
                    &[&ids, &recs],
                )
                .await?;
            }
            if let Some(roots) = &changes.roots {
                tx.execute("DELETE FROM vidserve_roots", &[]).await?;
                for (n, path) in roots.iter().enumerate() {
                    tx.execute(
                        "INSERT INTO vidserve_roots VALUES ($1, $2)",
                        &[&(n as i32), &path.as_os_str().as_bytes()],
                    )
                    .await?;
                }
            }
            announce(&tx, &self.origin, "index").await?;
            tx.commit().await
        })
    }

    pub(super) fn roots(&self) -> Result<Vec<PathBuf>, StoreError> {
        let conn = self.pool.get()?;
        let rows = block(conn.query("SELECT path FROM vidserve_roots ORDER BY pos", &[]))?;
        Ok(rows.iter().map(|r| PathBuf::from(std::ffi::OsString::from_vec(r.get::<_, Vec<u8>>(0)))).collect())
    }
}
