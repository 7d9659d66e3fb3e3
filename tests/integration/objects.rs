//! Roots in object storage, against a real Garage on loopback: listing,
//! identity carried from a local copy, ranges byte for byte, unchanged
//! rescans that read nothing, thumbnails and remux from an object, the
//! store going away mid-stream and at start, presigned redirects.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::engines::{Azurite, Garage};
use crate::support::{eventually, send, Fixture, Options, TestServer};
use vidserve::library::probe::synth;

async fn start(garage: &Garage, dirs: &[&Path], data: &Path) -> TestServer {
    let mut opts = Options::new(data, false);
    opts.objects = garage.args();
    let srv = TestServer::start_with(dirs, opts).await;
    // A restart serves the stored index at once; the walk follows.
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(60)).await);
    srv
}

fn gets_of(garage: &Garage, key_part: &str) -> usize {
    garage.requests().iter().filter(|r| r.starts_with("GET") && r.contains(key_part)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_is_scanned_and_streamed_like_a_folder() {
    let Some(garage) = Garage::start() else { return };
    let film = synth::mp4_file(&synth::noise(600_000, 11), false);
    let other = synth::mp4_file(&synth::noise(50_000, 12), false);
    garage.put("shelf/a b/Film #1 été.mp4", &film).await;
    garage.put("shelf/other.mp4", &other).await;
    garage.put("shelf/.hidden/x.mp4", &other).await;
    garage.put("shelf/notes.txt", b"not a video").await;
    garage.put("elsewhere/y.mp4", &other).await;

    // A household rates the film from the NAS first.
    let nas = Fixture::new();
    nas.write("Film.mp4", &film);
    let data = tempfile::tempdir().unwrap();
    let local = start(&garage, &[nas.path()], data.path()).await;
    let id = local.id_of("Film.mp4").await;
    let (s, _) = send(&local, "PUT", &format!("/api/v1/videos/{id}/rating"), Some(json!({ "rating": 5 }))).await;
    assert_eq!(s, 200);
    local.stop().await;

    // Moved into the bucket: the same video, the same rating.
    let bucket = Path::new("s3://films/shelf");
    let srv = start(&garage, &[bucket], data.path()).await;
    let videos = srv.videos().await;
    let mut paths: Vec<&str> = videos.iter().map(|v| v["paths"][0].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, ["a b/Film #1 été.mp4", "other.mp4"], "{videos:#?} {}", srv.json("/admin/cache/status").await);
    assert_eq!(srv.id_of("a b/Film #1 été.mp4").await, id, "identity carried from the local copy");
    assert_eq!(srv.json(&format!("/api/v1/videos/{id}")).await["rating"], 5);
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["roots"][0]["path"], "s3://films/shelf");
    assert_eq!(status["roots"][0]["online"], true);

    // Ranges, byte for byte against the object.
    let url = format!("/video/{id}");
    let full = srv.get(&url).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "video/mp4");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let etag = full.headers()["etag"].to_str().unwrap().to_string();
    assert!(full.headers().contains_key("last-modified"));
    assert_eq!(full.bytes().await.unwrap().as_ref(), &film[..]);
    let len = film.len();
    let mut rng = fastrand::Rng::with_seed(29);
    let mut ranges: Vec<(usize, usize)> = (0..10)
        .map(|_| {
            let a = rng.usize(..len);
            (a, rng.usize(a..len.min(a + 300_000)))
        })
        .collect();
    ranges.extend([(0, 0), (0, 65_535), (len - 1, len - 1), (1000, len - 1)]);
    for (a, b) in ranges {
        let res = srv.get_with(&url, &[("range", &format!("bytes={a}-{b}"))]).await;
        assert_eq!(res.status(), 206, "{a}-{b}");
        assert_eq!(res.headers()["content-range"].to_str().unwrap(), format!("bytes {a}-{b}/{len}"));
        assert_eq!(res.bytes().await.unwrap().as_ref(), &film[a..=b], "bytes {a}-{b}");
    }
    let tail = srv.get_with(&url, &[("range", "bytes=-1000")]).await;
    assert_eq!(tail.bytes().await.unwrap().as_ref(), &film[len - 1000..]);
    let open = srv.get_with(&url, &[("range", "bytes=599000-")]).await;
    assert_eq!(open.bytes().await.unwrap().as_ref(), &film[599_000..]);
    // Several ranges: one multipart answer, each part from the object.
    let multi = srv.get_with(&url, &[("range", "bytes=0-9,500000-500009")]).await;
    assert_eq!(multi.status(), 206);
    let body = multi.bytes().await.unwrap();
    assert!(body.windows(10).any(|w| w == &film[500_000..500_010]));
    assert_eq!(srv.get_with(&url, &[("range", &format!("bytes={len}-"))]).await.status(), 416);
    assert_eq!(srv.get_with(&url, &[("if-none-match", &etag)]).await.status(), 304);
    let fresh = srv.get_with(&url, &[("range", "bytes=0-9"), ("if-range", &etag)]).await;
    assert_eq!(fresh.status(), 206);
    let stale = srv.get_with(&url, &[("range", "bytes=0-9"), ("if-range", "\"other\"")]).await;
    assert_eq!(stale.status(), 200);
    assert_eq!(
        srv.client.head(srv.url(&url)).send().await.unwrap().headers()["content-length"],
        len.to_string().as_str()
    );

    // An unchanged bucket is listed again, not read. (First the reads the
    // streams above started, and background work such as thumbnails, are
    // let finish: on a loaded machine they come in late.)
    let mut film_reads = gets_of(&garage, "Film");
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = gets_of(&garage, "Film");
        if now == film_reads && srv.app.jobs().waiting() == 0 {
            break;
        }
        film_reads = now;
    }
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await);
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await);
    assert_eq!(gets_of(&garage, "Film"), film_reads, "a rescan read an unchanged object");

    // A new object appears with a rescan; a replaced one is identified again.
    garage.put("shelf/new.mp4", &synth::mp4_file(&synth::noise(40_000, 13), false)).await;
    garage.put("shelf/other.mp4", &synth::mp4_file(&synth::noise(60_000, 14), false)).await;
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await);
    let videos = srv.videos().await;
    assert_eq!(videos.len(), 3, "{videos:#?}");
    let other_size = videos.iter().find(|v| v["paths"][0] == "other.mp4").unwrap()["size"].clone();
    assert_ne!(other_size, json!(other.len()));

    // Names that are not below the bucket's folder are not served.
    let outside = srv.get("/video/..%2Felsewhere%2Fy.mp4").await.status();
    assert!(outside == 400 || outside == 404, "{outside}");
    srv.stop().await;

    // `doctor` lists the bucket; without --dir it finds it in the data dir.
    let args = garage.args();
    let doctor = std::process::Command::new(env!("CARGO_BIN_EXE_vidserve"))
        .arg("doctor")
        .arg("--data")
        .arg(data.path())
        .args(["--s3-endpoint", &garage.endpoint(), "--s3-region", "garage", "--s3-credentials-file"])
        .arg(args.s3_credentials_file.unwrap())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&doctor.stdout);
    assert!(said.contains("bucket: s3://films/shelf answers (3 videos listed)"), "{said}");
    assert!(!said.contains(crate::engines::SECRET), "the key is never printed");
}

