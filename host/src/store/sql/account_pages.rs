//! The lists and pages of users: search, the `find` queries (by label, group membership,
//! authority), group members and the users listing, and the completion of a page of
//! accounts into users, each part read for the whole page at once.

use super::Value;
use super::{Connection, Dialect, Row, params};

use super::accounts::{COLUMNS, account_from_row};
use super::positions::{self, Order};
use super::scim_sql::Sql;
use super::sql_int;
use crate::contract::types::{Account, AccountOrder, GroupRef, LabelFilter, User};

/// The groups accounts are direct members of, ordered by name (see `super::per_account`).
const GROUPS_OF_ACCOUNTS: &str = "SELECT g.uuid, g.name, a.uuid FROM memberships m
     JOIN accounts a ON a.id = m.account_id JOIN groups g ON g.id = m.group_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY g.name";

/// The groups accounts manage (hold `ROLE_GM:<uuid>` of), ordered by name.
const MANAGED_BY_ACCOUNTS: &str = "SELECT g.uuid, g.name, a.uuid FROM account_authorities aa
     JOIN accounts a ON a.id = aa.account_id
     JOIN authorities au ON au.id = aa.authority_id
     JOIN groups g ON g.id = au.group_id
     WHERE a.uuid IN (SELECT value FROM json_each(?1)) ORDER BY g.name";

fn group_ref_from_row(r: &Row) -> super::Result<GroupRef> {
    Ok(GroupRef {
        id: r.get(0)?,
        name: r.get(1)?,
    })
}

/// One account's rows of a [`super::per_account`] result.
fn take<T>(rows: &mut std::collections::HashMap<String, Vec<T>>, id: &str) -> Vec<T> {
    rows.remove(id).unwrap_or_default()
}

/// Accounts with everything a SCIM user may show, each part read for all of them at once.
pub(super) fn complete_all(conn: &Connection, accounts: Vec<Account>) -> super::Result<Vec<User>> {
    use super::{attributes, authorities, identities, labels, profiles};
    use std::collections::HashMap;
    let ids: Vec<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    let ids = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    // Each query's last column is the account's uuid; all ten go out together.
    let parts = [
        profiles::OF_ACCOUNTS,
        GROUPS_OF_ACCOUNTS,
        labels::OF_ACCOUNTS,
        attributes::OF_ACCOUNTS,
        authorities::OF_ACCOUNTS,
        MANAGED_BY_ACCOUNTS,
        identities::OIDC_OF_ACCOUNTS,
        identities::SAML_OF_ACCOUNTS,
        identities::SSH_OF_ACCOUNTS,
        identities::CERTIFICATES_OF_ACCOUNTS,
    ];
    fn add<T>(map: &mut HashMap<String, Vec<T>>, uuid: String, value: T) {
        map.entry(uuid).or_default().push(value);
    }
    let (mut profile, mut groups, mut labels, mut attrs, mut auths) = Default::default();
    let (mut managed, mut oidc, mut saml, mut ssh, mut certs) = Default::default();
    conn.for_each_of(&parts, [ids], |part, r| {
        let uuid: String = r.get(r.column_count() - 1)?;
        match part {
            0 => add(&mut profile, uuid, profiles::from_row(r)?),
            1 => add(&mut groups, uuid, group_ref_from_row(r)?),
            2 => add(&mut labels, uuid, labels::from_row(r)?),
            3 => add(&mut attrs, uuid, attributes::from_row(r)?),
            4 => add(&mut auths, uuid, r.get::<String>(0)?),
            5 => add(&mut managed, uuid, group_ref_from_row(r)?),
            6 => add(&mut oidc, uuid, identities::oidc_from_row(r)?),
            7 => add(&mut saml, uuid, identities::saml_from_row(r)?),
            8 => add(&mut ssh, uuid, identities::ssh_from_row(r)?),
            _ => add(&mut certs, uuid, identities::certificate_from_row(r)?),
        }
        Ok(())
    })?;
    Ok(accounts
        .into_iter()
        .map(|account| {
            let id = account.id.as_str();
            User {
                profile: take(&mut profile, id).pop().unwrap_or_else(profiles::empty),
                groups: take(&mut groups, id),
                labels: take(&mut labels, id),
                attributes: take(&mut attrs, id),
                authorities: take(&mut auths, id),
                managed_groups: take(&mut managed, id),
                oidc_ids: take(&mut oidc, id),
                saml_ids: take(&mut saml, id),
                ssh_keys: take(&mut ssh, id),
                certificates: take(&mut certs, id),
                account,
            }
        })
        .collect())
}

