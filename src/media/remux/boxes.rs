//! ISO BMFF boxes of a fragmented MP4: the init segment (`ftyp`, `moov`
//! with one `trak` per track and `mvex`) and each fragment's `moof`.

use super::demux::{Codec, Track};

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn full(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(body.len() + 4);
    b.extend_from_slice(&((u32::from(version) << 24) | (flags & 0x00FF_FFFF)).to_be_bytes());
    b.extend_from_slice(body);
    bx(kind, &b)
}

/// Big-endian fields in a row.
#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
}

const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

fn matrix(mut w: W) -> W {
    for m in MATRIX {
        w = w.u32(m);
    }
    w
}

/// The init segment: `ftyp` and `moov` for `tracks` (ids 1, 2…), lasting
/// `duration_ms`. A track's `delay` (its timescale) is where its media
/// starts to be shown (an edit list): frames stored with composition
/// offsets made non-negative that way are shown at their own times.
pub fn init(tracks: &[(&Track, i64)], duration_ms: u64) -> Vec<u8> {
    let ftyp = bx(b"ftyp", &W::default().bytes(b"isom").u32(0x200).bytes(b"isomiso6iso2avc1mp41").0);
    let duration = u32::try_from(duration_ms).unwrap_or(u32::MAX);
    let mvhd = W::default().u32(0).u32(0).u32(1000).u32(duration).u32(0x0001_0000).u16(0x0100).bytes(&[0; 10]);
    let mvhd = matrix(mvhd).bytes(&[0; 24]).u32(tracks.len() as u32 + 1);
    let mut moov = full(b"mvhd", 0, 0, &mvhd.0);
    let mut mvex = full(b"mehd", 0, 0, &W::default().u32(duration).0);
    for (i, (t, delay)) in tracks.iter().enumerate() {
        let id = i as u32 + 1;
        moov.extend(trak(t, id, *delay, duration));
        mvex.extend(full(b"trex", 0, 0, &W::default().u32(id).u32(1).u32(0).u32(0).u32(0).0));
    }
    moov.extend(bx(b"mvex", &mvex));
    [ftyp, bx(b"moov", &moov)].concat()
}

fn is_video(t: &Track) -> bool {
    t.codec.is_video()
}

fn trak(t: &Track, id: u32, delay: i64, duration_ms: u32) -> Vec<u8> {
    let video = is_video(t);
    let tkhd = W::default().u32(0).u32(0).u32(id).u32(0).u32(0).bytes(&[0; 8]).u16(0).u16(0);
    let tkhd = matrix(tkhd.u16(if video { 0 } else { 0x0100 }).u16(0)).u32(t.width << 16).u32(t.height << 16);
    let mdhd = W::default().u32(0).u32(0).u32(t.timescale).u32(0).u16(0x55C4).u16(0);
    let (handler, name): (&[u8; 4], &[u8]) =
        if video { (b"vide", b"VideoHandler\0") } else { (b"soun", b"SoundHandler\0") };
    let hdlr = W::default().u32(0).bytes(handler).bytes(&[0; 12]).bytes(name);
    let header = if video { full(b"vmhd", 0, 1, &[0; 8]) } else { full(b"smhd", 0, 0, &[0; 4]) };
    let dinf = bx(b"dinf", &full(b"dref", 0, 0, &W::default().u32(1).bytes(&full(b"url ", 0, 1, &[])).0));
    let stsd = full(b"stsd", 0, 0, &W::default().u32(1).bytes(&sample_entry(t)).0);
    let empty = |kind: &[u8; 4]| full(kind, 0, 0, &[0; 4]);
    let stbl = [stsd, empty(b"stts"), empty(b"stsc"), full(b"stsz", 0, 0, &[0; 8]), empty(b"stco")].concat();
    let minf = [header, dinf, bx(b"stbl", &stbl)].concat();
    let mdia = [full(b"mdhd", 0, 0, &mdhd.0), full(b"hdlr", 0, 0, &hdlr.0), bx(b"minf", &minf)].concat();
    let mut parts = full(b"tkhd", 0, 7, &tkhd.0);
    if delay > 0 {
        let media_time = i32::try_from(delay).unwrap_or(i32::MAX) as u32;
        let elst = W::default().u32(1).u32(duration_ms).u32(media_time).u16(1).u16(0);
        parts.extend(bx(b"edts", &full(b"elst", 0, 0, &elst.0)));
    }
    parts.extend(bx(b"mdia", &mdia));
    bx(b"trak", &parts)
}

