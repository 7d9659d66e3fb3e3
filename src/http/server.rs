//! The accept loop: one task per connection under a connection limit, each
//! watched by hyper-util's `GracefulShutdown` and run on a connection lane
//! (`lanes`: a thread a core). On shutdown: stop accepting, let requests in
//! flight finish for `DRAIN` (long streams are then cut).
//!
//! With HTTPS (`crate::tls`) the port speaks both: a connection whose first
//! byte opens a TLS handshake gets TLS, then HTTP/2 or HTTP/1.1 as ALPN
//! chose; any other gets plain HTTP/1.1, whose requests are redirected to
//! HTTPS (`Over::HttpBesideHttps`). Video bytes go out with `sendfile`
//! only over plain HTTP.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::clients::{Clients, Counted};
use super::files::OpenFiles;
use super::guard::HostNames;
use super::guard::{Over, MAX_HEAD};
use super::handlers::{handle, EventStreams, State, Streaming};
use super::idle::IdleWrite;
use super::lanes::{Connection, Lanes};
use super::listing::Lists;
use super::zerocopy::{Conn, Pending};
use crate::config::ZeroCopy;
use crate::App;

/// How long requests in flight may run after shutdown starts.
pub const DRAIN: Duration = Duration::from_secs(5);
/// Time allowed for a client to send its request headers (and, over
/// HTTPS, to finish its handshake).
const HEADER_TIMEOUT: Duration = Duration::from_secs(15);
/// Requests one HTTP/2 connection may have open at once.
const MAX_STREAMS: u32 = 100;
/// The first byte of a TLS handshake record.
const TLS_HANDSHAKE: u8 = 0x16;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("accepting connections failed: {0}")]
    Accept(std::io::Error),
    #[error(transparent)]
    Dlna(#[from] crate::dlna::DlnaError),
}

