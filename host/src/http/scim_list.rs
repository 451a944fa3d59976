//! What a SCIM list asks for (RFC 7644 §3.4.2, §3.4.3): paging, `filter`, `sortBy` and
//! `sortOrder`, and the resource shape, read from the query string of `GET /scim/Users` and
//! `/scim/Groups` or from the body of their `POST .search`. Filters and orders are checked
//! against the schema here, so the store only ever sees ones it can evaluate.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::body::{Params, int_field, string_field};
use super::error::ScimType;
use super::scim_json::{ScimView, Shape};
use super::{ApiError, Family};
use crate::contract::types::{ListQuery, PageRequest};
use crate::scim::filter::{self, AttrPath};
use crate::scim::query;
use crate::scim::schema::{INDIGO_USER, ResourceType};

/// A list request, read and checked.
pub struct ListRequest {
    pub page: PageRequest,
    pub query: ListQuery,
    pub shape: Shape,
}

/// The list parameters as given, from either source.
struct Given {
    start_index: Option<i64>,
    count: Option<i64>,
    filter: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    attributes: Option<String>,
    excluded: Option<String>,
}

impl ListRequest {
    /// From a query string.
    pub fn from_query(
        query: Option<&str>,
        t: &ResourceType,
        view: &ScimView,
    ) -> Result<ListRequest, ApiError> {
        let p = Params::parse(query)?;
        let text = |name: &str| p.get(name).map(String::from);
        Given {
            start_index: p.int("startIndex")?,
            count: p.int("count")?,
            filter: text("filter"),
            sort_by: text("sortBy"),
            sort_order: text("sortOrder"),
            attributes: text("attributes"),
            excluded: text("excludedAttributes"),
        }
        .check(t, view)
    }

    /// From a `.search` body (`urn:ietf:params:scim:api:messages:2.0:SearchRequest`), whose
    /// `attributes` and `excludedAttributes` are lists of strings.
    pub fn from_search(
        body: &Map<String, Value>,
        t: &ResourceType,
        view: &ScimView,
    ) -> Result<ListRequest, ApiError> {
        let names = |key: &str| -> Result<Option<String>, ApiError> {
            match body.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| i.as_str().map(String::from))
                    .collect::<Option<Vec<_>>>()
                    .map(|v| Some(v.join(",")))
                    .ok_or_else(|| syntax(format!("'{key}' must be a list of strings"))),
                Some(_) => Err(syntax(format!("'{key}' must be a list of strings"))),
            }
        };
        Given {
            start_index: int_field(body, "startIndex")?,
            count: int_field(body, "count")?,
            filter: string_field(body, "filter")?,
            sort_by: string_field(body, "sortBy")?,
            sort_order: string_field(body, "sortOrder")?,
            attributes: names("attributes")?,
            excluded: names("excludedAttributes")?,
        }
        .check(t, view)
    }
}

fn syntax(message: String) -> ApiError {
    ApiError::scim(StatusCode::BAD_REQUEST, ScimType::InvalidSyntax, message)
}

fn invalid_filter(message: String) -> ApiError {
    ApiError::scim(StatusCode::BAD_REQUEST, ScimType::InvalidFilter, message)
}

fn invalid_value(message: String) -> ApiError {
    ApiError::status(StatusCode::BAD_REQUEST, Family::Scim, message)
}

impl Given {
    fn check(self, t: &ResourceType, view: &ScimView) -> Result<ListRequest, ApiError> {
        if let Some(text) = &self.filter {
            let parsed = filter::parse(text).map_err(|e| invalid_filter(e.message))?;
            query::check(&parsed, t).map_err(|m| invalid_filter(located(text, m)))?;
            for path in parsed.attributes() {
                hidden(path, t, view).map_err(invalid_filter)?;
            }
        }
        if let Some(text) = &self.sort_by {
            let path = AttrPath::parse(text).map_err(|e| invalid_value(e.message))?;
            query::check_sort(&path, t).map_err(invalid_value)?;
        }
        let descending = match self.sort_order.as_deref().map(str::to_ascii_lowercase) {
            None => false,
            Some(o) if o == "ascending" => false,
            Some(o) if o == "descending" => true,
            Some(o) => {
                return Err(invalid_value(format!(
                    "sortOrder must be 'ascending' or 'descending', not '{o}'"
                )));
            }
        };
        Ok(ListRequest {
            page: PageRequest {
                start_index: self.start_index,
                count: self.count,
            },
            query: ListQuery {
                filter: self.filter,
                sort_by: self.sort_by,
                descending,
                max_results: view.include.max_results,
            },
            shape: Shape {
                attributes: self.attributes,
                excluded: self.excluded,
            },
        })
    }
}

/// The schema check's message with where the filter goes wrong: the check names the
/// attribute as written (`'active'`), and the filter tree keeps no positions, so the
/// attribute's first occurrence in the text is the place (ASCII case folded, as names are).
fn located(filter: &str, message: String) -> String {
    let Some(written) = message.split('\'').nth(1).filter(|w| !w.is_empty()) else {
        return message;
    };
    match filter
        .to_ascii_lowercase()
        .find(&written.to_ascii_lowercase())
    {
        Some(at) => format!("{message} at position {}", filter[..at].chars().count()),
        None => message,
    }
}

/// The IndigoUser members the operator may hide are not filterable unless shown: a filter
/// would tell what the rendering hides. Labels and attributes are shown only in part (the
/// configured names), so they are never filterable.
fn hidden(path: &AttrPath, t: &ResourceType, view: &ScimView) -> Result<(), String> {
    let Some(r) = t.resolve(path.urn.as_deref(), &path.name, path.sub.as_deref()) else {
        return Ok(());
    };
    if r.schema != Some(INDIGO_USER) {
        return Ok(());
    }
    let shown = match r.attribute.name {
        "labels" | "attributes" => false,
        "authorities" => view.include.include_authorities,
        "managedGroups" => view.include.include_managed_groups,
        _ => true,
    };
    if shown {
        Ok(())
    } else {
        Err(format!(
            "'{}' cannot be filtered on: this server does not show it",
            r.attribute.name
        ))
    }
}
