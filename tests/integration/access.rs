//! Every route of the route table against anonymous, viewer, editor and
//! admin: who is sent to sign in (303), who is refused (401, 403), who gets
//! through, as the table says (and, for the routes where it matters most,
//! as written here). A route cannot exist without its table entry. And
//! each route again for a viewer without the library the video is in: a
//! route naming that video answers 404, as for one that does not exist.

use vidserve::http::route::{Access, Kind, Name, ROUTES};
use vidserve::people::Role;

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
    fx.mp4("Kids/k.mp4", 1000, 1801);
    let data = tempfile::tempdir().unwrap();
    let kids = fx.path().join("Kids");
    assert!(crate::libraries::library(data.path(), fx.path(), &["add", "Kids", kids.to_str().unwrap()])
        .status
        .success());
    for (name, role) in [("ann", "admin"), ("ed", "editor"), ("vic", "viewer")] {
        assert!(user(data.path(), &["add", name, "--role", role, "--password-stdin"], Some("long enough"))
            .status
            .success());
    }
    let added = user(data.path(), &["add", "kid", "--libraries", "Kids", "--password-stdin"], Some("long enough"));
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let ed = sign_in(&srv, "ed", "long enough").await;
    let vic = sign_in(&srv, "vic", "long enough").await;
    let kid = sign_in(&srv, "kid", "long enough").await;
    // `a.mp4`, outside Kids: the kid may not see it.
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
        let a = v["videos"].as_array().unwrap().iter().find(|v| v["file_title"] == "a").unwrap();
        a["id"].as_str().unwrap().to_string()
    };
    // Every route of the table, its parameters filled in.
    let example = |template: &str| {
        template
            .replace("{id}", &id)
            .replace("{key}", &id)
            .replace("{tag}", "x")
            .replace("{n}", "7")
            .replace("{width}", "320")
            .replace("{sub}", "0")
            .replace("{hash}", "1")
            .replace("{name}", "app.css")
    };
    let mut table: Vec<(&str, String, Needs, bool)> = Vec::new();
    // The routes that name the video, by path.
    let mut naming: Vec<(&str, String)> = Vec::new();
    for e in ROUTES {
        // Signing in answers 401 to a wrong password, and signing out
        // would end the session the next checks use: both are tried below.
        if [Name::SignIn, Name::SignOut].contains(&e.name) {
            continue;
        }
        let needs = match e.access {
            Access::Public => Anyone,
            Access::Role(Role::Viewer) => Viewer,
            Access::Role(Role::Editor) => Editor,
            Access::Role(Role::Admin) => Admin,
        };
        let method = e.verb.allow().split(',').next().unwrap();
        if e.path.contains("{id}") || e.path.contains("{key}") {
            naming.push((method, example(e.path)));
        }
        table.push((method, example(e.path), needs, e.kind == Kind::Page));
    }
    // The table itself, where it matters most, written here.
    for (method, path, needs) in [
        ("GET", "/healthz", Anyone),
        ("GET", "/", Viewer),
        ("PUT", "/api/v1/videos/{id}/rating", Viewer),
        ("PATCH", "/api/v1/videos/{id}", Editor),
        ("POST", "/api/v1/batch", Editor),
        ("POST", "/delete_tag", Editor),
        ("GET", "/metrics", Admin),
        ("POST", "/admin/users", Admin),
        ("POST", "/admin/performance", Admin),
    ] {
        let path = example(path);
        assert!(table.iter().any(|(m, p, n, _)| *m == method && *p == path && *n == needs), "{method} {path}");
    }
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
                assert!(![401, 403, 405, 500].contains(&status) && !to.starts_with("/login"), "{case}: let through");
            } else if cookie.is_some() {
                assert_eq!(status, 403, "{case}: refused");
            } else if *page && *method == "GET" {
                assert!(status == 303 && to.starts_with("/login?next="), "{case}: sent to sign in");
            } else {
                assert_eq!(status, 401, "{case}: asked who");
            }
        }
    }
    // Without the library: every route a viewer may call that names the
    // video answers 404, as for one that does not exist (its role comes
    // first: what a viewer may not do is 403 as before); every other route
    // answers the kid as it answers vic.
    assert!(naming.len() >= 20, "{naming:?}");
    for (method, path, needs, _) in &table {
        let (status, to) = ask(&srv, method, path, Some(&kid)).await;
        let case = format!("kid {method} {path}: {status} {to}");
        if *needs > Viewer {
            assert_eq!(status, 403, "{case}: refused");
        } else if naming.iter().any(|(m, p)| m == method && p == path) {
            assert_eq!(status, 404, "{case}: hidden");
            let (with, _) = ask(&srv, method, path, Some(&vic)).await;
            assert!(![401, 403, 405, 500].contains(&with), "vic {method} {path}: {with}: let through");
        } else {
            assert!(![401, 403, 405, 500].contains(&status) && !to.starts_with("/login"), "{case}: let through");
        }
    }
    // By the original's file name too.
    assert_eq!(ask(&srv, "GET", "/video/a.mp4", Some(&kid)).await.0, 404);
    assert_eq!(ask(&srv, "GET", "/video/a.mp4", Some(&vic)).await.0, 200);
    // Signing in is for anyone (a wrong password is told so).
    let (status, _) = ask(&srv, "POST", "/login", None).await;
    assert_eq!(status, 401);
    // Signing out is for anyone, and ends the session.
    let (status, to) = ask(&srv, "POST", "/logout", Some(&vic)).await;
    assert_eq!((status, to.as_str()), (303, "/login"));
    assert_eq!(ask(&srv, "GET", "/api/v1/videos", Some(&vic)).await.0, 401);
    // A signed link lets anyone fetch that video's bytes, nothing else,
    // until its account signs out everywhere.
    let res = no_redirects().get(srv.url(&format!("/api/v1/videos/{id}/link"))).header("cookie", &ed).send();
    let url = res.await.unwrap().json::<serde_json::Value>().await.unwrap()["url"].as_str().unwrap().to_string();
    let query = url.split_once('?').unwrap().1;
    assert_eq!(ask(&srv, "GET", &format!("/video/{id}?{query}"), None).await.0, 200);
    assert_eq!(ask(&srv, "GET", &format!("/api/v1/videos/{id}?{query}"), None).await.0, 401);
    assert_eq!(ask(&srv, "GET", &format!("/thumb/{id}/320?{query}"), None).await.0, 401);
    // It opens the video's HLS playlist too (what a phone's own player
    // asks for), whose segment links carry it on.
    if std::process::Command::new("ffmpeg").arg("-version").output().is_ok() {
        let res = no_redirects().get(srv.url(&format!("/transcode/{id}.m3u8?{query}"))).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let list = res.text().await.unwrap();
        assert!(list.contains(&format!("\n{id}/0.ts?{query}\n")), "{list}");
        assert_eq!(ask(&srv, "GET", &format!("/transcode/{id}.m3u8"), None).await.0, 401);
        let other = format!("/transcode/{id}.m3u8?{}", query.replace("sig=", "sig=0"));
        assert_eq!(ask(&srv, "GET", &other, None).await.0, 403, "a changed link");
    } else {
        crate::support::skip("ffmpeg is needed for a transcode's playlist");
    }
    assert_eq!(ask(&srv, "POST", "/logout?everywhere=1", Some(&ed)).await.0, 303);
    assert_eq!(ask(&srv, "GET", &format!("/video/{id}?{query}"), None).await.0, 403);
}
