//! The player's own controls, driven in Chromium: they replace the
//! browser's, hide while it plays and come back on a movement; the menu
//! of subtitles, audio and speed (names people read); chapters on the
//! seek bar; shortcuts wherever focus is (but in a field); `?`; a double
//! tap on a phone.

use std::time::Duration;

use serde_json::json;

use crate::driver::Driver;
use crate::support::{eventually, Fixture, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_players_own_controls_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    crate::inside::make(&fx.path().join("Film.mkv"), aux.path(), &["srt"]);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("Film.mkv").await;
    let driver = Driver::start().await;
    let watch = srv.url(&format!("/watch/{id}"));
    driver.goto(&watch).await;
    let js = |s: &'static str| driver.js(s);
    eventually(Duration::from_secs(10), "our controls instead of the browser's", || async {
        js("const p = document.getElementById('player'); \
            return !p.controls && !document.getElementById('controls').hidden && p.duration > 3")
        .await
            == true
    })
    .await;
    js("const p = document.getElementById('player'); p.pause(); p.muted = true; p.currentTime = 0; return 0").await;

    // The menu: the page's subtitle and audio choices, by the names people
    // read, and the speeds.
    driver.click("#c-settings").await;
    assert_eq!(js("return document.getElementById('c-settings').getAttribute('aria-expanded')").await, "true");
    // Shown whole (or scrolling) inside the picture, never squeezed.
    let fits = js("const m = document.getElementById('c-menu').getBoundingClientRect(); \
                   const b = document.getElementById('player-box').getBoundingClientRect(); \
                   return [Math.round(m.height), m.top >= b.top - 1 && m.bottom <= b.bottom + 1 && m.left >= b.left - 1]")
    .await;
    assert!(fits[0].as_f64().unwrap() >= 150.0 && fits[1] == true, "the menu's height and place: {fits}");
    let menu = js("return [...document.querySelectorAll('#c-menu button')].map(b => b.textContent)").await;
    let page_menus =
        js("return [...document.querySelectorAll('#subtitle-choice option, #audio-choice option')].map(o => o.textContent.trim())")
            .await;
    let menu: Vec<&str> = menu.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(page_menus.as_array().unwrap().len() >= 4, "off, the subtitles, two audio tracks: {page_menus}");
    for name in page_menus.as_array().unwrap().iter().map(|v| v.as_str().unwrap()) {
        assert!(menu.contains(&name), "{name} in {menu:?}");
    }
    for speed in ["0.5×", "Normal", "1.5×", "2×"] {
        assert!(menu.contains(&speed), "{speed} in {menu:?}");
    }
    assert!(
        menu.iter().all(|m| !["ger", "eng", "fra", "subrip", "aac"].contains(&m.to_lowercase().as_str())),
        "{menu:?}"
    );
    // Subtitles on from the menu; faster.
    js("[...document.querySelectorAll('#c-menu [role=group] button')].find(b => b.textContent !== 'Off' && \
        b.parentElement.querySelector('h3').textContent === 'Subtitles').click(); return 0")
    .await;
    eventually(Duration::from_secs(5), "the subtitles show", || async {
        js("return [...document.getElementById('player').textTracks].some(t => t.mode === 'showing')").await == true
    })
    .await;
    js("[...document.querySelectorAll('#c-menu button')].find(b => b.textContent === '1.5×').click(); return 0").await;
    assert_eq!(js("return document.getElementById('player').playbackRate").await, 1.5);
    assert_eq!(
        js("return document.querySelector('#c-menu button[aria-pressed=true]:not([disabled])') !== null").await,
        true
    );
    // Escape closes the menu (and leaves the page where it is).
    driver.keys("\u{E00C}").await;
    assert_eq!(js("return document.getElementById('c-menu').hidden").await, true);
    assert_eq!(js("return document.activeElement.id").await, "c-settings");
    assert_eq!(js("return location.href").await, json!(watch));

    // Chapters on the seek bar, and named as one goes.
    assert_eq!(js("return document.querySelectorAll('.controls .chapter-marks span').length").await, 1);
    let left = js("return parseFloat(document.querySelector('.controls .chapter-marks span').style.left)").await;
    assert!((left.as_f64().unwrap() - 37.5).abs() < 0.5, "{left}");
    js("document.getElementById('player').currentTime = 2; return 0").await;
    eventually(Duration::from_secs(5), "the bar says where, and which chapter", || async {
        js("return document.getElementById('seek').getAttribute('aria-valuetext')")
            .await
            .as_str()
            .is_some_and(|t| t.starts_with("0:02 of 0:04") && t.ends_with("The end"))
    })
    .await;

    // Shortcuts work with focus on a button; a field keeps its keys.
    js("document.getElementById('favorite').focus(); document.getElementById('player').currentTime = 0; return 0")
        .await;
    driver.keys("\u{E014}").await; // ArrowRight
    let t = js("return document.getElementById('player').currentTime").await.as_f64().unwrap();
    assert!(t >= 3.5, "5 s on (to the end of a 4 s film): {t}");
    js("document.getElementById('player').volume = 0.5; return 0").await;
    driver.keys("\u{E013}").await; // ArrowUp
    assert_eq!(js("return document.getElementById('player').volume").await, 0.6);
    js("document.getElementById('tag-input').focus(); document.getElementById('player').currentTime = 0; return 0")
        .await;
    driver.keys("l").await;
    assert_eq!(js("return document.getElementById('player').currentTime").await, 0, "typing is not a shortcut");
    js("document.getElementById('tag-input').value = ''; document.getElementById('favorite').focus(); return 0").await;
    // `?` shows them all; Escape closes the panel and stays on the page.
    driver.keys("?").await;
    assert_eq!(js("return document.getElementById('shortcuts').open").await, true);
    let listed = js("return document.querySelectorAll('#shortcuts dt').length").await;
    assert!(listed.as_u64().unwrap() >= 12, "{listed}");
    driver.keys("\u{E00C}").await;
    assert_eq!(js("return document.getElementById('shortcuts').open").await, false);
    assert_eq!(js("return location.href").await, json!(watch));

    // Playing, untouched: the controls fade; a movement brings them back.
    js("const p = document.getElementById('player'); p.loop = true; p.currentTime = 0; p.play(); \
        document.activeElement.blur(); return 0")
    .await;
    eventually(Duration::from_secs(10), "the controls fade while it plays", || async {
        js("return document.getElementById('player-box').classList.contains('idle')").await == true
    })
    .await;
    driver.hover("#player", 10, 10).await;
    eventually(Duration::from_secs(5), "and come back on a movement", || async {
        js("return document.getElementById('player-box').classList.contains('idle')").await == false
    })
    .await;

    // A double tap on the left third goes back ten seconds.
    let back = js("const p = document.getElementById('player'); p.pause(); p.currentTime = 3.5; \
                   const r = p.getBoundingClientRect(); \
                   const tap = () => p.dispatchEvent(new PointerEvent('pointerup', { pointerType: 'touch', button: 0, \
                     clientX: r.left + r.width * 0.1, clientY: r.top + r.height / 2, bubbles: true })); \
                   tap(); tap(); const j = document.getElementById('c-jump'); \
                   return [p.currentTime, j.hidden, j.textContent]")
    .await;
    assert_eq!(back, json!([0, false, "− 10 s"]));
    // The browser's dblclick after two taps (a MouseEvent without a
    // pointer type) does not also switch to full screen; a mouse's does.
    let full = js("const p = document.getElementById('player'), box = document.getElementById('player-box'); \
                   const real = box.requestFullscreen; let asked = 0; \
                   box.requestFullscreen = () => { asked++; return Promise.resolve(); }; \
                   const press = (kind) => { for (const t of ['pointerdown', 'pointerup']) \
                     p.dispatchEvent(new PointerEvent(t, { pointerType: kind, button: 0, clientX: 5, clientY: 5, bubbles: true })); }; \
                   press('touch'); press('touch'); p.dispatchEvent(new MouseEvent('dblclick', { bubbles: true })); \
                   const byTaps = asked; \
                   press('mouse'); press('mouse'); p.dispatchEvent(new MouseEvent('dblclick', { bubbles: true })); \
                   box.requestFullscreen = real; return [byTaps, asked]")
    .await;
    assert_eq!(full, json!([0, 1]));

    // Full screen takes the box, controls and all.
    driver.click("#c-full").await;
    eventually(Duration::from_secs(5), "full screen", || async {
        js("return document.fullscreenElement && document.fullscreenElement.id").await == "player-box"
    })
    .await;
    assert_eq!(js("return document.getElementById('c-full').getAttribute('aria-label')").await, "Leave full screen");
    driver.call("DELETE", "", json!({})).await;
}

