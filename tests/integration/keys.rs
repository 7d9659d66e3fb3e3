//! In a real headless Chromium, without a mouse: Space and the player, a
//! remote's arrows over the grid, a whole keyboard journey; a gallery
//! without ffmpeg filling itself with frames the browser captures; and a
//! video saved for offline playing with the server stopped.

use std::time::Duration;

use serde_json::json;

use crate::driver::Driver;
use crate::support::{eventually, ffmpeg, Fixture, TestServer};

/// Keys on the watch page: Space on the focused player plays and pauses
/// it; Space on a focused button presses the button and leaves the video
/// alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_belongs_to_what_has_focus_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("keys.webm"),
        &["-f", "lavfi", "-i", "testsrc=duration=20:size=160x120:rate=10", "-c:v", "libvpx", "-b:v", "100k"],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("keys.webm").await;
    let driver = Driver::start().await;
    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    let space = || driver.keys(" ");
    let paused = "return document.getElementById('player').paused";
    eventually(Duration::from_secs(20), "playing", || async {
        driver.js("const p = document.getElementById('player'); if (p.paused) p.play(); return !p.paused").await == true
    })
    .await;
    driver.js("document.getElementById('player').focus(); return 0").await;
    space().await;
    eventually(Duration::from_secs(5), "Space on the player pauses it", || async { driver.js(paused).await == true })
        .await;
    space().await;
    eventually(Duration::from_secs(5), "and plays it again", || async { driver.js(paused).await == false }).await;
    // A focused star takes its Space: it rates, the video plays on.
    driver.js("document.querySelector('#actions .star[data-rating=\"2\"]').focus(); return 0").await;
    space().await;
    eventually(Duration::from_secs(10), "the star was pressed", || async {
        srv.json(&format!("/api/v1/videos/{id}")).await["rating"] == 2
    })
    .await;
    assert_eq!(driver.js(paused).await, false, "the video went on playing");
    driver.call("DELETE", "", json!({})).await;
}

/// Without ffmpeg, the gallery fills itself: cards in view that have no
/// picture get a frame captured by the browser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gallery_without_ffmpeg_fills_itself_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    for (name, color) in [("red.webm", "red"), ("blue.webm", "blue"), ("green.webm", "green")] {
        let src = format!("color=c={color}:size=320x240:duration=4:rate=10");
        ffmpeg(&fx.path().join(name), &["-f", "lavfi", "-i", &src, "-c:v", "libvpx", "-b:v", "50k"]);
    }
    let data = tempfile::tempdir().unwrap();
    let opts = crate::support::Options {
        ffmpeg: Some("/no/such/ffmpeg".into()),
        ..crate::support::Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let ids = [srv.id_of("red.webm").await, srv.id_of("blue.webm").await, srv.id_of("green.webm").await];
    for id in &ids {
        assert_eq!(srv.get(&format!("/thumb/{id}/320")).await.status(), 404, "no picture yet");
    }
    let driver = Driver::start().await;
    driver.goto(&srv.url("/")).await;
    eventually(Duration::from_secs(30), "every card has a picture", || async {
        let mut all = true;
        for id in &ids {
            all &= srv.get(&format!("/thumb/{id}/320")).await.status() == 200;
        }
        all && driver.js("return document.querySelectorAll('.card .thumb .initial').length").await == 0
    })
    .await;
    driver.call("DELETE", "", json!({})).await;
}

