//! The `Caller` extractor: a verified bearer token turned into the principal, or a 401.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::error::family_of;
use super::{ApiError, AppState, GuestOutcome, RequestId};
use crate::auth::{self, AuthError};
use crate::contract::types::Operation;
use crate::contract::types::Principal;
use crate::plugins::Plugins;
use crate::store::Tx;

/// The authenticated caller of a request, and where the request came from.
#[derive(Clone)]
pub struct Caller {
    pub principal: Principal,
    /// The peer's address (for throttling decisions and the audit trail).
    pub source: Option<std::net::IpAddr>,
}

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
        let token = token.to_string();
        let app = app.clone();
        let principal = tokio::task::spawn_blocking(move || {
            let conn = app.pipeline.db.conn().map_err(|e| {
                tracing::warn!("cannot verify a token: {e}");
                AuthError::Unavailable
            })?;
            auth::authenticate(
                &*conn,
                &app.keyring,
                &app.issuer,
                &app.trusted_issuers,
                &app.verified_tokens,
                &token,
            )
        })
        .await
        .map_err(|_| ApiError::internal())??;
        let source = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Caller { principal, source })
    }
}

/// What every API handler needs: the app, the request id and the authenticated caller
/// (extracting it answers 401 before anything else is looked at).
#[derive(Clone)]
pub struct Req {
    pub app: AppState,
    pub id: RequestId,
    pub caller: Caller,
}

impl FromRequestParts<AppState> for Req {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Req, ApiError> {
        let caller = Caller::from_request_parts(parts, app).await?;
        let id = parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId(uuid::Uuid::new_v4().simple().to_string()));
        Ok(Req {
            app: app.clone(),
            id,
            caller,
        })
    }
}

impl Req {
    /// Runs `op` through the pipeline (policy, then `call` in one transaction); the
    /// operation decides the transaction mode and the error body of its failures.
    pub async fn run<R: Send + 'static>(
        &self,
        op: Operation,
        call: impl Fn(&Plugins, Tx) -> GuestOutcome<R> + Send + 'static,
    ) -> Result<R, ApiError> {
        let Caller { principal, source } = self.caller.clone();
        let family = family_of(&op);
        self.app
            .pipeline
            .execute(&self.id, principal, source, op, call)
            .await
            .map_err(|e| ApiError::from_pipeline(&self.id, family, e))
    }
}
