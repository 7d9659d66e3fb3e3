//! One of several servers on a shared database (`--database`): what the
//! others write comes in as changes (`store::Follower`) and is taken into
//! memory here and told to open pages, as if written here; one server at
//! a time scans (`store::Leadership`), the others read the index it
//! writes. Derived files (thumbnails, tracks, sound) are made in the data
//! dir, which replicas may share (each file is written whole under a
//! temporary name, then renamed).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use super::App;
use crate::catalog::personal::Viewer;
use crate::store::writer::Committed;
use crate::store::{Change, Leadership, PgStore, Store, StoreError};

pub struct Replica {
    /// Whether the database answers (the follower's connection is up).
    reachable: Arc<AtomicBool>,
    leadership: Leadership,
    _following: crate::store::Stop,
}

impl Replica {
    /// Starts following `pg` for `app` and competing for the scanner lock.
    pub(super) fn start(app: &Arc<App>, pg: Arc<PgStore>) -> std::io::Result<Replica> {
        let reachable = Arc::new(AtomicBool::new(true));
        let weak = Arc::downgrade(app);
        let store = pg.clone();
        let following = pg.follower().start(reachable.clone(), move |changes| {
            if let Some(app) = weak.upgrade() {
                for change in changes {
                    if let Err(e) = take_in(&app, &store, change) {
                        tracing::error!("cannot read another server's change: {e}");
                    }
                }
            }
        })?;
        let weak: Weak<App> = Arc::downgrade(app);
        let leadership = Leadership::start(pg.database().clone(), move |leading| {
            if let Some(app) = weak.upgrade().filter(|_| leading) {
                app.library.request_rescan();
            }
        })?;
        Ok(Replica { reachable, leadership, _following: following })
    }

    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Acquire)
    }

    /// Whether this server scans now.
    pub fn is_leader(&self) -> bool {
        self.leadership.is_leader()
    }

    /// The scanner's flag: whether this server scans now.
    pub(super) fn leading(&self) -> Arc<AtomicBool> {
        self.leadership.flag()
    }
}

/// Takes one change made by another server into this one (blocking).
fn take_in(app: &App, pg: &PgStore, change: Change) -> Result<(), StoreError> {
    match change {
        Change::Index => app.library.follow_index(),
        Change::User(ids) => {
            let stored = pg.user_of(&ids)?;
            let edited = stored.keys().map(|id| (Viewer::Household, *id)).collect();
            let shared = stored.into_iter().map(|(id, d)| (id, d.unwrap_or_default())).collect();
            app.user_data.follow(&Committed { shared, personal: Vec::new(), edited });
        }
        Change::Personal(pairs) => {
            let stored = pg.personal_of(&pairs)?;
            let edited = stored.keys().map(|(who, id)| (Viewer::Person(who.clone()), *id)).collect();
            let personal = stored.into_iter().map(|((who, id), p)| (who, id, p)).collect();
            app.user_data.follow(&Committed { shared: Vec::new(), personal, edited });
        }
        Change::People => reload_people(app)?,
        Change::Playlists => app.playlists.reload()?,
        Change::Missed => {
            app.user_data.reload(pg as &dyn Store)?;
            reload_people(app)?;
            app.playlists.reload()?;
            app.library.follow_index();
        }
    }
    Ok(())
}

/// Reads accounts, sessions and tokens again; forgets in memory what the
/// accounts now gone kept for themselves.
fn reload_people(app: &App) -> Result<(), StoreError> {
    for gone in app.people.reload()? {
        app.user_data.forget(&gone);
    }
    Ok(())
}
