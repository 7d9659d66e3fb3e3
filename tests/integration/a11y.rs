//! axe-core in a real Chromium on every kind of page — light and dark,
//! desktop and phone — against WCAG 2.2 AA and target size: no violation.
//! axe-core comes from npm (`.ci/run` fetches it into target/axe); without
//! it the test says it is skipped, and fails under CI.

use std::time::Duration;

use serde_json::{json, Value};

use crate::driver::Driver;
use crate::support::{Fixture, TestServer};

fn axe_source() -> Option<String> {
    let path = std::env::var("AXE_JS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target/axe/axe.min.js").into());
    std::fs::read_to_string(path).ok()
}

/// Whether the page's scripts have set it up: the cards' buttons shown (at
/// load), and what comes after: the watch page's playlist menu filled and
/// its player's metadata read (or its failure known).
const SET_UP: &str =
    "const s = document.getElementById('playlist-add-choice'), p = document.getElementById('player'); \
    return document.readyState === 'complete' && ![...document.querySelectorAll('.card-actions')].some(a => a.hidden || a.classList.contains('waiting')) \
        && (!s || s.options.length > 0) && (!p || p.readyState >= 1 || p.error !== null)";

/// The violations axe finds on the current page, briefly.
async fn violations(driver: &Driver) -> Vec<Value> {
    let script = "const done = arguments[0]; \
        axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }, \
                           rules: { 'target-size': { enabled: true } }, resultTypes: ['violations'] }) \
          .then(r => done(r.violations.map(v => ({ id: v.id, help: v.help, nodes: v.nodes.length, \
                 targets: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 160)) })))) \
          .catch(e => done([{ id: 'axe-error', help: String(e) }]));";
    driver.js_async(script).await.as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let Some(axe) = axe_source() else {
        crate::support::skip("no axe-core (.ci/run fetches it into target/axe; or set AXE_JS)");
        return;
    };
    let fx = Fixture::new();
    fx.mp4("Cats at play.mp4", 1000, 1700);
    fx.mp4("trips/Beach day.mp4", 1000, 1701);
    fx.mp4("Shows/Bluey/Season 1/Bluey S01E01 Magic Xylophone.mp4", 1000, 1702);
    fx.mp4("Shows/Bluey/Season 2/Bluey S02E01 Dance Mode.mp4", 1000, 1703);
    fx.mp4("Films/Alien (1979).mp4", 1000, 1704);
    fx.mp4("Films/Heat (1995).mp4", 1000, 1705);
    // Chapters, subtitles and two audio tracks: the watch page's menus and list.
    let aux = tempfile::tempdir().unwrap();
    crate::inside::make(&fx.path().join("Film.mkv"), aux.path(), &["srt"]);
    // With the chat on: its button is on every page, its panel checked below.
    let (stub, _) = crate::chat::stub(None).await;
    let data = tempfile::tempdir().unwrap();
    // Two libraries: the home page's rows, and a library's own page.
    let films = fx.path().join("Films");
    assert!(crate::libraries::library(data.path(), fx.path(), &["add", "Films", films.to_str().unwrap()])
        .status
        .success());
    let opts = crate::support::Options {
        chat: Some(crate::chat::config(&format!("http://{stub}/v1"), vec![])),
        ..crate::support::Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let id = srv.id_of("Cats at play.mp4").await;
    let rate = srv.client.put(srv.url(&format!("/api/v1/videos/{id}/rating"))).json(&json!({ "rating": 4 }));
    assert_eq!(rate.send().await.unwrap().status(), 200);
    let tag = srv.client.post(srv.url(&format!("/api/v1/videos/{id}/tags"))).json(&json!({ "tag": "pets" }));
    assert_eq!(tag.send().await.unwrap().status(), 200);
    let film = srv.id_of("Film.mkv").await;
    let list = srv.client.post(srv.url("/api/v1/playlists")).json(&json!({ "name": "Evening", "ids": [id, film] }));
    assert_eq!(list.send().await.unwrap().status(), 201);
    let driver = Driver::start().await;
    let pages = [
        "/".to_string(),
        format!("/watch/{id}"),
        format!("/watch/{film}?sort=title&order=asc"),
        "/tags".into(),
        "/folders".into(),
        "/folders?in=trips".into(),
        "/series".into(),
        "/series/bluey".into(),
        "/films".into(),
        "/playlists".into(),
        "/playlists/1".into(),
        "/favorites".into(),
        "/?q=zebra".into(),
        "/?library=Films".into(),
        "/admin".into(),
        "/login".into(),
    ];
    let mut found = Vec::new();
    for (w, h) in [(1440, 900), (390, 844)] {
        driver.call("POST", "/window/rect", json!({ "width": w, "height": h })).await;
        for theme in ["light", "dark"] {
            for path in &pages {
                driver.goto(&srv.url(path)).await;
                driver.js(&format!("localStorage.setItem('vidserve-theme', '{theme}'); document.documentElement.dataset.theme = '{theme}'; return 0")).await;
                crate::support::eventually(Duration::from_secs(10), "the page set up by its scripts", || async {
                    driver.js(SET_UP).await == true
                })
                .await;
                driver.js(&format!("{axe}; return 0")).await;
                for v in violations(&driver).await {
                    found.push(format!("{path} {w}x{h} {theme}: {v}"));
                }
                if w < 600 {
                    // On a phone: the header stays short, nothing goes sideways.
                    let header =
                        driver.js("return document.querySelector('header.top').getBoundingClientRect().height").await;
                    if header.as_f64().unwrap_or(0.0) > 96.0 {
                        found.push(format!("{path} {w}x{h}: the header is {header} px tall"));
                    }
                }
            }
        }
    }
    // The chat panel, open with an answer, on a phone and on a desktop.
    for (w, h) in [(390, 844), (1440, 900)] {
        driver.call("POST", "/window/rect", json!({ "width": w, "height": h })).await;
        driver.goto(&srv.url("/")).await;
        driver.click("#chat-open").await;
        driver.type_into("#chat-input", "hello").await;
        driver.click("#chat-send").await;
        crate::support::eventually(Duration::from_secs(15), "an answer", || async {
            driver.js("return document.querySelectorAll('#chat-log .msg.assistant').length > 0 && document.getElementById('chat-send').disabled === false").await == true
        })
        .await;
        driver.js(&format!("{axe}; return 0")).await;
        for v in violations(&driver).await {
            found.push(format!("chat panel {w}x{h}: {v}"));
        }
    }
    // At 320 px nothing scrolls sideways.
    driver.call("POST", "/window/rect", json!({ "width": 320, "height": 640 })).await;
    for path in &pages {
        driver.goto(&srv.url(path)).await;
        let wide =
            driver.js("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]").await;
        if wide[0].as_i64() > wide[1].as_i64() {
            let culprits = driver
                .js("const w = document.documentElement.clientWidth; return [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1).slice(-6).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + Math.round(e.getBoundingClientRect().right))")
                .await;
            found.push(format!("{path} at 320 px scrolls sideways: {wide} {culprits}"));
        }
    }
    driver.call("DELETE", "", json!({})).await;
    assert!(found.is_empty(), "axe found:\n{}", found.join("\n"));
}
