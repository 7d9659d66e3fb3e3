//! Facts about video files on disk: which names are videos and their
//! content types (`VIDEO_TYPES`), content-derived identities (`ids`),
//! pure-Rust probing (`probe`), the served roots as one interface
//! (`roots`, local folders opened through `fsafe`) and change notification
//! (`watch`).
//! Never writes to a video directory; knows nothing of the index or HTTP.

pub mod fsafe;
pub mod ids;
pub mod objects;
pub mod probe;
pub mod roots;
pub mod walk;
pub mod watch;

use std::path::Path;

/// The file extensions served as videos (compared case-insensitively), each
/// with the content type it is served as. The one table of both.
pub const VIDEO_TYPES: [(&str, &str); 19] = [
    ("mp4", "video/mp4"),
    ("m4v", "video/x-m4v"),
    ("mov", "video/quicktime"),
    ("webm", "video/webm"),
    ("mkv", "video/x-matroska"),
    ("ogg", "video/ogg"),
    ("ogv", "video/ogg"),
    ("ts", "video/mp2t"),
    ("m2ts", "video/mp2t"),
    ("mts", "video/mp2t"),
    ("avi", "video/x-msvideo"),
    ("wmv", "video/x-ms-wmv"),
    ("flv", "video/x-flv"),
    ("mpg", "video/mpeg"),
    ("mpeg", "video/mpeg"),
    ("vob", "video/mpeg"),
    ("3gp", "video/3gpp"),
    ("3g2", "video/3gpp2"),
    ("asf", "video/x-ms-asf"),
];

/// The content type of a video file by its extension; `None` when the
/// name is not a video's.
pub fn video_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?;
    VIDEO_TYPES.iter().find(|(e, _)| e.eq_ignore_ascii_case(ext)).map(|(_, t)| *t)
}

pub fn is_video_name(name: &std::ffi::OsStr) -> bool {
    video_type(Path::new(name)).is_some()
}

pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    meta.mtime().saturating_mul(1_000_000_000).saturating_add(meta.mtime_nsec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_table_of_extensions_and_types() {
        assert_eq!(video_type(Path::new("a/b.MP4")), Some("video/mp4"));
        assert_eq!(video_type(Path::new("b.m4v")), Some("video/x-m4v"));
        assert_eq!(video_type(Path::new("c.ogv")), Some("video/ogg"));
        assert_eq!(video_type(Path::new("notes.txt")), None);
        assert_eq!(video_type(Path::new("mp4")), None);
        assert!(is_video_name(std::ffi::OsStr::new("x.WebM")));
    }
}
