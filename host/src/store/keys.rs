//! The token signing keys.

use super::StoreResult;

/// One stored ES256 key pair.
pub struct KeyRow {
    pub kid: String,
    pub private_pem: String,
    pub x: String,
    pub y: String,
    /// From when it signs (ms since the epoch); published from the start.
    pub signs_from_ms: u64,
}

/// The token signing keys.
pub trait KeyStore {
    /// Every key, newest first.
    fn all(&self) -> StoreResult<Vec<KeyRow>>;
    fn insert(&self, key: &KeyRow) -> StoreResult<()>;
}
