//! Video browsers cannot decode (MPEG-2, MPEG-4 Part 2, VC-1, Theora,
//! HEVC or 10-bit H.264 where the browser says no), transcoded by ffmpeg
//! to H.264 and AAC as it plays: a fragmented MP4 streamed from a given
//! second (`/transcode/{id}.mp4?t=…`). A seek is a new stream from the
//! new second; the page puts the pieces on one timeline (Media Source
//! Extensions), so its seek bar shows the whole film.
//!
//! Bounded: at most `--max-transcodes` at once; one per viewer and video
//! (a new one, after a seek, stops the one before); a stream nobody reads
//! from for `IDLE` is stopped and its slot freed; a client that goes away
//! stops its ffmpeg within `POLL`. ffmpeg runs in the idle scheduling
//! class with the protocol and format whitelist of every run
//! (`ffmpeg::input`), reading a file we opened.
//!
//! Hardware encoders (VAAPI, Quick Sync, NVENC, V4L2 mem2mem on a
//! Raspberry Pi) are tried once, in the background after the start, each
//! by a short encode; the first that works is used, libx264 otherwise.
//!
//! A player without Media Source Extensions (an iPhone before iOS 17.1,
//! some televisions' browsers) plays HLS instead (`hls`): segments of a
//! few seconds, made by the same ffmpeg settings into a folder of the
//! data dir, under the same bounds. Nothing is cached: a finished
//! transcode is not kept.

mod hls;

pub use hls::{playlist, segment_count, MOST_HOURS, SEGMENT_S};

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::ffmpeg::{background_priority, complaints, first_complaint, input, run_with, stdin_of, Ffmpeg};
use crate::cli::TranscodeEncoder as Choice;
use crate::config::TranscodeSettings as Settings;
use crate::library::ids::VideoId;
use crate::library::roots::Content;

/// A stream nobody reads from for this long is stopped (a paused tab).
pub const IDLE: Duration = Duration::from_secs(60);
/// How often a stopped or abandoned stream is noticed.
const POLL: Duration = Duration::from_millis(100);
/// Bytes read from ffmpeg at a time, and chunks queued for the client.
const CHUNK: usize = 64 * 1024;
const QUEUED: usize = 16;
/// Key frames (and so fragments) this often, in seconds.
const FRAGMENT_S: u32 = 2;
/// Largest picture height a transcode keeps (`height` asks for less).
pub const MAX_HEIGHT: u32 = 2160;
/// Most stream copies at once (each is a reader of one file and an AAC
/// encoder: a few per cent of a core).
pub const COPIES: usize = 8;
/// Sound: stereo AAC at this rate.
const AUDIO_KBPS: u32 = 160;

/// An H.264 encoder ffmpeg may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoder {
    Vaapi,
    Qsv,
    Nvenc,
    V4l2m2m,
    Software,
}

impl Encoder {
    const HARDWARE: [Encoder; 4] = [Encoder::Vaapi, Encoder::Qsv, Encoder::Nvenc, Encoder::V4l2m2m];

    pub fn ffmpeg_name(self) -> &'static str {
        match self {
            Encoder::Vaapi => "h264_vaapi",
            Encoder::Qsv => "h264_qsv",
            Encoder::Nvenc => "h264_nvenc",
            Encoder::V4l2m2m => "h264_v4l2m2m",
            Encoder::Software => "libx264",
        }
    }

    /// Options before the input.
    fn device(self) -> &'static [&'static str] {
        match self {
            Encoder::Vaapi => &["-vaapi_device", "/dev/dri/renderD128"],
            _ => &[],
        }
    }

    /// The video filter (`scale`: the size) and encoder options, with key
    /// frames where `keys` says (ffmpeg's `-force_key_frames`).
    fn video(self, s: &Settings, scale: &str, keys: String) -> Vec<String> {
        let (crf, max, buf) = (s.crf.to_string(), format!("{}k", s.max_kbps), format!("{}k", s.max_kbps * 2));
        let mean = format!("{}k", s.max_kbps / 2);
        let (filter, codec): (String, Vec<&str>) = match self {
            Encoder::Software => (
                format!("{scale},format=yuv420p"),
                vec!["-preset", "veryfast", "-profile:v", "high", "-crf", &crf, "-maxrate", &max, "-bufsize", &buf],
            ),
            Encoder::Vaapi => (format!("{scale},format=nv12,hwupload"), vec!["-qp", &crf, "-maxrate", &max]),
            Encoder::Qsv => (format!("{scale},format=nv12"), vec!["-global_quality", &crf, "-maxrate", &max]),
            Encoder::Nvenc => (
                format!("{scale},format=yuv420p"),
                vec!["-preset", "p4", "-rc", "vbr", "-cq", &crf, "-maxrate", &max, "-bufsize", &buf],
            ),
            Encoder::V4l2m2m => (format!("{scale},format=yuv420p"), vec!["-b:v", &mean]),
        };
        let mut args: Vec<String> = vec!["-vf".into(), filter, "-c:v".into(), self.ffmpeg_name().into()];
        args.extend(codec.into_iter().map(String::from));
        args.extend(["-force_key_frames".into(), keys]);
        args
    }
}

