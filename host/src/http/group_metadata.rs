//! `GET|PUT|DELETE /iam/group/{id}/attributes` and `GET|PUT|DELETE /iam/group/{id}/labels`
//! (docs/api.md §6.4): the account attribute and label endpoints, on a group, with the
//! same bodies and parameters.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::attributes::{attribute_body, attribute_json, attribute_params};
use super::labels::{label_body, label_json, label_params};
use super::{ApiError, AppState, Req};
use crate::contract::types::Operation;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/iam/group/{id}/attributes",
            get(attributes).put(set_attribute).delete(remove_attribute),
        )
        .route(
            "/iam/group/{id}/labels",
            get(labels).put(set_label).delete(remove_label),
        )
}

async fn attributes(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetGroupAttributes(id.clone());
    let attrs = req
        .run(op, move |p, tx| {
            p.handle(&p.group_metadata, tx, |g, store| {
                g.call_get_attributes(store, &id)
            })
        })
        .await?;
    Ok(Json(attrs.iter().map(attribute_json).collect::<Vec<_>>()).into_response())
}

async fn set_attribute(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (name, value) = attribute_body(&headers, &body)?;
    let op = Operation::SetGroupAttribute(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.group_metadata, tx, |g, store| {
            g.call_set_attribute(store, &id, name.as_deref(), value.as_deref())
        })
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}

async fn remove_attribute(
    req: Req,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (name, value) = attribute_params(query.as_deref(), &headers, &body)?;
    let op = Operation::DeleteGroupAttribute(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.group_metadata, tx, |g, store| {
            g.call_remove_attribute(store, &id, name.as_deref(), value.as_deref())
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn labels(req: Req, Path(id): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetGroupLabels(id.clone());
    let labels = req
        .run(op, move |p, tx| {
            p.handle(&p.group_metadata, tx, |g, store| {
                g.call_get_labels(store, &id)
            })
        })
        .await?;
    Ok(Json(labels.iter().map(label_json).collect::<Vec<_>>()).into_response())
}

async fn set_label(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (prefix, name, value) = label_body(&headers, &body)?;
    let op = Operation::SetGroupLabel(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.group_metadata, tx, |g, store| {
            g.call_set_label(
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

async fn remove_label(
    req: Req,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (prefix, name, value) = label_params(query.as_deref(), &headers, &body)?;
    let op = Operation::DeleteGroupLabel(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.group_metadata, tx, |g, store| {
            g.call_remove_label(
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
