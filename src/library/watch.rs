//! Filesystem notifications: calls back when something under a root changed
//! that could be a video (or a folder of them). The caller debounces and
//! rescans; this module only filters the noise (reads, other file types).
//! It also says which roots notifications cannot be trusted for (network
//! and FUSE filesystems, roots that could not be watched): only those need
//! polling, so that idle local disks can sleep.
//!
//! A folder that cannot be watched (one this user may not read, such as a
//! disk's `lost+found`) costs only itself: its root is watched around it
//! (`watch_tree`), and the folders made later beside it are watched as they
//! appear (`Adder`). It cannot be scanned either; the scan reports it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};

use notify::event::{AccessKind, AccessMode, CreateKind, EventKind, ModifyKind, RenameMode};
use notify::RecursiveMode;

use crate::config::Root;

/// Keeps the notification thread alive; dropping it stops watching.
pub struct Watcher {
    _inner: Arc<Mutex<notify::RecommendedWatcher>>,
    /// Ends the thread that watches folders made beside unwatchable ones.
    _adder: mpsc::Sender<PathBuf>,
}

/// What `watch_tree` needs of a watcher (a fake one in tests).
trait Watch {
    fn watch(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()>;
    fn unwatch(&mut self, path: &Path) -> notify::Result<()>;
}

impl Watch for notify::RecommendedWatcher {
    fn watch(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
        notify::Watcher::watch(self, path, mode)
    }
    fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
        notify::Watcher::unwatch(self, path)
    }
}

/// Whether a watch failed because this user may not read the folder.
fn refused(e: &notify::Error) -> bool {
    matches!(&e.kind, notify::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied)
}

/// Watches `dir` and everything below it. When a folder below cannot be
/// watched (permission denied), `dir` is watched alone, in `partial`, and
/// each folder in it in turn; those that cannot be watched at all go in
/// `unwatched`. Other errors (the inotify limit) are returned.
fn watch_tree(
    w: &mut impl Watch,
    dir: &Path,
    partial: &Mutex<HashSet<PathBuf>>,
    unwatched: &mut Vec<PathBuf>,
) -> notify::Result<()> {
    match w.watch(dir, RecursiveMode::Recursive) {
        Ok(()) => return Ok(()),
        Err(e) if !refused(&e) => return Err(e),
        Err(_) => {}
    }
    // The watches made before the refusal go; the tree is done piece by piece.
    let _ = w.unwatch(dir);
    match w.watch(dir, RecursiveMode::NonRecursive) {
        Ok(()) => {}
        Err(e) if refused(&e) => {
            unwatched.push(dir.to_path_buf());
            return Ok(());
        }
        Err(e) => return Err(e),
    }
    if let Ok(mut p) = partial.lock() {
        p.insert(dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries.filter_map(Result::ok) {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            watch_tree(w, &entry.path(), partial, unwatched)?;
        }
    }
    Ok(())
}

/// How a root is kept up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watching {
    /// Notifications arrive: no polling.
    Notified,
    /// Polled every `rescan_every`, for this reason.
    Polled(String),
}

/// Filesystems whose changes may not be notified here: network ones (a
/// change made by another machine sends nothing) and FUSE.
fn remote_filesystem(path: &Path) -> Option<&'static str> {
    let kind = rustix::fs::statfs(path).ok()?.f_type as u64;
    Some(match kind {
        0x6969 => "NFS",
        0x517B => "SMB",
        0xFF53_4D42 => "CIFS",
        0xFE53_4D42 => "SMB2",
        0x6573_5546 => "FUSE",
        0x0102_1997 => "9P",
        0x00C3_6400 => "Ceph",
        0x5346_414F => "AFS",
        0x0BD0_0BD0 => "Lustre",
        _ => return None,
    })
}

