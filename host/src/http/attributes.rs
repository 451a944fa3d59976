//! `GET|PUT|DELETE /iam/account/{id}/attributes` (docs/api.md §5.1).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::body::{JSON, Params, json_object, string_field};
use super::{ApiError, AppState, Req};
use crate::contract::types::Operation;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/iam/account/{id}/attributes",
        get(list).put(set).delete(remove),
    )
}

async fn list(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetAccountAttributes(id.clone());
    let attrs = req
        .run(op, move |p, tx| {
            p.handle(&p.attributes, tx, |g, store| g.call_get(store, &id))
        })
        .await?;
    let body: Vec<_> = attrs
        .into_iter()
        .map(|a| serde_json::json!({"name": a.name, "value": a.value}))
        .collect();
    Ok(Json(body).into_response())
}

async fn set(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let obj = json_object(&headers, &body, &[JSON])?;
    let name = string_field(&obj, "name")?;
    let value = string_field(&obj, "value")?;
    let op = Operation::SetAccountAttribute(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.attributes, tx, |g, store| {
            g.call_set(store, &id, name.as_deref(), value.as_deref())
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
    let params = Params::parse_with_form(query.as_deref(), &headers, &body)?;
    let name = params.get("name").map(String::from);
    let value = params.get("value").map(String::from);
    let op = Operation::DeleteAccountAttribute(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.attributes, tx, |g, store| {
            g.call_remove(store, &id, name.as_deref(), value.as_deref())
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
