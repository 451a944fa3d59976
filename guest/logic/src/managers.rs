//! Group managers (docs/api.md §6.3): managing a group means holding `ROLE_GM:<uuid>`; it
//! is independent of membership and does not touch the account. Appointing goes through
//! the `manager-store`, which can grant no other authority.

use crate::attributes::internal;
use crate::store::{Accounts, AuthorityStore, GroupStore, ManagerStore};
use crate::types::{Account, Error, GroupRef, User};

/// The authority that makes its holder a manager of `group`.
pub fn manager_authority(group: &str) -> String {
    format!("ROLE_GM:{group}")
}

fn account(accounts: &impl Accounts, id: &str) -> Result<Account, Error> {
    accounts
        .get(id)
        .map_err(internal)?
        .ok_or_else(|| Error::Invalid(format!("Account not found for id '{id}'")))
}

fn require_group(groups: &impl GroupStore, id: &str) -> Result<(), Error> {
    match groups.get(id).map_err(internal)? {
        Some(_) => Ok(()),
        None => Err(Error::Invalid(format!("Group '{id}' not found"))),
    }
}

/// The account with the groups it manages and the ones it does not.
pub fn managed_groups(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    auths: &impl AuthorityStore,
    id: &str,
) -> Result<(Account, Vec<GroupRef>, Vec<GroupRef>), Error> {
    let account = account(accounts, id)?;
    let held = auths.of_account(id).map_err(internal)?;
    let (managed, unmanaged) = groups
        .all_refs()
        .map_err(internal)?
        .into_iter()
        .partition(|g| held.contains(&manager_authority(&g.id)));
    Ok((account, managed, unmanaged))
}

pub fn add(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    managers: &impl ManagerStore,
    id: &str,
    group: &str,
) -> Result<(), Error> {
    let account = account(accounts, id)?;
    require_group(groups, group)?;
    if managers.appoint(id, group).map_err(internal)? {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "Authority '{}' is already bound to user '{}' ({})",
            manager_authority(group),
            account.username,
            account.id
        )))
    }
}

pub fn remove(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    managers: &impl ManagerStore,
    id: &str,
    group: &str,
) -> Result<(), Error> {
    account(accounts, id)?;
    require_group(groups, group)?;
    managers.dismiss(id, group).map_err(internal)?;
    Ok(())
}

pub fn group_managers(
    accounts: &impl Accounts,
    groups: &impl GroupStore,
    group: &str,
) -> Result<Vec<User>, Error> {
    require_group(groups, group)?;
    accounts
        .with_authority(&manager_authority(group))
        .map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;

    /// The fake appoints as the host does: by granting the group's authority.
    impl ManagerStore for FakeStore {
        fn appoint(&self, account_id: &str, group_id: &str) -> crate::store::StoreResult<bool> {
            AuthorityStore::grant(self, account_id, &manager_authority(group_id))
        }
        fn dismiss(&self, account_id: &str, group_id: &str) -> crate::store::StoreResult<bool> {
            AuthorityStore::revoke(self, account_id, &manager_authority(group_id))
        }
    }

    #[test]
    fn managing_is_the_gm_authority() {
        let s = FakeStore::default();
        let a = s.add_account("alice");
        let g = GroupStore::create(&s, "g", None).unwrap().id;
        let h = GroupStore::create(&s, "h", None).unwrap().id;
        assert_eq!(
            add(&s, &s, &s, "nobody", "nogroup"),
            Err(Error::Invalid("Account not found for id 'nobody'".into()))
        );
        assert_eq!(
            add(&s, &s, &s, &a, "nogroup"),
            Err(Error::Invalid("Group 'nogroup' not found".into()))
        );
        add(&s, &s, &s, &a, &g).unwrap();
        assert_eq!(
            add(&s, &s, &s, &a, &g),
            Err(Error::Invalid(format!(
                "Authority 'ROLE_GM:{g}' is already bound to user 'alice' ({a})"
            )))
        );
        let (account, managed, unmanaged) = managed_groups(&s, &s, &s, &a).unwrap();
        assert_eq!(account.username, "alice");
        assert_eq!(managed.iter().map(|r| &r.id).collect::<Vec<_>>(), [&g]);
        assert_eq!(unmanaged.iter().map(|r| &r.id).collect::<Vec<_>>(), [&h]);
        assert_eq!(group_managers(&s, &s, &g).unwrap().len(), 1);
        remove(&s, &s, &s, &a, &g).unwrap();
        remove(&s, &s, &s, &a, &g).unwrap();
        assert!(group_managers(&s, &s, &g).unwrap().is_empty());
        assert_eq!(s.touches(&a), 0);
    }
}
