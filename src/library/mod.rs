//! The video library on disk: walking the roots (`scan`), content-derived
//! identities (`ids`), pure-Rust probing (`probe`) and change notification
//! (`watch`). Never writes to a video directory.

pub mod ids;
pub mod probe;
pub mod scan;
pub mod watch;

/// File extensions served as videos (compared case-insensitively).
pub const VIDEO_EXTENSIONS: [&str; 7] = ["mp4", "m4v", "mov", "webm", "mkv", "ogg", "ogv"];

pub fn is_video_name(name: &std::ffi::OsStr) -> bool {
    std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| VIDEO_EXTENSIONS.iter().any(|v| v.eq_ignore_ascii_case(e)))
}
