//! Which attributes of a resource a response carries (RFC 7644 §3.9): `attributes=` keeps
//! only those named, `excludedAttributes=` drops those named, both read against the schema
//! (names are case-insensitive; `id` and `schemas` always stay).
//!
//! INDIGO IAM keeps a whole top-level attribute when `attributes=` names one of its
//! sub-attributes (`name.givenName` keeps all of `name`), and so do we: an IAM client gets
//! what it got, and a SCIM client gets at least what it asked for. Attributes of an extension
//! (`urn:indigo-dc:scim:schemas:IndigoUser:oidcIds`) keep the extension object with only those
//! members; a schema URN alone keeps (or drops) all of it.

use serde_json::{Map, Value};

use super::schema::{ResourceType, Returned};

/// One entry of `attributes=` or `excludedAttributes=`, resolved against a resource type.
enum Named {
    /// A whole schema: the core one or an extension.
    Schema { urn: &'static str, core: bool },
    /// A top-level attribute (core or common), maybe narrowed to a sub-attribute.
    Top {
        name: &'static str,
        sub: Option<&'static str>,
        always: bool,
    },
    /// An attribute of an extension, maybe narrowed to a sub-attribute.
    Extension {
        urn: &'static str,
        name: &'static str,
        sub: Option<&'static str>,
    },
}

fn resolve(t: &ResourceType, entry: &str) -> Option<Named> {
    let entry = entry.trim();
    if let Some(schema) = t.schema_by_urn(entry) {
        return Some(Named::Schema {
            urn: schema.id,
            core: schema.id == t.schema.id,
        });
    }
    let (urn, rest) = match entry.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("urn:") => {
            let (urn, rest) = entry.rsplit_once(':')?;
            (Some(urn), rest)
        }
        _ => (None, entry),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((n, s)) => (n, Some(s)),
        None => (rest, None),
    };
    let r = t.resolve(urn, name, sub)?;
    let sub = r.sub.map(|s| s.name);
    Some(if r.in_extension() {
        Named::Extension {
            urn: r.schema.unwrap_or_default(),
            name: r.attribute.name,
            sub,
        }
    } else {
        Named::Top {
            name: r.attribute.name,
            sub,
            always: r.leaf().returned == Returned::Always,
        }
    })
}

fn entries(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|e| !e.is_empty())
}

/// The resource as a response with these `attributes` and `excludedAttributes` shows it.
pub fn project(
    t: &ResourceType,
    resource: Value,
    attributes: Option<&str>,
    excluded: Option<&str>,
) -> Value {
    let Value::Object(mut m) = resource else {
        return resource;
    };
    if let Some(list) = attributes.filter(|l| !l.trim().is_empty()) {
        m = keep(t, m, list);
    }
    if let Some(list) = excluded {
        for named in entries(list).filter_map(|e| resolve(t, e)) {
            drop_named(&mut m, named);
        }
    }
    Value::Object(m)
}

fn keep(t: &ResourceType, m: Map<String, Value>, list: &str) -> Map<String, Value> {
    let extensions: Vec<&str> = t.extensions.iter().map(|s| s.id).collect();
    let mut top: Vec<&str> = vec!["id", "schemas"];
    let mut all_core = false;
    // Per extension: None keeps all of it, Some(names) only those members.
    let mut ext: Vec<(&str, Option<Vec<&str>>)> = Vec::new();
    for named in entries(list).filter_map(|e| resolve(t, e)) {
        match named {
            Named::Schema { core: true, .. } => all_core = true,
            Named::Schema { urn, .. } => match ext.iter_mut().find(|(u, _)| *u == urn) {
                Some(e) => e.1 = None,
                None => ext.push((urn, None)),
            },
            Named::Top { name, .. } => top.push(name),
            Named::Extension { urn, name, .. } => match ext.iter_mut().find(|(u, _)| *u == urn) {
                Some((_, Some(names))) => names.push(name),
                Some((_, None)) => {}
                None => ext.push((urn, Some(vec![name]))),
            },
        }
    }
    m.into_iter()
        .filter_map(|(k, v)| {
            if extensions.contains(&k.as_str()) {
                let (_, names) = ext.iter().find(|(u, _)| *u == k)?;
                return Some(match (names, v) {
                    (Some(names), Value::Object(e)) => {
                        let e: Map<String, Value> = e
                            .into_iter()
                            .filter(|(k, _)| names.contains(&k.as_str()))
                            .collect();
                        (k, Value::Object(e))
                    }
                    (_, v) => (k, v),
                });
            }
            let kept = top.contains(&k.as_str()) || (all_core && k != "meta");
            kept.then_some((k, v))
        })
        .collect()
}

