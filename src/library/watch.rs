//! Filesystem notifications: calls back when something under a root changed
//! that could be a video (or a folder of them). The caller debounces and
//! rescans; this module only filters the noise (reads, other file types).
//! It also says which roots notifications cannot be trusted for (network
//! and FUSE filesystems, roots that could not be watched): only those need
//! polling, so that idle local disks can sleep.

use std::path::Path;

use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher as _};

use crate::config::Root;

/// Keeps the notification thread alive; dropping it stops watching.
pub struct Watcher {
    _inner: notify::RecommendedWatcher,
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
    let mut inner = notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
        Ok(event) if event.need_rescan() || relevant(&event) => on_change(),
        Ok(_) => {}
        Err(e) => tracing::debug!("watch error: {e}"),
    })?;
    let mut how = Vec::with_capacity(roots.len());
    for root in roots {
        let state = match (remote_filesystem(&root.path), inner.watch(&root.path, RecursiveMode::Recursive)) {
            (Some(fs), _) => Watching::Polled(format!("a {fs} filesystem, where changes are not always notified")),
            (None, Err(e)) => {
                tracing::warn!(root = %root.path.display(), "cannot watch for changes ({e}); it is polled instead");
                Watching::Polled(format!("cannot watch it ({e})"))
            }
            (None, Ok(())) => Watching::Notified,
        };
        how.push(state);
    }
    Ok((Watcher { _inner: inner }, how))
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
    #[test]
    fn a_local_folder_is_notified() {
        let dir = tempfile::tempdir().unwrap();
        let root = crate::config::Root { path: dir.path().into(), canonical: dir.path().into() };
        let (_w, how) = super::watch(&[root], || {}).unwrap();
        assert_eq!(how, vec![super::Watching::Notified]);
    }
}
