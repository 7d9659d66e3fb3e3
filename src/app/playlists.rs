//! Playlists: each person's own (the household's without accounts), kept
//! in memory and written through to the store. Every change blocks (a
//! redb commit): call from the blocking pool. Changes are made one at a
//! time, under one lock, so two never interleave.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::catalog::Viewer;
use crate::library::ids::VideoId;
use crate::store::playlists::PlaylistRecord;
use crate::store::{Store, StoreError};

pub use crate::store::playlists::{MAX_ITEMS, MAX_NAME_CHARS, MAX_PLAYLISTS};

#[derive(Debug, thiserror::Error)]
pub enum PlaylistError {
    #[error("no such playlist")]
    NotFound,
    #[error("sign in to keep playlists")]
    Guest,
    #[error("{0}")]
    Invalid(String),
    /// Another of the person's playlists has this name (any case).
    #[error("you already have a playlist named {0:?}")]
    Taken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whose playlists: an account's lowercase name, or `""` for the household.
pub fn owner_of(who: &Viewer) -> Result<&str, PlaylistError> {
    match who {
        Viewer::Household => Ok(""),
        Viewer::Person(name) => Ok(name),
        Viewer::Guest => Err(PlaylistError::Guest),
    }
}

pub struct Playlists {
    store: Arc<dyn Store>,
    /// Read by pages on the async workers: held only to read or swap in.
    map: Mutex<BTreeMap<(String, u64), PlaylistRecord>>,
    /// Held through a whole change (its commit included): one at a time.
    writing: Mutex<()>,
    /// Bumped by every change (validators of listings that show playlists).
    generation: AtomicU64,
}

impl Playlists {
    pub fn load(store: Arc<dyn Store>) -> Result<Playlists, StoreError> {
        let map = store.load_playlists()?.into_iter().map(|(owner, n, rec)| ((owner, n), rec)).collect();
        Ok(Playlists { store, map: Mutex::new(map), writing: Mutex::new(()), generation: AtomicU64::new(0) })
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, u64), PlaylistRecord>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `who`'s playlists, by number (none for a guest).
    pub fn list(&self, who: &Viewer) -> Vec<(u64, PlaylistRecord)> {
        let Ok(owner) = owner_of(who) else { return Vec::new() };
        let map = self.lock();
        map.range((owner.to_string(), 0)..=(owner.to_string(), u64::MAX)).map(|((_, n), r)| (*n, r.clone())).collect()
    }

    pub fn get(&self, who: &Viewer, n: u64) -> Option<PlaylistRecord> {
        let owner = owner_of(who).ok()?;
        self.lock().get(&(owner.to_string(), n)).cloned()
    }

    /// Makes a playlist for `who`; its number.
    pub fn create(
        &self,
        who: &Viewer,
        name: &str,
        items: Vec<VideoId>,
    ) -> Result<(u64, PlaylistRecord), PlaylistError> {
        let owner = owner_of(who)?.to_string();
        let name = check_name(name)?;
        let items = check_items(items)?;
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let count = self.lock().range((owner.clone(), 0)..=(owner.clone(), u64::MAX)).count();
        self.unique(&owner, None, &name)?;
        if count >= MAX_PLAYLISTS {
            return Err(PlaylistError::Invalid(format!("at most {MAX_PLAYLISTS} playlists each")));
        }
        let now = unix_now();
        let rec = PlaylistRecord { name, items, created: now, updated: now };
        let n = self.store.add_playlist(&owner, &rec)?;
        self.lock().insert((owner, n), rec.clone());
        self.generation.fetch_add(1, Ordering::Relaxed);
        Ok((n, rec))
    }

    /// Changes `who`'s playlist `n` with `change` (which may refuse).
    pub fn change(
        &self,
        who: &Viewer,
        n: u64,
        change: impl FnOnce(&mut PlaylistRecord) -> Result<(), PlaylistError>,
    ) -> Result<PlaylistRecord, PlaylistError> {
        let key = (owner_of(who)?.to_string(), n);
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut rec = self.lock().get(&key).cloned().ok_or(PlaylistError::NotFound)?;
        change(&mut rec)?;
        rec.name = check_name(&rec.name)?;
        self.unique(&key.0, Some(n), &rec.name)?;
        rec.items = check_items(std::mem::take(&mut rec.items))?;
        rec.updated = unix_now();
        self.store.put_playlist(&key.0, n, Some(&rec))?;
        self.lock().insert(key, rec.clone());
        self.generation.fetch_add(1, Ordering::Relaxed);
        Ok(rec)
    }

    /// Refuses `name` when another of `owner`'s playlists (not `n`) has it,
    /// whatever its case: two alike could not be told apart.
    fn unique(&self, owner: &str, n: Option<u64>, name: &str) -> Result<(), PlaylistError> {
        let map = self.lock();
        let mut theirs = map.range((owner.to_string(), 0)..=(owner.to_string(), u64::MAX));
        let folded = name.to_lowercase();
        if theirs.any(|((_, m), r)| Some(*m) != n && r.name.to_lowercase() == folded) {
            return Err(PlaylistError::Taken(name.to_string()));
        }
        Ok(())
    }

    pub fn remove(&self, who: &Viewer, n: u64) -> Result<(), PlaylistError> {
        let key = (owner_of(who)?.to_string(), n);
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        if !self.lock().contains_key(&key) {
            return Err(PlaylistError::NotFound);
        }
        self.store.put_playlist(&key.0, n, None)?;
        self.lock().remove(&key);
        self.generation.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Forgets the playlists of a removed account (the store removed them
    /// with it), and the household's when it was the owner.
    pub fn forget(&self, owner: &str, was_owner: bool) {
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        self.lock().retain(|(o, _), _| o != owner && !(was_owner && o.is_empty()));
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    /// Every playlist: (owner, number, record), for exports.
    pub fn all(&self) -> Vec<(String, u64, PlaylistRecord)> {
        self.lock().iter().map(|((o, n), r)| (o.clone(), *n, r.clone())).collect()
    }

    /// Reads them all again from the store (after an import wrote some).
    pub fn reload(&self) -> Result<(), StoreError> {
        let _one = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = self.store.load_playlists()?.into_iter().map(|(owner, n, rec)| ((owner, n), rec)).collect();
        *self.lock() = fresh;
        self.generation.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn check_name(name: &str) -> Result<String, PlaylistError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(PlaylistError::Invalid("a playlist needs a name".into()));
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PlaylistError::Invalid(format!(
            "a playlist name is at most {MAX_NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(name.to_string())
}

/// At most `MAX_ITEMS` videos, each once (the first place kept): a video
/// twice would send "next" around in a loop.
fn check_items(items: Vec<VideoId>) -> Result<Vec<VideoId>, PlaylistError> {
    if items.len() > MAX_ITEMS {
        return Err(PlaylistError::Invalid(format!("at most {MAX_ITEMS} videos in a playlist")));
    }
    let mut seen = std::collections::HashSet::new();
    Ok(items.into_iter().filter(|id| seen.insert(*id)).collect())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}
