//! `GET /api/v1/events`: server-sent events (user data, library changes,
//! the dashboard's numbers) until the client leaves or the server shuts
//! down.

use std::time::Duration;

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::Response;
use tokio::sync::broadcast::error::RecvError;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use super::ApiError;
use crate::app::Library;
use crate::catalog::{Sight, Viewer};
use crate::events::{Event, Events};
use crate::http::body::Body;
use crate::people::People;

/// Time between keep-alive comments on an event stream.
const HEARTBEAT: Duration = Duration::from_secs(20);

/// Whom a stream serves: whose data, whether an admin's, and what of the
/// library they may see.
pub struct Seer {
    pub who: Viewer,
    pub admin: bool,
    pub sight: Sight,
}

impl Seer {
    /// `e` as this person may see it: nothing of a video they may not see,
    /// and library counts of what they see.
    fn frame(&self, e: &Event, library: &Library) -> Option<String> {
        if self.sight.is_all() {
            return e.to_sse(&self.who, self.admin);
        }
        let catalog = library.catalog();
        match e {
            Event::User { id, .. } if !catalog.get(*id).is_some_and(|v| self.sight.sees(&catalog, v)) => None,
            Event::Library { .. } => {
                let videos = self.sight.visible(&catalog).map_or(catalog.len(), |v| v.count());
                Event::Library { videos }.to_sse(&self.who, self.admin)
            }
            e => e.to_sse(&self.who, self.admin),
        }
    }
}

/// `GET /api/v1/events`: server-sent events until the client leaves or the
/// server shuts down. A task forwards broadcast events into the body, each
/// as the person may see it (`Seer`); when accounts change (a session
/// ends, an account goes or appears, libraries change) it asks again who
/// the stream is for, and ends when nobody is.
pub fn events(
    streams: &EventStreams,
    people: &Arc<People>,
    library: &Arc<Library>,
    guest: bool,
    client: IpAddr,
    mut seer: Seer,
    credentials: super::auth::Credentials,
) -> Result<Response<Body>, ApiError> {
    let library = library.clone();
    let permit = streams.open(client)?;
    let mut events = streams.events.subscribe();
    let mut closing = streams.closing.clone();
    let people = people.clone();
    let mut rights = people.changes();
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(16);
    tokio::spawn(async move {
        let _permit = permit; // held while the stream lasts
                              // `retry`: how soon browsers reconnect after a drop.
        if tx.send(Bytes::from_static(b"retry: 3000\n: connected\n\n")).await.is_err() {
            return;
        }
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.tick().await;
        loop {
            let frame = tokio::select! {
                e = events.recv() => match e {
                    Ok(e) => seer.frame(&e, &library),
                    Err(RecvError::Lagged(_)) => Some("event: resync\ndata: {}\n\n".to_string()),
                    Err(RecvError::Closed) => return,
                },
                _ = beat.tick() => Some(": ping\n\n".to_string()),
                _ = closing.wait_for(|c| *c) => return,
                // Who may do what changed: asked again at once.
                r = rights.changed() => {
                    if r.is_err() {
                        return;
                    }
                    match credentials.viewer(&people, guest) {
                        Some((who, admin, sight)) => seer = Seer { who, admin, sight },
                        None => return,
                    }
                    None
                }
            };
            let Some(frame) = frame else { continue };
            if tx.send(Bytes::from(frame)).await.is_err() {
                return; // the client left
            }
        }
    });
    let mut res = Response::new(Body::Stream(None, rx));
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(res)
}

/// Most event streams one client address may hold (each open tab holds one).
pub const PER_CLIENT: usize = 16;

/// Open event streams: a total cap and one per client address, each
/// answered with a clear 503 (browsers retry on their own); the events
/// they carry and the signal that ends them all.
pub struct EventStreams {
    max: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    events: Events,
    closing: tokio::sync::watch::Receiver<bool>,
}

impl EventStreams {
    pub fn new(max: usize, events: Events, closing: tokio::sync::watch::Receiver<bool>) -> EventStreams {
        EventStreams { max, open: Arc::default(), events, closing }
    }

    /// Event streams open now.
    pub fn count(&self) -> usize {
        self.open.lock().map_or(0, |o| o.values().sum())
    }

    fn open(&self, client: IpAddr) -> Result<Permit, ApiError> {
        let mut open = self.open.lock().map_err(|_| ApiError::Unavailable("try again".into()))?;
        if open.values().sum::<usize>() >= self.max {
            return Err(ApiError::Unavailable(format!(
                "{} live-update streams are open, the most this server keeps; close some tabs or raise --max-event-streams",
                self.max
            )));
        }
        let mine = open.entry(client).or_default();
        if *mine >= PER_CLIENT {
            return Err(ApiError::Unavailable(format!(
                "this device has {PER_CLIENT} live-update streams open already; close some tabs"
            )));
        }
        *mine += 1;
        Ok(Permit { open: self.open.clone(), client })
    }
}

struct Permit {
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
    client: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            if let Some(n) = open.get_mut(&self.client) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&self.client);
                }
            }
        }
    }
}
