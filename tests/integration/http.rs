//! Malformed HTTP: clear 4xx answers, and the server keeps serving.

use crate::support::{status_of, Fixture, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_clear_errors() {
    let fx = Fixture::new();
    fx.mp4("one.mp4", 1000, 400);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;

    let garbage = srv.raw(b"THIS IS NOT HTTP\r\n\r\n").await;
    assert_eq!(status_of(&garbage), 400, "{garbage:?}");

    let huge = format!("GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n", "a".repeat(100_000));
    let res = srv.raw(huge.as_bytes()).await;
    assert_eq!(status_of(&res), 431, "{res:?}");

    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let res = srv.raw(format!("GET / HTTP/1.1\r\nHost: localhost\r\n{many}\r\n").as_bytes()).await;
    assert_eq!(status_of(&res), 431, "too many headers: {res:?}");

    let bad_range = srv
        .raw(b"GET /video/one.mp4 HTTP/1.1\r\nHost: localhost\r\nRange: bytes=\xff\xfe-1\r\nConnection: close\r\n\r\n")
        .await;
    assert_eq!(status_of(&bad_range), 200, "a Range that is not text is ignored");

    // Still serving.
    assert_eq!(srv.get("/healthz").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_stream_costs_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fx = Fixture::new();
    fx.mp4("big.mp4", 20_000_000, 401);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    for _ in 0..20 {
        let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
        s.write_all(b"GET /video/big.mp4 HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        drop(s);
    }
    // A full download afterwards is intact.
    let body = srv.get("/video/big.mp4").await.bytes().await.unwrap();
    assert_eq!(body.len(), std::fs::metadata(fx.path().join("big.mp4")).unwrap().len() as usize);
}

/// Text goes gzipped to clients that take it, video never; API lists
/// carry a validator and answer 304 while nothing changed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_is_compressed_and_lists_revalidate() {
    use std::io::Read;
    let fx = Fixture::new();
    for i in 0..30 {
        fx.mp4(&format!("clip {i}.mp4"), 3000, 1900 + i);
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let gunzip = |b: &[u8]| {
        let mut out = String::new();
        flate2::read::GzDecoder::new(b).read_to_string(&mut out).unwrap();
        out
    };
    let get = |path: String, gzip: bool| {
        let mut req = srv.client.get(srv.url(&path));
        if gzip {
            req = req.header("accept-encoding", "gzip, br");
        }
        req.send()
    };
    // A page: smaller, and the same once unpacked.
    let plain = get("/".into(), false).await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.text().await.unwrap();
    let packed = get("/".into(), true).await.unwrap();
    assert_eq!(packed.headers()["content-encoding"], "gzip");
    assert!(packed.headers()["vary"].to_str().unwrap().contains("accept-encoding"));
    let bytes = packed.bytes().await.unwrap();
    assert!(bytes.len() * 3 < plain.len(), "{} of {}", bytes.len(), plain.len());
    assert_eq!(gunzip(&bytes), plain);
    // JSON and the assets too; video never.
    let list = get("/api/v1/videos?per_page=30".into(), true).await.unwrap();
    assert_eq!(list.headers()["content-encoding"], "gzip");
    let css = srv.get("/").await.text().await.unwrap();
    let css = css.split("href=\"").find(|s| s.contains("app.css")).unwrap().split('"').next().unwrap().to_string();
    let res = get(css, true).await.unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert!(gunzip(&res.bytes().await.unwrap()).contains("--accent"));
    let id = srv.id_of("clip 1.mp4").await;
    let video = get(format!("/video/{id}"), true).await.unwrap();
    assert!(video.headers().get("content-encoding").is_none());
    let size = std::fs::metadata(fx.path().join("clip 1.mp4")).unwrap().len() as usize;
    assert_eq!(video.bytes().await.unwrap().len(), size);
    // HEAD says what GET would send.
    let head = srv.client.head(srv.url("/")).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), bytes.len().to_string());

    // Validators: 304 while nothing changed, a new one after a change.
    let first = srv.get("/api/v1/videos").await;
    let tag = first.headers()["etag"].to_str().unwrap().to_string();
    let again = srv.client.get(srv.url("/api/v1/videos")).header("if-none-match", &tag).send().await.unwrap();
    assert_eq!(again.status(), 304);
    let put = srv.client.put(srv.url(&format!("/api/v1/videos/{id}/rating"))).json(&serde_json::json!({ "rating": 5 }));
    assert_eq!(put.send().await.unwrap().status(), 200);
    let after = srv.client.get(srv.url("/api/v1/videos")).header("if-none-match", &tag).send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert_ne!(after.headers()["etag"].to_str().unwrap(), tag);
}
