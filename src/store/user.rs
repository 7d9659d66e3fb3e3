//! User data in memory: every read of ratings, views and favorites comes
//! from here. The writer updates it right after each commit, before it
//! acknowledges, so a read that follows a 2xx sees the write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::RwLock;

use super::records::UserData;
use crate::library::ids::VideoId;

#[derive(Default)]
pub struct UserCache {
    map: RwLock<HashMap<VideoId, UserData>>,
    /// Bumped on every change (for views that cache derived orders).
    version: AtomicU64,
    /// How many videos have a user-given title (0: title order is the files').
    titled: AtomicUsize,
}

impl UserCache {
    pub fn new(map: HashMap<VideoId, UserData>) -> Self {
        let titled = map.values().filter(|d| d.title.is_some()).count();
        UserCache { map: RwLock::new(map), version: AtomicU64::new(0), titled: AtomicUsize::new(titled) }
    }

    pub fn titled(&self) -> usize {
        self.titled.load(Ordering::Acquire)
    }

    pub fn get(&self, id: VideoId) -> UserData {
        self.map.read().ok().and_then(|m| m.get(&id).cloned()).unwrap_or_default()
    }

    /// Runs `f` with the whole map under one read lock (hold it briefly).
    pub fn with<R>(&self, f: impl FnOnce(&HashMap<VideoId, UserData>) -> R) -> R {
        match self.map.read() {
            Ok(m) => f(&m),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    pub fn set_all(&self, changes: impl IntoIterator<Item = (VideoId, UserData)>) {
        let mut map = match self.map.write() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        for (id, data) in changes {
            let had = map.get(&id).is_some_and(|d| d.title.is_some());
            match (had, data.title.is_some()) {
                (false, true) => {
                    self.titled.fetch_add(1, Ordering::AcqRel);
                }
                (true, false) => {
                    self.titled.fetch_sub(1, Ordering::AcqRel);
                }
                _ => {}
            }
            map.insert(id, data);
        }
        self.version.fetch_add(1, Ordering::Release);
    }

    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }
}
