//! What looked unfinished or broken in the pages, each checked as a
//! person sees it in Chromium: the progress of a video begun, keys on
//! the watch page.

use std::time::Duration;

use serde_json::json;

use crate::driver::Driver;
use crate::support::{eventually, ffmpeg, send, Fixture, TestServer};

/// Share of `img`'s pixels within `x` (a fraction range of its width)
/// that are close to `rgb`.
fn share_of(img: &image::RgbaImage, x: std::ops::Range<f64>, rgb: [u8; 3]) -> f64 {
    let (w, h) = img.dimensions();
    let (from, to) = ((x.start * w as f64) as u32, (x.end * w as f64) as u32);
    let mut near = 0;
    let mut all = 0;
    for px in from..to {
        for py in 0..h {
            let p = img.get_pixel(px, py).0;
            all += 1;
            if (0..3).all(|i| (i32::from(p[i]) - i32::from(rgb[i])).abs() <= 24) {
                near += 1;
            }
        }
    }
    near as f64 / all.max(1) as f64
}

/// "Continue watching": the bar under a video begun shows how far, in the
/// dark theme (the default) and the light one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_begun_video_shows_its_progress_in_both_themes() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("begun.webm"),
        &["-f", "lavfi", "-i", "testsrc=duration=10:size=160x120:rate=10", "-c:v", "libvpx", "-b:v", "100k"],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("begun.webm").await;
    let (s, _) = send(&srv, "PUT", &format!("/api/v1/videos/{id}/position"), Some(json!({ "seconds": 5.0 }))).await;
    assert_eq!(s, 200);
    let driver = Driver::start().await;
    driver.call("POST", "/window/rect", json!({ "width": 1280, "height": 800 })).await;
    for (theme, accent) in [("dark", [0xff, 0x7a, 0x50]), ("light", [0xc2, 0x41, 0x0c])] {
        driver.goto(&srv.url("/")).await;
        driver.js(&format!("localStorage.setItem('vidserve-theme', '{theme}'); document.documentElement.dataset.theme = '{theme}'; return 0")).await;
        eventually(Duration::from_secs(10), "the row shown", || async {
            driver.js("return !!document.querySelector('section.continue progress')").await == true
        })
        .await;
        let bar = driver.picture_of("section.continue progress").await;
        let done = share_of(&bar, 0.05..0.45, accent);
        let left = share_of(&bar, 0.55..0.95, accent);
        assert!(done > 0.8, "{theme}: the first half is filled ({done:.2})");
        assert!(left < 0.05, "{theme}: the second half is not ({left:.2})");
    }
    driver.call("DELETE", "", json!({})).await;
}

/// Labels for screen readers take no room anywhere (they once showed at
/// the page's edge from inside the fixed chat panel), and the skip link
/// shows when it has focus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_labels_stay_hidden_and_the_skip_link_shows_on_focus() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 5);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("a.mp4").await;
    let driver = Driver::start().await;
    driver.call("POST", "/window/rect", json!({ "width": 1920, "height": 1080 })).await;
    let seen = "return [...document.querySelectorAll('.skip')].filter(e => e !== document.activeElement) \
                .map(e => { const r = e.getBoundingClientRect(); return [e.textContent, r.width, r.height]; }) \
                .filter(([, w, h]) => w > 1 || h > 1)";
    for path in ["/".to_string(), format!("/watch/{id}")] {
        driver.goto(&srv.url(&path)).await;
        assert_eq!(driver.js(seen).await, json!([]), "{path}: labels in sight");
    }
    driver.goto(&srv.url("/")).await;
    driver.keys("\u{E004}").await; // Tab: the skip link first
    let shown = driver
        .js("const a = document.activeElement; const r = a.getBoundingClientRect(); return [a.textContent, r.width > 20 && r.height > 10]")
        .await;
    assert_eq!(shown, json!(["Skip to content", true]));
    driver.call("DELETE", "", json!({})).await;
}

