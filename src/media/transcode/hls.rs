//! HLS of a transcode, for players without Media Source Extensions (an
//! iPhone before iOS 17.1, a television's browser): they play a playlist
//! themselves, and seek in it.
//!
//! `playlist` lists the whole video in segments of `SEGMENT_S` seconds
//! (the last shorter), known before any is made. One ffmpeg per viewer and
//! video makes them in turn into a folder of its own, from the segment
//! asked for: the same encoder and settings as a streamed transcode, with
//! the film's own times (`-copyts`) and key frames and cuts at whole
//! multiples of `SEGMENT_S` of them, so the segments of two runs started
//! at different places fit together. (Where a format's seek lands a few
//! pictures late, a run's first segment begins that much after its
//! start: the pictures stay at their own times.) A segment is whole once
//! the next one is begun, or ffmpeg has ended.
//!
//! Bounded as streamed transcodes are: a slot of `--max-transcodes` while
//! ffmpeg runs, one per viewer and video (a stream or a playlist of the
//! same viewer and video stops the other), stopped after `IDLE` without a
//! request. ffmpeg is paused (`SIGSTOP`) while it is `AHEAD` segments past
//! the newest asked for, so a paused player costs no CPU; segments more
//! than `BEHIND` before it are deleted, so a folder holds at most about
//! `AHEAD + BEHIND` segments. A segment asked for far from what is being
//! made (a seek) starts ffmpeg again there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{Args, Encoder, Job, Run, TranscodeError, Transcodes, IDLE, POLL};
use crate::library::ids::VideoId;
use crate::media::ffmpeg::{background_priority, complaints, first_complaint, input, stdin_of};

/// Seconds of video in a segment.
pub const SEGMENT_S: u32 = 6;
/// Whole segments made past the newest asked for before ffmpeg pauses.
const AHEAD: u32 = 4;
/// A segment at most this far past the next one ffmpeg makes is waited
/// for; one further starts ffmpeg again there.
const NEAR: u32 = 2;
/// Segments kept before the newest asked for (a short step back).
const BEHIND: u32 = 5;
/// The output's times are the film's own plus this, so that no time is
/// negative in any run (a run from the start would otherwise be shifted
/// by the encoder's delay, and not fit the segments of a later run).
const TIME_OFFSET_S: u32 = 10;
/// The longest video given a playlist (a file may claim any length).
pub const MOST_HOURS: u32 = 48;
/// Most segments one run makes (its key frames and cuts are listed on
/// ffmpeg's command line): five hours; a player going further starts a
/// new run there.
const MOST_SEGMENTS: u32 = 3000;

/// The number of segments of a video `duration_s` long.
pub fn segment_count(duration_s: f64) -> u32 {
    (duration_s / f64::from(SEGMENT_S)).ceil().max(1.0) as u32
}

/// The playlist of a video `duration_s` long, whose id is `id`: its
/// segments' links are relative (`{id}/{n}.ts`) with `query` after them
/// (what the playlist was asked with: height, track, a signed link's
/// fields).
pub fn playlist(id: VideoId, duration_s: f64, query: &str) -> String {
    let count = segment_count(duration_s);
    let mut out = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{SEGMENT_S}\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    );
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    for n in 0..count {
        let length = (duration_s - f64::from(n * SEGMENT_S)).clamp(0.001, f64::from(SEGMENT_S));
        out.push_str(&format!("#EXTINF:{length:.3},\n{id}/{n}.ts{query}\n"));
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

/// Removes what an earlier run left in `scratch` (at the start).
pub(super) fn clear(scratch: &Path) {
    match std::fs::remove_dir_all(scratch) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cannot clear {}: {e}", scratch.display()),
    }
}

