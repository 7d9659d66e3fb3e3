//! The connection to the OpenAI-compatible endpoint (`dial`: names
//! resolved in pure Rust, TLS by rustls with bundled roots plus
//! `--chat-ca-file`), HTTP/1.1 by hyper. One connection per request; the
//! connection task dies with the response.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

use super::ChatError;
use crate::config::chat::ChatConfig;
use crate::dial::{self, Io};

/// Longest wait for a connection (resolving, TCP and TLS).
const CONNECT: Duration = Duration::from_secs(10);
/// Longest wait for one address (the next is tried after).
const PER_ADDRESS: Duration = Duration::from_secs(4);
/// Most of an error answer read (to quote it).
const ERROR_BODY: usize = 16 * 1024;

pub struct Upstream {
    config: ChatConfig,
    tls: Option<tokio_rustls::TlsConnector>,
}

/// A response whose connection task ends when it is dropped (a hung
/// endpoint never outlives the answer).
pub struct Answer {
    pub response: Response<Incoming>,
    _connection: Connection,
}

/// The task driving a connection, stopped when dropped.
struct Connection(tokio::task::JoinHandle<()>);

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Upstream {
    pub fn new(config: ChatConfig) -> Result<Upstream, ChatError> {
        let tls = if config.endpoint.https { Some(tls_connector(&config)?) } else { None };
        Ok(Upstream { config, tls })
    }

    pub fn config(&self) -> &ChatConfig {
        &self.config
    }

    /// POSTs `body` (JSON) to `{base}/chat/completions`; a 2xx response
    /// is returned to be read as it streams; anything else is an error
    /// quoting the endpoint (without the key).
    pub async fn post(&self, body: Vec<u8>) -> Result<Answer, ChatError> {
        let e = &self.config.endpoint;
        let io = tokio::time::timeout(CONNECT, self.connect()).await.map_err(|_| {
            ChatError::Endpoint(format!("cannot connect to {} within {} s", e.url(), CONNECT.as_secs()))
        })??;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|err| ChatError::Endpoint(format!("cannot talk to {}: {err}", e.url())))?;
        let connection = Connection(tokio::spawn(async move {
            let _ = conn.await;
        }));
        let host = match (e.host.contains(':'), e.https, e.port) {
            (true, _, _) => format!("[{}]:{}", e.host, e.port),
            (false, true, 443) | (false, false, 80) => e.host.clone(),
            (false, _, port) => format!("{}:{port}", e.host),
        };
        let mut req = Request::post(format!("{}/chat/completions", e.base))
            .header(HOST, host)
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream")
            .header(USER_AGENT, concat!("vidserve/", env!("CARGO_PKG_VERSION")));
        if let Some(key) = &self.config.key {
            let mut value = hyper::header::HeaderValue::from_str(&format!("Bearer {}", key.expose()))
                .map_err(|_| ChatError::Endpoint("the API key holds characters a header cannot carry".into()))?;
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|err| ChatError::Endpoint(format!("cannot make a request to {}: {err}", e.url())))?;
        let response = sender
            .send_request(req)
            .await
            .map_err(|err| ChatError::Endpoint(format!("{} closed the connection: {err}", e.url())))?;
        let status = response.status();
        if status.is_success() {
            return Ok(Answer { response, _connection: connection });
        }
        let body = Limited::new(response.into_body(), ERROR_BODY).collect().await.map(|b| b.to_bytes());
        drop(connection);
        let text = self.redact(&body.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default());
        let why = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().or(v["error"].as_str()).map(String::from))
            .unwrap_or(text);
        Err(ChatError::Endpoint(format!("{} answered {status}: {}", e.url(), super::quote(&why))))
    }

    /// `text` with the key, if any, blotted out (whatever an endpoint
    /// echoes back, before it is cut short or shown anywhere).
    pub fn redact(&self, text: &str) -> String {
        super::redact(self.config.key.as_ref(), text)
    }

    async fn connect(&self) -> Result<Box<dyn Io>, ChatError> {
        let e = &self.config.endpoint;
        let addrs = dial::resolve(&e.host, e.port).await.map_err(ChatError::Endpoint)?;
        if addrs.is_empty() {
            return Err(ChatError::Endpoint(format!("{} has no address", e.host)));
        }
        let tcp = dial::tcp(&addrs, PER_ADDRESS)
            .await
            .map_err(|err| ChatError::Endpoint(format!("cannot connect to {}: {err}", e.url())))?;
        let Some(tls) = &self.tls else { return Ok(Box::new(tcp)) };
        let stream = dial::tls(tls, &e.host, tcp)
            .await
            .map_err(|err| ChatError::Endpoint(format!("TLS with {} failed: {err}", e.url())))?;
        Ok(Box::new(stream))
    }
}

fn tls_connector(config: &ChatConfig) -> Result<tokio_rustls::TlsConnector, ChatError> {
    dial::tls_connector(&config.extra_ca)
        .map_err(|e| ChatError::Setup(format!("a certificate of --chat-ca-file cannot be used: {e}")))
}
