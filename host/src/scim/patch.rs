//! One SCIM PATCH operation with a `path` applied to a resource's JSON (RFC 7644 §3.5.2),
//! read against the schema: names are case-insensitive, read-only attributes refuse any
//! change, value filters select elements of multi-valued attributes with the case-exactness
//! the schema gives their sub-attributes. What the result means for the store is decided by
//! the caller, which compares the resource before and after.

use serde_json::{Map, Value};

use super::filter::AttrPath;
use super::path::PatchPath;
use super::schema::{Attribute, Kind, Mutability, ResourceType, Schema};

/// The three PATCH operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Remove,
    Replace,
}

impl Op {
    /// `add`, `remove` or `replace`, in any case (clients differ; RFC 7644 writes them in
    /// lower case, some send `Add`).
    pub fn parse(name: &str) -> Option<Op> {
        match name.to_ascii_lowercase().as_str() {
            "add" => Some(Op::Add),
            "remove" => Some(Op::Remove),
            "replace" => Some(Op::Replace),
            _ => None,
        }
    }
}

/// Why an operation cannot apply: each is a 400 with the `scimType` of its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    InvalidPath(String),
    NoTarget(String),
    Mutability(String),
    InvalidValue(String),
}

/// Where a resolved path points: the JSON member that holds the attribute and the
/// attribute's definition.
struct Target<'a> {
    /// The object holding the attribute: the resource, or its extension object.
    holder: &'a mut Map<String, Value>,
    key: &'static str,
    attribute: &'static Attribute,
}

/// Resolves `path.attr` on `t`: 400 `invalidPath` for a name the type does not have.
pub fn resolve(
    t: &ResourceType,
    path: &PatchPath,
) -> Result<(&'static Attribute, Option<&'static Attribute>), PatchError> {
    let AttrPath { urn, name, sub } = &path.attr;
    let unknown = || PatchError::InvalidPath(format!("No attribute '{path}' on a {}", t.name));
    let r = t
        .resolve(urn.as_deref(), name, sub.as_deref())
        .ok_or_else(unknown)?;
    let after = match &path.sub {
        Some(s) => Some(r.attribute.sub(s).ok_or_else(unknown)?),
        None => None,
    };
    Ok((r.attribute, r.sub.or(after)))
}

fn target<'a>(
    t: &ResourceType,
    doc: &'a mut Value,
    path: &PatchPath,
) -> Result<Target<'a>, PatchError> {
    let (attribute, _) = resolve(t, path)?;
    let schema = match &path.attr.urn {
        Some(urn) => t.schema_by_urn(urn).map(|s| s.id),
        None => None,
    }
    .filter(|id| *id != t.schema.id);
    let root = doc
        .as_object_mut()
        .ok_or_else(|| PatchError::InvalidValue("the resource is not an object".into()))?;
    let holder = match schema {
        Some(urn) => root
            .entry(urn)
            .or_insert_with(|| Value::Object(Map::new()))
            .as_object_mut()
            .ok_or_else(|| PatchError::InvalidValue(format!("'{urn}' is not an object")))?,
        None => root,
    };
    Ok(Target {
        holder,
        key: attribute.name,
        attribute,
    })
}

/// The extension schema a path names whole (`urn:indigo-dc:scim:schemas:IndigoUser`: a
/// URN with no attribute after it), if it does. Clients use it to change several of the
/// extension's attributes in one operation.
pub fn whole_extension(t: &ResourceType, path: &PatchPath) -> Option<&'static Schema> {
    let urn = path.attr.urn.as_deref()?;
    if path.attr.sub.is_some() || path.filter.is_some() {
        return None;
    }
    let whole = format!("{urn}:{}", path.attr.name);
    t.extensions
        .iter()
        .copied()
        .find(|s| s.id.eq_ignore_ascii_case(&whole))
}

