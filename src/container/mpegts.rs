//! MPEG transport streams: broadcast and recorder `.ts`, and AVCHD and
//! Blu-ray `.m2ts`/`.mts` (each packet led by a 4-byte time code). Packets
//! of 188 bytes, the program tables (PAT, PMT) that name each stream's
//! type, and PES headers with their times (33-bit, 90 kHz, wrapping).

use super::be_u16;

/// Bytes of a transport packet (after M2TS's 4-byte lead).
pub const PACKET: usize = 188;
/// One wrap of a 33-bit time.
pub const WRAP: i64 = 1 << 33;

/// How packets lie in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layout {
    /// 188, or 192 with a lead.
    pub stride: u16,
    /// Bytes before each packet's sync byte (0, or 4 in M2TS).
    pub lead: u16,
    /// Where the first packet (its lead included) begins.
    pub first: u64,
}

impl Layout {
    /// The start of the packet holding or following `pos`.
    pub fn align(&self, pos: u64) -> u64 {
        let stride = u64::from(self.stride);
        if pos <= self.first {
            return self.first;
        }
        self.first + (pos - self.first).div_ceil(stride) * stride
    }
}

/// Finds the packet layout in the first bytes: a sync byte (0x47) at the
/// same place in five packets in a row.
pub fn sniff(head: &[u8]) -> Option<Layout> {
    for (stride, lead) in [(188usize, 0usize), (192, 4)] {
        for first in 0..stride.min(head.len()) {
            let synced = (0..5).all(|k| head.get(first + lead + k * stride) == Some(&0x47));
            if synced {
                return Some(Layout { stride: stride as u16, lead: lead as u16, first: first as u64 });
            }
        }
    }
    None
}

/// One packet's header and payload.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    pub pid: u16,
    /// The payload starts a PES packet or a section.
    pub start: bool,
    /// The adaptation field marks a random access point.
    pub random_access: bool,
    pub payload: &'a [u8],
}

/// The packet in `b` (188 bytes from its sync byte); `None` when it is
/// not one (lost sync, or an error flagged).
pub fn packet(b: &[u8]) -> Option<Packet<'_>> {
    let b = b.get(..PACKET)?;
    if b[0] != 0x47 || b[1] & 0x80 != 0 {
        return None;
    }
    let pid = be_u16(b, 1)? & 0x1fff;
    let start = b[1] & 0x40 != 0;
    let control = (b[3] >> 4) & 3;
    let mut at = 4;
    let mut random_access = false;
    if control & 2 != 0 {
        let len = usize::from(b[4]);
        if len > 0 {
            random_access = b[5] & 0x40 != 0;
        }
        at = 5 + len;
    }
    let payload = if control & 1 != 0 { b.get(at..).unwrap_or(&[]) } else { &[] };
    Some(Packet { pid, start, random_access, payload })
}

/// The codec of private data whose descriptors do not name one: its
/// first bytes will (`library::probe::ts::streams`).
pub const PRIVATE: &str = "private";

/// What a stream holds, by its PMT entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stream {
    pub pid: u16,
    /// The codec's short name (`h264`, `aac`, `ac3`…); MPEG audio is
    /// `mp3` until a frame says which layer.
    pub codec: &'static str,
    pub video: bool,
}

fn codec_of(stream_type: u8, descriptors: &[u8]) -> Option<(&'static str, bool)> {
    Some(match stream_type {
        0x01 => ("mpeg1video", true),
        0x02 => ("mpeg2", true),
        0x10 => ("mpeg4", true),
        0x1b => ("h264", true),
        0x24 => ("hevc", true),
        0xea => ("vc1", true),
        0x03 | 0x04 => ("mp3", false),
        0x0f => ("aac", false),
        0x11 => ("aac_latm", false),
        0x80 => ("pcm_bluray", false),
        0x81 => ("ac3", false),
        0x82 | 0x85 | 0x86 => ("dts", false),
        0x83 => ("truehd", false),
        0x84 | 0x87 | 0xa1 => ("eac3", false),
        0x06 => {
            // Private data: what its descriptors say (DVB and registrations).
            let mut at = 0;
            while let (Some(&tag), Some(&len)) = (descriptors.get(at), descriptors.get(at + 1)) {
                let body = descriptors.get(at + 2..at + 2 + usize::from(len)).unwrap_or(&[]);
                match (tag, body) {
                    (0x6a, _) | (0x05, b"AC-3") => return Some(("ac3", false)),
                    (0x7a, _) | (0x05, b"EAC3") => return Some(("eac3", false)),
                    (0x7b, _) | (0x05, b"DTS1" | b"DTS2" | b"DTS3") => return Some(("dts", false)),
                    (0x05, b"HEVC") => return Some(("hevc", true)),
                    (0x05, b"Opus") => return Some(("opus", false)),
                    _ => {}
                }
                at += 2 + usize::from(len);
            }
            // Subtitles, teletext, VBI: not sound; otherwise its bytes say.
            let mut at = 0;
            while let (Some(&tag), Some(&len)) = (descriptors.get(at), descriptors.get(at + 1)) {
                if matches!(tag, 0x45 | 0x46 | 0x56 | 0x59) {
                    return None;
                }
                at += 2 + usize::from(len);
            }
            return Some((PRIVATE, false));
        }
        _ => return None,
    })
}

