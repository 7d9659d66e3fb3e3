//! Playlists as stored: one record per (owner, number). The owner is a
//! lowercase account name, or `""` for the household (no accounts, or the
//! first admin's shared data).

use serde::{Deserialize, Serialize};

use crate::library::ids::VideoId;

/// Most playlists one person keeps.
pub const MAX_PLAYLISTS: usize = 200;
/// Most videos in one playlist.
pub const MAX_ITEMS: usize = 5000;
/// Longest playlist name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaylistRecord {
    pub name: String,
    pub items: Vec<VideoId>,
    /// Unix seconds.
    pub created: i64,
    pub updated: i64,
}
