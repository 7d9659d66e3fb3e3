//! Elementary streams as transport streams, AVI and FLV carry them:
//! H.264 and HEVC NAL units in Annex B (start codes), their sequence
//! parameter sets (picture size, bit depth), AAC in ADTS frames and MPEG
//! audio frames. Every reader bounds-checks and answers `None` on
//! malformed input.

/// Reads bits most significant first, with Exp-Golomb codes.
pub struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Bits { bytes, at: 0 }
    }

    pub fn bit(&mut self) -> Option<u32> {
        let byte = *self.bytes.get(self.at / 8)?;
        let b = (byte >> (7 - self.at % 8)) & 1;
        self.at += 1;
        Some(u32::from(b))
    }

    pub fn bits(&mut self, n: u32) -> Option<u32> {
        (0..n).try_fold(0u32, |v, _| Some((v << 1) | self.bit()?))
    }

    pub fn skip(&mut self, n: usize) -> Option<()> {
        self.at += n;
        (self.at <= self.bytes.len() * 8).then_some(())
    }

    /// Unsigned Exp-Golomb (`ue(v)`), at most 31 leading zeros.
    pub fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// Signed Exp-Golomb (`se(v)`).
    pub fn se(&mut self) -> Option<i32> {
        let k = self.ue()?;
        let magnitude = k.div_ceil(2) as i32;
        Some(if k % 2 == 1 { magnitude } else { -magnitude })
    }
}

/// A NAL unit's payload without its emulation-prevention bytes (`00 00 03`).
pub fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// The NAL units of an Annex B stream: the bytes between start codes
/// (`00 00 01`, or `00 00 00 01`), without trailing zero bytes.
pub fn nal_units(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = find_start(b, 0).map(|(_, end)| end);
    std::iter::from_fn(move || {
        let from = at?;
        let (end, next) = match find_start(b, from) {
            Some((start, next)) => (start, Some(next)),
            None => (b.len(), None),
        };
        at = next;
        let mut nal = &b[from..end];
        while let [rest @ .., 0] = nal {
            nal = rest;
        }
        Some(nal)
    })
    .filter(|n| !n.is_empty())
}

/// The next start code at or after `from`: where it begins and where the
/// unit after it begins.
fn find_start(b: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while i + 3 <= b.len() {
        match b[i + 2] {
            1 if b[i] == 0 && b[i + 1] == 0 => return Some((i, i + 3)),
            0 => i += 1,
            _ => i += 3,
        }
    }
    None
}

/// How an Annex B access unit comes out length-prefixed (4 bytes per
/// unit), access unit delimiters and filler left out: the units kept.
pub fn kept_units(b: &[u8], hevc: bool) -> impl Iterator<Item = &[u8]> {
    nal_units(b).filter(move |n| {
        let t = nal_type(n, hevc);
        if hevc {
            t != 35 && t != 38 // AUD, filler
        } else {
            t != 9 && t != 12
        }
    })
}

/// The length of `kept_units` written with 4-byte lengths.
pub fn length_prefixed_len(b: &[u8], hevc: bool) -> usize {
    kept_units(b, hevc).map(|n| 4 + n.len()).sum()
}

/// Appends an Annex B access unit to `out` with 4-byte lengths.
pub fn length_prefixed(b: &[u8], hevc: bool, out: &mut Vec<u8>) {
    for n in kept_units(b, hevc) {
        out.extend_from_slice(&(n.len() as u32).to_be_bytes());
        out.extend_from_slice(n);
    }
}

pub fn nal_type(nal: &[u8], hevc: bool) -> u8 {
    let first = nal.first().copied().unwrap_or(0);
    if hevc {
        (first >> 1) & 0x3f
    } else {
        first & 0x1f
    }
}

/// Whether an access unit can be decoded without earlier ones: an IDR
/// (H.264), or an IRAP picture (HEVC: BLA, IDR, CRA).
pub fn is_key(au: &[u8], hevc: bool) -> bool {
    nal_units(au).any(|n| {
        let t = nal_type(n, hevc);
        if hevc {
            (16..=21).contains(&t)
        } else {
            t == 5
        }
    })
}

