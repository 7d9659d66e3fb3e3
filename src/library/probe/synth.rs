//! Synthetic but structurally valid media files, for tests and benchmarks
//! (which need thousands of files that probe like real ones, fast and
//! without ffmpeg). Not used by the server itself.

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend_from_slice(kind);
    v.extend_from_slice(body);
    v
}

/// The `moov` box of a 12.345 s clip with one 640x360 H.264 track and one
/// AAC track.
fn moov() -> Vec<u8> {
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&12_345u32.to_be_bytes());
    let track = |handler: &[u8; 4], fourcc: &[u8; 4]| {
        let mut hdlr = vec![0u8; 24];
        hdlr[8..12].copy_from_slice(handler);
        let mut entry = vec![0u8; 86];
        entry[0..4].copy_from_slice(&86u32.to_be_bytes());
        entry[4..8].copy_from_slice(fourcc);
        entry[32..34].copy_from_slice(&640u16.to_be_bytes());
        entry[34..36].copy_from_slice(&360u16.to_be_bytes());
        let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stsd.extend_from_slice(&entry);
        let stbl = mp4_box(b"stbl", &mp4_box(b"stsd", &stsd));
        let minf = mp4_box(b"minf", &stbl);
        let mdia = mp4_box(b"mdia", &[mp4_box(b"hdlr", &hdlr), minf].concat());
        mp4_box(b"trak", &mdia)
    };
    mp4_box(b"moov", &[mp4_box(b"mvhd", &mvhd), track(b"vide", b"avc1"), track(b"soun", b"mp4a")].concat())
}

/// An MP4 whose media data is `payload`; `moov_last` puts the index after
/// the media data, as encoders do without faststart.
pub fn mp4_file(payload: &[u8], moov_last: bool) -> Vec<u8> {
    let ftyp = mp4_box(b"ftyp", b"isom\0\0\0\0isomavc1");
    let mdat = mp4_box(b"mdat", payload);
    if moov_last {
        [ftyp, mdat, moov()].concat()
    } else {
        [ftyp, moov(), mdat].concat()
    }
}

/// The head of a faststart MP4 whose `mdat` (64-bit size) runs to
/// `total_len`: write this, then extend the file to `total_len` (sparse).
pub fn mp4_head_for_len(total_len: u64) -> Vec<u8> {
    let mut head = [mp4_box(b"ftyp", b"isom\0\0\0\0isomavc1"), moov()].concat();
    let mdat_len = total_len - head.len() as u64;
    head.extend_from_slice(&1u32.to_be_bytes());
    head.extend_from_slice(b"mdat");
    head.extend_from_slice(&mdat_len.to_be_bytes());
    head
}

/// Deterministic pseudo-random bytes (xorshift), so range checks compare
/// against content that differs at every offset.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    // splitmix64 of the seed, so that nearby seeds give unrelated streams
    let mut x = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x = (x ^ (x >> 31)) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
