//! GENA eventing (UPnP's `SUBSCRIBE`/`NOTIFY`): players that subscribe to
//! the ContentDirectory hear of every change of its `SystemUpdateID` (a
//! scan, a rating, a playlist), and those that subscribe to the
//! ConnectionManager get its state once, as UPnP asks.
//!
//! Bounds: at most `MAX_SUBSCRIPTIONS` at once and `PER_ADDRESS` from one
//! address; each for at most `MAX_TIMEOUT` seconds unless renewed. Events
//! go only to the address that subscribed (a callback naming any other
//! host is refused: no subscriber can make the server call a third
//! party), plain HTTP to an IPv4 address, through `client` (its time and
//! size limits); a subscriber whose callbacks fail `GIVE_UP_AFTER` times
//! in a row is forgotten. One watcher task runs while there are
//! subscriptions, looking for a change every `CHECK_EVERY`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::Method;

use super::client::Url;

pub const MAX_SUBSCRIPTIONS: usize = 64;
pub const PER_ADDRESS: usize = 8;
/// Longest subscription granted, in seconds (UPnP's usual 30 minutes).
pub const MAX_TIMEOUT: u64 = 1800;
/// Most callback URLs kept for one subscription.
const MAX_CALLBACKS: usize = 4;
const CHECK_EVERY: Duration = Duration::from_secs(2);
const GIVE_UP_AFTER: u32 = 3;

/// Which service a subscription is to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    ContentDirectory,
    ConnectionManager,
}

/// Why a `SUBSCRIBE` or `UNSUBSCRIBE` is refused (each an HTTP status).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// 400: both a SID and a callback, or neither.
    #[error("a SUBSCRIBE has either CALLBACK and NT: upnp:event, or SID")]
    Incompatible,
    /// 412: no usable callback, a wrong NT, or an unknown SID.
    #[error("{0}")]
    Precondition(&'static str),
    /// 503: too many subscriptions.
    #[error("too many event subscriptions; try again later")]
    Full,
}

struct Subscription {
    service: Service,
    from: Ipv4Addr,
    callbacks: Vec<Url>,
    expires: Instant,
    /// The next event's `SEQ`.
    seq: u32,
    failures: u32,
}

/// The subscriptions, and what the watcher last told them.
#[derive(Default)]
pub struct Events {
    subs: Mutex<HashMap<String, Subscription>>,
    watching: AtomicBool,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Events({} subscriptions)", self.lock().len())
    }
}

/// What the events of each service carry: the ContentDirectory's current
/// `SystemUpdateID` (asked each time), the ConnectionManager's state.
pub struct State {
    pub update_id: Box<dyn Fn() -> u32 + Send + Sync>,
    pub source_protocol_info: String,
}

impl Events {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Subscription>> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new subscription from `from` with the `CALLBACK` header
    /// `callback` (`<http://…>` one or more): its SID and timeout. Its
    /// initial event is sent by `after_subscribe`.
    pub fn subscribe(
        &self,
        service: Service,
        from: IpAddr,
        callback: &str,
        timeout: Option<&str>,
    ) -> Result<(String, u64), EventError> {
        let from = match from {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(v6) => {
                v6.to_ipv4_mapped().ok_or(EventError::Precondition("events go to IPv4 addresses only"))?
            }
        };
        let callbacks = callbacks(callback, from)?;
        let seconds = granted(timeout);
        let mut subs = self.lock();
        let now = Instant::now();
        subs.retain(|_, s| s.expires > now);
        if subs.len() >= MAX_SUBSCRIPTIONS || subs.values().filter(|s| s.from == from).count() >= PER_ADDRESS {
            return Err(EventError::Full);
        }
        let sid = format!("uuid:{}", super::new_uuid());
        let expires = now + Duration::from_secs(seconds);
        subs.insert(sid.clone(), Subscription { service, from, callbacks, expires, seq: 0, failures: 0 });
        Ok((sid, seconds))
    }

