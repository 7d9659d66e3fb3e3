//! The application: configuration, store, cache and the background scanner
//! thread, plus the two CLI entry points that start them (`run_server`,
//! `run_scan`).
//!
//! The scanner thread owns the `Scanner` and is the only writer of the scan
//! index. It rescans on request (file change, admin refresh, a missing file)
//! after a short quiet period, and every `rescan_every` as a fallback.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cli::ServeArgs;
use crate::config::{Config, ConfigError, MediaConfig};
use crate::events::{Event, Events};
use crate::http::files::OpenFiles;
use crate::jobs::{Jobs, Task};
use crate::library::scan::Scanner;
use crate::library::watch::{watch as watch_roots, Watcher};
use crate::media::ffmpeg::Ffmpeg;
use crate::media::thumbs::Thumbs;
use crate::metrics::Metrics;
use crate::store::cache::{Cache, Catalog, ScanStats};
use crate::store::import;
use crate::store::query::LiveOrders;
use crate::store::search::SearchCache;
use crate::store::user::UserCache;
use crate::store::writer::Writer;
use crate::store::{Store, StoreError};

/// Quiet time after a change before rescanning (a copy in progress sends
/// many events), and the longest a burst of events may delay a rescan.
const DEBOUNCE: Duration = Duration::from_millis(300);
const MAX_DEBOUNCE: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("port {} on {} is already in use; stop the other program or pass --port with another number", .0.port(), .0.ip())]
    AddrInUse(SocketAddr),
    #[error("cannot listen on {0} ({1}); ports below 1024 need privileges, try --port 8080")]
    Bind(SocketAddr, std::io::Error),
    #[error("cannot start: {0}")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Serve(#[from] crate::http::server::ServeError),
}

enum ScanMsg {
    Rescan,
    Stop,
}

pub struct App {
    pub config: Config,
    pub cache: Cache,
    /// Handles of recently streamed files.
    pub open_files: OpenFiles,
    /// Ratings, views and favorites, served from memory.
    pub users: Arc<UserCache>,
    /// The group-commit writer of user data.
    pub writer: Writer,
    /// Orders by rating and views, derived from user data.
    pub live_orders: LiveOrders,
    /// Live updates for open pages.
    pub events: Events,
    /// Recent search results.
    pub searches: SearchCache,
    /// Thumbnails and the job queue that makes them.
    pub jobs: Jobs,
    /// Counters and histograms for `/metrics`.
    pub metrics: Metrics,
    /// Where `serve` listens (set when it starts).
    pub listen: std::sync::OnceLock<SocketAddr>,
    pub started: Instant,
    /// The built-in load test: one at a time, the last result kept.
    pub load_test_running: AtomicBool,
    pub last_load_test: Mutex<Option<crate::loadtest::Report>>,
    /// Becomes true when shutdown starts (ends event streams).
    closing: watch::Sender<bool>,
    ready: AtomicBool,
    scan_tx: Mutex<mpsc::Sender<ScanMsg>>,
    /// Rescan requests made so far.
    requested: AtomicU64,
    /// The request count seen at the start of the last finished scan.
    completed: watch::Receiver<u64>,
    scan_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    _watcher: Option<Watcher>,
}