/// The accounts matching a search filter, `?1` the filter wrapped in `%`. The filter's own
/// `%` and `_` stay wildcards, as in INDIGO IAM; matching ignores case. Each field is
/// matched through a trigram index (SQLite: the FTS table `accounts_search`; PostgreSQL:
/// pg_trgm indexes on the columns), which reads only candidate rows when the filter has
/// three characters in a row.
fn matching(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => {
            "a.id IN (
                SELECT rowid FROM accounts_search WHERE email LIKE ?1
                UNION SELECT rowid FROM accounts_search WHERE username LIKE ?1
                UNION SELECT rowid FROM accounts_search WHERE uuid LIKE ?1
                UNION SELECT rowid FROM accounts_search WHERE full_name LIKE ?1)"
        }
        Dialect::Postgres => {
            "(a.email LIKE ?1 OR a.username LIKE ?1 OR a.uuid LIKE ?1
              OR (a.given_name || ' ' || a.family_name) LIKE ?1)"
        }
    }
}

/// The `WHERE` clause of a search and its parameter: none without a filter, so that the
/// sort order's index can serve the page directly.
fn search_condition(dialect: Dialect, filter: Option<&str>) -> (String, Vec<Value>) {
    match like_pattern(dialect, filter) {
        Some(p) => (format!("WHERE {}", matching(dialect)), vec![Value::Text(p)]),
        None => (String::new(), Vec::new()),
    }
}

/// The filter wrapped in `%`, its own `%` and `_` wildcards. A backslash is a character
/// like any other, as in SQLite: PostgreSQL's `LIKE` would read it as an escape.
fn like_pattern(dialect: Dialect, filter: Option<&str>) -> Option<String> {
    filter.map(|f| {
        let f = match dialect {
            Dialect::Sqlite => f.to_string(),
            Dialect::Postgres => f.replace('\\', "\\\\"),
        };
        super::bounded_like(format!("%{f}%"), true)
    })
}

pub fn count_matching(conn: &Connection, filter: Option<&str>) -> super::Result<u64> {
    if filter.is_none() {
        return super::accounts::count(conn);
    }
    let (condition, args) = search_condition(conn.dialect(), filter);
    conn.prepare_cached(&format!("SELECT count(*) FROM accounts a {condition}"))?
        .query_row(super::params_from_iter(args), |r| r.get(0))
}

pub fn search(
    conn: &Connection,
    filter: Option<&str>,
    order: AccountOrder,
    descending: bool,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<User>> {
    let order = match order {
        AccountOrder::Name => Order::Name,
        AccountOrder::Email => Order::Email,
        AccountOrder::Creation => Order::Creation,
    };
    if filter.is_none()
        && let Some(ids) = positions::page_ids(conn, order, descending, offset, limit)?
    {
        return complete_all(conn, by_ids(conn, &ids)?);
    }
    let dir = if descending { "DESC" } else { "ASC" };
    let (condition, mut args) = search_condition(conn.dialect(), filter);
    let n = args.len();
    args.extend([
        Value::Integer(sql_int(limit)),
        Value::Integer(sql_int(offset)),
    ]);
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM accounts a {condition}
             ORDER BY {} LIMIT ?{} OFFSET ?{}",
            order.order_by(0, dir),
            n + 1,
            n + 2
        ))?
        .query_map(super::params_from_iter(args), account_from_row)?
        .collect::<super::Result<_>>()?;
    complete_all(conn, accounts)
}