/// The sign-in page at a phone's size: fields of the page's type (no zoom
/// on focus) under their labels, the error in a box of its own, and no
/// navigation for someone who cannot use it yet. Every field of the other
/// pages shares the same controls.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_and_every_field_look_finished() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 7);
    let data = tempfile::tempdir().unwrap();
    let out =
        crate::people::user(data.path(), &["add", "ann", "--role", "admin", "--password-stdin"], Some("long enough"));
    assert!(out.status.success());
    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let driver = Driver::start().await;
    driver.call("POST", "/window/rect", json!({ "width": 390, "height": 844 })).await;
    driver.goto(&srv.url("/login")).await;
    let fields = "return ['username', 'password'].map(id => { const f = document.getElementById(id); \
                  const l = document.querySelector(`label[for=${id}]`); const s = getComputedStyle(f); \
                  const fr = f.getBoundingClientRect(), lr = l.getBoundingClientRect(); \
                  return [parseFloat(s.fontSize) >= 16, fr.height >= 40, lr.bottom <= fr.top + 1, fr.width >= 250]; })";
    assert_eq!(driver.js(fields).await, json!([[true, true, true, true], [true, true, true, true]]));
    assert_eq!(driver.js("return !!document.querySelector('header nav, form.search')").await, false);
    driver.type_into("#username", "ann").await;
    driver.type_into("#password", "wrong password").await;
    driver.click("form.login button[type=submit]").await;
    eventually(Duration::from_secs(10), "the error shown", || async {
        driver.js("return !!document.querySelector('p.error')").await == true
    })
    .await;
    let boxed = "const s = getComputedStyle(document.querySelector('p.error')); \
                 return [s.borderTopStyle, parseFloat(s.paddingLeft) >= 8]";
    assert_eq!(driver.js(boxed).await, json!(["solid", true]));

    // Signed in: every field on the library, watch, playlists and admin pages.
    driver.js("document.getElementById('username').value = 'ann'; return 0").await;
    driver.type_into("#password", "long enough").await;
    driver.click("form.login button[type=submit]").await;
    eventually(Duration::from_secs(10), "signed in", || async {
        driver.js("return (document.querySelector('.who') || {}).textContent").await == "ann"
    })
    .await;
    driver.goto(&srv.url("/")).await;
    let watch = driver.js("return document.querySelector('.card > a').getAttribute('href')").await;
    let watch = watch.as_str().unwrap().to_string();
    let small = "return [...document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=range]), select, textarea')] \
                 .filter(f => f.offsetParent && parseFloat(getComputedStyle(f).fontSize) < 16).map(f => f.id || f.name || f.outerHTML.slice(0, 60))";
    for path in ["/".to_string(), watch, "/playlists".into(), "/admin".into(), "/series".into(), "/folders".into()] {
        driver.goto(&srv.url(&path)).await;
        assert_eq!(driver.js(small).await, json!([]), "{path}: fields smaller than 16 px");
        let headings = "const size = (s) => Math.max(0, ...[...document.querySelectorAll(s)] \
                        .filter(h => h.checkVisibility()).map(h => parseFloat(getComputedStyle(h).fontSize))); \
                        return [size('main h1') > 0, size('main h1') >= size('main h2, main h3')]";
        assert_eq!(driver.js(headings).await, json!([true, true]), "{path}: the title above its sections");
    }
    // The admin's add forms: each label's words above its field, not beside its foot.
    let labels = "return [...document.querySelectorAll('form.add-user > label')].filter(l => l.offsetParent) \
                  .map(l => { const f = l.querySelector('input:not([type=checkbox]), select, textarea'); if (!f) return true; \
                  const r = document.createRange(); r.selectNodeContents(l.firstChild); \
                  return r.getBoundingClientRect().bottom <= f.getBoundingClientRect().top + 1; })";
    for width in [1280, 390] {
        driver.call("POST", "/window/rect", json!({ "width": width, "height": 900 })).await;
        driver.goto(&srv.url("/admin")).await;
        let above = driver.js(labels).await;
        assert!(above.as_array().unwrap().len() >= 5, "{width} px: {above}");
        assert!(above.as_array().unwrap().iter().all(|a| a == true), "{width} px: {above}");
    }
    driver.call("DELETE", "", json!({})).await;
}

/// The chat panel holds the focus while open (the page behind is inert),
/// and a question the service cannot answer says so in plain words, in
/// place of the answer, not as a system error under an empty bubble.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_panel_keeps_focus_and_explains_failures() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 9);
    let data = tempfile::tempdir().unwrap();
    // Nothing listens on loopback's discard port: every question fails.
    let opts = crate::support::Options {
        chat: Some(crate::chat::config("http://127.0.0.1:9/v1", vec![])),
        ..crate::support::Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let driver = Driver::start().await;
    driver.call("POST", "/window/rect", json!({ "width": 1440, "height": 900 })).await;
    driver.goto(&srv.url("/")).await;
    driver.click("#chat-open").await;
    for _ in 0..12 {
        driver.keys("\u{E004}").await; // Tab
        let inside = driver.js("return !!document.activeElement.closest('#chat-panel')").await;
        assert_eq!(inside, true, "Tab left the open panel");
    }
    driver.type_into("#chat-input", "anything?").await;
    driver.click("#chat-send").await;
    eventually(Duration::from_secs(20), "the failure said", || async {
        driver.js("return (document.querySelector('#chat-log .msg.assistant .error') || {}).textContent || ''").await
            != ""
    })
    .await;
    let said = driver
        .js("const m = [...document.querySelectorAll('#chat-log .msg.assistant')].pop(); \
             return [m.querySelector('.error').textContent, !!m.querySelector('.body')]")
        .await;
    assert_eq!(said, json!(["Not answered: The assistant cannot be reached right now. Try again in a moment.", false]));
    // Closed: the page can be used again.
    driver.click("#chat-close").await;
    assert_eq!(driver.js("return document.querySelector('main').inert").await, false);
    driver.call("DELETE", "", json!({})).await;
}

