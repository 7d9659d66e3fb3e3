//! Plans kept for the videos being played: a few, the most recently used,
//! keyed by video, audio track and the file's size and modification time.
//! Building one reads the whole file: `gate` lets one build run at a time.

use std::sync::{Arc, Mutex};

use super::Plan;
use crate::library::ids::VideoId;

/// Plans kept (each about 40 bytes a frame: some MiB for a film).
const KEEP: usize = 4;

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
    /// Taken (asynchronously) before a build.
    pub gate: tokio::sync::Semaphore,
}

impl Default for Plans {
    fn default() -> Self {
        Plans { kept: Mutex::new(Vec::new()), gate: tokio::sync::Semaphore::new(1) }
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

    pub fn put(&self, key: PlanKey, plan: Arc<Plan>) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|(k, _)| k.id != key.id || k.audio != key.audio || k.with_sound != key.with_sound);
        if kept.len() >= KEEP {
            kept.remove(0);
        }
        kept.push((key, plan));
    }
}
