//! Matroska and WebM: the segment's `Tracks` and `Chapters` (found before
//! the first Cluster or through the SeekHead), and the blocks of text
//! tracks, found by walking every Cluster (block headers only; only text
//! blocks are read whole).

use std::collections::HashMap;
use std::io::Read;

use super::{close_open_ends, language, text_of, AudioTrack, Chapter, Cue, Described, TextCodec, TextTrack};
use super::{MAX_CHAPTERS, MAX_CUES, MAX_CUE_BYTES, MAX_TEXT_BYTES, MAX_TRACKS};
use crate::library::probe::mkv::{
    children, codec_name, header, uint, Header, CLUSTER, CODEC_ID, EBML, INFO, SEGMENT, TIMESTAMP_SCALE, TRACKS,
    TRACK_ENTRY, TRACK_TYPE,
};
use crate::library::probe::{ProbeError, Source};

const SEEK_HEAD: u32 = 0x114D_9B74;
const SEEK: u32 = 0x4DBB;
const SEEK_ID: u32 = 0x53AB;
const SEEK_POSITION: u32 = 0x53AC;
const CHAPTERS: u32 = 0x1043_A770;
const EDITION_ENTRY: u32 = 0x45B9;
const EDITION_FLAG_HIDDEN: u32 = 0x45BD;
const EDITION_FLAG_DEFAULT: u32 = 0x45DB;
const CHAPTER_ATOM: u32 = 0xB6;
const CHAPTER_TIME_START: u32 = 0x91;
const CHAPTER_FLAG_HIDDEN: u32 = 0x98;
const CHAPTER_DISPLAY: u32 = 0x80;
const CHAP_STRING: u32 = 0x85;
const TRACK_NUMBER: u32 = 0xD7;
const LANGUAGE: u32 = 0x22_B59C;
const LANGUAGE_BCP47: u32 = 0x22_B59D;
const NAME: u32 = 0x536E;
const FLAG_DEFAULT: u32 = 0x88;
const FLAG_FORCED: u32 = 0x55AA;
const FLAG_ENABLED: u32 = 0xB9;
const DEFAULT_DURATION: u32 = 0x23_E383;
const CONTENT_ENCODINGS: u32 = 0x6D80;
const CONTENT_ENCODING: u32 = 0x6240;
const CONTENT_COMPRESSION: u32 = 0x5034;
const CONTENT_COMP_ALGO: u32 = 0x4254;
const CONTENT_COMP_SETTINGS: u32 = 0x4255;
const CONTENT_ENCRYPTION: u32 = 0x5035;
const CLUSTER_TIMESTAMP: u32 = 0xE7;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const BLOCK_DURATION: u32 = 0x9B;
/// Level-1 elements: where a Cluster of unknown size ends.
const TOP_LEVEL: [u32; 8] = [CLUSTER, SEEK_HEAD, INFO, TRACKS, CHAPTERS, 0x1C53_BB6B, 0x1941_A469, 0x1254_C367];

/// Largest Tracks, Chapters or SeekHead read.
const MAX_HEADER_ELEMENT: u64 = 8 << 20;
/// Elements looked at before giving up (headers, then all clusters' children).
const MAX_ELEMENTS: usize = 50_000_000;
/// Bytes read at a time while walking clusters.
const WINDOW: u64 = 1 << 20;

fn damaged(reason: &str) -> ProbeError {
    ProbeError::Damaged("Matroska", reason.into())
}

/// Where the parts of the segment are.
#[derive(Default)]
struct Layout {
    end: u64,
    info: Option<(u64, u64)>,
    tracks: Option<(u64, u64)>,
    chapters: Option<(u64, u64)>,
    first_cluster: Option<u64>,
}

