//! Matroska and WebM, shared by the readers of what is inside a file
//! (`inside`) and the remuxer (`remux`): where the segment's parts are
//! (`layout`, through the SeekHead too), the track entries (`entries`),
//! and a walk over every block of every Cluster that reads only block
//! headers (`walk_blocks`, through a forward `Window`).

use super::text::{language, name_of, text_of};
use super::{ProbeError, Source};

/// Element ids, as written in the specification (marker bits kept).
pub const EBML: u32 = 0x1A45_DFA3;
pub const DOC_TYPE: u32 = 0x4282;
pub const SEGMENT: u32 = 0x1853_8067;
pub const INFO: u32 = 0x1549_A966;
pub const TIMESTAMP_SCALE: u32 = 0x2A_D7B1;
pub const DURATION: u32 = 0x4489;
pub const DATE_UTC: u32 = 0x4461;
pub const TRACKS: u32 = 0x1654_AE6B;
pub const TRACK_ENTRY: u32 = 0xAE;
pub const TRACK_TYPE: u32 = 0x83;
pub const CODEC_ID: u32 = 0x86;
pub const VIDEO: u32 = 0xE0;
pub const PIXEL_WIDTH: u32 = 0xB0;
pub const PIXEL_HEIGHT: u32 = 0xBA;
pub const CLUSTER: u32 = 0x1F43_B675;
pub const ATTACHMENTS: u32 = 0x1941_A469;
pub const ATTACHED_FILE: u32 = 0x61A7;
pub const FILE_NAME: u32 = 0x466E;
pub const FILE_MIME: u32 = 0x4660;
pub const FILE_DATA: u32 = 0x465C;

/// An element header: id (marker bits kept, as written in the spec), data
/// size (`None` for "unknown"), and header length.
pub struct Header {
    pub id: u32,
    pub size: Option<u64>,
    pub len: u64,
}

/// Reads a variable-length integer; `keep_marker` for ids.
pub fn vint(b: &[u8], keep_marker: bool) -> Option<(u64, usize)> {
    let first = *b.first()?;
    if first == 0 {
        return None;
    }
    let len = first.leading_zeros() as usize + 1;
    let bytes = b.get(..len)?;
    let mut v = if keep_marker { u64::from(first) } else { u64::from(first) & ((1u64 << (8 - len)) - 1) };
    for &x in &bytes[1..] {
        v = (v << 8) | u64::from(x);
    }
    Some((v, len))
}

pub fn header(b: &[u8]) -> Option<Header> {
    let (id, id_len) = vint(b, true)?;
    if id_len > 4 {
        return None;
    }
    let (size, size_len) = vint(&b[id_len..], false)?;
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    Some(Header { id: id as u32, size: (!unknown).then_some(size), len: (id_len + size_len) as u64 })
}

/// Iterates the children of an element held in memory.
pub fn children(mut b: &[u8]) -> impl Iterator<Item = (u32, &[u8])> {
    std::iter::from_fn(move || {
        let h = header(b)?;
        let start = h.len as usize;
        let end = start.checked_add(usize::try_from(h.size?).ok()?)?;
        let data = b.get(start..end)?;
        b = &b[end..];
        Some((h.id, data))
    })
}

