//! AVI remuxed: H.264 from the video stream's chunks and MP3 or AAC from
//! an audio stream's, in one walk over the `movi` lists (of the file and
//! of OpenDML's `AVIX` parts after it).
//!
//! AVI muxers write H.264 with start codes, one frame a chunk, so a frame
//! is one range of the file made when served with lengths instead
//! (`Framing::AnnexB`); its size out is found in the walk. AVI keeps no
//! presentation times: frames come in decode order, one each `scale/rate`
//! seconds, and where B-frames are shown before frames decoded ahead of
//! them, their order on screen is worked out from the picture order
//! counts in their slice headers (`pic_order_cnt_type` 0; type 2 is
//! decode order; type 1 is not remuxed). An empty chunk is a frame
//! dropped at capture: its time passes with nothing shown.

use super::demux::{Codec, Demuxed, Framing, Sample, Spread, Track, MAX_SAMPLES, VIDEO_TIMESCALE};
use super::RemuxError;
use crate::container::ebml::Window;
use crate::container::elementary::{
    avcc, h264_pps_bottom_order, h264_slice_order, h264_sps_order, length_prefixed_len, mpeg_audio, nal_type,
    nal_units, Order,
};
use crate::container::riff::{audio_codec, chunks, find, le_u16, le_u32, list};
use crate::container::{ProbeError, Source};

/// The most read of the header list (as the probe reads it).
const MOST_HEADER: u64 = 1 << 20;
/// The largest frame read (a 4K keyframe is a few MiB).
const MOST_FRAME: u64 = 16 << 20;
/// Most lists within lists gone into (`movi` holds `rec ` groups).
const MOST_DEPTH: usize = 4;
/// Most chunks walked (both streams full, with index chunks between).
const MOST_CHUNKS: usize = 4 * MAX_SAMPLES;

/// One stream's headers: its kind, time base and format.
struct Stream {
    kind: [u8; 4],
    scale: u32,
    rate: u32,
    format: Vec<u8>,
}

fn damaged(reason: &str) -> RemuxError {
    RemuxError::Read(ProbeError::Damaged("AVI", reason.into()))
}

fn streams(hdrl: &[u8]) -> Vec<Stream> {
    chunks(hdrl)
        .filter(|c| &c.id == b"LIST" && hdrl.get(c.at..c.at + 4) == Some(b"strl"))
        .filter_map(|c| {
            let strl = hdrl.get(c.at + 4..c.at + c.size)?;
            let (strh, strf) = (find(strl, b"strh")?, find(strl, b"strf")?);
            Some(Stream {
                kind: strh.get(..4)?.try_into().ok()?,
                scale: le_u32(strh, 20)?,
                rate: le_u32(strh, 24)?,
                format: strf.to_vec(),
            })
        })
        .collect()
}

/// A chunk id's stream number (`00dc`, `01wb`: the first two characters).
fn stream_of(id: &[u8; 4]) -> Option<usize> {
    let tens = id[0].checked_sub(b'0').filter(|d| *d < 10)?;
    let ones = id[1].checked_sub(b'0').filter(|d| *d < 10)?;
    Some(usize::from(tens * 10 + ones))
}

/// The sound chosen: its stream number and track, or why it is left out.
fn sound(all: &[Stream], audio: usize) -> (Option<(usize, Track)>, Option<String>) {
    let Some((n, s)) = all.iter().enumerate().filter(|(_, s)| &s.kind == b"auds").nth(audio) else {
        return (None, None);
    };
    let tag = le_u16(&s.format, 0).unwrap_or(0);
    let rate = le_u32(&s.format, 4).filter(|r| *r > 0).unwrap_or(44_100);
    let channels = le_u16(&s.format, 2).filter(|c| *c > 0).unwrap_or(2);
    match audio_codec(tag) {
        "mp3" => {
            let mut t = Track::empty(Codec::Mp3, rate);
            t.channels = channels;
            (Some((n, t)), None)
        }
        // Raw AAC frames, its AudioSpecificConfig in the format's extra bytes.
        "aac" => {
            let extra = usize::from(le_u16(&s.format, 16).unwrap_or(0));
            match s.format.get(18..18 + extra).filter(|c| c.len() >= 2) {
                Some(config) => {
                    let mut t = Track::empty(Codec::Aac, rate);
                    t.config = config.to_vec();
                    t.channels = crate::container::elementary::aac_channels(config);
                    (Some((n, t)), None)
                }
                None => (None, Some("aac".into())),
            }
        }
        other => (None, Some(other.to_string())),
    }
}

