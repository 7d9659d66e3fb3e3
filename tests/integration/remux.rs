//! Matroska remuxed to fragmented MP4 on the fly: the same packets (ffprobe
//! and packet hashes), any byte range equal to the same bytes of a full
//! fetch, the chosen audio track, validators; files that play as stored or
//! cannot be remuxed are answered clearly; Chromium plays and seeks it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{ffmpeg, Fixture, TestServer};

/// Per-packet hashes of one stream (`v`, `a:0`…), copied as stored.
fn packets(file: &Path, stream: &str) -> Vec<String> {
    framemd5(file, stream, true)
}

/// Per-frame hashes of one stream (`v`, `a:0`…): of its packets as
/// stored (`copy`), or of its frames decoded.
pub fn framemd5(file: &Path, stream: &str, copy: bool) -> Vec<String> {
    let copying: &[&str] = if copy { &["-c", "copy"] } else { &[] };
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(["-map", &format!("0:{stream}")])
        .args(copying)
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        // stream, dts, pts, duration, size, hash (then side data, if any).
        .filter_map(|l| l.split(',').nth(5).map(|h| h.trim().to_string()))
        .collect()
}

/// Codec names, one per stream.
pub fn codecs(file: &Path) -> Vec<String> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matroska_plays_as_the_same_packets_in_mp4() {
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    // H.264 with B-frames, two AAC tracks, subtitles and chapters.
    crate::inside::make(&fx.path().join("Film.mkv"), aux.path(), &["srt"]);
    fx.mp4("plain.mp4", 1000, 2100);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("Film.mkv").await;
    let v = srv.json(&format!("/api/v1/videos/{id}")).await;
    assert_eq!(v["play_url"], json!(format!("/play/{id}.mp4")), "{v}");
    assert_eq!(v["stream_url"], json!(format!("/video/{id}")));
    let plain = srv.id_of("plain.mp4").await;
    assert_eq!(srv.json(&format!("/api/v1/videos/{plain}")).await["play_url"], json!(format!("/video/{plain}")));

    let url = format!("/play/{id}.mp4");
    let res = srv.get(&url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "video/mp4");
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let len: usize = res.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let full = res.bytes().await.unwrap().to_vec();
    assert_eq!(full.len(), len);
    let out = aux.path().join("out.mp4");
    std::fs::write(&out, &full).unwrap();
    let source = fx.path().join("Film.mkv");
    assert_eq!(codecs(&out), ["h264", "aac"]);
    assert_eq!(packets(&out, "v"), packets(&source, "v"), "the same video packets");
    assert_eq!(packets(&out, "a"), packets(&source, "a:0"), "the same audio packets");

    // Any range is the same bytes as in the whole.
    let mut rng = fastrand::Rng::with_seed(7);
    let mut ranges: Vec<(usize, usize)> = (0..12)
        .map(|_| {
            let a = rng.usize(..len);
            (a, rng.usize(a..len.min(a + 40_000)))
        })
        .collect();
    ranges.extend([(0, 0), (0, 99), (len - 1, len - 1), (100, len - 1)]);
    for (a, b) in ranges {
        let res = srv.get_with(&url, &[("range", &format!("bytes={a}-{b}"))]).await;
        assert_eq!(res.status(), 206, "{a}-{b}");
        assert_eq!(res.headers()["content-range"].to_str().unwrap(), format!("bytes {a}-{b}/{len}"));
        assert_eq!(res.bytes().await.unwrap().as_ref(), &full[a..=b], "bytes {a}-{b}");
    }
    let tail = srv.get_with(&url, &[("range", "bytes=-500")]).await;
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &full[len - 500..]);
    assert_eq!(srv.get_with(&url, &[("range", &format!("bytes={len}-"))]).await.status(), 416);
    // Validators: unchanged is 304; a stale If-Range gets the whole.
    assert_eq!(srv.get_with(&url, &[("if-none-match", &etag)]).await.status(), 304);
    let stale = srv.get_with(&url, &[("range", "bytes=0-9"), ("if-range", "\"other\"")]).await;
    assert_eq!(stale.status(), 200);
    // The same rules as `/video` (`http::conditional`): lists, If-Match,
    // a weak If-Range never matches, If-Range is no list.
    assert_eq!(srv.get_with(&url, &[("if-none-match", &format!("\"x\", W/{etag}"))]).await.status(), 304);
    assert_eq!(srv.get_with(&url, &[("if-match", "\"other\"")]).await.status(), 412);
    assert_eq!(srv.get_with(&url, &[("if-match", &etag), ("range", "bytes=0-9")]).await.status(), 206);
    let weak = srv.get_with(&url, &[("range", "bytes=0-9"), ("if-range", &format!("W/{etag}"))]).await;
    assert_eq!(weak.status(), 200);
    assert_eq!(srv.get_with(&url, &[("range", "bytes=0-9"), ("if-range", "*")]).await.status(), 200);
    let head = srv.client.head(srv.url(&url)).send().await.unwrap();
    assert_eq!(head.headers()["content-length"].to_str().unwrap(), len.to_string());

    // The second audio track instead of the first.
    let other = srv.get(&format!("{url}?audio=1")).await.bytes().await.unwrap();
    let out2 = aux.path().join("out2.mp4");
    std::fs::write(&out2, &other).unwrap();
    assert_eq!(packets(&out2, "a"), packets(&source, "a:1"));
    assert_ne!(packets(&out2, "a"), packets(&out, "a"));

    // From a time (`t=SECONDS`, as a TV is sent): the init segment, then
    // the fragments from there, each as in the whole stream.
    let whole = srv.get(&url).await.bytes().await.unwrap();
    let later = srv.get(&format!("{url}?t=1.5")).await;
    assert_eq!(later.status(), 200);
    // (One key frame: the one fragment holds every time; the DLNA test
    // seeks into a film of several.)
    assert!(later.headers()["timeseekrange.dlna.org"].to_str().unwrap().starts_with("npt=0."), "{:?}", later.headers());
    assert!(later.headers().get("etag").is_none());
    let later = later.bytes().await.unwrap();
    assert!(later.len() <= whole.len() && whole.ends_with(&later[later.len() - 1000..]), "the same tail");
    for bad in ["?t=soon", "?t=-1", "?t=NaN", "?t=1e99"] {
        assert_eq!(srv.get(&format!("{url}{bad}")).await.status(), 400, "{bad}");
    }
    assert_eq!(srv.get(&format!("{url}?t=99999")).await.status(), 416);

    // What plays as stored, or is no video here, is not remuxed.
    assert_eq!(srv.get(&format!("/play/{plain}.mp4")).await.status(), 404);
    assert_eq!(srv.get("/play/0123456789abcdef.mp4").await.status(), 404);
    assert_eq!(srv.get(&format!("/play/{id}.mkv")).await.status(), 404);
    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!(r#"src="/play/{id}.mp4""#)), "{page}");
}

