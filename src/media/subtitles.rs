//! Subtitles beside a video: `name.srt`, `name.vtt`, `name.LANG.srt`,
//! `name.LANG.forced.srt`, `.ass`/`.ssa`, in UTF-8 (with or without BOM),
//! UTF-16 (BOM) or a legacy 8-bit encoding (Windows-1252, which covers
//! Latin-1); converted to WebVTT in pure Rust when asked for. Cue text is
//! made safe: only `<b>`, `<i>` and `<u>` stay markup, anything else is
//! text.

use std::path::{Path, PathBuf};

use crate::catalog::Located;
use crate::library::roots::Roots;

/// Most subtitle files listed for one video.
const MAX_TRACKS: usize = 32;
/// Largest subtitle file read.
pub const MAX_BYTES: u64 = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Srt,
    Vtt,
    Ass,
}

/// One subtitle file beside a video.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Below the video's root.
    pub rel: PathBuf,
    pub root: usize,
    pub format: Format,
    /// From the name (`name.fr.srt`), when it says.
    pub language: Option<String>,
    pub forced: bool,
}

impl Track {
    pub fn label(&self) -> String {
        let mut label = match &self.language {
            Some(l) => crate::container::text::language_name(l).map_or_else(|| l.clone(), String::from),
            None => "Subtitles".to_string(),
        };
        if self.forced {
            label.push_str(" (forced)");
        }
        label
    }
}

fn format_of(ext: &str) -> Option<Format> {
    match ext.to_ascii_lowercase().as_str() {
        "srt" => Some(Format::Srt),
        "vtt" => Some(Format::Vtt),
        "ass" | "ssa" => Some(Format::Ass),
        _ => None,
    }
}

/// What the part between the video's name and the extension says:
/// `fr`, `pt-BR`, `en.forced`, `forced`, `sdh`….
fn parse_tags(middle: &str) -> (Option<String>, bool) {
    let mut language = None;
    let mut forced = false;
    for part in middle.split('.').filter(|p| !p.is_empty()) {
        let lower = part.to_ascii_lowercase();
        if lower == "forced" {
            forced = true;
        } else if language.is_none()
            && (2..=8).contains(&part.len())
            && part.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
            && !matches!(lower.as_str(), "sdh" | "cc" | "hi" | "default")
        {
            language = Some(part.to_string());
        }
    }
    (language, forced)
}

/// Most subtitle files of one folder listed at once (`in_folder`).
const MAX_IN_FOLDER: usize = 20_000;

/// What a file name says as a subtitle of the video named `stem`: its
/// format, language and whether it is forced.
fn track_of(stem: &str, name: &str) -> Option<(Format, (Option<String>, bool))> {
    let rest = name.strip_prefix(stem)?.strip_prefix('.')?;
    let (middle, ext) = match rest.rsplit_once('.') {
        Some((m, ext)) => (m, ext),
        None => ("", rest),
    };
    Some((format_of(ext)?, parse_tags(middle)))
}

/// The subtitle files beside `video` (in its folder, named after it), in
/// name order. Blocking: reads the folder.
pub fn beside(video: &Located, roots: &Roots) -> Vec<Track> {
    let dir = video.rel.parent().unwrap_or(Path::new(""));
    let Some(stem) = video.rel.file_stem().and_then(|s| s.to_str()) else { return Vec::new() };
    let is_track = |name: &std::ffi::OsStr| name.to_str().is_some_and(|n| track_of(stem, n).is_some());
    let Ok(names) = roots.names_in(video.root, dir, is_track, MAX_TRACKS) else { return Vec::new() };
    beside_among(video, &names)
}

/// Every subtitle file of folder `dir` below root `root` (at most
/// `MAX_IN_FOLDER`), for `beside_among`: one listing for many videos of
/// one folder. Blocking: reads the folder.
pub fn in_folder(roots: &Roots, root: usize, dir: &Path) -> Vec<std::ffi::OsString> {
    let is_subtitle = |name: &std::ffi::OsStr| {
        name.to_str().and_then(|n| n.rsplit_once('.')).is_some_and(|(_, ext)| format_of(ext).is_some())
    };
    roots.names_in(root, dir, is_subtitle, MAX_IN_FOLDER).unwrap_or_default()
}

