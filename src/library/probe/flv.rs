//! Flash video: codecs from the first audio and video tags, the size from
//! `onMetaData` (or the H.264 sequence header), the duration from the last
//! tag's time (the file ends with that tag's size) or else `onMetaData`.

use super::{MediaInfo, ProbeError, Source};
use crate::container::elementary::h264_sps;
use crate::container::flv::{audio_codec, first_tag, metadata, tag, video_codec, TAG_HEADER};
use crate::container::{be_u16, be_u32};

/// Tags looked at from the start (enough to meet both streams).
const FIRST_TAGS: usize = 64;

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("FLV", reason.into())
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let head = src.read_vec(0, 16)?;
    let mut at = first_tag(&head).ok_or_else(|| damaged("no header"))?;
    let mut info = MediaInfo { container: "flv".into(), ..MediaInfo::default() };
    let mut meta = Vec::new();
    let mut first_time = None;
    for _ in 0..FIRST_TAGS {
        let Some(t) = tag(&src.read_vec(at, TAG_HEADER)?) else { break };
        let data = src.read_vec(at + TAG_HEADER, u64::from(t.size).min(64 * 1024))?;
        match (t.kind, data.first()) {
            (18, _) if meta.is_empty() => meta = metadata(&data),
            (9, Some(&first)) if info.video_codec.is_none() => {
                let codec = video_codec(first);
                info.video_codec = Some(codec.into());
                first_time.get_or_insert(t.time);
                // AVC sequence header: an avcC, whose first SPS gives the size.
                if codec == "h264" && data.get(1) == Some(&0) {
                    let sps_len = be_u16(&data, 11).unwrap_or(0) as usize;
                    if let Some(p) = data.get(13..13 + sps_len).and_then(h264_sps) {
                        (info.width, info.height) = (Some(p.width), Some(p.height));
                    }
                }
            }
            (8, Some(&first)) if info.audio_codec.is_none() => {
                info.audio_codec = Some(audio_codec(first).into());
                first_time.get_or_insert(t.time);
            }
            _ => {}
        }
        if info.video_codec.is_some() && info.audio_codec.is_some() && !meta.is_empty() {
            break;
        }
        at += t.to_next();
        if at >= src.size() {
            break;
        }
    }
    if info.video_codec.is_none() && info.audio_codec.is_none() {
        return Err(damaged("no audio or video tag"));
    }
    let number = |k: &str| meta.iter().find(|(key, _)| key == k).map(|(_, n)| *n).filter(|n| n.is_finite() && *n > 0.0);
    if info.width.is_none() {
        info.width = number("width").map(|w| w.min(65_535.0) as u32);
        info.height = number("height").map(|h| h.min(65_535.0) as u32);
    }
    // The last tag, from the size the file ends with.
    let size = src.size();
    let last = src.read_vec(size.saturating_sub(4), 4)?;
    let last_time = be_u32(&last, 0)
        .and_then(|len| size.checked_sub(4 + u64::from(len)))
        .and_then(|at| tag(&src.read_vec(at, TAG_HEADER).ok()?))
        .filter(|t| matches!(t.kind, 8 | 9));
    info.duration_ms = match (last_time, first_time) {
        (Some(last), Some(first)) if last.time > first => Some((last.time - first) as u64),
        _ => number("duration").map(|s| (s.min(1e9) * 1000.0) as u64),
    };
    Ok(info)
}