impl App {
    /// Opens the store and starts the scanner (blocking: call it off the
    /// async workers). With a stored index the app serves at once while a
    /// rescan runs; without one it is not ready until the first scan ends.
    pub fn start(config: Config) -> Result<Arc<App>, AppError> {
        let store = Arc::new(Store::open(&config.library.data_dir)?);
        let users = Arc::new(UserCache::new(store.load_user()?));
        let events = Events::default();
        let writer = Writer::start(store.clone(), users.clone(), events.clone()).map_err(AppError::Runtime)?;
        let scanner = Scanner::new(config.library.roots.clone(), store.clone())?;
        let jobs = start_jobs(&config.library.data_dir, &config.media)?;
        let ready = scanner.has_index();
        let catalog = if ready { scanner.catalog(ScanStats::default()) } else { Catalog::default() };
        let (tx, rx) = mpsc::channel();
        let (done_tx, done_rx) = watch::channel(0u64);
        let watcher = if config.watch {
            let tx = Mutex::new(tx.clone());
            let on_change = move || {
                let _ = tx.lock().map(|t| t.send(ScanMsg::Rescan));
            };
            match watch_roots(&config.library.roots, on_change) {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!("cannot watch the video dirs ({e}); relying on the periodic rescan");
                    None
                }
            }
        } else {
            None
        };
        let app = Arc::new(App {
            config,
            cache: Cache::new(catalog),
            open_files: OpenFiles::default(),
            users,
            writer,
            live_orders: LiveOrders::default(),
            events,
            searches: SearchCache::default(),
            jobs,
            metrics: Metrics::default(),
            listen: std::sync::OnceLock::new(),
            started: Instant::now(),
            load_test_running: AtomicBool::new(false),
            last_load_test: Mutex::new(None),
            closing: watch::channel(false).0,
            ready: AtomicBool::new(ready),
            scan_tx: Mutex::new(tx),
            requested: AtomicU64::new(0),
            completed: done_rx,
            scan_thread: Mutex::new(None),
            _watcher: watcher,
        });
        let weak = Arc::downgrade(&app);
        let every = app.config.rescan_every;
        let thread = std::thread::Builder::new()
            .name("vidserve-scan".into())
            .spawn(move || scan_loop(scanner, store, weak, rx, done_tx, every))
            .map_err(AppError::Runtime)?;
        *app.scan_thread.lock().expect("not poisoned: nothing panics while holding it") = Some(thread);
        Ok(app)
    }

    /// Whether the catalog reflects at least one scan or a stored index.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
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

    /// Marks the start of shutdown: long-lived responses (event streams) end.
    pub fn begin_shutdown(&self) {
        self.closing.send_replace(true);
    }

    /// A receiver that sees `true` once shutdown has started.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Waits until the app is ready (the first scan finished). False on timeout.
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
}

impl App {
    /// Commits the writes still queued, then stops the scanner and waits for
    /// both to let go of the database, so the
    /// data dir can be opened again at once. Blocking; a scan in progress
    /// finishes first (its writes are one transaction either way).
    pub fn close(&self) {
        self.jobs.close();
        self.writer.close();
        if let Ok(tx) = self.scan_tx.lock() {
            let _ = tx.send(ScanMsg::Stop);
        }
        let thread = self.scan_thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(tx) = self.scan_tx.lock() {
            let _ = tx.send(ScanMsg::Stop);
        }
    }
}

