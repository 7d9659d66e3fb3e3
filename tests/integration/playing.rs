//! The watch page as a viewer uses it, in headless Chromium: subtitles
//! inside the file chosen from the menu, a chapter button seeks, and at the
//! end the next video of the listing the page came from opens by itself;
//! and the same listings as plain HTTP (up next, shuffle).

use std::time::Duration;

use serde_json::json;

use crate::driver::Driver;
use crate::support::{eventually, ffmpeg, send, Fixture, TestServer};

const VTT: &str = "WEBVTT\n\n00:00:00.200 --> 00:00:02.500\nInside the file\n";
const CHAPTERS: &str = ";FFMETADATA1\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Start\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=3000\ntitle=Middle part\n";

/// A 3 s WebM with a WebVTT track and two chapters.
fn webm(out: &std::path::Path, aux: &std::path::Path) {
    std::fs::write(aux.join("s.vtt"), VTT).unwrap();
    std::fs::write(aux.join("meta.txt"), CHAPTERS).unwrap();
    let (vtt, meta) = (aux.join("s.vtt"), aux.join("meta.txt"));
    ffmpeg(
        out,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=3:size=160x120:rate=25",
            "-i",
            vtt.to_str().unwrap(),
            "-i",
            meta.to_str().unwrap(),
            "-map",
            "0",
            "-map",
            "1",
            "-map_chapters",
            "2",
            "-c:v",
            "libvpx",
            "-b:v",
            "200k",
            "-c:s",
            "webvtt",
            "-metadata:s:s",
            "language=eng",
        ],
    );
}

async fn tag(srv: &TestServer, id: &str, tag: &str) {
    let (status, _) = send(srv, "POST", &format!("/api/v1/videos/{id}/tags"), Some(json!({ "tag": tag }))).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subtitles_chapters_and_up_next_in_chromium() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    webm(&fx.path().join("A first.webm"), aux.path());
    webm(&fx.path().join("B second.webm"), aux.path());
    webm(&fx.path().join("C not tagged.webm"), aux.path());
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let (a, b) = (srv.id_of("A first.webm").await, srv.id_of("B second.webm").await);
    tag(&srv, &a, "pair").await;
    tag(&srv, &b, "pair").await;
    let driver = Driver::start().await;

    // From the tag's page sorted by title, the first card keeps the listing.
    driver.goto(&srv.url("/tag/pair?sort=title&order=asc")).await;
    driver.click(".card a").await;
    let search = driver.js("return location.pathname + location.search").await;
    assert_eq!(search, json!(format!("/watch/{a}?sort=title&order=asc&tag=pair")));

    // The subtitle menu turns on the track inside the file; its cues load.
    let pick = "const m = document.getElementById('subtitle-choice'); m.value = '0'; \
                m.dispatchEvent(new Event('change')); return 0";
    driver.js(pick).await;
    eventually(Duration::from_secs(20), "the embedded track shows with its cue", || async {
        let t = "const t = document.getElementById('player').textTracks[0]; \
                 return [t.mode, t.cues ? t.cues.length : 0, t.cues && t.cues.length ? t.cues[0].text : '']";
        driver.js(t).await == json!(["showing", 1, "Inside the file"])
    })
    .await;

    // A chapter button seeks to where the chapter starts.
    let chapters = driver.js("return [...document.querySelectorAll('#chapters button')].map(b => b.textContent)").await;
    assert_eq!(chapters, json!(["0:00 Start", "0:01 Middle part"]));
    driver.js("const p = document.getElementById('player'); p.muted = true; return 0").await;
    driver.click("#chapters li:nth-child(2) button").await;
    eventually(Duration::from_secs(20), "the chapter's start is reached", || async {
        let t = driver.js("return document.getElementById('player').currentTime").await.as_f64().unwrap_or(0.0);
        t >= 1.5
    })
    .await;

    // At the end, the next video of the tag's listing opens by itself
    // (after the countdown), still within the listing.
    assert_eq!(driver.js("return document.getElementById('autoplay').getAttribute('aria-pressed')").await, "true");
    eventually(Duration::from_secs(30), "the next video of the listing opens", || async {
        driver
            .js("const p = document.getElementById('player'); if (p && p.paused && !p.ended) p.play(); return 0")
            .await;
        driver.js("return location.pathname + location.search").await
            == json!(format!("/watch/{b}?sort=title&order=asc&tag=pair"))
    })
    .await;
    // The last of the listing has no next: nothing opens after it.
    assert_eq!(driver.js("return document.getElementById('next-link')").await, json!(null));
    // The choice of subtitles carried over.
    eventually(Duration::from_secs(10), "the language chosen is chosen again", || async {
        driver.js("return document.getElementById('player').textTracks[0].mode").await == "showing"
    })
    .await;

    // Added to a new playlist from the watch page (named in a field of the
    // page, not the browser's prompt), then reordered in its editor.
    eventually(Duration::from_secs(10), "the playlist menu is filled", || async {
        driver.js("const b = document.getElementById('playlist-add'); return !b.hidden && !b.classList.contains('waiting')").await == true
    })
    .await;
    assert_eq!(driver.js("return document.getElementById('playlist-add-name').hidden").await, false);
    driver.click("#playlist-add-button").await;
    assert_eq!(
        driver.js("return document.getElementById('playlist-add-status').textContent").await,
        "Name the new playlist first."
    );
    driver.type_into("#playlist-add-name", "Evening").await;
    driver.click("#playlist-add-button").await;
    eventually(Duration::from_secs(10), "the playlist is made", || async {
        srv.json("/api/v1/playlists").await["playlists"][0]["count"] == 1
    })
    .await;
    driver.goto(&srv.url(&format!("/watch/{a}"))).await;
    eventually(Duration::from_secs(10), "the playlist is offered", || async {
        driver.js("return document.getElementById('playlist-add-choice').value").await == "1"
    })
    .await;
    driver.click("#playlist-add-button").await;
    eventually(Duration::from_secs(10), "the second video is added", || async {
        srv.json("/api/v1/playlists").await["playlists"][0]["count"] == 2
    })
    .await;
    driver.goto(&srv.url("/playlists/1")).await;
    driver.click("#playlist-editor > summary").await;
    driver.click("#playlist-items li:first-child button.down").await;
    eventually(Duration::from_secs(10), "the new order is saved", || async {
        let list = srv.json("/api/v1/playlists/1").await;
        let order: Vec<_> = list["videos"].as_array().unwrap().iter().map(|v| v["id"].clone()).collect();
        order == [json!(a), json!(b)]
    })
    .await;
    // The page says so once the browser has the answer (the server saved first).
    eventually(Duration::from_secs(10), "the move is announced", || async {
        let said = driver.js("return document.getElementById('playlist-edit-status').textContent").await;
        said.as_str().is_some_and(|s| s.starts_with("Moved down"))
    })
    .await;
}

