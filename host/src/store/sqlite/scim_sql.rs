//! SCIM filters (RFC 7644 §3.4.2.2) and sort orders (§3.4.2.3) as SQLite SQL, evaluated in
//! the database over `accounts a` (users) and `groups g` (groups).
//!
//! The SQL selects the resources for which `Filter::matches` holds on their SCIM rendering
//! (`http/scim_json.rs`), with these differences, all deliberate:
//! - Case: attributes that are not `caseExact` compare through SQLite's `lower()`, which
//!   folds ASCII only; the evaluator folds all of Unicode (`É` and `é` differ here).
//! - dateTimes compare as instants (milliseconds), so `2026-01-31T11:00:00+01:00` equals
//!   `2026-01-31T10:00:00.000Z`; the evaluator compares their text.
//! - The IndigoUser `labels`, `attributes`, `authorities` and `managedGroups` are rendered
//!   only when the operator shows them (`[scim] include_*`); they are filtered whatever
//!   the configuration, on all of the user's labels, attributes, authorities and managed
//!   groups.
//! - Group `members` are never rendered (returned "never"), but are filtered: their
//!   `value` is the member's id and `display` its full name, as `/members` shows them.
//!   IndigoGroup `labels` is always null in the rendering, so nothing matches it.
//!
//! Placeholders are anonymous `?` only, in the order of [`Sql::params`]; the caller may
//! follow them with its own `?` (e.g. `LIMIT ? OFFSET ?`, pushing its values after ours) or
//! numbered ones from `?{params.len() + 1}` on. Values never enter the SQL text, and the
//! only names in it are this file's own (its mapping tables).
//!
//! Every condition is two-valued (never NULL), so `NOT` and `ne` are exact. A multi-valued
//! attribute's elements are rows of a sub-table, tested with one uncorrelated
//! `<key> IN (SELECT ... WHERE <element condition>)`: a value filter
//! (`oidcIds[issuer eq "a" and subject eq "b"]`) tests both conditions on the same row, and
//! the planner can drive the query from an index of the sub-table (correlated `EXISTS`
//! would scan every account).

use rusqlite::types::Value;
use serde_json::Value as Json;

use crate::scim::filter::{AttrPath, CompareOp, Filter};
use crate::scim::query;
use crate::scim::schema::{
    self, GROUP_TYPE, INDIGO_GROUP, INDIGO_USER, Kind, Resolved, ResourceType, USER_TYPE,
};

/// A condition (or ordering) and its parameters, for `WHERE` over `accounts a` (users) or
/// `groups g` (groups). `sql` holds exactly `params.len()` anonymous `?`, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Sql {
    pub sql: String,
    pub params: Vec<Value>,
}

/// The condition for `SELECT ... FROM accounts a WHERE <sql>` selecting the users `f`
/// matches. `Err` (a message for a 400 `invalidFilter`) when [`query::check`] refuses it.
pub fn user_condition(f: &Filter) -> Result<Sql, String> {
    query::check(f, &USER_TYPE)?;
    Translator::USERS.condition(f)
}

/// The condition for `SELECT ... FROM groups g WHERE <sql>` selecting the groups `f`
/// matches.
pub fn group_condition(f: &Filter) -> Result<Sql, String> {
    query::check(f, &GROUP_TYPE)?;
    Translator::GROUPS.condition(f)
}

/// The `ORDER BY` terms (without the keywords) sorting users by `sort_by`, e.g.
/// `lower(a.family_name) DESC, a.id DESC`: strings fold case unless `caseExact`,
/// attributes that may be unassigned are preceded by an "is unassigned" term so those come
/// last ascending and first descending (RFC 7644 §3.4.2.3), and the row id breaks ties in
/// the same direction. No parameters. `Err` (for a 400 `invalidValue`) when
/// [`query::check_sort`] refuses `sort_by`.
pub fn user_order(sort_by: &AttrPath, descending: bool) -> Result<String, String> {
    query::check_sort(sort_by, &USER_TYPE)?;
    Translator::USERS.order(sort_by, descending)
}

