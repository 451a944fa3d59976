//! One PostgreSQL connection as the queries see it (`sql::driver`): statements prepared once
//! per connection and kept, parameters bound to whatever type the server inferred, values
//! read by their column's type, and errors sorted into the driver's kinds.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::BytesMut;
use postgres::error::SqlState;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Statement};

use super::dialect;
use crate::store::sql::{Error, Result, ValueRef};

/// A connection and the statements prepared on it (keyed by their SQLite-spelled text).
/// The client needs `&mut` for every call; the store's traits take `&self`, and a
/// connection serves one request at a time, so it sits in a `RefCell`.
pub struct PgConn {
    client: RefCell<Client>,
    statements: RefCell<HashMap<String, Statement>>,
    identity: String,
    /// A statement of the current transaction failed on a serialization failure or a
    /// deadlock: the transaction is lost, whatever its caller (a guest) made of the error.
    conflicted: Cell<bool>,
}

/// Prepared statements kept per connection at most; beyond it the cache starts afresh
/// (queries built at run time, such as SCIM filters, have many texts).
const STATEMENTS: usize = 256;

impl PgConn {
    pub fn new(client: Client, identity: String) -> PgConn {
        PgConn {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            identity,
            conflicted: Cell::new(false),
        }
    }

    /// The server and database this connection is to (no credentials).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    pub fn client(&self) -> std::cell::RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    /// Whether the transaction under way lost a race (see [`PgConn::begin`]).
    pub fn conflicted(&self) -> bool {
        self.conflicted.get()
    }

    /// Starts a transaction: whether it conflicts is tracked from here.
    pub fn begin(&self, sql: &str) -> Result<()> {
        self.conflicted.set(false);
        self.batch(sql)
    }

    /// `r` with its error sorted, noting a conflict.
    fn checked<T>(&self, r: std::result::Result<T, postgres::Error>) -> Result<T> {
        r.map_err(|e| {
            let e = Error::from(e);
            if matches!(e, Error::Conflict(_)) {
                self.conflicted.set(true);
            }
            e
        })
    }

    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let statement = self.checked(self.client.borrow_mut().prepare(&dialect::rewrite(sql)))?;
        let mut statements = self.statements.borrow_mut();
        if statements.len() >= STATEMENTS {
            statements.clear();
        }
        statements.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    pub fn execute(&self, statement: &Statement, values: &[ValueRef<'_>]) -> Result<u64> {
        let params: Vec<Param<'_>> = values.iter().copied().map(Param).collect();
        self.checked(self.client.borrow_mut().execute(statement, &refs(&params)))
    }

    pub fn query(
        &self,
        statement: &Statement,
        values: &[ValueRef<'_>],
    ) -> Result<Vec<postgres::Row>> {
        let params: Vec<Param<'_>> = values.iter().copied().map(Param).collect();
        self.checked(self.client.borrow_mut().query(statement, &refs(&params)))
    }

    /// Streams the rows to `f` (the connection is busy meanwhile: `f` must not use it).
    pub fn for_each(
        &self,
        statement: &Statement,
        values: &[ValueRef<'_>],
        mut f: impl FnMut(&postgres::Row) -> Result<()>,
    ) -> Result<()> {
        let params: Vec<Param<'_>> = values.iter().copied().map(Param).collect();
        let mut client = self.client.borrow_mut();
        let mut rows = self.checked(client.query_raw(statement, params.iter()))?;
        while let Some(row) = self.checked(rows.next())? {
            f(&row)?;
        }
        Ok(())
    }

    pub fn batch(&self, sql: &str) -> Result<()> {
        self.checked(self.client.borrow_mut().batch_execute(sql))
    }
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
pub fn value(row: &postgres::Row, i: usize) -> Result<ValueRef<'_>> {
    let Some(column) = row.columns().get(i) else {
        return Err(Error::Other(format!("no column {i}")));
    };
    let conversion = |e: postgres::Error| Error::Conversion(e.to_string());
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

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Error {
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
