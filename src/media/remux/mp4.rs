//! MP4 and MOV sample tables for the remuxer: files whose index comes
//! after their media (browsers must fetch the end before they can play)
//! come out as a fragmented MP4 that starts at once. The first video track
//! in H.264, HEVC or AV1 and the `audio`th audio track in AAC, Opus or MP3.

use super::demux::{Codec, Demuxed, Sample, Track, MAX_SAMPLES, VIDEO_TIMESCALE};
use super::RemuxError;
use crate::container::isobmff::{child, composition_offsets, sample_table, sync_samples, top_level, traks, Trak};
use crate::container::{be_u16, Source};

fn codec_of(t: &Trak) -> Option<Codec> {
    Some(match &t.fourcc {
        b"avc1" | b"avc3" => Codec::H264,
        b"hvc1" | b"hev1" => Codec::Hevc,
        b"av01" => Codec::Av1,
        b"vp09" => Codec::Vp9,
        b"mp4a" => {
            // The decoder config's object type: 0x40 AAC, 0x69/0x6B MP3.
            match esds_object(t.entry?) {
                Some(0x69 | 0x6B) => Codec::Mp3,
                _ => Codec::Aac,
            }
        }
        b".mp3" => Codec::Mp3,
        b"Opus" => Codec::Opus,
        _ => return None,
    })
}

/// The ES descriptor chain inside an audio sample entry's `esds`:
/// (object type, decoder-specific info).
fn esds(entry: &[u8]) -> Option<(u8, Vec<u8>)> {
    let b = child(audio_children(entry)?, b"esds")?.get(4..)?;
    let mut at = 0;
    let mut object = None;
    // Walk descriptors: tag, then a length of 1 to 4 bytes (7 bits each).
    while at < b.len() {
        let tag = b[at];
        at += 1;
        let mut len = 0usize;
        for _ in 0..4 {
            let byte = *b.get(at)?;
            at += 1;
            len = (len << 7) | usize::from(byte & 0x7F);
            if byte & 0x80 == 0 {
                break;
            }
        }
        match tag {
            0x03 => {
                let flags = *b.get(at + 2)?;
                at += 3 + if flags & 0x80 != 0 { 2 } else { 0 } + if flags & 0x20 != 0 { 2 } else { 0 };
                if flags & 0x40 != 0 {
                    at += 1 + usize::from(*b.get(at)?);
                }
            }
            0x04 => {
                object = Some(*b.get(at)?);
                at += 13;
            }
            0x05 => return Some((object?, b.get(at..at + len)?.to_vec())),
            _ => at += len,
        }
    }
    Some((object?, Vec::new()))
}

/// The boxes inside an audio sample entry: after its fixed fields, longer
/// in QuickTime's sound descriptions of version 1 and 2.
fn audio_children(entry: &[u8]) -> Option<&[u8]> {
    let fixed = match be_u16(entry, 8) {
        Some(1) => 44,
        Some(2) => 64,
        _ => 28,
    };
    entry.get(fixed..)
}

fn esds_object(entry: &[u8]) -> Option<u8> {
    esds(entry).map(|(o, _)| o)
}

/// The codec configuration the MP4 output needs, from the sample entry.
fn config(t: &Trak, codec: Codec) -> Option<Vec<u8>> {
    let entry = t.entry?;
    Some(match codec {
        Codec::H264 | Codec::Hevc | Codec::Av1 | Codec::Vp9 => {
            let kind: &[u8; 4] = match codec {
                Codec::H264 => b"avcC",
                Codec::Hevc => b"hvcC",
                Codec::Vp9 => b"vpcC",
                _ => b"av1C",
            };
            child(entry.get(78..)?, kind)?.to_vec()
        }
        Codec::Aac => esds(entry)?.1,
        Codec::Mp3 => Vec::new(),
        Codec::Opus => {
            // dOps (big-endian) back into Matroska's OpusHead (little-endian).
            let d = child(audio_children(entry)?, b"dOps")?;
            let mut head = b"OpusHead".to_vec();
            head.push(1);
            head.push(*d.get(1)?);
            head.extend_from_slice(&be_u16(d, 2)?.to_le_bytes());
            head.extend_from_slice(&u32::from_be_bytes(d.get(4..8)?.try_into().ok()?).to_le_bytes());
            head.extend_from_slice(&be_u16(d, 8)?.to_le_bytes());
            head.extend_from_slice(d.get(10..)?);
            head
        }
    })
}

