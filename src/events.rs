//! Live events for open pages (server-sent events at `/api/v1/events`):
//! user data changes after each commit, library changes after each scan,
//! and the dashboard's numbers every second.
//! Broadcast to every subscriber; a subscriber that falls behind is told to
//! resynchronise instead of blocking anyone.

use serde_json::json;
use tokio::sync::broadcast;

use crate::catalog::UserData;
use crate::library::ids::VideoId;

/// Events kept for slow subscribers before they must resync.
const BACKLOG: usize = 1024;

#[derive(Debug, Clone)]
pub enum Event {
    /// A video's user data changed.
    User { id: VideoId, data: UserData },
    /// A scan finished; `videos` are now listed.
    Library { videos: usize },
    /// Once a second while the server runs: the dashboard's numbers.
    Perf(serde_json::Value),
}

impl Event {
    /// The event in SSE framing: `event:` line, one `data:` line of JSON.
    pub fn to_sse(&self) -> String {
        let (name, data) = match self {
            Event::User { id, data } => (
                "user",
                json!({ "id": id.to_string(), "rating": data.rating, "views": data.views,
                        "favorite": data.favorite, "tags": data.tags, "title": data.title,
                        "position_ms": data.position_ms }),
            ),
            Event::Library { videos } => ("library", json!({ "videos": videos })),
            Event::Perf(v) => ("perf", v.clone()),
        };
        format!("event: {name}\ndata: {data}\n\n")
    }
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events { tx: broadcast::channel(BACKLOG).0 }
    }
}

impl Events {
    /// Sends to every current subscriber (none is fine).
    pub fn send(&self, e: Event) {
        let _ = self.tx.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_single_line_json() {
        let data = UserData { rating: Some(4), tags: vec!["line\nbreak".into()], ..UserData::default() };
        let sse = Event::User { id: VideoId(1), data }.to_sse();
        assert!(sse.starts_with("event: user\ndata: {"));
        assert!(sse.ends_with("}\n\n"));
        assert_eq!(sse.lines().count(), 3, "{sse:?}");
    }
}
