//! Operations: Prometheus metrics parse with a real parser and move when
//! requests are made.

use prometheus_parse::{Scrape, Value};

use crate::support::{Fixture, TestServer};

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
    assert!(
        value(&after, "vidserve_http_request_duration_seconds_count", &[("route", "gallery")]).is_some()
            || value(&after, "vidserve_http_request_duration_seconds", &[("route", "gallery")]).is_some()
    );
}