/// The accounts with these ids, in the order given.
fn by_ids(conn: &Connection, ids: &[i64]) -> super::Result<Vec<Account>> {
    let list = serde_json::to_string(ids).expect("a list of integers is JSON");
    let ids = match conn.dialect() {
        Dialect::Sqlite => "json_each(?1) j JOIN accounts a ON a.id = j.value ORDER BY j.key",
        Dialect::Postgres => {
            "json_array_elements_text(CAST(?1 AS json)) WITH ORDINALITY j(value, key)
             JOIN accounts a ON a.id = CAST(j.value AS BIGINT) ORDER BY j.key"
        }
    };
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM {ids}"))?
        .query_map([list], account_from_row)?
        .collect()
}

/// `?1` name, `?2` prefix (NULL: any), `?3` value (NULL: any); the empty prefix is "none".
const WITH_LABEL: &str = "EXISTS (SELECT 1 FROM labels l WHERE l.account_id = a.id AND l.name = ?1
                           AND (CAST(?2 AS TEXT) IS NULL OR l.prefix = ?2)
                           AND (CAST(?3 AS TEXT) IS NULL OR l.value = ?3))";

pub fn count_with_label(conn: &Connection, f: &LabelFilter) -> super::Result<u64> {
    conn.prepare_cached(&format!(
        "SELECT count(*) FROM accounts a WHERE {WITH_LABEL}"
    ))?
    .query_row(params![f.name, f.prefix, f.value], |r| r.get(0))
}

pub fn with_label(
    conn: &Connection,
    f: &LabelFilter,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<User>> {
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM accounts a WHERE {WITH_LABEL} ORDER BY a.username LIMIT ?4 OFFSET ?5"
        ))?
        .query_map(params![f.name, f.prefix, f.value, sql_int(limit), sql_int(offset)], account_from_row)?
        .collect::<super::Result<_>>()?;
    complete_all(conn, accounts)
}

/// The accounts of `find/bygroup` (`member`) or `find/notingroup`, as `FROM ... WHERE ...`:
/// `?1` group UUID, `?2` filter (NULL: none), `?3` it in `%`; the group condition AND the
/// filter (docs/api.md §3.4). Members are read through their memberships in username
/// order (an index per group); non-members by elimination.
fn in_group_from(member: bool) -> &'static str {
    if member {
        "memberships m JOIN accounts a ON a.id = m.account_id
         WHERE m.group_id = (SELECT id FROM groups WHERE uuid = ?1)
           AND (CAST(?2 AS TEXT) IS NULL OR a.email LIKE ?3 OR a.username LIKE ?3
                OR (a.given_name || ' ' || a.family_name) LIKE ?3)"
    } else {
        "accounts a
         WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id
                             AND m.group_id = (SELECT id FROM groups WHERE uuid = ?1))
           AND (CAST(?2 AS TEXT) IS NULL OR a.email LIKE ?3 OR a.username LIKE ?3
                OR (a.given_name || ' ' || a.family_name) LIKE ?3)"
    }
}

/// The group of `?1`'s memberships (`?1` its UUID).
const GROUP_ID: &str = "(SELECT id FROM groups WHERE uuid = ?1)";

pub fn count_in_group(
    conn: &Connection,
    group: &str,
    member: bool,
    filter: Option<&str>,
) -> super::Result<u64> {
    if member && filter.is_none() {
        // SQLite: the members' index alone, without visiting a single account. PostgreSQL
        // keeps the number on the group (migration 7): its count(*) is slower.
        let sql = match conn.dialect() {
            Dialect::Sqlite => {
                format!("SELECT count(*) FROM memberships WHERE group_id = {GROUP_ID}")
            }
            Dialect::Postgres => {
                "SELECT coalesce((SELECT member_count FROM groups WHERE uuid = ?1), 0)".to_string()
            }
        };
        return conn.prepare_cached(&sql)?.query_row([group], |r| r.get(0));
    }
    conn.prepare_cached(&format!("SELECT count(*) FROM {}", in_group_from(member)))?
        .query_row(
            params![group, filter, like_pattern(conn.dialect(), filter)],
            |r| r.get(0),
        )
}

pub fn in_group(
    conn: &Connection,
    group: &str,
    member: bool,
    filter: Option<&str>,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<User>> {
    if member && filter.is_none() {
        return members_of(conn, group, offset, limit);
    }
    let order = if member { "m.username" } else { "a.username" };
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM {} ORDER BY {order} LIMIT ?4 OFFSET ?5",
            in_group_from(member)
        ))?
        .query_map(
            params![
                group,
                filter,
                like_pattern(conn.dialect(), filter),
                sql_int(limit),
                sql_int(offset)
            ],
            account_from_row,
        )?
        .collect::<super::Result<_>>()?;
    complete_all(conn, accounts)
}