/// Applies one operation with a path to `doc`.
pub fn apply(
    t: &ResourceType,
    doc: &mut Value,
    op: Op,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    if let Some(schema) = whole_extension(t, path) {
        return apply_extension(t, doc, op, schema, value);
    }
    let (attribute, sub) = resolve(t, path)?;
    let leaf = sub.unwrap_or(attribute);
    if leaf.mutability == Mutability::ReadOnly || attribute.mutability == Mutability::ReadOnly {
        return Err(PatchError::Mutability(format!(
            "Attribute '{path}' is read-only"
        )));
    }
    let value = match (op, value) {
        (Op::Remove, _) => None,
        (_, None | Some(Value::Null)) => {
            return Err(PatchError::InvalidValue(format!(
                "The {} of '{path}' needs a value",
                if op == Op::Add { "add" } else { "replace" }
            )));
        }
        (_, Some(v)) => Some(v),
    };
    if path.filter.is_some() && !attribute.multi_valued {
        return Err(PatchError::InvalidPath(format!(
            "'{}' is not multi-valued: a value filter cannot select in it",
            attribute.name
        )));
    }
    let sub_name = sub.map(|s| s.name);
    let target = target(t, doc, path)?;
    if !attribute.multi_valued {
        return single(target, op, sub_name, value, path);
    }
    multi(target, op, path, sub_name, value)
}

/// An operation on a whole extension: each attribute the value names (add, replace), or
/// every attribute a client may change (remove), as an operation of its own.
fn apply_extension(
    t: &ResourceType,
    doc: &mut Value,
    op: Op,
    schema: &'static Schema,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let path_of = |name: &str| PatchPath {
        attr: AttrPath {
            urn: Some(schema.id.to_string()),
            name: name.to_string(),
            sub: None,
        },
        filter: None,
        sub: None,
    };
    match (op, value) {
        (Op::Remove, _) => {
            for a in schema.attributes {
                if a.mutability != Mutability::ReadOnly {
                    apply(t, doc, Op::Remove, &path_of(a.name), None)?;
                }
            }
            Ok(())
        }
        (_, Some(Value::Object(given))) => {
            for (name, v) in given {
                apply(t, doc, op, &path_of(name), Some(v))?;
            }
            Ok(())
        }
        _ => Err(PatchError::InvalidValue(format!(
            "The value for '{}' must be an object of its attributes",
            schema.id
        ))),
    }
}

fn single(
    target: Target,
    op: Op,
    sub: Option<&'static str>,
    value: Option<&Value>,
    path: &PatchPath,
) -> Result<(), PatchError> {
    let Target {
        holder,
        key,
        attribute,
    } = target;
    match (sub, value) {
        (None, None) => {
            holder.remove(key);
        }
        (Some(sub), None) => {
            if let Some(Value::Object(o)) = holder.get_mut(key) {
                o.remove(sub);
            }
        }
        (Some(sub), Some(v)) => {
            let entry = holder
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            entry[sub] = v.clone();
        }
        (None, Some(v)) if attribute.kind == Kind::Complex => {
            let Value::Object(given) = v else {
                return Err(PatchError::InvalidValue(format!(
                    "The value of '{path}' must be an object"
                )));
            };
            let entry = holder
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() || op == Op::Replace && given.is_empty() {
                *entry = Value::Object(Map::new());
            }
            // Add and replace both set the sub-attributes given and keep the others
            // (RFC 7644 §3.5.2.1, §3.5.2.3).
            for (k, v) in given {
                let name = attribute.sub(k).map_or(k.as_str(), |a| a.name);
                entry[name] = v.clone();
            }
        }
        (None, Some(v)) => {
            holder.insert(key.to_string(), v.clone());
        }
    }
    Ok(())
}

