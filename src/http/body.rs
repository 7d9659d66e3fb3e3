//! The one response body type: nothing, bytes in memory, or file segments
//! streamed from disk (`stream::FileBody`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Frame, SizeHint};
use tokio::sync::mpsc;

use super::stream::{FileBody, RemuxBody};

pub enum Body {
    Empty,
    Full(Option<Bytes>),
    File(FileBody),
    /// A remuxed stream, made a fragment at a time.
    Remux(RemuxBody),
    /// A stream fed by a task or thread until its sender goes (server-sent
    /// events, a transcode): a first chunk already read (a transcode's,
    /// to know it started), then the rest.
    Stream(Option<Bytes>, mpsc::Receiver<Bytes>),
}

impl Body {
    pub fn full(b: impl Into<Bytes>) -> Self {
        Body::Full(Some(b.into()))
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::File(f) => f.poll_chunk(cx).map(|o| o.map(|r| r.map(Frame::data))),
            Body::Remux(r) => r.poll_chunk(cx).map(|o| o.map(|r| r.map(Frame::data))),
            Body::Stream(first, rx) => match first.take() {
                Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
                None => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(b) => b.is_none(),
            Body::File(f) => f.remaining() == 0,
            Body::Remux(r) => r.remaining() == 0,
            Body::Stream(..) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            Body::File(f) => SizeHint::with_exact(f.remaining()),
            Body::Remux(r) => SizeHint::with_exact(r.remaining()),
            Body::Stream(..) => SizeHint::default(),
        }
    }
}
