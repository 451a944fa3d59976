//! `/scim/Users` and `/scim/Groups`: create, read, list, delete (docs/api.md §10).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::body::{Params, ScimAccept, json_object};
use super::scim_body::{parse_member_patch, parse_new_group, parse_new_user};
use super::scim_json::{Shape, group_json, list_json, resource, scim, user_json};
use super::scim_list::ListRequest;
use super::scim_patch::parse_user_patch;
use super::{ApiError, AppState, Family, GuestOutcome, Req};
use crate::contract::types::{Operation, PageRequest};
use crate::plugins::{Handled, Plugins};
use crate::scim::etag;
use crate::scim::schema::{GROUP_TYPE, INDIGO_USER, ResourceType, USER_TYPE};
use crate::store::Tx;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/scim/Users", get(list_users).post(create_user))
        .route("/scim/Users/.search", post(search_users))
        .route(
            "/scim/Users/{id}",
            get(get_user)
                .put(replace_user)
                .patch(patch_user)
                .delete(delete_user),
        )
        .route("/scim/Groups", get(list_groups).post(create_group))
        .route("/scim/Groups/.search", post(search_groups))
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
        .route("/scim/.search", post(search_everything))
}

fn page(query: Option<&str>) -> Result<PageRequest, ApiError> {
    let params = Params::parse(query)?;
    Ok(PageRequest {
        start_index: params.int("startIndex")?,
        count: params.int("count")?,
    })
}

/// The resource shape a request asks for.
fn shape(query: Option<&str>) -> Result<Shape, ApiError> {
    let p = Params::parse(query)?;
    Ok(Shape {
        attributes: p.get("attributes").map(String::from),
        excluded: p.get("excludedAttributes").map(String::from),
    })
}

/// A conditional header's value; one that is not text is a 400.
fn condition(headers: &HeaderMap, name: header::HeaderName) -> Result<Option<String>, ApiError> {
    headers
        .get(&name)
        .map(|v| {
            v.to_str().map(String::from).map_err(|_| {
                ApiError::status(
                    StatusCode::BAD_REQUEST,
                    Family::Scim,
                    format!("Invalid {name} header"),
                )
            })
        })
        .transpose()
}

/// A single read: 304 without a body when `If-None-Match` names its version.
fn read_answer(
    headers: &HeaderMap,
    t: &ResourceType,
    body: Value,
    shape: &Shape,
) -> Result<Response, ApiError> {
    if let Some(tags) = condition(headers, header::IF_NONE_MATCH)? {
        let version = body["meta"]["version"].as_str().unwrap_or_default();
        if etag::matches(&tags, version) {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(v) = header::HeaderValue::from_str(version) {
                r.headers_mut().insert(header::ETAG, v);
            }
            return Ok(r);
        }
    }
    Ok(resource(StatusCode::OK, t, body, shape))
}

/// Runs a write guarded by `If-Match` (RFC 7644 §3.14). With the header, `current` reads and
/// renders the resource in the write's own transaction first: a version that does not match
/// is a 412 and nothing is written. Without it, the write runs as it is.
async fn guarded<R: Send + 'static>(
    req: &Req,
    op: Operation,
    headers: &HeaderMap,
    current: impl Fn(&Plugins, Tx) -> GuestOutcome<Value> + Send + 'static,
    write: impl Fn(&Plugins, Tx) -> GuestOutcome<R> + Send + 'static,
) -> Result<R, ApiError> {
    let Some(expected) = condition(headers, header::IF_MATCH)? else {
        return req.run(op, write).await;
    };
    req.run(op, move |p, tx| {
        let read = current(p, tx);
        match read.result {
            Ok(Ok(ref resource)) if precondition_holds(Some(&expected), resource) => {
                write(p, read.tx).map(|r| r.map(Ok))
            }
            Ok(Ok(_)) => read.map(|_| Ok(Err(precondition_failed()))),
            _ => read.map(|r| r.map(|_| Err(ApiError::internal()))),
        }
    })
    .await?
}

/// Whether `If-Match` (when sent) names the version of `resource`.
fn precondition_holds(if_match: Option<&str>, resource: &Value) -> bool {
    if_match.is_none_or(|tags| etag::matches(tags, &etag::version_of(resource)))
}

fn precondition_failed() -> ApiError {
    ApiError::status(
        StatusCode::PRECONDITION_FAILED,
        Family::Scim,
        "The resource has changed: its version does not match If-Match",
    )
}

/// The current user, rendered, for a guarded write.
fn current_user(app: AppState, id: String) -> impl Fn(&Plugins, Tx) -> GuestOutcome<Value> {
    move |p, tx| {
        p.handle(&p.scim, tx, |g, store| g.call_get_user(store, &id))
            .map(|r| r.map(|u| user_json(&app.scim, &u)))
    }
}