/// What a sequence parameter set says of the pictures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    /// Bits per luma sample (8, 10…).
    pub depth: u32,
}

/// An H.264 SPS (the NAL unit, header byte included).
pub fn h264_sps(nal: &[u8]) -> Option<Picture> {
    h264_sps_order(nal).map(|(p, _)| p)
}

/// What an H.264 SPS says of how slice headers give pictures' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub separate_planes: bool,
    pub frame_num_bits: u32,
    /// `pic_order_cnt_type`: 0 counts in slice headers, 2 decode order.
    pub poc_type: u32,
    pub poc_lsb_bits: u32,
    pub frame_mbs_only: bool,
}

/// `h264_sps`, with the picture order's parameters.
pub fn h264_sps_order(nal: &[u8]) -> Option<(Picture, Order)> {
    let rbsp = unescape(nal.get(1..)?);
    let mut r = Bits::new(&rbsp);
    let profile = r.bits(8)?;
    r.skip(16)?; // constraint flags, level
    r.ue()?; // seq_parameter_set_id
    let (mut chroma, mut depth, mut separate_planes) = (1, 8, false);
    if matches!(profile, 100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135) {
        chroma = r.ue()?;
        if chroma == 3 {
            separate_planes = r.bit()? == 1;
        }
        depth = 8 + r.ue()?.min(8);
        r.ue()?; // bit_depth_chroma_minus8
        r.bit()?; // qpprime_y_zero_transform_bypass_flag
        if r.bit()? == 1 {
            for i in 0..if chroma == 3 { 12 } else { 8 } {
                if r.bit()? == 1 {
                    // scaling_list: delta_scale until the next scale is 0.
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i32, 8i32);
                    for _ in 0..size {
                        if next != 0 {
                            next = (last + r.se()?.clamp(-128, 127) + 256) % 256;
                        }
                        last = if next == 0 { last } else { next };
                    }
                }
            }
        }
    }
    let frame_num_bits = r.ue()?.min(12) + 4;
    let poc_type = r.ue()?;
    let mut poc_lsb_bits = 0;
    match poc_type {
        0 => {
            poc_lsb_bits = r.ue()?.min(12) + 4;
        }
        1 => {
            r.bit()?;
            r.se()?;
            r.se()?;
            for _ in 0..r.ue()?.min(255) {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps_in_frame_num_value_allowed_flag
    let w_mbs = r.ue()?.min(1 << 12) + 1;
    let h_units = r.ue()?.min(1 << 12) + 1;
    let frame_mbs_only = r.bit()?;
    if frame_mbs_only == 0 {
        r.bit()?; // mb_adaptive_frame_field_flag
    }
    r.bit()?; // direct_8x8_inference_flag
    let mut width = w_mbs * 16;
    let mut height = (2 - frame_mbs_only) * h_units * 16;
    if r.bit()? == 1 {
        let (l, rt, t, b) = (r.ue()?.min(1 << 16), r.ue()?.min(1 << 16), r.ue()?.min(1 << 16), r.ue()?.min(1 << 16));
        let (cx, cy) = match chroma {
            0 | 3 => (1, 2 - frame_mbs_only),
            2 => (2, 2 - frame_mbs_only),
            _ => (2, 2 * (2 - frame_mbs_only)),
        };
        width = width.saturating_sub(cx * (l + rt));
        height = height.saturating_sub(cy * (t + b));
    }
    let order = Order { separate_planes, frame_num_bits, poc_type, poc_lsb_bits, frame_mbs_only: frame_mbs_only == 1 };
    Some((Picture { width, height, depth }, order))
}

/// Whether an H.264 PPS says slice headers of frames carry a bottom
/// field's order too (`bottom_field_pic_order_in_frame_present_flag`).
pub fn h264_pps_bottom_order(nal: &[u8]) -> Option<bool> {
    let rbsp = unescape(nal.get(1..)?);
    let mut r = Bits::new(&rbsp);
    r.ue()?; // pic_parameter_set_id
    r.ue()?; // seq_parameter_set_id
    r.bit()?; // entropy_coding_mode_flag
    Some(r.bit()? == 1)
}

/// A slice's kind and picture order count's low bits (`pic_order_cnt_lsb`,
/// 0 unless `order.poc_type` is 0), from its header (the NAL unit, header
/// byte included). Kinds: 0 P, 1 B, 2 I, 3 SP, 4 SI.
pub fn h264_slice_order(nal: &[u8], order: &Order) -> Option<(u32, u32)> {
    let head = unescape(nal.get(1..nal.len().min(64))?);
    let mut r = Bits::new(&head);
    r.ue()?; // first_mb_in_slice
    let kind = r.ue()? % 5;
    r.ue()?; // pic_parameter_set_id
    if order.separate_planes {
        r.bits(2)?;
    }
    r.bits(order.frame_num_bits)?;
    if !order.frame_mbs_only && r.bit()? == 1 {
        r.bit()?; // bottom_field_flag
    }
    if nal_type(nal, false) == 5 {
        r.ue()?; // idr_pic_id
    }
    let lsb = if order.poc_type == 0 { r.bits(order.poc_lsb_bits)? } else { 0 };
    Some((kind, lsb))
}

/// An HEVC SPS (the NAL unit, two header bytes included).
pub fn hevc_sps(nal: &[u8]) -> Option<Picture> {
    let rbsp = unescape(nal.get(2..)?);
    let mut r = Bits::new(&rbsp);
    r.skip(4)?; // sps_video_parameter_set_id
    let sub_layers = r.bits(3)? as usize;
    r.skip(1)?;
    r.skip(96)?; // general profile, tier and level
    let mut present = Vec::with_capacity(sub_layers);
    for _ in 0..sub_layers {
        present.push((r.bit()?, r.bit()?));
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers))?;
    }
    for (profile, level) in present {
        r.skip(88 * profile as usize + 8 * level as usize)?;
    }
    r.ue()?; // sps_seq_parameter_set_id
    let chroma = r.ue()?;
    if chroma == 3 {
        r.bit()?;
    }
    let mut width = r.ue()?.min(1 << 16);
    let mut height = r.ue()?.min(1 << 16);
    if r.bit()? == 1 {
        let (l, rt, t, b) = (r.ue()?.min(1 << 16), r.ue()?.min(1 << 16), r.ue()?.min(1 << 16), r.ue()?.min(1 << 16));
        let (cx, cy) = match chroma {
            1 => (2, 2),
            2 => (2, 1),
            _ => (1, 1),
        };
        width = width.saturating_sub(cx * (l + rt));
        height = height.saturating_sub(cy * (t + b));
    }
    let depth = 8 + r.ue()?.min(8);
    Some(Picture { width, height, depth })
}