/// A local folder and a bucket side by side: the bucket's store stopped
/// mid-stream comes back and the stream goes on, byte for byte; while it
/// is down, the rest of the library plays and the bucket's videos fail
/// with a clear answer; a store down at start shows the root offline with
/// the reason, its videos and ratings kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_goes_away_loses_nothing() {
    let Some(mut garage) = Garage::start() else { return };
    let big = synth::mp4_file(&synth::noise(24 * 1024 * 1024, 21), false);
    garage.put("big.mp4", &big).await;
    let nas = Fixture::new();
    nas.mp4("local.mp4", 20_000, 22);
    let data = tempfile::tempdir().unwrap();
    let srv = start(&garage, &[nas.path(), Path::new("s3://films")], data.path()).await;
    let id = srv.id_of("big.mp4").await;
    let (s, _) = send(&srv, "PUT", &format!("/api/v1/videos/{id}/rating"), Some(json!({ "rating": 3 }))).await;
    assert_eq!(s, 200);

    // Read the first part, stop the store, start it again, read the rest.
    let mut res = srv.get(&format!("/video/{id}")).await;
    assert_eq!(res.status(), 200);
    let mut got = Vec::with_capacity(big.len());
    while got.len() < 2 * 1024 * 1024 {
        got.extend_from_slice(&res.chunk().await.unwrap().expect("more bytes"));
    }
    garage.kill();
    std::thread::sleep(Duration::from_millis(300));
    garage.run();
    while let Some(chunk) = res.chunk().await.expect("the stream goes on") {
        got.extend_from_slice(&chunk);
    }
    assert_eq!(got.len(), big.len());
    assert!(got == big, "the resumed stream is the object, byte for byte");

    // Down: the bucket's video fails clearly, the local one plays.
    garage.kill();
    let down = srv.get_with(&format!("/video/{id}"), &[("range", "bytes=0-9")]).await;
    assert_eq!(down.status(), 503);
    let why = down.text().await.unwrap();
    assert!(why.contains("cannot be read now"), "{why}");
    let local = srv.id_of("local.mp4").await;
    assert_eq!(srv.get(&format!("/video/{local}")).await.status(), 200);
    // A rescan while it is down: offline with the reason, nothing forgotten.
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(60)).await);
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["roots"][1]["online"], false, "{status}");
    assert!(status["roots"][1]["offline_reason"].as_str().unwrap().contains("object storage"), "{status}");
    assert_eq!(srv.json(&format!("/api/v1/videos/{id}")).await["rating"], 3);
    let admin = srv.get("/admin").await.text().await.unwrap();
    assert!(admin.contains("s3://films") && admin.contains("offline: "), "the admin page shows why");
    srv.stop().await;

    // Down at start: served from the index, offline; back when it returns.
    let srv = start(&garage, &[nas.path(), Path::new("s3://films")], data.path()).await;
    assert_eq!(srv.json("/admin/cache/status").await["roots"][1]["online"], false);
    assert_eq!(srv.json(&format!("/api/v1/videos/{id}")).await["rating"], 3);
    garage.run();
    eventually(Duration::from_secs(30), "the bucket back online", || async {
        srv.app.library().rescan_and_wait(Duration::from_secs(30)).await;
        srv.json("/admin/cache/status").await["roots"][1]["online"] == true
    })
    .await;
    let back = srv.get_with(&format!("/video/{id}"), &[("range", "bytes=100-199")]).await;
    assert_eq!(back.bytes().await.unwrap().as_ref(), &big[100..200]);
    srv.stop().await;
}

