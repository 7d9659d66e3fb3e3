//! Resolved, validated configuration: `Config::from_cli` turns raw flags into
//! absolute roots, a data dir that exists, and concrete numbers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod chat;
pub mod database;
pub mod objects;

use crate::cli::{LibraryArgs, ObjectArgs, ServeArgs};

/// Default seconds between fallback rescans, as in the original's `CACHE_TTL`.
pub const DEFAULT_CACHE_TTL: u64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no video directory given; pass one with --dir DIR (--dir . for this folder), or set VIDSERVE_DIR")]
    NoDirs,
    #[error("the video directory {} does not exist; check the path given to --dir", .0.display())]
    MissingDir(PathBuf),
    #[error("{} is not a directory; --dir takes a folder of videos", .0.display())]
    NotADir(PathBuf),
    #[error("the video directory {} cannot be read ({}); check its permissions", .0.display(), .1)]
    UnreadableDir(PathBuf, std::io::Error),
    #[error("the data directory {} cannot be created or written ({}); pass a writable one with --data", .0.display(), .1)]
    DataDir(PathBuf, std::io::Error),
    #[error("no data directory: set --data, XDG_DATA_HOME or HOME")]
    NoDataDir,
    #[error("CACHE_TTL must be a whole number of seconds, not {0:?}")]
    BadCacheTtl(String),
    #[error("{0}: {1}")]
    Bucket(String, String),
    #[error("the credentials file {} cannot be used: {}", .0.display(), .1)]
    Credentials(PathBuf, String),
    #[error("the certificate file {} cannot be used: {}; give a PEM file of CERTIFICATE blocks", .0.display(), .1)]
    CaFile(PathBuf, String),
    #[error("{0}")]
    Database(String),
    #[error("--dlna-interface {0}: there is no such network interface on this machine (`ip link` lists them)")]
    NoInterface(String),
    #[error(transparent)]
    Chat(#[from] chat::ChatConfigError),
}

/// One served directory, as given and as resolved.
#[derive(Debug, Clone)]
pub struct Root {
    /// As given on the command line (made absolute), shown to users.
    pub path: PathBuf,
    /// Canonical path: symlink targets must stay under one of these.
    pub canonical: PathBuf,
    /// A root in object storage (`path` is then its URL).
    pub bucket: Option<objects::Bucket>,
}

impl Root {
    /// A local folder.
    pub fn local(path: PathBuf, canonical: PathBuf) -> Root {
        Root { path, canonical, bucket: None }
    }
}

#[derive(Debug, Clone)]
pub struct LibraryConfig {
    pub roots: Vec<Root>,
    pub data_dir: PathBuf,
    /// State in PostgreSQL (`None`: in the data dir).
    pub database: Option<database::Database>,
}

/// Whether cached video bytes go out with `sendfile` (`http::zerocopy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZeroCopy {
    /// Every byte copied (`--no-sendfile`).
    Off,
    /// Chunks wholly in the page cache of a local filesystem.
    Auto,
    /// For tests: every chunk of a local file as if it were cached, so the
    /// zero-copy path runs where `cachestat` is missing or pages were dropped.
    #[cfg(any(test, feature = "test-support"))]
    Forced,
}

