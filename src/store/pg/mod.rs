//! The state in PostgreSQL (`--database postgres://…`), for several
//! servers sharing one library. The same records as the redb store (index
//! records as postcard, what people entered as JSON), one table each; the
//! schema is versioned in `vidserve_meta` and made or brought up to date
//! at start, under a lock, by whichever server starts first.
//!
//! Every write that others must learn of sends a notification on the
//! `vidserve` channel in its own transaction (delivered only when it
//! commits): `follow` turns them back into `Change`s for the other
//! servers. Writes to what people entered take one transaction-level
//! advisory lock, so two servers' edits of one video never interleave.
//!
//! I/O runs on a runtime of its own (`vidserve-db`): connections are
//! driven, and a dead one noticed, whatever the callers do; callers block.

mod dump;
mod follow;
mod index;
mod people;
mod playlists;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
mod user;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio_postgres::config::Host;
use tokio_postgres::{Client, NoTls};

use super::{Applied, Index, IndexChanges, IndexRead, Store, StoreError};
use crate::catalog::personal::{PersonalMap, Viewer};
use crate::catalog::user::{Edit, UserData};
use crate::config::database::Database;
use crate::library::ids::VideoId;
use crate::store::people::{AccountRecord, GrantRecord, PeopleRecords};
use crate::store::playlists::PlaylistRecord;

pub use follow::{Change, Follower, Leadership, Stop};

/// The schema this build writes.
const SCHEMA_VERSION: i64 = 1;
/// The channel changes are announced on.
const CHANNEL: &str = "vidserve";
/// Advisory lock keys (one namespace: "vids" in ASCII, then a number).
const LOCK_SCHEMA: i64 = 0x7669_6473_0000_0001;
pub(super) const LOCK_USER: i64 = 0x7669_6473_0000_0002;
pub const LOCK_SCANNER: i64 = 0x7669_6473_0000_0003;
/// Longest one statement or transaction may take.
const QUERY_LIMIT: Duration = Duration::from_secs(60);
/// How long a caller waits for the database to come back (connections
/// only: a statement already sent is never sent again).
const CONNECT_PATIENCE: Duration = Duration::from_secs(5);
/// Idle connections kept for reuse.
const KEEP_IDLE: usize = 8;

const SCHEMA: &str = "
CREATE TABLE vidserve_files (path bytea PRIMARY KEY, rec bytea NOT NULL);
CREATE TABLE vidserve_videos (id int8 PRIMARY KEY, rec bytea NOT NULL);
CREATE TABLE vidserve_roots (pos int4 PRIMARY KEY, path bytea NOT NULL);
CREATE TABLE vidserve_user (id int8 PRIMARY KEY, rec bytea NOT NULL);
CREATE TABLE vidserve_user_damaged (id int8, at int8, rec bytea NOT NULL, PRIMARY KEY (id, at));
CREATE TABLE vidserve_personal (name text, id int8, rec bytea NOT NULL, PRIMARY KEY (name, id));
CREATE TABLE vidserve_imported (key text PRIMARY KEY, at int8 NOT NULL);
CREATE TABLE vidserve_accounts (name text PRIMARY KEY, rec bytea NOT NULL);
CREATE TABLE vidserve_tokens (digest text PRIMARY KEY, rec bytea NOT NULL);
CREATE TABLE vidserve_sessions (digest text PRIMARY KEY, rec bytea NOT NULL);
CREATE TABLE vidserve_secrets (name text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE vidserve_household (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE vidserve_playlists (owner text, n int8, rec bytea NOT NULL, PRIMARY KEY (owner, n));
CREATE TABLE vidserve_playlist_next (owner text PRIMARY KEY, n int8 NOT NULL);
";

pub struct PgStore {
    pool: Arc<Pool>,
    /// Names this server in its notifications (it skips its own).
    origin: String,
}

/// Connections to the database, made when needed and kept when idle.
pub(super) struct Pool {
    db: Database,
    idle: Mutex<Vec<Client>>,
}

/// A connection lent by the pool; given back when dropped, unless broken.
pub(super) struct Conn {
    client: Option<Client>,
    pool: Arc<Pool>,
}

impl std::ops::Deref for Conn {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("a lent connection is there until dropped")
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().expect("a lent connection is there until dropped")
    }
}

impl Conn {
    /// Drops the connection instead of giving it back (its state is unknown).
    fn discard(mut self) {
        self.client.take();
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(c) = self.client.take().filter(|c| !c.is_closed()) {
            if let Ok(mut idle) = self.pool.idle.lock() {
                if idle.len() < KEEP_IDLE {
                    idle.push(c);
                }
            }
        }
    }
}

/// The runtime database I/O runs on.
fn runtime() -> Result<&'static tokio::runtime::Runtime, StoreError> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    crate::dial::runtime(&RUNTIME, "vidserve-db").map_err(|e| StoreError::Db(Box::new(e)))
}

