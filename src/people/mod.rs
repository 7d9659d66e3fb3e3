//! People: optional accounts with roles, sessions and API tokens. With no
//! account, nobody is asked who they are (the zero-config default); once
//! one exists, every request but health, sign-in and assets needs a
//! session or a token (`http` asks `identify` and `Access`).
//!
//! Owns the in-memory copy of accounts, tokens and sessions (`People`),
//! password hashing (`password`) and sign-in throttling (`limiter`). Writes
//! go to the store first, then memory. Never: stores a secret in clear.

pub mod libraries;
pub mod limiter;
pub mod links;
pub mod password;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::path::PathBuf;

use crate::catalog::{Sight, Viewer};
use crate::store::people::{AccountRecord, GrantRecord, LibraryRecord, LIBRARIES_KEY, PROFILES_KEY};
use crate::store::{Store, StoreError};

/// What a person may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Watch, and rate, favorite and resume for themselves.
    Viewer,
    /// Also tags, titles, thumbnails and batch changes.
    Editor,
    /// Also the admin page and its actions.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Editor, Role::Admin].into_iter().find(|r| r.name() == s)
    }
}

/// Who sent a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub role: Role,
    /// Whose personal data they see: the household's for the first admin
    /// (`People::owner`), else their own.
    pub viewer: Viewer,
    /// What of the library they may see (admins: everything).
    pub sight: Sight,
}

/// How long a session lives without being used.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 24 * 3600);
/// How often a session's last use is written down (not on every request).
const TOUCH_EVERY: i64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("{0}")]
    Invalid(String),
    #[error("there is no account named {0:?}")]
    NoSuchAccount(String),
    #[error("{0} exists already; set its password instead")]
    Exists(String),
    #[error("{0} is the last admin; make another admin first, or remove the other accounts")]
    LastAdmin(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("plain data serialises")
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A valid account name: 1–64 letters, digits, `.`, `_` or `-`.
pub fn valid_name(name: &str) -> Result<String, PeopleError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(PeopleError::Invalid("a name is 1 to 64 letters, digits, '.', '_' or '-'".into()))
    }
}

/// What a signed link of `rec` (lowercase name `key`) is bound to.
fn bound<'a>(rec: &AccountRecord, key: &'a str) -> links::Bound<'a> {
    links::Bound { key, created: rec.created, generation: rec.links }
}

/// Accounts, tokens and sessions, in memory, backed by the store.
pub struct People {
    store: Arc<dyn Store>,
    state: RwLock<crate::store::people::PeopleRecords>,
    pub limiter: limiter::Limiter,
    /// Signed links for other players (`sign_link`, `check_link`).
    links: links::Links,
    /// Bumped whenever who may do what changes (accounts appear or go,
    /// sessions end, passwords change): long-lived streams check it.
    generation: AtomicU64,
    /// Told of each bump, so streams ask again at once.
    changes: tokio::sync::watch::Sender<u64>,
    /// The roots served (each a library of its own: `libraries::all`).
    roots: RwLock<Vec<PathBuf>>,
    /// Each restricted account's sight, for the generation it was made in
    /// (one set of folders a person, not one a request).
    sights: std::sync::Mutex<(u64, std::collections::HashMap<String, Sight>)>,
    /// Held by a whole `reload` (read, then swap) and a whole `catch_up`
    /// (look up, then keep): a reload whose read began before a grant was
    /// made elsewhere must not swap out the grant a catch-up just kept.
    refreshing: std::sync::Mutex<()>,
}

impl People {
    /// Loads everything (blocking).
    pub fn load(store: Arc<dyn Store>) -> Result<People, StoreError> {
        let state = store.load_people()?;
        let links = links::Links::new(store.secret("links")?);
        Ok(People {
            store,
            state: RwLock::new(state),
            limiter: limiter::Limiter::default(),
            links,
            generation: AtomicU64::new(0),
            changes: tokio::sync::watch::Sender::new(0),
            roots: RwLock::new(Vec::new()),
            sights: Default::default(),
            refreshing: Default::default(),
        })
    }

