//! `GET /iam/account/search` and `GET /iam/group/search` (docs/api.md §9).

use axum::extract::RawQuery;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::body::Params;
use super::scim_json::{group_json, plain_list_json, restrict, user_json};
use super::{ApiError, AppState, Req};
use crate::contract::types::{Operation, SearchRequest};
use crate::scim::schema::INDIGO_GROUP;

/// What a user found by search shows: no `schemas`, no IndigoUser extension.
const USER_MEMBERS: &[&str] = &[
    "id",
    "displayName",
    "meta",
    "name",
    "userName",
    "active",
    "emails",
    "photos",
    "groups",
];
/// What a group found by search shows.
const GROUP_MEMBERS: &[&str] = &["id", "displayName", "meta", INDIGO_GROUP];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/iam/account/search", get(accounts))
        .route("/iam/group/search", get(groups))
}

fn request(query: Option<&str>) -> Result<SearchRequest, ApiError> {
    let p = Params::parse(query)?;
    Ok(SearchRequest {
        filter: p.get("filter").map(String::from),
        start_index: p.int("startIndex")?,
        count: p.int("count")?,
        sort_by: p.get("sortBy").map(String::from),
        sort_direction: p.get("sortDirection").map(String::from),
    })
}

async fn accounts(req: Req, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let search = request(query.as_deref())?;
    let found = req
        .run(Operation::SearchAccounts, move |p, tx| {
            p.handle(&p.search, tx, |g, store| g.call_accounts(store, &search))
        })
        .await?;
    let users = found
        .users
        .iter()
        .map(|u| restrict(user_json(&req.app.scim, u), USER_MEMBERS))
        .collect();
    Ok(Json(plain_list_json(&found.info, users)).into_response())
}

async fn groups(req: Req, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let search = request(query.as_deref())?;
    let found = req
        .run(Operation::SearchGroups, move |p, tx| {
            p.handle(&p.search, tx, |g, store| g.call_groups(store, &search))
        })
        .await?;
    let groups = found
        .groups
        .iter()
        .map(|g| restrict(group_json(&req.app.base_url, g), GROUP_MEMBERS))
        .collect();
    Ok(Json(plain_list_json(&found.info, groups)).into_response())
}
