//! Roots in object storage: an S3 bucket (AWS, or a self-hosted Garage,
//! MinIO or SeaweedFS, addressed path-style) or an Azure Blob Storage
//! container, through the `object_store` crate. A `BucketRoot` is a `Root`
//! like a local folder: its walk is a paged listing (an object's facts are
//! its size, time and ETag, so an unchanged object costs no read), its
//! opens a `HEAD`, its reads single byte ranges.
//!
//! All of it runs on one small runtime of its own (`runtime`): blocking
//! callers (the scan, probes, thumbnails) wait on it, and a stream to a
//! player is a task there feeding a channel of a few chunks, so memory per
//! stream is bounded and the server's own runtime never waits on the store.
//!
//! An object is read with `If-Match` its ETag (stores such as Garage
//! ignore `If-Range`): a read never mixes the bytes of two versions, and an
//! object replaced since the scan reads as gone (`NotFound`). A stream that
//! breaks is taken up where it stopped, a few times, before it fails.

pub mod http;

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::azure::{MicrosoftAzure, MicrosoftAzureBuilder};
use object_store::path::Path as Key;
use object_store::signer::Signer;
use object_store::{GetOptions, GetRange, ObjectMeta, ObjectStore, RetryConfig};
use tokio::sync::mpsc;

use super::walk::{Facts, Listed, Walked, OBJECT_DEV};
use crate::config::objects::{Bucket, Service};

/// Bytes fetched at least per read that misses the cache: a probe reads
/// many small pieces near each other.
const READ_AHEAD: u64 = 64 * 1024;
/// Blocks an open object keeps (the largest `MAX_CACHED` each).
const CACHE_BLOCKS: usize = 8;
/// Most bytes one read asks for (a larger read takes several).
const MAX_FETCH: u64 = 8 * 1024 * 1024;
const MAX_CACHED: usize = 1024 * 1024;
/// A stream's chunks: gathered up to this size before they are sent.
const CHUNK: usize = 128 * 1024;
/// Chunks a stream reads ahead of the player.
const STREAM_DEPTH: usize = 2;
/// Attempts to take up a stream that broke before it fails, and the wait
/// before each.
const RESUMES: [Duration; 5] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];
/// Longest one blocking request (a listing page, a range) may take.
const REQUEST_LIMIT: Duration = Duration::from_secs(30);
/// Longest wait for an answer's head or the next piece of its body.
const READ_LIMIT: Duration = Duration::from_secs(15);

/// The runtime all object-storage I/O runs on.
fn runtime() -> io::Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    crate::dial::runtime(&RUNTIME, "vidserve-objects")
}

/// Runs `f` on the object runtime and waits for it (never call from an
/// async task: blocking callers only). Each request in `f` has its own
/// time limit (`timed`).
fn block_on<T>(f: impl std::future::Future<Output = io::Result<T>>) -> io::Result<T> {
    runtime()?.block_on(f)
}

/// `f`, or an error when it takes longer than `REQUEST_LIMIT`.
async fn timed<T>(f: impl std::future::Future<Output = io::Result<T>>) -> io::Result<T> {
    tokio::time::timeout(REQUEST_LIMIT, f)
        .await
        .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "object storage did not answer in time")))
}

/// The client of one bucket or container.
enum Client {
    S3(AmazonS3),
    Azure(MicrosoftAzure),
}

/// The calls made, on the concrete clients (never through `dyn
/// ObjectStore`: its table would keep every upload and copy in the binary).
impl Client {
    async fn get_opts(&self, key: &Key, options: GetOptions) -> object_store::Result<object_store::GetResult> {
        match self {
            Client::S3(s) => s.get_opts(key, options).await,
            Client::Azure(a) => a.get_opts(key, options).await,
        }
    }

