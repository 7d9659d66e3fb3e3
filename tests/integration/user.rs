//! Ratings, views and favorites: API, the original's routes, bad input,
//! and durability (every acknowledged write survives `kill -9`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{eventually, send, Fixture, Options, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_writes_and_bad_input() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 600);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let id = srv.id_of("a.mp4").await;
    let base = format!("/api/v1/videos/{id}");

    let (s, v) = send(&srv, "PUT", &format!("{base}/rating"), Some(json!({ "rating": 4 }))).await;
    assert_eq!((s, v["rating"].clone()), (200, json!(4)));
    assert_eq!(srv.json(&base).await["rating"], 4);
    for bad in [json!({ "rating": 0 }), json!({ "rating": 6 }), json!({ "rating": "x" }), json!({})] {
        let (s, v) = send(&srv, "PUT", &format!("{base}/rating"), Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad}");
        assert_eq!(v["error"]["code"], "bad_request");
    }
    assert_eq!(srv.json(&base).await["rating"], 4, "bad input changed nothing");
    let (s, v) = send(&srv, "DELETE", &format!("{base}/rating"), None).await;
    assert_eq!((s, v["rating"].clone()), (200, Value::Null));

    let (s, v) = send(&srv, "PUT", &format!("{base}/favorite"), None).await;
    assert_eq!((s, v["favorite"].clone()), (200, json!(true)));
    let (_, v) = send(&srv, "DELETE", &format!("{base}/favorite"), None).await;
    assert_eq!(v["favorite"], false);
    for n in 1..=3 {
        let (s, v) = send(&srv, "POST", &format!("{base}/view"), None).await;
        assert_eq!((s, v["views"].clone()), (200, json!(n)));
    }
    // Range requests are not views.
    srv.get_with("/video/a.mp4", &[("range", "bytes=0-9")]).await;
    assert_eq!(srv.json(&base).await["views"], 3);

    let raw = srv.client.put(srv.url(&format!("{base}/rating"))).header("content-type", "application/json");
    let res = raw.body("{not json").send().await.unwrap();
    assert_eq!(res.status(), 400);
    // A 10 MB body is refused from its declared length, without reading it...
    let head =
        format!("PUT {base}/rating HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 10485760\r\n\r\n");
    let raw = srv.raw(&[head.as_bytes(), &[b' '; 4096]].concat()).await;
    assert_eq!(crate::support::status_of(&raw), 413, "{raw}");
    // ...and a chunked one as soon as it passes the limit.
    let chunk = format!("{:x}\r\n{}\r\n", 70_000, " ".repeat(70_000));
    let head = format!("PUT {base}/rating HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n{chunk}0\r\n\r\n");
    let raw = srv.raw(head.as_bytes()).await;
    assert_eq!(crate::support::status_of(&raw), 413, "{raw}");
    let (s, _) = send(&srv, "PUT", "/api/v1/videos/0123456789abcdef/rating", Some(json!({ "rating": 3 }))).await;
    assert_eq!(s, 404);
    let (s, _) = send(&srv, "GET", &format!("{base}/rating"), None).await;
    assert_eq!(s, 405);
    let cross = srv.client.put(srv.url(&format!("{base}/favorite"))).header("origin", "http://evil.example");
    assert_eq!(cross.send().await.unwrap().status(), 403);
    assert_eq!(srv.json(&base).await["favorite"], false, "the cross-site write did nothing");

    let page = srv.get(&format!("/watch/{id}")).await.text().await.unwrap();
    assert!(page.contains("3 views"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_survive_a_restart() {
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 620);
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let id = srv.id_of("a.mp4").await;
    send(&srv, "PUT", &format!("/api/v1/videos/{id}/rating"), Some(json!({ "rating": 3 }))).await;
    send(&srv, "PUT", &format!("/api/v1/videos/{id}/favorite"), None).await;
    srv.stop().await;
    // Renamed while stopped: the data follows the content.
    std::fs::rename(fx.path().join("a.mp4"), fx.path().join("renamed.mp4")).unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    assert!(srv.app.library().rescan_and_wait(Duration::from_secs(30)).await);
    let v = srv.json(&format!("/api/v1/videos/{id}")).await;
    assert_eq!((v["rating"].clone(), v["favorite"].clone()), (json!(3), json!(true)));
    assert_eq!(v["paths"][0], "renamed.mp4");
}

/// Starts the real binary and returns it with its base URL.
fn spawn_server(dir: &std::path::Path, data: &std::path::Path) -> (std::process::Child, String) {
    // Its errors go to a file beside the data, shown if it does not start.
    let errors = data.with_extension("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vidserve"))
        .args(["--dir", dir.to_str().unwrap(), "--data", data.to_str().unwrap()])
        .args(["--bind", "127.0.0.1:0", "--no-watch", "--log", "error"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&errors).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("Local:").map(|u| u.trim().to_string()))
        .unwrap_or_else(|| {
            panic!(
                "no Local: line; the server {:?} said: {}",
                child.try_wait(),
                std::fs::read_to_string(&errors).unwrap_or_default()
            )
        });
    let _ = std::fs::remove_file(&errors);
    std::thread::spawn(move || lines.for_each(drop)); // keep stdout drained
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9() {
    let fx = Fixture::new();
    for i in 0..4 {
        fx.mp4(&format!("v{i}.mp4"), 1000, 630 + i);
    }
    let data = tempfile::tempdir().unwrap();
    let (mut child, url) = spawn_server(fx.path(), data.path());
    let client = crate::support::client_builder().build().unwrap();
    let listed = || async {
        let Ok(r) = client.get(format!("{url}api/v1/videos")).send().await else { return Vec::new() };
        let v: Value = r.json().await.unwrap();
        v["videos"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    eventually(Duration::from_secs(30), "the four videos listed", || async { listed().await.len() == 4 }).await;
    let ids = listed().await;
    assert_eq!(ids.len(), 4);

    // 50 clients post views as fast as they can; the server is killed mid-way.
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
    // The kill ends the load; this only bounds it if the kill never comes.
    let stop_at = Instant::now() + Duration::from_secs(60);
    let mut tasks = Vec::new();
    for c in 0..50usize {
        let (client, url, ids, acked, sent) = (client.clone(), url.clone(), ids.clone(), acked.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = c;
            while Instant::now() < stop_at {
                let i = n % 4;
                n += 1;
                sent[i].fetch_add(1, Ordering::SeqCst);
                let res = client.post(format!("{url}api/v1/videos/{}/view", ids[i])).send().await;
                match res {
                    Ok(r) if r.status() == 200 => {
                        acked[i].fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) => return, // the server is gone
                }
            }
        }));
    }
    // Killed mid-way: once the load is well under way (five times the
    // acknowledgements asked for below), with every client still sending.
    let acked_now = || acked.iter().map(|a| a.load(Ordering::SeqCst)).sum::<u64>();
    eventually(Duration::from_secs(30), "500 views acknowledged", || async { acked_now() >= 500 }).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let total_acked: u64 = acked.iter().map(|a| a.load(Ordering::SeqCst)).sum();
    assert!(total_acked > 100, "the load ran ({total_acked} acknowledged)");

    let (mut child, url) = spawn_server(fx.path(), data.path());
    for (i, id) in ids.iter().enumerate() {
        let v: Value = client.get(format!("{url}api/v1/videos/{id}")).send().await.unwrap().json().await.unwrap();
        let found = v["views"].as_u64().unwrap();
        let (a, s) = (acked[i].load(Ordering::SeqCst), sent[i].load(Ordering::SeqCst));
        eprintln!("video {i}: acknowledged {a}, sent {s}, found {found}");
        assert!(found >= a && found <= s, "video {i}: acknowledged {a}, sent {s}, found {found}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorts_filters_and_random_use_user_data() {
    let fx = Fixture::new();
    for (name, seed) in [("alpha.mp4", 640), ("bravo.mp4", 641), ("charlie.mp4", 642)] {
        fx.mp4(name, 1000, seed);
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let (a, b, c) = (srv.id_of("alpha.mp4").await, srv.id_of("bravo.mp4").await, srv.id_of("charlie.mp4").await);
    send(&srv, "PUT", &format!("/api/v1/videos/{a}/rating"), Some(json!({ "rating": 5 }))).await;
    send(&srv, "PUT", &format!("/api/v1/videos/{b}/rating"), Some(json!({ "rating": 3 }))).await;
    for id in [&c, &c, &c, &a] {
        send(&srv, "POST", &format!("/api/v1/videos/{id}/view"), None).await;
    }
    send(&srv, "PUT", &format!("/api/v1/videos/{b}/favorite"), None).await;

    let ids = |v: Value| -> Vec<String> {
        v["videos"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(srv.json("/api/v1/videos?sort=rating&order=desc").await), [a.clone(), b.clone(), c.clone()]);
    assert_eq!(ids(srv.json("/api/v1/videos?sort=views&order=desc").await), [c.clone(), a.clone(), b.clone()]);
    assert_eq!(ids(srv.json("/api/v1/videos?sort=views&order=asc").await), [b.clone(), a.clone(), c.clone()]);
    let favs = srv.json("/api/v1/videos?favorites=1").await;
    assert_eq!((favs["total"].clone(), ids(favs)), (json!(1), vec![b.clone()]));
    assert_eq!(ids(srv.json("/api/v1/videos?min_rating=4").await), vec![a.clone()]);
    assert_eq!(srv.get("/api/v1/videos?min_rating=9").await.status(), 400);
    // Unwatched: bravo only (the household counts views); the length filters
    // keep videos of known length within bounds.
    assert_eq!(ids(srv.json("/api/v1/videos?unwatched=1").await), vec![b.clone()]);
    assert_eq!(srv.json("/api/v1/videos?unwatched=1&max_minutes=0").await["total"], 0);
    for bad in ["max_minutes=-1", "min_minutes=NaN", "min_minutes=99999999"] {
        assert_eq!(srv.get(&format!("/api/v1/videos?{bad}")).await.status(), 400, "{bad}");
    }

    let page = srv.get("/favorites").await.text().await.unwrap();
    assert!(page.contains("bravo") && !page.contains("alpha") && !page.contains("charlie"));
    let page = srv.get("/best-of").await.text().await.unwrap();
    assert!(page.contains("alpha") && !page.contains("bravo"));
    let page = srv.get("/?sort=rating").await.text().await.unwrap();
    assert!(page.find("alpha").unwrap() < page.find("bravo").unwrap());
    assert!(page.contains("5★") && page.contains("3 views"));

    let res = srv.get("/random?favorites=1").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], format!("/watch/{b}").as_str());
    assert_eq!(srv.json("/api/v1/random?min_rating=5").await["id"], a.as_str());
    assert_eq!(srv.get("/random?min_rating=5&favorites=1").await.status(), 404);
    let res = srv.get("/random").await;
    assert_eq!(res.status(), 302);
    // Random respects the search, alone and with filters, on the page and
    // in the API; a search that finds nothing has nothing to pick from.
    for _ in 0..10 {
        let res = srv.get("/random?q=charlie").await;
        assert_eq!(res.headers()["location"], format!("/watch/{c}").as_str());
        assert_eq!(srv.json("/api/v1/random?q=bravo").await["id"], b.as_str());
        let picked = srv.json("/api/v1/random?q=mp4&min_rating=4").await;
        assert_eq!(picked["id"], a.as_str());
    }
    assert_eq!(srv.get("/random?q=zulu").await.status(), 404);
    assert_eq!(srv.get("/api/v1/random?q=zulu").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_single_batch_and_legacy() {
    let fx = Fixture::new();
    for (name, seed) in [("alpha.mp4", 650), ("bravo.mp4", 651), ("charlie.mp4", 652)] {
        fx.mp4(name, 1000, seed);
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let (a, b, c) = (srv.id_of("alpha.mp4").await, srv.id_of("bravo.mp4").await, srv.id_of("charlie.mp4").await);
    let tags_of = |v: &Value| v["tags"].clone();

    let (s, v) =
        send(&srv, "POST", &format!("/api/v1/videos/{a}/tags"), Some(json!({ "tag": "#Holiday  2019" }))).await;
    assert_eq!((s, tags_of(&v)), (200, json!(["Holiday 2019"])));
    let (_, v) = send(&srv, "POST", &format!("/api/v1/videos/{a}/tags"), Some(json!({ "tag": "holiday 2019" }))).await;
    assert_eq!(tags_of(&v), json!(["Holiday 2019"]), "the same tag, whatever its case");
    for bad in
        [json!({ "tag": "" }), json!({ "tag": "   #" }), json!({ "tag": "a,b" }), json!({ "tag": "x".repeat(10_000) })]
    {
        let (s, _) = send(&srv, "POST", &format!("/api/v1/videos/{a}/tags"), Some(bad)).await;
        assert_eq!(s, 400);
    }
    let (s, v) = send(&srv, "DELETE", &format!("/api/v1/videos/{a}/tags/HOLIDAY%202019"), None).await;
    assert_eq!((s, tags_of(&v)), (200, json!([])));

    // Batch: tag all three, then untag one, favorite two — one commit each.
    let (s, v) =
        send(&srv, "POST", "/api/v1/batch", Some(json!({ "ids": [a, b, c], "add_tags": ["cats", "#fun"] }))).await;
    assert_eq!((s, v["changes"].clone()), (200, json!(6)));
    let (s, _) =
        send(&srv, "POST", "/api/v1/batch", Some(json!({ "ids": [b], "remove_tags": ["fun"], "favorite": true })))
            .await;
    assert_eq!(s, 200);
    assert_eq!(srv.json(&format!("/api/v1/videos/{b}")).await["tags"], json!(["cats"]));
    let (s, _) =
        send(&srv, "POST", "/api/v1/batch", Some(json!({ "ids": ["0123456789abcdef"], "add_tags": ["x"] }))).await;
    assert_eq!(s, 404);
    let (s, _) = send(&srv, "POST", "/api/v1/batch", Some(json!({ "ids": [a], "add_tags": [""] }))).await;
    assert_eq!(s, 400);
    let (s, _) = send(&srv, "POST", "/api/v1/batch", Some(json!({ "ids": "nope" }))).await;
    assert_eq!(s, 400);

    assert_eq!(
        srv.json("/api/v1/tags").await["tags"],
        json!([{ "tag": "cats", "count": 3 }, { "tag": "fun", "count": 2 }])
    );
    let listed = srv.json("/api/v1/videos?tag=cats,fun&sort=title&order=asc").await;
    let titles: Vec<&str> = listed["videos"].as_array().unwrap().iter().map(|v| v["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["alpha", "charlie"]);
    let page = srv.get("/tags").await.text().await.unwrap();
    assert!(page.contains("#cats") && page.contains("href=\"/tag/cats\""));
    let page = srv.get("/tag/fun").await.text().await.unwrap();
    assert!(page.contains("alpha") && page.contains("charlie") && !page.contains("bravo"));
    assert!(srv.get("/tag/%23fun").await.text().await.unwrap().contains("alpha"), "#tag and tag are the same");

    // The original's routes.
    let (s, v) = send(&srv, "POST", "/tag", Some(json!({ "filename": "bravo.mp4", "tag": "#retro" }))).await;
    assert_eq!((s, v), (200, json!({ "success": true, "tags": ["cats", "retro"] })));
    let (s, _) = send(&srv, "POST", "/tag", Some(json!({ "filename": "bravo.mp4", "tag": "" }))).await;
    assert_eq!(s, 400);
    let (_, v) = send(&srv, "POST", "/delete_tag", Some(json!({ "filename": "bravo.mp4", "tag": "cats" }))).await;
    assert_eq!(v, json!({ "success": true, "tags": ["retro"] }));
}

/// Reads from an event stream until `want` appears; returns what was read.
pub async fn read_until(s: &mut tokio::net::TcpStream, want: &str) -> String {
    use tokio::io::AsyncReadExt;
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(20);
    while !seen.contains(want) {
        let left = deadline.saturating_duration_since(Instant::now());
        let n = tokio::time::timeout(left, s.read(&mut buf)).await.expect("in time").unwrap();
        assert!(n > 0, "stream ended before {want:?}: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_reach_open_pages_and_end_on_shutdown() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fx = Fixture::new();
    fx.mp4("a.mp4", 1000, 660);
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), true)).await;
    let id = srv.id_of("a.mp4").await;
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /api/v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n").await.unwrap();
    let head = read_until(&mut s, ": connected").await;
    assert!(head.contains("content-type: text/event-stream"), "{head}");

    send(&srv, "PUT", &format!("/api/v1/videos/{id}/rating"), Some(json!({ "rating": 2 }))).await;
    let got = read_until(&mut s, "\"rating\":2").await;
    assert!(got.contains("event: user\ndata: {") && got.contains(&format!("\"id\":\"{id}\"")), "{got}");

    fx.mp4("b.mp4", 1000, 661);
    read_until(&mut s, "event: library").await;

    // Shutdown ends the stream: the connection closes instead of hanging.
    srv.stop().await;
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut rest)).await.expect("the stream ends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_and_resume_positions() {
    let fx = Fixture::new();
    fx.mp4("zz last.mp4", 1000, 670);
    fx.mp4("aa first.mp4", 1000, 671);
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let z = srv.id_of("zz last.mp4").await;
    let (s, v) =
        send(&srv, "PATCH", &format!("/api/v1/videos/{z}"), Some(json!({ "title": "  Alpha   Omega " }))).await;
    assert_eq!((s, v["title"].clone()), (200, json!("Alpha Omega")));
    let listed = srv.json("/api/v1/videos?sort=title&order=asc").await;
    let titles: Vec<&str> = listed["videos"].as_array().unwrap().iter().map(|v| v["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["aa first", "Alpha Omega"], "sorted by the title shown");
    assert_eq!(listed["videos"][1]["file_title"], "zz last");
    assert_eq!(srv.json("/api/v1/videos?q=omega").await["total"], 1, "searchable");
    assert!(srv.get(&format!("/watch/{z}")).await.text().await.unwrap().contains("Alpha Omega"));
    assert!(std::fs::metadata(fx.path().join("zz last.mp4")).is_ok(), "the file is not renamed");
    for bad in [json!({ "title": "a\u{7}b" }), json!({ "title": "x".repeat(301) })] {
        let (s, _) = send(&srv, "PATCH", &format!("/api/v1/videos/{z}"), Some(bad)).await;
        assert_eq!(s, 400);
    }
    let (_, v) = send(&srv, "PATCH", &format!("/api/v1/videos/{z}"), Some(json!({ "title": null }))).await;
    assert_eq!(v["title"], Value::Null);
    assert_eq!(srv.json(&format!("/api/v1/videos/{z}")).await["title"], "zz last");

    let pos = format!("/api/v1/videos/{z}/position");
    let (s, v) = send(&srv, "PUT", &pos, Some(json!({ "seconds": 4.5 }))).await;
    assert_eq!((s, v["position_ms"].clone()), (200, json!(4500)));
    let page = srv.get("/").await.text().await.unwrap();
    assert!(page.contains("Continue watching") && !page.contains("data-resume"));
    let watch = srv.get(&format!("/watch/{z}")).await.text().await.unwrap();
    assert!(watch.contains("data-resume=\"4500\""));
    for bad in [json!({ "seconds": -1 }), json!({ "seconds": "soon" }), json!({})] {
        let (s, _) = send(&srv, "PUT", &pos, Some(bad)).await;
        assert_eq!(s, 400);
    }
    let (_, v) = send(&srv, "DELETE", &pos, None).await;
    assert_eq!(v["position_ms"], Value::Null);
    assert!(!srv.get("/").await.text().await.unwrap().contains("Continue watching"));
}

/// Where a person is with each video: `show=unwatched|in_progress|watched`
/// in the API and the library's Show menu, carried by its links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_unwatched_in_progress_or_watched() {
    let fx = Fixture::new();
    for (i, name) in ["begun.mp4", "seen.mp4", "new.mp4"].iter().enumerate() {
        fx.mp4(name, 1000, 4200 + i as u64);
    }
    let (srv, _data) = TestServer::start(&[fx.path()]).await;
    let (begun, seen) = (srv.id_of("begun.mp4").await, srv.id_of("seen.mp4").await);
    let (s, _) = send(&srv, "PUT", &format!("/api/v1/videos/{begun}/position"), Some(json!({ "seconds": 3.0 }))).await;
    assert_eq!(s, 200);
    let (s, _) = send(&srv, "POST", &format!("/api/v1/videos/{seen}/view"), None).await;
    assert_eq!(s, 200);
    let names = |v: Value| -> Vec<String> {
        let mut n: Vec<String> =
            v["videos"].as_array().unwrap().iter().map(|v| v["paths"][0].as_str().unwrap().into()).collect();
        n.sort();
        n
    };
    assert_eq!(names(srv.json("/api/v1/videos?show=in_progress").await), ["begun.mp4"]);
    assert_eq!(names(srv.json("/api/v1/videos?show=watched").await), ["seen.mp4"]);
    assert_eq!(names(srv.json("/api/v1/videos?show=unwatched").await), ["begun.mp4", "new.mp4"]);
    assert_eq!(names(srv.json("/api/v1/videos?unwatched=1").await), ["begun.mp4", "new.mp4"], "the older flag");
    assert_eq!(names(srv.json("/api/v1/videos?show=all").await).len(), 3);
    assert_eq!(srv.get("/api/v1/videos?show=bogus").await.status(), 400);
    let page = srv.get("/?show=in_progress").await.text().await.unwrap();
    assert!(page.contains(r#"<option value="in_progress" selected>In progress</option>"#), "{page}");
    assert!(
        page.contains("1 video") && page.contains("/random?sort=added&amp;order=desc&amp;show=in_progress"),
        "{page}"
    );
}
