//! Remuxing without re-encoding: a Matroska file's (or an MP4 or MOV
//! file's, when its index is at the end) video (H.264, HEVC, AV1) and one
//! audio track (AAC, Opus, MP3) as a fragmented MP4 that browsers play at
//! once, made on the fly in pure Rust.
//!
//! `Plan::build` demuxes the sample tables once (`demux`), cuts them into
//! fragments of about a second starting at keyframes, and computes every
//! fragment's size, so the output has a known length and any byte range
//! can be served by making only the fragments it covers (`pieces`): each
//! is a generated `moof` and `mdat` header followed by ranges of the
//! original file. Memory: about 40 bytes per frame while a plan is kept.

mod avi;
pub mod boxes;
pub mod cache;
pub mod demux;
mod flv;
mod mp4;
pub mod sound;
pub mod ts;

use bytes::Bytes;

use crate::catalog::Video;
use crate::container::{ProbeError, Source};
use crate::library::probe::sound_plays;
use demux::{Codec, Demuxed, Track, VIDEO_TIMESCALE};

#[derive(Debug, thiserror::Error)]
pub enum RemuxError {
    #[error("cannot remux this file: {0}")]
    Unsupported(String),
    #[error("{0}")]
    Read(#[from] ProbeError),
}

/// Shortest fragment, in video ticks (a fragment also ends only at a keyframe).
const FRAGMENT: i64 = VIDEO_TIMESCALE as i64;

/// Part of the output: bytes made here, or a range of the original file.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Bytes(Bytes),
    /// `file`: 0 the video's own file, 1 its remade sound.
    File {
        pos: u64,
        len: u64,
        file: u8,
    },
    /// The frames `first..end` of track `track`, spread over packets in
    /// the file and made when served (`Plan::unpack`): `len` bytes of
    /// them from `skip`.
    Packed {
        track: u8,
        first: u32,
        end: u32,
        skip: u64,
        len: u64,
    },
}

/// Most bytes of frames made at once (`Piece::Packed`), and most bytes of
/// the file read to make them (audio packets are sparse among video's).
const PACKED_BATCH: u64 = 1 << 20;
const PACKED_READ: u64 = 8 << 20;

