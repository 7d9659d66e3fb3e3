//! The renderers on the network (TVs, speakers with screens): found by
//! their SSDP announcements and by searches (`ssdp`), described by their
//! device documents, kept until their announcement expires or they say
//! goodbye.
//!
//! What a hostile device can cause is bounded: only a description on the
//! very address the datagram came from is fetched (so an announcement
//! cannot point the server at another machine), and its control URL must
//! be on that address too; at most `MAX_DESCRIBING` descriptions are
//! fetched at once, each at most `client::MAX_ANSWER` bytes within
//! `client`'s time limits; at most `MAX_RENDERERS` are kept; names are
//! cut to `MAX_NAME` characters, control characters dropped.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper::Method;
use quick_xml::events::Event;
use quick_xml::Reader;
use tokio::time::Instant;

use super::cast::{Screen, Slot, AV_TRANSPORT};
use super::client::{self, Url};

pub const MAX_RENDERERS: usize = 32;
const MAX_DESCRIBING: usize = 4;
const MAX_NAME: usize = 64;
/// A search for renderers goes out at most this often when pages ask.
const SEARCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);

pub const MEDIA_RENDERER: &str = "urn:schemas-upnp-org:device:MediaRenderer:";
const CONNECTION_MANAGER: &str = "urn:schemas-upnp-org:service:ConnectionManager:1";

/// A renderer seen in a datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    Alive { udn: String, location: String, max_age: u64 },
    Gone { udn: String },
}

/// A renderer this server can play on.
#[derive(Debug)]
pub struct Renderer {
    /// A short id for URLs (from the UDN).
    pub id: String,
    pub udn: String,
    pub name: String,
    /// Its address, and this server's on its network (where it fetches
    /// videos from).
    pub ip: Ipv4Addr,
    pub via: Ipv4Addr,
    pub location: String,
    /// Its AVTransport's control URL.
    pub transport: Url,
    /// The types it says it plays (`GetProtocolInfo`'s sink); empty when it
    /// did not say.
    pub sink: Vec<String>,
    expires: Mutex<Instant>,
    /// What it plays for us, and whose turn it is to control it.
    pub cast: Arc<Slot>,
}

impl Renderer {
    /// What a cast to it needs.
    pub fn screen(&self) -> Screen {
        Screen { name: self.name.clone(), transport: self.transport.clone(), cast: self.cast.clone() }
    }

    /// Whether it says it plays `mime` (unknown: yes).
    pub fn takes(&self, mime: &str) -> bool {
        self.sink.is_empty() || self.sink.iter().any(|s| s == "*" || s.eq_ignore_ascii_case(mime))
    }

    fn expires(&self) -> Instant {
        *self.expires.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The renderers known now.
#[derive(Debug, Default)]
pub struct Renderers {
    known: Mutex<Vec<Arc<Renderer>>>,
    /// Locations being described.
    describing: Mutex<Vec<String>>,
    last_search: Mutex<Option<Instant>>,
    /// Wakes the SSDP task to search.
    pub search: tokio::sync::Notify,
}

/// A renderer's id: 16 hex digits of its UDN's hash.
pub fn id_of(udn: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(udn.as_bytes()))
}

impl Renderers {
    /// Those whose announcements have not expired, by name.
    pub fn list(&self) -> Vec<Arc<Renderer>> {
        let now = Instant::now();
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        known.retain(|r| r.expires() > now);
        let mut out = known.clone();
        out.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        out
    }

    pub fn get(&self, id: &str) -> Option<Arc<Renderer>> {
        self.list().into_iter().find(|r| r.id == id)
    }

    /// Asks the SSDP task to search for renderers, unless it did lately.
    pub fn wanted(&self) {
        let mut last = self.last_search.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|t| t.elapsed() >= SEARCH_AT_MOST_EVERY) {
            *last = Some(Instant::now());
            self.search.notify_one();
        }
    }

