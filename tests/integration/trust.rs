//! Requests from web pages and other devices: only names of this server
//! are answered (DNS rebinding), changes need same-origin JSON, and a
//! trusted proxy's X-Forwarded-For decides who the client is.

use serde_json::json;

use crate::support::{Fixture, Options, TestServer};

/// Sends a raw request (the `Host` a browser on a rebound name would send)
/// and returns the status and the body.
async fn raw(srv: &TestServer, head: &str) -> (u16, String) {
    let res = srv.raw(format!("{head}Connection: close\r\n\r\n").as_bytes()).await;
    let status = res.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = res.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_names_of_this_server_are_answered() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1100);
    let data = tempfile::tempdir().unwrap();
    let opts = Options { host_names: vec!["media.example.com".into()], ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let port = srv.addr.port();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "192.168.1.20:8080".to_string(),
        "nas.home.arpa".to_string(),
        "media.example.com".to_string(),
    ] {
        let (status, _) = raw(&srv, &format!("GET /api/v1/videos HTTP/1.1\r\nHost: {host}\r\n")).await;
        assert_eq!(status, 200, "{host}");
    }
    // A rebound attacker domain: refused, reads and writes alike.
    let (status, body) = raw(&srv, "GET /api/v1/videos HTTP/1.1\r\nHost: attacker.example\r\n").await;
    assert_eq!(status, 421);
    assert!(body.contains("--host-name attacker.example"), "{body}");
    let (status, _) = raw(
        &srv,
        "POST /view HTTP/1.1\r\nHost: attacker.example:8080\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n{\"filename\": \"a.mp4\"}\n",
    )
    .await;
    assert_eq!(status, 421);
    assert_eq!(srv.json("/get_views").await, json!({}), "nothing was counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_need_json_and_a_same_origin_browser() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1101);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("a.mp4").await;
    let url = srv.url(&format!("/api/v1/videos/{id}/rating"));
    // JSON dressed as text (what a cross-site form can send): refused.
    let res = srv.client.put(&url).header("content-type", "text/plain").body(r#"{"rating": 4}"#).send().await;
    assert_eq!(res.unwrap().status(), 415);
    let res = srv.client.post(srv.url("/rate")).header("content-type", "text/plain");
    let res = res.body(r#"{"filename": "a.mp4", "rating": 4}"#).send().await.unwrap();
    assert_eq!(res.status(), 415);
    // A browser's change without Origin: refused; with ours: done.
    let host = format!("127.0.0.1:{}", srv.addr.port());
    let browser = srv.client.put(&url).header("sec-fetch-site", "same-origin").json(&json!({ "rating": 4 }));
    assert_eq!(browser.send().await.unwrap().status(), 403);
    let browser = srv
        .client
        .put(&url)
        .header("sec-fetch-site", "same-origin")
        .header("origin", format!("http://{host}"))
        .json(&json!({ "rating": 4 }));
    assert_eq!(browser.send().await.unwrap().status(), 200);
    assert_eq!(srv.json(&format!("/api/v1/videos/{id}")).await["rating"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_client() {
    let fx = Fixture::new();
    let data = tempfile::tempdir().unwrap();
    let opts = Options { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let from = |xff: &'static str| srv.client.get(srv.url("/healthz")).header("x-forwarded-for", xff).send();
    assert_eq!(from("192.168.1.7").await.unwrap().status(), 200);
    assert_eq!(from("192.168.1.7, 203.0.113.9").await.unwrap().status(), 403, "the internet, through the proxy");
    assert_eq!(from("203.0.113.9, 10.0.0.2").await.unwrap().status(), 200, "only the proxy's own entry counts");
    // The proxy's own requests name no client: only its health checks are answered.
    for (path, status) in [("/readyz", 200), ("/healthz", 200), ("/api/v1/videos", 403), ("/", 403)] {
        assert_eq!(srv.get(path).await.status(), status, "{path} asked by the proxy itself");
    }
    // Without --trusted-proxy, a request forwarded for someone else cannot
    // be placed: refused, saying how to name the proxy.
    let (plain, _data) = TestServer::start(&[fx.path()]).await;
    let res = plain.client.get(plain.url("/healthz")).header("x-forwarded-for", "203.0.113.9").send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.text().await.unwrap().contains("--trusted-proxy"));
}
