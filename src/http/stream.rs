//! Streaming file bytes with bounded memory: a `FileBody` is a queue of
//! segments (literal bytes such as multipart headers, and file ranges) read
//! in chunks of at most `CHUNK` bytes, only when hyper asks for more (so a
//! slow client applies back-pressure and a gone one frees everything).
//!
//! The I/O path, per chunk: a non-blocking page-cache read on the runtime
//! thread (`preadv2` with `RWF_NOWAIT`, Linux); on a cache miss, one hop to
//! the blocking pool for a plain `pread`. The chunk buffer is reused when
//! hyper has released the previous chunk, so a stream does not allocate per
//! chunk. (Measured in benches/README.md.)
//!
//! An object in a bucket streams instead from a task on the object-storage
//! runtime (`library::objects::Object::stream`), a few chunks ahead of the
//! player: one request for a run of nearby segments (a remuxed fragment's
//! frames, with small gaps between them), not one per segment.

use std::collections::VecDeque;
use std::fs::File;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::zerocopy::{self, Pending};
use crate::library::roots::Content;
use crate::metrics::Meter;

/// Largest chunk read and sent at once.
pub const CHUNK: usize = 256 * 1024;

pub enum Segment {
    Bytes(Bytes),
    /// Half-open file range still to send.
    File {
        pos: u64,
        end: u64,
    },
}

impl Segment {
    fn remaining(&self) -> u64 {
        match self {
            Segment::Bytes(b) => b.len() as u64,
            Segment::File { pos, end } => end - pos,
        }
    }
}

type Reading = JoinHandle<(BytesMut, io::Result<usize>)>;

/// One request's bytes from object storage, `[at, end)` still to come:
/// `carry` holds those of the last chunk not handed out yet.
struct Incoming {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    at: u64,
    end: u64,
    carry: Bytes,
}

/// Segments of an object read by one request when the gaps between them
/// are at most `GAP` bytes (read and dropped), up to `SPAN` bytes in all.
const GAP: u64 = 64 * 1024;
const SPAN: u64 = 16 * 1024 * 1024;

pub struct FileBody {
    content: Content,
    /// Bytes arriving from object storage for the front segments.
    incoming: Option<Incoming>,
    /// The first chunks, read before the response's head (`first_bytes`).
    peeked: VecDeque<Bytes>,
    segments: VecDeque<Segment>,
    buf: BytesMut,
    pending: Option<Reading>,
    remaining: u64,
    meter: Meter,
    /// Where cached chunks go out with `sendfile` (`zerocopy`).
    zero_copy: Option<Pending>,
}

impl Drop for FileBody {
    fn drop(&mut self) {
        self.meter.active.dec();
    }
}

impl FileBody {
    pub fn new(content: Content, segments: Vec<Segment>, meter: Meter) -> Self {
        let remaining = segments.iter().map(Segment::remaining).sum();
        meter.active.inc();
        FileBody {
            content,
            incoming: None,
            peeked: VecDeque::new(),
            segments: segments.into(),
            buf: BytesMut::new(),
            pending: None,
            remaining,
            meter,
            zero_copy: None,
        }
    }

    /// Lets chunks in the page cache go out with `sendfile` on the
    /// connection `pending` belongs to.
    pub fn zero_copy(mut self, pending: Option<Pending>) -> Self {
        self.zero_copy = pending;
        self
    }

    pub fn remaining(&self) -> u64 {
        self.remaining + self.peeked.iter().map(|b| b.len() as u64).sum::<u64>()
    }

