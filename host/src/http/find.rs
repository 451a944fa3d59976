//! The account finders, `GET /iam/account/find/...` (docs/api.md §8).

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use super::body::{Params, ScimAccept};
use super::scim_json::{LIST_SCHEMA, list_json, scim, user_json};
use super::{ApiError, AppState, Req};
use crate::contract::types::{Finder, GroupFilter, LabelFilter, Operation, PageRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/iam/account/find/byusername", get(by_username))
        .route("/iam/account/find/byemail", get(by_email))
        .route("/iam/account/find/bycertsubject", get(by_cert_subject))
        .route("/iam/account/find/byuuid/{uuid}", get(by_uuid))
        .route("/iam/account/find/bylabel", get(by_label))
        .route("/iam/account/find/bygroup/{group}", get(by_group))
        .route("/iam/account/find/notingroup/{group}", get(not_in_group))
        .route("/iam/account/find/byauthority", get(by_authority))
}

/// A required query parameter; missing is a 400 like Spring's.
fn required(p: &Params, name: &str) -> Result<String, ApiError> {
    p.get(name).map(String::from).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Required request parameter '{name}' is not present"
        ))
    })
}

fn page(p: &Params) -> Result<PageRequest, ApiError> {
    Ok(PageRequest {
        start_index: p.int("startIndex")?,
        count: p.int("count")?,
    })
}

/// Runs a finder and renders IAM's two response shapes.
async fn run(req: Req, finder: Finder, page: PageRequest) -> Result<Response, ApiError> {
    let op = Operation::FindAccounts(finder.clone());
    let found = req
        .run(op, move |p, tx| {
            p.handle(&p.find, tx, |g, store| g.call_find(store, &finder, page))
        })
        .await?;
    let users: Vec<_> = found
        .users
        .iter()
        .map(|u| user_json(&req.app.scim, u))
        .collect();
    let body = if !found.single {
        list_json(&found.info, users)
    } else if users.is_empty() {
        // Not found: no totalResults at all (a Java test checks it is absent).
        json!({"Resources": [], "schemas": [LIST_SCHEMA]})
    } else {
        // IAM reports a constant page size of 10 here.
        json!({"totalResults": users.len(), "itemsPerPage": 10, "startIndex": 1,
               "Resources": users, "schemas": [LIST_SCHEMA]})
    };
    Ok(scim(StatusCode::OK, body))
}

async fn by_username(req: Req, _: ScimAccept, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let finder = Finder::ByUsername(required(&p, "username")?);
    run(req, finder, page(&p)?).await
}

async fn by_email(req: Req, _: ScimAccept, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let finder = Finder::ByEmail(required(&p, "email")?);
    run(req, finder, page(&p)?).await
}

async fn by_cert_subject(
    req: Req,
    _: ScimAccept,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let finder = Finder::ByCertSubject(required(&p, "certificateSubject")?);
    run(req, finder, page(&p)?).await
}

async fn by_uuid(req: Req, _: ScimAccept, Path(uuid): Path<String>) -> Result<Response, ApiError> {
    let finder = Finder::ByUuid(uuid);
    run(
        req,
        finder,
        PageRequest {
            start_index: None,
            count: None,
        },
    )
    .await
}

async fn by_label(req: Req, _: ScimAccept, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let finder = Finder::ByLabel(LabelFilter {
        prefix: p.get("prefix").map(String::from),
        name: required(&p, "name")?,
        value: p.get("value").map(String::from),
    });
    run(req, finder, page(&p)?).await
}

async fn by_group(
    req: Req,
    _: ScimAccept,
    Path(group): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let finder = Finder::ByGroup(GroupFilter {
        group,
        filter: p.get("filter").map(String::from),
    });
    run(req, finder, page(&p)?).await
}

async fn not_in_group(
    req: Req,
    _: ScimAccept,
    Path(group): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let finder = Finder::NotInGroup(GroupFilter {
        group,
        filter: p.get("filter").map(String::from),
    });
    run(req, finder, page(&p)?).await
}

async fn by_authority(
    req: Req,
    _: ScimAccept,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let p = Params::parse(q.as_deref())?;
    let finder = Finder::ByAuthority(required(&p, "authority")?);
    run(req, finder, page(&p)?).await
}
