//! The SQLite engine: a pool of connections to one database file, migrations, and the SQL
//! behind every domain trait of `store`: one file per domain implementing its trait for
//! `rusqlite::Connection` (accounts in two: one account, `accounts.rs`, and the lists and
//! pages of users, `account_pages.rs`).

mod account_pages;
mod accounts;
mod attributes;
mod authorities;
mod clients;
mod groups;
mod identities;
mod keys;
mod labels;
mod memberships;
mod positions;
mod profiles;
mod schema;
mod scim_sql;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension};

use super::{
    AccountStore, AttributeStore, AuthorityStore, ClientStore, Engine, GroupStore, IdentityStore,
    KeyStore, LabelStore, MembershipStore, MetaStore, ProfileStore, SchemaState, Session, Store,
    StoreError, StoreResult, TokenStore, TxMode, now_ms,
};

/// One database file and a pool of open connections. SQLite serializes writers; this
/// process queues its own writers on a write turn (see [`Engine::begin`]), and
/// `BEGIN IMMEDIATE` plus the busy timeout cover other processes (the CLI).
pub struct Sqlite(Arc<Shared>);

struct Shared {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Whether a write transaction of this process is running.
    writing: Mutex<bool>,
    written: Condvar,
}

/// Connections kept idle at most.
const POOL_SIZE: usize = 32;

impl Sqlite {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Sqlite> {
        let mut conn = connect(path)?;
        schema::migrate(&mut conn).context("database migration failed")?;
        Ok(Sqlite(Arc::new(Shared {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![conn]),
            writing: Mutex::new(false),
            written: Condvar::new(),
        })))
    }

    /// A connection from the pool (a new one when all are busy), back in the pool when
    /// the guard is dropped.
    fn pooled(&self) -> StoreResult<Pooled> {
        let idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => connect(&self.0.path).map_err(|e| StoreError::other(format!("{e:#}")))?,
        };
        Ok(Pooled {
            shared: self.0.clone(),
            conn: Some(conn),
        })
    }
}

impl Engine for Sqlite {
    fn connect(&self) -> StoreResult<Box<dyn Session>> {
        Ok(Box::new(SqliteSession {
            conn: self.pooled()?,
            _turn: None,
        }))
    }

    /// A write transaction first waits for this process's write turn: writers queue here,
    /// woken as soon as the previous one ends, instead of in SQLite's busy handler, which
    /// sleeps and retries and so gives long tail latencies under contention.
    fn begin(&self, mode: TxMode) -> StoreResult<Box<dyn Session>> {
        let conn = self.pooled()?;
        let turn = (mode == TxMode::Write).then(|| WriteTurn::take(&self.0));
        conn.execute_batch(match mode {
            TxMode::Read => "BEGIN DEFERRED",
            TxMode::Write => "BEGIN IMMEDIATE",
        })?;
        Ok(Box::new(SqliteSession { conn, _turn: turn }))
    }
}

/// A pooled connection, given back to the pool when dropped (rolled back first should a
/// transaction still be open on it).
struct Pooled {
    shared: Arc<Shared>,
    conn: Option<Connection>,
}

impl std::ops::Deref for Pooled {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a pooled connection until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return; // A connection in an unknown state is closed, not reused.
        }
        let mut idle = self.shared.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push(conn);
        }
    }
}

/// This process's turn to write, released when dropped.
struct WriteTurn(Arc<Shared>);

impl WriteTurn {
    fn take(shared: &Arc<Shared>) -> WriteTurn {
        let mut writing = shared.writing.lock().unwrap_or_else(|e| e.into_inner());
        while *writing {
            writing = shared
                .written
                .wait(writing)
                .unwrap_or_else(|e| e.into_inner());
        }
        *writing = true;
        WriteTurn(shared.clone())
    }
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        *self.0.writing.lock().unwrap_or_else(|e| e.into_inner()) = false;
        self.0.written.notify_one();
    }
}

/// A pooled connection, in a transaction or not. A write transaction holds the write turn
/// until it ends.
struct SqliteSession {
    // Dropped in this order: the connection (rolled back if still open, back to the pool),
    // then the write turn, so the next writer starts after the rollback.
    conn: Pooled,
    _turn: Option<WriteTurn>,
}

impl Session for SqliteSession {
    fn store(&self) -> &(dyn Store + 'static) {
        &*self.conn
    }

    fn commit(self: Box<Self>) -> StoreResult<()> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }
}

impl Store for Connection {
    fn accounts(&self) -> &dyn AccountStore {
        self
    }
    fn attributes(&self) -> &dyn AttributeStore {
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
    fn tokens(&self) -> &dyn TokenStore {
        self
    }
}

/// SQLite's "busy" and "locked" are contention; everything else is a failure.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        let busy = e.sqlite_error_code().is_some_and(|c| {
            matches!(
                c,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            )
        });
        if busy {
            StoreError::busy(e.to_string())
        } else {
            StoreError::other(e.to_string())
        }
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

impl MetaStore for Connection {
    fn schema(&self) -> StoreResult<SchemaState> {
        Ok(SchemaState {
            at: self.query_row("PRAGMA user_version", [], |r| r.get(0))?,
            latest: schema::MIGRATIONS.len() as u32,
        })
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
