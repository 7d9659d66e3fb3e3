//! Automatic backups of what people entered: a JSON snapshot of all user
//! data (the export document, `import::export`) in `DATA/backups`, written
//! when the newest is a day old (checked hourly) and at shutdown, and only
//! when it differs from the newest (restarts push nothing out). Kept, with
//! `--keep-backups N`: the last N of the last day, the newest of each of
//! the last N days and of each of the last N weeks. `vidserve import
//! DATA/backups/FILE` restores one. Runs on its own thread, never on the
//! async workers.

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
        let owner = app.people().owner();
        let lists = app.playlists().all();
        let doc = app.user_data().data.with_all(|m, p| {
            (!m.is_empty() || !p.is_empty() || !lists.is_empty())
                .then(|| crate::import::export::document(m, p, owner.as_deref(), &lists, &app.library().catalog()))
        });
        let Some(doc) = doc else { return };
        match self.write(&doc) {
            Ok(Some(path)) => tracing::info!(file = %path.display(), "user data backed up"),
            Ok(None) => tracing::debug!("user data unchanged since the newest backup"),
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
    let backups = Backups::new(data_dir, usize::MAX);
    Ok(match backups.write(&doc)? {
        Some(path) => path,
        // The same as the newest: that one holds it.
        None => list_in(&backups.dir).pop().unwrap_or_default(),
    })
}

impl Backups {
    /// Writes `doc` as a new backup unless the newest holds the same
    /// (`None` then), and lets go of those `keep` no longer keeps.
    fn write(&self, doc: &serde_json::Value) -> std::io::Result<Option<PathBuf>> {
        let mut text = serde_json::to_string_pretty(doc)?;
        text.push('\n');
        if list_in(&self.dir).pop().and_then(|newest| std::fs::read(newest).ok()).as_deref() == Some(text.as_bytes()) {
            return Ok(None);
        }
        std::fs::create_dir_all(&self.dir)?;
        let now = SystemTime::now();
        let stamp = utc_stamp(now);
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
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()?;
        let all = self.list();
        let kept = kept(&all, self.keep, days_since_epoch(now));
        for (i, old) in all.iter().enumerate() {
            if !kept.contains(&i) {
                std::fs::remove_file(old)?;
            }
        }
        Ok(Some(path))
    }
}

fn days_since_epoch(t: SystemTime) -> i64 {
    (t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs()) / 86_400) as i64
}

/// Which of `files` (oldest first) to keep, on day `today` (days since the
/// epoch): the newest `keep` of the last day, and the newest of each of the
/// last `keep` days and of each of the last `keep` weeks that have one.
/// A file whose name gives no date is kept.
fn kept(files: &[PathBuf], keep: usize, today: i64) -> std::collections::HashSet<usize> {
    let mut out = std::collections::HashSet::new();
    let (mut recent, mut days, mut weeks) = (0, Vec::new(), Vec::new());
    for (i, file) in files.iter().enumerate().rev() {
        let Some(day) = day_of(file) else {
            out.insert(i);
            continue;
        };
        if today - day <= 1 && recent < keep {
            recent += 1;
            out.insert(i);
        }
        if !days.contains(&day) && days.len() < keep {
            days.push(day);
            out.insert(i);
        }
        let week = day.div_euclid(7);
        if !weeks.contains(&week) && weeks.len() < keep {
            weeks.push(week);
            out.insert(i);
        }
    }
    out
}

/// The day (since the epoch) in a backup's name (`userdata-20261128T…`).
fn day_of(file: &Path) -> Option<i64> {
    let name = file.file_name()?.to_str()?.strip_prefix(PREFIX)?;
    let digits = name.get(..8)?;
    let (y, m, d): (i64, i64, i64) = (digits[..4].parse().ok()?, digits[4..6].parse().ok()?, digits[6..].parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Days from a civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
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
    fn dailies_and_weeklies_are_kept() {
        let day = |s: u64| {
            day_of(Path::new(&format!("{PREFIX}{}.json", utc_stamp(SystemTime::UNIX_EPOCH + Duration::from_secs(s)))))
                .unwrap()
        };
        assert_eq!(day(0), 0);
        assert_eq!(day(951_782_400), 951_782_400 / 86_400);
        assert_eq!(day(1_795_900_000), 1_795_900_000 / 86_400);
        // Four backups a day for 60 days, oldest first; today is day 60.
        let files: Vec<PathBuf> = (0..60u64)
            .flat_map(|d| (0..4u64).map(move |h| d * 86_400 + h * 3600 + 1_700_000_000 / 86_400 * 86_400))
            .map(|s| {
                PathBuf::from(format!("{PREFIX}{}.json", utc_stamp(SystemTime::UNIX_EPOCH + Duration::from_secs(s))))
            })
            .collect();
        let today = day(1_700_000_000) + 60;
        let kept = kept(&files, 3, today);
        let n = files.len();
        // The last day's 3 newest.
        assert!((n - 3..n).all(|i| kept.contains(&i)));
        // The newest of each of the last 3 days and of the last 3 weeks.
        let newest_where = |f: &dyn Fn(i64) -> bool| (0..n).rev().find(|&i| f(day_of(&files[i]).unwrap())).unwrap();
        for back in 0..3 {
            let d = today - 1 - back;
            assert!(kept.contains(&newest_where(&|x| x == d)), "day {d}");
            let w = (today - 1).div_euclid(7) - back;
            assert!(kept.contains(&newest_where(&|x| x.div_euclid(7) == w)), "week {w}");
        }
        assert!(kept.len() <= 9 && !kept.contains(&0), "{kept:?}");
        // Unknown names stay.
        assert!(super::kept(&[PathBuf::from("userdata-notes.json")], 1, today).contains(&0));
    }

    #[test]
    fn stamps_sort_by_time() {
        let at = |s: u64| utc_stamp(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "19700101T000000Z");
        assert_eq!(at(951_782_400), "20000229T000000Z");
        assert_eq!(at(1_795_900_000), "20261128T210640Z");
        assert!(at(1_795_900_000) < at(1_795_900_001));
    }
}