/// Thumbnails, preview strips and remux read objects as they read files.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbnails_and_remux_from_an_object() {
    let Some(garage) = Garage::start() else { return };
    let aux = tempfile::tempdir().unwrap();
    let mp4 = aux.path().join("clip.mp4");
    crate::support::ffmpeg(
        &mp4,
        &["-f", "lavfi", "-i", "testsrc=duration=4:size=320x240:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
    );
    let mkv = aux.path().join("film.mkv");
    crate::inside::make(&mkv, aux.path(), &["srt"]);
    garage.put("clip.mp4", &std::fs::read(&mp4).unwrap()).await;
    garage.put("film.mkv", &std::fs::read(&mkv).unwrap()).await;
    let data = tempfile::tempdir().unwrap();
    let srv = start(&garage, &[Path::new("s3://films")], data.path()).await;
    let clip = srv.id_of("clip.mp4").await;
    let v = srv.json(&format!("/api/v1/videos/{clip}")).await;
    assert!(v["duration_ms"].as_u64().is_some_and(|d| (3500..4500).contains(&d)), "probed from the object: {v}");
    eventually(Duration::from_secs(60), "a thumbnail from the object", || async {
        srv.get(&format!("/thumb/{clip}/320")).await.status() == 200
    })
    .await;
    eventually(Duration::from_secs(60), "a preview strip from the object", || async {
        srv.get(&format!("/sprite/{clip}.jpg")).await.status() == 200
    })
    .await;

    // The Matroska film plays as MP4, with its embedded subtitles.
    let film = srv.id_of("film.mkv").await;
    let res = srv.get(&format!("/play/{film}.mp4")).await;
    assert_eq!(res.status(), 200);
    let remuxed = res.bytes().await.unwrap();
    let out = aux.path().join("out.mp4");
    std::fs::write(&out, &remuxed).unwrap();
    assert_eq!(crate::remux::codecs(&out), ["h264", "aac"]);
    let v = srv.json(&format!("/api/v1/videos/{film}")).await;
    assert_eq!(v["subtitles"][0]["source"], "embedded", "{v}");
    let vtt = srv.get(&format!("/subtitles/{film}/e0.vtt")).await.text().await.unwrap();
    assert!(vtt.starts_with("WEBVTT"), "{vtt}");
    srv.stop().await;
}

