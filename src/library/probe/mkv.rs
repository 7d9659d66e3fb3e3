//! Matroska and WebM: reads the EBML header's DocType, then the Segment's
//! `Info` (timestamp scale, duration) and `Tracks` (codec ids, pixel size),
//! skipping everything else by size, and stopping as soon as both are read
//! (or at a Cluster of unknown size). Also finds cover art among the
//! attachments (`cover`).

use super::{MediaInfo, Name, ProbeError, Source};
use crate::container::ebml::*;

/// Largest Attachments element read looking for a cover.
const MAX_ATTACHMENTS: u64 = 32 * 1024 * 1024;

/// Largest Info or Tracks element read into memory.
const MAX_ELEMENT: u64 = 16 * 1024 * 1024;
/// Segment children looked at before giving up.
const MAX_CHILDREN: usize = 100_000;

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("Matroska", reason.into())
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let len = src.size();
    let head = src.read_vec(0, 64)?;
    let ebml = header(&head).filter(|h| h.id == EBML).ok_or_else(|| damaged("bad EBML header"))?;
    let ebml_size = ebml.size.ok_or_else(|| damaged("bad EBML header size"))?;
    let ebml_body = src.read_vec(ebml.len, ebml_size.min(4096))?;
    let doc_type = children(&ebml_body)
        .find(|(id, _)| *id == DOC_TYPE)
        .map(|(_, d)| String::from_utf8_lossy(d).trim_end_matches('\0').to_string())
        .unwrap_or_else(|| "matroska".into());
    let container = if doc_type == "webm" { "webm" } else { "mkv" };

    let seg_pos = ebml.len + ebml_size;
    let seg = header(&src.read_vec(seg_pos, 16)?)
        .filter(|h| h.id == SEGMENT)
        .ok_or_else(|| damaged("no Segment after the header"))?;
    // A Segment cut short is still listed: what it holds plays, remuxed
    // up to where it ends (`media::remux`), and its length is what plays.
    let declared_end = seg.size.map(|s| seg_pos.saturating_add(seg.len).saturating_add(s));
    let cut = declared_end.is_some_and(|end| end > len);
    let seg_end = declared_end.map_or(len, |end| end.min(len));

    let mut info = MediaInfo { container: container.into(), ..MediaInfo::default() };
    let (mut have_info, mut have_tracks) = (false, false);
    // Nanoseconds a tick (the Info's TimestampScale; 1 ms when unsaid).
    let mut scale = 1_000_000;
    let mut pos = seg_pos.saturating_add(seg.len);
    for _ in 0..MAX_CHILDREN {
        if pos >= seg_end || (have_info && have_tracks) {
            break;
        }
        let Some(h) = header(&src.read_vec(pos, 16)?) else { break };
        let data_pos = pos.saturating_add(h.len);
        match (h.id, h.size) {
            (INFO | TRACKS, Some(size))
                if size <= MAX_ELEMENT && data_pos.checked_add(size).is_some_and(|end| end <= len) =>
            {
                let body = src.read_vec(data_pos, size)?;
                if h.id == INFO {
                    scale = read_info(&body, &mut info);
                    have_info = true;
                } else {
                    read_tracks(&body, &mut info);
                    have_tracks = true;
                }
            }
            (INFO | TRACKS, _) => return Err(damaged("a header element is cut short")),
            (CLUSTER, None) | (_, None) => break,
            _ => {}
        }
        pos = data_pos.saturating_add(h.size.unwrap_or(0));
    }
    if !have_tracks || (info.video_codec.is_none() && info.audio_codec.is_none()) {
        return Err(damaged("no track list"));
    }
    if cut {
        let last = last_cluster_ms(src, scale)?;
        info.duration_ms = match (info.duration_ms, last) {
            (Some(d), Some(l)) => Some(d.min(l)),
            (_, l) => l,
        };
    }
    Ok(info)
}

/// For a Matroska or WebM file that ends before its Segment says:
/// `Some((bytes present, bytes declared))`.
pub fn cut_short(src: &(impl Source + ?Sized)) -> Option<(u64, u64)> {
    let head = src.read_vec(0, 64).ok()?;
    let ebml = header(&head).filter(|h| h.id == EBML)?;
    let seg_pos = ebml.len.checked_add(ebml.size?)?;
    let seg = header(&src.read_vec(seg_pos, 16).ok()?).filter(|h| h.id == SEGMENT)?;
    let declared = seg_pos.saturating_add(seg.len).saturating_add(seg.size?);
    (declared > src.size()).then_some((src.size(), declared))
}

