//! Tracing subscriber set-up: human-readable text on stderr, or JSON lines.

use tracing_subscriber::EnvFilter;

use crate::cli::{LogArgs, LogFormat};

/// Colours only on a terminal, and never with `NO_COLOR` set and not empty
/// (no-color.org).
fn colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber. Safe to call more than once (later calls
/// are ignored), so tests may call it freely.
pub fn init(args: &LogArgs) {
    let filter = args
        .log
        .clone()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour());
    let _ = match args.log_format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
