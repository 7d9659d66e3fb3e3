//! `GET|HEAD /video/{id}` and `/video/{path}`: RFC 9110 conditional and
//! range requests over the file as it is on disk (its metadata at most
//! `files::TTL` old). One hop to the blocking pool opens the file and reads
//! its metadata, skipped while `OpenFiles` holds a fresh handle; the body
//! then streams through `stream::FileBody`.
//!
//! Conditions and ranges are decided by `http::conditional` (RFC 9110
//! §13.2.2's order), as for every other response with a validator.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION,
    REFERRER_POLICY,
};
use hyper::{Method, Response, StatusCode};

use super::pages::lookup;
use super::ApiError;
use crate::app::Library;
use crate::catalog::{Located, Video};
use crate::http::body::Body;
use crate::http::conditional::{self, Answer, Validators};
use crate::http::files::{OpenFiles, OpenKey, Opened};
use crate::http::range::ByteRange;
use crate::http::route::VideoKey;
use crate::http::stream::{FileBody, Segment};
use crate::http::zerocopy::Pending;
use crate::library::ids::VideoId;
use crate::library::objects::Object;
use crate::library::roots::{Content, Roots};
use crate::library::video_type;
use crate::media::remux::cache::Plans;
use crate::media::remux::sound::Sound;
use crate::metrics::Metrics;

/// What serving a video's bytes uses: the catalog (and its rescan when a
/// file is gone), the open files of hot videos, the meter of bytes sent,
/// and for `/play` the remux plans and remade sound.
pub struct Streaming {
    pub library: Arc<Library>,
    pub open: OpenFiles,
    pub metrics: Metrics,
    pub plans: Arc<Plans>,
    pub sound: Arc<Sound>,
    pub transcodes: Arc<crate::media::transcode::Transcodes>,
    /// Reads films' remux tables; asked to read one next when it is played first.
    pub prebuild: Arc<crate::app::Prebuild>,
    /// `--s3-redirect`: a video in object storage is answered with a
    /// presigned URL of it.
    pub redirect: bool,
}

pub async fn video(
    streaming: &Streaming,
    sight: &crate::catalog::Sight,
    key: &VideoKey,
    method: &Method,
    headers: &HeaderMap,
    zero_copy: Option<Pending>,
) -> Result<Response<Body>, ApiError> {
    let catalog = streaming.library.catalog();
    let video = lookup(&catalog, sight, key)?;
    // A path route answers for that path (its own content type); an id
    // route for the first path. The other paths hold the same bytes and
    // stand in when the first is gone.
    let asked = match key {
        VideoKey::Path(rel) => video.files.iter().position(|f| &f.rel == rel).unwrap_or(0),
        VideoKey::Id(_) => 0,
    };
    drop(catalog);
    let opened = hot_file(streaming, &video, asked).await?;
    let ctype = opened.ctype;
    if let (true, true, Content::Object(object)) = (streaming.redirect, method == Method::GET, &opened.content) {
        return redirect(object, video.duration_ms()).await;
    }

    let validators = Validators { etag: &opened.etag, modified: Some(opened.modified) };
    let answer = conditional::evaluate(headers, &validators, Some(opened.len));
    let head = method == Method::HEAD;
    let file_body = |segments: Vec<Segment>| {
        if head {
            Body::Empty
        } else {
            let body = FileBody::new(opened.content.clone(), segments, streaming.metrics.meter());
            Body::File(body.zero_copy(zero_copy.clone().filter(|_| opened.local)))
        }
    };

    let mut res = match answer {
        Answer::NotModified => respond(StatusCode::NOT_MODIFIED, &opened, None, Body::Empty),
        Answer::PreconditionFailed => return Err(ApiError::PreconditionFailed),
        Answer::Unsatisfiable => return Err(ApiError::Unsatisfiable { len: opened.len }),
        Answer::Full => {
            let body = file_body(vec![Segment::File { pos: 0, end: opened.len }]);
            let mut res = respond(StatusCode::OK, &opened, Some(ctype), body);
            res.headers_mut().insert(CONTENT_LENGTH, opened.len.into());
            res
        }
        Answer::Ranges(ranges) if ranges.len() == 1 => {
            let r = ranges[0];
            let body = file_body(vec![Segment::File { pos: r.start, end: r.end }]);
            let mut res = respond(StatusCode::PARTIAL_CONTENT, &opened, Some(ctype), body);
            let h = res.headers_mut();
            h.insert(CONTENT_LENGTH, r.len().into());
            h.insert(CONTENT_RANGE, HeaderValue::from_str(&r.content_range(opened.len)).expect("ascii"));
            res
        }
        Answer::Ranges(ranges) => {
            let boundary = boundary(video.id);
            let segments = multipart(&ranges, opened.len, ctype, &boundary);
            let total: u64 = segments
                .iter()
                .map(|s| match s {
                    Segment::Bytes(b) => b.len() as u64,
                    Segment::File { pos, end } => end - pos,
                })
                .sum();
            let ctype = format!("multipart/byteranges; boundary={boundary}");
            let mut res = respond(StatusCode::PARTIAL_CONTENT, &opened, None, file_body(segments));
            let h = res.headers_mut();
            h.insert(CONTENT_TYPE, HeaderValue::from_str(&ctype).expect("ascii"));
            h.insert(CONTENT_LENGTH, total.into());
            res
        }
    };
    if let Body::File(body) = res.body_mut() {
        match body.first_bytes().await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                streaming.library.request_rescan();
                return Err(ApiError::NotFound(format!(
                    "this video changed in its store ({e}); the library is being rescanned"
                )));
            }
            Err(e) => {
                tracing::warn!(id = %video.id, "cannot be read now: {e}");
                return Err(unreadable());
            }
        }
    }
    Ok(res)
}

