//! The connection to the OpenAI-compatible endpoint: names resolved in
//! pure Rust (a static binary's C resolver is unreliable), TLS by rustls
//! with bundled roots (plus `--chat-ca-file`), HTTP/1.1 by hyper. One
//! connection per request; the connection task dies with the response.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::ChatError;
use crate::config::chat::ChatConfig;

/// Longest wait for a connection (resolving, TCP and TLS).
const CONNECT: Duration = Duration::from_secs(10);
/// Longest wait for one address (the next is tried after).
const PER_ADDRESS: Duration = Duration::from_secs(4);
/// Most of an error answer read (to quote it).
const ERROR_BODY: usize = 16 * 1024;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

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
        let addrs = resolve(&e.host, e.port).await?;
        let mut last = None;
        for addr in addrs {
            let tried = tokio::time::timeout(PER_ADDRESS, TcpStream::connect(addr)).await;
            let tried = tried.unwrap_or_else(|_| Err(std::io::Error::from(std::io::ErrorKind::TimedOut)));
            match tried {
                Ok(tcp) => {
                    let _ = tcp.set_nodelay(true);
                    let Some(tls) = &self.tls else { return Ok(Box::new(tcp)) };
                    let name = rustls_pki_types::ServerName::try_from(e.host.clone())
                        .map_err(|_| ChatError::Endpoint(format!("{} is not a name TLS can check", e.host)))?;
                    let stream = tls
                        .connect(name, tcp)
                        .await
                        .map_err(|err| ChatError::Endpoint(format!("TLS with {} failed: {err}", e.url())))?;
                    return Ok(Box::new(stream));
                }
                Err(err) => last = Some(err),
            }
        }
        Err(ChatError::Endpoint(match last {
            Some(err) => format!("cannot connect to {}: {err}", e.url()),
            None => format!("{} has no address", e.host),
        }))
    }
}

/// Addresses of `host`: literal addresses and `localhost` directly, other
/// names through a resolver reading /etc/resolv.conf and /etc/hosts.
async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, ChatError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if host == "localhost" {
        return Ok(vec![
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port),
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), port),
        ]);
    }
    static RESOLVER: OnceLock<Result<hickory_resolver::TokioResolver, String>> = OnceLock::new();
    let resolver = RESOLVER.get_or_init(|| {
        hickory_resolver::TokioResolver::builder(hickory_resolver::name_server::TokioConnectionProvider::default())
            .map(|b| b.build())
            .map_err(|e| e.to_string())
    });
    let resolver = resolver
        .as_ref()
        .map_err(|e| ChatError::Endpoint(format!("cannot read the system's DNS settings (/etc/resolv.conf): {e}")))?;
    let found =
        resolver.lookup_ip(host).await.map_err(|e| ChatError::Endpoint(format!("cannot resolve {host}: {e}")))?;
    Ok(found.iter().map(|ip| SocketAddr::new(ip, port)).collect())
}

fn tls_connector(config: &ChatConfig) -> Result<tokio_rustls::TlsConnector, ChatError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in &config.extra_ca {
        roots
            .add(rustls_pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| ChatError::Setup(format!("a certificate of --chat-ca-file cannot be used: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ChatError::Setup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(tls)))
}