/// A cluster's Timestamp, when its body (`b`) opens with one, after at
/// most a CRC-32 and a Void element.
fn cluster_timestamp(b: &[u8]) -> Option<u64> {
    const CRC32: u32 = 0xBF;
    const VOID: u32 = 0xEC;
    let mut at = 0usize;
    for _ in 0..3 {
        let h = header(b.get(at..)?)?;
        let size = usize::try_from(h.size?).ok()?;
        let data = at.checked_add(h.len as usize)?;
        match h.id {
            CLUSTER_TIMESTAMP if (1..=8).contains(&size) => return uint(b.get(data..data + size)?),
            CRC32 | VOID if size <= 64 => at = data + size,
            _ => return None,
        }
    }
    None
}

/// How much of a cut file's tail is searched for its last cluster.
const TAIL: u64 = 4 * 1024 * 1024;

/// The time of the last cluster that starts in the file's last `TAIL`
/// bytes, in milliseconds: where a file cut short stops playing. A
/// candidate counts only when it opens with a plausible cluster Timestamp
/// (frame data can hold the id's bytes by chance).
fn last_cluster_ms(src: &(impl Source + ?Sized), scale: u64) -> Result<Option<u64>, ProbeError> {
    let len = src.size();
    let start = len.saturating_sub(TAIL);
    let tail = src.read_vec(start, TAIL)?;
    let id = CLUSTER.to_be_bytes();
    let mut at = tail.len();
    while let Some(found) = memchr::memmem::rfind(&tail[..at], &id) {
        at = found;
        let Some(h) = header(&tail[found..]) else { continue };
        if h.id != CLUSTER {
            continue;
        }
        if let Some(ticks) = cluster_timestamp(&tail[found + h.len as usize..]) {
            return Ok(Some(u64::try_from(u128::from(ticks) * u128::from(scale) / 1_000_000).unwrap_or(u64::MAX)));
        }
    }
    Ok(None)
}

/// A picture attached to the file (a cover), if any: the first image,
/// preferring one named `cover*`. Looks before the first Cluster only,
/// where muxers put attachments.
pub fn cover(src: &(impl Source + ?Sized)) -> Option<Vec<u8>> {
    let head = src.read_vec(0, 64).ok()?;
    let ebml = header(&head).filter(|h| h.id == EBML)?;
    let seg_pos = ebml.len + ebml.size?;
    let seg = header(&src.read_vec(seg_pos, 16).ok()?).filter(|h| h.id == SEGMENT)?;
    let len = src.size();
    let seg_end = seg.size.map_or(len, |s| seg_pos.saturating_add(seg.len).saturating_add(s).min(len));
    let mut pos = seg_pos.saturating_add(seg.len);
    for _ in 0..MAX_CHILDREN {
        if pos >= seg_end {
            return None;
        }
        let h = header(&src.read_vec(pos, 16).ok()?)?;
        let size = h.size?;
        let data_pos = pos.saturating_add(h.len);
        match h.id {
            CLUSTER => return None,
            ATTACHMENTS if size <= MAX_ATTACHMENTS && data_pos.checked_add(size).is_some_and(|end| end <= len) => {
                let body = src.read_vec(data_pos, size).ok()?;
                let mut images: Vec<(bool, &[u8])> = children(&body)
                    .filter(|(id, _)| *id == ATTACHED_FILE)
                    .filter_map(|(_, file)| {
                        let (mut name, mut mime, mut data) = ("".to_string(), "".to_string(), None);
                        for (id, d) in children(file) {
                            match id {
                                FILE_NAME => name = String::from_utf8_lossy(d).to_lowercase(),
                                FILE_MIME => mime = String::from_utf8_lossy(d).to_lowercase(),
                                FILE_DATA => data = Some(d),
                                _ => {}
                            }
                        }
                        mime.starts_with("image/").then_some((name.starts_with("cover"), data?))
                    })
                    .collect();
                images.sort_by_key(|(is_cover, _)| !is_cover);
                return images.first().map(|(_, d)| d.to_vec());
            }
            _ => {}
        }
        pos = data_pos.saturating_add(size);
    }
    None
}

