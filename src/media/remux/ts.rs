//! MPEG transport streams (`.ts`, `.m2ts`, `.mts`) remuxed: one walk over
//! the packets gathers, for the first H.264 or HEVC stream and one audio
//! stream (AAC in ADTS, MP3), every frame's time and where its bytes lie
//! among the packets. A frame is spread over packets of 188 bytes with
//! headers between them, and H.264 in a transport stream is written with
//! start codes: it cannot be a range of the file. So a frame is made when
//! served (`unpack`): its packets are read again and their data joined,
//! the start codes replaced by lengths (video) or the ADTS header left
//! out (AAC). Its size out is worked out in the walk, so the output's
//! length is known and ranges work as for Matroska.

use std::collections::VecDeque;

use super::demux::{Codec, Demuxed, Framing, Sample, Spread, Track, Unpack, MAX_SAMPLES, VIDEO_TIMESCALE};
use super::RemuxError;
use crate::container::elementary::{adts, avcc, hvcc, is_key, length_prefixed, length_prefixed_len, mpeg_audio};
use crate::container::mpegts::{packet, pes, sniff, unwrap, Layout, Packet, Stream};
use crate::container::{ProbeError, Source};
use crate::library::probe::ts::streams;

/// Read at a time in the walk.
const BLOCK: u64 = 1 << 20;
/// The largest frame gathered (a 4K keyframe is a few MiB).
const MOST_FRAME: usize = 16 << 20;
/// The most file one frame's packets may lie across (other streams'
/// packets between them included); a frame spread wider is left out.
const MOST_SPAN: u32 = 32 << 20;

/// The stream's data in a packet: its payload, without the PES header
/// where one starts (the same rule when walking and when unpacking).
fn data<'a>(p: &Packet<'a>) -> &'a [u8] {
    if p.start {
        let skip = pes(p.payload).map_or(p.payload.len(), |h| h.header);
        p.payload.get(skip..).unwrap_or(&[])
    } else {
        p.payload
    }
}

/// One stream being gathered: the packets not yet wholly used (where
/// each is, and which stream bytes it holds), and the bytes not yet cut
/// into frames.
struct Gather {
    pid: u16,
    packets: VecDeque<(u64, u64, u32)>,
    /// Stream bytes seen before `pending` begins.
    used: u64,
    pending: Vec<u8>,
    /// Times at stream offsets (PES starts).
    times: VecDeque<(u64, i64)>,
    last_time: Option<i64>,
    stride: u64,
}

impl Gather {
    fn new(pid: u16, layout: &Layout) -> Self {
        Gather {
            pid,
            packets: VecDeque::new(),
            used: 0,
            pending: Vec::new(),
            times: VecDeque::new(),
            last_time: None,
            stride: u64::from(layout.stride),
        }
    }

    fn end(&self) -> u64 {
        self.used + self.pending.len() as u64
    }

    fn push(&mut self, pos: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.packets.push_back((pos, self.end(), bytes.len() as u32));
        self.pending.extend_from_slice(bytes);
    }

    /// Notes the time of the PES starting at the current end (unwrapped
    /// next to the stream's last time).
    fn time(&mut self, pts: Option<i64>) {
        if let Some(t) = pts {
            let t = self.last_time.map_or(t, |last| unwrap(t, last));
            self.last_time = Some(t);
            // PES packets without data: one time per offset, the last.
            if self.times.back().is_some_and(|(o, _)| *o == self.end()) {
                self.times.pop_back();
            }
            self.times.push_back((self.end(), t));
        }
    }

    /// How much file the pending bytes' packets lie across so far.
    fn reach(&self, pos: u64) -> u64 {
        self.packets.front().map_or(0, |(first, _, _)| pos.saturating_sub(*first))
    }

    /// Where the stream bytes `[from, from + len)` are: the first packet,
    /// the bytes of it to skip, and the span to the end of the last.
    fn spread(&self, from: u64, len: u64) -> Option<(u64, Spread)> {
        let first = self.packets.iter().find(|(_, s, n)| s + u64::from(*n) > from)?;
        let last_byte = from + len.max(1) - 1;
        let last = self.packets.iter().rev().find(|(_, s, _)| *s <= last_byte)?;
        let span = u32::try_from(last.0 + self.stride - first.0).ok().filter(|&s| s <= MOST_SPAN)?;
        let skip = u16::try_from(from - first.1).ok()?;
        Some((first.0, Spread { span, skip, len: u32::try_from(len).ok()? }))
    }

