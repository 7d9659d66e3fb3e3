//! ISO BMFF (MP4, M4V, MOV): walks the top-level boxes to find `moov` and
//! whether it follows `mdat`, then reads `mvhd`, and each track's `tkhd`,
//! `hdlr` and first `stsd` entry.

use super::{MediaInfo, Name, ProbeError, Source};
use crate::container::isobmff::{boxes, child, top_level, TopLevel};
use crate::container::{be_u16, be_u32, be_u64};

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("MP4", reason.into())
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

/// A file shorter than its own header says: an interrupted copy or download.
fn cut_short(len: u64, end: u64) -> ProbeError {
    ProbeError::Damaged(
        "MP4",
        format!(
            "cut short: the file has {len} bytes and its media runs to byte {end} (an interrupted copy or download?)"
        ),
    )
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let TopLevel { brand, moov, index_at_end, cut_short: media_end } = top_level(src)?;
    if let Some(end) = media_end {
        return Err(cut_short(src.size(), end));
    }
    let container = match brand.as_ref().map(|b: &[u8; 4]| &b[..]) {
        Some(b"qt  ") => "mov",
        Some([b'3', b'g', ..]) => "3gp",
        _ => "mp4",
    };
    let mut info = MediaInfo { container: container.into(), index_at_end, ..MediaInfo::default() };
    for (kind, body) in boxes(&moov) {
        match kind {
            b"mvhd" => {
                info.duration_ms = mvhd_duration(body);
                info.taken = mvhd_created(body);
            }
            b"trak" => read_track(body, &mut info),
            _ => {}
        }
    }
    if info.video_codec.is_none() && info.audio_codec.is_none() {
        return Err(damaged("no audio or video track"));
    }
    Ok(info)
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

/// The movie's creation time (seconds since 1904, in UTC as cameras and
/// phones write it), when it is set and plausible.
fn mvhd_created(b: &[u8]) -> Option<std::num::NonZeroU32> {
    const FROM_1904: i64 = 2_082_844_800;
    let secs = match b.first()? {
        1 => i64::try_from(be_u64(b, 4)?).ok()?,
        _ => i64::from(be_u32(b, 4)?),
    };
    super::taken_if_plausible(secs - FROM_1904)
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
        b"s263" | b"h263" => "h263".into(),
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
        b"samr" => "amr_nb".into(),
        b"sawb" => "amr_wb".into(),
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
        // Index first, media data cut: listed as broken, not as a video
        // that freezes when played.
        let e = probe(&full[..full.len() - 100]).unwrap_err();
        assert!(e.to_string().contains("cut short"), "{e}");
    }
}