/// [`user_order`] for groups, e.g. `g.name ASC, g.id ASC`.
pub fn group_order(sort_by: &AttrPath, descending: bool) -> Result<String, String> {
    query::check_sort(sort_by, &GROUP_TYPE)?;
    Translator::GROUPS.order(sort_by, descending)
}

// ---------------------------------------------------------------------------------------
// The mapping of attributes to SQL

/// What an expression yields: text, 0/1, or Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Bool,
    Ms,
}

/// One simple attribute or sub-attribute of an element.
#[derive(Debug, Clone, Copy)]
enum Leaf {
    /// An SQL expression over the element's row. `fts`: the `accounts_search` column whose
    /// trigram index finds candidates for substring tests (a superset of them).
    Col {
        expr: &'static str,
        ty: Ty,
        nullable: bool,
        fts: Option<&'static str>,
    },
    /// Always rendered, never compared (URIs, the version): it only makes its element
    /// present.
    Opaque,
}

/// Where an attribute's elements are.
#[derive(Debug, Clone, Copy)]
enum Coll {
    /// The resource's own row: one element.
    Row,
    /// The rows of `from` (optionally only those where `when` holds) whose `key` equals
    /// the resource's `outer` (a column, NULL when `optional`); `single` when there is at
    /// most one per resource.
    Sub {
        outer: &'static str,
        optional: bool,
        key: &'static str,
        from: &'static str,
        when: Option<&'static str>,
        single: bool,
    },
    /// No element ever (rendered as null).
    Never,
}

/// A top-level attribute: its schema (`None` for `id` and `meta`), where its elements
/// are, and its leaves by sub-attribute name (`""` for a simple attribute).
struct Mapped {
    schema: Option<&'static str>,
    name: &'static str,
    coll: Coll,
    leaves: &'static [(&'static str, Leaf)],
}

const fn col(expr: &'static str, ty: Ty, nullable: bool) -> Leaf {
    Leaf::Col {
        expr,
        ty,
        nullable,
        fts: None,
    }
}
const fn text(expr: &'static str) -> Leaf {
    col(expr, Ty::Text, false)
}
const fn text_opt(expr: &'static str) -> Leaf {
    col(expr, Ty::Text, true)
}
const fn boolean(expr: &'static str) -> Leaf {
    col(expr, Ty::Bool, false)
}
const fn ms(expr: &'static str) -> Leaf {
    col(expr, Ty::Ms, false)
}
const fn ms_opt(expr: &'static str) -> Leaf {
    col(expr, Ty::Ms, true)
}
const fn searched(expr: &'static str, fts: &'static str) -> Leaf {
    Leaf::Col {
        expr,
        ty: Ty::Text,
        nullable: false,
        fts: Some(fts),
    }
}

const fn sub(outer: &'static str, key: &'static str, from: &'static str) -> Coll {
    Coll::Sub {
        outer,
        optional: false,
        key,
        from,
        when: None,
        single: false,
    }
}

/// The account's profile row (at most one), optionally only when `when` holds.
const fn profile(when: Option<&'static str>) -> Coll {
    Coll::Sub {
        outer: "a.id",
        optional: false,
        key: "p.account_id",
        from: "account_profiles p",
        when,
        single: true,
    }
}

const FORMATTED: &str = "(a.given_name || ' ' || a.family_name)";

