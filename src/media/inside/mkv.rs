//! Matroska and WebM: the tracks and chapters (`describe`) and the cues
//! of text tracks (`text_cues`, one walk over every Cluster), through the
//! shared reader in `container::ebml`.

use std::collections::HashMap;
use std::io::Read;

use super::{close_open_ends, AudioTrack, Chapter, Cue, Described, TextCodec, TextTrack};
use super::{MAX_CHAPTERS, MAX_CUES, MAX_CUE_BYTES, MAX_TEXT_BYTES, MAX_TRACKS};
use crate::container::ebml::{children, uint};
use crate::container::ebml::{
    element, entries, layout, scale_and_entries, walk_blocks, Encoding, Met, Window, BLOCK, BLOCK_DURATION,
    SIMPLE_BLOCK,
};
use crate::container::text::{name_of, text_of};
use crate::container::{ProbeError, Source};
use crate::library::probe::mkv::codec_name;

const EDITION_ENTRY: u32 = 0x45B9;
const EDITION_FLAG_HIDDEN: u32 = 0x45BD;
const EDITION_FLAG_DEFAULT: u32 = 0x45DB;
const CHAPTER_ATOM: u32 = 0xB6;
const CHAPTER_TIME_START: u32 = 0x91;
const CHAPTER_FLAG_HIDDEN: u32 = 0x98;
const CHAPTER_DISPLAY: u32 = 0x80;
const CHAP_STRING: u32 = 0x85;

fn text_codec(codec: &str) -> Option<TextCodec> {
    match codec {
        "S_TEXT/UTF8" | "S_TEXT/ASCII" => Some(TextCodec::Plain),
        "S_TEXT/ASS" | "S_TEXT/SSA" | "S_ASS" | "S_SSA" => Some(TextCodec::Ass),
        // WebM names its WebVTT tracks by kind.
        "S_TEXT/WEBVTT" => Some(TextCodec::Vtt),
        "D_WEBVTT/SUBTITLES" | "D_WEBVTT/CAPTIONS" => Some(TextCodec::WebmVtt),
        _ => None,
    }
}

