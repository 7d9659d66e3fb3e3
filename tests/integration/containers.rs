//! Camcorder, TV and old formats: MPEG-TS, M2TS, FLV, AVI, WMV, MPEG-PS,
//! VOB and 3GP files made by ffmpeg are listed, probed in pure Rust (the
//! same facts ffprobe gives), get thumbnails and preview strips; those
//! holding H.264 or HEVC play through `/play` as the very same decoded
//! frames and sound, with exact ranges, and again after a restart without
//! a second read; the rest are transcoded as they play.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::{eventually, ffmpeg, Fixture, TestServer};

/// Three seconds of a test picture and a tone.
const SOURCE: [&str; 8] =
    ["-f", "lavfi", "-i", "testsrc=duration=3:size=320x240:rate=25", "-f", "lavfi", "-i", "sine=f=440:d=3"];
const H264: [&str; 6] = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25"];

fn make(dir: &Path, name: &str, args: &[&str]) {
    ffmpeg(&dir.join(name), &[&SOURCE[..], args].concat());
}

/// The files, with what the probe must say of each: container, video and
/// audio codec, and where browsers get them (`/play` or as stored).
fn library(dir: &Path) -> Vec<(&'static str, &'static str, &'static str, &'static str, bool)> {
    make(dir, "rec.ts", &[&H264[..], &["-c:a", "aac"]].concat());
    make(dir, "cam.m2ts", &[&H264[..], &["-c:a", "aac", "-mpegts_m2ts_mode", "1", "-f", "mpegts"]].concat());
    make(dir, "cam ac3.MTS", &[&H264[..], &["-c:a", "ac3", "-mpegts_m2ts_mode", "1", "-f", "mpegts"]].concat());
    make(dir, "hevc.ts", &["-c:v", "libx265", "-pix_fmt", "yuv420p", "-x265-params", "log-level=error", "-c:a", "aac"]);
    make(dir, "clip.flv", &[&H264[..], &["-c:a", "aac"]].concat());
    make(dir, "old.flv", &["-c:v", "flv1", "-c:a", "libmp3lame", "-ar", "44100"]);
    make(dir, "phone.3gp", &[&H264[..], &["-c:a", "aac"]].concat());
    make(dir, "xvid.avi", &["-c:v", "mpeg4", "-c:a", "libmp3lame"]);
    make(dir, "h264.avi", &[&H264[..], &["-c:a", "libmp3lame"]].concat());
    // A dashcam's: no B-frames, PCM sound (remade as AAC, as AC-3 is).
    make(dir, "dashcam.avi", &[&H264[..], &["-profile:v", "baseline", "-c:a", "pcm_s16le"]].concat());
    make(dir, "win.wmv", &["-c:v", "wmv2", "-c:a", "wmav2"]);
    make(dir, "dvd.vob", &["-c:v", "mpeg2video", "-c:a", "ac3", "-f", "vob"]);
    make(dir, "tv.mpg", &["-c:v", "mpeg2video", "-c:a", "mp2"]);
    make(dir, "dvb.ts", &["-c:v", "mpeg2video", "-c:a", "mp2"]);
    vec![
        ("rec.ts", "ts", "h264", "aac", true),
        ("cam.m2ts", "m2ts", "h264", "aac", true),
        ("cam ac3.MTS", "m2ts", "h264", "ac3", true),
        ("hevc.ts", "ts", "hevc", "aac", true),
        ("clip.flv", "flv", "h264", "aac", true),
        ("old.flv", "flv", "h263", "mp3", false),
        ("phone.3gp", "3gp", "h264", "aac", true),
        ("xvid.avi", "avi", "mpeg4", "mp3", false),
        ("h264.avi", "avi", "h264", "mp3", true),
        ("dashcam.avi", "avi", "h264", "pcm", true),
        ("win.wmv", "asf", "wmv2", "wmav2", false),
        ("dvd.vob", "vob", "mpeg2", "ac3", false),
        ("tv.mpg", "mpeg", "mpeg2", "mp2", false),
        ("dvb.ts", "ts", "mpeg2", "mp2", false),
    ]
}