/// The attributes of a user: `accounts a` and the tables hanging from it.
static USER_MAP: &[Mapped] = &[
    Mapped {
        schema: None,
        name: "id",
        coll: Coll::Row,
        leaves: &[("", searched("a.uuid", "uuid"))],
    },
    Mapped {
        schema: None,
        name: "meta",
        coll: Coll::Row,
        leaves: &[
            ("resourceType", text("'User'")),
            ("created", ms("a.created_ms")),
            ("lastModified", ms("a.last_modified_ms")),
            ("location", Leaf::Opaque),
            ("version", Leaf::Opaque),
        ],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "userName",
        coll: Coll::Row,
        leaves: &[("", searched("a.username", "username"))],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "name",
        coll: Coll::Row,
        leaves: &[
            ("formatted", searched(FORMATTED, "full_name")),
            ("familyName", searched("a.family_name", "full_name")),
            ("givenName", searched("a.given_name", "full_name")),
        ],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "displayName",
        coll: Coll::Row,
        leaves: &[("", searched("a.username", "username"))],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "nickName",
        coll: profile(None),
        leaves: &[("", text_opt("p.nick_name"))],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "profileUrl",
        coll: profile(None),
        leaves: &[("", text_opt("p.profile_url"))],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "locale",
        coll: profile(None),
        leaves: &[("", text_opt("p.locale"))],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "timezone",
        coll: profile(None),
        leaves: &[("", text_opt("p.timezone"))],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "active",
        coll: Coll::Row,
        leaves: &[("", boolean("a.active"))],
    },
    // Exactly one, always `work` and primary.
    Mapped {
        schema: Some(schema::USER),
        name: "emails",
        coll: Coll::Row,
        leaves: &[
            ("value", searched("a.email", "email")),
            ("type", text("'work'")),
            ("primary", boolean("1")),
        ],
    },
    // Rendered when the profile has a picture (even an empty one).
    Mapped {
        schema: Some(schema::USER),
        name: "photos",
        coll: profile(Some("p.picture IS NOT NULL")),
        leaves: &[("value", text_opt("p.picture")), ("type", text("'photo'"))],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "addresses",
        coll: profile(Some("p.has_address <> 0")),
        leaves: &[
            ("formatted", text_opt("p.address_formatted")),
            ("streetAddress", text_opt("p.address_street")),
            ("locality", text_opt("p.address_locality")),
            ("region", text_opt("p.address_region")),
            ("postalCode", text_opt("p.address_postal_code")),
            ("country", text_opt("p.address_country")),
        ],
    },
    Mapped {
        schema: Some(schema::USER),
        name: "groups",
        coll: sub(
            "a.id",
            "m.account_id",
            "memberships m JOIN groups mg ON mg.id = m.group_id",
        ),
        leaves: &[
            ("value", text("mg.uuid")),
            ("$ref", Leaf::Opaque),
            ("display", text("mg.name")),
        ],
    },
    Mapped {
        schema: Some(INDIGO_USER),
        name: "oidcIds",
        coll: sub("a.id", "o.account_id", "oidc_ids o"),
        leaves: &[("issuer", text("o.issuer")), ("subject", text("o.subject"))],
    },
    Mapped {
        schema: Some(INDIGO_USER),
        name: "samlIds",
        coll: sub("a.id", "s.account_id", "saml_ids s"),
        leaves: &[
            ("idpId", text("s.idp_id")),
            ("userId", text("s.user_id")),
            ("attributeId", text("s.attribute_id")),
        ],
    },
    Mapped {
        schema: Some(INDIGO_USER),
        name: "sshKeys",
        coll: sub("a.id", "k.account_id", "ssh_keys k"),
        leaves: &[
            ("display", text_opt("k.label")),
            ("primary", boolean("k.is_primary")),
            ("value", text("k.value")),
            ("fingerprint", text("k.fingerprint")),
            ("created", ms("k.created_ms")),
            ("lastModified", ms("k.last_modified_ms")),
        ],
    },
    Mapped {
        schema: Some(INDIGO_USER),
        name: "certificates",
        coll: sub("a.id", "c.account_id", "certificates c"),
        leaves: &[
            ("display", text("c.label")),
            ("primary", boolean("c.is_primary")),
            ("subjectDn", text("c.subject_dn")),
            ("issuerDn", text("c.issuer_dn")),
            ("pemEncodedCertificate", text_opt("c.pem")),
            ("created", ms("c.created_ms")),
            ("lastModified", ms("c.last_modified_ms")),
            (
                "hasProxyCertificate",
                boolean("(c.proxy_chain IS NOT NULL)"),
            ),
            ("proxyExpirationTime", ms_opt("c.proxy_expiration_ms")),
        ],
    },
    Mapped {
        schema: Some(INDIGO_USER),
        name: "endTime",
        coll: Coll::Row,
        leaves: &[("", ms_opt("a.end_time_ms"))],
    },
    Mapped {
        schema: Some(INDIGO_USER),
        name: "serviceAccount",
        coll: Coll::Row,
        leaves: &[("", boolean("a.service_account"))],
    },
    // The empty prefix is "no prefix", which the rendering leaves null.
    Mapped {
        schema: Some(INDIGO_USER),
        name: "labels",
        coll: sub("a.id", "l.account_id", "labels l"),
        leaves: &[
            ("prefix", text("l.prefix")),
            ("name", text("l.name")),
            ("value", text_opt("l.value")),
        ],
    },
    Mapped {
        schema: Some(INDIGO_USER),
        name: "attributes",
        coll: sub("a.id", "t.account_id", "attributes t"),
        leaves: &[("name", text("t.name")), ("value", text_opt("t.value"))],
    },
    Mapped {
        schema: Some(INDIGO_USER),
        name: "authorities",
        coll: sub(
            "a.id",
            "aa.account_id",
            "account_authorities aa JOIN authorities au ON au.id = aa.authority_id",
        ),
        leaves: &[("", text("au.name"))],
    },
    // The groups whose `ROLE_GM:<uuid>` authority the user holds.
    Mapped {
        schema: Some(INDIGO_USER),
        name: "managedGroups",
        coll: sub(
            "a.id",
            "aa.account_id",
            "account_authorities aa JOIN authorities au ON au.id = aa.authority_id \
             JOIN groups mg ON mg.id = au.group_id",
        ),
        leaves: &[
            ("value", text("mg.uuid")),
            ("$ref", Leaf::Opaque),
            ("display", text("mg.name")),
        ],
    },
];