fn drop_named(m: &mut Map<String, Value>, named: Named) {
    match named {
        Named::Schema { core: true, .. } | Named::Top { always: true, .. } => {}
        Named::Schema { urn, .. } => {
            m.remove(urn);
        }
        Named::Top { name, sub, .. } => drop_member(m, name, sub),
        Named::Extension { urn, name, sub } => {
            if let Some(Value::Object(e)) = m.get_mut(urn) {
                drop_member(e, name, sub);
            }
        }
    }
}

/// Removes `name`, or only its sub-attribute `sub` (in the object or in each element).
fn drop_member(m: &mut Map<String, Value>, name: &str, sub: Option<&str>) {
    let Some(sub) = sub else {
        m.remove(name);
        return;
    };
    match m.get_mut(name) {
        Some(Value::Object(o)) => {
            o.remove(sub);
        }
        Some(Value::Array(items)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                item.remove(sub);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{INDIGO_USER, USER_TYPE};
    use serde_json::json;

    fn user() -> Value {
        json!({
            "id": "u1",
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", INDIGO_USER],
            "meta": {"resourceType": "User", "created": "c"},
            "userName": "alice",
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [{"value": "a@x", "type": "work", "primary": true}],
            "active": true,
            INDIGO_USER: {"serviceAccount": false, "oidcIds": [{"issuer": "i", "subject": "s"}]},
        })
    }

    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort();
        k
    }

    #[test]
    fn attributes_keeps_the_named_ones_with_id_and_schemas() {
        let v = project(&USER_TYPE, user(), Some("USERNAME,name.givenName"), None);
        assert_eq!(keys(&v), ["id", "name", "schemas", "userName"]);
        assert_eq!(
            v["name"]["familyName"], "Liddell",
            "IAM keeps the whole top level"
        );
    }

    #[test]
    fn extension_attributes_keep_only_their_members() {
        let v = project(
            &USER_TYPE,
            user(),
            Some(&format!("{INDIGO_USER}:oidcIds")),
            None,
        );
        assert_eq!(keys(&v[INDIGO_USER]), ["oidcIds"]);
        let v = project(&USER_TYPE, user(), Some(INDIGO_USER), None);
        assert_eq!(keys(&v[INDIGO_USER]), ["oidcIds", "serviceAccount"]);
        let v = project(
            &USER_TYPE,
            user(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User"),
            None,
        );
        assert!(v.get(INDIGO_USER).is_none() && v.get("meta").is_none());
        assert_eq!(v["userName"], "alice");
    }

    #[test]
    fn excluded_attributes_drop_the_named_ones_but_never_id() {
        let v = project(
            &USER_TYPE,
            user(),
            None,
            Some(&format!(
                "emails.primary, id, meta, {INDIGO_USER}:oidcIds.subject, nope"
            )),
        );
        assert_eq!(v["id"], "u1");
        assert!(v.get("meta").is_none());
        assert_eq!(v["emails"][0], json!({"value": "a@x", "type": "work"}));
        assert_eq!(v[INDIGO_USER]["oidcIds"][0], json!({"issuer": "i"}));
        let v = project(&USER_TYPE, user(), None, Some(INDIGO_USER));
        assert!(v.get(INDIGO_USER).is_none());
    }

    #[test]
    fn unknown_names_change_nothing() {
        assert_eq!(project(&USER_TYPE, user(), None, Some("x,urn:y:z")), user());
        let v = project(&USER_TYPE, user(), Some("nope"), None);
        assert_eq!(keys(&v), ["id", "schemas"]);
    }
}
