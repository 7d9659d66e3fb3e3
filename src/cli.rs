//! Command-line definition: clap derive structs, plus `parse()`, which lets
//! global options (`--dir`, `--data`, media and log options) stand before or
//! after a subcommand and refuses server-only options given with another.
//! Every server and library option also reads an environment variable
//! `VIDSERVE_*`; resolution and validation live in `config`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// A local video server: browse, search, rate and stream a video collection.
#[derive(Debug, Parser)]
#[command(name = "vidserve", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,

    #[command(flatten)]
    pub log: LogArgs,
}

/// Options only the server takes: given with another subcommand they would
/// do nothing, so they are refused. (`--dir`, `--data`, the media and log
/// options are global: they work before or after any subcommand.)
const SERVE_ONLY: [&str; 27] = [
    "bind",
    "dlna",
    "dlna_interfaces",
    "tls",
    "tls_cert",
    "tls_key",
    "s3_redirect",
    "no_sendfile",
    "port",
    "cache_ttl",
    "no_watch",
    "allow_public",
    "max_connections",
    "max_connections_per_client",
    "host_names",
    "trusted_proxies",
    "keep_backups",
    "body_timeout",
    "write_timeout",
    "max_event_streams",
    "chat_endpoint",
    "chat_model",
    "chat_key_file",
    "chat_max_tokens",
    "chat_ca_file",
    "chat_timeout",
    "guest",
];

/// Parses the process's arguments; prints help, version or the error and
/// exits as clap does.
/// An address, or a network in CIDR form (`10.42.0.0/16`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl Network {
    /// Whether `ip` is in it (IPv4 on a dual-stack socket counts as IPv4).
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        match (self.addr, ip.to_canonical()) {
            (V4(net), V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (V6(net), V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Network, String> {
        let bad = || format!("{s:?} is neither an address nor a network such as 10.42.0.0/16");
        let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
        let addr: std::net::IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let addr = addr.to_canonical();
        let most = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => most,
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= most).ok_or_else(bad)?,
        };
        Ok(Network { addr, prefix })
    }
}

pub fn parse() -> Cli {
    parse_from(std::env::args_os())
}

/// Parses `args` (the first is the program name).
pub fn parse_from<I, T>(args: I) -> Cli
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut cmd = with_data_default(Cli::command());
    let matches = cmd.try_get_matches_from_mut(args).unwrap_or_else(|e| e.exit());
    if let Err(e) = check_serve_only(&mut cmd, &matches) {
        e.exit()
    }
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.format(&mut cmd).exit())
}

/// The data dir used without `--data`: `$XDG_DATA_HOME/vidserve`, else
/// `$HOME/.local/share/vidserve`; `None` with neither set.
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x).join("vidserve"));
    }
    let home = std::env::var_os("HOME").filter(|x| !x.is_empty())?;
    Some(PathBuf::from(home).join(".local/share/vidserve"))
}

/// `--data`'s help with the default it has here (the manual page keeps
/// the rule, `$XDG_DATA_HOME/vidserve`).
fn with_data_default(cmd: clap::Command) -> clap::Command {
    let shown = default_data_dir()
        .map_or_else(|| "none: set --data, HOME or XDG_DATA_HOME".to_string(), |d| d.display().to_string());
    let help = format!("Where the database and thumbnails live [default: {shown}]");
    fn walk(cmd: clap::Command, help: &str) -> clap::Command {
        let cmd = if cmd.get_arguments().any(|a| a.get_id() == "data") {
            cmd.mut_arg("data", |a| a.help(help.to_string()))
        } else {
            cmd
        };
        let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
        names.iter().fold(cmd, |c, n| c.mut_subcommand(n, |s| walk(s, help)))
    }
    walk(cmd, &help)
}

