//! Group memberships and the group tree's transitive relations.

use super::StoreResult;

/// Group memberships and the group tree's transitive relations.
pub trait MembershipStore {
    /// UUIDs of the group's ancestors, parent first.
    fn ancestors(&self, group_uuid: &str) -> StoreResult<Vec<String>>;
    /// UUIDs of every group below this one.
    fn descendants(&self, group_uuid: &str) -> StoreResult<Vec<String>>;
    fn add(&self, account_uuid: &str, group_uuid: &str) -> StoreResult<bool>;
    fn remove(&self, account_uuid: &str, group_uuid: &str) -> StoreResult<bool>;
}
