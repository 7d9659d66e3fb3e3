//! Thumbnails: from ffmpeg for every format, from images beside the files
//! without it; bad images and a hanging ffmpeg fail one item, not the queue.

use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

use crate::support::{eventually, ffmpeg, Fixture, Options, TestServer};
use serde_json::json;

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([20, 120, 200]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

/// A PNG whose header claims 100,000 x 100,000 pixels (a decompression bomb).
fn bomb() -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
            }
        }
        !c
    }
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut v = (data.len() as u32).to_be_bytes().to_vec();
        let body = [kind, data].concat();
        v.extend_from_slice(&body);
        v.extend_from_slice(&crc(&body).to_be_bytes());
        v
    };
    let mut ihdr = 100_000u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        chunk(b"IHDR", &ihdr),
        chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0, 0, 0, 0, 1]),
        chunk(b"IEND", &[]),
    ]
    .concat()
}

async fn thumb_width(srv: &TestServer, id: &str) -> Option<u32> {
    let res = srv.get(&format!("/thumb/{id}/320")).await;
    if res.status() != 200 {
        return None;
    }
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let img = image::load_from_memory(&res.bytes().await.unwrap()).expect("a real JPEG");
    Some(img.width())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ffmpeg_makes_a_thumbnail_for_every_format() {
    let fx = Fixture::new();
    let src = ["-f", "lavfi", "-i", "testsrc=duration=3:size=480x270:rate=25"];
    ffmpeg(&fx.path().join("a.mp4"), &[&src[..], &["-c:v", "libx264", "-pix_fmt", "yuv420p"]].concat());
    ffmpeg(&fx.path().join("b.webm"), &[&src[..], &["-c:v", "libvpx"]].concat());
    ffmpeg(&fx.path().join("c.mkv"), &[&src[..], &["-c:v", "libx264"]].concat());
    ffmpeg(&fx.path().join("d.ogv"), &[&src[..], &["-c:v", "libtheora"]].concat());
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    for name in ["a.mp4", "b.webm", "c.mkv", "d.ogv"] {
        let id = srv.id_of(name).await;
        eventually(Duration::from_secs(60), name, || async { thumb_width(&srv, &id).await == Some(320) }).await;
        let big = srv.get(&format!("/thumb/{id}/640")).await;
        assert_eq!(image::load_from_memory(&big.bytes().await.unwrap()).unwrap().width(), 480, "never enlarged");
        eventually(Duration::from_secs(60), "a preview strip", || async {
            srv.get(&format!("/sprite/{id}.jpg")).await.status() == 200
        })
        .await;
    }
    let page = srv.get("/").await.text().await.unwrap();
    assert!(page.contains("srcset=\"/thumb/"));
    let id = srv.id_of("a.mp4").await;
    assert!(srv.get(&format!("/watch/{id}")).await.text().await.unwrap().contains("poster=\"/thumb/"));
    let etag = srv.get(&format!("/thumb/{id}/320")).await.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(srv.get_with(&format!("/thumb/{id}/320"), &[("if-none-match", &etag)]).await.status(), 304);
    let listed = format!("\"other\", W/{etag}");
    assert_eq!(srv.get_with(&format!("/thumb/{id}/320"), &[("if-none-match", &listed)]).await.status(), 304);
    assert_eq!(srv.get(&format!("/thumb/{id}/999")).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ffmpeg_pictures_beside_the_files_are_used() {
    let fx = Fixture::new();
    fx.mp4("named.mp4", 1000, 800);
    fx.write("named.png", &png(1000, 500));
    fx.mp4("album/in folder.mp4", 1000, 801);
    fx.write("album/poster.jpg", &{
        let mut out = Vec::new();
        image::load_from_memory(&png(400, 300))
            .unwrap()
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .unwrap();
        out
    });
    // A folder of clips: its one picture is not every clip's.
    fx.mp4("clips/one.mp4", 1000, 805);
    fx.mp4("clips/two.mp4", 1000, 806);
    fx.write("clips/cover.jpg", &std::fs::read(fx.path().join("album/poster.jpg")).unwrap());
    fx.mp4("nothing.mp4", 1000, 802);
    fx.mp4("garbage.mp4", 1000, 803);
    fx.write("garbage.jpg", b"this is text, not a picture");
    fx.mp4("bomb.mp4", 1000, 804);
    fx.write("bomb.png", &bomb());
    let data = tempfile::tempdir().unwrap();
    let opts = Options { ffmpeg: Some("/no/such/ffmpeg".into()), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    for name in ["named.mp4", "album/in folder.mp4"] {
        let id = srv.id_of(name).await;
        eventually(Duration::from_secs(30), name, || async { thumb_width(&srv, &id).await == Some(320) }).await;
    }
    eventually(Duration::from_secs(30), "five failures reported", || async {
        let admin = srv.get("/admin").await.text().await.unwrap();
        admin.contains("5 failed")
    })
    .await;
    for name in ["clips/one.mp4", "clips/two.mp4"] {
        assert_eq!(thumb_width(&srv, &srv.id_of(name).await).await, None, "{name}: not the folder's picture");
    }
    let admin = srv.get("/admin").await.text().await.unwrap();
    assert!(admin.contains("no picture"), "the reason is shown");
    assert!(admin.contains("not a usable image"), "garbage and bombs are refused");
    for name in ["nothing.mp4", "garbage.mp4", "bomb.mp4"] {
        let id = srv.id_of(name).await;
        assert_eq!(srv.get(&format!("/thumb/{id}/320")).await.status(), 404, "{name}");
    }
    let page = srv.get("/?sort=title&order=asc").await.text().await.unwrap();
    assert!(page.contains("class=\"initial\""), "a placeholder, not a broken image");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_ffmpeg_is_stopped_and_the_queue_goes_on() {
    let fx = Fixture::new();
    fx.mp4("slow.mp4", 1000, 810);
    fx.mp4("pictured.mp4", 1000, 811);
    fx.write("pictured.png", &png(640, 360));
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("ffmpeg");
    // An ffmpeg that hangs: time is the condition here, as it must outlast
    // the 1 s --ffmpeg-timeout (the server kills it then; `exec`, so that
    // the kill ends the sleep and its pipes with it).
    std::fs::write(&fake, "#!/bin/sh\nexec sleep 60\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let opts =
        Options { ffmpeg: Some(fake), ffmpeg_timeout: Duration::from_secs(1), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let pictured = srv.id_of("pictured.mp4").await;
    eventually(Duration::from_secs(30), "the pictured video", || async {
        thumb_width(&srv, &pictured).await.is_some()
    })
    .await;
    eventually(Duration::from_secs(30), "the timeout is reported", || async {
        srv.get("/admin").await.text().await.unwrap().contains("did not finish within 1 s")
    })
    .await;
}

#[test]
fn thumbnails_command() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 820);
    fx.write("a.png", &png(320, 180));
    fx.mp4("b.mp4", 1000, 821);
    let data = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], code: i32| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vidserve"))
            .arg("thumbnails")
            .args(["--dir", fx.path().to_str().unwrap(), "--data", data.path().to_str().unwrap()])
            .args(["--ffmpeg", "/no/such/ffmpeg"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    // Exit 1 while any thumbnail could not be made (b has no picture).
    let first = run(&[], 1);
    assert!(first.contains("1 video with a thumbnail; 1 made now, 1 failed"), "{first}");
    assert!(first.contains("failed: b: no picture"), "{first}");
    assert!(Path::new(&data.path().join("thumbs")).read_dir().unwrap().count() >= 2);
    let again = run(&[], 1);
    assert!(again.contains("0 made now"), "only missing ones: {again}");
    let all = run(&["--regenerate"], 1);
    assert!(all.contains("1 made now"), "{all}");
    std::fs::remove_file(fx.path().join("b.mp4")).unwrap();
    let none_failed = run(&[], 0);
    assert!(none_failed.contains("0 failed"), "{none_failed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_frames_are_checked_and_stored() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 830);
    let data = tempfile::tempdir().unwrap();
    let opts = Options { ffmpeg: Some("/no/such/ffmpeg".into()), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let id = srv.id_of("a.mp4").await;
    let url = srv.url(&format!("/api/v1/videos/{id}/thumbnail"));
    let post = |body: Vec<u8>| srv.client.post(&url).header("content-type", "image/png").body(body).send();

    let res = post(b"GIF89a but not really".to_vec()).await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(post(bomb()).await.unwrap().status(), 400, "a decompression bomb is refused");
    let head = format!(
        "POST /api/v1/videos/{id}/thumbnail HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 9999999\r\n\r\n"
    );
    assert_eq!(crate::support::status_of(&srv.raw(head.as_bytes()).await), 413);
    let other = srv.client.post(srv.url("/api/v1/videos/0123456789abcdef/thumbnail")).body(png(10, 10));
    assert_eq!(other.send().await.unwrap().status(), 404);
    let cross = srv.client.post(&url).header("origin", "http://evil.example").body(png(10, 10));
    assert_eq!(cross.send().await.unwrap().status(), 403);
    assert_eq!(srv.get(&format!("/thumb/{id}/320")).await.status(), 404, "nothing stored so far");

    assert_eq!(post(png(800, 450)).await.unwrap().status(), 201);
    assert_eq!(thumb_width(&srv, &id).await, Some(320));
    let again: serde_json::Value = post(png(800, 450)).await.unwrap().json().await.unwrap();
    assert_eq!(again["stored"], false, "an existing thumbnail is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cover_art_inside_the_file() {
    let work = Fixture::new();
    ffmpeg(
        &work.path().join("clip.mp4"),
        &["-f", "lavfi", "-i", "testsrc=duration=2:size=320x240:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
    );
    let cover = work.write("cover.png", &png(600, 600));
    let fx = Fixture::new();
    let clip = work.path().join("clip.mp4");
    ffmpeg(
        &fx.path().join("with cover.mp4"),
        &[
            "-i",
            clip.to_str().unwrap(),
            "-i",
            cover.to_str().unwrap(),
            "-map",
            "0",
            "-map",
            "1",
            "-c",
            "copy",
            "-disposition:v:1",
            "attached_pic",
        ],
    );
    ffmpeg(
        &fx.path().join("with cover.mkv"),
        &[
            "-i",
            clip.to_str().unwrap(),
            "-c",
            "copy",
            "-attach",
            cover.to_str().unwrap(),
            "-metadata:s:t",
            "mimetype=image/png",
        ],
    );
    let data = tempfile::tempdir().unwrap();
    let opts = Options { ffmpeg: Some("/no/such/ffmpeg".into()), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    for name in ["with cover.mp4", "with cover.mkv"] {
        let id = srv.id_of(name).await;
        eventually(Duration::from_secs(30), name, || async { thumb_width(&srv, &id).await == Some(320) }).await;
        let img = image::load_from_memory(&srv.get(&format!("/thumb/{id}/640")).await.bytes().await.unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (600, 600), "{name}: the square cover, not a frame");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_strips_and_their_cues() {
    let fx = Fixture::new();
    ffmpeg(
        &fx.path().join("long.mp4"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=20:size=320x180:rate=25",
            "-c:v",
            "libx264",
            "-g",
            "25",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("long.mp4").await;
    eventually(Duration::from_secs(60), "the strip", || async {
        srv.get(&format!("/sprite/{id}.jpg")).await.status() == 200
    })
    .await;
    let strip = image::load_from_memory(&srv.get(&format!("/sprite/{id}.jpg")).await.bytes().await.unwrap()).unwrap();
    assert_eq!((strip.width(), strip.height()), (1600, 180), "10 x 2 tiles of 160 x 90");
    let vtt = srv.get(&format!("/sprite/{id}.vtt")).await.text().await.unwrap();
    assert!(vtt.starts_with("WEBVTT"));
    assert_eq!(vtt.matches(" --> ").count(), 20);
    assert!(vtt.contains(&format!("00:00:19.000 --> 00:00:20.000\n/sprite/{id}.jpg#xywh=1440,90,160,90")), "{vtt}");
    assert!(srv.get("/").await.text().await.unwrap().contains("data-sprite=\"160x90\""));
    assert!(srv.get(&format!("/watch/{id}")).await.text().await.unwrap().contains("data-sprite=\"160x90\""));
    assert_eq!(srv.get("/sprite/0123456789abcdef.jpg").await.status(), 404);
}

/// Subtitle files beside a video: listed, converted to safe WebVTT from
/// any encoding, and offered to the player.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subtitles_beside_the_video() {
    let fx = Fixture::new();
    fx.mp4("films/Film.mp4", 1000, 850);
    fx.write(
        "films/Film.srt",
        b"1\r\n00:00:01,000 --> 00:00:02,000\r\nCaf\xe9 <i>cr\xe8me</i> <img src=x onerror=alert(1)>\r\n",
    );
    fx.write("films/Film.fr.forced.srt", "1\n00:00:00,500 --> 00:00:01,500\nPanneau : sortie\n".as_bytes());
    fx.write(
        "films/Film.en.ass",
        b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\nDialogue: 0,0:00:03.00,0:00:04.00,Default,,0,0,0,,{\\b1}Loud{\\b0}\n",
    );
    fx.write("films/Other.srt", b"1\n00:00:00,000 --> 00:00:01,000\nnot this film's\n");
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("films/Film.mp4").await;
    let v = srv.json(&format!("/api/v1/videos/{id}")).await;
    let subs = v["subtitles"].as_array().unwrap();
    let labels: Vec<&str> = subs.iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["English", "Français (forced)", "Subtitles"], "{v}");
    assert_eq!(
        (subs[1]["language"].clone(), subs[1]["forced"].clone(), subs[1]["source"].clone()),
        (json!("fr"), json!(true), json!("sidecar"))
    );
    let srt = srv.get(subs[2]["url"].as_str().unwrap()).await;
    assert_eq!(srt.headers()["content-type"], "text/vtt; charset=utf-8");
    let text = srt.text().await.unwrap();
    assert!(text.starts_with("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nCafé <i>crème</i> &lt;img"), "{text}");
    assert!(srv
        .get(subs[0]["url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap()
        .contains("00:00:03.000 --> 00:00:04.000\nLoud"));
    assert_eq!(srv.get(&format!("/subtitles/{id}/9.vtt")).await.status(), 404);
    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(
        page.contains(&format!(
            r#"<track kind="subtitles" src="/subtitles/{id}/1.vtt" label="Français (forced)" srclang="fr" default>"#
        )),
        "{page}"
    );
}

/// Who: the job queue. Work: a file ffmpeg cannot read is tried once, not
/// at every start (a library of such files would run ffmpeg on each of them
/// at each restart). The admin page's regenerate tries it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thumbnail_failure_is_remembered_across_restarts() {
    let fx = Fixture::new();
    fx.mp4("undecodable.mp4", 1000, 840);
    let data = tempfile::tempdir().unwrap();
    let remembered = data.path().join("thumbs/failed.txt");
    let has_failure = |id: &str| std::fs::read_to_string(&remembered).is_ok_and(|t| t.contains(id));
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let id = srv.id_of("undecodable.mp4").await;
    eventually(Duration::from_secs(60), "the failure written", || async { has_failure(&id) }).await;
    srv.stop().await;

    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let admin = srv.get("/admin").await.text().await.unwrap();
    assert!(admin.contains("1 video whose thumbnail failed"), "{admin}");
    // Loaded before anything is queued: it is never tried in this run.
    assert!(admin.contains("0 waiting, 0 made, 0 failed"), "{admin}");
    let res = srv.client.post(srv.url("/admin/thumbnails/regenerate")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(!has_failure(&id), "forgotten");
    eventually(Duration::from_secs(60), "tried again", || async {
        srv.get("/admin").await.text().await.unwrap().contains(" 1 failed")
    })
    .await;
    assert!(has_failure(&id), "and remembered again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thumbnail_is_a_telling_frame_not_a_fade() {
    let fx = Fixture::new();
    // Black until 2.3 s, where a 20 s video's thumbnail (at 10 %) is taken.
    ffmpeg(
        &fx.path().join("fade in.mp4"),
        &[
            "-f",
            "lavfi",
            "-i",
            "color=black:s=320x240:r=25:d=2.3",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x240:r=25:d=17.7",
            "-filter_complex",
            "[0:v][1:v]concat=n=2:v=1:a=0",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("fade in.mp4").await;
    eventually(Duration::from_secs(60), "a thumbnail", || async { thumb_width(&srv, &id).await == Some(320) }).await;
    let bytes = srv.get(&format!("/thumb/{id}/320")).await.bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).unwrap().to_luma8();
    let mean = img.pixels().map(|p| u64::from(p.0[0])).sum::<u64>() / u64::from(img.width() * img.height());
    assert!(mean > 40, "the thumbnail is dark (mean luma {mean}): the fade, not the picture");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_films_poster_is_cut_where_its_subject_is() {
    let fx = Fixture::new();
    // A film whose picture is plain grey but for a figure at the left.
    ffmpeg(
        &fx.path().join("Left Side (1999).mp4"),
        &[
            "-f",
            "lavfi",
            "-i",
            "color=gray:s=640x360:r=25:d=6",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=120x300:r=25:d=6",
            "-filter_complex",
            "[0:v][1:v]overlay=x=30:y=30",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("Left Side (1999).mp4").await;
    eventually(Duration::from_secs(60), "a thumbnail", || async { thumb_width(&srv, &id).await == Some(320) }).await;
    let films = srv.get("/films").await.text().await.unwrap();
    assert!(films.contains(&format!("src=\"/poster/{id}.jpg\"")), "{films}");
    let res = srv.get(&format!("/poster/{id}.jpg")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let poster = image::load_from_memory(&res.bytes().await.unwrap()).unwrap().to_rgb8();
    assert_eq!(poster.dimensions(), (240, 360));
    // The figure's colours fill much of it (the middle of the picture is grey).
    let coloured = poster.pixels().filter(|p| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() > 40).count();
    assert!(coloured > 240 * 360 / 5, "{coloured} coloured pixels: the poster missed the figure");
    assert_eq!(srv.get("/poster/00000000000000ff.jpg").await.status(), 404);
}
