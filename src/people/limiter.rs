//! Sign-in attempts, counted per client address and per account name, so
//! that guessing is slow without locking the owner out for long: after
//! `FREE` failures each further one doubles the wait, up to `MAX_WAIT`;
//! a success clears the count. An attempt counts as a failure from the
//! moment it starts (a success takes it back), and each key has at most
//! one attempt being checked: guesses sent at once are refused, not
//! checked in parallel. Memory is bounded (`CAPACITY` keys; the stalest
//! are dropped first).

use std::collections::{HashMap, HashSet};
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
    /// Keys with an attempt being checked now.
    checking: Mutex<HashSet<String>>,
}

/// Why an attempt may not start.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Too many failures: try again after this long.
    Wait(Duration),
    /// Another attempt with the same name or from the same client is
    /// being checked.
    Busy,
}

/// An attempt being checked; its keys are free again when it is dropped.
pub struct Attempt<'a> {
    limiter: &'a Limiter,
    keys: Vec<String>,
}

impl Attempt<'_> {
    /// The password matched: the keys' failures are forgotten.
    pub fn succeeded(self) {
        self.limiter.succeeded(&self.keys);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if let Ok(mut checking) = self.limiter.checking.lock() {
            for k in &self.keys {
                checking.remove(k);
            }
        }
    }
}

impl Limiter {
    /// Starts an attempt for `keys`: refused while one of them must wait
    /// or has an attempt being checked; else counted as failed now (until
    /// `Attempt::succeeded`).
    pub fn begin(&self, keys: Vec<String>) -> Result<Attempt<'_>, Refused> {
        if let Some(wait) = self.wait(&keys) {
            return Err(Refused::Wait(wait));
        }
        {
            let mut checking = self.checking.lock().map_err(|_| Refused::Busy)?;
            if keys.iter().any(|k| checking.contains(k)) {
                return Err(Refused::Busy);
            }
            // Bounded like the counts: each key is a live request.
            checking.extend(keys.iter().cloned());
        }
        self.failed(&keys);
        Ok(Attempt { limiter: self, keys })
    }

    /// How long `keys` must wait before trying again (`None`: may try now).
    fn wait(&self, keys: &[String]) -> Option<Duration> {
        let map = self.failures.lock().ok()?;
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, _)| *n >= FREE)
            .map(|(n, last)| backoff(*n).saturating_sub(last.elapsed()))
            .filter(|d| !d.is_zero())
            .max()
    }

    fn failed(&self, keys: &[String]) {
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

    fn succeeded(&self, keys: &[String]) {
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

    #[test]
    fn one_attempt_per_key_at_a_time_counted_before_it_is_checked() {
        let l = Limiter::default();
        let keys = |ip: &str, name: &str| vec![format!("ip:{ip}"), format!("name:{name}")];
        let first = l.begin(keys("1", "alice")).unwrap();
        assert_eq!(l.begin(keys("1", "bob")).err(), Some(Refused::Busy), "same client");
        assert_eq!(l.begin(keys("2", "alice")).err(), Some(Refused::Busy), "same name");
        let other = l.begin(keys("2", "bob")).unwrap();
        assert_eq!(l.failures.lock().unwrap()["ip:1"].0, 1, "counted before the check ends");
        drop(first);
        other.succeeded();
        assert!(!l.failures.lock().unwrap().contains_key("ip:2"));
        // Guesses in a row: the count reaches the wait without any check ending in failure.
        for _ in 0..FREE - 1 {
            drop(l.begin(keys("1", "alice")).unwrap());
        }
        assert!(matches!(l.begin(keys("1", "alice")).err(), Some(Refused::Wait(_))));
        assert!(l.checking.lock().unwrap().is_empty());
    }
}
