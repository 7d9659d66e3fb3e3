//! Accounts: once one exists, every route but health, sign-in and assets
//! needs a session or a token, and each route's role is enforced.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Fixture, Options, TestServer};

pub fn user(data: &std::path::Path, args: &[&str], password: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidserve"))
        .arg("user")
        .args(args)
        .arg("--data")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(p) = password {
        writeln!(child.stdin.take().unwrap(), "{p}").unwrap();
    }
    child.wait_with_output().unwrap()
}

pub fn no_redirects() -> reqwest::Client {
    crate::support::client()
}

/// `POST /login` with a form body, redirects not followed.
async fn post_login(srv: &TestServer, form: &str) -> reqwest::Response {
    let req = no_redirects().post(srv.url("/login")).header("content-type", "application/x-www-form-urlencoded");
    req.body(form.to_string()).send().await.unwrap()
}

/// Signs in; returns the `Cookie` header value of the session.
pub async fn sign_in(srv: &TestServer, name: &str, password: &str) -> String {
    let form = serde_urlencoded::to_string([("username", name), ("password", password), ("next", "/")]).unwrap();
    let res = post_login(srv, &form).await;
    assert_eq!(res.status(), 303, "{name} signs in");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    cookie.split(';').next().unwrap().to_string()
}

pub async fn status(srv: &TestServer, method: &str, path: &str, auth: Option<(&str, &str)>) -> u16 {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = no_redirects().request(method.clone(), srv.url(path));
    if let Some((k, v)) = auth {
        req = req.header(k, v);
    }
    if method != reqwest::Method::GET {
        req = req.json(&json!({ "rating": 3, "tag": "t", "title": "T", "seconds": 1, "ids": [], "filename": "a.mp4", "action": "nothing" }));
    }
    req.send().await.unwrap().status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_asks_who_and_checks_the_role() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1400);
    let data = tempfile::tempdir().unwrap();
    for (name, role) in [("ann", "admin"), ("ed", "editor"), ("vic", "viewer")] {
        let out = user(data.path(), &["add", name, "--role", role, "--password-stdin"], Some("long enough"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let listed = user(data.path(), &["list"], None);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("ann\tadmin"));
    let token = String::from_utf8(user(data.path(), &["token", "ann"], None).stdout).unwrap().trim().to_string();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let id = srv.id_of_as("a.mp4", &token).await;

    // Anonymous: health, sign-in and assets only; pages go to sign in.
    assert_eq!(status(&srv, "GET", "/healthz", None).await, 200);
    assert_eq!(status(&srv, "GET", "/login", None).await, 200);
    assert_eq!(status(&srv, "GET", "/favicon.ico", None).await, 200);
    let res = no_redirects().get(srv.url("/tags?x=1")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login?next=%2Ftags%3Fx%3D1");
    let res = srv.client.get(srv.url("/api/v1/videos")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["content-type"], "application/json");

    let ann = sign_in(&srv, "ann", "long enough").await;
    let ed = sign_in(&srv, "ed", "long enough").await;
    let vic = sign_in(&srv, "vic", "long enough").await;
    let bearer = format!("Bearer {token}");
    // (route, method, anonymous, viewer, editor, admin)
    let table = [
        ("/", "GET", 303, 200, 200, 200),
        (&format!("/watch/{id}") as &str, "GET", 303, 200, 200, 200),
        (&format!("/video/{id}"), "GET", 401, 200, 200, 200),
        ("/api/v1/videos", "GET", 401, 200, 200, 200),
        (&format!("/api/v1/videos/{id}/rating"), "PUT", 401, 200, 200, 200),
        (&format!("/api/v1/videos/{id}/tags"), "POST", 401, 403, 200, 200),
        (&format!("/api/v1/videos/{id}"), "PATCH", 401, 403, 200, 200),
        ("/admin", "GET", 303, 403, 403, 200),
        ("/admin/cache/status", "GET", 401, 403, 403, 200),
        ("/metrics", "GET", 401, 403, 403, 200),
        ("/healthz", "GET", 200, 200, 200, 200),
    ];
    for (path, method, anon, viewer, editor, admin) in table {
        assert_eq!(status(&srv, method, path, None).await, anon, "anonymous {method} {path}");
        assert_eq!(status(&srv, method, path, Some(("cookie", &vic))).await, viewer, "viewer {method} {path}");
        assert_eq!(status(&srv, method, path, Some(("cookie", &ed))).await, editor, "editor {method} {path}");
        assert_eq!(status(&srv, method, path, Some(("cookie", &ann))).await, admin, "admin {method} {path}");
    }
    // Prometheus' way: an admin's token.
    assert_eq!(status(&srv, "GET", "/metrics", Some(("authorization", &bearer))).await, 200);
    assert_eq!(status(&srv, "GET", "/metrics", Some(("authorization", "Bearer vs_wrong"))).await, 401);

    // Signing out ends the session on the server.
    let res = no_redirects().post(srv.url("/logout")).header("cookie", &vic).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(status(&srv, "GET", "/api/v1/videos", Some(("cookie", &vic))).await, 401);

    // Sessions and tokens survive a restart.
    srv.stop().await;
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    assert_eq!(status(&srv, "GET", "/admin", Some(("cookie", &ann))).await, 200);
    assert_eq!(status(&srv, "GET", "/metrics", Some(("authorization", &bearer))).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_slowed_and_guests_only_watch() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1401);
    let data = tempfile::tempdir().unwrap();
    assert!(user(data.path(), &["add", "ann", "--password-stdin"], Some("long enough")).status.success());
    assert!(
        !user(data.path(), &["add", "bob", "--password-stdin"], Some("short")).status.success(),
        "8 characters at least"
    );
    assert!(user(data.path(), &["add", "kids", "--no-password"], None).status.success());
    let opts = Options { guest: true, ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let started = Instant::now();
    let mut codes = Vec::new();
    for i in 0..7 {
        let res = post_login(&srv, "username=ann&password=wrong+guess").await;
        codes.push(res.status().as_u16());
        if i == 0 {
            // Said beside the fields, tied to the password, which has focus.
            let page = res.text().await.unwrap();
            assert!(
                page.contains(
                    r#"<form class="login stack" method="post" action="/login"><p class="error" id="login-error""#
                ) && page.contains(r#"aria-describedby="login-error" autofocus"#),
                "{page}"
            );
            continue;
        }
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(&codes[..5], &[401; 5]);
    assert_eq!(codes[6], 429, "{codes:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // A `next` that is not a plain local path goes home, never elsewhere.
    srv.stop().await;
    let srv = TestServer::start_with(&[fx.path()], Options { guest: true, ..Options::new(data.path(), false) }).await;
    for next in ["https://evil.example/", "//evil.example", "/caf%C3%A9%0D%0AX: y", "/\\evil"] {
        let res = post_login(&srv, &format!("username=ann&password=long+enough&next={next}")).await;
        assert_eq!(res.status(), 303, "{next}");
        assert_eq!(res.headers()["location"], "/", "{next}");
    }
    // "Who's watching?": profiles without password, picked in one tap.
    let page = no_redirects().get(srv.url("/login")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Who's watching?") && page.contains(">kids</span></button>"), "{page}");
    let res = post_login(&srv, "username=kids&next=%2F").await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()["set-cookie"].to_str().unwrap().starts_with("vidserve_session="));
    // Guests browse and watch, never change anything.
    assert_eq!(status(&srv, "GET", "/", None).await, 200);
    assert_eq!(status(&srv, "GET", "/api/v1/videos", None).await, 200);
    let id = srv.id_of("a.mp4").await;
    assert_eq!(status(&srv, "PUT", &format!("/api/v1/videos/{id}/rating"), None).await, 401);
    assert_eq!(status(&srv, "GET", "/admin", None).await, 303);
    // Nor do they send videos to the house's TVs.
    assert_eq!(status(&srv, "GET", "/api/v1/renderers", None).await, 403);
    assert_eq!(status(&srv, "POST", "/api/v1/renderers/0123456789abcdef/stop", None).await, 401);
}

/// Links for other players: the video's bytes without a session, until the
/// link expires; a changed link is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_links_open_the_video_without_signing_in() {
    let fx = Fixture::new();
    let bytes = fx.mp4("a.mp4", 5000, 1402);
    let data = tempfile::tempdir().unwrap();
    assert!(user(data.path(), &["add", "ann", "--password-stdin"], Some("long enough")).status.success());
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let id = {
        let res = srv.client.get(srv.url("/api/v1/videos")).header("cookie", &ann).send().await.unwrap();
        let v: serde_json::Value = res.json().await.unwrap();
        v["videos"][0]["id"].as_str().unwrap().to_string()
    };
    assert_eq!(status(&srv, "GET", &format!("/api/v1/videos/{id}/link"), None).await, 401, "asking needs a person");
    let link = |ttl: u64| {
        let (srv, ann, id) = (&srv, ann.clone(), id.clone());
        async move {
            let res =
                srv.client.get(srv.url(&format!("/api/v1/videos/{id}/link?ttl={ttl}"))).header("cookie", ann).send();
            let v: serde_json::Value = res.await.unwrap().json().await.unwrap();
            v["url"].as_str().unwrap().to_string()
        }
    };
    let url = link(3600).await;
    assert!(url.starts_with(&format!("http://127.0.0.1:{}/video/{id}?expires=", srv.addr.port())), "{url}");
    // A player with no cookie.
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap(), bytes);
    let ranged =
        crate::support::client_builder().build().unwrap().get(&url).header("range", "bytes=0-9").send().await.unwrap();
    assert_eq!(ranged.status(), 206);
    // Changed: refused.
    let tampered = url.replace("expires=", "expires=9");
    assert_eq!(reqwest::get(&tampered).await.unwrap().status(), 403);
    let other = url.replace(&format!("/video/{id}"), "/video/0000000000000001");
    assert_eq!(reqwest::get(&other).await.unwrap().status(), 403);
    // A listing as a playlist for VLC: signed links, each playable as is.
    let res = srv.client.get(srv.url("/playlist.m3u?sort=title")).header("cookie", &ann).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "audio/x-mpegurl; charset=utf-8");
    let m3u = res.text().await.unwrap();
    let lines: Vec<&str> = m3u.lines().collect();
    assert_eq!(lines[0], "#EXTM3U");
    assert!(lines[1].starts_with("#EXTINF:") && lines[1].ends_with(",a"), "{m3u}");
    let entry = reqwest::get(lines[2]).await.unwrap();
    assert_eq!(entry.status(), 200);
    assert_eq!(entry.bytes().await.unwrap(), bytes);
    // Expired: refused. Time itself is the condition: a link is good through
    // the second it names, so this waits until the clock has passed it (at
    // most 2 s for a one-second link), and no longer.
    let short = link(1).await;
    let expires: u64 =
        short.split("expires=").nth(1).and_then(|q| q.split('&').next()?.parse().ok()).expect("expires=");
    let past = std::time::UNIX_EPOCH + Duration::from_secs(expires + 1);
    let left = past.duration_since(std::time::SystemTime::now()).unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(20)).await;
    assert_eq!(reqwest::get(&short).await.unwrap().status(), 403);
}

fn said(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Mistakes at the command line lose nothing: adding a name that exists is
/// refused without `--replace`, the last admin keeps its role and its
/// account, and removing the household's owner asks first and backs up.
#[test]
fn account_commands_never_leave_the_household_without_an_admin_or_its_data() {
    let data = tempfile::tempdir().unwrap();
    let add = |args: &[&str]| user(data.path(), args, Some("long enough"));
    assert!(add(&["add", "ann", "--role", "admin", "--password-stdin"]).status.success());
    // A viewer under the admin's name: refused, nothing changed.
    let out = add(&["add", "Ann", "--role", "viewer", "--password-stdin"]);
    assert!(!out.status.success() && said(&out).contains("--replace"), "{}", said(&out));
    let list = said(&user(data.path(), &["list"], None));
    assert!(list.contains("ann\tadmin") && !list.contains("no password"), "{list}");
    // Even with --replace the last admin stays an admin.
    let out = add(&["add", "ann", "--role", "viewer", "--password-stdin", "--replace"]);
    assert!(!out.status.success() && said(&out).contains("last admin"), "{}", said(&out));
    assert!(add(&["add", "vic", "--role", "viewer", "--password-stdin"]).status.success());
    // --replace does replace (a role, a password).
    let out = add(&["add", "vic", "--role", "editor", "--password-stdin", "--replace"]);
    assert!(out.status.success() && said(&out).contains("replaced vic as editor"), "{}", said(&out));
    // The last admin cannot be removed while others exist.
    let out = user(data.path(), &["remove", "ann", "--yes"], None);
    assert!(!out.status.success() && said(&out).contains("last admin"), "{}", said(&out));
    // Another admin; then removing the owner asks, and says what goes.
    assert!(add(&["add", "zed", "--role", "admin", "--password-stdin"]).status.success());
    let out = user(data.path(), &["remove", "ann"], None);
    assert!(!out.status.success() && said(&out).contains("--yes") && said(&out).contains("rated"), "{}", said(&out));
    assert!(said(&user(data.path(), &["list"], None)).contains("ann\tadmin"));
    let out = user(data.path(), &["remove", "ann", "--yes"], None);
    assert!(out.status.success() && said(&out).contains("backed up user data to"), "{}", said(&out));
    let backups: Vec<_> = std::fs::read_dir(data.path().join("backups")).unwrap().collect();
    assert_eq!(backups.len(), 1);
    // A viewer goes without a question.
    assert!(user(data.path(), &["remove", "vic"], None).status.success());
    let list = said(&user(data.path(), &["list"], None));
    assert!(!list.contains("ann") && !list.contains("vic") && list.contains("zed\tadmin"), "{list}");
}
