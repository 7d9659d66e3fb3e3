//! Playing a video on a renderer for someone (AVTransport): the video's
//! signed link handed over (`SetAVTransportURI`), then play, pause, seek
//! and stop. While it plays what was sent, its state is read every
//! `POLL_EVERY` and the position kept in the person's history, as the
//! browser's player keeps it.
//!
//! Bounds: one watcher per renderer (a new cast ends the one before), each
//! reading the renderer's state once a `POLL_EVERY` (two small requests)
//! and ending when the renderer plays something else, stops, stops
//! answering, or the link it was given expires.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::client::{self, ClientError, Url};
use crate::app::UserDataHandle;
use crate::catalog::user::Edit;
use crate::catalog::Viewer;
use crate::library::ids::VideoId;

pub const AV_TRANSPORT: &str = "urn:schemas-upnp-org:service:AVTransport:1";

const POLL_EVERY: Duration = Duration::from_secs(1);
/// The position is written to history at most this often while playing.
const SAVE_EVERY: u32 = 5;
/// A renderer that fails this many reads in a row has gone.
const GIVE_UP_AFTER: u32 = 5;
/// Closer than this to the end, a film counts as finished (its resume
/// position is forgotten, as the browser's player does).
const FINISHED_WITHIN_MS: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum CastError {
    #[error("the TV: {0}")]
    Device(#[from] ClientError),
    #[error("nothing sent from here is playing on this TV")]
    NotCasting,
}

/// How to send a stream again from another time: `{base}?t=SECONDS&{signed}`.
#[derive(Debug, Clone)]
pub struct Restart {
    pub base: String,
    pub signed: String,
}

impl Restart {
    pub fn at(&self, ms: u64) -> String {
        format!("{}?t={}&{}", self.base, npt(ms), self.signed)
    }
}

/// What a renderer plays for us, as last read.
#[derive(Debug, Clone, Serialize)]
pub struct Casting {
    #[serde(serialize_with = "as_text")]
    pub video: VideoId,
    /// Who sent it (their name; `None` without accounts).
    pub by: Option<String>,
    /// The renderer's transport state: `PLAYING`, `PAUSED_PLAYBACK`,
    /// `STOPPED`, `TRANSITIONING`, `NO_MEDIA_PRESENT`.
    pub state: String,
    pub position_ms: u64,
    pub duration_ms: Option<u64>,
    #[serde(skip)]
    who: Viewer,
    #[serde(skip)]
    url: String,
    /// How to send the stream again from another time (the remuxed MP4;
    /// its fragments keep their times, so renderers still report the
    /// film's position).
    #[serde(skip)]
    restart: Option<Restart>,
}

fn as_text<S: serde::Serializer>(id: &VideoId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// A renderer's cast: what it plays for us, and the turn to control it.
#[derive(Debug, Default)]
pub struct Slot {
    /// One control exchange at a time (two phones pressing at once).
    turn: tokio::sync::Mutex<()>,
    now: Mutex<Option<Casting>>,
    /// Bumped by each new cast and by stop: an older watcher ends.
    generation: AtomicU64,
}

impl Slot {
    pub fn now(&self) -> Option<Casting> {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set(&self, casting: Option<Casting>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = casting;
    }

    fn update(&self, f: impl FnOnce(&mut Casting)) {
        if let Some(c) = self.now.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            f(c);
        }
    }
}

/// The renderer a cast goes to: its name (for the log), its AVTransport
/// control URL and its slot.
#[derive(Debug, Clone)]
pub struct Screen {
    pub name: String,
    pub transport: Url,
    pub cast: Arc<Slot>,
}

/// What to play, for whom.
pub struct Start {
    pub video: VideoId,
    pub who: Viewer,
    pub by: Option<String>,
    /// The signed link the renderer fetches, and its DIDL-Lite description.
    pub url: String,
    pub metadata: String,
    /// For a stream that is sent again from a time to seek (the remuxed
    /// MP4; `url` then starts at `position_ms` already).
    pub restart: Option<Restart>,
    pub position_ms: u64,
    pub duration_ms: Option<u64>,
    /// When the link stops working.
    pub until: Instant,
}

async fn call(r: &Screen, action: &'static str, args: &[(&str, &str)]) -> Result<super::soap::Call, ClientError> {
    let mut all = vec![("InstanceID", "0")];
    all.extend_from_slice(args);
    client::soap(&r.transport, AV_TRANSPORT, action, &all).await
}

/// Hands `start` to the renderer and plays it; a watcher then follows it
/// (and seeks to the start position once it plays).
pub async fn play(r: &Screen, start: Start, history: Arc<UserDataHandle>) -> Result<Casting, CastError> {
    let _turn = r.cast.turn.lock().await;
    let generation = r.cast.generation.fetch_add(1, Ordering::SeqCst) + 1;
    call(r, "SetAVTransportURI", &[("CurrentURI", &start.url), ("CurrentURIMetaData", &start.metadata)]).await?;
    call(r, "Play", &[("Speed", "1")]).await?;
    let casting = Casting {
        video: start.video,
        by: start.by,
        state: "TRANSITIONING".into(),
        position_ms: start.position_ms,
        duration_ms: start.duration_ms,
        who: start.who,
        url: start.url,
        restart: start.restart,
    };
    r.cast.set(Some(casting.clone()));
    // A restartable stream was sent from the position already.
    let seek = (start.position_ms >= 1000 && casting.restart.is_none()).then_some(start.position_ms);
    tokio::spawn(watch(r.clone(), generation, seek, start.until, history));
    Ok(casting)
}

/// What the control buttons ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    Seek(u64),
    Stop,
}

/// Sends `command` to a renderer playing something of ours; the cast as
/// it is then (stop: as it was, with its last position, now saved).
pub async fn control(r: &Screen, command: Command, history: &UserDataHandle) -> Result<Casting, CastError> {
    let _turn = r.cast.turn.lock().await;
    let mut casting = r.cast.now().ok_or(CastError::NotCasting)?;
    match command {
        Command::Pause => {
            call(r, "Pause", &[]).await?;
            casting.state = "PAUSED_PLAYBACK".into();
        }
        Command::Resume => {
            call(r, "Play", &[("Speed", "1")]).await?;
            casting.state = "PLAYING".into();
        }
        Command::Seek(ms) => {
            let ms = casting.duration_ms.map_or(ms, |d| ms.min(d));
            match &casting.restart {
                // Sent again from there (no metadata: the renderer has it).
                Some(restart) => {
                    let url = restart.at(ms);
                    let paused = casting.state == "PAUSED_PLAYBACK";
                    call(r, "SetAVTransportURI", &[("CurrentURI", &url), ("CurrentURIMetaData", "")]).await?;
                    call(r, "Play", &[("Speed", "1")]).await?;
                    if paused {
                        call(r, "Pause", &[]).await?;
                    }
                    casting.url = url;
                }
                None => {
                    call(r, "Seek", &[("Unit", "REL_TIME"), ("Target", &clock(ms))]).await?;
                }
            }
            casting.position_ms = ms;
        }
        Command::Stop => {
            r.cast.generation.fetch_add(1, Ordering::SeqCst);
            // The TV may already have stopped; the cast ends here either way.
            let stopped = call(r, "Stop", &[]).await;
            r.cast.set(None);
            save(history, &casting).await;
            casting.state = "STOPPED".into();
            stopped?;
            return Ok(casting);
        }
    }
    let (state, position, url) = (casting.state.clone(), casting.position_ms, casting.url.clone());
    r.cast.update(|c| (c.state, c.position_ms, c.url) = (state, position, url));
    Ok(casting)
}

/// Keeps `casting`'s position in its viewer's history (forgotten when the
/// film is over).
async fn save(history: &UserDataHandle, casting: &Casting) {
    if casting.who == Viewer::Guest {
        return;
    }
    let finished = casting.duration_ms.is_some_and(|d| casting.position_ms + FINISHED_WITHIN_MS >= d);
    let position = (!finished && casting.position_ms > 0).then_some(casting.position_ms);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if let Err(e) = history.write(&casting.who, casting.video, Edit::Position(position, now)).await {
        tracing::warn!(video = %casting.video, "DLNA: the position on the TV was not saved: {e}");
    }
}

/// The renderer's state, read: (transport state, position, duration,
/// the URI it plays).
async fn read_state(r: &Screen) -> Result<(String, Option<u64>, Option<u64>, String), ClientError> {
    let info = call(r, "GetTransportInfo", &[]).await?;
    let state = info.arg("CurrentTransportState").unwrap_or("").trim().to_ascii_uppercase();
    let pos = call(r, "GetPositionInfo", &[]).await?;
    let at = pos.arg("RelTime").ok().and_then(parse_clock);
    let length = pos.arg("TrackDuration").ok().and_then(parse_clock).filter(|d| *d > 0);
    let uri = pos.arg("TrackURI").unwrap_or("").trim().to_string();
    Ok((state, at, length, uri))
}

/// Follows cast `generation` on `r` until it ends (see the module's
/// bounds), keeping the position.
async fn watch(r: Screen, generation: u64, mut seek: Option<u64>, until: Instant, history: Arc<UserDataHandle>) {
    let current = || r.cast.generation.load(Ordering::SeqCst) == generation;
    let (mut failures, mut polls, mut played) = (0u32, 0u32, false);
    let mut interval = tokio::time::interval(POLL_EVERY);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if !current() {
            return;
        }
        let read = read_state(&r).await;
        let turn = r.cast.turn.lock().await;
        if !current() {
            return;
        }
        if Instant::now() >= until {
            return end(&r, turn, &history).await;
        }
        let (state, at, length, uri) = match read {
            Ok(s) => {
                failures = 0;
                s
            }
            Err(e) => {
                failures += 1;
                if failures >= GIVE_UP_AFTER {
                    tracing::info!(renderer = %r.name, "DLNA: the renderer stopped answering: {e}");
                    return end(&r, turn, &history).await;
                }
                continue;
            }
        };
        let Some(mine) = r.cast.now() else { return };
        // Something else was sent to it since (another phone, its remote).
        if !uri.is_empty() && played && uri != mine.url && !uri.contains(&mine.url) {
            return end(&r, turn, &history).await;
        }
        let playing = state == "PLAYING";
        if playing {
            if let Some(ms) = seek.take() {
                if let Err(e) = call(&r, "Seek", &[("Unit", "REL_TIME"), ("Target", &clock(ms))]).await {
                    tracing::debug!(renderer = %r.name, "DLNA: could not seek to the resume position: {e}");
                }
                continue;
            }
        }
        let moving = playing || state == "PAUSED_PLAYBACK";
        r.cast.update(|c| {
            c.state = state.clone();
            if let (true, Some(at)) = (moving, at) {
                c.position_ms = at;
            }
            if length.is_some() {
                c.duration_ms = length;
            }
        });
        played |= playing;
        polls += 1;
        if (playing && polls % SAVE_EVERY == 0) || state == "PAUSED_PLAYBACK" && polls % SAVE_EVERY == 1 {
            if let Some(c) = r.cast.now() {
                save(&history, &c).await;
            }
        }
        if played && matches!(state.as_str(), "STOPPED" | "NO_MEDIA_PRESENT") {
            return end(&r, turn, &history).await;
        }
    }
}

