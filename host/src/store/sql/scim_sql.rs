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

use super::{Dialect, Value};

use crate::contract::types::ListQuery;
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
pub fn user_condition(f: &Filter, dialect: Dialect) -> Result<Sql, String> {
    query::check(f, &USER_TYPE)?;
    Translator::users(dialect).condition(f)
}

/// The condition for `SELECT ... FROM groups g WHERE <sql>` selecting the groups `f`
/// matches.
pub fn group_condition(f: &Filter, dialect: Dialect) -> Result<Sql, String> {
    query::check(f, &GROUP_TYPE)?;
    Translator::groups(dialect).condition(f)
}

/// The `ORDER BY` terms (without the keywords) sorting users by `sort_by`, e.g.
/// `lower(a.family_name) DESC, a.id DESC`: strings fold case unless `caseExact`,
/// attributes that may be unassigned are preceded by an "is unassigned" term so those come
/// last ascending and first descending (RFC 7644 §3.4.2.3), and the row id breaks ties in
/// the same direction. No parameters. `Err` (for a 400 `invalidValue`) when
/// [`query::check_sort`] refuses `sort_by`.
pub fn user_order(sort_by: &AttrPath, descending: bool) -> Result<String, String> {
    query::check_sort(sort_by, &USER_TYPE)?;
    Translator::users(Dialect::Sqlite).order(sort_by, descending)
}

/// [`user_order`] for groups, e.g. `g.name ASC, g.id ASC`.
pub fn group_order(sort_by: &AttrPath, descending: bool) -> Result<String, String> {
    query::check_sort(sort_by, &GROUP_TYPE)?;
    Translator::groups(Dialect::Sqlite).order(sort_by, descending)
}

/// The `WHERE` condition and `ORDER BY` terms of a SCIM list query, read from the
/// contract's record: `users` picks `accounts a`, otherwise `groups g`. No filter selects
/// everything; no `sortBy` keeps creation order (`sortOrder` alone changes nothing, as
/// RFC 7644 §3.4.2.3 has it). `Err` for a filter or order the checks refuse.
pub fn list_query(q: &ListQuery, users: bool, dialect: Dialect) -> Result<(Sql, String), String> {
    let condition = match &q.filter {
        Some(text) => {
            let f = crate::scim::filter::parse(text).map_err(|e| e.message)?;
            if users {
                user_condition(&f, dialect)?
            } else {
                group_condition(&f, dialect)?
            }
        }
        None => Sql {
            sql: "TRUE".into(),
            params: Vec::new(),
        },
    };
    let order = match &q.sort_by {
        Some(text) => {
            let path = AttrPath::parse(text).map_err(|e| e.message)?;
            if users {
                user_order(&path, q.descending)?
            } else {
                group_order(&path, q.descending)?
            }
        }
        None if users => "a.id".into(),
        None => "g.id".into(),
    };
    Ok((condition, order))
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
    dialect: Dialect,
}

/// A path resolved to its mapping.
struct Target {
    resolved: Resolved,
    mapped: &'static Mapped,
}

impl Translator {
    fn users(dialect: Dialect) -> Translator {
        Translator {
            t: &USER_TYPE,
            map: USER_MAP,
            id: "a.id",
            dialect,
        }
    }

