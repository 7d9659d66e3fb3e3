//! What is inside a video file besides its main picture and sound:
//! chapters, the audio tracks, and text subtitle tracks (Matroska
//! `S_TEXT/UTF8`, `S_TEXT/ASS`, `S_TEXT/WEBVTT`; MP4 `tx3g`/mov_text),
//! read in pure Rust. `describe` reads only the headers (cheap);
//! `text_cues` reads the cues of the text tracks, which in Matroska means
//! one pass over the whole file: `cache::Inside` keeps both in the data
//! dir so that pass happens once per file.
//!
//! Every size read from the file is bounded (`MAX_*`): a fake or damaged
//! file gives an error or fewer cues, never a panic or a huge allocation.

pub mod cache;
mod mkv;
pub use mkv::TextCollector;
mod mp4;

use serde::{Deserialize, Serialize};

use crate::container::isobmff::sniff;
use crate::container::{ProbeError, Source};
use crate::media::subtitles;

/// Most tracks of each kind listed.
const MAX_TRACKS: usize = 32;
/// Most chapters listed.
const MAX_CHAPTERS: usize = 1000;
/// Most cues read from one text track.
const MAX_CUES: usize = 50_000;
/// Largest single cue (a block or sample) read.
const MAX_CUE_BYTES: u64 = 64 * 1024;
/// Most text kept from all of a file's text tracks.
const MAX_TEXT_BYTES: usize = 16 << 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Described {
    pub chapters: Vec<Chapter>,
    pub audio: Vec<AudioTrack>,
    pub text: Vec<TextTrack>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chapter {
    pub start_ms: u64,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioTrack {
    pub language: Option<String>,
    pub name: Option<String>,
    pub codec: String,
    pub default: bool,
}

impl AudioTrack {
    /// Whether every current browser decodes this codec.
    pub fn browser_plays(&self) -> bool {
        crate::library::probe::sound_plays(Some(&self.codec))
    }
}

/// A text track's cue format, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextCodec {
    /// SubRip-style text (`S_TEXT/UTF8`).
    Plain,
    /// SubStation event lines (`S_TEXT/ASS`, `S_TEXT/SSA`).
    Ass,
    /// WebVTT cue text (`S_TEXT/WEBVTT`).
    Vtt,
    /// WebM's WebVTT (`D_WEBVTT/*`): a cue id line, a settings line, then the text.
    #[serde(rename = "webm_vtt")]
    WebmVtt,
    /// MP4 timed text (`tx3g`, QuickTime `text`).
    Tx3g,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextTrack {
    /// The container's own number for it (Matroska track number, MP4 track id).
    pub number: u64,
    pub language: Option<String>,
    pub name: Option<String>,
    pub codec: TextCodec,
    pub forced: bool,
    pub default: bool,
}

impl TextTrack {
    pub fn label(&self) -> String {
        let mut label = label_of(&self.name, &self.language, "Subtitles");
        if self.forced && !label.to_ascii_lowercase().contains("forced") {
            label.push_str(" (forced)");
        }
        label
    }
}

/// A track's name if it has one, else its language, else `fallback`.
pub fn label_of(name: &Option<String>, language: &Option<String>, fallback: &str) -> String {
    match (name, language) {
        (Some(n), _) if !n.trim().is_empty() => n.trim().to_string(),
        (_, Some(l)) => crate::container::text::language_name(l).map_or_else(|| l.clone(), String::from),
        _ => fallback.to_string(),
    }
}

/// One cue of a text track, as stored (not yet made safe).
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
}

fn container(src: &(impl Source + ?Sized)) -> Result<Kind, ProbeError> {
    let head = src.read_vec(0, 12)?;
    if sniff(&head) {
        Ok(Kind::Mp4)
    } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Ok(Kind::Mkv)
    } else {
        Ok(Kind::Other)
    }
}

enum Kind {
    Mp4,
    Mkv,
    Other,
}

/// Chapters, audio tracks and text tracks, from the headers only.
pub fn describe(src: &(impl Source + ?Sized)) -> Result<Described, ProbeError> {
    match container(src)? {
        Kind::Mp4 => mp4::describe(src),
        Kind::Mkv => mkv::describe(src),
        Kind::Other => Ok(Described::default()),
    }
}

/// The cues of each of `described.text`'s tracks, in order.
pub fn text_cues(src: &(impl Source + ?Sized), described: &Described) -> Result<Vec<Vec<Cue>>, ProbeError> {
    if described.text.is_empty() {
        return Ok(Vec::new());
    }
    match container(src)? {
        Kind::Mp4 => mp4::text_cues(src, &described.text),
        Kind::Mkv => mkv::text_cues(src, &described.text),
        Kind::Other => Ok(Vec::new()),
    }
}

/// A text track's cues as safe WebVTT (only `<b>`, `<i>`, `<u>` stay markup).
pub fn to_vtt(codec: TextCodec, cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    let mut sorted: Vec<&Cue> = cues.iter().collect();
    sorted.sort_by_key(|c| c.start_ms);
    for c in sorted {
        let text = match codec {
            TextCodec::Plain | TextCodec::Vtt | TextCodec::Tx3g => c.text.clone(),
            TextCodec::WebmVtt => c.text.splitn(3, '\n').nth(2).unwrap_or("").to_string(),
            // `ReadOrder, Layer, Style, Name, MarginL, MarginR, MarginV, Effect, Text`.
            TextCodec::Ass => subtitles::ass_text(c.text.splitn(9, ',').last().unwrap_or("")),
        };
        subtitles::cue(&mut out, c.start_ms, c.end_ms, &text);
    }
    out
}

/// Ends cues that the container left open at the next cue's start (or a
/// few seconds later for the last one).
fn close_open_ends(cues: &mut [Cue]) {
    cues.sort_by_key(|c| c.start_ms);
    for i in 0..cues.len() {
        if cues[i].end_ms <= cues[i].start_ms {
            let next = cues.get(i + 1).map(|n| n.start_ms).filter(|&n| n > cues[i].start_ms);
            let start = cues[i].start_ms;
            cues[i].end_ms = next.unwrap_or(start.saturating_add(5000)).min(start.saturating_add(10_000));
        }
    }
}
