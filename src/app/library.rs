//! The library handle: the current catalog (`Cache`), readiness, and the
//! background scanner thread with the filesystem watcher that feeds it.
//!
//! The scanner thread owns the `Scanner` and is the only writer of the scan
//! index. It rescans on request (file change, admin refresh, a missing file)
//! after a short quiet period, and every `rescan_every` only when a root
//! is not kept up to date by notifications (a network filesystem, no
//! watch); otherwise it sleeps until asked, and so may the disks. After
//! each scan it sends the new catalog to the app (`Notice::Scanned`), which
//! swaps it in, tells whoever needs to know and marks the scan completed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Notice;
use crate::catalog::{Cache, Catalog};
use crate::library::watch::Watcher;
pub use crate::library::watch::Watching;
use crate::scan::Scanner;

/// Quiet time after a change before rescanning (a copy in progress sends
/// many events), and the longest a burst of events may delay a rescan.
const DEBOUNCE: Duration = Duration::from_millis(300);
const MAX_DEBOUNCE: Duration = Duration::from_secs(3);

pub(super) enum ScanMsg {
    Rescan,
    /// Another server's scan changed the shared index: read it.
    Follow,
    Stop,
}

pub struct Library {
    /// The current catalog: every read is served from it.
    /// Shared with the job queue's lookup (which must not keep `App` alive).
    pub cache: Arc<Cache>,
    ready: AtomicBool,
    scan_tx: Mutex<mpsc::Sender<ScanMsg>>,
    /// Rescan requests made so far (shared with the scanner thread).
    requested: Arc<AtomicU64>,
    /// The request count seen at the start of the last finished scan.
    completed: watch::Receiver<u64>,
    completed_tx: watch::Sender<u64>,
    scan_rx: Mutex<Option<mpsc::Receiver<ScanMsg>>>,
    scan_thread: Mutex<Option<JoinHandle<()>>>,
    watcher: Mutex<Option<Watcher>>,
    /// How each root is kept up to date (in `--dir` order).
    watching: Mutex<Vec<Watching>>,
}

impl Library {
    /// A library serving `catalog` (ready when it comes from a stored index).
    pub(super) fn new(catalog: Catalog, ready: bool) -> Library {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done_rx) = watch::channel(0u64);
        Library {
            cache: Arc::new(Cache::new(catalog)),
            ready: AtomicBool::new(ready),
            scan_tx: Mutex::new(tx),
            requested: Arc::default(),
            completed: done_rx,
            completed_tx: done_tx,
            scan_rx: Mutex::new(Some(rx)),
            scan_thread: Mutex::new(None),
            watcher: Mutex::new(None),
            watching: Mutex::new(Vec::new()),
        }
    }

    /// A sender of rescan requests (for the filesystem watcher).
    pub(super) fn rescan_sender(&self) -> Option<mpsc::Sender<ScanMsg>> {
        self.scan_tx.lock().ok().map(|t| t.clone())
    }

    pub(super) fn keep_watcher(&self, w: Watcher, how: Vec<Watching>) {
        if let Ok(mut slot) = self.watcher.lock() {
            *slot = Some(w);
        }
        self.set_watching(how);
    }

    pub(super) fn set_watching(&self, how: Vec<Watching>) {
        if let Ok(mut slot) = self.watching.lock() {
            *slot = how;
        }
    }

    /// How each root is kept up to date (in `--dir` order).
    pub fn watching(&self) -> Vec<Watching> {
        self.watching.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Starts the scanner thread (once); each scan's catalog goes to
    /// `notices`. `every`: how often to rescan unasked (`None`: never;
    /// notifications keep every root up to date). `leading`: with a
    /// shared database, whether this server is the one that scans (the
    /// others read what it wrote when told, `follow_index`).
    pub(super) fn start_scanner(
        &self,
        scanner: Scanner,
        notices: mpsc::Sender<Notice>,
        every: Option<Duration>,
        leading: Option<Arc<AtomicBool>>,
    ) -> std::io::Result<()> {
        let Some(rx) = self.scan_rx.lock().ok().and_then(|mut r| r.take()) else { return Ok(()) };
        let (cache, requested) = (self.cache.clone(), self.requested.clone());
        let thread = std::thread::Builder::new().name("vidserve-scan".into()).spawn(move || {
            let scan = Scan { cache: &cache, requested: &requested, notices, every, leading };
            scan_loop(scanner, rx, &scan)
        })?;
        if let Ok(mut slot) = self.scan_thread.lock() {
            *slot = Some(thread);
        }
        Ok(())
    }

    /// The current snapshot; cheap, lock-free.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.cache.load()
    }

    /// Whether the catalog reflects at least one scan or a stored index.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub(super) fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// A scan that started after request `seen` is in the catalog.
    pub(super) fn completed(&self, seen: u64) {
        self.completed_tx.send_replace(seen);
    }

    /// Another server changed the shared index: read it again.
    pub(super) fn follow_index(&self) {
        if let Ok(tx) = self.scan_tx.lock() {
            let _ = tx.send(ScanMsg::Follow);
        }
    }

    /// Asks for a rescan soon; returns the request's sequence number.
    pub fn request_rescan(&self) -> u64 {
        let n = self.requested.fetch_add(1, Ordering::AcqRel) + 1;
        if let Ok(tx) = self.scan_tx.lock() {
            let _ = tx.send(ScanMsg::Rescan);
        }
        n
    }

    /// Requests a rescan and waits until one that started after the request
    /// has finished. False on timeout.
    pub async fn rescan_and_wait(&self, timeout: Duration) -> bool {
        let mine = self.request_rescan();
        let mut rx = self.completed.clone();
        tokio::time::timeout(timeout, rx.wait_for(|&done| done >= mine)).await.is_ok_and(|r| r.is_ok())
    }

    /// Waits until the library is ready (the first scan finished). False on
    /// timeout. For tests.
    #[cfg(any(test, feature = "test-support"))]
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut rx = self.completed.clone();
        let ready = async {
            while !self.is_ready() {
                if rx.changed().await.is_err() {
                    return;
                }
            }
        };
        tokio::time::timeout(timeout, ready).await.is_ok() && self.is_ready()
    }

    /// Stops the scanner and waits for it (a scan in progress finishes
    /// first: its writes are one transaction either way). Blocking.
    pub(super) fn close(&self) {
        self.stop();
        let thread = self.scan_thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }

    fn stop(&self) {
        if let Ok(tx) = self.scan_tx.lock() {
            let _ = tx.send(ScanMsg::Stop);
        }
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the scanner thread works with.
struct Scan<'a> {
    cache: &'a Cache,
    requested: &'a AtomicU64,
    notices: mpsc::Sender<Notice>,
    every: Option<Duration>,
    leading: Option<Arc<AtomicBool>>,
}

