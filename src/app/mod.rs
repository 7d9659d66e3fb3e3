//! The application: a few handles, each owning one concern, and the steps
//! that tie them together.
//!
//! - `library` (`Library`): the current catalog and the scanner thread;
//! - `user_data` (`UserDataHandle`): user data in memory, its writer and
//!   derived orders (accounts are `people`);
//! - `jobs` (`crate::jobs::Jobs`, set up by `media`): thumbnails and the
//!   job queue that makes them;
//! - `ops` (`Ops`): metrics, listen address, shutdown, the load test;
//! - `events` (`crate::events::Events`): live updates for open pages;
//! - `playlists` (`playlists::Playlists`): each person's playlists;
//! - `inside` (`crate::media::inside::cache::Inside`): chapters, audio and
//!   text tracks read from inside the files.
//!
//! The fields are private; each handle is an `Arc` lent by an accessor,
//! so a caller holds only what it uses.
//!
//! `App::start` opens the store and starts the writer, job threads, watcher
//! and scanner. The background pieces never hold the app: the scanner and
//! the backup clock send `Notice`s, which the app's own thread acts on
//! (after each scan `scanned` swaps the catalog in, the first time
//! importing the original server's files); `close` stops them all.
//!
//! Never: speaks HTTP or parses a command line (`http` and `commands` sit
//! above it).

mod backup;
mod library;
mod media;
mod ops;
pub mod playlists;
mod replica;
mod user_data;

use std::path::Path;
use std::sync::{mpsc, Arc, Mutex, Weak};
use std::thread::JoinHandle;

pub use backup::{backup_store, Backups, BACKUP_DIR};
pub use library::{Library, Watching};
pub use media::{lookup, queue_thumbnails, start_jobs, task_of, Prebuild};
pub use ops::{lan_addresses, machine_name, scheme, LoadTestSlot, Ops};
pub use user_data::UserDataHandle;

use crate::catalog::Catalog;
use crate::catalog::ScanStats;
use crate::config::{Config, ConfigError};
use crate::events::{Event, Events};
use crate::jobs::Jobs;
use crate::library::watch::watch as watch_roots;
use crate::metrics::Snapshot;
use crate::scan::Scanner;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start a thread ({0})")]
    Runtime(std::io::Error),
    #[error(transparent)]
    Chat(#[from] crate::chat::ChatError),
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
}

/// What the background pieces tell the app.
pub(crate) enum Notice {
    /// A scan ended (`None`: it failed) after rescan request `seen`;
    /// `first`: the first catalog a scan made.
    Scanned { catalog: Option<Catalog>, first: bool, seen: u64 },
    /// The newest backup is a day old.
    BackupDue,
}

pub struct App {
    config: Config,
    library: Arc<Library>,
    user_data: Arc<UserDataHandle>,
    jobs: Arc<Jobs>,
    ops: Arc<Ops>,
    events: Events,
    /// Daily and shutdown snapshots of user data.
    backups: Backups,
    /// Accounts, sessions and tokens (none: nobody signs in).
    people: Arc<crate::people::People>,
    /// The chat about the library (`None`: no endpoint configured).
    chat: Option<Arc<crate::chat::Chat>>,
    /// HTTPS: the certificate and its settings (`None`: plain HTTP).
    tls: Option<Arc<crate::tls::Tls>>,
    /// Each person's playlists.
    playlists: Arc<playlists::Playlists>,
    /// Remux plans of the videos being played.
    plans: Arc<crate::media::remux::cache::Plans>,
    /// Reads films' remux tables in the background.
    prebuild: Arc<Prebuild>,
    /// Sound remade for browsers by ffmpeg.
    sound: Arc<crate::media::remux::sound::Sound>,
    /// Video browsers cannot decode, transcoded as it plays.
    transcodes: Arc<crate::media::transcode::Transcodes>,
    /// Chapters, audio and text tracks inside the files, kept in the data dir.
    inside: Arc<crate::media::inside::cache::Inside>,
    store: Arc<dyn Store>,
    /// With a shared database: following the other servers.
    replica: std::sync::OnceLock<replica::Replica>,
    /// The thread that acts on `Notice`s.
    notices: Mutex<Option<JoinHandle<()>>>,
}

