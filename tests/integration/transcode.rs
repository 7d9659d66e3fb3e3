//! Video browsers cannot decode, transcoded as it plays
//! (`/transcode/{id}.mp4`): from any second, bounded per viewer and in
//! all, stopped when abandoned, the encoders shown to the admin; the page
//! says what would make it play without ffmpeg; Chromium plays and seeks
//! an MPEG-2 file.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{eventually, ffmpeg, Fixture, Options, TestServer};

/// An MPEG-2 film of `seconds` with sound; `noisy` makes it costly enough
/// to encode that a transcode's output outgrows the pipes.
fn mpeg2(dir: &Path, name: &str, seconds: u32, noisy: bool) {
    // The tone tells files of one length apart (the same bytes are one video).
    let tone = 200 + name.len() * 40;
    let picture = if noisy {
        format!("testsrc2=size=640x360:rate=25:duration={seconds},noise=alls=60:allf=t")
    } else {
        format!("testsrc2=size=320x240:rate=25:duration={seconds}")
    };
    let sound = format!("sine=frequency={tone}:duration={seconds}");
    ffmpeg(
        &dir.join(name),
        &["-f", "lavfi", "-i", &picture, "-f", "lavfi", "-i", &sound, "-c:v", "mpeg2video", "-q:v", "2", "-c:a", "mp2"],
    );
}

fn have_ffmpeg() -> bool {
    Command::new("ffmpeg").arg("-version").output().is_ok()
}

/// Whether a browser test that transcodes can run here (else it says why).
fn chromium_and_ffmpeg() -> bool {
    if crate::driver::skipped() {
        return false;
    }
    if !have_ffmpeg() {
        crate::support::skip("ffmpeg is needed to transcode");
        return false;
    }
    true
}

/// Codec names and the duration (seconds) of a file, by ffprobe.
fn probed(file: &Path) -> (Vec<String>, f64) {
    let codecs = crate::remux::codecs(file);
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe");
    let secs = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0.0);
    (codecs, secs)
}

