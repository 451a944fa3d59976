//! Labels (prefix/name/value) of accounts and of groups.

use super::StoreResult;
use crate::contract::types::Label;

/// Labels (prefix/name/value) of accounts and of groups, keyed by (prefix, name); an
/// absent prefix is the unprefixed label.
pub trait LabelStore {
    /// The account's labels, ordered by prefix then name.
    fn all(&self, account_uuid: &str) -> StoreResult<Vec<Label>>;
    /// The account's label with this prefix and name.
    fn find(
        &self,
        account_uuid: &str,
        prefix: Option<&str>,
        name: &str,
    ) -> StoreResult<Option<Label>>;
    /// Inserts or replaces by (prefix, name). Does nothing when the account does not exist.
    fn put(&self, account_uuid: &str, label: &Label) -> StoreResult<()>;
    /// Removes the account's label; false when there was none.
    fn remove(&self, account_uuid: &str, prefix: Option<&str>, name: &str) -> StoreResult<bool>;
    /// The group's labels, ordered by prefix then name.
    fn of_group(&self, group_uuid: &str) -> StoreResult<Vec<Label>>;
    /// Inserts or replaces by (prefix, name). Does nothing when the group does not exist.
    fn put_on_group(&self, group_uuid: &str, label: &Label) -> StoreResult<()>;
    /// Removes the group's label; false when there was none.
    fn remove_from_group(
        &self,
        group_uuid: &str,
        prefix: Option<&str>,
        name: &str,
    ) -> StoreResult<bool>;
}