/// One viewer's HLS transcode of one video.
pub(super) struct Segmented {
    run: Arc<Run>,
    dir: PathBuf,
    height: Option<u32>,
    audio: usize,
    /// The segment this ffmpeg started at.
    first: u32,
    /// Segments `first..made` are whole (those before `kept_from` gone).
    made: AtomicU32,
    kept_from: AtomicU32,
    /// The newest segment asked for.
    asked: AtomicU32,
    /// ffmpeg has ended (`run.failure` says why, when it failed).
    ended: AtomicBool,
}

/// What a segment request finds.
enum Found {
    Ready(PathBuf),
    Coming,
    /// ffmpeg ended without making it.
    Never(String),
    /// Not this viewer's current run, or not one that will make it.
    Elsewhere,
}

impl Segmented {
    fn path(&self, n: u32) -> PathBuf {
        self.dir.join(format!("{n}.ts"))
    }

    fn find(&self, n: u32) -> Found {
        let made = self.made.load(Ordering::Acquire);
        if self.run.stopped() || n < self.first.max(self.kept_from.load(Ordering::Acquire)) {
            return Found::Elsewhere;
        }
        if n < made {
            return Found::Ready(self.path(n));
        }
        if self.ended.load(Ordering::Acquire) {
            // Failed, or stopped short (at `MOST_SEGMENTS`): a new run.
            return match self.run.failure.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                Some(why) => Found::Never(why),
                None => Found::Elsewhere,
            };
        }
        if n <= made + NEAR {
            Found::Coming
        } else {
            Found::Elsewhere
        }
    }
}

impl Transcodes {
    /// Segment `n` (of `count`) of `job`'s video, as a file to send and
    /// its length: from the viewer's running HLS transcode of it when that
    /// makes it soon, else from a new one started at `n`. Waits up to the
    /// ffmpeg time limit for it.
    pub async fn segment(
        self: &Arc<Self>,
        job: Job,
        n: u32,
        count: u32,
    ) -> Result<(std::fs::File, u64), TranscodeError> {
        let ffmpeg = self.ffmpeg.clone().ok_or(TranscodeError::NoFfmpeg)?;
        let key = (job.viewer.clone(), job.id);
        let until = Instant::now() + ffmpeg.timeout;
        let mut job = Some(job);
        loop {
            let current = self.segmented.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
            let wanted = job
                .as_ref()
                .is_none_or(|j| current.as_ref().is_some_and(|s| s.height == j.height && s.audio == j.audio));
            let found = match &current {
                Some(s) if wanted => s.find(n),
                _ => Found::Elsewhere,
            };
            if let Some(s) = &current {
                if wanted {
                    s.run.moved();
                    s.asked.fetch_max(n, Ordering::AcqRel);
                }
            }
            match found {
                Found::Ready(path) => {
                    let opened = tokio::task::spawn_blocking(move || {
                        let file = std::fs::File::open(path)?;
                        let len = file.metadata()?.len();
                        Ok::<_, std::io::Error>((file, len))
                    })
                    .await
                    .map_err(|e| TranscodeError::Io(std::io::Error::other(e)))?;
                    match opened {
                        Ok(found) => return Ok(found),
                        // Deleted meanwhile (behind the newest asked for).
                        Err(e) if job.is_none() => return Err(e.into()),
                        Err(_) => {}
                    }
                }
                Found::Coming => {}
                Found::Never(why) => return Err(TranscodeError::Failed(why)),
                Found::Elsewhere => {
                    // Start one at `n`, once; a second time means it went.
                    let Some(job) = job.take() else {
                        return Err(TranscodeError::Failed("the transcode was stopped".into()));
                    };
                    self.begin(job, n, count).await?;
                    continue;
                }
            }
            if Instant::now() > until {
                if let Some(s) = current {
                    s.run.stop();
                }
                return Err(TranscodeError::Failed(format!(
                    "segment {n} was not made within the ffmpeg time limit (--ffmpeg-timeout)"
                )));
            }
            tokio::time::sleep(POLL / 2).await;
        }
    }

