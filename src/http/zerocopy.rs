//! Video bytes from the page cache to the socket without passing through
//! memory: `sendfile(2)` under hyper.
//!
//! hyper writes a response body from the chunks its `Body` yields. For a
//! chunk of a file that is wholly in the page cache (`cachestat(2)`), the
//! body yields a *placeholder* instead of the bytes: a slice of `zeros()`, a
//! static block that is never sent, and queues `(file, pos, len)` on the
//! connection's `Pending`. hyper queues body chunks without copying them
//! (its vectored write strategy, set with `http1::Builder::writev(true)`) and
//! hands them to the connection's `poll_write_vectored` in order; there,
//! `Conn` recognises a placeholder by its address and sends the queued file
//! range with `sendfile` instead. hyper still frames the response (lengths,
//! keep-alive, pipelining) and counts the bytes as written; the bytes never
//! reach user space.
//!
//! Invariants: placeholders are written in the order they were queued, each
//! whole (a placeholder's remaining length and end address equal its queue
//! entry's). A placeholder that does not match the queue's front, or a
//! queue longer than `MOST_QUEUED`, ends the connection with an error: the
//! zeros themselves are never sent. Only files on local filesystems get
//! placeholders (`local_filesystem`, decided at open). Chunks not in the
//! page cache take the copying path (a read on the blocking pool), so
//! `sendfile` runs on the runtime's threads only over cached pages (a page
//! evicted between the check and the send costs that send one disk read).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use prometheus_client::metrics::counter::Counter;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// Largest placeholder, so the most one `sendfile` is asked to send (the
/// socket takes what fits). With 50 streams, 1 MiB pieces cost 1,967
/// `sendfile` calls per GiB against nginx's 1,380 (its
/// `sendfile_max_chunk` is 2 MiB); 4 MiB pieces cost 1,216 against 1,147.
pub const CHUNK: usize = 4 << 20;
/// The piece tried when `CHUNK` bytes are not all in the page cache.
pub const CHUNK_CACHED_AHEAD: usize = 1 << 20;
/// Smaller pieces (a remux's audio frames) are cheaper copied.
const SMALLEST: usize = 16 * 1024;
/// Placeholders start at one of this many places in `zeros()` in turn, so
/// consecutive ones end at different addresses (checked when sent).
const STARTS: usize = 16;
/// Most ranges a connection may have waiting: hyper asks for a body chunk
/// only while it holds less than 64 KiB and 16 buffers, so a handful at
/// most; more means placeholders are not reaching `Conn` (copied instead):
/// the connection ends.
const MOST_QUEUED: usize = 32;

/// The placeholders' bytes: never sent, never read (a zeroed static costs
/// no memory until touched). In `.bss`: the `UnsafeCell` keeps it out of
/// the read-only data, where its 4 MiB of zeros would be in the binary.
struct Zeros(std::cell::UnsafeCell<[u8; CHUNK + STARTS * 4096]>);

// SAFETY: never written; only shared references to it are made (`zeros`).
unsafe impl Sync for Zeros {}

static ZEROS_CELL: Zeros = Zeros(std::cell::UnsafeCell::new([0; CHUNK + STARTS * 4096]));

fn zeros() -> &'static [u8; CHUNK + STARTS * 4096] {
    // SAFETY: nothing writes `ZEROS_CELL`; shared references only.
    unsafe { &*ZEROS_CELL.0.get() }
}

/// A file range waiting for its placeholder to be written.
struct Queued {
    file: Arc<File>,
    pos: u64,
    len: u64,
    /// Where its placeholder ends in memory (the same after partial writes).
    end: usize,
}

