//! Real object stores for the tests, started on loopback: Garage (S3) and
//! Azurite (Azure Blob Storage). Where one is missing a plain `cargo test`
//! says so in one line; under CI that is a failure (`support::skip`).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use object_store::ObjectStore;
use tempfile::TempDir;
use vidserve::cli::ObjectArgs;

use crate::support::skip;

pub const KEY_ID: &str = "GKvidservetests0001";
pub const SECRET: &str = "vidserve-test-secret-0123456789abcdef";
pub const BUCKET: &str = "films";

/// The server's own HTTP client for object storage, for the fixtures.
fn connector() -> vidserve::library::objects::http::Connector {
    vidserve::library::objects::http::Connector::new(Duration::from_secs(30), &[])
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether `bin --version` runs and names `version`.
fn answers(bin: &Path, version: &str) -> bool {
    Command::new(bin).arg("--version").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(version))
}

/// Garage 2.5: `VIDSERVE_GARAGE`, `garage` on PATH, or the copy built for
/// these machines beside the project (`../shared/tools`).
fn garage_binary() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("VIDSERVE_GARAGE").map(PathBuf::from).into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("garage")));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    candidates.push(manifest.join("../shared/tools/garage-2.5.0-x86_64-linux-gnu"));
    candidates.into_iter().find(|p| p.is_file() && answers(p, "2.5"))
}

/// A single-node Garage on loopback with one bucket (`BUCKET`) and key.
pub struct Garage {
    dir: TempDir,
    bin: PathBuf,
    child: Option<Child>,
    pub port: u16,
}

impl Garage {
    /// Starts one; `None` (said, or a failure under CI) when there is no Garage.
    pub fn start() -> Option<Garage> {
        let Some(bin) = garage_binary() else {
            skip("no Garage 2.5 (cargo install garage --locked --version 2.5.0, or .ci/run)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let (port, rpc, admin) = (free_port(), free_port(), free_port());
        let d = dir.path().display();
        let secret: String = (0..32).map(|_| format!("{:02x}", fastrand::u8(..))).collect();
        let config = format!(
            "metadata_dir = \"{d}/meta\"\ndata_dir = \"{d}/data\"\ndb_engine = \"lmdb\"\nreplication_factor = 1\n\
             rpc_bind_addr = \"127.0.0.1:{rpc}\"\nrpc_public_addr = \"127.0.0.1:{rpc}\"\nrpc_secret = \"{secret}\"\n\n\
             [s3_api]\ns3_region = \"garage\"\napi_bind_addr = \"127.0.0.1:{port}\"\nroot_domain = \".s3.garage.localhost\"\n\n\
             [admin]\napi_bind_addr = \"127.0.0.1:{admin}\"\n"
        );
        let path = dir.path().join("garage.toml");
        std::fs::write(&path, config).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        std::fs::write(
            dir.path().join("credentials"),
            format!("[default]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"),
        )
        .unwrap();
        let mut garage = Garage { dir, bin, child: None, port };
        garage.run();
        Some(garage)
    }

    /// Starts the process (again, on the same ports and data) and waits
    /// until its S3 port answers.
    pub fn run(&mut self) {
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.dir.path().join("garage.log")).unwrap();
        let child = Command::new(&self.bin)
            .arg("-c")
            .arg(self.dir.path().join("garage.toml"))
            .args(["server", "--single-node", "--default-bucket"])
            .env("GARAGE_DEFAULT_ACCESS_KEY", KEY_ID)
            .env("GARAGE_DEFAULT_SECRET_KEY", SECRET)
            .env("GARAGE_DEFAULT_BUCKET", BUCKET)
            .env("RUST_LOG", "garage_api_common=info,warn")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("garage starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "Garage did not listen: {}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it at once (SIGKILL: no draining of open streams).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The object-storage options a server needs for `s3://films/...`.
    pub fn args(&self) -> ObjectArgs {
        ObjectArgs {
            s3_endpoint: Some(self.endpoint()),
            s3_region: Some("garage".into()),
            s3_credentials_file: Some(self.dir.path().join("credentials")),
            ..Default::default()
        }
    }

    /// A client of the bucket, for putting fixtures in it.
    pub fn client(&self) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_http_connector(connector())
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_region("garage")
            .with_bucket_name(BUCKET)
            .with_access_key_id(KEY_ID)
            .with_secret_access_key(SECRET)
            .with_virtual_hosted_style_request(false)
            .build()
            .unwrap()
    }

    /// Puts `bytes` at `key` (waits until the bucket exists).
    pub async fn put(&self, key: &str, bytes: &[u8]) {
        let client = self.client();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let payload = object_store::PutPayload::from(bytes.to_vec());
            match client.put_opts(&object_store::path::Path::parse(key).unwrap(), payload, Default::default()).await {
                Ok(_) => return,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("put {key}: {e}\n{}", self.log()),
            }
        }
    }

    /// Garage's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("garage.log")).unwrap_or_default()
    }

