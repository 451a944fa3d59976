//! SQLite storage: connection setup, migrations, per-request transactions, and the typed
//! queries the host and the guests' `store` imports use.

pub mod accounts;
pub mod attributes;
pub mod authorities;
pub mod clients;
pub mod groups;
pub mod identities;
pub mod keys;
pub mod labels;
pub mod memberships;
mod positions;
pub mod profiles;
mod schema;
pub mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension};

/// The database: a file path and a pool of open connections. SQLite serializes writers;
/// this process queues its own writers on `writer` (see [`Db::write_gate`]), and
/// `BEGIN IMMEDIATE` plus the busy timeout cover other processes (the CLI).
pub struct Db {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    writer: Mutex<()>,
}

/// How a request's transaction starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads only: a deferred transaction, many may run at once.
    Read,
    /// May write: takes the write lock up front, so it never fails half-way on a lock upgrade.
    Write,
}

impl Db {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db> {
        let mut conn = connect(path)?;
        schema::migrate(&mut conn).context("database migration failed")?;
        Ok(Db {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![conn]),
            writer: Mutex::new(()),
        })
    }

    /// Held for the whole of a write transaction: writers of this process wait their turn
    /// here, woken as soon as the previous one ends, instead of in SQLite's busy handler,
    /// which sleeps and retries and so gives long tail latencies under contention.
    pub fn write_gate(&self, mode: TxMode) -> Option<std::sync::MutexGuard<'_, ()>> {
        (mode == TxMode::Write).then(|| self.writer.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A connection from the pool (a new one when all are busy). Give it back with `put`.
    pub fn take(&self) -> Result<Connection> {
        if let Some(c) = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            return Ok(c);
        }
        connect(&self.path)
    }

    /// Returns a connection to the pool. A connection still inside a transaction (which
    /// cannot happen on the normal paths) is rolled back first.
    pub fn put(&self, conn: Connection) {
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < 32 {
            idle.push(conn);
        }
    }

    /// Runs `f` in one transaction on a pooled connection: committed when `f` returns
    /// `Ok`, rolled back otherwise.
    pub fn transaction<T>(
        &self,
        mode: TxMode,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let conn = self.take()?;
        let _turn = self.write_gate(mode);
        let result = (|| {
            begin(&conn, mode)?;
            match f(&conn) {
                Ok(v) => {
                    conn.execute_batch("COMMIT")?;
                    Ok(v)
                }
                Err(e) => {
                    conn.execute_batch("ROLLBACK")?;
                    Err(e)
                }
            }
        })();
        self.put(conn);
        result
    }
}

/// Starts a transaction on `conn`.
pub fn begin(conn: &Connection, mode: TxMode) -> rusqlite::Result<()> {
    conn.execute_batch(match mode {
        TxMode::Read => "BEGIN DEFERRED",
        TxMode::Write => "BEGIN IMMEDIATE",
    })
}

fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)
        .with_context(|| format!("cannot open database {}", path.display()))?;
    // WAL: readers never block the writer. synchronous=NORMAL in WAL mode keeps every
    // committed transaction across a process crash (kill -9); only an OS crash may lose the
    // last ones.
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Milliseconds since the Unix epoch: the host's clock for every stored time.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
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
    row: impl Fn(&rusqlite::Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<std::collections::HashMap<String, Vec<T>>> {
    let ids = serde_json::to_string(uuids).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(sql)?;
    let last = stmt.column_count() - 1;
    let mut out: std::collections::HashMap<String, Vec<T>> = std::collections::HashMap::new();
    let mut rows = stmt.query([ids])?;
    while let Some(r) = rows.next()? {
        let uuid: String = r.get(last)?;
        out.entry(uuid).or_default().push(row(r)?);
    }
    Ok(out)
}

/// [`per_account`] for one account.
pub fn for_account<T>(
    conn: &Connection,
    sql: &str,
    uuid: &str,
    row: impl Fn(&rusqlite::Row) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
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

/// A value of the `meta` table.
pub fn meta_get(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

/// Sets a value of the `meta` table.
pub fn meta_set(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
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
