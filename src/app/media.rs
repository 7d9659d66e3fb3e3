//! The media handle's set-up: the thumbnail store and its job queue, with
//! ffmpeg when there is one, and queueing what a catalog lacks.

use std::path::Path;
use std::sync::Arc;

use super::AppError;
use crate::catalog::Catalog;
use crate::config::{ConfigError, MediaConfig};
use crate::jobs::{Jobs, Task};
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

/// Queues a thumbnail for every listed video that has none.
pub fn queue_thumbnails(jobs: &Jobs, catalog: &Catalog) {
    for v in catalog.videos() {
        if !jobs.thumbs.has(v.id) {
            jobs.want_thumbnail(v.id);
        }
    }
}

/// What the job queue needs to make video `id`'s thumbnail, from `catalog`.
pub fn task_of(catalog: &Catalog, id: VideoId) -> Option<Task> {
    let v = catalog.get(id)?;
    Some(Task {
        id,
        title: v.title().into_owned(),
        files: v.files.iter().map(|f| catalog.located(f)).collect(),
        roots: catalog.root_paths().into(),
        duration_ms: v.duration_ms(),
    })
}
