//! The built-in load test: keep-alive HTTP/1.1 connections (hyper's client
//! connection API, so every framing a server may use is read correctly)
//! driving a vidserve on a loopback address with one of a few scenarios, for
//! a bounded time and number of connections, then reporting req/s,
//! throughput, latency percentiles and errors. Used by `vidserve loadtest`
//! and by `POST /admin/performance {"action": "load_test"}`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::{handshake, SendRequest};
use hyper::header::{HOST, RANGE};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

/// Upper bounds, whatever is asked.
pub const MAX_CONNECTIONS: usize = 256;
pub const MAX_DURATION: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Gallery pages, random sort and page.
    #[default]
    Gallery,
    /// Whole videos, start to end.
    Stream,
    /// Random 64 KiB ranges of videos.
    Ranges,
    /// Durable writes (views): they change the library's counts.
    Writes,
    /// Gallery pages, ranges (twice as often) and writes.
    Mixed,
}

impl Scenario {
    /// Whether the scenario writes to the library it targets.
    pub fn writes(self) -> bool {
        matches!(self, Scenario::Writes | Scenario::Mixed)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: Scenario,
    pub connections: usize,
    pub seconds: f64,
    pub requests: u64,
    pub errors: u64,
    pub requests_per_second: f64,
    pub bytes: u64,
    pub bytes_per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}: {} requests in {:.1} s with {} connections: {:.0} req/s, {:.1} MB/s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors",
            self.scenario, self.requests, self.seconds, self.connections, self.requests_per_second,
            self.bytes_per_second / 1e6, self.p50_ms, self.p95_ms, self.p99_ms, self.max_ms, self.errors
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadTestError {
    #[error("load tests may only target this machine (a loopback address like 127.0.0.1), not {0}")]
    NotLoopback(String),
    #[error("not a URL this load test understands: {0} (use http://127.0.0.1:PORT/)")]
    BadUrl(String),
    #[error("cannot reach {0}: {1}")]
    Unreachable(SocketAddr, std::io::Error),
    #[error("the server at {0} lists no videos for this scenario")]
    NoVideos(SocketAddr),
    #[error("the server at {0} has accounts: pass an API token (--token, or VIDSERVE_TOKEN; `vidserve user token NAME` makes one)")]
    SignIn(SocketAddr),
}

/// `http://127.0.0.1:8080/` (or `localhost`, `[::1]`) -> a loopback address.
pub fn loopback_target(url: &str) -> Result<SocketAddr, LoadTestError> {
    let rest = url.strip_prefix("http://").ok_or_else(|| LoadTestError::BadUrl(url.into()))?;
    let host_port = rest.split('/').next().unwrap_or("");
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !p.contains(']') => {
            (h, p.parse().map_err(|_| LoadTestError::BadUrl(url.into()))?)
        }
        _ => (host_port, 80),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse().map_err(|_| LoadTestError::NotLoopback(host.into()))?
    };
    if !ip.is_loopback() {
        return Err(LoadTestError::NotLoopback(ip.to_string()));
    }
    Ok(SocketAddr::new(ip, port))
}

/// One keep-alive connection's view of a response.
struct Answer {
    status: u16,
    bytes: u64,
}

type Conn = SendRequest<Empty<Bytes>>;

/// Opens a keep-alive HTTP/1.1 connection; its driver runs as a task.
async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    let _ = stream.set_nodelay(true);
    let (sender, conn) = handshake(TokioIo::new(stream)).await.map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sends one request and reads the whole response body, counting it.
async fn exchange(conn: &mut Conn, req: Request<Empty<Bytes>>) -> Result<Answer, hyper::Error> {
    conn.ready().await?;
    let res = conn.send_request(req).await?;
    let status = res.status().as_u16();
    let mut body = res.into_body();
    let mut bytes = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            bytes += data.len() as u64;
        }
    }
    Ok(Answer { status, bytes })
}

/// What a load test sends to say who it is, when the server has accounts:
/// a header (`Authorization` with a token, or a session `Cookie`) and its value.
pub type Credentials = Option<(hyper::header::HeaderName, hyper::header::HeaderValue)>;

