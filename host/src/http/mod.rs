//! The HTTP surface: routes, the request pipeline (token → parse → policy → handler in one
//! transaction → JSON), error rendering and request ids.

mod admin;
mod attributes;
mod auth;
mod authorities;
mod body;
mod certificates;
mod clients;
mod error;
mod find;
mod groups;
mod labels;
mod lifecycle;
mod meta;
mod oauth;
mod scim;
mod search;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rusqlite::Connection;
use tokio::sync::Semaphore;
use tracing::Instrument;

pub use auth::{Caller, Req};
pub use error::{ApiError, Family};
pub use scim::ScimView;

use crate::audit::Actor;
use crate::auth::external::TrustedIssuers;
use crate::auth::keys::LiveKeyring;
use crate::auth::oauth::Lifetimes;
use crate::auth::throttle::Throttle;
use crate::auth::verified::VerifiedTokens;
use crate::contract::types;
use crate::plugins::{Decision, Handled, LivePlugins, Plugins};
use crate::store::{Db, TxMode, begin};

/// Everything a request needs, shared by all of them.
pub struct App {
    pub db: Db,
    /// The current plugin set (swapped whole on reload).
    pub plugins: LivePlugins,
    /// Where the configuration came from, to read it again on reload.
    pub overrides: crate::config::Overrides,
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
    pub scim: scim::ScimView,
    /// Bounds the guest calls in flight to what the instance pool can hold.
    pub guest_slots: Semaphore,
    /// The site's account-lifecycle settings, handed to the lifecycle guest.
    pub lifecycle: types::LifecycleSettings,
    /// The site's registration settings, handed to the SCIM guest on user creation.
    pub registration: types::RegistrationSettings,
    /// Benchmark builds: answer GET attributes with the native logic.
    #[cfg(feature = "bench")]
    pub native_bench: bool,
}

pub type AppState = Arc<App>;

/// The id of one request, for logs and the `x-request-id` header.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// What a handler guest call returns to the pipeline.
pub type GuestOutcome<R> = Handled<Result<R, types::Error>>;

pub fn router(app: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .merge(meta::routes())
        .merge(attributes::routes())
        .merge(authorities::routes())
        .merge(labels::routes())
        .merge(lifecycle::routes())
        .merge(groups::routes())
        .merge(scim::routes())
        .merge(search::routes())
        .merge(find::routes())
        .merge(clients::routes())
        .merge(certificates::routes())
        .merge(oauth::routes())
        .merge(admin::routes())
        .merge(bench_routes())
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

/// The machine's ceiling for `iam-bench`: a route that does nothing (benchmark builds only).
#[cfg(feature = "bench")]
fn bench_routes() -> Router<AppState> {
    Router::new().route("/bench/hello", axum::routing::get(|| async { "hello" }))
}

#[cfg(not(feature = "bench"))]
fn bench_routes() -> Router<AppState> {
    Router::new()
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

/// Gives every request an id, a tracing span, and one log line when it is done.
async fn request_context(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    let span =
        tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let started = Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(
            status = resp.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "done"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
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

impl App {
    /// Runs one operation: the policy decides, then `call` runs the handler guest inside one
    /// transaction, committed only when the guest returns `ok`. Blocking work (Wasm,
    /// SQLite) runs on the blocking pool, never on the reactor.
    pub async fn execute<R: Send + 'static>(
        self: &Arc<Self>,
        request: &RequestId,
        caller: Caller,
        op: types::Operation,
        family: Family,
        mode: TxMode,
        call: impl FnOnce(&Plugins, Connection) -> GuestOutcome<R> + Send + 'static,
    ) -> Result<R, ApiError> {
        let _permit = self
            .guest_slots
            .acquire()
            .await
            .map_err(|_| ApiError::unavailable())?;
        let app = self.clone();
        let request = request.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            app.execute_blocking(&request, caller, op, family, mode, call)
        })
        .await
        .map_err(|e| {
            tracing::error!("request task failed: {e}");
            ApiError::internal()
        })?
    }

    fn execute_blocking<R>(
        &self,
        request: &RequestId,
        caller: Caller,
        op: types::Operation,
        family: Family,
        mode: TxMode,
        call: impl FnOnce(&Plugins, Connection) -> GuestOutcome<R>,
    ) -> Result<R, ApiError> {
        let Caller { principal, source } = caller;
        // One plugin set for the whole request, even if a reload swaps it meanwhile.
        let plugins = self.plugins.get();
        if let Decision::Deny(reason) = plugins.authorize(&principal, &op) {
            tracing::info!(caller = ?principal.account_id.or(principal.client_id), %reason, "denied");
            return Err(ApiError::Forbidden);
        }
        let actor = Actor {
            account: principal.account_id,
            client: principal.client_id,
            source,
            job: None,
        };
        self.transaction_with(&plugins, request, &actor, family, mode, call)
    }

    /// Runs a handler guest call inside one transaction: committed only when the guest
    /// returns `ok`, rolled back on its errors and failures. The audit trail of its writes
    /// is logged only after the commit.
    pub fn in_transaction<R>(
        &self,
        request: &RequestId,
        actor: &Actor,
        family: Family,
        mode: TxMode,
        call: impl FnOnce(&Plugins, Connection) -> GuestOutcome<R>,
    ) -> Result<R, ApiError> {
        self.transaction_with(&self.plugins.get(), request, actor, family, mode, call)
    }

    fn transaction_with<R>(
        &self,
        plugins: &Plugins,
        request: &RequestId,
        actor: &Actor,
        family: Family,
        mode: TxMode,
        call: impl FnOnce(&Plugins, Connection) -> GuestOutcome<R>,
    ) -> Result<R, ApiError> {
        let conn = self
            .db
            .take()
            .map_err(|e| ApiError::database(request, &e))?;
        let _turn = self.db.write_gate(mode);
        if let Err(e) = begin(&conn, mode) {
            self.db.put(conn);
            return Err(ApiError::database(request, &e.into()));
        }
        let Handled {
            result: outcome,
            conn,
            audit,
        } = call(plugins, conn);
        let result = match outcome {
            Ok(Ok(value)) => match conn.execute_batch("COMMIT") {
                Ok(()) => {
                    audit.log_committed(&request.0, actor);
                    Ok(value)
                }
                Err(e) => Err(ApiError::database(request, &e.into())),
            },
            Ok(Err(error)) => Err(ApiError::guest_error(request, family, error)),
            Err(failure) => Err(ApiError::plugin(request, failure)),
        };
        // Anything but a successful commit leaves nothing behind.
        if !conn.is_autocommit()
            && let Err(e) = conn.execute_batch("ROLLBACK")
        {
            tracing::error!(request = %request.0, "rollback failed: {e}");
        }
        self.db.put(conn);
        result
    }
}
