//! SCIM groups (docs/api.md §10.4): the `displayName` rules, create, rename, member
//! patches, get, list, and the pages of a group's members and subgroups, and delete.

use super::{group_not_found, user_not_found};
use crate::attributes::internal;
use crate::paging::{scim_window, scim_window_up_to};
use crate::store::{Accounts, GroupStore, MembershipStore};
use crate::types::{
    Error, Group, GroupRef, ListQuery, MemberPatch, NewGroup, PageInfo, PageRequest, User,
};
use crate::validation::{is_blank, java_len};

/// The rules on a group's own name segment (`displayName`).
pub fn validate_group_display_name(name: Option<&str>) -> Result<&str, Error> {
    let name = match name {
        Some(n) if !is_blank(n) => n,
        _ => {
            return Err(Error::Invalid(
                "Invalid Scim Group: [scimGroup.displayName : must not be blank]".into(),
            ));
        }
    };
    if name.contains('/') {
        return Err(Error::Invalid(
            "Group displayName cannot contain a slash character".into(),
        ));
    }
    if java_len(name) > 50 {
        return Err(Error::Invalid(
            "Group name length cannot exceed 50 characters".into(),
        ));
    }
    Ok(name)
}

pub fn create_group(groups: &impl GroupStore, new: &NewGroup) -> Result<Group, Error> {
    let display = validate_group_display_name(new.display_name.as_deref())?;
    let parent_id = new.parent_id.as_deref().filter(|p| !p.is_empty());
    let full_name = match parent_id {
        None => display.to_string(),
        Some(pid) => {
            let parent = groups
                .get(pid)
                .map_err(internal)?
                .ok_or_else(|| Error::NotFound(format!("Parent group '{pid}' not found")))?;
            // IAM builds the name from the request's `parentGroup.display`, not the stored
            // parent name; fall back to the stored one when the request has none.
            let prefix = new.parent_display.clone().unwrap_or(parent.name);
            let full = format!("{prefix}/{display}");
            if java_len(&full) > 512 {
                return Err(Error::Invalid(
                    "Group displayName length cannot exceed 512 characters".into(),
                ));
            }
            full
        }
    };
    if groups.find_by_name(&full_name).map_err(internal)?.is_some() {
        return Err(Error::Conflict(format!("Duplicated group '{full_name}'")));
    }
    groups.create(&full_name, parent_id).map_err(internal)
}

/// `PUT /scim/Groups/{id}`: renames; a subgroup keeps its parent's prefix.
pub fn replace_group(groups: &impl GroupStore, id: &str, new: &NewGroup) -> Result<Group, Error> {
    let current = get_group(groups, id)?;
    let display = validate_group_display_name(new.display_name.as_deref())?;
    let name = match &current.parent {
        Some(p) => format!("{}/{display}", p.name),
        None => display.to_string(),
    };
    if name == current.name {
        return Ok(current);
    }
    if groups.find_by_name(&name).map_err(internal)?.is_some() {
        return Err(Error::Conflict(format!(
            "{name} is already mapped to another group"
        )));
    }
    groups.rename(id, &name).map_err(internal)
}

/// `PATCH /scim/Groups/{id}`: membership operations with the rules of
/// `POST|DELETE /iam/account/{a}/groups/{g}`.
pub fn patch_members(
    accounts: &impl Accounts,
    groups: &(impl GroupStore + MembershipStore),
    id: &str,
    ops: &[MemberPatch],
) -> Result<(), Error> {
    get_group(groups, id)?;
    for op in ops {
        if !op
            .path
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("members"))
        {
            return Err(Error::Invalid(format!(
                "Unsupported patch path: '{}'",
                op.path.as_deref().unwrap_or_default()
            )));
        }
        for member in &op.members {
            if accounts.get(member).map_err(internal)?.is_none() {
                return Err(user_not_found(member));
            }
        }
        let add = |m: &str| crate::groups::add_member(accounts, groups, groups, m, id);
        let remove = |m: &str| crate::groups::remove_member(accounts, groups, groups, m, id);
        match op.op.to_ascii_lowercase().as_str() {
            "add" => op.members.iter().try_for_each(|m| add(m))?,
            "remove" => op.members.iter().try_for_each(|m| remove(m))?,
            "replace" => {
                let current = accounts.members_of(id, 0, u64::MAX).map_err(internal)?;
                for gone in current
                    .iter()
                    .filter(|u| !op.members.contains(&u.account.id))
                {
                    remove(&gone.account.id)?;
                }
                op.members.iter().try_for_each(|m| add(m))?;
            }
            other => {
                return Err(Error::Invalid(format!(
                    "Unsupported patch operation: '{other}'"
                )));
            }
        }
    }
    Ok(())
}