/// `video`'s subtitle files among `names` (file names in its folder), in
/// name order, at most `MAX_TRACKS`.
pub fn beside_among(video: &Located, names: &[std::ffi::OsString]) -> Vec<Track> {
    let dir = video.rel.parent().unwrap_or(Path::new(""));
    let Some(stem) = video.rel.file_stem().and_then(|s| s.to_str()) else { return Vec::new() };
    let mut out: Vec<Track> = names
        .iter()
        .filter_map(|name| {
            let name = name.to_str()?;
            let (format, (language, forced)) = track_of(stem, name)?;
            Some(Track { rel: dir.join(name), root: video.root, format, language, forced })
        })
        .collect();
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.truncate(MAX_TRACKS);
    out
}

/// A track as WebVTT. Blocking: opens the file beneath its root.
pub fn read_vtt(track: &Track, roots: &Roots) -> std::io::Result<String> {
    let o = roots.open(track.root, &track.rel, None)?;
    if o.size > MAX_BYTES {
        return Err(std::io::Error::other("the subtitle file is larger than 4 MiB"));
    }
    let bytes = crate::container::Source::read_vec(&o.content, 0, MAX_BYTES)?;
    Ok(to_vtt(&decode(&bytes), track.format))
}

pub use crate::container::text::decode;

/// Converts decoded subtitle text to WebVTT.
pub fn to_vtt(text: &str, format: Format) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    match format {
        Format::Srt | Format::Vtt => blocks(&text),
        Format::Ass => ass(&text),
    }
}

/// `00:01:02,345` or `00:01:02.345` (hours optional) in milliseconds.
fn time(t: &str) -> Option<u64> {
    let t = t.trim().replace(',', ".");
    let (clock, frac) = t.split_once('.').unwrap_or((&t, "0"));
    let parts: Vec<u64> = clock.split(':').map(|p| p.trim().parse().ok()).collect::<Option<_>>()?;
    let (h, m, s) = match parts.as_slice() {
        [h, m, s] => (*h, *m, *s),
        [m, s] => (0, *m, *s),
        _ => return None,
    };
    let frac: String = frac.chars().take_while(char::is_ascii_digit).take(3).collect();
    let ms = format!("{frac:0<3}").parse::<u64>().ok()?;
    Some(((h * 60 + m) * 60 + s) * 1000 + ms)
}

fn stamp(ms: u64) -> String {
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}

/// WebVTT as this module writes it (`to_vtt`, a track taken from inside
/// a file) as SubRip, for players that read only that (DLNA televisions):
/// cues numbered, times with a comma, the text's escapes undone.
pub fn vtt_to_srt(vtt: &str) -> String {
    let mut out = String::new();
    let mut n = 0;
    for block in vtt.replace("\r\n", "\n").split("\n\n") {
        let mut lines = block.lines().skip_while(|l| !l.contains("-->"));
        let Some(times) = lines.next() else { continue };
        let Some((a, b)) = times.split_once("-->") else { continue };
        let b = b.split_whitespace().next().unwrap_or("");
        let (Some(start), Some(end)) = (time(a), time(b)) else { continue };
        let text: Vec<String> = lines
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
            .collect();
        if text.is_empty() {
            continue;
        }
        n += 1;
        let srt = |ms: u64| stamp(ms).replace('.', ",");
        out.push_str(&format!("{n}\n{} --> {}\n{}\n\n", srt(start), srt(end), text.join("\n")));
    }
    out
}

/// Cue text made safe: `<b>`, `<i>`, `<u>` (and their ends) stay, every
/// other `<`, `&` and `>` becomes text; no line is left empty (a blank line
/// would end the cue).
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            let kept = ["<b>", "</b>", "<i>", "</i>", "<u>", "</u>"]
                .into_iter()
                .find(|t| rest.as_bytes().get(..t.len()).is_some_and(|b| b.eq_ignore_ascii_case(t.as_bytes())));
            if let Some(t) = kept {
                out.push_str(&t.to_ascii_lowercase());
                rest = &rest[t.len()..];
                continue;
            }
            out.push_str("&lt;");
        } else if c == '&' {
            out.push_str("&amp;");
        } else if c == '>' {
            out.push_str("&gt;");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n")
}

pub(crate) fn cue(out: &mut String, start: u64, end: u64, text: &str) {
    let text = clean(text);
    if text.is_empty() || end <= start {
        return;
    }
    out.push_str(&format!("{} --> {}\n{text}\n\n", stamp(start), stamp(end)));
}

