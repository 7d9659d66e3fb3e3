//! The one-shot subcommands: `scan`, `import`, `export`. Each opens the
//! data dir itself (no server may be running on it: redb allows one
//! process), does its job, prints a summary and returns.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use serde_json::{json, Value};

use crate::cli::{DoctorArgs, ExportArgs, ImportArgs, LibraryArgs, LoadtestArgs, ThumbnailArgs};
use crate::config::{LibraryConfig, MediaConfig};
use crate::library::scan::Scanner;
use crate::store::cache::ScanStats;
use crate::store::import;
use crate::store::Store;

/// `vidserve scan`: one scan in the foreground, then a summary.
pub fn scan(args: &LibraryArgs) -> anyhow::Result<()> {
    let config = LibraryConfig::from_args(args)?;
    let store = Arc::new(Store::open(&config.data_dir)?);
    let mut scanner = Scanner::new(config.roots, store)?;
    let catalog = scanner.scan()?;
    let s = &catalog.stats;
    println!(
        "{} videos ({} broken, {} duplicate paths) from {} files in {:.2} s; {} hashed, {} probed",
        catalog.len(),
        catalog.broken.len(),
        catalog.duplicates,
        s.files_seen,
        s.duration.as_secs_f64(),
        s.hashed,
        s.probed
    );
    for v in &catalog.broken {
        println!("broken: {}: {}", catalog.abs_path(v.primary()).display(), v.broken.as_deref().unwrap_or(""));
    }
    for (p, e) in &s.unreadable {
        println!("unreadable: {}: {e}", p.display());
    }
    Ok(())
}

/// `vidserve import PATH...`: scans (to know the videos), then imports.
pub fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let config = LibraryConfig::from_args(&args.library)?;
    let mut files: Vec<PathBuf> = Vec::new();
    for p in &args.paths {
        if p.is_dir() {
            files.extend(import::find_sources(&[p.as_path()]));
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            anyhow::bail!("{} does not exist", p.display());
        }
    }
    if files.is_empty() {
        anyhow::bail!("no ratings.json, views.json, tags.json, favorites.json or video_metadata.db found there");
    }
    let store = Arc::new(Store::open(&config.data_dir)?);
    let mut scanner = Scanner::new(config.roots, store.clone())?;
    let catalog = scanner.scan()?;
    let apply = |edits: Vec<_>| store.apply_user(&edits).map(|_| ()).map_err(|e| e.to_string());
    let report = import::import(&store, &catalog, &files, args.force, apply)?;
    let mut out = String::new();
    if report.files.is_empty() {
        out.push_str("nothing to do: these files were imported before (use --force to import them again)\n");
    } else {
        for f in &report.files {
            out.push_str(&format!("read {}\n", f.display()));
        }
        out.push_str(&format!("matched {} names to videos ({} changes)\n", report.matched, report.changes));
        for name in &report.unmatched {
            out.push_str(&format!("no video for: {name}\n"));
        }
        for p in &report.problems {
            out.push_str(&format!("skipped: {p}\n"));
        }
    }
    let _ = std::io::stdout().write_all(out.as_bytes());
    Ok(())
}

/// `vidserve export`: every video's user data as one JSON document, in
/// vidserve's form and in the original server's maps (keyed by path).
pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let config = LibraryConfig::from_args(&args.library)?;
    let store = Arc::new(Store::open(&config.data_dir)?);
    let users = store.load_user()?;
    let catalog = Scanner::new(config.roots, store)?.catalog(ScanStats::default());
    let mut videos = Vec::new();
    let (mut ratings, mut views, mut tags) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut favorites = Vec::new();
    let mut sorted: Vec<_> = users.iter().collect();
    sorted.sort_by_key(|(id, _)| **id);
    for (id, d) in sorted {
        let video = catalog.get(*id);
        let paths: Vec<String> = video.map(|v| v.files.iter().map(|f| f.rel_display()).collect()).unwrap_or_default();
        videos.push(json!({
            "id": id.to_string(),
            "title": video.map(|v| v.title.clone()),
            "paths": paths,
            "rating": d.rating, "views": d.views, "last_viewed": d.last_viewed,
            "favorite": d.favorite, "tags": d.tags,
        }));
        let Some(name) = paths.first().cloned() else { continue };
        if let Some(r) = d.rating {
            ratings.insert(name.clone(), json!(r));
        }
        if d.views > 0 {
            views.insert(name.clone(), json!(d.views));
        }
        if !d.tags.is_empty() {
            tags.insert(name.clone(), json!(d.tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>()));
        }
        if d.favorite {
            favorites.push(name);
        }
    }
    let doc: Value = json!({
        "vidserve_export": 1,
        "videos": videos,
        "ratings": ratings,
        "views": views,
        "tags": tags,
        "favorites": { "favorites": favorites },
    });
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    match &args.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
    }
    Ok(())
}