/// The picture of the first SPS in an Annex B stream.
pub fn picture_in(b: &[u8], hevc: bool) -> Option<Picture> {
    nal_units(b).find(|n| nal_type(n, hevc) == if hevc { 33 } else { 7 }).and_then(|n| {
        if hevc {
            hevc_sps(n)
        } else {
            h264_sps(n)
        }
    })
}

/// An `avcC` from the first SPS and PPS of an Annex B stream.
pub fn avcc(b: &[u8]) -> Option<Vec<u8>> {
    let sps = nal_units(b).find(|n| nal_type(n, false) == 7)?;
    let pps = nal_units(b).find(|n| nal_type(n, false) == 8)?;
    let mut out = vec![1, *sps.get(1)?, *sps.get(2)?, *sps.get(3)?, 0xff, 0xe1];
    out.extend_from_slice(&u16::try_from(sps.len()).ok()?.to_be_bytes());
    out.extend_from_slice(sps);
    out.push(1);
    out.extend_from_slice(&u16::try_from(pps.len()).ok()?.to_be_bytes());
    out.extend_from_slice(pps);
    Some(out)
}

/// An `hvcC` from the first VPS, SPS and PPS of an Annex B stream: the
/// general profile, tier and level copied from the SPS.
pub fn hvcc(b: &[u8]) -> Option<Vec<u8>> {
    let find = |t: u8| nal_units(b).find(|n| nal_type(n, true) == t);
    let (vps, sps, pps) = (find(32)?, find(33)?, find(34)?);
    let rbsp = unescape(sps.get(2..)?);
    let ptl = rbsp.get(1..13)?; // profile space, tier, idc; compatibility flags; constraints; level
    let depth = hevc_sps(sps).map_or(8, |p| p.depth);
    let mut out = vec![1];
    out.extend_from_slice(&ptl[..11]);
    out.extend_from_slice(&ptl[11..12]);
    out.extend_from_slice(&[0xf0, 0x00, 0xfc, 0xfd]); // no segmentation; parallelism; 4:2:0
    out.push(0xf8 | (depth.saturating_sub(8) as u8 & 7));
    out.push(0xf8 | (depth.saturating_sub(8) as u8 & 7));
    out.extend_from_slice(&[0, 0, 0x0f, 3]); // frame rate unknown; 4-byte lengths; 3 arrays
    for (t, nal) in [(32u8, vps), (33, sps), (34, pps)] {
        out.extend_from_slice(&[0x80 | t, 0, 1]);
        out.extend_from_slice(&u16::try_from(nal.len()).ok()?.to_be_bytes());
        out.extend_from_slice(nal);
    }
    Some(out)
}

