//! The built-in load test: a small HTTP/1.1 keep-alive client driving a
//! vidserve on a loopback address with one of a few scenarios, for a bounded
//! time and number of connections, then reporting req/s, throughput,
//! latency percentiles and errors. Used by `vidserve loadtest` and by
//! `POST /admin/performance {"action": "load_test"}`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
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
    /// Durable writes (views).
    Writes,
    /// A mix of the above.
    Mixed,
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

/// Sends one request and reads the whole response (Content-Length bodies).
async fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<Answer> {
    conn.get_mut().write_all(request).await?;
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
    let mut len: u64 = 0;
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().map_err(|_| std::io::ErrorKind::InvalidData)?;
            }
        }
    }
    let copied = tokio::io::copy(&mut (&mut *conn).take(len), &mut tokio::io::sink()).await?;
    if copied != len {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(Answer { status, bytes: len })
}

struct Target {
    ids: Vec<String>,
    sizes: Vec<u64>,
}

async fn fetch_targets(addr: SocketAddr) -> Result<Target, LoadTestError> {
    let stream = TcpStream::connect(addr).await.map_err(|e| LoadTestError::Unreachable(addr, e))?;
    let mut conn = BufReader::new(stream);
    let req =
        format!("GET /api/v1/videos?per_page=200&sort=size HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    conn.get_mut().write_all(req.as_bytes()).await.map_err(|e| LoadTestError::Unreachable(addr, e))?;
    let mut raw = String::new();
    conn.read_to_string(&mut raw).await.map_err(|e| LoadTestError::Unreachable(addr, e))?;
    let body = raw.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let list = v["videos"].as_array().cloned().unwrap_or_default();
    let ids = list.iter().filter_map(|x| x["id"].as_str().map(String::from)).collect();
    let sizes = list.iter().map(|x| x["size"].as_u64().unwrap_or(0)).collect();
    Ok(Target { ids, sizes })
}

/// The next request of a scenario, from a per-connection random state.
fn next_request(s: Scenario, t: &Target, addr: SocketAddr, rng: &mut fastrand::Rng) -> String {
    let scenario = match s {
        Scenario::Mixed => [Scenario::Gallery, Scenario::Ranges, Scenario::Ranges, Scenario::Writes][rng.usize(..4)],
        other => other,
    };
    let pick = |rng: &mut fastrand::Rng| rng.usize(..t.ids.len().max(1)).min(t.ids.len().saturating_sub(1));
    match scenario {
        Scenario::Gallery => {
            let sort = ["added", "title", "size", "duration", "rating", "views"][rng.usize(..6)];
            format!("GET /?sort={sort}&page={} HTTP/1.1\r\nHost: {addr}\r\n\r\n", rng.usize(1..50))
        }
        Scenario::Stream => {
            let i = pick(rng);
            format!("GET /video/{} HTTP/1.1\r\nHost: {addr}\r\n\r\n", t.ids[i])
        }
        Scenario::Ranges => {
            let i = pick(rng);
            let size = t.sizes[i].max(1);
            let start = rng.u64(..size.saturating_sub(65_536).max(1));
            let end = (start + 65_535).min(size - 1);
            format!("GET /video/{} HTTP/1.1\r\nHost: {addr}\r\nRange: bytes={start}-{end}\r\n\r\n", t.ids[i])
        }
        _ => {
            let i = pick(rng);
            format!("POST /api/v1/videos/{}/view HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n", t.ids[i])
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
) -> Result<Report, LoadTestError> {
    if !addr.ip().is_loopback() {
        return Err(LoadTestError::NotLoopback(addr.ip().to_string()));
    }
    let connections = connections.clamp(1, MAX_CONNECTIONS);
    let duration = duration.clamp(Duration::from_millis(100), MAX_DURATION);
    let target = Arc::new(fetch_targets(addr).await?);
    if scenario != Scenario::Gallery && target.ids.is_empty() {
        return Err(LoadTestError::NoVideos(addr));
    }
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (target, done) = (target.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(c as u64 + 1);
            let (mut lat, mut bytes, mut errors) = (Vec::new(), 0u64, 0u64);
            let mut conn: Option<BufReader<TcpStream>> = None;
            while Instant::now() < deadline {
                if conn.is_none() {
                    match TcpStream::connect(addr).await {
                        Ok(s) => conn = Some(BufReader::with_capacity(64 * 1024, s)),
                        Err(_) => {
                            errors += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            continue;
                        }
                    }
                }
                let req = next_request(scenario, &target, addr, &mut rng);
                let t0 = Instant::now();
                let left = deadline.saturating_duration_since(t0) + Duration::from_secs(5);
                let result =
                    tokio::time::timeout(left, exchange(conn.as_mut().expect("connected above"), req.as_bytes())).await;
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
        }));
    }
    let (mut lat, mut bytes, mut errors) = (Vec::new(), 0u64, 0u64);
    for t in tasks {
        if let Ok((l, b, e)) = t.await {
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
