//! The media handle's set-up: the thumbnail store and its job queue, with
//! ffmpeg when there is one, and queueing what a catalog lacks.

use std::path::Path;
use std::sync::Arc;

use super::AppError;
use crate::catalog::Catalog;
use crate::config::{ConfigError, MediaConfig};
use crate::jobs::{Jobs, Lookup, Task};
use crate::library::ids::VideoId;
use crate::media::ffmpeg::Ffmpeg;
use crate::media::inside::cache::Inside;
use crate::media::inside::TextCollector;
use crate::media::remux::cache::Plans;
use crate::media::thumbs::Thumbs;

/// The thumbnail store and its job queue, with ffmpeg if there is one.
pub fn start_jobs(data_dir: &Path, media: &MediaConfig) -> Result<Jobs, AppError> {
    let thumbs =
        Thumbs::open(data_dir).map_err(|e| AppError::Config(ConfigError::DataDir(data_dir.to_path_buf(), e)))?;
    let ffmpeg = Ffmpeg::detect(media.ffmpeg.as_deref(), media.ffmpeg_timeout);
    match (&ffmpeg, &media.ffmpeg) {
        (None, Some(p)) => {
            tracing::warn!(
                "--ffmpeg {} is not a file; thumbnails come from images beside or inside the videos",
                p.display()
            )
        }
        (None, None) => tracing::info!("no ffmpeg on PATH; thumbnails come from images beside or inside the videos"),
        (Some(f), _) => tracing::debug!(ffmpeg = %f.path.display(), "ffmpeg found"),
    }
    Jobs::start(Arc::new(thumbs), ffmpeg, media.jobs).map_err(AppError::Runtime)
}

/// Reads the remux tables of the library's films in the background, so a
/// film's first play starts from kept tables instead of reading it whole:
/// one local file at a time, its reads in the idle I/O class and its CPU
/// in the idle class, each file once (`Plans::is_kept`); a newer catalog
/// replaces the one being gone through. A film someone started before
/// its turn (`soon`) is read next. Objects in buckets are left to their
/// first play (reading them all would download the library). With
/// `--no-background-reads` only the films asked for `soon` are read. A
/// Matroska film's text tracks are extracted on the same walk, so the
/// film is read once for both.
pub struct Prebuild {
    tx: std::sync::Mutex<Option<std::sync::mpsc::Sender<Ask>>>,
}

enum Ask {
    /// Go through this catalog (the newest one offered wins).
    Library(Arc<Catalog>),
    /// Read this video's tables before the others.
    Soon(VideoId),
}

/// Most videos waiting to be read `soon`.
const SOON: usize = 16;

impl Prebuild {
    pub fn start(plans: Arc<Plans>, inside: Arc<Inside>, background: bool) -> std::io::Result<Prebuild> {
        let (tx, rx) = std::sync::mpsc::channel::<Ask>();
        std::thread::Builder::new().name("vidserve-plans".into()).spawn(move || {
            crate::media::ffmpeg::background_priority(0);
            crate::media::ffmpeg::idle_reads();
            read_tables_in_turn(&plans, &inside, &rx, background);
        })?;
        Ok(Prebuild { tx: std::sync::Mutex::new(Some(tx)) })
    }

    /// Goes through `catalog` (the newest one offered wins).
    pub fn offer(&self, catalog: Arc<Catalog>) {
        self.send(Ask::Library(catalog));
    }

    /// Reads `id`'s tables next, unless they are kept.
    pub fn soon(&self, id: VideoId) {
        self.send(Ask::Soon(id));
    }

    fn send(&self, ask: Ask) {
        if let Some(tx) = self.tx.lock().ok().and_then(|t| t.clone()) {
            let _ = tx.send(ask);
        }
    }

    /// Stops after the file being read (the thread is not waited for).
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
    }
}

