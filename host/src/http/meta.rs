//! Endpoints that need no token: health, public keys, discovery.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::AppState;
use crate::auth::{AUTHORITY_SCOPES, USER_SCOPES};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "UP"})) }))
        // Liveness: the process answers (never the database: a replica must not be
        // restarted because the database is away).
        .route(
            "/health/liveness",
            get(|| async { Json(json!({"status": "UP"})) }),
        )
        .route("/health/readiness", get(readiness))
        .route("/jwk", get(jwk))
        .route("/.well-known/openid-configuration", get(discovery))
}

/// How long readiness waits for the database before it says it is not ready.
const READINESS_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness: the database answers within [`READINESS_WAIT`] and its schema is the one this
/// server knows (no migration pending, none from a newer server). 503 otherwise, with why.
async fn readiness(State(app): State<AppState>) -> Response {
    let check = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let conn = app
            .pipeline
            .db
            .conn()
            .map_err(|e| format!("database unreachable: {e}"))?;
        let schema = conn
            .meta()
            .schema()
            .map_err(|e| format!("database unreachable: {e}"))?;
        if schema.current() {
            Ok(())
        } else {
            Err(format!(
                "database schema at version {}, this server's is {}",
                schema.at, schema.latest
            ))
        }
    });
    let outcome = match tokio::time::timeout(READINESS_WAIT, check).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err("readiness check failed".to_string()),
        Err(_) => Err("database did not answer in time".to_string()),
    };
    match outcome {
        Ok(()) => Json(json!({"status": "UP"})).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "DOWN", "reason": reason})),
        )
            .into_response(),
    }
}

/// The public keys, re-read from the database so that a key added by `iam-host keys
/// rotate` is published before it signs anything here.
async fn jwk(State(app): State<AppState>) -> Json<Value> {
    let keys = tokio::task::spawn_blocking(move || {
        let fresh = app
            .pipeline
            .db
            .conn()
            .ok()
            .and_then(|conn| app.keyring.refresh(&*conn).ok());
        fresh.unwrap_or_else(|| app.keyring.get())
    })
    .await;
    match keys {
        Ok(k) => Json(k.jwks()),
        Err(_) => Json(json!({"keys": []})),
    }
}

async fn discovery(State(app): State<AppState>) -> Json<Value> {
    let base = &app.base_url;
    let scopes: Vec<&str> = USER_SCOPES
        .iter()
        .chain(AUTHORITY_SCOPES.iter().map(|(s, _)| s))
        .copied()
        .collect();
    let client_auth = ["client_secret_basic", "client_secret_post"];
    // What this server does, and nothing more: no authorization endpoint (so no response
    // types) and no ID tokens; access tokens are ES256 JWTs.
    Json(json!({
        "issuer": app.issuer,
        "jwks_uri": format!("{base}/jwk"),
        "token_endpoint": format!("{base}/token"),
        "introspection_endpoint": format!("{base}/introspect"),
        "revocation_endpoint": format!("{base}/revoke"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "grant_types_supported": ["client_credentials", "password", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": scopes,
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        "access_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["sub", "preferred_username", "name", "given_name", "family_name",
                             "nickname", "picture", "updated_at", "email", "email_verified", "groups"]
    }))
}
