//! OAuth client management, `/iam/api/clients[...]`, and the caller's own clients,
//! `GET /iam/account/me/clients` (docs/api.md §11). Clients are INDIGO IAM's snake_case JSON.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::body::{JSON, Params, bool_field, int_field, json_object, string_field};
use super::scim_json::plain_list_json;
use super::{ApiError, AppState, Req};
use crate::auth::oauth::Lifetimes;
use crate::config::MAX_LIFETIME_SECS;
use crate::contract::types::{Client, ClientOwner, NewClient, Operation, PageRequest};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/iam/api/clients", get(list).post(create))
        .route("/iam/api/clients/{client}", get(one).delete(remove))
        .route(
            "/iam/api/clients/{client}/owners/{account}",
            post(add_owner).delete(remove_owner),
        )
        .route("/iam/api/clients/{client}/enable", patch(enable))
        .route("/iam/api/clients/{client}/disable", patch(disable))
        .route("/iam/api/clients/{client}/secret", post(rotate_secret))
        .route("/iam/account/me/clients", get(own))
}

/// Inserts `value` unless it is null or an empty string or list (IAM's NON_EMPTY).
fn put_non_empty(m: &mut Map<String, Value>, key: &str, value: Value) {
    let empty = match &value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    };
    if !empty {
        m.insert(key.into(), value);
    }
}

/// The management view of a client.
fn client_json(c: &Client) -> Map<String, Value> {
    let mut m = Map::new();
    put_non_empty(&mut m, "client_id", json!(c.client_id));
    put_non_empty(&mut m, "client_name", json!(c.client_name));
    put_non_empty(&mut m, "client_description", json!(c.client_description));
    put_non_empty(&mut m, "scope", json!(c.scope.join(" ")));
    put_non_empty(&mut m, "grant_types", json!(c.grant_types));
    put_non_empty(&mut m, "redirect_uris", json!(c.redirect_uris));
    put_non_empty(
        &mut m,
        "token_endpoint_auth_method",
        json!(c.token_endpoint_auth_method),
    );
    m.insert("active".into(), json!(c.active));
    m.insert("created_at".into(), json!(c.created));
    put_non_empty(
        &mut m,
        "access_token_validity_seconds",
        json!(c.access_token_validity),
    );
    put_non_empty(
        &mut m,
        "refresh_token_validity_seconds",
        json!(c.refresh_token_validity),
    );
    m
}

/// The limited view `me/clients` shows (no secrets, no grants).
fn limited_client_json(c: &Client) -> Value {
    let day = |ms: u64| {
        time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .ok()
            .and_then(|t| {
                t.format(time::macros::format_description!("[year]-[month]-[day]"))
                    .ok()
            })
    };
    let mut m = Map::new();
    put_non_empty(&mut m, "client_id", json!(c.client_id));
    put_non_empty(&mut m, "client_name", json!(c.client_name));
    put_non_empty(&mut m, "client_description", json!(c.client_description));
    put_non_empty(&mut m, "redirect_uris", json!(c.redirect_uris));
    put_non_empty(&mut m, "scope", json!(c.scope.join(" ")));
    m.insert("created_at".into(), json!(c.created));
    put_non_empty(&mut m, "last_used", json!(c.last_used.and_then(day)));
    m.insert("active".into(), json!(c.active));
    put_non_empty(&mut m, "status_changed_on", json!(c.status_changed_on));
    put_non_empty(&mut m, "status_changed_by", json!(c.status_changed_by));
    Value::Object(m)
}