impl ZeroCopy {
    /// Whether every chunk counts as cached.
    pub fn forced(self) -> bool {
        #[cfg(any(test, feature = "test-support"))]
        if self == ZeroCopy::Forced {
            return true;
        }
        false
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub library: LibraryConfig,
    pub bind: SocketAddr,
    pub rescan_every: Duration,
    pub watch: bool,
    /// Send cached video bytes with `sendfile` (`http::zerocopy`).
    pub zero_copy: ZeroCopy,
    pub max_connections: usize,
    /// Most connections one client address may hold (never more than
    /// half of `max_connections`).
    pub max_connections_per_client: usize,
    /// Serve requests from public addresses too.
    pub allow_public: bool,
    /// More names `Host` may carry (`--host-name`).
    pub host_names: Vec<String>,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<crate::cli::Network>,
    /// User-data backups kept (0: none written).
    pub keep_backups: usize,
    /// Longest a request body may take to arrive.
    pub body_timeout: Duration,
    /// Longest a response may wait for a client that reads nothing.
    pub write_timeout: Duration,
    /// Most event streams open at once (each open page holds one).
    pub max_event_streams: usize,
    /// With accounts, anonymous visitors may still browse and watch.
    pub guest: bool,
    /// Videos in object storage answered with a presigned redirect.
    pub s3_redirect: bool,
    /// HTTPS, and where its certificate comes from (`None`: plain HTTP).
    pub tls: Option<crate::tls::Source>,
    /// DLNA: the interfaces it announces on (`None`: DLNA is off).
    pub dlna: Option<DlnaConfig>,
    pub media: MediaConfig,
    /// The chat's endpoint and limits; `None`: chat is off.
    pub chat: Option<chat::ChatConfig>,
}

/// `--dlna`: where the server is announced.
#[derive(Debug, Clone, Default)]
pub struct DlnaConfig {
    /// Interface names (`--dlna-interface`); empty: every interface with
    /// an IPv4 address but loopback.
    pub interfaces: Vec<String>,
}

impl DlnaConfig {
    /// Names given must be interfaces of this machine (they may still be
    /// waiting for an address).
    fn new(names: &[String]) -> Result<DlnaConfig, ConfigError> {
        let mut interfaces: Vec<String> = Vec::new();
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            let exists = !name.contains(['/', '\0']) && !name.starts_with('.') && {
                Path::new("/sys/class/net").join(name).exists()
            };
            if !exists {
                return Err(ConfigError::NoInterface(name.to_string()));
            }
            if !interfaces.iter().any(|i| i == name) {
                interfaces.push(name.to_string());
            }
        }
        Ok(DlnaConfig { interfaces })
    }
}

#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// `None`: look for ffmpeg on PATH.
    pub ffmpeg: Option<PathBuf>,
    pub ffmpeg_timeout: Duration,
    pub jobs: usize,
    /// How video browsers cannot decode is transcoded.
    pub transcode: TranscodeSettings,
    /// Films read whole in the background for their remux (off:
    /// `--no-background-reads`).
    pub background_reads: bool,
}

/// How video browsers cannot decode is transcoded.
#[derive(Debug, Clone)]
pub struct TranscodeSettings {
    /// At most this many at once.
    pub max: usize,
    /// Quality: x264's constant rate factor (lower is better, 18–28 sane).
    pub crf: u8,
    /// The bitrate's ceiling, kbit/s.
    pub max_kbps: u32,
    pub choice: crate::cli::TranscodeEncoder,
}

impl TranscodeSettings {
    /// Half the CPUs (a transcode keeps about two busy), at least one.
    pub fn default_max() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get() / 2).max(1)
    }
}

impl MediaConfig {
    pub fn from_args(args: &crate::cli::MediaArgs) -> Self {
        MediaConfig {
            ffmpeg: args.ffmpeg.clone(),
            ffmpeg_timeout: Duration::from_secs(args.ffmpeg_timeout.max(1)),
            jobs: args.jobs.clamp(1, 16),
            transcode: TranscodeSettings {
                max: args.max_transcodes.unwrap_or_else(TranscodeSettings::default_max).clamp(1, 64),
                crf: args.transcode_crf,
                max_kbps: args.transcode_max_rate,
                choice: args.transcode_encoder,
            },
            background_reads: !args.no_background_reads,
        }
    }
}

impl LibraryConfig {
    /// The folders a data dir's last scan walked (`stored`), for commands
    /// run without `--dir`; a folder that is gone now is kept as given
    /// (the catalog shows it offline).
    pub fn from_stored(
        stored: Vec<PathBuf>,
        data_dir: PathBuf,
        database: Option<database::Database>,
        objects: &ObjectArgs,
    ) -> Result<Self, ConfigError> {
        if stored.is_empty() {
            return Err(ConfigError::NoDirs);
        }
        let mut roots = Vec::with_capacity(stored.len());
        for p in stored {
            roots.push(match resolve_root(&p, objects) {
                Ok(root) => root,
                Err(e) if objects::is_bucket(&p) => return Err(e),
                Err(_) => Root::local(p.clone(), p),
            });
        }
        Ok(Self { roots, data_dir, database })
    }