/// On a phone every link of the header is in sight or under More (none
/// scrolled away sideways), each a target of at least 44 px, and the
/// header stays two short rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_shows_every_header_link() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 11);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let driver = Driver::start().await;
    let in_sight = "return [...document.querySelectorAll('header nav a, header nav button, header nav summary')] \
                    .filter(e => e.checkVisibility() && !e.hidden).map(e => { const r = e.getBoundingClientRect(); \
                    return [e.textContent.trim(), r.left >= 0 && r.right <= innerWidth && r.height >= 44]; })";
    for width in [360, 390] {
        driver.call("POST", "/window/rect", json!({ "width": width, "height": 800 })).await;
        driver.goto(&srv.url("/")).await;
        eventually(Duration::from_secs(10), "the theme switch shown", || async {
            driver.js("return getComputedStyle(document.getElementById('theme-toggle')).visibility === 'visible'").await
                == true
        })
        .await;
        let row = driver.js(in_sight).await;
        let names: Vec<&str> = row.as_array().unwrap().iter().map(|l| l[0].as_str().unwrap()).collect();
        assert_eq!(names, ["Library", "Favorites", "More", "◐"], "{width} px: {row}");
        assert!(row.as_array().unwrap().iter().all(|l| l[1] == true), "{width} px: out of sight or small: {row}");
        let header = driver.js("return document.querySelector('header.top').getBoundingClientRect().height").await;
        let parts = driver.js("return [...document.querySelectorAll('header.top > *, header nav > *')].map(e => [e.tagName, e.className, Math.round(e.getBoundingClientRect().top), Math.round(e.getBoundingClientRect().height), Math.round(e.getBoundingClientRect().width)])").await;
        assert!(header.as_f64().unwrap() <= 96.0, "{width} px: header {header} px tall: {parts}");
        // The filter bar: each label on the line of its menu, all in the width.
        let fields = driver
            .js("return [...document.querySelectorAll('#sort-form .field')].filter(f => f.querySelector('label:not(.skip)')).map(f => { \
                 const l = f.querySelector('label:not(.skip)').getBoundingClientRect(); \
                 const c = f.querySelector('select, input').getBoundingClientRect(); \
                 return [f.textContent.trim().split(/\\s/)[0], Math.abs((l.top + l.bottom) / 2 - (c.top + c.bottom) / 2) < 8 \
                 && f.getBoundingClientRect().right <= innerWidth]; })")
            .await;
        assert_eq!(fields.as_array().unwrap().len(), 3, "{fields}");
        assert!(fields.as_array().unwrap().iter().all(|f| f[1] == true), "{width} px: {fields}");
        driver.click("header details.more summary").await;
        // The menu opens under More, whole on the screen.
        let under = driver
            .js("const m = document.querySelector('header details.more .menu').getBoundingClientRect(); \
                 const s = document.querySelector('header details.more summary').getBoundingClientRect(); \
                 return [m.right <= innerWidth, m.top >= s.bottom - 1, m.left >= 0]")
            .await;
        assert_eq!(under, json!([true, true, true]), "{width} px");
        let more = driver.js(in_sight).await;
        let extra: Vec<&str> = more.as_array().unwrap().iter().map(|l| l[0].as_str().unwrap()).collect();
        assert_eq!(
            extra,
            [
                "Library",
                "Favorites",
                "More",
                "Best of",
                "Tags",
                "Series",
                "Films",
                "Folders",
                "Playlists",
                "Random",
                "Admin",
                "◐"
            ]
        );
        assert!(more.as_array().unwrap().iter().all(|l| l[1] == true), "{width} px: {more}");
    }
    // Wide: every link in the row, no More.
    driver.call("POST", "/window/rect", json!({ "width": 1280, "height": 800 })).await;
    driver.goto(&srv.url("/")).await;
    let wide = driver.js("return [...document.querySelectorAll('header nav a, header nav summary')].filter(e => e.checkVisibility()).map(e => e.textContent)").await;
    assert_eq!(
        wide,
        json!([
            "Library",
            "Favorites",
            "Best of",
            "Tags",
            "Series",
            "Films",
            "Folders",
            "Playlists",
            "Random",
            "Admin"
        ])
    );
    driver.call("DELETE", "", json!({})).await;
}