/// The picture order of the H.264 frames seen so far: each frame's place
/// on screen within its run from one IDR picture to the next.
#[derive(Default)]
struct Pictures {
    order: Option<Order>,
    bottom_order: bool,
    /// Per frame (with a sample): its run and its picture order count.
    pocs: Vec<(u32, i64)>,
    run: u32,
    prev_msb: i64,
    prev_lsb: i64,
}

impl Pictures {
    /// Takes the parameter sets of an access unit; its picture's order
    /// count, and whether it is a key frame (IDR, or an I slice).
    fn frame(&mut self, au: &[u8]) -> Result<Option<bool>, RemuxError> {
        let mut key = None;
        for nal in nal_units(au) {
            match nal_type(nal, false) {
                7 if self.order.is_none() => self.order = h264_sps_order(nal).map(|(_, o)| o),
                8 => self.bottom_order = h264_pps_bottom_order(nal).unwrap_or(false),
                t @ (1 | 5) if key.is_none() => {
                    let Some(order) = self.order else { return Ok(None) };
                    if order.poc_type == 1 {
                        return Err(RemuxError::Unsupported("H.264 with picture order count type 1".into()));
                    }
                    let Some((kind, lsb)) = h264_slice_order(nal, &order) else { return Ok(None) };
                    let idr = t == 5;
                    let reference = nal.first().is_some_and(|b| b & 0x60 != 0);
                    let poc = if order.poc_type == 0 {
                        self.count(i64::from(lsb), 1i64 << order.poc_lsb_bits, idr, reference)
                    } else {
                        if idr {
                            self.run += 1;
                        }
                        self.pocs.len() as i64
                    };
                    self.pocs.push((self.run, poc));
                    key = Some(idr || kind == 2);
                }
                _ => {}
            }
        }
        Ok(key)
    }

    /// `PicOrderCnt` of a type 0 count: its low bits `lsb` with the high
    /// bits carried from the last reference picture (8.2.1.1).
    fn count(&mut self, lsb: i64, max: i64, idr: bool, reference: bool) -> i64 {
        if idr {
            self.run += 1;
            (self.prev_msb, self.prev_lsb) = (0, 0);
        }
        let msb = if lsb < self.prev_lsb && self.prev_lsb - lsb >= max / 2 {
            self.prev_msb + max
        } else if lsb > self.prev_lsb && lsb - self.prev_lsb > max / 2 {
            self.prev_msb - max
        } else {
            self.prev_msb
        };
        if reference {
            (self.prev_msb, self.prev_lsb) = (msb, lsb);
        }
        msb + lsb
    }

    /// Each frame's shift on screen from its place in decode order, in
    /// frames: its rank by order count within its run less its rank in
    /// decode order.
    fn shifts(&self) -> Vec<i64> {
        let mut shift = vec![0i64; self.pocs.len()];
        let mut start = 0;
        while start < self.pocs.len() {
            let run = self.pocs[start].0;
            let end = start + self.pocs[start..].iter().take_while(|(r, _)| *r == run).count();
            let mut by_order: Vec<usize> = (start..end).collect();
            by_order.sort_by_key(|&i| (self.pocs[i].1, i));
            for (rank, &i) in by_order.iter().enumerate() {
                shift[i] = (start + rank) as i64 - i as i64;
            }
            start = end;
        }
        shift
    }
}