    /// Lets go of the first `n` pending bytes (and the packets and times before them).
    fn consume(&mut self, n: usize) {
        self.pending.drain(..n.min(self.pending.len()));
        self.used += n as u64;
        while self.packets.front().is_some_and(|(_, s, len)| s + u64::from(*len) <= self.used) {
            self.packets.pop_front();
        }
        while self.times.len() > 1 && self.times[1].0 <= self.used {
            self.times.pop_front();
        }
    }

    /// The time of the PES the byte `at` belongs to, and where that PES began.
    fn time_at(&self, at: u64) -> Option<(u64, i64)> {
        self.times.iter().rev().find(|(o, _)| *o <= at).copied()
    }
}

/// What is being made of the video stream.
struct VideoOut {
    g: Gather,
    hevc: bool,
    track: Option<Track>,
    /// The access unit under way started with a random access flag.
    random_access: bool,
}

/// What is being made of the audio stream.
struct AudioOut {
    g: Gather,
    codec: Codec,
    track: Option<Track>,
    /// Frames since the last time seen, at that time's offset.
    count: (u64, i64),
    /// An AAC frame of several raw data blocks was met: the sound is
    /// remade (an MP4 sample is one block; the blocks' bounds are not
    /// always given).
    several_blocks: bool,
}

pub fn demux(src: &(impl Source + ?Sized), audio: usize) -> Result<Demuxed, RemuxError> {
    let head = src.read_vec(0, 2 << 20).map_err(ProbeError::from)?;
    let layout = sniff(&head).ok_or_else(|| RemuxError::Unsupported("packets out of sync".into()))?;
    let all = streams(&head, &layout);
    let video = all
        .iter()
        .find(|s| s.video)
        .filter(|s| matches!(s.codec, "h264" | "hevc"))
        .ok_or_else(|| RemuxError::Unsupported("no H.264 or HEVC video".into()))?;
    let chosen: Option<&Stream> = all.iter().filter(|s| !s.video).nth(audio);
    let mut audio_left_out = None;
    let audio_codec = match chosen.map(|s| s.codec) {
        Some("aac") => Some(Codec::Aac),
        Some("mp3") => Some(Codec::Mp3),
        Some(other) => {
            audio_left_out = Some(other.to_string());
            None
        }
        None => None,
    };
    let mut v =
        VideoOut { g: Gather::new(video.pid, &layout), hevc: video.codec == "hevc", track: None, random_access: false };
    let mut a = match (chosen, audio_codec) {
        (Some(s), Some(codec)) => {
            Some(AudioOut { g: Gather::new(s.pid, &layout), codec, track: None, count: (0, 0), several_blocks: false })
        }
        _ => None,
    };
    let stride = u64::from(layout.stride);
    let lead = usize::from(layout.lead);
    let mut at = layout.first;
    while at < src.size() {
        let block = src.read_vec(at, BLOCK - BLOCK % stride).map_err(ProbeError::from)?;
        // The end, or a block not half of packets, or both tracks full:
        // the stream ends here.
        let synced = block.chunks(stride as usize).filter(|c| c.get(lead) == Some(&0x47)).count() as u64;
        let full = v.track.as_ref().is_some_and(|t| t.samples.len() >= MAX_SAMPLES);
        if block.is_empty() || synced * 2 * stride < block.len() as u64 || full {
            break;
        }
        for (k, chunk) in block.chunks(stride as usize).enumerate() {
            let pos = at + k as u64 * stride;
            let Some(p) = chunk.get(lead..).and_then(packet) else { continue };
            if p.pid == v.g.pid {
                if p.start {
                    video_unit(&mut v, &layout)?;
                    v.g.time(pes(p.payload).and_then(|h| h.pts));
                    v.random_access = p.random_access;
                }
                v.g.push(pos, data(&p));
                if v.g.pending.len() > MOST_FRAME {
                    return Err(RemuxError::Unsupported("a video frame larger than 16 MiB".into()));
                }
                if v.g.reach(pos) > u64::from(MOST_SPAN) {
                    // Spread too wide to be made when served: left out.
                    let n = v.g.pending.len();
                    v.g.consume(n);
                }
            } else if let Some(a) = a.as_mut().filter(|a| a.g.pid == p.pid && !a.several_blocks) {
                if p.start {
                    a.g.time(pes(p.payload).and_then(|h| h.pts));
                }
                a.g.push(pos, data(&p));
                audio_frames(a, &layout);
            }
        }
        at += block.len() as u64;
    }
    video_unit(&mut v, &layout)?;
    let mut video = v.track.ok_or_else(|| RemuxError::Unsupported("no keyframe with its parameter sets".into()))?;
    if a.as_ref().is_some_and(|a| a.several_blocks) {
        a = None;
        audio_left_out = Some("AAC in ADTS frames of several blocks".into());
    }
    let mut audio = a.and_then(|a| a.track).filter(|t| !t.samples.is_empty());
    // Times from the first frame: video in 90 kHz, audio in its rate.
    let base = video
        .samples
        .iter()
        .map(|s| s.pts)
        .chain(audio.iter().flat_map(|t| t.samples.first()).map(|s| s.pts))
        .min()
        .unwrap_or(0);
    for s in &mut video.samples {
        s.pts -= base;
    }
    if let Some(t) = audio.as_mut() {
        let rate = i128::from(t.rate);
        for s in &mut t.samples {
            s.pts = super::bounded(i128::from(s.pts - base) * rate / i128::from(VIDEO_TIMESCALE));
        }
    }
    Ok(Demuxed { video, audio, audio_left_out })
}

