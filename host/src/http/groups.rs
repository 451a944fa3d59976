//! Group membership (reference §2.5) and group managers (§2.6).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{Value, json};

use super::scim::user_json;
use super::{ApiError, AppState, Caller, Family, RequestId};
use crate::plugins::types::{AccountGroup, GroupRef, Operation};
use crate::store::TxMode;

pub fn routes() -> Router<AppState> {
    Router::new()
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

async fn add_member(
    State(app): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    Path((account, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::AddGroupMember(AccountGroup {
        account: account.clone(),
        group: group.clone(),
    });
    app.execute(
        &rid,
        caller,
        op,
        Family::Iam,
        TxMode::Write,
        move |p, conn| {
            p.handle(&p.groups, conn, |g, store| {
                g.call_add_member(store, &account, &group)
            })
        },
    )
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn remove_member(
    State(app): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    Path((account, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::RemoveGroupMember(AccountGroup {
        account: account.clone(),
        group: group.clone(),
    });
    app.execute(
        &rid,
        caller,
        op,
        Family::Iam,
        TxMode::Write,
        move |p, conn| {
            p.handle(&p.groups, conn, |g, store| {
                g.call_remove_member(store, &account, &group)
            })
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A group as the managed-groups view shows it: only name and id are filled.
fn group_dto(g: &GroupRef) -> Value {
    json!({"name": g.name, "id": g.id, "description": null, "parent": null})
}

async fn managed_groups(
    State(app): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    Path(account): Path<String>,
) -> Result<Response, ApiError> {
    let op = Operation::GetManagedGroups(account.clone());
    let m = app
        .execute(
            &rid,
            caller,
            op,
            Family::Iam,
            TxMode::Read,
            move |p, conn| {
                p.handle(&p.managers, conn, |g, store| {
                    g.call_managed_groups(store, &account)
                })
            },
        )
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
    State(app): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    Path((account, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::AddGroupManager(AccountGroup {
        account: account.clone(),
        group: group.clone(),
    });
    app.execute(
        &rid,
        caller,
        op,
        Family::Iam,
        TxMode::Write,
        move |p, conn| {
            p.handle(&p.managers, conn, |g, store| {
                g.call_add(store, &account, &group)
            })
        },
    )
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn remove_manager(
    State(app): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    Path((account, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::RemoveGroupManager(AccountGroup {
        account: account.clone(),
        group: group.clone(),
    });
    app.execute(
        &rid,
        caller,
        op,
        Family::Iam,
        TxMode::Write,
        move |p, conn| {
            p.handle(&p.managers, conn, |g, store| {
                g.call_remove(store, &account, &group)
            })
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn group_managers(
    State(app): State<AppState>,
    Extension(rid): Extension<RequestId>,
    caller: Caller,
    Path(group): Path<String>,
) -> Result<Response, ApiError> {
    let op = Operation::GetGroupManagers(group.clone());
    let users = app
        .execute(
            &rid,
            caller,
            op,
            Family::Iam,
            TxMode::Read,
            move |p, conn| {
                p.handle(&p.managers, conn, |g, store| {
                    g.call_group_managers(store, &group)
                })
            },
        )
        .await?;
    let base = &app.base_url;
    Ok(Json(users.iter().map(|u| user_json(base, u)).collect::<Vec<_>>()).into_response())
}
