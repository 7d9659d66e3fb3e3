//! Not a check: pictures of each page for the README, and the gallery's
//! first paint, from a real Chromium. Run on demand:
//! `cargo test --test integration screenshots -- --ignored --nocapture`
//! (writes docs/screenshots/*.png).

use std::time::Duration;

use base64::Engine;
use serde_json::json;

use crate::driver::Driver;
use crate::support::{eventually, ffmpeg, Fixture, TestServer};

/// Whether the current page shows everything: its fonts, the pictures in
/// view and the player's current frame.
const PAINTED: &str = "const p = document.getElementById('player'); \
    return document.fonts.status === 'loaded' \
        && [...document.images].filter((i) => i.getClientRects().length && i.getBoundingClientRect().top < innerHeight) \
            .every((i) => i.complete) \
        && (!p || p.readyState >= 2 || p.error !== null)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "makes the README's pictures; run on demand"]
async fn screenshots() {
    let fx = Fixture::new();
    // Two of them in a folder, for the folders page.
    let clips = [
        ("Holidays/Sunset at the lake", "orange"),
        ("Cats at play", "teal"),
        ("Holidays/Beach day", "skyblue"),
        ("Birthday", "purple"),
        ("Shows/Bluey/Season 1/Bluey S01E01 Magic Xylophone", "royalblue"),
        ("Shows/Bluey/Season 1/Bluey S01E02 Hospital", "steelblue"),
        ("Shows/Planet Earth/Season 1/Planet Earth S01E01 From Pole to Pole", "seagreen"),
        ("Films/Alien (1979)", "darkslategray"),
        ("Films/Metropolis (1927)", "goldenrod"),
    ];
    for (name, color) in clips {
        std::fs::create_dir_all(fx.path().join(name).parent().unwrap()).unwrap();
        let src = format!("color=c={color}:size=640x360:duration=6:rate=10");
        ffmpeg(&fx.path().join(format!("{name}.webm")), &["-f", "lavfi", "-i", &src, "-c:v", "libvpx", "-b:v", "80k"]);
    }
    // A series' folder with its poster.
    ffmpeg(
        &fx.path().join("Shows/Bluey/poster.jpg"),
        &["-f", "lavfi", "-i", "gradients=size=400x600:seed=7", "-frames:v", "1"],
    );
    // And its first season's folder, with one of its own.
    ffmpeg(
        &fx.path().join("Shows/Bluey/Season 1/poster.jpg"),
        &["-f", "lavfi", "-i", "gradients=size=400x600:seed=3", "-frames:v", "1"],
    );
    let data = tempfile::tempdir().unwrap();
    // Two named libraries: the home page's rows of each one's newest.
    for (name, folder) in [("Films", "Films"), ("Shows", "Shows")] {
        let folder = fx.path().join(folder);
        let out = crate::libraries::library(data.path(), fx.path(), &["add", name, folder.to_str().unwrap()]);
        assert!(out.status.success());
    }
    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let cats = srv.id_of("Cats at play.webm").await;
    for (tag, id) in [("pets", &cats), ("summer", &cats)] {
        let add = srv.client.post(srv.url(&format!("/api/v1/videos/{id}/tags"))).json(&json!({ "tag": tag }));
        add.send().await.unwrap();
    }
    srv.client
        .put(srv.url(&format!("/api/v1/videos/{cats}/rating")))
        .json(&json!({ "rating": 5 }))
        .send()
        .await
        .unwrap();
    // Begun: the Continue watching row.
    let birthday = srv.id_of("Birthday.webm").await;
    let path = format!("/api/v1/videos/{birthday}/position");
    assert_eq!(crate::support::send(&srv, "PUT", &path, Some(json!({ "seconds": 2 }))).await.0, 200);
    let mut ids = Vec::new();
    for (name, _) in clips {
        ids.push(srv.id_of(&format!("{name}.webm")).await);
    }
    eventually(Duration::from_secs(60), "a thumbnail for every clip", || async {
        let mut all = true;
        for id in &ids {
            all &= srv.get(&format!("/thumb/{id}/320")).await.status() == 200;
        }
        all
    })
    .await;
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&out).unwrap();
    let driver = Driver::start().await;
    for (name, w, h, theme) in
        [("desktop-dark", 1440, 900, "dark"), ("desktop-light", 1440, 900, "light"), ("phone-dark", 390, 844, "dark")]
    {
        driver.call("POST", "/window/rect", json!({ "width": w, "height": h })).await;
        let pages = [
            ("gallery", "/".to_string()),
            ("watch", format!("/watch/{cats}")),
            ("folders", "/folders".into()),
            ("series", "/series".into()),
            ("series-one", "/series/bluey".into()),
            ("films", "/films".into()),
        ];
        for (page, path) in pages {
            driver.goto(&srv.url(&path)).await;
            driver.js(&format!("localStorage.setItem('vidserve-theme', '{theme}'); document.documentElement.dataset.theme = '{theme}'; return 0")).await;
            // Painted: the pictures in view loaded, and the video's first frame.
            eventually(Duration::from_secs(10), "the page painted", || async { driver.js(PAINTED).await == true })
                .await;
            if page == "gallery" {
                let paint = driver.js("const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : null").await;
                eprintln!("{name}: gallery first contentful paint {paint} ms");
            }
            let png = driver.call("GET", "/screenshot", json!({})).await;
            let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
            std::fs::write(out.join(format!("{page}-{name}.png")), bytes).unwrap();
        }
        // The end of an episode: the next one announced over the picture.
        let first = &ids[4];
        driver.goto(&srv.url(&format!("/watch/{first}"))).await;
        crate::player::loaded(&driver).await;
        crate::player::ends_into_the_countdown(&driver).await;
        let png = driver.call("GET", "/screenshot", json!({})).await;
        let bytes = base64::engine::general_purpose::STANDARD.decode(png.as_str().unwrap()).unwrap();
        std::fs::write(out.join(format!("next-{name}.png")), bytes).unwrap();
    }
    driver.call("DELETE", "", json!({})).await;
}