/// Key frames every `FRAGMENT_S` from a stream's start (each begins a
/// fragment of the MP4).
fn every_fragment() -> String {
    format!("expr:gte(t,n_forced*{FRAGMENT_S})")
}

/// The size filter: at most `height` lines (and `MAX_HEIGHT`), never
/// larger than the source, both sides even (4:2:0 needs it).
fn scale(height: Option<u32>) -> String {
    let h = height.unwrap_or(MAX_HEIGHT).clamp(144, MAX_HEIGHT);
    format!("scale=-2:'trunc(min(ih,{h})/2)*2'")
}

/// What the probe found: the encoder used, and why the others are not.
#[derive(Debug, Clone, Serialize)]
pub struct Encoders {
    /// `None`: no H.264 encoder works (the page says so).
    pub chosen: Option<Encoder>,
    pub tried: Vec<Tried>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tried {
    pub encoder: Encoder,
    pub works: bool,
    /// ffmpeg's first complaint, when it does not work.
    pub why: Option<String>,
}

/// What a transcode is asked for.
pub struct Job {
    pub id: VideoId,
    /// Whose it is: a second job of the same viewer and video stops the first.
    pub viewer: String,
    pub content: Content,
    /// From this second of the video.
    pub start_s: f64,
    pub height: Option<u32>,
    /// The audio track (0: the first).
    pub audio: usize,
    /// Whether the video has sound (else the stream has none either).
    pub sound: bool,
    /// The picture copied as it is, not encoded (`Copied::Hevc`: tagged as
    /// browsers want it): a film whose remux is not planned yet starts at
    /// once this way (`/transcode/{id}.mp4?copy=1`).
    pub copy: Option<Copied>,
}

/// A picture a browser decodes, copied into the stream as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    H264,
    Hevc,
    Av1,
}

