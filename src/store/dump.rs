//! Every stored record as it is stored, for moving a household's state
//! from one store to another (`vidserve migrate --to`): the bytes are
//! copied unchanged, so nothing is lost or reinterpreted on the way.

/// One stored record, as stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Row {
    /// Path bytes -> postcard `FileRecord`.
    File(Vec<u8>, Vec<u8>),
    /// Video id -> postcard `VideoRecord`.
    Video(u64, Vec<u8>),
    /// Position -> path bytes of a root the last scan walked.
    Root(u32, Vec<u8>),
    /// Video id -> JSON `UserData`.
    User(u64, Vec<u8>),
    /// (video id, when set aside) -> undecodable bytes.
    Damaged(u64, i64, Vec<u8>),
    /// (lowercase name, video id) -> JSON `Personal`.
    Personal(String, u64, Vec<u8>),
    /// Import key -> when (Unix ns).
    Imported(String, i64),
    /// Lowercase name -> JSON `AccountRecord`.
    Account(String, Vec<u8>),
    /// Digest -> JSON `GrantRecord`.
    Token(String, Vec<u8>),
    Session(String, Vec<u8>),
    /// Name -> secret bytes.
    Secret(String, Vec<u8>),
    /// Key (`owner`) -> value.
    Household(String, String),
    /// (owner, number) -> JSON `PlaylistRecord`.
    Playlist(String, u64, Vec<u8>),
    /// Owner -> the number their next playlist gets.
    PlaylistNext(String, u64),
}