/// When a video ends, the countdown to the next one shows over the
/// picture (in view on a desktop, where the links under it are not), and
/// can be cancelled or skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_video_is_announced_over_the_picture() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    let (srv, _data, first) = two_clips(&fx, 2, None).await;
    let driver = Driver::start().await;
    let js = |s: &'static str| driver.js(s);
    for run in ["cancel", "play now"] {
        driver.goto(&srv.url(&format!("/watch/{first}"))).await;
        loaded(&driver).await;
        ends_into_the_countdown(&driver).await;
        // Over the picture, wholly in the window.
        let placed = js("const s = document.getElementById('next-status').getBoundingClientRect(); \
                         const b = document.getElementById('player-box').getBoundingClientRect(); \
                         return s.height > 0 && s.top >= b.top && s.bottom <= b.bottom && s.bottom <= innerHeight")
        .await;
        assert_eq!(placed, true, "{run}");
        if run == "cancel" {
            driver.click("#next-cancel").await;
            assert_eq!(js("return document.getElementById('next-text').textContent").await, "Stopped here.");
            tokio::time::sleep(Duration::from_secs(6)).await;
            assert!(js("return location.pathname").await.as_str().unwrap().ends_with(&first), "stayed");
            eventually(Duration::from_secs(5), "the words go", || async {
                js("return getComputedStyle(document.getElementById('next-status')).display").await == "none"
            })
            .await;
        } else {
            driver.click("#next-now").await;
            eventually(Duration::from_secs(10), "on to the next", || async {
                js("return location.pathname")
                    .await
                    .as_str()
                    .is_some_and(|p| p.starts_with("/watch/") && !p.ends_with(&first))
            })
            .await;
        }
    }
    driver.call("DELETE", "", json!({})).await;
}

