//! `/iam/group/{id}/attributes` and `/iam/group/{id}/labels` (docs/api.md §6.4): the
//! account rules on a group. Validation comes before the lookup; attributes are keyed by
//! name, labels by (prefix, name); removing an absent one succeeds. Unlike an account, the
//! group is not touched: INDIGO IAM leaves its last-modified time alone.

use crate::attributes::internal;
use crate::store::{GroupMetadataStore, GroupStore};
use crate::types::{Attribute, Error, Label};

/// `not-found` unless the group exists.
fn require_group(groups: &impl GroupStore, id: &str) -> Result<(), Error> {
    match groups.get(id).map_err(internal)? {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("Group not found for uuid: {id}"))),
    }
}

pub fn attributes(
    groups: &impl GroupStore,
    store: &impl GroupMetadataStore,
    id: &str,
) -> Result<Vec<Attribute>, Error> {
    require_group(groups, id)?;
    store.get_attributes(id).map_err(internal)
}

pub fn set_attribute(
    groups: &impl GroupStore,
    store: &impl GroupMetadataStore,
    id: &str,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    crate::attributes::validate(name, value)?;
    require_group(groups, id)?;
    let attr = Attribute {
        name: name.unwrap_or_default().to_string(),
        value: value.map(String::from),
    };
    store.put_attribute(id, &attr).map_err(internal)
}

pub fn remove_attribute(
    groups: &impl GroupStore,
    store: &impl GroupMetadataStore,
    id: &str,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    crate::attributes::validate(name, value)?;
    require_group(groups, id)?;
    store
        .remove_attribute(id, name.unwrap_or_default())
        .map_err(internal)?;
    Ok(())
}

pub fn labels(
    groups: &impl GroupStore,
    store: &impl GroupMetadataStore,
    id: &str,
) -> Result<Vec<Label>, Error> {
    require_group(groups, id)?;
    store.get_labels(id).map_err(internal)
}

pub fn set_label(
    groups: &impl GroupStore,
    store: &impl GroupMetadataStore,
    id: &str,
    prefix: Option<&str>,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    crate::labels::validate(prefix, name, value)?;
    require_group(groups, id)?;
    let label = Label {
        prefix: prefix.map(String::from),
        name: name.unwrap_or_default().to_string(),
        value: value.map(String::from),
    };
    store.put_label(id, &label).map_err(internal)
}

pub fn remove_label(
    groups: &impl GroupStore,
    store: &impl GroupMetadataStore,
    id: &str,
    prefix: Option<&str>,
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(), Error> {
    crate::labels::validate(prefix, name, value)?;
    require_group(groups, id)?;
    store
        .remove_label(id, prefix, name.unwrap_or_default())
        .map_err(internal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_store::FakeStore;

    fn group(s: &FakeStore) -> String {
        GroupStore::create(s, "g", None).unwrap().id
    }

    #[test]
    fn validation_comes_before_the_lookup_and_unknown_groups_are_not_found() {
        let s = FakeStore::default();
        let bad = set_attribute(&s, &s, "nope", Some("1x"), None).unwrap_err();
        assert!(matches!(bad, Error::Invalid(m) if m.starts_with("Invalid attribute: ")));
        let bad = set_label(&s, &s, "nope", None, None, None).unwrap_err();
        assert_eq!(
            bad,
            Error::Invalid("Invalid label: name is required".into())
        );
        let missing = Error::NotFound("Group not found for uuid: nope".into());
        assert_eq!(attributes(&s, &s, "nope"), Err(missing.clone()));
        assert_eq!(labels(&s, &s, "nope"), Err(missing.clone()));
        assert_eq!(
            remove_label(&s, &s, "nope", None, Some("n"), None),
            Err(missing)
        );
    }

    #[test]
    fn attributes_are_keyed_by_name_and_labels_by_prefix_and_name() {
        let s = FakeStore::default();
        let g = group(&s);
        set_attribute(&s, &s, &g, Some("a"), Some("1")).unwrap();
        set_attribute(&s, &s, &g, Some("a"), None).unwrap();
        let attr = Attribute {
            name: "a".into(),
            value: None,
        };
        assert_eq!(attributes(&s, &s, &g), Ok(vec![attr]));
        remove_attribute(&s, &s, &g, Some("a"), Some("ignored")).unwrap();
        remove_attribute(&s, &s, &g, Some("a"), None).unwrap();
        assert_eq!(attributes(&s, &s, &g), Ok(vec![]));

        set_label(&s, &s, &g, Some("example.org"), Some("l"), Some("x")).unwrap();
        set_label(&s, &s, &g, None, Some("l"), None).unwrap();
        assert_eq!(labels(&s, &s, &g).unwrap().len(), 2);
        remove_label(&s, &s, &g, None, Some("l"), None).unwrap();
        let left = labels(&s, &s, &g).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].prefix.as_deref(), Some("example.org"));
        assert_eq!(s.touches(&g), 0, "a group is never marked modified");
    }
}
