//! `GET|HEAD /play/{id}.mp4`: a Matroska video that browsers cannot open
//! as stored (or an MP4 with its index at the end), remuxed on the fly to a fragmented MP4 (`media::remux`),
//! with its length known and range requests answered, so the player seeks
//! anywhere. `?audio=n` picks the audio track. Who: anyone who may watch.
//! How much: the first request for a file reads it once (one build at a
//! time, on the blocking pool; a few plans kept); each response is made a
//! fragment at a time.

use std::sync::Arc;

use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
};
use hyper::{Method, Response, StatusCode};

use super::ApiError;
use crate::catalog::Video;
use crate::http::body::Body;
use crate::http::conditional::{self, Answer, Validators};
use crate::http::stream::RemuxBody;
use crate::library::ids::VideoId;
use crate::library::roots::Content;
use crate::media::remux::cache::PlanKey;
use crate::media::remux::sound::Ready;
use crate::media::remux::{Plan, RemuxError};

use super::video::Streaming;
pub use crate::media::remux::alternative;
use crate::media::remux::cache::Plans;

/// Bumped when the output for the same file changes (a new ETag).
const FORMAT: u32 = 1;
/// Audio tracks one may pick.
pub(super) const MAX_AUDIO: usize = 32;

/// The URL a player uses for `v`: its own bytes, or the remuxed stream.
pub fn play_url(v: &Video) -> String {
    if crate::media::remux::remuxable(v) {
        format!("/play/{}.mp4", v.id)
    } else {
        format!("/video/{}", v.id)
    }
}

/// Whether the page should start `v` through a stream copy
/// (`/transcode/{id}.mp4?copy=1`): it is remuxed, its plan needs a whole
/// read of the file, and that has not happened yet (no plan in memory,
/// none kept, no failure known). Asks for the read to come next, so the
/// next play has the remux with ranges. One small file read, on the
/// blocking pool.
pub async fn starts_by_copy(streaming: &Streaming, v: &Video) -> bool {
    if !streaming.transcodes.available() || !crate::media::remux::planned_by_whole_read(v) {
        return false;
    }
    let key = PlanKey::of(v, 0);
    let plans = &streaming.plans;
    if plans.get(&key).is_some() || plans.failure(&key).is_some() {
        return false;
    }
    let kept = {
        let plans = plans.clone();
        crate::blocking::spawn(move || plans.is_kept(&key)).await.unwrap_or(true)
    };
    if !kept {
        streaming.prebuild.soon(v.id);
    }
    !kept
}

fn audio_of(query: &str) -> usize {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "audio").and_then(|(_, v)| v.parse().ok()))
        .unwrap_or(0)
        .min(MAX_AUDIO)
}

/// `t=SECONDS` of the query, in milliseconds.
fn start_of(query: &str) -> Result<Option<u64>, ApiError> {
    let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default();
    let Some((_, t)) = pairs.into_iter().find(|(k, _)| k == "t") else { return Ok(None) };
    match t.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..1e7).contains(&s) => Ok(Some((s * 1000.0).round() as u64)),
        _ => Err(ApiError::BadRequest("t is a number of seconds".into())),
    }
}

/// The plan for `key`: kept, or built on the blocking pool (two builds at
/// a time; the others wait here, holding no thread); a file that could not
/// be remuxed is refused at once until it changes.
async fn planned(
    plans: &Plans,
    key: PlanKey,
    build: impl FnOnce() -> Result<Plan, RemuxError> + Send + 'static,
) -> Result<Arc<Plan>, ApiError> {
    let refused = |why: &str| {
        ApiError::UnsupportedMediaType(format!("this file cannot be remuxed ({why}); download it or open it in VLC"))
    };
    if let Some(plan) = plans.get(&key) {
        return Ok(plan);
    }
    if let Some(why) = plans.failure(&key) {
        return Err(refused(&why));
    }
    let _turn = plans.gate.acquire().await.map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(plan) = plans.get(&key) {
        return Ok(plan);
    }
    if let Some(why) = plans.failure(&key) {
        return Err(refused(&why));
    }
    let started = std::time::Instant::now();
    let built = crate::blocking::spawn(build).await.map_err(|e| ApiError::Internal(e.into()))?;
    let plan = built.map_err(|e| match e {
        RemuxError::Unsupported(why) => {
            // Remembered until the file changes: asking again costs nothing.
            let answer = refused(&why);
            plans.fail(key, why);
            answer
        }
        RemuxError::Read(e) => ApiError::UnsupportedMediaType(format!("this file cannot be read: {e}")),
    })?;
    tracing::info!(id = %key.id, frames = plan.frames(), ms = started.elapsed().as_millis() as u64, "remux planned");
    let plan = Arc::new(plan);
    plans.put(key, plan.clone());
    Ok(plan)
}

