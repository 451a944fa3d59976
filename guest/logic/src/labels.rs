//! `/iam/account/{id}/labels` (docs/api.md §5.3): labels are identified by (prefix, name);
//! an identical PUT leaves the account untouched; any other PUT and a real removal touch it.

use crate::attributes::{internal, require_account};
use crate::store::{Accounts, LabelStore};
use crate::types::{Error, Label};
use crate::validation::{
    NO_WHITESPACE, has_forbidden_whitespace, is_blank, is_dns_like, is_simple_name, java_len,
};

pub const PREFIX_RULE: &str = "invalid prefix (does not match with regexp: '^((?!-)[A-Za-z0-9-]{1,63}(?<!-)\\.)+[A-Za-z]{2,6}$')";
pub const NAME_RULE: &str =
    "invalid name (does not match with regexp: '^[a-zA-Z][a-zA-Z0-9-_.]*$')";

/// The label rules, as IAM reports them (messages joined by `,`).
pub fn validate(
    prefix: Option<&str>,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    let mut msgs = Vec::new();
    if let Some(p) = prefix {
        if java_len(p) > 256 {
            msgs.push("invalid prefix length");
        }
        if !is_dns_like(p) {
            msgs.push(PREFIX_RULE);
        }
    }
    match name {
        None => msgs.push("name is required"),
        Some(n) => {
            if is_blank(n) {
                msgs.push("name is required");
            }
            if java_len(n) > 64 {
                msgs.push("invalid name length");
            }
            if !is_simple_name(n) {
                msgs.push(NAME_RULE);
            }
        }
    }
    if let Some(v) = value {
        if java_len(v) > 64 {
            msgs.push("invalid value length");
        }
        if has_forbidden_whitespace(v) {
            msgs.push(NO_WHITESPACE);
        }
    }
    if msgs.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(format!("Invalid label: {}", msgs.join(","))))
    }
}

pub fn list(
    accounts: &impl Accounts,
    labels: &impl LabelStore,
    id: &str,
) -> Result<Vec<Label>, Error> {
    require_account(accounts, id)?;
    labels.get_all(id).map_err(internal)
}

pub fn set(
    accounts: &impl Accounts,
    labels: &impl LabelStore,
    id: &str,
    prefix: Option<&str>,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    validate(prefix, name, value)?;
    require_account(accounts, id)?;
    let label = Label {
        prefix: prefix.map(String::from),
        name: name.unwrap_or_default().to_string(),
        value: value.map(String::from),
    };
    let existing = labels.find(id, prefix, &label.name).map_err(internal)?;
    // Written even when identical, so the audit trail shows the request, as in IAM.
    labels.put(id, &label).map_err(internal)?;
    if existing.as_ref() != Some(&label) {
        accounts.touch(id).map_err(internal)?;
    }
    Ok(())
}

pub fn remove(
    accounts: &impl Accounts,
    labels: &impl LabelStore,
    id: &str,
    prefix: Option<&str>,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    validate(prefix, name, value)?;
    require_account(accounts, id)?;
    if labels
        .remove(id, prefix, name.unwrap_or_default())
        .map_err(internal)?
    {
        accounts.touch(id).map_err(internal)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attributes::account_not_found;
    use crate::fake_store::FakeStore;

    fn invalid(r: Result<(), Error>) -> String {
        match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn validation_messages() {
        assert!(validate(Some("example.org"), Some("label"), Some("v")).is_ok());
        assert!(validate(None, Some("a-b_c.d"), None).is_ok());
        assert_eq!(
            invalid(validate(None, None, None)),
            "Invalid label: name is required"
        );
        assert!(invalid(validate(Some("aword"), Some("n"), None)).contains(PREFIX_RULE));
        let long_prefix = format!("{}.org", "a.".repeat(130));
        assert!(
            invalid(validate(Some(&long_prefix), Some("n"), None))
                .contains("invalid prefix length")
        );
        assert!(invalid(validate(None, Some("-pippo"), None)).contains(NAME_RULE));
        assert!(
            invalid(validate(None, Some(&"n".repeat(65)), None)).contains("invalid name length")
        );
        assert!(
            invalid(validate(None, Some("n"), Some(&"v".repeat(65))))
                .contains("invalid value length")
        );
        assert!(validate(None, Some("n"), Some(&"v".repeat(64))).is_ok());
        assert!(invalid(validate(None, Some("n"), Some("a b"))).contains(NO_WHITESPACE));
    }

    #[test]
    fn identical_put_is_a_no_op_and_identity_is_prefix_and_name() {
        let s = FakeStore::default();
        let id = s.add_account("alice");
        set(&s, &s, &id, None, Some("l"), Some("1")).unwrap();
        set(&s, &s, &id, None, Some("l"), Some("1")).unwrap();
        assert_eq!(s.touches(&id), 1);
        set(&s, &s, &id, Some("example.org"), Some("l"), None).unwrap();
        set(&s, &s, &id, None, Some("l"), Some("2")).unwrap();
        assert_eq!(s.touches(&id), 3);
        let all = list(&s, &s, &id).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0],
            Label {
                prefix: None,
                name: "l".into(),
                value: Some("2".into())
            }
        );
        remove(&s, &s, &id, None, Some("l"), Some("ignored")).unwrap();
        remove(&s, &s, &id, None, Some("l"), None).unwrap();
        assert_eq!(s.touches(&id), 4);
        assert_eq!(list(&s, &s, &id).unwrap().len(), 1);
        assert_eq!(
            remove(&s, &s, "nobody", None, Some("l"), None),
            Err(account_not_found("nobody"))
        );
    }
}