pub fn get_group(groups: &impl GroupStore, id: &str) -> Result<Group, Error> {
    groups
        .get(id)
        .map_err(internal)?
        .ok_or_else(|| group_not_found(id))
}

/// `GET /scim/Groups`: the plain list, or the store's query when there is a filter or an
/// order.
pub fn list_groups(
    groups: &impl GroupStore,
    page: &PageRequest,
    query: &ListQuery,
) -> Result<(PageInfo, Vec<Group>), Error> {
    let w = scim_window_up_to(page, i64::from(query.max_results));
    let plain = query.filter.is_none() && query.sort_by.is_none();
    let total = if plain {
        groups.count()
    } else {
        groups.count_groups(query)
    }
    .map_err(internal)?;
    let list = if w.count_only {
        Vec::new()
    } else if plain {
        groups.list_groups(w.offset, w.limit).map_err(internal)?
    } else {
        groups
            .find_groups(query, w.offset, w.limit)
            .map_err(internal)?
    };
    Ok((w.info(total), list))
}

/// A page of the group's direct members, ordered by username.
pub fn list_members(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    group: &str,
    page: &PageRequest,
) -> Result<(PageInfo, Vec<User>), Error> {
    get_group(groups, group)?;
    let w = scim_window(page);
    let total = groups.count_members(group).map_err(internal)?;
    let users = if w.count_only {
        Vec::new()
    } else {
        accounts
            .members_of(group, w.offset, w.limit)
            .map_err(internal)?
    };
    Ok((w.info(total), users))
}

/// A page of the group's direct subgroups, ordered by name.
pub fn list_subgroups(
    groups: &impl GroupStore,
    group: &str,
    page: &PageRequest,
) -> Result<(PageInfo, Vec<GroupRef>), Error> {
    get_group(groups, group)?;
    let w = scim_window(page);
    let total = groups.count_subgroups(group).map_err(internal)?;
    let refs = if w.count_only {
        Vec::new()
    } else {
        groups
            .subgroups(group, w.offset, w.limit)
            .map_err(internal)?
    };
    Ok((w.info(total), refs))
}

pub fn delete_group(groups: &impl GroupStore, id: &str) -> Result<(), Error> {
    get_group(groups, id)?;
    if groups.count_members(id).map_err(internal)? > 0
        || groups.count_subgroups(id).map_err(internal)? > 0
    {
        return Err(Error::Invalid("Group is not empty".into()));
    }
    groups.delete(id).map_err(internal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;
    use crate::scim::tests::invalid;

    #[test]
    fn group_rules() {
        let store = FakeStore::default();
        let ng = |name: &str, parent: Option<(&str, &str)>| NewGroup {
            display_name: Some(name.into()),
            parent_id: parent.map(|p| p.0.to_string()),
            parent_display: parent.map(|p| p.1.to_string()),
        };
        assert!(invalid(create_group(&store, &ng("", None))).contains("must not be blank"));
        assert_eq!(
            invalid(create_group(&store, &ng("a/b", None))),
            "Group displayName cannot contain a slash character"
        );
        assert_eq!(
            invalid(create_group(&store, &ng(&"g".repeat(51), None))),
            "Group name length cannot exceed 50 characters"
        );
        let root = create_group(&store, &ng("root", None)).unwrap();
        assert_eq!(
            create_group(&store, &ng("root", None)).unwrap_err(),
            Error::Conflict("Duplicated group 'root'".into())
        );
        assert_eq!(
            create_group(&store, &ng("c", Some(("nope", "x")))).unwrap_err(),
            Error::NotFound("Parent group 'nope' not found".into())
        );
        let child = create_group(&store, &ng("child", Some((&root.id, "root")))).unwrap();
        assert_eq!(child.name, "root/child");
        assert_eq!(
            invalid(delete_group(&store, &root.id)),
            "Group is not empty"
        );
        delete_group(&store, &child.id).unwrap();
        delete_group(&store, &root.id).unwrap();
        assert_eq!(
            delete_group(&store, &root.id),
            Err(group_not_found(&root.id))
        );
    }
}