/// The attributes of a group: `groups g` and the tables hanging from it.
static GROUP_MAP: &[Mapped] = &[
    Mapped {
        schema: None,
        name: "id",
        coll: Coll::Row,
        leaves: &[("", text("g.uuid"))],
    },
    Mapped {
        schema: None,
        name: "meta",
        coll: Coll::Row,
        leaves: &[
            ("resourceType", text("'Group'")),
            ("created", ms("g.created_ms")),
            ("lastModified", ms("g.last_modified_ms")),
            ("location", Leaf::Opaque),
            ("version", Leaf::Opaque),
        ],
    },
    Mapped {
        schema: Some(schema::GROUP),
        name: "displayName",
        coll: Coll::Row,
        leaves: &[("", text("g.name"))],
    },
    Mapped {
        schema: Some(schema::GROUP),
        name: "members",
        coll: sub(
            "g.id",
            "m.group_id",
            "memberships m JOIN accounts ma ON ma.id = m.account_id",
        ),
        leaves: &[
            ("value", text("ma.uuid")),
            ("$ref", Leaf::Opaque),
            ("display", text("(ma.given_name || ' ' || ma.family_name)")),
        ],
    },
    Mapped {
        schema: Some(INDIGO_GROUP),
        name: "parentGroup",
        coll: Coll::Sub {
            outer: "g.parent_id",
            optional: true,
            key: "pg.id",
            from: "groups pg",
            when: None,
            single: true,
        },
        leaves: &[
            ("value", text("pg.uuid")),
            ("$ref", Leaf::Opaque),
            ("display", text("pg.name")),
        ],
    },
    Mapped {
        schema: Some(INDIGO_GROUP),
        name: "description",
        coll: Coll::Row,
        leaves: &[("", text_opt("g.description"))],
    },
    Mapped {
        schema: Some(INDIGO_GROUP),
        name: "labels",
        coll: Coll::Never,
        leaves: &[
            ("prefix", text("NULL")),
            ("name", text("NULL")),
            ("value", text("NULL")),
        ],
    },
];

