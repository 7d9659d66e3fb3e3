//! Automatic backups of what people entered: a JSON snapshot of all user
//! data (the export document, `import::export`) in `DATA/backups`, written
//! when the newest is a day old (checked hourly) and at shutdown; the last
//! `--keep-backups` are kept. `vidserve import DATA/backups/FILE` restores
//! one. Runs on its own thread, never on the async workers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::{App, Notice};
use crate::catalog::Catalog;
use crate::store::Store;

pub const BACKUP_DIR: &str = "backups";
const PREFIX: &str = "userdata-";
const EVERY: Duration = Duration::from_secs(24 * 3600);
const CHECK: Duration = Duration::from_secs(3600);

pub struct Backups {
    dir: PathBuf,
    keep: usize,
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Backups {
    pub(super) fn new(data_dir: &Path, keep: usize) -> Backups {
        Backups { dir: data_dir.join(BACKUP_DIR), keep, stop: Mutex::new(None), thread: Mutex::new(None) }
    }

    /// Starts the daily check (nothing when backups are off): when a
    /// backup is due, the app is told (`Notice::BackupDue`).
    pub(super) fn start(&self, notices: mpsc::Sender<Notice>) -> std::io::Result<()> {
        if self.keep == 0 {
            return Ok(());
        }
        let (tx, rx) = mpsc::channel::<()>();
        let dir = self.dir.clone();
        let thread = std::thread::Builder::new().name("vidserve-backup".into()).spawn(move || loop {
            match rx.recv_timeout(CHECK) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            if newest_age(&dir).is_none_or(|age| age >= EVERY) && notices.send(Notice::BackupDue).is_err() {
                return;
            }
        })?;
        if let (Ok(mut s), Ok(mut t)) = (self.stop.lock(), self.thread.lock()) {
            *s = Some(tx);
            *t = Some(thread);
        }
        Ok(())
    }

    /// Stops the daily check. Blocking.
    pub(super) fn stop(&self) {
        if let Ok(mut s) = self.stop.lock() {
            s.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }

    /// The backups present, oldest first.
    pub fn list(&self) -> Vec<PathBuf> {
        list_in(&self.dir)
    }

    /// Writes a backup now (when there is any user data, and backups are
    /// on) and removes the oldest beyond `keep`. Errors are logged: a
    /// failed backup must not stop the server.
    pub fn write_now(&self, app: &App) {
        if self.keep == 0 {
            return;
        }
        let owner = app.people.owner();
        let lists = app.playlists.all();
        let doc = app.user_data.data.with_all(|m, p| {
            (!m.is_empty() || !p.is_empty() || !lists.is_empty())
                .then(|| crate::import::export::document(m, p, owner.as_deref(), &lists, &app.library.catalog()))
        });
        let Some(doc) = doc else { return };
        match self.write(&doc) {
            Ok(path) => tracing::info!(file = %path.display(), "user data backed up"),
            Err(e) => tracing::error!("backing up user data to {} failed: {e}", self.dir.display()),
        }
    }
}

/// Backs up the user data kept in `store` now, into `data_dir`'s backups,
/// without a running server (before a command removes data). With no
/// catalog at hand, videos are named by id only (`vidserve import` restores
/// by id). Nothing is rotated away.
pub fn backup_store(data_dir: &Path, store: &dyn Store) -> std::io::Result<PathBuf> {
    let users = store.load_user().map_err(std::io::Error::other)?;
    let personal = store.load_personal().map_err(std::io::Error::other)?;
    let owner = store.load_people().map_err(std::io::Error::other)?.owner;
    let lists = store.load_playlists().map_err(std::io::Error::other)?;
    let doc = crate::import::export::document(&users, &personal, owner.as_deref(), &lists, &Catalog::default());
    Backups::new(data_dir, usize::MAX).write(&doc)
}

impl Backups {
    fn write(&self, doc: &serde_json::Value) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let stamp = utc_stamp(SystemTime::now());
        let mut path = self.dir.join(format!("{PREFIX}{stamp}.json"));
        for n in 1.. {
            if !path.exists() {
                break;
            }
            path = self.dir.join(format!("{PREFIX}{stamp}-{n}.json"));
        }
        let tmp = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(serde_json::to_string_pretty(doc)?.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        let all = self.list();
        for old in all.iter().take(all.len().saturating_sub(self.keep)) {
            std::fs::remove_file(old)?;
        }
        Ok(path)
    }
}

/// The backups in `dir`, oldest first.
fn list_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    files
}

/// How old the newest backup in `dir` is.
fn newest_age(dir: &Path) -> Option<Duration> {
    let newest = list_in(dir).pop()?;
    let modified = std::fs::metadata(newest).ok()?.modified().ok()?;
    Some(SystemTime::now().duration_since(modified).unwrap_or_default())
}

/// `20261128T212400Z` for a time (UTC), so that names sort by time.
fn utc_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_sort_by_time() {
        let at = |s: u64| utc_stamp(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(1_795_900_000), "20261128T210640Z");
        assert!(at(1_795_900_000) < at(1_795_900_001));
    }
}