/// The watch page of a film with subtitle and audio menus, on a desktop
/// and a TV: the title, stars and heart in sight at once, no empty rows,
/// and the tools (share, offline, …) side by side in one row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_page_keeps_title_and_stars_in_sight() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    // Two audio tracks, subtitles and chapters inside.
    crate::inside::make(&fx.path().join("Film.mkv"), aux.path(), &["srt"]);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("Film.mkv").await;
    let driver = Driver::start().await;
    for (w, h) in [(1440, 900), (1920, 1080), (1280, 720)] {
        driver.call("POST", "/window/rect", json!({ "width": w, "height": h })).await;
        driver.goto(&srv.url(&format!("/watch/{id}"))).await;
        eventually(Duration::from_secs(15), "the menus and tools shown", || async {
            driver
                .js("const s = document.getElementById('share'); return !document.getElementById('track-choices').hidden && !s.hidden && !s.classList.contains('waiting')")
                .await
                == true
        })
        .await;
        let bottoms = driver
            .js("return ['#title', '#actions .star', '#favorite'].map(c => document.querySelector(c).getBoundingClientRect().bottom <= innerHeight)")
            .await;
        let layout = driver
            .js("return [...document.querySelector('.watch').children].filter(e => e.checkVisibility()).map(e => [e.tagName + '#' + e.id + '.' + e.className, Math.round(e.getBoundingClientRect().top), Math.round(e.getBoundingClientRect().height)])")
            .await;
        assert_eq!(bottoms, json!([true, true, true]), "{w}x{h}: title, stars and heart in sight: {layout}");
        let empty = driver
            .js("return [...document.querySelector('.watch').children].filter(e => e.checkVisibility() && e.getBoundingClientRect().height < 4 && !e.matches('.chapter-marks')).map(e => e.id || e.className)")
            .await;
        assert_eq!(empty, json!([]), "{w}x{h}: empty rows");
        let rows = driver
            .js("return new Set([...document.querySelector('.watch .tools').children].filter(e => e.checkVisibility()).map(e => Math.round(e.getBoundingClientRect().top))).size")
            .await;
        let tools = driver
            .js("return [...document.querySelector('.watch .tools').children].filter(e => e.checkVisibility()).map(e => [e.id, Math.round(e.getBoundingClientRect().left), Math.round(e.getBoundingClientRect().top), Math.round(e.getBoundingClientRect().width), Math.round(e.getBoundingClientRect().height)])")
            .await;
        assert_eq!(rows, 1, "{w}x{h}: the tools in one row: {tools}");
    }
    driver.call("DELETE", "", json!({})).await;
}

/// The dashboard's charts are drawn at the size they are shown (their
/// labels neither stretched nor cut), also after the window changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_charts_are_drawn_at_their_size() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 13);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let driver = Driver::start().await;
    let unstretched = "const dpr = window.devicePixelRatio || 1; \
                       return [...document.querySelectorAll('figure.chart canvas')].map(c => \
                       c.width === Math.round(c.clientWidth * dpr) && c.height === Math.round(c.clientHeight * dpr) \
                       && +c.dataset.left > 0)";
    for width in [1440, 800, 390] {
        driver.call("POST", "/window/rect", json!({ "width": width, "height": 900 })).await;
        driver.goto(&srv.url("/admin")).await;
        eventually(Duration::from_secs(10), "the charts drawn at their size", || async {
            driver.js(unstretched).await == json!([true, true, true, true])
        })
        .await;
        // The scale's top label whole: drawn below the canvas' first row, not cut by it.
        let top_label = "const c = document.getElementById('chart-req'); const dpr = devicePixelRatio || 1; \
                         const w = Math.floor(Number(c.dataset.left) * dpr) - 1; const g = c.getContext('2d'); \
                         const first = g.getImageData(0, 0, w, 1).data.some((v) => v !== 0); \
                         const below = g.getImageData(0, 1, w, Math.ceil(16 * dpr)).data.some((v) => v !== 0); \
                         return [first, below]";
        assert_eq!(driver.js(top_label).await, json!([false, true]), "the top label of the scale, whole");
    }
    driver.call("DELETE", "", json!({})).await;
}

