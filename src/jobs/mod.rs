//! The background job queue: thumbnails and preview strips, made by a few
//! low-priority threads (never the async workers, so streaming is not slowed), with
//! progress and failures kept for the admin page and the CLI.

mod failures;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use crate::catalog::Located;
use crate::library::ids::VideoId;
use crate::media::ffmpeg::Ffmpeg;
use crate::media::thumbs::Thumbs;
use failures::Failures;

/// Finds what a queued video's task needs, when its turn comes, in the
/// catalog of that moment (`None`: the video left the library). The queue
/// itself holds only ids: 100,000 videos waiting cost 100,000 ids, not
/// their paths.
pub type Lookup = Box<dyn Fn(VideoId) -> Option<Task> + Send + Sync>;

/// One video to make a thumbnail for.
pub struct Task {
    pub id: VideoId,
    pub title: String,
    /// Its files, opened beneath their roots.
    pub files: Vec<Located>,
    /// The roots' canonical paths.
    pub roots: Arc<[PathBuf]>,
    pub duration_ms: Option<u64>,
}

/// Failures kept for the admin page (the newest ones).
const KEEP_FAILURES: usize = 200;

#[derive(Default)]
pub struct Progress {
    pub queued: AtomicUsize,
    pub done: AtomicUsize,
    pub failed: AtomicUsize,
    /// Titles being worked on.
    pub current: Mutex<Vec<String>>,
    /// (title, reason), newest last.
    pub failures: Mutex<Vec<(String, String)>>,
}

pub struct Jobs {
    tx: Mutex<Option<Sender<VideoId>>>,
    /// Set once, before anything is queued (`look_up_with`).
    lookup: Arc<OnceLock<Lookup>>,
    /// Ids queued or in progress (not queued twice).
    pending: Arc<Mutex<HashSet<VideoId>>>,
    /// Ids that failed: not retried until the admin page's regenerate.
    failed: Arc<Failures>,
    pub progress: Arc<Progress>,
    pub thumbs: Arc<Thumbs>,
    /// The ffmpeg in use, if any.
    pub ffmpeg: Option<PathBuf>,
    _workers: Vec<JoinHandle<()>>,
}

impl Jobs {
    pub fn start(thumbs: Arc<Thumbs>, ffmpeg: Option<Ffmpeg>, threads: usize) -> std::io::Result<Jobs> {
        let (tx, rx) = mpsc::channel::<VideoId>();
        let lookup = Arc::new(OnceLock::new());
        let rx = Arc::new(Mutex::new(rx));
        let progress = Arc::new(Progress::default());
        let pending = Arc::new(Mutex::new(HashSet::new()));
        let failed = Arc::new(Failures::open(thumbs.failures_file()));
        let ffmpeg_path = ffmpeg.as_ref().map(|f| f.path.clone());
        let mut workers = Vec::new();
        for n in 0..threads.max(1) {
            let (rx, progress, thumbs, ffmpeg) = (rx.clone(), progress.clone(), thumbs.clone(), ffmpeg.clone());
            let (pending, failed, lookup) = (pending.clone(), failed.clone(), lookup.clone());
            let worker = move || work(&rx, &lookup, &progress, &thumbs, ffmpeg.as_ref(), &pending, &failed);
            workers.push(std::thread::Builder::new().name(format!("vidserve-job-{n}")).spawn(worker)?);
        }
        let tx = Mutex::new(Some(tx));
        Ok(Jobs { tx, lookup, pending, failed, progress, thumbs, ffmpeg: ffmpeg_path, _workers: workers })
    }

    /// Sets how a queued id becomes a task (once; later calls are ignored).
    pub fn look_up_with(&self, lookup: Lookup) {
        let _ = self.lookup.set(lookup);
    }

    /// Queues a thumbnail unless the video has one, is queued, or failed.
    pub fn want_thumbnail(&self, id: VideoId) {
        if self.thumbs.has(id) || self.failed.contains(id) {
            return;
        }
        let Ok(mut pending) = self.pending.lock() else { return };
        if !pending.insert(id) {
            return;
        }
        drop(pending);
        self.progress.queued.fetch_add(1, Ordering::Relaxed);
        let sent = self.tx.lock().ok().and_then(|t| t.as_ref().map(|tx| tx.send(id).is_ok()));
        if sent != Some(true) {
            self.progress.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Lets failed videos be tried again (`POST /admin/thumbnails/regenerate`).
    pub fn forget_failures(&self) {
        self.failed.forget();
    }

    /// Videos whose thumbnail failed and is not tried again.
    pub fn failures_remembered(&self) -> usize {
        self.failed.len()
    }

    /// Waiting tasks.
    pub fn waiting(&self) -> usize {
        self.progress.queued.load(Ordering::Relaxed)
    }

    /// Stops taking tasks; workers end after their current one (they hold
    /// nothing that a restart needs, so they are not waited for).
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
    }

    /// Waits until the queue is empty and every worker idle (the CLI).
    pub fn wait_idle(&self) {
        loop {
            let busy = self.pending.lock().map_or(0, |p| p.len());
            if busy == 0 {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

fn work(
    rx: &Mutex<Receiver<VideoId>>,
    lookup: &OnceLock<Lookup>,
    progress: &Progress,
    thumbs: &Thumbs,
    ffmpeg: Option<&Ffmpeg>,
    pending: &Mutex<HashSet<VideoId>>,
    failed: &Failures,
) {
    // Below the server's threads: a busy queue never slows streaming.
    crate::media::ffmpeg::background_priority(0);
    loop {
        let id = match rx.lock() {
            Ok(rx) => match rx.recv() {
                Ok(id) => id,
                Err(_) => return, // closed
            },
            Err(_) => return,
        };
        progress.queued.fetch_sub(1, Ordering::Relaxed);
        let Some(task) = lookup.get().and_then(|find| find(id)) else {
            // Gone from the library since it was queued.
            if let Ok(mut p) = pending.lock() {
                p.remove(&id);
            }
            continue;
        };
        if let Ok(mut c) = progress.current.lock() {
            c.push(task.title.clone());
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let made = thumbs.make(task.id, &task.files, &task.roots, task.duration_ms, ffmpeg);
            // The hover/seek preview strip, where ffmpeg can make one.
            if let (Some(f), Some(ms), Some(video)) = (ffmpeg, task.duration_ms, task.files.first()) {
                if thumbs.sprite(task.id).is_none() {
                    if let Err(e) = thumbs.make_sprite(task.id, video, &task.roots, ms, f) {
                        tracing::debug!(title = %task.title, "no preview strip: {e}");
                    }
                }
            }
            made
        }));
        if let Ok(mut c) = progress.current.lock() {
            if let Some(i) = c.iter().position(|t| *t == task.title) {
                c.remove(i);
            }
        }
        match result {
            Ok(Ok(_)) => {
                progress.done.fetch_add(1, Ordering::Relaxed);
            }
            other => {
                let (why, lasting) = match other {
                    Ok(Err(e)) => (e.to_string(), e.is_lasting()),
                    _ => ("the thumbnail maker crashed on this file".to_string(), true),
                };
                tracing::debug!(title = %task.title, "thumbnail failed: {why}");
                progress.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut f) = progress.failures.lock() {
                    if f.len() >= KEEP_FAILURES {
                        f.remove(0);
                    }
                    f.push((task.title.clone(), why));
                }
                // Without ffmpeg, installing it may be the cure.
                failed.note(task.id, lasting && ffmpeg.is_some());
            }
        }
        if let Ok(mut p) = pending.lock() {
            p.remove(&task.id);
        }
    }
}