async fn running(srv: &TestServer) -> u64 {
    srv.json("/admin/cache/status").await["transcoding"]["running"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcodes_from_any_second_within_its_bounds() {
    if !have_ffmpeg() {
        return crate::support::skip("ffmpeg is needed to transcode");
    }
    let fx = Fixture::new();
    mpeg2(fx.path(), "tv.mpg", 10, false);
    mpeg2(fx.path(), "long one.mpg", 60, true);
    mpeg2(fx.path(), "other one.mpg", 60, true);
    let data = tempfile::tempdir().unwrap();
    let opts = Options {
        max_transcodes: 1,
        transcode_encoder: vidserve::cli::TranscodeEncoder::Auto,
        ..Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let id = srv.id_of("tv.mpg").await;

    // The page starts with the transcode and says so.
    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!("data-transcode=\"/transcode/{id}.mp4\"")), "{page}");
    assert!(page.contains("data-must-transcode=\"1\"") && page.contains("it is transcoded to H.264 as it plays"));
    assert!(!page.contains(&format!("src=\"/video/{id}\"")), "no stored bytes the browser cannot decode");

    // Every encoder tried once, software last; the admin sees which is used.
    let status = eventually_status(&srv).await;
    let tried = status["encoders"]["tried"].as_array().unwrap();
    let names: Vec<&str> = tried.iter().map(|t| t["encoder"].as_str().unwrap()).collect();
    assert_eq!(names, ["vaapi", "qsv", "nvenc", "v4l2m2m", "software"]);
    let first_working = tried.iter().find(|t| t["works"] == json!(true)).map(|t| t["encoder"].clone());
    assert_eq!(status["encoders"]["chosen"], first_working.unwrap_or(json!(null)));
    assert!(tried.iter().all(|t| t["works"] == json!(true) || t["why"].is_string()), "{tried:?}");
    let admin = srv.get("/admin").await.text().await.unwrap();
    assert!(admin.contains("Transcoding") && admin.contains("--max-transcodes"), "{admin}");

    // HEAD starts nothing.
    let head = srv.client.head(srv.url(&format!("/transcode/{id}.mp4?t=4"))).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "video/mp4");
    assert_eq!(running(&srv).await, 0);

    // From the 4th second: H.264 and AAC, the 6 seconds left.
    let started = Instant::now();
    let res = srv.get(&format!("/transcode/{id}.mp4?t=4")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-vidserve-start"], "4.000");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.bytes().await.unwrap();
    eprintln!("10 s of MPEG-2 from 4 s: {} bytes in {:?}", body.len(), started.elapsed());
    assert_eq!(&body[4..8], b"ftyp");
    let out = data.path().join("out.mp4");
    std::fs::write(&out, &body).unwrap();
    let (codecs, secs) = probed(&out);
    assert_eq!(codecs, ["h264", "aac"]);
    assert!((5.5..=6.5).contains(&secs), "{secs} s");

    // Bad requests are refused before any work.
    for bad in ["t=-1", "t=abc", "height=5", "audio=99", "t=11"] {
        let res = srv.get(&format!("/transcode/{id}.mp4?{bad}")).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    assert_eq!(srv.get("/transcode/00000000000000ff.mp4").await.status(), 404);

    // One at a time here (--max-transcodes 1): a second film waits, then is
    // refused; the same viewer's seek in the first film replaces it.
    let long = srv.id_of("long one.mpg").await;
    let other = srv.id_of("other one.mpg").await;
    let mut first = srv.get(&format!("/transcode/{long}.mp4?t=0")).await;
    assert_eq!(first.status(), 200);
    first.chunk().await.unwrap().expect("a first chunk");
    eventually(Duration::from_secs(10), "the first holds the slot", || async { running(&srv).await == 1 }).await;
    let busy = srv.get_with(&format!("/transcode/{other}.mp4?t=0"), &[("accept", "application/json")]).await;
    assert_eq!(busy.status(), 503);
    let said: serde_json::Value = busy.json().await.unwrap();
    assert!(said["error"]["message"].as_str().unwrap().contains("--max-transcodes"), "{said}");
    let mut seek = srv.get(&format!("/transcode/{long}.mp4?t=30")).await;
    assert_eq!(seek.status(), 200, "the seek takes the slot of the stream it replaces");
    // The replaced stream ends soon, far short of the film.
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        let mut got = 0;
        while let Ok(Some(c)) = first.chunk().await {
            got += c.len();
        }
        got
    })
    .await
    .expect("the replaced stream ends");
    assert!(ended < 4 << 20, "{ended} more bytes");
    seek.chunk().await.unwrap().expect("the seek's stream");

    // A viewer who goes away frees the slot within seconds.
    drop(seek);
    eventually(Duration::from_secs(10), "an abandoned transcode stops", || async { running(&srv).await == 0 }).await;
    assert_eq!(srv.get(&format!("/transcode/{other}.mp4?t=0")).await.status(), 200);
}