/// `--s3-redirect`: a short-lived presigned URL instead of the bytes, that
/// the store answers; pages and the other routes still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_to_a_presigned_url() {
    let Some(garage) = Garage::start() else { return };
    let film = synth::mp4_file(&synth::noise(200_000, 31), false);
    garage.put("a.mp4", &film).await;
    let data = tempfile::tempdir().unwrap();
    let mut opts = Options::new(data.path(), false);
    opts.objects = garage.args();
    opts.s3_redirect = true;
    let srv = TestServer::start_with(&[Path::new("s3://films")], opts).await;
    let id = srv.id_of("a.mp4").await;
    let res = srv.get(&format!("/video/{id}")).await;
    assert_eq!(res.status(), 307);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(&garage.endpoint()) && to.contains("X-Amz-Expires="), "{to}");
    let direct = crate::support::client_builder()
        .build()
        .unwrap()
        .get(&to)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 206);
    assert_eq!(direct.bytes().await.unwrap().as_ref(), &film[100..200]);
    // HEAD still answers here; the watch page names the stable route.
    assert_eq!(srv.client.head(srv.url(&format!("/video/{id}"))).send().await.unwrap().status(), 200);
    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(page.contains(&format!("/video/{id}")));
    srv.stop().await;

    // A key the store refuses: offline, saying so, the key not shown.
    let wrong = tempfile::tempdir().unwrap();
    let file = wrong.path().join("credentials");
    std::fs::write(
        &file,
        format!(
            "[default]\naws_access_key_id = {}\naws_secret_access_key = not-the-secret-at-all\n",
            crate::engines::KEY_ID
        ),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut opts = Options::new(data.path(), false);
    opts.objects = garage.args();
    opts.objects.s3_credentials_file = Some(file);
    let srv = TestServer::start_with(&[Path::new("s3://films")], opts).await;
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["roots"][0]["online"], false, "{status}");
    let why = status["roots"][0]["offline_reason"].as_str().unwrap().to_string();
    assert!(why.contains("403") || why.contains("Forbidden") || why.contains("signature"), "{why}");
    assert!(!why.contains("not-the-secret"), "{why}");
    srv.stop().await;
}

