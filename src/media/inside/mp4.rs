//! ISO BMFF (MP4, MOV): audio tracks and timed-text tracks from each
//! `trak`, chapters from Nero `chpl` (`moov/udta`) or else from a
//! QuickTime chapter track (a text track named by another track's
//! `tref/chap`), and text samples through the sample tables.

use super::{close_open_ends, AudioTrack, Chapter, Cue, Described, TextCodec, TextTrack};
use super::{MAX_CHAPTERS, MAX_CUES, MAX_CUE_BYTES, MAX_TEXT_BYTES, MAX_TRACKS};
use crate::container::isobmff::{child, sample_table, top_level, traks, Trak};
use crate::container::text::{name_of, text_of};
use crate::container::{be_u16, be_u64, ProbeError, Source};
use crate::library::probe::mp4::audio_codec;

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

/// A text track's samples as cues: a 16-bit length, then the text (style
/// boxes after it are ignored). Stops when `budget` bytes of text are spent.
fn samples(src: &(impl Source + ?Sized), t: &Trak, limit: usize, budget: &mut usize) -> Result<Vec<Cue>, ProbeError> {
    let Some(table) = t.stbl.and_then(|stbl| sample_table(stbl, limit, src.size())) else { return Ok(Vec::new()) };
    let scale = u64::from(t.timescale.max(1));
    let ms = |ticks: u64| u64::try_from(u128::from(ticks) * 1000 / u128::from(scale)).unwrap_or(u64::MAX);
    let mut out = Vec::new();
    for row in table {
        let (offset, size, start, dur) = (row.pos, row.size, row.dts, row.dur);
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
    use crate::container::isobmff::packed_language;

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