    /// The S3 requests Garage logged so far (`METHOD /path`), oldest first.
    pub fn requests(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("generic_server") && !l.contains("error") && !l.contains("listening"))
            .filter_map(|l| l.split_once("generic_server: ").map(|(_, rest)| rest.to_string()))
            .filter_map(|rest| rest.split_once(' ').map(|(_, req)| req.to_string()))
            .collect()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Azurite's published development account and key.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Azurite 3.37 (Azure Blob Storage) on loopback, with one container
/// (`BUCKET`). Installed by `.ci/run` under `target/azurite`.
pub struct Azurite {
    _dir: TempDir,
    child: Child,
    pub port: u16,
}

impl Azurite {
    pub async fn start() -> Option<Azurite> {
        let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/azurite/node_modules/.bin/azurite-blob");
        if !bin.is_file() {
            skip("no Azurite (npm install --prefix target/azurite azurite@3.37.0, or .ci/run)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(&bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string(), "--location"])
            .arg(dir.path())
            .args(["--silent", "--skipApiVersionCheck", "--loose"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("azurite starts");
        let azurite = Azurite { _dir: dir, child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "Azurite did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        azurite.create_container().await;
        Some(azurite)
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{AZURITE_ACCOUNT}", self.port)
    }

    /// `Create Container`, signed with the account key (Shared Key): the
    /// one request the object_store client does not make.
    async fn create_container(&self) {
        use base64::Engine;
        use hmac::{Hmac, KeyInit, Mac};
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let version = "2021-08-06";
        let resource = format!("/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{BUCKET}\nrestype:container");
        let to_sign = format!("PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n{resource}");
        let key = base64::engine::general_purpose::STANDARD.decode(AZURITE_KEY).unwrap();
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key).unwrap();
        mac.update(to_sign.as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let res = crate::support::client_builder()
            .build()
            .unwrap()
            .put(format!("{}/{BUCKET}?restype=container", self.endpoint()))
            .header("x-ms-date", date)
            .header("x-ms-version", version)
            .header("content-length", "0")
            .header("authorization", format!("SharedKey {AZURITE_ACCOUNT}:{sig}"))
            .send()
            .await
            .unwrap();
        let status = res.status();
        assert!(status.is_success(), "create container: {status} {}", res.text().await.unwrap_or_default());
    }

    /// A client of the container, for putting fixtures in it.
    pub fn client(&self) -> object_store::azure::MicrosoftAzure {
        object_store::azure::MicrosoftAzureBuilder::new()
            .with_http_connector(connector())
            .with_account(AZURITE_ACCOUNT)
            .with_access_key(AZURITE_KEY)
            .with_container_name(BUCKET)
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .build()
            .unwrap()
    }

    pub async fn put(&self, key: &str, bytes: &[u8]) {
        let payload = object_store::PutPayload::from(bytes.to_vec());
        let path = object_store::path::Path::parse(key).unwrap();
        self.client().put_opts(&path, payload, Default::default()).await.unwrap();
    }

    /// The object-storage options a server needs for `az://films/...`
    /// (account and key from the environment, as for a user: `ENV`).
    pub fn args(&self) -> ObjectArgs {
        ObjectArgs { azure_endpoint: Some(self.endpoint()), ..Default::default() }
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
