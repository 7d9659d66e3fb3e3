//! The operations handle: request metrics, where the server listens, its
//! start time, shutdown, and the built-in load test run from the admin page
//! (one at a time, the last result kept).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use tokio::sync::watch;

use crate::loadtest::Report;
use crate::metrics::Metrics;

pub struct Ops {
    /// Counters and histograms for `/metrics`.
    pub metrics: Metrics,
    /// Where `serve` listens (set when it starts).
    pub listen: OnceLock<SocketAddr>,
    pub started: Instant,
    load_test_running: AtomicBool,
    last_load_test: Mutex<Option<Report>>,
    /// Becomes true when shutdown starts (ends event streams).
    closing: watch::Sender<bool>,
}

impl Default for Ops {
    fn default() -> Self {
        Ops {
            metrics: Metrics::default(),
            listen: OnceLock::new(),
            started: Instant::now(),
            load_test_running: AtomicBool::new(false),
            last_load_test: Mutex::new(None),
            closing: watch::channel(false).0,
        }
    }
}

/// The right to run the one load test; released when dropped, so a client
/// that goes away mid-test (its request future dropped) frees it too.
pub struct LoadTestSlot<'a>(&'a Ops);

impl Drop for LoadTestSlot<'_> {
    fn drop(&mut self) {
        self.0.load_test_running.store(false, Ordering::Release);
    }
}

impl LoadTestSlot<'_> {
    /// Keeps `report` as the last result.
    pub fn finish(self, report: &Report) {
        if let Ok(mut last) = self.0.last_load_test.lock() {
            *last = Some(report.clone());
        }
    }
}

impl Ops {
    /// Marks the start of shutdown: long-lived responses (event streams) end.
    pub fn begin_shutdown(&self) {
        self.closing.send_replace(true);
    }

    /// A receiver that sees `true` once shutdown has started.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Takes the load-test slot; `None` while a test runs.
    pub fn start_load_test(&self) -> Option<LoadTestSlot<'_>> {
        (!self.load_test_running.swap(true, Ordering::AcqRel)).then_some(LoadTestSlot(self))
    }

    pub fn load_test_running(&self) -> bool {
        self.load_test_running.load(Ordering::Acquire)
    }

    pub fn last_load_test(&self) -> Option<Report> {
        self.last_load_test.lock().ok().and_then(|l| l.clone())
    }
}

/// Non-loopback IPv4 addresses of this machine's interfaces.
pub fn lan_addresses() -> Vec<std::net::IpAddr> {
    let mut out: Vec<std::net::IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .map(|i| i.ip())
        .filter(|ip| ip.is_ipv4() && !ip.is_loopback())
        .collect();
    out.dedup();
    out
}

/// This machine's name (`uname -n`), if it has a readable one.
pub fn machine_name() -> Option<String> {
    rustix::system::uname().nodename().to_str().ok().filter(|n| !n.is_empty()).map(String::from)
}

/// `https` when the server speaks TLS, else `http`.
pub fn scheme(tls: bool) -> &'static str {
    if tls {
        "https"
    } else {
        "http"
    }
}

impl Ops {
    /// The URLs other devices reach this server by (none when it listens
    /// on loopback only), `https` ones with `tls`.
    pub fn network_urls(&self, tls: bool) -> Vec<String> {
        let Some(listen) = self.listen.get() else { return Vec::new() };
        let scheme = scheme(tls);
        if listen.ip().is_unspecified() {
            let port = listen.port();
            lan_addresses().into_iter().map(|ip| format!("{scheme}://{}/", SocketAddr::new(ip, port))).collect()
        } else if listen.ip().is_loopback() {
            Vec::new()
        } else {
            vec![format!("{scheme}://{listen}/")]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_load_test_slot_is_freed_when_dropped() {
        let ops = Ops::default();
        let slot = ops.start_load_test().expect("free at first");
        assert!(ops.start_load_test().is_none(), "one at a time");
        drop(slot); // e.g. the client went away mid-test
        assert!(!ops.load_test_running());
        assert!(ops.start_load_test().is_some());
    }
}
