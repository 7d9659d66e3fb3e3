//! SSDP (UPnP device discovery): the server's announcements and its
//! answers to searches, on UDP port 1900 of the interfaces DLNA is given.
//!
//! - On start, then every `ANNOUNCE_EVERY`, and when an interface gains an
//!   address: `NOTIFY … ssdp:alive` for the root device, the device id,
//!   the MediaServer type and both services, to 239.255.255.250 out of
//!   each interface; on shutdown, `ssdp:byebye`.
//! - A search (`M-SEARCH`, `MAN: "ssdp:discover"`) from an address on one
//!   of those interfaces' networks is answered (unicast, after a random
//!   wait of at most a second and at most its `MX`) with the location of
//!   the description on that interface's address.
//!
//! What a hostile datagram can cause is bounded: datagrams are read into a
//! 2 KiB buffer, only searches from the interfaces' own networks are
//! answered, at most `MAX_PENDING` answers wait at once, and at most
//! `ANSWERS_PER_SECOND` datagrams go out a second (the rest are dropped),
//! so the server cannot be made to flood a third party.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::renderers::{self, Seen};
use super::Dlna;

/// The SSDP multicast group and port.
pub const GROUP: Ipv4Addr = Ipv4Addr::new(239, 255, 255, 250);
pub const PORT: u16 = 1900;
/// How long players may trust an announcement.
pub const MAX_AGE: u64 = 1800;
/// Announcements are repeated well within `MAX_AGE`.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(MAX_AGE / 3);
/// Interfaces are looked at again (a NAS may get its address late).
const LOOK_EVERY: Duration = Duration::from_secs(30);
const MAX_DATAGRAM: usize = 2048;
const MAX_PENDING: usize = 64;
const ANSWERS_PER_SECOND: u32 = 200;

const MEDIA_SERVER: &str = "urn:schemas-upnp-org:device:MediaServer:1";
const CONTENT_DIRECTORY: &str = "urn:schemas-upnp-org:service:ContentDirectory:1";
const CONNECTION_MANAGER: &str = "urn:schemas-upnp-org:service:ConnectionManager:1";

/// An interface announced on: its name and IPv4 address and network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub ip: Ipv4Addr,
    pub mask: Ipv4Addr,
}

impl Interface {
    /// Whether `ip` is on this interface's network.
    pub fn holds(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::from(self.mask);
        u32::from(ip) & mask == u32::from(self.ip) & mask
    }
}

/// The interfaces to announce on now: those named (all but loopback when
/// none is), with an IPv4 address, and only the one holding `listen` when
/// the server listens on one address.
pub fn interfaces(named: &[String], listen: IpAddr) -> Vec<Interface> {
    let mut out: Vec<Interface> = Vec::new();
    for i in if_addrs::get_if_addrs().unwrap_or_default() {
        let if_addrs::IfAddr::V4(v4) = &i.addr else { continue };
        let wanted = if named.is_empty() { !v4.ip.is_loopback() } else { named.contains(&i.name) };
        let reachable = listen.is_unspecified() || listen == IpAddr::V4(v4.ip);
        if wanted && reachable && !out.iter().any(|o| o.ip == v4.ip) {
            out.push(Interface { name: i.name.clone(), ip: v4.ip, mask: v4.netmask });
        }
    }
    out
}

/// The socket on port 1900 (shared with other SSDP programs on the
/// machine, as they share it).
pub fn bind() -> std::io::Result<UdpSocket> {
    udp(PORT)
}

/// A UDP socket on `port` of every address (0: any port, not shared),
/// sending multicast two hops and to this machine too.
fn udp(port: u16) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_reuse_address(port != 0)?;
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)).into())?;
    socket.set_multicast_loop_v4(true)?;
    socket.set_multicast_ttl_v4(2)?;
    UdpSocket::from_std(socket.into())
}

/// The (NT or ST, USN) pairs the device answers to.
fn targets(udn: &str) -> [(String, String); 5] {
    let with = |t: &str| (t.to_string(), format!("{udn}::{t}"));
    [
        with("upnp:rootdevice"),
        (udn.to_string(), udn.to_string()),
        with(MEDIA_SERVER),
        with(CONTENT_DIRECTORY),
        with(CONNECTION_MANAGER),
    ]
}