    fn list(&self, prefix: Option<&Key>) -> futures_util::stream::BoxStream<'static, object_store::Result<ObjectMeta>> {
        match self {
            Client::S3(s) => s.list(prefix),
            Client::Azure(a) => a.list(prefix),
        }
    }

    async fn list_with_delimiter(&self, prefix: Option<&Key>) -> object_store::Result<object_store::ListResult> {
        match self {
            Client::S3(s) => s.list_with_delimiter(prefix).await,
            Client::Azure(a) => a.list_with_delimiter(prefix).await,
        }
    }

    async fn presign(&self, key: &Key, expires: Duration) -> object_store::Result<String> {
        let url = match self {
            Client::S3(s) => s.signed_url(hyper::Method::GET, key, expires).await?,
            Client::Azure(a) => a.signed_url(hyper::Method::GET, key, expires).await?,
        };
        Ok(url.to_string())
    }
}

/// What a bucket root and the objects opened from it share.
struct Shared {
    /// `s3://bucket/prefix`: where the walk's paths start.
    url: String,
    client: Client,
    /// The prefix, `None` for the whole bucket.
    prefix: Option<Key>,
    /// The endpoint speaks https (ffmpeg then needs the tls protocols).
    https: bool,
}

impl Shared {
    /// The key of `rel` below the prefix: only plain names, never `..`.
    fn key(&self, rel: &Path) -> io::Result<Key> {
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(p) => parts.push(
                    p.to_str().ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not a UTF-8 object name"))?,
                ),
                Component::CurDir => {}
                _ => return Err(io::Error::new(io::ErrorKind::PermissionDenied, "not a name below the served bucket")),
            }
        }
        let rel = parts.join("/");
        let full = match &self.prefix {
            Some(p) if rel.is_empty() => p.as_ref().to_string(),
            Some(p) => format!("{}/{rel}", p.as_ref()),
            None => rel,
        };
        Key::parse(full).map_err(|e| io::Error::new(io::ErrorKind::NotFound, e.to_string()))
    }

    /// `key` below the prefix, as a relative path.
    fn rel_of<'k>(&self, key: &'k Key) -> Option<&'k str> {
        match &self.prefix {
            Some(p) => key.as_ref().strip_prefix(p.as_ref())?.strip_prefix('/'),
            None => Some(key.as_ref()),
        }
    }
}

/// One bucket (or a folder of it) served as a root; `Err`: its client
/// could not be made (the root shows offline, saying why).
pub struct BucketRoot {
    shared: Result<Arc<Shared>, String>,
    url: String,
    /// Folders listed lately (`names_in`), oldest first.
    folders: Mutex<VecDeque<Listing>>,
}

/// A folder's object names, and when they were listed.
type Listing = (Key, std::time::Instant, Arc<[String]>);

/// How long a folder's listing is reused, and how many are kept.
const FOLDER_TTL: Duration = Duration::from_secs(60);
const FOLDERS: usize = 256;

impl fmt::Debug for BucketRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BucketRoot({})", self.url)
    }
}

impl BucketRoot {
    /// The client of `bucket`; nothing is sent before the first walk.
    pub fn new(bucket: &Bucket) -> BucketRoot {
        let shared = Self::client(bucket).map(Arc::new).map_err(|e| e.to_string());
        if let Err(why) = &shared {
            tracing::warn!(root = %bucket.url(), "object storage unusable: {why}");
        }
        BucketRoot { shared, url: bucket.url(), folders: Mutex::new(VecDeque::new()) }
    }

    fn shared(&self) -> io::Result<&Arc<Shared>> {
        self.shared.as_ref().map_err(|why| io::Error::other(format!("object storage unusable: {why}")))
    }

