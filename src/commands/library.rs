//! The one-shot subcommands about the library: `scan`, `import`, `export`,
//! `thumbnails`. Each opens the data dir itself (no server may be running on
//! it: redb allows one process), does its job, prints a summary (`export`:
//! the document itself, unless `-o`) and returns.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use super::Outcome;
use crate::catalog::ScanStats;
use crate::cli::{ExportArgs, ImportArgs, LibraryArgs, ThumbnailArgs};
use crate::config::{LibraryConfig, MediaConfig};
use crate::import;
use crate::scan::Scanner;

/// `vidserve scan`: one scan in the foreground, then a summary.
pub fn scan(args: &LibraryArgs) -> anyhow::Result<()> {
    let config = LibraryConfig::from_args(args)?;
    let store = crate::store::open(&config.data_dir, config.database.as_ref())?;
    let mut scanner = Scanner::new(config.roots, store)?;
    let catalog = scanner.scan()?;
    let s = &catalog.stats;
    println!(
        "{} ({} broken, {} duplicate paths) from {} files in {:.2} s; {} hashed, {} probed",
        super::videos(catalog.len()),
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
    let (config, store, _) = super::library_and_store(&args.library, false)?;
    let mut scanner = Scanner::new(config.roots, store.clone())?;
    let catalog = scanner.scan()?;
    let apply = |edits: Vec<_>| store.apply_user(&edits).map(|_| ()).map_err(|e| e.to_string());
    let once = if args.force { import::Once::Never } else { import::Once::PerContent };
    let report = import::import(store.as_ref(), &catalog, &files, once, apply)?;
    let mut out = String::new();
    for (f, why) in &report.skipped {
        out.push_str(&format!("skipped {}: {why}\n", f.display()));
    }
    if report.files.is_empty() {
        out.push_str("nothing to do: these files were imported before (use --force to import them again)\n");
    } else {
        for f in &report.files {
            out.push_str(&format!("read {}\n", f.display()));
        }
        out.push_str(&format!("matched {} names to videos ({} changes)\n", report.matched, report.changes));
        // Whose the imported ratings, favorites and positions are.
        match crate::people::People::load(store.clone())?.owner() {
            Some(owner) => out.push_str(&format!(
                "ratings, favorites and positions belong to {owner} (the first admin); tags, titles and views are shared\n"
            )),
            None => out.push_str(
                "ratings, favorites and positions belong to the household (the first admin, once accounts exist)\n",
            ),
        }
        for name in &report.unmatched {
            out.push_str(&format!("no video for: {name}\n"));
        }
        for p in &report.problems {
            out.push_str(&format!("skipped: {p}\n"));
        }
    }
    super::print(out.as_bytes())
}

/// `vidserve export`: every video's user data as one JSON document, in
/// vidserve's form and in the original server's maps (keyed by path).
/// Works beside a running server (reading what it has committed) and
/// without `--dir` (the folders of the last scan).
pub fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let (config, store, _) = super::library_and_store(&args.library, true)?;
    let users = store.load_user()?;
    let personal = store.load_personal()?;
    let owner = crate::people::People::load(store.clone())?.owner();
    let lists = store.load_playlists()?;
    let catalog = Scanner::new(config.roots, store)?.catalog(ScanStats::default())?;
    let doc = import::export::document(&users, &personal, owner.as_deref(), &lists, &catalog);
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    match &args.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?,
        None => super::print(text.as_bytes())?,
    }
    Ok(())
}

/// `vidserve thumbnails`: scans, then makes the missing thumbnails (all
/// with `--regenerate`) in the foreground, printing progress. Videos that
/// failed before are tried again: the command is asked for by hand.
pub fn thumbnails(args: &ThumbnailArgs) -> anyhow::Result<Outcome> {
    use std::sync::atomic::Ordering;
    let config = LibraryConfig::from_args(&args.library)?;
    let store = crate::store::open(&config.data_dir, config.database.as_ref())?;
    let catalog = Arc::new(Scanner::new(config.roots, store)?.scan()?);
    let jobs = crate::app::start_jobs(&config.data_dir, &MediaConfig::from_args(&args.media))?;
    let shared = catalog.clone();
    jobs.look_up_with(crate::app::lookup(move || shared.clone()));
    if args.regenerate {
        jobs.thumbs.clear().context("cannot remove the old thumbnails")?;
    }
    jobs.forget_failures();
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
        if done + failed >= total || jobs.is_idle() {
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
        "{} with a thumbnail; {} made now, {} failed\n",
        super::videos(jobs.thumbs.count()),
        p.done.load(Ordering::Relaxed),
        p.failed.load(Ordering::Relaxed)
    ));
    let failed = p.failed.load(Ordering::Relaxed);
    jobs.close();
    super::print(out.as_bytes())?;
    Ok(if failed > 0 { Outcome::Problems } else { Outcome::Done })
}