/// The current group, rendered, for a guarded write.
fn current_group(app: AppState, id: String) -> impl Fn(&Plugins, Tx) -> GuestOutcome<Value> {
    move |p, tx| {
        p.handle(&p.scim, tx, |g, store| g.call_get_group(store, &id))
            .map(|r| r.map(|g| group_json(&app.base_url, &g)))
    }
}

pub(super) async fn create_user(
    req: Req,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new = parse_new_user(&json_object(&headers, &body, req.app.scim.body_types())?)?;
    let shape = shape(query.as_deref())?;
    let registration = req.app.registration.clone();
    let user = req
        .run(Operation::CreateUser, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| {
                g.call_create_user(store, &new, &registration)
            })
        })
        .await?;
    let body = user_json(&req.app.scim, &user);
    Ok(resource(StatusCode::CREATED, &USER_TYPE, body, &shape))
}

async fn get_user(
    req: Req,
    _: ScimAccept,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let shape = shape(query.as_deref())?;
    let op = Operation::GetUser(id.clone());
    let user = req
        .run(op, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_get_user(store, &id))
        })
        .await?;
    let body = user_json(&req.app.scim, &user);
    read_answer(&headers, &USER_TYPE, body, &shape)
}

async fn list_users(
    req: Req,
    _: ScimAccept,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let list = ListRequest::from_query(query.as_deref(), &USER_TYPE, &req.app.scim)?;
    users_answer(req, list).await
}

/// `POST /scim/Users/.search` (RFC 7644 §3.4.3): the list with its parameters in the body.
async fn search_users(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let body = json_object(&headers, &body, req.app.scim.body_types())?;
    let list = ListRequest::from_search(&body, &USER_TYPE, &req.app.scim)?;
    users_answer(req, list).await
}

async fn users_answer(req: Req, list: ListRequest) -> Result<Response, ApiError> {
    let ListRequest { page, query, shape } = list;
    let result = req
        .run(Operation::ListUsers, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| {
                g.call_list_users(store, page, &query)
            })
        })
        .await?;
    let users = result
        .users
        .iter()
        .map(|u| {
            let mut user = user_json(&req.app.scim, u);
            // The list leaves out the certificates' PEM (single reads keep it).
            if let Some(certs) = user[INDIGO_USER]["certificates"].as_array_mut() {
                for c in certs {
                    c.as_object_mut().map(|c| c.remove("pemEncodedCertificate"));
                }
            }
            shape.apply(&USER_TYPE, user)
        })
        .collect();
    Ok(scim(StatusCode::OK, list_json(&result.info, users)))
}

pub(super) async fn replace_user(
    req: Req,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new = parse_new_user(&json_object(&headers, &body, req.app.scim.body_types())?)?;
    let shape = shape(query.as_deref())?;
    let op = Operation::ReplaceUser(id.clone());
    let current = current_user(req.app.clone(), id.clone());
    let user = guarded(&req, op, &headers, current, move |p, tx| {
        p.handle(&p.scim, tx, |g, store| {
            g.call_replace_user(store, &id, &new)
        })
    })
    .await?;
    let body = user_json(&req.app.scim, &user);
    Ok(resource(StatusCode::OK, &USER_TYPE, body, &shape))
}

/// `PATCH /scim/Users/{id}`: the body's operations are applied to the user as it is in
/// the same transaction (after the policy, and after `If-Match`), and the handler writes
/// the changes they make. 204, or 200 with the user when `attributes` or
/// `excludedAttributes` ask for a representation (RFC 7644 §3.5.2).
pub(super) async fn patch_user(
    req: Req,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let patch = parse_user_patch(&json_object(&headers, &body, req.app.scim.body_types())?)?;
    let shape = shape(query.as_deref())?;
    let expected = condition(&headers, header::IF_MATCH)?;
    let app = req.app.clone();
    let op = Operation::PatchUser(id.clone());
    let patched = req
        .run(op, move |p, tx| {
            let read = p.handle(&p.scim, tx, |g, store| g.call_get_user(store, &id));
            let Handled { result, tx, audit } = read;
            let current = match result {
                Ok(Ok(user)) => user,
                Ok(Err(e)) => {
                    return Handled {
                        result: Ok(Err(e)),
                        tx,
                        audit,
                    };
                }
                Err(f) => {
                    return Handled {
                        result: Err(f),
                        tx,
                        audit,
                    };
                }
            };
            let rendered = user_json(&app.scim, &current);
            let changes = if precondition_holds(expected.as_deref(), &rendered) {
                patch.changes(&current, &rendered)
            } else {
                Err(precondition_failed())
            };
            match changes {
                Ok(changes) => p
                    .handle(&p.scim, tx, |g, store| {
                        g.call_patch_user(store, &id, &changes)
                    })
                    .map(|r| r.map(Ok)),
                Err(e) => Handled {
                    result: Ok(Ok(Err(e))),
                    tx,
                    audit,
                },
            }
        })
        .await??;
    let body = user_json(&req.app.scim, &patched);
    if shape.is_default() {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Some(v) = body["meta"]["version"]
            .as_str()
            .and_then(|v| header::HeaderValue::from_str(v).ok())
        {
            r.headers_mut().insert(header::ETAG, v);
        }
        return Ok(r);
    }
    Ok(resource(StatusCode::OK, &USER_TYPE, body, &shape))
}

