//! The scan index (`vidserve.redb`): every file seen and every video's
//! facts. Rebuildable: a damaged index file can be moved aside and a scan
//! makes it again; it never holds anything people entered.

use redb::{ReadableTable, ReadableTableMetadata};

use super::tables::{FILES, FILES_V1, ROOTS, VIDEOS, VIDEOS_V1};
use super::RedbStore;
use crate::library::ids::VideoId;
use crate::store::records::{decode, decode_video, encode, encode_video, FileRecord, VideoRecord};
use crate::store::{Index, IndexChanges, IndexRead, StoreError};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// A consistent view of the stored index, read row by row (a catalog is
/// built from it without a second copy of every record in memory).
pub struct RedbIndexReader {
    txn: redb::ReadTransaction,
}

impl IndexRead for RedbIndexReader {
    /// Every file record, by absolute path in byte order. Records that fail
    /// to decode are skipped with a warning: the next scan rebuilds them.
    fn for_each_file(&self, each: &mut dyn FnMut(&[u8], FileRecord)) -> Result<(), StoreError> {
        let mut damaged = 0usize;
        for row in self.txn.open_table(FILES)?.iter()? {
            let (k, v) = row?;
            match decode(v.value()) {
                Ok(rec) => each(k.value(), rec),
                Err(_) => damaged += 1,
            }
        }
        warn_damaged(damaged, "file");
        Ok(())
    }

    /// How many file records there are (to size what is built from them).
    fn file_count(&self) -> Result<usize, StoreError> {
        Ok(self.txn.open_table(FILES)?.len()? as usize)
    }

    /// How many video records there are.
    fn video_count(&self) -> Result<usize, StoreError> {
        Ok(self.txn.open_table(VIDEOS)?.len()? as usize)
    }

    /// Every video record, in ascending id order.
    fn for_each_video(&self, each: &mut dyn FnMut(VideoId, VideoRecord)) -> Result<(), StoreError> {
        let mut damaged = 0usize;
        for row in self.txn.open_table(VIDEOS)?.iter()? {
            let (k, v) = row?;
            match decode_video(v.value()) {
                Ok(rec) => each(VideoId(k.value()), rec),
                Err(_) => damaged += 1,
            }
        }
        warn_damaged(damaged, "video");
        Ok(())
    }
}

fn warn_damaged(n: usize, what: &str) {
    if n > 0 {
        tracing::warn!("skipped {n} unreadable {what} records; the next scan rebuilds them");
    }
}

impl RedbStore {
    /// A read view of the index.
    pub(super) fn index_reader(&self) -> Result<RedbIndexReader, StoreError> {
        Ok(RedbIndexReader { txn: self.index.begin_read()? })
    }

    /// Whether the index knows any file (a restart can serve at once).
    pub(super) fn index_has_files(&self) -> Result<bool, StoreError> {
        Ok(!self.index.begin_read()?.open_table(FILES)?.is_empty()?)
    }

    /// What a scan compares the disk with: every file record by path, and
    /// the ids of the videos already probed.
    pub(super) fn load_index(&self) -> Result<Index, StoreError> {
        let reader = self.index_reader()?;
        let mut index = Index::default();
        reader.for_each_file(&mut |k, rec| {
            index.files.insert(k.to_vec(), rec);
        })?;
        for row in reader.txn.open_table(VIDEOS)?.iter()? {
            index.known.insert(VideoId(row?.0.value()));
        }
        Ok(index)
    }

