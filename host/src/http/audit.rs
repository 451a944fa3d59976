//! `GET /iam/audit/events`: the stored audit trail, filtered and paged, newest first
//! (docs/operations.md). The trail is the host's (it derives the events from the store
//! writes), and so is the rule for reading it: ROLE_ADMIN or `iam:admin.read`, whatever
//! policy is loaded, so a site's policy can neither hide the trail from the administrators
//! nor open it to anyone else.

use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::admin::require_admin;
use super::body::Params;
use super::scim_json::plain_list_json;
use super::{ApiError, AppState, Caller, RequestId};
use crate::contract::types::PageInfo;
use crate::store::{AuditFilter, AuditRecord, TxMode};

/// Events per page: 10 unless asked, 100 at most.
const DEFAULT_COUNT: u64 = 10;
const MAX_COUNT: u64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/iam/audit/events", get(events))
        .route("/iam/account/{account}/audit", get(account_events))
}

/// A time parameter: milliseconds since the epoch, or an RFC 3339 date-time.
fn time_param(p: &Params, name: &str) -> Result<Option<u64>, ApiError> {
    let Some(v) = p.get(name) else {
        return Ok(None);
    };
    if let Ok(ms) = v.trim().parse::<u64>() {
        return Ok(Some(ms));
    }
    OffsetDateTime::parse(v.trim(), &Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid value '{v}' of parameter '{name}': milliseconds since the epoch or an \
                 RFC 3339 date-time expected"
            ))
        })
}

fn filter(p: &Params) -> Result<AuditFilter, ApiError> {
    let text = |name: &str| p.get(name).filter(|v| !v.is_empty()).map(String::from);
    Ok(AuditFilter {
        category: text("category"),
        kind: text("type"),
        actor: text("actor"),
        target: text("target"),
        since_ms: time_param(p, "since")?,
        until_ms: time_param(p, "until")?,
        ..AuditFilter::default()
    })
}

fn time_text(ms: u64) -> Value {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

fn event_json(e: &AuditRecord) -> Value {
    json!({
        "id": e.id,
        "time": time_text(e.time_ms),
        "request": e.request,
        "category": e.category,
        "type": e.kind,
        "actor": {
            "account": e.actor_account,
            "client": e.actor_client,
            "job": e.actor_job,
            "source": e.source,
        },
        "account": e.account,
        "group": e.group,
        "detail": e.detail,
    })
}

async fn events(
    State(app): State<AppState>,
    caller: Caller,
    request: axum::Extension<RequestId>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    require_admin(&caller, "iam:admin.read")?;
    let p = Params::parse(query.as_deref())?;
    let filter = filter(&p)?;
    list(app, &request, &p, filter, None).await
}

/// `GET /iam/account/{id}/audit`: the events about one account. Administrators see them
/// all; a group manager sees the account's membership events of the groups they manage
/// (whether the account is still a member or not), and nothing else.
async fn account_events(
    State(app): State<AppState>,
    caller: Caller,
    request: axum::Extension<RequestId>,
    Path(account): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let managed: Vec<String> = caller
        .principal
        .authorities
        .iter()
        .filter_map(|a| a.strip_prefix("ROLE_GM:"))
        .map(String::from)
        .collect();
    let p = Params::parse(query.as_deref())?;
    let mut filter = filter(&p)?;
    if require_admin(&caller, "iam:admin.read").is_err() {
        if managed.is_empty() {
            return Err(ApiError::Forbidden);
        }
        filter.category = match filter.category.as_deref() {
            None | Some("membership") => Some("membership".into()),
            // Asked for what a manager may not see: nothing matches.
            Some(_) => return Ok(Json(empty_list())),
        };
        filter.groups = Some(managed);
    }
    filter.account = Some(account.clone());
    list(app, &request, &p, filter, Some(account)).await
}

fn empty_list() -> Value {
    json!({"totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []})
}

/// A page of the events `filter` selects, `p` holding the paging parameters. With
/// `account`, an account that does not exist is a 404.
async fn list(
    app: AppState,
    request: &RequestId,
    p: &Params,
    filter: AuditFilter,
    account: Option<String>,
) -> Result<Json<Value>, ApiError> {
    let start = p.int("startIndex")?.unwrap_or(1);
    let count = p.int("count")?.map_or(Ok(DEFAULT_COUNT), u64::try_from);
    let (Ok(count), true) = (count, start >= 1) else {
        return Err(ApiError::bad_request(
            "Invalid pagination request: startIndex must be >= 1 and count >= 0",
        ));
    };
    let count = count.min(MAX_COUNT);
    let offset = (start - 1) as u64;
    let missing = account
        .as_ref()
        .map(|id| format!("Account not found for id '{id}'"));
    let found = tokio::task::spawn_blocking(move || {
        app.pipeline.db.transaction(TxMode::Read, |conn| {
            if let Some(id) = &account
                && conn.accounts().by_uuid(id)?.is_none()
            {
                return Ok(None);
            }
            let total = conn.audit().count(&filter)?;
            let page = conn.audit().page(&filter, offset, count)?;
            Ok::<_, crate::store::StoreError>(Some((total, page)))
        })
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(|e| ApiError::database(request, &e.into()))?;
    let Some((total, page)) = found else {
        return Err(ApiError::status(
            axum::http::StatusCode::NOT_FOUND,
            super::Family::Iam,
            missing.unwrap_or_default(),
        ));
    };
    let info = PageInfo {
        total_results: total,
        start_index: start as u64,
        count_only: count == 0,
    };
    Ok(Json(plain_list_json(
        &info,
        page.iter().map(event_json).collect(),
    )))
}
