//! `iam-host db copy`: every row of every table from one database to another, whatever
//! their engines, and a checksum per table computed on both sides to show nothing was lost
//! or changed on the way.
//!
//! Tables are copied parents first, ids included (so every reference stays right), through
//! the columns both schemas have (PostgreSQL's `signing_keys.seq` is its own, numbered in
//! the order keys are inserted, which is the source's order). Tables and columns the schema
//! derives (SQLite's trigram index; the account-order version, PostgreSQL's account count
//! and group member counts) are rebuilt by the target's triggers, not copied.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::{Connection, Dialect, Result, Value, params_from_iter};

/// The tables copied, each after those it refers to.
pub const TABLES: &[&str] = &[
    "meta",
    "signing_keys",
    "accounts",
    "groups",
    "memberships",
    "authorities",
    "account_authorities",
    "attributes",
    "labels",
    "group_labels",
    "group_attributes",
    "certificates",
    "oidc_ids",
    "saml_ids",
    "ssh_keys",
    "account_profiles",
    "clients",
    "client_owners",
    "refresh_tokens",
    "revoked_tokens",
    "throttle_records",
    "audit_events",
];

/// Columns a schema derives from other rows, kept by its triggers: never copied (the
/// target's triggers count as the rows arrive) nor compared.
const DERIVED: &[(&str, &str)] = &[("groups", "member_count")];

/// Tables whose rows make a database "in use": a copy refuses to overwrite them unless
/// told to.
const CONTENT: &[&str] = &["accounts", "groups", "clients", "signing_keys"];

/// What was copied: per table, the rows and their checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSum {
    pub table: &'static str,
    pub rows: u64,
    /// SHA-256 over the sorted digests of the rows (hex).
    pub checksum: String,
}

/// The rows of the tables that make a database in use, as `(table, rows)` with rows > 0.
pub fn content(conn: &Connection) -> Result<Vec<(&'static str, u64)>> {
    let mut found = Vec::new();
    for table in CONTENT {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        if n > 0 {
            found.push((*table, n as u64));
        }
    }
    Ok(found)
}

/// Replaces the target's rows of every table with the source's, in one transaction of
/// each (the caller's); returns the checksums of what was read.
pub fn copy(from: &Connection, to: &Connection) -> Result<Vec<TableSum>> {
    for table in TABLES.iter().rev() {
        to.execute(&format!("DELETE FROM {table}"), [])?;
    }
    let mut sums = Vec::new();
    for &table in TABLES {
        let columns = shared_columns(from, to, table)?;
        let rows = parents_first(table, &columns, read_rows(from, table, &columns)?);
        let digests: Vec<[u8; 32]> = rows.iter().map(|r| row_digest(&columns, r)).collect();
        // Many rows per statement: one round trip (and one statement's work) for each
        // chunk instead of each row. Rows of one statement go in in their order, so
        // parents still precede their children.
        let per_statement = (MAX_PARAMETERS / columns.len().max(1)).clamp(1, MAX_ROWS);
        for chunk in rows.chunks(per_statement) {
            to.prepare_cached(&insert_sql(table, &columns, chunk.len()))?
                .execute(params_from_iter(chunk.iter().flatten()))?;
        }
        if to.dialect() == Dialect::Postgres {
            renumber(to, table)?;
        }
        sums.push(TableSum {
            table,
            rows: digests.len() as u64,
            checksum: combine(digests),
        });
    }
    Ok(sums)
}

/// Bound parameters per statement: under SQLite's limit (32766) and PostgreSQL's (65535).
const MAX_PARAMETERS: usize = 30_000;
/// Rows per statement: past a few hundred, bigger statements save nothing more.
const MAX_ROWS: usize = 500;

/// `INSERT INTO table (columns) VALUES (?1, ?2), (?3, ?4), …` for `rows` rows.
fn insert_sql(table: &str, columns: &[String], rows: usize) -> String {
    let n = columns.len();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=n).map(|c| format!("?{}", r * n + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        tuples.join(", ")
    )
}

/// The checksums of every copied table as `conn` has it now, over the columns `other`
/// shares with it (compare a copy with its source).
pub fn checksums(conn: &Connection, other: &Connection) -> Result<Vec<TableSum>> {
    TABLES
        .iter()
        .map(|&table| {
            let columns = shared_columns(conn, other, table)?;
            let digests = read_rows(conn, table, &columns)?
                .iter()
                .map(|row| row_digest(&columns, row))
                .collect::<Vec<_>>();
            Ok(TableSum {
                table,
                rows: digests.len() as u64,
                checksum: combine(digests),
            })
        })
        .collect()
}