    /// For an object: starts reading it and waits for the first chunk, so
    /// a store that cannot answer (or an object replaced since the scan)
    /// is an error before the response's head goes out, not a cut body.
    pub async fn first_bytes(&mut self) -> io::Result<()> {
        if self.content.file().is_some() || !self.peeked.is_empty() {
            return Ok(());
        }
        // Literal parts first (multipart headers), then the object's bytes.
        loop {
            let literal = matches!(self.segments.front(), Some(Segment::Bytes(_)));
            match std::future::poll_fn(|cx| self.poll_next(cx)).await {
                Some(Ok(chunk)) => self.peeked.push_back(chunk),
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            }
            if !literal {
                return Ok(());
            }
        }
    }

    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        if let Some(chunk) = self.peeked.pop_front() {
            return Poll::Ready(Some(Ok(chunk)));
        }
        self.poll_next(cx)
    }

    /// The next chunk of the segments (after what `first_bytes` peeked).
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        loop {
            if let Some(pending) = &mut self.pending {
                let (buf, res) = match std::pin::Pin::new(pending).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(done)) => done,
                    Poll::Ready(Err(join)) => (BytesMut::new(), Err(io::Error::other(join))),
                };
                self.pending = None;
                self.buf = buf;
                return Poll::Ready(Some(res.and_then(|n| self.take(n))));
            }
            let Some(front) = self.segments.front_mut() else {
                return Poll::Ready(None);
            };
            match front {
                Segment::Bytes(b) => {
                    let b = std::mem::take(b);
                    self.segments.pop_front();
                    self.remaining -= b.len() as u64;
                    return Poll::Ready(Some(Ok(b)));
                }
                Segment::File { pos, end } if pos == end => {
                    self.segments.pop_front();
                }
                Segment::File { pos, end } => {
                    let (pos, end, left) = (*pos, *end, *end - *pos);
                    let file = match &self.content {
                        Content::File(file, _) => file,
                        Content::Object(_) => return self.poll_object(cx, pos, end),
                    };
                    if let Some(zero_copy) = &self.zero_copy {
                        // The largest piece first; a file only partly in
                        // the page cache (read ahead as it plays) still
                        // sends its cached next megabyte without a copy.
                        let mut tried = 0;
                        for piece in [zerocopy::CHUNK, zerocopy::CHUNK_CACHED_AHEAD] {
                            let want = left.min(piece as u64) as usize;
                            if want == tried {
                                break;
                            }
                            tried = want;
                            if let Some(placeholder) = zero_copy.placeholder(file, pos, want) {
                                self.advance(want);
                                return Poll::Ready(Some(Ok(placeholder)));
                            }
                        }
                    }
                    let want = left.min(CHUNK as u64) as usize;
                    self.buf.reserve(want);
                    match read_nowait(file, &mut self.buf, want, pos) {
                        Some(Ok(n)) if n > 0 => return Poll::Ready(Some(self.take(n))),
                        Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                        _ => self.pending = Some(spawn_read(file.clone(), std::mem::take(&mut self.buf), want, pos)),
                    }
                }
            }
        }
    }

    /// The next bytes of the front segment `[pos, end)` of an object: from
    /// the request under way when it covers `pos`, else from a new one for
    /// the run of segments starting here (`span_from`).
    fn poll_object(&mut self, cx: &mut Context<'_>, pos: u64, end: u64) -> Poll<Option<io::Result<Bytes>>> {
        let Content::Object(object) = &self.content else { return Poll::Ready(None) };
        if !self.incoming.as_ref().is_some_and(|i| i.at <= pos && pos < i.end) {
            let span = self.span_from(pos);
            self.incoming = Some(Incoming { rx: object.stream(pos..span), at: pos, end: span, carry: Bytes::new() });
        }
        let Some(incoming) = self.incoming.as_mut() else { return Poll::Ready(None) };
        loop {
            if incoming.carry.is_empty() {
                match incoming.rx.poll_recv(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(bytes))) => incoming.carry = bytes,
                    Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                    Poll::Ready(None) => {
                        let short = io::Error::new(io::ErrorKind::UnexpectedEof, "the object ended before the range");
                        return Poll::Ready(Some(Err(short)));
                    }
                }
                continue;
            }
            // A gap between two segments: read, not sent.
            if incoming.at < pos {
                let skip = (pos - incoming.at).min(incoming.carry.len() as u64) as usize;
                let _ = incoming.carry.split_to(skip);
                incoming.at += skip as u64;
                continue;
            }
            let take = (end - pos).min(incoming.carry.len() as u64) as usize;
            let chunk = incoming.carry.split_to(take);
            incoming.at += take as u64;
            self.advance(take);
            return Poll::Ready(Some(Ok(chunk)));
        }
    }

    /// Where one request for the object segments starting at `pos` ends:
    /// the end of the last of the following file segments that each start
    /// at most `GAP` after the one before, within `SPAN` of `pos`.
    fn span_from(&self, pos: u64) -> u64 {
        let mut last = pos;
        for segment in &self.segments {
            let Segment::File { pos: p, end: e } = *segment else { continue };
            if p < last || p - last > GAP || e - pos > SPAN {
                // The front segment itself always counts.
                if last == pos {
                    last = e;
                }
                break;
            }
            last = e;
        }
        last.max(pos)
    }

    /// Hands out the `n` bytes just read into `buf` and advances.
    fn take(&mut self, n: usize) -> io::Result<Bytes> {
        if n == 0 {
            // The file shrank under us: cut the response rather than lie.
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shorter than announced"));
        }
        self.advance(n);
        Ok(self.buf.split_to(n).freeze())
    }

    /// Moves past `n` bytes of the front file segment.
    fn advance(&mut self, n: usize) {
        let Some(Segment::File { pos, .. }) = self.segments.front_mut() else {
            unreachable!("only file segments are read");
        };
        *pos += n as u64;
        self.remaining -= n as u64;
        self.meter.bytes.inc_by(n as u64);
    }
}