/// An MP4 whose index follows its media (ffmpeg's default) comes out with
/// the index first; one made with faststart plays as stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mp4_with_its_index_at_the_end_starts_at_once() {
    let fx = Fixture::new();
    let src = ["-f", "lavfi", "-i", "testsrc=duration=3:size=160x120:rate=25", "-f", "lavfi", "-i", "sine=f=440:d=3"];
    let codecs_args = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"];
    ffmpeg(&fx.path().join("late.mp4"), &[&src[..], &codecs_args[..]].concat());
    ffmpeg(&fx.path().join("fast.mp4"), &[&src[..], &codecs_args[..], &["-movflags", "+faststart"]].concat());
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let (late, fast) = (srv.id_of("late.mp4").await, srv.id_of("fast.mp4").await);
    assert_eq!(srv.json(&format!("/api/v1/videos/{late}")).await["play_url"], json!(format!("/play/{late}.mp4")));
    assert_eq!(srv.json(&format!("/api/v1/videos/{fast}")).await["play_url"], json!(format!("/video/{fast}")));
    let out = fx.path().join("out.bin");
    std::fs::write(&out, srv.get(&format!("/play/{late}.mp4")).await.bytes().await.unwrap()).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let at = |kind: &[u8]| bytes.windows(4).position(|w| w == kind).unwrap();
    assert!(at(b"moov") < at(b"mdat"), "the index comes first");
    let source = fx.path().join("late.mp4");
    assert_eq!(packets(&out, "v"), packets(&source, "v"));
    assert_eq!(packets(&out, "a"), packets(&source, "a"));
}

