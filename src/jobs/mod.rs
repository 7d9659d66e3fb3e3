//! The background job queue: thumbnails and preview strips, made by a few
//! low-priority threads (never the async workers, so streaming is not slowed), with
//! progress and failures kept for the admin page and the CLI.
//!
//! The queue is a sweep over the current catalog, not a list: after each
//! scan it starts again from the first video, and each worker takes the
//! next one without a thumbnail (nor a remembered failure). Waiting costs
//! nothing per video, whatever the size of the library.

mod failures;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;

use crate::catalog::Located;
use crate::library::ids::VideoId;
use crate::library::roots::Roots;
use crate::media::ffmpeg::Ffmpeg;
use crate::media::thumbs::Thumbs;
use failures::Failures;

/// How the queue sees the library, in the catalog of the moment: the id
/// at each position (`None` past the end), and what a video's task needs
/// (`None`: the video left the library).
pub struct Lookup {
    pub id_at: Box<dyn Fn(usize) -> Option<VideoId> + Send + Sync>,
    pub task: Box<dyn Fn(VideoId) -> Option<Task> + Send + Sync>,
}

/// One video to make a thumbnail for.
pub struct Task {
    pub id: VideoId,
    pub title: String,
    /// Its files, opened beneath their roots.
    pub files: Vec<Located>,
    /// Where its files are read.
    pub roots: Roots,
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
    shared: Arc<Shared>,
    pub progress: Arc<Progress>,
    pub thumbs: Arc<Thumbs>,
    /// The ffmpeg in use, if any.
    pub ffmpeg: Option<PathBuf>,
    _workers: Vec<JoinHandle<()>>,
}

/// What the workers share.
struct Shared {
    /// Set once, before the first sweep (`look_up_with`).
    lookup: OnceLock<Lookup>,
    sweep: Mutex<Sweep>,
    /// Signalled when a sweep starts, a video is done, or the queue closes.
    changed: Condvar,
    /// Ids that failed: not retried until the admin page's regenerate.
    failed: Failures,
}

#[derive(Default)]
struct Sweep {
    /// The next position to look at (`None`: no sweep under way).
    next: Option<usize>,
    /// Videos being worked on (a new sweep does not take them again).
    working: HashSet<VideoId>,
    closed: bool,
}

impl Jobs {
    pub fn start(thumbs: Arc<Thumbs>, ffmpeg: Option<Ffmpeg>, threads: usize) -> std::io::Result<Jobs> {
        let progress = Arc::new(Progress::default());
        let shared = Arc::new(Shared {
            lookup: OnceLock::new(),
            sweep: Mutex::new(Sweep::default()),
            changed: Condvar::new(),
            failed: Failures::open(thumbs.failures_file()),
        });
        let ffmpeg_path = ffmpeg.as_ref().map(|f| f.path.clone());
        let mut workers = Vec::new();
        for n in 0..threads.max(1) {
            let (shared, progress, thumbs, ffmpeg) = (shared.clone(), progress.clone(), thumbs.clone(), ffmpeg.clone());
            let worker = move || work(&shared, &progress, &thumbs, ffmpeg.as_ref());
            workers.push(std::thread::Builder::new().name(format!("vidserve-job-{n}")).spawn(worker)?);
        }
        Ok(Jobs { shared, progress, thumbs, ffmpeg: ffmpeg_path, _workers: workers })
    }

    /// Sets how the queue sees the library (once; later calls are ignored).
    pub fn look_up_with(&self, lookup: Lookup) {
        // Under the sweep's lock, which workers check it under: a sweep
        // started before waits for it and is woken.
        let _sweep = self.shared.lock();
        let _ = self.shared.lookup.set(lookup);
        self.shared.changed.notify_all();
    }

    /// Whether video `id` is waiting for a thumbnail: it has none and did
    /// not fail.
    pub fn wants(&self, id: VideoId) -> bool {
        self.shared.wants(&self.thumbs, id)
    }

    /// Starts a sweep from the first video (the one under way ends);
    /// `waiting`: how many videos want a thumbnail, for the progress.
    pub fn sweep(&self, waiting: usize) {
        let mut sweep = self.shared.lock();
        if sweep.closed {
            return;
        }
        sweep.next = Some(0);
        self.progress.queued.store(waiting, Ordering::Relaxed);
        self.shared.changed.notify_all();
    }

    /// Lets failed videos be tried again (`POST /admin/thumbnails/regenerate`).
    pub fn forget_failures(&self) {
        self.shared.failed.forget();
    }

    /// Videos whose thumbnail failed and is not tried again.
    pub fn failures_remembered(&self) -> usize {
        self.shared.failed.len()
    }

