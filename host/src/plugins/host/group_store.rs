//! `group-store`: reads of groups, their counts and the group tree; changes nothing.

use super::{R, StoreView, err};
use crate::contract::iam::plugin::{group_store, types};

impl group_store::Host for StoreView<'_> {
    fn get(&mut self, id: String) -> R<Option<types::Group>> {
        self.db()?.groups().by_uuid(&id).map_err(err)
    }

    fn find_by_name(&mut self, name: String) -> R<Option<types::Group>> {
        self.db()?.groups().by_name(&name).map_err(err)
    }

    fn count_members(&mut self, id: String) -> R<u64> {
        self.db()?.groups().count_members(&id).map_err(err)
    }

    fn count_subgroups(&mut self, id: String) -> R<u64> {
        self.db()?.groups().count_subgroups(&id).map_err(err)
    }

    fn count(&mut self) -> R<u64> {
        self.db()?.groups().count().map_err(err)
    }

    fn list_groups(&mut self, offset: u64, limit: u64) -> R<Vec<types::Group>> {
        self.db()?.groups().list(offset, limit).map_err(err)
    }

    fn count_groups(&mut self, query: types::ListQuery) -> R<u64> {
        self.db()?.groups().count_query(&query).map_err(err)
    }

    fn find_groups(
        &mut self,
        query: types::ListQuery,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::Group>> {
        self.db()?.groups().find(&query, offset, limit).map_err(err)
    }

    fn count_matching(&mut self, text: Option<String>) -> R<u64> {
        self.db()?
            .groups()
            .count_matching(text.as_deref())
            .map_err(err)
    }

    fn search(
        &mut self,
        text: Option<String>,
        descending: bool,
        offset: u64,
        limit: u64,
    ) -> R<Vec<types::Group>> {
        self.db()?
            .groups()
            .search(text.as_deref(), descending, offset, limit)
            .map_err(err)
    }

    fn subgroups(&mut self, id: String, offset: u64, limit: u64) -> R<Vec<types::GroupRef>> {
        self.db()?
            .groups()
            .subgroups(&id, offset, limit)
            .map_err(err)
    }

    fn all_refs(&mut self) -> R<Vec<types::GroupRef>> {
        self.db()?.groups().all_refs().map_err(err)
    }
}
