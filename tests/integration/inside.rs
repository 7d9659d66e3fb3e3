//! What is inside the files: chapters, audio tracks and text subtitle
//! tracks of Matroska and MP4 files made with ffmpeg, listed in the JSON
//! and on the watch page, served as safe WebVTT, extracted once into the
//! data dir and read again when the file changes.

use std::path::Path;

use serde_json::json;

use std::time::Duration;

use crate::support::{eventually, ffmpeg, Fixture, TestServer};

const SRT: &str =
    "1\n00:00:00,500 --> 00:00:01,500\nHello <b>there</b>\n\n2\n00:00:02,000 --> 00:00:03,000\nSecond line\n";
const CHAPTERS: &str = ";FFMETADATA1\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1500\ntitle=Opening\n\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=1500\nEND=4000\ntitle=The end\n";

/// A 4 s video with two audio tracks (the second named), subtitles in
/// `codecs` (one track each, German) and two chapters.
pub fn make(out: &Path, aux: &Path, codecs: &[&str]) {
    let srt = aux.join("subs.srt");
    let meta = aux.join("meta.txt");
    std::fs::write(&srt, SRT).unwrap();
    std::fs::write(&meta, CHAPTERS).unwrap();
    let (srt, meta) = (srt.to_str().unwrap(), meta.to_str().unwrap());
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x48:rate=10:duration=4",
        "-f",
        "lavfi",
        "-i",
        "sine=f=440:d=4",
        "-f",
        "lavfi",
        "-i",
        "sine=f=880:d=4",
        "-i",
        srt,
        "-i",
        meta,
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "2",
    ];
    for _ in codecs {
        args.extend(["-map", "3"]);
    }
    args.extend(["-map_metadata", "4", "-map_chapters", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"]);
    let flags: Vec<String> = codecs.iter().enumerate().map(|(n, _)| format!("-c:s:{n}")).collect();
    for (flag, codec) in flags.iter().zip(codecs) {
        args.extend([flag.as_str(), codec]);
    }
    args.extend([
        "-metadata:s:a:0",
        "language=eng",
        "-metadata:s:a:1",
        "language=fra",
        "-metadata:s:a:1",
        "title=Commentary",
        "-metadata:s:s",
        "language=ger",
    ]);
    ffmpeg(out, &args);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chapters_audio_and_text_tracks_inside_files() {
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fx.path().join("in")).unwrap();
    make(&fx.path().join("in/Film.mkv"), aux.path(), &["srt", "ass"]);
    make(&fx.path().join("in/Clip.mp4"), aux.path(), &["mov_text"]);
    let (srv, data) = TestServer::start(&[fx.path()]).await;

    let mkv = srv.id_of("in/Film.mkv").await;
    let v = srv.json(&format!("/api/v1/videos/{mkv}")).await;
    let chapters = json!([{ "start_ms": 0, "title": "Opening" }, { "start_ms": 1500, "title": "The end" }]);
    assert_eq!(v["chapters"], chapters, "{v}");
    let audio = v["audio_tracks"].as_array().unwrap();
    let labels: Vec<_> =
        audio.iter().map(|a| (a["label"].as_str().unwrap(), a["language"].as_str().unwrap())).collect();
    assert_eq!(labels, [("English", "eng"), ("Commentary", "fra")], "{v}");
    assert_eq!((audio[0]["codec"].clone(), audio[0]["browser_plays"].clone()), (json!("aac"), json!(true)));
    let subs = v["subtitles"].as_array().unwrap();
    assert_eq!(subs.len(), 2, "{v}");
    assert_eq!(
        subs[0],
        json!({ "label": "Deutsch", "language": "ger", "url": format!("/subtitles/{mkv}/e0.vtt"), "forced": false,
                "source": "embedded" })
    );

    // SubRip and SubStation tracks, as WebVTT, with the times of the file.
    let res = srv.get(&format!("/subtitles/{mkv}/e0.vtt")).await;
    assert_eq!(res.headers()["content-type"], "text/vtt; charset=utf-8");
    let tag = res.headers()["etag"].to_str().unwrap().to_string();
    let vtt = res.text().await.unwrap();
    let again = srv.get_with(&format!("/subtitles/{mkv}/e0.vtt"), &[("if-none-match", &tag)]).await;
    assert_eq!(again.status(), 304, "validated");
    let other = srv.get_with(&format!("/subtitles/{mkv}/e1.vtt"), &[("if-none-match", &tag)]).await;
    assert_eq!(other.status(), 200, "another track's text is another tag");
    assert!(vtt.starts_with("WEBVTT\n\n"), "{vtt}");
    assert_eq!(vtt.matches(" --> ").count(), 2, "{vtt}");
    assert!(vtt.contains("Hello") && vtt.contains("Second line"), "{vtt}");
    let ass = srv.get(&format!("/subtitles/{mkv}/e1.vtt")).await.text().await.unwrap();
    assert!(ass.contains("Second line") && !ass.contains("Default,"), "{ass}");
    // Extracted once, into the data dir.
    for n in 0..2 {
        assert!(data.path().join(format!("inside/{mkv}.{n}.vtt")).is_file());
    }
    for bad in ["e2.vtt", "ex.vtt", "e-1.vtt", "e2.srt"] {
        assert_eq!(srv.get(&format!("/subtitles/{mkv}/{bad}")).await.status(), 404, "{bad}");
    }
    // The same as SubRip, for televisions.
    let srt = srv.get(&format!("/subtitles/{mkv}/e0.srt")).await.text().await.unwrap();
    assert!(srt.starts_with("1\n00:00:00,5") && srt.contains(" --> ") && srt.contains("Second line"), "{srt}");

    // MP4: Nero chapters, mov_text.
    let mp4 = srv.id_of("in/Clip.mp4").await;
    let v = srv.json(&format!("/api/v1/videos/{mp4}")).await;
    assert_eq!(v["chapters"], chapters, "{v}");
    assert_eq!(v["audio_tracks"].as_array().unwrap().len(), 2);
    assert_eq!(v["subtitles"][0]["source"], "embedded");
    let vtt = srv.get(&format!("/subtitles/{mp4}/e0.vtt")).await.text().await.unwrap();
    assert!(vtt.contains("00:00:00.500 --> 00:00:01.500\nHello") && vtt.contains("Second line"), "{vtt}");

    // The watch page: tracks, the menus and the chapters.
    let page = srv.get(&format!("/watch/{mkv}")).await.text().await.unwrap();
    assert!(page.contains(&format!(r#"<track kind="subtitles" src="/subtitles/{mkv}/e1.vtt""#)), "{page}");
    assert!(page.contains(r#"id="subtitle-choice""#) && page.contains(r#"id="audio-choice""#), "{page}");
    assert!(page.contains(r#"data-start="1500""#) && page.contains("The end"), "{page}");
    assert!(page.contains(r#"class="chapter-marks""#), "{page}");

    // A file replaced by one without subtitles is read again: the old
    // tracks are gone.
    make(&fx.path().join("in/Film.mkv"), aux.path(), &[]);
    assert_eq!(srv.client.post(srv.url("/admin/cache/refresh")).send().await.unwrap().status(), 200);
    let mkv = srv.id_of("in/Film.mkv").await;
    let v = srv.json(&format!("/api/v1/videos/{mkv}")).await;
    assert_eq!(v["subtitles"], json!([]), "{v}");
    assert_eq!(v["chapters"], chapters);
    assert_eq!(srv.get(&format!("/subtitles/{mkv}/e0.vtt")).await.status(), 404);
    assert!(!data.path().join(format!("inside/{mkv}.0.vtt")).exists());

    // A video that leaves the library takes what was kept for it along.
    assert!(data.path().join(format!("inside/{mp4}.json")).is_file());
    std::fs::remove_file(fx.path().join("in/Clip.mp4")).unwrap();
    assert_eq!(srv.client.post(srv.url("/admin/cache/refresh")).send().await.unwrap().status(), 200);
    assert!(!data.path().join(format!("inside/{mp4}.json")).exists());
    assert!(!data.path().join(format!("inside/{mp4}.0.vtt")).exists());
    assert!(data.path().join(format!("inside/{mkv}.json")).is_file(), "the others stay");
}

/// A file that is not what its name says, or is cut short, lists nothing
/// inside and still gets its page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_files_give_what_they_have() {
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    make(&aux.path().join("whole.mkv"), aux.path(), &["srt"]);
    let whole = std::fs::read(aux.path().join("whole.mkv")).unwrap();
    fx.write("cut.mkv", &whole[..whole.len() / 3]);
    fx.write("fake.mkv", b"\x1a\x45\xdf\xa3 this is not really Matroska");
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    // The fake one is not listed (it is no video); the cut one still is.
    let videos = srv.videos().await;
    assert!(!videos.iter().any(|v| v["paths"][0] == "fake.mkv"));
    for rel in ["cut.mkv"] {
        let v = videos.iter().find(|v| v["paths"][0] == rel).expect("the cut file is listed");
        let id = v["id"].as_str().unwrap();
        let one = srv.json(&format!("/api/v1/videos/{id}")).await;
        assert!(one["chapters"].is_array() && one["audio_tracks"].is_array(), "{one}");
        assert_eq!(srv.get(&format!("/watch/{id}")).await.status(), 200);
        // Its headers list the track; the cues that were cut off are missing.
        assert_eq!(one["subtitles"][0]["source"], "embedded", "{one}");
        let res = srv.get(&format!("/subtitles/{id}/e0.vtt")).await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().starts_with("WEBVTT"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_tracks_come_from_the_background_read_of_the_film() {
    let fx = Fixture::new();
    let aux = tempfile::tempdir().unwrap();
    make(&fx.path().join("Film.mkv"), aux.path(), &["srt"]);
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], crate::support::Options::new(data.path(), false)).await;
    let id = srv.id_of("Film.mkv").await;
    // The film is read once after the scan, for its remux's tables; its
    // text track is extracted on that same walk, before anyone asks.
    let (plan, vtt) = (data.path().join(format!("plans/{id}-0.plan")), data.path().join(format!("inside/{id}.0.vtt")));
    eventually(Duration::from_secs(30), "the film read in the background, its text track with it", || async {
        plan.exists() && vtt.exists()
    })
    .await;
    let kept = std::fs::read_to_string(&vtt).unwrap();
    assert!(kept.contains("Second line"), "{kept}");
    let res = srv.get(&format!("/subtitles/{id}/e0.vtt")).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Hello"));
}
