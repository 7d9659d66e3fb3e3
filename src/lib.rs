//! vidserve: a local video server in one binary.
//!
//! Bird's-eye view: `library` walks the video dirs and probes files; `store`
//! keeps the index in redb and serves reads from an in-memory `Catalog`;
//! `http` answers requests from that catalog and streams files; `app` ties
//! them together and runs the background scanner.

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod events;
pub mod http;
pub mod jobs;
pub mod library;
pub mod loadtest;
pub mod logging;
pub mod media;
pub mod metrics;
pub mod store;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use app::App;
pub use http::server::ServeError;

/// Runs the command line: the CLI's single error edge is `anyhow` here.
pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    match cli.command {
        None => app::run_server(&cli.serve),
        Some(cli::Command::Serve(args)) => app::run_server(&args),
        Some(cli::Command::Scan(args)) => commands::scan(&args),
        Some(cli::Command::Import(args)) => commands::import(&args),
        Some(cli::Command::Export(args)) => commands::export(&args),
        Some(cli::Command::Thumbnails(args)) => commands::thumbnails(&args),
        Some(cli::Command::Doctor(args)) => commands::doctor(&args),
        Some(cli::Command::Loadtest(args)) => commands::loadtest(&args),
        Some(cli::Command::Completions { shell }) => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut cli::Cli::command(), "vidserve", &mut std::io::stdout());
            Ok(())
        }
        Some(cli::Command::Man) => {
            use clap::CommandFactory;
            clap_mangen::Man::new(cli::Cli::command()).render(&mut std::io::stdout())?;
            Ok(())
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
/// Tests bind `127.0.0.1:0` and pass their own shutdown future.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    http::server::serve(listener, app, shutdown).await
}
