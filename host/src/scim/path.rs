//! SCIM PATCH paths (RFC 7644 §3.5.2):
//!
//! ```text
//! PATH = attrPath / valuePath [subAttr]
//! ```
//!
//! e.g. `name.givenName`, `emails[type eq "work"].value`,
//! `urn:indigo-dc:scim:schemas:IndigoUser:oidcIds[issuer eq "https://x"]`. Attribute paths
//! and value filters are those of [`super::filter`], with its limits and its leniency about
//! whitespace around the path and inside `[...]`.

use std::fmt;

use super::filter::{AttrPath, Filter, FilterError, Parser, Subject};

/// Why a PATCH path was rejected (HTTP: 400 `invalidPath`); the same shape as a filter's.
pub type PathError = FilterError;

/// A parsed PATCH path.
///
/// Either `attr` alone (possibly with its own `attr.sub`: `name.givenName`), or a value path:
/// `attr` (never with a `sub`) and `filter` selecting its elements, and optionally `sub`,
/// the sub-attribute of the selected elements (`emails[type eq "work"].value`). `sub` is
/// only ever set together with `filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchPath {
    /// The attribute targeted.
    pub attr: AttrPath,
    /// The value filter selecting elements of `attr`; its attribute names are relative to
    /// `attr` (evaluate it on each element with [`Filter::matches`]).
    pub filter: Option<Filter>,
    /// The sub-attribute after `]`.
    pub sub: Option<String>,
}

/// Parses a PATCH operation's `path`.
pub fn parse(input: &str) -> Result<PatchPath, PathError> {
    Parser::new(input, Subject::Path).run(|p| {
        p.skip_ws();
        if p.at_end() {
            return Err(p.error(p.pos, "the path is empty".to_string()));
        }
        let attr = p.parse_attr_path()?;
        let mut filter = None;
        let mut sub = None;
        if p.peek() == Some('[') {
            filter = Some(p.parse_bracket(&attr)?);
            match p.peek() {
                Some('.') => sub = Some(p.parse_sub_attr()?),
                Some(c) if c.is_ascii_alphabetic() || c == '$' => {
                    let at = p.pos;
                    return Err(p.error(
                        at,
                        format!(
                            "expected '.' before the sub-attribute {} at position {at}",
                            p.describe(at)
                        ),
                    ));
                }
                _ => {}
            }
        }
        p.skip_ws();
        p.expect_end()?;
        Ok(PatchPath { attr, filter, sub })
    })
}

impl fmt::Display for PatchPath {
    /// The canonical form, which [`parse`] turns back into an equal path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::super::filter::{CompareOp, MAX_DEPTH, MAX_INPUT_BYTES};
    use super::*;

    fn path(attr: AttrPath, filter: Option<Filter>, sub: Option<&str>) -> PatchPath {
        PatchPath {
            attr,
            filter,
            sub: sub.map(str::to_string),
        }
    }

    fn eq(name: &str, value: &str) -> Filter {
        Filter::Compare {
            path: AttrPath::new(name),
            op: CompareOp::Eq,
            value: json!(value),
        }
    }

    fn parsed(input: &str) -> PatchPath {
        let p = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let printed = p.to_string();
        assert_eq!(
            parse(&printed).as_ref(),
            Ok(&p),
            "{input:?} printed {printed:?}"
        );
        p
    }