/// Runs `f` on the database runtime and waits for it, within
/// `QUERY_LIMIT` (blocking callers only).
pub(super) fn block<T>(f: impl Future<Output = Result<T, tokio_postgres::Error>>) -> Result<T, StoreError> {
    let mut out = None;
    let done = wait(Box::pin(async { out = Some(f.await) }));
    match out {
        Some(answer) if done.is_ok() => answer.map_err(pg_error),
        _ => Err(done.err().unwrap_or_else(|| StoreError::Unavailable("no answer".into()))),
    }
}

/// `block`'s waiting, made once for every kind of answer (each caller's
/// future is only boxed, not compiled into its own copy of this).
fn wait(f: std::pin::Pin<Box<dyn Future<Output = ()> + '_>>) -> Result<(), StoreError> {
    runtime()?
        // The time limit is made inside: its timer needs the runtime.
        .block_on(async { tokio::time::timeout(QUERY_LIMIT, f).await })
        .map_err(|_| StoreError::Unavailable(format!("no answer in {} s", QUERY_LIMIT.as_secs())))
}

/// A database error as the store's: the database gone or refusing
/// connections is `Unavailable` (a 503 to try again), anything else a
/// database error.
pub(super) fn pg_error(e: tokio_postgres::Error) -> StoreError {
    let code = e.code().map(|c| c.code().to_string());
    let gone = e.is_closed()
        || code.as_deref().is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c.starts_with("53"))
        || (code.is_none() && std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()));
    if gone {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Db(Box::new(e))
    }
}

impl Pool {
    /// An idle connection, or a new one; waits up to `CONNECT_PATIENCE`
    /// for a database that is restarting.
    pub(super) fn get(self: &Arc<Self>) -> Result<Conn, StoreError> {
        let reuse = self.idle.lock().ok().and_then(|mut idle| {
            idle.retain(|c| !c.is_closed());
            idle.pop()
        });
        if let Some(client) = reuse {
            return Ok(Conn { client: Some(client), pool: self.clone() });
        }
        let started = Instant::now();
        loop {
            match runtime()?.block_on(connect(&self.db)) {
                Ok(client) => return Ok(Conn { client: Some(client), pool: self.clone() }),
                Err(StoreError::Unavailable(why)) if started.elapsed() < CONNECT_PATIENCE => {
                    tracing::debug!("the database is not reachable yet ({why}); trying again");
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// A new connection to `db`, driven on the database runtime. Host names
/// are resolved in pure Rust (`dial`); a host that is a path is a
/// directory holding the server's Unix socket.
pub(super) async fn connect(db: &Database) -> Result<Client, StoreError> {
    let (client, mut connection) = connect_raw(db).await?;
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.as_mut().poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notice(n))) => {
                    tracing::debug!("database notice: {}", n.message())
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::debug!("a database connection ended: {e}");
                    return;
                }
                None => return,
            }
        }
    });
    Ok(client)
}