    pub fn from_args(args: &LibraryArgs) -> Result<Self, ConfigError> {
        if args.dirs.is_empty() {
            return Err(ConfigError::NoDirs);
        }
        let mut roots: Vec<Root> = Vec::new();
        for dir in &args.dirs {
            let root = resolve_root(dir, &args.objects)?;
            if !roots.iter().any(|r| r.canonical == root.canonical) {
                roots.push(root);
            }
        }
        let data_dir = data_dir(args.data.as_deref())?;
        let database = database::Database::from_args(&args.database)?;
        Ok(Self { roots, data_dir, database })
    }
}

impl Config {
    pub fn from_cli(args: &ServeArgs) -> Result<Self, ConfigError> {
        let library = LibraryConfig::from_args(&args.library)?;
        let mut bind = args.bind;
        if let Some(port) = args.port {
            bind.set_port(port);
        }
        let ttl = match args.cache_ttl {
            Some(t) => t,
            None => match std::env::var("CACHE_TTL") {
                Ok(v) => v.trim().parse().map_err(|_| ConfigError::BadCacheTtl(v))?,
                Err(_) => DEFAULT_CACHE_TTL,
            },
        };
        Ok(Self {
            library,
            bind,
            rescan_every: Duration::from_secs(ttl.max(1)),
            watch: !args.no_watch,
            zero_copy: if args.no_sendfile { ZeroCopy::Off } else { ZeroCopy::Auto },
            max_connections: args.max_connections.max(1),
            max_connections_per_client: args.max_connections_per_client.clamp(1, (args.max_connections / 2).max(1)),
            allow_public: args.allow_public,
            host_names: args.host_names.clone(),
            trusted_proxies: args.trusted_proxies.clone(),
            keep_backups: args.keep_backups,
            body_timeout: Duration::from_secs(args.body_timeout.max(1)),
            write_timeout: Duration::from_secs(args.write_timeout.max(1)),
            max_event_streams: args.max_event_streams.max(1),
            guest: args.guest,
            s3_redirect: args.s3_redirect,
            tls: match (&args.tls_cert, &args.tls_key, args.tls) {
                (Some(cert), Some(key), _) => {
                    Some(crate::tls::Source::Files { cert: absolute(cert), key: absolute(key) })
                }
                (_, _, Some(crate::cli::TlsMode::Auto)) => Some(crate::tls::Source::Auto),
                _ => None,
            },
            dlna: args.dlna.then(|| DlnaConfig::new(&args.dlna_interfaces)).transpose()?,
            media: MediaConfig::from_args(&args.media),
            chat: chat::ChatConfig::from_args(&args.chat)?,
        })
    }
}

/// The data dir: given, or the default; created and proved writable.
pub fn data_dir(given: Option<&Path>) -> Result<PathBuf, ConfigError> {
    let dir = match given {
        Some(d) => absolute(d),
        None => default_data_dir().ok_or(ConfigError::NoDataDir)?,
    };
    ensure_writable(&dir)?;
    Ok(dir)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn resolve_root(dir: &Path, object_args: &ObjectArgs) -> Result<Root, ConfigError> {
    if objects::is_bucket(dir) {
        let bucket = objects::resolve(dir, object_args)?;
        let path = objects::root_path(&bucket);
        return Ok(Root { canonical: path.clone(), path, bucket: Some(bucket) });
    }
    let path = absolute(dir);
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ConfigError::MissingDir(path)),
        Err(e) => return Err(ConfigError::UnreadableDir(path, e)),
    };
    if !meta.is_dir() {
        return Err(ConfigError::NotADir(path));
    }
    if let Err(e) = std::fs::read_dir(&path) {
        return Err(ConfigError::UnreadableDir(path, e));
    }
    let canonical = std::fs::canonicalize(&path).map_err(|e| ConfigError::UnreadableDir(path.clone(), e))?;
    Ok(Root::local(path, canonical))
}

use crate::cli::default_data_dir;

/// The DER bytes of each `CERTIFICATE` block of a PEM file (none: empty).
pub(crate) fn pem_certificates(path: &Path) -> std::io::Result<Vec<Vec<u8>>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let bytes = std::fs::read(path)?;
    Ok(CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok).map(|c| c.to_vec()).collect())
}

/// Creates the data dir if needed and proves it writable with a probe file.
fn ensure_writable(dir: &Path) -> Result<(), ConfigError> {
    let err = |e| ConfigError::DataDir(dir.to_path_buf(), e);
    std::fs::create_dir_all(dir).map_err(err)?;
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    Ok(())
}
