//! The PostgreSQL engine, for more than one server over one database: a pool of
//! connections, transactions, migrations, and the rewriting of the shared queries'
//! spelling (`dialect.rs`). The queries themselves are `store/sql`'s.
//!
//! Writes are serialized across every server on the database, as SQLite serializes them in
//! one file: a write transaction first takes a transaction-scoped advisory lock, then each
//! of its statements sees everything committed before (`READ COMMITTED`), so writers never
//! read stale rows or lose updates, and the database's constraints (unique names, ids,
//! subjects) stand behind them. Reads run on a snapshot (`REPEATABLE READ`) and never wait
//! for writers. A transaction that fails on a serialization failure or a deadlock (SQLSTATE
//! 40001, 40P01: a deadlock with another session, a read that wrote, or an engine that runs
//! every transaction `SERIALIZABLE`) is run again whole by the caller
//! (`Session::conflicted`, `Db::transaction`, the request pipeline).

mod conn;
mod dialect;
mod schema;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio_postgres::config::Host;

pub use conn::{PgConn, value};

use super::sql::Connection;
use super::{Engine, SchemaState, Session, Store, StoreError, StoreResult, TxMode};

/// The advisory lock every write transaction holds ("iam-wasm" in ASCII).
const WRITE_LOCK: i64 = 0x69_61_6d_2d_77_61_73_6d;

/// Connections kept idle at most.
const POOL_SIZE: usize = 32;

/// How long connecting may take before the database counts as unreachable, and how long
/// sent data may stay unacknowledged before a connection counts as dead: a server that
/// loses its database answers 503 within seconds instead of hanging.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(5);

/// The database `url` names, with any password hidden, for logs.
pub fn redact(url: &str) -> String {
    match url.parse::<tokio_postgres::Config>() {
        Ok(c) => describe(&c),
        Err(_) => "postgres://(unparsable URL)".into(),
    }
}

fn describe(c: &tokio_postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let user = c.get_user().unwrap_or("");
    let db = c.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{db}")
}

/// A database on a PostgreSQL server and a pool of connections to it.
pub struct Postgres(Arc<Shared>);

struct Shared {
    config: tokio_postgres::Config,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    identity: String,
    idle: Mutex<Vec<Connection>>,
}

impl Postgres {
    /// Connects to the database `url` names and brings its schema up to date.
    pub fn open(url: &str) -> Result<Postgres> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .with_context(|| format!("invalid PostgreSQL URL {}", redact(url)))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.tcp_user_timeout(TCP_USER_TIMEOUT);
        config.keepalives_idle(Duration::from_secs(10));
        if config.get_application_name().is_none() {
            config.application_name("iam-wasm");
        }
        let shared = Shared {
            identity: describe(&config),
            tls: tls_connector()?,
            config,
            idle: Mutex::new(Vec::new()),
        };
        let first = shared
            .connect()
            .with_context(|| format!("cannot connect to {}", shared.identity))?;
        schema::migrate(&first).context("database migration failed")?;
        let first = Connection::postgres(first);
        shared
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(first);
        crate::metrics::get().db_connections(0, 1);
        Ok(Postgres(Arc::new(shared)))
    }

    /// A connection from the pool (a new one when all are busy), back in the pool when the
    /// guard is dropped.
    fn pooled(&self) -> StoreResult<Pooled> {
        let idle = self.0.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let from_idle = idle.is_some();
        let conn = match idle {
            Some(c) => c,
            None => Connection::postgres(self.0.connect().map_err(StoreError::from)?),
        };
        crate::metrics::get().db_connections(1, if from_idle { -1 } else { 0 });
        Ok(Pooled {
            shared: self.0.clone(),
            conn: Some(conn),
            in_transaction: false,
        })
    }
}

impl Shared {
    fn connect(&self) -> super::sql::Result<PgConn> {
        PgConn::connect(&self.config, &self.tls, self.identity.clone())
    }
}

/// TLS for `sslmode=prefer` (the default) and `require`: the web's root certificates and,
/// as libpq does, those of the file `PGSSLROOTCERT` names (a site's own CA).
fn tls_connector() -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(file) = std::env::var_os("PGSSLROOTCERT") {
        for cert in CertificateDer::pem_file_iter(&file)
            .with_context(|| format!("cannot read PGSSLROOTCERT {}", file.to_string_lossy()))?
        {
            roots.add(cert.context("a certificate in PGSSLROOTCERT")?)?;
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl Engine for Postgres {
    fn connect(&self) -> StoreResult<Box<dyn Session>> {
        Ok(Box::new(PgSession(self.pooled()?)))
    }

    fn begin(&self, mode: TxMode) -> StoreResult<Box<dyn Session>> {
        let mut conn = self.pooled()?;
        conn.in_transaction = true;
        let pg = conn.conn().as_postgres().expect("a PostgreSQL connection");
        pg.begin(&match mode {
            TxMode::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ".to_string(),
            TxMode::Write => format!(
                "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
            ),
        });
        Ok(Box::new(PgSession(conn)))
    }
}

/// A pooled connection, given back when dropped: rolled back first if a transaction is
/// still open, and closed instead when that fails or the server went away.
struct Pooled {
    shared: Arc<Shared>,
    conn: Option<Connection>,
    in_transaction: bool,
}

impl Pooled {
    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a pooled connection until dropped")
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        crate::metrics::get().db_connections(-1, 0);
        if conn.as_postgres().is_none_or(PgConn::is_closed) {
            return;
        }
        let pg = conn.as_postgres().expect("a PostgreSQL connection");
        if self.in_transaction && pg.end("ROLLBACK").is_err() {
            return;
        }
        let mut idle = self.shared.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < POOL_SIZE {
            idle.push(conn);
            crate::metrics::get().db_connections(0, 1);
        }
    }
}

struct PgSession(Pooled);

impl Session for PgSession {
    fn store(&self) -> &(dyn Store + 'static) {
        self.0.conn()
    }

    fn conflicted(&self) -> bool {
        self.0.conn().as_postgres().is_some_and(PgConn::conflicted)
    }

    fn connection(&self) -> &Connection {
        self.0.conn()
    }

    fn commit(mut self: Box<Self>) -> StoreResult<()> {
        let pg = self
            .0
            .conn()
            .as_postgres()
            .expect("a PostgreSQL connection");
        pg.end("COMMIT")?;
        self.0.in_transaction = false;
        Ok(())
    }
}

/// How far the database's schema is migrated and how far it could be.
pub(super) fn schema_state(conn: &Connection) -> StoreResult<SchemaState> {
    let pg = conn
        .as_postgres()
        .ok_or_else(|| StoreError::other("not a PostgreSQL connection"))?;
    let at = schema::version(pg)?;
    Ok(SchemaState {
        at,
        latest: schema::MIGRATIONS.len() as u32,
    })
}
