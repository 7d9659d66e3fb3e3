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

/// What users made of one video. Fields added later default when absent,
/// so older records stay readable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserData {
    /// 1 to 5 stars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default)]
    pub views: u64,
    /// Unix seconds of the last counted view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_viewed: Option<i64>,
    #[serde(default)]
    pub favorite: bool,
}

/// One change to a video's user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// Set (1–5) or clear the rating.
    Rate(Option<u8>),
    /// Count one view at the given Unix second.
    View(i64),
    Favorite(bool),
    ToggleFavorite,
}

impl UserData {
    pub fn apply(&mut self, edit: Edit) {
        match edit {
            Edit::Rate(r) => self.rating = r,
            Edit::View(at) => {
                self.views += 1;
                self.last_viewed = Some(at);
            }
            Edit::Favorite(f) => self.favorite = f,
            Edit::ToggleFavorite => self.favorite = !self.favorite,
        }
    }
}
