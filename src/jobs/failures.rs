//! Videos whose thumbnail could not be made, remembered across restarts
//! (one id a line in `thumbs/failed.txt`): a library of files ffmpeg cannot
//! read is not tried again at every start. Forgotten by the admin page's
//! regenerate. A failure is written only when ffmpeg was there to try: one
//! without it may succeed once ffmpeg is installed.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::library::ids::VideoId;

pub struct Failures {
    file: PathBuf,
    ids: Mutex<HashSet<VideoId>>,
}

impl Failures {
    /// Reads `file` if it is there; lines that are not ids are skipped.
    pub fn open(file: PathBuf) -> Failures {
        let ids = match std::fs::read_to_string(&file) {
            Ok(text) => text.lines().filter_map(|l| l.trim().parse().ok()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
            Err(e) => {
                tracing::warn!(file = %file.display(), "thumbnail failures not read: {e}");
                HashSet::new()
            }
        };
        Failures { file, ids: Mutex::new(ids) }
    }

    pub fn contains(&self, id: VideoId) -> bool {
        self.lock().contains(&id)
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Remembers a failure; on disk too when `lasting`.
    pub fn note(&self, id: VideoId, lasting: bool) {
        let mut ids = self.lock();
        if ids.insert(id) && lasting {
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.file)
                .and_then(|mut f| writeln!(f, "{id}"));
            if let Err(e) = appended {
                tracing::debug!(file = %self.file.display(), "thumbnail failure not written: {e}");
            }
        }
    }

    /// Forgets every failure, in memory and on disk.
    pub fn forget(&self) {
        let mut ids = self.lock();
        ids.clear();
        if let Err(e) = std::fs::remove_file(&self.file) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %self.file.display(), "thumbnail failures not forgotten: {e}");
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<VideoId>> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lasting_failures_outlive_a_restart_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("failed.txt");
        let f = Failures::open(file.clone());
        f.note(VideoId(1), true);
        f.note(VideoId(1), true);
        f.note(VideoId(2), false);
        assert!(f.contains(VideoId(1)) && f.contains(VideoId(2)));
        std::fs::OpenOptions::new().append(true).open(&file).unwrap().write_all(b"not an id\n").unwrap();
        let again = Failures::open(file.clone());
        assert!(again.contains(VideoId(1)), "written");
        assert!(!again.contains(VideoId(2)), "only in memory");
        assert_eq!(again.len(), 1);
        again.forget();
        assert_eq!(again.len(), 0);
        assert_eq!(Failures::open(file).len(), 0);
    }
}
