//! Flash video remuxed: H.264 frames are stored length-prefixed with
//! their `avcC` in a sequence header, and AAC raw with its
//! AudioSpecificConfig, so each frame is one range of the file, as in
//! Matroska. One walk over the tag headers gives the tables.

use super::demux::{Codec, Demuxed, Sample, Track, MAX_SAMPLES, VIDEO_TIMESCALE};
use super::RemuxError;
use crate::container::ebml::Window;
use crate::container::elementary::{h264_sps, mpeg_audio};
use crate::container::flv::{audio_codec, first_tag, tag, video_codec, TAG_HEADER};
use crate::container::{be_u16, ProbeError, Source};

/// Most tags walked (both tracks full, with script tags between).
const MAX_TAGS: usize = 4 * MAX_SAMPLES;

/// FLV has one audio stream: `audio` other than 0 finds none.
pub fn demux(src: &(impl Source + ?Sized), audio: usize) -> Result<Demuxed, RemuxError> {
    let mut w = Window::new(src);
    let mut at = first_tag(w.get(0, 16)?).ok_or_else(|| RemuxError::Unsupported("no FLV header".into()))?;
    let mut video = Track::empty(Codec::H264, VIDEO_TIMESCALE);
    let mut sound: Option<Track> = None;
    let mut audio_left_out = None;
    let len = src.size();
    let mut tags = 0usize;
    while at + TAG_HEADER <= len && tags < MAX_TAGS && video.samples.len() < MAX_SAMPLES {
        tags += 1;
        let head = w.get(at, TAG_HEADER + 5)?.to_vec();
        // Anything but audio, video and script tags: the stream ends here.
        let Some(t) = tag(&head).filter(|t| matches!(t.kind, 8 | 9 | 18)) else { break };
        let body = at + TAG_HEADER;
        let data = head.get(TAG_HEADER as usize..).unwrap_or(&[]);
        if body + u64::from(t.size) > len {
            break; // cut short: what came before plays
        }
        match (t.kind, data) {
            (9, [first, kind, c0, c1, c2, ..]) => {
                let codec = video_codec(*first);
                if codec != "h264" {
                    return Err(RemuxError::Unsupported(format!("{codec} video")));
                }
                let cts = i32::from_be_bytes([*c0, *c1, *c2, 0]) >> 8; // signed 24 bits
                match kind {
                    0 if video.config.is_empty() && t.size > 5 => {
                        video.config = w.get(body + 5, u64::from(t.size) - 5)?.to_vec();
                        let sps_len = usize::from(be_u16(&video.config, 6).unwrap_or(0));
                        if let Some(p) = video.config.get(8..8 + sps_len).and_then(h264_sps) {
                            (video.width, video.height) = (p.width, p.height);
                        }
                    }
                    1 if !video.config.is_empty() && t.size > 5 && video.samples.len() < MAX_SAMPLES => {
                        video.samples.push(Sample {
                            pos: body + 5,
                            size: t.size - 5,
                            pts: (t.time + i64::from(cts)) * 90,
                            key: first >> 4 == 1,
                        });
                    }
                    _ => {}
                }
            }
            (8, [first, kind, ..]) if audio == 0 => match audio_codec(*first) {
                "aac" if *kind == 0 && t.size > 2 => {
                    let config = w.get(body + 2, u64::from(t.size) - 2)?.to_vec();
                    let rate = crate::container::elementary::aac_rate(&config).unwrap_or(44_100);
                    let mut a = Track::empty(Codec::Aac, rate);
                    a.config = config;
                    a.channels = crate::container::elementary::aac_channels(&a.config);
                    sound.get_or_insert(a);
                }
                "aac" if *kind == 1 && t.size > 2 => {
                    if let Some(a) = sound.as_mut().filter(|a| a.samples.len() < MAX_SAMPLES) {
                        let pts = t.time * i64::from(a.rate) / 1000;
                        a.samples.push(Sample { pos: body + 2, size: t.size - 2, pts, key: true });
                    }
                }
                "mp3" if t.size > 1 => {
                    if sound.is_none() {
                        let Some(m) = mpeg_audio(w.get(body + 1, 4)?) else {
                            at += t.to_next();
                            continue;
                        };
                        let mut a = Track::empty(Codec::Mp3, m.rate);
                        a.channels = m.channels;
                        sound = Some(a);
                    }
                    if let Some(a) = sound.as_mut().filter(|a| a.codec == Codec::Mp3 && a.samples.len() < MAX_SAMPLES) {
                        let pts = t.time * i64::from(a.rate) / 1000;
                        a.samples.push(Sample { pos: body + 1, size: t.size - 1, pts, key: true });
                    }
                }
                other if audio_left_out.is_none() && sound.is_none() => audio_left_out = Some(other.to_string()),
                _ => {}
            },
            _ => {}
        }
        at += t.to_next();
    }
    if video.samples.is_empty() {
        return Err(RemuxError::Read(ProbeError::Damaged("FLV", "no H.264 frames".into())));
    }
    // Start at the first keyframe.
    let first_key = video.samples.iter().position(|s| s.key).unwrap_or(0);
    video.samples.drain(..first_key);
    if sound.is_some() {
        audio_left_out = None;
    }
    Ok(Demuxed { video, audio: sound.filter(|a| !a.samples.is_empty()), audio_left_out })
}
