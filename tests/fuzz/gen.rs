//! Input generators for the fuzz targets: byte mutations, and structure
//! that the readers expect (MP4 boxes, EBML elements, Ogg pages, JSON).

use fastrand::Rng;

/// Byte-level mutations: flips, overwrites with interesting values,
/// truncation, duplication and splicing of chunks.
pub fn mutate(rng: &mut Rng, mut data: Vec<u8>, others: &[Vec<u8>]) -> Vec<u8> {
    for _ in 0..rng.usize(1..8) {
        if data.is_empty() {
            data.push(rng.u8(..));
            continue;
        }
        let i = rng.usize(..data.len());
        match rng.u8(..7) {
            0 => data[i] ^= 1 << rng.u8(..8),
            1 => data[i] = [0, 1, 0x7f, 0x80, 0xff][rng.usize(..5)],
            2 => {
                let v: [u8; 4] = [[0, 0, 0, 0], [0xff; 4], [0, 0, 0, 1], [0x7f, 0xff, 0xff, 0xff]][rng.usize(..4)];
                let end = (i + 4).min(data.len());
                data[i..end].copy_from_slice(&v[..end - i]);
            }
            3 => data.truncate(i),
            4 => {
                let end = rng.usize(i..=data.len().min(i + 64));
                let chunk = data[i..end].to_vec();
                data.splice(i..i, chunk);
            }
            5 if !others.is_empty() => {
                let o = &others[rng.usize(..others.len())];
                if !o.is_empty() {
                    let s = rng.usize(..o.len());
                    let e = rng.usize(s..=o.len().min(s + 256));
                    data.splice(i..i, o[s..e].iter().copied());
                }
            }
            _ => {
                data.remove(i);
            }
        }
    }
    data
}

/// A mutation of a random one of `seeds`.
pub fn mutant(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let pick = seeds[rng.usize(..seeds.len())].clone();
    mutate(rng, pick, seeds)
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// An MP4 box tree with plausible and implausible sizes.
pub fn mp4_tree(rng: &mut Rng, depth: u32) -> Vec<u8> {
    const KINDS: [&[u8; 4]; 22] = [
        b"ftyp", b"moov", b"mdat", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"tkhd", b"mdhd", b"hdlr", b"mvhd",
        b"udta", b"meta", b"ilst", b"covr", b"data", b"free", b"avc1", b"mp4a", b"hvc1", b"stts",
    ];
    let mut out = Vec::new();
    for _ in 0..rng.usize(1..5) {
        let kind = KINDS[rng.usize(..KINDS.len())];
        let body = if depth < 5 && rng.bool() {
            mp4_tree(rng, depth + 1)
        } else {
            (0..rng.usize(..64)).map(|_| rng.u8(..)).collect()
        };
        let true_size = (body.len() + 8) as u32;
        match rng.u8(..10) {
            0 => out.extend(be32(0)), // to the end
            1 => {
                out.extend(be32(1)); // 64-bit size follows
                out.extend(kind);
                out.extend([u64::MAX, 16 + body.len() as u64, rng.u64(..)][rng.usize(..3)].to_be_bytes());
                out.extend(&body);
                continue;
            }
            2 => out.extend(be32(rng.u32(..))),
            3 => out.extend(be32(rng.u32(..8))),
            _ => out.extend(be32(true_size)),
        }
        out.extend(kind);
        out.extend(&body);
    }
    out
}

/// EBML variable-length integer of `v` in `len` bytes (1..=8).
fn vint(v: u64, len: u32) -> Vec<u8> {
    let marker = 1u64 << (7 * len);
    let n = (v & (marker - 1)) | marker;
    n.to_be_bytes()[8 - len as usize..].to_vec()
}

/// A tree of EBML elements with the ids a Matroska reader looks at.
pub fn ebml_tree(rng: &mut Rng, depth: u32) -> Vec<u8> {
    const IDS: [u32; 20] = [
        0x1A45DFA3, 0x4282, 0x18538067, 0x1549A966, 0x2AD7B1, 0x4489, 0x1654AE6B, 0xAE, 0x86, 0xE0, 0xB0, 0xBA, 0xE1,
        0x1F43B675, 0x1941A469, 0x61A7, 0x4660, 0x465C, 0x466E, 0xEC,
    ];
    let mut out = Vec::new();
    for _ in 0..rng.usize(1..5) {
        let id = IDS[rng.usize(..IDS.len())];
        out.extend(id.to_be_bytes().iter().skip_while(|b| **b == 0));
        let body = if depth < 5 && rng.bool() {
            ebml_tree(rng, depth + 1)
        } else {
            (0..rng.usize(..32)).map(|_| rng.u8(..)).collect()
        };
        match rng.u8(..8) {
            0 => out.extend([0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]), // unknown size
            1 => out.extend(vint(rng.u64(..), 8)),
            2 => out.push(0x00), // invalid vint
            _ => out.extend(vint(body.len() as u64, rng.u32(1..=8).max(1))),
        }
        out.extend(body);
    }
    out
}

/// Ogg pages with random segment tables and codec headers.
pub fn ogg_pages(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.usize(1..4) {
        out.extend(b"OggS");
        out.push(0);
        out.push(rng.u8(..8));
        out.extend(rng.u64(..).to_le_bytes());
        out.extend([0u8; 12]);
        let segs = rng.u8(..6);
        out.push(segs);
        let sizes: Vec<u8> = (0..segs).map(|_| rng.u8(..)).collect();
        out.extend(&sizes);
        let head: &[u8] = [&b"\x01vorbis"[..], b"\x80theora", b"OpusHead", b"\x7fFLAC", b""][rng.usize(..5)];
        out.extend(head);
        let body = sizes.iter().map(|&s| s as usize).sum::<usize>().min(300);
        out.extend((0..body).map(|_| rng.u8(..)));
    }
    out
}

/// Text of hostile sizes and contents: empty, NUL, commas, terminal
/// escapes, a few hundred or a few hundred thousand characters.
pub fn hostile_text(rng: &mut Rng) -> String {
    match rng.u8(..8) {
        0 => "#a".into(),
        1 => "b".into(),
        2 => "a,b".into(),
        3 => String::new(),
        4 => "\u{0}".into(),
        5 => "x".repeat(150),
        6 => format!("\u{1b}[31m{}\u{1b}[0m", "é".repeat(rng.usize(290..310))),
        _ => "\u{1b}]0;owned\u{7}".repeat(rng.usize(..20_000)),
    }
}

/// A random JSON value, nested a little.
pub fn json_value(rng: &mut Rng, depth: u32) -> serde_json::Value {
    use serde_json::{json, Value};
    match rng.u8(..if depth > 3 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => json!(rng.bool()),
        2 => json!(rng.i64(..)),
        3 => json!(rng.f64() * 10.0 - 2.0),
        4 => json!(hostile_text(rng)),
        5 => json!(rng.u8(..7)),
        6 => Value::Array((0..rng.usize(..5)).map(|_| json_value(rng, depth + 1)).collect()),
        _ => Value::Object(
            (0..rng.usize(..5))
                .map(|i| {
                    (["a.mp4", "favorites", "count", "videos", "id"][i % 5].to_string(), json_value(rng, depth + 1))
                })
                .collect(),
        ),
    }
}
