//! Sound browsers cannot decode (AC-3, E-AC-3, DTS, TrueHD…): with ffmpeg,
//! the audio track alone is made into stereo AAC once, in the background,
//! kept in `data_dir/audio`, and then goes into the remux in place of the
//! original (the video is never re-encoded). One transcode at a time; a
//! failed one is not tried again until a restart.

use crate::library::roots::Content;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::cache::PlanKey;
use crate::media::ffmpeg::Ffmpeg;

pub struct Sound {
    dir: PathBuf,
    ffmpeg: Option<Ffmpeg>,
    /// Keys being made or queued, and those that failed.
    busy: Mutex<HashSet<PlanKey>>,
    failed: Mutex<HashSet<PlanKey>>,
    /// Held while ffmpeg runs: one transcode at a time.
    one: Mutex<()>,
}

/// Where a track stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ready {
    /// Made: this file holds it.
    At(PathBuf),
    /// Being made (or queued behind another).
    Preparing,
    /// Cannot be made (no ffmpeg, or it failed).
    No,
}

impl Sound {
    pub fn open(data_dir: &Path, ffmpeg: Option<Ffmpeg>) -> std::io::Result<Sound> {
        let dir = data_dir.join("audio");
        std::fs::create_dir_all(&dir)?;
        Ok(Sound {
            dir,
            ffmpeg,
            busy: Mutex::new(HashSet::new()),
            failed: Mutex::new(HashSet::new()),
            one: Mutex::new(()),
        })
    }

    /// Removes the sound kept for videos no longer in the library (and
    /// what a crash left half made). Blocking: reads the folder.
    pub fn keep_only(&self, known: &std::collections::HashSet<crate::library::ids::VideoId>) -> usize {
        crate::media::inside::cache::forget_others(&self.dir, known, '-', ".tmp")
    }

    fn path(&self, key: &PlanKey) -> PathBuf {
        self.dir.join(format!("{}-{}-{:x}-{:x}.m4a", key.id, key.audio, key.size, key.mtime_ns))
    }

    /// The AAC track for `key`, starting it (in the background, from the
    /// open `file` of about `duration_s` seconds) when there is none yet.
    /// Blocking (a file check).
    pub fn get(self: &Arc<Self>, key: PlanKey, file: &Content, duration_s: f64) -> Ready {
        let path = self.path(&key);
        if path.is_file() {
            return Ready::At(path);
        }
        let Some(ffmpeg) = self.ffmpeg.clone() else { return Ready::No };
        if self.failed.lock().unwrap_or_else(|e| e.into_inner()).contains(&key) {
            return Ready::No;
        }
        if !self.busy.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
            return Ready::Preparing;
        }
        let (me, file) = (self.clone(), file.clone());
        let tmp = path.with_extension("tmp");
        // A generous limit: audio alone goes many times faster than it plays.
        let timeout = Duration::from_secs_f64(60.0 + duration_s.max(0.0) / 2.0);
        let work = move || {
            let made = {
                let _turn = me.one.lock().unwrap_or_else(|e| e.into_inner());
                ffmpeg.audio_to_aac(&file, key.audio, &tmp, timeout).and_then(|()| Ok(std::fs::rename(&tmp, &path)?))
            };
            if let Err(e) = &made {
                let _ = std::fs::remove_file(&tmp);
                tracing::warn!(id = %key.id, "the sound cannot be made playable: {e}");
                me.failed.lock().unwrap_or_else(|e| e.into_inner()).insert(key);
            }
            me.busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        };
        match std::thread::Builder::new().name("sound".into()).spawn(work) {
            Ok(_) => Ready::Preparing,
            Err(_) => {
                self.busy.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
                Ready::No
            }
        }
    }
}
