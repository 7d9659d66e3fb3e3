//! One pool for blocking work. Connections run on lanes (`http::lanes`),
//! single-threaded runtimes that would each keep a pool of blocking
//! threads of their own, and every such thread its own allocator heap.
//! `spawn` sends blocking work to the main runtime's pool from wherever it
//! is called, once the server's entry point (`commands::serve`) named that
//! runtime.

use std::sync::OnceLock;

use tokio::runtime::Handle;
use tokio::task::JoinHandle;

static MAIN: OnceLock<Handle> = OnceLock::new();

/// Makes `handle`'s blocking pool the one `spawn` uses (the first call
/// wins). Called once, by the server's entry point, for the runtime that
/// lives as long as the process.
pub fn set_main(handle: Handle) {
    let _ = MAIN.set(handle);
}

/// Runs `f` on the main runtime's blocking pool; before `set_main`, on the
/// current runtime's.
pub fn spawn<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    match MAIN.get() {
        Some(main) => main.spawn_blocking(f),
        None => tokio::task::spawn_blocking(f),
    }
}