    /// Takes in a datagram's news from `from`, a device on the network of
    /// this server's address `via`: forgets a renderer that left, keeps
    /// one known alive, describes a new one (in the background).
    pub fn sighted(self: &Arc<Self>, seen: Seen, from: Ipv4Addr, via: Ipv4Addr) {
        let (udn, location, max_age) = match seen {
            Seen::Gone { udn } => {
                self.known.lock().unwrap_or_else(|e| e.into_inner()).retain(|r| !(r.udn == udn && r.ip == from));
                return;
            }
            Seen::Alive { udn, location, max_age } => (udn, location, max_age),
        };
        let Some(url) = Url::parse(&location).filter(|u| u.ip == from) else {
            tracing::debug!(%from, location, "DLNA: a renderer's description is not on its own address; ignored");
            return;
        };
        let expires = Instant::now() + Duration::from_secs(max_age);
        {
            let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            known.retain(|r| r.expires() > now);
            if let Some(r) = known.iter().find(|r| r.udn == udn && r.location == location) {
                *r.expires.lock().unwrap_or_else(|e| e.into_inner()) = expires;
                return;
            }
            if known.len() >= MAX_RENDERERS && !known.iter().any(|r| r.udn == udn) {
                return;
            }
        }
        {
            let mut describing = self.describing.lock().unwrap_or_else(|e| e.into_inner());
            if describing.len() >= MAX_DESCRIBING || describing.contains(&location) {
                return;
            }
            describing.push(location.clone());
        }
        let this = self.clone();
        tokio::spawn(async move {
            match describe(&url, &udn, via, expires).await {
                Ok(mut r) => {
                    let mut known = this.known.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(old) = known.iter().position(|k| k.udn == r.udn) {
                        // What it plays for us goes on.
                        r.cast = known[old].cast.clone();
                        known.remove(old);
                    }
                    if known.len() < MAX_RENDERERS {
                        tracing::info!(name = %r.name, ip = %r.ip, "DLNA: found a renderer");
                        known.push(Arc::new(r));
                    }
                }
                Err(why) => tracing::debug!(%url, "DLNA: a renderer could not be described: {why}"),
            }
            this.describing.lock().unwrap_or_else(|e| e.into_inner()).retain(|l| *l != location);
        });
    }
}

/// Fetches and reads a renderer's description at `url`, and asks what it
/// plays.
async fn describe(url: &Url, udn: &str, via: Ipv4Addr, expires: Instant) -> Result<Renderer, String> {
    let answer = client::request(url, Method::GET, &[], None).await.map_err(|e| e.to_string())?;
    if !answer.status.is_success() {
        return Err(format!("answered {}", answer.status));
    }
    let d = read_description(&answer.body, url).ok_or("not a renderer's description")?;
    if d.udn != udn {
        return Err(format!("describes {} where {udn} was announced", d.udn));
    }
    let sink = match &d.connection_manager {
        Some(cm) => match client::soap(cm, CONNECTION_MANAGER, "GetProtocolInfo", &[]).await {
            Ok(call) => sink_types(call.arg("Sink").unwrap_or("")),
            Err(_) => Vec::new(),
        },
        None => Vec::new(),
    };
    Ok(Renderer {
        id: id_of(&d.udn),
        udn: d.udn,
        name: d.name,
        ip: url.ip,
        via,
        location: url.to_string(),
        transport: d.transport,
        sink,
        expires: Mutex::new(expires),
        cast: Arc::default(),
    })
}

