//! ISO BMFF (MP4, M4V, MOV): walks the top-level boxes to find `moov` and
//! whether it follows `mdat`, then reads `mvhd`, and each track's `tkhd`,
//! `hdlr` and first `stsd` entry.

use super::{be_u16, be_u32, be_u64, MediaInfo, Name, ProbeError, Source};

/// `moov` larger than this is refused (real ones are a few MiB at most).
const MAX_MOOV: u64 = 64 * 1024 * 1024;
/// Top-level boxes looked at before giving up.
const MAX_TOP_BOXES: usize = 4096;

const KNOWN_TOP: [&[u8; 4]; 9] = [b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid", b"styp"];

pub fn sniff(head: &[u8]) -> bool {
    head.get(4..8).is_some_and(|t| KNOWN_TOP.iter().any(|k| &k[..] == t))
}

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("MP4", reason.into())
}

/// What the top level of the file says: the brand, the index, and where
/// the index is.
pub(crate) struct TopLevel {
    pub brand: Option<[u8; 4]>,
    pub moov: Vec<u8>,
    pub index_at_end: bool,
}

pub(crate) fn top_level(src: &(impl Source + ?Sized)) -> Result<TopLevel, ProbeError> {
    let len = src.size();
    let mut pos = 0u64;
    let mut brand = None;
    let mut moov = None;
    let mut seen_mdat = false;
    let mut index_at_end = false;
    for _ in 0..MAX_TOP_BOXES {
        // Offsets near u64::MAX (a box that claims to be huge) end the walk.
        if pos.checked_add(8).is_none_or(|end| end > len) {
            break;
        }
        let hdr = src.read_vec(pos, 16)?;
        let size32 = be_u32(&hdr, 0).ok_or_else(|| damaged("short box header"))?;
        // The file may shrink while it is read: a short header is damage.
        let kind: [u8; 4] = hdr.get(4..8).and_then(|k| k.try_into().ok()).ok_or_else(|| damaged("short box header"))?;
        let (size, header_len) = match size32 {
            0 => (len - pos, 8),
            1 => (be_u64(&hdr, 8).ok_or_else(|| damaged("short box header"))?, 16),
            n => (u64::from(n), 8),
        };
        if size < header_len {
            return Err(damaged(format!("box '{}' has a bad size", String::from_utf8_lossy(&kind))));
        }
        match &kind {
            b"ftyp" => brand = src.read_vec(pos + 8, 4)?.try_into().ok(),
            b"mdat" => seen_mdat = true,
            b"moov" => {
                if size > MAX_MOOV || pos.checked_add(size).is_none_or(|end| end > len) {
                    return Err(damaged("the index (moov) is cut short"));
                }
                index_at_end = seen_mdat;
                moov = Some(src.read_vec(pos + header_len, size - header_len)?);
            }
            _ => {}
        }
        pos = pos.saturating_add(size);
    }
    let moov = moov.ok_or_else(|| damaged("no index (moov box): the file is truncated or still being written"))?;
    Ok(TopLevel { brand, moov, index_at_end })
}

/// Cover art stored in the file (`moov/udta/meta/ilst/covr`), if any.
pub fn cover(src: &(impl Source + ?Sized)) -> Option<Vec<u8>> {
    let top = top_level(src).ok()?;
    let meta = child(child(&top.moov, b"udta")?, b"meta")?;
    // `meta` is a full box: version and flags come before its children.
    let ilst = child(meta.get(4..)?, b"ilst")?;
    let data = child(child(ilst, b"covr")?, b"data")?;
    // `data`: a type (13 JPEG, 14 PNG) and a locale, then the picture.
    Some(data.get(8..)?.to_vec()).filter(|d| !d.is_empty())
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let TopLevel { brand, moov, index_at_end } = top_level(src)?;
    let container = match brand.as_ref().map(|b: &[u8; 4]| &b[..]) {
        Some(b"qt  ") => "mov",
        _ => "mp4",
    };
    let mut info = MediaInfo { container: container.into(), index_at_end, ..MediaInfo::default() };
    for (kind, body) in boxes(&moov) {
        match kind {
            b"mvhd" => info.duration_ms = mvhd_duration(body),
            b"trak" => read_track(body, &mut info),
            _ => {}
        }
    }
    if info.video_codec.is_none() && info.audio_codec.is_none() {
        return Err(damaged("no audio or video track"));
    }
    Ok(info)
}

