//! `/iam/account/{id}/authorities` and `/iam/me/authorities` (docs/api.md §5.2): validation
//! first (only the first violation is reported), then the account, then the authority.
//! Authority changes do not touch the account's `lastModified`.

use crate::attributes::internal;
use crate::store::{Accounts, AuthorityStore};
use crate::types::{Account, Error, Principal};
use crate::validation::{is_blank, java_len};

/// The authority endpoints word their 404 differently from every other endpoint.
pub fn no_account(id: &str) -> Error {
    Error::NotFound(format!("No account found for id '{id}'"))
}

/// The request parameter `authority`: present, not blank, at most 128 characters.
pub fn validate(authority: Option<&str>) -> Result<&str, Error> {
    match authority {
        Some(a) if !is_blank(a) => {
            if java_len(a) > 128 {
                Err(Error::Invalid("Invalid authority size".into()))
            } else {
                Ok(a)
            }
        }
        _ => Err(Error::Invalid("Authority cannot be an empty string".into())),
    }
}

fn account(accounts: &impl Accounts, id: &str) -> Result<Account, Error> {
    accounts
        .get(id)
        .map_err(internal)?
        .ok_or_else(|| no_account(id))
}

fn require_known(auths: &impl AuthorityStore, authority: &str) -> Result<(), Error> {
    if auths.exists(authority).map_err(internal)? {
        Ok(())
    } else {
        Err(Error::Invalid(format!("Invalid authority: '{authority}'")))
    }
}

pub fn get(
    accounts: &impl Accounts,
    auths: &impl AuthorityStore,
    id: &str,
) -> Result<Vec<String>, Error> {
    account(accounts, id)?;
    auths.of_account(id).map_err(internal)
}

pub fn add(
    accounts: &impl Accounts,
    auths: &impl AuthorityStore,
    id: &str,
    authority: Option<&str>,
) -> Result<(), Error> {
    let authority = validate(authority)?;
    let account = account(accounts, id)?;
    require_known(auths, authority)?;
    if auths.grant(id, authority).map_err(internal)? {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "Authority '{authority}' is already bound to user '{}' ({})",
            account.username, account.id
        )))
    }
}

pub fn remove(
    accounts: &impl Accounts,
    auths: &impl AuthorityStore,
    id: &str,
    authority: Option<&str>,
) -> Result<(), Error> {
    let authority = validate(authority)?;
    account(accounts, id)?;
    require_known(auths, authority)?;
    auths.revoke(id, authority).map_err(internal)?;
    Ok(())
}

/// The caller's own authorities, read from the store.
pub fn get_own(auths: &impl AuthorityStore, caller: &Principal) -> Result<Vec<String>, Error> {
    match caller.account_id.as_deref() {
        Some(id) => auths.of_account(id).map_err(internal),
        None => Err(Error::Invalid(
            "No user linked to the current OAuth token".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;

    #[test]
    fn validation_then_account_then_authority() {
        let s = FakeStore::default();
        let empty = Error::Invalid("Authority cannot be an empty string".into());
        assert_eq!(add(&s, &s, "nobody", None), Err(empty.clone()));
        assert_eq!(add(&s, &s, "nobody", Some("  ")), Err(empty));
        let long = "R".repeat(129);
        assert_eq!(
            add(&s, &s, "nobody", Some(&long)),
            Err(Error::Invalid("Invalid authority size".into()))
        );
        assert_eq!(
            add(&s, &s, "nobody", Some("ROLE_X")),
            Err(no_account("nobody"))
        );
        let id = s.add_account("alice");
        assert_eq!(
            add(&s, &s, &id, Some("ROLE_X")),
            Err(Error::Invalid("Invalid authority: 'ROLE_X'".into()))
        );
        assert_eq!(
            remove(&s, &s, &id, Some("role_admin")),
            Err(Error::Invalid("Invalid authority: 'role_admin'".into()))
        );
    }

    #[test]
    fn add_twice_is_refused_and_remove_is_silent() {
        let s = FakeStore::default();
        let id = s.add_account("alice");
        add(&s, &s, &id, Some("ROLE_READER")).unwrap();
        assert_eq!(
            add(&s, &s, &id, Some("ROLE_READER")),
            Err(Error::Invalid(format!(
                "Authority 'ROLE_READER' is already bound to user 'alice' ({id})"
            )))
        );
        assert_eq!(get(&s, &s, &id).unwrap(), ["ROLE_USER", "ROLE_READER"]);
        remove(&s, &s, &id, Some("ROLE_READER")).unwrap();
        remove(&s, &s, &id, Some("ROLE_READER")).unwrap();
        assert_eq!(get(&s, &s, &id).unwrap(), ["ROLE_USER"]);
        assert_eq!(s.touches(&id), 0);
    }
}
