//! Trust under attack: guesses sent at once, a proxy nobody named, one
//! client holding every connection, grants that must end, what each person
//! may see, and media other sites may not embed.

use std::time::Duration;

use serde_json::{json, Value};

use crate::people::{no_redirects, sign_in, user};
use crate::support::{Fixture, Options, TestServer};

const PASSWORD: &str = "long enough";

/// `POST /login` with a form body (redirects not followed), from `client`.
async fn login(client: &reqwest::Client, srv: &TestServer, form: &str, xff: Option<&str>) -> reqwest::Response {
    let mut req = client.post(srv.url("/login")).header("content-type", "application/x-www-form-urlencoded");
    if let Some(x) = xff {
        req = req.header("x-forwarded-for", x);
    }
    req.body(form.to_string()).send().await.unwrap()
}

/// A library of one video and the accounts `(name, role)`, each with `PASSWORD`.
async fn served(accounts: &[(&str, &str)], opts: impl FnOnce(Options) -> Options) -> (TestServer, Fixture) {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 2801);
    let data = tempfile::tempdir().unwrap().keep();
    for (name, role) in accounts {
        let out = user(&data, &["add", name, "--role", role, "--password-stdin"], Some(PASSWORD));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let srv = TestServer::start_with(&[fx.path()], opts(Options::new(&data, false))).await;
    (srv, fx)
}