/// One connection's file ranges waiting to be sent, shared between the
/// bodies of its responses (which queue them) and its `Conn` (which sends
/// them).
#[derive(Clone, Default)]
pub struct Pending {
    queue: Arc<Mutex<VecDeque<Queued>>>,
    /// Placeholders made, to pick where the next one starts.
    made: Arc<std::sync::atomic::AtomicUsize>,
    /// Bytes sent with `sendfile` (`/metrics`).
    sent: Counter,
    /// Every chunk counts as cached (`ZeroCopy::Forced`, for tests).
    forced: bool,
}

impl Pending {
    pub fn new(sent: Counter, forced: bool) -> Self {
        Pending { queue: Arc::default(), made: Arc::default(), sent, forced }
    }

    /// A placeholder for `len` (at most `CHUNK`) bytes of `file` from `pos`,
    /// when they are all in the page cache and zero-copy sending works here.
    pub fn placeholder(&self, file: &Arc<File>, pos: u64, len: usize) -> Option<Bytes> {
        if !(SMALLEST..=CHUNK).contains(&len)
            || UNSUPPORTED.load(Ordering::Relaxed)
            || !(self.forced || cached(file, pos, len as u64))
        {
            return None;
        }
        let start = self.made.fetch_add(1, Ordering::Relaxed) % STARTS * 4096;
        let placeholder = &zeros()[start..start + len];
        let end = placeholder.as_ptr_range().end as usize;
        self.queue.lock().ok()?.push_back(Queued { file: file.clone(), pos, len: len as u64, end });
        Some(Bytes::from_static(placeholder))
    }
}

/// Set once `sendfile` or `cachestat` is missing or refused here (an old
/// kernel, a filesystem without it): every later chunk is copied.
static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// Whether `file` is on a filesystem whose cached reads never wait on
/// anything but memory (local disks, tmpfs, overlays). Network and FUSE
/// filesystems may check with their server on a read, even of cached
/// pages, so their chunks are read on the blocking pool instead.
pub fn local_filesystem(file: &File) -> bool {
    let Ok(fs) = rustix::fs::fstatfs(file) else { return false };
    matches!(
        fs.f_type as u64,
        0xEF53 // ext2, ext3, ext4
            | 0x5846_5342 // xfs
            | 0x9123_683E // btrfs
            | 0x0102_1994 // tmpfs
            | 0xF2F5_2010 // f2fs
            | 0x2FC1_2FC1 // zfs
            | 0xCA45_1A4E // bcachefs
            | 0x794C_7630 // overlayfs
            | 0x2011_BAB0 // exfat
            | 0x4D44 // vfat
            | 0x7366_746E // ntfs3
            | 0x482B // hfsplus
            | 0x3153_464A // jfs
            | 0x5265_4973 // reiserfs
            | 0x9660 // iso9660
            | 0x1501_3346 // udf
            | 0x7371_7368 // squashfs
    )
}

fn is_placeholder(s: &[u8]) -> bool {
    let zeros = zeros().as_ptr_range();
    !s.is_empty() && zeros.contains(&s.as_ptr()) && s.as_ptr_range().end <= zeros.end
}

/// The connection: a `TcpStream` whose writes send placeholders' ranges
/// with `sendfile`.
pub struct Conn {
    stream: TcpStream,
    pending: Pending,
}

impl Conn {
    pub fn new(stream: TcpStream, pending: Pending) -> Self {
        Conn { stream, pending }
    }

