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