fn track(src_len: u64, t: &Trak, codec: Codec) -> Result<Track, RemuxError> {
    let unsupported = |why: &str| RemuxError::Unsupported(why.to_string());
    let entry = t.entry.ok_or_else(|| unsupported("a track without a sample description"))?;
    let config = config(t, codec).ok_or_else(|| unsupported("a track without its codec configuration"))?;
    let stbl = t.stbl.ok_or_else(|| unsupported("a track without a sample table"))?;
    let rows = sample_table(stbl, MAX_SAMPLES + 1, src_len).ok_or_else(|| unsupported("a damaged sample table"))?;
    if rows.len() > MAX_SAMPLES {
        return Err(unsupported("more frames than a remux keeps"));
    }
    let offsets = composition_offsets(stbl, rows.len());
    let sync = sync_samples(stbl, rows.len());
    let start = t.media_start.filter(|&m| m > 0).unwrap_or(0);
    let video = codec.is_video();
    let scale = u32::max(t.timescale, 1);
    let to = |ticks: i64| if video { super::ticks(ticks, scale, VIDEO_TIMESCALE) } else { ticks };
    let samples = rows
        .iter()
        .zip(offsets.iter().zip(&sync))
        .filter(|(r, _)| r.pos.saturating_add(u64::from(r.size)) <= src_len)
        .map(|(r, (cto, key))| {
            // Video is shown where its edit list starts it; audio as stored.
            let pts = i128::from(r.dts) + i128::from(*cto) - i128::from(if video { start } else { 0 });
            Sample { pos: r.pos, size: r.size, pts: to(super::bounded(pts)), key: *key }
        })
        .collect();
    let (width, height) = if video { (be_u16(entry, 24).unwrap_or(0), be_u16(entry, 26).unwrap_or(0)) } else { (0, 0) };
    let channels = if video { 0 } else { be_u16(entry, 16).unwrap_or(2) };
    Ok(Track {
        codec,
        timescale: if video { VIDEO_TIMESCALE } else { scale },
        config,
        prefix: Vec::new(),
        width: u32::from(width),
        height: u32::from(height),
        channels: channels.max(1),
        rate: if video { 0 } else { scale },
        samples,
        file: 0,
        framing: super::demux::Framing::Whole,
        spread: Vec::new(),
    })
}

pub fn demux(src: &(impl Source + ?Sized), audio: usize) -> Result<Demuxed, RemuxError> {
    let top = top_level(src)?;
    let traks = traks(&top.moov);
    let len = src.size();
    let v = traks
        .iter()
        .find(|t| &t.handler == b"vide" && codec_of(t).is_some_and(Codec::is_video))
        .ok_or_else(|| RemuxError::Unsupported("no H.264, HEVC or AV1 video track".into()))?;
    let video = track(len, v, codec_of(v).unwrap_or(Codec::H264))?;
    let (mut audio_track, mut left_out) = (None, None);
    if let Some(a) = traks.iter().filter(|t| &t.handler == b"soun").nth(audio) {
        match codec_of(a) {
            Some(c) => match track(len, a, c) {
                Ok(t) => audio_track = Some(t),
                Err(e) => left_out = Some(e.to_string()),
            },
            None => left_out = Some(crate::library::probe::mp4::audio_codec(&a.fourcc).to_string()),
        }
    }
    if video.samples.is_empty() {
        return Err(RemuxError::Unsupported("no video frames".into()));
    }
    Ok(Demuxed { video, audio: audio_track, audio_left_out: left_out })
}

/// The first audio track of an MP4 (the sound ffmpeg remade), as the
/// remux's second file.
pub fn demux_sound(src: &(impl Source + ?Sized)) -> Result<Track, RemuxError> {
    let top = top_level(src)?;
    let traks = traks(&top.moov);
    let a = traks
        .iter()
        .find(|t| &t.handler == b"soun")
        .ok_or_else(|| RemuxError::Unsupported("no audio in the remade sound".into()))?;
    let codec = codec_of(a).ok_or_else(|| RemuxError::Unsupported("the remade sound is not AAC".into()))?;
    let mut t = track(src.size(), a, codec)?;
    t.file = 1;
    Ok(t)
}
