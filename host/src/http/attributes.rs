//! `GET|PUT|DELETE /iam/account/{id}/attributes` (docs/api.md §5.1).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::body::{JSON, Params, json_object, string_field};
use super::{ApiError, AppState, Req};
use serde_json::Value;

use crate::contract::types::{Attribute, Operation};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/iam/account/{id}/attributes",
        get(list).put(set).delete(remove),
    )
}

/// The name and value a PUT body holds (absent or null: `None`).
pub fn attribute_body(
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let obj = json_object(headers, body, &[JSON])?;
    Ok((string_field(&obj, "name")?, string_field(&obj, "value")?))
}

/// The `name` and `value` parameters of a DELETE, from the query or a form body.
pub fn attribute_params(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let params = Params::parse_with_form(query, headers, body)?;
    let field = |k: &str| params.get(k).map(String::from);
    Ok((field("name"), field("value")))
}

/// An attribute as IAM writes it: a null value is written as `null`.
pub fn attribute_json(a: &Attribute) -> Value {
    serde_json::json!({"name": a.name, "value": a.value})
}

async fn list(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetAccountAttributes(id.clone());
    let attrs = req
        .run(op, move |p, tx| {
            p.handle(&p.attributes, tx, |g, store| g.call_get(store, &id))
        })
        .await?;
    Ok(Json(attrs.iter().map(attribute_json).collect::<Vec<_>>()).into_response())
}

async fn set(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (name, value) = attribute_body(&headers, &body)?;
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
    let (name, value) = attribute_params(query.as_deref(), &headers, &body)?;
    let op = Operation::DeleteAccountAttribute(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.attributes, tx, |g, store| {
            g.call_remove(store, &id, name.as_deref(), value.as_deref())
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
