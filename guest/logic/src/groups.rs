//! Group membership (reference §2.5): the group is looked up first, then the account, and
//! both misses are 400s. Adding climbs to every ancestor; removing reaches every
//! descendant. Both are idempotent; each membership that changes touches the account and
//! the group.

use crate::attributes::internal;
use crate::store::{Accounts, GroupStore, MembershipStore};
use crate::types::Error;

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
}