fn check_serve_only(cmd: &mut clap::Command, matches: &ArgMatches) -> Result<(), clap::Error> {
    let Some(sub) = matches.subcommand_name() else { return Ok(()) };
    for id in SERVE_ONLY {
        if matches.value_source(id) == Some(ValueSource::CommandLine) {
            let flag = format!("--{}", id.replace('_', "-"));
            let message = match sub {
                "serve" => format!("{flag} goes after `serve` (or leave `serve` out)"),
                _ => format!("{flag} is an option of the server; `vidserve {sub}` does not take it"),
            };
            return Err(cmd.error(clap::error::ErrorKind::ArgumentConflict, message));
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the collection over HTTP (the default).
    Serve(Box<ServeArgs>),
    /// Index the video directories into the data dir, print a summary and exit.
    Scan(LibraryArgs),
    /// Import the original server's ratings.json, views.json, tags.json,
    /// favorites.json and video_metadata.db (files, or folders holding them),
    /// or a vidserve export or backup.
    Import(ImportArgs),
    /// Write all user data (ratings, views, favorites, tags, titles,
    /// positions) as JSON; `vidserve import` reads it back.
    Export(ExportArgs),
    /// Make the missing thumbnails (or all, with --regenerate) and exit.
    Thumbnails(ThumbnailArgs),
    /// Check the set-up: ffmpeg, data dir, database, folders, and files
    /// browsers cannot play as stored.
    Doctor(DoctorArgs),
    /// Load-test a vidserve on this machine and print req/s, throughput and
    /// latency percentiles.
    Loadtest(LoadtestArgs),
    /// Manage accounts (optional: without any, nobody signs in).
    User(UserArgs),
    /// Name libraries (folders inside the video directories) that accounts
    /// may be given: `vidserve user libraries NAME A,B`. Every --dir is a
    /// library of its own.
    Library(LibraryCommandArgs),
    /// Copy the data dir's state (user data, accounts, sessions, playlists,
    /// the scan index) into an empty PostgreSQL database, unchanged, for
    /// serving with --database; the data dir is left as it was.
    Migrate(MigrateArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (troff) to standard output.
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub library: DataArgs,
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Clone, Args)]
pub struct LibraryCommandArgs {
    #[command(flatten)]
    pub library: LibraryArgs,
    #[command(subcommand)]
    pub command: LibraryCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum LibraryCommand {
    /// Name a library (or change the folders of one): folders inside a --dir.
    Add {
        /// The library's name: letters, digits, spaces, '.', '_' or '-'.
        name: String,
        /// Folders inside a video directory (or s3:// and az:// prefixes).
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// List the libraries, their folders, and who was given each.
    List,
    /// Remove a named library (whoever was given it sees less).
    Remove {
        /// The library's name.
        name: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// The data dir to copy from (stop the server using it first).
    #[arg(long, value_name = "DIR", env = "VIDSERVE_DATA")]
    pub data: Option<PathBuf>,

    /// The database to copy into, e.g. postgres://vidserve@db:5432/vidserve
    /// (password: --database-password-file or PGPASSWORD).
    #[arg(long, value_name = "URL")]
    pub to: String,

    /// A file whose first line is the database password [default: PGPASSWORD].
    #[arg(long, value_name = "FILE", env = "VIDSERVE_DATABASE_PASSWORD_FILE")]
    pub database_password_file: Option<PathBuf>,
}

/// Where vidserve keeps its data (for commands that need no video folder).
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Where the database and thumbnails live [default: $XDG_DATA_HOME/vidserve].
    #[arg(long, value_name = "DIR", env = "VIDSERVE_DATA", global = true)]
    pub data: Option<PathBuf>,

    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// Where `--dir s3://BUCKET/PREFIX` and `--dir az://CONTAINER/PREFIX`
/// roots are. Credentials come from the environment or a file, never from
/// the command line.
#[derive(Debug, Clone, Default, Args)]
pub struct ObjectArgs {
    /// The S3 endpoint of a self-hosted store (Garage, MinIO, SeaweedFS),
    /// e.g. http://127.0.0.1:3900, addressed path-style [default: AWS].
    #[arg(long, value_name = "URL", env = "VIDSERVE_S3_ENDPOINT", global = true)]
    pub s3_endpoint: Option<String>,

    /// The S3 region [default: AWS_REGION, else us-east-1].
    #[arg(long, value_name = "REGION", env = "VIDSERVE_S3_REGION", global = true)]
    pub s3_region: Option<String>,

    /// A file with the S3 key (aws_access_key_id and aws_secret_access_key,
    /// as in ~/.aws/credentials) [default: AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY].
    #[arg(long, value_name = "FILE", env = "VIDSERVE_S3_CREDENTIALS_FILE", global = true)]
    pub s3_credentials_file: Option<PathBuf>,

    /// Certificates (PEM) to trust for an https object-storage endpoint,
    /// besides the bundled roots (a self-hosted store's own CA).
    #[arg(long, value_name = "FILE", env = "VIDSERVE_OBJECTS_CA_FILE", global = true)]
    pub objects_ca_file: Option<PathBuf>,

    /// Allow a plain http:// object-storage endpoint on a public address
    /// (by default only loopback and private addresses may go unencrypted).
    #[arg(long, env = "VIDSERVE_OBJECTS_ALLOW_HTTP", global = true)]
    pub objects_allow_http: bool,

    /// The Azure Blob Storage endpoint of a self-hosted one (e.g. Azurite:
    /// http://127.0.0.1:10000/devstoreaccount1); account and key from
    /// AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY.
    #[arg(long, value_name = "URL", env = "VIDSERVE_AZURE_ENDPOINT", global = true)]
    pub azure_endpoint: Option<String>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Add an account (`--replace` replaces one of the same name).
    Add {
        /// The account's name: 1 to 64 letters, digits, '.', '_' or '-'.
        name: String,
        /// What the account may do.
        #[arg(long, value_enum, default_value = "viewer")]
        role: RoleArg,
        /// Read the password from standard input instead of asking.
        #[arg(long, conflicts_with = "no_password")]
        password_stdin: bool,
        /// A viewer's profile picked without a password, from private
        /// addresses only.
        #[arg(long)]
        no_password: bool,
        /// Replace the account of that name if there is one (its role and
        /// password; never the last admin's role).
        #[arg(long)]
        replace: bool,
        /// The libraries it may see, comma-separated (`vidserve library
        /// list`) [default: everything].
        #[arg(long, value_name = "A,B", value_delimiter = ',')]
        libraries: Option<Vec<String>>,
    },
    /// Choose the libraries an account may see (or the guest profile's:
    /// NAME guest; the DLNA profile's: dlna). Admins see everything.
    Libraries {
        /// The account's name, or guest, or dlna.
        name: String,
        /// The libraries, comma-separated ("" for none).
        #[arg(value_name = "A,B", required_unless_present = "all", conflicts_with = "all")]
        libraries: Option<String>,
        /// Let it see everything again.
        #[arg(long)]
        all: bool,
    },
    /// Change an account's password (its sessions, tokens and signed links end).
    Passwd {
        /// The account's name.
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove an account with its tokens, sessions, own data and playlists
    /// (never the last admin while other accounts exist).
    Remove {
        /// The account's name.
        name: String,
        /// Confirm removing the household's owner, whose ratings, favorites,
        /// positions and playlists go with it (a backup is written first).
        #[arg(long)]
        yes: bool,
    },
    /// List the accounts.
    List,
    /// Print a new API token for an account (`Authorization: Bearer TOKEN`),
    /// or revoke all its tokens.
    Token {
        /// The account's name.
        name: String,
        #[arg(long)]
        revoke: bool,
    },
}

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Watch, and rate, favorite and resume for themselves.
    Viewer,
    /// Also tags, titles, thumbnails and batch changes.
    Editor,
    /// Also the admin page and its actions.
    Admin,
}

#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub library: LibraryArgs,

    /// Data files, or folders holding them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Import files again even if they were imported before.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub library: LibraryArgs,

    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Where the videos are and where vidserve keeps its own data.
#[derive(Debug, Clone, Args)]
pub struct LibraryArgs {
    /// A directory of videos, scanned recursively (repeat for several).
    #[arg(long = "dir", value_name = "DIR", env = "VIDSERVE_DIR", global = true)]
    pub dirs: Vec<PathBuf>,

    /// Where the database and thumbnails live [default: $XDG_DATA_HOME/vidserve].
    #[arg(long, value_name = "DIR", env = "VIDSERVE_DATA", global = true)]
    pub data: Option<PathBuf>,

    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub objects: ObjectArgs,
}

/// Where state is kept when not in the data dir.
#[derive(Debug, Clone, Default, Args)]
pub struct DatabaseArgs {
    /// Keep state (user data, accounts, playlists, the scan index) in
    /// PostgreSQL instead of the data dir, e.g.
    /// postgres://vidserve@db:5432/vidserve; several servers can share it.
    #[arg(long, value_name = "URL", env = "VIDSERVE_DATABASE_URL", global = true)]
    pub database: Option<String>,

    /// A file whose first line is the database password [default: PGPASSWORD].
    #[arg(long, value_name = "FILE", env = "VIDSERVE_DATABASE_PASSWORD_FILE", global = true)]
    pub database_password_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub library: LibraryArgs,

    /// Address to listen on.
    #[arg(long, value_name = "ADDR", env = "VIDSERVE_BIND", default_value = "0.0.0.0:8080")]
    pub bind: SocketAddr,

    /// Port to listen on (overrides the port of --bind; 0 picks a free one).
    #[arg(long, short = 'p', value_name = "PORT", env = "VIDSERVE_PORT")]
    pub port: Option<u16>,

    /// Seconds between fallback rescans of the video dirs (also read from CACHE_TTL) [default: 300].
    #[arg(long, value_name = "SECONDS", env = "VIDSERVE_CACHE_TTL")]
    pub cache_ttl: Option<u64>,

    /// Do not watch the video dirs for changes (rely on the periodic rescan).
    #[arg(long, env = "VIDSERVE_NO_WATCH")]
    pub no_watch: bool,

    /// Copy video bytes through memory instead of sending them from the page cache with sendfile.
    #[arg(long, env = "VIDSERVE_NO_SENDFILE")]
    pub no_sendfile: bool,

    #[command(flatten)]
    pub media: MediaArgs,

    /// Also answer requests from public (internet) addresses; by default only
    /// the local network is served.
    #[arg(long, env = "VIDSERVE_ALLOW_PUBLIC")]
    pub allow_public: bool,

    /// Another name this server is reached by (repeatable), besides IP
    /// addresses, localhost, this machine's name, NAME.local and names under
    /// home.arpa; requests for any other name are refused (DNS rebinding).
    #[arg(long = "host-name", value_name = "NAME", env = "VIDSERVE_HOST_NAMES", value_delimiter = ',')]
    pub host_names: Vec<String>,
    /// A reverse proxy in front of vidserve (repeatable; an address, or a
    /// network such as 10.42.0.0/16 where the proxies' addresses change):
    /// requests from it are judged by the client address it puts last in
    /// X-Forwarded-For.
    #[arg(long = "trusted-proxy", value_name = "ADDR", env = "VIDSERVE_TRUSTED_PROXY", value_delimiter = ',')]
    pub trusted_proxies: Vec<Network>,
    /// User-data backups kept in DATA/backups (written daily and at
    /// shutdown; 0: none).
    #[arg(long, value_name = "N", env = "VIDSERVE_KEEP_BACKUPS", default_value_t = 14)]
    pub keep_backups: usize,
    /// Seconds a request body may take to arrive (408 after that).
    #[arg(long, value_name = "SECONDS", env = "VIDSERVE_BODY_TIMEOUT", default_value_t = 20)]
    pub body_timeout: u64,
    /// Seconds a response may wait on a client that reads nothing before
    /// the connection is closed.
    #[arg(long, value_name = "SECONDS", env = "VIDSERVE_WRITE_TIMEOUT", default_value_t = 60)]
    pub write_timeout: u64,
    /// Most live-update streams open at once (one per open page; 16 per
    /// client address).
    #[arg(long, value_name = "N", env = "VIDSERVE_MAX_EVENT_STREAMS", default_value_t = 256)]
    pub max_event_streams: usize,
    /// With accounts: let anonymous visitors browse and watch (never change
    /// anything).
    #[arg(long, env = "VIDSERVE_GUEST")]
    pub guest: bool,

    /// Answer a video in object storage with a redirect to a short-lived
    /// presigned URL, so the store (or a CDN in front of it) sends the bytes.
    #[arg(long, env = "VIDSERVE_S3_REDIRECT")]
    pub s3_redirect: bool,
    /// Serve HTTPS with this certificate chain (PEM, the server's
    /// certificate first), read again when the file changes; plain HTTP to
    /// the same port is redirected to HTTPS.
    #[arg(long, value_name = "FILE", env = "VIDSERVE_TLS_CERT", requires = "tls_key", conflicts_with = "tls")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", env = "VIDSERVE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// `auto`: serve HTTPS with a certificate from this server's own
    /// certificate authority, made once in the data dir; install the
    /// authority's certificate on each device once (the admin page shows
    /// how).
    #[arg(long, value_enum, value_name = "MODE", env = "VIDSERVE_TLS")]
    pub tls: Option<TlsMode>,
    /// Be a DLNA (UPnP AV) media server as well: televisions and other
    /// players on the network find the library and play it. Off unless
    /// given.
    #[arg(long, env = "VIDSERVE_DLNA")]
    pub dlna: bool,
    /// The network interfaces DLNA announces the server on (repeat it, or
    /// separate names with commas); default: every interface with an IPv4
    /// address but loopback.
    #[arg(
        long = "dlna-interface",
        value_name = "NAME",
        env = "VIDSERVE_DLNA_INTERFACE",
        value_delimiter = ',',
        requires = "dlna"
    )]
    pub dlna_interfaces: Vec<String>,
    /// Most simultaneous client connections.
    #[arg(long, value_name = "N", env = "VIDSERVE_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Most connections one client address may hold (at most half of them
    /// before it sends anything); a trusted proxy is not limited.
    #[arg(long, value_name = "N", env = "VIDSERVE_MAX_CONNECTIONS_PER_CLIENT", default_value_t = 128)]
    pub max_connections_per_client: usize,

    #[command(flatten)]
    pub chat: ChatArgs,
}

/// The chat about the library, through an OpenAI-compatible endpoint (off
/// without one).
#[derive(Debug, Clone, Default, Args)]
pub struct ChatArgs {
    /// Base URL of an OpenAI-compatible API, with /v1 (llama.cpp server,
    /// Ollama, vLLM, LM Studio or a hosted one); chat is off without it.
    #[arg(long, value_name = "URL", env = "VIDSERVE_CHAT_ENDPOINT")]
    pub chat_endpoint: Option<String>,
    /// The model to ask [default: "default", which llama.cpp's server accepts].
    #[arg(long, value_name = "NAME", env = "VIDSERVE_CHAT_MODEL")]
    pub chat_model: Option<String>,
    /// A file holding the API key (else VIDSERVE_CHAT_KEY or OPENAI_API_KEY;
    /// local servers need none).
    #[arg(long, value_name = "PATH")]
    pub chat_key_file: Option<PathBuf>,
    /// Most tokens asked of the model per answer (also CHAT_MAX_TOKENS) [default: 512].
    #[arg(long, value_name = "N", env = "VIDSERVE_CHAT_MAX_TOKENS")]
    pub chat_max_tokens: Option<u32>,
    /// Certificates (PEM) to trust for an https endpoint, besides the bundled roots.
    #[arg(long, value_name = "PATH", env = "VIDSERVE_CHAT_CA_FILE")]
    pub chat_ca_file: Option<PathBuf>,
    /// Longest one answer may take, tool calls included, in seconds.
    #[arg(long, value_name = "SECONDS", env = "VIDSERVE_CHAT_TIMEOUT", default_value_t = 120)]
    pub chat_timeout: u64,
}

/// Thumbnails and ffmpeg.
#[derive(Debug, Clone, Args)]
pub struct MediaArgs {
    /// The ffmpeg to take thumbnail frames with [default: ffmpeg on PATH, if any].
    #[arg(long, value_name = "PATH", env = "VIDSERVE_FFMPEG", global = true)]
    pub ffmpeg: Option<PathBuf>,

    /// Seconds an ffmpeg run may take before it is stopped.
    #[arg(long, value_name = "SECONDS", env = "VIDSERVE_FFMPEG_TIMEOUT", default_value_t = 30, global = true)]
    pub ffmpeg_timeout: u64,

    /// Thumbnails made at once (low-priority threads).
    #[arg(long, value_name = "N", env = "VIDSERVE_JOBS", default_value_t = 1, global = true)]
    pub jobs: usize,

    /// Transcodes at once, for video browsers cannot decode [default: half the CPUs].
    #[arg(long, value_name = "N", env = "VIDSERVE_MAX_TRANSCODES", global = true)]
    pub max_transcodes: Option<usize>,

    /// Transcode quality: x264's constant rate factor (18 near lossless, 28 small).
    #[arg(long, value_name = "CRF", env = "VIDSERVE_TRANSCODE_CRF", default_value_t = 23, global = true,
          value_parser = clap::value_parser!(u8).range(0..=51))]
    pub transcode_crf: u8,

    /// The transcodes' bitrate ceiling, in kbit/s.
    #[arg(long, value_name = "KBPS", env = "VIDSERVE_TRANSCODE_MAX_RATE", default_value_t = 8000, global = true,
          value_parser = clap::value_parser!(u32).range(500..=100_000))]
    pub transcode_max_rate: u32,

    /// The H.264 encoder: the first hardware one that works (auto), or libx264.
    #[arg(
        long,
        value_enum,
        value_name = "WHICH",
        env = "VIDSERVE_TRANSCODE_ENCODER",
        default_value = "auto",
        global = true
    )]
    pub transcode_encoder: TranscodeEncoder,

    /// Do not read films whole in the background to plan their remux (a
    /// sleeping disk stays asleep); each is read at its first play instead,
    /// and the page plays it meanwhile through ffmpeg's stream copy.
    #[arg(long, env = "VIDSERVE_NO_BACKGROUND_READS", global = true)]
    pub no_background_reads: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LoadtestArgs {
    /// The server, on a loopback address (e.g. http://127.0.0.1:8080/).
    pub url: String,
    /// Simultaneous connections (at most 256).
    #[arg(long, short = 'c', default_value_t = 50)]
    pub connections: usize,
    /// Seconds to run (at most 120).
    #[arg(long, short = 'd', default_value_t = 10)]
    pub duration: u64,
    /// What to ask for.
    #[arg(long, value_enum, default_value = "gallery")]
    pub scenario: crate::loadtest::Scenario,
    /// Allow the writes and mixed scenarios, which add real views to the
    /// target's library (use a test library).
    #[arg(long)]
    pub allow_writes: bool,
    /// An API token, for a server with accounts (`vidserve user token NAME`).
    #[arg(long, env = "VIDSERVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub library: LibraryArgs,

    #[command(flatten)]
    pub media: MediaArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ThumbnailArgs {
    #[command(flatten)]
    pub library: LibraryArgs,

    #[command(flatten)]
    pub media: MediaArgs,

    /// Make every thumbnail again, not only the missing ones.
    #[arg(long, conflicts_with = "only_missing")]
    pub regenerate: bool,

    /// Make only the missing thumbnails (the default).
    #[arg(long)]
    pub only_missing: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log format.
    #[arg(long, value_enum, env = "VIDSERVE_LOG_FORMAT", default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// Log filter, e.g. `info` or `vidserve=debug` (also read from RUST_LOG).
    #[arg(long, value_name = "FILTER", env = "VIDSERVE_LOG", global = true)]
    pub log: Option<String>,
}

/// `--tls`: where the HTTPS certificate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TlsMode {
    /// Issued by this server's own certificate authority.
    Auto,
    /// Plain HTTP (the default).
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// `--transcode-encoder`: which H.264 encoder transcodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TranscodeEncoder {
    /// The first hardware encoder that works, else software.
    Auto,
    /// libx264 only.
    Software,
}
