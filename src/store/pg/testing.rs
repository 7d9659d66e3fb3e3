//! A real PostgreSQL for the tests, on loopback: `initdb` and `pg_ctl` from
//! Debian's `postgresql` package, run as the `postgres` user when the
//! tests run as root. One server per test process (`Postgres::shared`),
//! one database per test (`Postgres::database`); tests that restart or
//! kill it start their own (`Postgres::start`). A watchdog stops each
//! server when the test process ends, however it ends.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::config::database::Database;

/// A PostgreSQL server started for tests.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
}

/// The newest installed PostgreSQL's programs.
fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    // SAFETY: geteuid only reads this process's user id.
    unsafe { libc::geteuid() == 0 }
}

/// `program args…` from `bin`, as the postgres user when we are root.
fn pg(bin: &Path, program: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    }
}

fn run(c: &mut Command, what: &str) {
    let out = c.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what} did not start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Says a test is skipped for want of PostgreSQL; under `CI=true` that
/// is a failure.
fn skip(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why} (required under CI; .ci/run installs it)");
    }
    eprintln!("SKIPPED: {why}");
}

impl Postgres {
    /// This test process's server, started the first time; `None` (said,
    /// or a failure under CI) when PostgreSQL is not installed.
    pub fn shared() -> Option<&'static Postgres> {
        static SHARED: OnceLock<Option<Postgres>> = OnceLock::new();
        SHARED.get_or_init(Postgres::start).as_ref()
    }

    /// A server of its own (stopped when dropped).
    pub fn start() -> Option<Postgres> {
        let Some(bin) = bin_dir() else {
            skip("no PostgreSQL (apt-get install postgresql, or .ci/run)");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("vidserve-pg-{}-{}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            run(Command::new("chown").arg("postgres").arg(&dir), "chown");
        }
        let mut init = pg(&bin, "initdb");
        init.arg("-D").arg(dir.join("data")).args(["-U", "postgres", "--auth=trust", "--no-sync"]);
        run(&mut init, "initdb");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let server = Postgres { dir, bin, port };
        server.watch_over();
        server.run();
        Some(server)
    }

    /// Stops the server when this process ends, and removes its files.
    fn watch_over(&self) {
        let script = format!(
            "tail --pid={} -f /dev/null; {} {} -D '{}' -m immediate stop >/dev/null 2>&1; rm -rf '{}'",
            std::process::id(),
            if is_root() { "runuser -u postgres --" } else { "" },
            self.bin.join("pg_ctl").display(),
            self.dir.join("data").display(),
            self.dir.display()
        );
        let _ = Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }

    /// Starts the server (again, on the same port and data) and waits
    /// until it accepts connections.
    pub fn run(&self) {
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D").arg(self.dir.join("data")).arg("-l").arg(self.dir.join("pg.log")).arg("-w").arg("-o").arg(format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off -c max_connections=300",
            self.port,
            self.dir.display()
        ));
        run(c.arg("start"), "pg_ctl start");
    }

    /// Stops it at once (`immediate`: as if it crashed; committed data stays).
    pub fn stop(&self) {
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "stop"]);
        run(&mut c, "pg_ctl stop");
    }

    /// The URL of database `name` as the superuser.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Database `name`, made if missing.
    pub fn database(&self, name: &str) -> Database {
        let admin = Database::parse(&self.url("postgres"), None).expect("a test URL parses");
        let client = super::runtime()
            .and_then(|rt| rt.block_on(super::connect(&admin)))
            .expect("the test server accepts connections");
        let exists = super::block(client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name]))
            .expect("the test server answers");
        if exists.is_none() {
            super::block(client.batch_execute(&format!("CREATE DATABASE \"{name}\"")))
                .expect("a test database is made");
        }
        Database::parse(&self.url(name), None).expect("a test URL parses")
    }

    /// A database of its own for one test.
    pub fn fresh_database(&self) -> Database {
        self.database(&format!("t{:016x}", fastrand::u64(..)))
    }

    /// The URL of a database of its own for one test.
    pub fn fresh_url(&self) -> String {
        let name = format!("t{:016x}", fastrand::u64(..));
        self.database(&name);
        self.url(&name)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pg.log")).unwrap_or_default()
    }

    /// Waits until `f` is true (at most `limit`).
    pub fn wait(limit: Duration, f: impl Fn() -> bool) -> bool {
        let started = Instant::now();
        while started.elapsed() < limit {
            if f() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        f()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut c = pg(&self.bin, "pg_ctl");
        c.arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "stop"]);
        let _ = c.stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}