/// Iterates the child boxes of a box body, stopping at the first bad size.
pub(crate) fn boxes(mut body: &[u8]) -> impl Iterator<Item = (&[u8; 4], &[u8])> {
    std::iter::from_fn(move || {
        let size = be_u32(body, 0)? as usize;
        let kind: &[u8; 4] = body.get(4..8)?.try_into().ok()?;
        let (start, size) = match size {
            0 => (8, body.len()),
            1 => (16, usize::try_from(be_u64(body, 8)?).ok()?),
            n => (8, n),
        };
        if size < start || size > body.len() {
            return None;
        }
        let child = &body[start..size];
        body = &body[size..];
        Some((kind, child))
    })
}

pub(crate) fn child<'a>(body: &'a [u8], want: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(body).find(|(k, _)| *k == want).map(|(_, b)| b)
}

fn mvhd_duration(b: &[u8]) -> Option<u64> {
    let (scale, dur) = match b.first()? {
        1 => (be_u32(b, 20)?, be_u64(b, 24)?),
        _ => (be_u32(b, 12)?, u64::from(be_u32(b, 16)?)),
    };
    if scale == 0 || dur == u64::MAX || (b[0] == 0 && dur == u64::from(u32::MAX)) {
        return None;
    }
    u64::try_from(u128::from(dur) * 1000 / u128::from(scale)).ok()
}

fn read_track(trak: &[u8], info: &mut MediaInfo) {
    let Some(mdia) = child(trak, b"mdia") else { return };
    let handler = child(mdia, b"hdlr").and_then(|h| h.get(8..12));
    let entry =
        child(mdia, b"minf").and_then(|m| child(m, b"stbl")).and_then(|s| child(s, b"stsd")).and_then(|s| s.get(8..));
    let Some(entry) = entry else { return };
    let Some(fourcc) = entry.get(4..8) else { return };
    match handler {
        Some(b"vide") if info.video_codec.is_none() => {
            info.video_codec = Some(video_codec(fourcc));
            let (w, h) = (be_u16(entry, 32), be_u16(entry, 34));
            info.width = w.map(u32::from).filter(|&w| w > 0);
            info.height = h.map(u32::from).filter(|&h| h > 0);
        }
        Some(b"soun") if info.audio_codec.is_none() => info.audio_codec = Some(audio_codec(fourcc)),
        _ => {}
    }
}

fn video_codec(fourcc: &[u8]) -> Name {
    match fourcc {
        b"avc1" | b"avc3" => "h264".into(),
        b"hvc1" | b"hev1" => "hevc".into(),
        b"av01" => "av1".into(),
        b"vp08" => "vp8".into(),
        b"vp09" => "vp9".into(),
        b"mp4v" => "mpeg4".into(),
        b"jpeg" | b"mjpa" | b"mjpb" => "mjpeg".into(),
        b"apch" | b"apcn" | b"apcs" | b"apco" | b"ap4h" => "prores".into(),
        other => fourcc_name(other),
    }
}

pub(crate) fn audio_codec(fourcc: &[u8]) -> Name {
    match fourcc {
        b"mp4a" => "aac".into(),
        b"Opus" => "opus".into(),
        b"fLaC" => "flac".into(),
        b"ac-3" => "ac3".into(),
        b"ec-3" => "eac3".into(),
        b".mp3" => "mp3".into(),
        b"alac" => "alac".into(),
        b"lpcm" | b"sowt" | b"twos" => "pcm".into(),
        other => fourcc_name(other),
    }
}

fn fourcc_name(b: &[u8]) -> Name {
    Name::new(&String::from_utf8_lossy(b).trim().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::super::{probe, synth::mp4_file};

    #[test]
    fn reads_a_faststart_file() {
        let info = probe(&mp4_file(&[0x55; 1000], false)[..]).unwrap();
        assert_eq!(info.container, "mp4");
        assert_eq!(info.duration_ms, Some(12_345));
        assert_eq!((info.width, info.height), (Some(640), Some(360)));
        assert_eq!(info.video_codec.as_deref(), Some("h264"));
        assert_eq!(info.audio_codec.as_deref(), Some("aac"));
        assert!(info.browser_playable);
        assert!(!info.index_at_end);
    }

    #[test]
    fn flags_index_at_end() {
        let info = probe(&mp4_file(&[0x55; 1000], true)[..]).unwrap();
        assert!(info.index_at_end);
        assert_eq!(info.duration_ms, Some(12_345));
    }

    #[test]
    fn truncation_is_an_error_not_a_panic() {
        let full = mp4_file(&[0x55; 1000], true);
        for cut in [9, 20, 100, full.len() - 50, full.len() - 1] {
            assert!(probe(&full[..cut]).is_err(), "cut at {cut}");
        }
        let full = mp4_file(&[0x55; 1000], false);
        for cut in 0..full.len() {
            let _ = probe(&full[..cut]); // must not panic
        }
    }
}
