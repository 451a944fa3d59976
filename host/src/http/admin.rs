//! Operating the plugins of a running server: `GET /iam/admin/plugins`,
//! `POST /iam/admin/plugins/reload` and `GET /metrics` (Prometheus).
//!
//! The host, not the policy, decides who may use the admin endpoints (ROLE_ADMIN, or the
//! IAM admin scopes): an operator must be able to replace a policy that is broken.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{ApiError, AppState, Caller, Family, RequestId};
use crate::audit::Actor;
use crate::plugins::SlotInfo;
use crate::slots::POLICY;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/iam/admin/plugins", get(list))
        .route("/iam/admin/plugins/reload", post(reload))
}

/// `GET /metrics`, on the API's listener or one of its own.
pub fn metrics_routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// ROLE_ADMIN, or a token with `scope`.
pub(super) fn require_admin(caller: &Caller, scope: &str) -> Result<(), ApiError> {
    let p = &caller.principal;
    if p.authorities.iter().any(|a| a == "ROLE_ADMIN") || p.scopes.iter().any(|s| s == scope) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn slot_json(p: &SlotInfo) -> Value {
    let mut v = json!({
        "slot": p.slot,
        "component": p.source,
        "name": p.public_name,
        "sha256": p.digest,
        "contract": p.contract,
        "calls": p.stats.calls,
        "failures": p.stats.failures,
        "latency_micros": {"p50": p.stats.p50_micros, "p99": p.stats.p99_micros},
    });
    if p.slot == POLICY {
        v["shadow_disagreements"] = json!(p.stats.shadow_disagreements);
        v["shadow_failures"] = json!(p.stats.shadow_failures);
    }
    v
}

fn plugins_json(app: &AppState) -> Value {
    let slots: Vec<Value> = app
        .pipeline
        .plugins
        .get()
        .describe()
        .iter()
        .map(slot_json)
        .collect();
    json!({ "plugins": slots })
}

async fn list(State(app): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    require_admin(&caller, "iam:admin.read")?;
    Ok(Json(plugins_json(&app)))
}

/// Reads the configuration again and swaps in the plugin set it names, compiled and checked
/// off the request path of everyone else; a set that does not load is refused and the
/// running one stays. The other servers on the database follow (`follow_reloads`).
async fn reload(
    State(app): State<AppState>,
    caller: Caller,
    request: axum::Extension<RequestId>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&caller, "iam:admin.write")?;
    let app2 = app.clone();
    let actor = Actor::caller(&caller.principal, caller.source);
    let outcome = tokio::task::spawn_blocking(move || {
        app2.pipeline.reload_plugins_everywhere(&request, &actor)
    })
    .await
    .map_err(|_| ApiError::internal())?;
    match outcome {
        Ok(()) => Ok(Json(plugins_json(&app))),
        Err(e) => {
            tracing::error!("plugin reload refused: {e:#}");
            Err(ApiError::status(
                StatusCode::BAD_REQUEST,
                Family::Iam,
                format!("Plugin reload refused, the running plugins stay: {e:#}"),
            ))
        }
    }
}

/// The server's metrics ([`crate::metrics`]) and the plugin statistics in Prometheus'
/// text format. Served without a token, so the components are named by their public names,
/// never by their files' paths.
async fn metrics(State(app): State<AppState>) -> Response {
    let slots = app.pipeline.plugins.get().describe();
    let mut out = String::new();
    crate::metrics::get().render(&mut out);
    let mut family =
        |name: &str, kind: &str, help: &str, value: &dyn Fn(&SlotInfo) -> Option<u64>| {
            crate::metrics::header(&mut out, name, kind, help);
            for p in &slots {
                if let Some(v) = value(p) {
                    out.push_str(&format!(
                        "{name}{{slot=\"{}\",component=\"{}\"}} {v}\n",
                        p.slot,
                        crate::metrics::escape(&p.public_name)
                    ));
                }
            }
        };
    family("iam_plugin_calls_total", "counter", "Guest calls.", &|p| {
        Some(p.stats.calls)
    });
    family(
        "iam_plugin_failures_total",
        "counter",
        "Guest calls that trapped, ran out of time or memory, or could not start.",
        &|p| Some(p.stats.failures),
    );
    family(
        "iam_plugin_latency_p50_microseconds",
        "gauge",
        "Median call latency (upper bound of its power-of-two bucket).",
        &|p| Some(p.stats.p50_micros),
    );
    family(
        "iam_plugin_latency_p99_microseconds",
        "gauge",
        "99th percentile call latency (upper bound of its power-of-two bucket).",
        &|p| Some(p.stats.p99_micros),
    );
    family(
        "iam_plugin_shadow_disagreements_total",
        "counter",
        "Requests on which the shadow policy decided otherwise than the enforcing one.",
        &|p| (p.slot == POLICY).then_some(p.stats.shadow_disagreements),
    );
    let mut resp = out.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
