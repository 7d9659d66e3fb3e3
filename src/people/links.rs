//! Signed links: a URL of a video's bytes that a player without our cookie
//! (VLC, a smart TV, AirPlay, Chromecast) can fetch until it expires:
//! `/video/{id}?expires=UNIX&by=NAME&sig=HMAC`. The HMAC-SHA256 key is a
//! server secret kept with the user data; a changed id, time, name or
//! signature fails. With accounts, a link is bound to the account that
//! asked for it (`Bound`): it ends when the account goes, is replaced, or
//! signs out everywhere. Without accounts links carry no name.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::library::ids::VideoId;

/// How long a link works unless asked otherwise (an evening's films), and
/// at most.
pub const DEFAULT_TTL: u64 = 6 * 3600;
pub const MAX_TTL: u64 = 2 * 24 * 3600;

/// The account a link is bound to: its name (lowercase), when it was
/// made, and its link generation (bumped to end every link it made).
#[derive(Debug, Clone, Copy)]
pub struct Bound<'a> {
    pub key: &'a str,
    pub created: i64,
    pub generation: u64,
}

/// A link's query, read.
#[derive(Debug, PartialEq, Eq)]
pub struct Query<'a> {
    pub expires: Option<u64>,
    /// The account named (`by`).
    pub by: Option<&'a str>,
    pub sig: &'a str,
}

/// The parts of a link's query; `None` when it carries no signature.
pub fn read(query: &str) -> Option<Query<'_>> {
    let (mut expires, mut by, mut sig) = (None, None, None);
    for (k, v) in query.split('&').filter_map(|p| p.split_once('=')) {
        match k {
            "expires" => expires = v.parse::<u64>().ok(),
            "by" => by = Some(v),
            "sig" => sig = Some(v),
            _ => {}
        }
    }
    Some(Query { expires, by, sig: sig? })
}

pub struct Links {
    key: Vec<u8>,
}

impl Links {
    pub fn new(key: Vec<u8>) -> Links {
        Links { key }
    }

    fn mac(&self, id: VideoId, expires: u64, bound: Option<Bound<'_>>) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        match bound {
            None => mac.update(format!("video:{id}:{expires}").as_bytes()),
            Some(b) => mac.update(format!("video:{id}:{expires}:{}:{}:{}", b.key, b.created, b.generation).as_bytes()),
        }
        mac
    }

    /// The query string (`expires=…&by=…&sig=…`) of a link valid until
    /// `expires`, bound to an account or (without accounts) to none.
    pub fn sign(&self, id: VideoId, expires: u64, bound: Option<Bound<'_>>) -> String {
        let sig = super::password::hex(&self.mac(id, expires, bound).finalize().into_bytes());
        match bound {
            Some(b) => format!("expires={expires}&by={}&sig={sig}", b.key),
            None => format!("expires={expires}&sig={sig}"),
        }
    }

    /// Whether a link's query `q` is valid for `id` at `now`, made for
    /// `bound` (constant-time comparison).
    pub fn check(&self, id: VideoId, q: &Query<'_>, bound: Option<Bound<'_>>, now: u64) -> bool {
        let Some(expires) = q.expires.filter(|e| *e >= now) else { return false };
        let sig = q.sig;
        let bytes: Option<Vec<u8>> =
            (0..sig.len()).step_by(2).map(|i| sig.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
        bytes.is_some_and(|b| self.mac(id, expires, bound).verify_slice(&b).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_check_id_time_signature_and_account() {
        let links = Links::new(vec![7; 32]);
        let check = |q: &str, id: u64, now: u64, bound: Option<Bound>| {
            read(q).is_some_and(|r| links.check(VideoId(id), &r, bound, now))
        };
        let q = links.sign(VideoId(5), 1000, None);
        assert!(check(&q, 5, 999, None));
        assert!(!check(&q, 5, 1001, None), "expired");
        assert!(!check(&q, 6, 999, None), "another video");
        assert!(!check(&q.replace("expires=1000", "expires=9000"), 5, 999, None));
        assert!(!check("expires=1000&sig=zz", 5, 999, None));
        assert_eq!(read(""), None);
        assert!(!Links::new(vec![8; 32]).check(VideoId(5), &read(&q).unwrap(), None, 999), "another server");
        let alice = Bound { key: "alice", created: 10, generation: 0 };
        let q = links.sign(VideoId(5), 1000, Some(alice));
        assert_eq!(read(&q).unwrap().by, Some("alice"));
        assert!(check(&q, 5, 999, Some(alice)));
        assert!(!check(&q, 5, 999, None), "an account's link is not a household one");
        assert!(!check(&q, 5, 999, Some(Bound { generation: 1, ..alice })), "signed out everywhere");
        assert!(!check(&q, 5, 999, Some(Bound { created: 11, ..alice })), "a new account of that name");
        assert!(!check(&q, 5, 999, Some(Bound { key: "bob", ..alice })));
    }
}
