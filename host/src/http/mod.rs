//! The HTTP surface: routes, token → principal, parsing into operations, the answers
//! (JSON, error families) and request ids. Operations run through `crate::pipeline`.

mod admin;
mod attributes;
mod audit;
mod auth;
mod authorities;
mod body;
mod certificates;
mod clients;
mod credentials;
mod error;
mod find;
mod group_metadata;
mod groups;
mod labels;
mod lifecycle;
mod meta;
mod oauth;
mod scim;
mod scim_body;
mod scim_bulk;
mod scim_discovery;
mod scim_json;
mod scim_list;
mod scim_patch;
mod search;
mod trace_context;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

pub use auth::{Caller, Req};
pub use error::{ApiError, Family};
pub use scim_json::ScimView;

use crate::auth::external::TrustedIssuers;
use crate::auth::keys::LiveKeyring;
use crate::auth::oauth::Lifetimes;
use crate::auth::throttle::Throttle;
use crate::auth::verified::VerifiedTokens;
use crate::contract::types;
use crate::pipeline::Pipeline;
pub use crate::pipeline::{GuestOutcome, RequestId};

/// Everything a request needs, shared by all of them.
pub struct App {
    /// The database and the plugins, and how operations run over them.
    pub pipeline: Arc<Pipeline>,
    pub keyring: LiveKeyring,
    /// Failed password attempts, per account and source address.
    pub throttle: Throttle,
    /// Failed client-secret attempts, per client and source address.
    pub client_throttle: Throttle,
    /// Token lifetimes of clients that set none.
    pub lifetimes: Lifetimes,
    /// Other OpenID providers whose tokens act as the linked accounts.
    pub trusted_issuers: TrustedIssuers,
    /// Signatures already checked.
    pub verified_tokens: VerifiedTokens,
    /// `iss` of the tokens this server issues and accepts.
    pub issuer: String,
    /// Base of `meta.location` and `$ref` links.
    pub base_url: String,
    /// How SCIM users are rendered.
    pub scim: scim_json::ScimView,
    /// The largest request body accepted (SCIM bulk publishes it as `maxPayloadSize`).
    pub max_body_bytes: usize,
    /// The site's account-lifecycle settings, handed to the lifecycle guest.
    pub lifecycle: types::LifecycleSettings,
    /// The site's registration settings, handed to the SCIM guest on user creation.
    pub registration: types::RegistrationSettings,
}

pub type AppState = Arc<App>;

/// Every route of the API, behind the request id, metrics, JSON-error and body-limit
/// layers; `/metrics` too unless it has a listener of its own (`metrics_apart`). `extend`
/// adds routes or layers inside those (the benchmark build adds its own).
pub fn router(
    app: AppState,
    max_body_bytes: usize,
    metrics_apart: bool,
    extend: impl FnOnce(Router<AppState>) -> Router<AppState>,
) -> Router {
    let api = Router::new()
        .merge(meta::routes())
        .merge(attributes::routes())
        .merge(authorities::routes())
        .merge(labels::routes())
        .merge(group_metadata::routes())
        .merge(lifecycle::routes())
        .merge(groups::routes())
        .merge(scim::routes())
        .merge(scim_discovery::routes())
        .merge(scim_bulk::routes())
        .merge(search::routes())
        .merge(find::routes())
        .merge(clients::routes())
        .merge(certificates::routes())
        .merge(oauth::routes())
        .merge(admin::routes())
        .merge(audit::routes());
    let api = if metrics_apart {
        api
    } else {
        api.merge(admin::metrics_routes())
    };
    // After every route is in: the layer sees which route took a request.
    extend(api)
        .route_layer(axum::middleware::from_fn(note_route))
        .fallback(|State(app): State<AppState>, req: Request| {
            unrouted(app, req, StatusCode::NOT_FOUND, "Not Found")
        })
        .method_not_allowed_fallback(|State(app): State<AppState>, req: Request| {
            unrouted(
                app,
                req,
                StatusCode::METHOD_NOT_ALLOWED,
                "Request method not supported",
            )
        })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn(request_context))
        .with_state(app)
}

/// `/metrics` alone, for a listener of its own (`--metrics-listen`).
pub fn metrics_router(app: AppState) -> Router {
    admin::metrics_routes().with_state(app)
}

/// A request no route takes. Under the protected prefixes IAM's security filter runs
/// before routing, so the caller must authenticate before learning that a path or method
/// does not exist.
async fn unrouted(
    app: AppState,
    req: Request,
    status: StatusCode,
    message: &'static str,
) -> ApiError {
    let path = req.uri().path();
    if path.starts_with("/iam/") || path.starts_with("/scim/") {
        let (mut parts, _) = req.into_parts();
        if let Err(e) = Caller::from_request_parts(&mut parts, &app).await {
            return e;
        }
    }
    ApiError::status(status, Family::Iam, message)
}

/// Gives every request an id (the trace id of its `traceparent`, or a new one), a tracing
/// span, one log line and its metrics when it is done.
async fn request_context(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(trace_context::trace_id)
        .map_or_else(trace_context::new_id, str::to_string);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let metrics = crate::metrics::get();
    let method = crate::metrics::method_label(req.method());
    let in_flight = metrics.request_started();
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    let took = started.elapsed();
    drop(in_flight);
    let route = resp.extensions_mut().remove::<MatchedPath>();
    metrics.request_done(
        method,
        route.as_ref().map(MatchedPath::as_str),
        resp.status().as_u16(),
        took,
    );
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
            micros = took.as_micros() as u64,
            "done"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Hands the template of the route that took the request (`/iam/account/{id}`) to
/// [`request_context`], through the response, for the metrics' `http_route`.
async fn note_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut resp = next.run(req).await;
    if let Some(route) = route {
        resp.extensions_mut().insert(route);
    }
    resp
}

/// axum's own rejections (body too large, undecodable path, ...) answer in plain text;
/// every error of this API is JSON, so rewrite them as `{"error": "..."}`.
async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let is_error = resp.status().is_client_error() || resp.status().is_server_error();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    if !is_error || is_json {
        return resp;
    }
    let status = resp.status();
    let text = match axum::body::to_bytes(resp.into_body(), 64 * 1024).await {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).into_owned(),
        _ => status.canonical_reason().unwrap_or("Error").to_string(),
    };
    ApiError::status(status, Family::Iam, text).into_response()
}
