//! `vidserve [serve]`: binds, starts the app, prints where to connect, and
//! serves until SIGINT/SIGTERM; then drains and closes the app.

use std::net::SocketAddr;

use tokio::net::TcpListener;

use crate::app::{App, AppError};
use crate::cli::ServeArgs;
use crate::config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("port {} on {} is already in use; stop the other program or pass --port with another number", .0.port(), .0.ip())]
    AddrInUse(SocketAddr),
    #[error("cannot listen on {0}; ports below 1024 need privileges, try --port 8080")]
    Bind(SocketAddr, #[source] std::io::Error),
    #[error("cannot start the runtime")]
    Runtime(#[source] std::io::Error),
}

pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = Config::from_cli(args)?;
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(StartError::Runtime)?;
    // Blocking work from the connection lanes runs on this runtime's pool.
    crate::blocking::set_main(rt.handle().clone());
    rt.block_on(async move {
        let bind = config.bind;
        let listener = TcpListener::bind(bind).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => StartError::AddrInUse(bind),
            _ => StartError::Bind(bind, e),
        })?;
        let addr = listener.local_addr().map_err(StartError::Runtime)?;
        let app = tokio::task::spawn_blocking(move || App::start(config)).await?.map_err(|e: AppError| e)?;
        print_banner(addr, &app);
        crate::serve(listener, app.clone(), shutdown_signal()).await?;
        tokio::task::spawn_blocking(move || app.close()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Prints where to find the server. Write errors are ignored: a closed
/// stdout (a service manager, a pipe gone) must not stop the server.
fn print_banner(addr: SocketAddr, app: &App) {
    use std::fmt::Write as _;
    let port = addr.port();
    let dirs: Vec<String> = app.config().library.roots.iter().map(|r| r.path.display().to_string()).collect();
    let mut out = format!("vidserve {} serving {}\n", env!("CARGO_PKG_VERSION"), dirs.join(", "));
    if addr.ip().is_unspecified() {
        let _ = writeln!(out, "  Local:   http://127.0.0.1:{port}/");
        let lan = crate::app::lan_addresses();
        for ip in &lan {
            let _ = writeln!(out, "  Network: http://{}/", SocketAddr::new(*ip, port));
        }
        // On a terminal, a code a phone's camera opens.
        if let Some(ip) = lan.first().filter(|_| std::io::IsTerminal::is_terminal(&std::io::stdout())) {
            if let Ok(code) = qrcode::QrCode::new(format!("http://{}/", SocketAddr::new(*ip, port))) {
                out.push_str(&code.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build());
                out.push('\n');
            }
        }
    } else {
        let _ = writeln!(out, "  Local:   http://{addr}/");
    }
    let _ = writeln!(out, "  Data:    {}", app.config().library.data_dir.display());
    let _ = super::print(out.as_bytes());
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
