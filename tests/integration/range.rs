//! RFC 9110 range and conditional requests, bodies compared byte for byte.

use crate::support::{Fixture, TestServer};

/// One GET with a `Range` header: status and exact body.
async fn check_range(srv: &TestServer, path: &str, range: &str, status: u16, want: &[u8]) {
    let res = srv.get_with(path, &[("range", range)]).await;
    assert_eq!(res.status(), status, "{range}");
    if status == 206 {
        assert_eq!(res.headers()["content-length"], want.len().to_string().as_str(), "{range}");
    }
    let body = res.bytes().await.unwrap();
    assert!(body == want, "{range}: body differs ({} bytes, wanted {})", body.len(), want.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_ranges() {
    let fx = Fixture::new();
    let file = fx.mp4("clip.mp4", 700_000, 1);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("clip.mp4").await;
    let path = format!("/video/{id}");
    let n = file.len();

    let full = srv.get(&path).await;
    assert_eq!(full.status(), 200);
    let h = full.headers().clone();
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(h["content-type"], "video/mp4");
    assert_eq!(h["content-length"], n.to_string().as_str());
    assert!(h["etag"].to_str().unwrap().starts_with('"'), "strong etag");
    assert!(h.contains_key("last-modified"));
    assert!(full.bytes().await.unwrap() == file, "full body");

    check_range(&srv, &path, "bytes=0-0", 206, &file[..1]).await;
    check_range(&srv, &path, "bytes=1000-299999", 206, &file[1000..300_000]).await;
    check_range(&srv, &path, "bytes=-10", 206, &file[n - 10..]).await;
    check_range(&srv, &path, "bytes=-99999999", 206, &file).await;
    check_range(&srv, &path, "bytes=600000-", 206, &file[600_000..]).await;
    check_range(&srv, &path, "bytes=5-99999999", 206, &file[5..]).await;
    check_range(&srv, &path, "bytes=9-3", 200, &file).await; // invalid: ignored
    check_range(&srv, &path, "lines=1-2", 200, &file).await;

    let res = srv.get_with(&path, &[("range", "bytes=10-19")]).await;
    assert_eq!(res.headers()["content-range"], format!("bytes 10-19/{n}").as_str());

    let res = srv.get_with(&path, &[("range", &format!("bytes={n}-"))]).await;
    assert_eq!(res.status(), 416);
    assert_eq!(res.headers()["content-range"], format!("bytes */{n}").as_str());
    let res = srv.get_with(&path, &[("range", "bytes=-0")]).await;
    assert_eq!(res.status(), 416);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiple_ranges_are_multipart() {
    let fx = Fixture::new();
    let file = fx.mp4("clip.mp4", 100_000, 2);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let path = format!("/video/{}", srv.id_of("clip.mp4").await);
    let n = file.len();
    let res = srv.get_with(&path, &[("range", "bytes=0-9, 500-599, -5")]).await;
    assert_eq!(res.status(), 206);
    let ctype = res.headers()["content-type"].to_str().unwrap().to_string();
    let boundary = ctype.strip_prefix("multipart/byteranges; boundary=").expect("multipart type").to_string();
    let len: usize = res.headers()["content-length"].to_str().unwrap().parse().unwrap();
    let body = res.bytes().await.unwrap();
    assert_eq!(body.len(), len, "content-length matches the body");
    let mut parts = Vec::new();
    let delim = format!("\r\n--{boundary}");
    let text = body.to_vec();
    let mut rest = &text[..];
    while let Some(at) = find(rest, delim.as_bytes()) {
        rest = &rest[at + delim.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let head_end = find(rest, b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
        let data_start = head_end + 4;
        let data_end = find(&rest[data_start..], delim.as_bytes()).unwrap() + data_start;
        parts.push((head, rest[data_start..data_end].to_vec()));
        rest = &rest[data_end..];
    }
    assert_eq!(parts.len(), 3);
    let expect = [(0, 10), (500, 600), (n - 5, n)];
    for ((head, data), (s, e)) in parts.iter().zip(expect) {
        assert!(head.contains(&format!("Content-Range: bytes {s}-{}/{n}", e - 1)), "{head}");
        assert!(head.contains("Content-Type: video/mp4"));
        assert!(data[..] == file[s..e], "part {s}-{e}");
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_requests() {
    let fx = Fixture::new();
    let file = fx.mp4("clip.mp4", 50_000, 3);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let path = format!("/video/{}", srv.id_of("clip.mp4").await);
    let res = srv.get(&path).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let modified = res.headers()["last-modified"].to_str().unwrap().to_string();

    let res = srv.get_with(&path, &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());
    let res = srv.get_with(&path, &[("if-none-match", &format!("\"other\", W/{etag}"))]).await;
    assert_eq!(res.status(), 304, "weak comparison for If-None-Match");
    let res = srv.get_with(&path, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(res.status(), 200);
    let res = srv.get_with(&path, &[("if-modified-since", &modified)]).await;
    assert_eq!(res.status(), 304);
    let res = srv.get_with(&path, &[("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")]).await;
    assert_eq!(res.status(), 200);
    // If-None-Match wins over If-Modified-Since.
    let res = srv.get_with(&path, &[("if-none-match", "\"other\""), ("if-modified-since", &modified)]).await;
    assert_eq!(res.status(), 200);

    let res = srv.get_with(&path, &[("if-match", "\"other\"")]).await;
    assert_eq!(res.status(), 412);
    let res = srv.get_with(&path, &[("if-match", &etag), ("range", "bytes=0-1")]).await;
    assert_eq!(res.status(), 206);
    let res = srv.get_with(&path, &[("if-unmodified-since", "Mon, 01 Jan 2001 00:00:00 GMT")]).await;
    assert_eq!(res.status(), 412);

    // If-Range: a match keeps the range, a mismatch sends the whole file.
    let res = srv.get_with(&path, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(res.status(), 206);
    assert!(res.bytes().await.unwrap() == file[..10]);
    let res = srv.get_with(&path, &[("range", "bytes=0-9"), ("if-range", "\"stale\"")]).await;
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap() == file);
    let res = srv.get_with(&path, &[("range", "bytes=0-9"), ("if-range", &modified)]).await;
    assert_eq!(res.status(), 206);
    let res = srv.get_with(&path, &[("range", "bytes=0-9"), ("if-range", &format!("W/{etag}"))]).await;
    assert_eq!(res.status(), 200, "a weak validator never satisfies If-Range");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_has_the_headers_of_get() {
    let fx = Fixture::new();
    fx.mp4("clip.mp4", 10_000, 4);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let path = format!("/video/{}", srv.id_of("clip.mp4").await);
    for range in [None, Some("bytes=5-20")] {
        let mut get = srv.client.get(srv.url(&path));
        let mut head = srv.client.head(srv.url(&path));
        if let Some(r) = range {
            get = get.header("range", r);
            head = head.header("range", r);
        }
        let (get, head) = (get.send().await.unwrap(), head.send().await.unwrap());
        assert_eq!(get.status(), head.status());
        for name in ["content-length", "content-type", "content-range", "etag", "last-modified", "accept-ranges"] {
            assert_eq!(get.headers().get(name), head.headers().get(name), "{name} with {range:?}");
        }
        assert!(head.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_over_four_gib() {
    let fx = Fixture::new();
    let total: u64 = 5 * 1024 * 1024 * 1024 + 123;
    let path = fx.path().join("big.mp4");
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&vidserve::library::probe::synth::mp4_head_for_len(total)).unwrap();
        f.set_len(total).unwrap(); // sparse
        f.seek(SeekFrom::Start(4_500_000_000)).unwrap();
        f.write_all(b"beyond four gibibytes").unwrap();
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let videos = srv.videos().await;
    assert_eq!(videos[0]["size"], total);
    let url = format!("/video/{}", videos[0]["id"].as_str().unwrap());
    let res = srv.get_with(&url, &[("range", "bytes=4500000000-4500000020")]).await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.headers()["content-range"], format!("bytes 4500000000-4500000020/{total}").as_str());
    assert_eq!(&res.bytes().await.unwrap()[..], b"beyond four gibibytes");
    let res = srv.get_with(&url, &[("range", "bytes=-3")]).await;
    assert_eq!(res.headers()["content-range"], format!("bytes {}-{}/{total}", total - 3, total - 1).as_str());
    assert_eq!(&res.bytes().await.unwrap()[..], &[0, 0, 0]);
    let res = srv.client.head(srv.url(&url)).send().await.unwrap();
    assert_eq!(res.headers()["content-length"], total.to_string().as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_file_is_served_fresh_soon() {
    let fx = Fixture::new();
    let old = fx.mp4("clip.mp4", 30_000, 5);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    assert!(srv.get("/video/clip.mp4").await.bytes().await.unwrap() == old);
    // Replace it the way copy tools do: write aside, rename over.
    let new = vidserve::library::probe::synth::mp4_file(&vidserve::library::probe::synth::noise(40_000, 6), false);
    std::fs::write(fx.path().join(".clip.tmp"), &new).unwrap();
    std::fs::rename(fx.path().join(".clip.tmp"), fx.path().join("clip.mp4")).unwrap();
    crate::support::eventually(std::time::Duration::from_secs(15), "the new content is served", || async {
        let res = srv.get("/video/clip.mp4").await;
        let len = res.headers()["content-length"].to_str().unwrap().to_string();
        let body = res.bytes().await.unwrap();
        assert_eq!(len, body.len().to_string(), "headers and body always agree");
        body == new
    })
    .await;
}
