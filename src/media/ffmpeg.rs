//! The optional ffmpeg: found on `PATH` or given with `--ffmpeg`, run at low
//! priority with a time limit, its output read through a pipe.
//!
//! It never opens a path of ours: it reads a file we opened safely
//! (`library::fsafe`), handed over as its standard input, and may only use the
//! `file` protocol and the demuxers of the video formats we list — so a
//! file disguised as a playlist cannot make it fetch URLs or other files.
//! An object in a bucket is read through a presigned URL of that one
//! object, valid only as long as the run may take, with only the http(s)
//! protocols allowed.
//!
//! Nothing runs between fork and exec, so the standard library starts
//! ffmpeg with `posix_spawn` (a `vfork`): copying the page tables of a
//! server holding a large catalog would cost tens of milliseconds and stall
//! every request thread meanwhile.

use crate::container::Source;
use crate::library::roots::Content;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::MediaError;

#[derive(Debug, Clone)]
pub struct Ffmpeg {
    pub path: PathBuf,
    pub timeout: Duration,
}

/// Largest frame read from ffmpeg.
const MAX_OUTPUT: u64 = 32 * 1024 * 1024;

impl Ffmpeg {
    /// `explicit` if it is a file, else `ffmpeg` on `PATH`, else `None`.
    pub fn detect(explicit: Option<&Path>, timeout: Duration) -> Option<Ffmpeg> {
        let path = match explicit {
            Some(p) => p.is_file().then(|| p.to_path_buf())?,
            None => {
                let dirs = std::env::var_os("PATH")?;
                std::env::split_paths(&dirs).map(|d| d.join("ffmpeg")).find(|p| p.is_file())?
            }
        };
        Some(Ffmpeg { path, timeout })
    }

    /// The most telling of the `THUMB_CANDIDATES` frames from `at` seconds
    /// (ffmpeg's `thumbnail` filter: the one nearest their average, so not
    /// a fade to black or a flash), scaled to `width` pixels wide, as PNG.
    pub fn frame_png(&self, video: &Content, at: f64, width: u32) -> Result<Vec<u8>, MediaError> {
        let mut cmd = Command::new(&self.path);
        cmd.args(["-nostdin", "-v", "error", "-ss", &format!("{at:.3}")]);
        input(&mut cmd, video, self.timeout)?;
        cmd.args(["-vf", &format!("thumbnail={THUMB_CANDIDATES},scale='min({width},iw)':-2")]);
        run_png(cmd, video, self.timeout, "no frame (the video may be unreadable)")
    }
}

impl Ffmpeg {
    /// The `track`th audio track of `video` as stereo AAC in an MP4 at
    /// `out` (video, subtitles and data dropped), for sound browsers cannot
    /// decode. `timeout` should allow for the whole film.
    pub fn audio_to_aac(&self, video: &Content, track: usize, out: &Path, timeout: Duration) -> Result<(), MediaError> {
        let mut cmd = Command::new(&self.path);
        cmd.args(["-nostdin", "-v", "error"]);
        input(&mut cmd, video, timeout)?;
        cmd.args(["-map", &format!("0:a:{track}"), "-vn", "-sn", "-dn", "-c:a", "aac", "-b:a", "192k", "-ac", "2"]);
        cmd.args(["-f", "mp4", "-movflags", "+faststart", "-y"]).arg(out);
        run(cmd, video, timeout).map(|_| ())
    }