/// The access unit gathered so far (a PES of video) becomes a frame.
fn video_unit(v: &mut VideoOut, layout: &Layout) -> Result<(), RemuxError> {
    let len = v.g.pending.len();
    if len == 0 {
        return Ok(());
    }
    let from = v.g.used;
    let au = &v.g.pending;
    let key = is_key(au, v.hevc) || v.random_access;
    if v.track.is_none() && key {
        let config = if v.hevc { hvcc(au) } else { avcc(au) };
        let picture = crate::container::elementary::picture_in(au, v.hevc);
        if let Some(config) = config {
            v.track = Some(Track {
                codec: if v.hevc { Codec::Hevc } else { Codec::H264 },
                timescale: VIDEO_TIMESCALE,
                config,
                prefix: Vec::new(),
                width: picture.map_or(0, |p| p.width),
                height: picture.map_or(0, |p| p.height),
                channels: 0,
                rate: 0,
                samples: Vec::new(),
                file: 0,
                framing: Framing::Packets { layout: *layout, pid: v.g.pid, unpack: Unpack::AnnexB { hevc: v.hevc } },
                spread: Vec::new(),
            });
        }
    }
    if let Some(track) = v.track.as_mut() {
        let size = length_prefixed_len(au, v.hevc);
        let time = v.g.time_at(from).filter(|(o, _)| *o == from).map(|(_, t)| t);
        // A unit without a time: a frame after the last one.
        let pts = time.unwrap_or_else(|| track.samples.last().map_or(0, |s| s.pts + 3600));
        if let (Some((pos, spread)), Ok(size)) = (v.g.spread(from, len as u64), u32::try_from(size)) {
            if size > 0 && track.samples.len() < MAX_SAMPLES {
                track.samples.push(Sample { pos, size, pts, key });
                track.spread.push(spread);
            }
        }
    }
    v.g.consume(len);
    Ok(())
}