/// A request to `addr` for `path`, with a `Range` when given.
fn request(
    method: Method,
    addr: SocketAddr,
    path: &str,
    range: Option<String>,
    who: &Credentials,
) -> Request<Empty<Bytes>> {
    let mut req = Request::builder().method(method).uri(path).header(HOST, addr.to_string());
    if let Some(r) = range {
        req = req.header(RANGE, r);
    }
    if let Some((name, value)) = who {
        req = req.header(name, value);
    }
    req.body(Empty::new()).expect("a request of our own making is valid")
}

struct Target {
    ids: Vec<String>,
    sizes: Vec<u64>,
}

async fn fetch_targets(addr: SocketAddr, who: &Credentials) -> Result<Target, LoadTestError> {
    let unreachable = |e: std::io::Error| LoadTestError::Unreachable(addr, e);
    let mut conn = connect(addr).await.map_err(unreachable)?;
    let req = request(Method::GET, addr, "/api/v1/videos?per_page=200&sort=size", None, who);
    conn.ready().await.map_err(|e| unreachable(std::io::Error::other(e)))?;
    let res = conn.send_request(req).await.map_err(|e| unreachable(std::io::Error::other(e)))?;
    if matches!(res.status().as_u16(), 401 | 403) {
        return Err(LoadTestError::SignIn(addr));
    }
    // At most a few MiB: 200 videos' JSON.
    let limited = http_body_util::Limited::new(res.into_body(), 8 << 20);
    let body = limited.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let list = v["videos"].as_array().cloned().unwrap_or_default();
    let ids = list.iter().filter_map(|x| x["id"].as_str().map(String::from)).collect();
    let sizes = list.iter().map(|x| x["size"].as_u64().unwrap_or(0)).collect();
    Ok(Target { ids, sizes })
}

/// The next request of a scenario, from a per-connection random state.
fn next_request(
    s: Scenario,
    t: &Target,
    addr: SocketAddr,
    rng: &mut fastrand::Rng,
    who: &Credentials,
) -> Request<Empty<Bytes>> {
    let scenario = match s {
        Scenario::Mixed => [Scenario::Gallery, Scenario::Ranges, Scenario::Ranges, Scenario::Writes][rng.usize(..4)],
        other => other,
    };
    let pick = |rng: &mut fastrand::Rng| rng.usize(..t.ids.len().max(1)).min(t.ids.len().saturating_sub(1));
    match scenario {
        Scenario::Gallery => {
            let sort = ["added", "title", "size", "duration", "rating", "views"][rng.usize(..6)];
            request(Method::GET, addr, &format!("/?sort={sort}&page={}", rng.usize(1..50)), None, who)
        }
        Scenario::Stream => {
            let i = pick(rng);
            request(Method::GET, addr, &format!("/video/{}", t.ids[i]), None, who)
        }
        Scenario::Ranges => {
            let i = pick(rng);
            let size = t.sizes[i].max(1);
            let start = rng.u64(..size.saturating_sub(65_536).max(1));
            let end = (start + 65_535).min(size - 1);
            request(Method::GET, addr, &format!("/video/{}", t.ids[i]), Some(format!("bytes={start}-{end}")), who)
        }
        _ => {
            let i = pick(rng);
            request(Method::POST, addr, &format!("/api/v1/videos/{}/view", t.ids[i]), None, who)
        }
    }
}