    fn groups(dialect: Dialect) -> Translator {
        Translator {
            t: &GROUP_TYPE,
            map: GROUP_MAP,
            id: "g.id",
            dialect,
        }
    }

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
                        Coll::Row => not(holds(leaf, exact, CompareOp::Eq, value, self.dialect)?),
                        // No value, or some value that differs.
                        _ => or(
                            not(within(coll, assigned(leaf))),
                            within(
                                coll,
                                and(
                                    assigned(leaf),
                                    not(holds(leaf, exact, CompareOp::Eq, value, self.dialect)?),
                                ),
                            ),
                        ),
                    }
                } else {
                    within(coll, holds(leaf, exact, *op, value, self.dialect)?)
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
                    (CompareOp::Ne, false) => {
                        not(holds(leaf, exact, CompareOp::Eq, value, self.dialect)?)
                    }
                    (op, false) => holds(leaf, exact, *op, value, self.dialect)?,
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
            // Unassigned values tie, for the id to order them.
            let value = if nullable && ty == Ty::Text {
                format!("nullif({expr}, '')")
            } else {
                expr
            };
            terms.push(if ty == Ty::Text && !r.leaf().case_exact {
                format!("lower({value})")
            } else {
                value
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
        Coll::Never => lit("FALSE"),
    }
}

/// The element has `leaf` assigned: not NULL and not ''.
fn assigned(leaf: Leaf) -> Frag {
    match leaf {
        Leaf::Opaque => lit("TRUE"),
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
        Leaf::Col { .. } => lit("TRUE"),
    }
}

/// The element has some member assigned.
fn any_assigned(mapped: &Mapped) -> Frag {
    let parts: Vec<Frag> = mapped.leaves.iter().map(|(_, l)| assigned(*l)).collect();
    if parts.iter().any(|p| p.sql == "TRUE") {
        return lit("TRUE");
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
fn holds(
    leaf: Leaf,
    exact: bool,
    op: CompareOp,
    value: &Json,
    dialect: Dialect,
) -> Result<Frag, String> {
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
        (Ty::Text, Json::String(v)) => text_test(expr, fts, exact, op, v, dialect),
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
fn text_test(
    expr: &str,
    fts: Option<&str>,
    exact: bool,
    op: CompareOp,
    v: &str,
    dialect: Dialect,
) -> (Frag, bool) {
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
        _ if !nonempty => lit("TRUE"),
        CompareOp::Co => param(format!("instr({col}, {arg}) > 0"), [text()]),
        CompareOp::Sw => param(format!("instr({col}, {arg}) = 1"), [text()]),
        // The last n characters, spelt the same in both engines (their `substr` reads a
        // negative start differently).
        CompareOp::Ew => {
            let n = Value::Integer(v.chars().count() as i64);
            param(
                format!("(length({col}) >= ? AND substr({col}, length({col}) - ? + 1) = {arg})"),
                [n.clone(), n, text()],
            )
        }
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
            // Unanchored: the column may hold more than the attribute (the full name for
            // the family name).
            let pattern = format!("%{needle}%");
            let candidates = match dialect {
                Dialect::Sqlite => {
                    format!("a.id IN (SELECT rowid FROM accounts_search WHERE {column} LIKE ?)")
                }
                // pg_trgm indexes the columns themselves; a backslash, PostgreSQL's escape
                // in LIKE, becomes `_` as the wildcards did.
                Dialect::Postgres => format!("{} LIKE ?", searched_column(column)),
            };
            let pattern = match dialect {
                Dialect::Sqlite => pattern,
                Dialect::Postgres => pattern.replace('\\', "_"),
            };
            and(param(candidates, [Value::Text(pattern)]), test)
        }
        _ => test,
    };
    (test, implied)
}

/// The expression of `accounts a` that PostgreSQL's trigram index covers for a column of
/// SQLite's `accounts_search`.
fn searched_column(column: &str) -> &'static str {
    match column {
        "email" => "a.email",
        "username" => "a.username",
        "uuid" => "a.uuid",
        _ => "(a.given_name || ' ' || a.family_name)",
    }
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
        (CompareOp::Eq | CompareOp::Ne, false) => lit("FALSE"),
        (CompareOp::Gt, _) | (CompareOp::Ge, false) => cmp(">"),
        (CompareOp::Ge, true) => cmp(">="),
        (CompareOp::Lt, true) => cmp("<"),
        (CompareOp::Lt, false) | (CompareOp::Le, _) => cmp("<="),
        _ => return Err(format!("{op} does not apply to a dateTime")),
    };
    Ok((test, true))
}

#[cfg(test)]
mod tests {
    use crate::store::sql::{Connection, params, params_from_iter};
    use serde_json::{Map, json};

    use super::*;
    use crate::scim::filter::parse;

    // -----------------------------------------------------------------------------------
    // A handful of users and groups, stored with plain INSERTs and rendered the way
    // `http/scim_json.rs` renders them (showing every label, attribute, authority and
    // managed group, and the members of groups), so that the SQL can be held against
    // `Filter::matches`.

    struct G {
        uuid: &'static str,
        name: &'static str,
        parent: Option<usize>,
        description: Option<&'static str>,
        created: i64,
    }

    const GROUPS: &[G] = &[
        G {
            uuid: "g1-atlas",
            name: "atlas",
            parent: None,
            description: None,
            created: 1_767_225_600_000, // 2026-01-01T00:00:00Z
        },
        G {
            uuid: "g2-prod",
            name: "atlas/prod",
            parent: Some(0),
            description: Some("Production"),
            created: 1_767_225_600_001,
        },
        G {
            uuid: "g3-cms",
            name: "cms",
            parent: None,
            description: Some(""),
            created: 1_769_904_000_000, // 2026-02-01T00:00:00Z
        },
    ];

    type Address = [Option<&'static str>; 6];

    #[derive(Default)]
    struct P {
        nick: Option<&'static str>,
        url: Option<&'static str>,
        locale: Option<&'static str>,
        timezone: Option<&'static str>,
        picture: Option<&'static str>,
        address: Option<Address>,
    }

    /// label, subject, issuer, pem, proxy expiration
    type Cert = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<i64>,
    );

