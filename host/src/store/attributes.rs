//! Account attributes (name/value pairs).

use super::StoreResult;
use crate::contract::types::Attribute;

/// Account attributes (name/value pairs).
pub trait AttributeStore {
    fn all(&self, account_uuid: &str) -> StoreResult<Vec<Attribute>>;
    /// Inserts or replaces by name. Does nothing when the account does not exist.
    fn put(&self, account_uuid: &str, attr: &Attribute) -> StoreResult<()>;
    fn remove(&self, account_uuid: &str, name: &str) -> StoreResult<bool>;
}
