//! SCIM request bodies read into the contract's types: users (with their IndigoUser
//! identities, SSH keys checked and fingerprinted, certificates parsed), groups and group
//! membership PATCHes.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::body::{bool_field, object_field, string_field};
use super::credentials::{certificate_dns, ssh_fingerprint};
use super::error::ScimType;
use super::{ApiError, Family};
use crate::contract::types::{
    Address, Certificate, EmailInput, MemberPatch, NewGroup, NewUser, OidcId, Profile, SamlId,
    SshKey,
};
use crate::scim::filter::{CompareOp, Filter};
use crate::scim::schema::{GROUP, INDIGO_GROUP, INDIGO_USER};

/// A required string member of an IndigoUser item.
fn required_member(obj: &Map<String, Value>, list: &str, key: &str) -> Result<String, ApiError> {
    string_field(obj, key)?
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "JSON parse error: every item of '{list}' needs '{key}'"
            ))
        })
}

/// The objects of an array member of `parent` (absent or null: none).
pub fn object_items<'a>(
    parent: Option<&'a Map<String, Value>>,
    key: &str,
) -> Result<Vec<&'a Map<String, Value>>, ApiError> {
    match parent.and_then(|e| e.get(key)) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_object().ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "JSON parse error: '{key}' items must be objects"
                    ))
                })
            })
            .collect(),
        Some(_) => Err(ApiError::bad_request(format!(
            "JSON parse error: '{key}' must be an array"
        ))),
    }
}

/// `nickName`, `profileUrl`, `locale`, `timezone`, and the first of `photos` and of
/// `addresses`: INDIGO IAM keeps one picture and one address per account.
pub fn parse_profile(obj: &Map<String, Value>) -> Result<Profile, ApiError> {
    let picture = match object_items(Some(obj), "photos")?.first() {
        Some(photo) => string_field(photo, "value")?,
        None => None,
    };
    let address = match object_items(Some(obj), "addresses")?.first() {
        Some(a) => Some(Address {
            formatted: string_field(a, "formatted")?,
            street_address: string_field(a, "streetAddress")?,
            locality: string_field(a, "locality")?,
            region: string_field(a, "region")?,
            postal_code: string_field(a, "postalCode")?,
            country: string_field(a, "country")?,
        }),
        None => None,
    };
    Ok(Profile {
        nick_name: string_field(obj, "nickName")?,
        profile_url: string_field(obj, "profileUrl")?,
        locale: string_field(obj, "locale")?,
        timezone: string_field(obj, "timezone")?,
        picture,
        address,
    })
}