// ---------------------------------------------------------------------------------------
// Translation

/// A piece of SQL and the values of its placeholders, in order.
#[derive(Debug, Default)]
struct Frag {
    sql: String,
    params: Vec<Value>,
}

fn lit(sql: impl Into<String>) -> Frag {
    Frag {
        sql: sql.into(),
        params: Vec::new(),
    }
}

fn param(sql: impl Into<String>, values: impl IntoIterator<Item = Value>) -> Frag {
    Frag {
        sql: sql.into(),
        params: values.into_iter().collect(),
    }
}

fn cat(parts: impl IntoIterator<Item = Frag>) -> Frag {
    let mut out = Frag::default();
    for p in parts {
        out.sql.push_str(&p.sql);
        out.params.extend(p.params);
    }
    out
}

fn not(f: Frag) -> Frag {
    cat([lit("NOT ("), f, lit(")")])
}

fn and(left: Frag, right: Frag) -> Frag {
    cat([lit("("), left, lit(" AND "), right, lit(")")])
}

fn or(left: Frag, right: Frag) -> Frag {
    cat([lit("("), left, lit(" OR "), right, lit(")")])
}

/// The translator of one resource type.
struct Translator {
    t: &'static ResourceType,
    map: &'static [Mapped],
    /// The resource's row id, the last sort key.
    id: &'static str,
}

/// A path resolved to its mapping.
struct Target {
    resolved: Resolved,
    mapped: &'static Mapped,
}

impl Translator {
    const USERS: Translator = Translator {
        t: &USER_TYPE,
        map: USER_MAP,
        id: "a.id",
    };
    const GROUPS: Translator = Translator {
        t: &GROUP_TYPE,
        map: GROUP_MAP,
        id: "g.id",
    };

    fn condition(&self, f: &Filter) -> Result<Sql, String> {
        let Frag { sql, params } = self.filter(f)?;
        Ok(Sql { sql, params })
    }

    fn target(&self, path: &AttrPath) -> Result<Target, String> {
        let resolved = self
            .t
            .resolve(path.urn.as_deref(), &path.name, path.sub.as_deref())
            .ok_or_else(|| format!("unknown attribute '{path}' for a {}", self.t.name))?;
        let mapped = self
            .map
            .iter()
            .find(|m| m.schema == resolved.schema && m.name == resolved.attribute.name)
            .ok_or_else(|| format!("'{path}' cannot be filtered here"))?;
        Ok(Target { resolved, mapped })
    }

    /// The condition at resource level.
    fn filter(&self, f: &Filter) -> Result<Frag, String> {
        Ok(match f {
            Filter::And(l, r) => and(self.filter(l)?, self.filter(r)?),
            Filter::Or(l, r) => or(self.filter(l)?, self.filter(r)?),
            Filter::Not(inner) => not(self.filter(inner)?),
            Filter::Present(path) => self.present(path)?,
            Filter::Compare { path, op, value } if value.is_null() => match op {
                CompareOp::Eq => not(self.present(path)?),
                CompareOp::Ne => self.present(path)?,
                _ => return Err(format!("'{path} {op} null': null goes only with eq and ne")),
            },
            Filter::Compare { path, op, value } => {
                let target = self.target(path)?;
                let compared = query::compared(target.resolved)
                    .ok_or_else(|| format!("'{path}' has no value to compare"))?;
                let leaf = leaf(target.mapped, compared)?;
                let exact = compared.leaf().case_exact;
                let coll = target.mapped.coll;
                if *op == CompareOp::Ne {
                    match coll {
                        Coll::Row => not(holds(leaf, exact, CompareOp::Eq, value)?),
                        // No value, or some value that differs.
                        _ => or(
                            not(within(coll, assigned(leaf))),
                            within(
                                coll,
                                and(
                                    assigned(leaf),
                                    not(holds(leaf, exact, CompareOp::Eq, value)?),
                                ),
                            ),
                        ),
                    }
                } else {
                    within(coll, holds(leaf, exact, *op, value)?)
                }
            }
            Filter::ValuePath { path, filter } => {
                let target = self.target(path)?;
                if target.resolved.sub.is_some() || target.resolved.attribute.kind != Kind::Complex
                {
                    return Err(format!("'{path}' takes no '[...]' filter"));
                }
                within(target.mapped.coll, self.element(filter, &target)?)
            }
        })
    }

