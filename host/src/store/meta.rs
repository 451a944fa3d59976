//! Server-wide settings kept in the database (the token issuer, the plugin cache key).

use super::StoreResult;

/// Where the database's schema stands against the migrations this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaState {
    /// Migrations the database has.
    pub at: u32,
    /// Migrations this server knows.
    pub latest: u32,
}

impl SchemaState {
    pub fn current(&self) -> bool {
        self.at == self.latest
    }
}

/// Server-wide settings kept in the database, by key.
pub trait MetaStore {
    /// The schema's version against this server's migrations (readiness reads it).
    fn schema(&self) -> StoreResult<SchemaState>;
    /// The value stored under `key`, if any.
    fn get(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` under `key`, replacing any previous value.
    fn set(&self, key: &str, value: &str) -> StoreResult<()>;
}
