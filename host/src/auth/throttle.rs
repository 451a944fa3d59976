//! Throttling of failed password attempts, per account and source address: after a few
//! failures each further one doubles a waiting time, capped, and a success clears it. A
//! guesser elsewhere never locks the owner out, and no lock lasts forever.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before waiting starts.
const FREE_FAILURES: u32 = 3;
/// The first wait; each further failure doubles it.
const FIRST_WAIT: Duration = Duration::from_secs(1);
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// A record untouched this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Above this many records, forgotten ones are swept out.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Default)]
pub struct Throttle {
    records: Mutex<HashMap<(String, IpAddr), Record>>,
}

struct Record {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

impl Throttle {
    /// `Err(wait)` while attempts for `username` from `source` must wait.
    pub fn check(&self, username: &str, source: IpAddr) -> Result<(), Duration> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match records
            .get(&key(username, source))
            .and_then(|r| r.blocked_until)
        {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, username: &str, source: IpAddr) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if records.len() > SWEEP_ABOVE {
            records.retain(|_, r| now.duration_since(r.last_failure) < FORGET_AFTER);
        }
        let record = records.entry(key(username, source)).or_insert(Record {
            failures: 0,
            last_failure: now,
            blocked_until: None,
        });
        if now.duration_since(record.last_failure) >= FORGET_AFTER {
            record.failures = 0;
        }
        record.failures += 1;
        record.last_failure = now;
        if record.failures > FREE_FAILURES {
            let doublings = (record.failures - FREE_FAILURES - 1).min(16);
            let wait = (FIRST_WAIT * 2u32.pow(doublings)).min(MAX_WAIT);
            record.blocked_until = Some(now + wait);
        }
    }

    pub fn succeeded(&self, username: &str, source: IpAddr) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records.remove(&key(username, source));
    }
}

/// Usernames are matched exactly by the login, but a guesser could vary the case of a
/// name that does not exist; folding costs nothing.
fn key(username: &str, source: IpAddr) -> (String, IpAddr) {
    (username.to_lowercase(), source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double() {
        let t = Throttle::default();
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        let there: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..FREE_FAILURES {
            t.failed("alice", here);
            assert!(t.check("alice", here).is_ok());
        }
        t.failed("alice", here);
        let first = t.check("Alice", here).unwrap_err();
        assert!(first <= FIRST_WAIT && first > FIRST_WAIT / 2, "{first:?}");
        t.failed("alice", here);
        assert!(t.check("alice", here).unwrap_err() > FIRST_WAIT);
        // Another source and another account are not affected.
        assert!(t.check("alice", there).is_ok());
        assert!(t.check("bob", here).is_ok());
        t.succeeded("alice", here);
        assert!(t.check("alice", here).is_ok());
    }

    #[test]
    fn the_wait_is_capped() {
        let t = Throttle::default();
        let here: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..100 {
            t.failed("alice", here);
        }
        assert!(t.check("alice", here).unwrap_err() <= MAX_WAIT);
    }
}
