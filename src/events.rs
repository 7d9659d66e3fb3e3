//! Live events for open pages (server-sent events at `/api/v1/events`):
//! user data changes after each commit, library changes after each scan,
//! and the dashboard's numbers every second.
//! Broadcast to every subscriber; a subscriber that falls behind is told to
//! resynchronise instead of blocking anyone.

use serde_json::json;
use tokio::sync::broadcast;

use crate::catalog::{Personal, UserData, Viewer};
use crate::library::ids::VideoId;

/// Events kept for slow subscribers before they must resync.
const BACKLOG: usize = 1024;

#[derive(Debug, Clone)]
pub enum Event {
    /// A video's user data changed: `data` is its shared record,
    /// `personal` whose edit it was with their own fields as they are now
    /// (only they are told those), `shared` whether the shared fields
    /// changed (else nobody else hears of it).
    User { id: VideoId, data: UserData, personal: Option<(Viewer, Personal)>, shared: bool },
    /// A scan finished; `videos` are now listed.
    Library { videos: usize },
    /// Once a second while the server runs: the dashboard's numbers.
    Perf(serde_json::Value),
}

impl Event {
    /// The event in SSE framing, as `to` may see it (`None`: not for
    /// them): `event:` line, one `data:` line of JSON. A person's rating,
    /// favorite and position go to that person only; the others learn the
    /// shared fields, when those changed. The dashboard's numbers go to
    /// admins only (`admin`).
    pub fn to_sse(&self, to: &Viewer, admin: bool) -> Option<String> {
        let (name, data) = match self {
            Event::User { id, data, personal, shared } => {
                let mine = personal.as_ref().filter(|(who, _)| who == to);
                if mine.is_none() && !shared {
                    return None;
                }
                let mut v =
                    json!({ "id": id.to_string(), "views": data.views, "tags": data.tags, "title": data.title });
                if let Some((_, p)) = mine {
                    v["rating"] = json!(p.rating);
                    v["favorite"] = json!(p.favorite);
                    v["position_ms"] = json!(p.position_ms);
                    v["last_viewed"] = json!(p.last_viewed);
                }
                ("user", v)
            }
            Event::Library { videos } => ("library", json!({ "videos": videos })),
            Event::Perf(_) if !admin => return None,
            Event::Perf(v) => ("perf", v.clone()),
        };
        Some(format!("event: {name}\ndata: {data}\n\n"))
    }
}

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
    /// The last `PERF_KEPT` dashboard numbers, for a dashboard just opened.
    perf: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<serde_json::Value>>>,
}

/// Seconds of the dashboard's numbers kept (its charts show a minute).
const PERF_KEPT: usize = 60;

impl Default for Events {
    fn default() -> Self {
        Events { tx: broadcast::channel(BACKLOG).0, perf: Default::default() }
    }
}

impl Events {
    /// Sends to every current subscriber (none is fine).
    pub fn send(&self, e: Event) {
        if let Event::Perf(v) = &e {
            let mut kept = self.perf.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() == PERF_KEPT {
                kept.pop_front();
            }
            kept.push_back(v.clone());
        }
        let _ = self.tx.send(e);
    }

    /// The dashboard's numbers of the last minute, oldest first.
    pub fn recent_perf(&self) -> Vec<serde_json::Value> {
        self.perf.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_minute_of_numbers_is_kept() {
        let events = Events::default();
        for n in 0..70 {
            events.send(Event::Perf(json!({ "n": n })));
        }
        events.send(Event::Library { videos: 1 });
        let kept = events.recent_perf();
        assert_eq!((kept.len(), &kept[0], &kept[59]), (60, &json!({ "n": 10 }), &json!({ "n": 69 })));
    }

    #[test]
    fn frames_are_single_line_json() {
        let data = UserData { rating: Some(4), tags: vec!["line\nbreak".into()], ..UserData::default() };
        let personal = Some((Viewer::Household, data.personal()));
        let sse =
            Event::User { id: VideoId(1), data, personal, shared: true }.to_sse(&Viewer::Household, false).unwrap();
        assert!(sse.starts_with("event: user\ndata: {"));
        assert!(sse.ends_with("}\n\n"));
        assert_eq!(sse.lines().count(), 3, "{sse:?}");
        assert!(sse.contains(r#""rating":4"#), "{sse}");
    }

    #[test]
    fn a_persons_own_fields_reach_only_them() {
        let ann = Viewer::Person("ann".into());
        let mine = Personal { rating: Some(2), favorite: true, ..Personal::default() };
        let e = Event::User {
            id: VideoId(1),
            data: UserData::default(),
            personal: Some((ann.clone(), mine)),
            shared: true,
        };
        assert!(e.to_sse(&ann, false).unwrap().contains(r#""rating":2"#));
        for other in [Viewer::Household, Viewer::Person("bob".into()), Viewer::Guest] {
            let sse = e.to_sse(&other, false).unwrap();
            assert!(!sse.contains("rating") && !sse.contains("favorite") && sse.contains("views"), "{sse}");
        }
        // Only their own fields changed: nobody else hears of it.
        let Event::User { id, data, personal, .. } = e else { unreachable!() };
        let quiet = Event::User { id, data, personal, shared: false };
        assert!(quiet.to_sse(&ann, false).is_some());
        assert!(quiet.to_sse(&Viewer::Guest, false).is_none() && quiet.to_sse(&Viewer::Household, false).is_none());
        let perf = Event::Perf(json!({ "rss_mib": 60 }));
        assert!(perf.to_sse(&Viewer::Household, false).is_none(), "the dashboard's numbers are admins'");
        assert!(perf.to_sse(&Viewer::Household, true).is_some());
    }
}
