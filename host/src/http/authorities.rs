//! `GET|POST|DELETE /iam/account/{id}/authorities` and `GET /iam/me/authorities`
//! (docs/api.md §5.2).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::body::Params;
use super::{ApiError, AppState, Req};
use crate::contract::types::Operation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/iam/account/{id}/authorities",
            get(list).post(add).delete(remove),
        )
        .route("/iam/me/authorities", get(own))
}

fn authorities_json(list: Vec<String>) -> Response {
    Json(json!({ "authorities": list })).into_response()
}

async fn list(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetAccountAuthorities(id.clone());
    let list = req
        .run(op, move |p, tx| {
            p.handle(&p.authorities, tx, |g, store| g.call_get(store, &id))
        })
        .await?;
    Ok(authorities_json(list))
}

async fn own(req: Req) -> Result<Response, ApiError> {
    let me = req.caller.principal.clone();
    let list = req
        .run(Operation::GetOwnAuthorities, move |p, tx| {
            p.handle(&p.authorities, tx, |g, store| g.call_get_own(store, &me))
        })
        .await?;
    Ok(authorities_json(list))
}

async fn add(
    req: Req,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let authority = Params::parse_with_form(query.as_deref(), &headers, &body)?
        .get("authority")
        .map(String::from);
    let op = Operation::AddAccountAuthority(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.authorities, tx, |g, store| {
            g.call_add(store, &id, authority.as_deref())
        })
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}

async fn remove(
    req: Req,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let authority = Params::parse_with_form(query.as_deref(), &headers, &body)?
        .get("authority")
        .map(String::from);
    let op = Operation::RemoveAccountAuthority(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.authorities, tx, |g, store| {
            g.call_remove(store, &id, authority.as_deref())
        })
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}