/// Every row of `table`, in insertion order where the engine keeps one (keys are listed
/// by it).
fn read_rows(conn: &Connection, table: &str, columns: &[String]) -> Result<Vec<Vec<Value>>> {
    let order = match (conn.dialect(), table) {
        (Dialect::Sqlite, _) => "rowid",
        (Dialect::Postgres, "signing_keys") => "seq",
        (Dialect::Postgres, _) => "1",
    };
    let sql = format!(
        "SELECT {} FROM {table} ORDER BY {order}",
        columns.join(", ")
    );
    let n = columns.len();
    let mut rows = Vec::new();
    conn.prepare(&sql)?.for_each([], |r| {
        rows.push(
            (0..n)
                .map(|i| r.get::<Value>(i))
                .collect::<Result<Vec<_>>>()?,
        );
        Ok(())
    })?;
    Ok(rows)
}

/// The columns of `table` both databases have and that take a value (not PostgreSQL's
/// always-generated ones), by name: the same list, in the same order, on both sides.
fn shared_columns(a: &Connection, b: &Connection, table: &str) -> Result<Vec<String>> {
    let theirs = columns(b, table)?;
    let mut shared: Vec<String> = columns(a, table)?
        .into_iter()
        .filter(|c| theirs.contains(c) && !DERIVED.contains(&(table, c.as_str())))
        .collect();
    shared.sort();
    Ok(shared)
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT name FROM pragma_table_info(?1) ORDER BY cid",
        Dialect::Postgres => {
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1
               AND NOT (is_identity = 'YES' AND identity_generation = 'ALWAYS')
             ORDER BY ordinal_position"
        }
    };
    conn.prepare(sql)?
        .query_map([table], |r| r.get(0))?
        .collect()
}

/// Groups refer to their parent: parents go first, whatever their ids.
fn parents_first(table: &str, columns: &[String], rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let (Some(id), Some(parent)) = (
        columns.iter().position(|c| c == "id"),
        columns.iter().position(|c| c == "parent_id"),
    ) else {
        return rows;
    };
    debug_assert_eq!(table, "groups");
    let depth_of: HashMap<String, Option<String>> = rows
        .iter()
        .map(|r| (key(&r[id]), Some(key(&r[parent])).filter(|p| !p.is_empty())))
        .collect();
    let depth = |mut at: String| {
        let mut d = 0;
        while let Some(Some(up)) = depth_of.get(&at) {
            d += 1;
            at = up.clone();
            if d > depth_of.len() {
                break; // a cycle: leave it to the database to refuse
            }
        }
        d
    };
    let mut keyed: Vec<(usize, Vec<Value>)> =
        rows.into_iter().map(|r| (depth(key(&r[id])), r)).collect();
    keyed.sort_by_key(|(d, _)| *d);
    keyed.into_iter().map(|(_, r)| r).collect()
}

fn key(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(n) => n.to_string(),
        Value::Real(x) => x.to_string(),
        Value::Text(t) => t.clone(),
    }
}

/// Sets the identity sequences of `table` past its highest id, so that rows created later
/// do not collide with the copied ones.
fn renumber(conn: &Connection, table: &str) -> Result<()> {
    let identities: Vec<String> = conn
        .prepare(
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = ?1 AND is_identity = 'YES'",
        )?
        .query_map([table], |r| r.get(0))?
        .collect::<Result<_>>()?;
    for column in identities {
        conn.query_row(
            &format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                               (SELECT coalesce(max({column}), 0) + 1 FROM {table}), false)"
            ),
            [],
            |r| r.get::<i64>(0),
        )?;
    }
    Ok(())
}

/// A row's digest: each column's name and value, tagged by kind, so that engines that
/// store the same values give the same digest.
fn row_digest(columns: &[String], row: &[Value]) -> [u8; 32] {
    let mut h = Sha256::new();
    for (c, v) in columns.iter().zip(row) {
        h.update(c.as_bytes());
        h.update([0]);
        match v {
            Value::Null => h.update([b'n']),
            Value::Integer(n) => {
                h.update([b'i']);
                h.update(n.to_le_bytes());
            }
            Value::Real(x) => {
                h.update([b'r']);
                h.update(x.to_le_bytes());
            }
            Value::Text(t) => {
                h.update([b't']);
                h.update((t.len() as u64).to_le_bytes());
                h.update(t.as_bytes());
            }
        }
    }
    h.finalize().into()
}

/// The digests of a table's rows, in any order, as one checksum.
fn combine(mut digests: Vec<[u8; 32]>) -> String {
    digests.sort_unstable();
    let mut h = Sha256::new();
    for d in &digests {
        h.update(d);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
