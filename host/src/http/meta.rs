//! Endpoints that need no token: health, public keys, discovery.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use super::AppState;
use crate::auth::{ADMIN_SCOPES, USER_SCOPES};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "UP"})) }))
        .route("/jwk", get(jwk))
        .route("/.well-known/openid-configuration", get(discovery))
}

async fn jwk(State(app): State<AppState>) -> Json<Value> {
    Json(app.keyring.jwks())
}

async fn discovery(State(app): State<AppState>) -> Json<Value> {
    let base = &app.base_url;
    let scopes: Vec<&str> = USER_SCOPES.iter().chain(ADMIN_SCOPES).copied().collect();
    Json(json!({
        "issuer": app.issuer,
        "jwks_uri": format!("{base}/jwk"),
        "token_endpoint": format!("{base}/token"),
        // Tokens come from the `iam-host token` CLI until the token endpoint exists.
        "grant_types_supported": [],
        "scopes_supported": scopes,
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "claims_supported": ["iss", "sub", "iat", "exp", "jti", "scope", "client_id"]
    }))
}
