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
    /// Free tags, without a leading `#`, each once (case-insensitively).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A title given by the user (the file is never renamed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where playback stopped, in milliseconds, and when (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_at: Option<i64>,
}

/// One change to a video's user data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Set (1–5) or clear the rating.
    Rate(Option<u8>),
    /// Count one view at the given Unix second.
    View(i64),
    Favorite(bool),
    ToggleFavorite,
    /// Views counted elsewhere (an import).
    AddViews(u64),
    /// Set (already trimmed, non-empty) or clear the user's title.
    Title(Option<String>),
    /// Remember (at the given Unix second) or forget the resume position.
    Position(Option<u64>, i64),
    /// A tag already made valid by `normalise_tag`.
    AddTag(String),
    RemoveTag(String),
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
            Edit::AddViews(n) => self.views = self.views.saturating_add(n),
            Edit::Title(t) => self.title = t,
            Edit::Position(p, at) => {
                self.position_ms = p;
                self.position_at = p.map(|_| at);
            }
            Edit::ToggleFavorite => self.favorite = !self.favorite,
            Edit::AddTag(t) => {
                if !self.has_tag(&t) && self.tags.len() < MAX_TAGS {
                    self.tags.push(t);
                }
            }
            Edit::RemoveTag(t) => {
                let t = t.to_lowercase();
                self.tags.retain(|x| x.to_lowercase() != t);
            }
        }
    }

    pub fn has_tag(&self, tag: &str) -> bool {
        let want = tag.to_lowercase();
        self.tags.iter().any(|t| t.to_lowercase() == want)
    }
}

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;

/// Most tags one video keeps.
pub const MAX_TAGS: usize = 200;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 100;

/// Makes a tag canonical: trimmed, without leading `#`, inner white space
/// folded. Refuses empty, overlong, and tags with commas (the URL list
/// separator) or control characters.
pub fn normalise_tag(raw: &str) -> Result<String, &'static str> {
    let t = raw.trim().trim_start_matches('#').trim();
    let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err("a tag cannot be empty");
    }
    if t.chars().count() > MAX_TAG_CHARS {
        return Err("a tag is at most 100 characters");
    }
    if t.chars().any(|c| c == ',' || c.is_control()) {
        return Err("a tag cannot contain commas or control characters");
    }
    Ok(t)
}
