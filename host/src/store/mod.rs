//! Storage: what the rest of the host may ask of the database, engine-neutral.
//!
//! Each domain declares its queries as a trait (`AccountStore`, `GroupStore`, ...: one per
//! file, named like the WIT store interfaces the guests see). [`Store`] gathers them; an
//! engine implements them all and hands out [`Conn`]ections and [`Tx`] transactions behind
//! [`Db`]. Nothing above this module sees an engine's types: the SQLite engine lives in
//! `sqlite/` (SQL, pool, migrations), and another engine is added beside it by implementing
//! these traits and [`Engine`], without touching HTTP, auth, plugins or guests.

pub mod accounts;
pub mod attributes;
pub mod audit;
pub mod authorities;
pub mod clients;
pub mod groups;
pub mod identities;
pub mod keys;
pub mod labels;
pub mod memberships;
pub mod meta;
mod postgres;
pub mod profiles;
mod sql;
mod sqlite;
pub mod throttle;
pub mod tokens;

pub use crate::config::DbLocation as Location;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use accounts::{AccountStore, NewAccount};
pub use attributes::AttributeStore;
pub use audit::{AuditFilter, AuditRecord, AuditStore};
pub use authorities::AuthorityStore;
pub use clients::{ClientStore, Credentials, NewClientRow};
pub use groups::GroupStore;
pub use identities::IdentityStore;
pub use keys::{KeyRow, KeyStore};
pub use labels::LabelStore;
pub use memberships::MembershipStore;
pub use meta::{MetaStore, SchemaState};
pub use profiles::ProfileStore;
pub use throttle::{ThrottleRecord, ThrottleStore};
pub use tokens::{NewRefreshToken, RefreshToken, TokenStore};

/// Every domain's queries, on one connection or transaction.
pub trait Store {
    fn accounts(&self) -> &dyn AccountStore;
    fn attributes(&self) -> &dyn AttributeStore;
    fn audit(&self) -> &dyn AuditStore;
    fn authorities(&self) -> &dyn AuthorityStore;
    fn clients(&self) -> &dyn ClientStore;
    fn groups(&self) -> &dyn GroupStore;
    fn identities(&self) -> &dyn IdentityStore;
    fn keys(&self) -> &dyn KeyStore;
    fn labels(&self) -> &dyn LabelStore;
    fn memberships(&self) -> &dyn MembershipStore;
    fn meta(&self) -> &dyn MetaStore;
    fn profiles(&self) -> &dyn ProfileStore;
    fn throttle(&self) -> &dyn ThrottleStore;
    fn tokens(&self) -> &dyn TokenStore;
}

/// A database failure. Its message is for logs; [`StoreError::is_busy`] tells contention
/// (worth a 503 and a retry) from everything else, and [`StoreError::is_conflict`] a
/// transaction that lost a race and can simply run again.
#[derive(Debug)]
pub struct StoreError {
    kind: ErrorKind,
    message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    Busy,
    Conflict,
    Other,
}

impl StoreError {
    /// A failure that retrying later may cure: the database was locked, busy or away.
    pub fn busy(message: impl Into<String>) -> StoreError {
        StoreError {
            kind: ErrorKind::Busy,
            message: message.into(),
        }
    }

    /// The transaction conflicted with a concurrent one (a serialization failure or a
    /// deadlock) and was rolled back: running it again from the start will do.
    pub fn conflict(message: impl Into<String>) -> StoreError {
        StoreError {
            kind: ErrorKind::Conflict,
            message: message.into(),
        }
    }

    /// Any other failure.
    pub fn other(message: impl Into<String>) -> StoreError {
        StoreError {
            kind: ErrorKind::Other,
            message: message.into(),
        }
    }

    /// Contention: busy, or a conflict that retries did not cure.
    pub fn is_busy(&self) -> bool {
        self.kind != ErrorKind::Other
    }

    pub fn is_conflict(&self) -> bool {
        self.kind == ErrorKind::Conflict
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

/// How a request's transaction starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads only: many may run at once.
    Read,
    /// May write: takes the engine's write lock up front, so it never fails half-way on a
    /// lock upgrade.
    Write,
}

/// What an engine provides: connections and transactions over one database.
pub trait Engine: Send + Sync {
    /// A connection outside any transaction (each statement commits by itself).
    fn connect(&self) -> StoreResult<Box<dyn Session>>;
    /// A transaction, which [`Session::commit`] ends; dropped uncommitted, it rolls back.
    fn begin(&self, mode: TxMode) -> StoreResult<Box<dyn Session>>;
}

/// One connection of an engine, in a transaction or not. Dropping it gives it back (after
/// rolling back a transaction still open).
pub trait Session: Send {
    fn store(&self) -> &(dyn Store + 'static);
    /// Commits the transaction; on failure it rolls back when the session drops.
    fn commit(self: Box<Self>) -> StoreResult<()>;
    /// Whether the transaction lost a race with a concurrent one (a serialization failure
    /// or deadlock), so that it is void and should run again from the start. An engine
    /// whose writers never overlap (SQLite) never conflicts.
    fn conflicted(&self) -> bool {
        false
    }
    /// The connection itself, for work on whole tables (`db copy`).
    fn connection(&self) -> &sql::Connection;
}

/// The file path, or the URL without its password: for logs and messages.
pub fn describe(location: &Location) -> String {
    match location {
        Location::Sqlite(p) => p.display().to_string(),
        Location::Postgres(url) => postgres::redact(url),
    }
}

/// The database (cloning is cheap).
#[derive(Clone)]
pub struct Db(Arc<dyn Engine>);

impl Db {
    /// Opens the database (creating a SQLite file if needed) and brings its schema up to
    /// date.
    pub fn open(location: &Location) -> anyhow::Result<Db> {
        Ok(match location {
            Location::Sqlite(path) => Db(Arc::new(sqlite::Sqlite::open(path)?)),
            Location::Postgres(url) => Db(Arc::new(postgres::Postgres::open(url)?)),
        })
    }

