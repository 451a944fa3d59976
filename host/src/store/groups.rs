//! Groups and their hierarchy.

use super::StoreResult;
use crate::contract::types::{Group, GroupRef, ListQuery};

/// Groups and their hierarchy.
pub trait GroupStore {
    fn by_uuid(&self, uuid: &str) -> StoreResult<Option<Group>>;
    fn by_name(&self, name: &str) -> StoreResult<Option<Group>>;
    /// Creates a group and its `ROLE_GM:<uuid>` authority.
    fn insert(&self, name: &str, parent_uuid: Option<&str>) -> StoreResult<Group>;
    fn set_description(&self, uuid: &str, description: Option<&str>) -> StoreResult<Group>;
    /// Renames a group and, since names are full paths, every group below it.
    fn rename(&self, uuid: &str, name: &str) -> StoreResult<Group>;
    /// Deletes a group; its manager authority goes with it (and so from every account).
    fn delete(&self, uuid: &str) -> StoreResult<bool>;
    fn count_members(&self, uuid: &str) -> StoreResult<u64>;
    fn count_subgroups(&self, uuid: &str) -> StoreResult<u64>;
    fn count(&self) -> StoreResult<u64>;
    fn list(&self, offset: u64, limit: u64) -> StoreResult<Vec<Group>>;
    /// The number of groups a SCIM list query's filter selects (checked first).
    fn count_query(&self, query: &ListQuery) -> StoreResult<u64>;
    /// A page of the groups a SCIM list query selects, in its order.
    fn find(&self, query: &ListQuery, offset: u64, limit: u64) -> StoreResult<Vec<Group>>;
    fn count_matching(&self, text: Option<&str>) -> StoreResult<u64>;
    /// A page of the groups matching `text`, ordered by name.
    fn search(
        &self,
        text: Option<&str>,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> StoreResult<Vec<Group>>;
    /// A page of a group's direct subgroups, ordered by name.
    fn subgroups(&self, uuid: &str, offset: u64, limit: u64) -> StoreResult<Vec<GroupRef>>;
    /// Every group as a reference, ordered by name.
    fn all_refs(&self) -> StoreResult<Vec<GroupRef>>;
    fn touch(&self, uuid: &str) -> StoreResult<()>;
}
