//! Signed links: a URL of a video's bytes that a player without our cookie
//! (VLC, a smart TV, AirPlay, Chromecast) can fetch until it expires:
//! `/video/{id}?expires=UNIX&sig=HMAC`. The HMAC-SHA256 key is a server
//! secret kept with the user data; a changed id, time or signature fails.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::library::ids::VideoId;

/// How long a link works unless asked otherwise, and at most.
pub const DEFAULT_TTL: u64 = 24 * 3600;
pub const MAX_TTL: u64 = 7 * 24 * 3600;

pub struct Links {
    key: Vec<u8>,
}

impl Links {
    pub fn new(key: Vec<u8>) -> Links {
        Links { key }
    }

    fn mac(&self, id: VideoId, expires: u64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(format!("video:{id}:{expires}").as_bytes());
        mac
    }

    /// The query string (`expires=…&sig=…`) of a link valid until `expires`.
    pub fn sign(&self, id: VideoId, expires: u64) -> String {
        let sig = super::password::hex(&self.mac(id, expires).finalize().into_bytes());
        format!("expires={expires}&sig={sig}")
    }

    /// Whether a link's query is valid for `id` at `now` (constant-time
    /// comparison). `None` when the query carries no signature at all.
    pub fn check(&self, id: VideoId, query: &str, now: u64) -> Option<bool> {
        let mut expires = None;
        let mut sig = None;
        for (k, v) in query.split('&').filter_map(|p| p.split_once('=')) {
            match k {
                "expires" => expires = v.parse::<u64>().ok(),
                "sig" => sig = Some(v),
                _ => {}
            }
        }
        let sig = sig?;
        let Some(expires) = expires.filter(|e| *e >= now) else { return Some(false) };
        let bytes: Option<Vec<u8>> =
            (0..sig.len()).step_by(2).map(|i| sig.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
        Some(bytes.is_some_and(|b| self.mac(id, expires).verify_slice(&b).is_ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_check_id_time_and_signature() {
        let links = Links::new(vec![7; 32]);
        let q = links.sign(VideoId(5), 1000);
        assert_eq!(links.check(VideoId(5), &q, 999), Some(true));
        assert_eq!(links.check(VideoId(5), &q, 1001), Some(false), "expired");
        assert_eq!(links.check(VideoId(6), &q, 999), Some(false), "another video");
        let tampered = q.replace("expires=1000", "expires=9000");
        assert_eq!(links.check(VideoId(5), &tampered, 999), Some(false));
        assert_eq!(links.check(VideoId(5), "expires=1000&sig=zz", 999), Some(false));
        assert_eq!(links.check(VideoId(5), "", 999), None);
        assert_eq!(Links::new(vec![8; 32]).check(VideoId(5), &q, 999), Some(false), "another server");
    }
}