    /// `SPRITE_FRAMES` frames spread over the video, `SPRITE_TILE_WIDTH`
    /// wide, tiled 10 by 2, as one PNG. A large file's come from a seek
    /// to each tile's middle (a few key frames read, not the file); a
    /// smaller one's from one pass that decodes key frames only.
    pub fn sprite_png(&self, video: &Content, duration_s: f64) -> Result<Vec<u8>, MediaError> {
        if video.size() >= SPRITE_SEEK_BYTES && duration_s >= SPRITE_SEEK_SECONDS {
            match self.sprite_by_seeking(video, duration_s) {
                Ok(png) => return Ok(png),
                Err(MediaError::Timeout(s)) => return Err(MediaError::Timeout(s)),
                Err(e) => tracing::debug!("preview strip by seeking: {e}; one pass instead"),
            }
        }
        // Key frames only first; short or sparse files (a single key frame)
        // need every frame.
        match self.sprite_run(video, duration_s, true) {
            Ok(png) => Ok(png),
            Err(MediaError::Timeout(s)) => Err(MediaError::Timeout(s)),
            Err(_) => self.sprite_run(video, duration_s, false),
        }
    }

    /// The strip from `SPRITE_FRAMES` inputs of the same file, each opened
    /// at the key frame before its tile's middle; one frame of each.
    fn sprite_by_seeking(&self, video: &Content, duration_s: f64) -> Result<Vec<u8>, MediaError> {
        let mut cmd = Command::new(&self.path);
        cmd.args(["-nostdin", "-v", "error"]);
        let mut graph = String::new();
        for i in 0..SPRITE_FRAMES {
            let at = (f64::from(i) + 0.5) * duration_s / f64::from(SPRITE_FRAMES);
            cmd.args(["-noaccurate_seek", "-ss", &format!("{at:.3}")]);
            input(&mut cmd, video, self.timeout)?;
            graph.push_str(&format!(
                "[{i}:v:0]trim=end_frame=1,setpts=PTS-STARTPTS,scale={SPRITE_TILE_WIDTH}:-2,setsar=1[t{i}];"
            ));
        }
        for i in 0..SPRITE_FRAMES {
            graph.push_str(&format!("[t{i}]"));
        }
        graph.push_str(&format!("concat=n={SPRITE_FRAMES}:v=1:a=0,tile=10x2"));
        cmd.args(["-filter_complex", &graph]);
        run_png(cmd, video, self.timeout, "no frames for a preview strip")
    }

    fn sprite_run(&self, video: &Content, duration_s: f64, key_frames_only: bool) -> Result<Vec<u8>, MediaError> {
        let rate = SPRITE_FRAMES as f64 / duration_s.max(1.0);
        let mut cmd = Command::new(&self.path);
        cmd.args(["-nostdin", "-v", "error"]);
        if key_frames_only {
            cmd.args(["-skip_frame", "nokey"]);
        }
        input(&mut cmd, video, self.timeout)?;
        cmd.args(["-vf", &format!("fps={rate:.6},scale={SPRITE_TILE_WIDTH}:-2,tile=10x2"), "-fps_mode", "passthrough"]);
        run_png(cmd, video, self.timeout, "no frames for a preview strip")
    }
}

