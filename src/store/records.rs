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

/// Fields of a video record added after its first postcard layout. They
/// follow the record's own bytes: a record written before them has no
/// tail (all unset), and an older server reading a newer record stops at
/// its own last field, so the stored layout stays readable both ways. A
/// field added later goes at the end of this tail.
#[derive(Debug, Default, Serialize, Deserialize)]
struct VideoTail {
    /// `MediaInfo::taken`.
    taken: Option<u32>,
}

/// A `VideoRecord`'s stored form: its fields, then its tail.
pub fn encode_video(rec: &VideoRecord) -> Vec<u8> {
    let mut out = encode(rec);
    let tail = VideoTail { taken: rec.info.as_ref().and_then(|i| i.taken).map(|t| t.get()) };
    if tail.taken.is_some() {
        out.extend(encode(&tail));
    }
    out
}

/// Reads what `encode_video` wrote (or a record from before the tail).
/// A tail that does not decode is an error, as a damaged record is.
pub fn decode_video(bytes: &[u8]) -> Result<VideoRecord, postcard::Error> {
    let (mut rec, rest) = postcard::take_from_bytes::<VideoRecord>(bytes)?;
    if !rest.is_empty() {
        let (tail, _) = postcard::take_from_bytes::<VideoTail>(rest)?;
        if let Some(info) = rec.info.as_mut() {
            info.taken = tail.taken.and_then(std::num::NonZeroU32::new);
        }
    }
    Ok(rec)
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
            taken: std::num::NonZeroU32::new(1_562_265_000),
        };
        for video in [
            VideoRecord { size: 9, added: 1_700_000_000, info: Some(info), broken: None },
            VideoRecord { size: 0, added: 0, info: None, broken: Some("empty file".into()) },
        ] {
            let bytes = encode_video(&video);
            assert_eq!(decode_video(&bytes).unwrap(), video);
            assert!(decode_video(&bytes[..bytes.len() - 1]).is_err());
        }
        // A record from before the tail reads with nothing taken; a newer
        // record reads as the fields an older server knows.
        let mut info = info_of(Some(7));
        let old = encode(&VideoRecord { size: 9, added: 1, info: Some(info.clone()), broken: None });
        info.taken = None;
        assert_eq!(decode_video(&old).unwrap().info, Some(info.clone()));
        let new = encode_video(&VideoRecord { size: 9, added: 1, info: Some(info_of(Some(7))), broken: None });
        assert!(new.len() > old.len());
        assert_eq!(decode::<VideoRecord>(&new).unwrap().info, Some(info));
        assert!(decode::<FileRecord>(b"").is_err());
    }

    fn info_of(taken: Option<u32>) -> MediaInfo {
        let taken = taken.and_then(std::num::NonZeroU32::new);
        MediaInfo { container: Name::new("mp4"), duration_ms: Some(5), taken, ..MediaInfo::default() }
    }
}
