//! vidserve: a local video server in one binary.
//!
//! Bird's-eye view: `scan` walks the video dirs (with `library`: ids,
//! probes) and records what it found in `store` (redb); the in-memory
//! `catalog` built from it serves every read; `http` answers requests from
//! it and streams files; `app` holds the running handles (library, user
//! data, jobs, operations, events) and `commands` runs the command line.
//!
//! Layers, lowest first (a module imports only from lower ones; a test
//! enforces it, and no cycle between their parts): `loadtest`, `metrics`,
//! `blocking`, `container`, `dial`; `cli`, `tls`; `config`, `logging`;
//! `library`; `catalog`; `store`, `events`, `media`; `jobs`; `scan`,
//! `import`, `people`, `chat`; `app`; `dlna`; `http`; `commands`.

pub mod app;
pub mod blocking;
pub mod catalog;
pub mod chat;
pub mod cli;
pub mod commands;
pub mod config;
pub mod container;
pub mod dial;
pub mod dlna;
pub mod events;
pub mod http;
pub mod import;
pub mod jobs;
pub mod library;
pub mod loadtest;
pub mod logging;
pub mod media;
pub mod metrics;
pub mod people;
pub mod scan;
pub mod store;
pub mod tls;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use app::App;
pub use commands::{run, Outcome};
pub use http::server::ServeError;

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
/// Tests bind `127.0.0.1:0` and pass their own shutdown future.
pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    http::server::serve(listener, app, shutdown).await
}