/// Reads the sample tables of the first H.264 stream and the `audio`th
/// audio stream. Blocking: one pass over the file.
pub fn demux(src: &(impl Source + ?Sized), audio: usize) -> Result<Demuxed, RemuxError> {
    let head = src.read_vec(12, MOST_HEADER).map_err(ProbeError::from)?;
    let hdrl = list(&head, b"hdrl").ok_or_else(|| damaged("no header list"))?;
    let all = streams(hdrl);
    let v = all.iter().position(|s| &s.kind == b"vids").ok_or_else(|| damaged("no video stream"))?;
    let codec = crate::container::riff::video_codec(all[v].format.get(16..20).unwrap_or(&[]));
    if codec != "h264" {
        return Err(RemuxError::Unsupported(format!("{codec} video in AVI")));
    }
    let (scale, rate) = (u64::from(all[v].scale.max(1)), u64::from(all[v].rate));
    if rate == 0 {
        return Err(damaged("no frame rate"));
    }
    let mut video = Track::empty(Codec::H264, VIDEO_TIMESCALE);
    video.framing = Framing::AnnexB;
    let (mut sound, audio_left_out) = sound(&all, audio);
    let mut pictures = Pictures::default();
    // Each video sample's slot in decode order (empty chunks take one too).
    let mut slots: Vec<u64> = Vec::new();
    let mut slot = 0u64;
    let mut sound_ticks = 0i64;
    // MP3 frames split between chunks: the sound is left out (and remade).
    let mut split = false;
    let mut w = Window::new(src);
    let len = src.size();
    // The `movi` lists: the file's, then each `AVIX` part's.
    let mut lists = Vec::new();
    let mut at = 0u64;
    while at + 12 <= len {
        let riff = w.get(at, 12)?;
        let size = u64::from(le_u32(riff, 4).unwrap_or(0));
        if &riff[..4] != b"RIFF" {
            break;
        }
        let end = (at + 8 + size).min(len);
        let mut c = at + 12;
        while c + 12 <= end {
            let h = w.get(c, 12)?;
            let (id, size) = (&h[..4], u64::from(le_u32(h, 4).unwrap_or(0)));
            if id == b"LIST" && &h[8..12] == b"movi" {
                lists.push((c + 12, (c + 8 + size).min(end)));
            }
            c += 8 + size + (size & 1);
        }
        at = end + (end & 1);
    }
    let mut walked = 0usize;
    // Lists to go into (`movi`, then `rec ` groups inside it).
    let mut todo: Vec<(u64, u64, usize)> = lists.into_iter().rev().map(|(a, b)| (a, b, 0)).collect();
    while let Some((mut c, end, depth)) = todo.pop() {
        while c + 8 <= end && walked < MOST_CHUNKS {
            walked += 1;
            let h = w.get(c, 12.min(end - c))?;
            let id: [u8; 4] = h[..4].try_into().unwrap_or_default();
            let size = u64::from(le_u32(h, 4).unwrap_or(0));
            let body = c + 8;
            let next = body + size + (size & 1);
            if &id == b"LIST" && depth < MOST_DEPTH {
                // A `rec ` group: its chunks first, then on after it.
                todo.push((next, end, depth));
                todo.push((body + 4, (body + size).min(end), depth + 1));
                break;
            }
            if body + size > len {
                break; // cut short: what came before plays
            }
            let stream = stream_of(&id);
            if stream == Some(v) && (id[2..] == *b"dc" || id[2..] == *b"db") {
                let this = slot;
                slot += 1;
                if size == 0 || size > MOST_FRAME || video.samples.len() >= MAX_SAMPLES {
                    c = next;
                    continue;
                }
                let au = w.get(body, size)?.to_vec();
                if video.config.is_empty() {
                    if let Some(config) = avcc(&au) {
                        if let Some((p, _)) = nal_units(&au).find(|n| nal_type(n, false) == 7).and_then(h264_sps_order)
                        {
                            (video.width, video.height) = (p.width, p.height);
                        }
                        video.config = config;
                    }
                }
                if let Some(key) = pictures.frame(&au)? {
                    let out = length_prefixed_len(&au, false);
                    let (Ok(out), Ok(stored)) = (u32::try_from(out), u32::try_from(size)) else {
                        pictures.pocs.pop();
                        c = next;
                        continue;
                    };
                    video.samples.push(Sample { pos: body, size: out, pts: 0, key });
                    video.spread.push(Spread { span: stored, skip: 0, len: stored });
                    slots.push(this);
                }
            } else if let Some((_, t)) = sound.as_mut().filter(|(n, _)| stream == Some(*n) && !split) {
                if size > 0 && t.samples.len() < MAX_SAMPLES {
                    match t.codec {
                        Codec::Aac => {
                            t.samples.push(Sample { pos: body, size: size as u32, pts: sound_ticks, key: true });
                            sound_ticks += 1024;
                        }
                        _ => {
                            // MP3: whole frames to a chunk, else the sound is left out.
                            let data = w.get(body, size.min(MOST_FRAME))?.to_vec();
                            let mut off = 0usize;
                            while off + 4 <= data.len() {
                                let Some(m) = mpeg_audio(&data[off..]).filter(|m| m.layer == 3 && m.frame > 4) else {
                                    break;
                                };
                                if off + m.frame > data.len() {
                                    break;
                                }
                                let pts = sound_ticks;
                                sound_ticks += if m.rate < 32_000 { 576 } else { 1152 };
                                let pos = body + off as u64;
                                t.samples.push(Sample { pos, size: m.frame as u32, pts, key: true });
                                off += m.frame;
                            }
                            if off != data.len() {
                                split = true;
                            }
                        }
                    }
                }
            }
            c = next;
        }
    }
    if video.samples.is_empty() || video.config.is_empty() {
        return Err(RemuxError::Unsupported("no H.264 frames with their parameter sets".into()));
    }
    // Times on screen: each frame's slot, moved by its shift in order.
    let at_slot = |s: i64| -> i64 {
        let ticks = i128::from(s) * i128::from(scale) * i128::from(VIDEO_TIMESCALE) / i128::from(rate);
        super::bounded(ticks)
    };
    for ((sample, &slot), shift) in video.samples.iter_mut().zip(&slots).zip(pictures.shifts()) {
        sample.pts = at_slot(slot as i64 + shift);
    }
    // Start at the first keyframe.
    let first_key = video.samples.iter().position(|s| s.key).unwrap_or(0);
    video.samples.drain(..first_key);
    video.spread.drain(..first_key);
    let sound = sound.map(|(_, t)| t).filter(|t| !t.samples.is_empty());
    let left_out = match (&sound, audio_left_out) {
        (Some(_), _) => None,
        (None, Some(why)) => Some(why),
        (None, None) if split => Some("mp3 in chunks that split its frames".into()),
        (None, None) => None,
    };
    Ok(Demuxed { video, audio: sound, audio_left_out: left_out })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_counts_rank_frames_within_each_run() {
        // I0 P6 B2 B4 | IDR: I0 P4 B2 (order counts), decode order.
        let mut p = Pictures::default();
        for (run, poc) in [(1, 0), (1, 6), (1, 2), (1, 4), (2, 0), (2, 4), (2, 2)] {
            p.pocs.push((run, poc));
        }
        assert_eq!(p.shifts(), vec![0, 2, -1, -1, 0, 1, -1]);
    }

    #[test]
    fn order_counts_wrap_their_low_bits() {
        let mut p = Pictures::default();
        let max = 16;
        assert_eq!(p.count(0, max, true, true), 0);
        assert_eq!(p.count(6, max, false, true), 6);
        assert_eq!(p.count(12, max, false, true), 12);
        // 2 after 12 with 4 bits: the count went on past 16.
        assert_eq!(p.count(2, max, false, true), 18);
        // A non-reference picture does not move the base.
        assert_eq!(p.count(0, max, false, false), 16);
        assert_eq!(p.count(4, max, false, true), 20);
    }

    #[test]
    fn chunk_ids_name_their_stream() {
        assert_eq!(stream_of(b"00dc"), Some(0));
        assert_eq!(stream_of(b"01wb"), Some(1));
        assert_eq!(stream_of(b"ix00"), None);
        assert_eq!(stream_of(b"JUNK"), None);
    }
}
