//! `GET|HEAD /transcode/{id}.mp4?t=…&height=…&audio=…`: the video as
//! H.264 and AAC in a fragmented MP4, transcoded by ffmpeg from second
//! `t` as it is sent (`media::transcode`). Who: anyone who may watch the
//! video. How much: at most `--max-transcodes` at once, one per viewer
//! and video (the newer stops the older), stopped when the client goes or
//! stops reading for a minute; HEAD starts nothing. No ranges: a seek is
//! a new request from another second.
//!
//! `GET /transcode/{id}.m3u8?height=…&audio=…` and
//! `GET|HEAD /transcode/{id}/{n}.ts?…`: the same transcode as HLS, for a
//! player without Media Source Extensions (the page offers it to such a
//! browser when it plays HLS itself). The playlist covers the whole video
//! before any segment is made; each segment is made by the viewer's HLS
//! transcode of the video (`media::transcode::hls`), started again at the
//! segment asked for after a seek. Who: as above; a signed link of the
//! video opens both, and the playlist hands its fields on to the
//! segments. How much: the same slots and rule of one per viewer and
//! video; a segment waits at most the ffmpeg time limit; a segment
//! number past the end is 404 without starting anything; a playlist
//! lists at most 48 hours (a file may claim any length). A segment is
//! sent from its file, never held whole in memory.
//!
//! `copy=1`: the picture copied as it is (no encoding; the sound still
//! made AAC), from the key frame before `t`, its times the file's own.
//! Only for a video the server remuxes: it is how the page starts a film
//! whose remux is not planned yet (the plan needs a whole read). At most
//! `transcode::COPIES` at once, one per viewer and video, as above.

use std::net::IpAddr;

use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Response};

use super::play::MAX_AUDIO;
use super::video::Streaming;
use super::ApiError;
use crate::catalog::personal::Viewer;
use crate::http::body::Body;
use crate::http::stream::{FileBody, Segment};
use crate::library::ids::VideoId;
use crate::library::roots::Content;
use crate::media::transcode::{self as hls, Copied, Job, TranscodeError, MAX_HEIGHT};

/// What the query asks for: the start (seconds), a height, a track.
#[derive(Debug, Default, PartialEq)]
struct Asked {
    t: f64,
    height: Option<u32>,
    audio: usize,
    copy: bool,
}

fn asked(query: &str) -> Result<Asked, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|_| ApiError::BadRequest("the query is not a form (t=SECONDS&height=LINES&audio=N)".into()))?;
    let mut out = Asked::default();
    for (k, v) in pairs {
        let bad = |what: &str| ApiError::BadRequest(format!("{k}={v}: {what}"));
        match k.as_str() {
            "t" => {
                out.t = v
                    .parse::<f64>()
                    .ok()
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .ok_or_else(|| bad("seconds from the start, at least 0"))?;
            }
            "height" => {
                let h = v.parse::<u32>().ok().filter(|h| (144..=MAX_HEIGHT).contains(h));
                out.height = Some(h.ok_or_else(|| bad(&format!("lines, 144 to {MAX_HEIGHT}")))?);
            }
            "audio" => {
                out.audio =
                    v.parse::<usize>().ok().filter(|a| *a < MAX_AUDIO).ok_or_else(|| bad("an audio track, from 0"))?;
            }
            "copy" => out.copy = v == "1",
            // Cache busters and signed links' own fields.
            _ => {}
        }
    }
    Ok(out)
}

pub async fn transcode(
    streaming: &Streaming,
    sight: &crate::catalog::Sight,
    who: &Viewer,
    ip: IpAddr,
    id: VideoId,
    query: &str,
    method: &Method,
) -> Result<Response<Body>, ApiError> {
    let asked = asked(query)?;
    let (video, sound) = transcodable(streaming, sight, id)?;
    let copy = match asked.copy {
        false => None,
        true => Some(
            video
                .info
                .as_ref()
                .and_then(|i| i.video_codec.as_deref())
                .and_then(Copied::of)
                .filter(|_| crate::media::remux::remuxable(&video))
                .ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "copy=1: this video is not remuxed (it plays at {}); ask without copy",
                        super::play::play_url(&video)
                    ))
                })?,
        ),
    };
    let duration_s = video.duration_ms().unwrap_or(0) as f64 / 1000.0;
    if duration_s > 0.0 && asked.t >= duration_s {
        return Err(ApiError::BadRequest(format!("t={}: the video is {duration_s:.3} s long", asked.t)));
    }
    let headers = |res: &mut Response<Body>| {
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
        // A new stream each time: nothing to keep.
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert("accept-ranges", HeaderValue::from_static("none"));
        h.insert("x-vidserve-start", HeaderValue::from_str(&format!("{:.3}", asked.t)).expect("a number"));
    };
    if method == Method::HEAD {
        let mut res = Response::new(Body::Empty);
        headers(&mut res);
        return Ok(res);
    }
    let opened = super::video::hot_file(streaming, &video, 0).await?;
    let job = Job {
        id,
        viewer: viewer(who, ip),
        content: opened.content,
        start_s: asked.t,
        height: asked.height,
        audio: asked.audio,
        sound,
        copy,
    };
    let (first, rest) = streaming.transcodes.start(job).await.map_err(refused)?;
    let mut res = Response::new(Body::Stream(Some(first), rest));
    headers(&mut res);
    Ok(res)
}