/// WebM for browsers that cannot open it (Safari, iOS): the page offers a
/// remux of the same VP9 and Opus packets, and switches to it only where
/// `canPlayType` says no.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webm_has_an_mp4_for_browsers_without_webm() {
    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("clip.webm"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=3:size=160x120:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=3",
            "-c:v",
            "libvpx-vp9",
            "-pix_fmt",
            "yuv420p",
            "-b:v",
            "200k",
            "-c:a",
            "libopus",
        ],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("clip.webm").await;
    assert_eq!(srv.json(&format!("/api/v1/videos/{id}")).await["play_url"], json!(format!("/video/{id}")));
    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!(r#"data-alternative="/play/{id}.mp4""#)), "{page}");
    let out = fx.path().join("out.bin");
    std::fs::write(&out, srv.get(&format!("/play/{id}.mp4")).await.bytes().await.unwrap()).unwrap();
    assert_eq!(codecs(&out), ["vp9", "opus"]);
    let source = fx.path().join("clip.webm");
    assert_eq!(packets(&out, "v"), packets(&source, "v"));
    assert_eq!(packets(&out, "a"), packets(&source, "a"));
    let probe = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries", "stream=profile,pix_fmt", "-of", "csv=p=0"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "Profile 0,yuv420p", "vpcC read from the keyframe");
}

/// Sound browsers cannot decode (AC-3): the picture plays at once, the
/// sound is remade as AAC by ffmpeg in the background, then comes in the
/// stream (the same video packets); without ffmpeg the page says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sound_browsers_cannot_decode_is_remade_with_ffmpeg() {
    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("ac3.mkv"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=4:size=160x120:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=4",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "ac3",
        ],
    );
    // ffmpeg from PATH.
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let id = srv.id_of("ac3.mkv").await;
    let url = format!("/play/{id}.mp4");
    let first = srv.get(&url).await;
    let said = first.headers()["x-vidserve-sound"].to_str().unwrap().to_string();
    assert!(said == "preparing" || said == "remade", "{said}");
    crate::support::eventually(std::time::Duration::from_secs(60), "the sound is remade", || async {
        srv.client.head(srv.url(&url)).send().await.unwrap().headers()["x-vidserve-sound"] == "remade"
    })
    .await;
    let out = fx.path().join("out.bin");
    std::fs::write(&out, srv.get(&url).await.bytes().await.unwrap()).unwrap();
    assert_eq!(codecs(&out), ["h264", "aac"]);
    assert_eq!(packets(&out, "v"), packets(&fx.path().join("ac3.mkv"), "v"));
    assert!(data.path().join("audio").read_dir().unwrap().count() == 1, "kept in the data dir");

    // Without ffmpeg: the picture alone, and the header says why.
    let data = tempfile::tempdir().unwrap();
    let opts = crate::support::Options {
        ffmpeg: Some("/no/such/ffmpeg".into()),
        ..crate::support::Options::new(data.path(), false)
    };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let res = srv.get(&url).await;
    assert_eq!(res.headers()["x-vidserve-sound"], "unavailable");
    std::fs::write(&out, res.bytes().await.unwrap()).unwrap();
    assert_eq!(codecs(&out), ["h264"]);
}