/// `vidserve thumbnails`: scans, then makes the missing thumbnails (all
/// with `--regenerate`) in the foreground, printing progress.
pub fn thumbnails(args: &ThumbnailArgs) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    let config = LibraryConfig::from_args(&args.library)?;
    let store = Arc::new(Store::open(&config.data_dir)?);
    let catalog = Scanner::new(config.roots, store)?.scan()?;
    let jobs = crate::app::start_jobs(&config.data_dir, &MediaConfig::from_args(&args.media))?;
    if args.regenerate {
        jobs.thumbs.clear().context("cannot remove the old thumbnails")?;
    }
    crate::app::queue_thumbnails(&jobs, &catalog);
    let total = jobs.waiting();
    let p = &jobs.progress;
    let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut last = usize::MAX;
    loop {
        let (done, failed) = (p.done.load(Ordering::Relaxed), p.failed.load(Ordering::Relaxed));
        if done + failed != last {
            last = done + failed;
            let line = format!("thumbnails: {}/{total} ({failed} failed)", done + failed);
            let _ = if tty { write!(std::io::stdout(), "\r{line}") } else { writeln!(std::io::stdout(), "{line}") };
            let _ = std::io::stdout().flush();
        }
        if done + failed >= total {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    jobs.wait_idle();
    let mut out = String::from(if tty { "\n" } else { "" });
    for (title, why) in p.failures.lock().map(|f| f.clone()).unwrap_or_default() {
        out.push_str(&format!("failed: {title}: {why}\n"));
    }
    out.push_str(&format!(
        "{} videos have a thumbnail; {} made now, {} failed\n",
        jobs.thumbs.count(),
        p.done.load(Ordering::Relaxed),
        p.failed.load(Ordering::Relaxed)
    ));
    let _ = std::io::stdout().write_all(out.as_bytes());
    jobs.close();
    Ok(())
}

/// `vidserve doctor`: checks what a server needs and lists the files that
/// browsers cannot play as stored, with what to do about them.
pub fn doctor(args: &DoctorArgs) -> anyhow::Result<()> {
    let mut r = Checks { out: format!("vidserve {}\n", env!("CARGO_PKG_VERSION")), problems: 0 };
    let media = MediaConfig::from_args(&args.media);
    match crate::media::ffmpeg::Ffmpeg::detect(media.ffmpeg.as_deref(), media.ffmpeg_timeout) {
        Some(f) => {
            let version = std::process::Command::new(&f.path).arg("-version").output().ok();
            let first = version.map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").to_string());
            r.say(true, format!("ffmpeg: {} ({})", f.path.display(), first.unwrap_or_default()));
        }
        None => r.out.push_str(
            "note ffmpeg: not found; thumbnails come from images beside the videos, covers inside them and browsers\n",
        ),
    }
    let config = match LibraryConfig::from_args(&args.library) {
        Ok(c) => c,
        Err(e) => {
            r.say(false, e.to_string());
            return r.finish();
        }
    };
    r.say(true, format!("data dir: {} is writable", config.data_dir.display()));
    for root in &config.roots {
        r.say(true, format!("folder: {} is readable", root.path.display()));
    }
    let store = match Store::open(&config.data_dir) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            r.say(false, format!("database: {e}"));
            return r.finish();
        }
    };
    let users = store.load_user()?.len();
    r.say(true, format!("database: {} opens; {users} videos with ratings, views or tags", store.path().display()));
    let catalog = Scanner::new(config.roots, store)?.scan()?;
    r.say(true, format!("library: {} videos ({} files scanned)", catalog.len(), catalog.stats.files_seen));
    for v in &catalog.broken {
        r.say(
            false,
            format!("broken: {}: {}", catalog.abs_path(v.primary()).display(), v.broken.as_deref().unwrap_or("")),
        );
    }
    for v in catalog.videos() {
        let Some(i) = v.info.as_ref() else { continue };
        let path = catalog.abs_path(v.primary());
        if !i.browser_playable {
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
        if i.index_at_end {
            r.say(false, format!(
                "index at the end: {} starts slowly; fix without re-encoding: ffmpeg -i IN -c copy -movflags +faststart OUT.mp4",
                path.display()
            ));
        }
    }
    r.out.push_str(&if r.problems == 0 {
        "all good\n".to_string()
    } else {
        format!("{} thing(s) to fix\n", r.problems)
    });
    let _ = std::io::stdout().write_all(r.out.as_bytes());
    Ok(())
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
    fn finish(self) -> anyhow::Result<()> {
        let _ = std::io::stdout().write_all(self.out.as_bytes());
        anyhow::bail!("{} problem(s) found; see above", self.problems)
    }
}

/// `vidserve loadtest URL`: bounded, loopback only.
pub fn loadtest(args: &LoadtestArgs) -> anyhow::Result<()> {
    let addr = crate::loadtest::loopback_target(&args.url)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let duration = std::time::Duration::from_secs(args.duration.max(1));
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let report = rt.block_on(async {
        // A live progress line on a terminal.
        let progress = std::io::IsTerminal::is_terminal(&std::io::stdout()).then(|| {
            let done = done.clone();
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let n = done.load(std::sync::atomic::Ordering::Relaxed);
                    let s = started.elapsed().as_secs_f64();
                    let _ = write!(std::io::stdout(), "\r{s:.0} s: {n} requests, {:.0} req/s   ", n as f64 / s);
                    let _ = std::io::stdout().flush();
                }
            })
        });
        let report = crate::loadtest::run(addr, args.scenario, args.connections, duration, done.clone()).await;
        if let Some(p) = progress {
            p.abort();
            let _ = write!(std::io::stdout(), "\r");
        }
        report
    })?;
    let _ = writeln!(std::io::stdout(), "{report}");
    Ok(())
}