/// With arrow keys alone: across and down the grid, Enter opens a video,
/// a remote's Back key comes back (Escape does not leave the video).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_moves_over_the_grid_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    for i in 0..12 {
        fx.mp4(&format!("clip {i:02}.mp4"), 1000, 1950 + i);
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let driver = Driver::start().await;
    driver.call("POST", "/window/rect", json!({ "width": 1920, "height": 1080 })).await;
    driver.goto(&srv.url("/?sort=title&order=asc")).await;
    let press = |key: &'static str| driver.keys(key);
    let focused = "const a = document.activeElement; const c = a && a.closest('.card'); \
                   return c ? [c.querySelector('.title').textContent, c.parentElement.offsetTop] : null";
    press("\u{E015}").await; // ArrowDown: into the grid
    let first = driver.js(focused).await;
    assert_eq!(first[0], "clip 00", "{first}");
    press("\u{E014}").await; // ArrowRight
    let second = driver.js(focused).await;
    assert_eq!((second[0].clone(), second[1].clone()), (json!("clip 01"), first[1].clone()), "same row");
    press("\u{E015}").await; // ArrowDown
    let below = driver.js(focused).await;
    assert!(below[1].as_i64().unwrap() > first[1].as_i64().unwrap(), "a row down: {below}");

    // Up out of the grid: to the tools above it, and on to the header.
    let at = "const a = document.activeElement; return [a.tagName, a.id, a.closest('header') !== null, a.closest('.card') !== null]";
    press("\u{E013}").await;
    press("\u{E013}").await;
    let above = driver.js(at).await;
    assert_eq!((above[2].clone(), above[3].clone()), (json!(false), json!(false)), "a control above the grid: {above}");
    for _ in 0..4 {
        press("\u{E013}").await;
    }
    assert_eq!(driver.js(at).await[2], true, "the header, by the arrows");
    // A sort menu changed by the arrows applies on Enter, not on each arrow.
    driver.js("document.getElementById('sort').focus(); return 0").await;
    press("\u{E015}").await;
    let still =
        driver.js_async("setTimeout(() => arguments[0]([location.search, document.activeElement.id]), 500)").await;
    assert_eq!(still, json!(["?sort=title&order=asc", "sort"]), "no reload on an arrow");
    press("\u{E007}").await;
    eventually(Duration::from_secs(10), "applied on Enter, the menu focused again", || async {
        let now = driver.js("return [location.search.includes('sort=title') , document.activeElement.id]").await;
        now == json!([false, "sort"])
    })
    .await;
    driver.goto(&srv.url("/?sort=title&order=asc")).await;
    // A button the mouse pressed leaves the arrows to scrolling.
    driver.click("#theme-toggle").await;
    press("\u{E015}").await;
    assert_eq!(driver.js("return document.activeElement.id").await, "theme-toggle");
    driver.js("document.activeElement.blur(); return 0").await;
    press("\u{E015}").await;
    press("\u{E015}").await;
    press("\u{E007}").await; // Enter
    eventually(Duration::from_secs(10), "the video opens", || async {
        driver.js("return location.pathname").await.as_str().is_some_and(|p| p.starts_with("/watch/"))
    })
    .await;
    press("\u{E00C}").await; // Escape: stays
    let after = driver.js_async("setTimeout(() => arguments[0](location.pathname), 400)").await;
    assert!(after.as_str().is_some_and(|p| p.starts_with("/watch/")), "Escape left the video: {after}");
    // Paused, ↓ goes to the player's controls, ←/→ along them, ↑ back to the picture.
    driver.js("const p = document.getElementById('player'); p.pause(); document.activeElement.blur(); return 0").await;
    press("\u{E015}").await;
    assert_eq!(driver.js("return document.activeElement.id").await, "c-play");
    press("\u{E014}").await;
    let next =
        driver.js("return [document.activeElement.closest('#controls') !== null, document.activeElement.id]").await;
    assert!(next[0] == true && next[1] != "c-play", "along the bar: {next}");
    press("\u{E013}").await;
    assert_eq!(driver.js("return document.activeElement === document.body").await, true);
    // Enter on the picture plays.
    driver
        .js("const p = document.getElementById('player'); window.played = 0; \
               p.play = () => { window.played++; return Promise.resolve(); }; return 0")
        .await;
    press("\u{E007}").await;
    assert_eq!(driver.js("return window.played").await, 1, "Enter plays");
    driver.js("document.dispatchEvent(new KeyboardEvent('keydown', { key: 'GoBack', bubbles: true })); return 0").await;
    eventually(Duration::from_secs(10), "back to the gallery", || async {
        driver.js("return location.pathname").await == "/"
    })
    .await;
    driver.call("DELETE", "", json!({})).await;
}

