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
use std::sync::{Arc, Condvar, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension};

/// The database: a file path and a pool of open connections, shared (cloning is cheap).
/// SQLite serializes writers; this process queues its own writers on a write turn (see
/// [`Db::begin`]), and `BEGIN IMMEDIATE` plus the busy timeout cover other processes (the
/// CLI).
#[derive(Clone)]
pub struct Db(Arc<Shared>);

struct Shared {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Whether a write transaction of this process is running.
    writing: Mutex<bool>,
    written: Condvar,
}

/// How a request's transaction starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads only: a deferred transaction, many may run at once.
    Read,
    /// May write: takes the write lock up front, so it never fails half-way on a lock upgrade.
    Write,
}

/// Connections kept idle at most.
const POOL_SIZE: usize = 32;

impl Db {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db> {
        let mut conn = connect(path)?;
        schema::migrate(&mut conn).context("database migration failed")?;
        Ok(Db(Arc::new(Shared {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![conn]),
            writing: Mutex::new(false),
            written: Condvar::new(),
        })))
    }

    /// A connection from the pool (a new one when all are busy), back in the pool when
    /// the guard is dropped.
    pub fn conn(&self) -> Result<Conn> {
        let idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => connect(&self.0.path)?,
        };
        Ok(Conn {
            db: self.clone(),
            conn: Some(conn),
        })
    }

    /// Starts a transaction on a pooled connection. A write transaction first waits for
    /// this process's write turn: writers queue here, woken as soon as the previous one
    /// ends, instead of in SQLite's busy handler, which sleeps and retries and so gives
    /// long tail latencies under contention.
    pub fn begin(&self, mode: TxMode) -> Result<Tx> {
        let conn = self.conn()?;
        let turn = (mode == TxMode::Write).then(|| WriteTurn::take(self));
        conn.execute_batch(match mode {
            TxMode::Read => "BEGIN DEFERRED",
            TxMode::Write => "BEGIN IMMEDIATE",
        })?;
        Ok(Tx { conn, _turn: turn })
    }

    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise.
    pub fn transaction<T>(
        &self,
        mode: TxMode,
        f: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        let tx = self.begin(mode)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }
}

/// A pooled connection, given back to the pool when dropped (rolled back first should a
/// transaction still be open on it).
pub struct Conn {
    db: Db,
    conn: Option<Connection>,
}

impl std::ops::Deref for Conn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a pooled connection until dropped")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return; // A connection in an unknown state is closed, not reused.
        }
        let mut idle = self.db.0.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push(conn);
        }
    }
}

/// This process's turn to write, released when dropped.
struct WriteTurn(Db);

impl WriteTurn {
    fn take(db: &Db) -> WriteTurn {
        let mut writing = db.0.writing.lock().unwrap_or_else(|e| e.into_inner());
        while *writing {
            writing =
                db.0.written
                    .wait(writing)
                    .unwrap_or_else(|e| e.into_inner());
        }
        *writing = true;
        WriteTurn(db.clone())
    }
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        *self.0.0.writing.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.0.0.written.notify_one();
    }
}

/// A transaction on a pooled connection: [`Tx::commit`] ends it; dropped uncommitted
/// (an error, a guest failure, a panic), it rolls back. A write transaction holds the write
/// turn until it ends.
pub struct Tx {
    // Dropped in this order: the connection (rolled back if still open, back to the pool),
    // then the write turn, so the next writer starts after the rollback.
    conn: Conn,
    _turn: Option<WriteTurn>,
}

impl std::ops::Deref for Tx {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Tx {
    /// Commits; on failure the transaction is rolled back when the `Tx` drops.
    pub fn commit(self) -> rusqlite::Result<()> {
        self.conn.execute_batch("COMMIT")
    }
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
