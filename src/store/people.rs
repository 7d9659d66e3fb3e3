//! Accounts, API tokens and sessions as stored. Secrets are never stored:
//! passwords as Argon2id PHC strings, tokens and session ids as SHA-256
//! digests.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRecord {
    pub name: String,
    /// `viewer`, `editor` or `admin`.
    pub role: String,
    /// Argon2id PHC string; `None`: a profile picked without a password.
    pub hash: Option<String>,
    /// Unix seconds.
    pub created: i64,
    /// Bumped to end every signed link the account made (sign out
    /// everywhere, a new password, the account replaced).
    #[serde(default)]
    pub links: u64,
    /// The libraries it may see (by name); `None`: everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub libraries: Option<Vec<String>>,
}

/// A library the admins named: folders below the roots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryRecord {
    pub name: String,
    /// Absolute paths (or bucket URLs) of folders inside a `--dir`.
    pub folders: Vec<String>,
}

/// The household key holding the libraries (JSON, `[LibraryRecord]`).
pub const LIBRARIES_KEY: &str = "libraries";
/// The household key holding the profiles' libraries (JSON, profile name
/// -> library names; a profile not named sees everything).
pub const PROFILES_KEY: &str = "profiles";

/// A token or a session: whose it is and when it was made and last used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub name: String,
    pub created: i64,
    #[serde(default)]
    pub last_seen: i64,
}

/// Everything about people, as loaded at start.
#[derive(Debug, Default)]
pub struct PeopleRecords {
    /// By lowercase name.
    pub accounts: HashMap<String, AccountRecord>,
    /// By digest (hex).
    pub tokens: HashMap<String, GrantRecord>,
    pub sessions: HashMap<String, GrantRecord>,
    /// The lowercase name of the account holding the household's own data.
    pub owner: Option<String>,
    /// The libraries the admins named.
    pub libraries: Vec<LibraryRecord>,
    /// What the profiles without an account (`guest`, `dlna`) may see.
    pub profiles: HashMap<String, Vec<String>>,
}

impl PeopleRecords {
    /// Takes in a household value read from a store (`LIBRARIES_KEY`,
    /// `PROFILES_KEY`); an unreadable one is logged and left out (seeing
    /// nothing more than before: a profile left out sees everything only
    /// if it never had libraries, so a damaged value hides nothing, and
    /// says so).
    pub fn read_household(&mut self, key: &str, value: &str) {
        let read = match key {
            LIBRARIES_KEY => serde_json::from_str(value).map(|v| self.libraries = v),
            PROFILES_KEY => serde_json::from_str(value).map(|v| self.profiles = v),
            _ => return,
        };
        if let Err(e) = read {
            tracing::error!("the stored {key} could not be read ({e}); set them again on the admin page");
            if key == PROFILES_KEY {
                // Fail closed: profiles see nothing until set again.
                self.profiles = ["guest", "dlna"].iter().map(|p| (p.to_string(), Vec::new())).collect();
            }
        }
    }
}