    /// `path pr`: some element has the value assigned (for a complex attribute without a
    /// sub-attribute: some element has any member assigned).
    fn present(&self, path: &AttrPath) -> Result<Frag, String> {
        let target = self.target(path)?;
        let pred = if target.resolved.leaf().kind == Kind::Complex {
            any_assigned(target.mapped)
        } else {
            assigned(leaf(target.mapped, target.resolved)?)
        };
        Ok(within(target.mapped.coll, pred))
    }

    /// The condition inside `attr[...]`, on one element of `outer`.
    fn element(&self, f: &Filter, outer: &Target) -> Result<Frag, String> {
        let sub = |path: &AttrPath| -> Result<(Leaf, bool), String> {
            let attribute = outer
                .resolved
                .attribute
                .sub(&path.name)
                .filter(|_| path.urn.is_none() && path.sub.is_none())
                .ok_or_else(|| format!("unknown sub-attribute '{path}'"))?;
            let r = Resolved {
                sub: Some(attribute),
                ..outer.resolved
            };
            Ok((leaf(outer.mapped, r)?, attribute.case_exact))
        };
        Ok(match f {
            Filter::And(l, r) => and(self.element(l, outer)?, self.element(r, outer)?),
            Filter::Or(l, r) => or(self.element(l, outer)?, self.element(r, outer)?),
            Filter::Not(inner) => not(self.element(inner, outer)?),
            Filter::Present(path) => assigned(sub(path)?.0),
            Filter::Compare { path, op, value } => {
                let (leaf, exact) = sub(path)?;
                match (op, value.is_null()) {
                    (CompareOp::Eq, true) => not(assigned(leaf)),
                    (CompareOp::Ne, true) => assigned(leaf),
                    (_, true) => return Err(format!("'{path} {op} null': null needs eq or ne")),
                    (CompareOp::Ne, false) => not(holds(leaf, exact, CompareOp::Eq, value)?),
                    (op, false) => holds(leaf, exact, *op, value)?,
                }
            }
            Filter::ValuePath { path, .. } => {
                return Err(format!("'{path}[...]': value filters do not nest"));
            }
        })
    }

    fn order(&self, sort_by: &AttrPath, descending: bool) -> Result<String, String> {
        let target = self.target(sort_by)?;
        // `emails` sorts by its value, as a comparison would.
        let r = query::compared(target.resolved)
            .ok_or_else(|| format!("'{sort_by}' cannot be sorted by"))?;
        let Leaf::Col {
            expr, ty, nullable, ..
        } = leaf(target.mapped, r)?
        else {
            return Err(format!("'{sort_by}' cannot be sorted by"));
        };
        let (expr, nullable) = match target.mapped.coll {
            Coll::Row => (expr.to_string(), nullable),
            Coll::Sub {
                outer,
                key,
                from,
                when,
                single: true,
                ..
            } => {
                let when = when.map(|w| format!(" AND {w}")).unwrap_or_default();
                // No row: no value.
                (
                    format!("(SELECT {expr} FROM {from} WHERE {key} = {outer}{when})"),
                    true,
                )
            }
            _ => {
                return Err(format!(
                    "'{sort_by}' is multi-valued, so it cannot be sorted by"
                ));
            }
        };
        let dir = if descending { "DESC" } else { "ASC" };
        let mut terms = Vec::new();
        // A constant (`meta.resourceType`) orders nothing; an integer one would even name a
        // column.
        if !expr.starts_with('\'') {
            if nullable {
                terms.push(match ty {
                    Ty::Text => format!("coalesce({expr}, '') = ''"),
                    Ty::Bool | Ty::Ms => format!("{expr} IS NULL"),
                });
            }
            terms.push(if ty == Ty::Text && !r.leaf().case_exact {
                format!("lower({expr})")
            } else {
                expr
            });
        }
        terms.push(self.id.to_string());
        Ok(terms
            .iter()
            .map(|t| format!("{t} {dir}"))
            .collect::<Vec<_>>()
            .join(", "))
    }
}

