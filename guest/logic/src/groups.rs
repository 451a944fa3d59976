//! Groups outside SCIM (docs/api.md §6.1) and group membership (§6.2): the group is looked up first, then the account, and
//! both misses are 400s. Adding climbs to every ancestor; removing reaches every
//! descendant. Both are idempotent; each membership that changes touches the account and
//! the group.

use crate::attributes::{NAME_RULE, internal};
use crate::store::{Accounts, GroupStore, MembershipStore};
use crate::types::{Error, Group};
use crate::validation::{is_simple_name, java_len};

/// IAM's limits: a name and a description of at most 512 characters, and a full name
/// (`parent/name`) shorter than 512.
pub const MAX_NAME: usize = 512;
pub const MAX_DESCRIPTION: usize = 512;

fn invalid_group(msg: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("Invalid group: {msg}"))
}

/// IAM's message for a description over the limit.
fn description_error(description: Option<&str>) -> Option<String> {
    description
        .is_some_and(|d| java_len(d) > MAX_DESCRIPTION)
        .then(|| format!("description cannot be longer than {MAX_DESCRIPTION} chars"))
}

/// `POST /iam/group`, with IAM's bean validation: a rule about the whole group (the parent
/// exists, the full name `parent/name` is shorter than 512) wins alone; otherwise every field
/// message is given, joined by `,`.
pub fn create(
    groups: &impl GroupStore,
    name: Option<&str>,
    description: Option<&str>,
    parent_id: Option<&str>,
) -> Result<Group, Error> {
    let parent = match parent_id {
        Some(p) => Some(
            groups
                .get(p)
                .map_err(internal)?
                .ok_or_else(|| invalid_group("parent group not found"))?,
        ),
        None => None,
    };
    let full = match &parent {
        Some(p) => format!("{}/{}", p.name, name.unwrap_or("null")),
        None => name.unwrap_or_default().to_string(),
    };
    if parent.is_some() && java_len(&full) >= MAX_NAME {
        return Err(invalid_group("group name too long"));
    }
    let mut msgs = Vec::new();
    if name.is_some_and(|n| java_len(n) > MAX_NAME) {
        msgs.push(format!("name cannot be longer than {MAX_NAME} chars"));
    }
    // IAM looks up the name as given, so a missing name, or a child named like an existing
    // root group, is "already assigned". A taken full name is a database error (500) there.
    let taken = match name {
        None => true,
        Some(n) => {
            groups.find_by_name(n).map_err(internal)?.is_some()
                || (parent.is_some() && groups.find_by_name(&full).map_err(internal)?.is_some())
        }
    };
    if taken {
        msgs.push("name is already assigned".into());
    }
    if name.is_some_and(|n| !is_simple_name(n)) {
        msgs.push(NAME_RULE.into());
    }
    msgs.extend(description_error(description));
    if !msgs.is_empty() {
        return Err(invalid_group(msgs.join(",")));
    }
    let created = groups.create(&full, parent_id).map_err(internal)?;
    match description {
        Some(_) => groups
            .set_description(&created.id, description)
            .map_err(internal),
        None => Ok(created),
    }
}

/// `PUT /iam/group/{id}`: only the description changes. It is validated before the group is
/// looked up.
pub fn update_description(
    groups: &impl GroupStore,
    id: &str,
    description: Option<&str>,
) -> Result<Group, Error> {
    if let Some(msg) = description_error(description) {
        return Err(invalid_group(msg));
    }
    if groups.get(id).map_err(internal)?.is_none() {
        return Err(Error::NotFound(format!("Group not found for uuid: {id}")));
    }
    groups.set_description(id, description).map_err(internal)
}

fn require_group_and_account(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    account: &str,
    group: &str,
) -> Result<(), Error> {
    if groups.get(group).map_err(internal)?.is_none() {
        return Err(Error::Invalid(format!("Group not found for uuid: {group}")));
    }
    if accounts.get(account).map_err(internal)?.is_none() {
        return Err(Error::Invalid(format!(
            "Account not found for id '{account}'"
        )));
    }
    Ok(())
}

fn touch_both(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    account: &str,
    group: &str,
) -> Result<(), Error> {
    accounts.touch(account).map_err(internal)?;
    groups.touch(group).map_err(internal)
}

pub fn add_member(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    members: &impl MembershipStore,
    account: &str,
    group: &str,
) -> Result<(), Error> {
    require_group_and_account(accounts, groups, account, group)?;
    let mut chain = vec![group.to_string()];
    chain.extend(members.ancestors(group).map_err(internal)?);
    for g in &chain {
        if members.add(account, g).map_err(internal)? {
            touch_both(accounts, groups, account, g)?;
        }
    }
    Ok(())
}