/// A list of strings; absent or null is `None`.
fn string_list(obj: &Map<String, Value>, key: &str) -> Result<Option<Vec<String>>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(ApiError::bad_request(format!(
                    "JSON parse error: '{key}' must hold strings"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(ApiError::bad_request(format!(
            "JSON parse error: '{key}' must be an array"
        ))),
    }
}

fn parse_new_client(obj: &Map<String, Value>) -> Result<NewClient, ApiError> {
    Ok(NewClient {
        client_id: string_field(obj, "client_id")?,
        client_secret: string_field(obj, "client_secret")?,
        client_name: string_field(obj, "client_name")?,
        client_description: string_field(obj, "client_description")?,
        scope: string_field(obj, "scope")?,
        grant_types: string_list(obj, "grant_types")?,
        redirect_uris: string_list(obj, "redirect_uris")?.unwrap_or_default(),
        token_endpoint_auth_method: string_field(obj, "token_endpoint_auth_method")?,
        active: bool_field(obj, "active")?,
        access_token_validity_seconds: int_field(obj, "access_token_validity_seconds")?,
        refresh_token_validity_seconds: int_field(obj, "refresh_token_validity_seconds")?,
    })
}

fn page(query: Option<&str>) -> Result<PageRequest, ApiError> {
    let p = Params::parse(query)?;
    Ok(PageRequest {
        start_index: p.int("startIndex")?,
        count: p.int("count")?,
    })
}

/// Token lifetimes over the server's maximums are refused before the handler sees them:
/// the bound holds whichever `clients` handler a site runs. (Negative ones are the
/// handler's to refuse, with IAM's message.)
fn check_lifetimes(new: &NewClient, limits: &Lifetimes) -> Result<(), ApiError> {
    let over = |field: &str, max: u64| {
        ApiError::bad_request(format!(
            "saveNewClient.client.{field}: must be less than or equal to {max}"
        ))
    };
    let access = new.access_token_validity_seconds.unwrap_or(0);
    if u64::try_from(access).is_ok_and(|s| s > limits.max_access_secs) {
        return Err(over("accessTokenValiditySeconds", limits.max_access_secs));
    }
    let Some(refresh) = new.refresh_token_validity_seconds else {
        return Ok(());
    };
    match limits.max_refresh_secs {
        0 if u64::try_from(refresh).is_ok_and(|s| s > MAX_LIFETIME_SECS) => {
            Err(over("refreshTokenValiditySeconds", MAX_LIFETIME_SECS))
        }
        0 => Ok(()),
        max if refresh == 0 => Err(ApiError::bad_request(format!(
            "saveNewClient.client.refreshTokenValiditySeconds: 0 (refresh tokens that never \
             expire) is not allowed on this server: the maximum is {max}"
        ))),
        max if u64::try_from(refresh).is_ok_and(|s| s > max) => {
            Err(over("refreshTokenValiditySeconds", max))
        }
        _ => Ok(()),
    }
}

async fn create(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let new = parse_new_client(&json_object(&headers, &body, &[JSON])?)?;
    check_lifetimes(&new, &req.app.lifetimes)?;
    let reg = req
        .run(Operation::CreateClient, move |p, tx| {
            p.handle(&p.clients, tx, |g, store| g.call_create(store, &new))
        })
        .await?;
    let mut m = client_json(&reg.client);
    // The only time the secret is ever shown.
    if let Some(secret) = reg.secret {
        m.insert("client_secret".into(), json!(secret));
    }
    Ok((StatusCode::CREATED, Json(Value::Object(m))).into_response())
}

async fn list(req: Req, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let page = page(query.as_deref())?;
    let found = req
        .run(Operation::ListClients, move |p, tx| {
            p.handle(&p.clients, tx, |g, store| g.call_list_all(store, page))
        })
        .await?;
    let clients = found
        .clients
        .iter()
        .map(|c| Value::Object(client_json(c)))
        .collect();
    Ok(Json(plain_list_json(&found.info, clients)).into_response())
}

async fn one(req: Req, Path(client): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::GetClient(client.clone());
    let c = req
        .run(op, move |p, tx| {
            p.handle(&p.clients, tx, |g, store| g.call_get(store, &client))
        })
        .await?;
    Ok(Json(Value::Object(client_json(&c))).into_response())
}

async fn remove(req: Req, Path(client): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::DeleteClient(client.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.clients, tx, |g, store| g.call_delete(store, &client))
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PATCH .../enable` and `.../disable`: 200 with no body, as INDIGO IAM answers.
async fn set_active(req: Req, client: String, active: bool) -> Result<Response, ApiError> {
    let op = if active {
        Operation::EnableClient(client.clone())
    } else {
        Operation::DisableClient(client.clone())
    };
    let me = req.caller.principal.clone();
    req.run(op, move |p, tx| {
        p.handle(&p.clients, tx, |g, store| {
            g.call_set_active(store, &client, active, &me)
        })
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}

async fn enable(req: Req, Path(client): Path<String>) -> Result<Response, ApiError> {
    set_active(req, client, true).await
}

async fn disable(req: Req, Path(client): Path<String>) -> Result<Response, ApiError> {
    set_active(req, client, false).await
}

/// `POST .../secret`: 201 with the client and its new secret, shown this once.
async fn rotate_secret(req: Req, Path(client): Path<String>) -> Result<Response, ApiError> {
    let op = Operation::RotateClientSecret(client.clone());
    let reg = req
        .run(op, move |p, tx| {
            p.handle(&p.clients, tx, |g, store| {
                g.call_rotate_secret(store, &client)
            })
        })
        .await?;
    let mut m = client_json(&reg.client);
    if let Some(secret) = reg.secret {
        m.insert("client_secret".into(), json!(secret));
    }
    Ok((StatusCode::CREATED, Json(Value::Object(m))).into_response())
}

async fn add_owner(
    req: Req,
    Path((client, account)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::AddClientOwner(ClientOwner {
        client: client.clone(),
        account: account.clone(),
    });
    req.run(op, move |p, tx| {
        p.handle(&p.clients, tx, |g, store| {
            g.call_add_owner(store, &client, &account)
        })
    })
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

async fn remove_owner(
    req: Req,
    Path((client, account)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let op = Operation::RemoveClientOwner(ClientOwner {
        client: client.clone(),
        account: account.clone(),
    });
    req.run(op, move |p, tx| {
        p.handle(&p.clients, tx, |g, store| {
            g.call_remove_owner(store, &client, &account)
        })
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn own(req: Req, RawQuery(query): RawQuery) -> Result<Response, ApiError> {
    let page = page(query.as_deref())?;
    let me = req.caller.principal.clone();
    // Pagination errors here are SCIM errors, as in INDIGO IAM.
    let found = req
        .run(Operation::GetOwnClients, move |p, tx| {
            p.handle(&p.clients, tx, |g, store| {
                g.call_owned_by_caller(store, &me, page)
            })
        })
        .await?;
    let clients = found.clients.iter().map(limited_client_json).collect();
    Ok(Json(plain_list_json(&found.info, clients)).into_response())
}