fn server_header() -> String {
    format!("{}/1 UPnP/1.0 vidserve/{}", std::env::consts::OS, env!("CARGO_PKG_VERSION"))
}

fn location(ip: Ipv4Addr, port: u16) -> String {
    format!("http://{ip}:{port}{}", super::DEVICE_PATH)
}

/// `NOTIFY` datagrams: `alive` (with where the description is) or `byebye`.
pub fn notify(udn: &str, at: Option<(Ipv4Addr, u16)>) -> Vec<String> {
    targets(udn)
        .into_iter()
        .map(|(nt, usn)| match at {
            Some((ip, port)) => format!(
                "NOTIFY * HTTP/1.1\r\nHOST: {GROUP}:{PORT}\r\nCACHE-CONTROL: max-age={MAX_AGE}\r\nLOCATION: {}\r\n\
                 NT: {nt}\r\nNTS: ssdp:alive\r\nSERVER: {}\r\nUSN: {usn}\r\n\r\n",
                location(ip, port),
                server_header()
            ),
            None => format!(
                "NOTIFY * HTTP/1.1\r\nHOST: {GROUP}:{PORT}\r\nNT: {nt}\r\nNTS: ssdp:byebye\r\nUSN: {usn}\r\n\r\n"
            ),
        })
        .collect()
}

/// A search, read from a datagram.
#[derive(Debug, PartialEq, Eq)]
pub struct Search {
    pub st: String,
    /// Seconds the searcher waits for answers (`None`: a unicast search,
    /// answered at once).
    pub mx: Option<u64>,
}

/// A datagram's first line and headers (names in capitals; at most 32).
fn message(datagram: &[u8]) -> Option<(&str, Vec<(String, &str)>)> {
    let text = std::str::from_utf8(datagram).ok()?;
    let mut lines = text.split('\n').map(|l| l.trim_end_matches('\r'));
    let first = lines.next()?;
    let headers = lines
        .take(32)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_uppercase(), value.trim()))
        .collect();
    Some((first, headers))
}

fn header<'a>(headers: &[(String, &'a str)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
}

/// A datagram as a search; `None` for anything else (announcements of other
/// devices, garbage).
pub fn read_search(datagram: &[u8]) -> Option<Search> {
    let (first, headers) = message(datagram)?;
    if !first.eq_ignore_ascii_case("M-SEARCH * HTTP/1.1") {
        return None;
    }
    let man = header(&headers, "MAN").is_some_and(|v| v.trim_matches('"').eq_ignore_ascii_case("ssdp:discover"));
    let mx = header(&headers, "MX").and_then(|v| v.parse::<u64>().ok());
    let st = header(&headers, "ST").filter(|s| !s.is_empty() && s.len() <= 256)?.to_string();
    man.then_some(Search { st, mx })
}

/// The search for renderers this server sends.
pub fn renderer_search() -> String {
    format!(
        "M-SEARCH * HTTP/1.1\r\nHOST: {GROUP}:{PORT}\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\nST: {}1\r\n\r\n",
        renderers::MEDIA_RENDERER
    )
}

/// A renderer's announcement (`NOTIFY`) or answer to a search, read; `None`
/// for anything else.
pub fn read_renderer(datagram: &[u8]) -> Option<Seen> {
    let (first, headers) = message(datagram)?;
    let kind = if first.eq_ignore_ascii_case("NOTIFY * HTTP/1.1") {
        header(&headers, "NT")?
    } else if first.to_ascii_uppercase().starts_with("HTTP/1.1 200") {
        header(&headers, "ST")?
    } else {
        return None;
    };
    if !kind.starts_with(renderers::MEDIA_RENDERER) {
        return None;
    }
    let usn = header(&headers, "USN")?;
    let udn = usn.split("::").next().filter(|u| !u.is_empty() && u.len() <= 128)?.to_string();
    if header(&headers, "NTS").is_some_and(|v| v.eq_ignore_ascii_case("ssdp:byebye")) {
        return Some(Seen::Gone { udn });
    }
    let location = header(&headers, "LOCATION").filter(|l| l.len() <= 512)?.to_string();
    let max_age = header(&headers, "CACHE-CONTROL")
        .and_then(|v| v.split(',').find_map(|p| p.trim().strip_prefix("max-age=")?.trim().parse::<u64>().ok()))
        .unwrap_or(MAX_AGE)
        .clamp(60, 86_400);
    Some(Seen::Alive { udn, location, max_age })
}

