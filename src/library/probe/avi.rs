//! AVI: the `hdrl` list at the start holds everything a probe needs: the
//! main header (`avih`: size, frame time, frames), each stream's header
//! (`strh`: kind, time base, length) and format (`strf`: the video's
//! FourCC, the audio's format tag), and OpenDML's total frames (`dmlh`)
//! for files past 1 GiB.

use super::{MediaInfo, ProbeError, Source};
use crate::container::riff::{audio_codec, chunks, find, le_u16, le_u32, list, video_codec};

/// The most read of the header list (it is some KiB; files with an
/// index of streams or junk padding run to a few hundred).
const MOST_HEADER: u64 = 1 << 20;

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("AVI", reason.into())
}

pub fn sniffs(head: &[u8]) -> bool {
    head.len() >= 12 && &head[..4] == b"RIFF" && matches!(&head[8..12], b"AVI " | b"AVIX")
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let head = src.read_vec(12, MOST_HEADER)?;
    let hdrl = list(&head, b"hdrl").ok_or_else(|| damaged("no header list"))?;
    let mut info = MediaInfo { container: "avi".into(), ..MediaInfo::default() };
    let avih = find(hdrl, b"avih").ok_or_else(|| damaged("no main header"))?;
    let frame_us = le_u32(avih, 0).unwrap_or(0);
    let mut frames = le_u32(avih, 16).unwrap_or(0);
    (info.width, info.height) = (le_u32(avih, 32).filter(|&w| w > 0), le_u32(avih, 36).filter(|&h| h > 0));
    if let Some(total) = list(hdrl, b"odml").and_then(|o| find(o, b"dmlh")).and_then(|d| le_u32(d, 0)) {
        frames = frames.max(total);
    }
    let mut video_ms = None;
    for c in chunks(hdrl).filter(|c| &c.id == b"LIST" && hdrl.get(c.at..c.at + 4) == Some(b"strl")) {
        let Some(strl) = hdrl.get(c.at + 4..c.at + c.size) else { continue };
        let (Some(strh), Some(strf)) = (find(strl, b"strh"), find(strl, b"strf")) else { continue };
        let (scale, rate, length) = (le_u32(strh, 20), le_u32(strh, 24), le_u32(strh, 32));
        match strh.get(..4) {
            Some(b"vids") if info.video_codec.is_none() => {
                info.video_codec = strf.get(16..20).map(|f| super::Name::new(&video_codec(f)));
                if let (Some(w), Some(h)) = (le_u32(strf, 4), le_u32(strf, 8)) {
                    let h = (h as i32).unsigned_abs(); // negative: top-down rows
                    if w > 0 && h > 0 {
                        (info.width, info.height) = (Some(w), Some(h));
                    }
                }
                if let (Some(scale), Some(rate), Some(length)) = (scale, rate, length) {
                    let length = length.max(frames);
                    if rate > 0 {
                        let ms = u128::from(length) * u128::from(scale) * 1000 / u128::from(rate);
                        video_ms = Some(u64::try_from(ms).unwrap_or(u64::MAX));
                    }
                }
            }
            Some(b"auds") if info.audio_codec.is_none() => {
                info.audio_codec = le_u16(strf, 0).map(|t| audio_codec(t).into());
            }
            _ => {}
        }
    }
    if info.video_codec.is_none() && info.audio_codec.is_none() {
        return Err(damaged("no stream headers"));
    }
    info.duration_ms = video_ms.or_else(|| (frame_us > 0).then(|| u64::from(frames) * u64::from(frame_us) / 1000));
    Ok(info)
}
