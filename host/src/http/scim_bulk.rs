//! `POST /scim/Bulk` (RFC 7644 §3.7): many SCIM writes in one request. Each operation runs
//! exactly as if it had been sent alone — the same handler, the same policy decision, its own
//! transaction — so a bulk request can do nothing its operations could not do one by one.
//! Operations run in order; `bulkId:<id>` in a later operation's path or data stands for the
//! id of the resource an earlier one created.

use std::collections::HashMap;

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::body::{SCIM_JSON, int_field, json_object, string_field};
use super::error::ScimType;
use super::scim_json::scim;
use super::{ApiError, AppState, Req, scim as single};

/// The most operations one request may carry (published as `bulk.maxOperations`).
pub const MAX_OPERATIONS: usize = 1000;

const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

pub fn routes() -> Router<AppState> {
    Router::new().route("/scim/Bulk", post(bulk))
}

fn invalid(kind: ScimType, message: impl Into<String>) -> ApiError {
    ApiError::scim(StatusCode::BAD_REQUEST, kind, message)
}

/// One operation of the request, as sent.
struct Operation {
    method: Method,
    bulk_id: Option<String>,
    path: String,
    version: Option<String>,
    data: Option<Value>,
}

fn parse(body: &Map<String, Value>) -> Result<(Vec<Operation>, Option<i64>), ApiError> {
    let ops = match body.get("Operations").or_else(|| body.get("operations")) {
        Some(Value::Array(ops)) => ops,
        _ => {
            return Err(invalid(
                ScimType::InvalidSyntax,
                "A bulk request needs an 'Operations' array",
            ));
        }
    };
    if ops.len() > MAX_OPERATIONS {
        return Err(ApiError::scim(
            StatusCode::PAYLOAD_TOO_LARGE,
            ScimType::TooMany,
            format!(
                "The request has {} operations; at most {MAX_OPERATIONS} are allowed",
                ops.len()
            ),
        ));
    }
    let fail_on_errors = int_field(body, "failOnErrors")?;
    let ops = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let op = op.as_object().ok_or_else(|| {
                invalid(
                    ScimType::InvalidSyntax,
                    format!("Operation {i} is not an object"),
                )
            })?;
            let method = string_field(op, "method")?
                .and_then(|m| match m.to_ascii_uppercase().as_str() {
                    "POST" => Some(Method::POST),
                    "PUT" => Some(Method::PUT),
                    "PATCH" => Some(Method::PATCH),
                    "DELETE" => Some(Method::DELETE),
                    _ => None,
                })
                .ok_or_else(|| {
                    invalid(
                        ScimType::InvalidSyntax,
                        format!("Operation {i}: 'method' must be POST, PUT, PATCH or DELETE"),
                    )
                })?;
            let path = string_field(op, "path")?.ok_or_else(|| {
                invalid(
                    ScimType::InvalidSyntax,
                    format!("Operation {i} has no 'path'"),
                )
            })?;
            let bulk_id = string_field(op, "bulkId")?;
            if method == Method::POST && bulk_id.is_none() {
                return Err(invalid(
                    ScimType::InvalidSyntax,
                    format!("Operation {i}: a POST needs a 'bulkId'"),
                ));
            }
            Ok(Operation {
                method,
                bulk_id,
                path,
                version: string_field(op, "version")?,
                data: op.get("data").filter(|d| !d.is_null()).cloned(),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok((ops, fail_on_errors))
}

/// The ids created so far, by bulkId.
type Created = HashMap<String, String>;

/// `value` with every `bulkId:<id>` string replaced by the created resource's id; the
/// first reference to a bulkId not (yet) created is the error.
fn resolve(value: &Value, created: &Created) -> Result<Value, String> {
    Ok(match value {
        Value::String(s) => match s.strip_prefix("bulkId:") {
            Some(id) => Value::String(created.get(id).cloned().ok_or_else(|| id.to_string())?),
            None => value.clone(),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| resolve(v, created))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), resolve(v, created)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

async fn bulk(req: Req, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let (ops, fail_on_errors) = parse(&json_object(&headers, &body, req.app.scim.body_types())?)?;
    let mut created = Created::new();
    let mut results = Vec::new();
    let mut errors = 0i64;
    for op in ops {
        if fail_on_errors.is_some_and(|limit| limit > 0 && errors >= limit) {
            break;
        }
        let result = run(&req, &op, &created).await;
        let status = result.status;
        if status.is_client_error() || status.is_server_error() {
            errors += 1;
        }
        if let (Some(bulk_id), Some(id)) = (&op.bulk_id, &result.id)
            && op.method == Method::POST
        {
            created.insert(bulk_id.clone(), id.clone());
        }
        let mut entry =
            json!({"method": op.method.as_str(), "status": status.as_u16().to_string()});
        if let Some(b) = &op.bulk_id {
            entry["bulkId"] = json!(b);
        }
        if let Some(l) = result.location {
            entry["location"] = json!(l);
        }
        if let Some(v) = result.version {
            entry["version"] = json!(v);
        }
        if let Some(r) = result.error {
            entry["response"] = r;
        }
        results.push(entry);
    }
    Ok(scim(
        StatusCode::OK,
        json!({"schemas": [BULK_RESPONSE], "Operations": results}),
    ))
}

/// What one operation came to.
struct Outcome {
    status: StatusCode,
    id: Option<String>,
    location: Option<String>,
    version: Option<String>,
    /// The error body, for a failed operation.
    error: Option<Value>,
}

impl Outcome {
    /// A failed operation: its status, and its error body as the single request would
    /// have had it.
    async fn failed(e: ApiError) -> Outcome {
        let r = e.into_response();
        let status = r.status();
        let error = to_bytes(r.into_body(), 64 * 1024)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        Outcome {
            status,
            id: None,
            location: None,
            version: None,
            error,
        }
    }
}

/// Runs one operation through the endpoint it names.
async fn run(req: &Req, op: &Operation, created: &Created) -> Outcome {
    let unresolved = |id: String| {
        ApiError::scim(
            StatusCode::CONFLICT,
            ScimType::InvalidValue,
            format!("bulkId '{id}' names no resource created earlier in this request"),
        )
    };
    let path = match resolve(&Value::String(op.path.clone()), created) {
        Ok(Value::String(p)) => p,
        Ok(_) => unreachable!("a string resolves to a string"),
        Err(id) => return Outcome::failed(unresolved(id)).await,
    };
    // `/Groups/bulkId:x` resolves segment by segment.
    let path = match path.split_once("/bulkId:") {
        Some((head, id)) => match created.get(id) {
            Some(real) => format!("{head}/{real}"),
            None => return Outcome::failed(unresolved(id.to_string())).await,
        },
        None => path,
    };
    let data = match op.data.as_ref().map(|d| resolve(d, created)).transpose() {
        Ok(d) => d,
        Err(id) => return Outcome::failed(unresolved(id)).await,
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    if let Some(v) = op
        .version
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(header::IF_MATCH, v);
    }
    let body = Bytes::from(data.map(|d| d.to_string()).unwrap_or_default());
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let base = req.app.base_url.clone();
    let req = req.clone();
    let id = |s: &str| Path(s.to_string());
    let answer = match (&op.method, segments.as_slice()) {
        (&Method::POST, ["Users"]) => single::create_user(req, RawQuery(None), headers, body).await,
        (&Method::POST, ["Groups"]) => {
            single::create_group(req, RawQuery(None), headers, body).await
        }
        (&Method::PUT, ["Users", u]) => {
            single::replace_user(req, id(u), RawQuery(None), headers, body).await
        }
        (&Method::PUT, ["Groups", g]) => {
            single::replace_group(req, id(g), RawQuery(None), headers, body).await
        }
        (&Method::PATCH, ["Users", u]) => {
            single::patch_user(req, id(u), RawQuery(None), headers, body).await
        }
        (&Method::PATCH, ["Groups", g]) => single::patch_group(req, id(g), headers, body).await,
        (&Method::DELETE, ["Users", u]) => single::delete_user(req, id(u), headers).await,
        (&Method::DELETE, ["Groups", g]) => single::delete_group(req, id(g), headers).await,
        _ => Err(invalid(
            ScimType::InvalidPath,
            format!(
                "A bulk operation cannot {} '{}': use /Users, /Groups or one of theirs",
                op.method, op.path
            ),
        )),
    };
    match answer {
        Ok(r) => {
            let text = |name: header::HeaderName| {
                r.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(String::from)
            };
            // A created resource names itself; the others are where the path pointed.
            let location = text(header::LOCATION)
                .or_else(|| Some(format!("{base}/scim/{}", segments.join("/"))));
            Outcome {
                status: r.status(),
                id: location
                    .as_deref()
                    .and_then(|l| l.rsplit('/').next())
                    .map(String::from),
                location,
                version: text(header::ETAG),
                error: None,
            }
        }
        Err(e) => Outcome::failed(e).await,
    }
}