/// A `tokio_postgres::Connection` over a TCP or Unix socket.
pub(super) trait ConnectionDriver: Send {
    fn poll_message(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<tokio_postgres::AsyncMessage, tokio_postgres::Error>>>;
}

impl<S, T> ConnectionDriver for tokio_postgres::Connection<S, T>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
{
    fn poll_message(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<tokio_postgres::AsyncMessage, tokio_postgres::Error>>> {
        tokio_postgres::Connection::poll_message(self.get_mut(), cx)
    }
}

/// A connection whose messages the caller drives.
pub(super) type Driven = (Client, std::pin::Pin<Box<dyn ConnectionDriver>>);

/// A new connection to `db`, its messages left to the caller.
pub(super) async fn connect_raw(db: &Database) -> Result<Driven, StoreError> {
    let unavailable = |what: String| StoreError::Unavailable(what);
    let mut config = db.config.clone();
    if let Some(p) = &db.password {
        config.password(p.0.as_bytes());
    }
    let ports = config.get_ports();
    let mut last = unavailable(format!("{} names no host", db.shown));
    for (i, host) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        // One stream type for both kinds of socket: the protocol's code is
        // made once.
        let stream: Result<Box<dyn crate::dial::Io>, StoreError> = match host {
            Host::Tcp(name) => {
                async {
                    let addrs = crate::dial::resolve(name, port).await.map_err(unavailable)?;
                    let tcp = crate::dial::tcp(&addrs, Duration::from_secs(5))
                        .await
                        .map_err(|e| unavailable(format!("cannot connect to {name}:{port} ({e})")))?;
                    Ok(Box::new(tcp) as Box<dyn crate::dial::Io>)
                }
                .await
            }
            Host::Unix(dir) => {
                let path = dir.join(format!(".s.PGSQL.{port}"));
                match tokio::net::UnixStream::connect(&path).await {
                    Ok(socket) => Ok(Box::new(socket) as Box<dyn crate::dial::Io>),
                    Err(e) => Err(unavailable(format!("cannot connect to {} ({e})", path.display()))),
                }
            }
        };
        let made = match stream {
            Ok(stream) => config
                .connect_raw(stream, NoTls)
                .await
                .map(|(client, conn)| (client, Box::pin(conn) as std::pin::Pin<Box<dyn ConnectionDriver>>))
                .map_err(pg_error),
            Err(e) => Err(e),
        };
        match made {
            Ok(made) => return Ok(made),
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl PgStore {
    /// Connects to `db`, and makes the schema or checks it is one this
    /// build understands.
    pub fn open(db: &Database) -> Result<PgStore, StoreError> {
        let pool = Arc::new(Pool { db: db.clone(), idle: Mutex::new(Vec::new()) });
        let mut origin = [0u8; 6];
        getrandom::fill(&mut origin).map_err(|e| StoreError::Db(Box::new(e)))?;
        let store = PgStore { pool, origin: origin.iter().map(|b| format!("{b:02x}")).collect() };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.get()?;
        let shown = PathBuf::from(&self.pool.db.shown);
        let made = block(async {
            let tx = conn.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_SCHEMA]).await?;
            tx.batch_execute("CREATE TABLE IF NOT EXISTS vidserve_meta (key text PRIMARY KEY, value int8 NOT NULL)")
                .await?;
            let version: Option<i64> = tx
                .query_opt("SELECT value FROM vidserve_meta WHERE key = 'schema_version'", &[])
                .await?
                .map(|r| r.get(0));
            match version {
                Some(v) => {
                    tx.rollback().await?;
                    Ok(Some(v))
                }
                None => {
                    tx.batch_execute(SCHEMA).await?;
                    tx.execute("INSERT INTO vidserve_meta VALUES ('schema_version', $1)", &[&SCHEMA_VERSION]).await?;
                    tx.commit().await?;
                    Ok(None)
                }
            }
        })?;
        match made {
            Some(v) if v > SCHEMA_VERSION => Err(StoreError::TooNew(shown, v as u64)),
            Some(_) => Ok(()),
            None => {
                tracing::info!(database = %self.pool.db.shown, "database schema made");
                Ok(())
            }
        }
    }

    /// Follows the changes other servers make (`follow`).
    pub fn follower(&self) -> Follower {
        Follower::new(self.pool.db.clone(), self.origin.clone())
    }

    /// Where leadership is decided: the scanner lock (`follow::Leadership`).
    pub fn database(&self) -> &Database {
        &self.pool.db
    }
}

/// Sends `items` of `kind` on the channel, packed into notifications of
/// at most about 7,000 bytes (PostgreSQL's limit is 8,000), within `tx`,
/// in one typed statement; nothing when there are none (a kind without
/// items, such as `people`, is sent with `announce`).
pub(super) async fn announce_items(
    tx: &tokio_postgres::Transaction<'_>,
    origin: &str,
    kind: &str,
    items: &[String],
) -> Result<(), tokio_postgres::Error> {
    if items.is_empty() {
        return Ok(());
    }
    send(tx, origin, kind, items).await
}

/// Sends `kind` (one without items) on the channel, within `tx`.
pub(super) async fn announce(
    tx: &tokio_postgres::Transaction<'_>,
    origin: &str,
    kind: &str,
) -> Result<(), tokio_postgres::Error> {
    send(tx, origin, kind, &[]).await
}

async fn send(
    tx: &tokio_postgres::Transaction<'_>,
    origin: &str,
    kind: &str,
    items: &[String],
) -> Result<(), tokio_postgres::Error> {
    const MOST: usize = 7000;
    let head = format!("{origin} {kind}");
    let mut payloads = Vec::new();
    let mut payload = head.clone();
    for item in items {
        if payload.len() + 1 + item.len() > MOST && payload.len() > head.len() {
            payloads.push(std::mem::replace(&mut payload, head.clone()));
        }
        payload.push(' ');
        payload.push_str(item);
    }
    payloads.push(payload);
    use tokio_postgres::types::{ToSql, Type};
    let sql = "SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p";
    let params: [(&(dyn ToSql + Sync), Type); 2] = [(&CHANNEL, Type::TEXT), (&payloads, Type::TEXT_ARRAY)];
    tx.query_typed(sql, &params).await?;
    Ok(())
}

/// A read-only transaction that sees one moment (repeatable read).
pub(super) async fn snapshot(client: &mut Client) -> Result<tokio_postgres::Transaction<'_>, tokio_postgres::Error> {
    client
        .build_transaction()
        .read_only(true)
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .start()
        .await
}

pub(super) fn now_ns() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

/// A video id as stored (`int8`: the same 64 bits).
pub(super) fn key(id: VideoId) -> i64 {
    id.0 as i64
}

pub(super) fn id_of(key: i64) -> VideoId {
    VideoId(key as u64)
}

/// Decodes each JSON value of `rows` (key column 0, value column 1); one
/// that fails is skipped with a warning naming `what`.
pub(super) fn decode_rows<K, T: serde::de::DeserializeOwned>(
    rows: Vec<tokio_postgres::Row>,
    what: &str,
    key: impl Fn(&tokio_postgres::Row) -> K,
) -> Vec<(K, T)> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_slice(row.get::<_, &[u8]>(1)) {
            Ok(rec) => out.push((key(&row), rec)),
            Err(e) => tracing::warn!("skipping an unreadable {what} record: {e}"),
        }
    }
    out
}

