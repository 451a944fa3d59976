//! `/iam/account/{id}/attributes` (docs/api.md §5.1): validation before lookup, attributes
//! keyed by name, PUT always touches the account, DELETE is idempotent.

use crate::store::{Accounts, AttributeStore};
use crate::types::{Attribute, Error};
use crate::validation::{
    NO_WHITESPACE, has_forbidden_whitespace, is_blank, is_simple_name, java_len,
};

pub const NAME_RULE: &str =
    "invalid name (does not match with regexp: '^[a-zA-Z][a-zA-Z0-9\\-_.]*$')";

/// The attribute rules, as IAM's bean validation reports them (messages joined by `,`).
pub fn validate(name: Option<&str>, value: Option<&str>) -> Result<(), Error> {
    let mut msgs = Vec::new();
    match name {
        None => msgs.push("must not be blank"),
        Some(n) => {
            if is_blank(n) {
                msgs.push("must not be blank");
            }
            if !is_simple_name(n) {
                msgs.push(NAME_RULE);
            }
            if java_len(n) > 64 {
                msgs.push("name cannot be longer than 64 chars");
            }
        }
    }
    if let Some(v) = value {
        if java_len(v) > 256 {
            msgs.push("value cannot be longer than 256 chars");
        }
        if has_forbidden_whitespace(v) {
            msgs.push(NO_WHITESPACE);
        }
    }
    if msgs.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "Invalid attribute: {}",
            msgs.join(",")
        )))
    }
}

pub fn account_not_found(id: &str) -> Error {
    Error::NotFound(format!("Account not found for id '{id}'"))
}

/// Store failures become internal errors; the host logs them.
pub fn internal(e: String) -> Error {
    Error::Internal(e)
}

/// `not-found` unless the account exists.
pub fn require_account(accounts: &impl Accounts, id: &str) -> Result<(), Error> {
    match accounts.get(id).map_err(internal)? {
        Some(_) => Ok(()),
        None => Err(account_not_found(id)),
    }
}

pub fn list(
    accounts: &impl Accounts,
    attrs: &impl AttributeStore,
    account_id: &str,
) -> Result<Vec<Attribute>, Error> {
    require_account(accounts, account_id)?;
    attrs.get_all(account_id).map_err(internal)
}

pub fn set(
    accounts: &impl Accounts,
    attrs: &impl AttributeStore,
    account_id: &str,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    validate(name, value)?;
    require_account(accounts, account_id)?;
    let attr = Attribute {
        name: name.unwrap_or_default().to_string(),
        value: value.map(String::from),
    };
    attrs.put(account_id, &attr).map_err(internal)?;
    accounts.touch(account_id).map_err(internal)
}

pub fn remove(
    accounts: &impl Accounts,
    attrs: &impl AttributeStore,
    account_id: &str,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    validate(name, value)?;
    require_account(accounts, account_id)?;
    let name = name.unwrap_or_default();
    if attrs.remove(account_id, name).map_err(internal)? {
        accounts.touch(account_id).map_err(internal)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;

    fn attr(name: &str, value: Option<&str>) -> Attribute {
        Attribute {
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    fn invalid(r: Result<(), Error>) -> String {
        match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn validation_messages() {
        assert!(validate(Some("affiliation"), Some("INFN-CNAF")).is_ok());
        assert!(validate(Some("a"), None).is_ok());
        assert!(validate(Some("a"), Some("")).is_ok());
        assert_eq!(
            invalid(validate(None, None)),
            "Invalid attribute: must not be blank"
        );
        assert!(invalid(validate(Some(""), None)).contains("must not be blank"));
        assert!(invalid(validate(Some("1abc"), None)).contains(NAME_RULE));
        assert!(
            invalid(validate(Some(&"a".repeat(65)), None))
                .contains("name cannot be longer than 64 chars")
        );
        assert!(validate(Some(&"a".repeat(64)), None).is_ok());
        assert!(
            invalid(validate(Some("a"), Some(&"v".repeat(257))))
                .contains("value cannot be longer than 256 chars")
        );
        assert!(validate(Some("a"), Some(&"v".repeat(256))).is_ok());
        assert!(invalid(validate(Some("a"), Some("x y"))).contains(NO_WHITESPACE));
        let both = invalid(validate(Some("-a"), Some("x\ny")));
        assert!(
            both.contains(NAME_RULE) && both.contains(NO_WHITESPACE),
            "{both}"
        );
    }

    #[test]
    fn validation_comes_before_lookup() {
        let store = FakeStore::default();
        let r = set(&store, &store, "missing", Some("bad name"), None);
        assert!(matches!(r, Err(Error::Invalid(_))));
        let r = set(&store, &store, "missing", None, Some("v"));
        assert_eq!(
            r,
            Err(Error::Invalid(
                "Invalid attribute: must not be blank".into()
            ))
        );
        let r = set(&store, &store, "missing", Some("ok"), None);
        assert_eq!(r, Err(account_not_found("missing")));
    }

    #[test]
    fn set_replaces_by_name_and_touches() {
        let store = FakeStore::default();
        let id = store.add_account("alice");
        set(&store, &store, &id, Some("a"), Some("1")).unwrap();
        set(&store, &store, &id, Some("a"), None).unwrap();
        assert_eq!(list(&store, &store, &id).unwrap(), vec![attr("a", None)]);
        assert_eq!(store.touches(&id), 2);
    }

    #[test]
    fn remove_is_idempotent_and_touches_only_on_removal() {
        let store = FakeStore::default();
        let id = store.add_account("alice");
        set(&store, &store, &id, Some("a"), Some("1")).unwrap();
        remove(&store, &store, &id, Some("a"), Some("whatever")).unwrap();
        remove(&store, &store, &id, Some("a"), None).unwrap();
        assert_eq!(store.touches(&id), 2);
        assert!(list(&store, &store, &id).unwrap().is_empty());
        assert!(matches!(
            remove(&store, &store, &id, None, None),
            Err(Error::Invalid(_))
        ));
    }
}