pub(super) async fn delete_user(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let op = Operation::DeleteUser(id.clone());
    let current = current_user(req.app.clone(), id.clone());
    guarded(&req, op, &headers, current, move |p, tx| {
        p.handle(&p.scim, tx, |g, store| g.call_delete_user(store, &id))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn create_group(
    req: Req,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new = parse_new_group(&json_object(&headers, &body, req.app.scim.body_types())?)?;
    let shape = shape(query.as_deref())?;
    let group = req
        .run(Operation::CreateGroup, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_create_group(store, &new))
        })
        .await?;
    let body = group_json(&req.app.base_url, &group);
    Ok(resource(StatusCode::CREATED, &GROUP_TYPE, body, &shape))
}

async fn get_group(
    req: Req,
    _: ScimAccept,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let shape = shape(query.as_deref())?;
    let op = Operation::GetGroup(id.clone());
    let group = req
        .run(op, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_get_group(store, &id))
        })
        .await?;
    let body = group_json(&req.app.base_url, &group);
    read_answer(&headers, &GROUP_TYPE, body, &shape)
}

async fn list_groups(
    req: Req,
    _: ScimAccept,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let list = ListRequest::from_query(query.as_deref(), &GROUP_TYPE, &req.app.scim)?;
    groups_answer(req, list).await
}

/// `POST /scim/Groups/.search` (RFC 7644 §3.4.3).
async fn search_groups(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let body = json_object(&headers, &body, req.app.scim.body_types())?;
    let list = ListRequest::from_search(&body, &GROUP_TYPE, &req.app.scim)?;
    groups_answer(req, list).await
}

async fn groups_answer(req: Req, list: ListRequest) -> Result<Response, ApiError> {
    let ListRequest { page, query, shape } = list;
    let result = req
        .run(Operation::ListGroups, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| {
                g.call_list_groups(store, page, &query)
            })
        })
        .await?;
    let groups = result
        .groups
        .iter()
        .map(|g| shape.apply(&GROUP_TYPE, group_json(&req.app.base_url, g)))
        .collect();
    Ok(scim(StatusCode::OK, list_json(&result.info, groups)))
}

pub(super) async fn replace_group(
    req: Req,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let new = parse_new_group(&json_object(&headers, &body, req.app.scim.body_types())?)?;
    let shape = shape(query.as_deref())?;
    let op = Operation::ReplaceGroup(id.clone());
    let current = current_group(req.app.clone(), id.clone());
    let group = guarded(&req, op, &headers, current, move |p, tx| {
        p.handle(&p.scim, tx, |g, store| {
            g.call_replace_group(store, &id, &new)
        })
    })
    .await?;
    let body = group_json(&req.app.base_url, &group);
    Ok(resource(StatusCode::OK, &GROUP_TYPE, body, &shape))
}

pub(super) async fn patch_group(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ops = parse_member_patch(&json_object(&headers, &body, req.app.scim.body_types())?)?;
    let op = Operation::PatchGroup(id.clone());
    let current = current_group(req.app.clone(), id.clone());
    guarded(&req, op, &headers, current, move |p, tx| {
        p.handle(&p.scim, tx, |g, store| {
            g.call_patch_members(store, &id, &ops)
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn delete_group(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let op = Operation::DeleteGroup(id.clone());
    let current = current_group(req.app.clone(), id.clone());
    guarded(&req, op, &headers, current, move |p, tx| {
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

async fn get_me(
    req: Req,
    _: ScimAccept,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let shape = shape(query.as_deref())?;
    let me = req.caller.principal.clone();
    let user = req
        .run(Operation::GetMe, move |p, tx| {
            p.handle(&p.scim, tx, |g, store| g.call_get_me(store, &me))
        })
        .await?;
    read_answer(
        &headers,
        &USER_TYPE,
        user_json(&req.app.scim, &user),
        &shape,
    )
}

/// `POST /scim/.search`: searching users and groups at once is not offered (RFC 7644 §3.4.3
/// lets a server answer 501); the typed endpoints do it.
async fn search_everything(_: Req) -> ApiError {
    ApiError::status(
        StatusCode::NOT_IMPLEMENTED,
        Family::Scim,
        "Searching several resource types at once is not supported: use \
         /scim/Users/.search or /scim/Groups/.search",
    )
}
