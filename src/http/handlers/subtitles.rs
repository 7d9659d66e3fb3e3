//! Subtitles, chapters and audio tracks: the files beside a video and the
//! tracks inside it, listed in its JSON and on its watch page; subtitles
//! served as WebVTT at `/subtitles/{id}/{n}.vtt` (beside) and
//! `/subtitles/{id}/e{n}.vtt` (inside). The folder is read and a file
//! converted on the blocking pool, each time (small files; the folder may
//! change); tracks inside a file come from `media::inside::cache` (read
//! once per file, one extraction at a time).

use std::sync::Arc;

use hyper::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE, ETAG};
use hyper::{Response, StatusCode};
use serde_json::{json, Value};

use super::ApiError;
use crate::app::Library;
use crate::catalog::Catalog;
use crate::catalog::Video;
use crate::http::body::Body;
use crate::http::pages::watch::Offered;
use crate::http::route::SubtitleRef;
use crate::library::ids::VideoId;
use crate::media::inside::cache::Inside;
use crate::media::inside::cache::Lookup;
use crate::media::inside::{label_of, Described};
use crate::media::subtitles::{beside, beside_among, in_folder, read_vtt, Track};
use crate::media::MediaError;

/// Everything a video's page and JSON list besides the video itself.
pub struct Tracks {
    pub beside: Vec<Track>,
    pub inside: Arc<Described>,
}

/// The subtitle files beside `video`'s first file and what is inside it
/// (blocking pool). A file that cannot be read inside lists nothing there.
pub async fn tracks(inside: &Arc<Inside>, catalog: &Catalog, video: &Video) -> Result<Tracks, ApiError> {
    let file = video.primary().clone();
    let located = catalog.located(&file);
    let roots = catalog.sources().clone();
    let (cache, id) = (inside.clone(), video.id);
    crate::blocking::spawn(move || {
        let inside = cache.described(id, &file, &located, &roots).unwrap_or_else(|e| {
            tracing::debug!(%id, error = %e, "cannot look inside the file");
            Arc::default()
        });
        Tracks { beside: beside(&located, &roots), inside }
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))
}

/// The subtitle a television is offered with `video` in a DLNA answer (as
/// `Tracks::for_tv`), without opening the video file: tracks inside count
/// when they were read before; its folder is listed once for many answers
/// (`listed`). Blocking.
pub fn tv_caption(inside: &Inside, catalog: &Catalog, listed: &crate::dlna::Listed, video: &Video) -> Option<String> {
    let file = video.primary();
    let located = catalog.located(file);
    let dir = located.rel.parent().unwrap_or(std::path::Path::new(""));
    let names = listed.get(located.root, dir, || in_folder(catalog.sources(), located.root, dir));
    let beside = beside_among(&located, &names);
    let inside = inside.known(video.id, file).unwrap_or_default();
    Tracks { beside, inside }.for_tv(video.id)
}

impl Tracks {
    /// The subtitle a television is offered (the first: beside, then
    /// inside), as its `/dlna/subtitles/…` path.
    pub fn for_tv(&self, id: VideoId) -> Option<String> {
        self.first().map(|which| format!("/dlna/subtitles/{id}/{which}.srt"))
    }

    /// The first subtitle offered, as the `{sub}` of its link (`0`: the
    /// first file beside, `e0`: the first track inside).
    pub fn first(&self) -> Option<&'static str> {
        if !self.beside.is_empty() {
            Some("0")
        } else if !self.inside.text.is_empty() {
            Some("e0")
        } else {
            None
        }
    }

    /// Subtitles in the order offered: files beside, then tracks inside.
    pub fn offered(&self, id: VideoId) -> Vec<Offered> {
        let beside = self.beside.iter().enumerate().map(|(n, t)| Offered {
            url: format!("/subtitles/{id}/{n}.vtt"),
            label: t.label(),
            language: t.language.clone(),
            forced: t.forced,
            source: "sidecar",
        });
        let inside = self.inside.text.iter().enumerate().map(|(n, t)| Offered {
            url: format!("/subtitles/{id}/e{n}.vtt"),
            label: t.label(),
            language: t.language.clone(),
            forced: t.forced,
            source: "embedded",
        });
        beside.chain(inside).collect()
    }

    /// Adds `subtitles`, `chapters` and `audio_tracks` to a video's JSON.
    pub fn add_to(&self, id: VideoId, out: &mut Value) {
        let subtitles: Vec<Value> = self
            .offered(id)
            .into_iter()
            .map(|o| {
                json!({ "label": o.label, "language": o.language, "url": o.url, "forced": o.forced, "source": o.source })
            })
            .collect();
        out["subtitles"] = Value::Array(subtitles);
        out["chapters"] = json!(self.inside.chapters);
        let audio: Vec<Value> = self
            .inside
            .audio
            .iter()
            .enumerate()
            .map(|(n, a)| {
                json!({ "index": n, "label": label_of(&a.name, &a.language, &format!("Track {}", n + 1)),
                        "language": a.language, "codec": a.codec, "default": a.default,
                        "browser_plays": a.browser_plays() })
            })
            .collect();
        out["audio_tracks"] = Value::Array(audio);
    }
}