/// The value of an add or replace of a multi-valued attribute, as a list.
fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn multi(
    target: Target,
    op: Op,
    path: &PatchPath,
    sub: Option<&'static str>,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let Target {
        holder,
        key,
        attribute,
    } = target;
    let mut list: Vec<Value> = match holder.remove(key) {
        Some(Value::Array(a)) => a,
        None | Some(Value::Null) => Vec::new(),
        Some(other) => vec![other],
    };
    let selected: Vec<bool> = match &path.filter {
        Some(filter) => {
            let case_exact = |p: &AttrPath| attribute.sub(&p.name).is_some_and(|a| a.case_exact);
            let hits: Vec<bool> = list
                .iter()
                .map(|e| filter.matches(e, &case_exact))
                .collect();
            if !hits.contains(&true) {
                holder.insert(key.to_string(), Value::Array(list));
                return Err(PatchError::NoTarget(format!(
                    "No value of '{}' matches the filter in '{path}'",
                    attribute.name
                )));
            }
            hits
        }
        None => vec![true; list.len()],
    };
    match (op, sub, value) {
        (Op::Remove, None, _) => {
            let mut keep = selected.iter();
            list.retain(|_| !keep.next().copied().unwrap_or(false));
        }
        (Op::Remove, Some(sub), _) => {
            for (e, _) in list.iter_mut().zip(&selected).filter(|(_, s)| **s) {
                if let Some(o) = e.as_object_mut() {
                    o.remove(sub);
                }
            }
        }
        (_, Some(sub), Some(v)) => {
            if list.is_empty() && path.filter.is_none() {
                list.push(Value::Object(Map::new()));
                return set_sub_on_all(holder, key, list, sub, v);
            }
            for (e, _) in list.iter_mut().zip(&selected).filter(|(_, s)| **s) {
                if !e.is_object() {
                    *e = Value::Object(Map::new());
                }
                e[sub] = v.clone();
            }
        }
        (Op::Add, None, Some(_)) if path.filter.is_some() => {
            holder.insert(key.to_string(), Value::Array(list));
            return Err(PatchError::InvalidPath(format!(
                "An add cannot take a value filter: '{path}'"
            )));
        }
        (Op::Add, None, Some(v)) => {
            for item in items(v) {
                if !list.contains(&item) {
                    list.push(item);
                }
            }
        }
        (Op::Replace, None, Some(v)) if path.filter.is_some() => {
            let with = items(v).into_iter().next().unwrap_or(Value::Null);
            for (e, _) in list.iter_mut().zip(&selected).filter(|(_, s)| **s) {
                *e = with.clone();
            }
        }
        (Op::Replace, None, Some(v)) => list = items(v),
        (_, _, None) => unreachable!("add and replace carry a value"),
    }
    if !list.is_empty() {
        holder.insert(key.to_string(), Value::Array(list));
    }
    Ok(())
}

