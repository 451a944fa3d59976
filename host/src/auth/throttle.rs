//! Throttling of credential guessing (account passwords, client secrets). Every attempt is
//! counted as a failure the moment it starts, atomically with the check, so parallel
//! guesses cannot all slip in before the first failure is recorded; a success takes its
//! count back. Two counts apply: per (name, source address), and per name across all
//! sources, with a larger allowance, so spreading guesses over many addresses does not
//! help either. After the free failures each further one doubles a waiting time, capped;
//! while a wait runs, every attempt is refused, even one with the right secret (no oracle).
//! No lock lasts forever, and a record untouched for an hour is forgotten.
//!
//! The counts live in the database (`throttle_records`), read and written in one write
//! transaction per attempt, so a limit holds across every server sharing it, not once per
//! server; a password check costs far more than that transaction.

use std::net::IpAddr;
use std::time::Duration;

use crate::store::{Db, StoreError, ThrottleRecord, TxMode, now_ms};

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

    /// The record's key in the database: `what` keeps logins and client secrets apart.
    fn stored(&self, what: &str) -> String {
        match self {
            Key::Source(name, ip) => format!("{what}\u{1f}{name}\u{1f}{ip}"),
            Key::Name(name) => format!("{what}\u{1f}{name}"),
        }
    }
}

/// When attempts counted by `r` may start again (ms), if a wait runs.
fn blocked_until(r: &ThrottleRecord, free: u32) -> Option<u64> {
    if r.failures <= free {
        return None;
    }
    let doublings = (r.failures - free - 1).min(16);
    let wait = (FIRST_WAIT * 2u32.pow(doublings)).min(MAX_WAIT);
    Some(r.last_failure_ms + wait.as_millis() as u64)
}

/// `r` (if any) with one more failure at `now`; a forgotten record starts afresh.
fn one_more(r: Option<ThrottleRecord>, now: u64) -> ThrottleRecord {
    let forgotten = FORGET_AFTER.as_millis() as u64;
    let failures = match r {
        Some(r) if now.saturating_sub(r.last_failure_ms) < forgotten => r.failures,
        _ => 0,
    };
    ThrottleRecord {
        failures: failures.saturating_add(1),
        last_failure_ms: now,
    }
}

/// `r` with a failure taken back; `None` when nothing is left.
fn one_less(r: ThrottleRecord) -> Option<ThrottleRecord> {
    let failures = r.failures.saturating_sub(1);
    (failures > 0).then_some(ThrottleRecord { failures, ..r })
}

/// The longest wait the records of `keys` impose at `now`.
fn wait_of(keys: &[Key], records: &[Option<ThrottleRecord>], now: u64) -> Option<Duration> {
    keys.iter()
        .zip(records)
        .filter_map(|(k, r)| r.as_ref().and_then(|r| blocked_until(r, k.free())))
        .filter(|&until| until > now)
        .map(|until| Duration::from_millis(until - now))
        .max()
}

/// Why an attempt may not start.
#[derive(Debug)]
pub enum Refused {
    /// A wait runs: try again after it.
    Wait(Duration),
    /// The shared counts could not be read or written.
    Store(StoreError),
}

/// The throttle of one kind of credential check.
pub struct Throttle {
    /// What is checked (`login`, `client`), to keep the records apart.
    what: &'static str,
    db: Db,
}

/// An attempt in progress: counted as failed unless [`Attempt::succeeded`] is called.
#[must_use]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    keys: [Key; 2],
}

impl Throttle {
    pub fn new(what: &'static str, db: Db) -> Throttle {
        Throttle { what, db }
    }

    /// Starts an attempt for `name` from `source`, counted as a failure until it
    /// succeeds; refused while attempts must wait (nothing is counted then). Blocking.
    pub fn begin(&self, name: &str, source: IpAddr) -> Result<Attempt<'_>, Refused> {
        // Names are matched exactly by the login, but a guesser could vary the case of a
        // name that does not exist; folding costs nothing.
        let name = name.to_lowercase();
        let keys = [Key::Source(name.clone(), source), Key::Name(name)];
        let now = now_ms();
        let wait = self
            .db
            .transaction(TxMode::Write, |conn| {
                let stored = keys.clone().map(|k| k.stored(self.what));
                let current = [
                    conn.throttle().get(&stored[0])?,
                    conn.throttle().get(&stored[1])?,
                ];
                if let Some(wait) = wait_of(&keys, &current, now) {
                    return Ok(Some(wait));
                }
                for (k, r) in stored.iter().zip(current) {
                    conn.throttle().put(k, one_more(r, now))?;
                }
                // Now and then, the forgotten records go.
                if uuid::Uuid::new_v4().as_bytes()[0] == 0 {
                    let forgotten = FORGET_AFTER.as_millis() as u64;
                    conn.throttle()
                        .forget_before(now.saturating_sub(forgotten))?;
                }
                Ok::<_, StoreError>(None)
            })
            .map_err(Refused::Store)?;
        if let Some(wait) = wait {
            return Err(Refused::Wait(wait));
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
        let [source, name] = &self.keys;
        let what = self.throttle.what;
        let done = self.throttle.db.transaction(TxMode::Write, |conn| {
            conn.throttle().remove(&source.stored(what))?;
            let name = name.stored(what);
            match conn.throttle().get(&name)?.and_then(one_less) {
                Some(r) => conn.throttle().put(&name, r),
                None => conn.throttle().remove(&name),
            }
        });
        // The check itself succeeded; a count left behind only delays a guesser.
        if let Err(e) = done {
            tracing::warn!("could not take back a throttled attempt: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throttle over a database of its own.
    fn throttle() -> Throttle {
        let path = std::env::temp_dir().join(format!("throttle-{}.db", uuid::Uuid::new_v4()));
        let db = Db::open(&crate::store::Location::Sqlite(path)).unwrap();
        Throttle::new("login", db)
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn waits_start_after_the_free_failures_and_double() {
        let t = throttle();
        for _ in 0..=FREE_PER_SOURCE {
            drop(t.begin("alice", ip(1)).unwrap());
        }
        let Err(Refused::Wait(first)) = t.begin("Alice", ip(1)) else {
            panic!("not refused")
        };
        assert!(first <= FIRST_WAIT && first > FIRST_WAIT / 2, "{first:?}");
        // Another source and another account are not affected.
        assert!(t.begin("alice", ip(2)).is_ok());
        assert!(t.begin("bob", ip(1)).is_ok());
    }

    #[test]
    fn attempts_count_when_they_start() {
        let t = throttle();
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
        let t = throttle();
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
        let t = throttle();
        let record = ThrottleRecord {
            failures: 1000,
            last_failure_ms: now_ms(),
        };
        let key = Key::Name("alice".into()).stored("login");
        t.db.transaction(TxMode::Write, |c| c.throttle().put(&key, record))
            .unwrap();
        assert!(matches!(t.begin("alice", ip(1)), Err(Refused::Wait(w)) if w <= MAX_WAIT));
    }
}
