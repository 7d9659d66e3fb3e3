//! The original server's routes and files, as its clients use them.

use serde_json::{json, Value};

use crate::support::{send, Fixture, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_originals_routes() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 610);
    fx.mp4("sub/b c.mp4", 1000, 611);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;

    let (s, v) = send(&srv, "POST", "/rate", Some(json!({ "filename": "a.mp4", "rating": 5 }))).await;
    assert_eq!((s, v), (200, json!({ "success": true, "rating": 5 })));
    let form = srv
        .client
        .post(srv.url("/rate"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("filename=sub%2Fb+c.mp4&rating=2");
    let v: Value = form.send().await.unwrap().json().await.unwrap();
    assert_eq!(v, json!({ "success": true, "rating": 2 }));
    let (s, _) = send(&srv, "POST", "/rate", Some(json!({ "filename": "a.mp4", "rating": 9 }))).await;
    assert_eq!(s, 400);
    let (s, _) = send(&srv, "POST", "/rate", Some(json!({ "filename": "nope.mp4", "rating": 3 }))).await;
    assert_eq!(s, 404);

    let (_, v) = send(&srv, "POST", "/view", Some(json!({ "filename": "a.mp4" }))).await;
    assert_eq!(v, json!({ "success": true, "views": 1 }));
    send(&srv, "POST", "/view", Some(json!({ "filename": "a.mp4" }))).await;
    send(&srv, "POST", "/view", Some(json!({ "filename": "sub/b c.mp4" }))).await;
    assert_eq!(srv.json("/get_views").await, json!({ "a.mp4": 2, "sub/b c.mp4": 1 }));

    let (_, v) = send(&srv, "POST", "/favorite", Some(json!({ "filename": "sub/b c.mp4" }))).await;
    assert_eq!(v, json!({ "success": true, "favorites": ["sub/b c.mp4"] }));
    let (_, v) = send(&srv, "POST", "/favorite", Some(json!({ "filename": "sub/b c.mp4" }))).await;
    assert_eq!(v, json!({ "success": true, "favorites": [] }));
    let (s, _) = send(&srv, "POST", "/favorite", Some(json!({}))).await;
    assert_eq!(s, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_originals_json_routes_answer_errors_in_json() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 612);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    for (path, body) in [
        ("/rate", json!({ "filename": "a.mp4", "rating": 9 })),
        ("/rate", json!({ "filename": "nope.mp4", "rating": 3 })),
        ("/tag", json!({ "filename": "a.mp4", "tag": "" })),
        ("/delete_tag", json!({ "filename": "nope.mp4", "tag": "x" })),
        ("/favorite", json!({})),
        ("/view", json!({ "filename": "nope.mp4" })),
    ] {
        let res = srv.client.post(srv.url(path)).header("accept", "application/json").json(&body).send().await.unwrap();
        let status = res.status().as_u16();
        let ctype = res.headers()["content-type"].to_str().unwrap().to_string();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status >= 400, "{path} {body}: {status}");
        assert_eq!(ctype, "application/json", "{path} {body}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{path} {body}: {v}");
    }
    // Bad JSON on such a route is a JSON 400, whatever the Accept header.
    let res = srv.client.post(srv.url("/rate")).header("content-type", "application/json").body("{oops").send().await;
    let res = res.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/json");
    // A page asked for as JSON answers its error as JSON too; in a browser, HTML.
    let res = srv.get_with("/watch/0000000000000000", &[("accept", "application/json")]).await;
    assert_eq!((res.status().as_u16(), res.headers()["content-type"].to_str().unwrap()), (404, "application/json"));
    let res = srv.get_with("/watch/0000000000000000", &[("accept", "text/html,*/*")]).await;
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
}

/// Two byte-identical files are one video with two paths; each path route
/// answers for its own path.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_path_of_a_duplicate_answers_for_itself() {
    let fx = Fixture::new();
    let bytes = fx.mp4("first.m4v", 2000, 613);
    fx.write("second.mp4", &bytes);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let videos = srv.videos().await;
    assert_eq!(videos.len(), 1, "one video");
    assert_eq!(videos[0]["paths"], json!(["first.m4v", "second.mp4"]));
    for (path, ctype) in [("/video/second.mp4", "video/mp4"), ("/video/first.m4v", "video/x-m4v")] {
        let res = srv.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], ctype, "{path}");
        assert_eq!(res.bytes().await.unwrap(), bytes, "{path}");
    }
    let (s, _) = send(&srv, "POST", "/view", Some(json!({ "filename": "second.mp4" }))).await;
    assert_eq!(s, 200);
    assert_eq!(srv.json("/get_views").await, json!({ "first.m4v": 1, "second.mp4": 1 }));
    let (_, v) = send(&srv, "POST", "/favorite", Some(json!({ "filename": "first.m4v" }))).await;
    assert_eq!(v, json!({ "success": true, "favorites": ["first.m4v", "second.mp4"] }));
}
