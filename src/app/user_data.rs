//! The user-data handle: the in-memory copy every read comes from, the
//! group-commit writer every change goes through, and what is derived from
//! both (orders by rating, views and title; recent search results).

use std::sync::Arc;

use crate::catalog::personal::Viewer;
use crate::catalog::query::LiveOrders;
use crate::catalog::search::SearchCache;
use crate::catalog::user::{Edit, UserCache, UserData};
use crate::events::{Event, Events};
use crate::library::ids::VideoId;
use crate::store::writer::{Committed, WriteError, Writer};
use crate::store::Store;

pub struct UserDataHandle {
    /// Ratings, views, favorites, tags, titles, positions: served from memory.
    pub data: Arc<UserCache>,
    /// Orders by user data, rebuilt as it changes.
    pub orders: Arc<LiveOrders>,
    /// Recent search results.
    pub searches: Arc<SearchCache>,
    writer: Writer,
    events: Events,
}

/// Takes what a commit wrote into memory, then tells open pages: each
/// (person, video) edited once, with whether the shared fields changed.
fn publish(cache: &UserCache, events: &Events, c: &Committed) {
    cache.set_all(c.shared.iter().cloned());
    cache.set_personal(c.personal.iter().map(|(who, id, p)| (who.clone(), Some((*id, p.clone())))));
    let shared: std::collections::HashSet<VideoId> = c.shared.iter().map(|(id, _)| *id).collect();
    for (who, id) in &c.edited {
        let data = cache.get(*id);
        let mine = match who {
            Viewer::Person(_) => cache.get_for(who, *id).personal(),
            _ => data.personal(),
        };
        let shared = shared.contains(id);
        events.send(Event::User { id: *id, data, personal: Some((who.clone(), mine)), shared });
    }
}

impl UserDataHandle {
    /// What a listing of `catalog` reads for `who`: this user data, its
    /// orders and searches (and, for a playlist, its videos).
    pub fn inputs<'a>(
        &'a self,
        catalog: &'a crate::catalog::Catalog,
        who: &'a Viewer,
        sight: &'a crate::catalog::Sight,
        playlist: Option<&'a [VideoId]>,
    ) -> crate::catalog::listing::Inputs<'a> {
        crate::catalog::listing::Inputs {
            catalog,
            users: &self.data,
            orders: &self.orders,
            searches: &self.searches,
            who,
            sight,
            playlist,
        }
    }

    /// Loads user data from `store` and starts the writer. Each commit
    /// updates the in-memory copy and is then announced on `events`, before
    /// the writers are acknowledged.
    pub(super) fn start(store: Arc<dyn Store>, events: Events) -> Result<UserDataHandle, super::AppError> {
        let data = Arc::new(UserCache::new(store.load_user()?, store.load_personal()?));
        let (cache, told) = (data.clone(), events.clone());
        let on_commit = Box::new(move |c: &Committed| publish(&cache, &told, c));
        let writer = Writer::start(store, on_commit).map_err(super::AppError::Runtime)?;
        Ok(UserDataHandle { data, orders: Arc::default(), searches: Arc::default(), writer, events })
    }

    /// Saves one edit by `who`; returns the video's data, as they see it,
    /// once it is durable.
    pub async fn write(&self, who: &Viewer, id: VideoId, edit: Edit) -> Result<UserData, WriteError> {
        let mut after = self.writer.write_all(who, vec![(id, edit)]).await?;
        after.pop().ok_or(WriteError::Closed)
    }

    /// Saves edits by `who` that commit together; returns each video's
    /// data after its edit, once durable.
    pub async fn write_all(&self, who: &Viewer, edits: Vec<(VideoId, Edit)>) -> Result<Vec<UserData>, WriteError> {
        self.writer.write_all(who, edits).await
    }

    /// `write_all` for a plain thread (never on an async worker), each
    /// edit by its own author.
    pub fn write_all_blocking(&self, edits: Vec<(Viewer, VideoId, Edit)>) -> Result<Vec<UserData>, WriteError> {
        self.writer.write_all_blocking(edits)
    }

    /// Clears the household's own ratings, favorites, positions and
    /// history (its owner's account goes); tags, titles and views stay.
    /// Blocking.
    pub fn clear_household(&self) -> Result<(), WriteError> {
        let edits: Vec<(Viewer, VideoId, Edit)> = self.data.with(|m| {
            m.iter()
                .filter(|(_, d)| d.has_own())
                .map(|(id, _)| (Viewer::Household, *id, Edit::SetPersonal(Box::default())))
                .collect()
        });
        for chunk in edits.chunks(4096) {
            self.writer.write_all_blocking(chunk.to_vec())?;
        }
        Ok(())
    }

    /// Forgets what `name` entered for themselves, in memory (their
    /// account was removed, which removed it from the store).
    pub fn forget(&self, name: &str) {
        self.data.set_personal([(Arc::from(name.to_lowercase()), None)]);
    }

    /// Takes in what another server committed (records as stored now)
    /// and tells open pages, as for a commit of ours.
    pub fn follow(&self, c: &Committed) {
        publish(&self.data, &self.events, c);
    }

    /// Reads everything again from `store` (after missing others'
    /// changes): every shared record, and everyone's own.
    pub fn reload(&self, store: &dyn Store) -> Result<(), crate::store::StoreError> {
        let (shared, personal) = (store.load_user()?, store.load_personal()?);
        let known: Vec<Arc<str>> = self.data.with_all(|_, p| p.keys().cloned().collect());
        self.data.set_all(shared);
        self.data.set_personal(known.into_iter().map(|who| (who, None)));
        self.data.set_personal(
            personal
                .into_iter()
                .flat_map(|(who, theirs)| theirs.into_iter().map(move |(id, p)| (who.clone(), Some((id, p))))),
        );
        Ok(())
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