/// The handles, each lent to the code that uses it (the HTTP handlers get
/// only the ones they name). None can be replaced from outside.
impl App {
    pub fn config(&self) -> &Config {
        &self.config
    }
    pub fn library(&self) -> &Arc<Library> {
        &self.library
    }
    pub fn user_data(&self) -> &Arc<UserDataHandle> {
        &self.user_data
    }
    pub fn jobs(&self) -> &Arc<Jobs> {
        &self.jobs
    }
    pub fn ops(&self) -> &Arc<Ops> {
        &self.ops
    }
    pub fn events(&self) -> &Events {
        &self.events
    }
    pub fn people(&self) -> &Arc<crate::people::People> {
        &self.people
    }
    pub fn chat(&self) -> Option<&Arc<crate::chat::Chat>> {
        self.chat.as_ref()
    }
    pub fn tls(&self) -> Option<&Arc<crate::tls::Tls>> {
        self.tls.as_ref()
    }
    pub fn playlists(&self) -> &Arc<playlists::Playlists> {
        &self.playlists
    }
    pub fn plans(&self) -> &Arc<crate::media::remux::cache::Plans> {
        &self.plans
    }
    pub fn sound(&self) -> &Arc<crate::media::remux::sound::Sound> {
        &self.sound
    }
    pub fn prebuild(&self) -> &Arc<Prebuild> {
        &self.prebuild
    }
    pub fn transcodes(&self) -> &Arc<crate::media::transcode::Transcodes> {
        &self.transcodes
    }
    pub fn inside(&self) -> &Arc<crate::media::inside::cache::Inside> {
        &self.inside
    }
}

impl App {
    /// Opens the store and starts the user-data writer, the job threads, the
    /// watcher and the scanner (blocking: call it off the async workers). With a stored index the app serves at once while a
    /// rescan runs; without one it is not ready until the first scan ends.
    pub fn start(config: Config) -> Result<Arc<App>, AppError> {
        // First: a certificate that does not load stops the start at once.
        let tls = match &config.tls {
            Some(source) => {
                let machine = crate::app::machine_name();
                let tls = crate::tls::Tls::start(
                    source.clone(),
                    &config.library.data_dir,
                    machine.as_deref(),
                    &config.host_names,
                )?;
                Some(Arc::new(tls))
            }
            None => None,
        };
        let shared = config.library.database.as_ref().map(crate::store::PgStore::open).transpose()?.map(Arc::new);
        let store: Arc<dyn Store> = match &shared {
            Some(pg) => pg.clone(),
            None => crate::store::open(&config.library.data_dir, None)?,
        };
        let events = Events::default();
        let user_data = UserDataHandle::start(store.clone(), events.clone())?;
        let scanner = Scanner::new(config.library.roots.clone(), store.clone())?;
        let jobs = start_jobs(&config.library.data_dir, &config.media)?;
        let ready = scanner.has_index()?;
        let t = std::time::Instant::now();
        let catalog = if ready { scanner.catalog(ScanStats::default())? } else { Catalog::default() };
        tracing::debug!(
            ms = t.elapsed().as_millis() as u64,
            videos = catalog.len(),
            "catalog built from the stored index"
        );
        let library = Library::new(catalog, ready);
        let backups = Backups::new(&config.library.data_dir, config.keep_backups);
        let people = crate::people::People::load(store.clone())?;
        people.set_roots(config.library.roots.iter().map(|r| r.path.clone()).collect());
        let chat = config.chat.clone().map(crate::chat::Chat::new).transpose()?;
        let data_dir = &config.library.data_dir;
        let inside = crate::media::inside::cache::Inside::open(data_dir)
            .map(Arc::new)
            .map_err(|e| AppError::Config(ConfigError::DataDir(data_dir.clone(), e)))?;
        let ops = Ops::default();
        let playlists = playlists::Playlists::load(store.clone())?;
        let plans = crate::media::remux::cache::Plans::open(data_dir)
            .map(Arc::new)
            .map_err(|e| AppError::Config(ConfigError::DataDir(data_dir.clone(), e)))?;
        let ffmpeg =
            jobs.ffmpeg.clone().map(|path| crate::media::ffmpeg::Ffmpeg { path, timeout: config.media.ffmpeg_timeout });
        let transcodes = crate::media::transcode::Transcodes::new(
            ffmpeg.clone(),
            config.media.transcode.clone(),
            data_dir.join("segments"),
        );
        transcodes.probe_in_background();
        let sound = crate::media::remux::sound::Sound::open(data_dir, ffmpeg)
            .map(Arc::new)
            .map_err(|e| AppError::Config(ConfigError::DataDir(data_dir.clone(), e)))?;
        let prebuild =
            Prebuild::start(plans.clone(), inside.clone(), config.media.background_reads).map_err(AppError::Runtime)?;
        let app = Arc::new(App {
            config,
            library: Arc::new(library),
            user_data: Arc::new(user_data),
            jobs: Arc::new(jobs),
            ops: Arc::new(ops),
            events,
            backups,
            people: Arc::new(people),
            chat: chat.map(Arc::new),
            tls,
            playlists: Arc::new(playlists),
            prebuild: Arc::new(prebuild),
            plans,
            sound,
            transcodes,
            inside,
            store,
            replica: std::sync::OnceLock::new(),
            notices: Mutex::new(None),
        });
        let leading = match shared {
            Some(pg) => {
                let replica = replica::Replica::start(&app, pg).map_err(AppError::Runtime)?;
                let leading = replica.leading();
                let _ = app.replica.set(replica);
                Some(leading)
            }
            None => None,
        };
        let cache = app.library.cache.clone();
        app.jobs.look_up_with(media::lookup(move || cache.load()));
        if app.config.watch {
            let tx = std::sync::Mutex::new(app.library.rescan_sender());
            let on_change = move || {
                if let Ok(Some(t)) = tx.lock().as_deref() {
                    let _ = t.send(library::ScanMsg::Rescan);
                }
            };
            match watch_roots(&app.config.library.roots, on_change) {
                Ok((w, how)) => app.library.keep_watcher(w, how),
                Err(e) => tracing::warn!("cannot watch the video dirs ({e}); relying on the periodic rescan"),
            }
        }
        let roots = app.config.library.roots.len();
        let mut how = app.library.watching();
        if how.len() != roots {
            let why = if app.config.watch {
                "the system does not notify changes here"
            } else {
                "watching is off (--no-watch)"
            };
            how = vec![library::Watching::Polled(why.into()); roots];
            app.library.set_watching(how.clone());
        }
        // Polling only where notifications cannot be trusted.
        let every = how.iter().any(|h| *h != library::Watching::Notified).then_some(app.config.rescan_every);
        let (tx, rx) = mpsc::channel();
        let weak = Arc::downgrade(&app);
        let thread = std::thread::Builder::new()
            .name("vidserve-app".into())
            .spawn(move || act_on(&weak, &rx))
            .map_err(AppError::Runtime)?;
        if let Ok(mut slot) = app.notices.lock() {
            *slot = Some(thread);
        }
        app.library.start_scanner(scanner, tx.clone(), every, leading).map_err(AppError::Runtime)?;
        app.backups.start(tx).map_err(AppError::Runtime)?;
        Ok(app)
    }