impl Store for PgStore {
    fn location(&self) -> String {
        self.pool.db.shown.clone()
    }
    fn is_shared(&self) -> bool {
        true
    }
    fn grant(&self, session: bool, digest: &str) -> Result<Option<GrantRecord>, StoreError> {
        self.grant(session, digest)
    }
    fn index_reader(&self) -> Result<Box<dyn IndexRead>, StoreError> {
        Ok(Box::new(index::Reader::new(self.pool.get()?)?))
    }
    fn index_has_files(&self) -> Result<bool, StoreError> {
        self.index_has_files()
    }
    fn load_index(&self) -> Result<Index, StoreError> {
        self.load_index()
    }
    fn apply_index(&self, changes: &IndexChanges) -> Result<(), StoreError> {
        self.apply_index(changes)
    }
    fn roots(&self) -> Result<Vec<PathBuf>, StoreError> {
        self.roots()
    }
    fn load_user(&self) -> Result<HashMap<VideoId, UserData>, StoreError> {
        self.load_user()
    }
    fn load_personal(&self) -> Result<PersonalMap, StoreError> {
        self.load_personal()
    }
    fn apply_user(&self, edits: &[(Viewer, VideoId, Edit)]) -> Result<Applied, StoreError> {
        self.apply_user(edits)
    }
    fn damaged_user_records(&self) -> Result<Vec<(VideoId, i64, Vec<u8>)>, StoreError> {
        self.damaged_user_records()
    }
    fn was_imported(&self, key: &str) -> Result<bool, StoreError> {
        self.was_imported(key)
    }
    fn was_imported_prefix(&self, prefix: &str) -> Result<bool, StoreError> {
        self.was_imported_prefix(prefix)
    }
    fn mark_imported(&self, key: &str) -> Result<(), StoreError> {
        self.mark_imported(key)
    }
    fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        self.secret(name)
    }
    fn load_people(&self) -> Result<PeopleRecords, StoreError> {
        self.load_people()
    }
    fn put_account(&self, rec: &AccountRecord) -> Result<Option<String>, StoreError> {
        self.put_account(rec)
    }
    fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        self.remove_account(name)
    }
    fn put_household(&self, key: &str, value: Option<&str>) -> Result<(), StoreError> {
        self.put_household(key, value)
    }
    fn put_token(&self, digest: &str, rec: &GrantRecord) -> Result<(), StoreError> {
        self.put_grant("vidserve_tokens", digest, rec)
    }
    fn put_session(&self, digest: &str, rec: &GrantRecord) -> Result<(), StoreError> {
        self.put_grant("vidserve_sessions", digest, rec)
    }
    fn remove_session(&self, digest: &str) -> Result<(), StoreError> {
        self.remove_session(digest)
    }
    fn revoke_tokens(&self, name: &str) -> Result<usize, StoreError> {
        self.revoke_tokens(name)
    }
    fn load_playlists(&self) -> Result<Vec<(String, u64, PlaylistRecord)>, StoreError> {
        self.load_playlists()
    }
    fn add_playlist(&self, owner: &str, rec: &PlaylistRecord) -> Result<u64, StoreError> {
        self.add_playlist(owner, rec)
    }
    fn put_playlist(&self, owner: &str, n: u64, rec: Option<&PlaylistRecord>) -> Result<(), StoreError> {
        self.put_playlist(owner, n, rec)
    }
    fn restore_playlist(
        &self,
        owner: &str,
        number: Option<u64>,
        rec: &PlaylistRecord,
        max: usize,
    ) -> Result<(), StoreError> {
        self.restore_playlist(owner, number, rec, max)
    }
    fn dump(&self) -> Result<Vec<crate::store::dump::Row>, StoreError> {
        self.dump()
    }
    fn restore(&self, rows: &[crate::store::dump::Row]) -> Result<(), StoreError> {
        self.restore(rows)
    }
}
