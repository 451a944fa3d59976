//! The SQL behind every domain trait of `store`, written once for both engines: one file
//! per domain implementing its trait for [`Connection`] (accounts in two: one account,
//! `accounts.rs`, and the lists and pages of users, `account_pages.rs`). [`driver`] is what
//! the queries see of a connection, whichever engine it belongs to.

mod account_pages;
mod accounts;
mod attributes;
mod audit;
mod authorities;
mod clients;
pub mod copy;
pub mod driver;
mod groups;
mod identities;
mod keys;
mod labels;
mod memberships;
mod positions;
mod profiles;
mod scim_sql;
mod throttle;
mod tokens;

pub use driver::{
    Connection, Dialect, Error, OptionalExtension, ParamList, Params, Result, Row, ToValue, Value,
    ValueRef, params, params_from_iter,
};

use super::{
    AccountStore, AttributeStore, AuditStore, AuthorityStore, ClientStore, GroupStore,
    IdentityStore, KeyStore, LabelStore, MembershipStore, MetaStore, ProfileStore, SchemaState,
    Store, StoreError, StoreResult, ThrottleStore, TokenStore, now_ms,
};

impl Store for Connection {
    fn accounts(&self) -> &dyn AccountStore {
        self
    }
    fn attributes(&self) -> &dyn AttributeStore {
        self
    }
    fn audit(&self) -> &dyn AuditStore {
        self
    }
    fn authorities(&self) -> &dyn AuthorityStore {
        self
    }
    fn clients(&self) -> &dyn ClientStore {
        self
    }
    fn groups(&self) -> &dyn GroupStore {
        self
    }
    fn identities(&self) -> &dyn IdentityStore {
        self
    }
    fn keys(&self) -> &dyn KeyStore {
        self
    }
    fn labels(&self) -> &dyn LabelStore {
        self
    }
    fn memberships(&self) -> &dyn MembershipStore {
        self
    }
    fn meta(&self) -> &dyn MetaStore {
        self
    }
    fn profiles(&self) -> &dyn ProfileStore {
        self
    }
    fn throttle(&self) -> &dyn ThrottleStore {
        self
    }
    fn tokens(&self) -> &dyn TokenStore {
        self
    }
}

/// A failure of the database is a store failure; contention (busy, or a lost race that a
/// new attempt cures) is told apart so the caller can retry or answer 503.
impl From<Error> for StoreError {
    fn from(e: Error) -> StoreError {
        match e {
            Error::Busy(m) => StoreError::busy(m),
            Error::Conflict(m) => StoreError::conflict(m),
            e => StoreError::other(e.to_string()),
        }
    }
}

/// Runs a per-account query for every account in `uuids` at once, and groups the rows by
/// account (in the query's order): one statement serves one account or a whole page of
/// them. The query selects the account's UUID (`a.uuid`) as its last column and picks the
/// accounts with `a.uuid IN (SELECT value FROM json_each(?1))`; `row` reads the other
/// columns.
pub fn per_account<T>(
    conn: &Connection,
    sql: &str,
    uuids: &[&str],
    row: impl Fn(&Row) -> Result<T>,
) -> Result<std::collections::HashMap<String, Vec<T>>> {
    let ids = serde_json::to_string(uuids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(sql)?;
    let last = stmt.column_count() - 1;
    let mut out: std::collections::HashMap<String, Vec<T>> = std::collections::HashMap::new();
    stmt.for_each([ids], |r| {
        let uuid: String = r.get(last)?;
        out.entry(uuid).or_default().push(row(r)?);
        Ok(())
    })?;
    Ok(out)
}

/// [`per_account`] for one account.
pub fn for_account<T>(
    conn: &Connection,
    sql: &str,
    uuid: &str,
    row: impl Fn(&Row) -> Result<T>,
) -> Result<Vec<T>> {
    Ok(per_account(conn, sql, &[uuid], row)?
        .remove(uuid)
        .unwrap_or_default())
}

/// Characters a LIKE pattern may need before it can match none of the fields it is used
/// on: names, e-mail addresses and UUIDs are validated to a few hundred characters.
const MAX_LIKE_CHARS: usize = 2048;

/// A LIKE pattern SQLite accepts (it refuses patterns over 50 000 bytes) that selects the
/// same rows: runs of `%` become one (when `wildcards`: the pattern's `%` are not escaped),
/// and a pattern needing more than [`MAX_LIKE_CHARS`] characters, which nothing stored can
/// match, becomes a short one that matches nothing either.
pub fn bounded_like(pattern: String, wildcards: bool) -> String {
    let mut out = String::with_capacity(pattern.len());
    for c in pattern.chars() {
        if wildcards && c == '%' && out.ends_with('%') {
            continue;
        }
        out.push(c);
    }
    if out.chars().filter(|c| *c != '%').count() > MAX_LIKE_CHARS {
        "_".repeat(MAX_LIKE_CHARS + 1)
    } else {
        out
    }
}

/// A page bound for SQL: SQLite integers are signed, and "everything" (`u64::MAX`) must
/// still mean everything.
pub fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl MetaStore for Connection {
    fn schema(&self) -> StoreResult<SchemaState> {
        match self.dialect() {
            Dialect::Sqlite => super::sqlite::schema_state(self),
            Dialect::Postgres => super::postgres::schema_state(self),
        }
    }

    fn get(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    fn set(&self, key: &str, value: &str) -> StoreResult<()> {
        self.prepare_cached(
            "INSERT INTO meta(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )?
        .execute([key, value])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_stay_within_sqlite_limits_and_keep_their_meaning() {
        assert_eq!(bounded_like("%%a%%%b%".into(), true), "%a%b%");
        assert_eq!(bounded_like("%\\%%".into(), false), "%\\%%");
        let huge = bounded_like(format!("%{}%", "a".repeat(60_000)), true);
        assert_eq!(huge, "_".repeat(2049));
        let wild = bounded_like("%".repeat(60_000), true);
        assert_eq!(wild, "%");
    }
}
