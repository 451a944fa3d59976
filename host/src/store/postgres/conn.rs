//! One PostgreSQL connection as the queries see it (`sql::driver`): statements prepared once
//! per connection and kept, parameters bound to whatever type the server inferred, values
//! read by their column's type, and errors sorted into the driver's kinds.
//!
//! The connection is tokio-postgres's asynchronous client driven by a runtime of its own
//! (the store is called from blocking threads, one request at a time per connection), so
//! that requests can share a round trip: a transaction's `BEGIN` goes out with its first
//! statement, and [`PgConn::query_many`] sends several queries before reading any answer.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::future::Future;

use bytes::BytesMut;
use futures_util::{StreamExt, TryFutureExt, future};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Row, Statement};

use super::dialect;
use crate::store::sql::{Error, Result, ValueRef};

/// A connection and the statements prepared on it (keyed by their SQLite-spelled text).
pub struct PgConn {
    /// Runs the connection's I/O while a call waits on it (it has no threads of its own).
    runtime: tokio::runtime::Runtime,
    client: Client,
    statements: RefCell<HashMap<String, Statement>>,
    identity: String,
    /// The `BEGIN` of the transaction under way while it has not been sent: it goes with
    /// the transaction's first statement, saving a round trip.
    begin: RefCell<Option<String>>,
    /// A statement of the current transaction failed on a serialization failure or a
    /// deadlock: the transaction is lost, whatever its caller (a guest) made of the error.
    conflicted: Cell<bool>,
}

/// Prepared statements kept per connection at most; beyond it the cache starts afresh
/// (queries built at run time, such as SCIM filters, have many texts).
const STATEMENTS: usize = 256;

