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

/// Prints where to find the server (and, with `--tls auto`, where devices
/// get the authority to trust). Write errors are ignored: a closed stdout
/// (a service manager, a pipe gone) must not stop the server.
fn print_banner(addr: SocketAddr, app: &App) {
    use std::fmt::Write as _;
    let port = addr.port();
    let scheme = crate::app::scheme(app.tls().is_some());
    let authority = app.tls().and_then(|t| t.authority());
    let dirs: Vec<String> = app.config().library.roots.iter().map(|r| r.path.display().to_string()).collect();
    let mut out = format!("vidserve {} serving {}\n", env!("CARGO_PKG_VERSION"), dirs.join(", "));
    let lan = if addr.ip().is_unspecified() { crate::app::lan_addresses() } else { Vec::new() };
    if addr.ip().is_unspecified() {
        let _ = writeln!(out, "  Local:   {scheme}://127.0.0.1:{port}/");
        for ip in &lan {
            let _ = writeln!(out, "  Network: {scheme}://{}/", SocketAddr::new(*ip, port));
        }
    } else {
        let _ = writeln!(out, "  Local:   {scheme}://{addr}/");
    }
    // Plain HTTP: a device fetches the authority before it trusts us.
    let trust = authority.map(|a| {
        let at = lan.first().map_or(addr, |ip| SocketAddr::new(*ip, port));
        let at = if at.ip().is_unspecified() { SocketAddr::new([127, 0, 0, 1].into(), port) } else { at };
        let url = format!("http://{at}/ca.crt");
        let _ = writeln!(out, "  Trust:   {url} (install once on each device; Admin > HTTPS shows how)");
        let _ = writeln!(out, "           {} SHA-256 {}", a.name(), a.fingerprint());
        url
    });
    // On a terminal, a code a phone's camera opens: the authority first
    // when devices must install it, else the server.
    let site = lan.first().map(|ip| format!("{scheme}://{}/", SocketAddr::new(*ip, port)));
    if let Some(url) = trust.or(site).filter(|_| std::io::IsTerminal::is_terminal(&std::io::stdout())) {
        if let Ok(code) = qrcode::QrCode::new(url) {
            out.push_str(&code.render::<qrcode::render::unicode::Dense1x2>().quiet_zone(true).build());
            out.push('\n');
        }
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