/// Ends the current cast (the caller holds its `turn`, so no new cast or
/// stop comes between): its last position read is kept, and it shows as
/// stopped.
async fn end(r: &Screen, _turn: tokio::sync::MutexGuard<'_, ()>, history: &UserDataHandle) {
    if let Some(c) = r.cast.now() {
        save(history, &c).await;
    }
    r.cast.update(|c| c.state = "STOPPED".into());
}

/// Milliseconds as `npt` seconds (`12.500`), as DLNA's time seeks and
/// the `t=` of a stream sent from a time count them.
pub fn npt(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// `H:MM:SS`, as AVTransport counts time.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `H+:MM:SS[.fff]` in milliseconds (`NOT_IMPLEMENTED` and junk: `None`).
pub fn parse_clock(text: &str) -> Option<u64> {
    let mut parts = text.trim().split(':');
    let (h, m, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (h, m): (u64, u64) = (h.parse().ok()?, m.parse().ok()?);
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let whole: u64 = whole.parse().ok()?;
    if m >= 60 || whole >= 60 || h > 1_000_000 {
        return None;
    }
    let ms = match fraction.len() {
        0 => 0,
        _ if fraction.bytes().all(|b| b.is_ascii_digit()) => {
            let f = &fraction[..fraction.len().min(3)];
            f.parse::<u64>().ok()? * 10u64.pow(3 - f.len() as u32)
        }
        _ => return None,
    };
    Some(((h * 60 + m) * 60 + whole) * 1000 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks() {
        assert_eq!(clock(0), "0:00:00");
        assert_eq!(clock(3_723_456), "1:02:03");
        assert_eq!(parse_clock("1:02:03"), Some(3_723_000));
        assert_eq!(parse_clock("0:00:05.5"), Some(5_500));
        assert_eq!(parse_clock("00:01:00.123456"), Some(60_123));
        for bad in ["NOT_IMPLEMENTED", "", "1:2", "0:61:00", "a:b:c", "1:00:00.x", "1:00:00:00"] {
            assert_eq!(parse_clock(bad), None, "{bad}");
        }
        assert_eq!(parse_clock(&clock(7_200_000)), Some(7_200_000));
    }
}
