//! Per-slot call statistics: calls, failures, latency percentiles and, for the policy,
//! disagreements of the shadow policy. They live as long as the server, across reloads, so
//! Prometheus counters only ever grow.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency buckets: bucket `i` counts calls shorter than 2^i microseconds (the last one
/// takes everything longer).
const BUCKETS: usize = 28;

/// Failures in a row after which a slot is reported loudly (and again at each doubling).
const LOUD_AFTER: u64 = 5;

#[derive(Default)]
pub struct SlotStats {
    calls: AtomicU64,
    failures: AtomicU64,
    failures_in_a_row: AtomicU64,
    shadow_disagreements: AtomicU64,
    shadow_failures: AtomicU64,
    latency: [AtomicU64; BUCKETS],
}

/// What a slot did so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub calls: u64,
    pub failures: u64,
    pub shadow_disagreements: u64,
    pub shadow_failures: u64,
    /// Upper bounds of the buckets holding the median and the 99th percentile.
    pub p50_micros: u64,
    pub p99_micros: u64,
}

impl SlotStats {
    /// Records one call; returns how many calls in a row have failed when that number
    /// deserves a loud report.
    pub fn record(&self, took: Duration, failed: bool) -> Option<u64> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let micros = took.as_micros().max(1) as u64;
        let bucket = (64 - micros.leading_zeros() as usize).min(BUCKETS - 1);
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        if !failed {
            self.failures_in_a_row.store(0, Ordering::Relaxed);
            return None;
        }
        self.failures.fetch_add(1, Ordering::Relaxed);
        let streak = self.failures_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
        (streak >= LOUD_AFTER && streak.is_power_of_two() || streak == LOUD_AFTER).then_some(streak)
    }

    pub fn shadow_disagreed(&self) {
        self.shadow_disagreements.fetch_add(1, Ordering::Relaxed);
    }

    pub fn shadow_failed(&self) {
        self.shadow_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let counts: Vec<u64> = self
            .latency
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        let percentile = |p: f64| {
            if total == 0 {
                return 0;
            }
            let rank = ((total as f64) * p).ceil() as u64;
            let mut seen = 0;
            for (i, c) in counts.iter().enumerate() {
                seen += c;
                if seen >= rank {
                    return 1u64 << i;
                }
            }
            1u64 << (BUCKETS - 1)
        };
        Snapshot {
            calls: self.calls.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            shadow_disagreements: self.shadow_disagreements.load(Ordering::Relaxed),
            shadow_failures: self.shadow_failures.load(Ordering::Relaxed),
            p50_micros: percentile(0.5),
            p99_micros: percentile(0.99),
        }
    }
}

/// The statistics of every slot, by slot name.
#[derive(Default)]
pub struct Stats(Mutex<BTreeMap<&'static str, std::sync::Arc<SlotStats>>>);

impl Stats {
    pub fn slot(&self, name: &'static str) -> std::sync::Arc<SlotStats> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(name)
            .or_default()
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_buckets() {
        let s = SlotStats::default();
        for _ in 0..98 {
            s.record(Duration::from_micros(3), false);
        }
        s.record(Duration::from_millis(5), false);
        s.record(Duration::from_millis(5), true);
        let snap = s.snapshot();
        assert_eq!((snap.calls, snap.failures), (100, 1));
        assert_eq!(snap.p50_micros, 4);
        assert_eq!(snap.p99_micros, 8192);
    }

    #[test]
    fn a_failing_streak_is_reported_at_five_and_each_doubling() {
        let s = SlotStats::default();
        let loud: Vec<u64> = (0..40)
            .filter_map(|_| s.record(Duration::from_micros(1), true))
            .collect();
        assert_eq!(loud, [5, 8, 16, 32]);
        assert_eq!(s.record(Duration::from_micros(1), false), None);
        assert_eq!(s.record(Duration::from_micros(1), true), None);
    }
}
