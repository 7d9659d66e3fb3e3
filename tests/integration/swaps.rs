//! Files that change under the server after a scan: a video or an image
//! swapped for a link out of the served folders, a FIFO, another file; and
//! media that would make ffmpeg reach out. Nothing outside a root is ever
//! served, nothing hangs.

use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

use crate::support::{eventually, Fixture, Options, TestServer};

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo reads a valid C string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_swapped_after_the_scan_is_never_served() {
    let outside = tempfile::tempdir().unwrap();
    let secret = vec![b'S'; 5000];
    std::fs::write(outside.path().join("secret.mp4"), &secret).unwrap();
    let fx = Fixture::new();
    fx.mp4("link.mp4", 5000, 1200);
    fx.mp4("fifo.mp4", 5000, 1201);
    fx.mp4("other.mp4", 5000, 1202);
    fx.mp4("fine.mp4", 5000, 1203);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let ids: Vec<String> = ids_of(&srv, &["link.mp4", "fifo.mp4", "other.mp4", "fine.mp4"]).await;

    // Swapped while the server runs (no rescan yet: the index still names them).
    std::fs::remove_file(fx.path().join("link.mp4")).unwrap();
    symlink(outside.path().join("secret.mp4"), fx.path().join("link.mp4")).unwrap();
    std::fs::remove_file(fx.path().join("fifo.mp4")).unwrap();
    mkfifo(&fx.path().join("fifo.mp4"));
    std::fs::remove_file(fx.path().join("other.mp4")).unwrap();
    std::fs::write(fx.path().join("other.mp4"), vec![b'O'; 6000]).unwrap();

    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        for id in &ids[..3] {
            let (client, url) = (srv.client.clone(), srv.url(&format!("/video/{id}")));
            tasks.push(tokio::spawn(async move {
                let res = client.get(url).send().await.unwrap();
                (res.status().as_u16(), res.bytes().await.unwrap())
            }));
        }
    }
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 404, "a swapped file is not served");
        assert!(!body.windows(16).any(|w| w == [b'S'; 16]), "nothing of the file outside leaks");
    }
    assert!(started.elapsed() < Duration::from_secs(10), "no request hung on the FIFO");
    // The others are still served, by path too.
    assert_eq!(srv.get(&format!("/video/{}", ids[3])).await.status(), 200);
    assert_eq!(srv.get("/video/fine.mp4").await.status(), 200);
    let by_path = srv.get("/video/link.mp4").await;
    assert_ne!(by_path.status(), 200);
}

async fn ids_of(srv: &TestServer, names: &[&str]) -> Vec<String> {
    let mut ids = Vec::new();
    for n in names {
        ids.push(srv.id_of(n).await);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_beside_a_video_is_opened_like_the_video() {
    let outside = tempfile::tempdir().unwrap();
    let picture = {
        let img = image::RgbImage::from_pixel(64, 36, image::Rgb([10, 200, 10]));
        let mut out = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    std::fs::write(outside.path().join("private.png"), &picture).unwrap();
    let fx = Fixture::new();
    fx.mp4("linked.mp4", 3000, 1210);
    symlink(outside.path().join("private.png"), fx.path().join("linked.png")).unwrap();
    fx.mp4("piped.mp4", 3000, 1211);
    mkfifo(&fx.path().join("piped.png"));
    fx.mp4("plain.mp4", 3000, 1212);
    fx.write("plain.png", &picture);
    let data = tempfile::tempdir().unwrap();
    let opts = Options { ffmpeg: Some("/no/such/ffmpeg".into()), ..Options::new(data.path(), false) };
    let srv = TestServer::start_with(&[fx.path()], opts).await;
    let plain = srv.id_of("plain.mp4").await;
    eventually(Duration::from_secs(20), "the plain image becomes a thumbnail", || async {
        srv.get(&format!("/thumb/{plain}/320")).await.status() == 200
    })
    .await;
    eventually(Duration::from_secs(20), "the other two fail, without hanging the queue", || async {
        srv.app.jobs().progress.failed.load(std::sync::atomic::Ordering::Relaxed) == 2
    })
    .await;
    for name in ["linked.mp4", "piped.mp4"] {
        let id = srv.id_of(name).await;
        assert_eq!(srv.get(&format!("/thumb/{id}/320")).await.status(), 404, "{name}");
    }
}

/// A file that is really a playlist of URLs: ffmpeg, given only our
/// formats and the file protocol, refuses it and connects nowhere.
#[test]
fn ffmpeg_never_follows_a_disguised_playlist() {
    let Some(ffmpeg) = vidserve::media::ffmpeg::Ffmpeg::detect(None, Duration::from_secs(10)) else {
        crate::support::skip("no ffmpeg");
        return;
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let playlist =
        format!("#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:{port}/seg.ts\n#EXT-X-ENDLIST\n");
    let concat = format!("ffconcat version 1.0\nfile 'http://127.0.0.1:{port}/x.mp4'\n");
    for (name, text) in [("list.mp4", playlist), ("concat.mkv", concat)] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        let content = vidserve::library::roots::Content::File(std::sync::Arc::new(file), len);
        assert!(ffmpeg.frame_png(&content, 1.0, 320).is_err(), "{name} is refused");
    }
    assert!(listener.accept().is_err(), "ffmpeg connected to the URL in a disguised playlist");
}
