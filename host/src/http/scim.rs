//! `/scim/Users` and `/scim/Groups`: create, read, list, delete (docs/api.md §10).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::body::{
    Params, SCIM_JSON, ScimAccept, bool_field, json_object, object_field, string_field,
};
use super::credentials::{certificate_dns, ssh_fingerprint};
use super::scim_json::{
    INDIGO_GROUP_SCHEMA, INDIGO_USER_SCHEMA, group_json, kept_attributes, list_json, restrict,
    scim, user_json,
};
use super::{ApiError, AppState, Family, Req};
use crate::contract::types::{
    Address, Certificate, EmailInput, MemberPatch, NewGroup, NewUser, OidcId, Operation,
    PageRequest, Profile, SamlId, SshKey,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scim/Users", get(list_users).post(create_user))
        .route(
            "/scim/Users/{id}",
            get(get_user).put(replace_user).delete(delete_user),
        )
        .route("/scim/Groups", get(list_groups).post(create_group))
        .route(
            "/scim/Groups/{id}",
            get(get_group)
                .put(replace_group)
                .patch(patch_group)
                .delete(delete_group),
        )
        .route("/scim/Groups/{id}/members", get(list_members))
        .route("/scim/Groups/{id}/subgroups", get(list_subgroups))
        .route("/scim/Me", get(get_me))
}

fn page(query: Option<&str>) -> Result<PageRequest, ApiError> {
    let params = Params::parse(query)?;
    Ok(PageRequest {
        start_index: params.int("startIndex")?,
        count: params.int("count")?,
    })
}

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
fn object_items<'a>(
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
fn parse_profile(obj: &Map<String, Value>) -> Result<Profile, ApiError> {
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

fn parse_new_user(obj: &Map<String, Value>) -> Result<NewUser, ApiError> {
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
    let ext = object_field(obj, INDIGO_USER_SCHEMA)?;
    let oidc_ids = object_items(ext, "oidcIds")?
        .into_iter()
        .map(|o| {
            Ok(OidcId {
                issuer: required_member(o, "oidcIds", "issuer")?,
                subject: required_member(o, "oidcIds", "subject")?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    let saml_ids = object_items(ext, "samlIds")?
        .into_iter()
        .map(|o| {
            Ok(SamlId {
                idp_id: required_member(o, "samlIds", "idpId")?,
                user_id: required_member(o, "samlIds", "userId")?,
                attribute_id: required_member(o, "samlIds", "attributeId")?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    let ssh_keys = object_items(ext, "sshKeys")?
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
        .collect::<Result<_, ApiError>>()?;
    let certificates = object_items(ext, "certificates")?
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
        .collect::<Result<_, ApiError>>()?;
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
fn parse_member_patch(obj: &Map<String, Value>) -> Result<Vec<MemberPatch>, ApiError> {
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
            Ok(MemberPatch {
                op: string_field(op, "op")?.unwrap_or_default(),
                path: string_field(op, "path")?,
                members,
            })
        })
        .collect()
}

fn parse_new_group(obj: &Map<String, Value>) -> Result<NewGroup, ApiError> {
    let parent = match object_field(obj, INDIGO_GROUP_SCHEMA)? {
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

async fn create_user(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let new = parse_new_user(&json_object(&headers, &body, &[SCIM_JSON])?)?;
    let registration = req.app.registration.clone();
    let user = req
        .run(Operation::CreateUser, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| {
                g.call_create_user(store, &new, &registration)
            })
        })
        .await?;
    Ok(scim(StatusCode::CREATED, user_json(&req.app.scim, &user)))
}

async fn get_user(req: Req, _: ScimAccept, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetUser(id.clone());
    let user = req
        .run(op, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_get_user(store, &id))
        })
        .await?;
    Ok(scim(StatusCode::OK, user_json(&req.app.scim, &user)))
}

async fn list_users(
    req: Req,
    _: ScimAccept,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let page = page(query.as_deref())?;
    let keep = Params::parse(query.as_deref())?
        .get("attributes")
        .map(kept_attributes);
    let result = req
        .run(Operation::ListUsers, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_list_users(store, page))
        })
        .await?;
    let users = result
        .users
        .iter()
        .map(|u| {
            let mut user = user_json(&req.app.scim, u);
            // The list leaves out the certificates' PEM (single reads keep it).
            if let Some(certs) = user[INDIGO_USER_SCHEMA]["certificates"].as_array_mut() {
                for c in certs {
                    c.as_object_mut().map(|c| c.remove("pemEncodedCertificate"));
                }
            }
            match &keep {
                Some(names) => {
                    restrict(user, &names.iter().map(String::as_str).collect::<Vec<_>>())
                }
                None => user,
            }
        })
        .collect();
    Ok(scim(StatusCode::OK, list_json(&result.info, users)))
}

async fn replace_user(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new = parse_new_user(&json_object(&headers, &body, &[SCIM_JSON])?)?;
    let op = Operation::ReplaceUser(id.clone());
    let user = req
        .run(op, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| {
                g.call_replace_user(store, &id, &new)
            })
        })
        .await?;
    Ok(scim(StatusCode::OK, user_json(&req.app.scim, &user)))
}

async fn delete_user(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::DeleteUser(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.scim, tx, |g, store| g.call_delete_user(store, &id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_group(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let new = parse_new_group(&json_object(&headers, &body, &[SCIM_JSON])?)?;
    let group = req
        .run(Operation::CreateGroup, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_create_group(store, &new))
        })
        .await?;
    Ok(scim(
        StatusCode::CREATED,
        group_json(&req.app.base_url, &group),
    ))
}

async fn get_group(req: Req, _: ScimAccept, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetGroup(id.clone());
    let group = req
        .run(op, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_get_group(store, &id))
        })
        .await?;
    Ok(scim(StatusCode::OK, group_json(&req.app.base_url, &group)))
}

async fn list_groups(
    req: Req,
    _: ScimAccept,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let page = page(query.as_deref())?;
    let result = req
        .run(Operation::ListGroups, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_list_groups(store, page))
        })
        .await?;
    let groups = result
        .groups
        .iter()
        .map(|g| group_json(&req.app.base_url, g))
        .collect();
    Ok(scim(StatusCode::OK, list_json(&result.info, groups)))
}

