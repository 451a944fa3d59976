//! Account labels (prefix/name/value).

use super::StoreResult;
use crate::contract::types::Label;

/// Account labels (prefix/name/value).
pub trait LabelStore {
    fn all(&self, account_uuid: &str) -> StoreResult<Vec<Label>>;
    fn find(
        &self,
        account_uuid: &str,
        prefix: Option<&str>,
        name: &str,
    ) -> StoreResult<Option<Label>>;
    /// Inserts or replaces by (prefix, name). Does nothing when the account does not exist.
    fn put(&self, account_uuid: &str, label: &Label) -> StoreResult<()>;
    fn remove(&self, account_uuid: &str, prefix: Option<&str>, name: &str) -> StoreResult<bool>;
}