    fn client(bucket: &Bucket) -> io::Result<Shared> {
        let connector = http::Connector::new(READ_LIMIT, &bucket.extra_ca);
        // A store that is down must say so within seconds, not minutes:
        // streams resume on their own (`RESUMES`), the scan tries again.
        let retry = RetryConfig { max_retries: 2, retry_timeout: Duration::from_secs(10), ..Default::default() };
        let bad = |e: object_store::Error| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
        let client = match bucket.service {
            Service::S3 => {
                let mut b = AmazonS3Builder::new()
                    .with_bucket_name(&bucket.name)
                    .with_region(&bucket.region)
                    .with_http_connector(connector)
                    .with_retry(retry)
                    .with_allow_http(bucket.http);
                if let Some(endpoint) = &bucket.endpoint {
                    b = b.with_endpoint(endpoint).with_virtual_hosted_style_request(false);
                }
                b = match &bucket.credentials {
                    Some(c) => {
                        let b = b.with_access_key_id(&c.id).with_secret_access_key(&c.secret.0);
                        match &c.token {
                            Some(t) => b.with_token(&t.0),
                            None => b,
                        }
                    }
                    None => b.with_skip_signature(true),
                };
                Client::S3(b.build().map_err(bad)?)
            }
            Service::Azure => {
                let c = bucket
                    .credentials
                    .as_ref()
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no Azure storage account and key"))?;
                let mut b = MicrosoftAzureBuilder::new()
                    .with_account(&c.id)
                    .with_access_key(&c.secret.0)
                    .with_container_name(&bucket.name)
                    .with_http_connector(connector)
                    .with_retry(retry)
                    .with_allow_http(bucket.http);
                if let Some(endpoint) = &bucket.endpoint {
                    b = b.with_endpoint(endpoint.clone());
                }
                Client::Azure(b.build().map_err(bad)?)
            }
        };
        let prefix = (!bucket.prefix.is_empty())
            .then(|| Key::parse(&bucket.prefix))
            .transpose()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let https = bucket.endpoint.as_deref().is_none_or(|e| e.starts_with("https://"));
        Ok(Shared { url: bucket.url(), client, prefix, https })
    }
}

/// The facts of a listed or fetched object.
fn facts_of(meta: &ObjectMeta) -> Facts {
    Facts {
        size: meta.size,
        mtime_ns: meta.last_modified.timestamp_nanos_opt().unwrap_or(0),
        dev: OBJECT_DEV,
        ino: meta.e_tag.as_deref().map_or(0, |t| xxhash_rust::xxh3::xxh3_64(bare_etag(t).as_bytes())),
    }
}

/// An ETag without its quotes: a listing and a `HEAD` of the same object
/// may write it with or without (Azure does both).
fn bare_etag(tag: &str) -> &str {
    tag.trim_start_matches("W/").trim_matches('"')
}

/// A store error as an I/O error: gone (or replaced since the scan) is
/// `NotFound`; the rest says it came from object storage.
fn io_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, "the object is gone"),
        object_store::Error::Precondition { .. } => {
            io::Error::new(io::ErrorKind::NotFound, "the object changed since it was scanned")
        }
        other => io::Error::other(format!("object storage: {}", short(&other))),
    }
}

/// The first line of an error and its causes, at most 300 bytes: a
/// store's answer can be long.
fn short(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        source = s.source();
    }
    let mut line = text.lines().next().unwrap_or("").to_string();
    if line.len() > 300 {
        let cut = (0..=300).rev().find(|&i| line.is_char_boundary(i)).unwrap_or(0);
        line.truncate(cut);
        line.push('…');
    }
    line
}

fn hidden(rel: &str) -> bool {
    rel.split('/').any(|part| part.starts_with('.'))
}

impl BucketRoot {
    /// The object at `rel` below the prefix as it is now (one `HEAD`),
    /// with its facts.
    pub fn open_object(&self, rel: &Path) -> io::Result<(Arc<Object>, Facts)> {
        let shared = self.shared()?;
        let key = shared.key(rel)?;
        let store = &shared.client;
        let meta = block_on(timed(async { store.get_opts(&key, head()).await.map(|r| r.meta).map_err(io_error) }))?;
        let facts = facts_of(&meta);
        let object = Object {
            shared: shared.clone(),
            key,
            size: facts.size,
            etag: meta.e_tag,
            cache: Mutex::new(VecDeque::new()),
        };
        Ok((Arc::new(object), facts))
    }