impl Copied {
    /// For a video codec as the probe names it.
    pub fn of(codec: &str) -> Option<Copied> {
        match codec {
            "h264" => Some(Copied::H264),
            "hevc" => Some(Copied::Hevc),
            "av1" => Some(Copied::Av1),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("videos are transcoded with ffmpeg, and this server has none: install ffmpeg (or pass --ffmpeg PATH) and restart it")]
    NoFfmpeg,
    #[error(
        "no H.264 encoder works in this server's ffmpeg (see the admin page); an ffmpeg built with libx264 transcodes"
    )]
    NoEncoder,
    #[error(
        "{0} transcodes are running, the most this server makes at once (--max-transcodes); try again when one ends"
    )]
    Busy(usize),
    #[error("{COPIES} films are starting through a stream copy, the most at once; try again in a moment")]
    CopiesBusy,
    #[error("the transcode did not start: {0}")]
    Failed(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// One running transcode, as others may stop it.
struct Run {
    /// Set to stop it: its watchdog kills ffmpeg within `POLL`.
    stop: AtomicBool,
    /// Set when its thread is done with ffmpeg.
    done: AtomicBool,
    /// When output last moved (read from ffmpeg, or taken by the client).
    moved: Mutex<Instant>,
    /// ffmpeg's first complaint, when it ended before any output.
    failure: Mutex<Option<String>>,
}

impl Run {
    fn new() -> Run {
        Run {
            stop: AtomicBool::new(false),
            done: AtomicBool::new(false),
            moved: Mutex::new(Instant::now()),
            failure: Mutex::new(None),
        }
    }

    fn moved(&self) {
        *self.moved.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    fn still(&self) -> Duration {
        self.moved.lock().unwrap_or_else(|e| e.into_inner()).elapsed()
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The transcodes of this server.
pub struct Transcodes {
    ffmpeg: Option<Ffmpeg>,
    settings: Settings,
    slots: Arc<Semaphore>,
    copies: Arc<Semaphore>,
    running: Mutex<HashMap<(String, VideoId), Arc<Run>>>,
    /// HLS transcodes by viewer and video (each also in `running`).
    segmented: Mutex<HashMap<(String, VideoId), Arc<hls::Segmented>>>,
    /// Where HLS segments are made, a folder for each (emptied at start).
    scratch: PathBuf,
    folders: AtomicU64,
    encoders: Mutex<Option<Encoders>>,
    started: AtomicU64,
}

/// Where transcoding stands, for the admin page.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub available: bool,
    pub max: usize,
    pub running: usize,
    /// Stream copies running (films started before their remux is planned).
    pub copying: usize,
    pub started: u64,
    pub crf: u8,
    pub max_kbps: u32,
    pub choice: Choice,
    /// `None` while the encoders are being tried.
    pub encoders: Option<Encoders>,
}

impl Transcodes {
    /// `scratch`: a folder for HLS segments; what an earlier run left
    /// there is removed.
    pub fn new(ffmpeg: Option<Ffmpeg>, settings: Settings, scratch: PathBuf) -> Arc<Transcodes> {
        let max = settings.max.max(1);
        hls::clear(&scratch);
        Arc::new(Transcodes {
            ffmpeg,
            settings: Settings { max, ..settings },
            slots: Arc::new(Semaphore::new(max)),
            copies: Arc::new(Semaphore::new(COPIES)),
            running: Mutex::new(HashMap::new()),
            segmented: Mutex::new(HashMap::new()),
            scratch,
            folders: AtomicU64::new(0),
            encoders: Mutex::new(None),
            started: AtomicU64::new(0),
        })
    }

    /// Whether there is an ffmpeg to transcode with.
    pub fn available(&self) -> bool {
        self.ffmpeg.is_some()
    }

    /// Tries the encoders on a thread of its own (once, after the start).
    pub fn probe_in_background(self: &Arc<Self>) {
        let Some(ffmpeg) = self.ffmpeg.clone() else { return };
        let me = self.clone();
        let work = move || {
            let found = probe(&ffmpeg, &me.settings);
            tracing::info!(encoder = ?found.chosen.map(Encoder::ffmpeg_name), "transcoding encoder chosen");
            *me.encoders.lock().unwrap_or_else(|e| e.into_inner()) = Some(found);
        };
        if let Err(e) = std::thread::Builder::new().name("encoders".into()).spawn(work) {
            tracing::warn!("cannot try the hardware encoders ({e}); transcodes use software");
        }
    }

    pub fn status(&self) -> Status {
        Status {
            available: self.available(),
            max: self.settings.max,
            running: self.settings.max - self.slots.available_permits(),
            copying: COPIES - self.copies.available_permits(),
            started: self.started.load(Ordering::Relaxed),
            crf: self.settings.crf,
            max_kbps: self.settings.max_kbps,
            choice: self.settings.choice,
            encoders: self.encoders.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }

    /// The encoder to use now: the probe's choice, or software while it runs.
    fn encoder(&self) -> Result<Encoder, TranscodeError> {
        match &*self.encoders.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(found) => found.chosen.ok_or(TranscodeError::NoEncoder),
            None => Ok(Encoder::Software),
        }
    }

    /// Starts `job`: stops the same viewer's transcode of the same video,
    /// waits a moment for a slot, starts ffmpeg, and waits for its first
    /// bytes (up to the ffmpeg time limit). The stream follows in the
    /// receiver; dropping it stops ffmpeg.
    pub async fn start(self: &Arc<Self>, job: Job) -> Result<(Bytes, mpsc::Receiver<Bytes>), TranscodeError> {
        let ffmpeg = self.ffmpeg.clone().ok_or(TranscodeError::NoFfmpeg)?;
        // A copy needs no encoder, and takes a slot of its own kind.
        let encoder = match job.copy {
            None => self.encoder()?,
            Some(_) => Encoder::Software,
        };
        let key = (job.viewer.clone(), job.id);
        let run = Arc::new(Run::new());
        let permit = self.claim(&key, &run, job.copy.is_some()).await?;
        // How long the first bytes may take.
        let first_within = ffmpeg.timeout;
        let (tx, mut rx) = mpsc::channel(QUEUED);
        let args = self.args(encoder, &job);
        let (me, run2, key2) = (self.clone(), run.clone(), key.clone());
        let work = move || {
            let _permit: OwnedSemaphorePermit = permit;
            let said = pump(&ffmpeg, args, &job.content, &tx, &run2);
            if let Err(why) = said {
                tracing::warn!(id = %job.id, "transcode: {why}");
                *run2.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            }
            me.forget(&key2, &run2);
        };
        if let Err(e) = std::thread::Builder::new().name("transcode".into()).spawn(work) {
            self.forget(&key, &run);
            return Err(e.into());
        }
        self.started.fetch_add(1, Ordering::Relaxed);
        let first = tokio::time::timeout(first_within, rx.recv()).await;
        match first {
            Ok(Some(bytes)) => Ok((bytes, rx)),
            Ok(None) => {
                let why = run.failure.lock().unwrap_or_else(|e| e.into_inner()).take();
                Err(TranscodeError::Failed(why.unwrap_or_else(|| "ffmpeg wrote nothing".into())))
            }
            Err(_) => {
                run.stop();
                Err(TranscodeError::Failed("ffmpeg wrote nothing within its time limit (--ffmpeg-timeout)".into()))
            }
        }
    }

    /// Makes `run` the viewer's one transcode of the video (stopping the
    /// one before, which gives its slot back within `POLL`), and waits a
    /// moment for a slot: a copy's own kind (`copy`) or a transcode's.
    async fn claim(
        &self,
        key: &(String, VideoId),
        run: &Arc<Run>,
        copy: bool,
    ) -> Result<OwnedSemaphorePermit, TranscodeError> {
        let slots = if copy { &self.copies } else { &self.slots };
        if let Some(before) = self.running.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), run.clone()) {
            before.stop();
        }
        match tokio::time::timeout(Duration::from_secs(2), slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => {
                self.forget(key, run);
                Err(if copy { TranscodeError::CopiesBusy } else { TranscodeError::Busy(self.settings.max) })
            }
        }
    }

    /// Drops `run` from the running ones, unless a newer one took its place.
    fn forget(&self, key: &(String, VideoId), run: &Arc<Run>) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.get(key).is_some_and(|r| Arc::ptr_eq(r, run)) {
            running.remove(key);
        }
    }

    /// ffmpeg's arguments after the program name, input included later.
    fn args(&self, encoder: Encoder, job: &Job) -> Args {
        let mut args = self.streams(encoder, job, job.start_s, every_fragment());
        let mut flags = "frag_keyframe+empty_moov+default_base_moof";
        if let Some(copy) = job.copy {
            // The copy starts at the key frame before `start_s`, so its
            // times are the file's own (`-copyts`), written as they are
            // (no edit list; negative composition offsets).
            args.after.extend(["-copyts", "-use_editlist", "1"].map(String::from));
            if copy == Copied::Hevc {
                args.after.extend(["-tag:v", "hvc1"].map(String::from));
            }
            flags = "frag_keyframe+empty_moov+default_base_moof+frag_discont+negative_cts_offsets";
        }
        args.after.extend(["-f", "mp4", "-movflags", flags, "pipe:1"].map(String::from));
        args
    }

    /// What every transcode's arguments share: from `start_s` (seconds), the
    /// picture (encoded with key frames at `keys`, or copied) and the
    /// sound (stereo AAC), nothing else of the file; the output's format
    /// comes after.
    fn streams(&self, encoder: Encoder, job: &Job, start_s: f64, keys: String) -> Args {
        let mut before: Vec<String> = ["-nostdin", "-v", "error"].map(String::from).to_vec();
        if job.copy.is_none() {
            before.extend(encoder.device().iter().map(|s| s.to_string()));
        }
        before.extend(["-ss".into(), format!("{:.3}", start_s.max(0.0))]);
        let mut after: Vec<String> = vec!["-map".into(), "0:v:0".into()];
        if job.sound {
            after.extend(["-map".into(), format!("0:a:{}?", job.audio)]);
            after.extend(["-c:a", "aac", "-ac", "2", "-b:a"].map(String::from));
            after.push(format!("{AUDIO_KBPS}k"));
        }
        match job.copy {
            None => after.extend(encoder.video(&self.settings, &scale(job.height), keys)),
            Some(_) => after.extend(["-c:v", "copy"].map(String::from)),
        }
        after.extend(["-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1"].map(String::from));
        Args { before, after }
    }
}