    #[test]
    fn accepted_paths() {
        let indigo = "urn:indigo-dc:scim:schemas:IndigoUser";
        let core = "urn:ietf:params:scim:schemas:core:2.0:User";
        let cases = [
            (
                "name.givenName",
                path(AttrPath::new("name").with_sub("givenName"), None, None),
            ),
            ("emails", path(AttrPath::new("emails"), None, None)),
            (
                r#"emails[type eq "work"]"#,
                path(AttrPath::new("emails"), Some(eq("type", "work")), None),
            ),
            (
                r#"emails[type eq "work"].value"#,
                path(
                    AttrPath::new("emails"),
                    Some(eq("type", "work")),
                    Some("value"),
                ),
            ),
            (
                r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
                path(
                    AttrPath::new("members"),
                    Some(eq("value", "2819c223-7f76-453a-919d-413861904646")),
                    None,
                ),
            ),
            (
                "urn:indigo-dc:scim:schemas:IndigoUser:oidcIds",
                path(AttrPath::new("oidcIds").with_urn(indigo), None, None),
            ),
            (
                r#"urn:indigo-dc:scim:schemas:IndigoUser:oidcIds[issuer eq "https://x"]"#,
                path(
                    AttrPath::new("oidcIds").with_urn(indigo),
                    Some(eq("issuer", "https://x")),
                    None,
                ),
            ),
            (
                "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
                path(
                    AttrPath::new("name").with_sub("familyName").with_urn(core),
                    None,
                    None,
                ),
            ),
            (
                r#"members[$ref sw "https://"].$ref"#,
                path(
                    AttrPath::new("members"),
                    Some(Filter::Compare {
                        path: AttrPath::new("$ref"),
                        op: CompareOp::Sw,
                        value: json!("https://"),
                    }),
                    Some("$ref"),
                ),
            ),
            (
                r#" emails[type EQ "work" AND not (primary eq true)].display "#,
                path(
                    AttrPath::new("emails"),
                    Some(Filter::And(
                        Box::new(eq("type", "work")),
                        Box::new(Filter::Not(Box::new(Filter::Compare {
                            path: AttrPath::new("primary"),
                            op: CompareOp::Eq,
                            value: json!(true),
                        }))),
                    )),
                    Some("display"),
                ),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(parsed(input), expected, "{input}");
        }
        assert_eq!(
            parsed(r#"emails[type  eq "work"].value"#).to_string(),
            r#"emails[type eq "work"].value"#
        );
    }

    #[test]
    fn rejected_paths() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "the path is empty"),
            (" ", 1, "the path is empty"),
            ("emails[", 7, "expected an attribute name"),
            (
                r#"emails[type eq "work""#,
                21,
                "expected ']' at position 21",
            ),
            (
                r#"emails[type eq "work"]value"#,
                22,
                "expected '.' before the sub-attribute",
            ),
            (
                r#"emails[type eq "work"]."#,
                23,
                "expected a sub-attribute name",
            ),
            (
                r#"emails[type eq "work"].value.x"#,
                28,
                "after the sub-attribute",
            ),
            (
                r#"emails[type eq "work"].a:b"#,
                24,
                "after the sub-attribute",
            ),
            (r#"emails[type eq "work"].1"#, 23, "start with a letter"),
            (r#"emails[type eq "work"]x"#, 22, "expected '.'"),
            (
                r#"emails[type eq "work"] x"#,
                23,
                "unexpected 'x' at position 23 after the path",
            ),
            (r#"emails[type eq "work"][x pr]"#, 22, "unexpected '['"),
            (
                r#"name.givenName[type eq "work"]"#,
                14,
                "not of the sub-attribute 'name.givenName'",
            ),
            (
                r#"name.givenName[type eq "work"].value"#,
                14,
                "sub-attribute",
            ),
            (r#"emails[type[x pr]]"#, 11, "cannot be nested"),
            (
                r#"emails[type.x eq "a"]"#,
                11,
                "no sub-attributes of their own",
            ),
            ("emails]", 6, "unexpected ']' at position 6 after the path"),
            ("name givenName", 5, "after the path"),
            ("name.givenName.x", 14, "at most one sub-attribute"),
            (
                "emails.",
                7,
                "expected a sub-attribute name at position 7, found the end of the path",
            ),
            (
                "urn:indigo-dc:scim:schemas:IndigoUser:",
                38,
                "expected an attribute name",
            ),
            ("notaurn:x", 0, "must be a URN"),
            (
                r#"emails[type eq "work" and]"#,
                25,
                "expected an attribute name",
            ),
            (r#"emails[type gt true]"#, 15, "'gt'"),
            ("[type pr]", 0, "expected an attribute name at position 0"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|&(input, position, fragment)| match parse(input) {
                Err(e) if e.position == position && e.message.contains(fragment) => None,
                other => Some(format!(
                    "{input:?} → {other:?}, not {position} {fragment:?}"
                )),
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn limits_apply() {
        let deep = format!("emails[{}", "(".repeat(100_000));
        let error = parse(&deep).unwrap_err();
        assert_eq!(error.position, 7 + MAX_DEPTH - 1);
        assert!(error.message.contains("path nested deeper"), "{error}");
        let long = format!("a{}", "b".repeat(MAX_INPUT_BYTES));
        let error = parse(&long).unwrap_err();
        assert_eq!(error.position, MAX_INPUT_BYTES);
        assert!(error.message.contains("path is longer than"), "{error}");
    }

    #[test]
    fn value_filter_selects_elements() {
        let p = parse(r#"emails[type eq "WORK"].value"#).unwrap();
        let emails = json!([
            {"type": "work", "value": "a@x"},
            {"type": "home", "value": "b@x"},
            {"type": "Work", "value": "c@x"}
        ]);
        let filter = p.filter.unwrap();
        let picked: Vec<&str> = emails
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| filter.matches(e, &|_| false))
            .map(|e| e[p.sub.as_deref().unwrap()].as_str().unwrap())
            .collect();
        assert_eq!(picked, ["a@x", "c@x"]);
    }

    const TOKENS: &[&str] = &[
        "emails",
        "name",
        ".",
        "givenName",
        "value",
        "[",
        "]",
        "type",
        "eq",
        "pr",
        "\"work\"",
        "and",
        "not",
        "(",
        ")",
        "urn:indigo-dc:scim:schemas:IndigoUser:",
        ":",
        "$ref",
        " ",
        "é",
        "\"",
        "\\u",
    ];

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z][a-zA-Z0-9_-]{0,7}",
            Just("$ref".to_string()),
            Just("not".to_string()),
        ]
    }

    fn patch_path() -> impl Strategy<Value = PatchPath> {
        let urn = proptest::option::of("urn:[a-z][a-z0-9-]{0,5}(:[a-zA-Z0-9.]{1,5}){0,3}");
        let leaf = (name(), any::<String>()).prop_map(|(n, v)| eq(&n, &v));
        let filter = leaf.prop_recursive(3, 8, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Filter::Not(Box::new(a))),
            ]
        });
        prop_oneof![
            (urn.clone(), name(), proptest::option::of(name())).prop_map(|(urn, name, sub)| {
                PatchPath {
                    attr: AttrPath { urn, name, sub },
                    filter: None,
                    sub: None,
                }
            }),
            (urn, name(), filter, proptest::option::of(name())).prop_map(
                |(urn, name, filter, sub)| PatchPath {
                    attr: AttrPath {
                        urn,
                        name,
                        sub: None,
                    },
                    filter: Some(filter),
                    sub,
                }
            ),
        ]
    }

    fn check_total(input: &str) {
        match parse(input) {
            Ok(p) => assert_eq!(parse(&p.to_string()), Ok(p), "{input:?}"),
            Err(error) => assert!(error.position <= input.chars().count(), "{input:?}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_text_never_panics(input in any::<String>()) {
            check_total(&input);
        }

        #[test]
        fn token_soup_never_panics(
            tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..16)
        ) {
            check_total(&tokens.concat());
        }

        #[test]
        fn printed_paths_parse_back(p in patch_path()) {
            let printed = p.to_string();
            prop_assert_eq!(parse(&printed), Ok(p), "{}", printed);
        }
    }
}
