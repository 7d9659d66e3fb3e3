//! Container formats, read from bytes: the EBML of Matroska and WebM
//! (`ebml`: element ids, readers, the segment's layout, track entries and a
//! walk over every block) and ISO BMFF (`isobmff`: MP4 and MOV boxes,
//! tracks and sample tables), Ogg pages (`ogg`), MPEG transport streams
//! (`mpegts`), Flash video (`flv`), RIFF as AVI uses it (`riff`), the
//! codecs' own framing inside them (`elementary`: NAL units, ADTS, MPEG
//! audio), with the text they store (`text`). Probing,
//! the readers of embedded tracks and the remuxer all read through here.
//!
//! A leaf: nothing here imports the rest of the crate, opens a file by
//! name or allocates more than the bounds each reader states.

pub mod ebml;
pub mod elementary;
pub mod flv;
pub mod isobmff;
pub mod mpegts;
pub mod ogg;
pub mod riff;
pub mod text;

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("empty file")]
    Empty,
    #[error("not a video file this server knows (unrecognised header)")]
    Unrecognised,
    #[error("damaged {0} file: {1}")]
    Damaged(&'static str, String),
    #[error("read error: {0}")]
    Io(#[from] io::Error),
}

/// Random-access bytes: a file, or a slice in tests.
pub trait Source {
    fn size(&self) -> u64;
    /// Reads as much of `buf` as the source has at `offset`; returns the count.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;

    /// Reads up to `max` bytes at `offset` (fewer at the end of the source).
    fn read_vec(&self, offset: u64, max: u64) -> io::Result<Vec<u8>> {
        let n = max.min(self.size().saturating_sub(offset));
        let mut buf = vec![0u8; n as usize];
        let mut done = 0;
        while done < buf.len() {
            let got = self.read_at(offset + done as u64, &mut buf[done..])?;
            if got == 0 {
                break;
            }
            done += got;
        }
        buf.truncate(done);
        Ok(buf)
    }

    /// Fills `buf` from `offset`; the end of the source before it is full
    /// is an error.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            match self.read_at(offset + done as u64, &mut buf[done..])? {
                0 => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file ended early")),
                n => done += n,
            }
        }
        Ok(())
    }
}

pub struct FileSource<'a> {
    pub file: &'a File,
    pub len: u64,
}

impl Source for FileSource<'_> {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read_at(buf, offset)
    }
}

impl Source for [u8] {
    fn size(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let start = (offset as usize).min(<[u8]>::len(self));
        let n = buf.len().min(<[u8]>::len(self) - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

/// Big-endian readers over a byte slice that fail instead of panicking.
pub fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
pub fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
pub fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
