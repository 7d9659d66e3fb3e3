//! In a real headless Chromium: open the gallery, click a video, it plays,
//! and a seek to the middle works; rating, batch tags, previews, the
//! dashboard; signing in and out; the chat panel; tabs sharing one live
//! stream.

use std::time::Duration;

use serde_json::{json, Value};

use crate::driver::Driver;
use crate::support::{eventually, ffmpeg, Fixture, TestServer};

/// On the current watch page: playback advances, a seek to the middle
/// lands, and playback goes on from there.
pub async fn plays_and_seeks(driver: &Driver, expected_duration: f64) {
    let time = "return document.getElementById('player').currentTime";
    eventually(Duration::from_secs(20), "playback advances", || async {
        driver.js("const p = document.getElementById('player'); if (p.paused) p.play(); return 0").await;
        driver.js(time).await.as_f64().unwrap_or(0.0) > 0.5
    })
    .await;
    let duration = driver.js("return document.getElementById('player').duration").await.as_f64().unwrap();
    assert!((expected_duration - 0.5..expected_duration + 0.5).contains(&duration), "duration {duration}");
    driver.js("const p = document.getElementById('player'); p.currentTime = p.duration / 2; return 0").await;
    eventually(Duration::from_secs(20), "seek to the middle", || async {
        let state = driver.js("const p = document.getElementById('player'); return [p.seeking, p.currentTime]").await;
        state[0] == false && state[1].as_f64().unwrap_or(0.0) >= duration / 2.0
    })
    .await;
    let after = driver.js(time).await.as_f64().unwrap();
    eventually(Duration::from_secs(20), "playback goes on after the seek", || async {
        driver.js(time).await.as_f64().unwrap_or(0.0) > after + 0.3
    })
    .await;
    let err = driver.js("return document.getElementById('player').error").await;
    assert!(err.is_null(), "media error: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plays_and_seeks_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("clip one.webm"),
        &["-f", "lavfi", "-i", "testsrc=duration=8:size=320x240:rate=25", "-c:v", "libvpx", "-b:v", "300k"],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let driver = Driver::start().await;

    // From the gallery, as a person would.
    driver.goto(&srv.url("/")).await;
    driver.click(".card a").await;
    let url = driver.call("GET", "/url", json!({})).await;
    assert!(url.as_str().unwrap().contains("/watch/"), "{url}");
    plays_and_seeks(&driver, 8.0).await;

    // The star buttons rate; a change made elsewhere (another window, the
    // API) shows up on the open page by itself.
    let id = url.as_str().unwrap().rsplit('/').next().unwrap().to_string();
    driver.click(".star[data-rating='3']").await;
    eventually(Duration::from_secs(10), "the click is saved", || async {
        srv.json(&format!("/api/v1/videos/{id}")).await["rating"] == 3
    })
    .await;
    let pressed = "return document.querySelectorAll('.star[aria-pressed=\"true\"]').length";
    eventually(Duration::from_secs(10), "three stars shown", || async { driver.js(pressed).await == 3 }).await;
    let put = srv.client.put(srv.url(&format!("/api/v1/videos/{id}/rating"))).json(&json!({ "rating": 5 }));
    assert_eq!(put.send().await.unwrap().status(), 200);
    eventually(Duration::from_secs(10), "the open page shows the new rating", || async {
        driver.js(pressed).await == 5
    })
    .await;

    // Batch tagging from the gallery: select, type a tag, add.
    driver.goto(&srv.url("/")).await;
    // The card says its rating and favorite once: by its stars and heart.
    let once = "const c = document.querySelector('.card'); \
                return [getComputedStyle(c.querySelector('.user .rated')).display, getComputedStyle(c.querySelector('.thumb .fav')).display, \
                        c.querySelectorAll('.card-actions .star[aria-pressed=\"true\"]').length]";
    assert_eq!(driver.js(once).await, json!(["none", "none", 5]));
    driver.click("#select-mode").await;
    driver.click("input.pick").await;
    driver.type_into("#batch-tag", "picked").await;
    driver.click("#batch-add").await;
    eventually(Duration::from_secs(10), "the batch tag is saved", || async {
        srv.json(&format!("/api/v1/videos/{id}")).await["tags"] == json!(["picked"])
    })
    .await;

    // A change the server refuses is reported on the page, not dropped.
    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    driver.type_into("#tag-input", "bad,tag").await;
    driver.click("#tag-form button").await;
    eventually(Duration::from_secs(10), "the refusal is shown", || async {
        let toast = "const t = document.getElementById('toast'); return t && !t.hidden ? t.textContent : ''";
        driver.js(toast).await.as_str().is_some_and(|t| t.starts_with("Not saved:") && t.contains("comma"))
    })
    .await;
    assert_eq!(driver.js("return document.getElementById('toast').getAttribute('role')").await, "alert");

    // Hover previews: a card with a preview strip scrubs through it; the
    // watch page shows the frame under the pointer near the seek bar.
    eventually(Duration::from_secs(60), "the preview strip is made", || async {
        srv.get(&format!("/sprite/{id}.jpg")).await.status() == 200
    })
    .await;
    driver.goto(&srv.url("/")).await;
    driver.hover(".card .thumb", 10, 0).await;
    driver.hover(".card .thumb", 40, 0).await;
    eventually(Duration::from_secs(10), "the card scrubs", || async {
        driver.js("return !!document.querySelector('.card .thumb .scrub')").await == true
    })
    .await;
    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    eventually(Duration::from_secs(10), "metadata loaded", || async {
        driver.js("return document.getElementById('player').duration > 0").await == true
    })
    .await;
    // Over the player's own seek bar.
    driver.hover("#seek", 0, 0).await;
    driver.hover("#seek", 20, 0).await;
    eventually(Duration::from_secs(10), "the seek preview shows", || async {
        driver.js("const t = document.getElementById('seek-preview'); return !!t && !t.hidden").await == true
    })
    .await;

    // The admin dashboard draws its axes at once, then live numbers.
    driver.goto(&srv.url("/admin")).await;
    let drawn = "const c = document.getElementById('chart-req'); \
                 return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v) => v !== 0)";
    assert_eq!(driver.js(drawn).await, true, "a chart is never an empty box");
    eventually(Duration::from_secs(15), "the dashboard shows numbers", || async {
        driver.js("return document.getElementById('now-rss').textContent").await.as_str().is_some_and(|t| t != "–")
    })
    .await;

    // An MP4 whose index (moov) is at the end, as encoders write it without
    // faststart: the browser fetches the end with a range, then plays.
    let h264 =
        driver.js("return document.createElement('video').canPlayType('video/mp4; codecs=\"avc1.42E01E\"')").await;
    if h264.as_str().unwrap_or("").is_empty() {
        eprintln!("this Chromium has no H.264 decoder; the index-at-end MP4 check is skipped");
    } else {
        ffmpeg(
            &fx.path().join("late index.mp4"),
            &["-f", "lavfi", "-i", "testsrc=duration=6:size=320x240:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
        );
        assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await);
        let videos = srv.videos().await;
        let late = videos.iter().find(|v| v["paths"][0] == "late index.mp4").expect("listed");
        assert_eq!(late["index_at_end"], true);
        driver.goto(&srv.url(&format!("/watch/{}", late["id"].as_str().unwrap()))).await;
        plays_and_seeks(&driver, 6.0).await;
    }
    driver.call("DELETE", "", json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_rates_and_signs_out_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1520);
    let data = tempfile::tempdir().unwrap();
    for (name, role) in [("ann", "admin"), ("vic", "viewer")] {
        let out =
            crate::people::user(data.path(), &["add", name, "--role", role, "--password-stdin"], Some("long enough"));
        assert!(out.status.success());
    }
    let token = |name: &str| {
        let out = crate::people::user(data.path(), &["token", name], None);
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (ann, vic) = (token("ann"), token("vic"));
    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let id = srv.id_of_as("a.mp4", &ann).await;
    let as_ = |t: &str, path: &str| srv.client.get(srv.url(path)).bearer_auth(t).send();
    let driver = Driver::start().await;

    // Sent to sign in, then back where they were going.
    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    let url = driver.call("GET", "/url", json!({})).await;
    assert!(url.as_str().unwrap().contains("/login?next="), "{url}");
    driver.type_into("#username", "vic").await;
    driver.type_into("#password", "long enough").await;
    driver.click("form.login button[type=submit]").await;
    eventually(Duration::from_secs(10), "back on the watch page, signed in", || async {
        driver.js("return location.pathname + '|' + (document.querySelector('.who') || {}).textContent").await
            == json!(format!("/watch/{id}|vic"))
    })
    .await;

    // Vic's stars are vic's own.
    driver.click(".star[data-rating='4']").await;
    eventually(Duration::from_secs(10), "the rating is saved as vic's", || async {
        let v: Value = as_(&vic, &format!("/api/v1/videos/{id}")).await.unwrap().json().await.unwrap();
        v["rating"] == 4
    })
    .await;
    let v: Value = as_(&ann, &format!("/api/v1/videos/{id}")).await.unwrap().json().await.unwrap();
    assert_eq!(v["rating"], Value::Null, "ann's own rating is untouched");

    // Ann's rating does not reach vic's page; the tag ann adds (shared) does.
    let base = format!("/api/v1/videos/{id}");
    let put = srv.client.put(srv.url(&format!("{base}/rating"))).bearer_auth(&ann).json(&json!({ "rating": 1 }));
    assert_eq!(put.send().await.unwrap().status(), 200);
    let tag = srv.client.post(srv.url(&format!("{base}/tags"))).bearer_auth(&ann).json(&json!({ "tag": "family" }));
    assert_eq!(tag.send().await.unwrap().status(), 200);
    eventually(Duration::from_secs(10), "the shared tag shows", || async {
        driver
            .js("return document.getElementById('tag-list').textContent")
            .await
            .as_str()
            .is_some_and(|t| t.contains("#family"))
    })
    .await;
    let pressed = "return document.querySelectorAll('#actions .star[aria-pressed=\"true\"]').length";
    assert_eq!(driver.js(pressed).await, 4, "vic's stars stay vic's");

    // Signing out ends the session: the next page asks again.
    driver.click("header.top > .account summary").await;
    driver.click("header.top > .account button[type=submit]").await;
    eventually(Duration::from_secs(10), "on the sign-in page", || async {
        driver.js("return location.pathname").await == "/login"
    })
    .await;
    driver.goto(&srv.url("/")).await;
    let url = driver.call("GET", "/url", json!({})).await;
    assert!(url.as_str().unwrap().contains("/login?next=%2F"), "{url}");
    driver.call("DELETE", "", json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asks_the_library_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let (stub_addr, _) = crate::chat::stub(None).await;
    let fx = Fixture::new();
    fx.mp4("Cats at play.mp4", 1000, 1610);
    let data = tempfile::tempdir().unwrap();
    let opts = crate::support::Options {
        chat: Some(crate::chat::config(&format!("http://{stub_addr}/v1"), vec![])),
        ..crate::support::Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let cats = srv.id_of("Cats at play.mp4").await;
    let driver = Driver::start().await;
    driver.goto(&srv.url("/")).await;
    driver.click("#chat-open").await;
    assert_eq!(driver.js("return document.activeElement.id").await, "chat-input", "the question box has focus");

    // Markup in an answer is shown as text, never made into elements.
    driver.type_into("#chat-input", "hello").await;
    driver.click("#chat-send").await;
    eventually(Duration::from_secs(15), "the streamed answer shows", || async {
        driver.js("const b = document.querySelectorAll('#chat-log .msg.assistant .body'); return b.length ? b[b.length - 1].textContent : ''").await
            == "Hello <b>there</b>"
    })
    .await;
    assert_eq!(driver.js("return document.querySelectorAll('#chat-log b').length").await, 0);

    // A cited video is a link to its watch page, with a card.
    driver.type_into("#chat-input", "something with cats?").await;
    driver.click("#chat-send").await;
    let link = format!("/watch/{cats}");
    eventually(Duration::from_secs(15), "the answer links the video and shows its card", || async {
        let script = format!(
            "return !!document.querySelector('#chat-log .body a[href=\"{link}\"]') && !!document.querySelector('.chat-cards a[href=\"{link}\"]')"
        );
        driver.js(&script).await == true
    })
    .await;
    // Kept for the tab: a reload shows the conversation again.
    driver.goto(&srv.url("/")).await;
    driver.click("#chat-open").await;
    assert_eq!(driver.js("return document.querySelectorAll('#chat-log .msg').length").await, 4);
    // Escape closes the panel and gives focus back to the button.
    driver.js("document.getElementById('chat-input').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true })); return 0").await;
    assert_eq!(
        driver.js("return [document.getElementById('chat-panel').hidden, document.activeElement.id]").await,
        json!([true, "chat-open"])
    );
    driver.call("DELETE", "", json!({})).await;
}

/// Eleven tabs: all load (the browser's six connections per server are not
/// taken by live updates: one tab holds the stream for all), and a tab in
/// the background still hears of changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_share_one_live_stream_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1620);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("a.mp4").await;
    let driver = Driver::start().await;
    driver.goto(&srv.url("/")).await;
    let first = driver.call("GET", "/window", json!({})).await;
    // What this tab hears is also kept in localStorage, for the other tabs
    // to see while this one stays in the background.
    driver.js("window.__got = []; new BroadcastChannel('vidserve-live').onmessage = (e) => { window.__got.push(e.data.name); localStorage.setItem('__got', window.__got.join()); }; return 0").await;
    for n in 1..=10 {
        let tab = driver.call("POST", "/window/new", json!({ "type": "window" })).await;
        driver.call("POST", "/window", json!({ "handle": tab["handle"] })).await;
        driver.goto(&srv.url(&format!("/?page={n}"))).await;
        let loaded = driver.js("return document.readyState === 'complete' && !!document.querySelector('h1')").await;
        assert_eq!(loaded, true, "tab {} loads", n + 1);
    }
    eventually(Duration::from_secs(10), "one live stream for all the tabs", || async {
        srv.json("/admin/cache/status").await["event_streams"].as_u64().is_some_and(|n| n == 1)
    })
    .await;
    // A change reaches the first tab, in the background, through the leader.
    let put = srv.client.put(srv.url(&format!("/api/v1/videos/{id}/rating"))).json(&json!({ "rating": 4 }));
    assert_eq!(put.send().await.unwrap().status(), 200);
    eventually(Duration::from_secs(10), "the change reaches the first tab", || async {
        driver.js("return (localStorage.getItem('__got') || '').split(',').includes('user')").await == true
    })
    .await;
    driver.call("POST", "/window", json!({ "handle": first })).await;
    let got = driver.js("return window.__got").await;
    assert!(got.as_array().unwrap().iter().any(|n| n == "user"), "{got}");
    driver.call("DELETE", "", json!({})).await;
}

/// Installable, and the pages seen last open without the server: the
/// service worker keeps the shell and the last copy of each page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shell_opens_offline_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1990);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let manifest = srv.get("/").await.text().await.unwrap();
    let manifest = manifest.split("rel=\"manifest\" href=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let m: Value = srv.get(&manifest).await.json().await.unwrap();
    assert_eq!((m["start_url"].clone(), m["display"].clone()), (json!("/"), json!("standalone")));
    let driver = Driver::start().await;
    let url = srv.url("/");
    driver.goto(&url).await;
    driver.under_service_worker().await;
    driver.goto(&url).await; // seen once under its care: kept
    srv.stop().await;
    driver.goto(&url).await;
    let heading = driver.js("const h = document.querySelector('h1'); return h ? h.textContent : ''").await;
    assert_eq!(heading, "Library", "the page opens without the server");
    assert_eq!(
        driver.js("return getComputedStyle(document.body).backgroundColor !== 'rgba(0, 0, 0, 0)'").await,
        true,
        "styled"
    );
    driver.call("DELETE", "", json!({})).await;
}