/// The MIME types of a `GetProtocolInfo` sink list (`http-get:*:video/mp4:*`,
/// …), at most 256.
pub fn sink_types(list: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .split(',')
        .filter_map(|p| {
            let mut f = p.trim().split(':');
            let (protocol, _, mime) = (f.next()?, f.next()?, f.next()?);
            (protocol == "http-get" || protocol == "*").then(|| mime.trim().to_ascii_lowercase())
        })
        .filter(|m| !m.is_empty() && m.len() <= 100)
        .take(256)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What a renderer's description says.
#[derive(Debug, PartialEq, Eq)]
pub struct Description {
    pub udn: String,
    pub name: String,
    pub transport: Url,
    pub connection_manager: Option<Url>,
}

/// One `device` element being read.
#[derive(Default)]
struct Device {
    kind: String,
    name: String,
    udn: String,
    services: Vec<(String, String)>,
    service: (String, String),
}

/// Reads a device description fetched from `location`: the first
/// MediaRenderer in it (root or embedded) with an AVTransport whose
/// control URL is on `location`'s address.
pub fn read_description(xml: &[u8], location: &Url) -> Option<Description> {
    let text = std::str::from_utf8(xml).ok()?;
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut devices: Vec<Device> = Vec::new();
    let mut url_base: Option<String> = None;
    let mut value = String::new();
    let mut found: Option<Device> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                if path.len() >= 16 {
                    return None;
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "device" {
                    devices.push(Device::default());
                }
                value.clear();
                path.push(name);
            }
            Event::Text(t) => value.push_str(&t.decode().ok()?),
            Event::GeneralRef(r) => {
                value.push('&');
                value.push_str(&r.decode().ok()?);
                value.push(';');
            }
            Event::End(_) => {
                let name = path.pop()?;
                let parent = path.last().map(String::as_str).unwrap_or("");
                let text = || quick_xml::escape::unescape(&value).map(|v| v.trim().to_string()).unwrap_or_default();
                match (parent, name.as_str()) {
                    ("root", "URLBase") => url_base = Some(text()),
                    ("device", "deviceType") => devices.last_mut()?.kind = text(),
                    ("device", "friendlyName") => devices.last_mut()?.name = text(),
                    ("device", "UDN") => devices.last_mut()?.udn = text(),
                    ("service", "serviceType") => devices.last_mut()?.service.0 = text(),
                    ("service", "controlURL") => devices.last_mut()?.service.1 = text(),
                    (_, "service") => {
                        let d = devices.last_mut()?;
                        if d.services.len() < 32 {
                            let s = std::mem::take(&mut d.service);
                            d.services.push(s);
                        }
                    }
                    (_, "device") => {
                        let d = devices.pop()?;
                        if found.is_none() && d.kind.starts_with(MEDIA_RENDERER) {
                            found = Some(d);
                        }
                    }
                    _ => {}
                }
                value.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let d = found?;
    let base =
        url_base.and_then(|b| Url::parse(&b)).filter(|b| b.ip == location.ip).unwrap_or_else(|| location.clone());
    let control = |kind: &str| {
        d.services
            .iter()
            .find(|(t, _)| t.starts_with(kind))
            .and_then(|(_, c)| base.join(c))
            .filter(|u| u.ip == location.ip)
    };
    let transport = control(AV_TRANSPORT.trim_end_matches('1'))?;
    let name: String = d.name.chars().filter(|c| !c.is_control()).take(MAX_NAME).collect();
    let udn: String = d.udn.chars().filter(|c| c.is_ascii_graphic()).take(128).collect();
    if udn.is_empty() {
        return None;
    }
    Some(Description {
        name: if name.trim().is_empty() { "A TV".into() } else { name },
        udn,
        transport,
        connection_manager: control(CONNECTION_MANAGER.trim_end_matches('1')),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GMEDIARENDER: &str = r#"<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
<specVersion><major>1</major><minor>0</minor></specVersion>
<device>
<deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType>
<friendlyName>Living room &amp; TV</friendlyName>
<UDN>uuid:0b6c2d5e-1111-4222-8333-444455556666</UDN>
<iconList><icon><mimetype>image/png</mimetype><url>/upnp/grender-64x64.png</url></icon></iconList>
<serviceList>
<service>
<serviceType>urn:schemas-upnp-org:service:AVTransport:1</serviceType>
<serviceId>urn:upnp-org:serviceId:AVTransport</serviceId>
<SCPDURL>/upnp/rendertransportSCPD.xml</SCPDURL>
<controlURL>/upnp/control/rendertransport1</controlURL>
<eventSubURL>/upnp/event/rendertransport1</eventSubURL>
</service>
<service>
<serviceType>urn:schemas-upnp-org:service:ConnectionManager:1</serviceType>
<controlURL>upnp/control/renderconnmgr1</controlURL>
</service>
</serviceList>
</device>
<URLBase>http://10.77.0.1:49494/</URLBase>
</root>"#;

    #[test]
    fn reads_a_renderers_description() {
        let at = Url::parse("http://10.77.0.1:49494/description.xml").unwrap();
        let d = read_description(GMEDIARENDER.as_bytes(), &at).unwrap();
        assert_eq!(d.name, "Living room & TV");
        assert_eq!(d.udn, "uuid:0b6c2d5e-1111-4222-8333-444455556666");
        assert_eq!(d.transport.to_string(), "http://10.77.0.1:49494/upnp/control/rendertransport1");
        assert_eq!(d.connection_manager.unwrap().to_string(), "http://10.77.0.1:49494/upnp/control/renderconnmgr1");
    }

    #[test]
    fn refuses_what_points_elsewhere_or_is_no_renderer() {
        let at = Url::parse("http://10.77.0.1:49494/description.xml").unwrap();
        // A control URL on another machine.
        let elsewhere = GMEDIARENDER.replace("/upnp/control/rendertransport1", "http://10.0.0.9/x");
        assert_eq!(read_description(elsewhere.as_bytes(), &at), None);
        // A URLBase elsewhere is not followed: the location's address is.
        let base = GMEDIARENDER.replace("http://10.77.0.1:49494/", "http://10.0.0.9:1/");
        assert_eq!(read_description(base.as_bytes(), &at).unwrap().transport.ip, at.ip);
        let server = GMEDIARENDER.replace("MediaRenderer", "MediaServer");
        assert_eq!(read_description(server.as_bytes(), &at), None);
        for junk in ["", "<root>", "not xml", "<root><device><device>"] {
            assert_eq!(read_description(junk.as_bytes(), &at), None, "{junk}");
        }
        let deep = "<a>".repeat(100);
        assert_eq!(read_description(deep.as_bytes(), &at), None);
    }

    #[test]
    fn names_are_cut_and_cleaned() {
        let at = Url::parse("http://10.77.0.1:49494/description.xml").unwrap();
        let long = GMEDIARENDER.replace("Living room &amp; TV", &format!("bell\u{7}{}", "x".repeat(500)));
        let d = read_description(long.as_bytes(), &at).unwrap();
        assert_eq!(d.name.chars().count(), MAX_NAME);
        assert!(d.name.starts_with("bellx"));
    }

    #[test]
    fn reads_sink_types() {
        let sink = "http-get:*:video/mp4:*,http-get:*:VIDEO/X-MATROSKA:DLNA.ORG_PN=X,rtsp-rtp-udp:*:video/h264:*,junk,";
        assert_eq!(sink_types(sink), vec!["video/mp4", "video/x-matroska"]);
        assert!(sink_types("").is_empty());
    }
}
