//! A connection wrapper that gives up on a client that stops reading: a
//! write (or flush) that makes no progress for `timeout` fails, and hyper
//! closes the connection, freeing its buffers and the file behind a stream.
//! Reads are untouched (hyper bounds the request head's time itself; bodies
//! are bounded by the handlers).
//!
//! A stream stalls thousands of times a second (every full socket buffer),
//! so a stall costs no allocation and no timer registration: the
//! connection keeps one timer, armed once, and moves it only when it fires
//! early (at most once per `timeout`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

pub struct IdleWrite<S> {
    inner: S,
    timeout: Duration,
    /// When the write now waiting first found the client not reading;
    /// `None` while writes go through.
    stalled_since: Option<Instant>,
    /// Never later than `stalled_since + timeout` while a write waits: it
    /// wakes the connection at or before its deadline.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<S> IdleWrite<S> {
    pub fn new(inner: S, timeout: Duration) -> Self {
        IdleWrite { inner, timeout, stalled_since: None, timer: None }
    }

    /// Turns `Pending` into an error once the client stalled too long.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled_since = None;
            return poll;
        }
        let now = Instant::now();
        let deadline = *self.stalled_since.get_or_insert(now) + self.timeout;
        if now >= deadline {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading")));
        }
        let timer = self.timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // Set for an earlier stall (deadlines only move later): once it
        // fires, it is moved to this one's, which is still ahead.
        if timer.as_mut().poll(cx).is_ready() {
            timer.as_mut().reset(deadline);
            let _ = timer.as_mut().poll(cx);
        }
        Poll::Pending
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleWrite<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleWrite<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// A socket whose buffer takes `room` bytes, then is full until the
    /// test makes room again.
    struct Socket {
        room: std::sync::Arc<std::sync::Mutex<(usize, Option<std::task::Waker>)>>,
    }

    impl AsyncWrite for Socket {
        fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            let mut room = self.room.lock().unwrap();
            if room.0 == 0 {
                room.1 = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let n = buf.len().min(room.0);
            room.0 -= n;
            Poll::Ready(Ok(n))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn socket() -> (Socket, impl Fn(usize)) {
        let room = std::sync::Arc::new(std::sync::Mutex::new((0, None::<std::task::Waker>)));
        let handle = room.clone();
        let make_room = move |n| {
            let mut r = handle.lock().unwrap();
            r.0 += n;
            if let Some(w) = r.1.take() {
                w.wake();
            }
        };
        (Socket { room }, make_room)
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_never_reads_is_cut_after_the_timeout() {
        let (sock, _room) = socket();
        let mut w = IdleWrite::new(sock, Duration::from_secs(10));
        let started = Instant::now();
        let err = w.write_all(b"hello").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed().as_secs(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_reading_is_never_cut() {
        let (sock, make_room) = socket();
        let mut w = IdleWrite::new(sock, Duration::from_secs(10));
        // Room for a byte every 7 s: 70 s in all, each stall under 10 s,
        // so the timer set for the first stall fires early and is moved.
        let writer = tokio::spawn(async move { w.write_all(&[1u8; 10]).await.map(|_| w) });
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_secs(7)).await;
            make_room(1);
        }
        let mut w = writer.await.unwrap().expect("never cut");
        // Then a stall as long as the timeout ends it, 10 s after it began.
        let started = Instant::now();
        let err = w.write_all(b"more").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed().as_secs(), 10);
    }
}
