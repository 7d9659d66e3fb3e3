//! The HTTP client object storage is reached with (`object_store` signs
//! the requests; this sends them): HTTP/1.1 by hyper over `dial` (names
//! resolved in pure Rust, TLS by rustls with the bundled roots), a few idle
//! connections kept per store, a time limit on connecting, on the answer's
//! head and between any two pieces of its body.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;
use hyper::header::HOST;
use hyper_util::rt::TokioIo;
use object_store::client::{
    HttpClient, HttpConnector, HttpError, HttpErrorKind, HttpRequest, HttpRequestBody, HttpResponse, HttpResponseBody,
    HttpService,
};
use object_store::ClientOptions;

use crate::dial;

/// Longest wait to connect (name, TCP and TLS), and per address.
const CONNECT: Duration = Duration::from_secs(5);
/// Most of an error answer read (object_store quotes it).
const ERROR_BODY: u64 = 64 * 1024;
/// Most bytes read from a store's connection at once.
const READ_BUFFER: usize = 64 * 1024;
/// Idle connections kept, and for how long.
const IDLE: usize = 16;
const IDLE_FOR: Duration = Duration::from_secs(30);

/// Makes the client `object_store` sends its requests through.
#[derive(Debug, Clone)]
pub struct Connector {
    client: Arc<Client>,
}

impl Connector {
    /// `read`: longest wait for an answer's head, or between two pieces
    /// of its body (a store that stalls is an error, not a hang).
    /// `extra_ca`: certificates (DER) to trust besides the bundled roots.
    pub fn new(read: Duration, extra_ca: &[Vec<u8>]) -> Connector {
        let tls = dial::tls_connector(extra_ca).map_err(|e| tracing::warn!("TLS for object storage: {e}")).ok();
        Connector { client: Arc::new(Client { tls, read, idle: Mutex::new(VecDeque::new()) }) }
    }
}

impl HttpConnector for Connector {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(self.clone()))
    }
}

/// Which server a connection goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Server {
    https: bool,
    host: String,
    port: u16,
}

struct Idle {
    server: Server,
    sender: SendRequest<HttpRequestBody>,
    since: Instant,
}

struct Client {
    tls: Option<tokio_rustls::TlsConnector>,
    read: Duration,
    idle: Mutex<VecDeque<Idle>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("objects::http::Client")
    }
}

fn error(kind: HttpErrorKind, why: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> HttpError {
    HttpError::new_boxed(kind, why.into())
}

impl Client {
    /// A connection to `server` ready for a request: an idle one, or new.
    async fn sender(&self, server: &Server) -> Result<SendRequest<HttpRequestBody>, HttpError> {
        if let Ok(mut idle) = self.idle.lock() {
            idle.retain(|i| !i.sender.is_closed() && i.since.elapsed() < IDLE_FOR);
            if let Some(at) = idle.iter().position(|i| &i.server == server && i.sender.is_ready()) {
                if let Some(found) = idle.remove(at) {
                    return Ok(found.sender);
                }
            }
        }
        tokio::time::timeout(CONNECT, self.connect(server))
            .await
            .unwrap_or_else(|_| Err(error(HttpErrorKind::Connect, "connecting took too long")))
    }

    async fn connect(&self, server: &Server) -> Result<SendRequest<HttpRequestBody>, HttpError> {
        let addrs = dial::resolve(&server.host, server.port).await.map_err(|e| error(HttpErrorKind::Connect, e))?;
        let tcp = dial::tcp(&addrs, CONNECT).await.map_err(|e| error(HttpErrorKind::Connect, e))?;
        let io: Box<dyn dial::Io> = match (&self.tls, server.https) {
            (_, false) => Box::new(tcp),
            (Some(tls), true) => {
                Box::new(dial::tls(tls, &server.host, tcp).await.map_err(|e| error(HttpErrorKind::Connect, e))?)
            }
            (None, true) => return Err(error(HttpErrorKind::Connect, "TLS is not available")),
        };
        // A small read buffer: a stream holds little beyond what it passes on.
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .max_buf_size(READ_BUFFER)
            .handshake(TokioIo::new(io))
            .await
            .map_err(|e| error(HttpErrorKind::Connect, e))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Keeps a connection for the next request to `server`.
    fn keep(&self, server: Server, sender: SendRequest<HttpRequestBody>) {
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() >= IDLE {
                idle.pop_front();
            }
            idle.push_back(Idle { server, sender, since: Instant::now() });
        }
    }
}

#[async_trait::async_trait]
impl HttpService for Connector {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let client = &self.client;
        let (mut parts, body) = req.into_parts();
        let https = match parts.uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            other => return Err(error(HttpErrorKind::Request, format!("unsupported scheme {other:?}"))),
        };
        let host = parts.uri.host().ok_or_else(|| error(HttpErrorKind::Request, "no host"))?.to_string();
        let port = parts.uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let server = Server { https, host, port };
        if !parts.headers.contains_key(HOST) {
            let authority = parts.uri.authority().map(|a| a.as_str().to_string()).unwrap_or_default();
            let value =
                hyper::header::HeaderValue::from_str(&authority).map_err(|e| error(HttpErrorKind::Request, e))?;
            parts.headers.insert(HOST, value);
        }
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        parts.uri = path.parse().map_err(|e| error(HttpErrorKind::Request, e))?;
        parts.version = hyper::Version::HTTP_11;
        let request = hyper::Request::from_parts(parts, body);

        let mut sender = client.sender(&server).await?;
        let sent = tokio::time::timeout(client.read, sender.send_request(request)).await;
        let response = match sent {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let kind = if e.is_canceled() || e.is_closed() || e.is_incomplete_message() {
                    HttpErrorKind::Interrupted
                } else {
                    HttpErrorKind::Request
                };
                return Err(error(kind, e));
            }
            Err(_) => return Err(error(HttpErrorKind::Timeout, "no answer in time")),
        };
        // Ready again once this answer's body is read to its end.
        client.keep(server, sender);
        let (parts, body) = response.into_parts();
        // An error's explanation is read to quote it: a few KiB at most.
        let limit = if parts.status.is_success() { u64::MAX } else { ERROR_BODY };
        let timer = Box::pin(tokio::time::sleep(client.read));
        let body = Timed { body, read: client.read, timer, waiting: false, left: limit };
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
    }
}

/// A body that fails when no piece of it arrives for `read` while it is
/// asked for (a reader that pauses is no stalled store), or when it holds
/// more than `left` bytes.
struct Timed {
    body: Incoming,
    read: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
    /// Asked for and not answered yet: the timer runs.
    waiting: bool,
    left: u64,
}

impl Body for Timed {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        if !this.waiting {
            this.waiting = true;
            let deadline = tokio::time::Instant::now() + this.read;
            this.timer.as_mut().reset(deadline);
        }
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(|f| f.data_ref())) {
                    let n = data.map_or(0, |d| d.len() as u64);
                    if n > this.left {
                        return Poll::Ready(Some(Err(error(HttpErrorKind::Decode, "the answer is too long"))));
                    }
                    this.left -= n;
                }
                Poll::Ready(frame.map(|f| f.map_err(|e| error(HttpErrorKind::Interrupted, e))))
            }
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(error(HttpErrorKind::Timeout, "the answer stalled")))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