/// A section's body (after its pointer field), checked for length.
fn section(payload: &[u8]) -> Option<&[u8]> {
    let pointer = usize::from(*payload.first()?);
    let s = payload.get(1 + pointer..)?;
    let len = usize::from(be_u16(s, 1)? & 0x0fff);
    // table_id, length, then the body up to the CRC.
    s.get(3..(3 + len).checked_sub(4)?)
}

/// The PMT PIDs a PAT names (program 0, the network PID, left out).
pub fn pat(payload: &[u8]) -> Vec<u16> {
    let Some(s) = section(payload).filter(|_| payload.get(1 + usize::from(payload[0])) == Some(&0)) else {
        return Vec::new();
    };
    s.get(5..)
        .unwrap_or(&[])
        .chunks_exact(4)
        .filter(|e| be_u16(e, 0) != Some(0))
        .filter_map(|e| be_u16(e, 2).map(|p| p & 0x1fff))
        .collect()
}

/// The streams a PMT lists, in its order (those this module does not
/// know left out).
pub fn pmt(payload: &[u8]) -> Vec<Stream> {
    let Some(s) = section(payload).filter(|_| payload.get(1 + usize::from(payload[0])) == Some(&2)) else {
        return Vec::new();
    };
    let info = usize::from(be_u16(s, 7).unwrap_or(0) & 0x0fff);
    let mut at = 9 + info;
    let mut out = Vec::new();
    while let (Some(&stream_type), Some(pid), Some(len)) = (s.get(at), be_u16(s, at + 1), be_u16(s, at + 3)) {
        let len = usize::from(len & 0x0fff);
        let descriptors = s.get(at + 5..at + 5 + len).unwrap_or(&[]);
        if let Some((codec, video)) = codec_of(stream_type, descriptors) {
            out.push(Stream { pid: pid & 0x1fff, codec, video });
        }
        at += 5 + len;
    }
    out
}

/// A PES packet's header: its times and where its data begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pes {
    pub pts: Option<i64>,
    pub dts: Option<i64>,
    /// Bytes of the header: the stream's data follows.
    pub header: usize,
}

/// A 33-bit time as PES headers (and MPEG-1 packs) write it: 5 bytes with marker bits.
pub fn time(b: &[u8]) -> Option<i64> {
    let b = b.get(..5)?;
    let t = (u64::from(b[0] >> 1) & 7) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1);
    Some(t as i64)
}

/// The PES header at the start of `payload` (MPEG-2 form).
pub fn pes(payload: &[u8]) -> Option<Pes> {
    if payload.get(..3)? != [0, 0, 1] {
        return None;
    }
    let id = *payload.get(3)?;
    // Streams without the optional header: padding, private 2, ECM/EMM…
    if matches!(id, 0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xff | 0xf2 | 0xf8) {
        return Some(Pes { pts: None, dts: None, header: 6 });
    }
    let flags = *payload.get(7)?;
    let header = 9 + usize::from(*payload.get(8)?);
    let pts = if flags & 0x80 != 0 { time(payload.get(9..)?) } else { None };
    let dts = if flags & 0xc0 == 0xc0 { time(payload.get(14..)?) } else { None };
    Some(Pes { pts, dts, header: header.min(payload.len()) })
}

/// `t` (33-bit) brought next to `near`, across a wrap of the clock.
pub fn unwrap(t: i64, near: i64) -> i64 {
    let base = near - near.rem_euclid(WRAP);
    [base - WRAP, base, base + WRAP].into_iter().map(|b| b + t).min_by_key(|c| (c - near).abs()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_times_and_tables() {
        let mut ts = vec![0u8; 188 * 6];
        for k in 0..6 {
            ts[k * 188] = 0x47;
        }
        assert_eq!(sniff(&ts), Some(Layout { stride: 188, lead: 0, first: 0 }));
        let mut m2ts = vec![0u8; 192 * 6];
        for k in 0..6 {
            m2ts[k * 192 + 4] = 0x47;
        }
        assert_eq!(sniff(&m2ts), Some(Layout { stride: 192, lead: 4, first: 0 }));
        assert_eq!(sniff(b"not a stream at all"), None);
        let l = Layout { stride: 192, lead: 4, first: 10 };
        assert_eq!((l.align(0), l.align(10), l.align(11), l.align(202)), (10, 10, 202, 202));

        assert_eq!(unwrap(5, WRAP - 10), WRAP + 5);
        assert_eq!(unwrap(WRAP - 10, 5), -10);
        assert_eq!(unwrap(1000, 900), 1000);
        // PTS 90000 (one second).
        let p = pes(&[0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21, 0x00, 0x05, 0xbf, 0x21]).unwrap();
        assert_eq!((p.pts, p.dts, p.header), (Some(90_000), None, 14));
        assert_eq!(pes(&[0, 0, 1]), None);
        assert!(pat(&[]).is_empty() && pmt(&[0, 2]).is_empty());
    }
}
