//! Every route against anonymous, viewer, editor and admin, from a table
//! written here (not read from the server's own decisions): who is sent
//! to sign in (303), who is refused (401, 403), who gets through. A route
//! without a decision does not compile (`Route::access` is exhaustive).

use crate::people::{no_redirects, sign_in, user};
use crate::support::{Fixture, Options, TestServer};

#[derive(Clone, Copy, PartialEq, PartialOrd, Debug)]
enum Needs {
    Anyone,
    Viewer,
    Editor,
    Admin,
}

/// The status of `method path` as `cookie` (none: anonymous), and where
/// it redirects.
async fn ask(srv: &TestServer, method: &str, path: &str, cookie: Option<&str>) -> (u16, String) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = no_redirects().request(m.clone(), srv.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    if m != reqwest::Method::GET {
        req = req.json(&serde_json::json!({ "action": "nothing", "rating": 3, "tag": "t", "seconds": 1, "ids": [], "messages": [] }));
    }
    let res = req.send().await.unwrap();
    let to = res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (res.status().as_u16(), to)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_has_its_role() {
    use Needs::*;
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1800);
    let data = tempfile::tempdir().unwrap();
    for (name, role) in [("ann", "admin"), ("ed", "editor"), ("vic", "viewer")] {
        assert!(user(data.path(), &["add", name, "--role", role, "--password-stdin"], Some("long enough"))
            .status
            .success());
    }
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let ed = sign_in(&srv, "ed", "long enough").await;
    let vic = sign_in(&srv, "vic", "long enough").await;
    let id = {
        let (s, _) = ask(&srv, "GET", "/api/v1/videos", Some(&ann)).await;
        assert_eq!(s, 200);
        let v: serde_json::Value = srv
            .client
            .get(srv.url("/api/v1/videos"))
            .header("cookie", &ann)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["videos"][0]["id"].as_str().unwrap().to_string()
    };
    let v = |p: &str| p.replace("{id}", &id);
    // (method, path, who may, a page a browser visits)
    let table: Vec<(&str, String, Needs, bool)> = vec![
        ("GET", v("/healthz"), Anyone, false),
        ("GET", v("/readyz"), Anyone, false),
        ("GET", v("/login"), Anyone, true),
        ("GET", v("/favicon.ico"), Anyone, false),
        ("GET", v("/sw.js"), Anyone, false),
        ("GET", v("/"), Viewer, true),
        ("GET", v("/favorites"), Viewer, true),
        ("GET", v("/best-of"), Viewer, true),
        ("GET", v("/random"), Viewer, true),
        ("GET", v("/tags"), Viewer, true),
        ("GET", v("/tag/x"), Viewer, true),
        ("GET", v("/watch/{id}"), Viewer, true),
        ("GET", v("/video/{id}"), Viewer, false),
        ("GET", v("/thumb/{id}/320"), Viewer, false),
        ("GET", v("/sprite/{id}.jpg"), Viewer, false),
        ("GET", v("/sprite/{id}.vtt"), Viewer, false),
        ("GET", v("/subtitles/{id}/0.vtt"), Viewer, false),
        ("GET", v("/ping"), Viewer, false),
        ("GET", v("/api/v1/videos"), Viewer, false),
        ("GET", v("/api/v1/videos/{id}"), Viewer, false),
        ("GET", v("/api/v1/random"), Viewer, false),
        ("GET", v("/api/v1/tags"), Viewer, false),
        ("GET", v("/api/v1/openapi.json"), Viewer, false),
        ("GET", v("/api/v1/events"), Viewer, false),
        ("GET", v("/api/v1/videos/{id}/link"), Viewer, false),
        ("GET", v("/playlist.m3u"), Viewer, false),
        ("GET", v("/get_views"), Viewer, false),
        ("PUT", v("/api/v1/videos/{id}/rating"), Viewer, false),
        ("DELETE", v("/api/v1/videos/{id}/rating"), Viewer, false),
        ("PUT", v("/api/v1/videos/{id}/favorite"), Viewer, false),
        ("DELETE", v("/api/v1/videos/{id}/favorite"), Viewer, false),
        ("POST", v("/api/v1/videos/{id}/view"), Viewer, false),
        ("PUT", v("/api/v1/videos/{id}/position"), Viewer, false),
        ("DELETE", v("/api/v1/videos/{id}/position"), Viewer, false),
        ("POST", v("/rate"), Viewer, false),
        ("POST", v("/view"), Viewer, false),
        ("POST", v("/favorite"), Viewer, false),
        ("POST", v("/api/v1/chat"), Viewer, false),
        ("PATCH", v("/api/v1/videos/{id}"), Editor, false),
        ("POST", v("/api/v1/videos/{id}/thumbnail"), Editor, false),
        ("POST", v("/api/v1/videos/{id}/tags"), Editor, false),
        ("DELETE", v("/api/v1/videos/{id}/tags/t"), Editor, false),
        ("POST", v("/api/v1/batch"), Editor, false),
        ("POST", v("/tag"), Editor, false),
        ("POST", v("/delete_tag"), Editor, false),
        ("GET", v("/admin"), Admin, true),
        ("GET", v("/admin/cache/status"), Admin, false),
        ("POST", v("/admin/cache/refresh"), Admin, false),
        ("POST", v("/admin/thumbnails/regenerate"), Admin, false),
        ("GET", v("/admin/performance"), Admin, false),
        ("POST", v("/admin/performance"), Admin, false),
        ("GET", v("/admin/users"), Admin, false),
        ("POST", v("/admin/users"), Admin, false),
        ("GET", v("/metrics"), Admin, false),
    ];
    for (method, path, needs, page) in &table {
        for (who, cookie, level) in [
            ("anonymous", None, Anyone),
            ("vic", Some(&vic), Viewer),
            ("ed", Some(&ed), Editor),
            ("ann", Some(&ann), Admin),
        ] {
            let (status, to) = ask(&srv, method, path, cookie.map(String::as_str)).await;
            let case = format!("{who} {method} {path}: {status} {to}");
            if level >= *needs {
                assert!(![401, 403].contains(&status) && !to.starts_with("/login"), "{case}: let through");
            } else if cookie.is_some() {
                assert_eq!(status, 403, "{case}: refused");
            } else if *page && *method == "GET" {
                assert!(status == 303 && to.starts_with("/login?next="), "{case}: sent to sign in");
            } else {
                assert_eq!(status, 401, "{case}: asked who");
            }
        }
    }
    // Signing out is for anyone, and ends the session.
    let (status, to) = ask(&srv, "POST", "/logout", Some(&vic)).await;
    assert_eq!((status, to.as_str()), (303, "/login"));
    assert_eq!(ask(&srv, "GET", "/api/v1/videos", Some(&vic)).await.0, 401);
}
