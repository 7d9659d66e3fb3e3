//! One HTTP/1.1 request to a device on the local network (a renderer's
//! description, its control requests): plain HTTP to an IPv4 address
//! (UPnP devices are named by address), a time limit on connecting and on
//! the whole exchange, and a bound on the answer read.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// Longest wait to connect, and for a whole exchange.
const CONNECT: Duration = Duration::from_secs(2);
const EXCHANGE: Duration = Duration::from_secs(5);
/// Most of an answer read (a description or a control answer is a few KiB).
pub const MAX_ANSWER: usize = 64 * 1024;
/// Longest path kept from a device.
const MAX_PATH: usize = 512;

/// `http://IPv4:port/path`, the only URLs devices are reached by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub ip: Ipv4Addr,
    pub port: u16,
    /// Starts with `/`; visible ASCII only.
    pub path: String,
}

impl Url {
    /// An absolute `http://` URL with an IPv4 address; `None` for anything
    /// else (names, IPv6, other schemes, user info, odd characters).
    pub fn parse(text: &str) -> Option<Url> {
        let rest = without_scheme(text.trim())?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().ok().filter(|p| *p != 0)?),
            None => (authority, 80),
        };
        let ip: Ipv4Addr = host.parse().ok()?;
        Some(Url { ip, port, path: clean_path(path)? })
    }

    /// `reference` (absolute, or relative to this URL) as a URL.
    pub fn join(&self, reference: &str) -> Option<Url> {
        let r = reference.trim();
        if without_scheme(r).is_some() {
            return Url::parse(r);
        }
        let path = if r.starts_with('/') {
            r.to_string()
        } else {
            let dir = self.path.split(['?', '#']).next().unwrap_or("/");
            let dir = &dir[..dir.rfind('/').map_or(0, |i| i + 1)];
            format!("{}{r}", if dir.is_empty() { "/" } else { dir })
        };
        Some(Url { ip: self.ip, port: self.port, path: clean_path(&path)? })
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}:{}{}", self.ip, self.port, self.path)
    }
}

/// `text` after its `http://` (any case).
fn without_scheme(text: &str) -> Option<&str> {
    text.get(..7).filter(|s| s.eq_ignore_ascii_case("http://")).map(|_| &text[7..])
}

fn clean_path(path: &str) -> Option<String> {
    let path = path.split('#').next().unwrap_or("/");
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= MAX_PATH
        && path.bytes().all(|b| (0x21..=0x7e).contains(&b));
    ok.then(|| path.to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, std::io::Error),
    #[error("{0} did not answer in time")]
    Timeout(SocketAddr),
    #[error("{0}: {1}")]
    Http(SocketAddr, String),
    #[error("{0} answered more than {MAX_ANSWER} bytes")]
    TooLarge(SocketAddr),
    #[error("the device refused {action} (UPnP error {code})")]
    Refused { action: &'static str, code: u16 },
    #[error("the device's answer to {0} cannot be read")]
    Garbled(&'static str),
}

/// An answer: its status and body (at most `MAX_ANSWER` bytes).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Bytes,
}

/// Sends one request (`body` as `text/xml`, with `headers`) and reads the
/// answer; a device that does not connect within `CONNECT`, or finish
/// within `EXCHANGE`, is an error.
pub async fn request(
    url: &Url,
    method: Method,
    headers: &[(&'static str, String)],
    body: Option<String>,
) -> Result<Answer, ClientError> {
    let addr = SocketAddr::from((url.ip, url.port));
    let exchange = async {
        let stream = match tokio::time::timeout(CONNECT, tokio::net::TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(ClientError::Connect(addr, e)),
            Err(_) => return Err(ClientError::Timeout(addr)),
        };
        let http = |e: hyper::Error| ClientError::Http(addr, e.to_string());
        let (mut send, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(http)?;
        let driver = tokio::spawn(connection);
        let mut req = Request::new(Full::new(Bytes::from(body.unwrap_or_default())));
        *req.method_mut() = method;
        *req.uri_mut() = url.path.parse().map_err(|_| ClientError::Http(addr, "bad path".into()))?;
        let h = req.headers_mut();
        h.insert(HOST, HeaderValue::from_str(&format!("{}:{}", url.ip, url.port)).expect("an address is a header"));
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=\"utf-8\""));
        h.insert("user-agent", HeaderValue::from_static(concat!("vidserve/", env!("CARGO_PKG_VERSION"), " UPnP/1.0")));
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).map_err(|_| ClientError::Http(addr, "bad header".into()))?;
            h.insert(*name, value);
        }
        let res = send.send_request(req).await.map_err(http)?;
        let status = res.status();
        let body = match Limited::new(res.into_body(), MAX_ANSWER).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(ClientError::TooLarge(addr)),
            Err(e) => return Err(ClientError::Http(addr, e.to_string())),
        };
        driver.abort();
        Ok(Answer { status, body })
    };
    tokio::time::timeout(EXCHANGE, exchange).await.unwrap_or(Err(ClientError::Timeout(addr)))
}

/// Calls `action` of a device's `service` at `control` (SOAP): the
/// answer's arguments, or the device's refusal with its UPnP error code.
pub async fn soap(
    control: &Url,
    service: &str,
    action: &'static str,
    args: &[(&str, &str)],
) -> Result<super::soap::Call, ClientError> {
    let body = super::soap::request(service, action, args);
    let headers = [("soapaction", format!("\"{service}#{action}\""))];
    // A device's small web server may close a connection before it answers
    // (libupnp's does under load): tried once more, as the actions sent are
    // idempotent.
    let answer = match request(control, Method::POST, &headers, Some(body.clone())).await {
        Err(ClientError::Http(..)) => {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            request(control, Method::POST, &headers, Some(body)).await?
        }
        other => other?,
    };
    if !answer.status.is_success() {
        let code = super::soap::fault_code(&answer.body).unwrap_or(answer.status.as_u16());
        return Err(ClientError::Refused { action, code });
    }
    super::soap::read(&answer.body).map_err(|_| ClientError::Garbled(action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_devices() {
        let u = Url::parse("http://10.0.0.5:49494/description.xml").unwrap();
        assert_eq!((u.ip, u.port, u.path.as_str()), (Ipv4Addr::new(10, 0, 0, 5), 49494, "/description.xml"));
        assert_eq!(Url::parse("HTTP://192.168.1.2").unwrap().to_string(), "http://192.168.1.2:80/");
        for bad in [
            "https://10.0.0.5/x",
            "http://tv.local:80/x",
            "http://[::1]:80/x",
            "http://user@10.0.0.5/x",
            "http://10.0.0.5:0/x",
            "http://10.0.0.5:99999/x",
            "http://10.0.0.5/a b",
            "http://10.0.0.5//evil.example/x",
            "ftp://10.0.0.5/",
            "",
        ] {
            assert_eq!(Url::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn joins_references() {
        let base = Url::parse("http://10.0.0.5:8080/dev/desc.xml").unwrap();
        assert_eq!(base.join("/upnp/control").unwrap().to_string(), "http://10.0.0.5:8080/upnp/control");
        assert_eq!(base.join("control/av").unwrap().to_string(), "http://10.0.0.5:8080/dev/control/av");
        assert_eq!(base.join("http://10.0.0.6:1/x").unwrap().to_string(), "http://10.0.0.6:1/x");
        assert_eq!(base.join("http://evil.example/x"), None);
        let root = Url::parse("http://10.0.0.5:8080").unwrap();
        assert_eq!(root.join("ctl").unwrap().path, "/ctl");
    }
}