pub fn remove_member(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    members: &impl MembershipStore,
    account: &str,
    group: &str,
) -> Result<(), Error> {
    require_group_and_account(accounts, groups, account, group)?;
    let mut tree = vec![group.to_string()];
    tree.extend(members.descendants(group).map_err(internal)?);
    for g in &tree {
        if members.remove(account, g).map_err(internal)? {
            touch_both(accounts, groups, account, g)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;

    #[test]
    fn lookups_are_group_first_and_both_400() {
        let s = FakeStore::default();
        let a = s.add_account("alice");
        assert_eq!(
            add_member(&s, &s, &s, "nobody", "nogroup"),
            Err(Error::Invalid("Group not found for uuid: nogroup".into()))
        );
        let g = GroupStore::create(&s, "g", None).unwrap().id;
        assert_eq!(
            remove_member(&s, &s, &s, "nobody", &g),
            Err(Error::Invalid("Account not found for id 'nobody'".into()))
        );
        add_member(&s, &s, &s, &a, &g).unwrap();
    }

    #[test]
    fn add_climbs_to_ancestors_and_remove_reaches_descendants() {
        let s = FakeStore::default();
        let a = s.add_account("alice");
        let root = GroupStore::create(&s, "root", None).unwrap().id;
        let mid = GroupStore::create(&s, "root/mid", Some(&root)).unwrap().id;
        let leaf = GroupStore::create(&s, "root/mid/leaf", Some(&mid))
            .unwrap()
            .id;
        add_member(&s, &s, &s, &a, &leaf).unwrap();
        assert_eq!(
            s.memberships(&a),
            [&root, &mid, &leaf].map(|s| s.to_string())
        );
        let touches = s.touches(&a);
        add_member(&s, &s, &s, &a, &leaf).unwrap();
        assert_eq!(s.touches(&a), touches, "already a member: nothing changes");
        remove_member(&s, &s, &s, &a, &mid).unwrap();
        assert_eq!(s.memberships(&a), std::slice::from_ref(&root));
        remove_member(&s, &s, &s, &a, &mid).unwrap();
        assert_eq!(s.memberships(&a), [root]);
    }

    #[test]
    fn create_and_describe() {
        let s = FakeStore::default();
        let err = |r: Result<Group, Error>| match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        // IAM's quirk: a missing name is "already assigned".
        assert_eq!(
            err(create(&s, None, None, None)),
            "Invalid group: name is already assigned"
        );
        assert_eq!(
            err(create(&s, Some("a/b"), None, None)),
            format!("Invalid group: {NAME_RULE}")
        );
        assert_eq!(
            err(create(&s, Some("x"), None, Some("nope"))),
            "Invalid group: parent group not found"
        );
        let root = create(&s, Some("root"), Some("the root"), None).unwrap();
        assert_eq!(root.description.as_deref(), Some("the root"));
        assert_eq!(
            err(create(&s, Some("root"), None, None)),
            "Invalid group: name is already assigned"
        );
        let child = create(&s, Some("child"), None, Some(&root.id)).unwrap();
        assert_eq!(child.name, "root/child");
        // Taken as a full name, and (IAM) a child named like a root group.
        assert_eq!(
            err(create(&s, Some("child"), None, Some(&root.id))),
            "Invalid group: name is already assigned"
        );
        assert_eq!(
            err(create(&s, Some("root"), None, Some(&child.id))),
            "Invalid group: name is already assigned"
        );
        assert_eq!(
            err(create(&s, Some(&"n".repeat(507)), None, Some(&root.id))),
            "Invalid group: group name too long"
        );
        // A rule about the whole group wins over the field messages.
        assert_eq!(
            err(create(&s, Some("1"), Some(&"d".repeat(513)), Some("nope"))),
            "Invalid group: parent group not found"
        );
        assert_eq!(
            err(create(&s, Some("d"), Some(&"d".repeat(513)), None)),
            "Invalid group: description cannot be longer than 512 chars"
        );
        // A root name may take all 512 characters; field messages are joined by ",".
        assert!(create(&s, Some(&"r".repeat(512)), None, None).is_ok());
        assert_eq!(
            err(create(
                &s,
                Some(&"9".repeat(513)),
                Some(&"d".repeat(513)),
                None
            )),
            format!(
                "Invalid group: name cannot be longer than 512 chars,{NAME_RULE},\
                 description cannot be longer than 512 chars"
            )
        );
        let updated = update_description(&s, &child.id, Some("kid")).unwrap();
        assert_eq!(updated.description.as_deref(), Some("kid"));
        assert_eq!(
            update_description(&s, "nope", None).unwrap_err(),
            Error::NotFound("Group not found for uuid: nope".into())
        );
        // The description is checked before the group is looked up.
        assert_eq!(
            err(update_description(&s, "nope", Some(&"d".repeat(513)))),
            "Invalid group: description cannot be longer than 512 chars"
        );
    }
}
