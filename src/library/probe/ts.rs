//! MPEG transport streams (`.ts`, `.m2ts`, `.mts`): the program tables in
//! the first megabytes name the streams; the first video access unit's
//! sequence parameter set gives the picture size; the first and last
//! times of the main stream (head and tail reads) give the duration.

use super::{MediaInfo, ProbeError, Source};
use crate::container::elementary::{adts, mpeg_audio, picture_in};
use crate::container::mpegts::{packet, pat, pes, pmt, sniff, unwrap, Layout, Stream, PRIVATE, WRAP};

/// Read from the start for the tables and the first frames, and from the end for the last times.
const HEAD: u64 = 2 << 20;
const TAIL: u64 = 2 << 20;

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("MPEG-TS", reason.into())
}

/// Whether `head` looks like a transport stream.
pub fn sniffs(head: &[u8]) -> bool {
    sniff(head).is_some()
}

/// Calls `each` with every packet of `bytes` (read from file offset
/// `at`, aligned to the layout), skipping what lost sync.
fn packets<'a>(
    bytes: &'a [u8],
    at: u64,
    layout: &Layout,
) -> impl Iterator<Item = crate::container::mpegts::Packet<'a>> {
    let start = (layout.align(at) - at) as usize;
    let stride = usize::from(layout.stride);
    let lead = usize::from(layout.lead);
    bytes.get(start..).unwrap_or(&[]).chunks(stride).filter_map(move |c| packet(c.get(lead..)?))
}

/// The streams of the first program, in PMT order; private data is
/// named by its first bytes (AAC, AC-3, MPEG audio), or left out.
pub fn streams(head: &[u8], layout: &Layout) -> Vec<Stream> {
    let mut pmt_pids = Vec::new();
    let mut found = Vec::new();
    for p in packets(head, 0, layout) {
        if p.pid == 0 && p.start && pmt_pids.is_empty() {
            pmt_pids = pat(p.payload);
        } else if p.start && pmt_pids.first() == Some(&p.pid) {
            found = pmt(p.payload);
            if !found.is_empty() {
                break;
            }
        }
    }
    found
        .into_iter()
        .filter_map(|mut s| {
            if s.codec == PRIVATE {
                let (_, data) = first_pes(head, layout, s.pid)?;
                s.codec = if adts(&data).is_some() {
                    "aac"
                } else if data.starts_with(&[0x0b, 0x77]) {
                    if data.get(5).is_some_and(|b| b >> 3 > 10) {
                        "eac3"
                    } else {
                        "ac3"
                    }
                } else if mpeg_audio(&data).is_some() {
                    "mp3"
                } else {
                    return None;
                };
            }
            Some(s)
        })
        .collect()
}

/// The first PES of `pid` in `bytes`: its time and (up to the next one)
/// its data.
fn first_pes(bytes: &[u8], layout: &Layout, pid: u16) -> Option<(Option<i64>, Vec<u8>)> {
    let mut data = Vec::new();
    let mut time = None;
    let mut started = false;
    for p in packets(bytes, 0, layout).filter(|p| p.pid == pid) {
        if p.start {
            if started {
                break;
            }
            let h = pes(p.payload)?;
            time = h.pts;
            started = true;
            data.extend_from_slice(p.payload.get(h.header..).unwrap_or(&[]));
        } else if started && data.len() < (1 << 20) {
            data.extend_from_slice(p.payload);
        }
    }
    started.then_some((time, data))
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let head = src.read_vec(0, HEAD)?;
    let layout = sniff(&head).ok_or_else(|| damaged("no packets in sync"))?;
    let container = if layout.lead == 4 { "m2ts" } else { "ts" };
    let mut info = MediaInfo { container: container.into(), ..MediaInfo::default() };
    let streams = streams(&head, &layout);
    let video = streams.iter().find(|s| s.video);
    let audio = streams.iter().find(|s| !s.video);
    let Some(main) = video.or(audio) else {
        return Err(damaged("no program table naming a video or audio stream"));
    };
    info.video_codec = video.map(|s| s.codec.into());
    info.audio_codec = audio.map(|s| s.codec.into());
    if let Some(a) = audio.filter(|a| a.codec == "mp3") {
        // MPEG audio: which layer, from its first frame.
        if let Some((_, data)) = first_pes(&head, &layout, a.pid) {
            if let Some(m) = mpeg_audio(&data).filter(|m| m.layer != 3) {
                info.audio_codec = Some(if m.layer == 2 { "mp2" } else { "mp1" }.into());
            }
        }
    }
    let first = first_pes(&head, &layout, main.pid);
    if let Some(v) = video {
        let data = first.as_ref().map(|(_, d)| &d[..]).unwrap_or(&[]);
        let picture = match v.codec {
            "h264" => picture_in(data, false),
            "hevc" => picture_in(data, true),
            _ => None,
        };
        if let Some(p) = picture {
            (info.width, info.height) = (Some(p.width).filter(|&w| w > 0), Some(p.height).filter(|&h| h > 0));
        } else if let Some((w, h)) = mpeg2_size(data) {
            (info.width, info.height) = (Some(w), Some(h));
        }
    }
    // The duration: from the first time of the main stream to its last.
    let start = first.and_then(|(t, _)| t).or_else(|| {
        packets(&head, 0, &layout).filter(|p| p.pid == main.pid && p.start).find_map(|p| pes(p.payload)?.pts)
    });
    let tail_at = src.size().saturating_sub(TAIL);
    let tail = src.read_vec(tail_at, TAIL)?;
    let last = packets(&tail, tail_at, &layout)
        .filter(|p| p.pid == main.pid && p.start)
        .filter_map(|p| pes(p.payload)?.pts)
        .fold(None, |max: Option<i64>, t| Some(max.map_or(t, |m| unwrap(t, m).max(m))));
    if let (Some(start), Some(last)) = (start, last) {
        let span = (last - start).rem_euclid(WRAP);
        // A recording longer than a wrap (26.5 hours) is not expected.
        info.duration_ms = Some((span as u64) / 90);
    }
    Ok(info)
}

/// Width and height from an MPEG-1/2 sequence header (`00 00 01 B3`).
pub fn mpeg2_size(data: &[u8]) -> Option<(u32, u32)> {
    let at = data.windows(4).position(|w| w == [0, 0, 1, 0xb3])?;
    let b = data.get(at + 4..at + 7)?;
    let w = (u32::from(b[0]) << 4) | u32::from(b[1] >> 4);
    let h = (u32::from(b[1] & 0x0f) << 8) | u32::from(b[2]);
    (w > 0 && h > 0).then_some((w, h))
}
