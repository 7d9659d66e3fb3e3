//! Table definitions. Names carry a version: a change of value layout adds a
//! `_v2` table and a migration step in `Store::migrate`.

use redb::TableDefinition;

pub const SCHEMA_VERSION: u64 = 1;

/// `"schema_version"` -> version number.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Absolute path bytes -> JSON `FileRecord`.
pub const FILES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("files_v1");
/// `VideoId` -> JSON `VideoRecord`.
pub const VIDEOS: TableDefinition<u64, &[u8]> = TableDefinition::new("videos_v1");
/// `VideoId` -> JSON `UserData` (all of it: ratings, views, favorites,
/// tags, titles, positions).
pub const USER: TableDefinition<u64, &[u8]> = TableDefinition::new("user_v1");
/// (`VideoId`, Unix ns when set aside) -> the bytes of a `USER` record that
/// could not be decoded. Never loaded as user data; counted and listed
/// (`doctor`, `/admin/cache/status`) for recovery by hand.
pub const USER_DAMAGED: TableDefinition<(u64, i64), &[u8]> = TableDefinition::new("user_damaged_v1");
