//! Connection lanes: one thread a core, each running a single-threaded
//! runtime. A connection is accepted on the main runtime, handed to a lane
//! in turn, and lives there until it closes, so its socket is always
//! written from the same thread.
//!
//! Why: with one work-stealing runtime, a stream's wake-ups ran on
//! whichever worker was free, and its socket's locks and cache lines moved
//! between cores on every send. Two wrk clients of 25 streams each: one
//! server with two workers used 0.131 CPU-s a GiB, two servers of one
//! worker each 0.096, nginx with two worker processes 0.086
//! (`benches/README.md`).
//!
//! Work that is not a connection (the scanner, jobs, the dashboard's
//! ticker) stays on the main runtime, and so does blocking work a handler
//! hands off (`blocking::spawn`).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

/// A connection's future, as the server builds it around a socket.
pub type Connection = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a lane runs for a connection: called on the lane's runtime, it
/// returns the connection's future.
type Start = Box<dyn FnOnce() -> Connection + Send>;

pub struct Lanes {
    lanes: Vec<mpsc::UnboundedSender<Start>>,
    next: usize,
    stop: watch::Sender<bool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Lanes {
    /// `n` lanes (at least one).
    pub fn start(n: usize) -> std::io::Result<Lanes> {
        let (stop, stopped) = watch::channel(false);
        let mut lanes = Lanes { lanes: Vec::new(), next: 0, stop, threads: Vec::new() };
        for i in 0..n.max(1) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (tx, mut rx) = mpsc::unbounded_channel::<Start>();
            let mut stopped = stopped.clone();
            let thread = std::thread::Builder::new().name(format!("vidserve-lane-{i}")).spawn(move || {
                rt.block_on(async move {
                    while let Some(start) = rx.recv().await {
                        tokio::spawn(start());
                    }
                    // No more connections: serve the open ones until told.
                    let _ = stopped.wait_for(|s| *s).await;
                });
                // What is still running is cut (after the drain).
                rt.shutdown_timeout(Duration::from_millis(100));
            })?;
            lanes.lanes.push(tx);
            lanes.threads.push(thread);
        }
        Ok(lanes)
    }

    /// Runs a connection on the next lane: the socket moves off the
    /// current runtime's I/O driver and `serve` builds the connection
    /// there, around the socket registered with the lane's. Where that
    /// lane is gone, it runs on the current runtime.
    pub fn spawn(&mut self, stream: TcpStream, serve: impl FnOnce(TcpStream) -> Connection + Send + 'static) {
        let std_stream = match stream.into_std() {
            Ok(s) => s,
            Err(e) => return tracing::debug!("connection lost: {e}"),
        };
        let start: Start = Box::new(move || match TcpStream::from_std(std_stream) {
            Ok(stream) => serve(stream),
            Err(e) => Box::pin(async move { tracing::debug!("connection lost between threads: {e}") }),
        });
        if let Err(start) = self.send(start) {
            tokio::spawn(start());
        }
    }

    /// Hands a connection to the next lane. Returns it when that lane is
    /// gone (its thread ended), for the caller to run elsewhere.
    fn send(&mut self, start: Start) -> Result<(), Start> {
        if self.lanes.is_empty() {
            return Err(start);
        }
        let lane = &self.lanes[self.next % self.lanes.len()];
        self.next = self.next.wrapping_add(1);
        lane.send(start).map_err(|e| e.0)
    }

    /// Stops taking connections; the open ones go on until `stop`.
    pub fn close(&mut self) {
        self.lanes.clear();
    }

    /// Ends the lanes and waits for their threads.
    pub fn stop(mut self) {
        self.lanes.clear();
        let _ = self.stop.send(true);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn connections_run_in_turn_on_their_lanes_until_stopped() {
        let mut lanes = Lanes::start(2).unwrap();
        let names = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (release, held) = watch::channel(false);
        let finished = Arc::new(AtomicUsize::new(0));
        for _ in 0..4 {
            let (names, finished, mut held) = (names.clone(), finished.clone(), held.clone());
            let start: Start = Box::new(move || {
                Box::pin(async move {
                    let name = std::thread::current().name().unwrap_or("").to_string();
                    names.lock().unwrap().push(name);
                    // A connection that outlives the end of accepting.
                    let _ = held.wait_for(|r| *r).await;
                    finished.fetch_add(1, Ordering::SeqCst);
                })
            });
            assert!(lanes.send(start).is_ok());
        }
        lanes.close();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while names.lock().unwrap().len() < 4 {
            assert!(std::time::Instant::now() < deadline, "every connection started");
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut seen = names.lock().unwrap().clone();
        seen.sort();
        assert_eq!(seen, ["vidserve-lane-0", "vidserve-lane-0", "vidserve-lane-1", "vidserve-lane-1"]);
        // Closed lanes still serve their connections to the end.
        release.send(true).unwrap();
        while finished.load(Ordering::SeqCst) < 4 {
            assert!(std::time::Instant::now() < deadline, "every connection finished");
            std::thread::sleep(Duration::from_millis(5));
        }
        lanes.stop();
    }
}
