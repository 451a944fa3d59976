//! Server-wide settings kept in the database (the token issuer, the plugin cache key).

use super::StoreResult;

/// Server-wide settings kept in the database, by key.
pub trait MetaStore {
    /// The value stored under `key`, if any.
    fn get(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` under `key`, replacing any previous value.
    fn set(&self, key: &str, value: &str) -> StoreResult<()>;
}
