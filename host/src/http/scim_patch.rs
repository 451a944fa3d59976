//! `PATCH /scim/Users/{id}` bodies read into the contract's `user-change`s (docs/scim.md).
//!
//! Both forms a client may send are read: INDIGO IAM's (no `path`; the value is a partial
//! user, and each operation touches a fixed set of attributes) and RFC 7644's (a `path`,
//! maybe with a value filter). Every operation is applied in order to the user as rendered;
//! the changes are then what differs between that rendering and the result, so an operation
//! that leaves a value as it was changes nothing. The handler guest decides what is allowed.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::ApiError;
use super::body::string_field;
use super::error::ScimType;
use super::scim_body::{certificates, oidc_ids, parse_profile, saml_ids, ssh_keys};
use crate::contract::types::{Profile, User, UserChange};
use crate::scim::patch::{self, Op, PatchError};
use crate::scim::path::{self, PatchPath};
use crate::scim::schema::{INDIGO_USER, USER_TYPE};

/// One operation of the body.
struct Operation {
    op: Op,
    path: Option<PatchPath>,
    value: Option<Value>,
}

/// A user PATCH body, read but not yet applied.
pub struct UserPatch(Vec<Operation>);

fn invalid(kind: ScimType, message: impl Into<String>) -> ApiError {
    ApiError::scim(StatusCode::BAD_REQUEST, kind, message)
}

impl From<PatchError> for ApiError {
    fn from(e: PatchError) -> ApiError {
        match e {
            PatchError::InvalidPath(m) => invalid(ScimType::InvalidPath, m),
            PatchError::NoTarget(m) => invalid(ScimType::NoTarget, m),
            PatchError::Mutability(m) => invalid(ScimType::Mutability, m),
            PatchError::InvalidValue(m) => invalid(ScimType::InvalidValue, m),
        }
    }
}

/// Reads the body: `Operations` (RFC 7644) or `operations` (INDIGO IAM), each an object
/// with `op`, an optional `path` and a `value`.
pub fn parse_user_patch(body: &Map<String, Value>) -> Result<UserPatch, ApiError> {
    let ops = match body.get("Operations").or_else(|| body.get("operations")) {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        Some(Value::Array(_)) | None | Some(Value::Null) => {
            return Err(invalid(
                ScimType::InvalidValue,
                "Invalid Scim Patch Request: [operations : must not be empty]",
            ));
        }
        Some(_) => {
            return Err(invalid(
                ScimType::InvalidSyntax,
                "Invalid Scim Patch Request: 'Operations' must be an array",
            ));
        }
    };
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let op = op.as_object().ok_or_else(|| {
                invalid(
                    ScimType::InvalidSyntax,
                    format!("Invalid Scim Patch Request: operation {i} is not an object"),
                )
            })?;
            let name = string_field(op, "op")?.ok_or_else(|| {
                invalid(
                    ScimType::InvalidSyntax,
                    format!("Invalid Scim Patch Request: [operations[{i}].op : must not be null]"),
                )
            })?;
            let kind = Op::parse(&name).ok_or_else(|| {
                invalid(
                    ScimType::InvalidSyntax,
                    format!(
                        "Invalid Scim Patch Request: operation '{name}' is not add, remove or replace"
                    ),
                )
            })?;
            let path = string_field(op, "path")?
                .map(|p| path::parse(&p))
                .transpose()
                .map_err(|e| invalid(ScimType::InvalidPath, e.message))?;
            Ok(Operation {
                op: kind,
                path,
                value: op.get("value").filter(|v| !v.is_null()).cloned(),
            })
        })
        .collect::<Result<_, ApiError>>()
        .map(UserPatch)
}

impl UserPatch {
    /// The changes the operations make to `user`, whose rendering is `rendered`.
    pub fn changes(&self, user: &User, rendered: &Value) -> Result<Vec<UserChange>, ApiError> {
        let mut doc = rendered.clone();
        let mut password = None;
        for o in &self.0 {
            match &o.path {
                None => iam_operation(o.op, o.value.as_ref(), &mut doc, &mut password)?,
                Some(p) => path_operation(o.op, p, o.value.as_ref(), &mut doc, &mut password)?,
            }
        }
        let mut changes = differences(user, &doc)?;
        changes.extend(password.map(UserChange::Password));
        Ok(changes)
    }
}

