//! Plans kept for the videos being played: a few, the most recently used,
//! keyed by video, audio track and the file's size and modification time.
//! Building one reads the whole file: `gate` lets two builds run at once
//! (one slow or bad file does not hold up every other film). A file that
//! cannot be remuxed is remembered, until it changes, so asking again
//! costs nothing.

use std::sync::{Arc, Mutex};

use super::Plan;
use crate::library::ids::VideoId;

/// Plans kept (each about 40 bytes a frame: some MiB for a film).
const KEEP: usize = 4;
/// Files remembered as not remuxable (the most recent).
const FAILURES: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlanKey {
    pub id: VideoId,
    pub audio: usize,
    pub size: u64,
    pub mtime_ns: i64,
    /// With the chosen track's sound remade by ffmpeg.
    pub with_sound: bool,
}

pub struct Plans {
    kept: Mutex<Vec<(PlanKey, Arc<Plan>)>>,
    /// Files that could not be remuxed, and why (most recent last).
    failed: Mutex<Vec<(PlanKey, String)>>,
    /// Taken (asynchronously) before a build.
    pub gate: tokio::sync::Semaphore,
}

impl Default for Plans {
    fn default() -> Self {
        Plans { kept: Mutex::default(), failed: Mutex::default(), gate: tokio::sync::Semaphore::new(2) }
    }
}

impl Plans {
    pub fn get(&self, key: &PlanKey) -> Option<Arc<Plan>> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let at = kept.iter().position(|(k, _)| k == key)?;
        let hit = kept.remove(at);
        let plan = hit.1.clone();
        kept.push(hit); // most recent last
        Some(plan)
    }

    /// Why this file (as it is now) cannot be remuxed, if it was tried.
    pub fn failure(&self, key: &PlanKey) -> Option<String> {
        let failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed.iter().find(|(k, _)| k == key).map(|(_, why)| why.clone())
    }

    /// Remembers that this file (as it is now) cannot be remuxed.
    pub fn fail(&self, key: PlanKey, why: String) {
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        failed.retain(|(k, _)| k.id != key.id || k.audio != key.audio || k.with_sound != key.with_sound);
        if failed.len() >= FAILURES {
            failed.remove(0);
        }
        failed.push((key, why));
    }

    pub fn put(&self, key: PlanKey, plan: Arc<Plan>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| k.id != key.id || k.audio != key.audio || k.with_sound != key.with_sound);
        if kept.len() >= KEEP {
            kept.remove(0);
        }
        kept.push((key, plan));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_cannot_be_remuxed_is_remembered_until_it_changes() {
        let plans = Plans::default();
        let key = PlanKey { id: VideoId(1), audio: 0, size: 18_000, mtime_ns: 5, with_sound: false };
        assert_eq!(plans.failure(&key), None);
        plans.fail(key, "a damaged sample table".into());
        assert_eq!(plans.failure(&key).as_deref(), Some("a damaged sample table"));
        // Changed on disk: tried again.
        assert_eq!(plans.failure(&PlanKey { mtime_ns: 6, ..key }), None);
        plans.fail(PlanKey { mtime_ns: 6, ..key }, "still damaged".into());
        assert_eq!(plans.failure(&key), None, "only the file as it is now is remembered");
        for n in 0..2 * FAILURES as u64 {
            plans.fail(PlanKey { id: VideoId(100 + n), ..key }, "bad".into());
        }
        assert!(plans.failed.lock().unwrap().len() <= FAILURES);
    }
}
