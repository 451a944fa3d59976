//! `/scim/Users` and `/scim/Groups`: create, read, list, delete (docs/api.md §10).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::body::{
    Params, SCIM_JSON, ScimAccept, bool_field, json_object, object_field, string_field,
};
use super::{ApiError, AppState, Family, Req};
use crate::config::ScimConfig;
use crate::contract::types::{
    Address, Certificate, EmailInput, Group, GroupRef, MemberPatch, NewGroup, NewUser, OidcId,
    Operation, PageInfo, PageRequest, Profile, SamlId, SshKey, User,
};
use crate::store::TxMode;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const INDIGO_USER_SCHEMA: &str = "urn:indigo-dc:scim:schemas:IndigoUser";
pub const INDIGO_GROUP_SCHEMA: &str = "urn:indigo-dc:scim:schemas:IndigoGroup";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const SCIM_CONTENT_TYPE: &str = "application/scim+json;charset=UTF-8";

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

/// A SCIM JSON response.
pub fn scim(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_CONTENT_TYPE),
    );
    r
}

/// ISO-8601 UTC with milliseconds (docs/api.md §3.6).
pub fn iso(ms: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// What a SCIM user representation shows: links from the base URL, and the optional
/// IndigoUser members the `[scim]` config switches on.
pub struct ScimView {
    pub base_url: String,
    pub include: ScimConfig,
}

fn group_ref_json(base: &str, g: &GroupRef) -> Value {
    json!({"value": g.id, "display": g.name, "$ref": format!("{base}/scim/Groups/{}", g.id)})
}

pub fn user_json(view: &ScimView, user: &User) -> Value {
    let base = &view.base_url;
    let a = &user.account;
    let location = format!("{base}/scim/Users/{}", a.id);
    let mut indigo = Map::new();
    indigo.insert("serviceAccount".into(), json!(a.service_account));
    if let Some(end) = a.end_time {
        indigo.insert("endTime".into(), json!(iso(end)));
    }
    let labels: Vec<Value> = user
        .labels
        .iter()
        .filter(|l| {
            view.include
                .include_labels
                .iter()
                .any(|i| i.name == l.name && i.prefix == l.prefix)
        })
        .map(|l| json!({"prefix": l.prefix, "name": l.name, "value": l.value}))
        .collect();
    if !labels.is_empty() {
        indigo.insert("labels".into(), labels.into());
    }
    let attributes: Vec<Value> = user
        .attributes
        .iter()
        .filter(|at| {
            view.include
                .include_attributes
                .iter()
                .any(|i| i.name == at.name)
        })
        .map(|at| json!({"name": at.name, "value": at.value}))
        .collect();
    if !attributes.is_empty() {
        indigo.insert("attributes".into(), attributes.into());
    }
    if !user.oidc_ids.is_empty() {
        let ids: Vec<Value> = user
            .oidc_ids
            .iter()
            .map(|o| json!({"issuer": o.issuer, "subject": o.subject}))
            .collect();
        indigo.insert("oidcIds".into(), ids.into());
    }
    if !user.saml_ids.is_empty() {
        let ids: Vec<Value> = user
            .saml_ids
            .iter()
            .map(|s| json!({"idpId": s.idp_id, "userId": s.user_id, "attributeId": s.attribute_id}))
            .collect();
        indigo.insert("samlIds".into(), ids.into());
    }
    if !user.ssh_keys.is_empty() {
        let keys: Vec<Value> = user
            .ssh_keys
            .iter()
            .map(|k| {
                let mut m = json!({"primary": k.primary, "value": k.value, "fingerprint": k.fingerprint,
                                   "created": iso(k.created), "lastModified": iso(k.last_modified)});
                if let Some(d) = &k.display {
                    m["display"] = json!(d);
                }
                m
            })
            .collect();
        indigo.insert("sshKeys".into(), keys.into());
    }
    if !user.certificates.is_empty() {
        let certs: Vec<Value> = user
            .certificates
            .iter()
            .map(|c| {
                let mut m = json!({"primary": c.primary, "subjectDn": c.subject_dn, "issuerDn": c.issuer_dn,
                                   "pemEncodedCertificate": c.pem, "created": iso(c.created),
                                   "lastModified": iso(c.last_modified), "hasProxyCertificate": c.has_proxy});
                if let Some(d) = &c.display {
                    m["display"] = json!(d);
                }
                if let Some(t) = c.proxy_expiration {
                    m["proxyExpirationTime"] = json!(iso(t));
                }
                m
            })
            .collect();
        indigo.insert("certificates".into(), certs.into());
    }
    if view.include.include_authorities && !user.authorities.is_empty() {
        indigo.insert("authorities".into(), json!(user.authorities));
    }
    if view.include.include_managed_groups && !user.managed_groups.is_empty() {
        let managed: Vec<Value> = user
            .managed_groups
            .iter()
            .map(|g| group_ref_json(base, g))
            .collect();
        indigo.insert("managedGroups".into(), managed.into());
    }
    let mut u = json!({
        "id": a.id,
        "meta": {"resourceType": "User", "created": iso(a.created),
                 "lastModified": iso(a.last_modified), "location": location},
        "schemas": [USER_SCHEMA, INDIGO_USER_SCHEMA],
        "userName": a.username,
        "name": {"givenName": a.given_name, "familyName": a.family_name,
                 "formatted": format!("{} {}", a.given_name, a.family_name)},
        "displayName": a.username,
        "active": a.active,
        "emails": [{"type": "work", "value": a.email, "primary": true}],
        INDIGO_USER_SCHEMA: indigo,
    });
    if !user.groups.is_empty() {
        u["groups"] = user
            .groups
            .iter()
            .map(|g| group_ref_json(base, g))
            .collect();
    }
    add_profile(&mut u, &user.profile);
    u
}

/// The profile's members, each only when set (IAM's NON_EMPTY rendering).
fn add_profile(u: &mut Value, p: &Profile) {
    let fields = [
        ("nickName", &p.nick_name),
        ("profileUrl", &p.profile_url),
        ("locale", &p.locale),
        ("timezone", &p.timezone),
    ];
    for (key, value) in fields {
        if let Some(v) = value {
            u[key] = json!(v);
        }
    }
    if let Some(picture) = &p.picture {
        u["photos"] = json!([{"value": picture, "type": "photo"}]);
    }
    if let Some(a) = &p.address {
        let parts = [
            ("formatted", &a.formatted),
            ("streetAddress", &a.street_address),
            ("locality", &a.locality),
            ("region", &a.region),
            ("postalCode", &a.postal_code),
            ("country", &a.country),
        ];
        let address: Map<String, Value> = parts
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), json!(v))))
            .collect();
        u["addresses"] = json!([address]);
    }
}