    /// Starts ffmpeg on `job` from segment `first`, replacing the viewer's
    /// transcode of the video.
    async fn begin(self: &Arc<Self>, mut job: Job, first: u32, count: u32) -> Result<(), TranscodeError> {
        let ffmpeg = self.ffmpeg.clone().ok_or(TranscodeError::NoFfmpeg)?;
        let encoder = self.encoder()?;
        job.copy = None;
        let key = (job.viewer.clone(), job.id);
        let run = Arc::new(Run::new());
        let permit = self.claim(&key, &run, false).await?;
        let folder = self.folders.fetch_add(1, Ordering::Relaxed);
        let seg = Arc::new(Segmented {
            run: run.clone(),
            dir: self.scratch.join(format!("{}-{folder}", job.id)),
            height: job.height,
            audio: job.audio,
            first,
            made: AtomicU32::new(first),
            kept_from: AtomicU32::new(first),
            asked: AtomicU32::new(first),
            ended: AtomicBool::new(false),
        });
        self.segmented.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), seg.clone());
        let args = self.hls_args(encoder, &job, first, count);
        let me = self.clone();
        let work = move || {
            if let Err(why) = make(&ffmpeg, args, &job, &seg, count, permit) {
                tracing::warn!(id = %job.id, "HLS transcode: {why}");
                *seg.run.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            }
            seg.ended.store(true, Ordering::Release);
            linger(&seg);
            let _ = std::fs::remove_dir_all(&seg.dir);
            me.forget(&key, &seg.run);
            let mut segmented = me.segmented.lock().unwrap_or_else(|e| e.into_inner());
            if segmented.get(&key).is_some_and(|s| Arc::ptr_eq(s, &seg)) {
                segmented.remove(&key);
            }
        };
        if let Err(e) = std::thread::Builder::new().name("segments".into()).spawn(work) {
            run.stop();
            return Err(e.into());
        }
        self.started.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// The arguments of an HLS transcode from segment `first` (of
    /// `count`), written into ffmpeg's working folder as `{n}.ts`.
    pub(super) fn hls_args(&self, encoder: Encoder, job: &Job, first: u32, count: u32) -> Args {
        let last = count.min(first.saturating_add(MOST_SEGMENTS));
        // Where the segments after the first begin, in the film's time and
        // in the output's.
        let starts =
            |shift: u32| (first + 1..last).map(|n| (n * SEGMENT_S + shift).to_string()).collect::<Vec<_>>().join(",");
        let keys = match starts(0) {
            // One segment: key frames as for a stream.
            k if k.is_empty() => super::every_fragment(),
            k => k,
        };
        let mut args = self.streams(encoder, job, f64::from(first * SEGMENT_S), keys);
        let cuts = match starts(TIME_OFFSET_S) {
            // Past the last time: no cut.
            c if c.is_empty() => (u64::from(last * SEGMENT_S) + 3600).to_string(),
            c => c,
        };
        if last < count {
            args.after.extend(["-t".into(), ((last - first) * SEGMENT_S).to_string()]);
        }
        args.after.extend(
            ["-copyts", "-start_at_zero", "-output_ts_offset", &TIME_OFFSET_S.to_string()]
                .into_iter()
                .chain(["-f", "segment", "-segment_format", "mpegts", "-segment_times", &cuts])
                .chain(["-segment_start_number", &first.to_string(), "%d.ts"])
                .map(String::from),
        );
        args
    }
}