impl Scan<'_> {
    fn leading(&self) -> bool {
        self.leading.as_ref().is_none_or(|l| l.load(Ordering::Acquire))
    }
}

fn scan_loop(mut scanner: Scanner, rx: mpsc::Receiver<ScanMsg>, scan: &Scan) {
    let (mut first, mut imported) = (true, false);
    loop {
        // A periodic poll skips folders that did not change; anything asked
        // for (a notification, a refresh) looks at every file.
        let (mut polled, mut follow) = (false, false);
        if !first {
            // Without polling, the thread sleeps until asked (disks may sleep too).
            let next = match scan.every {
                Some(every) => rx.recv_timeout(every),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match next {
                Ok(ScanMsg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(ScanMsg::Rescan | ScanMsg::Follow) => {
                    follow = matches!(next, Ok(ScanMsg::Follow));
                    // Let a burst of changes settle.
                    let burst = Instant::now();
                    while burst.elapsed() < MAX_DEBOUNCE {
                        match rx.recv_timeout(DEBOUNCE) {
                            Ok(ScanMsg::Rescan) => follow = false,
                            Ok(ScanMsg::Follow) => continue,
                            Ok(ScanMsg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                            Err(RecvTimeoutError::Timeout) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => polled = true,
            }
        }
        let seen = scan.requested.load(Ordering::Acquire);
        let catalog = if scan.leading() {
            if follow {
                continue; // our own scan's announcement, or one from before we led
            }
            let previous = scan.cache.load();
            // A bug in a scan must not end rescanning for the life of the server.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scanner.rescan(&previous, polled)));
            // Not held past the swap: its memory goes back once the new one is in.
            drop(previous);
            match result {
                Ok(Ok(catalog)) => Some(catalog),
                Ok(Err(e)) => {
                    tracing::error!("scan failed: {e}");
                    None
                }
                Err(_) => {
                    tracing::error!("a scan failed unexpectedly; the next one will try again");
                    None
                }
            }
        } else if first || polled {
            // Another server scans; this one reads what it writes.
            first = false;
            continue;
        } else {
            let stats = crate::catalog::ScanStats { changed: true, ..Default::default() };
            scanner.catalog(stats).map_err(|e| tracing::error!("cannot read the shared index: {e}")).ok()
        };
        let first_catalog = catalog.is_some() && !imported && scan.leading();
        imported |= first_catalog;
        if scan.notices.send(Notice::Scanned { catalog, first: first_catalog, seen }).is_err() {
            return; // the app is gone
        }
        first = false;
    }
}