pub fn describe(src: &(impl Source + ?Sized)) -> Result<Described, ProbeError> {
    let at = layout(src)?;
    let mut out = Described::default();
    if let Some(body) = element(src, at.tracks)? {
        for e in entries(&body).into_iter().filter(|e| e.enabled) {
            match e.kind {
                2 if out.audio.len() < MAX_TRACKS => out.audio.push(AudioTrack {
                    codec: codec_name(&e.codec).to_string(),
                    language: e.language,
                    name: e.name,
                    default: e.default,
                }),
                17 if out.text.len() < MAX_TRACKS && !matches!(e.encoding, Encoding::Unreadable) => {
                    if let Some(codec) = text_codec(&e.codec) {
                        out.text.push(TextTrack {
                            number: e.number,
                            language: e.language,
                            name: e.name,
                            codec,
                            forced: e.forced,
                            default: e.default,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(body) = element(src, at.chapters)? {
        out.chapters = chapters(&body);
    }
    Ok(out)
}

/// The default edition's (else the first shown edition's) top-level chapters.
fn chapters(body: &[u8]) -> Vec<Chapter> {
    let editions: Vec<&[u8]> = children(body).filter(|(id, _)| *id == EDITION_ENTRY).map(|(_, d)| d).collect();
    let flag = |e: &[u8], want: u32| children(e).any(|(id, d)| id == want && uint(d).is_some_and(|v| v != 0));
    let edition = editions
        .iter()
        .find(|e| flag(e, EDITION_FLAG_DEFAULT))
        .or_else(|| editions.iter().find(|e| !flag(e, EDITION_FLAG_HIDDEN)));
    let Some(edition) = edition else { return Vec::new() };
    let mut out: Vec<Chapter> = children(edition)
        .filter(|(id, _)| *id == CHAPTER_ATOM)
        .filter(|(_, atom)| !flag(atom, CHAPTER_FLAG_HIDDEN))
        .filter_map(|(_, atom)| {
            let start_ns = children(atom).find(|(id, _)| *id == CHAPTER_TIME_START).and_then(|(_, d)| uint(d))?;
            let title = children(atom)
                .filter(|(id, _)| *id == CHAPTER_DISPLAY)
                .find_map(|(_, d)| children(d).find(|(id, _)| *id == CHAP_STRING).map(|(_, s)| name_of(s)))
                .unwrap_or_default();
            Some(Chapter { start_ms: start_ns / 1_000_000, title })
        })
        .take(MAX_CHAPTERS)
        .collect();
    out.sort_by_key(|c| c.start_ms);
    out
}

/// What a cue read needs to know of its track.
struct Wanted {
    slot: usize,
    encoding: Encoding,
    default_duration_ns: Option<u64>,
}

pub fn text_cues(src: &(impl Source + ?Sized), tracks: &[TextTrack]) -> Result<Vec<Vec<Cue>>, ProbeError> {
    let mut texts = TextCollector::new(src, tracks)?;
    walk_blocks(src, &layout(src)?, |win, met| texts.visit(win, met))?;
    Ok(texts.finish())
}

/// The cues of a file's text tracks, gathered block by block during a walk
/// over its clusters (`text_cues`'s own, or one made for something else:
/// the remux's tables, so the file is read once for both).
pub struct TextCollector {
    wanted: HashMap<u64, Wanted>,
    scale: u64,
    cues: Vec<Vec<Cue>>,
    text_bytes: usize,
}

impl TextCollector {
    /// For `tracks` of `src` (its headers read).
    pub fn new(src: &(impl Source + ?Sized), tracks: &[TextTrack]) -> Result<TextCollector, ProbeError> {
        let at = layout(src)?;
        let (scale, entries) = scale_and_entries(src, &at)?;
        let wanted = tracks
            .iter()
            .enumerate()
            .filter_map(|(slot, t)| {
                let e = entries.iter().find(|e| e.number == t.number)?;
                Some((
                    t.number,
                    Wanted { slot, encoding: e.encoding.clone(), default_duration_ns: e.default_duration_ns },
                ))
            })
            .collect();
        Ok(TextCollector { wanted, scale, cues: vec![Vec::new(); tracks.len()], text_bytes: 0 })
    }

    /// Takes the cue of a block met in the walk, if it is of a wanted track.
    pub fn visit<S: Source + ?Sized>(&mut self, win: &mut Window<'_, S>, met: Met) -> Result<(), ProbeError> {
        let Some(w) = self.wanted.get(&met.track) else { return Ok(()) };
        if met.size > MAX_CUE_BYTES || self.cues[w.slot].len() >= MAX_CUES || self.text_bytes >= MAX_TEXT_BYTES {
            return Ok(());
        }
        let scale = self.scale;
        let ms = |ticks: i128| {
            let ns = ticks.max(0).checked_mul(i128::from(scale)).unwrap_or(i128::MAX);
            u64::try_from(ns / 1_000_000).unwrap_or(u64::MAX)
        };
        let bytes = win.get(met.body, met.size)?.to_vec();
        let block = if met.id == SIMPLE_BLOCK { Some((&bytes[..], None)) } else { group(&bytes) };
        let Some((block, duration)) = block else { return Ok(()) };
        let Some((rel, text)) = block_text(block, &w.encoding) else { return Ok(()) };
        let start = ms(met.cluster_ts.saturating_add(i128::from(rel)));
        let end = match (duration, w.default_duration_ns) {
            (Some(d), _) => ms(met.cluster_ts.saturating_add(i128::from(rel)).saturating_add(i128::from(d))),
            (None, Some(ns)) => start.saturating_add(ns / 1_000_000),
            (None, None) => 0,
        };
        self.text_bytes += text.len();
        self.cues[w.slot].push(Cue { start_ms: start, end_ms: end, text });
        Ok(())
    }

    /// The cues, one list per track, each cue ending where it should.
    pub fn finish(mut self) -> Vec<Vec<Cue>> {
        for track in &mut self.cues {
            close_open_ends(track);
        }
        self.cues
    }
}

/// A BlockGroup's Block and BlockDuration.
fn group(b: &[u8]) -> Option<(&[u8], Option<u64>)> {
    let mut block = None;
    let mut duration = None;
    for (id, d) in children(b) {
        match id {
            BLOCK => block = Some(d),
            BLOCK_DURATION => duration = uint(d),
            _ => {}
        }
    }
    Some((block?, duration))
}

/// A block's timestamp (relative to its cluster) and text.
fn block_text(b: &[u8], encoding: &Encoding) -> Option<(i16, String)> {
    let (_, n) = crate::container::ebml::vint(b, false)?;
    let rel = i16::from_be_bytes(b.get(n..n + 2)?.try_into().ok()?);
    let flags = *b.get(n + 2)?;
    if flags & 0x06 != 0 {
        return None; // laced: text tracks never are
    }
    let payload = b.get(n + 3..)?;
    let bytes = match encoding {
        Encoding::None => payload.to_vec(),
        Encoding::Stripped(prefix) => [prefix.as_slice(), payload].concat(),
        Encoding::Zlib => {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(payload).take(MAX_CUE_BYTES * 4).read_to_end(&mut out).ok()?;
            out
        }
        Encoding::Unreadable => return None,
    };
    Some((rel, text_of(&bytes)))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::container::ebml::*;

    /// An element with an 8-byte size (or "unknown" with `None`).
    fn el(id: u32, body: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = id.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        v.push(0x01);
        v.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
        v.extend_from_slice(body);
        v
    }

    fn unknown(id: u32, body: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = id.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        v.push(0xFF);
        v.extend_from_slice(body);
        v
    }

    fn block(track: u8, rel: i16, payload: &[u8]) -> Vec<u8> {
        [&[0x80 | track][..], &rel.to_be_bytes(), &[0], payload].concat()
    }

    fn file() -> Vec<u8> {
        let track = |n: u8, kind: u8, codec: &[u8], extra: Vec<u8>| {
            el(TRACK_ENTRY, &[el(TRACK_NUMBER, &[n]), el(TRACK_TYPE, &[kind]), el(CODEC_ID, codec), extra].concat())
        };
        let zlib = el(CONTENT_ENCODINGS, &el(CONTENT_ENCODING, &el(CONTENT_COMPRESSION, &el(CONTENT_COMP_ALGO, &[0]))));
        let stripped = el(
            CONTENT_ENCODINGS,
            &el(
                CONTENT_ENCODING,
                &el(CONTENT_COMPRESSION, &[el(CONTENT_COMP_ALGO, &[3]), el(CONTENT_COMP_SETTINGS, b"7,0,")].concat()),
            ),
        );
        let tracks = el(
            TRACKS,
            &[
                track(1, 1, b"V_VP9", vec![]),
                track(2, 17, b"S_TEXT/UTF8", [zlib, el(LANGUAGE, b"fre"), el(FLAG_FORCED, &[1])].concat()),
                track(3, 17, b"S_TEXT/ASS", [stripped, el(NAME, b"Signs")].concat()),
                track(4, 2, b"A_AC3", el(LANGUAGE, b"und")),
            ]
            .concat(),
        );
        let atom = |start_ms: u64, title: &[u8], hidden: bool| {
            let mut body = el(CHAPTER_TIME_START, &(start_ms * 1_000_000).to_be_bytes());
            body.extend(el(CHAPTER_DISPLAY, &el(CHAP_STRING, title)));
            if hidden {
                body.extend(el(CHAPTER_FLAG_HIDDEN, &[1]));
            }
            el(CHAPTER_ATOM, &body)
        };
        let chapters = el(
            CHAPTERS,
            &el(EDITION_ENTRY, &[atom(90_000, b"Two", false), atom(0, b"One", false), atom(5, b"x", true)].concat()),
        );
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"<i>Bonjour</i>").unwrap();
        let squeezed = z.finish().unwrap();
        let first = unknown(
            CLUSTER,
            &[
                el(CLUSTER_TIMESTAMP, &[0x03, 0xE8]),
                el(SIMPLE_BLOCK, &block(1, 0, &[0; 40])),
                el(SIMPLE_BLOCK, &block(2, 500, &squeezed)),
                el(
                    BLOCK_GROUP,
                    &[
                        el(BLOCK, &block(3, 200, b"Default,,0,0,0,,{\\b1}Exit{\\b0}")),
                        el(BLOCK_DURATION, &[0x05, 0xDC]),
                    ]
                    .concat(),
                ),
            ]
            .concat(),
        );
        let second = el(
            CLUSTER,
            &[
                el(CLUSTER_TIMESTAMP, &[0x13, 0x88]),
                el(
                    SIMPLE_BLOCK,
                    &block(2, 0, &{
                        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                        z.write_all(b"Encore").unwrap();
                        z.finish().unwrap()
                    }),
                ),
            ]
            .concat(),
        );
        let header = el(0x1A45_DFA3, &el(0x4282, b"matroska"));
        [header, unknown(SEGMENT, &[tracks, chapters, first, second].concat())].concat()
    }

    #[test]
    fn tracks_chapters_and_cues() {
        let f = file();
        let d = describe(&f[..]).unwrap();
        assert_eq!(
            d.chapters.iter().map(|c| (c.start_ms, c.title.as_str())).collect::<Vec<_>>(),
            [(0, "One"), (90_000, "Two")]
        );
        assert_eq!(d.audio.len(), 1);
        assert_eq!(
            (d.audio[0].codec.as_str(), d.audio[0].language.as_deref(), d.audio[0].browser_plays()),
            ("ac3", None, false)
        );
        assert_eq!(d.text.len(), 2);
        assert_eq!((d.text[0].label(), d.text[0].forced), ("Français (forced)".to_string(), true));
        assert_eq!(d.text[1].label(), "Signs");
        let cues = text_cues(&f[..], &d.text).unwrap();
        let plain: Vec<_> = cues[0].iter().map(|c| (c.start_ms, c.end_ms, c.text.as_str())).collect();
        assert_eq!(plain, [(1500, 5000, "<i>Bonjour</i>"), (5000, 10_000, "Encore")]);
        assert_eq!(super::super::to_vtt(TextCodec::Ass, &cues[1]), "WEBVTT\n\n00:00:01.200 --> 00:00:02.700\nExit\n\n");
        // Every cut of the file is an error or fewer cues, never a panic.
        for cut in 0..f.len() {
            let _ = describe(&f[..cut]);
            let _ = text_cues(&f[..cut], &d.text);
        }
    }

    #[test]
    fn block_headers_name_their_track() {
        assert_eq!(block_track(&[0x81, 0, 0, 0]), Some(1));
        assert_eq!(group_track(&[0xA1, 0x84, 0x82, 0, 0, 0]), Some(2));
    }
}