pub fn group_json(base: &str, g: &Group) -> Value {
    let parent = g.parent.as_ref().map(|p| {
        json!({"display": p.name, "value": p.id, "$ref": format!("{base}/scim/Groups/{}", p.id)})
    });
    json!({
        "id": g.id,
        "meta": {"resourceType": "Group", "created": iso(g.created),
                 "lastModified": iso(g.last_modified), "location": format!("{base}/scim/Groups/{}", g.id)},
        "schemas": [GROUP_SCHEMA, INDIGO_GROUP_SCHEMA],
        "displayName": g.name,
        INDIGO_GROUP_SCHEMA: {"parentGroup": parent, "description": g.description, "labels": null},
    })
}

/// A list response without `schemas` (the search endpoints'); `count=0` gives the count
/// only.
pub fn plain_list_json(info: &PageInfo, resources: Vec<Value>) -> Value {
    if info.count_only {
        return json!({"totalResults": info.total_results, "Resources": []});
    }
    json!({
        "totalResults": info.total_results,
        "itemsPerPage": resources.len(),
        "startIndex": info.start_index,
        "Resources": resources,
    })
}

/// A SCIM list response: the plain one with `schemas`.
pub fn list_json(info: &PageInfo, resources: Vec<Value>) -> Value {
    let mut body = plain_list_json(info, resources);
    body["schemas"] = json!([LIST_SCHEMA]);
    body
}