/// Runs a load test against a loopback server. `done` counts answered
/// requests as they come (for a progress line).
pub async fn run(
    addr: SocketAddr,
    scenario: Scenario,
    connections: usize,
    duration: Duration,
    done: Arc<AtomicU64>,
    who: Credentials,
) -> Result<Report, LoadTestError> {
    if !addr.ip().is_loopback() {
        return Err(LoadTestError::NotLoopback(addr.ip().to_string()));
    }
    let connections = connections.clamp(1, MAX_CONNECTIONS);
    let duration = duration.clamp(Duration::from_millis(100), MAX_DURATION);
    let target = Arc::new(fetch_targets(addr, &who).await?);
    let who = Arc::new(who);
    if scenario != Scenario::Gallery && target.ids.is_empty() {
        return Err(LoadTestError::NoVideos(addr));
    }
    let started = Instant::now();
    let deadline = started + duration;
    // A JoinSet: dropping this future (a client gone) aborts every task.
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let (target, done, who) = (target.clone(), done.clone(), who.clone());
        tasks.spawn(async move {
            let mut rng = fastrand::Rng::with_seed(c as u64 + 1);
            let (mut lat, mut bytes, mut errors) = (Vec::new(), 0u64, 0u64);
            let mut conn: Option<Conn> = None;
            while Instant::now() < deadline {
                if conn.is_none() {
                    match connect(addr).await {
                        Ok(c) => conn = Some(c),
                        Err(_) => {
                            errors += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                }
                let req = next_request(scenario, &target, addr, &mut rng, &who);
                let t0 = Instant::now();
                let left = deadline.saturating_duration_since(t0) + Duration::from_secs(5);
                let result = tokio::time::timeout(left, exchange(conn.as_mut().expect("connected above"), req)).await;
                match result {
                    Ok(Ok(a)) if a.status < 400 => {
                        done.fetch_add(1, Ordering::Relaxed);
                        lat.push(t0.elapsed().as_micros() as u32);
                        bytes += a.bytes;
                    }
                    Ok(Ok(_)) => errors += 1,
                    _ => {
                        errors += 1;
                        conn = None;
                    }
                }
            }
            (lat, bytes, errors)
        });
    }
    let (mut lat, mut bytes, mut errors) = (Vec::new(), 0u64, 0u64);
    while let Some(done) = tasks.join_next().await {
        if let Ok((l, b, e)) = done {
            lat.extend(l);
            bytes += b;
            errors += e;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct =
        |p: f64| lat.get(((lat.len() as f64 - 1.0) * p).round() as usize).map_or(0.0, |&us| f64::from(us) / 1000.0);
    Ok(Report {
        scenario,
        connections,
        seconds,
        requests: lat.len() as u64,
        errors,
        requests_per_second: lat.len() as f64 / seconds,
        bytes,
        bytes_per_second: bytes as f64 / seconds,
        p50_ms: pct(0.5),
        p95_ms: pct(0.95),
        p99_ms: pct(0.99),
        max_ms: lat.last().map_or(0.0, |&us| f64::from(us) / 1000.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::pin::Pin;
    use std::task::{Context, Poll};

    use hyper::body::{Frame, Incoming};
    use hyper::Response;

    /// A body of unknown length: hyper sends it chunked.
    struct Chunks(Vec<Bytes>);

    impl hyper::body::Body for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready((!self.0.is_empty()).then(|| Ok(Frame::data(self.0.remove(0)))))
        }
    }

    /// A server that answers every request with chunked bodies (the video
    /// list, then 3 chunks of 1000 bytes).
    async fn chunked_server() -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
                    let body = if req.uri().path() == "/api/v1/videos" {
                        vec![
                            Bytes::from_static(br#"{"videos": [{"id": "00000000000000ab", "#),
                            Bytes::from_static(br#""size": 5000}]}"#),
                        ]
                    } else {
                        vec![Bytes::from(vec![b'x'; 1000]); 3]
                    };
                    Ok::<_, std::convert::Infallible>(Response::new(Chunks(body)))
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        addr
    }

    #[test]
    fn reads_chunked_responses_on_kept_alive_connections() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let addr = chunked_server().await;
            for scenario in [Scenario::Gallery, Scenario::Ranges] {
                let report = run(addr, scenario, 2, Duration::from_millis(300), Arc::default(), None).await.unwrap();
                assert_eq!(report.errors, 0, "{report}");
                assert!(report.requests > 5, "{report}");
                assert_eq!(report.bytes, report.requests * 3000, "{report}");
            }
        });
    }

    #[test]
    fn only_loopback_targets() {
        assert_eq!(loopback_target("http://127.0.0.1:8080/").unwrap().port(), 8080);
        assert!(loopback_target("http://localhost:9/").is_ok());
        assert!(loopback_target("http://[::1]:8080/").is_ok());
        assert!(matches!(loopback_target("http://192.168.1.2:8080/"), Err(LoadTestError::NotLoopback(_))));
        assert!(matches!(loopback_target("http://example.com/"), Err(LoadTestError::NotLoopback(_))));
        assert!(matches!(loopback_target("ftp://127.0.0.1/"), Err(LoadTestError::BadUrl(_))));
    }
}