    /// The roots served, as given (each is a library by default).
    pub fn set_roots(&self, roots: Vec<PathBuf>) {
        *self.roots.write().unwrap_or_else(|e| e.into_inner()) = roots;
        self.changed();
    }

    fn roots(&self) -> Vec<PathBuf> {
        self.roots.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Every library: those named, then one per root.
    pub fn libraries(&self) -> Vec<libraries::Library> {
        let defined = self.state.read().map(|s| s.libraries.clone()).unwrap_or_default();
        libraries::all(&defined, &self.roots())
    }

    /// The libraries someone with `sight` sees whole, in order.
    pub fn libraries_seen(&self, sight: &Sight) -> Vec<libraries::Library> {
        let seen = |l: &libraries::Library| l.folders.iter().all(|f| sight.covers(std::path::Path::new(f)));
        self.libraries().into_iter().filter(seen).collect()
    }

    /// The libraries `name` (an account, or a profile: `guest`, `dlna`)
    /// was given; `None`: everything.
    pub fn libraries_of(&self, name: &str) -> Option<Vec<String>> {
        let s = self.state.read().ok()?;
        let key = name.to_lowercase();
        match s.accounts.get(&key) {
            Some(a) => a.libraries.clone(),
            None => s.profiles.get(&key).cloned(),
        }
    }

    /// Names a library `folders` (absolute paths or bucket URLs inside a
    /// root), or changes the folders of one named before (blocking);
    /// whether it is new.
    pub fn define_library(&self, name: &str, folders: &[String]) -> Result<bool, PeopleError> {
        let name = libraries::valid_name(name)?;
        let roots = self.roots();
        let mut plain = Vec::new();
        for f in folders.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
            let f = libraries::folder_inside(f, &roots)?;
            if !plain.contains(&f) {
                plain.push(f);
            }
        }
        if plain.is_empty() {
            return Err(PeopleError::Invalid("a library needs at least one folder".into()));
        }
        let mut s = self.state.write().map_err(|_| PeopleError::Invalid("busy".into()))?;
        let mut list = s.libraries.clone();
        let new = match list.iter_mut().find(|l| l.name.eq_ignore_ascii_case(&name)) {
            Some(l) => {
                *l = LibraryRecord { name, folders: plain };
                false
            }
            None => {
                list.push(LibraryRecord { name, folders: plain });
                true
            }
        };
        self.store.put_household(LIBRARIES_KEY, Some(&json(&list)))?;
        s.libraries = list;
        drop(s);
        self.changed();
        Ok(new)
    }

    /// Removes a named library (blocking); whoever was given it sees less
    /// (nothing, if it was their only one). A root's own library cannot be
    /// removed. The accounts and profiles that had it are returned
    /// (`given_to`).
    pub fn remove_library(&self, name: &str) -> Result<Vec<String>, PeopleError> {
        let mut s = self.state.write().map_err(|_| PeopleError::Invalid("busy".into()))?;
        let Some(at) = s.libraries.iter().position(|l| l.name.eq_ignore_ascii_case(name)) else {
            drop(s);
            let default = self.libraries().into_iter().any(|l| l.default && l.name.eq_ignore_ascii_case(name));
            return Err(PeopleError::Invalid(if default {
                format!("{name} is a video folder's own library; it goes when the folder is no longer served")
            } else {
                format!("there is no library named {name:?}")
            }));
        };
        let mut list = s.libraries.clone();
        let gone = list.remove(at);
        self.store.put_household(LIBRARIES_KEY, Some(&json(&list)))?;
        s.libraries = list;
        drop(s);
        self.changed();
        Ok(self.given_to(&gone.name))
    }