/// The answers to a search for `st` (none when it names something else).
pub fn answers(udn: &str, st: &str, at: (Ipv4Addr, u16)) -> Vec<String> {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    targets(udn)
        .into_iter()
        .filter(|(nt, _)| st == "ssdp:all" || st == nt)
        .map(|(nt, usn)| {
            format!(
                "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age={MAX_AGE}\r\nDATE: {date}\r\nEXT:\r\nLOCATION: {}\r\n\
                 SERVER: {}\r\nST: {nt}\r\nUSN: {usn}\r\nContent-Length: 0\r\n\r\n",
                location(at.0, at.1),
                server_header()
            )
        })
        .collect()
}

/// Datagrams that may go out now: `ANSWERS_PER_SECOND`, refilled each second.
struct Budget {
    left: u32,
    since: Instant,
}

impl Budget {
    fn take(&mut self, n: u32) -> bool {
        if self.since.elapsed() >= Duration::from_secs(1) {
            (self.left, self.since) = (ANSWERS_PER_SECOND, Instant::now());
        }
        let ok = self.left >= n;
        if ok {
            self.left -= n;
        }
        ok
    }
}

/// Announces and answers until `stop` changes; then says goodbye.
pub async fn run(
    dlna: Arc<Dlna>,
    socket: UdpSocket,
    port: u16,
    listen: IpAddr,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut joined: Vec<Interface> = Vec::new();
    let mut pending: Vec<(Instant, SocketAddr, Vec<String>)> = Vec::new();
    let mut budget = Budget { left: ANSWERS_PER_SECOND, since: Instant::now() };
    let mut look = tokio::time::interval(LOOK_EVERY);
    let mut announce = tokio::time::interval_at(Instant::now() + ANNOUNCE_EVERY, ANNOUNCE_EVERY);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut answer_buf = vec![0u8; MAX_DATAGRAM];
    let mut warned = false;
    // Searches for renderers go out of their own socket, so the answers
    // (unicast) come back to it and not to whichever program shares 1900.
    let searcher = match udp(0) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("DLNA: cannot search for renderers (TVs to play on): {e}");
            None
        }
    };
    loop {
        let due = pending.iter().map(|p| p.0).min();
        tokio::select! {
            _ = stop.changed() => break,
            _ = look.tick() => {
                let now = interfaces(&dlna.interfaces, listen);
                for gone in joined.iter().filter(|j| !now.contains(j)) {
                    let _ = socket.leave_multicast_v4(GROUP, gone.ip);
                    tracing::info!(interface = %gone.name, ip = %gone.ip, "DLNA: no longer announced here");
                }
                joined.retain(|j| now.contains(j));
                if now.is_empty() && joined.is_empty() && !warned {
                    warned = true;
                    tracing::warn!(
                        named = ?dlna.interfaces,
                        listen = %listen,
                        "DLNA: no interface to announce on (none named has an IPv4 address the server listens on); \
                         players will not find the server until one does"
                    );
                }
                let new: Vec<Interface> = now.into_iter().filter(|n| !joined.contains(n)).collect();
                for new in new {
                    match socket.join_multicast_v4(GROUP, new.ip) {
                        Ok(()) => {
                            tracing::info!(interface = %new.name, ip = %new.ip, "DLNA: announced here");
                            // Twice: a datagram may be lost.
                            for _ in 0..2 {
                                send_notify(&socket, &dlna.udn, &new, Some(port)).await;
                            }
                            send_search(searcher.as_ref(), &new).await;
                            joined.push(new);
                        }
                        Err(e) => tracing::warn!(interface = %new.name, "DLNA: cannot join the SSDP group: {e}"),
                    }
                }
            }
            _ = announce.tick() => {
                for i in &joined {
                    send_notify(&socket, &dlna.udn, i, Some(port)).await;
                    send_search(searcher.as_ref(), i).await;
                }
            }
            _ = dlna.renderers.search.notified() => {
                for i in &joined {
                    send_search(searcher.as_ref(), i).await;
                }
            }
            got = recv_maybe(searcher.as_ref(), &mut answer_buf) => {
                let Ok((n, SocketAddr::V4(from))) = got else { continue };
                let Some(on) = joined.iter().find(|i| i.holds(*from.ip())) else { continue };
                if let Some(seen) = read_renderer(&answer_buf[..n]) {
                    dlna.renderers.sighted(seen, *from.ip(), on.ip);
                }
            }
            _ = sleep_until(due) => {
                let now = Instant::now();
                let (ready, later): (Vec<_>, Vec<_>) = pending.drain(..).partition(|p| p.0 <= now);
                pending = later;
                for (_, to, datagrams) in ready {
                    for d in datagrams {
                        let _ = socket.send_to(d.as_bytes(), to).await;
                    }
                }
            }
            got = socket.recv_from(&mut buf) => {
                let Ok((n, from)) = got else { continue };
                let SocketAddr::V4(from4) = from else { continue };
                let Some(on) = joined.iter().find(|i| i.holds(*from4.ip())) else { continue };
                let Some(search) = read_search(&buf[..n]) else {
                    if let Some(seen) = read_renderer(&buf[..n]) {
                        dlna.renderers.sighted(seen, *from4.ip(), on.ip);
                    }
                    continue;
                };
                let datagrams = answers(&dlna.udn, &search.st, (on.ip, port));
                if datagrams.is_empty() || pending.len() >= MAX_PENDING || !budget.take(datagrams.len() as u32) {
                    continue;
                }
                // A multicast search (it has an MX of at least one second) waits
                // up to a second, so many devices' answers spread out.
                let wait = search.mx.map_or(0, |_| fastrand::u64(..1000));
                pending.push((Instant::now() + Duration::from_millis(wait), from, datagrams));
            }
        }
    }
    for i in &joined {
        send_notify(&socket, &dlna.udn, i, None).await;
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn recv_maybe(socket: Option<&UdpSocket>, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    match socket {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// A search for renderers, out of `on`.
async fn send_search(socket: Option<&UdpSocket>, on: &Interface) {
    let Some(socket) = socket else { return };
    if socket2::SockRef::from(socket).set_multicast_if_v4(&on.ip).is_ok() {
        let to = SocketAddr::V4(SocketAddrV4::new(GROUP, PORT));
        if let Err(e) = socket.send_to(renderer_search().as_bytes(), to).await {
            tracing::debug!(interface = %on.name, "DLNA: search not sent: {e}");
        }
    }
}

/// `alive` (with the HTTP port) or, without one, `byebye`, out of `on`.
async fn send_notify(socket: &UdpSocket, udn: &str, on: &Interface, port: Option<u16>) {
    if let Err(e) = socket2::SockRef::from(socket).set_multicast_if_v4(&on.ip) {
        tracing::debug!(interface = %on.name, "DLNA: {e}");
        return;
    }
    let to = SocketAddr::V4(SocketAddrV4::new(GROUP, PORT));
    for d in notify(udn, port.map(|p| (on.ip, p))) {
        if let Err(e) = socket.send_to(d.as_bytes(), to).await {
            tracing::debug!(interface = %on.name, "DLNA: announcement not sent: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UDN: &str = "uuid:0b8e5f5e-6a2b-4c1d-9e3f-112233445566";

    #[test]
    fn reads_searches() {
        let s = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 3\r\nST: ssdp:all\r\n\r\n";
        assert_eq!(read_search(s), Some(Search { st: "ssdp:all".into(), mx: Some(3) }));
        let unicast = b"m-search * HTTP/1.1\nman: \"ssdp:discover\"\nst: upnp:rootdevice\n\n";
        assert_eq!(read_search(unicast), Some(Search { st: "upnp:rootdevice".into(), mx: None }));
        // Not searches.
        assert_eq!(read_search(b"NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n"), None);
        assert_eq!(read_search(b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"), None, "no MAN");
        assert_eq!(read_search(b"M-SEARCH * HTTP/1.1\r\nMAN: \"ssdp:discover\"\r\n\r\n"), None, "no ST");
        assert_eq!(read_search(&[0xff, 0xfe, 0x00]), None);
        assert_eq!(read_search(b""), None);
    }

    #[test]
    fn answers_what_it_is() {
        let at = (Ipv4Addr::new(192, 168, 1, 5), 8080);
        assert_eq!(answers(UDN, "ssdp:all", at).len(), 5);
        let one = answers(UDN, MEDIA_SERVER, at);
        assert_eq!(one.len(), 1);
        assert!(one[0].starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(one[0].contains("\r\nLOCATION: http://192.168.1.5:8080/dlna/device.xml\r\n"));
        assert!(one[0].contains(&format!("\r\nUSN: {UDN}::{MEDIA_SERVER}\r\n")));
        assert!(one[0].ends_with("\r\n\r\n"));
        assert_eq!(answers(UDN, UDN, at).len(), 1);
        assert!(answers(UDN, "urn:schemas-upnp-org:device:MediaRenderer:1", at).is_empty());
        assert!(answers(UDN, "upnp:rootdevice ", at).is_empty());
    }

    #[test]
    fn announces_and_says_goodbye() {
        let alive = notify(UDN, Some((Ipv4Addr::LOCALHOST, 9)));
        assert_eq!(alive.len(), 5);
        assert!(alive.iter().all(|d| d.contains("NTS: ssdp:alive") && d.contains("LOCATION: http://127.0.0.1:9/")));
        let bye = notify(UDN, None);
        assert!(bye.iter().all(|d| d.contains("NTS: ssdp:byebye") && !d.contains("LOCATION")));
    }

    #[test]
    fn reads_renderers() {
        let alive = b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=100\r\n\
            LOCATION: http://10.77.0.1:49494/description.xml\r\nNT: urn:schemas-upnp-org:device:MediaRenderer:1\r\n\
            NTS: ssdp:alive\r\nUSN: uuid:abc::urn:schemas-upnp-org:device:MediaRenderer:1\r\n\r\n";
        assert_eq!(
            read_renderer(alive),
            Some(Seen::Alive {
                udn: "uuid:abc".into(),
                location: "http://10.77.0.1:49494/description.xml".into(),
                max_age: 100
            })
        );
        let answer = b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=5\r\nLOCATION: http://10.0.0.2/d.xml\r\n\
            ST: urn:schemas-upnp-org:device:MediaRenderer:1\r\nUSN: uuid:tv::urn:schemas-upnp-org:device:MediaRenderer:1\r\n\r\n";
        let Some(Seen::Alive { max_age, .. }) = read_renderer(answer) else { panic!("an answer") };
        assert_eq!(max_age, 60, "at least a minute");
        let bye = b"NOTIFY * HTTP/1.1\r\nNT: urn:schemas-upnp-org:device:MediaRenderer:1\r\nNTS: ssdp:byebye\r\nUSN: uuid:abc::x\r\n\r\n";
        assert_eq!(read_renderer(bye), Some(Seen::Gone { udn: "uuid:abc".into() }));
        // Servers, searches, garbage.
        let ours = notify(UDN, Some((Ipv4Addr::LOCALHOST, 9)));
        assert!(ours.iter().all(|d| read_renderer(d.as_bytes()).is_none()));
        assert_eq!(read_renderer(renderer_search().as_bytes()), None);
        assert_eq!(read_renderer(b"\xff\xfe"), None);
        let no_location = b"NOTIFY * HTTP/1.1\r\nNT: urn:schemas-upnp-org:device:MediaRenderer:1\r\nNTS: ssdp:alive\r\nUSN: uuid:a\r\n\r\n";
        assert_eq!(read_renderer(no_location), None);
        assert!(read_search(renderer_search().as_bytes()).is_some());
    }

    #[test]
    fn networks() {
        let i =
            Interface { name: "eth0".into(), ip: Ipv4Addr::new(192, 168, 1, 5), mask: Ipv4Addr::new(255, 255, 255, 0) };
        assert!(i.holds(Ipv4Addr::new(192, 168, 1, 200)));
        assert!(!i.holds(Ipv4Addr::new(192, 168, 2, 1)));
        assert!(!i.holds(Ipv4Addr::new(8, 8, 8, 8)));
    }

    #[test]
    fn budget_bounds_answers() {
        let mut b = Budget { left: ANSWERS_PER_SECOND, since: Instant::now() };
        let sent = (0..1000).filter(|_| b.take(5)).count();
        assert_eq!(sent as u32, ANSWERS_PER_SECOND / 5);
    }
}