/// Up next and shuffle as plain HTTP: the listing in the query string
/// picks the neighbours; a query naming no valid listing is the library.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_next_follows_the_listing() {
    let fx = Fixture::new();
    for (n, name) in ["a.mp4", "b.mp4", "c.mp4", "d.mp4"].iter().enumerate() {
        fx.mp4(name, 1000, 900 + n as u64);
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = |rel: &'static str| srv.id_of(rel);
    let (a, b, c, d) = (id("a.mp4").await, id("b.mp4").await, id("c.mp4").await, id("d.mp4").await);
    tag(&srv, &a, "odd").await;
    tag(&srv, &c, "odd").await;
    let page = |q: String| {
        let srv = &srv;
        async move { srv.get(&q).await.text().await.unwrap() }
    };
    let next_of = |html: &str| -> Option<String> {
        let link = html.split(r#"id="next-link" href=""#).nth(1)?;
        Some(link.split('"').next()?.replace("&amp;", "&"))
    };

    // By title: b follows a in the library, c follows a among the "odd" ones.
    let all = page(format!("/watch/{a}?sort=title&order=asc")).await;
    assert_eq!(next_of(&all), Some(format!("/watch/{b}?sort=title&order=asc")));
    let odd = page(format!("/watch/{a}?sort=title&order=asc&tag=odd")).await;
    assert_eq!(next_of(&odd), Some(format!("/watch/{c}?sort=title&order=asc&tag=odd")));
    assert!(odd.contains(&format!(r#"href="/watch/{a}?sort=title&amp;order=asc&amp;tag=odd&amp;shuffle=1""#)));
    let last = page(format!("/watch/{c}?sort=title&order=asc&tag=odd")).await;
    assert_eq!(next_of(&last), None);
    assert!(last.contains(&format!(r#"href="/watch/{a}?sort=title&amp;order=asc&amp;tag=odd" rel="prev""#)));

    // Shuffling the "odd" ones from a can only go to c.
    for _ in 0..5 {
        let shuffled = page(format!("/watch/{a}?tag=odd&shuffle=1")).await;
        let next = next_of(&shuffled).unwrap();
        assert!(next.starts_with(&format!("/watch/{c}?")) && next.ends_with("&shuffle=1"), "{next}");
    }
    // The whole library shuffled never offers the same video next.
    for _ in 0..5 {
        let next = next_of(&page(format!("/watch/{d}?shuffle=1")).await).unwrap();
        assert!(!next.starts_with(&format!("/watch/{d}")), "{next}");
    }

    // Cards carry their listing; the plain library's do not.
    let tagged = page("/tag/odd".into()).await;
    assert!(tagged.contains(&format!(r#"href="/watch/{a}?sort=added&amp;order=desc&amp;tag=odd""#)), "{tagged}");
    assert!(page("/".into()).await.contains(&format!(r#"href="/watch/{a}""#)));

    // A query that names no valid listing: the page still opens.
    for bad in ["min_rating=9", "sort=nonsense", "tag=%FF%FE", "q=", "page=-1"] {
        assert_eq!(srv.get(&format!("/watch/{a}?{bad}")).await.status(), 200, "{bad}");
    }
}