/// Runs ffmpeg in the segment's folder until it ends or the run is
/// stopped or idle; meanwhile counts the segments made, pauses ffmpeg
/// while it is far enough ahead, and deletes those well behind. An error
/// when it failed before making a segment.
fn make(
    ffmpeg: &crate::media::ffmpeg::Ffmpeg,
    args: Args,
    job: &Job,
    seg: &Segmented,
    count: u32,
    _permit: tokio::sync::OwnedSemaphorePermit,
) -> Result<(), String> {
    std::fs::create_dir_all(&seg.dir).map_err(|e| format!("cannot make {}: {e}", seg.dir.display()))?;
    let mut cmd = Command::new(&ffmpeg.path);
    cmd.current_dir(&seg.dir).args(&args.before);
    input(&mut cmd, &job.content, std::time::Duration::from_secs(12 * 3600)).map_err(|e| e.to_string())?;
    cmd.args(&args.after);
    let stdin = stdin_of(&job.content).map_err(|e| e.to_string())?;
    let mut child = cmd.stdin(stdin).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let pid = child.id() as libc::pid_t;
    background_priority(pid);
    let said = complaints(child.stderr.take().expect("stderr is piped"));
    let mut paused = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => break Err(e),
        }
        if seg.run.stopped() || seg.run.still() > IDLE {
            seg.run.stop();
            let _ = child.kill();
            break child.wait();
        }
        count_made(seg, count, false);
        let ahead = seg.made.load(Ordering::Acquire).saturating_sub(seg.asked.load(Ordering::Acquire) + 1);
        if (ahead >= AHEAD) != paused {
            paused = !paused;
            // SAFETY: only signals our own child, not yet reaped.
            unsafe { libc::kill(pid, if paused { libc::SIGSTOP } else { libc::SIGCONT }) };
        }
        drop_behind(seg);
        std::thread::sleep(POLL);
    };
    count_made(seg, count, matches!(&status, Ok(s) if s.success()));
    let said = said.join().unwrap_or_default();
    let made_none = seg.made.load(Ordering::Acquire) == seg.first;
    match status {
        Ok(s) if !s.success() && made_none && !seg.run.stopped() => {
            Err(first_complaint(&said).unwrap_or_else(|| s.to_string()))
        }
        Err(e) => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// Counts the whole segments in the folder: those followed by another
/// (ffmpeg closes one before it opens the next), and the last when ffmpeg
/// has `finished` well.
fn count_made(seg: &Segmented, count: u32, finished: bool) {
    let mut made = seg.made.load(Ordering::Acquire);
    while made < count && (seg.path(made + 1).exists() || (finished && seg.path(made).exists())) {
        made += 1;
    }
    seg.made.store(made, Ordering::Release);
}

/// Deletes the segments more than `BEHIND` before the newest asked for.
fn drop_behind(seg: &Segmented) {
    let keep = seg.asked.load(Ordering::Acquire).saturating_sub(BEHIND);
    let mut from = seg.kept_from.load(Ordering::Acquire);
    while from < keep {
        seg.kept_from.store(from + 1, Ordering::Release);
        let _ = std::fs::remove_file(seg.path(from));
        from += 1;
    }
}

/// After ffmpeg: keeps serving what it made until the run is stopped or
/// idle.
fn linger(seg: &Segmented) {
    while !seg.run.stopped() && seg.run.still() <= IDLE {
        drop_behind(seg);
        std::thread::sleep(POLL);
    }
    seg.run.stop();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_playlist_covers_the_whole_video() {
        let list = playlist(VideoId(0xabc), 20.5, "height=480");
        assert!(list.starts_with("#EXTM3U\n") && list.ends_with("#EXT-X-ENDLIST\n"), "{list}");
        assert!(list.contains("#EXT-X-PLAYLIST-TYPE:VOD") && list.contains("#EXT-X-TARGETDURATION:6"), "{list}");
        let segments: Vec<&str> = list.lines().filter(|l| l.contains(".ts")).collect();
        assert_eq!(
            segments,
            [
                "0000000000000abc/0.ts?height=480",
                "0000000000000abc/1.ts?height=480",
                "0000000000000abc/2.ts?height=480",
                "0000000000000abc/3.ts?height=480"
            ]
        );
        assert!(list.contains("#EXTINF:6.000,\n") && list.contains("#EXTINF:2.500,\n"), "{list}");
        assert_eq!(segment_count(18.0), 3);
        assert_eq!(segment_count(18.01), 4);
        assert_eq!(segment_count(0.0), 1);
        assert!(!playlist(VideoId(1), 3.0, "").contains('?'));
    }
}