    /// The accounts and profiles (`guest`, `dlna`) given `library`, sorted.
    pub fn given_to(&self, library: &str) -> Vec<String> {
        let Ok(s) = self.state.read() else { return Vec::new() };
        let has = |names: &Vec<String>| names.iter().any(|n| n.eq_ignore_ascii_case(library));
        let mut out: Vec<String> = s
            .accounts
            .values()
            .filter(|a| a.libraries.as_ref().is_some_and(has))
            .map(|a| a.name.clone())
            .chain(s.profiles.iter().filter(|(_, l)| has(l)).map(|(p, _)| p.clone()))
            .collect();
        out.sort();
        out
    }

    /// Gives `name` (an account, or a profile: `guest`, `dlna`) the
    /// libraries `names` (`None`: everything; an empty list: nothing)
    /// (blocking). Unknown library names are refused.
    pub fn set_libraries(&self, name: &str, names: Option<&[String]>) -> Result<(), PeopleError> {
        let names = names.map(|n| libraries::known(&self.libraries(), n)).transpose()?;
        let key = name.to_lowercase();
        let mut s = self.state.write().map_err(|_| PeopleError::Invalid("busy".into()))?;
        if let Some(a) = s.accounts.get(&key) {
            let rec = AccountRecord { libraries: names, ..a.clone() };
            self.store.put_account(&rec)?;
            s.accounts.insert(key, rec);
        } else if libraries::PROFILES.contains(&key.as_str()) {
            let mut profiles = s.profiles.clone();
            match names {
                Some(n) => profiles.insert(key, n),
                None => profiles.remove(&key),
            };
            self.store.put_household(PROFILES_KEY, Some(&json(&profiles)))?;
            s.profiles = profiles;
        } else {
            return Err(PeopleError::NoSuchAccount(name.into()));
        }
        drop(s);
        self.changed();
        Ok(())
    }

    /// What a profile without an account (`guest`, `dlna`) may see.
    pub fn profile_sight(&self, profile: &str) -> Sight {
        let Some(names) = self.state.read().ok().and_then(|s| s.profiles.get(profile).cloned()) else {
            return Sight::All;
        };
        // Kept under a name no account can have.
        self.kept_sight(&format!("({profile})"), || libraries::sight(&self.libraries(), Some(&names)))
    }

    /// What a signed link (its query) may show: what the account that
    /// made it sees now.
    pub fn link_sight(&self, query: &str) -> Sight {
        let q = links::read(query);
        match q.as_ref().and_then(|q| q.by).and_then(|b| self.person(b)) {
            Some(p) => p.sight,
            None if !self.enabled() => Sight::All,
            None => Sight::only(Vec::new()),
        }
    }

