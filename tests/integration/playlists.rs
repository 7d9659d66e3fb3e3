//! Playlists: made, filled, reordered and played in order; each person's
//! own; kept across restarts, in exports and their imports; bad input
//! refused with a clear answer.

use serde_json::{json, Value};

use crate::household::call;
use crate::people::{sign_in, user};
use crate::support::{send, Fixture, Options, TestServer};

fn ids(list: &Value) -> Vec<&str> {
    list["videos"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_playlist_is_made_filled_reordered_and_played() {
    let fx = Fixture::new();
    for (n, name) in ["a.mp4", "b.mp4", "c.mp4"].iter().enumerate() {
        fx.mp4(name, 1000, 1900 + n as u64);
    }
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let (a, b, c) = (srv.id_of("a.mp4").await, srv.id_of("b.mp4").await, srv.id_of("c.mp4").await);

    let (status, made) =
        send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": " Road trip ", "ids": [b] }))).await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        (made["id"].clone(), made["name"].clone(), made["count"].clone()),
        (json!(1), json!("Road trip"), json!(1))
    );
    let (status, list) = send(&srv, "POST", "/api/v1/playlists/1/videos", Some(json!({ "ids": [a, c, b] }))).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(ids(&list), [&b, &a, &c], "added at the end; one already in stays where it is");
    let (_, list) = send(&srv, "PATCH", "/api/v1/playlists/1", Some(json!({ "ids": [c, b, a], "name": "Trip" }))).await;
    assert_eq!((ids(&list), list["name"].clone()), (vec![c.as_str(), &b, &a], json!("Trip")));
    // Two of one person's playlists cannot share a name (any case), made or renamed.
    let (status, said) = send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": "trip" }))).await;
    assert_eq!(status, 409, "{said}");
    assert!(said["error"]["message"].as_str().unwrap().contains("already have a playlist named"), "{said}");
    let (status, _) = send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": "Other" }))).await;
    assert_eq!(status, 201);
    let (status, _) = send(&srv, "PATCH", "/api/v1/playlists/2", Some(json!({ "name": "TRIP" }))).await;
    assert_eq!(status, 409);
    let (status, _) = send(&srv, "PATCH", "/api/v1/playlists/1", Some(json!({ "name": "trip" }))).await;
    assert_eq!(status, 200, "its own name in another case");
    let (status, _) = send(&srv, "PATCH", "/api/v1/playlists/1", Some(json!({ "name": "Trip" }))).await;
    assert_eq!(status, 200);
    assert_eq!(send(&srv, "DELETE", "/api/v1/playlists/2", None).await.0, 200);
    let (_, list) = send(&srv, "DELETE", &format!("/api/v1/playlists/1/videos/{b}"), None).await;
    assert_eq!(ids(&list), [&c, &a]);
    assert_eq!(list["play_url"], json!(format!("/watch/{c}?playlist=1")));

    // Listed, as a listing of the API, as an M3U and as a page.
    let (_, all) = send(&srv, "GET", "/api/v1/playlists", None).await;
    assert_eq!(all["playlists"][0]["count"], 2, "{all}");
    let (_, listing) = send(&srv, "GET", "/api/v1/videos?playlist=1", None).await;
    assert_eq!(ids(&listing), [&c, &a]);
    let m3u = srv.get("/playlist.m3u?playlist=1").await.text().await.unwrap();
    let order: Vec<&str> = m3u.lines().filter(|l| l.contains("/video/")).collect();
    assert!(order.len() == 2 && order[0].contains(&c) && order[1].contains(&a), "{m3u}");
    let page = srv.get("/playlists/1").await.text().await.unwrap();
    assert!(page.contains("<h1>Trip</h1>") && page.contains(r#"id="playlist-editor""#), "{page}");
    assert!(page.contains(&format!(r#"href="/watch/{c}?playlist=1""#)), "{page}");
    assert!(srv.get("/playlists").await.text().await.unwrap().contains(r#"href="/playlists/1""#));

    // Played in order: the watch page goes on through the playlist.
    let watch = srv.get(&format!("/watch/{c}?playlist=1")).await.text().await.unwrap();
    assert!(watch.contains(&format!(r#"id="next-link" href="/watch/{a}?playlist=1""#)), "{watch}");

    // A list's validator changes when the playlist does.
    let res = srv.get("/api/v1/videos?playlist=1").await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    send(&srv, "POST", "/api/v1/playlists/1/videos", Some(json!({ "id": b }))).await;
    let res = srv.get_with("/api/v1/videos?playlist=1", &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), 200);

    // Bad input: a clear refusal, nothing changed.
    for (method, path, body, want) in [
        ("POST", "/api/v1/playlists", json!({ "name": "   " }), 400),
        ("POST", "/api/v1/playlists", json!({ "name": "x".repeat(101) }), 400),
        ("POST", "/api/v1/playlists", json!({ "name": "bad\u{7}bell" }), 400),
        ("POST", "/api/v1/playlists", json!({ "name": "ok", "ids": ["0123456789abcdef"] }), 400),
        ("POST", "/api/v1/playlists", json!({ "name": "ok", "ids": ["not an id"] }), 400),
        ("POST", "/api/v1/playlists/1/videos", json!({}), 400),
        ("POST", "/api/v1/playlists/9/videos", json!({ "id": a }), 404),
        ("PATCH", "/api/v1/playlists/9", json!({ "name": "x" }), 404),
        ("DELETE", "/api/v1/playlists/9", json!(null), 404),
        ("GET", "/api/v1/playlists/9", json!(null), 404),
    ] {
        let (status, answer) = send(&srv, method, path, (!body.is_null()).then_some(body)).await;
        assert_eq!(status, want, "{method} {path}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{answer}");
    }
    assert_eq!(srv.get("/playlists/9").await.status(), 404);
    assert_eq!(srv.get("/api/v1/videos?playlist=9").await.status(), 404);
    let res = srv.client.post(srv.url("/api/v1/playlists")).body("name=x").send().await.unwrap();
    assert_eq!(res.status(), 415, "JSON only");
    let (_, all) = send(&srv, "GET", "/api/v1/playlists", None).await;
    assert_eq!(all["playlists"].as_array().unwrap().len(), 1);
    // A number is never given twice: an old link never opens another playlist.
    // (Number 2 was made and deleted above.)
    let (_, second) = send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": "Short-lived" }))).await;
    assert_eq!(second["id"], 3);
    assert_eq!(send(&srv, "DELETE", "/api/v1/playlists/3", None).await.0, 200);
    let (_, third) = send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": "Later" }))).await;
    assert_eq!(third["id"], 4);
    assert_eq!(srv.get("/playlists/3").await.status(), 404);
    assert_eq!(send(&srv, "DELETE", "/api/v1/playlists/4", None).await.0, 200);

    // Kept across a restart; exported, and imported into another data dir.
    srv.stop().await;
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let (_, list) = send(&srv, "GET", "/api/v1/playlists/1", None).await;
    assert_eq!(ids(&list), [&c, &a, &b]);
    srv.stop().await;
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vidserve")).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let (dir, data_dir) = (fx.path().to_str().unwrap(), data.path().to_str().unwrap());
    let export = run(&["export", "--dir", dir, "--data", data_dir]);
    let doc: Value = serde_json::from_slice(&export).unwrap();
    assert_eq!(doc["playlists"][0]["name"], "Trip", "{doc}");
    let fresh = tempfile::tempdir().unwrap();
    let file = fresh.path().join("backup.json");
    std::fs::write(&file, &export).unwrap();
    let fresh_data = fresh.path().join("data");
    run(&["import", file.to_str().unwrap(), "--dir", dir, "--data", fresh_data.to_str().unwrap()]);
    let srv = TestServer::start_with(&[fx.path()], Options::new(&fresh_data, false)).await;
    let (_, all) = send(&srv, "GET", "/api/v1/playlists", None).await;
    assert_eq!(all["playlists"][0]["name"], "Trip", "{all}");
    let (_, list) = send(&srv, "GET", "/api/v1/playlists/1", None).await;
    assert_eq!(ids(&list), [&c, &a, &b]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_are_each_persons_own() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1950);
    let data = tempfile::tempdir().unwrap();
    for (name, role) in [("ann", "admin"), ("vic", "viewer")] {
        let out = user(data.path(), &["add", name, "--role", role, "--password-stdin"], Some("long enough"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let opts = Options { guest: true, ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let a = srv.id_of("a.mp4").await;
    let ann = sign_in(&srv, "ann", "long enough").await;
    let vic = sign_in(&srv, "vic", "long enough").await;
    let (status, _) = call(&srv, &vic, "POST", "/api/v1/playlists", Some(json!({ "name": "Vic's", "ids": [a] }))).await;
    assert_eq!(status, 201);
    // Another person neither sees it nor changes it; their own number 1 is theirs.
    let (_, theirs) = call(&srv, &ann, "GET", "/api/v1/playlists", None).await;
    assert_eq!(theirs["playlists"], json!([]));
    assert_eq!(call(&srv, &ann, "GET", "/api/v1/playlists/1", None).await.0, 404);
    assert_eq!(call(&srv, &ann, "DELETE", "/api/v1/playlists/1", None).await.0, 404);
    assert_eq!(call(&srv, &vic, "GET", "/api/v1/playlists/1", None).await.0, 200);
    // A guest has none and may make none.
    let (status, _) = send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": "mine" }))).await;
    assert_eq!(status, 401);
    let (_, none) = send(&srv, "GET", "/api/v1/playlists", None).await;
    assert_eq!(none["playlists"], json!([]));
    assert!(srv.get("/playlists").await.text().await.unwrap().contains("Sign in to keep playlists"));
    // Removing the account removes its playlists.
    let (status, _) =
        call(&srv, &ann, "POST", "/admin/users", Some(json!({ "action": "remove", "name": "vic" }))).await;
    assert_eq!(status, 200);
    srv.stop().await;
    let out = user(data.path(), &["add", "vic", "--role", "viewer", "--password-stdin"], Some("long enough"));
    assert!(out.status.success());
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let vic = sign_in(&srv, "vic", "long enough").await;
    let (_, again) = call(&srv, &vic, "GET", "/api/v1/playlists", None).await;
    assert_eq!(again["playlists"], json!([]));
}

/// The Playlists page: each with its cover (the first video with a
/// picture), or its initial, and how many videos it holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playlists_have_covers_and_counts() {
    let fx = Fixture::new();
    fx.mp4("plain.mp4", 1000, 4300);
    fx.mp4("pictured.mp4", 1000, 4301);
    fx.write("pictured.png", &crate::media::png(320, 180));
    let data = tempfile::tempdir().unwrap();
    let opts = Options { ffmpeg: Some("/no/such/ffmpeg".into()), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let (plain, pictured) = (srv.id_of("plain.mp4").await, srv.id_of("pictured.mp4").await);
    crate::support::eventually(std::time::Duration::from_secs(30), "the thumbnail made", || async {
        srv.get(&format!("/thumb/{pictured}/320")).await.status() == 200
    })
    .await;
    let (s, _) =
        send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": "Trip", "ids": [plain, pictured] }))).await;
    assert_eq!(s, 201);
    let (s, _) = send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": "empty one" }))).await;
    assert_eq!(s, 201);
    let page = srv.get("/playlists").await.text().await.unwrap();
    assert!(
        page.contains(&format!(r#"<img src="/thumb/{pictured}/320""#)),
        "the cover is the first with a picture: {page}"
    );
    assert!(page.contains(r#"<span class="initial">E</span>"#), "an initial without one: {page}");
    assert!(page.contains("2 videos") && page.contains("0 videos"), "{page}");
}
