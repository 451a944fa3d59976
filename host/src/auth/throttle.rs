//! Throttling of credential guessing (account passwords, client secrets). Every attempt is
//! counted as a failure the moment it starts, under one lock, so parallel guesses cannot
//! all slip in before the first failure is recorded; a success takes its count back.
//! Two counts apply: per (name, source address), and per name across all sources, with a
//! larger allowance, so spreading guesses over many addresses does not help either. After
//! the free failures each further one doubles a waiting time, capped; while a wait runs,
//! every attempt is refused, even one with the right secret (no oracle). No lock lasts
//! forever, and a record untouched for an hour is forgotten.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed from one source before waiting starts.
const FREE_PER_SOURCE: u32 = 3;
/// Failures allowed across all sources before waiting starts.
const FREE_PER_NAME: u32 = 10;
/// The first wait; each further failure doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(300);
/// A record untouched this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Above this many records, forgotten ones are swept out.
const SWEEP_ABOVE: usize = 10_000;

/// Whose attempts a record counts.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    /// One name from one source.
    Source(String, IpAddr),
    /// One name from anywhere.
    Name(String),
}

impl Key {
    fn free(&self) -> u32 {
        match self {
            Key::Source(..) => FREE_PER_SOURCE,
            Key::Name(_) => FREE_PER_NAME,
        }
    }
}

#[derive(Default)]
pub struct Throttle {
    records: Mutex<HashMap<Key, Record>>,
}

struct Record {
    failures: u32,
    last_failure: Instant,
}

impl Record {
    /// When attempts may start again, if a wait runs.
    fn blocked_until(&self, free: u32) -> Option<Instant> {
        if self.failures <= free {
            return None;
        }
        let doublings = (self.failures - free - 1).min(16);
        Some(self.last_failure + (FIRST_WAIT * 2u32.pow(doublings)).min(MAX_WAIT))
    }
}

/// An attempt in progress: counted as failed unless [`Attempt::succeeded`] is called.
#[must_use]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    keys: [Key; 2],
}

impl Throttle {
    /// Starts an attempt for `name` from `source`, counted as a failure until it
    /// succeeds; `Err(wait)` while attempts must wait (nothing is counted then).
    pub fn begin(&self, name: &str, source: IpAddr) -> Result<Attempt<'_>, Duration> {
        // Names are matched exactly by the login, but a guesser could vary the case of a
        // name that does not exist; folding costs nothing.
        let name = name.to_lowercase();
        let keys = [Key::Source(name.clone(), source), Key::Name(name)];
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if records.len() > SWEEP_ABOVE {
            records.retain(|_, r| now.duration_since(r.last_failure) < FORGET_AFTER);
        }
        let wait = keys
            .iter()
            .filter_map(|k| records.get(k).and_then(|r| r.blocked_until(k.free())))
            .filter_map(|until| until.checked_duration_since(now))
            .filter(|w| !w.is_zero())
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        for k in &keys {
            let record = records.entry(k.clone()).or_insert(Record {
                failures: 0,
                last_failure: now,
            });
            if now.duration_since(record.last_failure) >= FORGET_AFTER {
                record.failures = 0;
            }
            record.failures = record.failures.saturating_add(1);
            record.last_failure = now;
        }
        Ok(Attempt {
            throttle: self,
            keys,
        })
    }
}

impl Attempt<'_> {
    /// The secret was right: this source starts afresh, and the attempt no longer counts
    /// against the name (other sources' failures still do).
    pub fn succeeded(self) {
        let mut records = self
            .throttle
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let [source, name] = &self.keys;
        records.remove(source);
        if let Some(r) = records.get_mut(name) {
            r.failures = r.failures.saturating_sub(1);
            if r.failures == 0 {
                records.remove(name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn waits_start_after_the_free_failures_and_double() {
        let t = Throttle::default();
        for _ in 0..=FREE_PER_SOURCE {
            drop(t.begin("alice", ip(1)).unwrap());
        }
        let first = t.begin("Alice", ip(1)).err().unwrap();
        assert!(first <= FIRST_WAIT && first > FIRST_WAIT / 2, "{first:?}");
        // Another source and another account are not affected.
        assert!(t.begin("alice", ip(2)).is_ok());
        assert!(t.begin("bob", ip(1)).is_ok());
    }

    #[test]
    fn attempts_count_when_they_start() {
        let t = Throttle::default();
        // Attempts in flight at once: only the free ones (and one more) start.
        let started: Vec<_> = (0..40)
            .filter_map(|_| t.begin("alice", ip(1)).ok())
            .collect();
        assert_eq!(started.len() as u32, FREE_PER_SOURCE + 1);
        // One of them was right: the others still count against the name.
        started.into_iter().next().unwrap().succeeded();
        assert!(t.begin("alice", ip(1)).is_ok());
    }

    #[test]
    fn the_name_is_capped_across_sources() {
        let t = Throttle::default();
        let mut started = 0;
        for n in 0..100 {
            if let Ok(a) = t.begin("alice", ip(n)) {
                drop(a);
                started += 1;
            }
        }
        assert_eq!(started, FREE_PER_NAME + 1);
        assert!(t.begin("alice", ip(200)).is_err());
        assert!(t.begin("bob", ip(200)).is_ok());
    }

    #[test]
    fn the_wait_is_capped() {
        let t = Throttle::default();
        let mut records = t.records.lock().unwrap();
        records.insert(
            Key::Name("alice".into()),
            Record {
                failures: 1000,
                last_failure: Instant::now(),
            },
        );
        drop(records);
        assert!(t.begin("alice", ip(1)).err().unwrap() <= MAX_WAIT);
    }
}