pub fn uint(b: &[u8]) -> Option<u64> {
    (b.len() <= 8).then(|| b.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

pub fn float(b: &[u8]) -> Option<f64> {
    match b.len() {
        4 => Some(f64::from(f32::from_be_bytes(b.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(b.try_into().ok()?)),
        _ => None,
    }
}

pub const SEEK_HEAD: u32 = 0x114D_9B74;
pub const SEEK: u32 = 0x4DBB;
pub const SEEK_ID: u32 = 0x53AB;
pub const SEEK_POSITION: u32 = 0x53AC;
pub const CHAPTERS: u32 = 0x1043_A770;
pub const TRACK_NUMBER: u32 = 0xD7;
pub const LANGUAGE: u32 = 0x22_B59C;
pub const LANGUAGE_BCP47: u32 = 0x22_B59D;
pub const NAME: u32 = 0x536E;
pub const FLAG_DEFAULT: u32 = 0x88;
pub const FLAG_FORCED: u32 = 0x55AA;
pub const FLAG_ENABLED: u32 = 0xB9;
pub const DEFAULT_DURATION: u32 = 0x23_E383;
pub const CODEC_PRIVATE: u32 = 0x63A2;
pub const AUDIO: u32 = 0xE1;
pub const SAMPLING_FREQUENCY: u32 = 0xB5;
pub const CHANNELS: u32 = 0x9F;
pub const CONTENT_ENCODINGS: u32 = 0x6D80;
pub const CONTENT_ENCODING: u32 = 0x6240;
pub const CONTENT_COMPRESSION: u32 = 0x5034;
pub const CONTENT_COMP_ALGO: u32 = 0x4254;
pub const CONTENT_COMP_SETTINGS: u32 = 0x4255;
pub const CONTENT_ENCRYPTION: u32 = 0x5035;
pub const CLUSTER_TIMESTAMP: u32 = 0xE7;
pub const SIMPLE_BLOCK: u32 = 0xA3;
pub const BLOCK_GROUP: u32 = 0xA0;
pub const BLOCK: u32 = 0xA1;
pub const BLOCK_DURATION: u32 = 0x9B;
pub const REFERENCE_BLOCK: u32 = 0xFB;
/// Level-1 elements: where a Cluster of unknown size ends.
const TOP_LEVEL: [u32; 8] = [CLUSTER, SEEK_HEAD, INFO, TRACKS, CHAPTERS, 0x1C53_BB6B, 0x1941_A469, 0x1254_C367];

/// Track entries read.
const MAX_ENTRIES: usize = 256;
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
pub struct Layout {
    pub end: u64,
    pub info: Option<(u64, u64)>,
    pub tracks: Option<(u64, u64)>,
    pub chapters: Option<(u64, u64)>,
    pub first_cluster: Option<u64>,
}

pub fn layout(src: &(impl Source + ?Sized)) -> Result<Layout, ProbeError> {
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

pub fn element(src: &(impl Source + ?Sized), at: Option<(u64, u64)>) -> Result<Option<Vec<u8>>, ProbeError> {
    match at {
        None => Ok(None),
        Some((_, size)) if size > MAX_HEADER_ELEMENT => Err(damaged("a header element is too large")),
        Some((pos, size)) => Ok(Some(src.read_vec(pos, size)?)),
    }
}

/// The segment's timestamp scale (nanoseconds a tick; a million when it
/// does not say, or says something unusable) and its track entries.
pub fn scale_and_entries(src: &(impl Source + ?Sized), at: &Layout) -> Result<(u64, Vec<Entry>), ProbeError> {
    let scale = element(src, at.info)?
        .and_then(|b| children(&b).find(|(id, _)| *id == TIMESTAMP_SCALE).and_then(|(_, d)| uint(d)))
        .filter(|&s| (1..=1_000_000_000_000).contains(&s))
        .unwrap_or(1_000_000);
    let entries = element(src, at.tracks)?.map(|b| entries(&b)).unwrap_or_default();
    Ok((scale, entries))
}

/// A track entry, with what reading its blocks needs.
pub struct Entry {
    pub number: u64,
    pub kind: u64,
    pub codec: String,
    pub language: Option<String>,
    pub name: Option<String>,
    pub default: bool,
    pub forced: bool,
    pub enabled: bool,
    pub default_duration_ns: Option<u64>,
    pub encoding: Encoding,
    pub codec_private: Vec<u8>,
    /// Audio: samples per second and channels.
    pub sampling_rate: Option<f64>,
    pub channels: Option<u64>,
    /// Video: pixel size.
    pub width: Option<u64>,
    pub height: Option<u64>,
}

#[derive(Clone)]
pub enum Encoding {
    None,
    Zlib,
    /// Header stripping: these bytes were removed from every frame.
    Stripped(Vec<u8>),
    /// Encrypted or unknown: the blocks cannot be read.
    Unreadable,
}

pub fn entries(body: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    // A file lists a few tracks; a fake one may claim millions.
    for (_, entry) in children(body).filter(|(id, _)| *id == TRACK_ENTRY).take(MAX_ENTRIES) {
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
            codec_private: Vec::new(),
            sampling_rate: None,
            channels: None,
            width: None,
            height: None,
        };
        let mut bcp47 = None;
        for (id, d) in children(entry) {
            match id {
                TRACK_NUMBER => e.number = uint(d).unwrap_or(0),
                TRACK_TYPE => e.kind = uint(d).unwrap_or(0),
                CODEC_ID => e.codec = name_of(d),
                LANGUAGE => e.language = language(&text_of(d)),
                LANGUAGE_BCP47 => bcp47 = language(&text_of(d)),
                NAME => e.name = Some(name_of(d)).filter(|n| !n.trim().is_empty()),
                FLAG_DEFAULT => e.default = uint(d) != Some(0),
                FLAG_FORCED => e.forced = uint(d).is_some_and(|f| f != 0),
                FLAG_ENABLED => e.enabled = uint(d) != Some(0),
                DEFAULT_DURATION => e.default_duration_ns = uint(d),
                CONTENT_ENCODINGS => e.encoding = encoding(d),
                CODEC_PRIVATE => e.codec_private = d.to_vec(),
                AUDIO => {
                    for (id, a) in children(d) {
                        match id {
                            SAMPLING_FREQUENCY => e.sampling_rate = float(a),
                            CHANNELS => e.channels = uint(a),
                            _ => {}
                        }
                    }
                }
                VIDEO => {
                    for (id, v) in children(d) {
                        match id {
                            PIXEL_WIDTH => e.width = uint(v),
                            PIXEL_HEIGHT => e.height = uint(v),
                            _ => {}
                        }
                    }
                }
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

/// Reads the file forwards a window at a time.
pub struct Window<'a, S: Source + ?Sized> {
    src: &'a S,
    pos: u64,
    buf: Vec<u8>,
}

impl<S: Source + ?Sized> Window<'_, S> {
    /// Up to `n` bytes at `at` (fewer at the end of the file); `n` ≤ `WINDOW`.
    pub fn get(&mut self, at: u64, n: u64) -> Result<&[u8], ProbeError> {
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

impl<'a, S: Source + ?Sized> Window<'a, S> {
    pub fn new(src: &'a S) -> Self {
        Window { src, pos: 0, buf: Vec::new() }
    }
}

/// A block met by `walk_blocks`: a SimpleBlock or a BlockGroup.
pub struct Met {
    /// The Cluster's timestamp, in timestamp-scale ticks.
    pub cluster_ts: i128,
    /// `SIMPLE_BLOCK` or `BLOCK_GROUP`.
    pub id: u32,
    /// Where the element's body starts, and its size.
    pub body: u64,
    pub size: u64,
    pub track: u64,
}

/// Calls `on` for every block of every Cluster, in file order (block
/// headers only are read here; `on` reads what it needs through the
/// window). Stops at damage, at the end of the segment or after
/// `MAX_ELEMENTS` elements.
pub fn walk_blocks<S: Source + ?Sized>(
    src: &S,
    at: &Layout,
    mut on: impl FnMut(&mut Window<'_, S>, Met) -> Result<(), ProbeError>,
) -> Result<(), ProbeError> {
    let Some(mut pos) = at.first_cluster else { return Ok(()) };
    let mut win = Window::new(src);
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
                    if let Some(track) = track {
                        on(&mut win, Met { cluster_ts, id: c.id, body, size, track })?;
                    }
                }
                _ => {}
            }
            cpos = body.saturating_add(size);
        }
        pos = end;
    }
    Ok(())
}
/// The track number of a block (the start of its data).
pub fn block_track(b: &[u8]) -> Option<u64> {
    vint(b, false).map(|(n, _)| n)
}

/// The track number of a BlockGroup's Block, from the group's first bytes.
pub fn group_track(b: &[u8]) -> Option<u64> {
    let h = header(b)?;
    (h.id == BLOCK).then(|| block_track(b.get(h.len as usize..)?)).flatten()
}
