//! SCIM discovery (RFC 7644 §4): `/scim/ServiceProviderConfig`, `/scim/ResourceTypes` and
//! `/scim/Schemas`, read from `crate::scim::schema`. Any valid token may read them (they
//! describe the server, not its data), so they run no policy and no guest.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use serde_json::{Value, json};

use super::body::{Params, ScimAccept};
use super::scim_json::{LIST_SCHEMA, scim};
use super::{ApiError, AppState, Caller, Family};
use crate::scim::schema::{self, RESOURCE_TYPES, SCHEMAS};

/// What `/scim/ServiceProviderConfig` promises: each switch is true only once the feature
/// works end to end.
mod features {
    /// `PATCH` on groups (members) and users.
    pub const PATCH: bool = true;
    /// `POST /scim/Bulk`.
    pub const BULK: bool = true;
    /// `filter=` on the lists.
    pub const FILTER: bool = true;
    /// `sortBy`/`sortOrder` on the lists.
    pub const SORT: bool = true;
    /// `meta.version`, `ETag`, `If-Match` and `If-None-Match`.
    pub const ETAG: bool = true;
    /// `password` in `PUT /scim/Users/{id}`.
    pub const CHANGE_PASSWORD: bool = true;
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/scim/ServiceProviderConfig",
            scim_only(get(service_provider_config)),
        )
        .route("/scim/ResourceTypes", scim_only(get(resource_types)))
        .route("/scim/ResourceTypes/{name}", scim_only(get(resource_type)))
        .route("/scim/Schemas", scim_only(get(schemas)))
        .route("/scim/Schemas/{id}", scim_only(get(schema_by_id)))
}

/// Discovery answers other methods with a SCIM error (after authentication).
fn scim_only(route: MethodRouter<AppState>) -> MethodRouter<AppState> {
    route.fallback(|_: Caller| async {
        ApiError::status(
            StatusCode::METHOD_NOT_ALLOWED,
            Family::Scim,
            "Request method not supported",
        )
    })
}

/// RFC 7644 §4: a filter on a discovery list is refused.
fn no_filter(query: Option<&str>) -> Result<(), ApiError> {
    if Params::parse(query)?.get("filter").is_some() {
        return Err(ApiError::status(
            StatusCode::FORBIDDEN,
            Family::Scim,
            "Filtering is not supported on discovery endpoints",
        ));
    }
    Ok(())
}

fn list(resources: Vec<Value>) -> Response {
    scim(
        StatusCode::OK,
        json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": resources.len(),
            "itemsPerPage": resources.len(),
            "startIndex": 1,
            "Resources": resources,
        }),
    )
}

async fn service_provider_config(
    _: Caller,
    _: ScimAccept,
    State(app): State<AppState>,
) -> Response {
    use features::*;
    let base = &app.base_url;
    scim(
        StatusCode::OK,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": PATCH},
            "bulk": {"supported": BULK,
                     "maxOperations": super::scim_bulk::MAX_OPERATIONS,
                     "maxPayloadSize": app.max_body_bytes},
            "filter": {"supported": FILTER, "maxResults": app.scim.include.max_results},
            "changePassword": {"supported": CHANGE_PASSWORD},
            "sort": {"supported": SORT},
            "etag": {"supported": ETAG},
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "An access token from this server's /token endpoint (or from \
                                a trusted issuer) in the Authorization header.",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true,
            }],
            "meta": {"resourceType": "ServiceProviderConfig",
                     "location": format!("{base}/scim/ServiceProviderConfig")},
        }),
    )
}

async fn resource_types(
    _: Caller,
    _: ScimAccept,
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    no_filter(query.as_deref())?;
    Ok(list(
        RESOURCE_TYPES
            .iter()
            .map(|t| t.to_json(&app.base_url))
            .collect(),
    ))
}

async fn resource_type(
    _: Caller,
    _: ScimAccept,
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let t = schema::resource_type(&name).ok_or_else(|| {
        ApiError::status(
            StatusCode::NOT_FOUND,
            Family::Scim,
            format!("No resource type named '{name}'"),
        )
    })?;
    Ok(scim(StatusCode::OK, t.to_json(&app.base_url)))
}

async fn schemas(
    _: Caller,
    _: ScimAccept,
    State(app): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    no_filter(query.as_deref())?;
    Ok(list(
        SCHEMAS.iter().map(|s| s.to_json(&app.base_url)).collect(),
    ))
}

async fn schema_by_id(
    _: Caller,
    _: ScimAccept,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let s = schema::schema(&id).ok_or_else(|| {
        ApiError::status(
            StatusCode::NOT_FOUND,
            Family::Scim,
            format!("No schema with id '{id}'"),
        )
    })?;
    Ok(scim(StatusCode::OK, s.to_json(&app.base_url)))
}