impl PgConn {
    /// Connects as `config` says; `tls` is used unless `sslmode=disable`.
    pub fn connect(
        config: &tokio_postgres::Config,
        tls: &tokio_postgres_rustls::MakeRustlsConnect,
        identity: String,
    ) -> Result<PgConn> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Busy(format!("cannot start a connection's runtime: {e}")))?;
        let client = runtime.block_on(async {
            if config.get_ssl_mode() == tokio_postgres::config::SslMode::Disable {
                open(config, tokio_postgres::NoTls).await
            } else {
                open(config, tls.clone()).await
            }
        })?;
        Ok(PgConn {
            runtime,
            client,
            statements: RefCell::new(HashMap::new()),
            identity,
            begin: RefCell::new(None),
            conflicted: Cell::new(false),
        })
    }

    /// The server and database this connection is to (no credentials).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Waits for `f`, driving the connection meanwhile.
    fn wait<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// Runs `f` of the client to its end, after the pending `BEGIN` if there is one (sent
    /// first, in the same round trip).
    fn run<'a, T, F>(&'a self, f: F) -> Result<T>
    where
        F: Future<Output = std::result::Result<T, tokio_postgres::Error>> + 'a,
    {
        let begin = self.begin.borrow_mut().take();
        let r = match begin {
            None => self.wait(f),
            Some(sql) => self
                .wait(future::try_join(self.client.batch_execute(&sql), f))
                .map(|((), t)| t),
        };
        self.checked(r)
    }

    /// Whether the transaction under way lost a race (see [`PgConn::begin`]).
    pub fn conflicted(&self) -> bool {
        self.conflicted.get()
    }

    /// Starts a transaction with `sql` (sent with the first statement): whether it
    /// conflicts is tracked from here.
    pub fn begin(&self, sql: &str) {
        self.conflicted.set(false);
        *self.begin.borrow_mut() = Some(sql.to_string());
    }

    /// Ends the transaction with `sql` (`COMMIT` or `ROLLBACK`); one that never sent a
    /// statement has nothing to end.
    pub fn end(&self, sql: &str) -> Result<()> {
        if self.begin.borrow_mut().take().is_some() {
            return Ok(());
        }
        self.batch(sql)
    }

    /// `r` with its error sorted, noting a conflict.
    fn checked<T>(&self, r: std::result::Result<T, tokio_postgres::Error>) -> Result<T> {
        r.map_err(|e| {
            let e = Error::from(e);
            if matches!(e, Error::Conflict(_)) {
                self.conflicted.set(true);
            }
            e
        })
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let text = dialect::rewrite(sql);
        let statement = self.run(self.client.prepare(&text))?;
        let mut statements = self.statements.borrow_mut();
        if statements.len() >= STATEMENTS {
            statements.clear();
        }
        statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    pub fn execute(&self, statement: &Statement, values: &[ValueRef<'_>]) -> Result<u64> {
        let params: Vec<Param<'_>> = values.iter().copied().map(Param).collect();
        self.run(self.client.execute(statement, &refs(&params)))
    }

    pub fn query(&self, statement: &Statement, values: &[ValueRef<'_>]) -> Result<Vec<Row>> {
        let params: Vec<Param<'_>> = values.iter().copied().map(Param).collect();
        self.run(self.client.query(statement, &refs(&params)))
    }

    /// Runs every statement with the same parameters, all sent before the first answer is
    /// read: one round trip for all. Their rows, in the order of `statements`.
    pub fn query_many(
        &self,
        statements: &[Statement],
        values: &[ValueRef<'_>],
    ) -> Result<Vec<Vec<Row>>> {
        let params: Vec<Param<'_>> = values.iter().copied().map(Param).collect();
        let refs = refs(&params);
        let queries = statements.iter().map(|s| self.client.query(s, &refs));
        self.run(future::try_join_all(queries))
    }

    /// Streams the rows to `f` (the connection is busy meanwhile: `f` must not use it).
    pub fn for_each(
        &self,
        statement: &Statement,
        values: &[ValueRef<'_>],
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let params: Vec<Param<'_>> = values.iter().copied().map(Param).collect();
        let rows = self.run(self.client.query_raw(statement, params.iter()))?;
        let mut rows = std::pin::pin!(rows);
        while let Some(row) = self.wait(rows.next()) {
            f(&self.checked(row)?)?;
        }
        Ok(())
    }

    /// Runs statements without parameters, separated by `;`, as they are.
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.run(self.client.batch_execute(sql))
    }

    /// Runs `f` of the client (for what the driver's calls do not cover: migrations).
    pub(super) fn with_client<'a, T, F>(&'a self, f: impl FnOnce(&'a Client) -> F) -> Result<T>
    where
        F: Future<Output = std::result::Result<T, tokio_postgres::Error>> + 'a,
    {
        self.run(f(&self.client))
    }
}

/// Connects with `tls` and leaves the connection's task on the current runtime, where it
/// runs whenever a call waits on that runtime.
async fn open<T>(
    config: &tokio_postgres::Config,
    tls: T,
) -> std::result::Result<Client, tokio_postgres::Error>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(connection.map_err(|_| ()));
    Ok(client)
}

fn refs<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// A value bound as whatever type the server inferred for its parameter: an integer into
/// a `bigint`, `integer` or `boolean` parameter, text into `text` or `json`.
#[derive(Debug, Clone, Copy)]
struct Param<'a>(ValueRef<'a>);

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self.0 {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(n) => match *ty {
                Type::INT8 => n.to_sql(ty, out),
                Type::INT4 => i32::try_from(n)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(n)?.to_sql(ty, out),
                Type::BOOL => (n != 0).to_sql(ty, out),
                Type::FLOAT8 => (n as f64).to_sql(ty, out),
                Type::NUMERIC | Type::TEXT | Type::VARCHAR | Type::UNKNOWN => {
                    n.to_string().as_str().to_sql(&Type::TEXT, out)
                }
                _ => Err(format!("cannot bind an integer as {ty}").into()),
            },
            ValueRef::Real(x) => match *ty {
                Type::FLOAT8 => x.to_sql(ty, out),
                Type::FLOAT4 => (x as f32).to_sql(ty, out),
                _ => Err(format!("cannot bind a number as {ty}").into()),
            },
            ValueRef::Text(t) => match *ty {
                Type::JSON => {
                    out.extend_from_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                Type::INT8 => t.parse::<i64>()?.to_sql(ty, out),
                _ => t.to_sql(&Type::TEXT, out),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// Column `i` of `row`, read by its type: integers and booleans as integers (as SQLite
/// stores them), text as text.
pub fn value(row: &Row, i: usize) -> Result<ValueRef<'_>> {
    let Some(column) = row.columns().get(i) else {
        return Err(Error::Other(format!("no column {i}")));
    };
    let conversion = |e: tokio_postgres::Error| Error::Conversion(e.to_string());
    let v = match *column.type_() {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(i)
            .map_err(conversion)?
            .map(ValueRef::Integer),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)
            .map_err(conversion)?
            .map(|n| ValueRef::Integer(n.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)
            .map_err(conversion)?
            .map(|n| ValueRef::Integer(n.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)
            .map_err(conversion)?
            .map(|b| ValueRef::Integer(b.into())),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(i)
            .map_err(conversion)?
            .map(ValueRef::Real),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => row
            .try_get::<_, Option<&str>>(i)
            .map_err(conversion)?
            .map(ValueRef::Text),
        ref other => {
            return Err(Error::Conversion(format!(
                "column {} has the type {other}, which the store does not read",
                column.name()
            )));
        }
    };
    Ok(v.unwrap_or(ValueRef::Null))
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Error {
        let message = match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        };
        match e.code() {
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => Error::Conflict(message),
            Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => Error::Conflict(message),
            Some(c) if c.code().starts_with("23") => Error::Constraint(message),
            // The server going away or refusing connections: the caller answers 503.
            Some(c) if c.code().starts_with("08") || c.code().starts_with("57P") => {
                Error::Busy(message)
            }
            Some(c) if *c == SqlState::TOO_MANY_CONNECTIONS => Error::Busy(message),
            None if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) => {
                Error::Busy(message)
            }
            _ => Error::Other(message),
        }
    }
}