    /// The names of the objects in the folder `dir` below the prefix that
    /// `keep` accepts, at most `max`. A folder is listed once per
    /// `FOLDER_TTL` (pages ask for the subtitles beside a video each time
    /// they are shown).
    pub fn names_in(&self, dir: &Path, keep: &mut dyn FnMut(&OsStr) -> bool, max: usize) -> io::Result<Vec<OsString>> {
        let shared = self.shared()?;
        let key = shared.key(dir)?;
        let cached = self.folders.lock().ok().and_then(|f| {
            f.iter().find(|(k, at, _)| k == &key && at.elapsed() < FOLDER_TTL).map(|(_, _, names)| names.clone())
        });
        let names = match cached {
            Some(names) => names,
            None => {
                let prefix = (!key.as_ref().is_empty()).then_some(&key);
                let store = &shared.client;
                let listed = block_on(timed(async { store.list_with_delimiter(prefix).await.map_err(io_error) }))?;
                let names: Arc<[String]> =
                    listed.objects.iter().filter_map(|o| o.location.filename().map(String::from)).collect();
                if let Ok(mut folders) = self.folders.lock() {
                    folders.retain(|(k, at, _)| k != &key && at.elapsed() < FOLDER_TTL);
                    if folders.len() >= FOLDERS {
                        folders.pop_front();
                    }
                    folders.push_back((key, std::time::Instant::now(), names.clone()));
                }
                names
            }
        };
        Ok(names.iter().map(OsString::from).filter(|n| keep(n)).take(max).collect())
    }

    /// The videos below the prefix (hidden names skipped), with the facts
    /// the listing gives; `Err`: the bucket cannot be listed (offline).
    pub fn walk(&self) -> Result<Walked, String> {
        let shared = self.shared().map_err(|e| e.to_string())?;
        let root = PathBuf::from(&shared.url);
        let listed = block_on(async {
            let mut walked = Walked::default();
            let mut pages = shared.client.list(shared.prefix.as_ref());
            while let Some(meta) = timed(async { Ok(pages.next().await) }).await? {
                let meta = meta.map_err(io_error)?;
                let Some(rel) = shared.rel_of(&meta.location) else { continue };
                if rel.is_empty() || hidden(rel) || !super::is_video_name(OsStr::new(rel)) {
                    continue;
                }
                let rel = PathBuf::from(rel);
                walked.files.push(Listed { abs: root.join(&rel), rel, facts: facts_of(&meta) });
            }
            Ok(walked)
        });
        listed.map_err(|e| e.to_string())
    }
}

fn head() -> GetOptions {
    GetOptions { head: true, ..Default::default() }
}

/// An object opened for reading: the version the `HEAD` saw (`etag`).
pub struct Object {
    shared: Arc<Shared>,
    key: Key,
    pub size: u64,
    etag: Option<String>,
    /// Recently fetched blocks (offset, bytes), newest last.
    cache: Mutex<VecDeque<(u64, Bytes)>>,
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Object({}/{})", self.shared.url, self.key)
    }
}

impl Object {
    fn range(&self, range: Range<u64>) -> GetOptions {
        GetOptions { range: Some(GetRange::Bounded(range)), if_match: self.etag.clone(), ..Default::default() }
    }

