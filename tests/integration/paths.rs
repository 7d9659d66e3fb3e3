//! Path safety: only files the scan listed are ever served, whatever the
//! request path; odd but legal names work.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::support::{status_of, Fixture, TestServer};

/// Everything but unreserved characters and `/` is encoded.
const PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escapes_are_refused() {
    let outside = Fixture::new();
    let secret = outside.mp4("secret.mp4", 1000, 9);
    let fx = Fixture::new();
    fx.mp4("inside/ok.mp4", 1000, 10);
    std::os::unix::fs::symlink(outside.path().join("secret.mp4"), fx.path().join("link-out.mp4")).unwrap();
    std::os::unix::fs::symlink(outside.path(), fx.path().join("dir-out")).unwrap();
    std::os::unix::fs::symlink(fx.path().join("inside/ok.mp4"), fx.path().join("link-in.mp4")).unwrap();
    let (srv, _data) = TestServer::start(&[fx.path()]).await;

    let videos = srv.videos().await;
    assert_eq!(videos.len(), 1, "one video; the inside link is a second path of it: {videos:#?}");
    let paths: Vec<&str> = videos[0]["paths"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(paths, ["inside/ok.mp4", "link-in.mp4"]);

    let secret_rel = outside.path().join("secret.mp4");
    let abs = secret_rel.to_str().unwrap();
    for target in [
        "/video/link-out.mp4".to_string(),
        "/video/dir-out/secret.mp4".to_string(),
        "/video/../../../../etc/passwd".to_string(),
        "/video/inside/../inside/ok.mp4".to_string(),
        "/video/%2e%2e/%2e%2e/etc/passwd".to_string(),
        "/video/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd".to_string(),
        format!("/video/{abs}"),
        format!("/video/{}", utf8_percent_encode(abs, PATH)),
        "/video/inside/ok.mp4%00.txt".to_string(),
        "/video/..%5C..%5Cetc%5Cpasswd".to_string(),
        "/video/inside%5Cok.mp4".to_string(),
        "/watch/../../etc/passwd".to_string(),
    ] {
        let raw =
            srv.raw(format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes()).await;
        let status = status_of(&raw);
        assert!((400..500).contains(&status), "{target} -> {status}");
        assert!(!raw.as_bytes().windows(secret.len().min(64)).any(|w| w == &secret[..w.len()]), "{target} leaked");
    }
    // The legitimate paths work.
    for ok in ["/video/inside/ok.mp4", "/video/link-in.mp4", "/watch/inside/ok.mp4"] {
        assert_eq!(srv.get(ok).await.status(), 200, "{ok}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_names_work() {
    let fx = Fixture::new();
    let names = [
        "with space.mp4",
        "ümlaut ñ 日本.mp4",
        "hash#tag.mp4",
        "question?.mp4",
        "100% real.mp4",
        "a+b=c.mp4",
        "quote'single\".mp4",
        "-leading-dash.mp4",
        "new\nline.mp4",
        "back\\slash.mp4",
        "<img src=x onerror=alert(1)>.mp4",
        "UPPER.MP4",
        "deep/er/still/x.Mp4",
    ];
    let mut contents = Vec::new();
    for (i, name) in names.iter().enumerate() {
        contents.push(fx.mp4(name, 2000 + i, 100 + i as u64));
    }
    fx.write("notes.txt", b"not a video");
    fx.write(".hidden.mp4", &contents[0][..100]);
    fx.write(".hidden-dir/x.mp4", &contents[1][..100]);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    assert_eq!(srv.videos().await.len(), names.len(), "hidden files and non-videos skipped");
    for (name, content) in names.iter().zip(&contents) {
        let by_name = srv.get(&format!("/video/{}", utf8_percent_encode(name, PATH))).await;
        assert_eq!(by_name.status(), 200, "{name:?}");
        assert!(by_name.bytes().await.unwrap() == content[..], "{name:?}");
        let id = srv.id_of(name).await;
        let watch = srv.get(&format!("/watch/{id}")).await;
        assert_eq!(watch.status(), 200);
        let html = watch.text().await.unwrap();
        assert!(!html.contains("<img src=x"), "titles are escaped");
    }
    let gallery = srv.get("/?sort=title&order=asc").await.text().await.unwrap();
    assert!(gallery.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(gallery.contains("ümlaut ñ 日本"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlink_loops_do_not_hang() {
    let fx = Fixture::new();
    fx.mp4("a/clip.mp4", 1000, 11);
    std::os::unix::fs::symlink(fx.path(), fx.path().join("a/loop")).unwrap();
    std::os::unix::fs::symlink(fx.path().join("a"), fx.path().join("a/self")).unwrap();
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let videos = srv.videos().await;
    assert_eq!(videos.len(), 1);
}
