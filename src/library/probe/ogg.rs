//! Ogg (Theora, Vorbis, Opus, FLAC): reads the beginning-of-stream pages
//! (`container::ogg`) to learn each stream's codec, then the last page of
//! the file for the final granule position, which gives the duration.

use super::{MediaInfo, ProbeError, Source};
use crate::container::ogg::{last_granule, page};

/// How far back from the end to look for the last page.
const TAIL: u64 = 256 * 1024;

fn damaged(reason: impl Into<String>) -> ProbeError {
    ProbeError::Damaged("Ogg", reason.into())
}

enum Stream {
    Theora { serial: u32, shift: u32, fps: (u32, u32) },
    Audio { serial: u32, rate: u64, preskip: u64 },
}

pub fn probe(src: &(impl Source + ?Sized)) -> Result<MediaInfo, ProbeError> {
    let head = src.read_vec(0, 64 * 1024)?;
    let mut info = MediaInfo { container: "ogg".into(), ..MediaInfo::default() };
    let mut streams = Vec::new();
    let mut at = 0;
    while let Some(p) = head.get(at..).and_then(page) {
        if !p.bos {
            break;
        }
        at += p.len;
        let d = p.data;
        if d.starts_with(b"\x80theora") && info.video_codec.is_none() {
            let w =
                u32::from_be_bytes([0, *d.get(14).unwrap_or(&0), *d.get(15).unwrap_or(&0), *d.get(16).unwrap_or(&0)]);
            let h =
                u32::from_be_bytes([0, *d.get(17).unwrap_or(&0), *d.get(18).unwrap_or(&0), *d.get(19).unwrap_or(&0)]);
            let num = d.get(22..26).map_or(0, |b| u32::from_be_bytes(b.try_into().unwrap_or_default()));
            let den = d.get(26..30).map_or(0, |b| u32::from_be_bytes(b.try_into().unwrap_or_default()));
            let bits = d.get(40..42).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            info.video_codec = Some("theora".into());
            (info.width, info.height) = (Some(w).filter(|&w| w > 0), Some(h).filter(|&h| h > 0));
            streams.push(Stream::Theora { serial: p.serial, shift: u32::from((bits >> 5) & 0x1f), fps: (num, den) });
        } else if d.starts_with(b"\x01vorbis") {
            let rate = d.get(12..16).map_or(0, |b| u32::from_le_bytes(b.try_into().unwrap_or_default()));
            info.audio_codec.get_or_insert_with(|| "vorbis".into());
            streams.push(Stream::Audio { serial: p.serial, rate: u64::from(rate), preskip: 0 });
        } else if d.starts_with(b"OpusHead") {
            let preskip = d.get(10..12).map_or(0, |b| u16::from_le_bytes([b[0], b[1]]));
            info.audio_codec.get_or_insert_with(|| "opus".into());
            streams.push(Stream::Audio { serial: p.serial, rate: 48_000, preskip: u64::from(preskip) });
        } else if d.starts_with(b"\x7fFLAC") {
            // STREAMINFO follows the 13-byte mapping header and a 4-byte block header.
            let rate =
                d.get(27..30).map_or(0, |b| (u32::from(b[0]) << 12) | (u32::from(b[1]) << 4) | (u32::from(b[2]) >> 4));
            info.audio_codec.get_or_insert_with(|| "flac".into());
            streams.push(Stream::Audio { serial: p.serial, rate: u64::from(rate), preskip: 0 });
        }
    }
    if streams.is_empty() {
        return Err(damaged("no stream this server knows (Theora, Vorbis, Opus, FLAC)"));
    }
    let tail_start = src.size().saturating_sub(TAIL);
    let tail = src.read_vec(tail_start, TAIL)?;
    info.duration_ms = streams.iter().find_map(|s| duration_ms(s, &tail));
    Ok(info)
}

/// Duration from the last page of `stream` found in `tail`.
fn duration_ms(stream: &Stream, tail: &[u8]) -> Option<u64> {
    let serial = match stream {
        Stream::Theora { serial, .. } | Stream::Audio { serial, .. } => *serial,
    };
    let granule = last_granule(tail, serial)?;
    match *stream {
        // In u128: a granule position may be any 64-bit value.
        Stream::Audio { rate, preskip, .. } if rate > 0 => {
            u64::try_from(u128::from(granule.saturating_sub(preskip)) * 1000 / u128::from(rate)).ok()
        }
        Stream::Theora { shift, fps: (num, den), .. } if num > 0 && shift < 32 => {
            let frames = u128::from(granule >> shift) + u128::from(granule & ((1u64 << shift) - 1));
            u64::try_from(frames * 1000 * u128::from(den) / u128::from(num)).ok()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {

    fn ogg_page(bos: bool, granule: i64, serial: u32, data: &[u8]) -> Vec<u8> {
        let mut v = b"OggS\0".to_vec();
        v.push(if bos { 2 } else { 0 });
        v.extend_from_slice(&granule.to_le_bytes());
        v.extend_from_slice(&serial.to_le_bytes());
        v.extend_from_slice(&[0; 8]); // sequence number, crc (not checked)
        let mut table = vec![255u8; data.len() / 255];
        table.push((data.len() % 255) as u8);
        v.push(table.len() as u8);
        v.extend_from_slice(&table);
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn reads_opus_duration() {
        let mut head = b"OpusHead\x01\x02".to_vec();
        head.extend_from_slice(&312u16.to_le_bytes());
        head.extend_from_slice(&[0; 9]);
        let file = [
            ogg_page(true, 0, 7, &head),
            ogg_page(false, 0, 7, &[1; 300]),
            ogg_page(false, 48_000 * 3 + 312, 7, &[2; 100]),
        ]
        .concat();
        let info = super::super::probe(&file[..]).unwrap();
        assert_eq!(info.audio_codec.as_deref(), Some("opus"));
        assert_eq!(info.duration_ms, Some(3000));
        for cut in 0..file.len() {
            let _ = super::super::probe(&file[..cut]);
        }
    }
}
