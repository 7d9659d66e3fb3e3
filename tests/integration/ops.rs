//! Operations: Prometheus metrics parse with a real parser and move when
//! requests are made.

use prometheus_parse::{Scrape, Value};

use std::time::Duration;

use crate::support::{eventually, Fixture, TestServer};

async fn scrape(srv: &TestServer) -> Scrape {
    let res = srv.get("/metrics").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text")
}

fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    s.samples.iter().find(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v))).map(|x| {
        match &x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(h) => h.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => 0.0,
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_move() {
    let fx = Fixture::new();
    let file = fx.mp4("a.mp4", 200_000, 950);
    fx.mp4("b.mp4", 1000, 951);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let before = scrape(&srv).await;
    assert_eq!(value(&before, "vidserve_videos", &[]), Some(2.0));
    assert!(value(&before, "process_resident_memory_bytes", &[]).unwrap() > 1e6);
    assert!(value(&before, "process_open_fds", &[]).unwrap() > 3.0);

    for _ in 0..3 {
        assert_eq!(srv.get("/").await.status(), 200);
    }
    assert_eq!(srv.get("/no/such/page").await.status(), 404);
    assert_eq!(srv.get("/video/a.mp4").await.bytes().await.unwrap().len(), file.len());
    let after = scrape(&srv).await;
    let gallery = [("route", "gallery"), ("status", "200")];
    let seen = value(&after, "vidserve_http_requests_total", &gallery).unwrap();
    let was = value(&before, "vidserve_http_requests_total", &gallery).unwrap_or(0.0);
    assert_eq!(seen - was, 3.0);
    assert_eq!(value(&after, "vidserve_http_requests_total", &[("route", "unmatched"), ("status", "404")]), Some(1.0));
    let streamed = value(&after, "vidserve_bytes_streamed_total", &[]).unwrap();
    assert!(streamed >= file.len() as f64, "{streamed}");
    assert_eq!(value(&after, "vidserve_active_streams", &[]), Some(0.0), "a finished stream is not active");
    let timed = value(&after, "vidserve_http_request_duration_seconds", &[("route", "gallery")]);
    assert!(timed.is_some_and(|n| n >= 3.0), "gallery latencies counted: {timed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn built_in_load_test() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 300_000, 960);
    fx.mp4("b.mp4", 100_000, 961);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;

    // The command line, against the test server.
    let url = srv.url("/");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vidserve"))
            .args(["loadtest", &url, "--connections", "4", "--duration", "2", "--scenario", "mixed", "--allow-writes"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    let requests: u64 = text.split_once(": ").unwrap().1.split(' ').next().unwrap().parse().unwrap();
    assert!(requests > 10, "{text}");
    assert!(text.contains("p99") && text.ends_with("0 errors\n"), "{text}");

    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_vidserve"))
        .args(["loadtest", "http://192.168.1.1:8080/", "--duration", "1"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only target this machine"));

    // From the admin route, against itself.
    let res = srv
        .client
        .post(srv.url("/admin/performance"))
        .json(&serde_json::json!({ "action": "load_test", "scenario": "ranges", "connections": 2, "duration": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["report"]["requests"].as_u64().unwrap() > 0, "{body}");
    assert_eq!(body["report"]["errors"], 0);
    let perf = srv.json("/admin/performance").await;
    assert_eq!(perf["last_load_test"]["scenario"], "ranges");
    // The admin page's form, without JavaScript: runs, then shows the report.
    let res = srv
        .client
        .post(srv.url("/admin/performance"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("action=load_test&scenario=gallery&connections=1&duration=1")
        .send()
        .await
        .unwrap();
    assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().unwrap()), (303, "/admin/performance"));
    assert_eq!(srv.json("/admin/performance").await["last_load_test"]["scenario"], "gallery");
    assert!(perf["bytes_streamed"].as_u64().unwrap() > 0);
    let bad = srv.client.post(srv.url("/admin/performance")).json(&serde_json::json!({ "action": "explode" }));
    assert_eq!(bad.send().await.unwrap().status(), 400);

    // Write scenarios would add real views: refused from the web, and from
    // the command line without --allow-writes.
    let views_before = srv.json("/get_views").await;
    for scenario in ["writes", "mixed"] {
        let body = serde_json::json!({ "action": "load_test", "scenario": scenario, "connections": 1, "duration": 1 });
        let res = srv.client.post(srv.url("/admin/performance")).json(&body).send().await.unwrap();
        assert_eq!(res.status(), 400, "{scenario}");
    }
    let url = srv.url("/");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_vidserve"))
            .args(["loadtest", &url, "--duration", "1", "--scenario", "writes"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-writes"));
    assert_eq!(srv.json("/get_views").await, views_before, "no view was added");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_numbers_stream_every_second() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fx = Fixture::new();
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !seen.contains("\"rss_mib\"") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let n = tokio::time::timeout(left, s.read(&mut buf)).await.expect("a perf event in time").unwrap();
        assert!(n > 0);
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("event: perf\ndata: {"), "{seen}");
    assert!(srv.get("/admin").await.text().await.unwrap().contains("id=\"chart-req\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_status_counts_favorites_and_real_cache_hits() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 970);
    fx.mp4("b.mp4", 1000, 971);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("a.mp4").await;
    let put = srv.client.put(srv.url(&format!("/api/v1/videos/{id}/favorite"))).send().await.unwrap();
    assert_eq!(put.status(), 200);
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["favorites_count"], 1, "{status}");
    assert_eq!(status["damaged_user_records"], 0, "{status}");
    // Plain reads of the catalog are not cache hits; a repeated search is.
    let before = (status["cache_hits"].as_u64().unwrap(), status["cache_misses"].as_u64().unwrap());
    for _ in 0..3 {
        assert_eq!(srv.get("/").await.status(), 200);
    }
    let after = srv.json("/admin/cache/status").await;
    assert_eq!(after["cache_hits"].as_u64().unwrap(), before.0, "{after}");
    srv.get("/?q=clip").await;
    srv.get("/?q=clip&page=1").await;
    let searched = srv.json("/admin/cache/status").await;
    assert_eq!(searched["cache_misses"].as_u64().unwrap(), before.1 + 1, "{searched}");
    assert_eq!(searched["cache_hits"].as_u64().unwrap(), before.0 + 1, "{searched}");
}

/// A client that leaves while its load test runs frees the slot: the next
/// one starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_test_abandoned_by_its_client_frees_the_slot() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 100_000, 980);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let body = serde_json::json!({ "action": "load_test", "scenario": "gallery", "connections": 1, "duration": 3 });
    let started = srv.client.post(srv.url("/admin/performance")).json(&body).send();
    // Given up mid-test: once the server says it runs, the request future is
    // dropped.
    tokio::select! {
        res = started => panic!("the 3 s load test answered before it was seen running: {res:?}"),
        _ = eventually(Duration::from_secs(10), "the load test running", || async {
            srv.json("/admin/performance").await["load_test_running"] == true
        }) => {}
    }
    eventually(Duration::from_secs(10), "the slot is free again", || async {
        srv.json("/admin/performance").await["load_test_running"] == false
    })
    .await;
    let body = serde_json::json!({ "action": "load_test", "scenario": "gallery", "connections": 1, "duration": 1 });
    let res = srv.client.post(srv.url("/admin/performance")).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