pub async fn play(
    streaming: &Streaming,
    sight: &crate::catalog::Sight,
    id: VideoId,
    query: &str,
    method: &Method,
    headers: &HeaderMap,
    zero_copy: Option<crate::http::zerocopy::Pending>,
) -> Result<Response<Body>, ApiError> {
    let audio = audio_of(query);
    // DLNA's seek by time (`npt=START-[END]`), or `t=SECONDS` (what a TV
    // is sent to start or seek a cast), refused early when malformed.
    let time_seek = match (headers.get("timeseekrange.dlna.org"), start_of(query)?) {
        (Some(v), _) => Some(v.to_str().ok().and_then(crate::dlna::directory::time_seek).ok_or_else(|| {
            ApiError::BadRequest("TimeSeekRange.dlna.org must be npt=START-[END] (seconds, or h:mm:ss)".into())
        })?),
        (None, Some(ms)) => Some((ms, None)),
        (None, None) => None,
    };
    let catalog = streaming.library.catalog();
    let video = super::visible(&catalog, sight, id)?.clone();
    if !crate::media::remux::remuxable(&video) && crate::media::remux::alternative(&video).is_none() {
        return Err(ApiError::NotFound(format!("this video plays as stored, at /video/{id}")));
    }
    drop(catalog);
    let file = video.primary().clone();
    // The handle `/video` keeps for a player's range requests, shared.
    let opened = super::video::hot_file(streaming, &video, 0).await?;
    let zero_copy = zero_copy.filter(|_| opened.local);
    let file_handle = opened.content;
    let key = PlanKey::of(&video, audio);
    let (handle, plans) = (file_handle.clone(), streaming.plans.clone());
    // Read whole once per file: its tables are kept in the data dir.
    let build = move || plans.load_or_build(&key, || Plan::tables(&handle, audio));
    let mut plan = planned(&streaming.plans, key, build).await?;
    let mut files = vec![file_handle.clone()];
    // Sound browsers cannot decode: remade by ffmpeg in the background, then used.
    let mut sound = "as stored";
    if plan.audio_left_out.is_some() {
        let (remaker, handle) = (streaming.sound.clone(), file_handle.clone());
        let seconds = video.duration_ms().unwrap_or(0) as f64 / 1000.0;
        let ready = crate::blocking::spawn(move || remaker.get(key, &handle, seconds))
            .await
            .map_err(|e| ApiError::Internal(e.into()))?;
        sound = match ready {
            Ready::At(path) => {
                let opened = crate::blocking::spawn(move || std::fs::File::open(path))
                    .await
                    .map_err(|e| ApiError::Internal(e.into()))?
                    .map_err(|e| ApiError::Internal(e.into()))?;
                let sound_len = opened.metadata().map(|m| m.len()).unwrap_or(0);
                let sound_file = Content::File(Arc::new(opened), sound_len);
                let (handle, remade) = (file_handle.clone(), sound_file.clone());
                plan = planned(&streaming.plans, PlanKey { with_sound: true, ..key }, move || {
                    Plan::build_with_sound(&handle, &remade)
                })
                .await?;
                files.push(sound_file);
                "remade"
            }
            Ready::Preparing => "preparing",
            Ready::No => "unavailable",
        };
    }
    let etag = format!("\"r{FORMAT}-{:x}-{:x}-{audio}-{}\"", file.size, file.mtime_ns, files.len());
    let validators = Validators { etag: &etag, modified: None };
    let tagged = |mut res: Response<Body>| {
        let h = res.headers_mut();
        conditional::add_validators(h, &validators);
        h.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("x-vidserve-sound", HeaderValue::from_static(sound));
        res
    };
    let len = plan.len();
    if let Some((from, until)) = time_seek {
        // Not the whole stream: no validators of it.
        return time_seeked(&plan, files, streaming, method, from, until, video.duration_ms(), zero_copy);
    }
    let (status, start, end) = match conditional::evaluate(headers, &validators, Some(len)) {
        Answer::NotModified => {
            let mut res = Response::new(Body::Empty);
            *res.status_mut() = StatusCode::NOT_MODIFIED;
            return Ok(tagged(res));
        }
        Answer::PreconditionFailed => return Err(ApiError::PreconditionFailed),
        Answer::Unsatisfiable => return Err(ApiError::Unsatisfiable { len }),
        // Several ranges at once: players never ask; the whole stream answers.
        Answer::Full => (StatusCode::OK, 0, len),
        Answer::Ranges(r) if r.len() > 1 => (StatusCode::OK, 0, len),
        Answer::Ranges(r) => (StatusCode::PARTIAL_CONTENT, r[0].start, r[0].end),
    };
    let body = if method == Method::HEAD {
        Body::Empty
    } else {
        Body::Remux(RemuxBody::new(plan.clone(), files, start, end, streaming.metrics.meter()).zero_copy(zero_copy))
    };
    let mut res = Response::new(body);
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(CONTENT_LENGTH, (end - start).into());
    if status == StatusCode::PARTIAL_CONTENT {
        let range = format!("bytes {}-{}/{len}", start, end - 1);
        h.insert(CONTENT_RANGE, HeaderValue::from_str(&range).expect("ascii"));
    }
    Ok(tagged(res))
}