/// Waits for the encoders' probe to end and returns the status.
async fn eventually_status(srv: &TestServer) -> serde_json::Value {
    let mut status = json!(null);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        status = srv.json("/admin/cache/status").await["transcoding"].clone();
        if !status["encoders"].is_null() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the encoders were not tried within a minute: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ffmpeg_the_page_says_what_would_make_it_play() {
    if !have_ffmpeg() {
        return crate::support::skip("ffmpeg is needed to make the file");
    }
    let fx = Fixture::new();
    mpeg2(fx.path(), "tv.mpg", 3, false);
    let data = tempfile::tempdir().unwrap();
    let opts = Options { ffmpeg: Some(data.path().join("no-ffmpeg")), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let id = srv.id_of("tv.mpg").await;
    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(page.contains("Install ffmpeg on the server"), "{page}");
    assert!(!page.contains("data-transcode"), "nothing to switch to");
    let res = srv.get(&format!("/transcode/{id}.mp4")).await;
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("install ffmpeg"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_plays_and_seeks_a_transcoded_film() {
    if !chromium_and_ffmpeg() {
        return;
    }
    let fx = Fixture::new();
    mpeg2(fx.path(), "tv.mpg", 20, false);
    ffmpeg(
        &fx.path().join("hevc.mp4"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=8",
            "-c:v",
            "libx265",
            "-pix_fmt",
            "yuv420p",
            "-tag:v",
            "hvc1",
            "-x265-params",
            "log-level=error",
        ],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("tv.mpg").await;
    let driver = crate::driver::Driver::start().await;
    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    // The whole film on the seek bar, played from a Media Source.
    crate::browser::plays_and_seeks(&driver, 20.0).await;
    let src = driver.js("return document.getElementById('player').currentSrc").await;
    assert!(src.as_str().unwrap().starts_with("blob:"), "{src}");
    let note = driver.js("return document.getElementById('codec-note').hidden").await;
    assert_eq!(note, json!(true), "no complaint");
    // The player's menu offers sizes (up to the film's own 240 lines); another
    // size is another stream, from where it is.
    // (Playing, the controls may have faded: a movement first, as a person's.)
    driver.hover("#player", 0, 0).await;
    driver.click("#c-settings").await;
    let menu = driver.js("return [...document.querySelectorAll('#c-menu button')].map(b => b.textContent)").await;
    let menu: Vec<&str> = menu.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(menu.contains(&"Auto") && menu.contains(&"240p") && !menu.contains(&"360p"), "{menu:?}");
    driver
        .js("[...document.querySelectorAll('#c-menu button')].find(b => b.textContent === '240p').click(); return 0")
        .await;
    eventually(Duration::from_secs(30), "a stream of 240 lines asked for", || async {
        driver
            .js("return performance.getEntriesByType('resource').some(r => r.name.includes('/transcode/') && r.name.includes('height=240'))")
            .await
            == json!(true)
    })
    .await;
    assert_eq!(driver.js("return document.getElementById('player').error").await, json!(null));
    driver.keys("\u{E00C}").await;
    // A seek near the end plays to the end, and the player says it ended.
    driver.js("const p = document.getElementById('player'); p.currentTime = p.duration - 2; p.play(); return 0").await;
    eventually(Duration::from_secs(30), "the film ends", || async {
        driver.js("return document.getElementById('player').ended").await == json!(true)
    })
    .await;

    // HEVC: played as stored where the browser decodes it, else switched
    // to the transcode by the page, and said so.
    let hevc = srv.id_of("hevc.mp4").await;
    driver.goto(&srv.url(&format!("/watch/{hevc}"))).await;
    let decodes = driver
        .js("return document.getElementById('player').canPlayType('video/mp4; codecs=\"hvc1.1.6.L93.B0\"') !== ''")
        .await;
    crate::browser::plays_and_seeks(&driver, 8.0).await;
    let src = driver.js("return document.getElementById('player').currentSrc").await;
    let note = driver.js("return document.getElementById('codec-note').textContent").await;
    eprintln!("HEVC in this Chromium: {}", if decodes == json!(true) { "decoded" } else { "transcoded" });
    if decodes == json!(true) {
        assert!(src.as_str().unwrap().ends_with(&format!("/video/{hevc}")), "{src}");
    } else {
        assert!(src.as_str().unwrap().starts_with("blob:"), "{src}");
        assert!(note.as_str().unwrap().contains("transcoded to H.264"), "{note}");
    }
}

/// The first video packet's time in `file` (seconds), by ffprobe.
fn first_picture_at(file: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0"])
        .args(["-read_intervals", "%+#1"])
        .arg(file)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout).lines().next().and_then(|l| l.trim().parse().ok()).unwrap_or(-1.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_film_not_yet_planned_starts_by_a_stream_copy() {
    if crate::driver::skipped() {
        return;
    }
    if !have_ffmpeg() {
        return crate::support::skip("ffmpeg is needed to copy the stream");
    }
    let fx = Fixture::new();
    // H.264 with B-frames and a key frame a second, Opus sound: remuxed.
    ffmpeg(
        &fx.path().join("Film.mkv"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=120",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=120",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "2",
            "-g",
            "25",
            "-c:a",
            "libopus",
        ],
    );
    fx.mp4("plain.mp4", 1000, 2100);
    let data = tempfile::tempdir().unwrap();
    // Nothing read in the background: the film is not planned until played.
    let opts = Options { background_reads: false, ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let id = srv.id_of("Film.mkv").await;
    let plain = srv.id_of("plain.mp4").await;
    let kept = data.path().join("plans").join(format!("{id}-0.plan"));
    assert!(!kept.exists(), "no background read");

    // In Chromium: the page starts with the copy, the whole film on the bar.
    let driver = crate::driver::Driver::start().await;
    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    let copy = driver.js("return document.getElementById('player').dataset.copy || ''").await;
    assert_eq!(copy, json!("1"), "the page plays the stream copy");
    let player = "const p = document.getElementById('player');";
    eventually(Duration::from_secs(20), "playback advances", || async {
        driver.js(&format!("{player} if (p.paused) p.play(); return p.currentTime")).await.as_f64().unwrap_or(0.0) > 0.5
    })
    .await;
    let duration = driver.js(&format!("{player} return p.duration")).await.as_f64().unwrap();
    assert!((119.5..120.5).contains(&duration), "{duration}");
    // Past what is loaded (a minute ahead): a stream from there, its
    // pictures from the key frame at 100 s placed at 100 s.
    driver.js(&format!("{player} p.currentTime = 100.5; return 0")).await;
    eventually(Duration::from_secs(20), "the seek lands and plays on", || async {
        let state = driver.js(&format!("{player} return [p.seeking, p.currentTime]")).await;
        state[0] == false && state[1].as_f64().unwrap_or(0.0) > 101.0
    })
    .await;
    let held = driver
        .js(&format!(
            "{player} const b = p.buffered; for (let i = 0; i < b.length; i++) \
             if (b.start(i) <= p.currentTime && p.currentTime < b.end(i)) return b.start(i); return -1"
        ))
        .await;
    let held = held.as_f64().unwrap();
    assert!((99.9..=100.6).contains(&held), "the stretch played starts at {held} s");
    assert_eq!(driver.js(&format!("{player} return p.error")).await, json!(null));
    let src = driver.js("return document.getElementById('player').currentSrc").await;
    assert!(src.as_str().unwrap().starts_with("blob:"), "{src}");
    let asked = driver
        .js("return performance.getEntriesByType('resource').map(r => r.name).filter(n => n.includes('/transcode/'))")
        .await;
    let asked: Vec<&str> = asked.as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(!asked.is_empty() && asked.iter().all(|n| n.contains("copy=1") && !n.contains("height=")), "{asked:?}");
    assert_eq!(driver.js("return document.getElementById('codec-note').hidden").await, json!(true));
    // No sizes to choose: the picture is the film's own.
    driver.hover("#player", 0, 0).await;
    driver.click("#c-settings").await;
    let menu = driver.js("return [...document.querySelectorAll('#c-menu button')].map(b => b.textContent)").await;
    assert!(!menu.as_array().unwrap().iter().any(|b| b == "Auto"), "{menu}");
    drop(driver);

    // The stream from 5.5 s: the picture as stored from the key frame
    // before, at the film's own times; the sound AAC.
    let res = srv.get(&format!("/transcode/{id}.mp4?t=5.5&copy=1")).await;
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.unwrap();
    let out = data.path().join("copy.mp4");
    std::fs::write(&out, &body).unwrap();
    let (codecs, _) = probed(&out);
    assert_eq!(codecs, ["h264", "aac"]);
    let first = first_picture_at(&out);
    assert!((4.9..=5.6).contains(&first), "first picture at {first} s");
    // Only a remuxed video is copied; bad asks are refused before any work.
    let refused = srv.get(&format!("/transcode/{plain}.mp4?copy=1")).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains(&format!("/video/{plain}")));
    assert_eq!(srv.get(&format!("/transcode/{id}.mp4?t=125&copy=1")).await.status(), 400);

    // Played once, it is read next (even with no background reads), and
    // the page then plays the remux with ranges.
    eventually(Duration::from_secs(30), "the film's tables kept", || async { kept.exists() }).await;
    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!("src=\"/play/{id}.mp4\"")) && !page.contains("data-copy"), "{page}");
}

/// The video packets' times (seconds) in a transport stream, by ffprobe.
fn picture_times(file: &Path) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe");
    let said = String::from_utf8_lossy(&out.stdout);
    let mut times: Vec<f64> = said.lines().filter_map(|l| l.trim().trim_end_matches(',').parse().ok()).collect();
    times.sort_by(f64::total_cmp);
    times
}

/// The mean PSNR (dB) of `a`'s pictures against `b`'s, each from its
/// first, by ffmpeg.
fn psnr(a: &Path, b: &Path) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-v", "info", "-nostdin", "-i"])
        .arg(a)
        .arg("-i")
        .arg(b)
        .args(["-lavfi", "[0:v]setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS,scale=320:240[b];[a][b]psnr"])
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg");
    let said = String::from_utf8_lossy(&out.stderr);
    let mean = said.split("average:").nth(1).and_then(|s| s.split_whitespace().next()).and_then(|s| s.parse().ok());
    mean.unwrap_or_else(|| panic!("no PSNR in: {said}"))
}

/// The server's folders of HLS segments of video `id` (named `{id}-{n}`
/// in its data dir), each with its segments' names.
fn segment_folders(data: &Path, id: &str) -> Vec<Vec<String>> {
    let Ok(dirs) = std::fs::read_dir(data.join("segments")) else { return Vec::new() };
    let mut found = Vec::new();
    for dir in dirs.filter_map(|d| d.ok()) {
        if !dir.file_name().to_string_lossy().starts_with(&format!("{id}-")) {
            continue;
        }
        let Ok(files) = std::fs::read_dir(dir.path()) else { continue };
        let mut names: Vec<String> = files
            .filter_map(|f| f.ok())
            .map(|f| f.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".ts"))
            .collect();
        names.sort();
        found.push(names);
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hls_for_players_without_media_source() {
    if !have_ffmpeg() {
        return crate::support::skip("ffmpeg is needed to transcode");
    }
    let fx = Fixture::new();
    mpeg2(fx.path(), "film.mpg", 40, false);
    mpeg2(fx.path(), "other.mpg", 60, false);
    let data = tempfile::tempdir().unwrap();
    let opts = Options { max_transcodes: 1, ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let id = srv.id_of("film.mpg").await;

    // The playlist: the whole film in segments of 6 s, known at once.
    let res = srv.get(&format!("/transcode/{id}.m3u8?height=240")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/vnd.apple.mpegurl");
    let list = res.text().await.unwrap();
    let segments: Vec<&str> = list.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(segments.len(), 7, "{list}");
    assert_eq!(segments[3], format!("{id}/3.ts?height=240"));
    // The last is what is left of the film's length (39.96 s, as probed).
    let end = format!(",\n{id}/6.ts?height=240\n#EXT-X-ENDLIST\n");
    assert!(list.contains("#EXT-X-PLAYLIST-TYPE:VOD") && list.ends_with(&end), "{list}");
    assert_eq!(running(&srv).await, 0, "a playlist starts nothing");

    // Bad requests are refused before any work.
    let segment = |n: &str, q: &str| format!("/transcode/{id}/{n}.ts{q}");
    assert_eq!(srv.get(&segment("7", "")).await.status(), 404, "past the end");
    assert_eq!(srv.get(&segment("x", "")).await.status(), 404);
    assert_eq!(srv.get(&segment("99999999999", "")).await.status(), 404);
    assert_eq!(srv.get(&segment("1", "?height=5")).await.status(), 400);
    assert_eq!(srv.get(&format!("/transcode/{id}.m3u8?audio=99")).await.status(), 400);
    assert_eq!(srv.get("/transcode/00000000000000ff.m3u8").await.status(), 404);
    let head = srv.client.head(srv.url(&segment("2", ""))).send().await.unwrap();
    assert_eq!((head.status().as_u16(), &head.headers()["content-type"]), (200, &"video/mp2t".parse().unwrap()));
    assert_eq!(running(&srv).await, 0, "refused and HEAD requests start nothing");

    // A player that seeks before it plays asks for segment 3 first: made
    // from there (a run from 18 s), then the next from the same run.
    let fetch = |n: u32| {
        let srv = &srv;
        let url = segment(&n.to_string(), "");
        async move {
            let started = Instant::now();
            let res = srv.get(&url).await;
            assert_eq!(res.status(), 200, "segment {n}: {:?}", res.text().await);
            assert_eq!(res.headers()["content-type"], "video/mp2t");
            let bytes = res.bytes().await.unwrap();
            eprintln!("segment {n}: {} bytes in {:?}", bytes.len(), started.elapsed());
            bytes
        }
    };
    let mut got = std::collections::BTreeMap::new();
    for n in [3, 4] {
        got.insert(n, fetch(n).await);
    }
    let third = data.path().join("3.ts");
    std::fs::write(&third, &got[&3]).unwrap();
    let times = picture_times(&third);
    // The film's own times, plus 10 s (never negative) and the transport
    // stream's 1.4 s: the pictures from 18 s to 24 s (this format's seek
    // lands 0.24 s late: those stay at their own times).
    assert!((29.4..29.7).contains(&times[0]), "segment 3 starts at {}", times[0]);
    assert!((35.3..35.4).contains(times.last().unwrap()), "segment 3 ends at {:?}", times.last());
    let codecs = crate::remux::codecs(&third);
    assert!(codecs.contains(&"h264".to_string()) && codecs.contains(&"aac".to_string()), "{codecs:?}");

    // A seek back, before what that run made: a new run from there, the
    // old one stopped and its folder gone. Its segments fit the others.
    for n in [0, 1, 2, 5, 6] {
        got.insert(n, fetch(n).await);
    }
    eventually(Duration::from_secs(10), "one folder of the film's segments left", || async {
        segment_folders(data.path(), &id).len() == 1
    })
    .await;
    let whole = data.path().join("whole.ts");
    std::fs::write(&whole, got.values().flat_map(|b| b.iter().copied()).collect::<Vec<u8>>()).unwrap();
    let times = picture_times(&whole);
    // Every picture once, in order, 40 ms apart; only where a run began
    // after a seek (segment 3) a few may be missing.
    for pair in times.windows(2) {
        let step = pair[1] - pair[0];
        let ok = (step - 0.04).abs() < 0.002 || (pair[0] < 29.4 && pair[1] < 29.7 && step < 0.4);
        assert!(ok, "pictures 40 ms apart: {pair:?}");
    }
    assert!(times.len() > 40 * 25 - 10, "{} pictures", times.len());
    let same = psnr(&whole, &fx.path().join("film.mpg"));
    assert!(same > 30.0, "the pictures are the film's, at its times: PSNR {same} dB");

    // ffmpeg pauses a few segments ahead of the newest asked for (a 60 s
    // film at 240 lines is made in a few seconds otherwise).
    let other = srv.id_of("other.mpg").await;
    let res = srv.get(&format!("/transcode/{other}/0.ts")).await;
    assert_eq!(res.status(), 200, "the seek's run gave its slot to the other film");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let folders = segment_folders(data.path(), &other);
    assert_eq!(folders.len(), 1, "{folders:?}");
    assert!(folders[0].len() <= 6, "at most 4 past the one asked for, and one begun: {folders:?}");
    assert_eq!(running(&srv).await, 1);
    // The slot is held (--max-transcodes 1): a stream of the first film waits,
    // then is refused; the same viewer's stream of the other film replaces it.
    let busy = srv.get_with(&format!("/transcode/{id}.mp4"), &[("accept", "application/json")]).await;
    assert_eq!(busy.status(), 503);
    let mut stream = srv.get(&format!("/transcode/{other}.mp4?t=3")).await;
    assert_eq!(stream.status(), 200);
    stream.chunk().await.unwrap().expect("the stream's first bytes");
    eventually(Duration::from_secs(10), "the replaced run's folder goes", || async {
        segment_folders(data.path(), &other).is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_without_media_source_plays_the_hls() {
    if !chromium_and_ffmpeg() {
        return;
    }
    let fx = Fixture::new();
    mpeg2(fx.path(), "tv.mpg", 20, false);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("tv.mpg").await;
    let driver = crate::driver::Driver::start().await;
    // A browser as an iPhone before iOS 17.1 is: no Media Source, HLS
    // played by the browser itself (this Chromium plays HLS too).
    let hls = driver.js("return document.createElement('video').canPlayType('application/vnd.apple.mpegurl')").await;
    if hls == json!("") {
        return crate::support::skip("this Chromium does not play HLS itself");
    }
    let hide = "delete window.MediaSource; delete window.ManagedMediaSource;";
    driver
        .call(
            "POST",
            "/goog/cdp/execute",
            json!({ "cmd": "Page.addScriptToEvaluateOnNewDocument", "params": { "source": hide } }),
        )
        .await;
    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    assert_eq!(driver.js("return typeof MediaSource").await, json!("undefined"));
    crate::browser::plays_and_seeks(&driver, 20.0).await;
    // Asked for by a signed link (a phone's own player may not send the
    // page's cookie), which its segments carry on.
    let src = driver.js("return document.getElementById('player').currentSrc").await;
    let src = src.as_str().unwrap();
    assert!(src.contains(&format!("/transcode/{id}.m3u8?expires=")) && src.contains("&sig="), "{src}");
    // Another size is the playlist again, from where it was.
    driver.hover("#player", 0, 0).await;
    driver.click("#c-settings").await;
    let at = driver.js("return document.getElementById('player').currentTime").await.as_f64().unwrap();
    driver
        .js("[...document.querySelectorAll('#c-menu button')].find(b => b.textContent === '240p').click(); return 0")
        .await;
    eventually(Duration::from_secs(30), "the 240-line playlist plays on from where it was", || async {
        let state =
            driver.js("const p = document.getElementById('player'); return [p.currentSrc, p.currentTime]").await;
        state[0].as_str().unwrap_or("").contains(".m3u8?height=240&expires=") && state[1].as_f64().unwrap_or(0.0) > at
    })
    .await;
    assert_eq!(driver.js("return document.getElementById('player').error").await, json!(null));
}
