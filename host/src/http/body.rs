//! Request parsing with INDIGO IAM's status codes and JSON error bodies: 415 for a wrong
//! content type, 406 for an unacceptable `Accept`, 400 for unreadable bodies and parameters.

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value};

use super::{ApiError, Family};

pub const JSON: &str = "application/json";
pub const SCIM_JSON: &str = "application/scim+json";

/// The media type of the body (without parameters), lower-cased.
pub fn media_type(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(
        ct.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase(),
    )
}

/// Parses a JSON object body sent with one of the `accepted` content types.
pub fn json_object(
    headers: &HeaderMap,
    body: &[u8],
    accepted: &[&str],
) -> Result<Map<String, Value>, ApiError> {
    match media_type(headers) {
        Some(mt) if accepted.contains(&mt.as_str()) => {}
        Some(mt) => {
            return Err(ApiError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Family::Iam,
                format!("Content type '{mt}' not supported"),
            ));
        }
        None => {
            return Err(ApiError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Family::Iam,
                "Content type not specified",
            ));
        }
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("Required request body is missing"));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request(
            "JSON parse error: expected a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(format!("JSON parse error: {e}"))),
    }
}

/// A string property: absent or null is `None`; numbers and booleans are taken as their
/// text (as Jackson does); objects and arrays are a 400.
pub fn string_field(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
        Some(_) => Err(ApiError::bad_request(format!(
            "JSON parse error: '{key}' must be a string"
        ))),
    }
}

/// An integer property: absent or null is `None`; a numeric string is accepted.
pub fn int_field(obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, ApiError> {
    let bad = || ApiError::bad_request(format!("JSON parse error: '{key}' must be an integer"));
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

/// A boolean property: absent or null is `None`; `"true"`/`"false"` strings are accepted.
pub fn bool_field(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(_) => Err(ApiError::bad_request(format!(
            "JSON parse error: '{key}' must be a boolean"
        ))),
    }
}

/// An object property: absent or null is an empty object.
pub fn object_field<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, ApiError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ApiError::bad_request(format!(
            "JSON parse error: '{key}' must be an object"
        ))),
    }
}

/// The query string (or a form body) as name/value pairs; the first value of a name wins.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Params, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or(""))
            .map(Params)
            .map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))
    }

    /// The query string followed by the fields of an `application/x-www-form-urlencoded`
    /// body (Spring binds both the same way).
    pub fn parse_with_form(
        query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Params, ApiError> {
        let mut params = Params::parse(query)?;
        if media_type(headers).as_deref() == Some("application/x-www-form-urlencoded") {
            let form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
                .map_err(|e| ApiError::bad_request(format!("Invalid form body: {e}")))?;
            params.0.extend(form);
        }
        Ok(params)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// An integer parameter; a value that is not one is a 400.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "Failed to convert value '{v}' of parameter '{name}' to required type 'int'"
                ))
            }),
        }
    }
}

/// An extractor for the endpoints that produce only SCIM JSON: 406 unless the caller
/// accepts it. Place it right after `Req`, so 401 comes first and 406 before any
/// parameter error, as in Spring.
pub struct ScimAccept;

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ScimAccept {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<ScimAccept, ApiError> {
        require_scim_accept(&parts.headers).map(|()| ScimAccept)
    }
}

/// 406 unless the caller accepts SCIM JSON (no `Accept`, `*/*`, `application/*` or
/// `application/scim+json`).
fn require_scim_accept(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(());
    };
    let accept = accept.to_str().unwrap_or("");
    let ok = accept.trim().is_empty()
        || accept.split(',').any(|range| {
            let mt = range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            matches!(mt.as_str(), "*/*" | "application/*" | SCIM_JSON)
        });
    if ok {
        Ok(())
    } else {
        Err(ApiError::status(
            StatusCode::NOT_ACCEPTABLE,
            Family::Iam,
            "Could not find acceptable representation",
        ))
    }
}
