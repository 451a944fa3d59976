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
pub mod authorities;
pub mod clients;
pub mod groups;
pub mod identities;
pub mod keys;
pub mod labels;
pub mod memberships;
pub mod meta;
pub mod profiles;
mod sqlite;
pub mod tokens;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

pub use accounts::{AccountStore, NewAccount};
pub use attributes::AttributeStore;
pub use authorities::AuthorityStore;
pub use clients::{ClientStore, Credentials, NewClientRow};
pub use groups::GroupStore;
pub use identities::IdentityStore;
pub use keys::{KeyRow, KeyStore};
pub use labels::LabelStore;
pub use memberships::MembershipStore;
pub use meta::{MetaStore, SchemaState};
pub use profiles::ProfileStore;
pub use tokens::{NewRefreshToken, RefreshToken, TokenStore};

/// Every domain's queries, on one connection or transaction.
pub trait Store {
    fn accounts(&self) -> &dyn AccountStore;
    fn attributes(&self) -> &dyn AttributeStore;
    fn authorities(&self) -> &dyn AuthorityStore;
    fn clients(&self) -> &dyn ClientStore;
    fn groups(&self) -> &dyn GroupStore;
    fn identities(&self) -> &dyn IdentityStore;
    fn keys(&self) -> &dyn KeyStore;
    fn labels(&self) -> &dyn LabelStore;
    fn memberships(&self) -> &dyn MembershipStore;
    fn meta(&self) -> &dyn MetaStore;
    fn profiles(&self) -> &dyn ProfileStore;
    fn tokens(&self) -> &dyn TokenStore;
}

/// A database failure. Its message is for logs; [`StoreError::is_busy`] tells contention
/// (worth a 503 and a retry) from everything else.
#[derive(Debug)]
pub struct StoreError {
    busy: bool,
    message: String,
}

impl StoreError {
    /// A failure that retrying later may cure: the database was locked or busy.
    pub fn busy(message: impl Into<String>) -> StoreError {
        StoreError {
            busy: true,
            message: message.into(),
        }
    }

    /// Any other failure.
    pub fn other(message: impl Into<String>) -> StoreError {
        StoreError {
            busy: false,
            message: message.into(),
        }
    }

    pub fn is_busy(&self) -> bool {
        self.busy
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
}

/// The database (cloning is cheap).
#[derive(Clone)]
pub struct Db(Arc<dyn Engine>);

impl Db {
    /// Opens (creating if needed) the SQLite database file and brings its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        Ok(Db(Arc::new(sqlite::Sqlite::open(path)?)))
    }

    /// A connection outside any transaction.
    pub fn conn(&self) -> StoreResult<Conn> {
        Ok(Conn(self.0.connect()?))
    }

    /// Starts a transaction.
    pub fn begin(&self, mode: TxMode) -> StoreResult<Tx> {
        Ok(Tx(self.0.begin(mode)?))
    }

    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise.
    pub fn transaction<T, E: From<StoreError>>(
        &self,
        mode: TxMode,
        f: impl FnOnce(&dyn Store) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.begin(mode)?;
        let value = f(&*tx)?;
        tx.commit()?;
        Ok(value)
    }
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
}

/// Milliseconds since the Unix epoch: the host's clock for every stored time.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
