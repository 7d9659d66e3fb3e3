//! The library over time: identity across renames, live changes, broken
//! files, restarts from the stored index, offline roots.

use std::time::Duration;

use crate::support::{eventually, Fixture, Options, TestServer};

const LIVE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renames_and_moves_keep_the_id_live() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 5000, 21);
    fx.mp4("b.mp4", 5000, 22);
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), true)).await;
    let id = srv.id_of("a.mp4").await;

    std::fs::rename(fx.path().join("a.mp4"), fx.path().join("renamed.mp4")).unwrap();
    eventually(LIVE, "rename seen", || async { srv.videos().await.iter().any(|v| v["paths"][0] == "renamed.mp4") })
        .await;
    assert_eq!(srv.id_of("renamed.mp4").await, id);

    std::fs::create_dir(fx.path().join("moved")).unwrap();
    std::fs::rename(fx.path().join("renamed.mp4"), fx.path().join("moved/here.mp4")).unwrap();
    eventually(LIVE, "move seen", || async { srv.videos().await.iter().any(|v| v["paths"][0] == "moved/here.mp4") })
        .await;
    assert_eq!(srv.id_of("moved/here.mp4").await, id);
    assert_eq!(srv.videos().await.len(), 2);

    // Added and deleted files follow too.
    fx.mp4("new.mp4", 3000, 23);
    eventually(LIVE, "new file seen", || async { srv.videos().await.len() == 3 }).await;
    std::fs::remove_file(fx.path().join("b.mp4")).unwrap();
    eventually(LIVE, "deletion seen", || async { srv.videos().await.len() == 2 }).await;
    assert_eq!(srv.get(&format!("/watch/{id}")).await.status(), 200);

    // Notified of every change, the server never polls this folder.
    let admin = srv.get("/admin").await.text().await.unwrap();
    assert!(admin.contains("seen as they happen") && admin.contains("an idle server leaves the disks alone"));
    srv.stop().await;
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let admin = srv.get("/admin").await.text().await.unwrap();
    assert!(admin.contains("looked over every 3600 s: watching is off (--no-watch)"), "without notifications it polls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_files_are_listed_apart() {
    let fx = Fixture::new();
    fx.mp4("good.mp4", 5000, 31);
    fx.write("empty.mp4", b"");
    fx.write("text.mp4", b"this is not a video at all\n");
    let whole = vidserve::library::probe::synth::mp4_file(&[7u8; 5000], true);
    fx.write("truncated.mp4", &whole[..3000]);
    fx.write("garbage.mkv", &vidserve::library::probe::synth::noise(10_000, 5));
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let videos = srv.videos().await;
    assert_eq!(videos.len(), 1, "only the good file is in the gallery");
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["broken_count"], 4);
    let admin = srv.get("/admin").await.text().await.unwrap();
    for name in ["empty.mp4", "text.mp4", "truncated.mp4", "garbage.mkv"] {
        assert!(admin.contains(name), "{name} listed in admin");
    }
    assert!(admin.contains("no index (moov box)"));
    // The gallery and the good video still work.
    assert_eq!(srv.get("/").await.status(), 200);
    assert_eq!(srv.get("/video/good.mp4").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_serves_from_the_stored_index() {
    let fx = Fixture::new();
    for i in 0..20 {
        fx.mp4(&format!("v{i:02}.mp4"), 3000, 40 + i);
    }
    let data = tempfile::tempdir().unwrap();
    let first = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let status = first.json("/admin/cache/status").await;
    assert_eq!(status["last_scan"]["hashed"], 20);
    let ids: Vec<_> = first.videos().await.iter().map(|v| v["id"].clone()).collect();
    first.stop().await;

    let second = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    // Ready at once from the index; the background rescan re-hashes nothing.
    assert_eq!(second.get("/readyz").await.status(), 200);
    let again: Vec<_> = second.videos().await.iter().map(|v| v["id"].clone()).collect();
    assert_eq!(again, ids);
    assert!(second.app.library().rescan_and_wait(Duration::from_secs(30)).await);
    let status = second.json("/admin/cache/status").await;
    assert_eq!(status["last_scan"]["files_seen"], 20);
    assert_eq!(status["last_scan"]["hashed"], 0, "unchanged files are not read again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_root_is_offline_not_forgotten() {
    let parent = Fixture::new();
    let root = parent.path().join("share");
    for i in 0..3 {
        parent.mp4(&format!("share/v{i}.mp4"), 2000, 60 + i);
    }
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[&root], Options::new(data.path(), false)).await;
    assert_eq!(srv.videos().await.len(), 3);

    // Unmounted: the folder is gone.
    std::fs::rename(&root, parent.path().join("elsewhere")).unwrap();
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await);
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["roots"][0]["online"], false);
    let gallery = srv.get("/").await.text().await.unwrap();
    assert!(gallery.contains("Offline"));

    // Back again: everything returns with the same ids, nothing re-probed.
    std::fs::rename(parent.path().join("elsewhere"), &root).unwrap();
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await);
    assert_eq!(srv.videos().await.len(), 3);
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["roots"][0]["online"], true);
    assert_eq!(status["last_scan"]["hashed"], 0);

    // Suddenly empty (a share mounted but showing nothing) is offline too.
    let hidden = parent.path().join("hidden");
    std::fs::create_dir(&hidden).unwrap();
    for i in 0..3 {
        std::fs::rename(root.join(format!("v{i}.mp4")), hidden.join(format!("v{i}.mp4"))).unwrap();
    }
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await);
    assert_eq!(srv.json("/admin/cache/status").await["roots"][0]["online"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_route_rescans_and_checks_origin() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 70);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    fx.mp4("b.mp4", 1000, 71);
    let res = srv.client.post(srv.url("/admin/cache/refresh")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["success"], true);
    assert_eq!(body["video_count"], 2);

    let res =
        srv.client.post(srv.url("/admin/cache/refresh")).header("origin", "http://evil.example").send().await.unwrap();
    assert_eq!(res.status(), 403);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
    let res =
        srv.client.post(srv.url("/admin/cache/refresh")).header("sec-fetch-site", "cross-site").send().await.unwrap();
    assert_eq!(res.status(), 403);
    let same = format!("http://{}", srv.addr);
    let res = srv.client.post(srv.url("/admin/cache/refresh")).header("origin", same).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = srv.get("/admin/cache/refresh").await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
}