    /// Videos waiting.
    pub fn waiting(&self) -> usize {
        self.progress.queued.load(Ordering::Relaxed)
    }

    /// Stops taking tasks; workers end after their current one (they hold
    /// nothing that a restart needs, so they are not waited for).
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
    }

    /// Whether the sweep is over and every worker idle.
    pub fn is_idle(&self) -> bool {
        let sweep = self.shared.lock();
        sweep.next.is_none() && sweep.working.is_empty()
    }

    /// Waits until the sweep is over and every worker idle (the CLI).
    pub fn wait_idle(&self) {
        let mut sweep = self.shared.lock();
        while (sweep.next.is_some() || !sweep.working.is_empty()) && !sweep.closed {
            sweep = self.shared.changed.wait(sweep).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Shared {
    fn wants(&self, thumbs: &Thumbs, id: VideoId) -> bool {
        !thumbs.has(id) && !self.failed.contains(id)
    }

    fn lock(&self) -> MutexGuard<'_, Sweep> {
        self.sweep.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the next video of the sweep and takes it (`None`: closed).
    fn take(&self, thumbs: &Thumbs) -> Option<VideoId> {
        let mut sweep = self.lock();
        loop {
            if sweep.closed {
                return None;
            }
            if let (Some(from), Some(lookup)) = (sweep.next, self.lookup.get()) {
                let mut at = from;
                let found = loop {
                    match (lookup.id_at)(at) {
                        None => break None,
                        Some(id) if self.wants(thumbs, id) && !sweep.working.contains(&id) => break Some(id),
                        Some(_) => at += 1,
                    }
                };
                match found {
                    Some(id) => {
                        sweep.next = Some(at + 1);
                        sweep.working.insert(id);
                        return Some(id);
                    }
                    None => {
                        sweep.next = None;
                        self.changed.notify_all();
                    }
                }
            }
            sweep = self.changed.wait(sweep).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn done(&self, id: VideoId) {
        self.lock().working.remove(&id);
        self.changed.notify_all();
    }
}

fn work(shared: &Shared, progress: &Progress, thumbs: &Thumbs, ffmpeg: Option<&Ffmpeg>) {
    // Below the server's threads: a busy queue never slows streaming.
    crate::media::ffmpeg::background_priority(0);
    let failed = &shared.failed;
    while let Some(id) = shared.take(thumbs) {
        let _ = progress.queued.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        // Gone from the library since the sweep found it: nothing to do.
        if let Some(task) = shared.lookup.get().and_then(|l| (l.task)(id)) {
            make(&task, progress, thumbs, ffmpeg, failed);
        }
        shared.done(id);
    }
}

/// Makes one video's thumbnail and preview strip, noting how it went.
fn make(task: &Task, progress: &Progress, thumbs: &Thumbs, ffmpeg: Option<&Ffmpeg>, failed: &Failures) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_sweep_takes_every_video_once_and_skips_failures_after() {
        let data = tempfile::tempdir().unwrap();
        let thumbs = Arc::new(Thumbs::open(data.path()).unwrap());
        let jobs = Jobs::start(thumbs, None, 3).unwrap();
        let ids: Vec<VideoId> = (1..=50).map(VideoId).collect();
        let asked = Arc::new(AtomicUsize::new(0));
        let (listed, counted) = (ids.clone(), asked.clone());
        jobs.look_up_with(Lookup {
            id_at: Box::new(move |i| listed.get(i).copied()),
            task: Box::new(move |id| {
                counted.fetch_add(1, Ordering::Relaxed);
                // Every fifth video left the library meanwhile.
                (id.0 % 5 != 0).then(|| Task {
                    id,
                    title: id.to_string(),
                    files: Vec::new(),
                    roots: Roots::default(),
                    duration_ms: None,
                })
            }),
        });
        assert!(jobs.is_idle());
        jobs.sweep(ids.len());
        jobs.wait_idle();
        assert_eq!(asked.load(Ordering::Relaxed), 50, "each once");
        // No file, no ffmpeg: each present one failed (in memory only).
        assert_eq!(jobs.progress.failed.load(Ordering::Relaxed), 40);
        assert_eq!(jobs.waiting(), 0);
        assert!(!jobs.wants(VideoId(1)) && jobs.wants(VideoId(5)));
        jobs.sweep(10);
        jobs.wait_idle();
        assert_eq!(asked.load(Ordering::Relaxed), 60, "only those not tried to a failure");
        jobs.close();
        jobs.sweep(1);
        assert!(jobs.is_idle(), "closed: no more sweeps");
    }
}
