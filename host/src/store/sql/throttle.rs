//! Rows of `throttle_records`: failed credential checks shared by every server.

use super::{Connection, OptionalExtension, params, sql_int};
use crate::store::{StoreResult, ThrottleRecord, ThrottleStore};

impl ThrottleStore for Connection {
    fn get(&self, key: &str) -> StoreResult<Option<ThrottleRecord>> {
        Ok(self
            .prepare_cached(
                "SELECT failures, last_failure_ms FROM throttle_records WHERE key = ?1",
            )?
            .query_row([key], |r| {
                Ok(ThrottleRecord {
                    failures: r.get::<i64>(0)?.clamp(0, i64::from(u32::MAX)) as u32,
                    last_failure_ms: r.get::<i64>(1)?.max(0) as u64,
                })
            })
            .optional()?)
    }

    fn put(&self, key: &str, record: ThrottleRecord) -> StoreResult<()> {
        self.prepare_cached(
            "INSERT INTO throttle_records(key, failures, last_failure_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT(key) DO UPDATE SET failures = excluded.failures,
                                            last_failure_ms = excluded.last_failure_ms",
        )?
        .execute(params![
            key,
            i64::from(record.failures),
            sql_int(record.last_failure_ms)
        ])?;
        Ok(())
    }

    fn remove(&self, key: &str) -> StoreResult<()> {
        self.prepare_cached("DELETE FROM throttle_records WHERE key = ?1")?
            .execute([key])?;
        Ok(())
    }

    fn forget_before(&self, before_ms: u64) -> StoreResult<u64> {
        let n = self
            .prepare_cached("DELETE FROM throttle_records WHERE last_failure_ms < ?1")?
            .execute([sql_int(before_ms)])?;
        Ok(n as u64)
    }
}
