//! Failed sign-ins, counted per client address and per account name, so
//! that guessing is slow without locking the owner out for long: after
//! `FREE` failures each further one doubles the wait, up to `MAX_WAIT`;
//! a success clears the count. Memory is bounded (`CAPACITY` keys; the
//! stalest are dropped first).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE: u32 = 5;
const MAX_WAIT: Duration = Duration::from_secs(300);
const CAPACITY: usize = 10_000;
/// A count is forgotten after this long without failures.
const FORGET: Duration = Duration::from_secs(3600);

#[derive(Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Limiter {
    /// How long `keys` must wait before trying again (`None`: may try now).
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let map = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, _)| *n >= FREE)
            .map(|(n, last)| backoff(*n).saturating_sub(last.elapsed()))
            .filter(|d| !d.is_zero())
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let Ok(mut map) = self.failures.lock() else { return };
        if map.len() + keys.len() > CAPACITY {
            map.retain(|_, (_, last)| last.elapsed() < FORGET);
            while map.len() + keys.len() > CAPACITY {
                let Some(oldest) = map.iter().min_by_key(|(_, (_, last))| *last).map(|(k, _)| k.clone()) else { break };
                map.remove(&oldest);
            }
        }
        for k in keys {
            let e = map.entry(k.clone()).or_insert((0, Instant::now()));
            if e.1.elapsed() > FORGET {
                e.0 = 0;
            }
            e.0 += 1;
            e.1 = Instant::now();
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        if let Ok(mut map) = self.failures.lock() {
            for k in keys {
                map.remove(k);
            }
        }
    }
}

fn backoff(failures: u32) -> Duration {
    let extra = failures.saturating_sub(FREE).min(16);
    (Duration::from_secs(1) * 2u32.pow(extra)).min(MAX_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slows_guessing_and_stays_bounded() {
        let l = Limiter::default();
        let keys = vec!["ip:1".to_string(), "name:alice".to_string()];
        for _ in 0..FREE - 1 {
            l.failed(&keys);
        }
        assert!(l.wait(&keys).is_none(), "a few typos are free");
        l.failed(&keys);
        assert!(l.wait(&keys).is_some());
        assert!(l.wait(&["ip:2".to_string()]).is_none(), "others are not affected");
        l.succeeded(&keys);
        assert!(l.wait(&keys).is_none());
        for i in 0..CAPACITY + 100 {
            l.failed(&[format!("ip:{i}")]);
        }
        assert!(l.failures.lock().unwrap().len() <= CAPACITY);
        assert_eq!(backoff(100), MAX_WAIT);
    }
}