/// The remuxed MP4 from the fragment holding `from` (ms) to the end of the
/// one holding `until` (or the end), as DLNA answers a seek by time: 200,
/// with `TimeSeekRange.dlna.org: npt=S-E/D` saying the times it holds.
/// It starts with the init segment, so that it plays on its own (a
/// television resuming a film asks this way first); the fragments keep
/// their times, so a player shows where it is. No `bytes=`: it is not
/// one range of the whole stream.
#[allow(clippy::too_many_arguments)]
fn time_seeked(
    plan: &Arc<Plan>,
    files: Vec<Content>,
    streaming: &Streaming,
    method: &Method,
    from: u64,
    until: Option<u64>,
    duration_ms: Option<u64>,
    zero_copy: Option<crate::http::zerocopy::Pending>,
) -> Result<Response<Body>, ApiError> {
    let len = plan.len();
    let duration = duration_ms.unwrap_or(0);
    if from >= duration {
        return Err(ApiError::Unsatisfiable { len });
    }
    let (start, at) = plan.fragment_at(from);
    let (end, to) = match until.filter(|&u| u < duration) {
        Some(u) => (plan.boundary_after(plan.fragment_at(u).0), u),
        None => (len, duration),
    };
    let init = plan.init_len();
    let body = if method == Method::HEAD {
        Body::Empty
    } else {
        let meter = streaming.metrics.meter();
        Body::Remux(RemuxBody::from_fragment(plan.clone(), files, start, end, meter).zero_copy(zero_copy))
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("video/mp4"));
    h.insert(CONTENT_LENGTH, (init + end - start.max(init)).into());
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let npt = crate::dlna::cast::npt;
    let said = format!("npt={}-{}/{}", npt(at), npt(to), npt(duration));
    h.insert("timeseekrange.dlna.org", HeaderValue::from_str(&said).expect("ascii"));
    Ok(res)
}