/// `line` with every URL in it replaced (ffmpeg names its input, and an
/// object's is a presigned link: it must not reach logs or pages).
fn without_urls(line: &str) -> String {
    line.split(' ')
        .map(|word| if word.contains("://") { "[the object's link]" } else { word })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[test]
fn urls_never_leave_in_messages() {
    let said = "http://127.0.0.1:3900/films/a.mp4?X-Amz-Signature=abc: Server returned 403 Forbidden";
    assert_eq!(without_urls(said), "[the object's link] Server returned 403 Forbidden");
    assert_eq!(without_urls("moov atom not found"), "moov atom not found");
}

#[cfg(test)]
#[test]
fn a_strip_by_seeking_has_a_picture_of_each_stretch() {
    if Command::new("ffmpeg").arg("-version").output().is_err() {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "ffmpeg is required under CI");
        eprintln!("SKIPPED: ffmpeg is needed to make a preview strip");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let film = dir.path().join("film.mkv");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=40"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"])
        .arg(&film)
        .status()
        .unwrap();
    assert!(made.success());
    let file = std::fs::File::open(&film).unwrap();
    let len = file.metadata().unwrap().len();
    let ffmpeg = Ffmpeg { path: "ffmpeg".into(), timeout: Duration::from_secs(60) };
    let png = ffmpeg.sprite_by_seeking(&Content::File(std::sync::Arc::new(file), len), 40.0).unwrap();
    let strip = image::load_from_memory(&png).unwrap().to_luma8();
    assert_eq!((strip.width(), strip.height()), (10 * SPRITE_TILE_WIDTH, 2 * 120));
    // Twenty moments, each its own picture (testsrc2 moves and counts).
    let tile = |i: u32| {
        let (x0, y0) = ((i % 10) * SPRITE_TILE_WIDTH, (i / 10) * 120);
        let mut px = Vec::new();
        for y in y0..y0 + 120 {
            for x in x0..x0 + SPRITE_TILE_WIDTH {
                px.push(i64::from(strip.get_pixel(x, y).0[0]));
            }
        }
        px
    };
    for i in 0..SPRITE_FRAMES - 1 {
        let (a, b) = (tile(i), tile(i + 1));
        let differ = a.iter().zip(&b).filter(|(p, q)| (*p - *q).abs() > 16).count();
        assert!(differ > 200, "tiles {i} and {} are alike ({differ} pixels differ)", i + 1);
    }
}

/// Frames a thumbnail is chosen from (two seconds at 25 frames a second).
const THUMB_CANDIDATES: u32 = 50;

/// Frames in a preview sprite (10 columns, 2 rows).
pub const SPRITE_FRAMES: u32 = 20;
pub const SPRITE_TILE_WIDTH: u32 = 160;
/// Files at least this large and long get their strip by seeking: reading
/// every packet of a film (a pass) would read gigabytes for 20 pictures.
const SPRITE_SEEK_BYTES: u64 = 64 << 20;
const SPRITE_SEEK_SECONDS: f64 = 60.0;

/// Puts a process or thread (0: the calling thread) in the idle scheduling
/// class, so it runs only on CPU time nothing else wants (streaming keeps
/// its speed), and lowers its niceness where that class is refused.
pub fn background_priority(pid: libc::pid_t) {
    // SAFETY: both calls only change the scheduling of `pid`.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        if libc::sched_setscheduler(pid, libc::SCHED_IDLE, &param) != 0 {
            libc::setpriority(libc::PRIO_PROCESS, pid as libc::id_t, 10);
        }
    }
}

/// Puts the calling thread's reads in the idle I/O class: the disk serves
/// them only when nothing else waits (a whole-film read in the background
/// never slows a player). Only advice: refused, nothing changes.
pub fn idle_reads() {
    const WHO_PROCESS: libc::c_long = 1;
    const CLASS_IDLE: libc::c_long = 3 << 13;
    // SAFETY: ioprio_set only changes the I/O priority of this thread (0).
    unsafe {
        libc::syscall(libc::SYS_ioprio_set, WHO_PROCESS, 0 as libc::c_long, CLASS_IDLE);
    }
}

/// The demuxers ffmpeg may use: those of the video formats served.
const FORMATS: &str = "mov,mp4,matroska,webm,ogg,mpegts,flv,avi,asf,mpeg,mpegvideo";

/// The input options: a local file is standard input (see `run`) reopened
/// as a file, so ffmpeg can seek, with the file protocol only; an object is
/// a presigned URL of it, valid for `timeout` and a minute more, with the
/// http(s) protocols only. Our formats only. Every command also passes
/// `-nostdin`: no keys are read from it.
pub(super) fn input(cmd: &mut Command, video: &Content, timeout: Duration) -> Result<(), MediaError> {
    // ffmpeg needs none of our secrets.
    for secret in [
        "OPENAI_API_KEY",
        "VIDSERVE_CHAT_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AZURE_STORAGE_KEY",
    ] {
        cmd.env_remove(secret);
    }
    match video {
        Content::File(..) => {
            cmd.args(["-protocol_whitelist", "file", "-format_whitelist", FORMATS, "-i", "file:/dev/fd/0"]);
        }
        Content::Object(object) => {
            let url = object.presigned_blocking(timeout + Duration::from_secs(60))?;
            let protocols = if object.https() { "https,tls,tcp" } else { "http,tcp" };
            cmd.args(["-protocol_whitelist", protocols, "-format_whitelist", FORMATS, "-i", &url]);
        }
    }
    Ok(())
}

