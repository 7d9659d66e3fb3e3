//! Tracing subscriber set-up: human-readable text on stderr, or JSON lines.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::cli::{LogArgs, LogFormat};

/// Colours only on a terminal, and never with `NO_COLOR` set and not empty
/// (no-color.org).
fn colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber. Safe to call more than once (later calls
/// are ignored), so tests may call it freely.
/// The filter is a level (`debug`) or targets with levels
/// (`info,vidserve=debug,hyper=warn`); one that does not parse means `info`.
pub fn init(args: &LogArgs) {
    let filter = args
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| f.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    // The builder passes every level: `filter` decides.
    let builder = tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
        .with_writer(std::io::stderr)
        .with_ansi(colour());
    let _ = match args.log_format {
        LogFormat::Text => builder.with_target(false).finish().with(filter).try_init(),
        LogFormat::Json => builder.json().finish().with(filter).try_init(),
    };
}
