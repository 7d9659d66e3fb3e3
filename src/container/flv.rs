//! Flash video (`.flv`): a 9-byte header, then tags (audio 8, video 9,
//! script 18), each an 11-byte header, its data and the 4-byte size of
//! the tag before. H.264 and HEVC frames are stored length-prefixed and
//! AAC raw, so a frame is one range of the file. `onMetaData` is AMF0.

use super::{be_u16, be_u32};

/// Bytes of a tag's header.
pub const TAG_HEADER: u64 = 11;

pub fn sniff(head: &[u8]) -> bool {
    head.starts_with(b"FLV\x01")
}

/// Where the first tag begins.
pub fn first_tag(head: &[u8]) -> Option<u64> {
    // The header's own size, then PreviousTagSize0.
    Some(u64::from(be_u32(head, 5)?) + 4)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub kind: u8,
    /// Bytes of data after the header.
    pub size: u32,
    /// Milliseconds.
    pub time: i64,
}

impl Tag {
    /// From the tag's start to the next one's (with the size after it).
    pub fn to_next(&self) -> u64 {
        TAG_HEADER + u64::from(self.size) + 4
    }
}

pub fn tag(h: &[u8]) -> Option<Tag> {
    let h = h.get(..TAG_HEADER as usize)?;
    let kind = h[0] & 0x1f;
    let size = u32::from_be_bytes([0, h[1], h[2], h[3]]);
    let time = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
    Some(Tag { kind, size, time: i64::from(time) })
}

/// The video codec of a video tag's first byte.
pub fn video_codec(first: u8) -> &'static str {
    if first & 0x80 != 0 {
        return "hevc"; // enhanced RTMP: a FourCC follows; HEVC is the one in use
    }
    match first & 0x0f {
        2 => "h263",
        3 => "flashsv",
        4 | 5 => "vp6",
        6 => "flashsv2",
        7 => "h264",
        12 => "hevc",
        _ => "other",
    }
}

/// The audio codec of an audio tag's first byte.
pub fn audio_codec(first: u8) -> &'static str {
    match first >> 4 {
        0 | 3 => "pcm",
        1 => "adpcm_swf",
        2 | 14 => "mp3",
        4..=6 => "nellymoser",
        7 => "pcm_alaw",
        8 => "pcm_mulaw",
        10 => "aac",
        11 => "speex",
        _ => "other",
    }
}

/// The numbers `onMetaData` gives at its top level (`duration` in
/// seconds, `width`, `height`…), from a script tag's data.
pub fn metadata(data: &[u8]) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    // A string "onMetaData", then an ECMA array or an object.
    let Some(name_len) = be_u16(data, 1).filter(|_| data.first() == Some(&2)) else { return out };
    let mut at = 3 + usize::from(name_len);
    if data.get(3..at) != Some(b"onMetaData") {
        return out;
    }
    match data.get(at) {
        Some(8) => at += 5,
        Some(3) => at += 1,
        _ => return out,
    }
    while let Some(len) = be_u16(data, at) {
        let key = data.get(at + 2..at + 2 + usize::from(len));
        at += 2 + usize::from(len);
        let (Some(key), Some(&kind)) = (key, data.get(at)) else { break };
        if kind == 9 {
            break; // end of object
        }
        if kind == 0 {
            if let Some(b) = data.get(at + 1..at + 9) {
                let n = f64::from_be_bytes(b.try_into().unwrap_or_default());
                out.push((String::from_utf8_lossy(key).into_owned(), n));
            }
        }
        match skip(data, at, 0) {
            Some(next) => at = next,
            None => break,
        }
        if out.len() > 64 {
            break;
        }
    }
    out
}

/// Where the AMF0 value at `at` ends (nesting bounded).
fn skip(d: &[u8], at: usize, depth: u32) -> Option<usize> {
    if depth > 8 {
        return None;
    }
    Some(match *d.get(at)? {
        0 => at + 9,
        1 => at + 2,
        2 => at + 3 + usize::from(be_u16(d, at + 1)?),
        12 => at + 5 + be_u32(d, at + 1)? as usize,
        5 | 6 => at + 1,
        11 => at + 11,
        3 | 8 => {
            let mut at = at + if d[at] == 8 { 5 } else { 1 };
            loop {
                let len = usize::from(be_u16(d, at)?);
                at += 2 + len;
                if *d.get(at)? == 9 {
                    break at + 1;
                }
                at = skip(d, at, depth + 1)?;
            }
        }
        10 => {
            let n = be_u32(d, at + 1)?.min(1 << 16);
            let mut at = at + 5;
            for _ in 0..n {
                at = skip(d, at, depth + 1)?;
            }
            at
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_metadata() {
        let t = tag(&[9, 0, 1, 0, 0, 0, 40, 1, 0, 0, 0]).unwrap();
        assert_eq!((t.kind, t.size, t.time), (9, 256, 16_777_256));
        assert_eq!(t.to_next(), 11 + 256 + 4);
        let mut d = vec![2, 0, 10];
        d.extend_from_slice(b"onMetaData");
        d.extend_from_slice(&[8, 0, 0, 0, 2]);
        d.extend_from_slice(&[0, 8]);
        d.extend_from_slice(b"duration");
        d.push(0);
        d.extend_from_slice(&12.5f64.to_be_bytes());
        d.extend_from_slice(&[0, 7]);
        d.extend_from_slice(b"encoder");
        d.extend_from_slice(&[2, 0, 3]);
        d.extend_from_slice(b"abc");
        d.extend_from_slice(&[0, 5]);
        d.extend_from_slice(b"width");
        d.push(0);
        d.extend_from_slice(&640f64.to_be_bytes());
        d.extend_from_slice(&[0, 0, 9]);
        assert_eq!(metadata(&d), [("duration".to_string(), 12.5), ("width".to_string(), 640.0)]);
        assert!(metadata(&d[..20]).is_empty());
        assert_eq!(video_codec(0x17), "h264");
        assert_eq!(audio_codec(0xaf), "aac");
    }
}