fn layout(src: &(impl Source + ?Sized)) -> Result<Layout, ProbeError> {
    let len = src.size();
    let ebml = header(&src.read_vec(0, 64)?).filter(|h| h.id == EBML).ok_or_else(|| damaged("bad EBML header"))?;
    let seg_pos = ebml.len + ebml.size.ok_or_else(|| damaged("bad EBML header size"))?;
    let seg = header(&src.read_vec(seg_pos, 16)?).filter(|h| h.id == SEGMENT).ok_or_else(|| damaged("no Segment"))?;
    let data = seg_pos.saturating_add(seg.len);
    let mut out = Layout { end: seg.size.map_or(len, |s| data.saturating_add(s).min(len)), ..Layout::default() };
    let mut seeks = Vec::new();
    let mut pos = data;
    for _ in 0..10_000 {
        if pos >= out.end {
            break;
        }
        let Some(h) = header(&src.read_vec(pos, 16)?) else { break };
        let body = pos.saturating_add(h.len);
        if h.id == CLUSTER {
            out.first_cluster = Some(pos);
            break;
        }
        let Some(size) = h.size else { break };
        match h.id {
            INFO => out.info = out.info.or(Some((body, size))),
            TRACKS => out.tracks = out.tracks.or(Some((body, size))),
            CHAPTERS => out.chapters = out.chapters.or(Some((body, size))),
            SEEK_HEAD if size <= MAX_HEADER_ELEMENT => {
                let b = src.read_vec(body, size)?;
                for (_, seek) in children(&b).filter(|(id, _)| *id == SEEK) {
                    let (mut id, mut at) = (None, None);
                    for (cid, d) in children(seek) {
                        match cid {
                            SEEK_ID => id = uint(d),
                            SEEK_POSITION => at = uint(d),
                            _ => {}
                        }
                    }
                    if let (Some(id), Some(at)) = (id, at) {
                        seeks.push((id as u32, data.saturating_add(at)));
                    }
                }
            }
            _ => {}
        }
        pos = body.saturating_add(size);
    }
    // Elements written after the clusters (chapters added later, say) are
    // found through the SeekHead.
    for (id, at) in seeks {
        let slot = match id {
            TRACKS if out.tracks.is_none() => &mut out.tracks,
            CHAPTERS if out.chapters.is_none() => &mut out.chapters,
            INFO if out.info.is_none() => &mut out.info,
            CLUSTER if out.first_cluster.is_none() => {
                out.first_cluster = Some(at);
                continue;
            }
            _ => continue,
        };
        if let Some(Header { id: found, size: Some(size), len }) = header(&src.read_vec(at, 16)?) {
            if found == id {
                *slot = Some((at.saturating_add(len), size));
            }
        }
    }
    Ok(out)
}

fn element(src: &(impl Source + ?Sized), at: Option<(u64, u64)>) -> Result<Option<Vec<u8>>, ProbeError> {
    match at {
        None => Ok(None),
        Some((_, size)) if size > MAX_HEADER_ELEMENT => Err(damaged("a header element is too large")),
        Some((pos, size)) => Ok(Some(src.read_vec(pos, size)?)),
    }
}

/// A track entry, with what reading its blocks needs.
struct Entry {
    number: u64,
    kind: u64,
    codec: String,
    language: Option<String>,
    name: Option<String>,
    default: bool,
    forced: bool,
    enabled: bool,
    default_duration_ns: Option<u64>,
    encoding: Encoding,
}

#[derive(Clone)]
enum Encoding {
    None,
    Zlib,
    /// Header stripping: these bytes were removed from every frame.
    Stripped(Vec<u8>),
    /// Encrypted or unknown: the blocks cannot be read.
    Unreadable,
}

fn entries(body: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    for (_, entry) in children(body).filter(|(id, _)| *id == TRACK_ENTRY) {
        let mut e = Entry {
            number: 0,
            kind: 0,
            codec: String::new(),
            language: None,
            name: None,
            default: true,
            forced: false,
            enabled: true,
            default_duration_ns: None,
            encoding: Encoding::None,
        };
        let mut bcp47 = None;
        for (id, d) in children(entry) {
            match id {
                TRACK_NUMBER => e.number = uint(d).unwrap_or(0),
                TRACK_TYPE => e.kind = uint(d).unwrap_or(0),
                CODEC_ID => e.codec = text_of(d),
                LANGUAGE => e.language = language(&text_of(d)),
                LANGUAGE_BCP47 => bcp47 = language(&text_of(d)),
                NAME => e.name = Some(text_of(d)).filter(|n| !n.trim().is_empty()),
                FLAG_DEFAULT => e.default = uint(d) != Some(0),
                FLAG_FORCED => e.forced = uint(d).is_some_and(|f| f != 0),
                FLAG_ENABLED => e.enabled = uint(d) != Some(0),
                DEFAULT_DURATION => e.default_duration_ns = uint(d),
                CONTENT_ENCODINGS => e.encoding = encoding(d),
                _ => {}
            }
        }
        e.language = bcp47.or(e.language);
        out.push(e);
    }
    out
}