pub fn parse_new_user(obj: &Map<String, Value>) -> Result<NewUser, ApiError> {
    let name = object_field(obj, "name")?;
    let name_part = |k: &str| {
        name.map(|n| string_field(n, k))
            .transpose()
            .map(Option::flatten)
    };
    let emails = object_items(Some(obj), "emails")?
        .into_iter()
        .map(|e| {
            Ok(EmailInput {
                value: string_field(e, "value")?,
                kind: string_field(e, "type")?,
                primary: bool_field(e, "primary")?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    let ext = object_field(obj, INDIGO_USER)?;
    let oidc_ids = oidc_ids(ext)?;
    let saml_ids = saml_ids(ext)?;
    let ssh_keys = ssh_keys(ext)?;
    let certificates = certificates(ext)?;
    Ok(NewUser {
        profile: parse_profile(obj)?,
        certificates,
        oidc_ids,
        saml_ids,
        ssh_keys,
        id: string_field(obj, "id")?,
        username: string_field(obj, "userName")?,
        given_name: name_part("givenName")?,
        family_name: name_part("familyName")?,
        emails,
        active: bool_field(obj, "active")?,
        password: string_field(obj, "password")?,
    })
}

/// A SCIM PATCH body: `operations` (IAM) or `Operations` (RFC 7644), each with `op`,
/// `path` and `value` as a list of `{"value": <account uuid>}`.
pub fn parse_member_patch(obj: &Map<String, Value>) -> Result<Vec<MemberPatch>, ApiError> {
    let bad = |m: &str| ApiError::bad_request(format!("JSON parse error: {m}"));
    let ops = match obj.get("operations").or_else(|| obj.get("Operations")) {
        Some(Value::Array(ops)) => ops,
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(_) => return Err(bad("'operations' must be an array")),
    };
    ops.iter()
        .map(|op| {
            let op = op
                .as_object()
                .ok_or_else(|| bad("operations must be objects"))?;
            let members = match op.get("value") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| match item {
                        Value::Object(m) => Ok(string_field(m, "value")?.unwrap_or_default()),
                        _ => Err(bad("'value' items must be objects")),
                    })
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err(bad("'value' must be an array")),
            };
            let path = string_field(op, "path")?;
            // `members[value eq "<id>"]` (what provisioning clients send to remove one
            // member) names its members in the path.
            if let Some(named) = path.as_deref().map(members_named).transpose()?.flatten() {
                return Ok(MemberPatch {
                    op: string_field(op, "op")?.unwrap_or_default(),
                    path: Some("members".into()),
                    members: named,
                });
            }
            Ok(MemberPatch {
                op: string_field(op, "op")?.unwrap_or_default(),
                path,
                members,
            })
        })
        .collect()
}

/// The member ids a `members[...]` path with a value filter selects: `value eq "<id>"`,
/// or several of them joined by `or`. `None` for any other path (the handler judges it);
/// a 400 `invalidFilter` for any other filter on `members`.
fn members_named(path: &str) -> Result<Option<Vec<String>>, ApiError> {
    let Ok(p) = crate::scim::path::parse(path) else {
        return Ok(None);
    };
    let core = p
        .attr
        .urn
        .as_deref()
        .is_none_or(|u| u.eq_ignore_ascii_case(GROUP));
    let (true, Some(filter), None, None) = (
        core && p.attr.name.eq_ignore_ascii_case("members"),
        &p.filter,
        &p.attr.sub,
        &p.sub,
    ) else {
        return Ok(None);
    };
    fn ids(f: &Filter, out: &mut Vec<String>) -> bool {
        match f {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: Value::String(id),
            } if path.urn.is_none()
                && path.sub.is_none()
                && path.name.eq_ignore_ascii_case("value") =>
            {
                out.push(id.clone());
                true
            }
            Filter::Or(a, b) => ids(a, out) && ids(b, out),
            _ => false,
        }
    }
    let mut out = Vec::new();
    if ids(filter, &mut out) {
        Ok(Some(out))
    } else {
        Err(ApiError::scim(
            StatusCode::BAD_REQUEST,
            ScimType::InvalidFilter,
            format!("Members are selected by value eq \"<id>\" (joined by or), not by '{filter}'"),
        ))
    }
}

pub fn parse_new_group(obj: &Map<String, Value>) -> Result<NewGroup, ApiError> {
    let parent = match object_field(obj, INDIGO_GROUP)? {
        Some(ext) => object_field(ext, "parentGroup")?,
        None => None,
    };
    Ok(NewGroup {
        display_name: string_field(obj, "displayName")?,
        parent_id: parent
            .map(|p| string_field(p, "value"))
            .transpose()?
            .flatten(),
        parent_display: parent
            .map(|p| string_field(p, "display"))
            .transpose()?
            .flatten(),
    })
}

/// The IndigoUser extension's `oidcIds`.
pub fn oidc_ids(ext: Option<&Map<String, Value>>) -> Result<Vec<OidcId>, ApiError> {
    object_items(ext, "oidcIds")?
        .into_iter()
        .map(|o| {
            Ok(OidcId {
                issuer: required_member(o, "oidcIds", "issuer")?,
                subject: required_member(o, "oidcIds", "subject")?,
            })
        })
        .collect()
}

/// The IndigoUser extension's `samlIds`.
pub fn saml_ids(ext: Option<&Map<String, Value>>) -> Result<Vec<SamlId>, ApiError> {
    object_items(ext, "samlIds")?
        .into_iter()
        .map(|o| {
            Ok(SamlId {
                idp_id: required_member(o, "samlIds", "idpId")?,
                user_id: required_member(o, "samlIds", "userId")?,
                attribute_id: required_member(o, "samlIds", "attributeId")?,
            })
        })
        .collect()
}

/// The IndigoUser extension's `sshKeys`, each checked and fingerprinted.
pub fn ssh_keys(ext: Option<&Map<String, Value>>) -> Result<Vec<SshKey>, ApiError> {
    object_items(ext, "sshKeys")?
        .into_iter()
        .map(|o| {
            let value = required_member(o, "sshKeys", "value")?;
            let fingerprint = ssh_fingerprint(&value).map_err(|e| {
                ApiError::status(
                    StatusCode::BAD_REQUEST,
                    Family::Scim,
                    format!("Invalid SSH key: {e}"),
                )
            })?;
            Ok(SshKey {
                display: string_field(o, "display")?,
                value,
                fingerprint,
                primary: bool_field(o, "primary")?.unwrap_or(false),
                created: 0,
                last_modified: 0,
            })
        })
        .collect()
}

/// The IndigoUser extension's `certificates`, each parsed for its subject and issuer.
pub fn certificates(ext: Option<&Map<String, Value>>) -> Result<Vec<Certificate>, ApiError> {
    object_items(ext, "certificates")?
        .into_iter()
        .map(|o| {
            let pem = required_member(o, "certificates", "pemEncodedCertificate")?;
            let (subject_dn, issuer_dn) = certificate_dns(&pem).map_err(|e| {
                ApiError::status(
                    StatusCode::BAD_REQUEST,
                    Family::Scim,
                    format!("Invalid X.509 certificate: {e}"),
                )
            })?;
            Ok(Certificate {
                display: string_field(o, "display")?,
                subject_dn,
                issuer_dn,
                pem,
                primary: bool_field(o, "primary")?.unwrap_or(false),
                created: 0,
                last_modified: 0,
                has_proxy: false,
                proxy_expiration: None,
            })
        })
        .collect()
}
