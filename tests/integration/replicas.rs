//! Several servers on one PostgreSQL database (`--database`), for real: a
//! PostgreSQL started on loopback by the tests. What one server writes
//! reaches the others' memory and open pages; a session made on one works
//! on the others at once; one server scans and the others follow its
//! index, and when it stops another takes over; a database restart under
//! writes loses no acknowledged write.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tempfile::TempDir;
use vidserve::people::Role;
use vidserve::store::testing::Postgres;

use crate::people::sign_in;
use crate::support::{eventually, send, Fixture, Options, TestServer};

const PASSWORD: &str = "correct horse battery";

/// A server over `dir` keeping its state in `database`, with a data dir
/// of its own.
async fn replica(dir: &Path, database: &str) -> (TestServer, TempDir) {
    let data = tempfile::tempdir().unwrap();
    let mut o = Options::new(data.path(), false);
    o.database = Some(database.to_string());
    (TestServer::start_with(&[dir], o).await, data)
}

/// A database of its own on the test process's PostgreSQL (`None`, said,
/// when there is none).
async fn database() -> Option<String> {
    tokio::task::spawn_blocking(|| Postgres::shared().map(Postgres::fresh_url)).await.unwrap()
}

/// Everything an open page on `srv` is sent, kept as it arrives.
fn listen(srv: &TestServer, cookie: Option<&str>) -> Arc<Mutex<String>> {
    let heard = Arc::new(Mutex::new(String::new()));
    let mut req = srv.client.get(srv.url("/api/v1/events"));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let kept = heard.clone();
    tokio::spawn(async move {
        let Ok(mut res) = req.send().await else { return };
        while let Ok(Some(chunk)) = res.chunk().await {
            kept.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    heard
}

async fn lists(srv: &TestServer, rel: &str) -> bool {
    srv.videos().await.iter().any(|v| v["paths"][0] == rel)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_share_the_library_and_hand_over_the_scanning() {
    let Some(url) = database().await else { return };
    let fx = Fixture::new();
    fx.mp4("a.mp4", 5000, 1);
    fx.mp4("b.mp4", 6000, 2);
    let (a, _da) = replica(fx.path(), &url).await;
    let (b, _db) = replica(fx.path(), &url).await;
    // B did not scan: it serves the index A wrote, under the same ids.
    let id = a.id_of("a.mp4").await;
    assert_eq!(b.id_of("a.mp4").await, id);
    assert_eq!(b.videos().await.len(), 2);

    // A rating made through A reaches a page open on B, and B's answers.
    let heard = listen(&b, None);
    eventually(Duration::from_secs(5), "B's stream is open", || async {
        heard.lock().unwrap().contains(": connected")
    })
    .await;
    let sent = Instant::now();
    assert_eq!(send(&a, "PUT", &format!("/api/v1/videos/{id}/rating"), Some(json!({ "rating": 4 }))).await.0, 200);
    eventually(Duration::from_secs(5), "B's page hears of A's rating", || async {
        heard.lock().unwrap().contains(r#""rating":4"#)
    })
    .await;
    eprintln!("a rating on A reached a page on B in {} ms", sent.elapsed().as_millis());
    assert_eq!(b.json(&format!("/api/v1/videos/{id}")).await["rating"], 4);
    // Tags, views and playlists too.
    assert_eq!(send(&b, "POST", &format!("/api/v1/videos/{id}/tags"), Some(json!({ "tag": "cats" }))).await.0, 200);
    assert_eq!(send(&b, "POST", &format!("/api/v1/videos/{id}/view"), None).await.0, 200);
    let (status, made) = send(&a, "POST", "/api/v1/playlists", Some(json!({ "name": "Trip", "ids": [id] }))).await;
    assert_eq!(status, 201, "{made}");
    eventually(Duration::from_secs(5), "A sees B's tag and view, B sees A's playlist", || async {
        let on_a = a.json(&format!("/api/v1/videos/{id}")).await;
        let lists = b.json("/api/v1/playlists").await;
        on_a["tags"] == json!(["cats"]) && on_a["views"] == 1 && lists["playlists"][0]["name"] == "Trip"
    })
    .await;
    // The other server's numbers were never reused: a playlist made on B
    // gets the next one.
    let (_, second) = send(&b, "POST", "/api/v1/playlists", Some(json!({ "name": "Later" }))).await;
    assert_eq!((made["id"].as_u64(), second["id"].as_u64()), (Some(1), Some(2)), "{made} {second}");

    // One scans (A, first to start); B picks up what it finds.
    fx.mp4("c.mp4", 7000, 3);
    assert_eq!(send(&a, "POST", "/admin/cache/refresh", None).await.0, 200);
    eventually(Duration::from_secs(10), "B lists the file A's scan found", || lists(&b, "c.mp4")).await;

    // A stops: B takes over the scanning within seconds.
    a.stop().await;
    fx.mp4("d.mp4", 8000, 4);
    eventually(Duration::from_secs(15), "B scans once A is gone", || async {
        send(&b, "POST", "/admin/cache/refresh", None).await;
        lists(&b, "d.mp4").await
    })
    .await;
    // What A wrote is still there for B.
    assert_eq!(b.json(&format!("/api/v1/videos/{id}")).await["rating"], 4);
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_on_one_server_works_on_the_other_at_once_and_a_sign_out_ends_it_on_both() {
    let Some(url) = database().await else { return };
    let fx = Fixture::new();
    fx.mp4("a.mp4", 5000, 1);
    let (a, _da) = replica(fx.path(), &url).await;
    let (b, _db) = replica(fx.path(), &url).await;
    let people = a.app.people().clone();
    tokio::task::spawn_blocking(move || people.add("ann", Role::Admin, Some(PASSWORD), None).unwrap()).await.unwrap();
    eventually(Duration::from_secs(5), "B asks who is there once A has an account", || async {
        b.get("/api/v1/videos").await.status() == 401
    })
    .await;
    // A session made on A, used on B straight away (no wait for the news).
    let cookie = sign_in(&a, "ann", PASSWORD).await;
    let on_b = b.client.get(b.url("/api/v1/videos")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(on_b.status(), 200);
    let people = a.app.people().clone();
    let token = tokio::task::spawn_blocking(move || people.new_token("ann").unwrap()).await.unwrap();
    let on_b = b.client.get(b.url("/api/v1/videos")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(on_b.status(), 200, "a token made on A works on B");
    // Ann's own rating, made on B, reaches only her pages on A.
    let id = b.id_of_as("a.mp4", &token).await;
    let heard = listen(&a, Some(&cookie));
    eventually(Duration::from_secs(5), "A's stream is open", || async {
        heard.lock().unwrap().contains(": connected")
    })
    .await;
    let rated = b.client.put(b.url(&format!("/api/v1/videos/{id}/rating"))).bearer_auth(&token);
    assert_eq!(rated.json(&json!({ "rating": 5 })).send().await.unwrap().status(), 200);
    eventually(Duration::from_secs(5), "A's page hears of ann's rating made on B", || async {
        heard.lock().unwrap().contains(r#""rating":5"#)
    })
    .await;
    // A signed link made on A plays from B: one secret for all.
    let asked = a.client.get(a.url(&format!("/api/v1/videos/{id}/link"))).header("cookie", &cookie).send().await;
    let v: serde_json::Value = asked.unwrap().json().await.unwrap();
    let url = v["url"].as_str().unwrap();
    let path = &url[url.find("/video/").expect("a link of the video's bytes")..];
    assert_eq!(b.client.get(b.url(path)).send().await.unwrap().status(), 200, "{url}");
    // Signing out on A ends the session on B within a second or so.
    let out = crate::people::no_redirects().post(a.url("/logout")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(out.status(), 303);
    eventually(Duration::from_secs(5), "the session ended on A is refused by B", || async {
        b.client.get(b.url("/api/v1/videos")).header("cookie", &cookie).send().await.unwrap().status() == 401
    })
    .await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_writes_loses_no_acknowledged_write_and_doubles_none() {
    let Some(pg) = tokio::task::spawn_blocking(Postgres::start).await.unwrap() else { return };
    let pg = Arc::new(pg);
    let server = pg.clone();
    let url = tokio::task::spawn_blocking(move || server.fresh_url()).await.unwrap();
    let fx = Fixture::new();
    for n in 0..4 {
        fx.mp4(&format!("{n}.mp4"), 4000 + n, n as u64);
    }
    let (srv, _data) = replica(fx.path(), &url).await;
    let ids: Vec<String> = srv.videos().await.iter().map(|v| v["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 4);
    // 16 writers count views for 4 s, each noting what was acknowledged.
    let srv = Arc::new(srv);
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut writers = Vec::new();
    for w in 0..16 {
        let (srv, id) = (srv.clone(), ids[w % ids.len()].clone());
        writers.push(tokio::spawn(async move {
            let (mut acked, mut refused, mut retry_after) = (0u64, 0u64, true);
            while Instant::now() < deadline {
                let res = srv.client.post(srv.url(&format!("/api/v1/videos/{id}/view"))).send().await;
                match res {
                    Ok(r) if r.status() == 200 => acked += 1,
                    Ok(r) => {
                        assert_eq!(r.status(), 503, "a write during the restart is refused, never a 500");
                        retry_after &= r.headers().contains_key("retry-after");
                        refused += 1;
                    }
                    Err(_) => refused += 1,
                }
            }
            (id, acked, refused, retry_after)
        }));
    }
    // The database goes away mid-way and comes back 1.5 s later.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.stop()).await.unwrap();
    eventually(Duration::from_secs(5), "/readyz says not ready while the database is down", || async {
        srv.get("/readyz").await.status() == 503
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let server = pg.clone();
    tokio::task::spawn_blocking(move || server.run()).await.unwrap();
    let mut acked = std::collections::HashMap::<String, (u64, u64)>::new();
    for w in writers {
        let (id, a, r, retry_after) = w.await.unwrap();
        assert!(retry_after, "every 503 says when to try again");
        let e = acked.entry(id).or_default();
        *e = (e.0 + a, e.1 + r);
    }
    eventually(Duration::from_secs(10), "/readyz is ready again", || async {
        srv.get("/readyz").await.status() == 200
    })
    .await;
    // What the database holds, read afresh: every acknowledged view, and
    // at most the refused ones more (refused after the commit, unknown to
    // the writer; never one view counted twice).
    let db = vidserve::config::database::Database::parse(&url, None).unwrap();
    let stored = tokio::task::spawn_blocking(move || {
        use vidserve::store::Store;
        vidserve::store::PgStore::open(&db).unwrap().load_user().unwrap()
    })
    .await
    .unwrap();
    let (mut total_acked, mut total_refused) = (0, 0);
    for (id, (a, r)) in &acked {
        let views = stored.iter().find(|(k, _)| k.to_string() == *id).map_or(0, |(_, d)| d.views);
        assert!(*a <= views && views <= a + r, "{id}: {a} acknowledged, {r} refused, {views} stored");
        total_acked += a;
        total_refused += r;
    }
    assert!(total_acked > 0);
    eprintln!("restart under writes: {total_acked} views acknowledged and kept, {total_refused} refused");
    let srv = Arc::try_unwrap(srv).ok().expect("the writers are done");
    srv.stop().await;
}

/// A process killed and waited for when dropped (a failed test leaves
/// none behind).
struct Running(std::process::Child);

impl Running {
    /// SIGKILL, as a crash.
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A vidserve process on `port` keeping its state in `database`.
fn process(dir: &Path, data: &Path, port: u16, database: &str) -> Running {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_vidserve"))
        .arg("--dir")
        .arg(dir)
        .arg("--data")
        .arg(data)
        .args(["--bind", &format!("127.0.0.1:{port}"), "--database", database, "--no-watch"])
        .args(["--trusted-proxy", "127.0.0.1", "--log", "warn"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("vidserve starts");
    Running(child)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// nginx (one worker) in front of `upstreams`, trying the next on a
/// refused or dropped connection, as the README's example does.
struct Proxy {
    dir: TempDir,
    child: std::process::Child,
    port: u16,
}

impl Proxy {
    fn start(upstreams: &[u16]) -> Option<Proxy> {
        let Some(nginx) = ["/usr/sbin/nginx", "/usr/bin/nginx"].into_iter().find(|p| Path::new(p).is_file()) else {
            crate::support::skip("no nginx (apt-get install nginx-light, or .ci/run)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let d = dir.path().display();
        let servers: String =
            upstreams.iter().map(|p| format!("    server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;\n")).collect();
        let conf = format!(
            "worker_processes 1;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{}}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/f;\n  uwsgi_temp_path {d}/u;\n  scgi_temp_path {d}/s;\n\
             upstream vidserve {{\n{servers}  }}\n\
             server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://vidserve;\n\
             proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n      proxy_set_header Host $host;\n\
             proxy_set_header X-Forwarded-For $remote_addr;\n      proxy_buffering off;\n\
             proxy_next_upstream error timeout http_502 http_503;\n      proxy_connect_timeout 2s;\n    }}\n  }}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
        let child = std::process::Command::new(nginx)
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nginx starts");
        Some(Proxy { dir, child, port })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Proxy {
    /// A fast shutdown (SIGTERM): the master stops its worker too, which
    /// a SIGKILL of the master would leave running.
    fn drop(&mut self) {
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

/// Waits until `url` answers 200.
async fn answers(client: &reqwest::Client, url: &str) {
    eventually(Duration::from_secs(30), url, || async {
        client.get(url).send().await.is_ok_and(|r| r.status() == 200)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_a_killed_replica_is_not_noticed_and_another_takes_over_the_scanning() {
    let Some(url) = database().await else { return };
    let fx = Fixture::new();
    let film = fx.mp4("film.mp4", 400_000, 7);
    let (data_a, data_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (port_a, port_b) = (free_port(), free_port());
    let client = crate::support::client();
    // A starts first and scans; B follows.
    let mut a = process(fx.path(), data_a.path(), port_a, &url);
    answers(&client, &format!("http://127.0.0.1:{port_a}/readyz")).await;
    let mut b = process(fx.path(), data_b.path(), port_b, &url);
    answers(&client, &format!("http://127.0.0.1:{port_b}/readyz")).await;
    // Behind the proxy only its health checks are answered directly.
    let direct = client.get(format!("http://127.0.0.1:{port_b}/api/v1/videos")).send().await.unwrap();
    assert_eq!(direct.status(), 403, "a trusted proxy's own request names no client");
    let Some(proxy) = Proxy::start(&[port_a, port_b]) else { return };
    answers(&client, &proxy.url("/readyz")).await;
    let listed: serde_json::Value = client.get(proxy.url("/api/v1/videos")).send().await.unwrap().json().await.unwrap();
    let id = listed["videos"][0]["id"].as_str().unwrap().to_string();
    let range = |from: usize| {
        let (client, url) = (client.clone(), proxy.url(&format!("/video/{id}")));
        async move {
            let res = client.get(url).header("range", format!("bytes={from}-{}", from + 65_535)).send().await.unwrap();
            (res.status().as_u16(), res.bytes().await.unwrap())
        }
    };
    // A player reads the film through the proxy, from both replicas.
    for at in [0, 65_536, 131_072, 196_608] {
        let (status, bytes) = range(at).await;
        assert_eq!(status, 206);
        assert_eq!(&bytes[..], &film[at..at + 65_536]);
    }
    // A dies mid-film: the next range through the proxy is served, the same bytes.
    a.kill();
    let killed = Instant::now();
    for at in [262_144, 0, 327_680] {
        let (status, bytes) = range(at).await;
        assert_eq!(status, 206, "served by the replica left");
        assert_eq!(&bytes[..], &film[at..at + 65_536]);
    }
    eprintln!("first range after a replica's death: {} ms", killed.elapsed().as_millis());
    // A was the scanner: B takes over and finds a new file.
    fx.mp4("new.mp4", 9000, 8);
    let took_over = Instant::now();
    eventually(Duration::from_secs(20), "B scans in A's place and lists the new file", || async {
        let _ = client.post(proxy.url("/admin/cache/refresh")).send().await;
        let v: serde_json::Value = client.get(proxy.url("/api/v1/videos")).send().await.unwrap().json().await.unwrap();
        v["videos"].as_array().is_some_and(|all| all.iter().any(|v| v["paths"][0] == "new.mp4"))
    })
    .await;
    eprintln!("the other replica scanned in the dead one's place within {} ms", took_over.elapsed().as_millis());
    b.kill();
}

fn vidserve(args: &[&str]) -> std::process::Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_vidserve"));
    c.env_remove("VIDSERVE_DATABASE_URL").env_remove("PGPASSWORD").env_remove("RUST_LOG").env_remove("CACHE_TTL");
    c.args(args).stdin(std::process::Stdio::null()).output().expect("vidserve runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_household_moves_from_the_data_dir_to_postgresql_without_losing_anything() {
    let Some(url) = database().await else { return };
    let fx = Fixture::new();
    fx.mp4("a.mp4", 5000, 1);
    fx.mp4("b.mp4", 6000, 2);
    // A household on the data dir: an account, a session, a rating, a playlist.
    let data = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(&[fx.path()], Options::new(data.path(), false)).await;
    let people = srv.app.people().clone();
    tokio::task::spawn_blocking(move || people.add("ann", Role::Admin, Some(PASSWORD), None).unwrap()).await.unwrap();
    let cookie = sign_in(&srv, "ann", PASSWORD).await;
    let id = srv
        .id_of_as("a.mp4", &{
            let people = srv.app.people().clone();
            tokio::task::spawn_blocking(move || people.new_token("ann").unwrap()).await.unwrap()
        })
        .await;
    let with_cookie = |req: reqwest::RequestBuilder| req.header("cookie", &cookie);
    let rated = with_cookie(srv.client.put(srv.url(&format!("/api/v1/videos/{id}/rating"))));
    assert_eq!(rated.json(&json!({ "rating": 5 })).send().await.unwrap().status(), 200);
    let listed = with_cookie(srv.client.post(srv.url("/api/v1/playlists")));
    assert_eq!(listed.json(&json!({ "name": "Best", "ids": [id] })).send().await.unwrap().status(), 201);
    srv.stop().await;

    let (d, fx_dir) = (data.path().to_str().unwrap(), fx.path().to_str().unwrap());
    let out = vidserve(&["migrate", "--data", d, "--to", &url]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("1 accounts") && said.contains("1 sessions") && said.contains("1 playlists"), "{said}");
    // A second time is refused: the database is no longer empty.
    let again = vidserve(&["migrate", "--data", d, "--to", &url]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already holds"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // Served from the database with a fresh data dir: the same ids at
    // once (no rescan), the rating, the playlist, and Ann's session.
    let (srv, _fresh) = replica(fx.path(), &url).await;
    let get = |path: String| srv.client.get(srv.url(&path)).header("cookie", &cookie).send();
    let v: serde_json::Value = get(format!("/api/v1/videos/{id}")).await.unwrap().json().await.unwrap();
    assert_eq!(v["rating"], 5, "{v}");
    let lists: serde_json::Value = get("/api/v1/playlists".into()).await.unwrap().json().await.unwrap();
    assert_eq!(lists["playlists"][0]["name"], "Best", "{lists}");
    assert!(!sign_in(&srv, "ann", PASSWORD).await.is_empty(), "her password works");
    srv.stop().await;

    // An export of the data dir imported into another database exports the same.
    let Some(other) = database().await else { return };
    let (data2, export) = (tempfile::tempdir().unwrap(), fx.path().join("export.json"));
    let before = vidserve(&["export", "--data", d, "--dir", fx_dir, "-o", export.to_str().unwrap()]);
    assert!(before.status.success(), "{}", String::from_utf8_lossy(&before.stderr));
    let d2 = data2.path().to_str().unwrap();
    let import = vidserve(&["import", "--database", &other, "--data", d2, "--dir", fx_dir, export.to_str().unwrap()]);
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let after = vidserve(&["export", "--database", &other, "--data", d2, "--dir", fx_dir]);
    assert!(after.status.success(), "{}", String::from_utf8_lossy(&after.stderr));
    let first: serde_json::Value = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let second: serde_json::Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(first["videos"][0]["rating"], 5, "{first}");
    for part in ["videos", "playlists", "people"] {
        assert_eq!(first[part], second[part], "{part}");
    }
}
