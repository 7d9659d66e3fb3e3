//! The values stored in the scan index.

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
    pub info: Option<MediaInfo>,
    /// Why the file cannot be played, when it cannot.
    pub broken: Option<String>,
}

/// The stored form of the index's records: postcard, compact and read
/// without parsing text (a million records are read at every start). The
/// layout is the field order above; a change needs new table versions.
pub fn encode<T: Serialize>(rec: &T) -> Vec<u8> {
    postcard::to_allocvec(rec).expect("records are plain data and always serialise")
}

pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, postcard::Error> {
    postcard::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::probe::Name;

    #[test]
    fn records_round_trip_and_damage_is_an_error() {
        let file = FileRecord { id: VideoId(u64::MAX), size: 1 << 40, mtime_ns: -5, dev: 2049, ino: 77 };
        assert_eq!(decode::<FileRecord>(&encode(&file)).unwrap(), file);
        let info = MediaInfo {
            container: Name::new("mkv"),
            duration_ms: Some(61_000),
            width: Some(1920),
            height: None,
            video_codec: Some(Name::new("some new codec")),
            audio_codec: None,
            bitrate: Some(8_000_000),
            browser_playable: false,
            index_at_end: true,
        };
        for video in [
            VideoRecord { size: 9, added: 1_700_000_000, info: Some(info), broken: None },
            VideoRecord { size: 0, added: 0, info: None, broken: Some("empty file".into()) },
        ] {
            let bytes = encode(&video);
            assert_eq!(decode::<VideoRecord>(&bytes).unwrap(), video);
            assert!(decode::<VideoRecord>(&bytes[..bytes.len() - 1]).is_err());
        }
        assert!(decode::<FileRecord>(b"").is_err());
    }
}
