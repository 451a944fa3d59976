//! Attributes (name/value pairs) of accounts and of groups.

use super::StoreResult;
use crate::contract::types::Attribute;

/// Attributes (name/value pairs) of accounts and of groups, keyed by name.
pub trait AttributeStore {
    /// The account's attributes, ordered by name.
    fn all(&self, account_uuid: &str) -> StoreResult<Vec<Attribute>>;
    /// Inserts or replaces by name. Does nothing when the account does not exist.
    fn put(&self, account_uuid: &str, attr: &Attribute) -> StoreResult<()>;
    /// Removes the account's attribute with this name; false when there was none.
    fn remove(&self, account_uuid: &str, name: &str) -> StoreResult<bool>;
    /// The group's attributes, ordered by name.
    fn of_group(&self, group_uuid: &str) -> StoreResult<Vec<Attribute>>;
    /// Inserts or replaces by name. Does nothing when the group does not exist.
    fn put_on_group(&self, group_uuid: &str, attr: &Attribute) -> StoreResult<()>;
    /// Removes the group's attribute with this name; false when there was none.
    fn remove_from_group(&self, group_uuid: &str, name: &str) -> StoreResult<bool>;
}