    /// Sends part of the queue's front range, whose `placeholder` (what is
    /// left of it) is being written.
    fn poll_send_file(&mut self, cx: &mut Context<'_>, placeholder: &[u8]) -> Poll<io::Result<usize>> {
        let out_of_step = || io::Error::other("zero-copy send out of step with the response");
        let (len, end) = (placeholder.len(), placeholder.as_ptr_range().end as usize);
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            let (file, pos) = {
                let queue = self.pending.queue.lock().map_err(|_| out_of_step())?;
                match queue.front() {
                    Some(q) if q.len == len as u64 && q.end == end && queue.len() <= MOST_QUEUED => {
                        (q.file.clone(), q.pos)
                    }
                    _ => return Poll::Ready(Err(out_of_step())),
                }
            };
            let sock = self.stream.as_raw_fd();
            let sent = &self.pending.sent;
            match self.stream.try_io(Interest::WRITABLE, || send_file(sock, &file, pos, len, sent)) {
                Ok(0) => {
                    // The file shrank under us: cut the response rather than lie.
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "file shorter than announced",
                    )));
                }
                Ok(n) => {
                    let mut queue = self.pending.queue.lock().map_err(|_| out_of_step())?;
                    if let Some(q) = queue.front_mut() {
                        q.pos += n as u64;
                        q.len -= n as u64;
                        if q.len == 0 {
                            queue.pop_front();
                        }
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// One `sendfile` of up to `len` bytes of `file` from `pos` to `sock`.
/// Where the kernel or filesystem refuses it, the bytes (cached) are read
/// and written instead, and later chunks are copied.
fn send_file(sock: i32, file: &File, pos: u64, len: usize, sent: &Counter) -> io::Result<usize> {
    let mut off = pos as libc::off_t;
    // SAFETY: both descriptors are open for the call; `off` is a valid
    // pointer; the kernel reads the file and writes the socket.
    let n = unsafe { libc::sendfile(sock, file.as_raw_fd(), &mut off, len) };
    if n >= 0 {
        sent.inc_by(n as u64);
        return Ok(n as usize);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => {
            UNSUPPORTED.store(true, Ordering::Relaxed);
            copy_once(sock, file, pos, len.min(64 * 1024))
        }
        _ => Err(err),
    }
}

/// The fallback of `send_file`: one read of cached bytes and one write.
fn copy_once(sock: i32, file: &File, pos: u64, len: usize) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; len];
    let n = file.read_at(&mut buf, pos)?;
    // SAFETY: `buf` holds `n` initialised bytes.
    let w = unsafe { libc::send(sock, buf.as_ptr().cast(), n, libc::MSG_NOSIGNAL) };
    if w < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(w as usize)
}

