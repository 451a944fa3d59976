//! `GET|PUT|DELETE /iam/account/{id}/labels` (docs/api.md §5.3).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Map, Value};

use super::body::{JSON, Params, json_object, string_field};
use super::{ApiError, AppState, Req};
use crate::contract::types::{Label, Operation};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/iam/account/{id}/labels",
        get(list).put(set).delete(remove),
    )
}

/// A label as IAM writes it: absent or empty members are left out.
pub fn label_json(l: &Label) -> Value {
    let mut m = Map::new();
    if let Some(p) = l.prefix.as_ref().filter(|p| !p.is_empty()) {
        m.insert("prefix".into(), p.as_str().into());
    }
    m.insert("name".into(), l.name.as_str().into());
    if let Some(v) = l.value.as_ref().filter(|v| !v.is_empty()) {
        m.insert("value".into(), v.as_str().into());
    }
    Value::Object(m)
}

/// A label's fields: prefix, name and value.
type LabelFields = (Option<String>, Option<String>, Option<String>);

/// The prefix, name and value a PUT body holds (absent or null: `None`).
pub fn label_body(headers: &HeaderMap, body: &Bytes) -> Result<LabelFields, ApiError> {
    let obj = json_object(headers, body, &[JSON])?;
    Ok((
        string_field(&obj, "prefix")?,
        string_field(&obj, "name")?,
        string_field(&obj, "value")?,
    ))
}

/// The `prefix`, `name` and `value` parameters of a DELETE, from the query or a form body.
pub fn label_params(
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<LabelFields, ApiError> {
    let params = Params::parse_with_form(query, headers, body)?;
    let field = |k: &str| params.get(k).map(String::from);
    Ok((field("prefix"), field("name"), field("value")))
}

async fn list(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetAccountLabels(id.clone());
    let labels = req
        .run(op, move |p, tx| {
            p.handle(&p.labels, tx, |g, store| g.call_get(store, &id))
        })
        .await?;
    Ok(Json(labels.iter().map(label_json).collect::<Vec<_>>()).into_response())
}

async fn set(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (prefix, name, value) = label_body(&headers, &body)?;
    let op = Operation::SetAccountLabel(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.labels, tx, |g, store| {
            g.call_set(
                store,
                &id,
                prefix.as_deref(),
                name.as_deref(),
                value.as_deref(),
            )
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
    let (prefix, name, value) = label_params(query.as_deref(), &headers, &body)?;
    let op = Operation::DeleteAccountLabel(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.labels, tx, |g, store| {
            g.call_remove(
                store,
                &id,
                prefix.as_deref(),
                name.as_deref(),
                value.as_deref(),
            )
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
