//! `PUT /iam/account/{id}/endTime` (docs/api.md §7).

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use serde_json::Value;

use super::body::{JSON, json_object};
use super::{ApiError, AppState, Req};
use crate::contract::types::Operation;

pub fn routes() -> Router<AppState> {
    Router::new().route("/iam/account/{id}/endTime", put(set_end_time))
}

/// An end time as IAM's date binding reads it: epoch milliseconds, an ISO-8601 date-time
/// (`2024-01-01T10:00:00.000Z`, with any offset) or a plain date (`2024-01-01`, midnight
/// UTC); null or absent clears it.
pub fn parse_end_time(v: Option<&Value>) -> Result<Option<u64>, String> {
    let millis = |t: time::OffsetDateTime| -> Result<u64, String> {
        u64::try_from(t.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| "date before 1970".to_string())
    };
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("Cannot parse end time: {n} is not a number of milliseconds")),
        Some(Value::String(s)) => {
            let rfc3339 = &time::format_description::well_known::Rfc3339;
            if let Ok(t) = time::OffsetDateTime::parse(s, rfc3339) {
                return millis(t).map(Some);
            }
            let date_only = time::macros::format_description!("[year]-[month]-[day]");
            match time::Date::parse(s, date_only) {
                Ok(d) => millis(d.midnight().assume_utc()).map(Some),
                Err(_) => Err(format!(
                    "Cannot parse end time: '{s}' is not an ISO-8601 date"
                )),
            }
        }
        Some(other) => Err(format!("Cannot parse end time: {other} is not a date")),
    }
}

async fn set_end_time(
    req: Req,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let obj = json_object(&headers, &body, &[JSON])?;
    let end_time = parse_end_time(obj.get("endTime")).map_err(ApiError::bad_request)?;
    let settings = req.app.lifecycle;
    let op = Operation::SetEndTime(id.clone());
    req.run(op, move |p, tx| {
        p.handle(&p.lifecycle, tx, |g, store| {
            g.call_set_end_time(store, &id, end_time, settings)
        })
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn end_time_formats() {
        assert_eq!(parse_end_time(None), Ok(None));
        assert_eq!(parse_end_time(Some(&json!(null))), Ok(None));
        assert_eq!(
            parse_end_time(Some(&json!(1700000000000u64))),
            Ok(Some(1700000000000))
        );
        assert_eq!(
            parse_end_time(Some(&json!("2024-01-01T10:00:00.000Z"))),
            Ok(Some(1704103200000))
        );
        assert_eq!(
            parse_end_time(Some(&json!("2024-01-01T11:00:00+01:00"))),
            Ok(Some(1704103200000))
        );
        assert_eq!(
            parse_end_time(Some(&json!("2024-01-01"))),
            Ok(Some(1704067200000))
        );
        for bad in [
            json!("yesterday"),
            json!(-5),
            json!(1.5),
            json!({}),
            json!(true),
        ] {
            assert!(parse_end_time(Some(&bad)).is_err(), "{bad}");
        }
    }
}