struct Args {
    before: Vec<String>,
    after: Vec<String>,
}

/// Runs ffmpeg and hands its output to `tx` until it ends, the client
/// goes, the run is stopped, or nothing moves for `IDLE` (a client that
/// stops reading, or an ffmpeg that stops writing: a watchdog kills it).
/// An error only when it failed before any output (what to tell the
/// client).
fn pump(
    ffmpeg: &Ffmpeg,
    args: Args,
    content: &Content,
    tx: &mpsc::Sender<Bytes>,
    run: &Arc<Run>,
) -> Result<(), String> {
    let mut cmd = Command::new(&ffmpeg.path);
    cmd.args(&args.before);
    // The longest a film may take, for an object's presigned link.
    input(&mut cmd, content, Duration::from_secs(12 * 3600)).map_err(|e| e.to_string())?;
    cmd.args(&args.after);
    let stdin = stdin_of(content).map_err(|e| e.to_string())?;
    let mut child =
        cmd.stdin(stdin).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    background_priority(child.id() as libc::pid_t);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let complaints = complaints(child.stderr.take().expect("stderr is piped"));
    // `Child` remembers when it was reaped: a kill after `wait` signals no one.
    let child = Arc::new(Mutex::new(child));
    let watchdog = {
        let (child, run) = (child.clone(), run.clone());
        std::thread::spawn(move || {
            while !run.done.load(Ordering::Relaxed) {
                if run.stopped() || run.still() > IDLE {
                    run.stop();
                    let _ = child.lock().unwrap_or_else(|e| e.into_inner()).kill();
                    return;
                }
                std::thread::sleep(POLL);
            }
        })
    };
    let mut sent = 0u64;
    'out: loop {
        let mut buf = vec![0u8; CHUNK];
        let n = match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        run.moved();
        buf.truncate(n);
        let mut chunk = Bytes::from(buf);
        loop {
            if run.stopped() {
                break 'out;
            }
            match tx.try_send(chunk) {
                Ok(()) => {
                    run.moved();
                    sent += n as u64;
                    break;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => break 'out,
                Err(mpsc::error::TrySendError::Full(back)) => {
                    chunk = back;
                    std::thread::sleep(POLL);
                }
            }
        }
    }
    run.done.store(true, Ordering::Relaxed);
    let status = {
        let mut child = child.lock().unwrap_or_else(|e| e.into_inner());
        let _ = child.kill();
        child.wait()
    };
    let _ = watchdog.join();
    let said = complaints.join().unwrap_or_default();
    if sent == 0 && !run.stopped() && !tx.is_closed() {
        let why = match (first_complaint(&said), status) {
            (Some(line), _) => line,
            (None, Ok(s)) => s.to_string(),
            (None, Err(e)) => e.to_string(),
        };
        return Err(why);
    }
    Ok(())
}