/// A damaged file: what can be read of it plays, or a clear refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_matroska_file_still_gets_an_answer() {
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    crate::inside::make(&aux.path().join("whole.mkv"), aux.path(), &[]);
    let whole = std::fs::read(aux.path().join("whole.mkv")).unwrap();
    fx.write("cut.mkv", &whole[..whole.len() * 2 / 3]);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("cut.mkv").await;
    let res = srv.get(&format!("/play/{id}.mp4")).await;
    let status = res.status().as_u16();
    assert!(status == 200 || status == 415, "{status}");
    if status == 200 {
        let out = aux.path().join("cut.mp4");
        std::fs::write(&out, res.bytes().await.unwrap()).unwrap();
        assert_eq!(codecs(&out)[0], "h264");
        assert!(!packets(&out, "v").is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_plays_and_seeks_a_remuxed_matroska_file() {
    if crate::driver::skipped() {
        return;
    }
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    let srt = aux.path().join("s.srt");
    std::fs::write(&srt, "1\n00:00:00,200 --> 00:00:07,000\nIn the Matroska file\n").unwrap();
    ffmpeg(
        &fx.path().join("clip.mkv"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=8:size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=f=440:d=8",
            "-i",
            srt.to_str().unwrap(),
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "25",
            "-c:a",
            "aac",
            "-c:s",
            "srt",
        ],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("clip.mkv").await;
    let driver = crate::driver::Driver::start().await;
    driver.goto(&srv.url(&format!("/watch/{id}"))).await;
    assert_eq!(
        driver.js("return document.getElementById('player').getAttribute('src')").await,
        json!(format!("/play/{id}.mp4"))
    );
    crate::browser::plays_and_seeks(&driver, 8.0).await;
    // Chromium decodes H.264: no word about codecs.
    assert_eq!(driver.js("return document.getElementById('codec-note').hidden").await, json!(true));
    // The subtitle track inside the Matroska file, chosen from the menu.
    let pick = "const m = document.getElementById('subtitle-choice'); m.value = '0'; \
                m.dispatchEvent(new Event('change')); return 0";
    driver.js(pick).await;
    crate::support::eventually(std::time::Duration::from_secs(20), "the Matroska subtitles show", || async {
        let t = "const t = document.getElementById('player').textTracks[0]; \
                 return [t.mode, t.cues && t.cues.length ? t.cues[0].text : '']";
        driver.js(t).await == json!(["showing", "In the Matroska file"])
    })
    .await;
}

/// A film is read whole once for its remux, in the background after the
/// scan: its sample tables are kept in the data dir, so its first play,
/// and any play after a restart, starts without reading it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_film_is_read_whole_once_in_the_background_and_not_after_a_restart() {
    use std::sync::atomic::Ordering::Relaxed;
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    crate::inside::make(&fx.path().join("Film.mkv"), aux.path(), &[]);
    let (srv, data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("Film.mkv").await;
    let url = format!("/play/{id}.mp4");
    let plans = srv.app.plans().clone();
    crate::support::eventually(Duration::from_secs(20), "the film's tables read after the scan", || async {
        plans.read_whole.load(Relaxed) == 1
    })
    .await;
    let first = srv.get(&url).await.bytes().await.unwrap();
    assert_eq!(
        (plans.read_whole.load(Relaxed), plans.found_kept.load(Relaxed)),
        (1, 1),
        "the first play read nothing whole"
    );
    srv.stop().await;

    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let seek = srv.get_with(&url, &[("range", "bytes=5000-5999")]).await;
    assert_eq!(seek.status(), 206);
    assert_eq!(seek.bytes().await.unwrap().as_ref(), &first[5000..6000]);
    assert_eq!(srv.get(&url).await.bytes().await.unwrap(), first, "the same output from the kept tables");
    let plans = srv.app.plans().clone();
    assert_eq!((plans.read_whole.load(Relaxed), plans.found_kept.load(Relaxed)), (0, 1), "not read again");
    // The film is written again (a new time): read again once, the old
    // tables left unused.
    let film = std::fs::File::options().write(true).open(fx.path().join("Film.mkv")).unwrap();
    film.set_modified(std::time::SystemTime::now() - Duration::from_secs(60)).unwrap();
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await, "the new time is seen");
    assert_eq!(srv.get(&url).await.status(), 200);
    crate::support::eventually(Duration::from_secs(20), "the changed film read once more", || async {
        plans.read_whole.load(Relaxed) == 1
    })
    .await;
    srv.stop().await;
}