/// Reads up to `want` bytes into `buf`'s spare capacity on the pool.
fn spawn_read(file: Arc<File>, mut buf: BytesMut, want: usize, pos: u64) -> Reading {
    crate::blocking::spawn(move || {
        buf.clear();
        buf.reserve(want);
        let res = pread_spare(&file, &mut buf, want, pos);
        (buf, res)
    })
}

/// A blocking `pread` of up to `want` bytes into `buf`'s spare capacity,
/// through a raw pointer (no reference to uninitialised memory is made);
/// sets the length to what was read. Retries when interrupted.
fn pread_spare(file: &File, buf: &mut BytesMut, want: usize, pos: u64) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let dst = buf.spare_capacity_mut()[..want].as_mut_ptr();
    loop {
        // SAFETY: `dst` points at `want` writable bytes owned by `buf`,
        // which outlives the call; the kernel only writes into them.
        let n = unsafe { libc::pread(file.as_raw_fd(), dst.cast(), want, pos as libc::off_t) };
        if n >= 0 {
            // SAFETY: the kernel initialised the first `n` bytes.
            unsafe { buf.set_len(n as usize) };
            return Ok(n as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// A read that never blocks: `None` when the data is not in the page cache
/// (or the kernel lacks `RWF_NOWAIT`), so the caller falls back to the pool.
#[cfg(target_os = "linux")]
fn read_nowait(file: &File, buf: &mut BytesMut, want: usize, pos: u64) -> Option<io::Result<usize>> {
    use std::os::fd::AsRawFd;
    buf.clear();
    let spare = &mut buf.spare_capacity_mut()[..want];
    let iov = libc::iovec { iov_base: spare.as_mut_ptr().cast(), iov_len: want };
    // SAFETY: iov points at `want` writable bytes owned by `buf`.
    let n = unsafe { libc::preadv2(file.as_raw_fd(), &iov, 1, pos as libc::off_t, libc::RWF_NOWAIT) };
    if n < 0 {
        let err = io::Error::last_os_error();
        return match err.raw_os_error() {
            Some(libc::EAGAIN | libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL) => None,
            _ => Some(Err(err)),
        };
    }
    // SAFETY: the kernel wrote `n` bytes.
    unsafe { buf.set_len(n as usize) };
    Some(Ok(n as usize))
}

#[cfg(not(target_os = "linux"))]
fn read_nowait(_: &File, _: &mut BytesMut, _: usize, _: u64) -> Option<io::Result<usize>> {
    None
}

/// A remuxed stream (`media::remux::Plan`) from `at` to `end`, made one
/// part (the init segment, then each fragment) at a time as hyper asks
/// for more: memory stays at one fragment's header whatever the range
/// (and, for frames made from transport packets, one batch of them).
/// `files`: the video's file, and its remade sound when there is one.
pub struct RemuxBody {
    plan: Arc<crate::media::remux::Plan>,
    files: Vec<Content>,
    at: u64,
    end: u64,
    current: Option<FileBody>,
    /// The rest of the current part, in order.
    queued: VecDeque<Queued>,
    /// Frames being made on the blocking pool (`Plan::unpack`), and their length.
    making: Option<(u64, JoinHandle<io::Result<Bytes>>)>,
    meter: Meter,
    zero_copy: Option<Pending>,
    /// Bytes of the output left out: on reaching the first, go on from
    /// the second (a stream from a time: the init segment, then the
    /// fragments from there).
    skip: Option<(u64, u64)>,
}

enum Queued {
    /// A run of segments of one file.
    Run(usize, Vec<Segment>),
    /// Frames to make (`Piece::Packed`).
    Packed(crate::media::remux::Piece),
}

impl RemuxBody {
    pub fn new(plan: Arc<crate::media::remux::Plan>, files: Vec<Content>, at: u64, end: u64, meter: Meter) -> Self {
        RemuxBody {
            plan,
            files,
            at,
            end,
            current: None,
            queued: VecDeque::new(),
            making: None,
            meter,
            zero_copy: None,
            skip: None,
        }
    }

    /// The output's init segment, then its bytes `from..end` (`from`, a
    /// fragment's start): a stream that starts at that fragment's time.
    pub fn from_fragment(
        plan: Arc<crate::media::remux::Plan>,
        files: Vec<Content>,
        from: u64,
        end: u64,
        meter: Meter,
    ) -> Self {
        let init = plan.init_len();
        let mut body = Self::new(plan, files, 0, end, meter);
        body.skip = (from > init).then_some((init, from));
        body
    }

    /// As `FileBody::zero_copy`.
    pub fn zero_copy(mut self, pending: Option<Pending>) -> Self {
        self.zero_copy = pending;
        self
    }

    pub fn remaining(&self) -> u64 {
        let queued: u64 = self
            .queued
            .iter()
            .map(|q| match q {
                Queued::Run(_, s) => s.iter().map(Segment::remaining).sum(),
                Queued::Packed(p) => p.len(),
            })
            .sum();
        let making = self.making.as_ref().map_or(0, |(len, _)| *len);
        let skipped = self.skip.map_or(0, |(from, to)| to - from);
        self.end - self.at - skipped + queued + making + self.current.as_ref().map_or(0, FileBody::remaining)
    }

    pub fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        use crate::media::remux::Piece;
        loop {
            if let Some((_, making)) = &mut self.making {
                let made = match std::pin::Pin::new(making).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(made)) => made,
                    Poll::Ready(Err(join)) => Err(io::Error::other(join)),
                };
                self.making = None;
                if let Ok(b) = &made {
                    self.meter.bytes.inc_by(b.len() as u64);
                }
                return Poll::Ready(Some(made));
            }
            if let Some(current) = &mut self.current {
                match current.poll_chunk(cx) {
                    Poll::Ready(None) => self.current = None,
                    other => return other,
                }
            }
            match self.queued.pop_front() {
                Some(Queued::Run(file, segments)) => {
                    let Some(handle) = self.files.get(file).or(self.files.first()) else { return Poll::Ready(None) };
                    let body = FileBody::new(handle.clone(), segments, self.meter.clone());
                    self.current = Some(body.zero_copy(self.zero_copy.clone()));
                    continue;
                }
                Some(Queued::Packed(piece)) => {
                    let Some(src) = self.files.first().cloned() else { return Poll::Ready(None) };
                    let plan = self.plan.clone();
                    self.making = Some((piece.len(), crate::blocking::spawn(move || plan.unpack(&src, &piece))));
                    continue;
                }
                None => {}
            }
            if let Some((_, to)) = self.skip.filter(|(from, _)| self.at >= *from) {
                self.at = self.at.max(to);
                self.skip = None;
            }
            if self.at >= self.end {
                return Poll::Ready(None);
            }
            let until = self.plan.boundary_after(self.at).min(self.end);
            // Consecutive pieces of one file go out through one file body.
            for piece in self.plan.pieces(self.at, until) {
                let (file, segment) = match piece {
                    Piece::Bytes(b) => (None, Segment::Bytes(b)),
                    Piece::File { pos, len, file } => (Some(usize::from(file)), Segment::File { pos, end: pos + len }),
                    packed @ Piece::Packed { .. } => {
                        self.queued.push_back(Queued::Packed(packed));
                        continue;
                    }
                };
                match self.queued.back_mut() {
                    Some(Queued::Run(f, run)) if file.is_none_or(|file| file == *f) => run.push(segment),
                    _ => self.queued.push_back(Queued::Run(file.unwrap_or(0), vec![segment])),
                }
            }
            self.at = until;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_of(bytes: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        let file = File::open(&path).unwrap();
        (dir, file)
    }

    #[test]
    fn nearby_object_segments_share_one_request() {
        let (_dir, file) = file_of(b"x");
        let segments = vec![
            Segment::File { pos: 0, end: 100 },
            Segment::Bytes(Bytes::from_static(b"header")),
            Segment::File { pos: 150, end: 200 },
            Segment::File { pos: 200 + GAP, end: 300 + GAP },
            Segment::File { pos: 400 + 2 * GAP + 1, end: 500 + 2 * GAP },
        ];
        let body = FileBody::new(Content::File(Arc::new(file), 1), segments, Meter::default());
        assert_eq!(body.span_from(0), 300 + GAP, "up to the first gap wider than GAP");
        let big =
            vec![Segment::File { pos: 10, end: 10 + 2 * SPAN }, Segment::File { pos: 10 + 2 * SPAN, end: 3 * SPAN }];
        let (_dir, file) = file_of(b"x");
        let body = FileBody::new(Content::File(Arc::new(file), 1), big, Meter::default());
        assert_eq!(body.span_from(10), 10 + 2 * SPAN, "a long segment alone");
        let back = vec![Segment::File { pos: 500, end: 600 }, Segment::File { pos: 0, end: 100 }];
        let (_dir, file) = file_of(b"x");
        let body = FileBody::new(Content::File(Arc::new(file), 1), back, Meter::default());
        assert_eq!(body.span_from(500), 600, "never backwards");
    }

    #[test]
    fn blocking_reads_fill_spare_capacity_exactly() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let (_dir, file) = file_of(&data);
        let mut buf = BytesMut::with_capacity(CHUNK);
        for (pos, want) in [(0u64, 4096usize), (12_345, 50_000), (99_990, 4096)] {
            buf.clear();
            buf.reserve(want);
            let n = pread_spare(&file, &mut buf, want, pos).unwrap();
            let end = (pos as usize + want).min(data.len());
            assert_eq!(n, end - pos as usize);
            assert_eq!(&buf[..], &data[pos as usize..end]);
        }
        buf.clear();
        assert_eq!(pread_spare(&file, &mut buf, 10, 200_000).unwrap(), 0, "past the end");
    }

    #[test]
    fn a_body_streams_ranges_and_literal_parts_in_order() {
        let data: Vec<u8> = (0..600_000u32).map(|i| (i % 253) as u8).collect();
        let (_dir, file) = file_of(&data);
        let segments = vec![
            Segment::Bytes(Bytes::from_static(b"head")),
            Segment::File { pos: 10, end: 300_010 },
            Segment::Bytes(Bytes::from_static(b"mid")),
            Segment::File { pos: 599_000, end: 600_000 },
        ];
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let out = rt.block_on(async {
            let mut body = FileBody::new(Content::File(Arc::new(file), 600_000), segments, Meter::default());
            let mut out = Vec::new();
            while let Some(chunk) = std::future::poll_fn(|cx| body.poll_chunk(cx)).await {
                let chunk = chunk.unwrap();
                assert!(chunk.len() <= CHUNK);
                out.extend_from_slice(&chunk);
            }
            assert_eq!(body.remaining(), 0);
            out
        });
        let mut want = b"head".to_vec();
        want.extend_from_slice(&data[10..300_010]);
        want.extend_from_slice(b"mid");
        want.extend_from_slice(&data[599_000..]);
        assert_eq!(out, want);
    }
}