/// The leaf a resolved path ends at (a simple attribute is its own leaf, named "").
fn leaf(mapped: &Mapped, r: Resolved) -> Result<Leaf, String> {
    let name = r.sub.map_or("", |s| s.name);
    mapped
        .leaves
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, leaf)| *leaf)
        .ok_or_else(|| format!("'{}.{name}' cannot be filtered here", mapped.name))
}

/// The elements of `coll` of which one satisfies `pred` exist.
fn within(coll: Coll, pred: Frag) -> Frag {
    match coll {
        Coll::Row => pred,
        Coll::Sub {
            outer,
            optional,
            key,
            from,
            when,
            ..
        } => {
            let when = when.map(|w| format!("{w} AND ")).unwrap_or_default();
            let select = cat([
                lit(format!("{outer} IN (SELECT {key} FROM {from} WHERE {when}")),
                pred,
                lit(")"),
            ]);
            // `NULL IN (...)` is NULL: a nullable key (a group's parent) is tested first.
            if optional {
                and(lit(format!("{outer} IS NOT NULL")), select)
            } else {
                select
            }
        }
        Coll::Never => lit("0"),
    }
}

/// The element has `leaf` assigned: not NULL and not ''.
fn assigned(leaf: Leaf) -> Frag {
    match leaf {
        Leaf::Opaque => lit("1"),
        Leaf::Col {
            expr,
            ty: Ty::Text,
            nullable,
            ..
        } => lit(if nullable {
            format!("coalesce({expr}, '') <> ''")
        } else {
            format!("{expr} <> ''")
        }),
        Leaf::Col {
            expr,
            nullable: true,
            ..
        } => lit(format!("{expr} IS NOT NULL")),
        Leaf::Col { .. } => lit("1"),
    }
}

/// The element has some member assigned.
fn any_assigned(mapped: &Mapped) -> Frag {
    let parts: Vec<Frag> = mapped.leaves.iter().map(|(_, l)| assigned(*l)).collect();
    if parts.iter().any(|p| p.sql == "1") {
        return lit("1");
    }
    let mut out = lit("(");
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            out.sql.push_str(" OR ");
        }
        out = cat([out, p]);
    }
    cat([out, lit(")")])
}

/// The element's `leaf` is assigned and `op value` holds for it; two-valued.
fn holds(leaf: Leaf, exact: bool, op: CompareOp, value: &Json) -> Result<Frag, String> {
    let Leaf::Col {
        expr,
        ty,
        nullable,
        fts,
    } = leaf
    else {
        return Err("this attribute cannot be compared".into());
    };
    let (test, implied) = match (ty, value) {
        (Ty::Text, Json::String(v)) => text_test(expr, fts, exact, op, v),
        (Ty::Ms, Json::String(v)) => {
            let ns = query::datetime_ns(v).ok_or_else(|| format!("'{v}' is not a dateTime"))?;
            time_test(expr, op, ns)?
        }
        (Ty::Bool, Json::Bool(b)) if op == CompareOp::Eq => (
            param(format!("{expr} = ?"), [Value::Integer(*b as i64)]),
            true,
        ),
        _ => return Err(format!("'{op} {value}' does not fit this attribute")),
    };
    // '' is unassigned, and a NULL would make the test NULL.
    Ok(if nullable || !implied {
        and(assigned(leaf), test)
    } else {
        test
    })
}