    #[derive(Default)]
    struct U {
        uuid: &'static str,
        username: &'static str,
        email: &'static str,
        given: &'static str,
        family: &'static str,
        inactive: bool,
        service: bool,
        created: i64,
        modified: i64,
        end: Option<i64>,
        profile: Option<P>,
        oidc: &'static [(&'static str, &'static str)],
        saml: &'static [(&'static str, &'static str, &'static str)],
        groups: &'static [usize],
        authorities: &'static [&'static str],
        manages: &'static [usize],
        labels: &'static [(&'static str, &'static str, Option<&'static str>)],
        attributes: &'static [(&'static str, Option<&'static str>)],
        /// display, value, fingerprint, primary
        ssh: &'static [(Option<&'static str>, &'static str, &'static str, bool)],
        certs: &'static [Cert],
    }

    const JAN_10: i64 = 1_768_003_200_000; // 2026-01-10T00:00:00Z
    const JAN_31_10H: i64 = 1_769_853_600_000; // 2026-01-31T10:00:00Z
    const FEB_1: i64 = 1_769_904_000_000; // 2026-02-01T00:00:00Z

    fn users() -> Vec<U> {
        vec![
            U {
                uuid: "u1-5a1c",
                username: "alice",
                email: "alice@cern.ch",
                given: "Alice",
                family: "Liddell",
                created: JAN_10,
                modified: JAN_31_10H,
                profile: Some(P {
                    nick: Some("Ali"),
                    locale: Some("en"),
                    picture: Some("https://pics/alice.png"),
                    address: Some([None, None, Some("Geneva"), None, None, Some("CH")]),
                    ..P::default()
                }),
                oidc: &[("https://iss.a", "sub-1"), ("https://iss.b", "SUB-2")],
                groups: &[0, 1],
                authorities: &["ROLE_USER"],
                manages: &[0],
                labels: &[("", "vip", None), ("org.example", "team", Some("ops"))],
                attributes: &[("dept", Some("Physics"))],
                ssh: &[(Some("laptop"), "ssh-ed25519 AAAA1", "SHA256:aa", true)],
                ..U::default()
            },
            U {
                uuid: "u2-b0b",
                username: "Alice",
                email: "ALICE@Example.org",
                given: "Bob",
                family: "O'Brien",
                inactive: true,
                created: FEB_1,
                modified: FEB_1 + 45_000_250,
                end: Some(1_798_761_600_000), // 2027-01-01T00:00:00Z
                oidc: &[("https://iss.a", "sub-2")],
                groups: &[2],
                authorities: &["ROLE_USER", "ROLE_ADMIN"],
                certs: &[("", "CN=Bob,O=Example", "CN=CA", None, None)],
                ..U::default()
            },
            U {
                uuid: "u3-ca401",
                username: "carol_50%",
                email: "carol+x@cern.ch",
                given: "Carol",
                family: "de la Cruz",
                service: true,
                created: 1_764_576_000_000, // 2025-12-01T08:00:00Z
                modified: 1_764_576_000_000,
                profile: Some(P {
                    nick: Some(""),
                    picture: Some(""),
                    address: Some([None; 6]),
                    ..P::default()
                }),
                saml: &[("idp-1", "carol", "eppn")],
                groups: &[1],
                labels: &[("", "vip", Some("gold"))],
                attributes: &[("dept", None)],
                ssh: &[(None, "ssh-rsa BBBB", "SHA256:bb", false)],
                certs: &[(
                    "work",
                    "CN=Carol",
                    "CN=CA",
                    Some("-----BEGIN CERTIFICATE-----"),
                    Some(FEB_1),
                )],
                ..U::default()
            },
            U {
                uuid: "u4-da5e",
                username: "dave",
                email: "dave@cern.ch",
                given: "David",
                family: "Liddell",
                created: JAN_31_10H,
                modified: JAN_31_10H + 1,
                profile: Some(P {
                    url: Some("https://dave.example"),
                    locale: Some("fr"),
                    timezone: Some("Europe/Paris"),
                    ..P::default()
                }),
                ..U::default()
            },
            U {
                uuid: "u5-e0e",
                username: "eve",
                email: "e\"ve@quote.org",
                given: "Eve",
                family: "Smith_Jones",
                created: FEB_1 + 86_400_000,
                modified: FEB_1 + 86_400_000,
                ..U::default()
            },
        ]
    }

    fn iso(ms: i64) -> String {
        time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .unwrap()
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .unwrap()
    }

    fn group_ref(g: &G) -> Json {
        json!({"value": g.uuid, "display": g.name, "$ref": format!("https://iam.test/scim/Groups/{}", g.uuid)})
    }

    fn stored() -> (Connection, Vec<U>) {
        let conn = crate::store::sqlite::open_for_tests(std::path::Path::new(":memory:"));
        for (i, g) in GROUPS.iter().enumerate() {
            conn.execute(
                "INSERT INTO groups(id, uuid, name, description, parent_id, created_ms,
                                    last_modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                params![
                    i as i64 + 1,
                    g.uuid,
                    g.name,
                    g.description,
                    g.parent.map(|p| p as i64 + 1),
                    g.created
                ],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO authorities(name, group_id) VALUES (?1, ?2)",
                params![format!("ROLE_GM:{}", g.uuid), i as i64 + 1],
            )
            .unwrap();
        }
        let users = users();
        for (i, u) in users.iter().enumerate() {
            let id = i as i64 + 1;
            conn.execute(
                "INSERT INTO accounts(id, uuid, username, email, given_name, family_name,
                                      active, service_account, created_ms, last_modified_ms,
                                      end_time_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    id,
                    u.uuid,
                    u.username,
                    u.email,
                    u.given,
                    u.family,
                    !u.inactive,
                    u.service,
                    u.created,
                    u.modified,
                    u.end
                ],
            )
            .unwrap();
            if let Some(p) = &u.profile {
                let a = p.address.unwrap_or_default();
                conn.execute(
                    "INSERT INTO account_profiles VALUES
                         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    params![
                        id,
                        p.nick,
                        p.url,
                        p.locale,
                        p.timezone,
                        p.picture,
                        p.address.is_some(),
                        a[0],
                        a[1],
                        a[2],
                        a[3],
                        a[4],
                        a[5]
                    ],
                )
                .unwrap();
            }
            for (issuer, subject) in u.oidc {
                conn.execute(
                    "INSERT INTO oidc_ids VALUES (?1, ?2, ?3)",
                    params![id, issuer, subject],
                )
                .unwrap();
            }
            for (idp, user, attribute) in u.saml {
                conn.execute(
                    "INSERT INTO saml_ids VALUES (?1, ?2, ?3, ?4)",
                    params![id, idp, user, attribute],
                )
                .unwrap();
            }
            for g in u.groups {
                conn.execute(
                    "INSERT INTO memberships(account_id, group_id, created_ms) VALUES (?1, ?2, 0)",
                    params![id, *g as i64 + 1],
                )
                .unwrap();
            }
            let managed = u
                .manages
                .iter()
                .map(|g| format!("ROLE_GM:{}", GROUPS[*g].uuid));
            for name in u.authorities.iter().map(|a| a.to_string()).chain(managed) {
                conn.execute(
                    "INSERT INTO account_authorities SELECT ?1, id FROM authorities WHERE name = ?2",
                    params![id, name],
                )
                .unwrap();
            }
            for (prefix, name, value) in u.labels {
                conn.execute(
                    "INSERT INTO labels VALUES (?1, ?2, ?3, ?4)",
                    params![id, prefix, name, value],
                )
                .unwrap();
            }
            for (name, value) in u.attributes {
                conn.execute(
                    "INSERT INTO attributes VALUES (?1, ?2, ?3)",
                    params![id, name, value],
                )
                .unwrap();
            }
            for (label, value, fingerprint, primary) in u.ssh {
                conn.execute(
                    "INSERT INTO ssh_keys(account_id, label, fingerprint, value, is_primary,
                                          created_ms, last_modified_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                    params![id, label, fingerprint, value, primary, u.created],
                )
                .unwrap();
            }
            for (label, subject, issuer, pem, proxy) in u.certs {
                conn.execute(
                    "INSERT INTO certificates(account_id, label, subject_dn, issuer_dn, pem,
                                              is_primary, created_ms, last_modified_ms,
                                              proxy_chain, proxy_expiration_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6, ?7, ?8)",
                    params![
                        id,
                        label,
                        subject,
                        issuer,
                        pem,
                        u.created,
                        proxy.map(|_| "chain"),
                        proxy
                    ],
                )
                .unwrap();
            }
        }
        (conn, users)
    }

    /// `user_json` for the fixture's users.
    fn user_json(u: &U) -> Json {
        let mut indigo = Map::new();
        indigo.insert("serviceAccount".into(), json!(u.service));
        if let Some(end) = u.end {
            indigo.insert("endTime".into(), json!(iso(end)));
        }
        let mut put = |key: &str, list: Vec<Json>| {
            if !list.is_empty() {
                indigo.insert(key.into(), list.into());
            }
        };
        put(
            "labels",
            u.labels
                .iter()
                .map(|(p, n, v)| json!({"prefix": (!p.is_empty()).then_some(p), "name": n, "value": v}))
                .collect(),
        );
        put(
            "attributes",
            u.attributes
                .iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect(),
        );
        put(
            "oidcIds",
            u.oidc
                .iter()
                .map(|(i, s)| json!({"issuer": i, "subject": s}))
                .collect(),
        );
        put(
            "samlIds",
            u.saml
                .iter()
                .map(|(i, s, a)| json!({"idpId": i, "userId": s, "attributeId": a}))
                .collect(),
        );
        put(
            "sshKeys",
            u.ssh
                .iter()
                .map(|(d, v, f, p)| {
                    let mut k = json!({"primary": p, "value": v, "fingerprint": f,
                                       "created": iso(u.created), "lastModified": iso(u.created)});
                    if let Some(d) = d {
                        k["display"] = json!(d);
                    }
                    k
                })
                .collect(),
        );
        put(
            "certificates",
            u.certs
                .iter()
                .map(|(label, subject, issuer, pem, proxy)| {
                    let mut c = json!({"primary": true, "subjectDn": subject, "issuerDn": issuer,
                                       "pemEncodedCertificate": pem.unwrap_or_default(),
                                       "created": iso(u.created), "lastModified": iso(u.created),
                                       "hasProxyCertificate": proxy.is_some(), "display": label});
                    if let Some(t) = proxy {
                        c["proxyExpirationTime"] = json!(iso(*t));
                    }
                    c
                })
                .collect(),
        );
        let managed = u
            .manages
            .iter()
            .map(|g| format!("ROLE_GM:{}", GROUPS[*g].uuid));
        let authorities: Vec<String> = u
            .authorities
            .iter()
            .map(|a| a.to_string())
            .chain(managed)
            .collect();
        put(
            "authorities",
            authorities.into_iter().map(Json::from).collect(),
        );
        put(
            "managedGroups",
            u.manages.iter().map(|g| group_ref(&GROUPS[*g])).collect(),
        );
        let mut j = json!({
            "id": u.uuid,
            "meta": {"resourceType": "User", "created": iso(u.created),
                     "lastModified": iso(u.modified),
                     "location": format!("https://iam.test/scim/Users/{}", u.uuid)},
            "schemas": USER_TYPE.schema_ids(),
            "userName": u.username,
            "name": {"givenName": u.given, "familyName": u.family,
                     "formatted": format!("{} {}", u.given, u.family)},
            "displayName": u.username,
            "active": !u.inactive,
            "emails": [{"type": "work", "value": u.email, "primary": true}],
            INDIGO_USER: indigo,
        });
        if !u.groups.is_empty() {
            j["groups"] = u.groups.iter().map(|g| group_ref(&GROUPS[*g])).collect();
        }
        if let Some(p) = &u.profile {
            for (key, value) in [
                ("nickName", p.nick),
                ("profileUrl", p.url),
                ("locale", p.locale),
                ("timezone", p.timezone),
            ] {
                if let Some(v) = value {
                    j[key] = json!(v);
                }
            }
            if let Some(picture) = p.picture {
                j["photos"] = json!([{"value": picture, "type": "photo"}]);
            }
            if let Some(a) = p.address {
                let keys = [
                    "formatted",
                    "streetAddress",
                    "locality",
                    "region",
                    "postalCode",
                    "country",
                ];
                let address: Map<String, Json> = keys
                    .iter()
                    .zip(a)
                    .filter_map(|(k, v)| v.map(|v| (k.to_string(), json!(v))))
                    .collect();
                j["addresses"] = json!([address]);
            }
        }
        j
    }

    /// `group_json` for the fixture's groups, with the members it leaves out.
    fn group_json(i: usize, users: &[U]) -> Json {
        let g = &GROUPS[i];
        let members: Vec<Json> = users
            .iter()
            .filter(|u| u.groups.contains(&i))
            .map(|u| {
                json!({"value": u.uuid, "display": format!("{} {}", u.given, u.family),
                            "$ref": format!("https://iam.test/scim/Users/{}", u.uuid)})
            })
            .collect();
        json!({
            "id": g.uuid,
            "meta": {"resourceType": "Group", "created": iso(g.created),
                     "lastModified": iso(g.created),
                     "location": format!("https://iam.test/scim/Groups/{}", g.uuid)},
            "schemas": GROUP_TYPE.schema_ids(),
            "displayName": g.name,
            "members": members,
            INDIGO_GROUP: {"parentGroup": g.parent.map(|p| group_ref(&GROUPS[p])),
                           "description": g.description, "labels": null},
        })
    }

    fn select(conn: &Connection, from: &str, sql: &Sql) -> Vec<String> {
        let (uuid, id) = if from.ends_with(" a") {
            ("a.uuid", "a.id")
        } else {
            ("g.uuid", "g.id")
        };
        let q = format!("SELECT {uuid} FROM {from} WHERE {} ORDER BY {id}", sql.sql);
        let mut stmt = conn.prepare(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
        stmt.query_map(params_from_iter(sql.params.iter()), |r| r.get(0))
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .collect::<crate::store::sql::Result<_>>()
            .unwrap()
    }

    fn evaluated(f: &Filter, t: &ResourceType, resources: &[(String, Json)]) -> Vec<String> {
        let exact = |p: &AttrPath| {
            t.resolve(p.urn.as_deref(), &p.name, p.sub.as_deref())
                .and_then(query::compared)
                .is_some_and(|r| r.leaf().case_exact)
        };
        resources
            .iter()
            .filter(|(_, j)| f.matches(j, &exact))
            .map(|(id, _)| id.clone())
            .collect()
    }

    const IU: &str = "urn:indigo-dc:scim:schemas:IndigoUser:";
    const IG: &str = "urn:indigo-dc:scim:schemas:IndigoGroup:";

    #[test]
    fn users_selected_in_sql_are_those_the_evaluator_matches() {
        let (conn, users) = stored();
        let rendered: Vec<(String, Json)> = users
            .iter()
            .map(|u| (u.uuid.to_string(), user_json(u)))
            .collect();
        let filters = [
            r#"userName eq "alice""#,
            r#"userName eq "ALICE""#,
            r#"displayName eq "ALICE""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "eve""#,
            r#"emails.value eq "alice@example.org""#,
            r#"emails eq "ALICE@CERN.CH""#,
            r#"emails[type eq "work" and value co "@cern"]"#,
            r#"emails[type eq "home"]"#,
            r#"emails.primary eq true and emails.type ne "work""#,
            r#"emails.value ew ".ORG""#,
            r#"emails.value co "e\"ve""#,
            r#"name.familyName eq "liddell""#,
            r#"name.familyName co "IDD""#,
            r#"name.familyName co "o'b""#,
            r#"name.familyName co "h_j""#,
            r#"name.givenName co "li""#,
            r#"name.formatted sw "alice l""#,
            r#"name.formatted ew "CRUZ""#,
            r#"name[givenName eq "david" or familyName sw "smi"]"#,
            r#"userName co "_50%""#,
            r#"userName sw "carol_""#,
            r#"userName co "a%""#,
            r#"userName co "l_5" or userName ew "%""#,
            r#"userName co """#,
            r#"userName gt "b""#,
            r#"displayName lt "B""#,
            r#"userName ge "dave" and userName le "eve""#,
            r#"(userName eq "alice" or userName eq "dave") and not (name.givenName eq "david")"#,
            r#"id eq "u4-da5e""#,
            r#"id co "da5""#,
            r#"id sw "U4""#,
            "active eq false",
            "active ne true",
            "name pr and meta pr and emails pr",
            r#"meta.resourceType eq "User""#,
            r#"meta.resourceType eq "user""#,
            r#"meta.created gt "2026-01-10T00:00:00.000Z""#,
            r#"meta.created ge "2026-01-10T00:00:00.000Z""#,
            r#"meta.lastModified lt "2026-01-31T10:00:00.001Z""#,
            r#"meta.lastModified eq "2026-02-01T12:30:00.250Z""#,
            r#"meta.lastModified ne "2026-02-01T12:30:00.250Z""#,
            r#"nickName pr"#,
            r#"nickName ne "ali""#,
            r#"nickName eq null"#,
            r#"nickName co """#,
            r#"nickName lt "b""#,
            r#"locale eq "FR" or timezone sw "europe""#,
            "profileUrl pr",
            "photos pr",
            "photos.value pr",
            r#"photos eq "https://pics/alice.png""#,
            r#"photos[type eq "photo"]"#,
            "addresses pr",
            r#"addresses.locality eq "geneva""#,
            r#"addresses[country eq "CH" and locality sw "Gen"]"#,
            r#"addresses.region ne "x""#,
            r#"groups eq "g1-atlas""#,
            r#"groups.display sw "atlas""#,
            r#"groups.display ne "atlas""#,
            r#"not (groups.display eq "atlas")"#,
            "groups pr",
            "groups eq null",
        ];
        let extension = [
            r#"serviceAccount eq true"#,
            r#"endTime pr"#,
            r#"endTime eq null"#,
            r#"endTime le "2030-01-01T00:00:00.000Z""#,
            r#"endTime ne "2027-01-01T00:00:00.000Z""#,
            r#"oidcIds.subject eq "sub-2""#,
            r#"oidcIds[issuer eq "https://iss.b" and subject eq "SUB-2"]"#,
            r#"oidcIds[issuer eq "https://iss.a" and subject eq "SUB-2"]"#,
            r#"oidcIds[not (issuer eq "https://iss.a")]"#,
            "oidcIds pr",
            "oidcIds eq null",
            r#"oidcIds.subject ne "sub-1""#,
            r#"oidcIds.subject ne "sub-2""#,
            r#"samlIds[idpId eq "idp-1" and userId eq "carol"]"#,
            r#"sshKeys[primary eq true]"#,
            r#"sshKeys[primary ne true]"#,
            "sshKeys.display pr",
            r#"sshKeys eq "ssh-rsa BBBB""#,
            r#"sshKeys.created ge "2026-01-10T00:00:00.000Z""#,
            "certificates.pemEncodedCertificate pr",
            "certificates.display pr",
            "certificates[hasProxyCertificate eq false]",
            r#"certificates.subjectDn sw "CN=Bob""#,
            r#"certificates.proxyExpirationTime gt "2026-01-01T00:00:00.000Z""#,
            r#"labels[name eq "vip" and value pr]"#,
            "labels.prefix pr",
            r#"labels eq "OPS""#,
            r#"labels eq "ops""#,
            r#"attributes[name eq "dept" and not (value pr)]"#,
            r#"attributes.value co "phys""#,
            r#"authorities eq "ROLE_ADMIN""#,
            r#"authorities sw "ROLE_GM:""#,
            r#"authorities ne "ROLE_USER""#,
            r#"managedGroups.display eq "atlas""#,
            "managedGroups pr",
        ];
        let all = filters
            .iter()
            .map(|f| f.to_string())
            .chain(extension.iter().map(|f| format!("{IU}{f}")))
            .collect::<Vec<_>>();
        let mut proper = 0;
        for text in &all {
            let f = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let sql = user_condition(&f, Dialect::Sqlite).unwrap_or_else(|e| panic!("{text}: {e}"));
            let got = select(&conn, "accounts a", &sql);
            let want = evaluated(&f, &USER_TYPE, &rendered);
            assert_eq!(got, want, "{text}\n{}", sql.sql);
            if !got.is_empty() && got.len() < users.len() {
                proper += 1;
            }
        }
        assert!(
            proper > all.len() * 2 / 3,
            "too few filters tell users apart"
        );
    }

    #[test]
    fn datetimes_compare_as_instants() {
        let (conn, _) = stored();
        for (text, want) in [
            (
                r#"meta.created gt "2026-01-10T01:00:00+01:00""#,
                &["u2-b0b", "u4-da5e", "u5-e0e"][..],
            ),
            (
                r#"meta.created eq "2026-01-10T01:00:00+01:00""#,
                &["u1-5a1c"],
            ),
            (r#"meta.created eq "2026-01-10T00:00:00Z""#, &["u1-5a1c"]),
            // Between two milliseconds: equal to none, after the earlier one.
            (r#"meta.created eq "2026-01-10T00:00:00.0005Z""#, &[]),
            (
                r#"meta.created le "2026-01-10T00:00:00.0005Z""#,
                &["u1-5a1c", "u3-ca401"],
            ),
            (
                r#"meta.created lt "2026-01-10T00:00:00.0005Z""#,
                &["u1-5a1c", "u3-ca401"],
            ),
            (
                r#"meta.created ge "2026-01-09T23:59:59.9995Z" and meta.created lt "2026-01-11T00:00:00Z""#,
                &["u1-5a1c"],
            ),
            (
                r#"meta.created gt "2026-01-09T23:59:59.9995Z" and meta.created lt "2026-01-11T00:00:00Z""#,
                &["u1-5a1c"],
            ),
        ] {
            let sql = user_condition(&parse(text).unwrap(), Dialect::Sqlite).unwrap();
            assert_eq!(select(&conn, "accounts a", &sql), want, "{text}");
        }
    }

    #[test]
    fn groups_selected_in_sql_are_those_the_evaluator_matches() {
        let (conn, users) = stored();
        let rendered: Vec<(String, Json)> = (0..GROUPS.len())
            .map(|i| (GROUPS[i].uuid.to_string(), group_json(i, &users)))
            .collect();
        let filters = [
            r#"displayName eq "atlas""#,
            r#"displayName eq "ATLAS""#,
            r#"displayName sw "atlas""#,
            r#"displayName co "/""#,
            r#"id eq "g3-cms" or id eq "g1-atlas""#,
            r#"meta.created lt "2026-01-01T00:00:00.001Z""#,
            r#"meta.lastModified ge "2026-01-01T00:00:00.001Z""#,
            r#"members eq "u1-5a1c""#,
            r#"members[display co "o'brien"]"#,
            "members pr",
            r#"not (members.value eq "u3-ca401")"#,
            r#"members.display ne "Alice Liddell""#,
            &format!(r#"{IG}parentGroup.value eq "g1-atlas""#),
            &format!("{IG}parentGroup pr"),
            &format!(r#"{IG}parentGroup.display ne "atlas""#),
            &format!(r#"{IG}parentGroup[display eq "atlas" and value sw "g1"]"#),
            &format!("{IG}description pr"),
            &format!("{IG}description eq null"),
            &format!(r#"{IG}description eq "production""#),
            &format!("{IG}labels pr"),
            &format!(r#"{IG}labels.name ne "x""#),
            &format!(r#"{IG}labels[name eq "x"]"#),
        ];
        for text in filters {
            let f = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let sql =
                group_condition(&f, Dialect::Sqlite).unwrap_or_else(|e| panic!("{text}: {e}"));
            let got = select(&conn, "groups g", &sql);
            assert_eq!(
                got,
                evaluated(&f, &GROUP_TYPE, &rendered),
                "{text}\n{}",
                sql.sql
            );
        }
    }

    /// Every path of a resource type: each attribute of its schemas and of COMMON, with
    /// and without each sub-attribute; core attributes with and without their URN.
    fn all_paths(t: &ResourceType) -> Vec<AttrPath> {
        let mut out = Vec::new();
        let mut add = |urn: Option<&str>, a: &schema::Attribute| {
            let base = AttrPath {
                urn: urn.map(str::to_string),
                ..AttrPath::new(a.name)
            };
            out.push(base.clone());
            for s in a.sub_attributes {
                out.push(base.clone().with_sub(s.name));
            }
        };
        for a in schema::COMMON {
            add(None, a);
        }
        for a in t.schema.attributes {
            add(None, a);
            add(Some(t.schema.id), a);
        }
        for s in t.extensions {
            for a in s.attributes {
                add(Some(s.id), a);
            }
        }
        out
    }

    /// Comparisons fitting a path's type (what `check` accepts).
    fn comparisons(path: &AttrPath, t: &ResourceType) -> Vec<Filter> {
        let r = t
            .resolve(path.urn.as_deref(), &path.name, path.sub.as_deref())
            .unwrap();
        let compare = |op, value: Json| Filter::Compare {
            path: path.clone(),
            op,
            value,
        };
        let mut out = vec![
            compare(CompareOp::Eq, Json::Null),
            compare(CompareOp::Ne, Json::Null),
        ];
        match query::compared(r).map(|r| r.leaf().kind) {
            Some(Kind::Boolean) => {
                out.push(compare(CompareOp::Eq, json!(true)));
                out.push(compare(CompareOp::Ne, json!(false)));
            }
            Some(Kind::DateTime) => {
                for op in CompareOp::ALL.into_iter().filter(|op| !op.is_substring()) {
                    out.push(compare(op, json!("2026-01-31T10:00:00.5Z")));
                }
            }
            Some(_) => {
                for op in CompareOp::ALL {
                    out.push(compare(op, json!("a%b_c")));
                }
            }
            None => {}
        }
        if r.sub.is_none() && r.attribute.kind == Kind::Complex {
            let inner = r.attribute.sub_attributes[0];
            out.push(Filter::ValuePath {
                path: path.clone(),
                filter: Box::new(Filter::Not(Box::new(Filter::Present(AttrPath::new(
                    inner.name,
                ))))),
            });
        }
        out
    }

    #[test]
    fn every_filterable_and_sortable_path_translates_and_runs() {
        let (conn, _) = stored();
        type Condition = fn(&Filter, Dialect) -> Result<Sql, String>;
        type Order = fn(&AttrPath, bool) -> Result<String, String>;
        let kinds: [(&ResourceType, Condition, Order, &str); 2] = [
            (&USER_TYPE, user_condition, user_order, "accounts a"),
            (&GROUP_TYPE, group_condition, group_order, "groups g"),
        ];
        for (t, condition, order, from) in kinds {
            let (mut filterable, mut sortable) = (0, 0);
            for path in all_paths(t) {
                let present = Filter::Present(path.clone());
                if query::check(&present, t).is_ok() {
                    filterable += 1;
                    for f in std::iter::once(present).chain(comparisons(&path, t)) {
                        match query::check(&f, t) {
                            Ok(()) => {
                                let sql = condition(&f, Dialect::Sqlite)
                                    .unwrap_or_else(|e| panic!("{f}: {e}"));
                                select(&conn, from, &sql);
                                let negated = Filter::Not(Box::new(f.clone()));
                                select(&conn, from, &condition(&negated, Dialect::Sqlite).unwrap());
                            }
                            Err(e) => assert_eq!(condition(&f, Dialect::Sqlite), Err(e)),
                        }
                    }
                } else {
                    assert!(condition(&present, Dialect::Sqlite).is_err(), "{path}");
                }
                match query::check_sort(&path, t) {
                    Ok(()) => {
                        sortable += 1;
                        for descending in [false, true] {
                            let by = order(&path, descending)
                                .unwrap_or_else(|e| panic!("sortBy={path}: {e}"));
                            let q = format!("SELECT 1 FROM {from} ORDER BY {by}");
                            conn.prepare(&q)
                                .and_then(|mut s| s.for_each([], |_| Ok(())))
                                .unwrap_or_else(|e| panic!("{q}: {e}"));
                        }
                    }
                    Err(e) => assert_eq!(order(&path, false), Err(e)),
                }
            }
            assert!(filterable > 10 && sortable > 5, "{filterable} {sortable}");
        }
    }

    #[test]
    fn sort_orders() {
        let (conn, _) = stored();
        let order = |p: &str, desc| user_order(&AttrPath::parse(p).unwrap(), desc).unwrap();
        assert_eq!(
            order("name.familyName", true),
            "lower(a.family_name) DESC, a.id DESC"
        );
        assert_eq!(order("userName", false), "a.username ASC, a.id ASC");
        assert_eq!(order("meta.resourceType", false), "a.id ASC");
        let uuids = |by: String| -> Vec<String> {
            let q = format!("SELECT a.uuid FROM accounts a ORDER BY {by}");
            let mut s = conn.prepare(&q).unwrap();
            s.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<crate::store::sql::Result<_>>()
                .unwrap()
        };
        // Unassigned last ascending, first descending.
        assert_eq!(
            uuids(order("nickName", false)),
            ["u1-5a1c", "u2-b0b", "u3-ca401", "u4-da5e", "u5-e0e"]
        );
        assert_eq!(
            uuids(order("locale", false)),
            ["u1-5a1c", "u4-da5e", "u2-b0b", "u3-ca401", "u5-e0e"]
        );
        assert_eq!(
            uuids(order("locale", true)),
            ["u5-e0e", "u3-ca401", "u2-b0b", "u4-da5e", "u1-5a1c"]
        );
        assert_eq!(
            uuids(order("emails", false)),
            ["u1-5a1c", "u2-b0b", "u3-ca401", "u4-da5e", "u5-e0e"]
        );
        let by = group_order(
            &AttrPath::parse(&format!("{IG}parentGroup.display")).unwrap(),
            false,
        )
        .unwrap();
        let q = format!("SELECT g.uuid FROM groups g ORDER BY {by}");
        let got: Vec<String> = conn
            .prepare(&q)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<crate::store::sql::Result<_>>()
            .unwrap();
        assert_eq!(got, ["g2-prod", "g1-atlas", "g3-cms"]);
        assert!(user_order(&AttrPath::parse("groups.display").unwrap(), false).is_err());
    }

    #[test]
    fn parameters_are_anonymous_and_never_in_the_text() {
        let f = parse(r#"userName eq "x') OR 1=1 --" or name.familyName ew "abc""#).unwrap();
        let sql = user_condition(&f, Dialect::Sqlite).unwrap();
        assert!(
            !sql.sql.contains("1=1") && !sql.sql.contains("abc"),
            "{}",
            sql.sql
        );
        assert_eq!(sql.sql.matches('?').count(), sql.params.len());
        assert!(!sql.sql.contains("?1"));
    }

    #[test]
    fn hot_filters_use_indexes() {
        let (conn, _) = stored();
        let plan = |text: &str, t: &ResourceType| -> String {
            let f = parse(text).unwrap();
            let (sql, from) = if std::ptr::eq(t, &USER_TYPE) {
                (user_condition(&f, Dialect::Sqlite).unwrap(), "accounts a")
            } else {
                (group_condition(&f, Dialect::Sqlite).unwrap(), "groups g")
            };
            let q = format!("EXPLAIN QUERY PLAN SELECT 1 FROM {from} WHERE {}", sql.sql);
            let mut stmt = conn.prepare(&q).unwrap();
            let rows: Vec<String> = stmt
                .query_map(params_from_iter(sql.params.iter()), |r| r.get::<String>(3))
                .unwrap()
                .collect::<crate::store::sql::Result<_>>()
                .unwrap();
            rows.join("\n")
        };
        // `SCAN accounts_search` is the trigram index's own access.
        let scans = |plan: &str, alias: &str| {
            plan.lines().any(|l| {
                l.trim() == format!("SCAN {alias}")
                    || l.trim().starts_with(&format!("SCAN {alias} "))
            })
        };
        for text in [
            r#"userName eq "alice""#,
            r#"emails.value eq "Alice@cern.ch""#,
            r#"emails eq "Alice@cern.ch""#,
            r#"id eq "u1-5a1c""#,
            r#"name.familyName eq "liddell""#,
            r#"name.givenName eq "alice""#,
            r#"displayName eq "alice""#,
            r#"meta.lastModified gt "2026-01-31T10:00:00Z""#,
            r#"meta.created gt "2026-01-31T10:00:00Z""#,
            &format!(r#"{IU}oidcIds.subject eq "sub-1""#),
            &format!(r#"{IU}oidcIds[issuer eq "https://iss.a" and subject eq "sub-1"]"#),
            &format!(r#"{IU}samlIds.userId eq "carol""#),
            r#"groups.value eq "g1-atlas""#,
        ] {
            let p = plan(text, &USER_TYPE);
            assert!(
                (p.contains("USING INDEX")
                    || p.contains("USING COVERING INDEX")
                    || p.contains("USING INTEGER PRIMARY KEY"))
                    && !scans(&p, "a"),
                "{text}:\n{p}"
            );
        }
        for text in [
            r#"name.familyName co "iddel""#,
            r#"userName sw "ali""#,
            r#"emails.value ew "cern.ch""#,
        ] {
            let p = plan(text, &USER_TYPE);
            // `INDEX 0:` alone would be a scan of the virtual table.
            assert!(
                p.contains("VIRTUAL TABLE INDEX 0:L") && !scans(&p, "a"),
                "{text}:\n{p}"
            );
        }
        for text in [
            r#"displayName eq "atlas""#,
            r#"id eq "g1-atlas""#,
            r#"meta.lastModified gt "2026-01-31T10:00:00Z""#,
        ] {
            let p = plan(text, &GROUP_TYPE);
            assert!(p.contains("INDEX") && !scans(&p, "g"), "{text}:\n{p}");
        }
    }
}