const WITH_AUTHORITY_NOCASE: &str = "EXISTS (SELECT 1 FROM account_authorities aa
                                      JOIN authorities au ON au.id = aa.authority_id
                                      WHERE aa.account_id = a.id AND lower(au.name) = lower(?1))";

pub fn count_with_authority_nocase(conn: &Connection, authority: &str) -> super::Result<u64> {
    conn.prepare_cached(&format!(
        "SELECT count(*) FROM accounts a WHERE {WITH_AUTHORITY_NOCASE}"
    ))?
    .query_row([authority], |r| r.get(0))
}

pub fn with_authority_nocase(
    conn: &Connection,
    authority: &str,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<User>> {
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM accounts a WHERE {WITH_AUTHORITY_NOCASE}
             ORDER BY a.username LIMIT ?2 OFFSET ?3"
        ))?
        .query_map(
            params![authority, sql_int(limit), sql_int(offset)],
            account_from_row,
        )?
        .collect::<super::Result<_>>()?;
    complete_all(conn, accounts)
}

pub fn members_of(
    conn: &Connection,
    group_uuid: &str,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<User>> {
    // The page is cut from the members' covering index first, so the entries skipped by
    // the offset never touch the accounts table.
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM (SELECT account_id, username FROM memberships
                                    WHERE group_id = {GROUP_ID}
                                    ORDER BY username LIMIT ?2 OFFSET ?3) m
             JOIN accounts a ON a.id = m.account_id
             ORDER BY m.username"
        ))?
        .query_map(
            params![group_uuid, sql_int(limit), sql_int(offset)],
            account_from_row,
        )?
        .collect::<super::Result<_>>()?;
    complete_all(conn, accounts)
}

pub fn with_authority(conn: &Connection, authority: &str) -> super::Result<Vec<User>> {
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM accounts a
             JOIN account_authorities aa ON aa.account_id = a.id
             JOIN authorities au ON au.id = aa.authority_id
             WHERE au.name = ?1 ORDER BY a.username"
        ))?
        .query_map([authority], account_from_row)?
        .collect::<super::Result<_>>()?;
    complete_all(conn, accounts)
}

/// The number of users a SCIM list query selects (`super::scim_sql` builds the condition).
pub fn count_users(conn: &Connection, condition: &Sql) -> super::Result<u64> {
    if condition.sql == "TRUE" {
        return super::accounts::count(conn);
    }
    conn.prepare_cached(&format!(
        "SELECT count(*) FROM accounts a WHERE {}",
        condition.sql
    ))?
    .query_row(super::params_from_iter(&condition.params), |r| r.get(0))
}

/// A page of the users a SCIM list query selects, in its order.
pub fn find_users(
    conn: &Connection,
    condition: &Sql,
    order: &str,
    offset: u64,
    limit: u64,
) -> super::Result<Vec<User>> {
    let mut params = condition.params.clone();
    params.extend([
        Value::Integer(sql_int(limit)),
        Value::Integer(sql_int(offset)),
    ]);
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM accounts a WHERE {} ORDER BY {order} LIMIT ? OFFSET ?",
            condition.sql
        ))?
        .query_map(super::params_from_iter(&params), account_from_row)?
        .collect::<super::Result<_>>()?;
    complete_all(conn, accounts)
}

pub fn list_users(conn: &Connection, offset: u64, limit: u64) -> super::Result<Vec<User>> {
    if let Some(ids) = positions::page_ids(conn, Order::Id, false, offset, limit)? {
        return complete_all(conn, by_ids(conn, &ids)?);
    }
    let accounts: Vec<Account> = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM accounts a ORDER BY a.id LIMIT ?1 OFFSET ?2"
        ))?
        .query_map(params![sql_int(limit), sql_int(offset)], account_from_row)?
        .collect::<super::Result<_>>()?;
    complete_all(conn, accounts)
}