pub async fn serve(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    let mut builder = http1::Builder::new();
    // `writev`: hyper queues body chunks instead of copying them, which the
    // zero-copy placeholders rely on (`zerocopy`).
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .max_headers(100)
        .writev(true);
    if let Ok(addr) = listener.local_addr() {
        let _ = app.ops().listen.set(addr);
    }
    let machine = crate::app::machine_name();
    let hosts = HostNames::new(machine.as_deref(), &app.config().host_names);
    let streams = EventStreams::new(app.config().max_event_streams, app.events().clone(), app.ops().closing());
    let lists = Lists {
        library: app.library().clone(),
        user_data: app.user_data().clone(),
        playlists: app.playlists().clone(),
    };
    let streaming = Streaming {
        library: app.library().clone(),
        open: OpenFiles::default(),
        metrics: app.ops().metrics.clone(),
        plans: app.plans().clone(),
        sound: app.sound().clone(),
        transcodes: app.transcodes().clone(),
        prebuild: app.prebuild().clone(),
        redirect: app.config().s3_redirect,
    };
    // DLNA: its id read (or made) and its SSDP socket bound before the
    // first connection, so a failure stops the start.
    let dlna = match app.config().dlna.clone() {
        Some(config) => {
            let data = app.config().library.data_dir.clone();
            let dlna = crate::blocking::spawn(move || crate::dlna::Dlna::open(&config, &data))
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
            Some(Arc::new(dlna))
        }
        None => None,
    };
    let (stop_ssdp, ssdp_stopped) = tokio::sync::watch::channel(false);
    let ssdp = match (&dlna, listener.local_addr()) {
        (Some(dlna), Ok(addr)) => {
            let socket = crate::dlna::ssdp::bind().map_err(crate::dlna::DlnaError::Socket)?;
            Some(tokio::spawn(crate::dlna::ssdp::run(dlna.clone(), socket, addr.port(), addr.ip(), ssdp_stopped)))
        }
        _ => None,
    };
    let state = Arc::new(State { app: app.clone(), lists, streaming, hosts, uploads: Arc::default(), streams, dlna });
    let ticker = tokio::spawn(perf_ticker(app.ops().metrics.clone(), app.events().clone()));
    let graceful = GracefulShutdown::new();
    let builder = Arc::new(builder);
    let mut h2 = http2::Builder::new(TokioExecutor::new());
    h2.timer(TokioTimer::new())
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(MAX_HEAD as u32)
        .keep_alive_interval(Some(Duration::from_secs(60)))
        .keep_alive_timeout(Duration::from_secs(20));
    let h2 = Arc::new(h2);
    let tls = app.tls().cloned();
    // The certificate's files (or this machine's names) looked at again.
    let looking = tls.clone().map(|tls| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::tls::LOOK_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let tls = tls.clone();
                let _ = crate::blocking::spawn(move || tls.look()).await;
            }
        })
    });
    let acceptor = tls.map(|t| t.acceptor());
    // Without lanes (no threads to be had), connections run here.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut lanes = Lanes::start(cores).map_err(|e| tracing::warn!("connection threads: {e}")).ok();
    let limit = Arc::new(Semaphore::new(app.config().max_connections));
    let clients = Clients::new(app.config().max_connections_per_client, &app.config().trusted_proxies);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = limit.clone().acquire_owned() => p.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) if is_transient(&e) => {
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                Err(e) => return Err(ServeError::Accept(e)),
            },
        };
        // One address's share of the connections: beyond it, closed at once.
        let Some(ticket) = clients.admit(peer.ip()) else {
            tracing::debug!(%peer, "connection refused: this address holds its share");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let (builder, h2, watcher, write_timeout) =
            (builder.clone(), h2.clone(), graceful.watcher(), app.config().write_timeout);
        let sent = app.ops().metrics.bytes_sendfile.clone();
        let zero_copy = app.config().zero_copy;
        let acceptor = acceptor.clone();
        // Built on the runtime that will run it: the socket registers
        // with that runtime's I/O driver.
        let serve = move |stream: TcpStream| -> Connection {
            // Each request says how it came, and over plain HTTP carries
            // the connection's zero-copy queue.
            let service = move |over: Over, zero_copy: Option<Pending>| {
                service_fn(move |mut req: Request<Incoming>| {
                    req.extensions_mut().insert(over);
                    if let Some(z) = &zero_copy {
                        req.extensions_mut().insert(z.clone());
                    }
                    handle(state.clone(), peer, req)
                })
            };
            Box::pin(async move {
                let ended = match acceptor {
                    None => {
                        let pending = Pending::new(sent, zero_copy.forced());
                        let zero_copy = (zero_copy != ZeroCopy::Off).then(|| pending.clone());
                        let io = Conn::new(stream, pending);
                        let io = TokioIo::new(Counted::new(IdleWrite::new(io, write_timeout), ticket));
                        watcher.watch(builder.serve_connection(io, service(Over::Http, zero_copy))).await
                    }
                    Some(acceptor) => match first_byte(&stream).await {
                        Some(TLS_HANDSHAKE) => {
                            match tokio::time::timeout(HEADER_TIMEOUT, acceptor.accept(stream)).await {
                                Ok(Ok(tls)) => {
                                    let over_h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                                    let io = TokioIo::new(Counted::new(IdleWrite::new(tls, write_timeout), ticket));
                                    if over_h2 {
                                        watcher.watch(h2.serve_connection(io, service(Over::Https, None))).await
                                    } else {
                                        watcher.watch(builder.serve_connection(io, service(Over::Https, None))).await
                                    }
                                }
                                Ok(Err(e)) => {
                                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                                    Ok(())
                                }
                                Err(_) => Ok(()),
                            }
                        }
                        Some(_) => {
                            let io = TokioIo::new(Counted::new(IdleWrite::new(stream, write_timeout), ticket));
                            watcher.watch(builder.serve_connection(io, service(Over::HttpBesideHttps, None))).await
                        }
                        None => Ok(()),
                    },
                };
                if let Err(e) = ended {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                drop(permit);
            })
        };
        match &mut lanes {
            Some(lanes) => lanes.spawn(stream, serve),
            None => drop(tokio::spawn(serve(stream))),
        }
    }
    drop(listener);
    if let Some(l) = &mut lanes {
        l.close();
    }
    ticker.abort();
    if let Some(l) = looking {
        l.abort();
    }
    // DLNA says goodbye before the port closes.
    let _ = stop_ssdp.send(true);
    if let Some(ssdp) = ssdp {
        let _ = tokio::time::timeout(Duration::from_secs(1), ssdp).await;
    }
    app.ops().begin_shutdown();
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("all connections closed"),
        _ = tokio::time::sleep(DRAIN) => tracing::info!("shutdown: cut the streams still running after {DRAIN:?}"),
    }
    if let Some(l) = lanes {
        let _ = crate::blocking::spawn(move || l.stop()).await;
    }
    Ok(())
}

/// Sends the dashboard's numbers once a second (requests, latency,
/// throughput, memory), as `perf` events.
async fn perf_ticker(metrics: crate::metrics::Metrics, events: crate::events::Events) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let (mut last_bytes, mut last_total) = (0u64, 0u64);
    loop {
        tick.tick().await;
        let (_, p50, p99) = metrics.take_recent();
        let total = metrics.total.load(std::sync::atomic::Ordering::Relaxed);
        let requests = total.saturating_sub(last_total);
        last_total = total;
        let bytes = metrics.bytes_streamed.get();
        let rss = crate::metrics::process().rss_bytes.unwrap_or(0);
        let v = serde_json::json!({
            "requests_per_second": requests,
            "p50_ms": p50,
            "p99_ms": p99,
            "mb_per_second": bytes.saturating_sub(last_bytes) as f64 / 1e6,
            "active_streams": metrics.active_streams.get(),
            "rss_mib": rss / (1024 * 1024),
        });
        last_bytes = bytes;
        events.send(crate::events::Event::Perf(v));
    }
}

/// The first byte a client sends (`None`: nothing within the time allowed,
/// or the connection closed), left in the socket.
async fn first_byte(stream: &TcpStream) -> Option<u8> {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(HEADER_TIMEOUT, stream.peek(&mut byte)).await {
        Ok(Ok(1)) => Some(byte[0]),
        _ => None,
    }
}

/// Errors after which accepting can go on (e.g. out of file descriptors).
fn is_transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock)
        || matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM))
}
