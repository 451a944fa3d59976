//! Groups outside SCIM (docs/api.md §6.1), group membership (§6.2) and
//! group managers (§6.3).

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::body::{JSON, json_object, object_field, string_field};
use super::scim_json::user_json;
use super::{ApiError, AppState, Req};
use crate::contract::types::{AccountGroup, Group, GroupRef, Operation};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/iam/group", post(create_group))
        .route("/iam/group/{group}", put(update_group))
        .route(
            "/iam/account/{account}/groups/{group}",
            post(add_member).delete(remove_member),
        )
        .route("/iam/account/{account}/managed-groups", get(managed_groups))
        .route(
            "/iam/account/{account}/managed-groups/{group}",
            post(add_manager).delete(remove_manager),
        )
        .route("/iam/group/{group}/group-managers", get(group_managers))
}

/// IAM's `GroupDTO`: nulls are written.
fn group_dto_full(g: &Group) -> Value {
    json!({
        "name": g.name,
        "id": g.id,
        "description": g.description,
        "parent": g.parent.as_ref().map(|p| json!({"uuid": p.id, "name": p.name})),
    })
}

async fn create_group(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let obj = json_object(&headers, &body, &[JSON])?;
    let name = string_field(&obj, "name")?;
    let description = string_field(&obj, "description")?;
    // A `parent` without a `uuid` names no group ("parent group not found"); a null one is
    // no parent.
    let parent = match object_field(&obj, "parent")? {
        Some(p) => Some(string_field(p, "uuid")?.unwrap_or_default()),
        None => None,
    };
    let group = req
        .run(Operation::CreateIamGroup, move |p, tx| {
            p.handle(&p.groups, tx, |g, store| {
                g.call_create(
                    store,
                    name.as_deref(),
                    description.as_deref(),
                    parent.as_deref(),
                )
            })
        })
        .await?;
    Ok((StatusCode::CREATED, Json(group_dto_full(&group))).into_response())
}

async fn update_group(
    req: Req,
    Path(group): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let obj = json_object(&headers, &body, &[JSON])?;
    let description = string_field(&obj, "description")?;
    let op = Operation::UpdateIamGroup(group.clone());
    let updated = req
        .run(op, move |p, tx| {
            p.handle(&p.groups, tx, |g, store| {
                g.call_update_description(store, &group, description.as_deref())
            })
        })
        .await?;
    Ok(Json(group_dto_full(&updated)).into_response())
}

async fn add_member(
    req: Req,
    Path((account, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::AddGroupMember(AccountGroup {
        account: account.clone(),
        group: group.clone(),
    });
    req.run(op, move |p, tx| {
        p.handle(&p.groups, tx, |g, store| {
            g.call_add_member(store, &account, &group)
        })
    })
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn remove_member(
    req: Req,
    Path((account, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::RemoveGroupMember(AccountGroup {
        account: account.clone(),
        group: group.clone(),
    });
    req.run(op, move |p, tx| {
        p.handle(&p.groups, tx, |g, store| {
            g.call_remove_member(store, &account, &group)
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A group as the managed-groups view shows it: only name and id are filled.
fn group_dto(g: &GroupRef) -> Value {
    json!({"name": g.name, "id": g.id, "description": null, "parent": null})
}

async fn managed_groups(req: Req, Path(account): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetManagedGroups(account.clone());
    let m = req
        .run(op, move |p, tx| {
            p.handle(&p.managers, tx, |g, store| {
                g.call_managed_groups(store, &account)
            })
        })
        .await?;
    Ok(Json(json!({
        "id": m.account.id,
        "username": m.account.username,
        "managedGroups": m.managed.iter().map(group_dto).collect::<Vec<_>>(),
        "unmanagedGroups": m.unmanaged.iter().map(group_dto).collect::<Vec<_>>(),
    }))
    .into_response())
}

async fn add_manager(
    req: Req,
    Path((account, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::AddGroupManager(AccountGroup {
        account: account.clone(),
        group: group.clone(),
    });
    req.run(op, move |p, tx| {
        p.handle(&p.managers, tx, |g, store| {
            g.call_add(store, &account, &group)
        })
    })
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn remove_manager(
    req: Req,
    Path((account, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::RemoveGroupManager(AccountGroup {
        account: account.clone(),
        group: group.clone(),
    });
    req.run(op, move |p, tx| {
        p.handle(&p.managers, tx, |g, store| {
            g.call_remove(store, &account, &group)
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn group_managers(req: Req, Path(group): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetGroupManagers(group.clone());
    let users = req
        .run(op, move |p, tx| {
            p.handle(&p.managers, tx, |g, store| {
                g.call_group_managers(store, &group)
            })
        })
        .await?;
    Ok(Json(
        users
            .iter()
            .map(|u| user_json(&req.app.scim, u))
            .collect::<Vec<_>>(),
    )
    .into_response())
}
