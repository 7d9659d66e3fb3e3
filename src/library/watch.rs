//! Filesystem notifications: calls back when something under a root changed
//! that could be a video (or a folder of them). The caller debounces and
//! rescans; this module only filters the noise (reads, other file types).

use std::path::Path;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};

use crate::config::Root;

/// Keeps the notification thread alive; dropping it stops watching.
pub struct Watcher {
    _inner: notify::RecommendedWatcher,
}

/// Watches every root recursively. Roots that cannot be watched (e.g. too
/// many directories for the inotify limit) are logged and left to the
/// periodic rescan.
pub fn watch(roots: &[Root], on_change: impl Fn() + Send + 'static) -> Result<Watcher, notify::Error> {
    let mut inner = notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
        Ok(event) if relevant(&event) => on_change(),
        Ok(_) => {}
        Err(e) => tracing::debug!("watch error: {e}"),
    })?;
    for root in roots {
        if let Err(e) = inner.watch(&root.path, RecursiveMode::Recursive) {
            tracing::warn!(root = %root.path.display(), "cannot watch for changes ({e}); relying on the periodic rescan");
        }
    }
    Ok(Watcher { _inner: inner })
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
