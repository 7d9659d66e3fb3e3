//! Reaching a server on the network, for the outbound clients (the chat's
//! endpoint, object storage): names resolved in pure Rust (a static
//! binary's C resolver is unreliable), TCP with a time limit per address,
//! TLS by rustls with the bundled roots.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Loopback, private, link-local and carrier-grade NAT (VPN) addresses: the
/// devices of a home network. Anything else is the internet.
pub fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_local(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

/// A connection, plain or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The runtime in `slot`, made the first time (two worker threads named
/// `name`): an outbound client's own, so its connections are driven
/// whatever the server's runtime is doing, and blocking callers can wait
/// on it.
pub fn runtime(
    slot: &'static OnceLock<tokio::runtime::Runtime>,
    name: &str,
) -> std::io::Result<&'static tokio::runtime::Runtime> {
    static MAKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    if let Some(rt) = slot.get() {
        return Ok(rt);
    }
    let _one = MAKING.lock().map_err(|_| std::io::Error::other("a runtime could not be made"))?;
    if let Some(rt) = slot.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).thread_name(name).enable_all().build()?;
    Ok(slot.get_or_init(|| rt))
}

/// Addresses of `host`: literal addresses and `localhost` directly, other
/// names through a resolver reading /etc/resolv.conf and /etc/hosts.
/// `Err`: what to tell the user.
pub async fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
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
    let resolver =
        resolver.as_ref().map_err(|e| format!("cannot read the system's DNS settings (/etc/resolv.conf): {e}"))?;
    let found = resolver.lookup_ip(host).await.map_err(|e| format!("cannot resolve {host}: {e}"))?;
    Ok(found.iter().map(|ip| SocketAddr::new(ip, port)).collect())
}

/// A TCP connection to the first of `addrs` that answers within
/// `per_address`; the last error when none does.
pub async fn tcp(addrs: &[SocketAddr], per_address: Duration) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "the name has no address");
    for addr in addrs {
        let tried = tokio::time::timeout(per_address, TcpStream::connect(addr)).await;
        match tried.unwrap_or_else(|_| Err(std::io::Error::from(std::io::ErrorKind::TimedOut))) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A TLS client trusting the bundled roots and the certificates (DER) of
/// `extra`, speaking HTTP/1.1.
pub fn tls_connector(extra: &[Vec<u8>]) -> Result<tokio_rustls::TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra {
        roots.add(rustls_pki_types::CertificateDer::from(der.clone())).map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(tls)))
}

/// TLS over `tcp` with `host` (a name or an address) checked.
pub async fn tls(
    connector: &tokio_rustls::TlsConnector,
    host: &str,
    tcp: TcpStream,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = rustls_pki_types::ServerName::try_from(host.to_string()).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{host} is not a name TLS can check"))
    })?;
    connector.connect(name, tcp).await
}