/// A phone: the select bar is a low sheet at the bottom, its tools opened
/// on demand; a card's heart sits on its picture (no row of its own); the
/// home page's library rows are one line each, swiped sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_selects_from_the_bottom_and_swipes_library_rows() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    for (name, n) in [("Films/a", 0), ("Films/b", 1), ("Films/c", 2), ("Home/d", 3), ("Home/e", 4)] {
        fx.mp4(&format!("{name}.mp4"), 1000, 2600 + n);
    }
    let (srv, _data) = TestServer::start(&[&fx.path().join("Films"), &fx.path().join("Home")]).await;
    let driver = Driver::start().await;
    let js = |s: &'static str| driver.js(s);
    driver.call("POST", "/window/rect", json!({ "width": 390, "height": 844 })).await;
    let cdp = |cmd: &str, params: serde_json::Value| {
        driver.call("POST", "/goog/cdp/execute", json!({ "cmd": cmd, "params": params }))
    };
    cdp("Emulation.setTouchEmulationEnabled", json!({ "enabled": true, "maxTouchPoints": 5 })).await;
    for theme in ["dark", "light"] {
        driver.goto(&srv.url("/")).await;
        driver.js(&format!("localStorage.setItem('vidserve-theme', '{theme}'); return 0")).await;
        driver.goto(&srv.url("/")).await;
        assert_eq!(js("return matchMedia('(pointer: coarse)').matches").await, true);
        eventually(Duration::from_secs(10), "the card actions shown", || async {
            js("return !document.querySelector('.card-actions').classList.contains('waiting')").await == true
        })
        .await;

        // Two libraries, a row each, one line high, headed by a link.
        let rows = js(
            "return [...document.querySelectorAll('section.continue')].map(s => { \
                       const tops = [...s.querySelectorAll('li')].map(l => Math.round(l.getBoundingClientRect().top)); \
                       const a = s.querySelector('h2 a'); return [a && a.getAttribute('href'), new Set(tops).size]; })",
        )
        .await;
        assert_eq!(rows, json!([["/?library=Films", 1], ["/?library=Home", 1]]), "{theme}");

        // The heart: on the picture's corner, 44 px, hollow until chosen.
        let heart = js("const c = document.querySelector('#gallery-grid .card'); \
                        const t = c.querySelector('.thumb').getBoundingClientRect(); \
                        const h = c.querySelector('.heart'); const r = h.getBoundingClientRect(); \
                        return [r.top >= t.top && r.bottom <= t.bottom && r.left >= t.left, r.width >= 44 && r.height >= 44, \
                                getComputedStyle(h, '::before').content, \
                                c.querySelector('.info').getBoundingClientRect().bottom >= c.getBoundingClientRect().bottom - 2]")
        .await;
        assert_eq!(heart, json!([true, true, "\"♡\"", true]), "{theme}: the heart, and nothing under the info");

        // Select mode: a sheet at the bottom at most two rows high.
        driver.click("#select-mode").await;
        js("document.querySelector('#gallery-grid input.pick').click(); return 0").await;
        let sheet = js("const b = document.getElementById('batch-bar').getBoundingClientRect(); \
                        return [Math.round(innerHeight - b.bottom), Math.round(b.height), \
                                document.getElementById('batch-tag').checkVisibility(), \
                                document.getElementById('batch-count').textContent]")
        .await;
        assert!(sheet[0].as_f64().unwrap() >= 0.0 && sheet[0].as_f64().unwrap() <= 12.0, "{theme}: {sheet}");
        assert!(sheet[1].as_f64().unwrap() <= 120.0, "{theme}: the sheet's height: {sheet}");
        assert_eq!((&sheet[2], &sheet[3]), (&json!(false), &json!("1 selected")), "{theme}");
        // Its tag tool opens, focused, above its buttons; one at a time.
        js("document.querySelector('#batch-bar .batch-open[aria-controls=\"batch-tags\"]').click(); return 0").await;
        let open = js("const t = document.getElementById('batch-tag'); \
                       return [t.checkVisibility(), document.activeElement === t, \
                               t.getBoundingClientRect().bottom <= document.getElementById('batch-fav').getBoundingClientRect().top, \
                               document.getElementById('batch-playlist').checkVisibility()]")
        .await;
        assert_eq!(open, json!([true, true, true, false]), "{theme}");
        js("document.querySelector('#batch-bar .batch-open[aria-controls=\"batch-lists\"]').click(); return 0").await;
        let swapped = js("return [document.getElementById('batch-tag').checkVisibility(), \
                          document.getElementById('batch-playlist').checkVisibility()]")
        .await;
        assert_eq!(swapped, json!([false, true]), "{theme}");
        // Done, from the sheet: out of select mode.
        driver.click("#batch-done").await;
        let done = js("return [document.getElementById('batch-bar').hidden, \
                       document.getElementById('select-mode').getAttribute('aria-pressed'), \
                       document.querySelectorAll('input.pick:checked').length]")
        .await;
        assert_eq!(done, json!([true, "false", 0]), "{theme}");
    }

    // A desktop: the bar stays at the top with every tool shown.
    cdp("Emulation.setTouchEmulationEnabled", json!({ "enabled": false })).await;
    driver.call("POST", "/window/rect", json!({ "width": 1280, "height": 900 })).await;
    driver.goto(&srv.url("/")).await;
    driver.click("#select-mode").await;
    let wide = js("const b = document.getElementById('batch-bar').getBoundingClientRect(); \
                   return [b.top < innerHeight / 2, document.getElementById('batch-tag').checkVisibility(), \
                           [...document.querySelectorAll('.batch-open')].some(o => o.checkVisibility()), \
                           document.querySelector('section.continue').checkVisibility()]")
    .await;
    assert_eq!(wide, json!([true, true, false, false]), "the bar in sight, the rows (not selectable) gone");
    // A menu of the filter bar sends its form at once, its blank Year box
    // with it: the page sorted, not an error.
    driver.goto(&srv.url("/")).await;
    js("const s = document.getElementById('sort'); s.value = 'title'; \
        s.dispatchEvent(new Event('change', { bubbles: true })); return 0")
    .await;
    eventually(Duration::from_secs(10), "sorted by title", || async {
        js("return location.search.includes('sort=title') && location.search.includes('year=') \
            && document.querySelector('h1').textContent === 'Library'")
        .await
            == true
    })
    .await;
    driver.call("DELETE", "", json!({})).await;
}

