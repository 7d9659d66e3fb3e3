//! Media work beside the library: thumbnails (`thumbs`), subtitles beside
//! the videos (`subtitles`), what is inside the files (`inside`: chapters,
//! audio tracks, embedded subtitles) and the optional ffmpeg (`ffmpeg`, detected at
//! start). Calls that touch the disk or
//! decode block: they run on the job threads or `spawn_blocking`, never on
//! the async workers (`Thumbs::has` and `sprite` only read memory).

pub mod ffmpeg;
pub mod inside;
pub mod remux;
pub mod subtitles;
pub mod thumbs;
pub mod transcode;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("ffmpeg did not finish within {0} s and was stopped")]
    Timeout(u64),
    #[error("ffmpeg failed: {0}")]
    Ffmpeg(String),
    #[error("not a usable image: {0}")]
    Image(String),
    #[error("no picture: no image beside the file{0}")]
    NoSource(&'static str),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl MediaError {
    /// Whether trying the same file again would fail the same way (not a
    /// timeout on a busy machine or a disk error that may pass).
    pub fn is_lasting(&self) -> bool {
        matches!(self, MediaError::Ffmpeg(_) | MediaError::Image(_) | MediaError::NoSource(_))
    }
}
