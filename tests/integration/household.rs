//! One library, several people: ratings, favorites, positions and history
//! are each person's own; tags, titles and total views are shared; the
//! first admin holds what was entered before accounts existed.

use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

use crate::people::{sign_in, user};
use crate::support::{send, Fixture, Options, TestServer};
use crate::user::read_until;

/// Runs the binary; its standard output (it must succeed).
fn vidserve(args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_vidserve")).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A request as the person whose session cookie is `cookie`.
pub async fn call(srv: &TestServer, cookie: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = srv.client.request(method, srv.url(path)).header("cookie", cookie);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn page(srv: &TestServer, cookie: &str, path: &str) -> String {
    srv.client.get(srv.url(path)).header("cookie", cookie).send().await.unwrap().text().await.unwrap()
}

/// Video ids of a listing, in order.
async fn ids(srv: &TestServer, cookie: &str, query: &str) -> Vec<String> {
    let (_, v) = call(srv, cookie, "GET", &format!("/api/v1/videos?{query}"), None).await;
    v["videos"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

/// Opens an event stream as `cookie`.
async fn events(srv: &TestServer, cookie: &str) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let req = format!("GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\nCookie: {cookie}\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    read_until(&mut s, ": connected").await;
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_person_keeps_their_own_ratings_favorites_and_positions() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1500);
    fx.mp4("b.mp4", 1000, 1501);
    let data = tempfile::tempdir().unwrap();

    // Before accounts: the household rates a 5 and starts watching a.
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let (a, b) = (srv.id_of("a.mp4").await, srv.id_of("b.mp4").await);
    send(&srv, "PUT", &format!("/api/v1/videos/{a}/rating"), Some(json!({ "rating": 5 }))).await;
    send(&srv, "PUT", &format!("/api/v1/videos/{a}/position"), Some(json!({ "seconds": 3 }))).await;
    srv.stop().await;

    for (name, role) in [("ann", "admin"), ("vic", "viewer"), ("bob", "viewer"), ("ed", "editor")] {
        let out = user(data.path(), &["add", name, "--role", role, "--password-stdin"], Some("long enough"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let vic = sign_in(&srv, "vic", "long enough").await;
    let bob = sign_in(&srv, "bob", "long enough").await;
    let ed = sign_in(&srv, "ed", "long enough").await;

    // The first admin holds what was entered before accounts existed.
    let (_, v) = call(&srv, &ann, "GET", &format!("/api/v1/videos/{a}"), None).await;
    assert_eq!((v["rating"].clone(), v["position_ms"].clone()), (json!(5), json!(3000)));
    let (_, v) = call(&srv, &vic, "GET", &format!("/api/v1/videos/{a}"), None).await;
    assert_eq!(
        (v["rating"].clone(), v["favorite"].clone(), v["position_ms"].clone()),
        (Value::Null, json!(false), Value::Null)
    );
    assert!(page(&srv, &ann, "/").await.contains("Continue watching"));
    assert!(!page(&srv, &vic, "/").await.contains("Continue watching"));

    // Vic's own: a 2 for a, a 4 and a favorite for b, a position in b.
    let mut vic_events = events(&srv, &vic).await;
    let mut bob_events = events(&srv, &bob).await;
    let (s, v) = call(&srv, &vic, "PUT", &format!("/api/v1/videos/{a}/rating"), Some(json!({ "rating": 2 }))).await;
    assert_eq!((s, v["rating"].clone()), (200, json!(2)));
    call(&srv, &vic, "PUT", &format!("/api/v1/videos/{b}/rating"), Some(json!({ "rating": 4 }))).await;
    call(&srv, &vic, "PUT", &format!("/api/v1/videos/{b}/favorite"), None).await;
    call(&srv, &vic, "PUT", &format!("/api/v1/videos/{b}/position"), Some(json!({ "seconds": 7 }))).await;
    let got = read_until(&mut vic_events, "\"position_ms\":7000").await;
    assert!(got.contains("\"rating\":2"), "{got}");
    // A view counts for everyone's total; only vic learns vic's rating.
    let (_, v) = call(&srv, &vic, "POST", &format!("/api/v1/videos/{a}/view"), None).await;
    assert_eq!((v["views"].clone(), v["rating"].clone()), (json!(1), json!(2)));
    let got = read_until(&mut bob_events, "\"views\":1").await;
    assert!(!got.contains("rating") && !got.contains("favorite") && !got.contains("position"), "{got}");
    assert_eq!(got.matches("event: user").count(), 1, "vic's own changes are not told to bob: {got}");

    // Each sees their own; the others are untouched.
    let (_, v) = call(&srv, &ann, "GET", &format!("/api/v1/videos/{a}"), None).await;
    assert_eq!((v["rating"].clone(), v["views"].clone()), (json!(5), json!(1)));
    let (_, v) = call(&srv, &bob, "GET", &format!("/api/v1/videos/{b}"), None).await;
    assert_eq!((v["rating"].clone(), v["favorite"].clone()), (Value::Null, json!(false)));
    assert_eq!(ids(&srv, &vic, "favorites=true").await, vec![b.clone()]);
    assert!(ids(&srv, &bob, "favorites=true").await.is_empty());
    assert!(ids(&srv, &ann, "favorites=true").await.is_empty());
    assert_eq!(ids(&srv, &vic, "min_rating=4").await, vec![b.clone()]);
    assert_eq!(ids(&srv, &ann, "min_rating=4").await, vec![a.clone()]);
    // Sorting by rating uses one's own; the household average is its own sort
    // (a: 5 and 2 = 3.5; b: 4).
    assert_eq!(ids(&srv, &vic, "sort=rating&order=desc").await, vec![b.clone(), a.clone()]);
    assert_eq!(ids(&srv, &ann, "sort=rating&order=desc").await, vec![a.clone(), b.clone()]);
    assert_eq!(ids(&srv, &bob, "sort=household&order=desc").await, vec![b.clone(), a.clone()]);
    assert!(page(&srv, &vic, "/").await.contains("Household rating"));
    let watching = page(&srv, &vic, "/").await;
    assert!(watching.contains("Continue watching"), "vic's own position");
    assert!(!page(&srv, &bob, "/").await.contains("Continue watching"));
    // The original's favorite list is each person's too.
    let res = srv
        .client
        .post(srv.url("/favorite"))
        .header("cookie", &bob)
        .json(&json!({ "filename": "a.mp4" }))
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["favorites"], json!(["a.mp4"]));

    // Shared: a tag an editor adds reaches everyone, and no one's rating moves.
    let (s, _) = call(&srv, &ed, "POST", &format!("/api/v1/videos/{b}/tags"), Some(json!({ "tag": "shared" }))).await;
    assert_eq!(s, 200);
    let (_, v) = call(&srv, &vic, "GET", &format!("/api/v1/videos/{b}"), None).await;
    assert_eq!(
        (v["tags"].clone(), v["rating"].clone(), v["favorite"].clone()),
        (json!(["shared"]), json!(4), json!(true))
    );

    // Kept across a restart.
    srv.stop().await;
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let (_, v) = call(&srv, &vic, "GET", &format!("/api/v1/videos/{b}"), None).await;
    assert_eq!(
        (v["rating"].clone(), v["favorite"].clone(), v["position_ms"].clone()),
        (json!(4), json!(true), json!(7000))
    );

    // Exported with everyone's own data, and restored from it.
    srv.stop().await;
    let (dir, data_dir) = (fx.path().to_str().unwrap(), data.path().to_str().unwrap());
    let export = vidserve(&["export", "--dir", dir, "--data", data_dir]);
    let doc: Value = serde_json::from_slice(&export).unwrap();
    assert_eq!(doc["people"]["vic"].as_array().map(Vec::len), Some(2), "{doc}");
    let fresh = tempfile::tempdir().unwrap();
    let file = fresh.path().join("backup.json");
    std::fs::write(&file, &export).unwrap();
    let fresh_data = fresh.path().join("data");
    // A person's data is restored only into their account: made first.
    for (name, role) in [("ann", "admin"), ("vic", "viewer"), ("bob", "viewer"), ("ed", "editor")] {
        let out = user(&fresh_data, &["add", name, "--role", role, "--password-stdin"], Some("long enough"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let fresh_data = fresh_data.to_str().unwrap();
    let report = vidserve(&["import", file.to_str().unwrap(), "--dir", dir, "--data", fresh_data]);
    assert!(
        String::from_utf8_lossy(&report).contains("belong to ann (the first admin)"),
        "{}",
        String::from_utf8_lossy(&report)
    );
    let again: Value = serde_json::from_slice(&vidserve(&["export", "--dir", dir, "--data", fresh_data])).unwrap();
    assert_eq!(again["people"], doc["people"]);
    assert_eq!(again["videos"], doc["videos"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_page_manages_accounts() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1510);
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let form = |pairs: &[(&str, &str)]| serde_urlencoded::to_string(pairs).unwrap();
    let post = |cookie: Option<String>, body: String| {
        let mut req = srv
            .client
            .post(srv.url("/admin/users"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    // Without accounts, the page offers to add the first: an admin with a password.
    let admin = srv.get("/admin").await.text().await.unwrap();
    assert!(admin.contains("id=\"users\"") && admin.contains("No accounts"), "{admin}");
    let res = post(None, form(&[("action", "add"), ("name", "kid"), ("role", "viewer"), ("password", "long enough")]))
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "the first account must be an admin");
    let res = post(None, form(&[("action", "add"), ("name", "ann"), ("role", "admin"), ("password", "long enough")]))
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // Now everything needs a session.
    assert_eq!(srv.get("/").await.status(), 303);
    let ann = sign_in(&srv, "ann", "long enough").await;
    let home = page(&srv, &ann, "/").await;
    assert!(home.contains("<span class=\"who\">ann</span>") && home.contains("action=\"/logout\""), "{home}");

    // Add a viewer and a profile without password; make a token; list.
    for body in [
        form(&[("action", "add"), ("name", "vic"), ("role", "viewer"), ("password", "long enough")]),
        form(&[("action", "add"), ("name", "kids"), ("role", "viewer"), ("no_password", "true")]),
    ] {
        assert_eq!(post(Some(ann.clone()), body).await.unwrap().status(), 303);
    }
    let res = post(Some(ann.clone()), form(&[("action", "add"), ("name", "vic"), ("password", "long enough")]));
    assert_eq!(res.await.unwrap().status(), 409, "no silent replacement");
    let res = post(Some(ann.clone()), form(&[("action", "token"), ("name", "vic")])).await.unwrap();
    let shown = res.text().await.unwrap();
    let token = shown.split("<code id=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(token.starts_with("vs_"), "{shown}");
    let res = srv.client.get(srv.url("/api/v1/videos")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (_, list) = call(&srv, &ann, "GET", "/admin/users", None).await;
    let names: Vec<&str> = list["users"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ann", "kids", "vic"]);
    assert_eq!(list["users"][0]["household"], true);
    // The page: each account's forms behind its Manage, labelled; the last
    // admin is not offered Remove while others exist.
    let users = page(&srv, &ann, "/admin").await;
    assert_eq!(users.matches("<details class=\"manage\">").count(), 3, "{users}");
    assert!(users.contains("aria-label=\"Remove vic\"") && !users.contains("aria-label=\"Remove ann\""), "{users}");
    assert!(
        users.contains("The last admin cannot be removed")
            && users.contains("<label for=\"pw-vic\">New password</label>")
    );
    // Titles and tags are for editors: a viewer's watch page has neither form.
    let (_, videos) = call(&srv, &ann, "GET", "/api/v1/videos", None).await;
    let any = videos["videos"][0]["id"].as_str().unwrap().to_string();
    let vic = crate::people::sign_in(&srv, "vic", "long enough").await;
    let (mine, theirs) =
        (page(&srv, &ann, &format!("/watch/{any}")).await, page(&srv, &vic, &format!("/watch/{any}")).await);
    assert!(mine.contains("id=\"title-form\"") && mine.contains("id=\"tag-form\""), "{mine}");
    assert!(!theirs.contains("id=\"title-form\"") && !theirs.contains("id=\"tag-form\""), "{theirs}");
    // An error page does not know who asks: no Admin link on it.
    let missing = srv.client.get(srv.url("/watch/0123456789abcdef")).header("cookie", &ann).send().await.unwrap();
    assert!(!missing.text().await.unwrap().contains("href=\"/admin\""));

    // Load tests ask as someone: the admin page's as the admin who runs it,
    // the command line's with a token.
    let res = srv
        .client
        .post(srv.url("/admin/performance"))
        .header("cookie", &ann)
        .json(&json!({ "action": "load_test", "scenario": "gallery", "connections": 2, "duration": 1 }))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(body["report"]["requests"].as_u64().unwrap() > 0, "{body}");
    assert_eq!(body["report"]["errors"], 0, "{body}");
    let url = srv.url("/");
    let (url2, token2) = (url.clone(), token.clone());
    let run = move |token: Option<String>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_vidserve"));
        cmd.args(["loadtest", &url, "--connections", "2", "--duration", "1", "--scenario", "ranges"]);
        cmd.env_remove("VIDSERVE_TOKEN");
        if let Some(t) = token {
            cmd.env("VIDSERVE_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let (with, without) = tokio::task::spawn_blocking(move || (run(Some(token2)), run(None))).await.unwrap();
    let text = String::from_utf8_lossy(&with.stdout);
    assert!(with.status.success() && text.ends_with(" 0 errors\n"), "{text} {}", String::from_utf8_lossy(&with.stderr));
    assert!(!without.status.success());
    assert!(String::from_utf8_lossy(&without.stderr).contains("has accounts"), "{url2}");

    // A viewer sees no Admin link and may not manage accounts.
    let vic = sign_in(&srv, "vic", "long enough").await;
    assert!(!page(&srv, &vic, "/").await.contains("href=\"/admin\""));
    let res = post(Some(vic.clone()), form(&[("action", "remove"), ("name", "ann")])).await.unwrap();
    assert_eq!(res.status(), 403);

    // The last admin stays; removing vic ends their sessions, tokens and data.
    let id = srv.id_of_as("a.mp4", &token).await;
    call(&srv, &vic, "PUT", &format!("/api/v1/videos/{id}/rating"), Some(json!({ "rating": 1 }))).await;
    let res = post(Some(ann.clone()), form(&[("action", "remove"), ("name", "ann")])).await.unwrap();
    assert_eq!(res.status(), 409);
    let res = post(Some(ann.clone()), form(&[("action", "remove"), ("name", "vic")])).await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(call(&srv, &vic, "GET", "/api/v1/videos", None).await.0, 401);
    let res = srv.client.get(srv.url("/api/v1/videos")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = post(Some(ann.clone()), form(&[("action", "add"), ("name", "vic"), ("password", "long enough")]));
    assert_eq!(res.await.unwrap().status(), 303);
    let vic = sign_in(&srv, "vic", "long enough").await;
    let (_, v) = call(&srv, &vic, "GET", &format!("/api/v1/videos/{id}"), None).await;
    assert_eq!(v["rating"], Value::Null, "a new vic starts afresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_household_stays_with_its_first_admin() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1530);
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let a = srv.id_of("a.mp4").await;
    send(&srv, "PUT", &format!("/api/v1/videos/{a}/rating"), Some(json!({ "rating": 5 }))).await;
    send(&srv, "POST", &format!("/api/v1/videos/{a}/tags"), Some(json!({ "tag": "kept" }))).await;
    srv.stop().await;
    // An older viewer, then the first admin: the admin holds the household.
    let add = |args: &[&str]| {
        let out = user(data.path(), args, Some("long enough"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    add(&["add", "bob", "--password-stdin"]);
    add(&["add", "ann", "--role", "admin", "--password-stdin"]);
    // Replacing bob as an admin does not move the household to him.
    add(&["add", "bob", "--role", "admin", "--password-stdin", "--replace"]);
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let bob = sign_in(&srv, "bob", "long enough").await;
    let rating = |cookie: String| {
        let (srv, a) = (&srv, a.clone());
        async move { call(srv, &cookie, "GET", &format!("/api/v1/videos/{a}"), None).await.1["rating"].clone() }
    };
    assert_eq!(rating(ann.clone()).await, json!(5));
    assert_eq!(rating(bob.clone()).await, Value::Null);

    // A stream of ann's ends when ann signs out (it is asked again).
    let mut stream = events(&srv, &ann).await;
    let res = srv.client.post(srv.url("/logout")).header("cookie", &ann).send().await.unwrap();
    assert_eq!(res.status(), 303);
    call(&srv, &bob, "POST", &format!("/api/v1/videos/{a}/tags"), Some(json!({ "tag": "after" }))).await;
    let mut rest = Vec::new();
    let ended = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut rest),
    )
    .await;
    assert!(ended.is_ok(), "the signed-out stream ends");
    assert!(!String::from_utf8_lossy(&rest).contains("\"rating\":5"));

    // Removing ann removes the household's own data with her: bob, the
    // admin now, does not inherit it; shared tags stay. It is asked first,
    // and her data is in a backup before it goes.
    let remove = |confirm: bool| {
        let mut fields = vec![("action", "remove"), ("name", "ann")];
        if confirm {
            fields.push(("confirm", "on"));
        }
        srv.client
            .post(srv.url("/admin/users"))
            .header("cookie", &bob)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap())
            .send()
    };
    let res = remove(false).await.unwrap();
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("household"));
    let (_, v) = call(&srv, &bob, "GET", "/admin/users", None).await;
    assert!(v.to_string().contains("\"ann\""), "not removed: {v}");
    let backups = || std::fs::read_dir(data.path().join("backups")).map_or(0, |d| d.count());
    let before = backups();
    let res = remove(true).await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(backups(), before + 1, "a backup before the household's data goes");
    let (_, v) = call(&srv, &bob, "GET", &format!("/api/v1/videos/{a}"), None).await;
    assert_eq!((v["rating"].clone(), v["tags"].clone()), (Value::Null, json!(["kept", "after"])));
    srv.stop().await;
    add(&["add", "ann", "--role", "admin", "--password-stdin"]);
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let (_, v) = call(&srv, &ann, "GET", &format!("/api/v1/videos/{a}"), None).await;
    assert_eq!((v["rating"].clone(), v["tags"].clone()), (Value::Null, json!(["kept", "after"])));
}