/// An ADTS frame header: its length (header included), the header's own
/// length, and the AudioSpecificConfig it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adts {
    pub frame: usize,
    pub header: usize,
    /// Raw data blocks in the frame after the first (rare: an MP4 sample
    /// is one block, so such a stream cannot be kept as it is).
    pub more_blocks: u8,
    pub rate: u32,
    pub channels: u16,
    pub config: [u8; 2],
}

const AAC_RATES: [u32; 13] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

pub fn adts(b: &[u8]) -> Option<Adts> {
    let h = b.get(..7)?;
    if h[0] != 0xff || h[1] & 0xf6 != 0xf0 {
        return None;
    }
    let header = if h[1] & 1 == 0 { 9 } else { 7 };
    let object = ((h[2] >> 6) & 3) + 1;
    let rate_index = (h[2] >> 2) & 0x0f;
    let channels = ((h[2] & 1) << 2) | (h[3] >> 6);
    let frame = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
    let rate = *AAC_RATES.get(usize::from(rate_index))?;
    if frame <= header {
        return None;
    }
    let config = [(object << 3) | (rate_index >> 1), ((rate_index & 1) << 7) | (channels << 3)];
    Some(Adts { frame, header, more_blocks: h[6] & 3, rate, channels: u16::from(channels.max(1)), config })
}

/// The sample rate an AudioSpecificConfig gives.
pub fn aac_rate(config: &[u8]) -> Option<u32> {
    let mut r = Bits::new(config);
    if r.bits(5)? == 31 {
        r.bits(6)?;
    }
    match r.bits(4)? {
        15 => r.bits(24).filter(|&rate| rate > 0),
        i => AAC_RATES.get(i as usize).copied(),
    }
}

/// The channels an AudioSpecificConfig gives (2 when it does not say).
pub fn aac_channels(config: &[u8]) -> u16 {
    let mut r = Bits::new(config);
    let channels = (|| {
        if r.bits(5)? == 31 {
            r.bits(6)?;
        }
        if r.bits(4)? == 15 {
            r.bits(24)?;
        }
        r.bits(4)
    })();
    match channels {
        Some(c @ 1..=6) => c as u16,
        Some(7) => 8,
        _ => 2,
    }
}

/// An MPEG audio frame header: layer (1–3), rate, channels, frame length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpegAudio {
    pub layer: u8,
    pub rate: u32,
    pub channels: u16,
    pub frame: usize,
}