    /// The bytes of `range` (within the object), in one request.
    async fn fetch(&self, range: Range<u64>) -> io::Result<Bytes> {
        let want = (range.end - range.start) as usize;
        let got = self.shared.client.get_opts(&self.key, self.range(range)).await.map_err(io_error)?;
        // Never more than asked for, whatever the store sends.
        let mut body = got.into_stream();
        let mut bytes = BytesMut::with_capacity(want);
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(io_error)?;
            if bytes.len() + piece.len() > want {
                return Err(io::Error::other("object storage sent more than the range asked for"));
            }
            bytes.extend_from_slice(&piece);
        }
        if bytes.len() != want {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object storage sent a short range"));
        }
        Ok(bytes.freeze())
    }

    /// Copies what the cache holds at `offset` into `buf`; the count.
    fn cached(&self, offset: u64, buf: &mut [u8]) -> usize {
        let Ok(cache) = self.cache.lock() else { return 0 };
        for (at, block) in cache.iter().rev() {
            if (*at..*at + block.len() as u64).contains(&offset) {
                let from = (offset - at) as usize;
                let n = buf.len().min(block.len() - from);
                buf[..n].copy_from_slice(&block[from..from + n]);
                return n;
            }
        }
        0
    }

    /// Fills `buf` from `offset` (less at the end of the object), from the
    /// cache or with range requests of at least `READ_AHEAD` bytes.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let want = (buf.len() as u64).min(self.size.saturating_sub(offset)) as usize;
        let mut done = 0;
        while done < want {
            let at = offset + done as u64;
            let n = self.cached(at, &mut buf[done..want]);
            if n > 0 {
                done += n;
                continue;
            }
            let len = ((want - done) as u64).clamp(READ_AHEAD, MAX_FETCH).min(self.size - at);
            let block = block_on(timed(self.fetch(at..at + len)))?;
            let n = (want - done).min(block.len());
            buf[done..done + n].copy_from_slice(&block[..n]);
            done += n;
            if block.len() <= MAX_CACHED {
                if let Ok(mut cache) = self.cache.lock() {
                    if cache.len() >= CACHE_BLOCKS {
                        cache.pop_front();
                    }
                    cache.push_back((at, block));
                }
            }
        }
        Ok(done)
    }

    /// The bytes of `range` as they arrive, in chunks of up to `CHUNK`,
    /// through a channel a few chunks deep (the task stops when the
    /// receiver is dropped). A request that breaks is taken up where it
    /// stopped (`RESUMES`); an object replaced meanwhile ends the stream
    /// with an error, never with another version's bytes.
    pub fn stream(self: &Arc<Self>, range: Range<u64>) -> mpsc::Receiver<io::Result<Bytes>> {
        let (tx, rx) = mpsc::channel(STREAM_DEPTH);
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(e) => {
                let _ = tx.try_send(Err(e));
                return rx;
            }
        };
        let object = self.clone();
        rt.spawn(async move {
            if let Err(e) = object.send_range(range, &tx).await {
                let _ = tx.send(Err(e)).await;
            }
        });
        rx
    }

    async fn send_range(&self, range: Range<u64>, tx: &mpsc::Sender<io::Result<Bytes>>) -> io::Result<()> {
        let store = &self.shared.client;
        let (mut pos, end) = (range.start, range.end);
        let mut failures = 0;
        let mut sent_any = false;
        let mut buf = BytesMut::new();
        while pos < end {
            let before = pos;
            let asked = timed(async { store.get_opts(&self.key, self.range(pos..end)).await.map_err(io_error) });
            let error = match asked.await {
                Ok(got) => pass_on(got.into_stream(), &mut pos, end, &mut buf, tx).await?,
                Err(e) => Some(e),
            };
            let Some(error) = error else { return Ok(()) };
            if pos > before {
                failures = 0;
                sent_any = true;
            }
            if tx.is_closed() {
                return Ok(());
            }
            if error.kind() == io::ErrorKind::NotFound {
                return Err(error);
            }
            // What arrived goes out before the wait.
            if !buf.is_empty() {
                send(tx, buf.split().freeze()).await?;
            }
            // Before the first byte the player is still waiting for an
            // answer: one quick try more, then a clear error now.
            let tries = if sent_any { RESUMES.len() } else { 1 };
            let Some(wait) = RESUMES.get(failures).filter(|_| failures < tries) else { return Err(error) };
            tracing::debug!(object = %self.key, at = pos, "stream from object storage broke ({error}); resuming");
            failures += 1;
            tokio::time::sleep(*wait).await;
        }
        Ok(())
    }

    /// A URL anyone holding it may `GET` the object with for `expires`.
    pub async fn presigned(self: &Arc<Self>, expires: Duration) -> io::Result<String> {
        let object = self.clone();
        let signed =
            runtime()?.spawn(async move { object.shared.client.presign(&object.key, expires).await.map_err(io_error) });
        signed.await.map_err(io::Error::other)?
    }

    /// `presigned`, for blocking callers.
    pub fn presigned_blocking(&self, expires: Duration) -> io::Result<String> {
        block_on(timed(async { self.shared.client.presign(&self.key, expires).await.map_err(io_error) }))
    }

    /// Whether the store is reached over https.
    pub fn https(&self) -> bool {
        self.shared.https
    }
}