fn encoding(encodings: &[u8]) -> Encoding {
    let mut out = Encoding::None;
    for (_, enc) in children(encodings).filter(|(id, _)| *id == CONTENT_ENCODING) {
        if !matches!(out, Encoding::None) {
            return Encoding::Unreadable; // more than one: not worth the trouble
        }
        for (id, d) in children(enc) {
            match id {
                CONTENT_ENCRYPTION => return Encoding::Unreadable,
                CONTENT_COMPRESSION => {
                    let (mut algo, mut settings) = (0, Vec::new());
                    for (cid, cd) in children(d) {
                        match cid {
                            CONTENT_COMP_ALGO => algo = uint(cd).unwrap_or(u64::MAX),
                            CONTENT_COMP_SETTINGS => settings = cd.to_vec(),
                            _ => {}
                        }
                    }
                    out = match algo {
                        0 => Encoding::Zlib,
                        3 => Encoding::Stripped(settings),
                        _ => Encoding::Unreadable,
                    };
                }
                _ => {}
            }
        }
    }
    out
}

fn text_codec(codec: &str) -> Option<TextCodec> {
    match codec {
        "S_TEXT/UTF8" | "S_TEXT/ASCII" => Some(TextCodec::Plain),
        "S_TEXT/ASS" | "S_TEXT/SSA" | "S_ASS" | "S_SSA" => Some(TextCodec::Ass),
        // WebM names its WebVTT tracks by kind.
        "S_TEXT/WEBVTT" | "D_WEBVTT/SUBTITLES" | "D_WEBVTT/CAPTIONS" => Some(TextCodec::Vtt),
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
                .find_map(|(_, d)| children(d).find(|(id, _)| *id == CHAP_STRING).map(|(_, s)| text_of(s)))
                .unwrap_or_default();
            Some(Chapter { start_ms: start_ns / 1_000_000, title })
        })
        .take(MAX_CHAPTERS)
        .collect();
    out.sort_by_key(|c| c.start_ms);
    out
}

/// Reads the file forwards a window at a time.
struct Window<'a, S: Source + ?Sized> {
    src: &'a S,
    pos: u64,
    buf: Vec<u8>,
}

impl<S: Source + ?Sized> Window<'_, S> {
    /// Up to `n` bytes at `at` (fewer at the end of the file); `n` ≤ `WINDOW`.
    fn get(&mut self, at: u64, n: u64) -> Result<&[u8], ProbeError> {
        let inside = at >= self.pos && at.saturating_add(n) <= self.pos + self.buf.len() as u64;
        if !inside {
            self.buf = self.src.read_vec(at, WINDOW.max(n))?;
            self.pos = at;
        }
        let start = (at - self.pos) as usize;
        let end = (start + n as usize).min(self.buf.len());
        Ok(&self.buf[start.min(end)..end])
    }
}

/// What a cue read needs to know of its track.
struct Wanted {
    slot: usize,
    encoding: Encoding,
    default_duration_ns: Option<u64>,
}

