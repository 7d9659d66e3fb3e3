//! A real headless Chromium, driven over WebDriver (chromedriver): open the
//! gallery, click a video, it plays, and a seek to the middle works.
//! Set VIDSERVE_SKIP_BROWSER=1 to skip on a machine without Chromium.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{eventually, ffmpeg, Fixture, TestServer};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    process: Child,
    base: String,
    client: reqwest::Client,
}

impl Driver {
    pub async fn start() -> Driver {
        // chromedriver picks a free port itself (no window for another
        // process to take it) and says which.
        let mut process = Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into()))
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is needed (apt-get install chromium chromium-driver)");
        let stdout = process.stdout.take().unwrap();
        let port = tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let mut lines = std::io::BufReader::new(stdout).lines();
            let port = lines.by_ref().map_while(Result::ok).find_map(|l| {
                l.split("started successfully on port ")
                    .nth(1)
                    .and_then(|p| p.trim_end_matches('.').parse::<u16>().ok())
            });
            // Keep draining so chromedriver never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            port
        })
        .await
        .unwrap()
        .expect("chromedriver says its port");
        let client = reqwest::Client::new();
        let root = format!("http://127.0.0.1:{port}");
        let mut driver = Driver { process, base: root.clone(), client };
        eventually(Duration::from_secs(20), "chromedriver up", || async {
            driver.client.get(format!("{root}/status")).send().await.is_ok()
        })
        .await;
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--disable-quic", "--window-size=1280,900"]
            }
        }}});
        let session = driver.call("POST", "/session", caps).await;
        let id = session["sessionId"].as_str().expect("a session").to_string();
        driver.base = format!("{root}/session/{id}");
        driver
    }

    pub async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let req = match method {
            "GET" => self.client.get(url),
            "DELETE" => self.client.delete(url),
            _ => self.client.post(url).json(&body),
        };
        let res: Value = req.send().await.expect("webdriver call").json().await.expect("webdriver json");
        if res["value"].get("error").is_some() {
            panic!("webdriver {method} {path}: {}", res["value"]);
        }
        res.get("value").cloned().unwrap_or(res)
    }

    pub async fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url })).await;
    }

    async fn click(&self, css: &str) {
        let el = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        let id = el[ELEMENT].as_str().unwrap().to_string();
        self.call("POST", &format!("/element/{id}/click"), json!({})).await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let el = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        let id = el[ELEMENT].as_str().unwrap().to_string();
        self.call("POST", &format!("/element/{id}/value"), json!({ "text": text })).await;
    }

    /// Moves the mouse to `(dx, dy)` from the centre of the element `css`.
    async fn hover(&self, css: &str, dx: i64, dy: i64) {
        let el = self.call("POST", "/element", json!({ "using": "css selector", "value": css })).await;
        let origin = json!({ ELEMENT: el[ELEMENT].clone() });
        let actions = json!({ "actions": [{
            "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" },
            "actions": [{ "type": "pointerMove", "duration": 0, "origin": origin, "x": dx, "y": dy }]
        }] });
        self.call("POST", "/actions", actions).await;
    }

    pub async fn js(&self, script: &str) -> Value {
        self.call("POST", "/execute/sync", json!({ "script": script, "args": [] })).await
    }

    /// Runs `script`, which calls `arguments[0]` with its result.
    pub async fn js_async(&self, script: &str) -> Value {
        self.call("POST", "/execute/async", json!({ "script": script, "args": [] })).await
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// On the current watch page: playback advances, a seek to the middle
/// lands, and playback goes on from there.
async fn plays_and_seeks(driver: &Driver, expected_duration: f64) {
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
    if std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some() {
        eprintln!("skipped: VIDSERVE_SKIP_BROWSER is set");
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
    let half =
        driver.js("return Math.floor(document.getElementById('player').getBoundingClientRect().height / 2)").await;
    let near_bar = half.as_i64().unwrap() - 30;
    driver.hover("#player", 0, near_bar).await;
    driver.hover("#player", 20, near_bar).await;
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
        assert!(srv.app.library.rescan_and_wait(Duration::from_secs(30)).await);
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
    if std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some() {
        eprintln!("skipped: VIDSERVE_SKIP_BROWSER is set");
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
    driver.click(".account button[type=submit]").await;
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
    if std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some() {
        eprintln!("skipped: VIDSERVE_SKIP_BROWSER is set");
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
    if std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some() {
        eprintln!("skipped: VIDSERVE_SKIP_BROWSER is set");
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 1620);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("a.mp4").await;
    let driver = Driver::start().await;
    driver.goto(&srv.url("/")).await;
    let first = driver.call("GET", "/window", json!({})).await;
    driver.js("window.__got = []; new BroadcastChannel('vidserve-live').onmessage = (e) => window.__got.push(e.data.name); return 0").await;
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
    tokio::time::sleep(Duration::from_millis(500)).await;
    driver.call("POST", "/window", json!({ "handle": first })).await;
    let got = driver.js("return window.__got").await;
    assert!(got.as_array().unwrap().iter().any(|n| n == "user"), "{got}");
    driver.call("DELETE", "", json!({})).await;
}

/// Keys on the watch page: Space on the focused player plays and pauses
/// it; Space on a focused button presses the button and leaves the video
/// alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn space_belongs_to_what_has_focus_in_chromium() {
    if std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some() {
        eprintln!("skipped: VIDSERVE_SKIP_BROWSER is set");
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
    let space = || async {
        let keys = json!({ "actions": [{ "type": "key", "id": "kb", "actions": [
            { "type": "keyDown", "value": " " }, { "type": "keyUp", "value": " " }] }] });
        driver.call("POST", "/actions", keys).await;
    };
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
    if std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some() {
        eprintln!("skipped: VIDSERVE_SKIP_BROWSER is set");
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
/// Escape comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_moves_over_the_grid_in_chromium() {
    if std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some() {
        eprintln!("skipped: VIDSERVE_SKIP_BROWSER is set");
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
    let press = |key: &'static str| {
        let d = &driver;
        async move {
            let keys = json!({ "actions": [{ "type": "key", "id": "kb", "actions": [
                { "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }] }] });
            d.call("POST", "/actions", keys).await;
        }
    };
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
    press("\u{E007}").await; // Enter
    eventually(Duration::from_secs(10), "the video opens", || async {
        driver.js("return location.pathname").await.as_str().is_some_and(|p| p.starts_with("/watch/"))
    })
    .await;
    press("\u{E00C}").await; // Escape
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
    if std::env::var_os("VIDSERVE_SKIP_BROWSER").is_some() {
        eprintln!("skipped: VIDSERVE_SKIP_BROWSER is set");
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
    let key = |k: &str| {
        let keys = json!({ "actions": [{ "type": "key", "id": "kb", "actions": [
            { "type": "keyDown", "value": k }, { "type": "keyUp", "value": k }] }] });
        let d = &driver;
        async move { d.call("POST", "/actions", keys).await }
    };
    let ring = "const s = getComputedStyle(document.activeElement); \
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
                let keys = json!({ "actions": [{ "type": "key", "id": "kb", "actions": [
                    { "type": "keyDown", "value": "\u{E004}" }, { "type": "keyUp", "value": "\u{E004}" }] }] });
                d.call("POST", "/actions", keys).await;
            }
            panic!("Tab never reached {css}");
        }
    };
    tab_to(".card > a", 20).await;
    key("\u{E007}").await; // Enter
    eventually(Duration::from_secs(10), "the watch page", || async {
        driver.js("return location.pathname").await == json!(format!("/watch/{id}"))
    })
    .await;
    tab_to("#player", 20).await;
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
    let typed = json!({ "actions": [{ "type": "key", "id": "kb", "actions":
        "kbd\u{E007}".chars().flat_map(|c| [json!({ "type": "keyDown", "value": c.to_string() }), json!({ "type": "keyUp", "value": c.to_string() })]).collect::<Vec<_>>() }] });
    driver.call("POST", "/actions", typed).await;
    eventually(Duration::from_secs(10), "rated, favorite and tagged", || async {
        let v = srv.json(&format!("/api/v1/videos/{id}")).await;
        v["rating"] == 4 && v["favorite"] == true && v["tags"] == json!(["kbd"])
    })
    .await;
    tab_to("#actions .star", 30).await;
    key("\u{E00C}").await; // Escape: back
    eventually(Duration::from_secs(10), "back to the gallery", || async {
        driver.js("return location.pathname").await == "/"
    })
    .await;
    driver.call("DELETE", "", json!({})).await;
}
