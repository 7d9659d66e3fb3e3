//! `GET|HEAD /transcode/{id}.mp4?t=…&height=…&audio=…`: the video as
//! H.264 and AAC in a fragmented MP4, transcoded by ffmpeg from second
//! `t` as it is sent (`media::transcode`). Who: anyone who may watch the
//! video. How much: at most `--max-transcodes` at once, one per viewer
//! and video (the newer stops the older), stopped when the client goes or
//! stops reading for a minute; HEAD starts nothing. No ranges: a seek is
//! a new request from another second.
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
use crate::library::ids::VideoId;
use crate::media::transcode::{Copied, Job, TranscodeError, MAX_HEIGHT};

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
    let catalog = streaming.library.catalog();
    let video = super::visible(&catalog, sight, id)?.clone();
    drop(catalog);
    let Some(info) = video.info.as_ref().filter(|i| i.video_codec.is_some()) else {
        return Err(ApiError::UnsupportedMediaType("this file holds no video the server could read".into()));
    };
    let copy = match asked.copy {
        false => None,
        true => Some(
            info.video_codec
                .as_deref()
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
    let transcodes = &streaming.transcodes;
    if !transcodes.available() {
        return Err(ApiError::Unavailable(TranscodeError::NoFfmpeg.to_string()));
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
    let viewer = match who {
        Viewer::Person(name) => format!("{name}@{ip}"),
        _ => format!("@{ip}"),
    };
    let job = Job {
        id,
        viewer,
        content: opened.content,
        start_s: asked.t,
        height: asked.height,
        audio: asked.audio,
        sound: info.audio_codec.is_some(),
        copy,
    };
    let (first, rest) = transcodes.start(job).await.map_err(|e| match e {
        TranscodeError::Busy(_) | TranscodeError::CopiesBusy | TranscodeError::NoFfmpeg | TranscodeError::NoEncoder => {
            ApiError::Unavailable(e.to_string())
        }
        TranscodeError::Failed(_) => ApiError::UnsupportedMediaType(e.to_string()),
        TranscodeError::Io(e) => ApiError::Internal(e.into()),
    })?;
    let mut res = Response::new(Body::Stream(Some(first), rest));
    headers(&mut res);
    Ok(res)
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