/// What the sixth look found: another sort shows the listing sorted (the
/// rows go); the Year is a menu of the library's years; a listing that
/// finds nothing has a way back; a tablet's two-row header keeps focus
/// and the select bar in sight; Tab scrolls a row; touch shows ratings in
/// words, big stars, no shortcut button; the admin's hint clear of its
/// list; a library's page says where it is; films begun say what is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_pass_over_sorting_touch_and_tablets() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    for (name, n) in [("Films/Alien (1979)", 0), ("Films/Heat (1995)", 1), ("Home/Birthday 2024", 2)] {
        fx.mp4(&format!("{name}.mp4"), 1000, 2700 + n);
    }
    for n in 0..9 {
        fx.mp4(&format!("Home/clip {n}.mp4"), 1000, 2710 + n);
    }
    let (srv, _data) = TestServer::start(&[&fx.path().join("Films"), &fx.path().join("Home")]).await;
    let alien = srv.id_of("Alien (1979).mp4").await;
    let (status, _) =
        send(&srv, "PUT", &format!("/api/v1/videos/{alien}/position"), Some(json!({ "seconds": 0.4 }))).await;
    assert_eq!(status, 200);
    let (status, _) = send(&srv, "PUT", &format!("/api/v1/videos/{alien}/rating"), Some(json!({ "rating": 5 }))).await;
    assert_eq!(status, 200);

    // Pages as served.
    let srv = &srv;
    let page = |path: &'static str| async move { srv.get(path).await.text().await.unwrap() };
    let home = page("/").await;
    assert!(home.contains("Latest in Films") && home.contains("Continue watching"));
    let (cont, latest) = (home.find("Continue watching").unwrap(), home.find("Latest in Films").unwrap());
    assert!(cont < latest, "what one is watching comes first");
    let sorted = page("/?sort=title&order=asc").await;
    assert!(!sorted.contains("Latest in") && !sorted.contains("Continue watching"), "sorted: the listing alone");
    let nothing = page("/?q=zebra").await;
    assert!(nothing.contains(">clear the search</a>"), "{nothing}");
    let filtered = page("/?show=watched").await;
    assert!(filtered.contains(">Show every video</a>"), "{filtered}");
    let films = page("/?library=Films").await;
    assert!(films.contains("aria-label=\"Where\"") && films.contains("<a href=\"/\">Library</a>"), "{films}");
    let posters = page("/films").await;
    assert!(
        posters.contains("<span class=\"part\">1979</span><span class=\"part\">") && posters.contains(" s left</span>"),
        "{posters}"
    );
    assert!(posters.contains("<summary class=\"current\">More</summary>"), "the page is one under More");
    let birthday = page("/?library=Home&q=birthday").await;
    assert!(!birthday.contains("2024 · "), "the year once, in the title: {birthday}");

    let driver = Driver::start().await;
    let js = |s: &'static str| driver.js(s);
    // The Year: the library's years to choose from.
    eventually(Duration::from_secs(10), "the years counted", || async {
        driver.goto(&srv.url("/")).await;
        js("const y = document.getElementById('year'); return y.tagName === 'SELECT' && \
            [...y.options].map(o => o.value).join()")
        .await
            == json!(",2024,1995,1979")
    })
    .await;

    // A tablet: the header wraps to two rows; focus and the select bar stop below it.
    driver.call("POST", "/window/rect", json!({ "width": 820, "height": 1000 })).await;
    driver.goto(&srv.url("/")).await;
    eventually(Duration::from_secs(5), "the header's height known", || async {
        js("return parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--header-h')) > 0").await
            == true
    })
    .await;
    js("window.scrollTo(0, document.body.scrollHeight); \
        document.querySelector('#gallery-grid li:last-child .card > a').focus(); return 0")
    .await;
    for _ in 0..3 {
        driver.keys("\u{E013}").await; // up a row, by the arrow keys
    }
    let shown = js("const h = document.querySelector('header.top').getBoundingClientRect().bottom; \
                    const r = document.activeElement.getBoundingClientRect(); \
                    return [r.top >= h - 1, Math.round(r.top), Math.round(h), document.activeElement.textContent]")
    .await;
    assert_eq!(shown[0], true, "a focused card under a two-row header: {shown}");
    js("window.scrollTo(0, 0); return 0").await;
    driver.click("#select-mode").await;
    js("window.scrollTo(0, 2000); return 0").await;
    let bar = js("return document.getElementById('batch-bar').getBoundingClientRect().top >= \
                  document.querySelector('header.top').getBoundingClientRect().bottom - 1")
    .await;
    assert_eq!(bar, true, "the select bar below the header");
    let low = js("return document.getElementById('batch-bar').getBoundingClientRect().height").await;
    assert!(low.as_f64().unwrap() <= 110.0, "the select bar two rows high on a tablet: {low}");
    driver.keys("\u{E00C}").await;
    // The "library changed" banner sticks below the header too.
    let banner = js("document.getElementById('live-banner').hidden = false; window.scrollTo(0, 2000); \
                     return document.getElementById('live-banner').getBoundingClientRect().top >= \
                     document.querySelector('header.top').getBoundingClientRect().bottom")
    .await;
    assert_eq!(banner, true, "the banner below a two-row header");
    // Tab to a card beyond a row's edge scrolls the row.
    driver.goto(&srv.url("/")).await;
    js("const links = document.querySelectorAll('section.continue:last-of-type .card > a'); \
        links[links.length - 2].focus(); return 0")
    .await;
    driver.keys("\u{E004}").await;
    let whole = js("const r = document.activeElement.closest('li').getBoundingClientRect(); \
                    return r.right <= innerWidth && r.left >= 0")
    .await;
    assert_eq!(whole, true, "the tabbed-to card in sight");

    // Touch: ratings in words, stars a finger wide on the video's page, no `?`.
    driver
        .call(
            "POST",
            "/goog/cdp/execute",
            json!({ "cmd": "Emulation.setTouchEmulationEnabled", "params": { "enabled": true, "maxTouchPoints": 5 } }),
        )
        .await;
    driver.call("POST", "/window/rect", json!({ "width": 390, "height": 844 })).await;
    driver.goto(&srv.url("/")).await;
    // A phone's narrow cards: their lines break between parts, never
    // past the card's edge; the theme switch a finger wide.
    let fits = js("return [[...document.querySelectorAll('.card .meta')].every(m => m.scrollWidth <= m.clientWidth), \
                   document.getElementById('theme-toggle').getBoundingClientRect().width >= 44]")
    .await;
    assert_eq!(fits, json!([true, true]));
    driver.goto(&srv.url("/best-of")).await;
    eventually(Duration::from_secs(5), "the rating said", || async {
        js("const r = document.querySelector('#gallery-grid .card .rated'); return r.checkVisibility() && r.textContent").await
            == json!("5★")
    })
    .await;
    driver.goto(&srv.url(&format!("/watch/{alien}"))).await;
    let sizes = js("const s = document.querySelector('.stars button').getBoundingClientRect(); \
                    return [s.width >= 44 && s.height >= 44, document.getElementById('c-help').checkVisibility()]")
    .await;
    assert_eq!(sizes, json!([true, false]));
    driver
        .call(
            "POST",
            "/goog/cdp/execute",
            json!({ "cmd": "Emulation.setTouchEmulationEnabled", "params": { "enabled": false } }),
        )
        .await;

    // The admin's hint under its list, not over it.
    driver.call("POST", "/window/rect", json!({ "width": 1440, "height": 900 })).await;
    driver.goto(&srv.url("/admin")).await;
    let clear = js("const h = document.querySelector('#transcoding + p.hint'); \
                    return !h || h.getBoundingClientRect().top >= document.getElementById('transcoding').getBoundingClientRect().bottom")
    .await;
    assert_eq!(clear, true);
    driver.call("DELETE", "", json!({})).await;
}

