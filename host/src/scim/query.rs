//! What a list request may ask of the store: a filter checked against a resource type's
//! schema (RFC 7644 §3.4.2.2), a sort attribute (§3.4.2.3), and the reading of dateTime
//! values. The store translates what passes [`check`] and [`check_sort`] into its own
//! query language; both answer with a message naming the attribute, for HTTP's 400
//! (`invalidFilter` for filters, `invalidValue` for `sortBy`).
//!
//! Not filterable (nor sortable), besides unknown attributes:
//! - write-only attributes (`password`: RFC 7643 §7, returned never);
//! - `meta.version`, a digest of the whole rendering;
//! - URIs the server builds from its base URL (`meta.location`, every `$ref`): filter on
//!   `id` or the reference's `value` instead.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::filter::{AttrPath, CompareOp, Filter};
use super::schema::{Attribute, Kind, Mutability, Resolved, ResourceType};

/// Checks that every attribute `filter` names exists on `t` and may be filtered, and that
/// each comparison fits its attribute's type:
/// - booleans take `eq`/`ne` with `true` or `false`;
/// - dateTimes take a string in RFC 3339 form (ISO 8601 with a zone: `Z` or `+01:00`,
///   optional fraction of a second), and no `co`/`sw`/`ew`;
/// - strings and references take a string;
/// - a complex attribute compared without a sub-attribute means its `value`
///   sub-attribute (RFC 7643 §2.4), and is an error when it has none;
/// - `null` goes with `eq` and `ne` only: `eq null` is "not `pr`" of the path as written
///   (a complex attribute as a whole, so `oidcIds eq null` is allowed);
/// - inside `attr[...]`, `attr` is complex and the names inside are its sub-attributes.
pub fn check(filter: &Filter, t: &ResourceType) -> Result<(), String> {
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            check(left, t)?;
            check(right, t)
        }
        Filter::Not(inner) => check(inner, t),
        Filter::Present(path) => resolve(path, t).map(|_| ()),
        Filter::Compare { path, op, value } => {
            let r = resolve(path, t)?;
            comparable(&path.to_string(), r, *op, value)
        }
        Filter::ValuePath { path, filter } => {
            let r = resolve(path, t)?;
            if r.sub.is_some() || r.attribute.kind != Kind::Complex {
                return Err(format!(
                    "'{path}' is not a complex attribute, so it takes no '[...]' filter"
                ));
            }
            check_inside(filter, path, r)
        }
    }
}

/// [`check`] for the filter inside `outer[...]`, whose names are sub-attributes of `outer`.
fn check_inside(filter: &Filter, outer: &AttrPath, r: Resolved) -> Result<(), String> {
    let sub = |path: &AttrPath| -> Result<(String, Resolved), String> {
        let written = format!("{outer}.{}", path.name);
        if path.urn.is_some() || path.sub.is_some() {
            return Err(format!(
                "'{outer}[{path} ...]': inside the brackets name a sub-attribute of '{outer}'"
            ));
        }
        let Some(leaf) = r.attribute.sub(&path.name) else {
            return Err(format!("unknown attribute '{written}'"));
        };
        let inner = Resolved {
            sub: Some(leaf),
            ..r
        };
        filterable(&written, inner)?;
        Ok((written, inner))
    };
    match filter {
        Filter::And(left, right) | Filter::Or(left, right) => {
            check_inside(left, outer, r)?;
            check_inside(right, outer, r)
        }
        Filter::Not(inner) => check_inside(inner, outer, r),
        Filter::Present(path) => sub(path).map(|_| ()),
        Filter::Compare { path, op, value } => {
            let (written, inner) = sub(path)?;
            comparable(&written, inner, *op, value)
        }
        Filter::ValuePath { path, .. } => Err(format!(
            "'{path}[...]' inside '{outer}[...]': value filters do not nest"
        )),
    }
}

/// The attribute `path` names on `t`, if it may be filtered.
fn resolve(path: &AttrPath, t: &ResourceType) -> Result<Resolved, String> {
    let r = t
        .resolve(path.urn.as_deref(), &path.name, path.sub.as_deref())
        .ok_or_else(|| format!("unknown attribute '{path}' for a {}", t.name))?;
    filterable(&path.to_string(), r)?;
    Ok(r)
}

