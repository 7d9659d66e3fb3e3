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
    pub fn new(read: Duration) -> Connector {
        let tls = dial::tls_connector(&[]).map_err(|e| tracing::warn!("TLS for object storage: {e}")).ok();
        Connector { client: Arc::new(Client { tls, read, idle: Mutex::new(VecDeque::new()) }) }
    }
}

impl HttpConnector for Connector {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(Shared(self.client.clone())))
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

#[derive(Debug)]
struct Shared(Arc<Client>);

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
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
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
impl HttpService for Shared {
    async fn call(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let client = &self.0;
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
        let body = Timed { body, read: client.read, timer: Box::pin(tokio::time::sleep(client.read)) };
        Ok(HttpResponse::from_parts(parts, HttpResponseBody::new(body)))
    }
}

/// A body that fails when no piece of it arrives for `read`.
struct Timed {
    body: Incoming,
    read: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl Body for Timed {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = tokio::time::Instant::now() + this.read;
                this.timer.as_mut().reset(deadline);
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