    /// Renews subscription `sid` (to `service`): its new timeout.
    pub fn renew(&self, service: Service, sid: &str, timeout: Option<&str>) -> Result<u64, EventError> {
        let seconds = granted(timeout);
        let mut subs = self.lock();
        let now = Instant::now();
        match subs.get_mut(sid.trim()).filter(|s| s.service == service && s.expires > now) {
            Some(s) => {
                s.expires = now + Duration::from_secs(seconds);
                Ok(seconds)
            }
            None => Err(EventError::Precondition("no such subscription (it may have expired): subscribe again")),
        }
    }

    /// Ends subscription `sid`.
    pub fn unsubscribe(&self, service: Service, sid: &str) -> Result<(), EventError> {
        let mut subs = self.lock();
        match subs.get(sid.trim()) {
            Some(s) if s.service == service => {
                subs.remove(sid.trim());
                Ok(())
            }
            _ => Err(EventError::Precondition("no such subscription")),
        }
    }

    /// How many subscriptions there are now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sends subscription `sid` its initial event (a moment after its
    /// answer, as UPnP asks), and starts the watcher if none runs.
    pub fn after_subscribe(self: &Arc<Self>, sid: String, state: Arc<State>) {
        let (events, initial) = (self.clone(), state.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let service = events.lock().get(&sid).map(|s| s.service);
            let body = match service {
                Some(Service::ContentDirectory) => {
                    property_set(&[("SystemUpdateID", &(initial.update_id)().to_string())])
                }
                Some(Service::ConnectionManager) => property_set(&[
                    ("SourceProtocolInfo", &initial.source_protocol_info),
                    ("SinkProtocolInfo", ""),
                    ("CurrentConnectionIDs", "0"),
                ]),
                None => return,
            };
            events.send(&sid, &body).await;
        });
        if !self.watching.swap(true, Ordering::SeqCst) {
            tokio::spawn(self.clone().watch(state));
        }
    }

    /// Tells the ContentDirectory's subscribers each new `SystemUpdateID`;
    /// ends when no subscription is left.
    async fn watch(self: Arc<Self>, state: Arc<State>) {
        let mut last = (state.update_id)();
        loop {
            tokio::time::sleep(CHECK_EVERY).await;
            let now = Instant::now();
            let listening: Vec<String> = {
                let mut subs = self.lock();
                subs.retain(|_, s| s.expires > now && s.failures < GIVE_UP_AFTER);
                if subs.is_empty() {
                    self.watching.store(false, Ordering::SeqCst);
                    return;
                }
                subs.iter().filter(|(_, s)| s.service == Service::ContentDirectory).map(|(k, _)| k.clone()).collect()
            };
            let id = (state.update_id)();
            if id == last {
                continue;
            }
            last = id;
            let body = property_set(&[("SystemUpdateID", &id.to_string())]);
            for sid in listening {
                self.send(&sid, &body).await;
            }
        }
    }

    /// One `NOTIFY` to subscription `sid`: its callbacks tried in turn
    /// until one takes it.
    async fn send(&self, sid: &str, body: &str) {
        let Some((callbacks, seq)) = self.lock().get_mut(sid).map(|s| {
            let seq = s.seq;
            // Wraps to 1, never to 0 (that one is the initial event's).
            s.seq = s.seq.checked_add(1).unwrap_or(1);
            (s.callbacks.clone(), seq)
        }) else {
            return;
        };
        let headers = [
            ("nt", "upnp:event".to_string()),
            ("nts", "upnp:propchange".to_string()),
            ("sid", sid.to_string()),
            ("seq", seq.to_string()),
        ];
        let notify = Method::from_bytes(b"NOTIFY").expect("a method name");
        let mut delivered = false;
        for url in &callbacks {
            match super::client::request(url, notify.clone(), &headers, Some(body.to_string())).await {
                Ok(a) if a.status.is_success() => {
                    delivered = true;
                    break;
                }
                Ok(a) => tracing::debug!(%sid, status = %a.status, "DLNA: an event was refused"),
                Err(e) => tracing::debug!(%sid, "DLNA: an event was not delivered: {e}"),
            }
        }
        if let Some(s) = self.lock().get_mut(sid) {
            s.failures = if delivered { 0 } else { s.failures + 1 };
        }
    }
}

