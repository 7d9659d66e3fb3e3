//! Test support: fixtures made at test time, and a real server on
//! 127.0.0.1:0 that shuts down on drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::sync::oneshot;
use vidserve::cli::LibraryArgs;
use vidserve::config::ZeroCopy;
use vidserve::config::{Config, LibraryConfig};
use vidserve::library::probe::synth;
use vidserve::App;

/// A temp dir of videos.
pub struct Fixture {
    pub dir: TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture { dir: tempfile::tempdir().expect("temp dir") }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `bytes` at `rel` (creating folders) and returns the full path.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// A structurally valid MP4 with `len` bytes of noise as media data.
    pub fn mp4(&self, rel: &str, len: usize, seed: u64) -> Vec<u8> {
        let bytes = synth::mp4_file(&synth::noise(len, seed), false);
        self.write(rel, &bytes);
        bytes
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub struct Options {
    pub data: PathBuf,
    pub watch: bool,
    /// Cached video bytes go out with sendfile (`Off`: `--no-sendfile`).
    pub zero_copy: ZeroCopy,
    /// `None`: ffmpeg on PATH (when there is one).
    pub ffmpeg: Option<PathBuf>,
    pub ffmpeg_timeout: Duration,
    /// `--host-name`s.
    pub host_names: Vec<String>,
    /// `--trusted-proxy` addresses.
    pub trusted_proxies: Vec<vidserve::cli::Network>,
    /// `--keep-backups`.
    pub keep_backups: usize,
    pub body_timeout: Duration,
    pub write_timeout: Duration,
    pub max_event_streams: usize,
    pub guest: bool,
    /// `--allow-public`.
    pub allow_public: bool,
    pub chat: Option<vidserve::config::chat::ChatConfig>,
    /// Where `s3://` and `az://` roots are.
    pub objects: vidserve::cli::ObjectArgs,
    /// `--s3-redirect`.
    pub s3_redirect: bool,
    /// `--cache-ttl`: how often polled roots are walked again.
    pub rescan_every: Duration,
    /// `--database`: state in PostgreSQL instead of the data dir.
    pub database: Option<String>,
    /// `--tls-cert`/`--tls-key` or `--tls auto`.
    pub tls: Option<vidserve::tls::Source>,
    /// `--max-transcodes`.
    pub max_transcodes: usize,
    /// `--transcode-encoder` (software unless a test tries the hardware).
    pub transcode_encoder: vidserve::cli::TranscodeEncoder,
    pub background_reads: bool,
}

impl Options {
    pub fn new(data: &Path, watch: bool) -> Options {
        Options {
            data: data.to_path_buf(),
            watch,
            zero_copy: ZeroCopy::Auto,
            ffmpeg: None,
            ffmpeg_timeout: Duration::from_secs(30),
            host_names: Vec::new(),
            trusted_proxies: Vec::new(),
            keep_backups: 3,
            body_timeout: Duration::from_secs(20),
            write_timeout: Duration::from_secs(60),
            max_event_streams: 256,
            guest: false,
            allow_public: false,
            chat: None,
            objects: Default::default(),
            s3_redirect: false,
            rescan_every: Duration::from_secs(3600),
            database: None,
            tls: None,
            max_transcodes: 2,
            transcode_encoder: vidserve::cli::TranscodeEncoder::Software,
            background_reads: true,
        }
    }
}

impl TestServer {
    /// Starts a server over `dirs` with a data dir of its own (kept in the
    /// returned TempDir) and waits for the first scan.
    pub async fn start(dirs: &[&Path]) -> (TestServer, TempDir) {
        let data = tempfile::tempdir().unwrap();
        let srv = Self::start_with(dirs, Options::new(data.path(), false)).await;
        (srv, data)
    }

    pub async fn start_with(dirs: &[&Path], opts: Options) -> TestServer {
        let args = LibraryArgs {
            dirs: dirs.iter().map(|d| d.to_path_buf()).collect(),
            data: Some(opts.data),
            database: vidserve::cli::DatabaseArgs { database: opts.database.clone(), database_password_file: None },
            objects: opts.objects.clone(),
        };
        let config = Config {
            library: LibraryConfig::from_args(&args).expect("valid test config"),
            bind: "127.0.0.1:0".parse().unwrap(),
            rescan_every: opts.rescan_every,
            watch: opts.watch,
            zero_copy: opts.zero_copy,
            max_connections: 256,
            max_connections_per_client: 128,
            allow_public: opts.allow_public,
            host_names: opts.host_names,
            trusted_proxies: opts.trusted_proxies,
            keep_backups: opts.keep_backups,
            body_timeout: opts.body_timeout,
            write_timeout: opts.write_timeout,
            max_event_streams: opts.max_event_streams,
            guest: opts.guest,
            s3_redirect: opts.s3_redirect,
            tls: opts.tls,
            dlna: None,
            media: vidserve::config::MediaConfig {
                ffmpeg: opts.ffmpeg,
                ffmpeg_timeout: opts.ffmpeg_timeout,
                jobs: 1,
                transcode: vidserve::config::TranscodeSettings {
                    max: opts.max_transcodes,
                    crf: 28,
                    max_kbps: 2000,
                    choice: opts.transcode_encoder,
                },
                background_reads: opts.background_reads,
            },
            chat: opts.chat,
        };
        let app = tokio::task::spawn_blocking(move || App::start(config)).await.unwrap().expect("app starts");
        assert!(app.library().wait_ready(Duration::from_secs(30)).await, "first scan did not finish");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let served = app.clone();
        let task = tokio::spawn(async move {
            vidserve::serve(listener, served, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        let client = client();
        TestServer { addr, app, client, shutdown: Some(tx), task: Some(task) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.expect("request")
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "GET {path}");
        res.json().await.expect("json body")
    }

    /// The listed videos (first 500) as JSON objects.
    pub async fn videos(&self) -> Vec<serde_json::Value> {
        self.json("/api/v1/videos?per_page=500").await["videos"].as_array().unwrap().clone()
    }

    /// The id of the listed video whose first path is `rel`.
    /// `id_of`, asking with an API token.
    pub async fn id_of_as(&self, rel: &str, token: &str) -> String {
        let res = self.client.get(self.url("/api/v1/videos?per_page=500")).bearer_auth(token).send().await.unwrap();
        let v: serde_json::Value = res.json().await.unwrap();
        let found = v["videos"].as_array().unwrap().iter().find(|v| v["paths"][0] == rel).expect("listed");
        found["id"].as_str().unwrap().to_string()
    }

    pub async fn id_of(&self, rel: &str) -> String {
        let videos = self.videos().await;
        let v = videos.iter().find(|v| v["paths"][0] == rel);
        v.unwrap_or_else(|| panic!("{rel} not listed in {videos:#?}"))["id"].as_str().unwrap().to_string()
    }

    /// Sends raw bytes and returns the raw response (for what clients refuse to send).
    pub async fn raw(&self, request: &[u8]) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        let app = self.app.clone();
        tokio::task::spawn_blocking(move || app.close()).await.unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The status code of a raw HTTP response.
pub fn status_of(raw: &str) -> u16 {
    raw.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status in {raw:?}"))
}

/// Polls `check` until it is true or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        // The pace of the polling, not a wait for anything: the condition
        // is asked again (many checks are a WebDriver round trip).
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// `eventually` for synchronous tests: polls `check` every 20 ms until it is true or `timeout` passes.
#[track_caller]
pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs ffmpeg to make a real clip; panics with a clear message if ffmpeg is
/// missing (`.ci/run` installs it).
pub fn ffmpeg(out: &Path, args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
        .expect("ffmpeg is needed for media fixtures: apt-get install ffmpeg");
    assert!(status.success(), "ffmpeg failed for {}", out.display());
}

/// Sends a request with an optional JSON body; the status and the JSON answer
/// (`Null` when the body is not JSON).
pub async fn send(
    srv: &TestServer,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = srv.client.request(method, srv.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// A client that does not follow redirects, and lets idle connections go
/// well before the server's 15 s header timeout closes them (reusing one
/// the server is closing fails the request).
pub fn client() -> reqwest::Client {
    client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap()
}

/// A client builder (plain http: the servers tests start are on loopback).
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
}

/// Says something about this run where `cargo test` shows it (past the
/// harness's capture).
pub fn note(what: &str) {
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("\nNOTE {test}: {what}\n").as_bytes());
}

/// Says that a check did not run here and why, where `cargo test` shows it
/// (written past the test harness's capture, which only takes `print!` and
/// `eprint!`); under CI (`CI` set) a check that cannot run fails instead.
pub fn skip(why: &str) {
    assert!(std::env::var_os("CI").is_none(), "CI must run this check: {why}");
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("\nSKIPPED {test}: {why}\n").as_bytes());
}