/// An operation with a path, applied through the schema; `password` is never rendered, so
/// it is taken here.
fn path_operation(
    op: Op,
    path: &PatchPath,
    value: Option<&Value>,
    doc: &mut Value,
    password: &mut Option<String>,
) -> Result<(), ApiError> {
    if patch::whole_extension(&USER_TYPE, path).is_some() {
        return Ok(patch::apply(&USER_TYPE, doc, op, path, value)?);
    }
    let (attribute, _) = patch::resolve(&USER_TYPE, path)?;
    match (attribute.name, op, value) {
        ("password", Op::Remove, _) | ("active", Op::Remove, _) => Err(invalid(
            ScimType::Mutability,
            format!("'{}' cannot be removed", attribute.name),
        )),
        ("password", _, Some(Value::String(p))) if path.attr.sub.is_none() => {
            *password = Some(p.clone());
            Ok(())
        }
        ("password", _, _) => Err(invalid(
            ScimType::InvalidValue,
            "The value of 'password' must be a string",
        )),
        _ => Ok(patch::apply(&USER_TYPE, doc, op, path, value)?),
    }
}

/// What INDIGO IAM's operations without a path touch, by operation (its patch updaters).
/// `nickName`, `profileUrl`, `locale`, `timezone` and `addresses`, which IAM ignores there,
/// are taken too, as RFC 7644 §3.5.2 would.
const IAM_ADD: &[&str] = &[
    "name",
    "userName",
    "password",
    "active",
    "emails",
    "photos",
    "nickName",
    "profileUrl",
    "locale",
    "timezone",
    "addresses",
];
const IAM_EXTENSION_LISTS: &[&str] = &["oidcIds", "samlIds", "sshKeys", "certificates"];

fn iam_operation(
    op: Op,
    value: Option<&Value>,
    doc: &mut Value,
    password: &mut Option<String>,
) -> Result<(), ApiError> {
    let verb = match op {
        Op::Add => "add",
        Op::Remove => "remove",
        Op::Replace => "replace",
    };
    let not_supported = || {
        invalid(
            ScimType::InvalidValue,
            format!("{verb} operation not supported"),
        )
    };
    let Some(value) = value else {
        return Err(not_supported());
    };
    let Value::Object(given) = value else {
        return Err(invalid(
            ScimType::InvalidValue,
            "The value of an operation without a path must be a user",
        ));
    };
    let ext = given.get(INDIGO_USER).and_then(Value::as_object);
    let mut touched = 0;
    let root = doc.as_object_mut().ok_or_else(ApiError::internal)?;
    if op != Op::Remove {
        for &name in IAM_ADD {
            let Some(v) = given.get(name).filter(|v| !v.is_null()) else {
                continue;
            };
            touched += 1;
            match name {
                "password" => {
                    let p = v.as_str().ok_or_else(|| {
                        invalid(ScimType::InvalidValue, "'password' must be a string")
                    })?;
                    *password = Some(p.to_string());
                }
                "name" => {
                    let Value::Object(parts) = v else {
                        return Err(invalid(ScimType::InvalidValue, "'name' must be an object"));
                    };
                    let name = root.entry("name").or_insert_with(|| json!({}));
                    for part in ["givenName", "familyName"] {
                        if let Some(p) = parts.get(part).filter(|p| !p.is_null()) {
                            name[part] = p.clone();
                        }
                    }
                }
                // One e-mail and one picture per account: the first given replaces it.
                "emails" | "photos" | "addresses" => {
                    let first = match v {
                        Value::Array(items) => items.first().cloned(),
                        other => Some(other.clone()),
                    };
                    root.insert(
                        name.to_string(),
                        json!(first.into_iter().collect::<Vec<_>>()),
                    );
                }
                _ => {
                    root.insert(name.to_string(), v.clone());
                }
            }
        }
        if op == Op::Replace
            && ext.is_some_and(|e| e.get("serviceAccount").is_some_and(|v| !v.is_null()))
        {
            return Err(invalid(
                ScimType::Mutability,
                "'serviceAccount' cannot be changed through SCIM here",
            ));
        }
    }
    if op == Op::Add {
        for &list in IAM_EXTENSION_LISTS {
            let Some(Value::Array(items)) = ext.and_then(|e| e.get(list)) else {
                continue;
            };
            if items.is_empty() {
                continue;
            }
            touched += 1;
            let holder = root.entry(INDIGO_USER).or_insert_with(|| json!({}));
            let current = holder
                .as_object_mut()
                .ok_or_else(ApiError::internal)?
                .entry(list)
                .or_insert_with(|| json!([]));
            if let Value::Array(current) = current {
                current.extend(items.iter().cloned());
            }
        }
    }
    if op == Op::Remove {
        for &list in IAM_EXTENSION_LISTS {
            let Some(items) = ext.and_then(|e| e.get(list)).filter(|v| !v.is_null()) else {
                continue;
            };
            touched += 1;
            remove_listed(root, list, items)?;
        }
        if given.get("photos").is_some_and(|v| !v.is_null()) {
            touched += 1;
            root.remove("photos");
        }
    }
    if touched == 0 {
        return Err(not_supported());
    }
    Ok(())
}

