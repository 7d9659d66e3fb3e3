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
