//! Matroska's sample tables: for the first video track a browser decodes
//! in MP4 (H.264, HEVC, AV1) and one audio track (AAC, Opus, MP3), every
//! frame's place in the file, size, presentation time and whether it is a
//! keyframe. One walk over the clusters reads block headers (and lace
//! headers) only; laced blocks are split into their frames.

use super::RemuxError;
use crate::container::ebml::{
    header, layout, scale_and_entries, walk_blocks, Encoding, Entry, Met, Window, BLOCK, BLOCK_GROUP, REFERENCE_BLOCK,
};
use crate::container::{ProbeError, Source};

/// Most frames read of one track (about 12 hours of 60 fps video).
pub const MAX_SAMPLES: usize = 3_000_000;
/// Ticks per second of video times.
pub const VIDEO_TIMESCALE: u32 = 90_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Codec {
    H264,
    Hevc,
    Av1,
    Vp9,
    Aac,
    Opus,
    Mp3,
}

impl Codec {
    pub fn is_video(self) -> bool {
        matches!(self, Codec::H264 | Codec::Hevc | Codec::Av1 | Codec::Vp9)
    }
}

/// VP9's `vpcC` (version 1) from a keyframe's uncompressed header: profile,
/// bit depth, chroma subsampling and range; level 4 (1080p at 30 frames),
/// colours unspecified.
pub fn vpcc(frame: &[u8]) -> Option<Vec<u8>> {
    let mut bits = frame.iter().flat_map(|b| (0..8).rev().map(move |i| (b >> i) & 1));
    let mut read = |n: u32| -> Option<u8> { (0..n).try_fold(0u8, |v, _| Some((v << 1) | bits.next()?)) };
    if read(2)? != 2 {
        return None; // frame marker
    }
    let profile = read(1)? | (read(1)? << 1);
    if profile == 3 {
        read(1)?;
    }
    if read(1)? == 1 || read(1)? != 0 {
        return None; // a shown earlier frame, or not a keyframe
    }
    read(2)?; // show_frame, error_resilient_mode
    if [read(8)?, read(8)?, read(8)?] != [0x49, 0x83, 0x42] {
        return None;
    }
    let depth = if profile >= 2 {
        if read(1)? == 1 {
            12
        } else {
            10
        }
    } else {
        8
    };
    let space = read(3)?;
    let (range, subsampling) = if space != 7 {
        let range = read(1)?;
        let sub = if profile == 1 || profile == 3 { (read(1)?, read(1)?) } else { (1, 1) };
        // 4:2:0 colocated-with-luma is 1, 4:2:2 is 2, 4:4:4 is 3.
        (
            range,
            match sub {
                (1, 1) => 1,
                (1, 0) => 2,
                _ => 3,
            },
        )
    } else {
        (1, 3)
    };
    Some(vec![1, 0, 0, 0, profile, 40, (depth << 4) | (subsampling << 1) | range, 2, 2, 2, 0, 0])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// Where the frame's bytes are in the file.
    pub pos: u64,
    pub size: u32,
    /// Presentation time, in the track's timescale.
    pub pts: i64,
    pub key: bool,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Track {
    pub codec: Codec,
    pub timescale: u32,
    /// The codec's configuration (avcC, hvcC, av1C, AudioSpecificConfig, OpusHead).
    pub config: Vec<u8>,
    /// Bytes the muxer stripped from the start of every frame (header stripping).
    pub prefix: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub channels: u16,
    pub rate: u32,
    pub samples: Vec<Sample>,
    /// Which file the samples are in: 0 the video's, 1 its remade sound.
    pub file: u8,
    /// How the frames lie in the file.
    pub framing: Framing,
    /// With `Framing::Packets`: where each sample's bytes are among the
    /// packets (one per sample); empty otherwise.
    pub spread: Vec<Spread>,
}

impl Track {
    /// A track of `codec` with no samples yet, its frames whole ranges of
    /// the video's file (two channels of sound at `timescale` per second).
    pub fn empty(codec: Codec, timescale: u32) -> Track {
        Track {
            codec,
            timescale,
            config: Vec::new(),
            prefix: Vec::new(),
            width: 0,
            height: 0,
            channels: 2,
            rate: if codec.is_video() { 0 } else { timescale },
            samples: Vec::new(),
            file: 0,
            framing: Framing::Whole,
            spread: Vec::new(),
        }
    }
}

/// How a track's frames lie in the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Framing {
    /// Each frame is one range of the file (`Sample::pos`, `size`).
    #[default]
    Whole,
    /// Each frame is spread over transport packets of one PID and made
    /// when served (`super::ts::unpack`): `Sample::pos` is where its first
    /// packet begins and `size` what it comes out as.
    Packets { layout: crate::container::mpegts::Layout, pid: u16, unpack: Unpack },
    /// Each frame is one range of the file written with start codes (H.264
    /// in AVI), made when served with 4-byte lengths: `Sample::pos` is
    /// where it begins, `Spread::len` its size there, `Sample::size` what
    /// it comes out as.
    AnnexB,
}