/// `/transcode/{id}.m3u8`: the HLS playlist of the whole video.
pub async fn playlist(
    streaming: &Streaming,
    sight: &crate::catalog::Sight,
    id: VideoId,
    query: &str,
) -> Result<Response<Body>, ApiError> {
    asked(query)?;
    let (video, _) = transcodable(streaming, sight, id)?;
    let duration_s = hls_length(&video)?;
    // The segments are asked for as the playlist was (a signed link's
    // fields included); a request's query holds no line breaks.
    let mut res = Response::new(Body::full(hls::playlist(id, duration_s, query)));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/vnd.apple.mpegurl"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(res)
}

/// `/transcode/{id}/{n}.ts`: segment `n` of the HLS transcode.
#[allow(clippy::too_many_arguments)]
pub async fn segment(
    streaming: &Streaming,
    sight: &crate::catalog::Sight,
    who: &Viewer,
    ip: IpAddr,
    id: VideoId,
    n: u64,
    query: &str,
    method: &Method,
) -> Result<Response<Body>, ApiError> {
    let asked = asked(query)?;
    let (video, sound) = transcodable(streaming, sight, id)?;
    let count = hls::segment_count(hls_length(&video)?);
    let n = u32::try_from(n)
        .ok()
        .filter(|n| *n < count)
        .ok_or_else(|| ApiError::NotFound(format!("segment {n}: this video has {count} (0 to {})", count - 1)))?;
    let respond = |body: Body| {
        let mut res = Response::new(body);
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("video/mp2t"));
        // The same segment again (a short step back) comes from the cache.
        h.insert(CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
        res
    };
    if method == Method::HEAD {
        return Ok(respond(Body::Empty));
    }
    let opened = super::video::hot_file(streaming, &video, 0).await?;
    let job = Job {
        id,
        viewer: viewer(who, ip),
        content: opened.content,
        start_s: 0.0,
        height: asked.height,
        audio: asked.audio,
        sound,
        copy: None,
    };
    let (file, len) = streaming.transcodes.segment(job, n, count).await.map_err(refused)?;
    // Sent from the file as any file is (the folder may drop it meanwhile).
    let content = Content::File(std::sync::Arc::new(file), len);
    let body = FileBody::new(content, vec![Segment::File { pos: 0, end: len }], streaming.metrics.meter());
    Ok(respond(Body::File(body)))
}

/// The video `id` when it may be seen and holds a picture the server can
/// read, and whether it has sound; transcoding must be available.
fn transcodable(
    streaming: &Streaming,
    sight: &crate::catalog::Sight,
    id: VideoId,
) -> Result<(std::sync::Arc<crate::catalog::Video>, bool), ApiError> {
    let catalog = streaming.library.catalog();
    let video = super::visible(&catalog, sight, id)?.clone();
    drop(catalog);
    let Some(info) = video.info.as_ref().filter(|i| i.video_codec.is_some()) else {
        return Err(ApiError::UnsupportedMediaType("this file holds no video the server could read".into()));
    };
    let sound = info.audio_codec.is_some();
    if !streaming.transcodes.available() {
        return Err(ApiError::Unavailable(TranscodeError::NoFfmpeg.to_string()));
    }
    Ok((video, sound))
}

/// A video's length for its HLS playlist, which needs one (and lists a
/// segment per 6 s of it: a file claiming weeks gets none).
fn hls_length(video: &crate::catalog::Video) -> Result<f64, ApiError> {
    let most = u64::from(hls::MOST_HOURS) * 3_600_000;
    match video.duration_ms() {
        Some(ms) if ms > 0 && ms <= most => Ok(ms as f64 / 1000.0),
        Some(ms) if ms > most => Err(ApiError::UnsupportedMediaType(format!(
            "this file says it lasts {} hours; HLS covers at most {}: play /transcode/{}.mp4",
            ms / 3_600_000,
            hls::MOST_HOURS,
            video.id
        ))),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "this video's length is not known, so it has no HLS playlist; play /transcode/{}.mp4",
            video.id
        ))),
    }
}

/// Whose transcode it is: one per viewer (an account, or a device) and video.
fn viewer(who: &Viewer, ip: IpAddr) -> String {
    match who {
        Viewer::Person(name) => format!("{name}@{ip}"),
        _ => format!("@{ip}"),
    }
}

/// A transcode refused or failed, as an HTTP error.
fn refused(e: TranscodeError) -> ApiError {
    match e {
        TranscodeError::Busy(_) | TranscodeError::CopiesBusy | TranscodeError::NoFfmpeg | TranscodeError::NoEncoder => {
            ApiError::Unavailable(e.to_string())
        }
        TranscodeError::Failed(_) => ApiError::UnsupportedMediaType(e.to_string()),
        TranscodeError::Io(e) => ApiError::Internal(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_checked() {
        assert_eq!(asked("").unwrap(), Asked::default());
        assert_eq!(
            asked("t=12.5&height=720&audio=1&x=9").unwrap(),
            Asked { t: 12.5, height: Some(720), audio: 1, copy: false }
        );
        assert!(asked("t=3&copy=1").unwrap().copy);
        for bad in ["t=-1", "t=NaN", "t=inf", "t=x", "height=100", "height=99999", "audio=32", "audio=-1", "t=%zz"] {
            assert!(asked(bad).is_err(), "{bad}");
        }
    }
}
