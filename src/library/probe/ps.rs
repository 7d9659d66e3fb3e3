//! MPEG program streams (`.mpg`, `.mpeg`, `.vob`): packs of PES packets.
//! The first video packet's sequence header gives the codec and size; a
//! VOB's private stream names its AC-3, DTS or LPCM sound; the first and
//! last times of the video give the duration.

use super::{MediaInfo, ProbeError, Source};
use crate::container::be_u16;
use crate::container::elementary::{mpeg_audio, picture_in};
use crate::container::mpegts::{pes, time, unwrap, WRAP};

const HEAD: u64 = 2 << 20;
const TAIL: u64 = 2 << 20;

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("MPEG-PS", reason.into())
}

pub fn sniffs(head: &[u8]) -> bool {
    head.starts_with(&[0, 0, 1, 0xba])
}

/// One PES packet of a program stream: its stream id (and sub-stream id
/// for private stream 1), time and data.
struct Packet<'a> {
    id: u8,
    sub: Option<u8>,
    pts: Option<i64>,
    data: &'a [u8],
}

/// The PES packets of `b`, from its first pack header on.
fn packets(b: &[u8]) -> impl Iterator<Item = Packet<'_>> {
    let mut at = b.windows(4).position(|w| w == [0, 0, 1, 0xba]);
    std::iter::from_fn(move || loop {
        let i = at?;
        if b.get(i..i + 3) != Some(&[0, 0, 1]) {
            // Lost: find the next start code.
            at = b.get(i + 1..)?.windows(3).position(|w| w == [0, 0, 1]).map(|p| i + 1 + p);
            continue;
        }
        let id = *b.get(i + 3)?;
        if id == 0xba {
            // Pack header: MPEG-2 (14 bytes and stuffing) or MPEG-1 (12).
            let next = if b.get(i + 4)? & 0xc0 == 0x40 { i + 14 + usize::from(b.get(i + 13)? & 7) } else { i + 12 };
            at = Some(next);
            continue;
        }
        if id <= 0xb9 {
            at = Some(i + 4); // end code, or a start code inside data
            continue;
        }
        let len = usize::from(be_u16(b, i + 4)?);
        let end = (i + 6 + len).min(b.len());
        at = Some(i + 6 + len);
        let body = b.get(i..end)?;
        let (pts, header) = match id {
            0xbb | 0xbe | 0xbf => (None, 6),
            _ if body.get(6).is_some_and(|f| f & 0xc0 == 0x80) => pes(body).map_or((None, 6), |h| (h.pts, h.header)),
            _ => mpeg1_header(body),
        };
        let data = body.get(header..).unwrap_or(&[]);
        let (sub, data) = if id == 0xbd { (data.first().copied(), data.get(4..).unwrap_or(&[])) } else { (None, data) };
        return Some(Packet { id, sub, pts, data });
    })
}

/// An MPEG-1 PES header: stuffing, a buffer size, then the times.
fn mpeg1_header(b: &[u8]) -> (Option<i64>, usize) {
    let mut at = 6;
    while b.get(at) == Some(&0xff) && at < 6 + 16 {
        at += 1;
    }
    if b.get(at).is_some_and(|f| f & 0xc0 == 0x40) {
        at += 2;
    }
    let flags = b.get(at).map_or(0, |f| f >> 4);
    match flags {
        2 => (b.get(at..).and_then(time), at + 5),
        3 => (b.get(at..).and_then(time), at + 10),
        _ => (None, at + 1),
    }
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let head = src.read_vec(0, HEAD)?;
    let container = if src.size() > 0 && head.len() > 0x800 && head.get(0x800..0x804) == Some(&[0, 0, 1, 0xba]) {
        "vob" // DVD sectors of 2048 bytes
    } else {
        "mpeg"
    };
    let mut info = MediaInfo { container: container.into(), ..MediaInfo::default() };
    let mut video_id = None;
    let mut first = None;
    for p in packets(&head) {
        match p.id {
            0xe0..=0xef if info.video_codec.is_none() => {
                video_id = Some(p.id);
                first = first.or(p.pts);
                if let Some((w, h)) = super::ts::mpeg2_size(p.data) {
                    let mpeg2 = p.data.windows(4).any(|w| w == [0, 0, 1, 0xb5]);
                    info.video_codec = Some(if mpeg2 { "mpeg2" } else { "mpeg1video" }.into());
                    (info.width, info.height) = (Some(w), Some(h));
                } else if let Some(pic) = picture_in(p.data, false) {
                    info.video_codec = Some("h264".into());
                    (info.width, info.height) = (Some(pic.width), Some(pic.height));
                }
            }
            0xe0..=0xef if first.is_none() && Some(p.id) == video_id => first = p.pts,
            0xc0..=0xdf if info.audio_codec.is_none() => {
                let layer = mpeg_audio(p.data).map_or(2, |m| m.layer);
                info.audio_codec = Some(if layer == 3 { "mp3" } else { "mp2" }.into());
            }
            0xbd if info.audio_codec.is_none() => {
                info.audio_codec = match p.sub {
                    Some(0x80..=0x87) => Some("ac3".into()),
                    Some(0x88..=0x8f) => Some("dts".into()),
                    Some(0xa0..=0xa7) => Some("pcm_dvd".into()),
                    _ => None,
                };
            }
            _ => {}
        }
        if info.video_codec.is_some() && info.audio_codec.is_some() && first.is_some() {
            break;
        }
    }
    let Some(video_id) = video_id else {
        return Err(damaged("no video packets in the first megabytes"));
    };
    if info.video_codec.is_none() {
        info.video_codec = Some("mpeg2".into());
    }
    let tail_at = src.size().saturating_sub(TAIL);
    let tail = src.read_vec(tail_at, TAIL)?;
    let last = packets(&tail)
        .filter(|p| p.id == video_id)
        .filter_map(|p| p.pts)
        .fold(None, |max: Option<i64>, t| Some(max.map_or(t, |m| unwrap(t, m).max(m))));
    if let (Some(first), Some(last)) = (first, last) {
        info.duration_ms = Some(((last - first).rem_euclid(WRAP) as u64) / 90);
    }
    Ok(info)
}
