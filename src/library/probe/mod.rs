//! Pure-Rust probing of video files: container, duration, resolution, codecs,
//! whether browsers can play the file as stored, and whether an MP4's index
//! sits at the end. Reads only the few headers it needs through `Source`, with
//! every size bounds-checked: a fake or damaged file is an error, never a
//! panic or a huge allocation.
//!
//! Steps: sniff the magic bytes, hand over to `mp4`, `mkv`, `ogg`, `ts`
//! (MPEG-TS and M2TS), `flv`, `avi`, `ps` (MPEG program streams and VOB)
//! or `asf` (WMV), then derive the bitrate and the playability verdict.

pub mod asf;
pub mod avi;
pub mod flv;
pub mod mkv;
pub mod mp4;
pub mod ogg;
pub mod ps;
#[doc(hidden)]
#[cfg(any(test, feature = "test-support"))]
pub mod synth;
pub mod ts;

use std::borrow::Cow;
use std::io;

pub use crate::container::{FileSource, ProbeError, Source};
use crate::library::ids::Edges;
use serde::{Deserialize, Serialize};

/// What a probe learns about a file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// `mp4`, `mov`, `3gp`, `webm`, `mkv`, `ogg`, `ts`, `m2ts`, `flv`,
    /// `avi`, `mpeg`, `vob` or `asf`.
    pub container: Name,
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub video_codec: Option<Name>,
    pub audio_codec: Option<Name>,
    /// Average bits per second over the whole file.
    pub bitrate: Option<u64>,
    /// Whether current browsers play the file as stored.
    pub browser_playable: bool,
    /// MP4/MOV whose `moov` index follows the media data: it plays only once
    /// the browser has fetched the end of the file (a remux with faststart fixes it).
    pub index_at_end: bool,
    /// When it was recorded, as its own metadata says (MP4 `mvhd`,
    /// Matroska `DateUTC`), in seconds since the Unix epoch. Stored after
    /// the other fields (`store::records`), so not serialised with them.
    #[serde(skip)]
    pub taken: Option<std::num::NonZeroU32>,
}

/// The latest recording time believed: a day past now (a camera's clock
/// may run ahead a little, not by years).
pub fn taken_if_plausible(unix: i64) -> Option<std::num::NonZeroU32> {
    // 1980: before it, a zero or an unset clock, not a recording.
    const EARLIEST: i64 = 315_532_800;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    (EARLIEST..=now + 86_400)
        .contains(&unix)
        .then(|| u32::try_from(unix).ok().and_then(std::num::NonZeroU32::new))
        .flatten()
}

/// A short name (container, codec), held as a number: a video's facts
/// carry three of them, and a million videos share a few dozen names. The
/// names this module knows are numbered in `KNOWN_NAMES`; others (from
/// files it does not know) are kept once each in `OTHER_NAMES`, at most
/// `MAX_OTHER_NAMES` of them, each cut to `MAX_NAME` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Name(u16);

const KNOWN_NAMES: [&str; 32] = [
    "",
    "mp4",
    "mov",
    "webm",
    "mkv",
    "ogg",
    "h264",
    "hevc",
    "av1",
    "vp8",
    "vp9",
    "mpeg4",
    "mjpeg",
    "prores",
    "theora",
    "aac",
    "mp3",
    "opus",
    "vorbis",
    "flac",
    "ac3",
    "eac3",
    "alac",
    "pcm",
    "dts",
    "mpeg2",
    "vc1",
    "truehd",
    "pcm_s16le",
    "wmv",
    "h263",
    "mp2",
];

/// Names not in `KNOWN_NAMES`, numbered from `KNOWN_NAMES.len()`. Never
/// shrinks: each is a few bytes, and there are at most `MAX_OTHER_NAMES`.
static OTHER_NAMES: std::sync::RwLock<Vec<&'static str>> = std::sync::RwLock::new(Vec::new());
const MAX_OTHER_NAMES: usize = 1024;
const MAX_NAME: usize = 48;
/// What a name is once `MAX_OTHER_NAMES` others are kept.
const OTHER: &str = "other";

impl Name {
    pub fn new(s: &str) -> Self {
        if let Some(i) = KNOWN_NAMES.iter().position(|k| *k == s) {
            return Name(i as u16);
        }
        let s = match s.char_indices().nth(MAX_NAME) {
            Some((cut, _)) => &s[..cut],
            None => s,
        };
        let number = |i: usize| Name((KNOWN_NAMES.len() + i) as u16);
        if let Some(i) = OTHER_NAMES.read().unwrap_or_else(|e| e.into_inner()).iter().position(|k| *k == s) {
            return number(i);
        }
        let mut others = OTHER_NAMES.write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = others.iter().position(|k| *k == s) {
            return number(i);
        }
        // The last place is kept for `OTHER`.
        let name: &'static str = if others.len() + 1 >= MAX_OTHER_NAMES { OTHER } else { Box::leak(s.into()) };
        if let Some(i) = others.iter().position(|k| *k == name) {
            return number(i);
        }
        others.push(name);
        number(others.len() - 1)
    }

