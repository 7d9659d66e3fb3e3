//! Table definitions. Names carry a version: a change of value layout adds a
//! `_v2` table and a migration step in `Store::migrate`.

use redb::TableDefinition;

/// The schema of `vidserve.redb` (2: binary records in `files_v2` and
/// `videos_v2`; 1 had JSON in `files_v1` and `videos_v1`).
pub const INDEX_SCHEMA_VERSION: u64 = 2;
/// The schema of `userdata.redb`.
pub const USER_SCHEMA_VERSION: u64 = 1;

/// `"schema_version"` -> version number (in each file).
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// In `vidserve.redb`: the folders the last scan walked, in `--dir` order
/// (position -> path bytes as given), so commands that need the library
/// work without `--dir`.
pub const ROOTS: TableDefinition<u32, &[u8]> = TableDefinition::new("roots_v1");
/// In `userdata.redb`: lowercase account name -> JSON `AccountRecord`.
pub const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts_v1");
/// In `userdata.redb`: SHA-256 of an API token (hex) -> JSON `GrantRecord`.
pub const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("tokens_v1");
/// In `userdata.redb`: SHA-256 of a session id (hex) -> JSON `GrantRecord`.
pub const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("sessions_v1");
/// In `userdata.redb`: name -> a server secret (the key of signed links).
pub const SECRETS: TableDefinition<&str, &[u8]> = TableDefinition::new("secrets_v1");
/// In `userdata.redb`: import source key -> when it was imported (Unix ns).
pub const IMPORTED: TableDefinition<&str, i64> = TableDefinition::new("imported_v1");
/// In `vidserve.redb` (the index): absolute path bytes -> `FileRecord`
/// (postcard, `records::encode`).
pub const FILES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("files_v2");
/// In the index: `VideoId` -> `VideoRecord` (postcard).
pub const VIDEOS: TableDefinition<u64, &[u8]> = TableDefinition::new("videos_v2");
/// Schema 1's `FILES`, with JSON values: read once by the migration to 2.
pub const FILES_V1: TableDefinition<&[u8], &[u8]> = TableDefinition::new("files_v1");
/// Schema 1's `VIDEOS`, with JSON values.
pub const VIDEOS_V1: TableDefinition<u64, &[u8]> = TableDefinition::new("videos_v1");
/// In `userdata.redb`: `VideoId` -> JSON `UserData` (all of it: ratings, views, favorites,
/// tags, titles, positions).
pub const USER: TableDefinition<u64, &[u8]> = TableDefinition::new("user_v1");
/// (`VideoId`, Unix ns when set aside) -> the bytes of a `USER` record that
/// could not be decoded. Never loaded as user data; counted and listed
/// (`doctor`, `/admin/cache/status`) for recovery by hand.
pub const USER_DAMAGED: TableDefinition<(u64, i64), &[u8]> = TableDefinition::new("user_damaged_v1");
/// In `userdata.redb`: (lowercase account name, `VideoId`) -> JSON
/// `Personal` (one person's rating, favorite, position and history; the
/// household's are in `USER`).
pub const PERSONAL: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("personal_v1");
/// In `userdata.redb`: `"owner"` -> the lowercase name of the account that
/// holds the household's own data (the shared records' ratings, favorites,
/// positions): the first admin made. Absent without one.
pub const HOUSEHOLD: TableDefinition<&str, &str> = TableDefinition::new("household_v1");
/// In `userdata.redb`: (owner, playlist number) -> JSON `PlaylistRecord`.
/// The owner is a lowercase account name, or `""` for the household.
pub const PLAYLISTS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("playlists_v1");
/// In `userdata.redb`: owner -> the number the next playlist gets (numbers
/// are never given twice, so an old link never opens another playlist).
pub const PLAYLIST_NEXT: TableDefinition<&str, u64> = TableDefinition::new("playlist_next_v1");
