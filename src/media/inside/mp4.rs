//! ISO BMFF (MP4, MOV): audio tracks and timed-text tracks from each
//! `trak`, chapters from Nero `chpl` (`moov/udta`) or else from a
//! QuickTime chapter track (a text track named by another track's
//! `tref/chap`), and text samples through the sample tables.

use super::{close_open_ends, language, name_of, text_of, AudioTrack, Chapter, Cue, Described, TextCodec, TextTrack};
use super::{MAX_CHAPTERS, MAX_CUES, MAX_CUE_BYTES, MAX_TEXT_BYTES, MAX_TRACKS};
use crate::library::probe::mp4::{audio_codec, boxes, child, top_level};
use crate::library::probe::{be_u16, be_u32, be_u64, ProbeError, Source};

/// One `trak`, as far as this module cares.
struct Trak<'a> {
    id: u32,
    enabled: bool,
    handler: [u8; 4],
    fourcc: [u8; 4],
    timescale: u32,
    language: Option<String>,
    /// Track ids this one names as its chapters.
    chapter_refs: Vec<u32>,
    stbl: Option<&'a [u8]>,
    name: Option<String>,
}

/// Tracks read from one file (real ones have a handful).
const MAX_TRAKS: usize = 64;
/// Chapter references read from one track.
const MAX_REFS: usize = 64;

fn traks(moov: &[u8]) -> Vec<Trak<'_>> {
    boxes(moov).filter(|(k, _)| *k == b"trak").take(MAX_TRAKS).filter_map(|(_, t)| trak(t)).collect()
}

fn trak(t: &[u8]) -> Option<Trak<'_>> {
    let tkhd = child(t, b"tkhd")?;
    let id = be_u32(tkhd, if tkhd.first()? == &1 { 20 } else { 12 })?;
    let enabled = tkhd.get(3).is_some_and(|f| f & 1 != 0);
    let mdia = child(t, b"mdia")?;
    let mdhd = child(mdia, b"mdhd")?;
    let (timescale, lang) = match mdhd.first()? {
        1 => (be_u32(mdhd, 20)?, be_u16(mdhd, 32)?),
        _ => (be_u32(mdhd, 12)?, be_u16(mdhd, 20)?),
    };
    let handler: [u8; 4] = child(mdia, b"hdlr")?.get(8..12)?.try_into().ok()?;
    let stbl = child(mdia, b"minf").and_then(|m| child(m, b"stbl"));
    let fourcc = stbl
        .and_then(|s| child(s, b"stsd"))
        .and_then(|s| s.get(12..16))
        .and_then(|f| f.try_into().ok())
        .unwrap_or(*b"    ");
    let chapter_refs = child(t, b"tref")
        .and_then(|r| child(r, b"chap"))
        .map(|c| c.chunks_exact(4).take(MAX_REFS).filter_map(|b| be_u32(b, 0)).collect())
        .unwrap_or_default();
    let name = child(t, b"udta").and_then(|u| child(u, b"name")).map(name_of).filter(|n| !n.trim().is_empty());
    Some(Trak { id, enabled, handler, fourcc, timescale, language: packed_language(lang), chapter_refs, stbl, name })
}

/// `mdhd`'s language: three letters, five bits each, offset by 0x60.
fn packed_language(v: u16) -> Option<String> {
    if v == 0 || v == 0x7FFF {
        return None;
    }
    let letters: String = [(v >> 10) & 31, (v >> 5) & 31, v & 31].iter().map(|&c| char::from(c as u8 + 0x60)).collect();
    if !letters.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    language(&letters)
}

fn is_text(t: &Trak) -> bool {
    matches!(&t.handler, b"sbtl" | b"text" | b"subt") && matches!(&t.fourcc, b"tx3g" | b"text")
}