/// What the second browser pass found, each checked where it showed: the
/// search box on a tablet, subtitles above the controls, a seek back
/// stopping the countdown, the menu over it, the menu whole on a phone,
/// no keyboard hints on a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_pass_over_the_player_and_header() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    let (srv, _data, first) = two_clips(&fx, 20, Some(b"1\n00:00:00,000 --> 00:00:04,000\nHello there\n\n")).await;
    let driver = Driver::start().await;
    let js = |s: &'static str| driver.js(s);
    let watch = srv.url(&format!("/watch/{first}"));

    // A tablet: the search box keeps room for words (it was 21 px wide).
    driver.call("POST", "/window/rect", json!({ "width": 820, "height": 1180 })).await;
    driver.goto(&watch).await;
    let width = js("return document.getElementById('search').getBoundingClientRect().width").await;
    assert!(width.as_f64().unwrap() >= 150.0, "the search box at 820 px: {width} px");
    // The library's bar: its menus, field, buttons and button-like links one height.
    driver.goto(&srv.url("/")).await;
    let heights = js("return [...document.querySelectorAll('.bar select, .bar input:not([type=checkbox]), .bar button, .bar a.random')] \
                      .filter((e) => e.getClientRects().length).map((e) => Math.round(e.getBoundingClientRect().height))")
    .await;
    let heights: Vec<i64> = heights.as_array().unwrap().iter().map(|h| h.as_i64().unwrap()).collect();
    assert!(heights.len() >= 4 && heights.iter().all(|h| *h == heights[0]), "{heights:?}");
    // Where playback resumes is said over the picture: nothing under it moves.
    let (status, _) =
        crate::support::send(&srv, "PUT", &format!("/api/v1/videos/{first}/position"), Some(json!({ "seconds": 7 })))
            .await;
    assert_eq!(status, 200);
    driver.goto(&watch).await;
    eventually(Duration::from_secs(10), "resumed, and said so", || async {
        js("return document.getElementById('resumed-text').textContent")
            .await
            .as_str()
            .is_some_and(|t| t.starts_with("Resumed at 0:07"))
    })
    .await;
    let over = js("const r = document.getElementById('resumed'); \
                   return r.parentElement.id === 'player-box' && getComputedStyle(r).position === 'absolute'")
    .await;
    assert_eq!(over, true);

    // Subtitles sit above the controls while these show.
    driver.call("POST", "/window/rect", json!({ "width": 1280, "height": 900 })).await;
    driver.goto(&watch).await;
    loaded(&driver).await;
    js("const p = document.getElementById('player'); p.muted = true; p.textTracks[0].mode = 'showing'; \
        p.currentTime = 1; p.pause(); return 0")
    .await;
    eventually(Duration::from_secs(10), "the cue placed above the bar", || async {
        js("const p = document.getElementById('player'); const c = p.textTracks[0].cues; \
            const bar = document.getElementById('controls').getBoundingClientRect().height; \
            const r = p.getBoundingClientRect(); \
            return !!c && c.length > 0 && c[0].snapToLines === false && c[0].lineAlign === 'end' \
                && r.height * (100 - c[0].line) / 100 >= bar")
        .await
            == true
    })
    .await;

    // At the end the countdown starts; the menu open hides it; a seek back stops it.
    ends_into_the_countdown(&driver).await;
    driver.click("#c-settings").await;
    assert_eq!(js("return getComputedStyle(document.getElementById('next-status')).display").await, "none");
    driver.click("#c-settings").await;
    js("const p = document.getElementById('player'); p.currentTime = 1; p.pause(); return 0").await;
    eventually(Duration::from_secs(5), "stopped by the seek", || async {
        js("return document.getElementById('next-text').textContent").await == "Stopped here."
    })
    .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    let here = driver.call("GET", "/url", json!({})).await;
    assert_eq!(here, json!(watch), "still on the page after the countdown's time");

    // A phone: the menu whole on the screen, no keyboard hints.
    driver.call("POST", "/window/rect", json!({ "width": 390, "height": 844 })).await;
    driver.goto(&watch).await;
    loaded(&driver).await;
    driver.click("#c-settings").await;
    let whole = js("const m = document.getElementById('c-menu'); const r = m.getBoundingClientRect(); \
                    return [r.top >= 0 && r.bottom <= innerHeight && r.left >= 0 && r.right <= innerWidth, \
                            m.scrollHeight <= m.clientHeight + 1]")
    .await;
    assert_eq!(whole, json!([true, true]), "the menu within the screen, nothing of it scrolled away");
    assert_eq!(js("return getComputedStyle(document.querySelector('.keys-hint')).display").await, "none");
    driver.call("DELETE", "", json!({})).await;
}