    /// Writes one scan's changes in one durable transaction.
    pub(super) fn apply(&self, changes: &IndexChanges) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        // In key order: each insert lands next to the last one, on pages
        // already in memory, instead of anywhere in the tree.
        let mut put_files: Vec<_> = changes.put_files.iter().collect();
        put_files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut put_videos: Vec<_> = changes.put_videos.iter().collect();
        put_videos.sort_unstable_by_key(|(id, _)| **id);
        let txn = self.index.begin_write()?;
        {
            let mut files = txn.open_table(FILES)?;
            for (k, rec) in put_files {
                files.insert(k.as_slice(), encode(rec).as_slice())?;
            }
            for k in &changes.delete_files {
                files.remove(k.as_slice())?;
            }
            let mut videos = txn.open_table(VIDEOS)?;
            for (id, rec) in put_videos {
                videos.insert(id.0, encode_video(rec).as_slice())?;
            }
            if let Some(roots) = &changes.roots {
                let mut table = txn.open_table(ROOTS)?;
                table.retain(|_, _| false)?;
                for (n, path) in roots.iter().enumerate() {
                    table.insert(n as u32, path.as_os_str().as_bytes())?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// The folders stored by the last scan, in order.
    pub(super) fn roots(&self) -> Result<Vec<PathBuf>, StoreError> {
        let txn = self.index.begin_read()?;
        let table = match txn.open_table(ROOTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for row in table.iter()? {
            let (_, path) = row?;
            out.push(PathBuf::from(std::ffi::OsStr::from_bytes(path.value())));
        }
        Ok(out)
    }

    /// Schema 1 to 2, in the caller's transaction: the JSON records of
    /// `files_v1` and `videos_v1` are written again as postcard and the old
    /// tables dropped. A record that does not decode is left out (the next
    /// scan finds its file again); ids and first-seen times are kept.
    pub(super) fn migrate_index_records(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
        let dropped =
            rewrite::<&[u8], FileRecord>(txn, FILES_V1, FILES)? + rewrite::<u64, VideoRecord>(txn, VIDEOS_V1, VIDEOS)?;
        if dropped > 0 {
            tracing::warn!(
                "{dropped} unreadable index records left out of the new format; the next scan rebuilds them"
            );
        }
        Ok(())
    }
}

/// Copies `old`'s JSON records into `new` as postcard and drops `old`;
/// returns how many did not decode (left out).
fn rewrite<K: redb::Key + 'static, T: serde::Serialize + serde::de::DeserializeOwned>(
    txn: &redb::WriteTransaction,
    old: redb::TableDefinition<K, &[u8]>,
    new: redb::TableDefinition<K, &[u8]>,
) -> Result<usize, StoreError> {
    let mut dropped = 0;
    {
        let from = txn.open_table(old)?;
        let mut to = txn.open_table(new)?;
        for row in from.iter()? {
            let (k, v) = row?;
            match serde_json::from_slice::<T>(v.value()) {
                Ok(rec) => {
                    to.insert(k.value(), encode(&rec).as_slice())?;
                }
                Err(_) => dropped += 1,
            }
        }
    }
    txn.delete_table(old)?;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use redb::{Database, ReadableDatabase};

    use super::*;
    use crate::store::local::tables::META;
    use crate::store::DB_FILE;

    /// An index written by schema 1 (JSON records) is rewritten once, with
    /// its ids and first-seen times, and a damaged record is left out.
    #[test]
    fn a_schema_1_index_is_migrated_without_losing_records() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join(DB_FILE)).unwrap();
            let txn = db.begin_write().unwrap();
            {
                txn.open_table(META).unwrap().insert("schema_version", 1).unwrap();
                let mut files = txn.open_table(FILES_V1).unwrap();
                files.insert(b"/v/a.mp4".as_slice(), br#"{"id":7,"size":10,"mtime_ns":5}"#.as_slice()).unwrap();
                files
                    .insert(b"/v/b.mp4".as_slice(), br#"{"id":8,"size":11,"mtime_ns":6,"dev":1,"ino":2}"#.as_slice())
                    .unwrap();
                files.insert(b"/v/bad.mp4".as_slice(), b"{not json".as_slice()).unwrap();
                // Many records whose JSON is long: the file shrinks after.
                let long = format!(r#"{{"id":9,"size":12,"mtime_ns":7,"pad":"{}"}}"#, "x".repeat(200));
                for n in 0..5000 {
                    files.insert(format!("/w/{n:05}.mp4").as_bytes(), long.as_bytes()).unwrap();
                }
                let mut videos = txn.open_table(VIDEOS_V1).unwrap();
                let info = r#"{"container":"mp4","duration_ms":1000,"width":null,"height":null,"video_codec":"h264","audio_codec":null,"bitrate":null,"browser_playable":true,"index_at_end":false}"#;
                videos
                    .insert(7, format!(r#"{{"size":10,"added":123,"info":{info},"broken":null}}"#).as_bytes())
                    .unwrap();
                videos.insert(8, br#"{"size":11,"added":456,"info":null,"broken":"empty file"}"#.as_slice()).unwrap();
            }
            txn.commit().unwrap();
        }
        let size = || std::fs::metadata(dir.path().join(DB_FILE)).unwrap().len();
        let before = size();
        for _ in 0..2 {
            let store = RedbStore::open(dir.path()).unwrap();
            let mut files = Vec::new();
            let reader = store.index_reader().unwrap();
            reader.for_each_file(&mut |k, rec| files.push((k.to_vec(), rec))).unwrap();
            assert_eq!(files.len(), 5002);
            assert_eq!(
                files[1],
                (b"/v/b.mp4".to_vec(), FileRecord { id: VideoId(8), size: 11, mtime_ns: 6, dev: 1, ino: 2 })
            );
            let mut videos = Vec::new();
            reader.for_each_video(&mut |id, rec| videos.push((id, rec))).unwrap();
            assert_eq!(videos[0].1.added, 123);
            assert_eq!(videos[0].1.info.as_ref().and_then(|i| i.duration_ms), Some(1000));
            assert_eq!((videos[1].0, videos[1].1.broken.as_deref()), (VideoId(8), Some("empty file")));
            assert_eq!(store.load_index().unwrap().known.len(), 2);
        }
        assert!(size() < before / 2, "compacted: {} bytes, {before} before", size());
        let db = Database::open(dir.path().join(DB_FILE)).unwrap();
        let txn = db.begin_read().unwrap();
        assert!(txn.open_table(FILES_V1).is_err(), "the old tables are gone");
        assert_eq!(txn.open_table(META).unwrap().get("schema_version").unwrap().unwrap().value(), 2);
    }

    /// Pages freed by rewrites are given back once they are most of the
    /// file; a file mostly in use is left alone.
    #[test]
    fn a_mostly_free_index_is_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let size = || std::fs::metadata(dir.path().join(DB_FILE)).unwrap().len();
        let mut store = RedbStore::open(dir.path()).unwrap();
        let rec = FileRecord { id: VideoId(1), size: 1, mtime_ns: 0, dev: 0, ino: 0 };
        let paths: Vec<Vec<u8>> =
            (0..20_000).map(|n| format!("/v/{n:06} {}.mp4", "x".repeat(100)).into_bytes()).collect();
        let put =
            IndexChanges { put_files: paths.iter().map(|p| (p.clone(), rec.clone())).collect(), ..Default::default() };
        store.apply(&put).unwrap();
        assert!(!store.compact_if_mostly_free(0).unwrap(), "all in use");
        // Every other record goes: free pages spread all over the file.
        let gone =
            IndexChanges { delete_files: paths.iter().skip(1).step_by(2).cloned().collect(), ..Default::default() };
        store.apply(&gone).unwrap();
        let keep =
            IndexChanges { delete_files: paths.iter().step_by(2).skip(1000).cloned().collect(), ..Default::default() };
        store.apply(&keep).unwrap();
        let before = size();
        assert!(store.compact_if_mostly_free(0).unwrap());
        assert!(size() < before / 2, "compacted: {} bytes, {before} before", size());
        assert_eq!(store.index_reader().unwrap().file_count().unwrap(), 1000);
        assert!(!store.compact_if_mostly_free(0).unwrap(), "once is enough");
    }
}
