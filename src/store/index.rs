//! The scan index (`vidserve.redb`): every file seen and every video's
//! facts. Rebuildable: a damaged index file can be moved aside and a scan
//! makes it again; it never holds anything people entered.

use redb::{ReadableDatabase, ReadableTable};

use super::tables::{FILES, VIDEOS};
use super::{encode, read_by_id, Index, IndexChanges, Store, StoreError};

impl Store {
    /// Reads the whole scan index. Records that fail to decode are skipped
    /// with a warning: they are rebuilt by the next scan.
    pub fn load_index(&self) -> Result<Index, StoreError> {
        let txn = self.index.begin_read()?;
        let mut index = Index::default();
        for row in txn.open_table(FILES)?.iter()? {
            let (k, v) = row?;
            match serde_json::from_slice(v.value()) {
                Ok(rec) => {
                    index.files.insert(k.value().to_vec(), rec);
                }
                Err(e) => tracing::warn!("skipping an unreadable file record: {e}"),
            }
        }
        index.videos = read_by_id(&txn, VIDEOS, "video")?;
        Ok(index)
    }

    /// Writes one scan's changes in one durable transaction.
    pub fn apply(&self, changes: &IndexChanges) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let txn = self.index.begin_write()?;
        {
            let mut files = txn.open_table(FILES)?;
            for (k, rec) in &changes.put_files {
                files.insert(k.as_slice(), encode(rec).as_slice())?;
            }
            for k in &changes.delete_files {
                files.remove(k.as_slice())?;
            }
            let mut videos = txn.open_table(VIDEOS)?;
            for (id, rec) in &changes.put_videos {
                videos.insert(id.0, encode(rec).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }
}