impl Piece {
    pub fn len(&self) -> u64 {
        match self {
            Piece::Bytes(b) => b.len() as u64,
            Piece::File { len, .. } | Piece::Packed { len, .. } => *len,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One fragment: which samples of each track it holds, and where it starts.
struct Fragment {
    video: (u32, u32),
    audio: (u32, u32),
    /// Offset of its `moof` in the output.
    start: u64,
}

/// One track as it goes out: samples with their decode times.
struct Out {
    track: Track,
    /// Decode time of each sample (video: the presentation times in order).
    dts: Vec<i64>,
    /// Added to every composition offset to make them non-negative (and
    /// taken back by the edit list).
    delay: i64,
}

pub struct Plan {
    init: Bytes,
    tracks: Vec<Out>,
    fragments: Vec<Fragment>,
    len: u64,
    /// The audio track's codec when it could not be kept.
    pub audio_left_out: Option<String>,
}

impl Plan {
    /// Reads the sample tables of `src` (a Matroska file) with its `audio`th
    /// audio track and plans the output. Blocking: one pass over the file.
    pub fn build(src: &(impl Source + ?Sized), audio: usize) -> Result<Plan, RemuxError> {
        Self::from_tables(Self::tables(src, audio)?)
    }

    /// What a plan is made from: the file's sample tables with its
    /// `audio`th audio track. Blocking: one pass over the file.
    pub fn tables(src: &(impl Source + ?Sized), audio: usize) -> Result<Demuxed, RemuxError> {
        demux_any(src, audio)
    }

    /// `tables` of a Matroska file, with every block of its other tracks
    /// handed to `other` on the same walk (one read of the file for two
    /// uses). Blocking: one pass over the file.
    pub fn tables_visiting<S: Source + ?Sized>(
        src: &S,
        audio: usize,
        other: impl FnMut(&mut crate::container::ebml::Window<'_, S>, crate::container::ebml::Met) -> Result<(), ProbeError>,
    ) -> Result<Demuxed, RemuxError> {
        demux::demux_visiting(src, audio, other)
    }

    /// Like `build`, with the sound from `sound` (an MP4 of AAC that ffmpeg
    /// made of the chosen track) instead of the file's own.
    pub fn build_with_sound(src: &(impl Source + ?Sized), sound: &(impl Source + ?Sized)) -> Result<Plan, RemuxError> {
        let mut demuxed = demux_any(src, usize::MAX)?;
        demuxed.audio = Some(mp4::demux_sound(sound)?);
        demuxed.audio_left_out = None;
        Self::from_tables(demuxed)
    }

    /// The plan for sample tables read before (`tables`, or kept on disk
    /// by `cache::Plans`): no reading, only arithmetic.
    pub fn from_tables(demuxed: Demuxed) -> Result<Plan, RemuxError> {
        let Demuxed { video, audio, audio_left_out } = demuxed;
        let mut tracks = vec![video_out(video)];
        tracks.extend(audio.map(audio_out));
        let duration_ms = tracks
            .iter()
            .map(|o| {
                // In u128: a hostile file's timestamps can be near u64::MAX.
                let last = o.dts.last().copied().unwrap_or(0).max(0) as u128;
                u64::try_from(last * 1000 / u128::from(o.track.timescale.max(1))).unwrap_or(u64::MAX)
            })
            .max()
            .unwrap_or(0);
        let parts: Vec<(&Track, i64)> = tracks.iter().map(|o| (&o.track, o.delay)).collect();
        let init = Bytes::from(boxes::init(&parts, duration_ms));
        let mut plan = Plan { init, tracks, fragments: Vec::new(), len: 0, audio_left_out };
        plan.cut();
        Ok(plan)
    }

    /// The length of the init segment (`ftyp` and `moov`) that starts the output.
    pub fn init_len(&self) -> u64 {
        self.init.len() as u64
    }

    /// The output's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fragment holding the time `ms` (the last one starting at or
    /// before it): where it starts in the output, and its time in ms.
    pub fn fragment_at(&self, ms: u64) -> (u64, u64) {
        let v = &self.tracks[0];
        let scale = u128::from(VIDEO_TIMESCALE);
        let time_of = |f: &Fragment| v.dts.get(f.video.0 as usize).copied().unwrap_or(0).max(0) as u128;
        let ticks = u128::from(ms) * scale / 1000;
        let k = self.fragments.partition_point(|f| time_of(f) <= ticks).saturating_sub(1);
        match self.fragments.get(k) {
            Some(f) => (f.start, u64::try_from(time_of(f) * 1000 / scale).unwrap_or(u64::MAX)),
            None => (self.init.len() as u64, 0),
        }
    }

    /// Where the part of the output holding `at` ends: the init segment's
    /// end, or the next fragment's start (a body is made one part at a time).
    pub fn boundary_after(&self, at: u64) -> u64 {
        if at < self.init.len() as u64 {
            return self.init.len() as u64;
        }
        let next = self.fragments.partition_point(|f| f.start <= at);
        self.fragments.get(next).map_or(self.len, |f| f.start)
    }

    /// The bytes of a `Piece::Packed`: its frames made from the packets
    /// read from `src` (the video's file). Blocking: one read.
    pub fn unpack(&self, src: &(impl Source + ?Sized), piece: &Piece) -> std::io::Result<Bytes> {
        let Piece::Packed { track, first, end, skip, len } = *piece else {
            return Err(std::io::Error::other("not a packed piece"));
        };
        let t = &self.tracks.get(usize::from(track)).ok_or_else(|| std::io::Error::other("no such track"))?.track;
        let (mut first, mut end) = (first as usize, (end as usize).min(t.samples.len()));
        // Only the frames the range touches are made (a short range of a
        // batch reads little).
        let mut skip = skip;
        while first < end && skip >= u64::from(t.samples[first].size) {
            skip -= u64::from(t.samples[first].size);
            first += 1;
        }
        let mut reach = 0u64;
        for (k, s) in t.samples[first..end].iter().enumerate() {
            reach += u64::from(s.size);
            if reach >= skip + len {
                end = first + k + 1;
                break;
            }
        }
        let (from, to) = ts::raw_range(t, first, end).ok_or_else(|| std::io::Error::other("no such frames"))?;
        let n = usize::try_from(to - from).map_err(std::io::Error::other)?;
        // The file's bytes go into a buffer kept by this (blocking pool)
        // thread: fresh megabytes per batch cost more in page faults and
        // zeroing than the rest of the work.
        thread_local! {
            static RAW: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let made = RAW.with_borrow_mut(|raw| {
            if raw.len() < n {
                raw.resize(n, 0);
            }
            src.read_exact_at(&mut raw[..n], from)?;
            let made = ts::unpack(t, first, end, &raw[..n]);
            if raw.len() > 2 * PACKED_READ as usize {
                *raw = Vec::new(); // a rare wide frame: not kept
            }
            made
        })?;
        let start = usize::try_from(skip).unwrap_or(usize::MAX).min(made.len());
        let stop = start.saturating_add(len as usize).min(made.len());
        if stop - start != len as usize {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the file changed since it was read"));
        }
        Ok(Bytes::from(made).slice(start..stop))
    }

    /// Frames in the plan (for its memory: see the module's note).
    pub fn frames(&self) -> usize {
        self.tracks.iter().map(|o| o.track.samples.len()).sum()
    }

    /// Fragments at keyframes, at least `FRAGMENT` apart; audio follows by time.
    fn cut(&mut self) {
        let v = &self.tracks[0];
        let mut starts = Vec::new();
        let mut last = i64::MIN;
        for (i, s) in v.track.samples.iter().enumerate() {
            if i == 0 || (s.key && v.dts[i] - last >= FRAGMENT) {
                starts.push(i as u32);
                last = v.dts[i];
            }
        }
        let n_video = v.track.samples.len() as u32;
        let mut a_next = 0u32;
        let mut offset = self.init.len() as u64;
        for (k, &first) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(n_video);
            let audio = match self.tracks.get(1) {
                Some(a) => {
                    let from = a_next;
                    // Audio up to the next fragment's start (all of it in the last one).
                    let until = starts.get(k + 1).map(|&i| self.tracks[0].dts[i as usize]);
                    while (a_next as usize) < a.dts.len()
                        && until.is_none_or(|u| ticks(a.dts[a_next as usize], a.track.timescale, VIDEO_TIMESCALE) < u)
                    {
                        a_next += 1;
                    }
                    (from, a_next)
                }
                None => (0, 0),
            };
            let f = Fragment { video: (first, end), audio, start: offset };
            offset += self.fragment_len(k as u32, &f);
            self.fragments.push(f);
        }
        self.len = offset;
    }

    fn runs(&self, f: &Fragment) -> Vec<(u32, u64, Vec<boxes::SampleOut>)> {
        let mut out = Vec::new();
        for (i, (o, range)) in self.tracks.iter().zip([f.video, f.audio]).enumerate() {
            if range.0 >= range.1 {
                continue;
            }
            let extra = o.track.prefix.len() as u32;
            let samples = (range.0..range.1)
                .map(|j| {
                    let j = j as usize;
                    let s = &o.track.samples[j];
                    let next = o.dts.get(j + 1).copied().unwrap_or(o.dts[j] + default_duration(&o.track));
                    let dur = u32::try_from((next - o.dts[j]).max(0)).unwrap_or(0);
                    let cto = i32::try_from(s.pts - o.dts[j] + o.delay).unwrap_or(0);
                    (dur, s.size + extra, s.key, if i == 0 { cto } else { 0 })
                })
                .collect();
            out.push((i as u32 + 1, o.dts[range.0 as usize].max(0) as u64, samples));
        }
        out
    }

    fn moof(&self, k: u32, f: &Fragment) -> (Vec<u8>, u64) {
        let runs = self.runs(f);
        let data: u64 = runs.iter().flat_map(|r| r.2.iter()).map(|s| u64::from(s.1)).sum();
        let header = boxes::mdat_header(data);
        let runs: Vec<boxes::Run> = runs
            .iter()
            .map(|(id, start, samples)| boxes::Run { id: *id, start: *start, samples, video: *id == 1 })
            .collect();
        let mut moof = boxes::moof(k + 1, &runs, header.len() as u32);
        moof.extend_from_slice(&header);
        (moof, data)
    }

    fn fragment_len(&self, k: u32, f: &Fragment) -> u64 {
        let (head, data) = self.moof(k, f);
        head.len() as u64 + data
    }

    /// The output from `from` to `to` (exclusive) as pieces: what is made
    /// here and ranges of the original file, in order.
    pub fn pieces(&self, from: u64, to: u64) -> Vec<Piece> {
        let to = to.min(self.len);
        let mut out = Vec::new();
        if from >= to {
            return out;
        }
        let mut push = |p: Piece, at: u64| {
            // `p` covers [at, at + len): keep what lies in [from, to).
            let (start, end) = (at.max(from), (at + p.len()).min(to));
            if start >= end {
                return;
            }
            out.push(match p {
                Piece::Bytes(b) => Piece::Bytes(b.slice((start - at) as usize..(end - at) as usize)),
                Piece::File { pos, file, .. } => Piece::File { pos: pos + (start - at), len: end - start, file },
                Piece::Packed { track, first, end: last, skip, .. } => {
                    Piece::Packed { track, first, end: last, skip: skip + (start - at), len: end - start }
                }
            });
        };
        push(Piece::Bytes(self.init.clone()), 0);
        let first = self.fragments.partition_point(|f| f.start <= from).saturating_sub(1);
        for (k, f) in self.fragments.iter().enumerate().skip(first) {
            if f.start >= to {
                break;
            }
            let (head, _) = self.moof(k as u32, f);
            let mut at = f.start;
            let head_len = head.len() as u64;
            push(Piece::Bytes(Bytes::from(head)), at);
            at += head_len;
            for (i, (o, range)) in self.tracks.iter().zip([f.video, f.audio]).enumerate() {
                let file = o.track.file;
                if o.track.framing.made_when_served() {
                    // Made in batches of at most `PACKED_BATCH` bytes out,
                    // read from at most `PACKED_READ` bytes of the file.
                    let (samples, spread) = (&o.track.samples, &o.track.spread);
                    let mut first = range.0;
                    while first < range.1 {
                        let (mut end, mut len) = (first, 0u64);
                        let from = samples[first as usize].pos;
                        while end < range.1 {
                            let (s, sp) = (&samples[end as usize], spread.get(end as usize));
                            let reach = (s.pos + sp.map_or(0, |sp| u64::from(sp.span))).saturating_sub(from);
                            if end > first && (len + u64::from(s.size) > PACKED_BATCH || reach > PACKED_READ) {
                                break;
                            }
                            len += u64::from(s.size);
                            end += 1;
                        }
                        push(Piece::Packed { track: i as u8, first, end, skip: 0, len }, at);
                        at += len;
                        first = end;
                    }
                    continue;
                }
                let mut run: Option<(u64, u64)> = None;
                for s in &o.track.samples[range.0 as usize..range.1 as usize] {
                    if !o.track.prefix.is_empty() {
                        push(Piece::Bytes(Bytes::copy_from_slice(&o.track.prefix)), at);
                        at += o.track.prefix.len() as u64;
                        push(Piece::File { pos: s.pos, len: u64::from(s.size), file }, at);
                        at += u64::from(s.size);
                        continue;
                    }
                    // Neighbouring frames in the file are one range.
                    run = match run {
                        Some((pos, len)) if pos + len == s.pos => Some((pos, len + u64::from(s.size))),
                        Some((pos, len)) => {
                            push(Piece::File { pos, len, file }, at);
                            at += len;
                            Some((s.pos, u64::from(s.size)))
                        }
                        None => Some((s.pos, u64::from(s.size))),
                    };
                }
                if let Some((pos, len)) = run {
                    push(Piece::File { pos, len, file }, at);
                    at += len;
                }
            }
        }
        out
    }
}

pub(crate) fn demux_any(src: &(impl Source + ?Sized), audio: usize) -> Result<Demuxed, RemuxError> {
    let head = src.read_vec(0, 12).map_err(ProbeError::from)?;
    if crate::container::isobmff::sniff(&head) {
        mp4::demux(src, audio)
    } else if crate::library::probe::avi::sniffs(&head) {
        avi::demux(src, audio)
    } else if crate::container::flv::sniff(&head) {
        flv::demux(src, audio)
    } else if head.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        demux::demux(src, audio)
    } else if crate::library::probe::ts::sniffs(&src.read_vec(0, 192 * 6).map_err(ProbeError::from)?) {
        ts::demux(src, audio)
    } else {
        Err(RemuxError::Unsupported("a container this server does not remux".into()))
    }
}

/// Timestamps are kept within ±2^48 ticks (at 90 kHz, about 99 years), so
/// sums and differences of a few of them cannot overflow whatever a file says.
const MAX_TIME: i64 = 1 << 48;

/// A time read from a file, brought within `MAX_TIME` (saturating).
pub(crate) fn bounded(t: i128) -> i64 {
    t.clamp(-i128::from(MAX_TIME), i128::from(MAX_TIME)) as i64
}

fn ticks(t: i64, from: u32, to: u32) -> i64 {
    bounded(i128::from(t) * i128::from(to) / i128::from(from.max(1)))
}

/// Video decode times: the presentation times in increasing order (frames
/// are stored in decode order). A B-frame shown before a frame decoded
/// ahead of it would get a negative offset: all offsets are raised by the
/// largest such gap, and the edit list starts the media that much later.
fn video_out(track: Track) -> Out {
    let mut dts: Vec<i64> = track.samples.iter().map(|s| s.pts).collect();
    dts.sort_unstable();
    let delay = track.samples.iter().zip(&dts).map(|(s, d)| d - s.pts).max().unwrap_or(0).max(0);
    Out { track, dts, delay }
}

/// Audio decode times: each frame's length from its codec, restarting from
/// the stored time wherever the two drift apart by more than a frame.
fn audio_out(track: Track) -> Out {
    let frame = default_duration(&track);
    let mut dts = Vec::with_capacity(track.samples.len());
    let mut clock = track.samples.first().map_or(0, |s| s.pts);
    for s in &track.samples {
        if (s.pts - clock).abs() > frame * 2 && s.pts > clock {
            clock = s.pts; // a gap in the file
        }
        dts.push(clock);
        clock += frame;
    }
    Out { track, dts, delay: 0 }
}

/// A frame's length when nothing else says: AAC 1024 samples (960 when the
/// configuration says so), MP3 1152, Opus 20 ms, video a 25th of a second.
fn default_duration(t: &Track) -> i64 {
    match t.codec {
        Codec::Aac => {
            // AudioSpecificConfig: 5 bits object type, 4 bits rate index, 4 bits channels, then frameLengthFlag.
            let short = t.config.get(1).is_some_and(|b| b & 0x04 != 0);
            if short {
                960
            } else {
                1024
            }
        }
        Codec::Mp3 => {
            if t.rate >= 32_000 {
                1152
            } else {
                576
            }
        }
        Codec::Opus => i64::from(t.timescale / 50),
        Codec::H264 | Codec::Hevc | Codec::Av1 | Codec::Vp9 => i64::from(VIDEO_TIMESCALE / 25),
    }
}

/// Whether browsers get this video through `/play/{id}.mp4`: Matroska
/// holding video that MP4 carries and browsers do not open in Matroska,
/// and MP4 or MOV with its index at the end (it would play only once the
/// browser fetched the end) or with sound browsers cannot decode (remade
/// by ffmpeg, `sound`).
pub fn remuxable(v: &Video) -> bool {
    v.info.as_ref().is_some_and(|i| {
        let codec = matches!(i.video_codec.as_deref(), Some("h264" | "hevc" | "av1"));
        let container = match i.container.as_str() {
            "mkv" => !i.browser_playable,
            "mp4" | "mov" => i.index_at_end || !sound_plays(i.audio_codec.as_deref()),
            // Browsers do not all open these as stored; the frames inside they decode.
            "3gp" | "ts" | "m2ts" | "flv" => true,
            // H.264 in AVI (`avi`); other pictures in AVI are transcoded.
            "avi" => i.video_codec.as_deref() == Some("h264"),
            _ => false,
        };
        codec && container
    })
}

/// Whether `v`'s remux is planned only after reading the whole file (its
/// frames' sizes are spread through it): Matroska, transport streams and
/// FLV. An MP4's index is read alone.
pub fn planned_by_whole_read(v: &Video) -> bool {
    remuxable(v) && v.info.as_ref().is_some_and(|i| matches!(i.container.as_str(), "mkv" | "ts" | "m2ts" | "flv"))
}

/// A remuxed MP4 of a Matroska or WebM file that current browsers play
/// as stored, for those that cannot (Safari and iOS with WebM): the page
/// switches to it when `canPlayType` says no.
pub fn alternative(v: &Video) -> Option<String> {
    let i = v.info.as_ref()?;
    let fits =
        matches!(i.container.as_str(), "mkv" | "webm") && matches!(i.video_codec.as_deref(), Some("vp9" | "av1"));
    (fits && !remuxable(v)).then(|| format!("/play/{}.mp4", v.id))
}

/// How a browser gets to see and hear a video, as the server serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playback {
    /// Its own bytes.
    AsStored,
    /// Remuxed on the fly (`/play`); `sound_remade`: its sound is remade
    /// by ffmpeg first.
    Remuxed { sound_remade: bool },
    /// Neither: it must be converted.
    Not,
}

pub fn playback(v: &Video) -> Playback {
    let Some(i) = v.info.as_ref() else { return Playback::Not };
    if remuxable(v) {
        Playback::Remuxed { sound_remade: !sound_plays(i.audio_codec.as_deref()) }
    } else if i.browser_playable {
        Playback::AsStored
    } else {
        Playback::Not
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::remux::demux::Sample;

    fn track(codec: Codec, pts: &[i64]) -> Track {
        let samples =
            pts.iter().enumerate().map(|(i, &pts)| Sample { pos: i as u64, size: 1, pts, key: true }).collect();
        Track {
            codec,
            timescale: if codec.is_video() { VIDEO_TIMESCALE } else { 48_000 },
            config: vec![0x11, 0x90],
            prefix: Vec::new(),
            width: 16,
            height: 16,
            channels: 2,
            rate: 48_000,
            samples,
            file: 0,
            framing: crate::media::remux::demux::Framing::Whole,
            spread: Vec::new(),
        }
    }

    #[test]
    fn hostile_times_are_planned_without_overflow() {
        assert_eq!(bounded(i128::MAX), MAX_TIME);
        assert_eq!(bounded(i128::MIN), -MAX_TIME);
        // The bounds a demuxer can give, in every order, in both tracks.
        let edge = [MAX_TIME, -MAX_TIME, 0, MAX_TIME, MAX_TIME - 1, -MAX_TIME];
        let demuxed =
            Demuxed { video: track(Codec::H264, &edge), audio: Some(track(Codec::Aac, &edge)), audio_left_out: None };
        let plan = Plan::from_tables(demuxed).expect("a plan");
        assert!(!plan.is_empty());
        let pieces = plan.pieces(0, plan.len());
        assert!(!pieces.is_empty());
    }
}