/// The identity of an item of an extension list: what makes two items the same link.
fn keys_of(list: &str, items: &Value) -> Result<Vec<String>, ApiError> {
    let ext: Map<String, Value> = [(list.to_string(), items.clone())].into_iter().collect();
    let ext = Some(&ext);
    Ok(match list {
        "oidcIds" => oidc_ids(ext)?
            .into_iter()
            .map(|o| format!("{}\n{}", o.issuer, o.subject))
            .collect(),
        "samlIds" => saml_ids(ext)?
            .into_iter()
            .map(|s| format!("{}\n{}\n{}", s.idp_id, s.user_id, s.attribute_id))
            .collect(),
        "sshKeys" => ssh_keys(ext)?.into_iter().map(|k| k.fingerprint).collect(),
        _ => certificates(ext)?
            .into_iter()
            .map(|c| format!("{}\n{}", c.subject_dn, c.issuer_dn))
            .collect(),
    })
}

/// Drops the items of the extension list `list` that `removed` names (INDIGO IAM's remove:
/// items the user does not have are ignored).
fn remove_listed(
    root: &mut Map<String, Value>,
    list: &str,
    removed: &Value,
) -> Result<(), ApiError> {
    let gone = keys_of(list, removed)?;
    let Some(Value::Array(items)) = root
        .get_mut(INDIGO_USER)
        .and_then(|e| e.as_object_mut())
        .and_then(|e| e.get_mut(list))
    else {
        return Ok(());
    };
    let keys = keys_of(list, &Value::Array(items.clone()))?;
    let mut k = keys.iter();
    items.retain(|_| k.next().is_none_or(|key| !gone.contains(key)));
    Ok(())
}

/// A string member of the patched user; absent is empty (for the handler to refuse).
fn text(what: &str, v: &Value) -> Result<String, ApiError> {
    match v {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        other => Err(invalid(
            ScimType::InvalidValue,
            format!("'{what}' must be a string, not {}", short(other)),
        )),
    }
}

/// The beginning of a value, for an error message.
fn short(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(80).collect()
}

