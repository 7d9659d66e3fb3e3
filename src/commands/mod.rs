//! The command line's entry points: `serve` (the default) and the one-shot
//! subcommands. The CLI's single error edge: everything below returns typed
//! errors, which become `anyhow` here and a message in `main`.
//!
//! Exit codes (`Outcome`, and `main` for errors): 0 done; 1 done, and
//! something needs attention (`doctor` found problems, `thumbnails` could
//! not make some); 2 could not do it (bad input, a busy or damaged data dir).

mod doctor;
mod libraries;
mod library;
mod loadtest;
mod migrate;
mod serve;
mod users;

use std::io::Write;

use crate::cli::{Cli, Command};

/// How a command that ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done; nothing to report.
    Done,
    /// Done, and something needs attention (printed above).
    Problems,
}

/// Runs the command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let done = |r: anyhow::Result<()>| r.map(|()| Outcome::Done);
    match cli.command {
        None => done(serve::run(&cli.serve)),
        Some(Command::Serve(args)) => done(serve::run(&args)),
        Some(Command::Scan(args)) => done(library::scan(&args)),
        Some(Command::Import(args)) => done(library::import(&args)),
        Some(Command::Export(args)) => done(library::export(&args)),
        Some(Command::Thumbnails(args)) => library::thumbnails(&args),
        Some(Command::Doctor(args)) => doctor::doctor(&args),
        Some(Command::Loadtest(args)) => done(loadtest::loadtest(&args)),
        Some(Command::User(args)) => done(users::user(&args)),
        Some(Command::Library(args)) => done(libraries::library(&args)),
        Some(Command::Migrate(args)) => done(migrate::migrate(&args)),
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "vidserve", &mut out);
            done(print(&out))
        }
        Some(Command::Man) => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            done(print(&out))
        }
    }
}

/// The library a command works on and its store: the folders of `--dir`,
/// or, without it, those the data dir's last scan walked. `reading`: the
/// command only reads, so beside a running server the store is opened
/// read-only (the third value says so) instead of refused.
fn library_and_store(
    args: &crate::cli::LibraryArgs,
    reading: bool,
) -> anyhow::Result<(crate::config::LibraryConfig, std::sync::Arc<dyn crate::store::Store>, bool)> {
    use crate::config::{data_dir, LibraryConfig};
    // Folders given are checked before the data dir is opened.
    let given = (!args.dirs.is_empty()).then(|| LibraryConfig::from_args(args)).transpose()?;
    let data = data_dir(args.data.as_deref())?;
    let database = crate::config::database::Database::from_args(&args.database)?;
    let (store, running) = if reading {
        crate::store::open_for_reading(&data, database.as_ref())?
    } else {
        (crate::store::open(&data, database.as_ref())?, false)
    };
    let config = match given {
        Some(config) => config,
        None => match LibraryConfig::from_stored(store.roots()?, data, database, &args.objects) {
            Ok(config) => config,
            Err(crate::config::ConfigError::NoDirs) => anyhow::bail!(
                "no video directory given, and none scanned with this data dir yet; pass one with --dir DIR \
                 (--dir . for this folder)"
            ),
            Err(e) => return Err(e.into()),
        },
    };
    Ok((config, store, running))
}

/// Writes to standard output. A reader that went away (`| head`) is a
/// normal end, not an error.
/// `1 video`, `2 videos`: a count with its word.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub(crate) fn videos(n: usize) -> String {
    count(n, "video", "videos")
}

pub(crate) fn print(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