/// `POST /admin/users` as `cookie`; the answer's status and JSON.
async fn account(srv: &TestServer, cookie: &str, body: Value) -> (u16, Value) {
    let res = srv.client.post(srv.url("/admin/users")).header("cookie", cookie).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_sent_at_once_are_refused_not_checked() {
    let (srv, _fx) = served(&[("ann", "admin")], |o| o).await;
    // 100 guesses at once over 50 connections (more, from one address,
    // would be refused before they send anything).
    let mut burst = tokio::task::JoinSet::new();
    let client = no_redirects();
    for i in 0..50 {
        let (client, url) = (client.clone(), srv.url("/login"));
        burst.spawn(async move {
            let mut answers = Vec::new();
            for j in 0..2 {
                let form = format!("username=ann&password=guess{i:02}{j}");
                let req = client.post(&url).header("content-type", "application/x-www-form-urlencoded").body(form);
                let res = req.send().await.unwrap();
                answers.push((res.status().as_u16(), res.headers().contains_key("retry-after")));
            }
            answers
        });
    }
    // Other requests are answered meanwhile (no thread waits on the hashing).
    assert_eq!(srv.client.get(srv.url("/healthz")).send().await.unwrap().status(), 200);
    let answers: Vec<(u16, bool)> = burst.join_all().await.into_iter().flatten().collect();
    let checked = answers.iter().filter(|(s, _)| *s == 401).count();
    assert!((1..=5).contains(&checked), "{checked} of 100 guesses checked");
    assert!(answers.iter().all(|(s, retry)| *s == 401 || (*s == 429 && *retry)), "{answers:?}");
    // An unknown name is told the same as a wrong password.
    let other = from("127.0.0.3");
    let res = login(&other, &srv, "username=nobody-here&password=whatever1", None).await;
    assert_eq!(res.status(), 401);
}

/// A client whose connections come from `ip` (a loopback address).
fn from(ip: &str) -> reqwest::Client {
    let ip: std::net::IpAddr = ip.parse().unwrap();
    crate::support::client_builder().local_address(ip).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The id of `rel`, asked with a session cookie.
async fn id_as(srv: &TestServer, rel: &str, cookie: &str) -> String {
    let res = srv.client.get(srv.url("/api/v1/videos?per_page=500")).header("cookie", cookie).send().await.unwrap();
    let v: Value = res.json().await.unwrap();
    let found = v["videos"].as_array().unwrap().iter().find(|v| v["paths"][0] == rel).expect("listed");
    found["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_nobody_named_gets_no_profiles_and_a_throttle_of_its_own() {
    let (srv, _fx) = served(&[("ann", "admin"), ("kids", "viewer")], |o| Options { allow_public: true, ..o }).await;
    // kids becomes a profile without a password (viewers only).
    let ann = sign_in(&srv, "ann", PASSWORD).await;
    let (s, _) =
        account(&srv, &ann, json!({ "action": "add", "name": "boss", "role": "admin", "no_password": true })).await;
    assert_eq!(s, 400, "an admin without a password would make every device an admin");
    let (s, _) = account(&srv, &ann, json!({ "action": "remove", "name": "kids" })).await;
    assert_eq!(s, 200);
    let (s, _) = account(&srv, &ann, json!({ "action": "add", "name": "kids", "no_password": true })).await;
    assert_eq!(s, 200);
    let page = |xff: Option<&'static str>| {
        let mut req = no_redirects().get(srv.url("/login"));
        if let Some(x) = xff {
            req = req.header("x-forwarded-for", x);
        }
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    assert!(page(None).await.contains(">kids</span></button>"), "this machine sees the profiles");
    // Through a proxy not named with --trusted-proxy: the client cannot be
    // told, so nothing for private addresses only.
    assert!(!page(Some("203.0.113.9")).await.contains("kids"));
    let res = login(&no_redirects(), &srv, "username=kids&next=%2F", Some("203.0.113.9")).await;
    assert_eq!(res.status(), 401);
    // Its throttle is its own: guesses through it do not slow this machine.
    for i in 0..8 {
        let form = format!("username=ann&password=guess{i}");
        login(&no_redirects(), &srv, &form, Some("203.0.113.9")).await;
    }
    let res = login(&no_redirects(), &srv, "username=kids&next=%2F", None).await;
    assert_eq!(res.status(), 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_hold_every_connection() {
    let (srv, _fx) = served(&[], |o| o).await;
    // A thousand idle connections from 127.0.0.1 (the test server allows 256 in all).
    let mut held = Vec::new();
    for _ in 0..1000 {
        held.push(tokio::net::TcpStream::connect(srv.addr).await.unwrap());
    }
    // Its share is kept (half of 128 while they send nothing), the rest
    // closed at once: waited for until the server has seen them all.
    let still_open = |held: &[tokio::net::TcpStream]| {
        let open = |s: &tokio::net::TcpStream| matches!(s.try_read(&mut [0u8; 1]), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        held.iter().filter(|s| open(s)).count()
    };
    let mut open = held.len();
    for _ in 0..600 {
        open = still_open(&held);
        if open <= 64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(open <= 64, "{open} idle connections kept from one address");
    // Everyone else is served meanwhile, the health check included.
    let res = tokio::time::timeout(Duration::from_secs(10), from("127.0.0.2").get(srv.url("/healthz")).send()).await;
    assert_eq!(res.expect("answered").unwrap().status(), 200);
    drop(held);
}

/// A new API token for bob, made by the admin `cookie`.
async fn new_token(srv: &TestServer, cookie: &str) -> String {
    let (_, v) = account(srv, cookie, json!({ "action": "token", "name": "bob" })).await;
    v["token"].as_str().unwrap().to_string()
}

/// Reads an event stream until it ends; `false` if it is still open after `wait`.
async fn ends_within(mut res: reqwest::Response, wait: Duration) -> bool {
    tokio::time::timeout(wait, async { while let Ok(Some(_)) = res.chunk().await {} }).await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_grant_can_be_ended() {
    let (srv, _fx) = served(&[("ann", "admin"), ("bob", "viewer")], |o| o).await;
    let ann = sign_in(&srv, "ann", PASSWORD).await;
    let as_bob = |path: &str, token: &str| srv.client.get(srv.url(path)).bearer_auth(token).send();
    // A revoked token ends its open event stream at once.
    let t = new_token(&srv, &ann).await;
    let stream = as_bob("/api/v1/events", &t).await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(account(&srv, &ann, json!({ "action": "revoke", "name": "bob" })).await.0, 200);
    assert!(ends_within(stream, Duration::from_secs(10)).await, "the stream of a revoked token ends");
    assert_eq!(as_bob("/api/v1/videos", &t).await.unwrap().status(), 401);
    // A new password ends tokens too.
    let t = new_token(&srv, &ann).await;
    assert_eq!(as_bob("/api/v1/videos", &t).await.unwrap().status(), 200);
    let stream = as_bob("/api/v1/events", &t).await.unwrap();
    let (s, _) = account(&srv, &ann, json!({ "action": "password", "name": "bob", "password": "another one" })).await;
    assert_eq!(s, 200);
    assert_eq!(as_bob("/api/v1/videos", &t).await.unwrap().status(), 401);
    assert!(ends_within(stream, Duration::from_secs(10)).await);
    // Signed links belong to their account: signing out everywhere ends them…
    let bob = sign_in(&srv, "bob", "another one").await;
    let id = id_as(&srv, "a.mp4", &bob).await;
    let link = |cookie: String| {
        let req = srv.client.get(srv.url(&format!("/api/v1/videos/{id}/link"))).header("cookie", cookie);
        async move {
            let v: Value = req.send().await.unwrap().json().await.unwrap();
            assert!(v["ttl"].as_u64().unwrap() <= 6 * 3600, "{v}");
            v["url"].as_str().unwrap().to_string()
        }
    };
    let url = link(bob.clone()).await;
    assert!(url.contains("&by=bob&"), "{url}");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let res = no_redirects().post(srv.url("/logout?everywhere=1")).header("cookie", &bob).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403, "signed out everywhere");
    // …and so does removing the account (a new one of that name gets none of them).
    let bob = sign_in(&srv, "bob", "another one").await;
    let url = link(bob).await;
    assert_eq!(account(&srv, &ann, json!({ "action": "remove", "name": "bob" })).await.0, 200);
    assert_eq!(account(&srv, &ann, json!({ "action": "add", "name": "bob", "password": PASSWORD })).await.0, 200);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403, "the account is gone");
    // The admin's "sign out everywhere" for someone else.
    let bob = sign_in(&srv, "bob", PASSWORD).await;
    let url = link(bob.clone()).await;
    assert_eq!(account(&srv, &ann, json!({ "action": "sign_out", "name": "bob" })).await.0, 200);
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 403);
    let res = srv.client.get(srv.url("/api/v1/videos")).header("cookie", &bob).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

/// The event names a stream sends within `wait`.
async fn events_for(srv: &TestServer, cookie: &str, wait: Duration) -> String {
    let mut res = srv.client.get(srv.url("/api/v1/events")).header("cookie", cookie).send().await.unwrap();
    let mut seen = String::new();
    let _ = tokio::time::timeout(wait, async {
        while let Ok(Some(chunk)) = res.chunk().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_numbers_reach_admins_only_and_media_stays_on_this_site() {
    let (srv, _fx) = served(&[("ann", "admin"), ("vic", "viewer")], |o| o).await;
    let (ann, vic) = (sign_in(&srv, "ann", PASSWORD).await, sign_in(&srv, "vic", PASSWORD).await);
    // The numbers go out once a second: both streams listen for 2.5 s.
    let (admin, viewer) = tokio::join!(
        events_for(&srv, &ann, Duration::from_millis(2500)),
        events_for(&srv, &vic, Duration::from_millis(2500))
    );
    assert!(admin.contains("event: perf"), "{admin}");
    assert!(viewer.contains(": connected") && !viewer.contains("event: perf"), "{viewer}");
    // Media, thumbnails and text may not be embedded by other sites…
    let id = id_as(&srv, "a.mp4", &ann).await;
    for path in [format!("/video/{id}"), format!("/api/v1/videos/{id}"), "/".into()] {
        let res = srv.client.get(srv.url(&path)).header("cookie", &ann).send().await.unwrap();
        assert_eq!(res.headers()["cross-origin-resource-policy"], "same-origin", "{path}");
    }
    // …except through a signed link, made for other players.
    let v: Value = srv
        .client
        .get(srv.url(&format!("/api/v1/videos/{id}/link")))
        .header("cookie", &ann)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = reqwest::get(v["url"].as_str().unwrap()).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cross-origin-resource-policy"], "cross-origin");
}
