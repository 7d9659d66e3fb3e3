//! The command line's entry points: `serve` (the default) and the one-shot
//! subcommands. The CLI's single error edge: everything below returns typed
//! errors, which become `anyhow` here and a message in `main`.
//!
//! Exit codes (`Outcome`, and `main` for errors): 0 done; 1 done, and
//! something needs attention (`doctor` found problems, `thumbnails` could
//! not make some); 2 could not do it (bad input, a busy or damaged data dir).

mod doctor;
mod library;
mod loadtest;
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