pub fn describe(src: &(impl Source + ?Sized)) -> Result<Described, ProbeError> {
    let top = top_level(src)?;
    let traks = traks(&top.moov);
    let chapter_ids: std::collections::HashSet<u32> =
        traks.iter().flat_map(|t| t.chapter_refs.iter().copied()).collect();
    let mut out = Described::default();
    let first_audio = traks.iter().find(|t| &t.handler == b"soun").map(|t| t.id);
    for t in &traks {
        if &t.handler == b"soun" && out.audio.len() < MAX_TRACKS {
            out.audio.push(AudioTrack {
                language: t.language.clone(),
                name: t.name.clone(),
                codec: audio_codec(&t.fourcc).to_string(),
                default: t.enabled || Some(t.id) == first_audio,
            });
        } else if is_text(t) && !chapter_ids.contains(&t.id) && out.text.len() < MAX_TRACKS {
            out.text.push(TextTrack {
                number: u64::from(t.id),
                language: t.language.clone(),
                name: t.name.clone(),
                codec: TextCodec::Tx3g,
                forced: false,
                default: false,
            });
        }
    }
    out.chapters = child(&top.moov, b"udta").and_then(|u| child(u, b"chpl")).map(chpl).unwrap_or_default();
    if out.chapters.is_empty() {
        if let Some(t) = traks.iter().find(|t| chapter_ids.contains(&t.id) && is_text(t)) {
            let mut budget = MAX_CHAPTERS * 256;
            out.chapters = samples(src, t, MAX_CHAPTERS, &mut budget)?
                .into_iter()
                .map(|c| Chapter { start_ms: c.start_ms, title: c.text.chars().take(256).collect() })
                .collect();
        }
    }
    Ok(out)
}

/// Nero chapters: version, flags, (a reserved word in version 1), a count,
/// then each start in 100 ns units and a titled string.
fn chpl(b: &[u8]) -> Vec<Chapter> {
    let mut at = if b.first() == Some(&1) { 8 } else { 4 };
    let Some(&count) = b.get(at) else { return Vec::new() };
    at += 1;
    let mut out = Vec::new();
    for _ in 0..count {
        let (Some(start), Some(&len)) = (be_u64(b, at), b.get(at + 8)) else { break };
        let Some(title) = b.get(at + 9..at + 9 + usize::from(len)) else { break };
        out.push(Chapter { start_ms: start / 10_000, title: name_of(title) });
        at += 9 + usize::from(len);
    }
    out.sort_by_key(|c| c.start_ms);
    out
}

pub fn text_cues(src: &(impl Source + ?Sized), tracks: &[TextTrack]) -> Result<Vec<Vec<Cue>>, ProbeError> {
    let top = top_level(src)?;
    let traks = traks(&top.moov);
    let mut out = Vec::new();
    // One budget for all tracks: cues stop once it is spent.
    let mut budget = MAX_TEXT_BYTES;
    for want in tracks {
        let mut cues = match traks.iter().find(|t| u64::from(t.id) == want.number) {
            Some(t) => samples(src, t, MAX_CUES, &mut budget)?,
            None => Vec::new(),
        };
        cues.retain(|c| !c.text.trim().is_empty());
        out.push(cues);
    }
    Ok(out)
}

/// A table box's entries after its version/flags and count, `width` u32
/// fields each, at most `limit` rows, flat.
fn table(stbl: &[u8], kind: &[u8; 4], width: usize, limit: usize) -> Option<Vec<u32>> {
    let b = child(stbl, kind)?;
    let count = (be_u32(b, 4)? as usize).min(limit);
    Some(b.get(8..)?.chunks_exact(4).take(count.saturating_mul(width)).filter_map(|c| be_u32(c, 0)).collect())
}

