//! What is inside each video, kept in `data_dir/inside`: `{id}.json` holds
//! the description (chapters, audio and text tracks) with the file's size
//! and modification time when it was read; `{id}.{n}.vtt` holds the `n`th
//! text track as WebVTT, written the first time one is asked for (one pass
//! over the file extracts them all). A changed file is described again and
//! its old tracks removed. Every call here blocks (file I/O): run them on
//! the blocking pool. One extraction runs at a time (`gate`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::{describe, text_cues, to_vtt, Cue, Described};
use crate::catalog::{Located, VideoFile};
use crate::library::ids::VideoId;
use crate::library::probe::ProbeError;
use crate::library::roots::Roots;
use crate::media::MediaError;

/// Descriptions kept in memory; the map is emptied when it grows past this.
const MEMO: usize = 4096;

/// The file as it was when described.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime_ns: i64,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    stamp: Stamp,
    described: Described,
}

/// What `Inside::vtt` found.
pub enum Lookup {
    Vtt(String),
    NoSuchTrack,
    /// Not extracted yet (asked without `extract`).
    NotYet,
}

pub struct Inside {
    dir: PathBuf,
    memo: Mutex<HashMap<VideoId, (Stamp, Arc<Described>)>>,
    /// The videos with a description in the data dir (listed once, at the
    /// first `known`), so that asking about the others opens nothing.
    stored: Mutex<Option<std::collections::HashSet<VideoId>>>,
    /// Held while a file's text tracks are extracted (one at a time).
    extracting: Mutex<()>,
    /// Taken (asynchronously) before an extraction, so requests waiting
    /// for one hold no blocking thread.
    pub gate: tokio::sync::Semaphore,
}

impl Inside {
    /// Opens (creating) `data_dir/inside`.
    pub fn open(data_dir: &Path) -> std::io::Result<Inside> {
        let dir = data_dir.join("inside");
        std::fs::create_dir_all(&dir)?;
        Ok(Inside {
            dir,
            memo: Mutex::new(HashMap::new()),
            stored: Mutex::new(None),
            extracting: Mutex::new(()),
            gate: tokio::sync::Semaphore::new(1),
        })
    }