/// The changes that turn `user` into `doc`.
fn differences(user: &User, doc: &Value) -> Result<Vec<UserChange>, ApiError> {
    let a = &user.account;
    let mut out = Vec::new();
    let username = text("userName", &doc["userName"])?;
    if username != a.username {
        out.push(UserChange::Username(username));
    }
    let given = text("name.givenName", &doc["name"]["givenName"])?;
    if given != a.given_name {
        out.push(UserChange::GivenName(given));
    }
    let family = text("name.familyName", &doc["name"]["familyName"])?;
    if family != a.family_name {
        out.push(UserChange::FamilyName(family));
    }
    match &doc["active"] {
        Value::Bool(b) if *b != a.active => out.push(UserChange::Active(*b)),
        Value::Bool(_) => {}
        other => {
            return Err(invalid(
                ScimType::InvalidValue,
                format!("'active' must be a boolean: {}", short(other)),
            ));
        }
    }
    let emails = doc["emails"].as_array().cloned().unwrap_or_default();
    let email = emails
        .iter()
        .find(|e| e["primary"] == true)
        .or(emails.first())
        .map(|e| text("emails.value", &e["value"]))
        .transpose()?
        .unwrap_or_default();
    if email != a.email {
        out.push(UserChange::Email(email));
    }
    let obj = doc.as_object().ok_or_else(ApiError::internal)?;
    let profile = parse_profile(obj)?;
    profile_changes(&user.profile, profile, &mut out);
    identity_changes(
        user,
        obj.get(INDIGO_USER).and_then(Value::as_object),
        &mut out,
    )?;
    Ok(out)
}

fn profile_changes(old: &Profile, new: Profile, out: &mut Vec<UserChange>) {
    if new.picture != old.picture {
        out.push(UserChange::Picture(new.picture));
    }
    if new.nick_name != old.nick_name {
        out.push(UserChange::NickName(new.nick_name));
    }
    if new.profile_url != old.profile_url {
        out.push(UserChange::ProfileUrl(new.profile_url));
    }
    if new.locale != old.locale {
        out.push(UserChange::Locale(new.locale));
    }
    if new.timezone != old.timezone {
        out.push(UserChange::Timezone(new.timezone));
    }
    if new.address != old.address {
        out.push(UserChange::Address(new.address));
    }
}

/// Items of `old` not in `new` (removed or changed), then items of `new` not in `old`
/// (added or changed), compared with `same`.
fn list_diff<T: Clone>(old: &[T], new: &[T], same: impl Fn(&T, &T) -> bool) -> (Vec<T>, Vec<T>) {
    let gone = old
        .iter()
        .filter(|o| !new.iter().any(|n| same(o, n)))
        .cloned()
        .collect();
    let added = new
        .iter()
        .filter(|n| !old.iter().any(|o| same(o, n)))
        .cloned()
        .collect();
    (gone, added)
}

fn identity_changes(
    user: &User,
    ext: Option<&Map<String, Value>>,
    out: &mut Vec<UserChange>,
) -> Result<(), ApiError> {
    let (gone, added) = list_diff(&user.oidc_ids, &oidc_ids(ext)?, |a, b| a == b);
    push_pair(
        out,
        gone,
        added,
        UserChange::RemoveOidcIds,
        UserChange::AddOidcIds,
    );
    let (gone, added) = list_diff(&user.saml_ids, &saml_ids(ext)?, |a, b| a == b);
    push_pair(
        out,
        gone,
        added,
        UserChange::RemoveSamlIds,
        UserChange::AddSamlIds,
    );
    let (gone, added) = list_diff(&user.ssh_keys, &ssh_keys(ext)?, |a, b| {
        a.fingerprint == b.fingerprint && a.display == b.display && a.primary == b.primary
    });
    push_pair(
        out,
        gone,
        added,
        UserChange::RemoveSshKeys,
        UserChange::AddSshKeys,
    );
    let (gone, added) = list_diff(&user.certificates, &certificates(ext)?, |a, b| {
        a.subject_dn == b.subject_dn
            && a.issuer_dn == b.issuer_dn
            && a.pem == b.pem
            && a.display == b.display
            && a.primary == b.primary
    });
    push_pair(
        out,
        gone,
        added,
        UserChange::RemoveCertificates,
        UserChange::AddCertificates,
    );
    Ok(())
}

fn push_pair<T>(
    out: &mut Vec<UserChange>,
    gone: Vec<T>,
    added: Vec<T>,
    remove: fn(Vec<T>) -> UserChange,
    add: fn(Vec<T>) -> UserChange,
) {
    if !gone.is_empty() {
        out.push(remove(gone));
    }
    if !added.is_empty() {
        out.push(add(added));
    }
}