impl Framing {
    /// Whether frames are made when served (not ranges of the file as they are).
    pub fn made_when_served(&self) -> bool {
        !matches!(self, Framing::Whole)
    }
}

/// What a frame gathered from packets becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Unpack {
    /// An Annex B access unit, written with 4-byte lengths.
    AnnexB { hevc: bool },
    /// An ADTS frame without its header.
    Adts,
    /// As it is.
    Raw,
}

/// Where a frame's bytes are among its track's packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    /// Bytes of the file from the first packet to the end of the last.
    pub span: u32,
    /// Bytes of the first packet's data before the frame's.
    pub skip: u16,
    /// The frame's bytes as stored (before unpacking).
    pub len: u32,
}

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Demuxed {
    pub video: Track,
    pub audio: Option<Track>,
    /// The chosen audio track's codec, when it cannot go into the MP4.
    pub audio_left_out: Option<String>,
}

fn codec_of(id: &str) -> Option<Codec> {
    Some(match id {
        "V_MPEG4/ISO/AVC" => Codec::H264,
        "V_MPEGH/ISO/HEVC" => Codec::Hevc,
        "V_AV1" => Codec::Av1,
        "V_VP9" => Codec::Vp9,
        "A_AAC" => Codec::Aac,
        "A_OPUS" => Codec::Opus,
        "A_MPEG/L3" => Codec::Mp3,
        _ => return None,
    })
}

fn track(e: &Entry, codec: Codec) -> Result<Track, RemuxError> {
    let prefix = match &e.encoding {
        Encoding::None => Vec::new(),
        Encoding::Stripped(p) => p.clone(),
        _ => return Err(RemuxError::Unsupported("a compressed or encrypted track".into())),
    };
    let rate = match codec {
        Codec::Opus => 48_000,
        _ => e.sampling_rate.filter(|r| r.is_finite() && *r >= 1.0 && *r <= 768_000.0).map_or(0, |r| r as u32),
    };
    let timescale = match codec {
        c if c.is_video() => VIDEO_TIMESCALE,
        _ if rate > 0 => rate,
        _ => return Err(RemuxError::Unsupported("an audio track without a sample rate".into())),
    };
    let needs_config = matches!(codec, Codec::H264 | Codec::Hevc | Codec::Aac | Codec::Opus);
    if needs_config && e.codec_private.is_empty() {
        return Err(RemuxError::Unsupported(format!("{} without its configuration", e.codec)));
    }
    Ok(Track {
        codec,
        timescale,
        config: e.codec_private.clone(),
        prefix,
        width: e.width.unwrap_or(0).min(u64::from(u16::MAX)) as u32,
        height: e.height.unwrap_or(0).min(u64::from(u16::MAX)) as u32,
        channels: e.channels.unwrap_or(2).clamp(1, 255) as u16,
        rate,
        samples: Vec::new(),
        file: 0,
        framing: Framing::Whole,
        spread: Vec::new(),
    })
}

/// Reads the sample tables of the first remuxable video track and the
/// `audio`th audio track (counting enabled audio tracks, as listed).
pub fn demux(src: &(impl Source + ?Sized), audio: usize) -> Result<Demuxed, RemuxError> {
    demux_visiting(src, audio, |_, _| Ok(()))
}