    /// After each scan (on the app's thread): the first time, import the
    /// original server's files; swap the new catalog in; queue the missing
    /// thumbnails; tell open pages when something changed.
    fn scanned(&self, catalog: Catalog, first: bool) {
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
        if first {
            self.auto_import(&catalog);
        }
        let (videos, changed) = (catalog.len(), catalog.stats.changed);
        if changed {
            // What was kept for videos that left the library goes with them.
            let known: std::collections::HashSet<_> =
                catalog.videos().iter().chain(catalog.broken.iter()).map(|v| v.id).collect();
            let removed = self.inside.keep_only(&known) + self.sound.keep_only(&known) + self.plans.keep_only(&known);
            if removed > 0 {
                tracing::info!(
                    removed,
                    "kept tracks, sound and remux tables of videos no longer in the library removed"
                );
            }
        }
        self.library.cache.replace(catalog);
        // After the swap: the queue finds its videos in the current catalog.
        queue_thumbnails(&self.jobs, &self.library.catalog());
        // Films read whole for their remux once, in the background, by the
        // server that scans (replicas share the data dir).
        if self.replica.get().is_none_or(replica::Replica::is_leader) {
            self.prebuild.offer(self.library.catalog());
        }
        if changed {
            self.events.send(Event::Library { videos });
        }
        self.library.set_ready();
        release_free_memory();
    }

    /// On first start, imports the original server's data files found in
    /// the video dirs or the working dir (each file once, ever).
    fn auto_import(&self, catalog: &Catalog) {
        let cwd = std::env::current_dir().ok();
        let mut dirs: Vec<&Path> = self.config.library.roots.iter().map(|r| r.path.as_path()).collect();
        dirs.extend(cwd.as_deref());
        let files = crate::import::find_sources(&dirs);
        if files.is_empty() {
            return;
        }
        let apply = |edits| self.user_data.write_all_blocking(edits).map(|_| ()).map_err(|e| e.to_string());
        match crate::import::import(self.store.as_ref(), catalog, &files, crate::import::Once::PerDataDir, apply) {
            Ok(r) if r.files.is_empty() => {
                for (f, why) in &r.skipped {
                    tracing::debug!(file = %f.display(), "not imported again: {why}");
                }
            }
            Ok(r) => {
                tracing::info!(
                    files = r.files.len(),
                    matched = r.matched,
                    changes = r.changes,
                    unmatched = r.unmatched.len(),
                    problems = r.problems.len(),
                    skipped = r.skipped.len(),
                    "imported the original server's data"
                );
                // An export may have brought playlists.
                if let Err(e) = self.playlists.reload() {
                    tracing::error!("cannot read the imported playlists: {e}");
                }
            }
            Err(e) => tracing::error!("import of the original server's data failed: {e}"),
        }
    }