/// The keyboard alone: reach a video, open it, play and pause, seek, rate,
/// favorite, tag, and go back — with a visible focus ring at each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyboard_journey_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("journey.webm"),
        &["-f", "lavfi", "-i", "testsrc=duration=30:size=160x120:rate=10", "-c:v", "libvpx", "-b:v", "100k"],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("journey.webm").await;
    let driver = Driver::start().await;
    driver.goto(&srv.url("/")).await;
    let key = |k: &'static str| driver.keys(k);
    // A card's ring is drawn around the whole card (its link's would be
    // under its picture).
    let ring = "const a = document.activeElement; const s = getComputedStyle(a.matches('.card > a') ? a.closest('.card') : a); \
                return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2";
    // Tab until `css` has focus (at most `n` presses), with a ring there.
    let tab_to = |css: &'static str, n: usize| {
        let d = &driver;
        async move {
            for _ in 0..n {
                if d.js(&format!("return document.activeElement.matches('{css}')")).await == true {
                    assert_eq!(d.js(ring).await, true, "a visible ring on {css}");
                    return;
                }
                d.keys("\u{E004}").await;
            }
            panic!("Tab never reached {css}");
        }
    };
    tab_to(".card > a", 30).await;
    key("\u{E007}").await; // Enter
    eventually(Duration::from_secs(10), "the watch page", || async {
        driver.js("return location.pathname").await == json!(format!("/watch/{id}"))
    })
    .await;
    tab_to("#c-play", 40).await;
    eventually(Duration::from_secs(20), "playing", || async {
        driver.js("const p = document.getElementById('player'); if (p.paused) p.play(); return !p.paused").await == true
    })
    .await;
    key(" ").await;
    eventually(Duration::from_secs(5), "paused by Space", || async {
        driver.js("return document.getElementById('player').paused").await == true
    })
    .await;
    let before = driver.js("return document.getElementById('player').currentTime").await.as_f64().unwrap();
    key("\u{E014}").await; // ArrowRight: 5 s on
    let after = driver.js("return document.getElementById('player').currentTime").await.as_f64().unwrap();
    assert!(after >= before + 4.0, "{before} -> {after}");
    tab_to("#actions .star[data-rating=\"4\"]", 20).await;
    key("\u{E007}").await;
    tab_to("#favorite", 10).await;
    key("\u{E007}").await;
    tab_to("#tag-input", 20).await;
    driver.keys("kbd\u{E007}").await;
    eventually(Duration::from_secs(10), "rated, favorite and tagged", || async {
        let v = srv.json(&format!("/api/v1/videos/{id}")).await;
        v["rating"] == 4 && v["favorite"] == true && v["tags"] == json!(["kbd"])
    })
    .await;
    tab_to("#actions .star", 60).await;
    // A webOS remote's Back (key code 461).
    driver.js("document.activeElement.dispatchEvent(new KeyboardEvent('keydown', { keyCode: 461, bubbles: true })); return 0").await;
    eventually(Duration::from_secs(10), "back to the gallery", || async {
        driver.js("return location.pathname").await == "/"
    })
    .await;
    driver.call("DELETE", "", json!({})).await;
}

/// Presses "Save for offline" on a watch page and waits until it is saved
/// (the storage used shown).
pub async fn save_for_offline(driver: &Driver) {
    driver.click("#offline-save").await;
    eventually(Duration::from_secs(30), "saved, with the storage used shown", || async {
        driver
            .js("return document.getElementById('offline-status').textContent")
            .await
            .as_str()
            .is_some_and(|t| t.starts_with("Saved for offline.") && t.contains(" MB of "))
    })
    .await;
}

/// Opens `url` (with the server gone) and waits until the video plays.
pub async fn plays_from_the_browser(driver: &Driver, url: &str) {
    driver.goto(url).await;
    eventually(Duration::from_secs(20), "it plays without the server", || async {
        driver
            .js("const p = document.getElementById('player'); if (p.paused) p.play(); return p.currentTime > 0.5")
            .await
            == true
    })
    .await;
}

/// "Save for offline": the video goes into the browser's storage, and plays
/// — and seeks — with the server stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_video_plays_offline_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("trip.webm"),
        &["-f", "lavfi", "-i", "testsrc=duration=20:size=160x120:rate=10", "-c:v", "libvpx", "-b:v", "100k"],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("trip.webm").await;
    let driver = Driver::start().await;
    let url = srv.url(&format!("/watch/{id}"));
    driver.goto(&url).await;
    driver.under_service_worker().await;
    driver.goto(&url).await; // kept under its care
    save_for_offline(&driver).await;
    srv.stop().await;
    plays_from_the_browser(&driver, &url).await;
    driver.js("const p = document.getElementById('player'); p.currentTime = 15; return 0").await;
    eventually(Duration::from_secs(20), "and seeks", || async {
        driver.js("const p = document.getElementById('player'); return !p.seeking && p.currentTime >= 15").await == true
    })
    .await;
    assert!(driver.js("return document.getElementById('player').error").await.is_null());
    driver.call("DELETE", "", json!({})).await;
}