    /// Changes whenever a session, token or account may have lost or
    /// changed its rights.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn changed(&self) {
        let now = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        self.changes.send_replace(now);
    }

    /// Wakes when who may do what changes (see `generation`).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Whether any account exists (then requests must say who they are).
    pub fn enabled(&self) -> bool {
        self.state.read().is_ok_and(|s| !s.accounts.is_empty())
    }

    /// Every account: name, role, whether it has a password.
    pub fn list(&self) -> Vec<(String, Role, bool)> {
        let Ok(s) = self.state.read() else { return Vec::new() };
        let mut out: Vec<_> = s
            .accounts
            .values()
            .map(|a| (a.name.clone(), Role::parse(&a.role).unwrap_or(Role::Viewer), a.hash.is_some()))
            .collect();
        out.sort();
        out
    }

    fn person(&self, name: &str) -> Option<Person> {
        let s = self.state.read().ok()?;
        let key = name.to_lowercase();
        let a = s.accounts.get(&key)?;
        let viewer = if s.owner.as_deref() == Some(key.as_str()) {
            Viewer::Household
        } else {
            Viewer::Person(key.as_str().into())
        };
        let role = Role::parse(&a.role)?;
        let sight = match (role, &a.libraries) {
            (Role::Admin, _) | (_, None) => Sight::All,
            (_, Some(names)) => {
                self.kept_sight(&key, || libraries::sight(&libraries::all(&s.libraries, &self.roots()), Some(names)))
            }
        };
        Some(Person { name: a.name.clone(), role, viewer, sight })
    }

    /// `key`'s sight as made in this generation, else `make`'s (kept).
    /// `make` runs without the lock held (it may read `state`).
    fn kept_sight(&self, key: &str, make: impl FnOnce() -> Sight) -> Sight {
        let generation = self.generation();
        let lock = || self.sights.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = Some(lock()).filter(|k| k.0 == generation).and_then(|k| k.1.get(key).cloned()) {
            return s;
        }
        let made = make();
        let mut kept = lock();
        if kept.0 < generation {
            *kept = (generation, Default::default());
        }
        if kept.0 == generation {
            kept.1.insert(key.to_string(), made.clone());
        }
        made
    }

    /// The account that holds the household's own data (what was entered
    /// or imported before accounts existed): the first admin made, for as
    /// long as it exists. `None` while there is none.
    pub fn owner(&self) -> Option<String> {
        let s = self.state.read().ok()?;
        let key = s.owner.as_ref()?;
        s.accounts.get(key).map(|a| a.name.clone())
    }

    /// Adds or replaces an account (blocking); the last admin's role is
    /// never lowered. `password`: `None` for a profile without one.
    /// `libraries`: what it may see (`None`: everything).
    pub fn set_account(
        &self,
        name: &str,
        role: Role,
        password: Option<&str>,
        libraries: Option<&[String]>,
    ) -> Result<(), PeopleError> {
        self.put(name, role, password, libraries, true)
    }

    /// Adds an account that does not exist yet (blocking); `libraries`:
    /// what it may see (`None`: everything).
    pub fn add(
        &self,
        name: &str,
        role: Role,
        password: Option<&str>,
        libraries: Option<&[String]>,
    ) -> Result<(), PeopleError> {
        self.put(name, role, password, libraries, false)
    }

    fn put(
        &self,
        name: &str,
        role: Role,
        password: Option<&str>,
        libraries: Option<&[String]>,
        replace: bool,
    ) -> Result<(), PeopleError> {
        let name = valid_name(name)?;
        if libraries::PROFILES.contains(&name.to_lowercase().as_str()) {
            return Err(PeopleError::Invalid(format!(
                "{name} is the name of a profile without an account (`vidserve user libraries {name} A,B` chooses                  what it sees); choose another name"
            )));
        }
        let libraries = libraries.map(|l| libraries::known(&self.libraries(), l)).transpose()?;
        if password.is_none() && role != Role::Viewer {
            return Err(PeopleError::Invalid(format!(
                "only viewers may be profiles without a password ({name} would let any device on the network {})",
                if role == Role::Admin { "manage vidserve" } else { "change what everyone sees" }
            )));
        }
        let key = name.to_lowercase();
        let hash = password.map(password::hash).transpose().map_err(PeopleError::Invalid)?;
        // Checked and changed under one lock: no other change in between.
        let mut s = self.state.write().map_err(|_| PeopleError::Invalid("busy".into()))?;
        let old = s.accounts.get(&key);
        if old.is_some() && !replace {
            return Err(PeopleError::Exists(name));
        }
        // The household keeps an admin: the last one's role stays.
        let admins = s.accounts.values().filter(|a| a.role == Role::Admin.name()).count();
        if old.is_some_and(|a| a.role == Role::Admin.name()) && role != Role::Admin && admins == 1 {
            return Err(PeopleError::LastAdmin(name));
        }
        let created = old.map_or_else(now, |a| a.created);
        // A replaced account starts afresh: what it granted before ends.
        let links = old.map_or(0, |a| a.links + 1);
        let replaced = old.is_some();
        // A replaced account keeps what it was given to see, unless told.
        let libraries = libraries.or_else(|| old.and_then(|a| a.libraries.clone()));
        let rec = AccountRecord { name, role: role.name().into(), hash, created, links, libraries };
        if let Some(owner) = self.store.put_account(&rec)? {
            s.owner = Some(owner);
        }
        let name = rec.name.clone();
        s.accounts.insert(key, rec);
        drop(s);
        if replaced {
            self.end_grants_of(&name)?;
        }
        self.changed();
        Ok(())
    }

    /// Changes a password (blocking); ends the account's sessions, tokens
    /// and links: whoever held the old one holds nothing.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), PeopleError> {
        let mut rec = self.account(name)?;
        rec.hash = Some(password::hash(password).map_err(PeopleError::Invalid)?);
        rec.links += 1;
        self.store.put_account(&rec)?;
        let name = rec.name.clone();
        if let Ok(mut s) = self.state.write() {
            s.accounts.insert(rec.name.to_lowercase(), rec);
        }
        self.end_grants_of(&name)?;
        self.changed();
        Ok(())
    }

    /// Signs `name` out everywhere (blocking): its sessions, tokens and
    /// signed links end; open streams are asked again at once.
    pub fn sign_out_everywhere(&self, name: &str) -> Result<(), PeopleError> {
        let mut rec = self.account(name)?;
        rec.links += 1;
        self.store.put_account(&rec)?;
        let name = rec.name.clone();
        if let Ok(mut s) = self.state.write() {
            s.accounts.insert(rec.name.to_lowercase(), rec);
        }
        self.end_grants_of(&name)?;
        self.changed();
        Ok(())
    }

    /// Ends `name`'s sessions and tokens.
    fn end_grants_of(&self, name: &str) -> Result<(), PeopleError> {
        self.end_sessions_of(name)?;
        self.drop_tokens_of(name)?;
        Ok(())
    }

    /// Removes `name`'s tokens from the store, then memory; how many.
    fn drop_tokens_of(&self, name: &str) -> Result<usize, PeopleError> {
        let n = self.store.revoke_tokens(name)?;
        if let Ok(mut s) = self.state.write() {
            let key = name.to_lowercase();
            s.tokens.retain(|_, g| g.name.to_lowercase() != key);
        }
        Ok(n)
    }

    /// The query of a signed link to `id` until `expires`, bound to the
    /// account `by` when accounts exist (`None`: no such account, or
    /// nobody to bind it to).
    pub fn sign_link(&self, id: crate::library::ids::VideoId, expires: u64, by: Option<&str>) -> Option<String> {
        if !self.enabled() {
            return Some(self.links.sign(id, expires, None));
        }
        let rec = self.account(by?).ok()?;
        let key = rec.name.to_lowercase();
        Some(self.links.sign(id, expires, Some(bound(&rec, &key))))
    }

    /// Whether `query` is a valid signed link to `id` at `now`: `None`
    /// when it carries no signature. With accounts, only a link bound to
    /// an account that still exists, and has not ended its links, is.
    pub fn check_link(&self, id: crate::library::ids::VideoId, query: &str, now: u64) -> Option<bool> {
        let q = links::read(query)?;
        if !self.enabled() {
            return Some(self.links.check(id, &q, None, now));
        }
        let Some(rec) = q.by.and_then(|by| self.account(by).ok()) else { return Some(false) };
        let key = rec.name.to_lowercase();
        Some(self.links.check(id, &q, Some(bound(&rec, &key)), now))
    }

    fn account(&self, name: &str) -> Result<AccountRecord, PeopleError> {
        let s = self.state.read().map_err(|_| PeopleError::Invalid("busy".into()))?;
        s.accounts.get(&name.to_lowercase()).cloned().ok_or_else(|| PeopleError::NoSuchAccount(name.into()))
    }

    /// Removes an account, its tokens, sessions and own data (blocking).
    /// `keep_an_admin`: refuse to remove the last admin while other
    /// accounts exist (nobody could manage them from the web). When it
    /// holds the household's data, `before_owner_goes` runs first, once the
    /// removal is certain (a running server clears that data through its
    /// writer, so memory and open pages follow).
    pub fn remove(
        &self,
        name: &str,
        keep_an_admin: bool,
        before_owner_goes: impl FnOnce() -> Result<(), String>,
    ) -> Result<(), PeopleError> {
        let key = name.to_lowercase();
        let mut s = self.state.write().map_err(|_| PeopleError::Invalid("busy".into()))?;
        let Some(a) = s.accounts.get(&key) else { return Err(PeopleError::NoSuchAccount(name.into())) };
        let admins = s.accounts.values().filter(|a| a.role == Role::Admin.name()).count();
        if keep_an_admin && a.role == Role::Admin.name() && admins == 1 && s.accounts.len() > 1 {
            return Err(PeopleError::LastAdmin(a.name.clone()));
        }
        if s.owner.as_deref() == Some(key.as_str()) {
            before_owner_goes().map_err(PeopleError::Invalid)?;
        }
        self.store.remove_account(&key)?;
        s.accounts.remove(&key);
        s.tokens.retain(|_, g| g.name.to_lowercase() != key);
        s.sessions.retain(|_, g| g.name.to_lowercase() != key);
        if s.owner.as_deref() == Some(key.as_str()) {
            s.owner = None;
        }
        drop(s);
        self.changed();
        Ok(())
    }

    /// Whether there is an account named `name` (any case).
    pub fn exists(&self, name: &str) -> bool {
        self.state.read().is_ok_and(|s| s.accounts.contains_key(&name.to_lowercase()))
    }

    /// Whether `name` holds the household's own data.
    pub fn is_owner(&self, name: &str) -> bool {
        self.state.read().is_ok_and(|s| s.owner.as_deref() == Some(name.to_lowercase().as_str()))
    }

    fn end_sessions_of(&self, name: &str) -> Result<(), PeopleError> {
        let theirs: Vec<String> = self.state.read().map_or(Vec::new(), |s| {
            let key = name.to_lowercase();
            s.sessions.iter().filter(|(_, g)| g.name.to_lowercase() == key).map(|(k, _)| k.clone()).collect()
        });
        for d in &theirs {
            self.store.remove_session(d)?;
        }
        if let Ok(mut s) = self.state.write() {
            s.sessions.retain(|d, _| !theirs.contains(d));
        }
        Ok(())
    }

    /// A new API token for `name` (blocking); the secret is returned once
    /// and only its digest kept.
    pub fn new_token(&self, name: &str) -> Result<String, PeopleError> {
        let rec = self.account(name)?;
        let token = format!("vs_{}", password::secret());
        let grant = GrantRecord { name: rec.name, created: now(), last_seen: 0 };
        let d = password::digest(&token);
        self.store.put_token(&d, &grant)?;
        if let Ok(mut s) = self.state.write() {
            s.tokens.insert(d, grant);
        }
        Ok(token)
    }

    /// Revokes every token of `name` (blocking); how many.
    pub fn revoke_tokens(&self, name: &str) -> Result<usize, PeopleError> {
        self.account(name)?;
        let n = self.drop_tokens_of(name)?;
        // Streams opened with those tokens are asked again.
        self.changed();
        Ok(n)
    }

    /// Checks a password (blocking: Argon2 takes tens of milliseconds).
    /// A profile without password matches any when `allow_no_password`.
    pub fn check_password(&self, name: &str, password: &str, allow_no_password: bool) -> Option<Person> {
        let rec = self.account(name).ok();
        let hash = rec.as_ref().and_then(|r| r.hash.as_deref());
        // One hash's work whatever the name: an unknown one is not quicker.
        let matched = password::verify(password, hash);
        let rec = rec?;
        let ok = match &rec.hash {
            Some(_) => matched,
            // Profiles without a password are viewers' only.
            None => allow_no_password && Role::parse(&rec.role) == Some(Role::Viewer),
        };
        ok.then(|| self.person(&rec.name)).flatten()
    }

    /// Starts a session (blocking); returns its secret id for the cookie.
    pub fn start_session(&self, person: &Person) -> Result<String, PeopleError> {
        let id = password::secret();
        let t = now();
        let grant = GrantRecord { name: person.name.clone(), created: t, last_seen: t };
        let d = password::digest(&id);
        self.store.put_session(&d, &grant)?;
        if let Ok(mut s) = self.state.write() {
            s.sessions.insert(d, grant);
        }
        Ok(id)
    }

    /// Ends a session (blocking).
    pub fn end_session(&self, id: &str) -> Result<(), PeopleError> {
        let d = password::digest(id);
        self.store.remove_session(&d)?;
        if let Ok(mut s) = self.state.write() {
            s.sessions.remove(&d);
        }
        self.changed();
        Ok(())
    }

    /// The person behind a session id, if it is live. Returns whether its
    /// last use should be written down (`touch`).
    pub fn by_session(&self, id: &str) -> Option<(Person, bool)> {
        let d = password::digest(id);
        let (name, stale) = {
            let s = self.state.read().ok()?;
            let g = s.sessions.get(&d)?;
            if now() - g.last_seen > SESSION_IDLE.as_secs() as i64 {
                return None;
            }
            (g.name.clone(), now() - g.last_seen > TOUCH_EVERY)
        };
        Some((self.person(&name)?, stale))
    }

    /// Whether a credential may be one another server just made, not yet
    /// in memory here: the store is shared and it is unknown.
    pub fn may_catch_up(&self, session: Option<&str>, token: Option<&str>) -> bool {
        if !self.store.is_shared() {
            return false;
        }
        let Ok(s) = self.state.read() else { return false };
        match (session, token) {
            (Some(id), _) => !s.sessions.contains_key(&password::digest(id)),
            (None, Some(t)) => !s.tokens.contains_key(&password::digest(t)),
            (None, None) => false,
        }
    }

    /// Looks an unknown session or token up in the shared store and keeps
    /// it when found (blocking): a sign-in on another server works here at
    /// once, before its announcement arrives.
    pub fn catch_up(&self, session: Option<&str>, token: Option<&str>) {
        let (is_session, secret) = match (session, token) {
            (Some(id), _) => (true, id),
            (None, Some(t)) => (false, t),
            (None, None) => return,
        };
        let d = password::digest(secret);
        let _turn = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        match self.store.grant(is_session, &d) {
            Ok(Some(g)) => {
                if let Ok(mut s) = self.state.write() {
                    let kept = if is_session { &mut s.sessions } else { &mut s.tokens };
                    kept.insert(d, g);
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("could not look a session up in the database: {e}"),
        }
    }

    /// Reads accounts, sessions and tokens again from the store (another
    /// server changed them); the lowercase names of accounts now gone.
    pub fn reload(&self) -> Result<Vec<String>, StoreError> {
        let turn = self.refreshing.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = self.store.load_people()?;
        let gone = {
            let mut s = self.state.write().unwrap_or_else(|e| e.into_inner());
            let gone = s.accounts.keys().filter(|k| !fresh.accounts.contains_key(*k)).cloned().collect();
            *s = fresh;
            gone
        };
        drop(turn);
        self.changed();
        Ok(gone)
    }

    /// Records that a session was used now (blocking; at most hourly).
    pub fn touch(&self, id: &str) {
        let d = password::digest(id);
        let grant = self.state.write().ok().and_then(|mut s| {
            let g = s.sessions.get_mut(&d)?;
            g.last_seen = now();
            Some(g.clone())
        });
        if let Some(g) = grant {
            if let Err(e) = self.store.put_session(&d, &g) {
                tracing::warn!("could not record a session's use: {e}");
            }
        }
    }

    /// The person behind an API token.
    pub fn by_token(&self, token: &str) -> Option<Person> {
        let name = self.state.read().ok()?.tokens.get(&password::digest(token))?.name.clone();
        self.person(&name)
    }
}