async fn replace_group(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new = parse_new_group(&json_object(&headers, &body, &[SCIM_JSON])?)?;
    let op = Operation::ReplaceGroup(id.clone());
    let group = req
        .run(op, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| {
                g.call_replace_group(store, &id, &new)
            })
        })
        .await?;
    Ok(scim(StatusCode::OK, group_json(&req.app.base_url, &group)))
}

async fn patch_group(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ops = parse_member_patch(&json_object(&headers, &body, &[SCIM_JSON])?)?;
    let op = Operation::PatchGroup(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.scim, tx, |g, store| {
            g.call_patch_members(store, &id, &ops)
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_group(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::DeleteGroup(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.scim, tx, |g, store| g.call_delete_group(store, &id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_members(
    req: Req,
    _: ScimAccept,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let page = page(query.as_deref())?;
    let op = Operation::ListGroupMembers(id.clone());
    let result = req
        .run(op, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| {
                g.call_list_members(store, &id, page)
            })
        })
        .await?;
    let base = &req.app.base_url;
    let refs = result
        .users
        .iter()
        .map(|u| {
            let a = &u.account;
            json!({"value": a.id, "display": format!("{} {}", a.given_name, a.family_name),
                   "$ref": format!("{base}/scim/Users/{}", a.id)})
        })
        .collect();
    Ok(scim(StatusCode::OK, list_json(&result.info, refs)))
}

async fn list_subgroups(
    req: Req,
    _: ScimAccept,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let page = page(query.as_deref())?;
    let op = Operation::ListSubgroups(id.clone());
    let result = req
        .run(op, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| {
                g.call_list_subgroups(store, &id, page)
            })
        })
        .await?;
    let base = &req.app.base_url;
    let refs = result
        .refs
        .iter()
        .map(|g| json!({"value": g.id, "display": g.name, "$ref": format!("{base}/scim/Groups/{}", g.id)}))
        .collect();
    Ok(scim(StatusCode::OK, list_json(&result.info, refs)))
}

async fn get_me(req: Req, _: ScimAccept) -> Result<Response, ApiError> {
    let me = req.caller.principal.clone();
    let user = req
        .run(Operation::GetMe, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_get_me(store, &me))
        })
        .await?;
    Ok(scim(StatusCode::OK, user_json(&req.app.scim, &user)))
}
