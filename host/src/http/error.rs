//! Error responses in INDIGO IAM's body families.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::RequestId;
use crate::auth::AuthError;
use crate::contract::types::{self, Operation};
use crate::pipeline::PipelineError;
use crate::plugins::{Failure, FailureKind};
use crate::store::StoreError;

/// Which body an endpoint's errors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `{"error": "..."}` (the `/iam/...` controllers).
    Iam,
    /// A SCIM error message (`/scim/...`).
    Scim,
}

/// Which error body an operation's endpoint answers with: SCIM's for the `/scim/...`
/// endpoints and for the two IAM answers in SCIM's form (the finders and `me/clients`),
/// IAM's for the rest. The path comes from the contract (`contract::endpoint_of`).
pub fn family_of(op: &Operation) -> Family {
    match op {
        Operation::FindAccounts(_) | Operation::GetOwnClients => Family::Scim,
        _ if crate::contract::endpoint_of(op).1.starts_with("/scim/") => Family::Scim,
        _ => Family::Iam,
    }
}

/// The `scimType` of a SCIM error (RFC 7644 §3.12): what kind of 400 or 409 it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
        }
    }

    /// The type of an error that did not name one: every conflict of this API is a taken
    /// name, id or credential, and every other 400 a value the handler refused.
    fn of_status(status: StatusCode) -> Option<ScimType> {
        match status {
            StatusCode::CONFLICT => Some(ScimType::Uniqueness),
            StatusCode::BAD_REQUEST => Some(ScimType::InvalidValue),
            _ => None,
        }
    }
}

/// Every way a request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// 401, before anything else is looked at.
    Unauthorized(AuthError),
    /// 403 from the policy.
    Forbidden,
    /// Any other status, with its message in the endpoint's body family.
    Status(StatusCode, Family, String),
    /// A SCIM error of a known `scimType`.
    Scim(StatusCode, ScimType, String),
}

const SCIM_ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

impl ApiError {
    pub fn status(status: StatusCode, family: Family, message: impl Into<String>) -> ApiError {
        ApiError::Status(status, family, message.into())
    }

    pub fn scim(status: StatusCode, kind: ScimType, message: impl Into<String>) -> ApiError {
        ApiError::Scim(status, kind, message.into())
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::status(StatusCode::BAD_REQUEST, Family::Iam, message)
    }

    pub fn internal() -> ApiError {
        ApiError::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            Family::Iam,
            "Internal server error",
        )
    }

    pub fn unavailable() -> ApiError {
        ApiError::status(
            StatusCode::SERVICE_UNAVAILABLE,
            Family::Iam,
            "Service unavailable, try again",
        )
    }

    /// A database failure outside the guest: logged, and 503 when it is only contention.
    pub fn database(request: &RequestId, e: &anyhow::Error) -> ApiError {
        tracing::error!(request = %request.0, "database error: {e:#}");
        let busy = e
            .downcast_ref::<StoreError>()
            .is_some_and(StoreError::is_busy);
        if busy {
            ApiError::unavailable()
        } else {
            ApiError::internal()
        }
    }

    /// A guest that trapped, ran out of time or memory, or could not start.
    pub fn plugin(request: &RequestId, f: Failure) -> ApiError {
        tracing::error!(
            request = %request.0,
            slot = f.slot,
            source = %f.source,
            kind = ?f.kind,
            stderr = %f.stderr.trim_end(),
            "plugin failed: {}",
            f.detail
        );
        let (status, what) = match f.kind {
            FailureKind::Deadline => (StatusCode::SERVICE_UNAVAILABLE, "exceeded its time limit"),
            FailureKind::Memory => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "exceeded its memory limit",
            ),
            FailureKind::Trap => (StatusCode::INTERNAL_SERVER_ERROR, "failed"),
            FailureKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "could not be started"),
        };
        ApiError::Status(
            status,
            Family::Iam,
            format!("plugin '{}' {what} (request {})", f.slot, request.0),
        )
    }

    /// What the pipeline's failure means for an endpoint whose errors use `family`.
    pub fn from_pipeline(request: &RequestId, family: Family, e: PipelineError) -> ApiError {
        match e {
            PipelineError::Denied => ApiError::Forbidden,
            PipelineError::Guest(e) => ApiError::guest_error(request, family, e),
            PipelineError::Plugin(f) => ApiError::plugin(request, f),
            PipelineError::Database(e) => ApiError::database(request, &e),
            PipelineError::Internal => ApiError::internal(),
        }
    }

    /// An error a handler guest returned.
    pub fn guest_error(request: &RequestId, family: Family, e: types::Error) -> ApiError {
        let (status, msg) = match e {
            types::Error::Invalid(m) => (StatusCode::BAD_REQUEST, m),
            types::Error::NotFound(m) => (StatusCode::NOT_FOUND, m),
            types::Error::Conflict(m) => (StatusCode::CONFLICT, m),
            types::Error::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            types::Error::Internal(m) => {
                let m = crate::plugins::escape_guest_text(&m);
                tracing::error!(request = %request.0, "handler reported an internal error: {m}");
                return ApiError::internal();
            }
        };
        ApiError::Status(status, family, msg)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> ApiError {
        ApiError::Unauthorized(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthorized(AuthError::Unavailable) => {
                ApiError::unavailable().into_response()
            }
            ApiError::Unauthorized(AuthError::Missing) => {
                let body = json!({"error": "unauthorized",
                    "error_description": "Full authentication is required to access this resource"});
                let mut r = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"openidconnect\""),
                );
                r
            }
            ApiError::Unauthorized(AuthError::Invalid(description)) => {
                let challenge = format!(
                    "Bearer realm=\"openidconnect\", error=\"invalid_token\", error_description=\"{}\"",
                    description.replace(['"', '\\'], "'")
                );
                let body = json!({"error": "invalid_token", "error_description": description});
                let mut r = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                r
            }
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                Json(json!({"error": "access_denied", "error_description": "Access is denied"})),
            )
                .into_response(),
            ApiError::Status(status, Family::Iam, msg) => {
                (status, Json(json!({ "error": msg }))).into_response()
            }
            ApiError::Status(status, Family::Scim, msg) => {
                scim_error(status, ScimType::of_status(status), msg)
            }
            ApiError::Scim(status, kind, msg) => scim_error(status, Some(kind), msg),
        }
    }
}

/// A SCIM error body. Its content type stays `application/json`, as INDIGO IAM answers.
fn scim_error(status: StatusCode, kind: Option<ScimType>, detail: String) -> Response {
    let mut body = json!({"schemas": [SCIM_ERROR_SCHEMA], "status": status.as_u16().to_string(), "detail": detail});
    if let Some(kind) = kind {
        body["scimType"] = json!(kind.as_str());
    }
    (status, Json(body)).into_response()
}