    /// Opens a database that must exist already (the operator commands, which have
    /// nothing to work on in a new one).
    pub fn open_existing(location: &Location) -> anyhow::Result<Db> {
        if let Location::Sqlite(path) = location
            && !path.exists()
        {
            anyhow::bail!(
                "database {} does not exist: start the server once first",
                path.display()
            );
        }
        Db::open(location)
    }

    /// A connection outside any transaction.
    pub fn conn(&self) -> StoreResult<Conn> {
        Ok(Conn(self.0.connect()?))
    }

    /// Starts a transaction.
    pub fn begin(&self, mode: TxMode) -> StoreResult<Tx> {
        Ok(Tx(self.0.begin(mode)?))
    }

    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise;
    /// run again whole when the transaction conflicts with a concurrent one.
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        mode: TxMode,
        f: impl Fn(&dyn Store) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut attempt = 1;
        loop {
            let tx = self.begin(mode)?;
            let value = f(&*tx);
            let conflicted = tx.conflicted();
            let outcome = match value {
                Ok(value) if !conflicted => match tx.commit() {
                    Ok(()) => return Ok(value),
                    Err(e) if e.is_conflict() => Err(E::from(e)),
                    Err(e) => return Err(E::from(e)),
                },
                Ok(_) => Err(E::from(StoreError::conflict("transaction conflicted"))),
                Err(e) if conflicted => Err(e),
                Err(e) => return Err(e),
            };
            if attempt >= ATTEMPTS {
                return outcome;
            }
            conflict_backoff(attempt);
            attempt += 1;
        }
    }
}

/// What `iam-host db copy` did: per table, rows and checksum on both sides.
pub use sql::copy::TableSum;

/// Copies every row of `from` into `to` (both migrated to this server's schema), then reads
/// both again and compares rows and checksums table by table. A target with accounts,
/// groups, clients or keys is refused unless `replace`. Returns the source's sums, equal
/// to the target's.
pub fn copy_database(from: &Db, to: &Db, replace: bool) -> anyhow::Result<Vec<TableSum>> {
    let source = from.begin(TxMode::Read)?;
    let target = to.begin(TxMode::Write)?;
    let found = sql::copy::content(target.0.connection())?;
    if !found.is_empty() && !replace {
        let what: Vec<String> = found.iter().map(|(t, n)| format!("{n} {t}")).collect();
        anyhow::bail!(
            "the target database is not empty ({}): pass --replace to overwrite it",
            what.join(", ")
        );
    }
    let copied = sql::copy::copy(source.0.connection(), target.0.connection())?;
    target.commit()?;
    let target = to.begin(TxMode::Read)?;
    let found = sql::copy::checksums(target.0.connection(), source.0.connection())?;
    for (s, t) in copied.iter().zip(&found) {
        anyhow::ensure!(
            s == t,
            "table {}: the copy differs from the source ({} rows, checksum {}; source: {} rows, checksum {})",
            s.table,
            t.rows,
            t.checksum,
            s.rows,
            s.checksum
        );
    }
    drop(target);
    // A bulk load leaves PostgreSQL without planner statistics or a visibility map until
    // autovacuum comes by, and the first queries on the new site would scan tables.
    let conn = to.conn()?;
    if conn.0.connection().dialect() == sql::Dialect::Postgres {
        conn.0.connection().execute_batch("VACUUM (ANALYZE)")?;
    }
    Ok(copied)
}

/// A connection outside any transaction, given back when dropped.
pub struct Conn(Box<dyn Session>);

impl std::ops::Deref for Conn {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        self.0.store()
    }
}

/// A transaction: [`Tx::commit`] ends it; dropped uncommitted (an error, a guest failure, a
/// panic), it rolls back.
pub struct Tx(Box<dyn Session>);

impl std::ops::Deref for Tx {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        self.0.store()
    }
}

impl Tx {
    /// Commits; on failure the transaction is rolled back when the `Tx` drops.
    pub fn commit(self) -> StoreResult<()> {
        self.0.commit()
    }

    /// Whether a statement of the transaction hit a conflict ([`Session::conflicted`]).
    pub fn conflicted(&self) -> bool {
        self.0.conflicted()
    }
}

/// Transactions that conflict are run again this many times at most; the last conflict
/// is then the error (503: contention).
pub const ATTEMPTS: u32 = 10;

/// The pause before attempt `attempt` (1, 2, ...) of a conflicted transaction: doubling
/// from about a millisecond, with jitter so that the same racers do not meet again.
pub fn conflict_backoff(attempt: u32) {
    crate::metrics::get().transaction_retried();
    let base = 1u64 << attempt.min(7);
    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) % (base + 1);
    std::thread::sleep(std::time::Duration::from_millis(base / 2 + jitter));
}

/// Milliseconds since the Unix epoch: the host's clock for every stored time.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
