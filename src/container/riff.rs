//! RIFF, as AVI uses it: chunks of a FourCC, a little-endian size and
//! data padded to an even length; `LIST` chunks hold a FourCC and more
//! chunks. `hdrl` holds the main header (`avih`) and a `strl` list per
//! stream (`strh`, `strf`).

/// A chunk: its FourCC, where its data begins, and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub id: [u8; 4],
    pub at: usize,
    pub size: usize,
}

pub fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The chunks one after another in `b` (a cut-off last one is cut to what is there).
pub fn chunks(b: &[u8]) -> impl Iterator<Item = Chunk> + '_ {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let id: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        let size = le_u32(b, at + 4)? as usize;
        let data = at + 8;
        let size = size.min(b.len().saturating_sub(data));
        at = data + size + (size & 1);
        Some(Chunk { id, at: data, size })
    })
}

/// The data of a `LIST` chunk of type `kind` among `b`'s chunks.
pub fn list<'a>(b: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    chunks(b)
        .find(|c| &c.id == b"LIST" && b.get(c.at..c.at + 4) == Some(kind))
        .and_then(|c| b.get(c.at + 4..c.at + c.size))
}

/// The data of the first chunk `id` among `b`'s chunks.
pub fn find<'a>(b: &'a [u8], id: &[u8; 4]) -> Option<&'a [u8]> {
    chunks(b).find(|c| &c.id == id).and_then(|c| b.get(c.at..c.at + c.size))
}

/// A video FourCC (`biCompression`) as a codec's short name.
pub fn video_codec(fourcc: &[u8]) -> String {
    let upper = String::from_utf8_lossy(fourcc).to_ascii_uppercase();
    match upper.trim_end_matches(['\0', ' ']) {
        "H264" | "X264" | "AVC1" | "DAVC" | "V264" => "h264".into(),
        "HEVC" | "H265" | "HVC1" | "HEV1" | "X265" => "hevc".into(),
        "XVID" | "DIVX" | "DX50" | "FMP4" | "MP4V" | "3IV2" | "M4S2" | "DIV4" | "DIV5" | "DIV6" => "mpeg4".into(),
        "DIV3" | "MP43" | "MP42" | "MPG4" => "msmpeg4".into(),
        "MJPG" | "AVRN" | "LJPG" => "mjpeg".into(),
        "MPG2" | "MPEG" | "MPG1" => "mpeg2".into(),
        "WMV1" => "wmv1".into(),
        "WMV2" => "wmv2".into(),
        "WMV3" => "wmv3".into(),
        "WVC1" => "vc1".into(),
        "VP80" => "vp8".into(),
        "VP90" => "vp9".into(),
        "AV01" => "av1".into(),
        "CVID" => "cinepak".into(),
        "" => "rawvideo".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// A `WAVEFORMATEX` format tag as a codec's short name.
pub fn audio_codec(tag: u16) -> &'static str {
    match tag {
        0x0001 => "pcm",
        0x0002 => "adpcm_ms",
        0x0011 => "adpcm_ima",
        0x0050 => "mp2",
        0x0055 => "mp3",
        0x00ff | 0x1610 | 0x706d | 0xa106 => "aac",
        0x0160 => "wmav1",
        0x0161 => "wmav2",
        0x0162 => "wmapro",
        0x0163 => "wmalossless",
        0x2000 => "ac3",
        0x2001 => "dts",
        0x674f | 0x6750 | 0x6751 | 0x676f | 0x6770 | 0x6771 => "vorbis",
        0xf1ac => "flac",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_lists_and_names() {
        let mut b = Vec::new();
        b.extend_from_slice(b"abcd\x03\0\0\0xyz\0");
        b.extend_from_slice(b"LIST\x0c\0\0\0strlstrh\0\0\0\0");
        let all: Vec<Chunk> = chunks(&b).collect();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].at, all[0].size), (8, 3));
        assert_eq!(list(&b, b"strl"), Some(&b"strh\0\0\0\0"[..]));
        assert_eq!(find(&b, b"abcd"), Some(&b"xyz"[..]));
        assert_eq!(chunks(b"ab").count(), 0);
        assert_eq!(video_codec(b"XVID"), "mpeg4");
        assert_eq!(video_codec(b"h264"), "h264");
        assert_eq!(audio_codec(0x55), "mp3");
    }
}
