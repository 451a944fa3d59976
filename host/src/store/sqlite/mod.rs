//! The SQLite engine: a pool of connections to one database file and its migrations. The
//! queries are shared with PostgreSQL (`store/sql`).

pub(super) mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use super::sql::Connection;
use super::{Engine, SchemaState, Session, Store, StoreError, StoreResult, TxMode};
use anyhow::{Context, Result};

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
        crate::metrics::get().db_connections(0, 1);
        Ok(Sqlite(Arc::new(Shared {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![Connection::sqlite(conn)]),
            writing: Mutex::new(false),
            written: Condvar::new(),
        })))
    }

    /// A connection from the pool (a new one when all are busy), back in the pool when
    /// the guard is dropped.
    fn pooled(&self) -> StoreResult<Pooled> {
        let idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let from_idle = idle.is_some();
        let conn = match idle {
            Some(c) => c,
            None => Connection::sqlite(
                connect(&self.0.path).map_err(|e| StoreError::other(format!("{e:#}")))?,
            ),
        };
        crate::metrics::get().db_connections(1, if from_idle { -1 } else { 0 });
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
        crate::metrics::get().db_connections(-1, 0);
        let open = conn.as_sqlite().is_some_and(|c| !c.is_autocommit());
        if open && conn.execute_batch("ROLLBACK").is_err() {
            return; // A connection in an unknown state is closed, not reused.
        }
        let mut idle = self.shared.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push(conn);
            crate::metrics::get().db_connections(0, 1);
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

    fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// A connection to the file, set up as every connection of the engine is.
pub(super) fn connect(path: &Path) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)
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

/// How far the file's schema is migrated (`PRAGMA user_version`) and how far it could be.
pub(super) fn schema_state(conn: &Connection) -> StoreResult<SchemaState> {
    Ok(SchemaState {
        at: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
        latest: schema::MIGRATIONS.len() as u32,
    })
}

/// A migrated connection to a database file, as the engine's own (for unit tests of the
/// queries).
#[cfg(test)]
pub(super) fn open_for_tests(path: &Path) -> Connection {
    let mut conn = connect(path).expect("open the database");
    schema::migrate(&mut conn).expect("migrate");
    Connection::sqlite(conn)
}