pub fn text_cues(src: &(impl Source + ?Sized), tracks: &[TextTrack]) -> Result<Vec<Vec<Cue>>, ProbeError> {
    let at = layout(src)?;
    let scale = element(src, at.info)?
        .and_then(|b| children(&b).find(|(id, _)| *id == TIMESTAMP_SCALE).and_then(|(_, d)| uint(d)))
        .filter(|&s| s > 0)
        .unwrap_or(1_000_000);
    let entries = element(src, at.tracks)?.map(|b| entries(&b)).unwrap_or_default();
    let wanted: HashMap<u64, Wanted> = tracks
        .iter()
        .enumerate()
        .filter_map(|(slot, t)| {
            let e = entries.iter().find(|e| e.number == t.number)?;
            Some((t.number, Wanted { slot, encoding: e.encoding.clone(), default_duration_ns: e.default_duration_ns }))
        })
        .collect();
    let mut cues: Vec<Vec<Cue>> = vec![Vec::new(); tracks.len()];
    let mut text_bytes = 0usize;
    let Some(mut pos) = at.first_cluster else { return Ok(cues) };
    let mut win = Window { src, pos: 0, buf: Vec::new() };
    let ms = |ticks: i128| u64::try_from(ticks.max(0) * i128::from(scale) / 1_000_000).unwrap_or(u64::MAX);
    let mut budget = MAX_ELEMENTS;
    'clusters: while pos < at.end && budget > 0 {
        let Some(h) = header(win.get(pos, 16)?) else { break };
        let data = pos.saturating_add(h.len);
        if h.id != CLUSTER {
            let Some(size) = h.size else { break };
            pos = data.saturating_add(size);
            continue;
        }
        let end = h.size.map_or(at.end, |s| data.saturating_add(s).min(at.end));
        let mut cluster_ts: i128 = 0;
        let mut cpos = data;
        while cpos < end && budget > 0 {
            budget -= 1;
            let Some(c) = header(win.get(cpos, 16)?) else { break 'clusters };
            if h.size.is_none() && TOP_LEVEL.contains(&c.id) {
                pos = cpos; // the next level-1 element ends a Cluster of unknown size
                continue 'clusters;
            }
            let Some(size) = c.size else { break 'clusters };
            let body = cpos.saturating_add(c.len);
            match c.id {
                CLUSTER_TIMESTAMP => cluster_ts = uint(win.get(body, size.min(8))?).unwrap_or(0).into(),
                SIMPLE_BLOCK | BLOCK_GROUP => {
                    let peek = win.get(body, size.min(32))?;
                    let track = if c.id == SIMPLE_BLOCK { block_track(peek) } else { group_track(peek) };
                    if let Some(w) = track.and_then(|t| wanted.get(&t)) {
                        if size <= MAX_CUE_BYTES && cues[w.slot].len() < MAX_CUES && text_bytes < MAX_TEXT_BYTES {
                            let bytes = win.get(body, size)?.to_vec();
                            let block = if c.id == SIMPLE_BLOCK { Some((&bytes[..], None)) } else { group(&bytes) };
                            if let Some((block, duration)) = block {
                                if let Some((rel, text)) = block_text(block, &w.encoding) {
                                    let start = ms(cluster_ts + i128::from(rel));
                                    let end = match (duration, w.default_duration_ns) {
                                        (Some(d), _) => ms(cluster_ts + i128::from(rel) + i128::from(d)),
                                        (None, Some(ns)) => start.saturating_add(ns / 1_000_000),
                                        (None, None) => 0,
                                    };
                                    text_bytes += text.len();
                                    cues[w.slot].push(Cue { start_ms: start, end_ms: end, text });
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
            cpos = body.saturating_add(size);
        }
        pos = end;
    }
    for track in &mut cues {
        close_open_ends(track);
    }
    Ok(cues)
}

/// The track number of a block (the start of its data).
fn block_track(b: &[u8]) -> Option<u64> {
    crate::library::probe::mkv::vint(b, false).map(|(n, _)| n)
}

/// The track number of a BlockGroup's Block, from the group's first bytes.
fn group_track(b: &[u8]) -> Option<u64> {
    let h = header(b)?;
    (h.id == BLOCK).then(|| block_track(b.get(h.len as usize..)?)).flatten()
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
    let (_, n) = crate::library::probe::mkv::vint(b, false)?;
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
        assert_eq!((d.text[0].label(), d.text[0].forced), ("fre (forced)".to_string(), true));
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