/// Cuts the audio gathered so far into frames (a cut-off last frame
/// waits for more, and at the end of the file is dropped).
fn audio_frames(a: &mut AudioOut, layout: &Layout) {
    loop {
        let b = &a.g.pending;
        let (frame, header, rate, channels, config) = match a.codec {
            Codec::Aac => match adts(b) {
                Some(h) if h.more_blocks > 0 => {
                    a.several_blocks = true;
                    return;
                }
                Some(h) => (h.frame, h.header, h.rate, h.channels, h.config.to_vec()),
                None if b.len() < 9 => return,
                None => {
                    a.g.consume(1); // lost: look for the next header
                    continue;
                }
            },
            _ => match mpeg_audio(b).filter(|m| m.layer == 3) {
                Some(m) => (m.frame, 0, m.rate, m.channels, Vec::new()),
                None if b.len() < 4 => return,
                None => {
                    a.g.consume(1);
                    continue;
                }
            },
        };
        if b.len() < frame || frame == 0 {
            return;
        }
        let from = a.g.used;
        let track = a.track.get_or_insert_with(|| Track {
            codec: a.codec,
            timescale: rate,
            config,
            prefix: Vec::new(),
            width: 0,
            height: 0,
            channels,
            rate,
            samples: Vec::new(),
            file: 0,
            framing: Framing::Packets {
                layout: *layout,
                pid: a.g.pid,
                unpack: if a.codec == Codec::Aac { Unpack::Adts } else { Unpack::Raw },
            },
            spread: Vec::new(),
        });
        // The time of the PES the frame starts in, plus the frames since (in 90 kHz).
        let per_frame = if a.codec == Codec::Aac {
            1024
        } else if rate >= 32_000 {
            1152
        } else {
            576
        };
        let pts = match a.g.time_at(from) {
            Some((o, t)) => {
                if a.count.0 != o {
                    a.count = (o, 0);
                }
                let t = t + a.count.1 * per_frame * i64::from(VIDEO_TIMESCALE) / i64::from(rate.max(1));
                a.count.1 += 1;
                t
            }
            None => 0,
        };
        if rate == track.rate && track.samples.len() < MAX_SAMPLES {
            if let Some((pos, spread)) = a.g.spread(from, frame as u64) {
                track.samples.push(Sample { pos, size: (frame - header) as u32, pts, key: true });
                track.spread.push(spread);
            }
        }
        a.g.consume(frame);
    }
}

/// Makes the samples `first..end` of a track spread over packets, from
/// the file's bytes `raw` read from `samples[first].pos`.
pub fn unpack(track: &Track, first: usize, end: usize, raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let changed = || std::io::Error::new(std::io::ErrorKind::InvalidData, "the file changed since it was read");
    // Where a frame's stored bytes are: spread over packets, or one range
    // written with start codes (H.264 in AVI).
    let (packets, unpack) = match track.framing {
        Framing::Packets { layout, pid, unpack } => (Some((layout, pid)), unpack),
        Framing::AnnexB => (None, Unpack::AnnexB { hevc: false }),
        Framing::Whole => return Err(std::io::Error::other("not a track made when served")),
    };
    let base = track.samples.get(first).ok_or_else(changed)?.pos;
    let samples = track.samples.get(first..end).ok_or_else(changed)?;
    let spreads = track.spread.get(first..end).ok_or_else(changed)?;
    let mut out = Vec::with_capacity(samples.iter().map(|s| s.size as usize).sum());
    let mut joined = Vec::with_capacity(spreads.iter().map(|s| s.len as usize).max().unwrap_or(0));
    for (s, spread) in samples.iter().zip(spreads) {
        let from = s.pos.checked_sub(base).and_then(|d| usize::try_from(d).ok()).ok_or_else(changed)?;
        let span = raw.get(from..from + spread.span as usize).ok_or_else(changed)?;
        let frame: &[u8] = match packets {
            None => span,
            Some((layout, pid)) => {
                let (stride, lead) = (usize::from(layout.stride).max(1), usize::from(layout.lead));
                joined.clear();
                let mut skip = usize::from(spread.skip);
                for chunk in span.chunks(stride) {
                    let Some(p) = chunk.get(lead..).and_then(packet).filter(|p| p.pid == pid) else { continue };
                    let whole = data(&p);
                    let d = &whole[skip.min(whole.len())..];
                    skip = skip.saturating_sub(whole.len());
                    let want = (spread.len as usize).saturating_sub(joined.len());
                    joined.extend_from_slice(&d[..want.min(d.len())]);
                }
                &joined
            }
        };
        if frame.len() != spread.len as usize {
            return Err(changed());
        }
        let before = out.len();
        match unpack {
            Unpack::AnnexB { hevc } => length_prefixed(frame, hevc, &mut out),
            Unpack::Adts => out.extend_from_slice(frame.get(adts(frame).ok_or_else(changed)?.header..).unwrap_or(&[])),
            Unpack::Raw => out.extend_from_slice(frame),
        }
        if out.len() - before != s.size as usize {
            return Err(changed());
        }
    }
    Ok(out)
}

/// The bytes of the file `unpack` needs for the samples `first..end`:
/// from the first's first packet to the end of the furthest.
pub fn raw_range(track: &Track, first: usize, end: usize) -> Option<(u64, u64)> {
    let start = track.samples.get(first)?.pos;
    let stop = track
        .samples
        .get(first..end)?
        .iter()
        .zip(track.spread.get(first..end)?)
        .map(|(s, sp)| s.pos + u64::from(sp.span))
        .max()?;
    Some((start, stop))
}