/// The top-level members the `attributes` parameter of a SCIM list keeps: a comma-separated
/// list whose entries may name sub-attributes (`name.givenName` keeps `name`); `id` and
/// `schemas` are always kept. Schema URNs (`urn:...`) are taken whole.
pub fn kept_attributes(param: &str) -> Vec<String> {
    let mut keep: Vec<String> = vec!["id".into(), "schemas".into()];
    for entry in param.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let top = if entry.starts_with("urn:") {
            entry
        } else {
            entry.split('.').next().unwrap_or(entry)
        };
        keep.push(top.to_string());
    }
    keep
}

/// Keeps only the named top-level members of a SCIM resource.
pub fn restrict(mut resource: Value, keep: &[&str]) -> Value {
    if let Value::Object(m) = &mut resource {
        m.retain(|k, _| keep.contains(&k.as_str()));
    }
    resource
}

fn page(query: Option<&str>) -> Result<PageRequest, ApiError> {
    let params = Params::parse(query)?;
    Ok(PageRequest {
        start_index: params.int("startIndex")?,
        count: params.int("count")?,
    })
}

/// Checks an OpenSSH public key (`<type> <base64 blob> [comment]`) and returns its
/// fingerprint as OpenSSH prints it (`SHA256:` and the unpadded base64 SHA-256 of the blob).
pub fn ssh_fingerprint(value: &str) -> Result<String, String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    use sha2::Digest as _;
    let mut parts = value.split_whitespace();
    let (Some(kind), Some(encoded)) = (parts.next(), parts.next()) else {
        return Err("expected '<type> <base64 key> [comment]'".into());
    };
    let blob = STANDARD
        .decode(encoded)
        .map_err(|_| "the key is not valid base64".to_string())?;
    // The blob starts with the key type again, as an SSH string (u32 length, bytes).
    let declared = blob
        .get(..4)
        .map(|n| u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize)
        .and_then(|n| blob.get(4..4 + n));
    if declared != Some(kind.as_bytes()) {
        return Err(format!("the key data is not a '{kind}' key"));
    }
    Ok(format!(
        "SHA256:{}",
        STANDARD_NO_PAD.encode(sha2::Sha256::digest(&blob))
    ))
}

/// Reads a PEM certificate and returns its subject and issuer DNs in RFC 2253 form.
pub fn certificate_dns(pem: &str) -> Result<(String, String), String> {
    use x509_cert::der::DecodePem;
    let cert =
        x509_cert::Certificate::from_pem(pem.trim().as_bytes()).map_err(|e| e.to_string())?;
    let tbs = &cert.tbs_certificate;
    Ok((tbs.subject.to_string(), tbs.issuer.to_string()))
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
        .run(
            Operation::CreateUser,
            Family::Scim,
            TxMode::Write,
            move |p, conn| {
                p.handle(&p.scim, conn, |g, store| {
                    g.call_create_user(store, &new, &registration)
                })
            },
        )
        .await?;
    Ok(scim(StatusCode::CREATED, user_json(&req.app.scim, &user)))
}