/// The `CALLBACK` header's URLs (`<http://…><http://…>`) that name the
/// subscriber's own address, in order; at least one is needed.
fn callbacks(header: &str, from: Ipv4Addr) -> Result<Vec<Url>, EventError> {
    let mut out = Vec::new();
    for part in header.split('<').skip(1) {
        let Some((url, _)) = part.split_once('>') else { continue };
        if let Some(u) = Url::parse(url).filter(|u| u.ip == from) {
            if out.len() < MAX_CALLBACKS {
                out.push(u);
            }
        }
    }
    if out.is_empty() {
        return Err(EventError::Precondition("CALLBACK needs an http:// URL at the subscriber's own IPv4 address"));
    }
    Ok(out)
}

/// The timeout granted for `TIMEOUT: Second-N` (or `infinite`, or none):
/// at most `MAX_TIMEOUT`, at least a minute.
fn granted(timeout: Option<&str>) -> u64 {
    timeout
        .and_then(|t| t.trim().to_ascii_lowercase().strip_prefix("second-").and_then(|n| n.parse::<u64>().ok()))
        .unwrap_or(MAX_TIMEOUT)
        .clamp(60, MAX_TIMEOUT)
}

/// A GENA property set of `vars`.
pub fn property_set(vars: &[(&str, &str)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">",
    );
    for (name, value) in vars {
        out.push_str(&format!("<e:property><{name}>{}</{name}></e:property>", super::escape(value)));
    }
    out.push_str("</e:propertyset>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));

    #[test]
    fn subscriptions_are_bounded_and_call_back_only_their_own_address() {
        let events = Events::default();
        let cds = Service::ContentDirectory;
        let (sid, secs) = events.subscribe(cds, HOME, "<http://192.168.1.20:4000/cb>", Some("Second-300")).unwrap();
        assert!(sid.starts_with("uuid:") && secs == 300);
        assert_eq!(events.renew(cds, &sid, Some("Second-99999")), Ok(MAX_TIMEOUT));
        assert!(events.renew(Service::ConnectionManager, &sid, None).is_err(), "another service's SID");
        // Another host, another scheme, a name: refused; the own address among them kept.
        for bad in
            ["<http://10.0.0.9:80/x>", "<https://192.168.1.20/x>", "<http://tv.local/x>", "", "http://192.168.1.20/x"]
        {
            assert!(events.subscribe(cds, HOME, bad, None).is_err(), "{bad}");
        }
        let mixed = events.subscribe(cds, HOME, "<http://10.0.0.9/x><http://192.168.1.20:5/y>", None);
        assert!(mixed.is_ok());
        let urls = callbacks("<http://10.0.0.9/x><http://192.168.1.20:5/y>", Ipv4Addr::new(192, 168, 1, 20)).unwrap();
        assert_eq!(urls.len(), 1);
        // At most PER_ADDRESS from one address.
        while events.subscribe(cds, HOME, "<http://192.168.1.20:4000/cb>", None).is_ok() {}
        assert_eq!(events.len(), PER_ADDRESS);
        assert_eq!(events.unsubscribe(cds, &sid), Ok(()));
        assert!(events.unsubscribe(cds, &sid).is_err(), "once");
        assert_eq!(granted(None), MAX_TIMEOUT);
        assert_eq!(granted(Some("Second-5")), 60);
        assert_eq!(granted(Some("infinite")), MAX_TIMEOUT);
    }

    #[test]
    fn property_sets_escape_their_values() {
        let set = property_set(&[("SourceProtocolInfo", "http-get:*:video/mp4:*&<x>")]);
        assert!(set.contains(
            "<e:property><SourceProtocolInfo>http-get:*:video/mp4:*&amp;&lt;x&gt;</SourceProtocolInfo></e:property>"
        ));
    }
}