/// `demux`, handing every block of the other tracks to `other` on the way
/// (what else a whole walk is wanted for: the text tracks' cues).
pub fn demux_visiting<S: Source + ?Sized>(
    src: &S,
    audio: usize,
    mut other: impl FnMut(&mut Window<'_, S>, Met) -> Result<(), ProbeError>,
) -> Result<Demuxed, RemuxError> {
    let at = layout(src)?;
    let (scale, entries) = scale_and_entries(src, &at)?;
    let enabled = || entries.iter().filter(|e| e.enabled);
    let v = enabled()
        .find(|e| e.kind == 1 && codec_of(&e.codec).is_some())
        .ok_or_else(|| RemuxError::Unsupported("no H.264, HEVC, AV1 or VP9 video track".into()))?;
    let mut video = track(v, codec_of(&v.codec).unwrap_or(Codec::H264))?;
    let chosen = enabled().filter(|e| e.kind == 2).nth(audio);
    let (mut audio_track, mut left_out) = (None, None);
    if let Some(a) = chosen {
        match codec_of(&a.codec).filter(|c| matches!(c, Codec::Aac | Codec::Opus | Codec::Mp3)) {
            Some(c) => match track(a, c) {
                Ok(t) => audio_track = Some((a.number, t)),
                Err(e) => left_out = Some(e.to_string()),
            },
            None => left_out = Some(crate::library::probe::mkv::codec_name(&a.codec).to_string()),
        }
    }
    let (v_number, a_number) = (v.number, audio_track.as_ref().map(|(n, _)| *n));
    let ticks = |ts: i128, timescale: u32| -> i64 {
        let ns = ts.saturating_mul(i128::from(scale)).saturating_mul(i128::from(timescale));
        super::bounded(ns / 1_000_000_000)
    };
    let mut too_many = false;
    let file_len = src.size();
    walk_blocks(src, &at, |win, met| {
        let t = if met.track == v_number {
            &mut video
        } else if Some(met.track) == a_number {
            match audio_track.as_mut() {
                Some((_, t)) => t,
                None => return Ok(()),
            }
        } else {
            return other(win, met);
        };
        if t.samples.len() >= MAX_SAMPLES {
            too_many = true;
            return Ok(());
        }
        let Some(block) = locate(win, met.id, met.body, met.size)? else { return Ok(()) };
        let head = win.get(block.pos, block.size.min(16))?;
        let Some((_, n)) = crate::container::ebml::vint(head, false) else { return Ok(()) };
        let (Some(rel), Some(&flags)) = (head.get(n..n + 2), head.get(n + 2)) else { return Ok(()) };
        let rel = i16::from_be_bytes([rel[0], rel[1]]);
        let key = if met.id == BLOCK_GROUP { block.key } else { flags & 0x80 != 0 };
        let pts = ticks(met.cluster_ts.saturating_add(i128::from(rel)), t.timescale);
        let data = block.pos + n as u64 + 3;
        if t.codec == Codec::Vp9 && key && t.config.is_empty() && flags & 0x06 == 0 {
            // VP9's configuration is in its first keyframe's header.
            let head = win.get(data, 16)?.to_vec();
            t.config = vpcc(&head).unwrap_or_default();
        }
        let payload = block.size.saturating_sub(n as u64 + 3);
        // Laced frames share the block's time; `plan` spaces audio frames evenly.
        for (pos, size) in frames(win, flags, data, payload)? {
            // A file cut short: frames past its end are not there.
            if pos.saturating_add(size) > file_len {
                continue;
            }
            if let Ok(size) = u32::try_from(size) {
                t.samples.push(Sample { pos, size, pts, key });
            }
        }
        Ok(())
    })?;
    if too_many {
        return Err(RemuxError::Unsupported("more frames than a remux keeps".into()));
    }
    if video.samples.is_empty() {
        return Err(RemuxError::Unsupported("no video frames".into()));
    }
    if video.codec == Codec::Vp9 && video.config.is_empty() {
        return Err(RemuxError::Unsupported("a VP9 track without a readable keyframe".into()));
    }
    Ok(Demuxed { video, audio: audio_track.map(|(_, t)| t), audio_left_out: left_out })
}

/// Where a block's own bytes are: a SimpleBlock's body, or a BlockGroup's
/// Block (a keyframe when no ReferenceBlock follows it).
struct Located {
    pos: u64,
    size: u64,
    key: bool,
}

fn locate<S: Source + ?Sized>(
    win: &mut Window<'_, S>,
    id: u32,
    body: u64,
    size: u64,
) -> Result<Option<Located>, ProbeError> {
    if id != BLOCK_GROUP {
        return Ok(Some(Located { pos: body, size, key: false }));
    }
    let end = body.saturating_add(size);
    let (mut pos, mut block, mut key) = (body, None, true);
    for _ in 0..16 {
        if pos >= end {
            break;
        }
        let Some(h) = header(win.get(pos, 16)?) else { break };
        let Some(len) = h.size else { break };
        let data = pos + h.len;
        match h.id {
            BLOCK => block = Some((data, len)),
            REFERENCE_BLOCK => key = false,
            _ => {}
        }
        pos = data.saturating_add(len);
    }
    Ok(block.map(|(pos, size)| Located { pos, size, key }))
}

/// The frames of a block's payload: one, or several when laced (Xiph,
/// EBML or fixed-size lacing), as (position, size).
fn frames<S: Source + ?Sized>(
    win: &mut Window<'_, S>,
    flags: u8,
    data: u64,
    len: u64,
) -> Result<Vec<(u64, u64)>, ProbeError> {
    let lacing = (flags >> 1) & 3;
    if lacing == 0 {
        return Ok(vec![(data, len)]);
    }
    let head = win.get(data, len.min(8 * 1024))?.to_vec();
    let Some(&count) = head.first() else { return Ok(Vec::new()) };
    let count = usize::from(count) + 1;
    let mut at = 1usize;
    let mut sizes: Vec<u64> = Vec::with_capacity(count);
    match lacing {
        1 => {
            for _ in 0..count - 1 {
                let mut size = 0u64;
                loop {
                    let Some(&b) = head.get(at) else { return Ok(Vec::new()) };
                    at += 1;
                    size += u64::from(b);
                    if b != 255 {
                        break;
                    }
                }
                sizes.push(size);
            }
        }
        3 => {
            let Some((first, n)) = crate::container::ebml::vint(&head[at.min(head.len())..], false) else {
                return Ok(Vec::new());
            };
            at += n;
            sizes.push(first);
            let mut last = first as i64;
            for _ in 1..count - 1 {
                let Some((raw, n)) = crate::container::ebml::vint(&head[at.min(head.len())..], false) else {
                    return Ok(Vec::new());
                };
                at += n;
                let bias = (1i64 << (7 * n - 1)) - 1;
                last += raw as i64 - bias;
                if last < 0 {
                    return Ok(Vec::new());
                }
                sizes.push(last as u64);
            }
        }
        _ => {
            let each = (len - 1) / count as u64;
            sizes = vec![each; count - 1];
        }
    }
    let used: u64 = sizes.iter().sum::<u64>() + at as u64;
    let Some(rest) = len.checked_sub(used) else { return Ok(Vec::new()) };
    sizes.push(rest);
    let mut pos = data + at as u64;
    Ok(sizes
        .into_iter()
        .map(|s| {
            let here = pos;
            pos += s;
            (here, s)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(flags: u8, head: &[u8], sizes: &[usize]) -> Vec<(u64, u64)> {
        let total: usize = sizes.iter().sum();
        let data: Vec<u8> = [head.to_vec(), vec![7; total]].concat();
        let mut win = Window::new(&data[..]);
        frames(&mut win, flags, 0, data.len() as u64).unwrap()
    }

    #[test]
    fn vp9_configuration_from_a_keyframe() {
        // Profile 1 (RGB, 4:4:4): marker 10, low bit 1, high bit 0, a shown keyframe, sync code, colour space 7.
        assert_eq!(vpcc(&[0xA2, 0x49, 0x83, 0x42, 0xE0]), Some(vec![1, 0, 0, 0, 1, 40, 0x87, 2, 2, 2, 0, 0]));
        // Profile 0, BT.709 (2), studio range, 4:2:0: marker 10, 0, 0, keyframe…
        assert_eq!(vpcc(&[0x82, 0x49, 0x83, 0x42, 0x40]), Some(vec![1, 0, 0, 0, 0, 40, 0x82, 2, 2, 2, 0, 0]));
        assert_eq!(vpcc(&[]), None);
        assert_eq!(vpcc(&[0x86, 0x49, 0x83, 0x42, 0x00]), None, "not a keyframe");
        assert_eq!(vpcc(&[0x82, 0x00, 0x00, 0x00, 0x00]), None, "no sync code");
    }

    #[test]
    fn laced_blocks_split_into_frames() {
        let h = |n: u64| -> Vec<(u64, u64)> { vec![(n, 300), (n + 300, 5), (n + 305, 20)] };
        // Xiph: 300 = 255 + 45, then 5; the last takes the rest.
        assert_eq!(split(0x02, &[2, 255, 45, 5], &[300, 5, 20]), h(4));
        // EBML: 300 as a two-byte number, then 5 - 300 as a signed difference.
        assert_eq!(split(0x06, &[2, 0x41, 0x2C, 0x5E, 0xD8], &[300, 5, 20]), h(5));
        // Fixed: equal frames.
        assert_eq!(split(0x04, &[2], &[10, 10, 10]), vec![(1, 10), (11, 10), (21, 10)]);
        // Not laced: the whole payload.
        assert_eq!(split(0x00, &[], &[42]), vec![(0, 42)]);
        // Sizes that claim more than the block holds: nothing, no panic.
        assert!(split(0x02, &[2, 255, 255, 255, 9], &[3]).is_empty());
        assert!(split(0x06, &[3, 0x41], &[]).is_empty());
    }
}