fn sample_entry(t: &Track) -> Vec<u8> {
    match t.codec {
        Codec::H264 | Codec::Hevc | Codec::Av1 | Codec::Vp9 => {
            let (kind, config): (&[u8; 4], &[u8; 4]) = match t.codec {
                Codec::H264 => (b"avc1", b"avcC"),
                Codec::Hevc => (b"hvc1", b"hvcC"),
                Codec::Vp9 => (b"vp09", b"vpcC"),
                _ => (b"av01", b"av1C"),
            };
            let w = W::default().bytes(&[0; 6]).u16(1).u16(0).u16(0).bytes(&[0; 12]);
            let w = w.u16(t.width as u16).u16(t.height as u16).u32(0x0048_0000).u32(0x0048_0000).u32(0).u16(1);
            let w = w.bytes(&[0; 32]).u16(0x0018).u16(0xFFFF).bytes(&bx(config, &t.config));
            bx(kind, &w.0)
        }
        Codec::Aac | Codec::Mp3 | Codec::Opus => {
            let rate = if t.rate > 0xFFFF { 0 } else { t.rate << 16 };
            let kind = if t.codec == Codec::Opus { b"Opus" } else { b"mp4a" };
            let w = W::default().bytes(&[0; 6]).u16(1).bytes(&[0; 8]).u16(t.channels).u16(16).u16(0).u16(0);
            let child = if t.codec == Codec::Opus { dops(&t.config, t.channels) } else { esds(t) };
            bx(kind, &w.u32(rate).bytes(&child).0)
        }
    }
}

/// An MPEG-4 descriptor: tag, length (one byte, or four for long ones), body.
fn descriptor(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = body.len() as u32;
    if n < 0x80 {
        out.push(n as u8);
    } else {
        out.extend_from_slice(&[
            0x80 | (n >> 21) as u8 & 0x7F,
            0x80 | (n >> 14) as u8 & 0x7F,
            0x80 | (n >> 7) as u8 & 0x7F,
        ]);
        out.push(n as u8 & 0x7F);
    }
    out.extend_from_slice(body);
    out
}

fn esds(t: &Track) -> Vec<u8> {
    let object = if t.codec == Codec::Mp3 { 0x6B } else { 0x40 };
    let mut config = W::default().u8(object).u8(0x15).bytes(&[0; 3]).u32(0).u32(0).0;
    if t.codec == Codec::Aac {
        config.extend(descriptor(0x05, &t.config));
    }
    let es = [W::default().u16(2).u8(0).0, descriptor(0x04, &config), descriptor(0x06, &[0x02])].concat();
    full(b"esds", 0, 0, &descriptor(0x03, &es))
}

/// `dOps` from Matroska's `OpusHead` (little-endian fields, big-endian here).
fn dops(head: &[u8], channels: u16) -> Vec<u8> {
    let le16 = |at: usize| head.get(at..at + 2).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
    let rate = head.get(12..16).map_or(48_000, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let family = head.get(18).copied().unwrap_or(0);
    let out_channels = head.get(9).copied().unwrap_or(channels as u8);
    let mut w = W::default().u8(0).u8(out_channels).u16(le16(10)).u32(rate).u16(le16(16)).u8(family);
    if family != 0 {
        w = w.bytes(head.get(19..21 + usize::from(out_channels)).unwrap_or(&[]));
    }
    bx(b"dOps", &w.0)
}

/// A sample in a run: duration, size, keyframe, composition offset.
pub type SampleOut = (u32, u32, bool, i32);

/// One track's part of a fragment.
pub struct Run<'a> {
    pub id: u32,
    /// First decode time, in the track's timescale.
    pub start: u64,
    /// (duration, size, keyframe, composition offset) of each sample.
    pub samples: &'a [SampleOut],
    pub video: bool,
}

/// A fragment's `moof` (its runs' data follow in one `mdat`, in order);
/// `mdat_header` is the length of the `mdat` header that follows it.
pub fn moof(sequence: u32, runs: &[Run], mdat_header: u32) -> Vec<u8> {
    let build = |offsets: &[u32]| {
        let mut body = full(b"mfhd", 0, 0, &sequence.to_be_bytes());
        for (r, offset) in runs.iter().zip(offsets) {
            let tfhd = full(b"tfhd", 0, 0x02_0000, &r.id.to_be_bytes());
            let tfdt = full(b"tfdt", 1, 0, &r.start.to_be_bytes());
            let flags = if r.video { 0x0F01 } else { 0x0301 };
            let mut w = W::default().u32(r.samples.len() as u32).u32(*offset);
            for &(dur, size, key, cto) in r.samples {
                w = w.u32(dur).u32(size);
                if r.video {
                    w = w.u32(if key { 0x0200_0000 } else { 0x0101_0000 }).u32(cto as u32);
                }
            }
            let trun = full(b"trun", 1, flags, &w.0);
            body.extend(bx(b"traf", &[tfhd, tfdt, trun].concat()));
        }
        bx(b"moof", &body)
    };
    // The data offsets count from the moof's start: measure it first.
    let len = build(&vec![0; runs.len()]).len() as u32;
    let mut offsets = Vec::with_capacity(runs.len());
    let mut at = len + mdat_header;
    for r in runs {
        offsets.push(at);
        at += r.samples.iter().map(|s| s.1).sum::<u32>();
    }
    build(&offsets)
}

/// An `mdat` header for `len` bytes of data.
pub fn mdat_header(len: u64) -> Vec<u8> {
    match u32::try_from(len + 8) {
        Ok(n) => W::default().u32(n).bytes(b"mdat").0,
        Err(_) => W::default().u32(1).bytes(b"mdat").u64(len + 16).0,
    }
}
