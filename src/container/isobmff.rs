//! ISO BMFF (MP4, MOV) sample tables, shared by the readers of what is
//! inside a file (`inside`) and the remuxer (`remux`): each `trak`'s
//! handler, timescale, sample description and edit list (`traks`), and
//! every sample's place, size and times (`sample_table`,
//! `composition_offsets`, `sync_samples`), all bounded.

use super::text::{language, name_of};
use super::{be_u16, be_u32, be_u64, ProbeError, Source};

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
pub struct TopLevel {
    pub brand: Option<[u8; 4]>,
    pub moov: Vec<u8>,
    /// Where the media data says it ends, when that is past the end of the
    /// file (an interrupted copy or download).
    pub cut_short: Option<u64>,
    pub index_at_end: bool,
}

pub fn top_level(src: &(impl Source + ?Sized)) -> Result<TopLevel, ProbeError> {
    let len = src.size();
    let mut pos = 0u64;
    let mut brand = None;
    let mut moov = None;
    let mut seen_mdat = false;
    let mut index_at_end = false;
    let mut cut_short = None;
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
            b"mdat" => {
                seen_mdat = true;
                let end = pos.checked_add(size);
                if end.is_none_or(|end| end > len) {
                    cut_short.get_or_insert(end.unwrap_or(u64::MAX));
                }
            }
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
    Ok(TopLevel { brand, moov, index_at_end, cut_short })
}

/// Iterates the child boxes of a box body, stopping at the first bad size.
pub fn boxes(mut body: &[u8]) -> impl Iterator<Item = (&[u8; 4], &[u8])> {
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

pub fn child<'a>(body: &'a [u8], want: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(body).find(|(k, _)| *k == want).map(|(_, b)| b)
}

/// One `trak`, as far as this module cares.
pub struct Trak<'a> {
    pub id: u32,
    pub enabled: bool,
    pub handler: [u8; 4],
    pub fourcc: [u8; 4],
    pub timescale: u32,
    pub language: Option<String>,
    /// Track ids this one names as its chapters.
    pub chapter_refs: Vec<u32>,
    pub stbl: Option<&'a [u8]>,
    pub name: Option<String>,
    /// The first sample description (after its size and type).
    pub entry: Option<&'a [u8]>,
    /// Where the edit list starts the media (`elst`'s first media time), if it says.
    pub media_start: Option<i64>,
}

/// Tracks read from one file (real ones have a handful).
const MAX_TRAKS: usize = 64;
/// Chapter references read from one track.
const MAX_REFS: usize = 64;

pub fn traks(moov: &[u8]) -> Vec<Trak<'_>> {
    boxes(moov).filter(|(k, _)| *k == b"trak").take(MAX_TRAKS).filter_map(|(_, t)| trak(t)).collect()
}

fn trak(t: &[u8]) -> Option<Trak<'_>> {
    let tkhd = child(t, b"tkhd")?;
    let id = be_u32(tkhd, if tkhd.first()? == &1 { 20 } else { 12 })?;
    let enabled = tkhd.get(3).is_some_and(|f| f & 1 != 0);
    let mdia = child(t, b"mdia")?;
    let mdhd = child(mdia, b"mdhd")?;
    let (timescale, lang) = match mdhd.first()? {
        1 => (be_u32(mdhd, 20)?, be_u16(mdhd, 32)?),
        _ => (be_u32(mdhd, 12)?, be_u16(mdhd, 20)?),
    };
    let handler: [u8; 4] = child(mdia, b"hdlr")?.get(8..12)?.try_into().ok()?;
    let stbl = child(mdia, b"minf").and_then(|m| child(m, b"stbl"));
    let fourcc = stbl
        .and_then(|s| child(s, b"stsd"))
        .and_then(|s| s.get(12..16))
        .and_then(|f| f.try_into().ok())
        .unwrap_or(*b"    ");
    let chapter_refs = child(t, b"tref")
        .and_then(|r| child(r, b"chap"))
        .map(|c| c.chunks_exact(4).take(MAX_REFS).filter_map(|b| be_u32(b, 0)).collect())
        .unwrap_or_default();
    let name = child(t, b"udta").and_then(|u| child(u, b"name")).map(name_of).filter(|n| !n.trim().is_empty());
    let entry = stbl.and_then(|s| child(s, b"stsd")).and_then(|s| s.get(16..8 + be_u32(s, 8)? as usize));
    let media_start = child(t, b"edts").and_then(|e| child(e, b"elst")).and_then(|e| match e.first()? {
        1 => be_u64(e, 16).map(|t| t as i64),
        _ => be_u32(e, 12).map(|t| i64::from(t as i32)),
    });
    let language = packed_language(lang);
    Some(Trak { id, enabled, handler, fourcc, timescale, language, chapter_refs, stbl, name, entry, media_start })
}

/// `mdhd`'s language: three letters, five bits each, offset by 0x60.
pub fn packed_language(v: u16) -> Option<String> {
    if v == 0 || v == 0x7FFF {
        return None;
    }
    let letters: String = [(v >> 10) & 31, (v >> 5) & 31, v & 31].iter().map(|&c| char::from(c as u8 + 0x60)).collect();
    if !letters.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    language(&letters)
}

/// A table box's entries after its version/flags and count, `width` u32
/// fields each, at most `limit` rows, flat.
pub fn table(stbl: &[u8], kind: &[u8; 4], width: usize, limit: usize) -> Option<Vec<u32>> {
    let b = child(stbl, kind)?;
    let count = (be_u32(b, 4)? as usize).min(limit);
    Some(b.get(8..)?.chunks_exact(4).take(count.saturating_mul(width)).filter_map(|c| be_u32(c, 0)).collect())
}

