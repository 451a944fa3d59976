//! Counters of failed credential checks, kept in the database when several servers share
//! it, so that a limit holds across all of them (`auth::throttle` decides what they mean).

use super::StoreResult;

/// One counter: how many failures, and when the last one was (ms since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRecord {
    pub failures: u32,
    pub last_failure_ms: u64,
}

/// The counters, by key (`auth::throttle` builds the keys).
pub trait ThrottleStore {
    fn get(&self, key: &str) -> StoreResult<Option<ThrottleRecord>>;
    /// Creates or replaces the counter of `key`.
    fn put(&self, key: &str, record: ThrottleRecord) -> StoreResult<()>;
    fn remove(&self, key: &str) -> StoreResult<()>;
    /// Removes the counters whose last failure is older than `before_ms`; returns how many.
    fn forget_before(&self, before_ms: u64) -> StoreResult<u64>;
}