/// When each decoded picture of `file` is shown, in seconds.
fn shown_at(file: &Path) -> Vec<f64> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries", "frame=best_effort_timestamp_time"])
        .args(["-of", "csv=p=0"])
        .arg(file)
        .output()
        .expect("ffprobe");
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.trim_end_matches(',').parse().ok()).collect()
}

/// Per-frame hashes of a stream (`v`, `a`) decoded.
fn decoded(file: &Path, stream: &str) -> Vec<String> {
    crate::remux::framemd5(file, stream, false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_container_is_listed_probed_thumbnailed_and_played_or_explained() {
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        return crate::support::skip("ffmpeg is needed to make the files");
    }
    let fx = Fixture::new();
    let files = library(fx.path());
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let aux = tempfile::tempdir().unwrap();
    for (name, container, video, audio, remuxed) in files {
        let id = srv.id_of(name).await;
        let v = srv.json(&format!("/api/v1/videos/{id}")).await;
        assert_eq!(v["broken"], json!(null), "{name}: {v}");
        assert_eq!(v["container"], json!(container), "{name}");
        assert_eq!(v["video_codec"], json!(video), "{name}");
        assert_eq!(v["audio_codec"], json!(audio), "{name}");
        assert_eq!((v["width"].clone(), v["height"].clone()), (json!(320), json!(240)), "{name}");
        let ms = v["duration_ms"].as_u64().unwrap_or_else(|| panic!("{name}: no duration: {v}"));
        assert!((2_800..=3_200).contains(&ms), "{name}: {ms} ms");
        let play = if remuxed { format!("/play/{id}.mp4") } else { format!("/video/{id}") };
        assert_eq!(v["play_url"], json!(play), "{name}");
        // The same thumbnails and strips as every other file.
        eventually(Duration::from_secs(60), name, || async {
            srv.get(&format!("/thumb/{id}/320")).await.status() == 200
                && srv.get(&format!("/sprite/{id}.jpg")).await.status() == 200
        })
        .await;
        let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
        if !remuxed && video != "h264" {
            // Transcoded as it plays (tests/integration/transcode.rs goes further).
            assert!(page.contains("it is transcoded to H.264 as it plays"), "{name}: says how it plays");
            let res = srv.get(&format!("/transcode/{id}.mp4?t=1")).await;
            assert_eq!(res.status(), 200, "{name}");
            let out = aux.path().join(format!("{id}.transcoded.mp4"));
            std::fs::write(&out, res.bytes().await.unwrap()).unwrap();
            assert_eq!(crate::remux::codecs(&out), ["h264", "aac"], "{name}");
            continue;
        }
        if !remuxed {
            continue;
        }
        // The stream decodes to the very frames and sound of the file.
        let res = srv.get(&play).await;
        assert_eq!(res.status(), 200, "{name}");
        assert_eq!(res.headers()["content-type"], "video/mp4");
        let out = aux.path().join(format!("{id}.mp4"));
        std::fs::write(&out, res.bytes().await.unwrap()).unwrap();
        assert_eq!(decoded(&out, "v"), decoded(&fx.path().join(name), "v"), "{name}: the same pictures");
        // Each picture at its time, one frame apart (AVI keeps no times:
        // B-frames' are worked out from their order counts).
        let times = shown_at(&out);
        assert_eq!(times.len(), 75, "{name}: {times:?}");
        assert!(times.windows(2).all(|w| (w[1] - w[0] - 0.04).abs() < 0.002), "{name}: {times:?}");
        if container == "avi" && audio == "mp3" {
            assert_eq!(decoded(&out, "a"), decoded(&fx.path().join(name), "a"), "{name}: the same sound");
        }
        if audio == "aac" {
            let (made, stored) = (decoded(&out, "a"), decoded(&fx.path().join(name), "a"));
            if container == "3gp" {
                // MP4's remux keeps AAC's priming frame, which the stored
                // file's edit list hides: one frame more, the rest the same.
                assert_eq!(&made[made.len() - stored.len()..], &stored[..], "{name}: the same sound");
                assert!(made.len() <= stored.len() + 1, "{name}");
            } else {
                assert_eq!(made, stored, "{name}: the same sound");
            }
        }
    }
    // AC-3 in M2TS: the sound is remade with ffmpeg, then comes in the stream.
    let id = srv.id_of("cam ac3.MTS").await;
    let url = format!("/play/{id}.mp4");
    eventually(Duration::from_secs(60), "the sound is remade", || async {
        srv.client.head(srv.url(&url)).send().await.unwrap().headers()["x-vidserve-sound"] == "remade"
    })
    .await;
    let out = aux.path().join("remade.mp4");
    std::fs::write(&out, srv.get(&url).await.bytes().await.unwrap()).unwrap();
    assert_eq!(crate::remux::codecs(&out), ["h264", "aac"]);
    assert_eq!(decoded(&out, "v"), decoded(&fx.path().join("cam ac3.MTS"), "v"));
}

/// Frames of a transport stream are made from its packets when served:
/// any range is the same bytes as in the whole, and the file is read
/// whole once, in the background, not again after a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transport_stream_has_exact_ranges_and_is_read_whole_once() {
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        return crate::support::skip("ffmpeg is needed to make the files");
    }
    let fx = Fixture::new();
    // Ten seconds, with B-frames, a keyframe every 2 s, 192-byte packets.
    ffmpeg(
        &fx.path().join("long.m2ts"),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=10:size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=f=300:d=10",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "50",
            "-bf",
            "2",
            "-c:a",
            "aac",
            "-mpegts_m2ts_mode",
            "1",
            "-f",
            "mpegts",
        ],
    );
    use std::sync::atomic::Ordering::Relaxed;
    let (srv, data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("long.m2ts").await;
    let url = format!("/play/{id}.mp4");
    let plans = srv.app.plans().clone();
    eventually(Duration::from_secs(20), "the tables read after the scan", || async {
        plans.read_whole.load(Relaxed) == 1
    })
    .await;
    let res = srv.get(&url).await;
    let len: usize = res.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let full = res.bytes().await.unwrap().to_vec();
    assert_eq!(full.len(), len);
    let mut rng = fastrand::Rng::with_seed(31);
    let mut ranges: Vec<(usize, usize)> = (0..16)
        .map(|_| {
            let a = rng.usize(..len);
            (a, rng.usize(a..len.min(a + 300_000)))
        })
        .collect();
    ranges.extend([(0, 0), (0, 2000), (len - 1, len - 1), (len / 2, len - 1)]);
    for (a, b) in ranges {
        let res = srv.get_with(&url, &[("range", &format!("bytes={a}-{b}"))]).await;
        assert_eq!(res.status(), 206, "{a}-{b}");
        assert_eq!(res.bytes().await.unwrap().as_ref(), &full[a..=b], "bytes {a}-{b}");
    }
    assert_eq!(plans.read_whole.load(Relaxed), 1, "plays read nothing whole");
    let out = data.path().join("out.mp4");
    std::fs::write(&out, &full).unwrap();
    let frames = decoded(&out, "v");
    assert_eq!(frames.len(), 250);
    assert_eq!(frames, decoded(&fx.path().join("long.m2ts"), "v"));
    srv.stop().await;

    // After a restart: the same bytes, from the kept tables.
    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let (a, b) = (len / 3, len / 2);
    let seek = srv.get_with(&url, &[("range", &format!("bytes={a}-{b}"))]).await;
    assert_eq!(seek.bytes().await.unwrap().as_ref(), &full[a..=b]);
    assert!(srv.get(&url).await.bytes().await.unwrap().as_ref() == &full[..], "the same output after a restart");
    let plans = srv.app.plans().clone();
    assert_eq!(plans.read_whole.load(Relaxed), 0, "not read whole again");
    srv.stop().await;
}