/// A sample: where, how long in bytes, its decode time and duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    pub pos: u64,
    pub size: u32,
    pub dts: u64,
    pub dur: u32,
}

/// Where and when each sample of a track is, at most `limit` samples, and
/// never more than a file of `file_len` bytes can hold: a table that
/// claims millions of samples costs what the file's bytes allow, not what
/// its counts say.
pub fn sample_table(stbl: &[u8], limit: usize, file_len: u64) -> Option<Vec<Row>> {
    // Sizes: one for all (each sample takes that many bytes of the file),
    // or a table after the count (each entry takes four bytes of it).
    let stsz = child(stbl, b"stsz")?;
    let (fixed, count) = (be_u32(stsz, 4)?, (be_u32(stsz, 8)? as usize).min(limit));
    let sizes: Vec<u32> = if fixed != 0 {
        let fits = usize::try_from(file_len / u64::from(fixed)).unwrap_or(usize::MAX);
        vec![fixed; count.min(fits)]
    } else {
        stsz.get(12..)?.chunks_exact(4).take(count).filter_map(|c| be_u32(c, 0)).collect()
    };
    // Durations: (count, delta) runs, as many as there are samples.
    let stts = table(stbl, b"stts", 2, limit)?;
    let times: Vec<u32> =
        stts.chunks_exact(2).flat_map(|r| std::iter::repeat_n(r[1], r[0] as usize)).take(sizes.len()).collect();
    // Chunks: offsets, and how many samples each holds (at most one chunk a sample).
    let offsets: Vec<u64> = match table(stbl, b"stco", 1, limit) {
        Some(rows) => rows.into_iter().map(u64::from).collect(),
        None => {
            let co64 = child(stbl, b"co64")?;
            let n = (be_u32(co64, 4)? as usize).min(limit);
            co64.get(8..)?.chunks_exact(8).take(n).filter_map(|c| be_u64(c, 0)).collect()
        }
    };
    let stsc = table(stbl, b"stsc", 3, limit)?;
    let stsc: Vec<&[u32]> = stsc.chunks_exact(3).collect();
    let mut out = Vec::with_capacity(sizes.len());
    let (mut sample, mut clock, mut run) = (0usize, 0u64, 0usize);
    for (chunk, &offset) in offsets.iter().enumerate() {
        let n = (chunk + 1) as u32;
        // `stsc` runs: from chunk `first` on, `per_chunk` samples each.
        while stsc.get(run + 1).is_some_and(|r| r[0] <= n) {
            run += 1;
        }
        let per_chunk = stsc.get(run).map_or(1, |r| r[1]);
        let mut at = offset;
        for _ in 0..per_chunk {
            let (Some(&size), Some(&dur)) = (sizes.get(sample), times.get(sample)) else { return Some(out) };
            out.push(Row { pos: at, size, dts: clock, dur });
            at = at.saturating_add(u64::from(size));
            clock = clock.saturating_add(u64::from(dur));
            sample += 1;
        }
    }
    Some(out)
}

/// Each sample's composition offset (`ctts`; none: zeros), `n` of them.
pub fn composition_offsets(stbl: &[u8], n: usize) -> Vec<i64> {
    let Some(b) = child(stbl, b"ctts") else { return vec![0; n] };
    let signed = b.first() == Some(&1);
    let rows = table(stbl, b"ctts", 2, n).unwrap_or_default();
    let mut out: Vec<i64> = rows
        .chunks_exact(2)
        .flat_map(|r| {
            let v = if signed { i64::from(r[1] as i32) } else { i64::from(r[1]) };
            std::iter::repeat_n(v, r[0] as usize)
        })
        .take(n)
        .collect();
    out.resize(n, 0);
    out
}

/// Which of `n` samples are sync samples (`stss`; none: all are).
pub fn sync_samples(stbl: &[u8], n: usize) -> Vec<bool> {
    let Some(rows) = table(stbl, b"stss", 1, n) else { return vec![true; n] };
    let mut out = vec![false; n];
    for k in rows {
        if let Some(s) = (k as usize).checked_sub(1).and_then(|i| out.get_mut(i)) {
            *s = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn words(w: &[u32]) -> Vec<u8> {
        w.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    #[test]
    fn a_sample_table_costs_what_the_file_can_hold_not_what_it_claims() {
        // Three million samples of one byte each, one run of durations,
        // one chunk: a few dozen bytes of tables.
        let claimed = 3_000_000;
        let stbl = [
            bx(b"stsz", &words(&[0, 1, claimed])),
            bx(b"stts", &words(&[0, 1, claimed, 1])),
            bx(b"stco", &words(&[0, 1, 0])),
            bx(b"stsc", &words(&[0, 1, 1, claimed, 1])),
        ]
        .concat();
        let rows = sample_table(&stbl, 3_000_001, 18_000).unwrap();
        assert_eq!(rows.len(), 18_000, "no more one-byte samples than an 18 kB file holds");
        assert_eq!(rows[1], Row { pos: 1, size: 1, dts: 1, dur: 1 });
        // A table of sizes is bounded by its own bytes.
        let stbl = [
            bx(b"stsz", &words(&[0, 0, claimed, 5, 6])),
            bx(b"stts", &words(&[0, 1, claimed, 1])),
            bx(b"stco", &words(&[0, 1, 0])),
            bx(b"stsc", &words(&[0, 1, 1, claimed, 1])),
        ]
        .concat();
        assert_eq!(sample_table(&stbl, 3_000_001, u64::MAX).unwrap().len(), 2);
    }
}