/// Opens the first file of the video that is still the one the scan saw
/// (beneath its root, a regular file, same device, inode and size), with
/// its metadata, in one hop to the blocking pool. `None` when none is.
/// `video`'s file number `asked` (another of its paths when that one is
/// gone), open: from `OpenFiles` while fresh, else opened on the blocking
/// pool and kept there. A player's stream of range requests then costs no
/// pool hop. None found: the index is behind the disk (a rescan is asked).
pub(super) async fn hot_file(streaming: &Streaming, video: &Video, asked: usize) -> Result<Opened, ApiError> {
    let (library, files) = (&streaming.library, &streaming.open);
    let catalog = library.catalog();
    let hot = OpenKey { id: video.id, file: asked, generation: catalog.generation };
    if let Some(hot) = files.get(&hot) {
        return Ok(hot);
    }
    let mut order: Vec<usize> = (0..video.files.len()).collect();
    order.retain(|&i| i != asked);
    order.insert(0, asked);
    let candidates = order.iter().map(|&i| catalog.located(&video.files[i])).collect();
    let roots = catalog.sources().clone();
    drop(catalog);
    let Some(opened) = open(video.id, candidates, roots).await? else {
        library.request_rescan();
        return Err(ApiError::NotFound("this video's file is gone; the library is being rescanned".into()));
    };
    files.put(hot, opened.clone());
    Ok(opened)
}

async fn open(id: VideoId, files: Vec<Located>, roots: Roots) -> Result<Option<Opened>, ApiError> {
    let opened = crate::blocking::spawn(move || -> std::io::Result<Option<Opened>> {
        // A store that cannot be reached (object storage down, a disk
        // error): said as such when no other path serves, not taken for
        // a file that is gone.
        let mut unreachable = None;
        for located in &files {
            let o = match located.open(&roots) {
                Ok(o) => o,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::Other | std::io::ErrorKind::TimedOut) => {
                    tracing::warn!(file = %located.rel.display(), "cannot be read now: {e}");
                    unreachable = Some(e);
                    continue;
                }
                // Refused (outside the roots, not a file, a symlink loop, a
                // rename racing the lookup): the next path may do.
                Err(e) => {
                    tracing::warn!(file = %located.rel.display(), "not served: {e}");
                    continue;
                }
            };
            let modified = UNIX_EPOCH + Duration::from_secs(u64::try_from(o.mtime_ns / 1_000_000_000).unwrap_or(0));
            let etag = format!("\"{id}-{:x}-{:x}\"", o.size, o.mtime_ns).into();
            let ctype = video_type(&located.rel).unwrap_or("application/octet-stream");
            let local = o.content.file().is_some_and(|f| crate::http::zerocopy::local_filesystem(f));
            return Ok(Some(Opened { content: o.content, len: o.size, etag, modified, ctype, local }));
        }
        unreachable.map_or(Ok(None), Err)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    opened.map_err(|_| unreadable())
}

/// What a viewer is told when a video's store or disk cannot be read (the
/// details, which name the store, go to the log and the admin page).
fn unreadable() -> ApiError {
    ApiError::Unavailable("this video cannot be read now (its storage does not answer); try again later".into())
}

/// How long a presigned URL stays valid: the film's length and half an
/// hour more (a paused player resumes with it), 15 minutes to 12 hours.
fn signed_for(duration_ms: Option<u64>) -> Duration {
    let film = Duration::from_millis(duration_ms.unwrap_or(0));
    (film + Duration::from_secs(30 * 60)).clamp(Duration::from_secs(15 * 60), Duration::from_secs(12 * 3600))
}

/// `--s3-redirect`: a temporary redirect to a presigned URL of the
/// object, so the store (or a CDN in front of it) sends the bytes. Only
/// reached by those allowed to watch the video (the router checked);
/// the URL names that one object and expires (`signed_for`).
async fn redirect(object: &Arc<Object>, duration_ms: Option<u64>) -> Result<Response<Body>, ApiError> {
    let url = object
        .presigned(signed_for(duration_ms))
        .await
        .map_err(|e| ApiError::Unavailable(format!("the video's store cannot sign a link: {e}")))?;
    let mut res = Response::new(Body::Empty);
    *res.status_mut() = StatusCode::TEMPORARY_REDIRECT;
    let h = res.headers_mut();
    h.insert(LOCATION, HeaderValue::from_str(&url).map_err(|e| ApiError::Internal(e.into()))?);
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(res)
}

fn respond(status: StatusCode, o: &Opened, ctype: Option<&'static str>, body: Body) -> Response<Body> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    conditional::add_validators(h, &Validators { etag: &o.etag, modified: Some(o.modified) });
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=0, must-revalidate"));
    if let Some(ctype) = ctype {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    }
    res
}

fn boundary(id: VideoId) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("vidserve-{id}-{nanos:08x}")
}

/// The parts of a `multipart/byteranges` body, streamed one after another.
fn multipart(ranges: &[ByteRange], len: u64, ctype: &str, boundary: &str) -> Vec<Segment> {
    let mut out = Vec::with_capacity(ranges.len() * 2 + 1);
    for r in ranges {
        let head =
            format!("\r\n--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: {}\r\n\r\n", r.content_range(len));
        out.push(Segment::Bytes(Bytes::from(head)));
        out.push(Segment::File { pos: r.start, end: r.end });
    }
    out.push(Segment::Bytes(Bytes::from(format!("\r\n--{boundary}--\r\n"))));
    out
}