/// Passes one answer's body on to the player, from `*pos` up to `end`,
/// gathered into chunks of about `CHUNK` (fewer, larger writes). `None`:
/// the range is complete (all sent); `Some(why)`: the answer broke off at
/// `*pos`; `Err`: the player went away.
async fn pass_on(
    mut body: impl futures_util::Stream<Item = object_store::Result<Bytes>> + Unpin,
    pos: &mut u64,
    end: u64,
    buf: &mut BytesMut,
    tx: &mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<Option<io::Error>> {
    loop {
        let piece = match body.next().await {
            Some(Ok(piece)) => piece,
            Some(Err(e)) => return Ok(Some(io_error(e))),
            None => return Ok(Some(io::Error::new(io::ErrorKind::UnexpectedEof, "the object ended early"))),
        };
        let piece = piece.slice(..piece.len().min((end - *pos) as usize));
        *pos += piece.len() as u64;
        if buf.is_empty() && piece.len() >= CHUNK / 2 {
            send(tx, piece).await?;
        } else {
            buf.extend_from_slice(&piece);
            if buf.len() >= CHUNK || *pos >= end {
                send(tx, buf.split().freeze()).await?;
            }
        }
        if *pos >= end {
            return Ok(None);
        }
    }
}

async fn send(tx: &mpsc::Sender<io::Result<Bytes>>, chunk: Bytes) -> io::Result<()> {
    tx.send(Ok(chunk)).await.map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the player went away"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bucket on loopback's discard port, where nothing listens.
    fn nowhere(prefix: &str) -> BucketRoot {
        BucketRoot::new(&Bucket {
            service: Service::S3,
            name: "films".into(),
            prefix: prefix.into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            region: "garage".into(),
            credentials: None,
            http: true,
            extra_ca: Vec::new(),
        })
    }

    #[test]
    fn keys_stay_below_the_prefix() {
        let root = nowhere("kids");
        let s = root.shared().unwrap();
        assert_eq!(s.key(Path::new("a b/c#1.mp4")).unwrap().as_ref(), "kids/a b/c#1.mp4");
        assert_eq!(s.key(Path::new("")).unwrap().as_ref(), "kids");
        assert!(s.key(Path::new("../x.mp4")).is_err());
        assert!(s.key(Path::new("/etc/passwd")).is_err());
        let key = Key::parse("kids/a/b.mp4").unwrap();
        assert_eq!(s.rel_of(&key), Some("a/b.mp4"));
        assert_eq!(s.rel_of(&Key::parse("kidsx/b.mp4").unwrap()), None);
        assert!(hidden("a/.b/c.mp4") && !hidden("a/b.c/d.mp4"));
        assert_eq!(bare_etag("\"0x8D1\""), "0x8D1");
        assert_eq!(bare_etag("W/\"abc\""), "abc");
        assert_eq!(bare_etag("0x8D1"), "0x8D1");
    }

    #[test]
    fn a_store_that_is_not_there_is_an_error_not_a_hang() {
        let root = nowhere("");
        let why = root.walk().unwrap_err();
        assert!(why.contains("object storage"), "{why}");
        assert!(root.open_object(Path::new("a.mp4")).is_err());
    }
}