/// Watches every root recursively; says for each whether notifications
/// keep it up to date or it must be polled (network filesystems, roots
/// that cannot be watched, e.g. past the inotify limit). A lost event
/// (a queue overflow) is a change too.
pub fn watch(roots: &[Root], on_change: impl Fn() + Send + 'static) -> Result<(Watcher, Vec<Watching>), notify::Error> {
    // Folders watched without their sub-folders (they hold one that cannot
    // be watched): a folder made in one is watched when it appears.
    let partial: Arc<Mutex<HashSet<PathBuf>>> = Arc::default();
    let (add_tx, add_rx) = mpsc::channel::<PathBuf>();
    let (seen, adder) = (partial.clone(), add_tx.clone());
    let inner = notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
        Ok(event) => {
            if made_folder(&event) {
                if let Ok(watched) = seen.lock() {
                    for path in event.paths.iter().filter(|p| p.parent().is_some_and(|d| watched.contains(d))) {
                        let _ = adder.send(path.clone());
                    }
                }
            }
            if event.need_rescan() || relevant(&event) {
                on_change();
            }
        }
        Err(e) => tracing::debug!("watch error: {e}"),
    })?;
    let inner = Arc::new(Mutex::new(inner));
    let mut how = Vec::with_capacity(roots.len());
    for root in roots {
        if root.bucket.is_some() {
            how.push(Watching::Polled("object storage, listed again every --cache-ttl".into()));
            continue;
        }
        let mut unwatched = Vec::new();
        let watched = match inner.lock() {
            Ok(mut w) => watch_tree(&mut *w, &root.path, &partial, &mut unwatched),
            Err(_) => Err(notify::Error::generic("the watcher is unusable")),
        };
        let state = match (remote_filesystem(&root.path), watched) {
            (Some(fs), _) => Watching::Polled(format!("a {fs} filesystem, where changes are not always notified")),
            (None, Err(e)) => {
                tracing::warn!(root = %root.path.display(), "cannot watch for changes ({e}); it is polled instead");
                Watching::Polled(format!("cannot watch it ({e})"))
            }
            (None, Ok(())) if unwatched.contains(&root.path) => {
                Watching::Polled("cannot watch it (permission denied)".into())
            }
            (None, Ok(())) => {
                for dir in &unwatched {
                    tracing::warn!(folder = %dir.display(), "cannot watch this folder (permission denied); the rest of its root is watched");
                }
                Watching::Notified
            }
        };
        how.push(state);
    }
    // Folders made beside unwatchable ones: watched as they appear, off
    // the notification thread (a watch waits for that thread).
    let watcher = inner.clone();
    std::thread::Builder::new()
        .name("vidserve-watch".into())
        .spawn(move || {
            while let Ok(dir) = add_rx.recv() {
                if !dir.is_dir() {
                    continue;
                }
                let mut unwatched = Vec::new();
                let done = watcher.lock().map(|mut w| watch_tree(&mut *w, &dir, &partial, &mut unwatched));
                if let Ok(Err(e)) = done {
                    tracing::warn!(folder = %dir.display(), "cannot watch a new folder ({e})");
                }
            }
        })
        .map_err(notify::Error::io)?;
    Ok((Watcher { _inner: inner, _adder: add_tx }, how))
}

/// Whether the event is a folder made or moved in.
fn made_folder(event: &notify::Event) -> bool {
    matches!(
        event.kind,
        EventKind::Create(CreateKind::Folder | CreateKind::Any)
            | EventKind::Modify(ModifyKind::Name(RenameMode::To | RenameMode::Both | RenameMode::Any))
    )
}

fn relevant(event: &notify::Event) -> bool {
    let kind_matters = match event.kind {
        // A writer closing a file is the moment a copy is complete.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) => false,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    };
    kind_matters && event.paths.iter().any(|p| could_be_video(p))
}

/// A video file, or something without an extension (likely a folder).
fn could_be_video(path: &Path) -> bool {
    let Some(name) = path.file_name() else { return true };
    path.extension().is_none() || super::is_video_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refuses to watch `locked`; remembers what it watched.
    #[derive(Default)]
    struct Fake {
        locked: PathBuf,
        watched: Vec<(PathBuf, bool)>,
    }

    impl Watch for Fake {
        fn watch(&mut self, path: &Path, mode: RecursiveMode) -> notify::Result<()> {
            let recursive = mode == RecursiveMode::Recursive;
            if path == self.locked || (recursive && self.locked.starts_with(path)) {
                let e = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
                return Err(notify::Error::io(e));
            }
            self.watched.push((path.to_path_buf(), recursive));
            Ok(())
        }
        fn unwatch(&mut self, path: &Path) -> notify::Result<()> {
            self.watched.retain(|(p, _)| !p.starts_with(path));
            Ok(())
        }
    }

    #[test]
    fn an_unwatchable_folder_costs_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["a/lost+found", "a/films/2024", "b"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let mut w = Fake { locked: dir.path().join("a/lost+found"), ..Fake::default() };
        let (partial, mut unwatched) = (Mutex::default(), Vec::new());
        watch_tree(&mut w, dir.path(), &partial, &mut unwatched).unwrap();
        let mut got: Vec<(String, bool)> =
            w.watched.iter().map(|(p, r)| (p.strip_prefix(dir.path()).unwrap().display().to_string(), *r)).collect();
        got.sort();
        let want = [("", false), ("a", false), ("a/films", true), ("b", true)];
        assert_eq!(got, want.map(|(p, r)| (p.to_string(), r)));
        assert_eq!(unwatched, [dir.path().join("a/lost+found")]);
        let partial = partial.into_inner().unwrap();
        assert!(partial.contains(dir.path()) && partial.contains(&dir.path().join("a")) && partial.len() == 2);
    }

    #[test]
    fn a_local_folder_is_notified() {
        let dir = tempfile::tempdir().unwrap();
        let root = crate::config::Root::local(dir.path().into(), dir.path().into());
        let (_w, how) = watch(&[root], || {}).unwrap();
        assert_eq!(how, vec![Watching::Notified]);
    }
}