/// SubRip and WebVTT: blocks of a time line (cue numbers, ids, position
/// hints, styles and notes dropped) and text.
fn blocks(text: &str) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for block in text.split("\n\n") {
        let mut lines = block.lines().skip_while(|l| !l.contains("-->"));
        let Some(times) = lines.next() else { continue };
        let Some((a, b)) = times.split_once("-->") else { continue };
        let b = b.split_whitespace().next().unwrap_or("");
        let (Some(start), Some(end)) = (time(a), time(b)) else { continue };
        let body: Vec<&str> = lines.collect();
        cue(&mut out, start, end, &body.join("\n"));
    }
    out
}

/// Advanced SubStation: the `Dialogue:` lines of `[Events]`, by their
/// `Format:` (override tags like `{\i1}` dropped, `\N` a new line).
fn ass(text: &str) -> String {
    let mut out = String::from("WEBVTT\n\n");
    let mut fields: Vec<String> =
        ["layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let mut cues: Vec<(u64, u64, String)> = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("Format:") {
            fields = f.split(',').map(|s| s.trim().to_ascii_lowercase()).collect();
        } else if let Some(d) = line.strip_prefix("Dialogue:") {
            let parts: Vec<&str> = d.splitn(fields.len(), ',').collect();
            let at = |name: &str| fields.iter().position(|f| f == name).and_then(|i| parts.get(i)).copied();
            let (Some(a), Some(b), Some(t)) = (at("start"), at("end"), at("text")) else { continue };
            let (Some(start), Some(end)) = (time(a), time(b)) else { continue };
            cues.push((start, end, ass_text(t)));
        }
    }
    cues.sort_by_key(|c| c.0);
    for (start, end, t) in cues {
        cue(&mut out, start, end, &t);
    }
    out
}

/// A SubStation event's text as plain text: override tags like `{\i1}`
/// dropped, `\N` a new line.
pub(crate) fn ass_text(t: &str) -> String {
    let mut plain = String::new();
    let mut depth = 0;
    for c in t.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    plain.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
}

#[cfg(test)]
mod tests {

    #[test]
    fn webvtt_back_to_subrip() {
        let vtt = to_vtt("1\n00:00:01,000 --> 00:00:02,500\nTom & <i>Jerry</i> <3\n\n2\n00:01:00,000 --> 01:00:00,001\nSecond\nline\n", Format::Srt);
        assert_eq!(
            vtt_to_srt(&vtt),
            "1\n00:00:01,000 --> 00:00:02,500\nTom & <i>Jerry</i> <3\n\n2\n00:01:00,000 --> 01:00:00,001\nSecond\nline\n\n"
        );
        assert_eq!(vtt_to_srt("WEBVTT\n\nNOTE nothing\n\n"), "");
        assert_eq!(vtt_to_srt("garbage --> more\ntext"), "");
    }

    use super::*;

    #[test]
    fn srt_in_latin1_becomes_safe_webvtt() {
        let bytes = b"1\r\n00:00:01,000 --> 00:00:02,500 X1:10\r\nCaf\xe9 <i>cr\xe8me</i>\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n<script>alert(1)</script> & <font color=red>x</font>\r\n";
        let vtt = to_vtt(&decode(bytes), Format::Srt);
        assert_eq!(
            vtt,
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nCafé <i>crème</i>\n\n00:00:03.000 --> 00:00:04.000\n&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;font color=red&gt;x&lt;/font&gt;\n\n"
        );
    }

    #[test]
    fn markup_next_to_wide_characters() {
        assert_eq!(clean("‹€ <i>中</i> <中"), "‹€ <i>中</i> &lt;中");
    }

    #[test]
    fn utf16_and_bom_are_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "1\n00:00:00,000 --> 00:00:01,000\nÅsa\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert!(to_vtt(&decode(&bytes), Format::Srt).contains("Åsa"));
        assert_eq!(decode(b"\xEF\xBB\xBFhi"), "hi");
    }

    #[test]
    fn ass_dialogue_lines() {
        let ass_text = "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:02.00,0:00:03.50,Default,,0,0,0,,{\\i1}Hello{\\i0}, you\\Nthere\n";
        assert_eq!(to_vtt(ass_text, Format::Ass), "WEBVTT\n\n00:00:02.000 --> 00:00:03.500\nHello, you\nthere\n\n");
    }

    #[test]
    fn names_say_language_and_forced() {
        assert_eq!(parse_tags("fr"), (Some("fr".into()), false));
        assert_eq!(parse_tags("pt-BR.forced"), (Some("pt-BR".into()), true));
        assert_eq!(parse_tags("sdh"), (None, false));
        assert_eq!(parse_tags(""), (None, false));
    }
}
