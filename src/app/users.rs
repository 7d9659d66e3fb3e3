//! The user-data handle: the in-memory copy every read comes from, the
//! group-commit writer every change goes through, and what is derived from
//! both (orders by rating, views and title; recent search results).

use std::sync::Arc;

use crate::catalog::query::LiveOrders;
use crate::catalog::search::SearchCache;
use crate::catalog::user::{Edit, UserCache, UserData};
use crate::events::{Event, Events};
use crate::library::ids::VideoId;
use crate::store::writer::{WriteError, Writer};
use crate::store::Store;

pub struct Users {
    /// Ratings, views, favorites, tags, titles, positions: served from memory.
    pub data: Arc<UserCache>,
    /// Orders by user data, rebuilt as it changes.
    pub orders: LiveOrders,
    /// Recent search results.
    pub searches: SearchCache,
    writer: Writer,
}

impl Users {
    /// Loads user data from `store` and starts the writer. Each commit
    /// updates the in-memory copy and is then announced on `events`, before
    /// the writers are acknowledged.
    pub(super) fn start(store: Arc<Store>, events: Events) -> Result<Users, super::AppError> {
        let data = Arc::new(UserCache::new(store.load_user()?));
        let cache = data.clone();
        let on_commit = Box::new(move |changed: &[(VideoId, UserData)]| {
            cache.set_all(changed.iter().cloned());
            for (id, d) in changed {
                events.send(Event::User { id: *id, data: d.clone() });
            }
        });
        let writer = Writer::start(store, on_commit).map_err(super::AppError::Runtime)?;
        Ok(Users { data, orders: LiveOrders::default(), searches: SearchCache::default(), writer })
    }

    /// Saves one edit; returns the video's data once it is durable.
    pub async fn write(&self, id: VideoId, edit: Edit) -> Result<UserData, WriteError> {
        self.writer.write(id, edit).await
    }

    /// Saves edits that commit together; returns each video's data after
    /// its edit, once durable.
    pub async fn write_all(&self, edits: Vec<(VideoId, Edit)>) -> Result<Vec<UserData>, WriteError> {
        self.writer.write_all(edits).await
    }

    /// `write_all` for a plain thread (never on an async worker).
    pub fn write_all_blocking(&self, edits: Vec<(VideoId, Edit)>) -> Result<Vec<UserData>, WriteError> {
        self.writer.write_all_blocking(edits)
    }

    /// Cache reuse of derived results: (hits, misses).
    pub fn cache_counts(&self) -> (u64, u64) {
        let (oh, om) = self.orders.counts();
        let (sh, sm) = self.searches.counts();
        (oh + sh, om + sm)
    }

    /// Commits what is queued and stops the writer. Blocking.
    pub(super) fn close(&self) {
        self.writer.close();
    }
}