/// The plans thread: takes every message waiting, then reads one file
/// (one asked for `soon` first, else the walk's next), until closed.
fn read_tables_in_turn(plans: &Plans, inside: &Inside, rx: &std::sync::mpsc::Receiver<Ask>, background: bool) {
    use std::sync::mpsc::TryRecvError;
    // Files read once already (kept, or not keepable: a full or read-only
    // data dir never makes the same film be read again).
    let mut tried = std::collections::HashSet::new();
    let mut catalog: Option<Arc<Catalog>> = None;
    // The walk's next position in the catalog.
    let mut walk = 0;
    let mut soon = std::collections::VecDeque::new();
    loop {
        let walking = background && catalog.as_ref().is_some_and(|c| walk < c.videos().len());
        let ask = if walking || !soon.is_empty() {
            match rx.try_recv() {
                Ok(ask) => Some(ask),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => return,
            }
        } else {
            match rx.recv() {
                Ok(ask) => Some(ask),
                Err(_) => return,
            }
        };
        match ask {
            Some(Ask::Library(newer)) => {
                catalog = Some(newer);
                walk = 0;
                continue;
            }
            Some(Ask::Soon(id)) => {
                if soon.len() < SOON && !soon.contains(&id) {
                    soon.push_back(id);
                }
                continue;
            }
            None => {}
        }
        let Some(c) = catalog.as_deref() else {
            soon.clear();
            continue;
        };
        let video = match soon.pop_front() {
            Some(id) => c.get(id),
            None => {
                walk += 1;
                c.videos().get(walk - 1)
            }
        };
        if let Some(v) = video {
            read_tables(plans, inside, c, v, &mut tried);
        }
    }
}

/// Reads `v`'s remux tables whole and keeps them, unless they are kept,
/// were tried, or it is not a local file the server remuxes; a Matroska
/// file's text tracks not extracted yet come from the same walk.
fn read_tables(
    plans: &Plans,
    inside: &Inside,
    catalog: &Catalog,
    v: &crate::catalog::Video,
    tried: &mut std::collections::HashSet<crate::media::remux::cache::PlanKey>,
) {
    use crate::media::remux::cache::PlanKey;
    use crate::media::remux::{remuxable, Plan, RemuxError};
    if !remuxable(v) {
        return;
    }
    let f = v.primary();
    let key = PlanKey::of(v, 0);
    if tried.contains(&key) || plans.is_kept(&key) || plans.failure(&key).is_some() {
        return;
    }
    tried.insert(key);
    let located = catalog.located(f);
    let Ok(opened) = located.open(catalog.sources()) else { return };
    if opened.content.file().is_none() {
        return;
    }
    let started = std::time::Instant::now();
    let matroska = v.info.as_ref().is_some_and(|i| i.container == "mkv");
    let text = matroska.then(|| inside.text_to_extract(v.id, f, &located, catalog.sources())).flatten();
    // Subtitles asked for meanwhile wait for this walk, not make their own.
    let _turn = text.as_ref().map(|_| inside.turn());
    let mut cues = None;
    let read = || match &text {
        None => Plan::tables(&opened.content, 0),
        Some(described) => {
            let mut texts = TextCollector::new(&opened.content, &described.text).map_err(RemuxError::Read)?;
            let tables = Plan::tables_visiting(&opened.content, 0, |win, met| texts.visit(win, met))?;
            cues = Some(texts.finish());
            Ok(tables)
        }
    };
    let built = plans.load_or_build(&key, read);
    if let (Some(described), Some(cues)) = (&text, cues) {
        match inside.keep_cues(v.id, described, &cues) {
            Ok(_) => tracing::debug!(id = %v.id, tracks = cues.len(), "text tracks extracted with the remux tables"),
            Err(e) => tracing::debug!(id = %v.id, "text tracks not kept: {e}"),
        }
    }
    match built {
        Ok(plan) => tracing::debug!(
            id = %v.id, frames = plan.frames(), ms = started.elapsed().as_millis() as u64,
            "remux tables read in the background"
        ),
        Err(RemuxError::Unsupported(why)) => plans.fail(key, why),
        Err(RemuxError::Read(e)) => tracing::debug!(id = %v.id, "remux tables not read: {e}"),
    }
}

/// Starts the queue's sweep over `catalog` (just swapped in): every
/// listed video without a thumbnail, in listing order.
pub fn queue_thumbnails(jobs: &Jobs, catalog: &Catalog) {
    let waiting = catalog.videos().iter().filter(|v| jobs.wants(v.id)).count();
    jobs.sweep(waiting);
}

/// How the job queue sees the library: in `current()`, the catalog of the
/// moment.
pub fn lookup(current: impl Fn() -> Arc<Catalog> + Clone + Send + Sync + 'static) -> Lookup {
    let at = current.clone();
    Lookup {
        id_at: Box::new(move |i| at().videos().get(i).map(|v| v.id)),
        task: Box::new(move |id| task_of(&current(), id)),
    }
}

/// What the job queue needs to make video `id`'s thumbnail, from `catalog`.
pub fn task_of(catalog: &Catalog, id: VideoId) -> Option<Task> {
    let v = catalog.get(id)?;
    Some(Task {
        id,
        title: v.title().into_owned(),
        files: v.files.iter().map(|f| catalog.located(f)).collect(),
        roots: catalog.sources().clone(),
        duration_ms: v.duration_ms(),
    })
}
