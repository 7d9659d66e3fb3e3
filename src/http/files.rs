//! Open file handles for recently streamed videos, so that a player's
//! stream of range requests needs no trip to the blocking pool: a hit costs
//! a map lookup, then the body's first read is a non-blocking page-cache
//! read. An entry is trusted for `TTL`; after that the file is opened and
//! stat'ed again (one pool hop), so a replaced file is noticed within `TTL`;
//! a new catalog (a rescan: files may have moved) invalidates every entry.
//! A file truncated in the meantime cuts the response short; it never
//! serves bytes of another file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::library::ids::VideoId;
use crate::library::roots::Content;

/// How long an open handle and its metadata are trusted.
pub const TTL: Duration = Duration::from_secs(2);
/// Most handles kept open.
pub const CAPACITY: usize = 64;

/// A file opened for streaming, with its validators and content type.
#[derive(Clone)]
pub struct Opened {
    pub content: Content,
    pub len: u64,
    pub etag: Arc<str>,
    pub modified: SystemTime,
    pub ctype: &'static str,
    /// On a local filesystem (`zerocopy::local_filesystem`): its cached
    /// chunks may be sent from the runtime's threads.
    pub local: bool,
}

/// Which file a handle is for: a video's path (by its place among the
/// video's paths) in one catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpenKey {
    pub id: VideoId,
    pub file: usize,
    pub generation: u64,
}

#[derive(Default)]
pub struct OpenFiles {
    map: Mutex<HashMap<OpenKey, (Opened, Instant)>>,
}

impl OpenFiles {
    pub fn get(&self, key: &OpenKey) -> Option<Opened> {
        let map = self.map.lock().ok()?;
        let (opened, at) = map.get(key)?;
        (at.elapsed() < TTL).then(|| opened.clone())
    }

    pub fn put(&self, key: OpenKey, opened: Opened) {
        let Ok(mut map) = self.map.lock() else { return };
        if map.len() >= CAPACITY && !map.contains_key(&key) {
            map.retain(|k, (_, at)| at.elapsed() < TTL && k.generation == key.generation);
            if map.len() >= CAPACITY {
                let oldest = map.iter().min_by_key(|(_, (_, at))| *at).map(|(k, _)| *k);
                if let Some(k) = oldest {
                    map.remove(&k);
                }
            }
        }
        map.insert(key, (opened, Instant::now()));
    }
}