    /// Removes an account with what is only its own: its ratings,
    /// favorites, positions and playlists; for the household's owner, the
    /// household's, after a backup (blocking).
    pub fn remove_account(&self, name: &str) -> Result<(), crate::people::PeopleError> {
        let was_owner = self.people.is_owner(name);
        // The household's data is in a backup before it goes (written
        // here: `remove` holds the accounts while it runs `clear`).
        if was_owner {
            self.backups.write_now(self);
        }
        let clear = || self.user_data.clear_household().map_err(|e| e.to_string());
        self.people.remove(name, true, clear)?;
        self.user_data.forget(name);
        self.playlists.forget(&name.to_lowercase(), was_owner);
        Ok(())
    }

    /// Whether the state can be reached: always with the data dir's
    /// files; with a shared database, while it answers.
    pub fn store_reachable(&self) -> bool {
        self.replica.get().is_none_or(replica::Replica::reachable)
    }

    /// User records set aside because they could not be read (blocking).
    pub fn damaged_user_records(&self) -> usize {
        self.store.damaged_user_records().map_or(0, |d| d.len())
    }

    /// The numbers `/metrics` reads from the rest of the server.
    pub fn metrics_snapshot(&self) -> Snapshot {
        use std::sync::atomic::Ordering::Relaxed;
        let catalog = self.library.catalog();
        let s = &catalog.stats;
        let (cache_hits, cache_misses) = self.user_data.cache_counts();
        let p = &self.jobs.progress;
        Snapshot {
            videos: catalog.len(),
            videos_broken: catalog.broken.len(),
            scan_files: s.files_seen,
            scan_unreadable: s.unreadable.len(),
            scan_duration_seconds: s.duration.as_secs_f64(),
            cache_hits,
            cache_misses,
            cache_rebuilds: self.library.cache.rebuilds.load(Relaxed),
            jobs_waiting: self.jobs.waiting(),
            jobs_done: p.done.load(Relaxed),
            jobs_failed: p.failed.load(Relaxed),
            thumbnails: self.jobs.thumbs.count(),
        }
    }

    /// Stops the job queue, commits the writes still queued, backs user
    /// data up, then stops the scanner and waits for the writer and the
    /// scanner to let go of the database, so the data dir can be opened
    /// again at once. Blocking.
    pub fn close(&self) {
        self.prebuild.close();
        self.jobs.close();
        self.user_data.close();
        self.backups.stop();
        self.backups.write_now(self);
        self.library.close();
        // Every sender has ended with the scanner and the backup clock.
        let thread = self.notices.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread.filter(|t| t.thread().id() != std::thread::current().id()) {
            let _ = thread.join();
        }
    }
}

/// The app's own thread: acts on what the background pieces tell it, until
/// they have all ended (or the app is gone).
fn act_on(app: &Weak<App>, notices: &mpsc::Receiver<Notice>) {
    while let Ok(notice) = notices.recv() {
        let Some(app) = app.upgrade() else { return };
        match notice {
            Notice::Scanned { catalog, first, seen } => {
                if let Some(catalog) = catalog {
                    app.scanned(catalog, first);
                }
                app.library.completed(seen);
            }
            Notice::BackupDue => app.backups.write_now(&app),
        }
    }
}

/// Asks the kernel for small pages only. With transparent huge pages, a
/// 2 MiB page counts whole in the RSS once any of it is touched, and the
/// allocator asks for them: a million videos' catalog showed 518 MB after
/// use instead of 414 MB, an empty library 21 MB instead of 10 MB, with no
/// throughput gained. Call it first thing in `main`.
pub fn prefer_small_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag of this
    // process; an old kernel that lacks it returns an error, ignored.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Asks mimalloc to give freed pages back at once rather than after its
/// default 10 ms (which, for the heaps of threads that have ended, can
/// mean never): 100,000 videos held 62 MB instead of 68 MB after the same
/// requests, at the same throughput. Call it first thing in `main`.
pub fn return_freed_pages_at_once() {
    /// `mi_option_purge_delay` in mimalloc 2's `mimalloc.h` (the crate
    /// names no constant for it).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting an option only changes when freed pages are returned.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}

/// Hands memory freed by a scan back to the system at once, whichever
/// allocator holds it (mimalloc in the binary, the C library's in tests);
/// otherwise the RSS of a long-running server would show the peak.
fn release_free_memory() {
    // SAFETY: mi_collect only frees mimalloc's unused pages (of this
    // thread's heap and of abandoned ones).
    unsafe { libmimalloc_sys::mi_collect(true) };
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages.
    unsafe {
        libc::malloc_trim(0);
    }
}
