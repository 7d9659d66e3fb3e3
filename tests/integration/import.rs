//! Coming from the original Flask server: its data files are imported once
//! on first start, or on demand; `export` writes everything back out.

use std::process::Command;

use serde_json::{json, Value};

use crate::support::{Fixture, Options, TestServer};

/// The original's layout: a flat folder of videos with its data files.
fn original_folder() -> Fixture {
    let fx = Fixture::new();
    fx.mp4("beach.mp4", 1000, 700);
    fx.mp4("city.mp4", 1000, 701);
    fx.mp4("sub/forest.mp4", 1000, 702); // matched by its bare name
    fx.write("ratings.json", br#"{"beach.mp4": 5, "city.mp4": 2, "gone.mp4": 4, "forest.mp4": 11}"#);
    fx.write("views.json", br#"{"beach.mp4": 7, "city.mp4": "3"}"#);
    fx.write("tags.json", br##"{"beach.mp4": ["#summer", "#sea"], "forest.mp4": ["#trees"]}"##);
    fx.write("favorites.json", br#"{"favorites": ["city.mp4"]}"#);
    // The SQLite file is the newer truth: it changes city's rating.
    let db = rusqlite::Connection::open(fx.path().join("video_metadata.db")).unwrap();
    db.execute_batch(
        "CREATE TABLE ratings (filename TEXT PRIMARY KEY, rating INTEGER);
         CREATE TABLE views (filename TEXT PRIMARY KEY, view_count INTEGER, last_viewed REAL);
         INSERT INTO ratings VALUES ('city.mp4', 4);",
    )
    .unwrap();
    fx
}

async fn user_of(srv: &TestServer, rel: &str) -> Value {
    let id = srv.id_of(rel).await;
    srv.json(&format!("/api/v1/videos/{id}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_imports_once() {
    let fx = original_folder();
    let before = std::fs::read(fx.path().join("ratings.json")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let beach = user_of(&srv, "beach.mp4").await;
    assert_eq!((beach["rating"].clone(), beach["views"].clone()), (json!(5), json!(7)));
    assert_eq!(beach["tags"], json!(["summer", "sea"]));
    let city = user_of(&srv, "city.mp4").await;
    assert_eq!(
        (city["rating"].clone(), city["views"].clone(), city["favorite"].clone()),
        (json!(4), json!(3), json!(true))
    );
    let forest = user_of(&srv, "sub/forest.mp4").await;
    assert_eq!((forest["rating"].clone(), forest["tags"].clone()), (Value::Null, json!(["trees"])));
    assert_eq!(std::fs::read(fx.path().join("ratings.json")).unwrap(), before, "originals untouched");
    srv.stop().await;

    // A restart does not import again (views would double), nor does one
    // after the files were touched or even edited.
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    assert_eq!(user_of(&srv, "beach.mp4").await["views"], 7);
    srv.stop().await;
    let views = fx.path().join("views.json");
    std::fs::write(&views, br#"{"beach.mp4": 7, "city.mp4": "3"}"#).unwrap(); // same bytes, new mtime
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    assert_eq!(user_of(&srv, "beach.mp4").await["views"], 7, "touched");
    srv.stop().await;
    std::fs::write(&views, br#"{"beach.mp4": 8, "city.mp4": "3"}"#).unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    assert_eq!(user_of(&srv, "beach.mp4").await["views"], 7, "edited: imported once per data dir");
}

/// Everything people entered survives export → import into an empty data
/// dir → export, unchanged; backups are such exports, written at shutdown
/// and kept to the configured number.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_and_backups_restore_everything() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 710);
    fx.mp4("b.mp4", 1000, 711);
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let a = srv.id_of("a.mp4").await;
    let base = format!("/api/v1/videos/{a}");
    for (method, path, body) in [
        ("PUT", format!("{base}/rating"), Some(json!({ "rating": 4 }))),
        ("PUT", format!("{base}/favorite"), None),
        ("POST", format!("{base}/view"), None),
        ("POST", format!("{base}/tags"), Some(json!({ "tag": "sea side" }))),
        ("PATCH", base.clone(), Some(json!({ "title": "My title" }))),
        ("PUT", format!("{base}/position"), Some(json!({ "seconds": 93.5 }))),
    ] {
        let (status, _) = crate::support::send(&srv, method, &path, body).await;
        assert_eq!(status, 200, "{method} {path}");
    }
    srv.stop().await;
    let backups: Vec<_> = std::fs::read_dir(data.path().join("backups")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(backups.len(), 1, "one backup at shutdown");

    let (dir, data_dir) = (fx.path().to_str().unwrap(), data.path().to_str().unwrap());
    let first = vidserve(&["export", "--dir", dir, "--data", data_dir]);
    assert!(first.status.success());
    let doc: Value = serde_json::from_slice(&first.stdout).unwrap();
    let entry = &doc["videos"][0];
    assert_eq!(
        (entry["user_title"].clone(), entry["position_ms"].clone(), entry["tags"].clone()),
        (json!("My title"), json!(93500), json!(["sea side"]))
    );
    let file = data.path().join("export.json");
    std::fs::write(&file, &first.stdout).unwrap();
    for source in [file.clone(), backups[0].clone()] {
        let empty = tempfile::tempdir().unwrap();
        let fresh = empty.path().to_str().unwrap();
        let out = vidserve(&["import", source.to_str().unwrap(), "--dir", dir, "--data", fresh]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let again = vidserve(&["export", "--dir", dir, "--data", fresh]);
        assert_eq!(String::from_utf8_lossy(&again.stdout), String::from_utf8_lossy(&first.stdout), "{source:?}");
    }

    // Restarts that change nothing write no backup (none is pushed out);
    // a change is backed up at the next stop.
    let count = || std::fs::read_dir(data.path().join("backups")).unwrap().count();
    for _ in 0..4 {
        let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
        srv.stop().await;
    }
    assert_eq!(count(), 1);
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let (status, _) = crate::support::send(&srv, "POST", &format!("{base}/view"), None).await;
    assert_eq!(status, 200);
    srv.stop().await;
    assert_eq!(count(), 2);
}

fn vidserve(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vidserve")).args(args).output().unwrap()
}

#[test]
fn import_and_export_commands() {
    let fx = original_folder();
    let data = tempfile::tempdir().unwrap();
    let (dir, data_dir) = (fx.path().to_str().unwrap(), data.path().to_str().unwrap());
    let out = vidserve(&["import", fx.path().to_str().unwrap(), "--dir", dir, "--data", data_dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text} {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("matched 3 names to videos"), "{text}");
    assert!(text.contains("no video for: gone.mp4"), "{text}");
    assert!(text.contains("skipped: ") && text.contains("\"forest.mp4\": rating"), "{text}");
    let again = vidserve(&["import", dir, "--dir", dir, "--data", data_dir]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing to do"));

    let out = vidserve(&["export", "--dir", dir, "--data", data_dir]);
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ratings"], json!({ "beach.mp4": 5, "city.mp4": 4 }));
    assert_eq!(doc["views"], json!({ "beach.mp4": 7, "city.mp4": 3 }));
    assert_eq!(doc["tags"]["beach.mp4"], json!(["#summer", "#sea"]));
    assert_eq!(doc["favorites"], json!({ "favorites": ["city.mp4"] }));
    assert_eq!(doc["videos"].as_array().unwrap().len(), 3);

    // The export is itself importable by the original's rules.
    let elsewhere = tempfile::tempdir().unwrap();
    for key in ["ratings", "views", "tags", "favorites"] {
        std::fs::write(elsewhere.path().join(format!("{key}.json")), doc[key].to_string()).unwrap();
    }
    let fresh = tempfile::tempdir().unwrap();
    let out = vidserve(&[
        "import",
        elsewhere.path().to_str().unwrap(),
        "--dir",
        dir,
        "--data",
        fresh.path().to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("matched 3 names"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let missing = vidserve(&["import", "/no/such/file.json", "--dir", dir, "--data", data_dir]);
    assert_eq!(missing.status.code(), Some(2));
}

/// An import gets the API's checks: a hostile title or tag is skipped and
/// said so, and data for a name without an account never waits for
/// someone to make that account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_checks_what_the_api_checks() {
    let fx = original_folder();
    let data = tempfile::tempdir().unwrap();
    let (dir, data_dir) = (fx.path().to_str().unwrap(), data.path().to_str().unwrap());
    let out =
        crate::people::user(data.path(), &["add", "ann", "--role", "admin", "--password-stdin"], Some("long enough"));
    assert!(out.status.success());
    assert!(crate::people::user(data.path(), &["add", "bob", "--password-stdin"], Some("long enough"))
        .status
        .success());
    // The ids of the library, from an export after importing the original's files.
    assert!(vidserve(&["import", dir, "--dir", dir, "--data", data_dir]).status.success());
    let doc: Value = serde_json::from_slice(&vidserve(&["export", "--dir", dir, "--data", data_dir]).stdout).unwrap();
    let id = doc["videos"][0]["id"].as_str().unwrap().to_string();
    let hostile = format!("\u{1b}[2J\u{1b}]0;owned\u{7}{}", "x".repeat(200_000));
    let mine = json!({ "id": id, "rating": 5, "favorite": true, "position_ms": 5000 });
    let export = json!({
        "vidserve_export": 2,
        "videos": [{ "id": id, "user_title": hostile, "tags": ["ok", hostile], "views": 2 }],
        "people": { "bob": [mine], "zoe": [mine] },
        "playlists": [{ "owner": "zoe", "name": "Hers", "ids": [id] }],
    });
    let file = data.path().join("hostile.json");
    std::fs::write(&file, export.to_string()).unwrap();
    let out = vidserve(&["import", file.to_str().unwrap(), "--dir", dir, "--data", data_dir]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("title skipped") && text.contains("tag skipped"), "{text}");
    assert!(text.contains("2 records of zoe not imported"), "{text}");
    assert!(!text.contains('\u{1b}'), "the report carries no escapes");
    // zoe's account, made afterwards, starts empty.
    let out = crate::people::user(data.path(), &["add", "zoe", "--password-stdin"], Some("long enough"));
    assert!(out.status.success());
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let (bob, _) = as_person(&srv, "bob", &id).await;
    assert_eq!((bob["rating"].clone(), bob["favorite"].clone()), (json!(5), json!(true)), "{bob}");
    let tags = bob["tags"].as_array().unwrap();
    assert!(tags.contains(&json!("ok")) && tags.iter().all(|t| t.as_str().unwrap().len() <= 100), "{bob}");
    assert_eq!(bob["title"], bob["file_title"], "the hostile title was not taken");
    let (zoe, zoe_lists) = as_person(&srv, "zoe", &id).await;
    assert_eq!((zoe["rating"].clone(), zoe["favorite"].clone(), zoe_lists), (Value::Null, json!(false), 0));
}

/// A video's JSON and the number of playlists, as `name` sees them.
async fn as_person(srv: &TestServer, name: &str, id: &str) -> (Value, usize) {
    let cookie = crate::people::sign_in(srv, name, "long enough").await;
    let res = srv.client.get(srv.url(&format!("/api/v1/videos/{id}"))).header("cookie", &cookie).send();
    let v: Value = res.await.unwrap().json().await.unwrap();
    let lists = srv.client.get(srv.url("/api/v1/playlists")).header("cookie", &cookie).send();
    let lists: Value = lists.await.unwrap().json().await.unwrap();
    (v, lists["playlists"].as_array().unwrap().len())
}
