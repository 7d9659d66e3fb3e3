//! The values stored in the scan index.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::library::ids::VideoId;
use crate::library::probe::MediaInfo;

/// One file seen on disk. When a rescan finds the same size and mtime at the
/// same path, the id is reused without reading the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: VideoId,
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Device and inode: opening checks the file is still this one (0 in
    /// records written before they were kept).
    #[serde(default)]
    pub dev: u64,
    #[serde(default)]
    pub ino: u64,
}

/// What is known of one piece of content, whatever its path. Kept when all
/// its files disappear, for when they come back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoRecord {
    pub size: u64,
    /// When the content was first seen, seconds since the Unix epoch.
    pub added: i64,
    pub info: Option<Arc<MediaInfo>>,
    /// Why the file cannot be played, when it cannot.
    pub broken: Option<String>,
}
