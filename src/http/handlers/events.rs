//! `GET /api/v1/events`: server-sent events (user data, library changes,
//! the dashboard's numbers) until the client leaves or the server shuts
//! down.

use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::Response;
use tokio::sync::broadcast::error::RecvError;

use crate::http::body::Body;
use crate::App;

/// Time between keep-alive comments on an event stream.
const HEARTBEAT: Duration = Duration::from_secs(20);

/// `GET /api/v1/events`: server-sent events until the client leaves or the
/// server shuts down. A task forwards broadcast events into the body.
pub fn events(app: &App) -> Response<Body> {
    let mut events = app.events.subscribe();
    let mut closing = app.ops.closing();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        // `retry`: how soon browsers reconnect after a drop.
        if tx.send(Bytes::from_static(b"retry: 3000\n: connected\n\n")).await.is_err() {
            return;
        }
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.tick().await;
        loop {
            let frame = tokio::select! {
                e = events.recv() => match e {
                    Ok(e) => e.to_sse(),
                    Err(RecvError::Lagged(_)) => "event: resync\ndata: {}\n\n".to_string(),
                    Err(RecvError::Closed) => return,
                },
                _ = beat.tick() => ": ping\n\n".to_string(),
                _ = closing.wait_for(|c| *c) => return,
            };
            if tx.send(Bytes::from(frame)).await.is_err() {
                return; // the client left
            }
        }
    });
    let mut res = Response::new(Body::Stream(rx));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}
