//! ASF (`.wmv`): the header object at the start holds the file's
//! properties (play duration, preroll) and a stream properties object per
//! stream (a `BITMAPINFOHEADER` for video, a `WAVEFORMATEX` for audio).

use super::{MediaInfo, ProbeError, Source};
use crate::container::riff::{audio_codec, le_u16, le_u32, video_codec};

const HEADER: [u8; 16] = [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11, 0xa6, 0xd9, 0, 0xaa, 0, 0x62, 0xce, 0x6c];
const FILE_PROPERTIES: [u8; 16] =
    [0xa1, 0xdc, 0xab, 0x8c, 0x47, 0xa9, 0xcf, 0x11, 0x8e, 0xe4, 0, 0xc0, 0x0c, 0x20, 0x53, 0x65];
const STREAM_PROPERTIES: [u8; 16] =
    [0x91, 0x07, 0xdc, 0xb7, 0xb7, 0xa9, 0xcf, 0x11, 0x8e, 0xe6, 0, 0xc0, 0x0c, 0x20, 0x53, 0x65];
const AUDIO: [u8; 16] = [0x40, 0x9e, 0x69, 0xf8, 0x4d, 0x5b, 0xcf, 0x11, 0xa8, 0xfd, 0, 0x80, 0x5f, 0x5c, 0x44, 0x2b];
const VIDEO: [u8; 16] = [0xc0, 0xef, 0x19, 0xbc, 0x4d, 0x5b, 0xcf, 0x11, 0xa8, 0xfd, 0, 0x80, 0x5f, 0x5c, 0x44, 0x2b];

/// The most read of the header object.
const MOST_HEADER: u64 = 1 << 20;

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("ASF", reason.into())
}

pub fn sniffs(head: &[u8]) -> bool {
    head.starts_with(&HEADER[..12])
}

fn le_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let head = src.read_vec(0, MOST_HEADER)?;
    if !head.starts_with(&HEADER) {
        return Err(damaged("no header object"));
    }
    let size = le_u64(&head, 16).unwrap_or(0).min(head.len() as u64) as usize;
    let mut info = MediaInfo { container: "asf".into(), ..MediaInfo::default() };
    let mut at = 30;
    while at + 24 <= size {
        let guid = &head[at..at + 16];
        let len = le_u64(&head, at + 16).unwrap_or(0);
        let Some(end) = usize::try_from(len).ok().filter(|&l| l >= 24).and_then(|l| at.checked_add(l)) else { break };
        let Some(body) = head.get(at + 24..end) else { break };
        if guid == FILE_PROPERTIES {
            // 100 ns units, the preroll (milliseconds) included.
            let play = le_u64(body, 40).unwrap_or(0) / 10_000;
            let preroll = le_u64(body, 56).unwrap_or(0);
            info.duration_ms = Some(play.saturating_sub(preroll)).filter(|&ms| ms > 0);
        } else if guid == STREAM_PROPERTIES {
            let kind = body.get(..16);
            let specific = body.get(54..).unwrap_or(&[]);
            if kind == Some(&VIDEO[..]) && info.video_codec.is_none() {
                // Width, height, flags, format size, then a BITMAPINFOHEADER.
                info.width = le_u32(specific, 0).filter(|&w| w > 0);
                info.height = le_u32(specific, 4).filter(|&h| h > 0);
                info.video_codec = specific.get(11 + 16..11 + 20).map(|f| super::Name::new(&video_codec(f)));
            } else if kind == Some(&AUDIO[..]) && info.audio_codec.is_none() {
                info.audio_codec = le_u16(specific, 0).map(|t| audio_codec(t).into());
            }
        }
        at = end;
    }
    if info.video_codec.is_none() && info.audio_codec.is_none() {
        return Err(damaged("no stream properties"));
    }
    Ok(info)
}