/// `GET /subtitles/{id}/{n}.vtt` and `/subtitles/{id}/e{n}.vtt`, with
/// the text's hash as its validator (a player asking again gets a 304);
/// with `subrip`, `GET /dlna/subtitles/{id}/{sub}.srt`: the same as
/// SubRip (televisions).
pub async fn subtitle(
    library: &Library,
    inside: &Arc<Inside>,
    sight: &crate::catalog::Sight,
    id: VideoId,
    which: SubtitleRef,
    subrip: bool,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    let text = webvtt(library, inside, sight, id, which).await?;
    Ok(match subrip {
        false => respond(text, "text/vtt; charset=utf-8", headers),
        true => respond(crate::media::subtitles::vtt_to_srt(&text), "text/srt; charset=utf-8", headers),
    })
}

/// A subtitle as WebVTT: a file beside (converted) or a track inside.
async fn webvtt(
    library: &Library,
    inside: &Arc<Inside>,
    sight: &crate::catalog::Sight,
    id: VideoId,
    which: SubtitleRef,
) -> Result<String, ApiError> {
    let catalog = library.catalog();
    let video = super::visible(&catalog, sight, id)?.clone();
    let file = video.primary().clone();
    let located = catalog.located(&file);
    let roots = catalog.sources().clone();
    let text = match which {
        SubtitleRef::Beside(n) => crate::blocking::spawn(move || {
            let tracks = beside(&located, &roots);
            let track = tracks.get(n).ok_or_else(|| ApiError::NotFound("no such subtitle file".into()))?;
            read_vtt(track, &roots).map_err(|e| ApiError::NotFound(format!("the subtitle file cannot be read: {e}")))
        })
        .await
        .map_err(|e| ApiError::Internal(e.into()))??,
        SubtitleRef::Inside(n) => {
            let look = |extract: bool| {
                let (cache, file, located, roots) = (inside.clone(), file.clone(), located.clone(), roots.clone());
                async move {
                    crate::blocking::spawn(move || cache.vtt(id, &file, &located, &roots, n, extract))
                        .await
                        .map_err(|e| ApiError::Internal(e.into()))?
                        .map_err(|e| match e {
                            MediaError::Io(e) if e.kind() == std::io::ErrorKind::NotFound => {
                                ApiError::NotFound("the video file is gone".into())
                            }
                            other => ApiError::Internal(anyhow::Error::new(other)),
                        })
                }
            };
            let found = match look(false).await? {
                Lookup::NotYet => {
                    // One extraction at a time; the others wait here, holding no thread.
                    let _turn = inside.gate.acquire().await.map_err(|e| ApiError::Internal(e.into()))?;
                    look(true).await?
                }
                found => found,
            };
            match found {
                Lookup::Vtt(text) => text,
                _ => return Err(ApiError::NotFound("no such subtitle track".into())),
            }
        }
    };
    Ok(text)
}

/// `text` with its hash as validator (304 when the player has it).
fn respond(text: String, ctype: &'static str, headers: &HeaderMap) -> Response<Body> {
    let tag = format!("\"t{:016x}\"", xxhash_rust::xxh3::xxh3_64(text.as_bytes()));
    let mut res = if crate::http::conditional::unchanged(headers, &tag) {
        let mut res = Response::new(Body::Empty);
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        res
    } else {
        Response::new(Body::full(text))
    };
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(ETAG, HeaderValue::from_str(&tag).expect("ASCII"));
    res
}
