//! Prometheus metrics at `/metrics` (prometheus-client, text format).
//!
//! Request counts and latencies, and stream counters (`Meter`), are kept as
//! they happen; everything else (library, cache, jobs: a `Snapshot` the
//! caller gathers; the process, read from `/proc`) is taken when scraped,
//! into a registry built for that scrape. Knows nothing of the rest of the
//! crate: callers hand it numbers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: &'static str,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub route: &'static str,
}

fn latency_histogram() -> Histogram {
    // 100 µs to ~3 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// What is counted as it happens. Cheap to clone (shared counters).
#[derive(Clone, Debug)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabel, Histogram, fn() -> Histogram>,
    /// Body bytes of video responses sent.
    pub bytes_streamed: Counter,
    /// Of those, bytes sent with `sendfile` (never copied through memory).
    pub bytes_sendfile: Counter,
    /// Video responses being sent now.
    pub active_streams: Gauge,
    /// Latencies (µs) since the dashboard's last tick.
    recent: Arc<Mutex<Vec<u32>>>,
    /// Requests answered since start (the dashboard's rate).
    pub total: Arc<AtomicU64>,
}

/// Latencies kept between two dashboard ticks, at most.
const RECENT_CAP: usize = 20_000;

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            bytes_streamed: Counter::default(),
            bytes_sendfile: Counter::default(),
            active_streams: Gauge::default(),
            recent: Arc::default(),
            total: Arc::default(),
        }
    }
}

/// Counts bytes sent and streams open (the `/metrics` counters), for one
/// response body.
#[derive(Clone, Default)]
pub struct Meter {
    pub bytes: Counter,
    pub active: Gauge,
}

/// The numbers read at scrape time from the rest of the server.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub videos: usize,
    pub videos_broken: usize,
    pub scan_files: usize,
    pub scan_unreadable: usize,
    pub scan_duration_seconds: f64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub cache_rebuilds: u64,
    pub jobs_waiting: usize,
    pub jobs_done: usize,
    pub jobs_failed: usize,
    pub thumbnails: usize,
}

impl Metrics {
    /// The counters a video response updates while it streams.
    pub fn meter(&self) -> Meter {
        Meter { bytes: self.bytes_streamed.clone(), active: self.active_streams.clone() }
    }

    /// Counts one answered request (time to its response head).
    pub fn observe(&self, route: &'static str, status: u16, took: Duration) {
        self.requests.get_or_create(&RequestLabels { route, status }).inc();
        self.latency.get_or_create(&RouteLabel { route }).observe(took.as_secs_f64());
        self.total.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut r) = self.recent.lock() {
            if r.len() < RECENT_CAP {
                r.push(took.as_micros().min(u128::from(u32::MAX)) as u32);
            }
        }
    }

    /// Takes the latencies recorded since the last call: (count, p50 ms, p99 ms).
    pub fn take_recent(&self) -> (usize, f64, f64) {
        let mut lat = self.recent.lock().map(|mut r| std::mem::take(&mut *r)).unwrap_or_default();
        lat.sort_unstable();
        let pct =
            |p: f64| lat.get(((lat.len() as f64 - 1.0) * p).round() as usize).map_or(0.0, |&u| f64::from(u) / 1000.0);
        (lat.len(), pct(0.5), pct(0.99))
    }
}

/// The metrics text for one scrape.
pub fn render(m: &Metrics, s: &Snapshot) -> String {
    let mut r = <Registry>::with_prefix("vidserve");
    r.register("http_requests", "HTTP requests answered, by route and status", m.requests.clone());
    r.register("http_request_duration_seconds", "Time to the response head, by route", m.latency.clone());
    r.register("bytes_streamed", "Video bytes sent", m.bytes_streamed.clone());
    r.register("bytes_sendfile", "Video bytes sent from the page cache with sendfile", m.bytes_sendfile.clone());
    r.register("active_streams", "Video responses being sent", m.active_streams.clone());
    r.register("build", "Version of this server", Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]));
    let gauge = |v: usize| ConstGauge::new(v as i64);
    r.register("videos", "Videos listed", gauge(s.videos));
    r.register("videos_broken", "Files that could not be read as video", gauge(s.videos_broken));
    r.register("scan_files", "Files seen by the last scan", gauge(s.scan_files));
    r.register("scan_unreadable", "Files the last scan could not read", gauge(s.scan_unreadable));
    r.register("scan_duration_seconds", "Duration of the last scan", ConstGauge::new(s.scan_duration_seconds));
    r.register("cache_hits", "Listing orders and search results reused from memory", ConstCounter::new(s.cache_hits));
    r.register("cache_misses", "Listing orders and search results computed anew", ConstCounter::new(s.cache_misses));
    r.register("cache_rebuilds", "Catalog rebuilds (scans)", ConstCounter::new(s.cache_rebuilds));
    r.register("jobs_waiting", "Thumbnail jobs waiting", gauge(s.jobs_waiting));
    r.register("jobs_done", "Thumbnail jobs done", ConstCounter::new(s.jobs_done as u64));
    r.register("jobs_failed", "Thumbnail jobs failed", ConstCounter::new(s.jobs_failed as u64));
    r.register("thumbnails", "Videos with a thumbnail", gauge(s.thumbnails));
    let proc_stats = process();
    let mut pr = <Registry>::with_prefix("process");
    if let Some(rss) = proc_stats.rss_bytes {
        pr.register("resident_memory_bytes", "Resident memory", ConstGauge::new(rss as i64));
    }
    if let Some(cpu) = proc_stats.cpu_seconds {
        pr.register("cpu_seconds", "CPU time used (user and system)", ConstCounter::new(cpu));
    }
    if let Some(fds) = proc_stats.open_fds {
        pr.register("open_fds", "Open file descriptors", gauge(fds));
    }
    let mut out = String::new();
    let _ = prometheus_client::encoding::text::encode_registry(&mut out, &r);
    let _ = prometheus_client::encoding::text::encode_registry(&mut out, &pr);
    let _ = prometheus_client::encoding::text::encode_eof(&mut out);
    out
}

pub struct ProcessStats {
    pub rss_bytes: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub open_fds: Option<usize>,
}

/// Reads `/proc/self` (Linux); absent values are left out.
pub fn process() -> ProcessStats {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss_bytes = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024);
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the
    // 14th field of the line, stime the 15th.
    let cpu_seconds = stat.rsplit_once(')').and_then(|(_, rest)| {
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
        // SAFETY: sysconf only reads a system constant.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        (hz > 0).then(|| ticks as f64 / hz as f64)
    });
    let open_fds = std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count());
    ProcessStats { rss_bytes, cpu_seconds, open_fds }
}