/// Whether all of `len` bytes of `file` from `pos` are in the page cache
/// (`cachestat(2)`, Linux 6.5). False where it is missing.
///
/// It walks the range's page-cache entries, as `sendfile` then does again:
/// 0.2–0.3 ms a GiB where the file is cached in large folios (read from
/// the disk with read-ahead), 8–25 ms a GiB in 4 KiB pages (a file just
/// written), against nginx's 70–140 ms a GiB for sending (`benches/README.md`).
fn cached(file: &File, pos: u64, len: u64) -> bool {
    #[repr(C)]
    struct Range {
        off: u64,
        len: u64,
    }
    #[repr(C)]
    #[derive(Default)]
    struct Stat {
        cache: u64,
        dirty: u64,
        writeback: u64,
        evicted: u64,
        recently_evicted: u64,
    }
    /// The system call's number, the same on every architecture Linux
    /// gives new calls one number on (all but alpha).
    const CACHESTAT: libc::c_long = 451;
    static PAGE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    let page = *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64);
    let range = Range { off: pos, len };
    let mut stat = Stat::default();
    // SAFETY: the pointers are valid for the call; the kernel writes `stat`.
    let r = unsafe { libc::syscall(CACHESTAT, file.as_raw_fd(), &range as *const Range, &mut stat as *mut Stat, 0) };
    if r != 0 {
        // EPERM: refused by a seccomp filter that does not know the call.
        if matches!(io::Error::last_os_error().raw_os_error(), Some(libc::ENOSYS | libc::EOPNOTSUPP | libc::EPERM)) {
            UNSUPPORTED.store(true, Ordering::Relaxed);
        }
        return false;
    }
    let pages = (pos + len).div_ceil(page) - pos / page;
    stat.cache >= pages
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    /// Writes the bytes before the first placeholder, or sends the
    /// placeholder's file range when it comes first.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let bufs = &bufs[bufs.iter().take_while(|b| b.is_empty()).count()..];
        match bufs.first() {
            Some(first) if is_placeholder(first) => self.poll_send_file(cx, first),
            _ => {
                let plain = bufs.iter().take_while(|b| !is_placeholder(b)).count();
                Pin::new(&mut self.stream).poll_write_vectored(cx, &bufs[..plain])
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised_by_address_only() {
        assert!(is_placeholder(&zeros()[..10]));
        assert!(is_placeholder(&zeros()[zeros().len() - 1..]));
        assert!(!is_placeholder(&[0u8; 10]), "zeros elsewhere are bytes to send");
        assert!(!is_placeholder(&zeros()[..0]));
    }

    #[test]
    fn only_local_filesystems_send_from_the_runtime() {
        // procfs stands for any filesystem not known to be local.
        assert!(!local_filesystem(&File::open("/proc/self/status").unwrap()));
    }

    #[test]
    fn consecutive_placeholders_end_at_different_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![1u8; 100_000]).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let pending = Pending::default();
        let (Some(a), Some(b)) = (pending.placeholder(&file, 0, 20_000), pending.placeholder(&file, 0, 20_000)) else {
            return; // no cachestat here: nothing to check
        };
        assert_ne!(a.as_ptr_range().end, b.as_ptr_range().end);
        let ends: Vec<usize> = pending.queue.lock().unwrap().iter().map(|q| q.end).collect();
        assert_eq!(ends, [a.as_ptr_range().end as usize, b.as_ptr_range().end as usize]);
    }

    #[test]
    fn only_cached_ranges_get_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![7u8; 300_000]).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        let pending = Pending::default();
        let len = pending.queue.lock().unwrap().len();
        assert_eq!(len, 0);
        assert!(pending.placeholder(&file, 0, 0).is_none());
        assert!(pending.placeholder(&file, 0, SMALLEST - 1).is_none(), "small pieces are copied");
        assert!(pending.placeholder(&file, 0, CHUNK + 1).is_none());
        // Just written, so cached (where cachestat exists): one entry each.
        if let Some(p) = pending.placeholder(&file, 1000, 5000) {
            assert!(is_placeholder(&p));
            assert_eq!(p.len(), 5000);
            assert_eq!(pending.queue.lock().unwrap().len(), 1);
        }
        // Past the end of the file nothing is cached.
        assert!(pending.placeholder(&file, 300_000, SMALLEST).is_none());
    }

    #[test]
    fn a_file_cached_only_ahead_still_sends_without_a_copy() {
        use crate::http::stream::{FileBody, Segment};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![3u8; 6 << 20]).unwrap();
        let file = Arc::new(File::open(&path).unwrap());
        // Written out, then the last 4 MiB dropped from the page cache.
        file.sync_all().unwrap();
        // SAFETY: a valid descriptor; the advice only drops clean pages.
        unsafe { libc::posix_fadvise(file.as_raw_fd(), 2 << 20, 4 << 20, libc::POSIX_FADV_DONTNEED) };
        if !cached(&file, 0, 1 << 20) || cached(&file, 0, CHUNK as u64) {
            return; // no cachestat, or a filesystem that keeps every page (tmpfs)
        }
        let pending = Pending::default();
        let segments = vec![Segment::File { pos: 0, end: 6 << 20 }];
        let mut body = FileBody::new(
            crate::library::roots::Content::File(file, 6 << 20),
            segments,
            crate::metrics::Meter::default(),
        )
        .zero_copy(Some(pending.clone()));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let first = rt.block_on(std::future::poll_fn(|cx| body.poll_chunk(cx))).unwrap().unwrap();
        assert!(is_placeholder(&first), "the cached first megabyte is not copied");
        assert_eq!(first.len(), CHUNK_CACHED_AHEAD);
        assert_eq!(pending.queue.lock().unwrap().len(), 1);
    }
}