fn filterable(written: &str, r: Resolved) -> Result<(), String> {
    let leaf = r.leaf();
    if leaf.mutability == Mutability::WriteOnly {
        return Err(format!(
            "'{written}' is write-only, so it cannot be filtered"
        ));
    }
    if r.schema.is_none() && r.attribute.name == "meta" && leaf.name == "version" {
        return Err(format!(
            "'{written}' cannot be filtered (use If-None-Match on one resource)"
        ));
    }
    if leaf.kind == Kind::Reference && (leaf.name == "$ref" || leaf.name == "location") {
        return Err(format!(
            "'{written}' is a URI built from the server's address and cannot be filtered; \
             filter on the id instead"
        ));
    }
    Ok(())
}

/// The attribute a comparison addresses: the path's leaf or, for a complex attribute
/// compared without a sub-attribute, its `value` sub-attribute (`None` when it has none).
pub fn compared(r: Resolved) -> Option<Resolved> {
    let leaf = r.leaf();
    if leaf.kind != Kind::Complex {
        return Some(r);
    }
    leaf.sub("value").map(|value| Resolved {
        sub: Some(value),
        ..r
    })
}

fn comparable(
    written: &str,
    r: Resolved,
    op: CompareOp,
    value: &serde_json::Value,
) -> Result<(), String> {
    use serde_json::Value;
    // `eq null` asks whether the path as written is present (a complex value counts as a
    // whole), so it needs no `value` sub-attribute.
    if value.is_null() {
        return match op {
            CompareOp::Eq | CompareOp::Ne => Ok(()),
            _ => Err(format!(
                "'{written} {op} null': null goes only with eq and ne"
            )),
        };
    }
    let Some(target) = compared(r) else {
        return Err(format!(
            "'{written}' is complex and has no 'value' sub-attribute: compare one of its \
             sub-attributes, or use '{written} pr'"
        ));
    };
    let leaf: &Attribute = target.leaf();
    filterable(written, target)?;
    match (leaf.kind, value) {
        (Kind::Boolean, Value::Bool(_)) => match op {
            CompareOp::Eq | CompareOp::Ne => Ok(()),
            _ => Err(format!(
                "'{written}' is a boolean: only eq, ne and pr apply to it"
            )),
        },
        (Kind::Boolean, _) => Err(format!(
            "'{written}' is a boolean: compare it with true or false"
        )),
        (Kind::DateTime, Value::String(s)) => {
            if op.is_substring() {
                Err(format!(
                    "'{written}' is a dateTime: {op} applies only to strings"
                ))
            } else if datetime_ns(s).is_none() {
                Err(format!(
                    "'{written}' is a dateTime: '{s}' is not one (expected e.g. \
                     2026-01-31T10:00:00Z or 2026-01-31T11:00:00.250+01:00)"
                ))
            } else {
                Ok(())
            }
        }
        (Kind::DateTime, _) => Err(format!(
            "'{written}' is a dateTime: compare it with a string such as \
             \"2026-01-31T10:00:00Z\""
        )),
        (Kind::String | Kind::Reference, Value::String(_)) => Ok(()),
        (Kind::String | Kind::Reference, _) => {
            Err(format!("'{written}' is a string: compare it with a string"))
        }
        // `compared` never ends at a complex attribute.
        (Kind::Complex, _) => Err(format!("'{written}' cannot be compared")),
    }
}