/// Where and when each sample of a text track is: (offset, size, start,
/// duration), at most `limit` samples.
fn sample_table(t: &Trak, limit: usize) -> Option<Vec<(u64, u32, u64, u32)>> {
    let stbl = t.stbl?;
    // Durations: (count, delta) runs.
    let stts = table(stbl, b"stts", 2, limit)?;
    let times: Vec<u32> =
        stts.chunks_exact(2).flat_map(|r| std::iter::repeat_n(r[1], r[0] as usize)).take(limit).collect();
    // Sizes: one for all, or a table after the count.
    let stsz = child(stbl, b"stsz")?;
    let (fixed, count) = (be_u32(stsz, 4)?, (be_u32(stsz, 8)? as usize).min(limit));
    let sizes: Vec<u32> = if fixed != 0 {
        vec![fixed; count]
    } else {
        stsz.get(12..)?.chunks_exact(4).take(count).filter_map(|c| be_u32(c, 0)).collect()
    };
    // Chunks: offsets, and how many samples each holds (at most one chunk a sample).
    let offsets: Vec<u64> = match table(stbl, b"stco", 1, limit) {
        Some(rows) => rows.into_iter().map(u64::from).collect(),
        None => {
            let co64 = child(stbl, b"co64")?;
            let n = (be_u32(co64, 4)? as usize).min(limit);
            co64.get(8..)?.chunks_exact(8).take(n).filter_map(|c| be_u64(c, 0)).collect()
        }
    };
    let stsc = table(stbl, b"stsc", 3, limit)?;
    let stsc: Vec<&[u32]> = stsc.chunks_exact(3).collect();
    let mut out = Vec::with_capacity(sizes.len());
    let (mut sample, mut clock, mut run) = (0usize, 0u64, 0usize);
    for (chunk, &offset) in offsets.iter().enumerate() {
        let n = (chunk + 1) as u32;
        // `stsc` runs: from chunk `first` on, `per_chunk` samples each.
        while stsc.get(run + 1).is_some_and(|r| r[0] <= n) {
            run += 1;
        }
        let per_chunk = stsc.get(run).map_or(1, |r| r[1]);
        let mut at = offset;
        for _ in 0..per_chunk {
            let (Some(&size), Some(&dur)) = (sizes.get(sample), times.get(sample)) else { return Some(out) };
            out.push((at, size, clock, dur));
            at = at.saturating_add(u64::from(size));
            clock = clock.saturating_add(u64::from(dur));
            sample += 1;
        }
    }
    Some(out)
}

/// A text track's samples as cues: a 16-bit length, then the text (style
/// boxes after it are ignored). Stops when `budget` bytes of text are spent.
fn samples(src: &(impl Source + ?Sized), t: &Trak, limit: usize, budget: &mut usize) -> Result<Vec<Cue>, ProbeError> {
    let Some(table) = sample_table(t, limit) else { return Ok(Vec::new()) };
    let scale = u64::from(t.timescale.max(1));
    let ms = |ticks: u64| u64::try_from(u128::from(ticks) * 1000 / u128::from(scale)).unwrap_or(u64::MAX);
    let mut out = Vec::new();
    for (offset, size, start, dur) in table {
        if u64::from(size) > MAX_CUE_BYTES || size < 2 {
            continue;
        }
        if *budget < size as usize {
            break;
        }
        *budget -= size as usize;
        let bytes = src.read_vec(offset, u64::from(size))?;
        let len = be_u16(&bytes, 0).map_or(0, usize::from);
        let text = bytes.get(2..2 + len).map(text_of).unwrap_or_default();
        out.push(Cue { start_ms: ms(start), end_ms: ms(start.saturating_add(u64::from(dur))), text });
    }
    close_open_ends(&mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_and_nero_chapters() {
        // "eng": e=5, n=14, g=7.
        assert_eq!(packed_language((5 << 10) | (14 << 5) | 7).as_deref(), Some("eng"));
        assert_eq!(packed_language(0x55C4), None); // "und"
        let mut b = vec![1, 0, 0, 0, 0, 0, 0, 0, 2];
        for (start, title) in [(0u64, "One"), (15_000_000, "Two")] {
            b.extend_from_slice(&start.to_be_bytes());
            b.push(title.len() as u8);
            b.extend_from_slice(title.as_bytes());
        }
        let c = chpl(&b);
        assert_eq!(
            c,
            vec![Chapter { start_ms: 0, title: "One".into() }, Chapter { start_ms: 1500, title: "Two".into() }]
        );
        assert!(chpl(&b[..12]).is_empty());
    }
}
