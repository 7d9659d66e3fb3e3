//! Who may talk to the server, decided before routing:
//!
//! - the client's address (`client_ip`): the peer, or with `--trusted-proxy`
//!   the address that proxy puts last in `X-Forwarded-For`; only local
//!   network addresses are answered unless `--allow-public` (`is_local`);
//! - the `Host` it asked for (`host_allowed`): only names of this server —
//!   IP literals, `localhost`, this machine's name, `NAME.local`, names under
//!   `home.arpa`, and `--host-name`s. A web page that rebinds its own domain
//!   to the server's address (DNS rebinding) still sends its own name, and
//!   is refused;
//! - writes from web pages (`same_origin`): a browser must say where the
//!   request comes from, and it must be this server.
//!
//! Pure functions over headers and addresses; no I/O.

use std::net::IpAddr;

use hyper::header::{HeaderMap, HOST, ORIGIN};

use super::error::ApiError;
use crate::cli::Network;

/// How a request reached the server (a request extension on every one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Over {
    /// Plain HTTP, on a server without HTTPS.
    Http,
    /// HTTPS (HTTP/1.1 or HTTP/2).
    Https,
    /// Plain HTTP to a server that speaks HTTPS: redirected, but for what
    /// a device needs before it trusts the server.
    HttpBesideHttps,
}

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 64 * 1024;

pub use crate::dial::is_local;

/// Who sent a request, as far as can be told: `known` is false when it
/// came through a proxy not named with `--trusted-proxy` (then `ip` is the
/// proxy's, and says nothing about the client).
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub ip: IpAddr,
    pub known: bool,
}

impl Client {
    /// On this machine or a private network, for certain.
    pub fn is_local(&self) -> bool {
        self.known && is_local(self.ip)
    }

    /// The client's key in the sign-in throttle: its address, or one key
    /// that every client that cannot be told shares.
    pub fn throttle_key(&self) -> String {
        if self.known {
            format!("ip:{}", self.ip)
        } else {
            "ip:unknown".into()
        }
    }
}

/// The address of the client: the peer itself, or, when the peer is a
/// trusted proxy, the address it appended last to `X-Forwarded-For` (a
/// client can forge the entries before it, never that one). `None` when
/// the client cannot be told: a trusted proxy that names no readable
/// address, or a request forwarded by a proxy not named with
/// `--trusted-proxy` (behind it every client would look local).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[Network]) -> Option<IpAddr> {
    let peer = peer.to_canonical();
    let forwarded = forwarded_last(headers);
    if trusted_proxies.iter().any(|p| p.contains(peer)) {
        return forwarded.flatten();
    }
    match forwarded {
        // Forwarded for someone else by an unnamed proxy: unknown.
        Some(last) if last != Some(peer) => None,
        _ => Some(peer),
    }
}

/// Whether the request is a trusted proxy's own (no `X-Forwarded-For`):
/// its health checks, which name no client.
pub fn from_proxy_itself(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[Network]) -> bool {
    headers.get("x-forwarded-for").is_none() && trusted_proxies.iter().any(|p| p.contains(peer))
}

/// The last entry of `X-Forwarded-For` (all its lines, read as bytes):
/// `None` without the header, `Some(None)` when that entry is no address.
/// Accepts `IP`, `IP:port` and `[IPv6]:port`.
fn forwarded_last(headers: &HeaderMap) -> Option<Option<IpAddr>> {
    let last =
        headers.get_all("x-forwarded-for").iter().flat_map(|v| v.as_bytes().split(|&b| b == b',')).next_back()?;
    let text = std::str::from_utf8(last).ok().map(str::trim);
    Some(text.and_then(parse_host_port).map(|ip| ip.to_canonical()))
}

fn parse_host_port(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    s.rsplit_once(':').and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse().ok()))
}

/// The names this server answers to, besides IP literals and `localhost`.
#[derive(Debug, Clone, Default)]
pub struct HostNames {
    /// Lowercase, without a trailing dot: this machine's name and the
    /// `--host-name`s.
    names: Vec<String>,
}