/// The eighth look: a long playlist name never widens a phone's watch
/// page; the header's menu closes on Escape and on a tap elsewhere; a
/// star or heart not chosen is hollow; a card's facts never start a line
/// with their dot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eighth_pass_over_phones_menus_and_stars() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    fx.mp4("Birthday at the lake with the whole family.mp4", 1000, 2701);
    fx.mp4("b.mp4", 1000, 2702);
    ffmpeg(
        &fx.path().join("long.webm"),
        &["-f", "lavfi", "-i", "testsrc=duration=30:size=160x120:rate=10", "-c:v", "libvpx", "-b:v", "100k"],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("b.mp4").await;
    let long_id = srv.id_of("long.webm").await;
    let long = "Rainy Sunday afternoon family favourites for the grandparents' visit, and more";
    let (status, _) = send(&srv, "POST", "/api/v1/playlists", Some(json!({ "name": long }))).await;
    assert_eq!(status, 201);
    let (status, _) = send(&srv, "PUT", &format!("/api/v1/videos/{id}/rating"), Some(json!({ "rating": 2 }))).await;
    assert_eq!(status, 200);
    let driver = Driver::start().await;
    let js = |s: &'static str| driver.js(s);
    driver.call("POST", "/window/rect", json!({ "width": 390, "height": 844 })).await;

    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    eventually(Duration::from_secs(10), "the playlist offered", || async {
        js("return document.getElementById('playlist-add-choice').options.length > 0").await == true
    })
    .await;
    let width = js("return [document.documentElement.scrollWidth <= innerWidth, \
                    document.getElementById('player-box').getBoundingClientRect().right <= innerWidth]")
    .await;
    assert_eq!(width, json!([true, true]), "the page as wide as the phone");
    let stars = js("return [...document.querySelectorAll('.stars button:not(.clear)')].map(b => getComputedStyle(b, '::before').content)").await;
    assert_eq!(stars, json!(["\"★\"", "\"★\"", "\"☆\"", "\"☆\"", "\"☆\""]));
    assert_eq!(js("return getComputedStyle(document.getElementById('favorite'), '::before').content").await, "\"♡\"");

    // Start over, touched while the controls are hidden, only brings them back.
    let body = json!({ "seconds": 15.0 });
    assert_eq!(send(&srv, "PUT", &format!("/api/v1/videos/{long_id}/position"), Some(body)).await.0, 200);
    driver.goto(&srv.url(&format!("/watch/{long_id}"))).await;
    eventually(Duration::from_secs(15), "resumed, with Start over", || async {
        js("return !document.getElementById('start-over').hidden").await == true
    })
    .await;
    let press = "const b = document.getElementById('start-over'); \
                 b.dispatchEvent(new PointerEvent('pointerdown', { pointerType: 'touch', bubbles: true })); b.click(); \
                 return Math.round(document.getElementById('player').currentTime)";
    js("document.getElementById('player-box').classList.add('idle'); return 0").await;
    let kept = js(press).await.as_i64().unwrap();
    assert!(kept >= 15, "the hidden controls came back, nothing else: at {kept} s");
    js("document.getElementById('player-box').classList.remove('idle'); return 0").await;
    assert_eq!(js(press).await, 0, "with the controls shown, from the start");

    // The More menu: open, then closed by Escape (focus back on More), and by a tap elsewhere.
    driver.goto(&srv.url("/")).await;
    let open = "return document.querySelector('header details.more').open";
    driver.click("header details.more summary").await;
    assert_eq!(js(open).await, true);
    driver.keys("\u{E00C}").await;
    assert_eq!(js(open).await, false);
    assert_eq!(js("return document.activeElement.matches('header details.more summary')").await, true);
    driver.click("header details.more summary").await;
    driver.click("main h1").await;
    assert_eq!(js(open).await, false, "closed by a tap elsewhere");

    // A card's facts: no line starts with a dot (each part's dot, when it
    // starts a line, lies outside the card's facts).
    let dots =
        js("return [...document.querySelectorAll('.card .meta')].every(m => { const box = m.getBoundingClientRect(); \
                   const parts = [...m.querySelectorAll('span:not(.user):not(:empty)')]; \
                   return parts.length > 0 && parts.every(s => { const r = s.getBoundingClientRect(); \
                     const starts = !parts.some(o => o !== s && Math.abs(o.getBoundingClientRect().top - r.top) < 2 \
                       && o.getBoundingClientRect().left < r.left); \
                     return !starts || r.left < box.left - 1; }); })")
        .await;
    assert_eq!(dots, true);

    // Another sort starts in its own direction: titles A to Z.
    js("const s = document.getElementById('sort'); s.value = 'title'; s.dispatchEvent(new Event('change')); return 0")
        .await;
    eventually(Duration::from_secs(10), "sorted by title, ascending", || async {
        js("return location.search").await.as_str().is_some_and(|q| q.contains("sort=title") && q.contains("order=asc"))
    })
    .await;
    driver.call("DELETE", "", json!({})).await;
}