/// Two clips of `seconds` (a colour each; `subtitle` beside each when
/// given), served: the server, its data dir, and the id of the clip that
/// has a next video.
async fn two_clips(fx: &Fixture, seconds: u32, subtitle: Option<&[u8]>) -> (TestServer, tempfile::TempDir, String) {
    let names = ["a red one", "a blue one"];
    for (name, color) in names.iter().zip(["red", "blue"]) {
        let src = format!("color=c={color}:size=640x360:duration={seconds}:rate=10");
        let video = fx.path().join(format!("{name}.webm"));
        crate::support::ffmpeg(&video, &["-f", "lavfi", "-i", &src, "-c:v", "libvpx", "-b:v", "50k"]);
        if let Some(text) = subtitle {
            fx.write(&format!("{name}.srt"), text);
        }
    }
    let (srv, data) = TestServer::start(&[fx.path()]).await;
    let mut first = None;
    for name in names {
        let id = srv.id_of(&format!("{name}.webm")).await;
        if srv.get(&format!("/watch/{id}")).await.text().await.unwrap().contains("id=\"next-link\"") {
            first = Some(id);
        }
    }
    (srv, data, first.expect("one of two has a next video"))
}

/// Waits until the watch page's video has its length.
pub async fn loaded(driver: &Driver) {
    eventually(Duration::from_secs(10), "the video loads", || async {
        driver.js("return document.getElementById('player').duration > 1").await == true
    })
    .await;
}