/// Reads the Info's duration into `info`; returns its TimestampScale.
fn read_info(body: &[u8], info: &mut MediaInfo) -> u64 {
    let mut scale = 1_000_000u64;
    let mut duration = None;
    for (id, data) in children(body) {
        match id {
            TIMESTAMP_SCALE => scale = uint(data).filter(|&s| s > 0).unwrap_or(scale),
            DURATION => duration = float(data),
            // Nanoseconds since 2001-01-01 UTC, signed.
            DATE_UTC if data.len() == 8 => {
                const FROM_2001: i64 = 978_307_200;
                let ns = i64::from_be_bytes(data.try_into().unwrap_or_default());
                info.taken = super::taken_if_plausible(ns.div_euclid(1_000_000_000) + FROM_2001);
            }
            _ => {}
        }
    }
    // Duration counts `scale` nanoseconds per tick.
    info.duration_ms =
        duration.filter(|d| d.is_finite() && *d >= 0.0).map(|d| (d * scale as f64 / 1_000_000.0).round() as u64);
    scale
}

fn read_tracks(body: &[u8], info: &mut MediaInfo) {
    for (_, entry) in children(body).filter(|(id, _)| *id == TRACK_ENTRY) {
        let (mut kind, mut codec, mut size) = (0, String::new(), (None, None));
        for (id, data) in children(entry) {
            match id {
                TRACK_TYPE => kind = uint(data).unwrap_or(0),
                CODEC_ID => codec = String::from_utf8_lossy(data).trim_end_matches('\0').to_string(),
                VIDEO => {
                    for (id, d) in children(data) {
                        match id {
                            PIXEL_WIDTH => size.0 = uint(d).map(|v| v as u32),
                            PIXEL_HEIGHT => size.1 = uint(d).map(|v| v as u32),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        match kind {
            1 if info.video_codec.is_none() => {
                info.video_codec = Some(codec_name(&codec));
                (info.width, info.height) = size;
            }
            2 if info.audio_codec.is_none() => info.audio_codec = Some(codec_name(&codec)),
            _ => {}
        }
    }
}

pub(crate) fn codec_name(id: &str) -> Name {
    match id {
        "V_VP8" => "vp8",
        "V_VP9" => "vp9",
        "V_AV1" => "av1",
        "V_MPEG4/ISO/AVC" => "h264",
        "V_MPEGH/ISO/HEVC" => "hevc",
        "V_THEORA" => "theora",
        "A_OPUS" => "opus",
        "A_VORBIS" => "vorbis",
        "A_AAC" => "aac",
        "A_FLAC" => "flac",
        "A_MPEG/L3" => "mp3",
        "A_AC3" => "ac3",
        "A_EAC3" => "eac3",
        "A_DTS" => "dts",
        other => {
            return Name::new(&other.trim_start_matches(['V', 'A', 'S']).trim_start_matches('_').to_ascii_lowercase())
        }
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(id: u32, body: &[u8]) -> Vec<u8> {
        let id_bytes: Vec<u8> = id.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        let mut v = id_bytes;
        v.push(0x01); // 8-byte size vint: marker, then 7 bytes
        v.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
        v.extend_from_slice(body);
        v
    }

    fn tiny_webm() -> Vec<u8> {
        let header = el(EBML, &el(DOC_TYPE, b"webm"));
        let info =
            el(INFO, &[el(TIMESTAMP_SCALE, &[0x0F, 0x42, 0x40]), el(DURATION, &5123.0f64.to_be_bytes())].concat());
        let video = el(VIDEO, &[el(PIXEL_WIDTH, &[0x01, 0x40]), el(PIXEL_HEIGHT, &[0xF0])].concat());
        let vtrack = el(TRACK_ENTRY, &[el(TRACK_TYPE, &[1]), el(CODEC_ID, b"V_VP9"), video].concat());
        let atrack = el(TRACK_ENTRY, &[el(TRACK_TYPE, &[2]), el(CODEC_ID, b"A_OPUS")].concat());
        let tracks = el(TRACKS, &[vtrack, atrack].concat());
        let cluster = el(CLUSTER, &[0u8; 500]);
        [header, el(SEGMENT, &[info, tracks, cluster].concat())].concat()
    }

    #[test]
    fn reads_a_webm_file() {
        let info = super::super::probe(&tiny_webm()[..]).unwrap();
        assert_eq!(info.container, "webm");
        assert_eq!(info.duration_ms, Some(5123));
        assert_eq!((info.width, info.height), (Some(320), Some(240)));
        assert_eq!(info.video_codec.as_deref(), Some("vp9"));
        assert_eq!(info.audio_codec.as_deref(), Some("opus"));
        assert!(info.browser_playable);
    }

    #[test]
    fn truncation_never_panics() {
        let full = tiny_webm();
        for cut in 0..full.len() {
            let _ = super::super::probe(&full[..cut]);
        }
        assert!(super::super::probe(&full[..40]).is_err());
        // Cut in its clusters: still a video (what is there plays).
        assert!(super::super::probe(&full[..full.len() - 100]).is_ok());
    }
}
