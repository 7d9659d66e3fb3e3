//! People: optional accounts with roles, sessions and API tokens. With no
//! account, nobody is asked who they are (the zero-config default); once
//! one exists, every request but health, sign-in and assets needs a
//! session or a token (`http` asks `identify` and `Access`).
//!
//! Owns the in-memory copy of accounts, tokens and sessions (`People`),
//! password hashing (`password`) and sign-in throttling (`limiter`). Writes
//! go to the store first, then memory. Never: stores a secret in clear.

pub mod limiter;
pub mod links;
pub mod password;

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::catalog::Viewer;
use crate::store::people::{AccountRecord, GrantRecord};
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
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// The lowercase name of the household's owner among `accounts`.
fn owner_of(accounts: &std::collections::HashMap<String, AccountRecord>) -> Option<String> {
    accounts
        .iter()
        .filter(|(_, a)| Role::parse(&a.role) == Some(Role::Admin))
        .min_by(|(ka, a), (kb, b)| a.created.cmp(&b.created).then(ka.cmp(kb)))
        .map(|(k, _)| k.clone())
}

/// Accounts, tokens and sessions, in memory, backed by the store.
pub struct People {
    store: Arc<Store>,
    state: RwLock<crate::store::people::People>,
    pub limiter: limiter::Limiter,
    /// Signed links for other players.
    pub links: links::Links,
}

impl People {
    /// Loads everything (blocking).
    pub fn load(store: Arc<Store>) -> Result<People, StoreError> {
        let state = store.load_people()?;
        let links = links::Links::new(store.secret("links")?);
        Ok(People { store, state: RwLock::new(state), limiter: limiter::Limiter::default(), links })
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
        let viewer = if owner_of(&s.accounts).as_deref() == Some(key.as_str()) {
            Viewer::Household
        } else {
            Viewer::Person(key.into())
        };
        Some(Person { name: a.name.clone(), role: Role::parse(&a.role)?, viewer })
    }

    /// The account that owns the household's personal data (what was
    /// entered or imported before accounts existed): the first admin made
    /// (the oldest; by name among equals). `None` while there is no admin.
    pub fn owner(&self) -> Option<String> {
        let s = self.state.read().ok()?;
        let key = owner_of(&s.accounts)?;
        s.accounts.get(&key).map(|a| a.name.clone())
    }

    /// Adds or replaces an account (blocking). `password`: `None` for a
    /// profile without one.
    pub fn set_account(&self, name: &str, role: Role, password: Option<&str>) -> Result<(), PeopleError> {
        let name = valid_name(name)?;
        let hash = password.map(password::hash).transpose().map_err(PeopleError::Invalid)?;
        // A replaced account keeps its age (the first admin stays the owner).
        let created = self.account(&name).map_or_else(|_| now(), |a| a.created);
        let rec = AccountRecord { name: name.clone(), role: role.name().into(), hash, created };
        self.store.put_account(&rec)?;
        if let Ok(mut s) = self.state.write() {
            s.accounts.insert(name.to_lowercase(), rec);
        }
        Ok(())
    }

    /// Changes a password (blocking); ends the account's sessions.
    pub fn set_password(&self, name: &str, password: &str) -> Result<(), PeopleError> {
        let mut rec = self.account(name)?;
        rec.hash = Some(password::hash(password).map_err(PeopleError::Invalid)?);
        self.store.put_account(&rec)?;
        self.end_sessions_of(&rec.name)?;
        if let Ok(mut s) = self.state.write() {
            s.accounts.insert(rec.name.to_lowercase(), rec);
        }
        Ok(())
    }

    fn account(&self, name: &str) -> Result<AccountRecord, PeopleError> {
        let s = self.state.read().map_err(|_| PeopleError::Invalid("busy".into()))?;
        s.accounts.get(&name.to_lowercase()).cloned().ok_or_else(|| PeopleError::NoSuchAccount(name.into()))
    }

    /// Removes an account, its tokens and sessions (blocking).
    pub fn remove(&self, name: &str) -> Result<(), PeopleError> {
        if !self.store.remove_account(name)? {
            return Err(PeopleError::NoSuchAccount(name.into()));
        }
        if let Ok(mut s) = self.state.write() {
            let key = name.to_lowercase();
            s.accounts.remove(&key);
            s.tokens.retain(|_, g| g.name.to_lowercase() != key);
            s.sessions.retain(|_, g| g.name.to_lowercase() != key);
        }
        Ok(())
    }

    fn end_sessions_of(&self, name: &str) -> Result<(), PeopleError> {
        let theirs: Vec<String> = self.state.read().map_or(Vec::new(), |s| {
            s.sessions.iter().filter(|(_, g)| g.name.eq_ignore_ascii_case(name)).map(|(k, _)| k.clone()).collect()
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
        let n = self.store.revoke_tokens(name)?;
        if let Ok(mut s) = self.state.write() {
            s.tokens.retain(|_, g| !g.name.eq_ignore_ascii_case(name));
        }
        Ok(n)
    }

    /// Checks a password (blocking: Argon2 takes tens of milliseconds).
    /// A profile without password matches any when `allow_no_password`.
    pub fn check_password(&self, name: &str, password: &str, allow_no_password: bool) -> Option<Person> {
        let rec = self.account(name).ok()?;
        let ok = match &rec.hash {
            Some(h) => password::verify(password, h),
            None => allow_no_password,
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