impl HostNames {
    /// This machine's name plus `extra` (from `--host-name`).
    pub fn new(machine: Option<&str>, extra: &[String]) -> HostNames {
        let mut names: Vec<String> = machine.into_iter().map(String::from).chain(extra.iter().cloned()).collect();
        for n in &mut names {
            *n = n.trim().trim_end_matches('.').to_ascii_lowercase();
        }
        names.retain(|n| !n.is_empty());
        HostNames { names }
    }

    /// Whether a `Host` header value names this server.
    pub fn allows(&self, host: &str) -> bool {
        let Some(name) = host_name(host) else { return false };
        if name.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        if name.ends_with(".home.arpa") {
            return true;
        }
        // `NAME` and `NAME.local` for each known name (mDNS).
        let bare = name.strip_suffix(".local").unwrap_or(&name);
        self.names.iter().any(|n| *n == name || n.strip_suffix(".local").unwrap_or(n) == bare)
    }
}

/// The name part of a `Host` value: lowercase, without port, brackets or a
/// trailing dot. `None` when it is not a plausible host.
fn host_name(host: &str) -> Option<String> {
    let host = host.trim();
    let port_ok =
        |p: &str| p.is_empty() || (p.starts_with(':') && p.len() > 1 && p[1..].bytes().all(|b| b.is_ascii_digit()));
    let name = if let Some(rest) = host.strip_prefix('[') {
        // `[IPv6]` or `[IPv6]:port`, nothing else.
        let (inside, after) = rest.split_once(']')?;
        if !port_ok(after) || inside.parse::<std::net::Ipv6Addr>().is_err() {
            return None;
        }
        inside
    } else {
        match host.rsplit_once(':') {
            Some((n, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => host,
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let plausible = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:_".contains(&b));
    plausible.then_some(name)
}

/// The host a request names: its `Host` header, or over HTTP/2 the
/// `:authority` (which hyper puts in the URI). `Some("")` for a `Host`
/// that is not text (refused by `check_host`).
pub fn request_host(parts: &hyper::http::request::Parts) -> Option<&str> {
    match parts.headers.get(HOST) {
        Some(h) => Some(h.to_str().unwrap_or("")),
        None => parts.uri.authority().map(|a| a.as_str()),
    }
}

/// Refuses a host (`request_host`) that does not name this server (421,
/// with how to allow it). A request without one (HTTP/1.0 tools) is let
/// through: browsers always send one.
pub fn check_host(host: Option<&str>, names: &HostNames) -> Result<(), ApiError> {
    let Some(host) = host else { return Ok(()) };
    if names.allows(host) {
        return Ok(());
    }
    let shown: String = host.chars().filter(|c| !c.is_control()).take(100).collect();
    Err(ApiError::Misdirected(format!(
        "this server does not answer to the name {shown:?}; if that name is meant to reach it, \
         start vidserve with --host-name {} (or set VIDSERVE_HOST_NAMES)",
        host_name(&shown).unwrap_or_else(|| "NAME".into())
    )))
}

/// Changes must come from our own pages. A browser marks its requests with
/// `Sec-Fetch-*` headers and an `Origin` on every state-changing request:
/// cross-site ones are refused, and so is a browser request without
/// `Origin`. Non-browser clients (curl, scripts) send neither and are
/// allowed (they cannot be driven by a web page).
pub fn same_origin(headers: &HeaderMap, host: Option<&str>) -> Result<(), ApiError> {
    let refuse = |why: &str| ApiError::Forbidden(format!("{why}; use the vidserve page itself"));
    let browser = headers.contains_key("sec-fetch-site") || headers.contains_key("sec-fetch-mode");
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return Err(refuse("cross-site request refused"));
        }
    }
    match headers.get(ORIGIN) {
        Some(origin) => {
            let host = host.unwrap_or_default().as_bytes();
            let origin = origin.as_bytes();
            let origin_host = origin.strip_prefix(b"http://").or_else(|| origin.strip_prefix(b"https://"));
            if origin_host != Some(host) {
                return Err(refuse("cross-site request refused"));
            }
        }
        None if browser => return Err(refuse("a change from a browser must say where it comes from (Origin)")),
        None => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn local_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.20",
            "169.254.1.1",
            "100.100.1.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.0.2",
        ] {
            assert!(is_local(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            assert!(!is_local(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn hosts_that_name_this_server() {
        let names = HostNames::new(Some("NAS"), &["media.example.com.".into()]);
        for ok in [
            "127.0.0.1:8080",
            "192.168.1.20",
            "[::1]:8080",
            "[fe80::1]",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost",
            "nas",
            "nas.local:8080",
            "NAS.local.",
            "tv.home.arpa",
            "media.example.com:443",
        ] {
            assert!(names.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "nas.evil.example",
            "localhost.evil.example",
            "",
            "a b",
            "x/y",
            "[::1]evil.example",
            "[nas]",
            "nas:",
        ] {
            assert!(!names.allows(bad), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_only_from_a_trusted_proxy() {
        let (peer, proxy): (IpAddr, Network) = ("127.0.0.1".parse().unwrap(), "127.0.0.1".parse().unwrap());
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("10.0.0.9, 203.0.113.7"));
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(client_ip(peer, &h, &[proxy]), Some(ip("203.0.113.7")));
        assert_eq!(client_ip(peer, &h, &[]), None, "forwarded by a proxy nobody named: unknown");
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &h, &[proxy]),
            Some(ip("203.0.113.7")),
            "IPv4 on a dual-stack socket"
        );
        for (xff, want) in [
            ("garbage", None),
            ("203.0.113.7:4711", Some(ip("203.0.113.7"))),
            ("[2001:db8::1]:443", Some(ip("2001:db8::1"))),
        ] {
            h.insert("x-forwarded-for", HeaderValue::from_static(xff));
            assert_eq!(client_ip(peer, &h, &[proxy]), want, "{xff}");
        }
        // Bytes a header may carry but are no text: still not a way in.
        h.insert("x-forwarded-for", HeaderValue::from_bytes(b"\xff, 203.0.113.7").unwrap());
        assert_eq!(client_ip(peer, &h, &[proxy]), Some(ip("203.0.113.7")));
        h.insert("x-forwarded-for", HeaderValue::from_bytes(b"203.0.113.7, \xff").unwrap());
        assert_eq!(client_ip(peer, &h, &[proxy]), None);
        // Proxies named by their network (their addresses change).
        let cluster: Network = "10.42.0.0/16".parse().unwrap();
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.7"));
        assert_eq!(client_ip(ip("10.42.7.9"), &h, &[cluster]), Some(ip("203.0.113.7")));
        assert_eq!(client_ip(ip("10.43.0.1"), &h, &[cluster]), None, "outside the network: not a named proxy");
        let v6: Network = "fd00:1::/32".parse().unwrap();
        assert_eq!(client_ip(ip("fd00:1:2::5"), &h, &[v6]), Some(ip("203.0.113.7")));
        for bad in ["10.42.0.0/33", "fd00::/129", "proxy.local", "10.42.0.0/x", ""] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
        // No header: the peer itself, proxy or not.
        assert_eq!(client_ip(ip("192.168.1.5"), &HeaderMap::new(), &[proxy]), Some(ip("192.168.1.5")));
    }

    #[test]
    fn browsers_must_say_where_a_change_comes_from() {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            let host = h.get(HOST).map(|v| v.to_str().unwrap().to_string());
            same_origin(&h, host.as_deref())
        };
        assert!(with(&[]).is_ok(), "curl");
        assert!(with(&[("host", "nas:8080"), ("origin", "http://nas:8080"), ("sec-fetch-site", "same-origin")]).is_ok());
        assert!(with(&[("host", "nas:8080"), ("origin", "http://evil.example")]).is_err());
        assert!(with(&[("host", "nas:8080"), ("sec-fetch-site", "same-origin")]).is_err(), "browser, no Origin");
        assert!(with(&[("host", "nas:8080"), ("sec-fetch-site", "cross-site"), ("origin", "http://nas:8080")]).is_err());
    }
}