fn scan_loop(
    mut scanner: Scanner,
    store: Arc<Store>,
    app: Weak<App>,
    rx: mpsc::Receiver<ScanMsg>,
    done: watch::Sender<u64>,
    every: Duration,
) {
    let mut first = true;
    let mut imported = false;
    loop {
        if !first {
            match rx.recv_timeout(every) {
                Ok(ScanMsg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(ScanMsg::Rescan) => {
                    // Let a burst of changes settle.
                    let burst = Instant::now();
                    while burst.elapsed() < MAX_DEBOUNCE {
                        match rx.recv_timeout(DEBOUNCE) {
                            Ok(ScanMsg::Rescan) => continue,
                            Ok(ScanMsg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                            Err(RecvTimeoutError::Timeout) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
        first = false;
        let Some(seen) = app.upgrade().map(|a| a.requested.load(Ordering::Acquire)) else { return };
        // A bug in a scan must not end rescanning for the life of the server.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scanner.scan()));
        let result = match result {
            Ok(r) => r,
            Err(_) => {
                tracing::error!("a scan failed unexpectedly; the next one will try again");
                done.send_replace(seen);
                continue;
            }
        };
        let Some(app) = app.upgrade() else { return };
        match result {
            Ok(catalog) => {
                let s = &catalog.stats;
                tracing::info!(
                    videos = catalog.len(),
                    broken = catalog.broken.len(),
                    files = s.files_seen,
                    hashed = s.hashed,
                    probed = s.probed,
                    ms = s.duration.as_millis() as u64,
                    "scan finished"
                );
                if !imported {
                    imported = true;
                    auto_import(&app, &store, &catalog);
                }
                queue_thumbnails(&app.jobs, &catalog);
                let (videos, changed) = (catalog.len(), catalog.stats.changed);
                app.cache.replace(catalog);
                app.open_files.clear();
                if changed {
                    app.events.send(Event::Library { videos });
                }
                app.ready.store(true, Ordering::Release);
                release_free_memory();
            }
            Err(e) => tracing::error!("scan failed: {e}"),
        }
        done.send_replace(seen);
    }
}

/// The thumbnail store and its job queue, with ffmpeg if there is one.
pub fn start_jobs(data_dir: &Path, media: &MediaConfig) -> Result<Jobs, AppError> {
    let thumbs =
        Thumbs::open(data_dir).map_err(|e| AppError::Config(ConfigError::DataDir(data_dir.to_path_buf(), e)))?;
    let ffmpeg = Ffmpeg::detect(media.ffmpeg.as_deref(), media.ffmpeg_timeout);
    match (&ffmpeg, &media.ffmpeg) {
        (None, Some(p)) => {
            tracing::warn!("--ffmpeg {} is not a file; thumbnails come from images beside the videos only", p.display())
        }
        (None, None) => tracing::info!("no ffmpeg on PATH; thumbnails come from images beside the videos only"),
        (Some(f), _) => tracing::debug!(ffmpeg = %f.path.display(), "ffmpeg found"),
    }
    Jobs::start(Arc::new(thumbs), ffmpeg, media.jobs).map_err(AppError::Runtime)
}

/// Queues a thumbnail for every listed video that has none.
pub fn queue_thumbnails(jobs: &Jobs, catalog: &Catalog) {
    for v in catalog.videos() {
        if jobs.thumbs.has(v.id) {
            continue;
        }
        jobs.want_thumbnail(Task {
            id: v.id,
            title: v.title.clone(),
            files: v.files.iter().map(|f| catalog.abs_path(f)).collect(),
            duration_ms: v.duration_ms(),
        });
    }
}

/// On first start, imports the original server's data files found in the
/// video dirs or the working dir (each file once, ever).
fn auto_import(app: &App, store: &Store, catalog: &Catalog) {
    let cwd = std::env::current_dir().ok();
    let mut dirs: Vec<&Path> = app.config.library.roots.iter().map(|r| r.path.as_path()).collect();
    dirs.extend(cwd.as_deref());
    let files = import::find_sources(&dirs);
    if files.is_empty() {
        return;
    }
    let apply = |edits| app.writer.write_all_blocking(edits).map(|_| ()).map_err(|e| e.to_string());
    match import::import(store, catalog, &files, false, apply) {
        Ok(r) if r.files.is_empty() => {}
        Ok(r) => tracing::info!(
            files = r.files.len(),
            matched = r.matched,
            changes = r.changes,
            unmatched = r.unmatched.len(),
            problems = r.problems.len(),
            "imported the original server's data"
        ),
        Err(e) => tracing::error!("import of the original server's data failed: {e}"),
    }
}

/// Hands memory freed by a scan back to the system (glibc keeps it
/// otherwise, and the RSS of a long-running server would show the peak).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// `vidserve [serve]`: binds, starts the app, serves until SIGINT/SIGTERM.
pub fn run_server(args: &ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_cli(args)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(AppError::Runtime)?;
    rt.block_on(async move {
        let bind = config.bind;
        let listener = TcpListener::bind(bind).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => AppError::AddrInUse(bind),
            _ => AppError::Bind(bind, e),
        })?;
        let addr = listener.local_addr().map_err(AppError::Runtime)?;
        let app = tokio::task::spawn_blocking(move || App::start(config)).await??;
        print_banner(addr, &app);
        crate::serve(listener, app.clone(), shutdown_signal()).await?;
        tokio::task::spawn_blocking(move || app.close()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Prints where to find the server. Write errors are ignored: a closed
/// stdout (a service manager, a pipe gone) must not stop the server.
fn print_banner(addr: SocketAddr, app: &App) {
    use std::fmt::Write as _;
    use std::io::Write as _;
    let port = addr.port();
    let dirs: Vec<String> = app.config.library.roots.iter().map(|r| r.path.display().to_string()).collect();
    let mut out = format!("vidserve {} serving {}\n", env!("CARGO_PKG_VERSION"), dirs.join(", "));
    if addr.ip().is_unspecified() {
        let _ = writeln!(out, "  Local:   http://127.0.0.1:{port}/");
        for ip in lan_addresses() {
            let _ = match ip {
                IpAddr::V4(v4) => writeln!(out, "  Network: http://{v4}:{port}/"),
                IpAddr::V6(v6) => writeln!(out, "  Network: http://[{v6}]:{port}/"),
            };
        }
    } else {
        let _ = writeln!(out, "  Local:   http://{addr}/");
    }
    let _ = writeln!(out, "  Data:    {}", app.config.library.data_dir.display());
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
}

/// Non-loopback IPv4 addresses of this machine's interfaces.
fn lan_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, freed below; entries are read only
    // while the list is alive, and sockaddr_in is read only for AF_INET.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return out;
        }
        let mut cur = list;
        while !cur.is_null() {
            let addr = (*cur).ifa_addr;
            if !addr.is_null() && i32::from((*addr).sa_family) == libc::AF_INET {
                let sin = &*(addr as *const libc::sockaddr_in);
                let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                if !ip.is_loopback() {
                    out.push(IpAddr::V4(ip));
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    out
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