pub fn mpeg_audio(b: &[u8]) -> Option<MpegAudio> {
    let h = b.get(..4)?;
    if h[0] != 0xff || h[1] & 0xe0 != 0xe0 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 0: 2.5, 2: 2, 3: 1
    let layer = match (h[1] >> 1) & 3 {
        1 => 3,
        2 => 2,
        3 => 1,
        _ => return None,
    };
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 3);
    if version == 1 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    let base = [44100, 48000, 32000][rate_index];
    let rate = match version {
        3 => base,
        2 => base / 2,
        _ => base / 4,
    };
    const V1: [[u32; 15]; 3] = [
        [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
        [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    ];
    const V2: [[u32; 15]; 2] = [
        [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let kbps = if version == 3 {
        V1[usize::from(layer - 1)][bitrate_index]
    } else {
        V2[usize::from(layer > 1)][bitrate_index]
    };
    let padding = usize::from((h[2] >> 1) & 1);
    let bps = kbps as usize * 1000;
    let frame = match layer {
        1 => (12 * bps / rate as usize + padding) * 4,
        3 if version != 3 => 72 * bps / rate as usize + padding,
        _ => 144 * bps / rate as usize + padding,
    };
    let channels = if h[3] >> 6 == 3 { 1 } else { 2 };
    Some(MpegAudio { layer, rate, channels, frame })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nal_units_between_start_codes() {
        let b = [0, 0, 0, 1, 9, 0xf0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 0, 1, 0x65, 0, 0, 3, 1];
        let units: Vec<&[u8]> = nal_units(&b).collect();
        assert_eq!(units, [&[9, 0xf0][..], &[0x67, 1, 2], &[0x65, 0, 0, 3, 1]]);
        assert_eq!(length_prefixed_len(&b, false), 4 + 3 + 4 + 5, "the delimiter left out");
        let mut out = Vec::new();
        length_prefixed(&b, false, &mut out);
        assert_eq!(out, [0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 5, 0x65, 0, 0, 3, 1]);
        assert!(is_key(&b, false));
        assert_eq!(nal_units(&[0, 0, 1][..]).count(), 0);
        assert_eq!(nal_units(&[1, 2, 3][..]).count(), 0);
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3]), [0, 0, 1, 0, 0]);
    }

    #[test]
    fn an_sps_gives_the_picture_size() {
        // x264, 1280x720 High profile.
        let sps = [
            0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9, 0x40, 0x50, 0x05, 0xbb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00,
            0x00, 0x03, 0x03, 0xc0, 0xf1, 0x83, 0x19, 0x60,
        ];
        assert_eq!(h264_sps(&sps), Some(Picture { width: 1280, height: 720, depth: 8 }));
        assert_eq!(h264_sps(&[0x67]), None);
        assert_eq!(h264_sps(&[0x67, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]), None, "runs out: no panic");
        // Cropping of 2^31: no overflow, an empty picture.
        let crop = [0x67, 0x42, 0x00, 0x1e, 0xfb, 0xe0, 0, 0, 0, 0x20, 0, 0, 0, 0x7f];
        assert!(h264_sps(&crop).is_none_or(|p| p.width <= 16 * 4097));
    }

    #[test]
    fn adts_and_mpeg_audio_headers() {
        // AAC LC, 48 kHz, stereo, 371 bytes.
        let h = [0xff, 0xf1, 0x4c, 0x80, 0x2e, 0x7f, 0xfc];
        let a = adts(&h).unwrap();
        assert_eq!((a.frame, a.header, a.rate, a.channels), (371, 7, 48000, 2));
        assert_eq!(a.config, [0x11, 0x90]);
        assert_eq!((aac_rate(&a.config), aac_channels(&a.config)), (Some(48000), 2));
        assert_eq!(a.more_blocks, 0);
        assert_eq!(adts(&[0xff, 0xf1, 0x4c, 0x80, 0x2e, 0x7f, 0xfe]).unwrap().more_blocks, 2);
        assert_eq!(adts(&[0xff, 0xf1]), None);
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417 bytes.
        let m = mpeg_audio(&[0xff, 0xfb, 0x90, 0x44]).unwrap();
        assert_eq!((m.layer, m.rate, m.channels, m.frame), (3, 44100, 2, 417));
        assert_eq!(mpeg_audio(&[0xff, 0xfb, 0xf0, 0x44]), None, "bad bitrate");
    }
}