    pub fn as_str(&self) -> &'static str {
        let i = self.0 as usize;
        match KNOWN_NAMES.get(i) {
            Some(k) => k,
            None => OTHER_NAMES
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .get(i - KNOWN_NAMES.len())
                .copied()
                .unwrap_or(OTHER),
        }
    }
}

impl From<&'static str> for Name {
    fn from(s: &'static str) -> Self {
        Name::new(s)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(d)?;
        Ok(Name::new(&s))
    }
}

/// Probes an open file whose `edges` were just read for its id: reads
/// that fall inside them cost no system call.
pub fn probe_file(file: &dyn Source, edges: &Edges) -> Result<MediaInfo, ProbeError> {
    struct Edged<'a>(&'a dyn Source, &'a Edges);
    impl Source for Edged<'_> {
        fn size(&self) -> u64 {
            self.0.size()
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.size().saturating_sub(offset) as usize);
            match self.1.read_at(offset, &mut buf[..n]) {
                Some(n) => Ok(n),
                None => self.0.read_at(offset, buf),
            }
        }
    }
    probe(&Edged(file, edges))
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    if src.size() == 0 {
        return Err(ProbeError::Empty);
    }
    let head = src.read_vec(0, 12)?;
    let mut info = if crate::container::isobmff::sniff(&head) {
        mp4::probe(src)?
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        mkv::probe(src)?
    } else if head.starts_with(b"OggS") {
        ogg::probe(src)?
    } else if crate::container::flv::sniff(&head) {
        flv::probe(src)?
    } else if avi::sniffs(&head) {
        avi::probe(src)?
    } else if asf::sniffs(&head) {
        asf::probe(src)?
    } else if ps::sniffs(&head) {
        ps::probe(src)?
    } else if ts::sniffs(&src.read_vec(0, 192 * 6)?) {
        ts::probe(src)?
    } else {
        return Err(ProbeError::Unrecognised);
    };
    if let Some(ms) = info.duration_ms.filter(|&ms| ms > 0) {
        info.bitrate = Some(src.size().saturating_mul(8000) / ms);
    }
    info.browser_playable = playable(&info);
    Ok(info)
}

/// The cover picture stored inside a video file (MP4 `covr`, Matroska
/// attachments), if any.
pub fn cover_of(src: &(impl Source + ?Sized)) -> Option<Vec<u8>> {
    let head = src.read_vec(0, 12).ok()?;
    if crate::container::isobmff::sniff(&head) {
        mp4::cover(src)
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        mkv::cover(src)
    } else {
        None
    }
}

/// Sound codecs every current desktop and phone browser decodes.
pub const BROWSER_SOUND: [&str; 5] = ["aac", "mp3", "opus", "vorbis", "flac"];

/// Whether browsers decode this sound (or there is none).
pub fn sound_plays(codec: Option<&str>) -> bool {
    codec.is_none_or(|c| BROWSER_SOUND.contains(&c))
}

/// A conservative verdict: the codecs every current desktop and phone
/// browser decodes, in containers they all accept.
fn playable(info: &MediaInfo) -> bool {
    let video_ok = match info.video_codec.as_deref() {
        None => true,
        Some(c) => matches!(c, "h264" | "vp8" | "vp9" | "av1"),
    };
    let audio_ok = sound_plays(info.audio_codec.as_deref());
    let container_ok = match info.container.as_str() {
        "mp4" | "mov" | "webm" => true,
        // Matroska holding WebM's codecs plays everywhere; H.264 in MKV does not.
        "mkv" => matches!(info.video_codec.as_deref(), None | Some("vp8" | "vp9" | "av1")),
        "ogg" => info.video_codec.is_none(),
        _ => false,
    };
    video_ok && audio_ok && container_ok && (info.video_codec.is_some() || info.audio_codec.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plausible_recording_times_are_kept() {
        let kept = |t: i64| taken_if_plausible(t).map(|t| i64::from(t.get()));
        assert_eq!(kept(1_562_265_000), Some(1_562_265_000));
        assert_eq!(kept(0), None, "an unset clock");
        assert_eq!(kept(-2_082_844_800), None, "zero seconds since 1904");
        assert_eq!(kept(4_000_000_000), None, "the future");
    }

    #[test]
    fn names_are_numbers_and_come_back_as_given() {
        assert_eq!(std::mem::size_of::<Option<Name>>(), 4);
        assert_eq!(Name::new("h264").as_str(), "h264");
        assert_eq!(Name::default().as_str(), "");
        let odd = Name::new("a codec from the future");
        assert_eq!(odd, Name::new("a codec from the future"), "kept once");
        assert_eq!(odd.as_str(), "a codec from the future");
        let long = "x".repeat(500);
        assert_eq!(Name::new(&long).len(), MAX_NAME);
        let json = serde_json::to_string(&odd).unwrap();
        assert_eq!(serde_json::from_str::<Name>(&json).unwrap(), odd);
    }

    #[test]
    fn rejects_empty_and_text() {
        assert!(matches!(probe(&b""[..]), Err(ProbeError::Empty)));
        assert!(matches!(probe(&b"hello, I am not a video\n"[..]), Err(ProbeError::Unrecognised)));
    }
}
