//! `VideoId`: a video's identity derived from its content, in the spirit of
//! Stash's oshash: the size plus a hash of the first and last 64 KiB. It
//! survives renames and moves, and costs two small reads per new file.

use crate::container::Source;
use std::fmt;
use std::io;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// How much of each end of a file goes into its id.
const EDGE: u64 = 64 * 1024;

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VideoId(pub u64);

impl fmt::Display for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for VideoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VideoId({self})")
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct BadId;

impl FromStr for VideoId {
    type Err = BadId;
    /// Exactly 16 lowercase hex digits, the form `Display` writes.
    fn from_str(s: &str) -> Result<Self, BadId> {
        if s.len() != 16 || !s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(BadId);
        }
        u64::from_str_radix(s, 16).map(VideoId).map_err(|_| BadId)
    }
}

/// The bytes an id was made of: a probe of the same file reads its
/// headers from here instead of asking the disk again (the boxes of a
/// small MP4 are a handful of reads each).
pub struct Edges {
    head: Vec<u8>,
    tail: Vec<u8>,
    /// Where `tail` starts in the file.
    tail_at: u64,
}

impl Edges {
    /// `buf.len()` bytes at `offset`, when they lie wholly in one edge.
    pub fn read_at<'a>(&'a self, offset: u64, buf: &mut [u8]) -> Option<usize> {
        let within = |edge: &'a [u8], start: u64| {
            let from = usize::try_from(offset.checked_sub(start)?).ok()?;
            edge.get(from..from.checked_add(buf.len())?)
        };
        let bytes = within(&self.head, 0).or_else(|| within(&self.tail, self.tail_at))?;
        buf.copy_from_slice(bytes);
        Some(buf.len())
    }
}

/// The id of an open file of `size` bytes, and the bytes it was made of.
pub fn id_and_edges(file: &(impl Source + ?Sized), size: u64) -> io::Result<(VideoId, Edges)> {
    let mut hasher = Xxh3::new();
    hasher.update(&size.to_le_bytes());
    let mut head = vec![0u8; EDGE.min(size) as usize];
    file.read_exact_at(&mut head, 0)?;
    hasher.update(&head);
    let tail_at = size.saturating_sub(EDGE).max(head.len() as u64);
    let mut tail = vec![0u8; (size - tail_at) as usize];
    if !tail.is_empty() {
        file.read_exact_at(&mut tail, tail_at)?;
        hasher.update(&tail);
    }
    Ok((VideoId(hasher.digest()), Edges { head, tail, tail_at }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn id_of(bytes: &[u8]) -> VideoId {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        id_and_edges(&crate::container::FileSource { file: &f, len: bytes.len() as u64 }, bytes.len() as u64).unwrap().0
    }

    #[test]
    fn display_round_trips() {
        let id = VideoId(0x00ab_cdef_0123_4567);
        assert_eq!(id.to_string(), "00abcdef01234567");
        assert_eq!("00abcdef01234567".parse::<VideoId>(), Ok(id));
    }

    #[test]
    fn rejects_bad_forms() {
        for s in ["", "abc", "00ABCDEF01234567", "00abcdef0123456g", "00abcdef012345678", "+0abcdef01234567"] {
            assert_eq!(s.parse::<VideoId>(), Err(BadId), "{s:?}");
        }
    }

    #[test]
    fn depends_on_size_head_and_tail_only() {
        let mut a = vec![7u8; 300_000];
        let b = a.clone();
        assert_eq!(id_of(&a), id_of(&b));
        a[150_000] = 1; // the middle is not hashed
        assert_eq!(id_of(&a), id_of(&b));
        a[299_999] = 1;
        assert_ne!(id_of(&a), id_of(&b));
        assert_ne!(id_of(&[]), id_of(&[0]));
        assert_ne!(id_of(&[0; 10]), id_of(&[0; 11]));
    }

    #[test]
    fn edges_answer_only_what_they_hold() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&bytes).unwrap();
        let (id, edges) =
            id_and_edges(&crate::container::FileSource { file: &f, len: bytes.len() as u64 }, bytes.len() as u64)
                .unwrap();
        assert_eq!(id, id_of(&bytes));
        let read = |offset: u64, n: usize| {
            let mut buf = vec![0u8; n];
            edges.read_at(offset, &mut buf).map(|got| (got, buf))
        };
        let at = |offset: usize, n: usize| Some((n, bytes[offset..offset + n].to_vec()));
        assert_eq!(read(0, 12), at(0, 12));
        assert_eq!(read(65_530, 6), at(65_530, 6), "the head's last bytes");
        assert_eq!(read(65_530, 7), None, "past the head");
        assert_eq!(read(150_000, 8), None, "the middle is not held");
        assert_eq!(read(300_000 - 65_536, 100), at(300_000 - 65_536, 100));
        assert_eq!(read(299_990, 10), at(299_990, 10));
        assert_eq!(read(299_990, 11), None, "past the end");
        assert_eq!(read(u64::MAX, 1), None);
    }
}
