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
}

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
}
