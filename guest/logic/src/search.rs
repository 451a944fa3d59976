//! Account and group search (docs/api.md §9): paging family C (at most 10 a page), an
//! optional substring filter, and lenient sort parameters (anything unknown is the default).

use crate::attributes::internal;
use crate::paging::search_window;
use crate::store::{Accounts, GroupStore};
use crate::types::{AccountOrder, Error, Group, PageInfo, SearchRequest, User};

/// `sortBy`: `email` and `creation` (any case) pick those; anything else is by name.
pub fn account_order(sort_by: Option<&str>) -> AccountOrder {
    match sort_by.map(str::to_ascii_lowercase).as_deref() {
        Some("email") => AccountOrder::Email,
        Some("creation") => AccountOrder::Creation,
        _ => AccountOrder::Name,
    }
}

/// `sortDirection`: `desc` (any case) is descending; anything else ascending.
pub fn descending(sort_direction: Option<&str>) -> bool {
    sort_direction.is_some_and(|d| d.eq_ignore_ascii_case("desc"))
}

/// An empty filter is no filter.
fn filter(req: &SearchRequest) -> Option<&str> {
    req.filter.as_deref().filter(|f| !f.is_empty())
}

pub fn accounts(
    store: &impl Accounts,
    req: &SearchRequest,
) -> Result<(PageInfo, Vec<User>), Error> {
    let w = search_window(req.start_index, req.count);
    let pattern = filter(req);
    let total = store.count_matching(pattern).map_err(internal)?;
    let users = if w.count_only {
        Vec::new()
    } else {
        let order = account_order(req.sort_by.as_deref());
        let desc = descending(req.sort_direction.as_deref());
        store
            .search(pattern, order, desc, w.offset, w.limit)
            .map_err(internal)?
    };
    Ok((w.info(total), users))
}

pub fn groups(
    store: &impl GroupStore,
    req: &SearchRequest,
) -> Result<(PageInfo, Vec<Group>), Error> {
    let w = search_window(req.start_index, req.count);
    let text = filter(req);
    let total = store.count_matching(text).map_err(internal)?;
    let groups = if w.count_only {
        Vec::new()
    } else {
        store
            .search(
                text,
                descending(req.sort_direction.as_deref()),
                w.offset,
                w.limit,
            )
            .map_err(internal)?
    };
    Ok((w.info(total), groups))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_parameters_are_lenient() {
        assert_eq!(account_order(None), AccountOrder::Name);
        assert_eq!(account_order(Some("EMAIL")), AccountOrder::Email);
        assert_eq!(account_order(Some("Creation")), AccountOrder::Creation);
        assert_eq!(account_order(Some("bogus")), AccountOrder::Name);
        assert!(descending(Some("DESC")));
        assert!(!descending(Some("asc")) && !descending(Some("sideways")) && !descending(None));
    }

    #[test]
    fn paging_filter_and_order() {
        use crate::fake_store::FakeStore;
        let store = FakeStore::default();
        for name in ["carol", "alice", "bob"] {
            store.add_account(name);
        }
        let req = |filter: Option<&str>, count: Option<i64>, dir: Option<&str>| SearchRequest {
            filter: filter.map(Into::into),
            start_index: None,
            count,
            sort_by: Some("email".into()),
            sort_direction: dir.map(Into::into),
        };
        let (info, users) = accounts(&store, &req(None, None, None)).unwrap();
        assert_eq!(info.total_results, 3);
        let names: Vec<_> = users.iter().map(|u| u.account.username.as_str()).collect();
        assert_eq!(names, ["alice", "bob", "carol"]);
        let (_, users) = accounts(&store, &req(Some(""), Some(1), Some("desc"))).unwrap();
        assert_eq!(users[0].account.username, "carol");
        let (info, users) = accounts(&store, &req(Some("ALI"), Some(0), None)).unwrap();
        assert!(info.count_only && users.is_empty());
        assert_eq!(info.total_results, 1);
    }
}
