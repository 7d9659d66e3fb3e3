//! `vidserve doctor`: checks what a server needs and lists the files that
//! browsers cannot play as stored, with what to do about them.

use super::Outcome;
use crate::cli::DoctorArgs;
use crate::config::MediaConfig;
use crate::media::remux::Playback;
use crate::scan::Scanner;

/// Runs the checks; `Outcome::Problems` when anything needs fixing.
pub fn doctor(args: &DoctorArgs) -> anyhow::Result<Outcome> {
    let mut r = Checks { out: format!("vidserve {}\n", env!("CARGO_PKG_VERSION")), problems: 0 };
    let media = MediaConfig::from_args(&args.media);
    let ffmpeg = crate::media::ffmpeg::Ffmpeg::detect(media.ffmpeg.as_deref(), media.ffmpeg_timeout);
    match &ffmpeg {
        Some(f) => {
            let version = std::process::Command::new(&f.path).arg("-version").output().ok();
            let first = version.map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string());
            r.say(true, format!("ffmpeg: {} ({})", f.path.display(), first.unwrap_or_default()));
        }
        None => r.out.push_str(
            "note ffmpeg: not found; thumbnails come from images beside the videos, covers inside them and browsers\n",
        ),
    }
    // Beside a running server the data dir is read as it is (no scan).
    let (config, store, running) = match super::library_and_store(&args.library, true) {
        Ok(found) => found,
        Err(e) => {
            r.say(false, format!("{e:#}"));
            return r.stop();
        }
    };
    r.say(true, format!("data dir: {} is writable", config.data_dir.display()));
    let sources = crate::library::roots::Roots::new(&config.roots);
    for (i, root) in config.roots.iter().enumerate() {
        if root.bucket.is_some() {
            match sources.walk(i, None) {
                Ok(w) => r.say(
                    true,
                    format!("bucket: {} answers ({} listed)", root.path.display(), super::videos(w.files.len())),
                ),
                Err(why) => r.say(false, format!("bucket: {} cannot be listed: {why}", root.path.display())),
            }
            continue;
        }
        let readable = std::fs::read_dir(&root.path).is_ok();
        r.say(
            readable,
            format!("folder: {} is {}", root.path.display(), if readable { "readable" } else { "not readable" }),
        );
    }
    if running {
        r.out.push_str("note server: vidserve is serving this data dir; what it has stored is read, without a scan\n");
    }
    let users = store.load_user()?.len();
    r.say(true, format!("database: {}: open; {} with ratings, views or tags", store.location(), super::videos(users)));
    let damaged = store.damaged_user_records()?;
    if !damaged.is_empty() {
        r.say(
            false,
            format!(
                "database: {} user record(s) could not be read and were kept aside (table user_damaged_v1); \
             their videos started afresh. Export with `vidserve export` and report it",
                damaged.len()
            ),
        );
    }
    let mut scanner = Scanner::new(config.roots, store)?;
    let catalog = if running { scanner.catalog(crate::catalog::ScanStats::default())? } else { scanner.scan()? };
    r.say(
        true,
        format!(
            "library: {} ({} scanned)",
            super::videos(catalog.len()),
            super::count(catalog.stats.files_seen, "file", "files")
        ),
    );
    for v in &catalog.broken {
        r.say(
            false,
            format!("broken: {}: {}", catalog.abs_path(v.primary()).display(), v.broken.as_deref().unwrap_or("")),
        );
    }
    // What the server cannot do, as the server decides it.
    let mut remuxed = 0;
    for v in catalog.videos() {
        let Some(i) = v.info.as_ref() else { continue };
        let path = catalog.abs_path(v.primary());
        match crate::media::remux::playback(v) {
            Playback::AsStored => {}
            Playback::Remuxed { sound_remade } => {
                remuxed += 1;
                if sound_remade && ffmpeg.is_none() {
                    r.say(false, format!(
                        "no sound in browsers: {} ({} sound): vidserve remakes it with ffmpeg, which is not found; install ffmpeg",
                        path.display(),
                        i.audio_codec.as_deref().unwrap_or("?")
                    ));
                }
            }
            Playback::Not => {
                let codecs = [i.video_codec.as_deref(), i.audio_codec.as_deref()]
                    .iter()
                    .flatten()
                    .copied()
                    .collect::<Vec<_>>()
                    .join("/");
                r.say(false, format!(
                    "not playable in browsers: {} ({}, {codecs}); convert it, e.g. ffmpeg -i IN -c:v libx264 -c:a aac OUT.mp4",
                    path.display(), i.container
                ));
            }
        }
    }
    // A Matroska file that ends early plays up to where it ends: said
    // here, with the length that plays (the library shows that length).
    for v in catalog.videos() {
        let Some(i) = v.info.as_ref().filter(|i| matches!(&*i.container, "mkv" | "webm")) else { continue };
        let path = catalog.abs_path(v.primary());
        let Ok(file) = std::fs::File::open(&path) else { continue };
        let len = file.metadata().map_or(0, |m| m.len());
        if let Some((have, declared)) =
            crate::library::probe::mkv::cut_short(&crate::container::FileSource { file: &file, len })
        {
            let plays = i.duration_ms.map_or("what it holds".into(), |ms| format!("the first {}", clock(ms)));
            r.say(
                false,
                format!(
                    "cut short: {}: {have} of {declared} bytes (an interrupted copy?); it plays {plays}",
                    path.display()
                ),
            );
        }
    }
    if remuxed > 0 {
        r.say(
            true,
            format!(
                "{} played through a remux on the fly (Matroska, MP4 with its index at the end, sound browsers lack)",
                super::videos(remuxed)
            ),
        );
    }
    r.out.push_str(&if r.problems == 0 {
        "all good\n".to_string()
    } else {
        format!("{} thing(s) to fix\n", r.problems)
    });
    r.finish()
}

/// `1:05:09`, `4:02`: a length as players show it.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

/// The doctor's findings, printed at the end.
struct Checks {
    out: String,
    problems: usize,
}

impl Checks {
    fn say(&mut self, ok: bool, line: String) {
        if !ok {
            self.problems += 1;
        }
        self.out.push_str(&format!("{} {line}\n", if ok { "ok  " } else { "FIX " }));
    }

    /// Prints what was found and fails: a check that stops the rest failed.
    fn stop(self) -> anyhow::Result<Outcome> {
        super::print(self.out.as_bytes())?;
        anyhow::bail!("{} problem(s) found; see above", self.problems)
    }

    /// Prints what was found; `Problems` when anything needs fixing.
    fn finish(self) -> anyhow::Result<Outcome> {
        super::print(self.out.as_bytes())?;
        Ok(if self.problems == 0 { Outcome::Done } else { Outcome::Problems })
    }
}