/// A string test, and whether it can only hold for a non-empty value.
fn text_test(expr: &str, fts: Option<&str>, exact: bool, op: CompareOp, v: &str) -> (Frag, bool) {
    let col = if exact {
        expr.to_string()
    } else {
        format!("lower({expr})")
    };
    let arg = if exact { "?" } else { "lower(?)" };
    let text = || Value::Text(v.to_string());
    let nonempty = !v.is_empty();
    let test = match op {
        CompareOp::Eq | CompareOp::Ne => param(format!("{col} = {arg}"), [text()]),
        CompareOp::Gt => param(format!("{col} > {arg}"), [text()]),
        CompareOp::Ge => param(format!("{col} >= {arg}"), [text()]),
        CompareOp::Lt => param(format!("{col} < {arg}"), [text()]),
        CompareOp::Le => param(format!("{col} <= {arg}"), [text()]),
        // Every assigned value has the empty string in it.
        _ if !nonempty => lit("1"),
        CompareOp::Co => param(format!("instr({col}, {arg}) > 0"), [text()]),
        CompareOp::Sw => param(format!("instr({col}, {arg}) = 1"), [text()]),
        CompareOp::Ew => param(
            format!("substr({col}, ?) = {arg}"),
            [Value::Integer(-(v.chars().count() as i64)), text()],
        ),
    };
    let implied = nonempty
        && matches!(
            op,
            CompareOp::Eq | CompareOp::Gt | CompareOp::Co | CompareOp::Sw | CompareOp::Ew
        );
    let test = match fts {
        Some(column) if op.is_substring() && trigram_run(v) => {
            // The trigram index yields a superset (LIKE there ignores case, and `%`/`_` of
            // the needle become `_`, any one character, since an ESCAPE clause would keep
            // FTS5 from using its index); the exact test follows.
            let needle: String = v
                .chars()
                .map(|c| if c == '%' || c == '_' { '_' } else { c })
                .collect();
            let pattern = match op {
                CompareOp::Sw => format!("{needle}%"),
                CompareOp::Ew => format!("%{needle}"),
                _ => format!("%{needle}%"),
            };
            and(
                param(
                    format!("a.id IN (SELECT rowid FROM accounts_search WHERE {column} LIKE ?)"),
                    [Value::Text(pattern)],
                ),
                test,
            )
        }
        _ => test,
    };
    (test, implied)
}

/// Whether `needle` has three characters in a row that are not LIKE wildcards: what the
/// trigram index needs to avoid reading every row.
fn trigram_run(needle: &str) -> bool {
    let mut run = 0;
    for c in needle.chars() {
        run = if c == '%' || c == '_' { 0 } else { run + 1 };
        if run >= 3 {
            return true;
        }
    }
    false
}

/// A dateTime test against the instant `ns` (nanoseconds): the store keeps milliseconds,
/// so an instant between two of them equals none and orders after the earlier one.
fn time_test(expr: &str, op: CompareOp, ns: i128) -> Result<(Frag, bool), String> {
    let ms = i64::try_from(ns.div_euclid(1_000_000)).map_err(|_| "dateTime out of range")?;
    let whole = ns.rem_euclid(1_000_000) == 0;
    let cmp = |sym: &str| param(format!("{expr} {sym} ?"), [Value::Integer(ms)]);
    let test = match (op, whole) {
        (CompareOp::Eq | CompareOp::Ne, true) => cmp("="),
        (CompareOp::Eq | CompareOp::Ne, false) => lit("0"),
        (CompareOp::Gt, _) | (CompareOp::Ge, false) => cmp(">"),
        (CompareOp::Ge, true) => cmp(">="),
        (CompareOp::Lt, true) => cmp("<"),
        (CompareOp::Lt, false) | (CompareOp::Le, _) => cmp("<="),
        _ => return Err(format!("{op} does not apply to a dateTime")),
    };
    Ok((test, true))
}
