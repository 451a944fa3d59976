//! The `Caller` extractor: a verified bearer token turned into the principal, or a 401.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::{ApiError, AppState};
use crate::auth::{self, AuthError};
use crate::plugins::types::Principal;

/// The authenticated caller of a request.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Caller, ApiError> {
        let value = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(AuthError::Missing)?
            .to_str()
            .map_err(|_| AuthError::Invalid("Invalid access token".into()))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(AuthError::Missing.into()),
        };
        let claims = auth::verify(&app.keyring, &app.issuer, token)?;
        let app = app.clone();
        let principal = tokio::task::spawn_blocking(move || {
            let conn = app
                .db
                .take()
                .map_err(|_| AuthError::Invalid("Cannot verify the access token now".into()))?;
            let principal = auth::principal(&conn, &claims);
            app.db.put(conn);
            principal
        })
        .await
        .map_err(|_| ApiError::internal())??;
        Ok(Caller(principal))
    }
}