async fn get_user(req: Req, _: ScimAccept, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetUser(id.clone());
    let user = req
        .run(op, Family::Scim, TxMode::Read, move |p, conn| {
            p.handle(&p.scim, conn, |g, store| g.call_get_user(store, &id))
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
        .run(
            Operation::ListUsers,
            Family::Scim,
            TxMode::Read,
            move |p, conn| p.handle(&p.scim, conn, |g, store| g.call_list_users(store, page)),
        )
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
        .run(op, Family::Scim, TxMode::Write, move |p, conn| {
            p.handle(&p.scim, conn, |g, store| {
                g.call_replace_user(store, &id, &new)
            })
        })
        .await?;
    Ok(scim(StatusCode::OK, user_json(&req.app.scim, &user)))
}

async fn delete_user(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::DeleteUser(id.clone());
    req.run(op, Family::Scim, TxMode::Write, move |p, conn| {
        p.handle(&p.scim, conn, |g, store| g.call_delete_user(store, &id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn create_group(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let new = parse_new_group(&json_object(&headers, &body, &[SCIM_JSON])?)?;
    let group = req
        .run(
            Operation::CreateGroup,
            Family::Scim,
            TxMode::Write,
            move |p, conn| p.handle(&p.scim, conn, |g, store| g.call_create_group(store, &new)),
        )
        .await?;
    Ok(scim(
        StatusCode::CREATED,
        group_json(&req.app.base_url, &group),
    ))
}

async fn get_group(req: Req, _: ScimAccept, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetGroup(id.clone());
    let group = req
        .run(op, Family::Scim, TxMode::Read, move |p, conn| {
            p.handle(&p.scim, conn, |g, store| g.call_get_group(store, &id))
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
        .run(
            Operation::ListGroups,
            Family::Scim,
            TxMode::Read,
            move |p, conn| p.handle(&p.scim, conn, |g, store| g.call_list_groups(store, page)),
        )
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
        .run(op, Family::Scim, TxMode::Write, move |p, conn| {
            p.handle(&p.scim, conn, |g, store| {
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
    req.run(op, Family::Scim, TxMode::Write, move |p, conn| {
        p.handle(&p.scim, conn, |g, store| {
            g.call_patch_members(store, &id, &ops)
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_group(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::DeleteGroup(id.clone());
    req.run(op, Family::Scim, TxMode::Write, move |p, conn| {
        p.handle(&p.scim, conn, |g, store| g.call_delete_group(store, &id))
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
        .run(op, Family::Scim, TxMode::Read, move |p, conn| {
            p.handle(&p.scim, conn, |g, store| {
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
        .run(op, Family::Scim, TxMode::Read, move |p, conn| {
            p.handle(&p.scim, conn, |g, store| {
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
        .run(
            Operation::GetMe,
            Family::Scim,
            TxMode::Read,
            move |p, conn| p.handle(&p.scim, conn, |g, store| g.call_get_me(store, &me)),
        )
        .await?;
    Ok(scim(StatusCode::OK, user_json(&req.app.scim, &user)))
}

#[cfg(test)]
mod tests {
    use super::ssh_fingerprint;

    // Keys made with ssh-keygen; the fingerprints are what `ssh-keygen -lf` printed.
    const ED25519: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPC3F+gTo1JZ3IlVZ7wpW+TSp3FxpTMZgSsf7DhriecQ test";
    const RSA: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDtjKc4HkNcBAGeftXPoHJKge1MOERSsjVk/K2kbIiIr2BaXW3kLPvqzJ9eKLW/wQ4JLzuiwenqKSTwF6Y8ZIbYQ8k2VNrNQuSXs3vj9UJ8z72la/FNUJoRGX5dI84f2FJJT4mdMj1l0Xcsh7uYyaGJYfJi4CPSgPxBgS7idXgalw== r";

    #[test]
    fn certificate_names_in_rfc2253_form() {
        let pem = include_str!("../../../tests/fixtures/test2-cert.pem");
        let (subject, issuer) = super::certificate_dns(pem).unwrap();
        assert_eq!(subject, "CN=test2,O=IGI,C=IT");
        assert_eq!(issuer, "CN=Test CA,O=IGI,C=IT");
        assert!(
            super::certificate_dns("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .is_err()
        );
        assert!(super::certificate_dns("junk").is_err());
    }

    #[test]
    fn ssh_fingerprints_as_openssh_prints_them() {
        assert_eq!(
            ssh_fingerprint(ED25519).unwrap(),
            "SHA256:dS3N7BY/u4XeXgEdWhI/qAd8VRHc0qGnSoJaqoJtcvM"
        );
        assert_eq!(
            ssh_fingerprint(RSA).unwrap(),
            "SHA256:VoYbA7Akm1TyMTrTXh5EaD4e2KKnKTCMrL60Jm3/b48"
        );
        // The declared type must match the key data.
        let mislabelled = ED25519.replacen("ssh-ed25519", "ssh-rsa", 1);
        assert!(ssh_fingerprint(&mislabelled).is_err());
        assert!(ssh_fingerprint("ssh-ed25519 !!!").is_err());
        assert!(ssh_fingerprint("nonsense").is_err());
    }
}