/// Checks that `path` may be `sortBy` on `t`: a single-valued simple attribute, a
/// sub-attribute of a single-valued complex one (`name.familyName`, `meta.lastModified`),
/// or the user's e-mail (`emails` or `emails.value`: a user has exactly one).
pub fn check_sort(path: &AttrPath, t: &ResourceType) -> Result<(), String> {
    let r = t
        .resolve(path.urn.as_deref(), &path.name, path.sub.as_deref())
        .ok_or_else(|| format!("unknown attribute '{path}' for a {}", t.name))?;
    filterable(&path.to_string(), r)
        .map_err(|e| e.replace("cannot be filtered", "cannot be sorted by"))?;
    let the_email = r.schema == Some(super::schema::USER)
        && r.attribute.name == "emails"
        && r.sub.is_none_or(|s| s.name == "value");
    if the_email {
        return Ok(());
    }
    if r.attribute.multi_valued {
        return Err(format!(
            "'{path}' is multi-valued, so it cannot be sorted by"
        ));
    }
    if r.leaf().kind == Kind::Complex {
        return Err(format!(
            "'{path}' is complex: sort by one of its sub-attributes"
        ));
    }
    Ok(())
}

/// An RFC 3339 date and time (the ISO 8601 profile SCIM uses: `2026-01-31T10:00:00Z`,
/// `2026-01-31T10:00:00.123Z`, `2026-01-31T11:00:00+01:00`) as Unix milliseconds, rounded
/// down (towards the past) when it has a finer fraction.
pub fn datetime_ms(s: &str) -> Option<i64> {
    i64::try_from(datetime_ns(s)?.div_euclid(1_000_000)).ok()
}