/// Finishes `cmd` with one PNG frame to stdout, runs it, and insists on
/// output (`empty`: what to say when there is none).
fn run_png(mut cmd: Command, video: &Content, timeout: Duration, empty: &str) -> Result<Vec<u8>, MediaError> {
    cmd.args(["-frames:v", "1", "-f", "image2pipe", "-vcodec", "png", "-"]);
    let out = run(cmd, video, timeout)?;
    if out.is_empty() {
        return Err(MediaError::Ffmpeg(empty.into()));
    }
    Ok(out)
}

/// Runs a command at low priority with `video` as its standard input;
/// kills it after `timeout`.
fn run(cmd: Command, video: &Content, timeout: Duration) -> Result<Vec<u8>, MediaError> {
    run_with(cmd, stdin_of(video)?, timeout)
}

/// What ffmpeg reads for `video` (see `input`): the open file, or nothing
/// (an object is read through its link).
pub(super) fn stdin_of(video: &Content) -> std::io::Result<Stdio> {
    Ok(match video.file() {
        Some(file) => Stdio::from(file.try_clone()?),
        None => Stdio::null(),
    })
}

/// Runs a command at low priority with `input` as its standard input and
/// returns its output (at most `MAX_OUTPUT`); kills it after `timeout`.
pub(super) fn run_with(mut cmd: Command, input: Stdio, timeout: Duration) -> Result<Vec<u8>, MediaError> {
    let mut child = cmd.stdin(input).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    background_priority(child.id() as libc::pid_t);
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(MAX_OUTPUT).read_to_end(&mut out);
        // Past the cap, keep draining: a full pipe would stall ffmpeg.
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        out
    });
    let err_reader = complaints(child.stderr.take().expect("stderr is piped"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(MediaError::Timeout(timeout.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    if !status.success() {
        return Err(MediaError::Ffmpeg(first_complaint(&err).unwrap_or_else(|| status.to_string())));
    }
    Ok(out)
}

/// Reads ffmpeg's complaints (the first 64 KiB; the rest is drained, so a
/// full pipe never stalls it) on a thread of their own.
pub(super) fn complaints(mut stderr: std::process::ChildStderr) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut err = String::new();
        let _ = (&mut stderr).take(64 * 1024).read_to_string(&mut err);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        err
    })
}

/// The first line ffmpeg said, without URLs (an object's is a presigned link).
pub(super) fn first_complaint(said: &str) -> Option<String> {
    said.lines().map(str::trim).find(|l| !l.is_empty()).map(|l| without_urls(without_context(l)))
}

/// `line` without ffmpeg's `[component @ 0x5564…] ` prefix, a memory
/// address that means nothing to a person reading the admin page.
fn without_context(line: &str) -> &str {
    match line.strip_prefix('[').and_then(|rest| rest.split_once("] ")) {
        Some((context, said)) if context.contains(" @ 0x") => said,
        _ => line,
    }
}

#[cfg(test)]
#[test]
fn complaints_lose_the_memory_addresses() {
    let said = "[AVHWDeviceContext @ 0x56477e843b40] No VA display found for device /dev/dri/renderD128.\n";
    assert_eq!(first_complaint(said).unwrap(), "No VA display found for device /dev/dri/renderD128.");
    assert_eq!(first_complaint("\n  moov atom not found\n").unwrap(), "moov atom not found");
    assert_eq!(first_complaint("[in] is not a context").unwrap(), "[in] is not a context");
}