fn set_sub_on_all(
    holder: &mut Map<String, Value>,
    key: &str,
    mut list: Vec<Value>,
    sub: &str,
    v: &Value,
) -> Result<(), PatchError> {
    for e in &mut list {
        e[sub] = v.clone();
    }
    holder.insert(key.to_string(), Value::Array(list));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::path;
    use crate::scim::schema::{INDIGO_USER, USER_TYPE};
    use serde_json::json;

    fn user() -> Value {
        json!({
            "id": "u1",
            "userName": "alice",
            "name": {"givenName": "Alice", "familyName": "Liddell", "formatted": "Alice Liddell"},
            "emails": [{"value": "a@x.org", "type": "work", "primary": true}],
            INDIGO_USER: {
                "serviceAccount": false,
                "oidcIds": [{"issuer": "https://a", "subject": "1"}, {"issuer": "https://b", "subject": "2"}],
            },
        })
    }

    fn run(doc: &mut Value, op: Op, p: &str, v: Option<Value>) -> Result<(), PatchError> {
        apply(&USER_TYPE, doc, op, &path::parse(p).unwrap(), v.as_ref())
    }

    #[test]
    fn single_valued_attributes_and_sub_attributes() {
        let mut d = user();
        run(&mut d, Op::Replace, "USERNAME", Some(json!("bob"))).unwrap();
        run(&mut d, Op::Replace, "name.givenName", Some(json!("Bob"))).unwrap();
        run(
            &mut d,
            Op::Add,
            "name",
            Some(json!({"familyname": "Builder"})),
        )
        .unwrap();
        run(&mut d, Op::Add, "nickName", Some(json!("bobby"))).unwrap();
        assert_eq!(d["userName"], "bob");
        assert_eq!(d["name"]["givenName"], "Bob");
        assert_eq!(d["name"]["familyName"], "Builder");
        assert_eq!(d["nickName"], "bobby");
        run(&mut d, Op::Remove, "nickName", None).unwrap();
        assert!(d.get("nickName").is_none());
        assert_eq!(
            run(&mut d, Op::Replace, "name.formatted", Some(json!("x"))),
            Err(PatchError::Mutability(
                "Attribute 'name.formatted' is read-only".into()
            ))
        );
        assert!(matches!(
            run(&mut d, Op::Replace, "id", Some(json!("x"))),
            Err(PatchError::Mutability(_))
        ));
        assert!(matches!(
            run(&mut d, Op::Replace, "nope", Some(json!("x"))),
            Err(PatchError::InvalidPath(_))
        ));
        assert!(matches!(
            run(&mut d, Op::Replace, "userName", None),
            Err(PatchError::InvalidValue(_))
        ));
    }

    #[test]
    fn value_filters_select_elements() {
        let mut d = user();
        let oidc = format!("{INDIGO_USER}:oidcIds");
        run(
            &mut d,
            Op::Remove,
            &format!("{oidc}[issuer eq \"https://a\"]"),
            None,
        )
        .unwrap();
        assert_eq!(
            d[INDIGO_USER]["oidcIds"],
            json!([{"issuer": "https://b", "subject": "2"}])
        );
        // Issuers are case-exact: a differently cased one matches nothing.
        assert!(matches!(
            run(
                &mut d,
                Op::Remove,
                &format!("{oidc}[issuer eq \"HTTPS://B\"]"),
                None
            ),
            Err(PatchError::NoTarget(_))
        ));
        run(
            &mut d,
            Op::Replace,
            "emails[type eq \"WORK\"].value",
            Some(json!("new@x.org")),
        )
        .unwrap();
        assert_eq!(d["emails"][0]["value"], "new@x.org");
        run(
            &mut d,
            Op::Add,
            &oidc,
            Some(json!([{"issuer": "https://c", "subject": "3"}])),
        )
        .unwrap();
        assert_eq!(d[INDIGO_USER]["oidcIds"].as_array().unwrap().len(), 2);
        run(&mut d, Op::Remove, &oidc, None).unwrap();
        assert!(d[INDIGO_USER].get("oidcIds").is_none());
        assert!(matches!(
            run(
                &mut d,
                Op::Add,
                "emails[type eq \"work\"]",
                Some(json!({"value": "x"}))
            ),
            Err(PatchError::InvalidPath(_))
        ));
        assert!(matches!(
            run(
                &mut d,
                Op::Replace,
                "userName[value eq \"x\"]",
                Some(json!("x"))
            ),
            Err(PatchError::InvalidPath(_))
        ));
    }

    #[test]
    fn a_whole_extension_is_its_attributes() {
        let mut d = user();
        run(
            &mut d,
            Op::Replace,
            INDIGO_USER,
            Some(json!({"oidcIds": [{"issuer": "https://z", "subject": "9"}]})),
        )
        .unwrap();
        assert_eq!(
            d[INDIGO_USER]["oidcIds"],
            json!([{"issuer": "https://z", "subject": "9"}])
        );
        assert_eq!(
            d[INDIGO_USER]["serviceAccount"], false,
            "read-only members stay"
        );
        run(&mut d, Op::Remove, INDIGO_USER, None).unwrap();
        assert!(d[INDIGO_USER].get("oidcIds").is_none());
        assert!(matches!(
            run(
                &mut d,
                Op::Replace,
                INDIGO_USER,
                Some(json!({"serviceAccount": true}))
            ),
            Err(PatchError::Mutability(_))
        ));
        assert!(matches!(
            run(&mut d, Op::Add, INDIGO_USER, Some(json!("x"))),
            Err(PatchError::InvalidValue(_))
        ));
    }

    #[test]
    fn replace_of_a_multi_valued_attribute_replaces_all() {
        let mut d = user();
        run(
            &mut d,
            Op::Replace,
            "emails",
            Some(json!({"value": "z@x.org", "primary": true})),
        )
        .unwrap();
        assert_eq!(d["emails"], json!([{"value": "z@x.org", "primary": true}]));
        run(
            &mut d,
            Op::Replace,
            "photos.value",
            Some(json!("https://p")),
        )
        .unwrap();
        assert_eq!(d["photos"], json!([{"value": "https://p"}]));
    }
}