/// [`datetime_ms`] in nanoseconds, for comparisons that must not lose a fraction of a
/// millisecond.
pub fn datetime_ns(s: &str) -> Option<i128> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp_nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse;
    use crate::scim::schema::{GROUP_TYPE, USER_TYPE};

    fn user(f: &str) -> Result<(), String> {
        check(&parse(f).unwrap(), &USER_TYPE)
    }

    fn group(f: &str) -> Result<(), String> {
        check(&parse(f).unwrap(), &GROUP_TYPE)
    }

    #[test]
    fn accepts_what_the_schemas_have() {
        for f in [
            r#"userName eq "alice""#,
            r#"USERNAME Eq "alice""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "Al""#,
            r#"emails co "@cern.ch""#,
            r#"emails[type eq "work" and value ew ".ch"]"#,
            r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds.subject eq "x""#,
            r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds[issuer eq "a" and not (subject eq "b")]"#,
            r#"meta.created gt "2026-01-31T10:00:00Z""#,
            r#"meta.lastModified le "2026-01-31T10:00:00.123456Z""#,
            r#"meta.lastModified ge "2026-01-31T11:00:00+01:00""#,
            r#"meta.resourceType eq "User""#,
            "active eq true and urn:indigo-dc:scim:schemas:IndigoUser:serviceAccount ne false",
            "urn:indigo-dc:scim:schemas:IndigoUser:endTime eq null",
            "name pr and emails pr and addresses pr",
            "urn:indigo-dc:scim:schemas:IndigoUser:oidcIds eq null",
            r#"groups eq "0f2d""#,
            r#"groups.display co "atlas""#,
            r#"id eq "abc" or nickName gt "m""#,
            r#"urn:indigo-dc:scim:schemas:IndigoUser:authorities eq "ROLE_ADMIN""#,
            r#"urn:indigo-dc:scim:schemas:IndigoUser:sshKeys[primary eq true]"#,
            r#"name[givenName eq "Alice"]"#,
        ] {
            assert_eq!(user(f), Ok(()), "{f}");
        }
        for f in [
            r#"displayName eq "atlas/prod""#,
            r#"members[value eq "x"] or members.display co "Smith""#,
            r#"members eq "x""#,
            r#"urn:indigo-dc:scim:schemas:IndigoGroup:parentGroup.value eq "x""#,
            "urn:indigo-dc:scim:schemas:IndigoGroup:description pr",
            "urn:indigo-dc:scim:schemas:IndigoGroup:labels pr",
        ] {
            assert_eq!(group(f), Ok(()), "{f}");
        }
    }

    #[test]
    fn rejects_with_the_attribute_named() {
        for (f, needle) in [
            (r#"nope eq "x""#, "'nope'"),
            (r#"oidcIds.subject eq "x""#, "'oidcIds.subject'"),
            (r#"emails.nope eq "x""#, "'emails.nope'"),
            (r#"password eq "x""#, "write-only"),
            (r#"meta.version eq "W/\"x\"""#, "'meta.version'"),
            (r#"meta.location co "x""#, "URI"),
            (r#"groups.$ref eq "x""#, "URI"),
            (r#"active eq "true""#, "boolean"),
            (r#"meta.created gt "yesterday""#, "dateTime"),
            (r#"meta.created gt "2026-01-31""#, "dateTime"),
            (r#"meta.created gt 5"#, "dateTime"),
            (r#"meta.created co "2026""#, "dateTime"),
            (r#"userName eq 5"#, "string"),
            (r#"userName eq true"#, "string"),
            (r#"name eq "x""#, "'name'"),
            (
                r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds co "x""#,
                "no 'value'",
            ),
            (r#"userName[value eq "x"]"#, "not a complex"),
            (r#"emails[nope eq "x"]"#, "'emails.nope'"),
            (r#"emails[primary eq "x"]"#, "'emails.primary'"),
            (r#"members eq "x""#, "unknown attribute 'members'"),
        ] {
            let e = user(f).unwrap_err();
            assert!(e.contains(needle), "{f}: {e}");
        }
        let e = group(r#"userName eq "x""#).unwrap_err();
        assert!(e.contains("'userName'") && e.contains("Group"), "{e}");
        // The parser refuses `gt null`; a tree built by hand is refused here.
        let f = Filter::Compare {
            path: AttrPath::new("userName"),
            op: CompareOp::Gt,
            value: serde_json::Value::Null,
        };
        assert!(check(&f, &USER_TYPE).unwrap_err().contains("null"));
        let f = Filter::Compare {
            path: AttrPath::new("active"),
            op: CompareOp::Gt,
            value: serde_json::Value::Bool(true),
        };
        assert!(check(&f, &USER_TYPE).unwrap_err().contains("only eq, ne"));
    }

    #[test]
    fn sortable_attributes() {
        let sort = |p: &str, t| check_sort(&AttrPath::parse(p).unwrap(), t);
        for p in [
            "userName",
            "name.familyName",
            "meta.lastModified",
            "emails",
            "emails.value",
            "active",
            "nickName",
            "urn:indigo-dc:scim:schemas:IndigoUser:endTime",
            "id",
        ] {
            assert_eq!(sort(p, &USER_TYPE), Ok(()), "{p}");
        }
        for p in [
            "displayName",
            "meta.created",
            "urn:indigo-dc:scim:schemas:IndigoGroup:parentGroup.display",
        ] {
            assert_eq!(sort(p, &GROUP_TYPE), Ok(()), "{p}");
        }
        for (p, needle) in [
            ("name", "complex"),
            ("groups.display", "multi-valued"),
            ("emails.type", "multi-valued"),
            ("photos.value", "multi-valued"),
            ("password", "write-only"),
            ("meta.location", "sorted by"),
            ("nope", "unknown"),
        ] {
            let e = sort(p, &USER_TYPE).unwrap_err();
            assert!(e.contains(needle) && e.contains(p), "{p}: {e}");
        }
        assert!(sort("members.value", &GROUP_TYPE).is_err());
    }

    #[test]
    fn datetimes_in_milliseconds() {
        assert_eq!(datetime_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(datetime_ms("2026-01-31T10:00:00Z"), Some(1_769_853_600_000));
        assert_eq!(
            datetime_ms("2026-01-31T10:00:00.250Z"),
            Some(1_769_853_600_250)
        );
        assert_eq!(
            datetime_ms("2026-01-31T11:00:00.250+01:00"),
            Some(1_769_853_600_250)
        );
        assert_eq!(datetime_ms("1969-12-31T23:59:59.9995Z"), Some(-1));
        assert_eq!(
            datetime_ns("2026-01-31T10:00:00.0000005Z"),
            Some(1_769_853_600_000_000_000 + 500)
        );
        for bad in [
            "",
            "2026-01-31",
            "2026-01-31T10:00:00",
            "10:00",
            "2026-13-01T00:00:00Z",
        ] {
            assert_eq!(datetime_ms(bad), None, "{bad}");
        }
    }
}
