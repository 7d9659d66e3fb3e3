//! `GET|HEAD /video/{id}` and `/video/{path}`: RFC 9110 conditional and
//! range requests over the file as it is on disk (its metadata at most
//! `files::TTL` old). One hop to the blocking pool opens the file and reads
//! its metadata, skipped while `OpenFiles` holds a fresh handle; the body
//! then streams through `stream::FileBody`.
//!
//! Order of evaluation (RFC 9110 §13.2.2): If-Match, If-Unmodified-Since
//! (412); If-None-Match, If-Modified-Since (304); If-Range; Range.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_MATCH,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE, LAST_MODIFIED, RANGE,
};
use hyper::{Method, Response, StatusCode};

use super::pages::lookup;
use super::ApiError;
use crate::catalog::{Located, Video};
use crate::http::body::Body;
use crate::http::files::{OpenFiles, OpenKey, Opened};
use crate::http::range::{parse_range, ByteRange, RangeOutcome};
use crate::http::route::VideoKey;
use crate::http::stream::{FileBody, Segment};
use crate::http::zerocopy::Pending;
use crate::library::ids::VideoId;
use crate::library::video_type;
use crate::App;

pub async fn video(
    app: &App,
    files: &OpenFiles,
    key: &VideoKey,
    method: &Method,
    headers: &HeaderMap,
    zero_copy: Option<Pending>,
) -> Result<Response<Body>, ApiError> {
    let catalog = app.library.catalog();
    let video = lookup(&catalog, key)?;
    // A path route answers for that path (its own content type); an id
    // route for the first path. The other paths hold the same bytes and
    // stand in when the first is gone.
    let asked = match key {
        VideoKey::Path(rel) => video.files.iter().position(|f| &f.rel == rel).unwrap_or(0),
        VideoKey::Id(_) => 0,
    };
    drop(catalog);
    let opened = hot_file(app, files, &video, asked).await?;
    let ctype = opened.ctype;

    if let Some(status) = precondition(headers, &opened) {
        return match status {
            StatusCode::NOT_MODIFIED => Ok(respond(StatusCode::NOT_MODIFIED, &opened, None, Body::Empty)),
            _ => Err(ApiError::PreconditionFailed),
        };
    }

    let range_header = headers.get(RANGE).and_then(|v| v.to_str().ok());
    let range_applies = match headers.get(IF_RANGE) {
        None => true,
        Some(v) => if_range_matches(v, &opened),
    };
    let outcome = match range_header {
        Some(h) if range_applies => parse_range(h, opened.len),
        _ => RangeOutcome::Full,
    };
    let head = method == Method::HEAD;
    let file_body = |segments: Vec<Segment>| {
        if head {
            Body::Empty
        } else {
            let body = FileBody::new(opened.file.clone(), segments, app.ops.metrics.meter());
            Body::File(body.zero_copy(zero_copy.clone().filter(|_| opened.local)))
        }
    };

    Ok(match outcome {
        RangeOutcome::Unsatisfiable => return Err(ApiError::Unsatisfiable { len: opened.len }),
        RangeOutcome::Full => {
            let body = file_body(vec![Segment::File { pos: 0, end: opened.len }]);
            let mut res = respond(StatusCode::OK, &opened, Some(ctype), body);
            res.headers_mut().insert(CONTENT_LENGTH, opened.len.into());
            res
        }
        RangeOutcome::Partial(ranges) if ranges.len() == 1 => {
            let r = ranges[0];
            let body = file_body(vec![Segment::File { pos: r.start, end: r.end }]);
            let mut res = respond(StatusCode::PARTIAL_CONTENT, &opened, Some(ctype), body);
            let h = res.headers_mut();
            h.insert(CONTENT_LENGTH, r.len().into());
            h.insert(CONTENT_RANGE, HeaderValue::from_str(&r.content_range(opened.len)).expect("ascii"));
            res
        }
        RangeOutcome::Partial(ranges) => {
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
    })
}

/// Opens the first file of the video that is still the one the scan saw
/// (beneath its root, a regular file, same device, inode and size), with
/// its metadata, in one hop to the blocking pool. `None` when none is.
/// `video`'s file number `asked` (another of its paths when that one is
/// gone), open: from `OpenFiles` while fresh, else opened on the blocking
/// pool and kept there. A player's stream of range requests then costs no
/// pool hop. None found: the index is behind the disk (a rescan is asked).
pub(super) async fn hot_file(app: &App, files: &OpenFiles, video: &Video, asked: usize) -> Result<Opened, ApiError> {
    let catalog = app.library.catalog();
    let hot = OpenKey { id: video.id, file: asked, generation: catalog.generation };
    if let Some(hot) = files.get(&hot) {
        return Ok(hot);
    }
    let mut order: Vec<usize> = (0..video.files.len()).collect();
    order.retain(|&i| i != asked);
    order.insert(0, asked);
    let candidates = order.iter().map(|&i| catalog.located(&video.files[i])).collect();
    let roots = catalog.root_paths();
    drop(catalog);
    let Some(opened) = open(video.id, candidates, roots).await? else {
        app.library.request_rescan();
        return Err(ApiError::NotFound("this video's file is gone; the library is being rescanned".into()));
    };
    files.put(hot, opened.clone());
    Ok(opened)
}

async fn open(id: VideoId, files: Vec<Located>, roots: Vec<PathBuf>) -> Result<Option<Opened>, ApiError> {
    let opened = crate::blocking::spawn(move || -> std::io::Result<Option<Opened>> {
        for located in &files {
            let o = match located.open(&roots) {
                Ok(o) => o,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
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
            let local = crate::http::zerocopy::local_filesystem(&o.file);
            return Ok(Some(Opened { file: Arc::new(o.file), len: o.size, etag, modified, ctype, local }));
        }
        Ok(None)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    opened.map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("opening a video file")))
}

/// The status a conditional header forces, if any.
fn precondition(h: &HeaderMap, o: &Opened) -> Option<StatusCode> {
    let text = |name| h.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let date = |name| text(name).and_then(|v| httpdate::parse_http_date(v).ok());
    if let Some(v) = text(IF_MATCH) {
        if !etag_list_matches(v, &o.etag, false) {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    } else if let Some(since) = date(IF_UNMODIFIED_SINCE) {
        if o.modified > since {
            return Some(StatusCode::PRECONDITION_FAILED);
        }
    }
    if let Some(v) = text(IF_NONE_MATCH) {
        if etag_list_matches(v, &o.etag, true) {
            return Some(StatusCode::NOT_MODIFIED);
        }
    } else if let Some(since) = date(IF_MODIFIED_SINCE) {
        if o.modified <= since {
            return Some(StatusCode::NOT_MODIFIED);
        }
    }
    None
}

/// `*` or a comma-separated list of entity tags. Weak comparison (for
/// If-None-Match) ignores the `W/` prefix; strong comparison never matches
/// a weak tag.
fn etag_list_matches(list: &str, etag: &str, weak: bool) -> bool {
    list.trim() == "*"
        || list.split(',').map(str::trim).any(|t| match t.strip_prefix("W/") {
            Some(t) => weak && t == etag,
            None => t == etag,
        })
}

/// `If-Range` with an entity tag needs a strong match; with a date, an exact
/// match of `Last-Modified`.
fn if_range_matches(v: &HeaderValue, o: &Opened) -> bool {
    let Ok(v) = v.to_str() else { return false };
    let v = v.trim();
    if v.starts_with('"') {
        v == &*o.etag
    } else if v.starts_with("W/") {
        false
    } else {
        httpdate::parse_http_date(v).is_ok_and(|d| d == o.modified)
    }
}

fn respond(status: StatusCode, o: &Opened, ctype: Option<&'static str>, body: Body) -> Response<Body> {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(ETAG, HeaderValue::from_str(&o.etag).expect("ascii etag"));
    h.insert(LAST_MODIFIED, HeaderValue::from_str(&httpdate::fmt_http_date(o.modified)).expect("ascii date"));
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