/// Plays the last moment of the video, muted, and waits for the countdown
/// to the next one.
pub async fn ends_into_the_countdown(driver: &Driver) {
    driver
        .js("const p = document.getElementById('player'); p.muted = true; p.currentTime = p.duration - 0.3; \
             p.play(); return 0")
        .await;
    eventually(Duration::from_secs(10), "the countdown", || async {
        driver
            .js("return document.getElementById('next-text').textContent")
            .await
            .as_str()
            .is_some_and(|t| t.starts_with("Next in"))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_third_pass_over_cards_the_player_and_tv_sizes() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    let (srv, _data, first) = two_clips(&fx, 20, None).await;
    let (status, _) =
        crate::support::send(&srv, "PUT", &format!("/api/v1/videos/{first}/position"), Some(json!({ "seconds": 7 })))
            .await;
    assert_eq!(status, 200);
    let driver = Driver::start().await;
    let js = |s: &'static str| driver.js(s);
    let theme = |t: &'static str| {
        driver.js(if t == "light" {
            "localStorage.setItem('vidserve-theme', 'light'); document.documentElement.dataset.theme = 'light'; return 0"
        } else {
            "localStorage.setItem('vidserve-theme', 'dark'); document.documentElement.dataset.theme = 'dark'; return 0"
        })
    };

    // The player is dark in the light theme too: its menu's choices and its
    // sliders were the page's white ones.
    driver.call("POST", "/window/rect", json!({ "width": 1280, "height": 900 })).await;
    driver.goto(&srv.url(&format!("/watch/{first}"))).await;
    theme("light").await;
    driver.goto(&srv.url(&format!("/watch/{first}"))).await;
    loaded(&driver).await;
    driver.hover("#player", 0, 0).await;
    driver.click("#c-settings").await;
    let looks = js(
        "const b = document.querySelector('#c-menu [role=group] button'); const s = getComputedStyle(b); \
                    return [s.backgroundColor, s.color, getComputedStyle(document.getElementById('seek')).colorScheme]",
    )
    .await;
    assert!(looks[0] != "rgb(255, 255, 255)" && looks[1] != "rgb(28, 29, 33)", "menu choice {looks}");
    assert_eq!(looks[2], "dark", "the seek bar's own colours");
    driver.keys("\u{E00C}").await;

    // Cards: one Tab stop each (the stars and heart are keys on the card),
    // the ring around the whole card, and a rating by a key.
    for (width, height) in [(1280, 900), (390, 844)] {
        driver.call("POST", "/window/rect", json!({ "width": width, "height": height })).await;
        for t in ["dark", "light"] {
            driver.goto(&srv.url("/")).await;
            theme(t).await;
            driver.goto(&srv.url("/")).await;
            let hops =
                js("const links = [...document.querySelectorAll('#gallery-grid .card > a')]; links[0].focus(); \
                           return links.map((l) => l.getAttribute('aria-describedby'))")
                .await;
            assert_eq!(hops, json!(["card-keys", "card-keys"]), "{width} px {t}");
            driver.keys("\u{E004}").await;
            let next = js("const links = [...document.querySelectorAll('#gallery-grid .card > a')]; \
                           return document.activeElement === links[1]")
            .await;
            assert_eq!(next, true, "{width} px {t}: Tab goes to the next card, past the stars and heart");
            let ring = js("const c = document.activeElement.closest('.card'); const s = getComputedStyle(c); \
                           return [s.outlineStyle, parseFloat(s.outlineOffset) >= 0]")
            .await;
            assert_eq!(ring, json!(["solid", true]), "{width} px {t}: the ring around the card");
            // The continue-watching bar inside its card's rounded foot.
            let inside = js("const p = document.querySelector('section.continue progress'); \
                             const c = p.closest('li').querySelector('.card').getBoundingClientRect(); \
                             const r = p.getBoundingClientRect(); \
                             return r.left >= c.left + 8 && r.right <= c.right - 8 && r.bottom <= c.bottom")
            .await;
            assert_eq!(inside, true, "{width} px {t}: the progress bar pokes out of its card");
            // Nothing a script shows moves the page: their places are kept.
            let kept = js(
                "const t = document.getElementById('theme-toggle'); const s = document.getElementById('select-mode'); \
                           const a = document.querySelector('.card-actions'); \
                           return [t.hidden, s.hidden, a.hidden, t.getBoundingClientRect().width > 0]",
            )
            .await;
            assert_eq!(kept, json!([false, false, false, true]));
        }
    }
    driver.call("POST", "/window/rect", json!({ "width": 1280, "height": 900 })).await;
    driver.goto(&srv.url("/")).await;
    js("document.querySelector('#gallery-grid .card > a').focus(); return 0").await;
    driver.keys("3").await;
    let id = js("return document.querySelector('#gallery-grid .card').dataset.id").await;
    let id = id.as_str().unwrap().to_string();
    eventually(Duration::from_secs(10), "rated 3 by a key", || async {
        srv.json(&format!("/api/v1/videos/{id}")).await["rating"] == json!(3)
    })
    .await;
    // The card says how sharp, never the file's format; its phrases stay whole.
    let meta = js("return document.querySelector('#gallery-grid .card .meta').textContent").await;
    assert!(!meta.as_str().unwrap().contains("webm"), "{meta}");

    // A television: headings are larger than the text under them (they were
    // 17.6 px over 20 px card titles), and the player's buttons grow too.
    driver.call("POST", "/window/rect", json!({ "width": 1920, "height": 1080 })).await;
    driver.goto(&srv.url("/")).await;
    let sizes = js("const px = (s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize); \
                    return [px('section.continue h2'), px('#gallery-grid .card .title'), px('h1')]")
    .await;
    let sizes: Vec<f64> = sizes.as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect();
    assert!(sizes[0] > sizes[1] && sizes[2] >= 30.0, "heading, card title, h1: {sizes:?}");
    driver.goto(&srv.url(&format!("/watch/{first}"))).await;
    let button = js("return document.getElementById('c-play').getBoundingClientRect().height").await;
    assert!(button.as_f64().unwrap() >= 50.0, "the play button at 1920 px: {button}");

    // The dashboard opens with the last minute's numbers (its charts were
    // empty until they came in, one a second).
    driver.goto(&srv.url("/admin")).await;
    let kept = js("return [JSON.parse(document.getElementById('dashboard').dataset.history).length, \
                   document.getElementById('now-rss').textContent]")
    .await;
    assert!(kept[0].as_u64().unwrap() >= 3 && kept[1] != "–", "{kept}");
}

/// What the fifth look found: a tap on a playing video keeps the controls
/// up; the seek bar's arrows go five seconds; the volume keys leave a page
/// scrolled past the player alone; `?` closes the menu, whose choices are
/// not boxed and which a phone closes by its own button; cards titled as
/// people say them; a pick by the whole card and Escape in select mode;
/// arrows between posters; a focused card clear of the header; empty
/// shelves that say what fills them; one word of a search that found nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fifth_pass_over_the_player_and_pages() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    for (name, color) in [
        ("Films/Alien (1979)", "red"),
        ("Films/Heat (1995)", "green"),
        ("Shows/Bluey/Season 1/Bluey S01E02 Hospital", "blue"),
        ("Holidays/Beach day", "yellow"),
    ] {
        std::fs::create_dir_all(fx.path().join(name).parent().unwrap()).unwrap();
        let src = format!("color=c={color}:size=640x360:duration=30:rate=10");
        crate::support::ffmpeg(
            &fx.path().join(format!("{name}.webm")),
            &["-f", "lavfi", "-i", &src, "-c:v", "libvpx", "-b:v", "50k"],
        );
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let alien = srv.id_of("Films/Alien (1979).webm").await;
    let driver = Driver::start().await;
    let js = |s: &'static str| driver.js(s);
    driver.call("POST", "/window/rect", json!({ "width": 1280, "height": 900 })).await;

    // Cards: a film by its title, its year below; an episode by its series,
    // its number and own title below.
    driver.goto(&srv.url("/?sort=title&order=asc")).await;
    let cards = js("return [...document.querySelectorAll('#gallery-grid .card')].map(c => \
                    [c.querySelector('.title').textContent, [...c.querySelectorAll('.meta span:not(.user):not(:empty)')] \
                     .map(s => s.textContent).join(' · ')])")
    .await;
    let cards = cards.to_string();
    for said in [r#"["Alien","1979 · SD"]"#, r#"["Bluey","S1 E2 · Hospital · SD"]"#, r#"["Beach day","SD"]"#] {
        assert!(cards.contains(said), "{said} in {cards}");
    }

    // Select mode: the whole card picks; Escape leaves.
    driver.click("#select-mode").await;
    driver.click("#gallery-grid li:first-child .card > a").await;
    let picked = js("return [location.pathname, document.querySelectorAll('input.pick:checked').length]").await;
    assert_eq!(picked, json!(["/", 1]), "picked, not played");
    driver.keys("\u{E00C}").await;
    let left = js("return [document.getElementById('select-mode').getAttribute('aria-pressed'), \
                   document.getElementById('batch-bar').hidden]")
    .await;
    assert_eq!(left, json!(["false", true]));

    // A card reached by the keys stays clear of the sticky header.
    js("window.scrollTo(0, document.body.scrollHeight); return 0").await;
    js("document.querySelector('#gallery-grid .card > a').focus({ preventScroll: true }); return 0").await;
    driver.keys("\u{E015}").await;
    driver.keys("\u{E013}").await;
    let clear = js("const h = document.querySelector('header.top').getBoundingClientRect().bottom; \
                    return document.activeElement.getBoundingClientRect().top >= h")
    .await;
    assert_eq!(clear, true, "the focused card under the header");

    // Posters: the arrows go from one to the next.
    driver.goto(&srv.url("/films")).await;
    js("document.querySelector('ul.posters > li > a').focus(); return 0").await;
    driver.keys("\u{E014}").await;
    let moved =
        js("return [...document.querySelectorAll('ul.posters > li > a')].indexOf(document.activeElement)").await;
    assert_eq!(moved, json!(1), "→ to the next poster");

    // Shelves with nothing yet say what fills them; Best of, best first.
    driver.goto(&srv.url("/favorites")).await;
    assert!(js("return document.querySelector('p.notice').textContent")
        .await
        .as_str()
        .unwrap()
        .starts_with("No favorites yet"));
    driver.goto(&srv.url("/best-of")).await;
    assert!(js("return document.querySelector('p.notice').textContent")
        .await
        .as_str()
        .unwrap()
        .starts_with("Nothing rated"));
    for (file, stars) in [("Films/Alien (1979).webm", 4), ("Films/Heat (1995).webm", 5)] {
        let id = srv.id_of(file).await;
        let path = format!("/api/v1/videos/{id}/rating");
        assert_eq!(crate::support::send(&srv, "PUT", &path, Some(json!({ "rating": stars }))).await.0, 200);
    }
    // (The rating order follows the new ratings within a moment.)
    eventually(Duration::from_secs(10), "Best of, best first", || async {
        driver.goto(&srv.url("/best-of")).await;
        js("return [document.getElementById('sort').value, document.querySelector('#gallery-grid .title').textContent]")
            .await
            == json!(["rating", "Heat"])
    })
    .await;
    // A search that found nothing says so once, not three times.
    driver.goto(&srv.url("/?q=zebra")).await;
    let said = js("return document.querySelector('main').textContent.split('zebra').length - 1").await;
    assert_eq!(said, json!(2), "the heading and the notice");
    // Placeholders as legible as other quiet text.
    let grey = js("return getComputedStyle(document.getElementById('search'), '::placeholder').color === \
                   getComputedStyle(document.querySelector('.count')).color")
    .await;
    assert_eq!(grey, true);

    // The player.
    driver.goto(&srv.url(&format!("/watch/{alien}"))).await;
    loaded(&driver).await;
    // → on the focused seek bar: five seconds on.
    let on = js("const p = document.getElementById('player'); p.pause(); p.currentTime = 10; \
                 document.getElementById('seek').focus(); return 0")
    .await;
    assert_eq!(on, json!(0));
    driver.keys("\u{E014}").await;
    eventually(Duration::from_secs(5), "five seconds on", || async {
        js("return Math.abs(document.getElementById('player').currentTime - 15) < 0.6").await == true
    })
    .await;
    // `?` closes the settings menu before showing the keys; the menu's
    // choices are not boxed like the page's buttons.
    driver.click("#c-settings").await;
    let unboxed = js("const b = document.querySelector('#c-menu [role=group] button'); \
                      return getComputedStyle(b).borderTopWidth")
    .await;
    assert_eq!(unboxed, json!("0px"));
    js("document.activeElement.blur(); return 0").await;
    driver.keys("?").await;
    let shown =
        js("return [document.getElementById('c-menu').hidden, document.getElementById('shortcuts').open]").await;
    assert_eq!(shown, json!([true, true]));
    driver.keys("\u{E00C}").await;
    // Scrolled past the player, ↓ scrolls the page, the volume stays.
    let before = js("const p = document.getElementById('player'); p.volume = 1; document.activeElement.blur(); \
                     document.body.style.minHeight = '4000px'; window.scrollTo(0, 2000); return p.volume")
    .await;
    assert_eq!(before, json!(1));
    driver.keys("\u{E015}").await;
    assert_eq!(js("return document.getElementById('player').volume").await, json!(1));

    // A phone: a tap on the playing video brings the controls up to stay;
    // the menu is a sheet with its own Done.
    driver.call("POST", "/window/rect", json!({ "width": 390, "height": 844 })).await;
    driver.goto(&srv.url(&format!("/watch/{alien}"))).await;
    loaded(&driver).await;
    js("const p = document.getElementById('player'); p.muted = true; p.play(); return 0").await;
    eventually(Duration::from_secs(10), "the controls fade while it plays", || async {
        js("return document.getElementById('player-box').classList.contains('idle')").await == true
    })
    .await;
    js("const p = document.getElementById('player'); const r = p.getBoundingClientRect(); \
        const at = { pointerType: 'touch', button: 0, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true }; \
        p.dispatchEvent(new PointerEvent('pointerdown', at)); p.dispatchEvent(new PointerEvent('pointerup', at)); return 0")
    .await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    let up = js("return document.getElementById('player-box').classList.contains('idle')").await;
    assert_eq!(up, false, "a tap shows the controls, and they stay");
    driver.click("#c-settings").await;
    let sheet = js("const d = document.querySelector('#c-menu .menu-close'); const r = d.getBoundingClientRect(); \
                    return [d.checkVisibility(), r.height >= 44]")
    .await;
    assert_eq!(sheet, json!([true, true]));
    driver.click("#c-menu .menu-close").await;
    assert_eq!(js("return document.getElementById('c-menu').hidden").await, true);
}
