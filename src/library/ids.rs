//! `VideoId`: a video's identity derived from its content, in the spirit of
//! Stash's oshash: the size plus a hash of the first and last 64 KiB. It
//! survives renames and moves, and costs two small reads per new file.

use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
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

/// Computes the id of an open file of `size` bytes.
pub fn id_of_file(file: &File, size: u64) -> io::Result<VideoId> {
    let mut hasher = Xxh3::new();
    hasher.update(&size.to_le_bytes());
    let mut buf = vec![0u8; EDGE.min(size) as usize];
    let head = EDGE.min(size);
    file.read_exact_at(&mut buf[..head as usize], 0)?;
    hasher.update(&buf[..head as usize]);
    if size > EDGE {
        let start = (size - EDGE).max(head);
        let n = (size - start) as usize;
        file.read_exact_at(&mut buf[..n], start)?;
        hasher.update(&buf[..n]);
    }
    Ok(VideoId(hasher.digest()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn id_of(bytes: &[u8]) -> VideoId {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(bytes).unwrap();
        id_of_file(&f, bytes.len() as u64).unwrap()
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
}