/// Tries each encoder with a short encode of a test picture.
fn probe(ffmpeg: &Ffmpeg, settings: &Settings) -> Encoders {
    let listed = Command::new(&ffmpeg.path)
        .args(["-hide_banner", "-encoders"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let candidates: &[Encoder] = match settings.choice {
        Choice::Auto => &Encoder::HARDWARE,
        Choice::Software => &[],
    };
    let mut tried = Vec::new();
    for &encoder in candidates.iter().chain(&[Encoder::Software]) {
        let name = encoder.ffmpeg_name();
        let why = if !listed.split_whitespace().any(|w| w == name) {
            Some("not in this ffmpeg".to_string())
        } else {
            try_encoder(ffmpeg, settings, encoder).err()
        };
        tried.push(Tried { encoder, works: why.is_none(), why });
    }
    let chosen = tried.iter().find(|t| t.works).map(|t| t.encoder);
    Encoders { chosen, tried }
}

/// Half a second of a test picture through `encoder`, within 10 s.
fn try_encoder(ffmpeg: &Ffmpeg, settings: &Settings, encoder: Encoder) -> Result<(), String> {
    let mut cmd = Command::new(&ffmpeg.path);
    cmd.args(["-nostdin", "-v", "error"]).args(encoder.device());
    cmd.args(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=0.5"]);
    cmd.args(encoder.video(settings, &scale(None), every_fragment()));
    cmd.args(["-f", "null", "-"]);
    run_with(cmd, Stdio::null(), Duration::from_secs(10))
        .map(|_| ())
        .map_err(|e| e.to_string().chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_size_is_capped_and_even() {
        assert_eq!(scale(Some(720)), "scale=-2:'trunc(min(ih,720)/2)*2'");
        assert_eq!(scale(Some(1)), "scale=-2:'trunc(min(ih,144)/2)*2'");
        assert_eq!(scale(None), "scale=-2:'trunc(min(ih,2160)/2)*2'");
    }

    #[test]
    fn the_arguments_name_the_start_the_sound_and_a_fragmented_mp4() {
        let settings = Settings { max: 1, crf: 23, max_kbps: 8000, choice: Choice::Software };
        let t = Transcodes::new(None, settings, std::env::temp_dir().join("vidserve-no-segments"));
        let job = |sound| Job {
            id: VideoId(1),
            viewer: "a".into(),
            content: Content::File(Arc::new(tempfile::tempfile().unwrap()), 0),
            start_s: 12.5,
            height: Some(480),
            audio: 1,
            sound,
            copy: None,
        };
        let args = t.args(Encoder::Software, &job(true));
        let before = args.before.join(" ");
        let after = args.after.join(" ");
        assert!(before.ends_with("-ss 12.500"), "{before}");
        assert!(after.contains("-map 0:a:1?") && after.contains("-c:a aac"), "{after}");
        assert!(after.contains("libx264") && after.contains("-crf 23") && after.contains("min(ih,480)"), "{after}");
        assert!(after.ends_with("-movflags frag_keyframe+empty_moov+default_base_moof pipe:1"), "{after}");
        let silent = t.args(Encoder::Software, &job(false)).after.join(" ");
        assert!(!silent.contains("0:a"), "{silent}");
        // A copy keeps the picture and the file's times; HEVC is tagged.
        let copy = t.args(Encoder::Vaapi, &Job { copy: Some(Copied::Hevc), ..job(true) });
        let (before, after) = (copy.before.join(" "), copy.after.join(" "));
        assert!(!before.contains("vaapi") && before.ends_with("-ss 12.500"), "{before}");
        assert!(after.contains("-c:v copy") && after.contains("-copyts") && after.contains("-tag:v hvc1"), "{after}");
        assert!(after.contains("-c:a aac") && !after.contains("libx264") && !after.contains("scale"), "{after}");
        assert!(after.contains("+frag_discont+negative_cts_offsets pipe:1"), "{after}");
        let h264 = t.args(Encoder::Software, &Job { copy: Some(Copied::H264), ..job(false) }).after.join(" ");
        assert!(!h264.contains("hvc1") && h264.contains("-c:v copy"), "{h264}");
        // HLS from segment 7 of 10: the film's own times (shifted, never
        // negative), key frames and cuts where segments 8 and 9 begin,
        // numbered from 7.
        let hls = t.hls_args(Encoder::Software, &job(true), 7, 10);
        assert!(hls.before.join(" ").ends_with("-ss 42.000"), "{:?}", hls.before);
        let hls = hls.after.join(" ");
        assert!(hls.contains("-force_key_frames 48,54 "), "{hls}");
        assert!(hls.contains("-copyts -start_at_zero -output_ts_offset 10 -f segment -segment_format mpegts"), "{hls}");
        assert!(hls.ends_with("-segment_times 58,64 -segment_start_number 7 %d.ts"), "{hls}");
    }
}