/// The same code serves Azure Blob Storage (`az://`), against Azurite:
/// listing, ranges byte for byte, a thumbnail through a SAS URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_azure_container_is_served_the_same_way() {
    let Some(azurite) = Azurite::start().await else { return };
    let aux = tempfile::tempdir().unwrap();
    let clip = aux.path().join("clip.mp4");
    crate::support::ffmpeg(
        &clip,
        &["-f", "lavfi", "-i", "testsrc=duration=3:size=160x120:rate=25", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
    );
    let film = synth::mp4_file(&synth::noise(400_000, 41), false);
    azurite.put("club/Film.mp4", &film).await;
    azurite.put("club/sub/clip.mp4", &std::fs::read(&clip).unwrap()).await;
    azurite.put("other/x.mp4", &film).await;
    // As a user sets them; the same for every test that reads them.
    std::env::set_var("AZURE_STORAGE_ACCOUNT", crate::engines::AZURITE_ACCOUNT);
    std::env::set_var("AZURE_STORAGE_KEY", crate::engines::AZURITE_KEY);
    let data = tempfile::tempdir().unwrap();
    let mut opts = Options::new(data.path(), false);
    opts.objects = azurite.args();
    let srv = TestServer::start_with(&[Path::new("az://films/club")], opts).await;
    let mut paths: Vec<String> = srv.videos().await.iter().map(|v| v["paths"][0].as_str().unwrap().into()).collect();
    paths.sort();
    assert_eq!(paths, ["Film.mp4", "sub/clip.mp4"]);
    let id = srv.id_of("Film.mp4").await;
    let url = format!("/video/{id}");
    for (a, b) in [(0, 99), (123_456, 300_000), (film.len() - 10, film.len() - 1)] {
        let res = srv.get_with(&url, &[("range", &format!("bytes={a}-{b}"))]).await;
        assert_eq!(res.status(), 206);
        assert_eq!(res.bytes().await.unwrap().as_ref(), &film[a..=b], "bytes {a}-{b}");
    }
    assert_eq!(srv.get(&url).await.bytes().await.unwrap().as_ref(), &film[..]);
    let clip = srv.id_of("sub/clip.mp4").await;
    eventually(Duration::from_secs(60), "a thumbnail from the blob", || async {
        srv.get(&format!("/thumb/{clip}/320")).await.status() == 200
    })
    .await;
    srv.stop().await;
}

/// A self-hosted store over https with a certificate of its own CA
/// (`--objects-ca-file`) is served; without that file it shows offline,
/// saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_store_with_its_own_ca() {
    use std::sync::Arc;
    let Some(garage) = Garage::start() else { return };
    let film = synth::mp4_file(&synth::noise(150_000, 51), false);
    garage.put("a.mp4", &film).await;
    // TLS for localhost in front of Garage.
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = rustls_pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = garage.port;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut outer) = acceptor.accept(tcp).await else { return };
                let Ok(mut inner) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut outer, &mut inner).await;
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, cert.cert.pem()).unwrap();

    let data = tempfile::tempdir().unwrap();
    let mut opts = Options::new(data.path(), false);
    opts.objects = garage.args();
    opts.objects.s3_endpoint = Some(format!("https://localhost:{port}"));
    opts.objects.objects_ca_file = Some(ca);
    let srv = TestServer::start_with(&[Path::new("s3://films")], opts).await;
    let id = srv.id_of("a.mp4").await;
    let res = srv.get_with(&format!("/video/{id}"), &[("range", "bytes=1000-1999")]).await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &film[1000..2000]);
    srv.stop().await;

    // Without the CA: offline, and why.
    let data = tempfile::tempdir().unwrap();
    let mut opts = Options::new(data.path(), false);
    opts.objects = garage.args();
    opts.objects.s3_endpoint = Some(format!("https://localhost:{port}"));
    let srv = TestServer::start_with(&[Path::new("s3://films")], opts).await;
    let status = srv.json("/admin/cache/status").await;
    assert_eq!(status["roots"][0]["online"], false, "{status}");
    let why = status["roots"][0]["offline_reason"].as_str().unwrap();
    assert!(why.to_lowercase().contains("certificate"), "{why}");
    srv.stop().await;
}