    /// What is inside `file` (video `id`): from memory, the data dir, or
    /// read from the headers. A file that cannot be read as a video has
    /// nothing inside; one that cannot be opened is an error.
    pub fn described(
        &self,
        id: VideoId,
        file: &VideoFile,
        located: &Located,
        roots: &Roots,
    ) -> Result<Arc<Described>, MediaError> {
        let stamp = Stamp { size: file.size, mtime_ns: file.mtime_ns };
        if let Some(d) = self.remembered(id, stamp) {
            return Ok(d);
        }
        let stored = self.stored_of(id);
        let described = match stored {
            Some(s) if s.stamp == stamp => Arc::new(s.described),
            old => {
                let opened = located.open(roots)?;
                let described = match describe(&opened.content) {
                    Ok(d) => d,
                    Err(ProbeError::Io(e)) => return Err(e.into()),
                    Err(e) => {
                        tracing::debug!(%id, error = %e, "nothing read from inside the file");
                        Described::default()
                    }
                };
                // The tracks extracted from the file as it was are stale.
                for n in 0..old.map_or(0, |o| o.described.text.len()) {
                    let _ = std::fs::remove_file(self.dir.join(format!("{id}.{n}.vtt")));
                }
                let stored = Stored { stamp, described };
                let json = self.dir.join(format!("{id}.json"));
                write(&json, &serde_json::to_vec(&stored).map_err(std::io::Error::other)?)?;
                if let Some(ids) = self.stored.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
                    ids.insert(id);
                }
                Arc::new(stored.described)
            }
        };
        self.remember(id, stamp, described.clone());
        Ok(described)
    }

    /// What is inside `file` when it was read before (from memory or the
    /// data dir), without opening the file itself.
    pub fn known(&self, id: VideoId, file: &VideoFile) -> Option<Arc<Described>> {
        let stamp = Stamp { size: file.size, mtime_ns: file.mtime_ns };
        if let Some(d) = self.remembered(id, stamp) {
            return Some(d);
        }
        {
            // Videos never described cost no file open.
            let mut stored = self.stored.lock().unwrap_or_else(|e| e.into_inner());
            if !stored.get_or_insert_with(|| self.list_stored()).contains(&id) {
                return None;
            }
        }
        let stored = self.stored_of(id).filter(|s| s.stamp == stamp)?;
        let described = Arc::new(stored.described);
        self.remember(id, stamp, described.clone());
        Some(described)
    }

    /// What memory holds of video `id` as it is at `stamp`.
    fn remembered(&self, id: VideoId, stamp: Stamp) -> Option<Arc<Described>> {
        self.memo.lock().ok()?.get(&id).filter(|(s, _)| *s == stamp).map(|(_, d)| d.clone())
    }

    fn remember(&self, id: VideoId, stamp: Stamp, described: Arc<Described>) {
        if let Ok(mut memo) = self.memo.lock() {
            if memo.len() >= MEMO {
                memo.clear();
            }
            memo.insert(id, (stamp, described));
        }
    }

    /// Video `id`'s description in the data dir, whatever file it was of.
    fn stored_of(&self, id: VideoId) -> Option<Stored> {
        let bytes = std::fs::read(self.dir.join(format!("{id}.json"))).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The ids of the descriptions in the data dir (`{id}.json`).
    fn list_stored(&self) -> std::collections::HashSet<VideoId> {
        let Ok(dir) = std::fs::read_dir(&self.dir) else { return Default::default() };
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".json")?.parse().ok()).collect()
    }

    /// The `n`th text track of `file` as WebVTT. Without `extract`, only
    /// if it was extracted before; with it, extracting all of the file's
    /// text tracks when they were not (one file at a time).
    pub fn vtt(
        &self,
        id: VideoId,
        file: &VideoFile,
        located: &Located,
        roots: &Roots,
        n: usize,
        extract: bool,
    ) -> Result<Lookup, MediaError> {
        let described = self.described(id, file, located, roots)?;
        let Some(track) = described.text.get(n) else { return Ok(Lookup::NoSuchTrack) };
        let path = self.dir.join(format!("{id}.{n}.vtt"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(Lookup::Vtt(text));
        }
        if !extract {
            return Ok(Lookup::NotYet);
        }
        let _one = self.turn();
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok(Lookup::Vtt(text)); // made while this call waited
        }
        let opened = located.open(roots)?;
        let started = std::time::Instant::now();
        let cues = match text_cues(&opened.content, &described) {
            Ok(cues) => cues,
            Err(ProbeError::Io(e)) => return Err(e.into()),
            // A damaged file gives empty tracks, kept like any other: the
            // pass is not made again for every request.
            Err(e) => {
                tracing::debug!(%id, error = %e, "the text tracks cannot be read");
                vec![Vec::new(); described.text.len()]
            }
        };
        let mut kept = self.keep_cues(id, &described, &cues)?;
        tracing::info!(%id, tracks = cues.len(), ms = started.elapsed().as_millis() as u64, "text tracks extracted");
        let wanted = (n < kept.len()).then(|| kept.swap_remove(n));
        Ok(Lookup::Vtt(wanted.unwrap_or_else(|| to_vtt(track.codec, &[]))))
    }

    /// Keeps `cues` (one list per text track of `described`) as video
    /// `id`'s extracted tracks; returns them as WebVTT.
    pub fn keep_cues(&self, id: VideoId, described: &Described, cues: &[Vec<Cue>]) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        for (i, (t, c)) in described.text.iter().zip(cues).enumerate() {
            let vtt = to_vtt(t.codec, c);
            write(&self.dir.join(format!("{id}.{i}.vtt")), vtt.as_bytes())?;
            out.push(vtt);
        }
        Ok(out)
    }

    /// What is inside `file` when it has text tracks not extracted yet
    /// (a whole read of the file would be wanted for them). Blocking.
    pub fn text_to_extract(
        &self,
        id: VideoId,
        file: &VideoFile,
        located: &Located,
        roots: &Roots,
    ) -> Option<Arc<Described>> {
        let described = self.described(id, file, located, roots).ok()?;
        let extracted = self.dir.join(format!("{id}.0.vtt")).exists();
        (!described.text.is_empty() && !extracted).then_some(described)
    }

    /// The extraction turn: held across a walk that extracts text tracks,
    /// so a subtitle asked for meanwhile waits for it instead of reading
    /// the file again.
    pub fn turn(&self) -> std::sync::MutexGuard<'_, ()> {
        self.extracting.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inside {
    /// Removes what is kept for videos no longer in the library (and
    /// temporary files a crash left). Blocking: reads the folder.
    pub fn keep_only(&self, known: &std::collections::HashSet<VideoId>) -> usize {
        if let Ok(mut memo) = self.memo.lock() {
            memo.retain(|id, _| known.contains(id));
        }
        forget_others(&self.dir, known, '.', ".tmp")
    }
}

/// Removes the files of `dir` named after a video id (up to `sep`) not in
/// `known`, and files ending in `stale` older than an hour; how many.
pub(crate) fn forget_others(dir: &Path, known: &std::collections::HashSet<VideoId>, sep: char, stale: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let gone = match name.split(sep).next().and_then(|id| id.parse::<VideoId>().ok()) {
            _ if name.ends_with(stale) => e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > std::time::Duration::from_secs(3600))),
            Some(id) => !known.contains(&id),
            None => false,
        };
        if gone && std::fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Writes through a temporary file and a rename, so readers never see half a file.
pub(crate) fn write(path: &Path, body: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("{:016x}.tmp", fastrand::u64(..)));
    std::fs::write(&tmp, body)?;
    std::fs::rename(&tmp, path)
}
