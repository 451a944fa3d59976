//! What the queries need of a database connection, the same over SQLite (rusqlite) and
//! PostgreSQL (the `postgres` crate): cached prepared statements, parameters, rows and
//! errors. Its shape follows rusqlite's, so a query reads the same on both engines.
//!
//! Queries are written once, in SQLite's spelling (numbered parameters `?1`, `LIKE`,
//! `json_each`, `instr`); the PostgreSQL connection rewrites that spelling once per
//! statement (`postgres/dialect.rs`). Where the engines really differ (text search, the
//! position of a JSON array's element), a query asks [`Connection::dialect`].

use std::fmt;

use crate::store::postgres::PgConn;

/// Which SQL the connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One connection to the database, of either engine.
pub struct Connection(Inner);

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConn>),
}

impl Connection {
    pub(in crate::store) fn sqlite(conn: rusqlite::Connection) -> Connection {
        Connection(Inner::Sqlite(conn))
    }

    pub(in crate::store) fn postgres(conn: PgConn) -> Connection {
        Connection(Inner::Postgres(Box::new(conn)))
    }

    /// The SQLite connection underneath, for what only that engine does (pragmas, its
    /// transaction state).
    pub(in crate::store) fn as_sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.0 {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    pub(in crate::store) fn as_postgres(&self) -> Option<&PgConn> {
        match &self.0 {
            Inner::Sqlite(_) => None,
            Inner::Postgres(c) => Some(c),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match &self.0 {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// What names this database among others (its file, or its server and name), to key
    /// what a process remembers about it.
    pub fn identity(&self) -> Option<String> {
        match &self.0 {
            Inner::Sqlite(c) => c.path().filter(|p| !p.is_empty()).map(str::to_string),
            Inner::Postgres(c) => Some(c.identity().to_string()),
        }
    }

    /// A prepared statement, kept by the connection for the next time the same text comes.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement(match &self.0 {
            Inner::Sqlite(c) => Stmt::Sqlite(c.prepare_cached(sql)?),
            Inner::Postgres(c) => Stmt::Postgres(c, c.prepare(sql)?),
        }))
    }

    /// A prepared statement (cached as well: PostgreSQL keeps them server-side either way).
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P: Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs each of `sqls` with the same parameters and calls `f(i, row)` on every row of
    /// the `i`-th, statement by statement. PostgreSQL gets them all in one round trip.
    pub fn for_each_of<P: Params>(
        &self,
        sqls: &[&str],
        params: P,
        mut f: impl FnMut(usize, &Row) -> Result<()>,
    ) -> Result<()> {
        let values = params.values()?;
        match &self.0 {
            Inner::Sqlite(c) => {
                for (i, sql) in sqls.iter().enumerate() {
                    let mut s = c.prepare_cached(sql)?;
                    let mut rows = s.query(rusqlite::params_from_iter(values.iter()))?;
                    while let Some(r) = rows.next()? {
                        f(i, &Row(RowOf::Sqlite(r)))?;
                    }
                }
            }
            Inner::Postgres(c) => {
                let statements = sqls
                    .iter()
                    .map(|sql| c.prepare(sql))
                    .collect::<Result<Vec<_>>>()?;
                for (i, rows) in c.query_many(&statements, &values)?.iter().enumerate() {
                    for r in rows {
                        f(i, &Row(RowOf::Postgres(r)))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs statements without parameters, separated by `;`, as they are (no rewriting).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.0 {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(c) => c.batch(sql),
        }
    }
}

/// A prepared statement.
pub struct Statement<'c>(Stmt<'c>);

enum Stmt<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Postgres(&'c PgConn, tokio_postgres::Statement),
}

impl Statement<'_> {
    /// Runs it; the number of rows it changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values()?;
        match &mut self.0 {
            Stmt::Sqlite(s) => Ok(s.execute(rusqlite::params_from_iter(values.iter()))?),
            Stmt::Postgres(c, s) => Ok(c.execute(s, &values)? as usize),
        }
    }

    /// Calls `f` on each row in turn. On PostgreSQL the rows stream from the server while
    /// `f` runs, so `f` must not query the same connection.
    pub fn for_each<P: Params>(
        &mut self,
        params: P,
        mut f: impl FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let values = params.values()?;
        match &mut self.0 {
            Stmt::Sqlite(s) => {
                let mut rows = s.query(rusqlite::params_from_iter(values.iter()))?;
                while let Some(r) = rows.next()? {
                    f(&Row(RowOf::Sqlite(r)))?;
                }
                Ok(())
            }
            Stmt::Postgres(c, s) => c.for_each(s, &values, |r| f(&Row(RowOf::Postgres(r)))),
        }
    }

    /// `f` of each row, read to the end before the first `f` runs (so `f` may query).
    pub fn query_map<T, P: Params>(
        &mut self,
        params: P,
        mut f: impl FnMut(&Row) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let values = params.values()?;
        let out: Vec<Result<T>> = match &mut self.0 {
            Stmt::Sqlite(s) => {
                let mut out = Vec::new();
                let mut rows = s.query(rusqlite::params_from_iter(values.iter()))?;
                while let Some(r) = rows.next()? {
                    out.push(f(&Row(RowOf::Sqlite(r))));
                }
                out
            }
            Stmt::Postgres(c, s) => c
                .query(s, &values)?
                .iter()
                .map(|r| f(&Row(RowOf::Postgres(r))))
                .collect(),
        };
        Ok(out.into_iter())
    }

    /// `f` of the first row; [`Error::NoRows`] when there is none.
    pub fn query_row<T, P: Params>(
        &mut self,
        params: P,
        f: impl FnOnce(&Row) -> Result<T>,
    ) -> Result<T> {
        let values = params.values()?;
        match &mut self.0 {
            Stmt::Sqlite(s) => {
                let mut rows = s.query(rusqlite::params_from_iter(values.iter()))?;
                match rows.next()? {
                    Some(r) => f(&Row(RowOf::Sqlite(r))),
                    None => Err(Error::NoRows),
                }
            }
            Stmt::Postgres(c, s) => match c.query(s, &values)?.first() {
                Some(r) => f(&Row(RowOf::Postgres(r))),
                None => Err(Error::NoRows),
            },
        }
    }

    pub fn column_count(&self) -> usize {
        match &self.0 {
            Stmt::Sqlite(s) => s.column_count(),
            Stmt::Postgres(_, s) => s.columns().len(),
        }
    }
}

/// One row of a result.
pub struct Row<'r>(RowOf<'r>);

enum RowOf<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `i` (from 0) as a `T`.
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        T::from_value(self.value(i)?)
    }

    pub fn column_count(&self) -> usize {
        match &self.0 {
            RowOf::Sqlite(r) => r.as_ref().column_count(),
            RowOf::Postgres(r) => r.len(),
        }
    }

    pub fn value(&self, i: usize) -> Result<ValueRef<'_>> {
        match &self.0 {
            RowOf::Sqlite(r) => Ok(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => ValueRef::Null,
                rusqlite::types::ValueRef::Integer(n) => ValueRef::Integer(n),
                rusqlite::types::ValueRef::Real(x) => ValueRef::Real(x),
                rusqlite::types::ValueRef::Text(t) => ValueRef::Text(
                    std::str::from_utf8(t).map_err(|e| Error::Conversion(e.to_string()))?,
                ),
                rusqlite::types::ValueRef::Blob(_) => {
                    return Err(Error::Conversion(format!("column {i} is a blob")));
                }
            }),
            RowOf::Postgres(r) => crate::store::postgres::value(r, i),
        }
    }
}

/// A value read from or bound to a statement, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
}

/// A value kept for later (a remembered sort key, a list of parameters built at run time).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(n) => ValueRef::Integer(*n),
            Value::Real(x) => ValueRef::Real(*x),
            Value::Text(t) => ValueRef::Text(t),
        }
    }
}

/// A Rust value a column can be read as.
pub trait FromValue: Sized {
    fn from_value(v: ValueRef<'_>) -> Result<Self>;
}

fn mismatch(v: ValueRef<'_>, want: &str) -> Error {
    Error::Conversion(format!("expected {want}, found {v:?}"))
}

impl FromValue for i64 {
    fn from_value(v: ValueRef<'_>) -> Result<i64> {
        match v {
            ValueRef::Integer(n) => Ok(n),
            v => Err(mismatch(v, "an integer")),
        }
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: ValueRef<'_>) -> Result<$t> {
                let n = i64::from_value(v)?;
                <$t>::try_from(n).map_err(|_| {
                    Error::Conversion(format!("{n} is out of range for {}", stringify!($t)))
                })
            }
        }
    )*};
}
from_integer!(i32, u32, u64, usize);

impl FromValue for bool {
    fn from_value(v: ValueRef<'_>) -> Result<bool> {
        Ok(i64::from_value(v)? != 0)
    }
}

impl FromValue for f64 {
    fn from_value(v: ValueRef<'_>) -> Result<f64> {
        match v {
            ValueRef::Real(x) => Ok(x),
            ValueRef::Integer(n) => Ok(n as f64),
            v => Err(mismatch(v, "a number")),
        }
    }
}

impl FromValue for String {
    fn from_value(v: ValueRef<'_>) -> Result<String> {
        match v {
            ValueRef::Text(t) => Ok(t.to_string()),
            v => Err(mismatch(v, "text")),
        }
    }
}

impl FromValue for Value {
    fn from_value(v: ValueRef<'_>) -> Result<Value> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Text(t) => Value::Text(t.to_string()),
        })
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: ValueRef<'_>) -> Result<Option<T>> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A Rust value that can be bound as a parameter.
pub trait ToValue {
    fn to_value(&self) -> Result<ValueRef<'_>>;
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Result<ValueRef<'_>> {
        (**self).to_value()
    }
}

impl ToValue for i64 {
    fn to_value(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Integer(*self))
    }
}

macro_rules! to_integer {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Result<ValueRef<'_>> {
                i64::try_from(*self).map(ValueRef::Integer).map_err(|_| {
                    Error::Conversion(format!("{self} is out of range for a 64-bit integer"))
                })
            }
        }
    )*};
}
to_integer!(i32, u32, u64, usize);

impl ToValue for bool {
    fn to_value(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Integer(*self as i64))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Real(*self))
    }
}

impl ToValue for str {
    fn to_value(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Text(self))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Text(self))
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Result<ValueRef<'_>> {
        Ok(self.as_ref())
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Result<ValueRef<'_>> {
        match self {
            Some(v) => v.to_value(),
            None => Ok(ValueRef::Null),
        }
    }
}

/// A statement's parameters: `params![a, b]`, an array `[a]` (`[]` for none), or
/// [`params_from_iter`].
pub trait Params {
    fn values(&self) -> Result<Vec<ValueRef<'_>>>;
}

/// The parameters `params!` builds.
pub struct ParamList<'a>(pub &'a [&'a dyn ToValue]);

impl Params for ParamList<'_> {
    fn values(&self) -> Result<Vec<ValueRef<'_>>> {
        self.0.iter().map(|v| v.to_value()).collect()
    }
}

impl Params for [&dyn ToValue; 0] {
    fn values(&self) -> Result<Vec<ValueRef<'_>>> {
        Ok(Vec::new())
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToValue> Params for [T; $n] {
            fn values(&self) -> Result<Vec<ValueRef<'_>>> {
                self.iter().map(|v| v.to_value()).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8);

/// Parameters built at run time (or the first that could not be bound).
pub struct ParamsFromIter(Result<Vec<Value>, String>);

/// Parameters from any list of values.
pub fn params_from_iter<I>(values: I) -> ParamsFromIter
where
    I: IntoIterator,
    I::Item: ToValue,
{
    ParamsFromIter(
        values
            .into_iter()
            .map(|v| {
                v.to_value()
                    .map(ValueRef::into_owned)
                    .map_err(|e| e.to_string())
            })
            .collect(),
    )
}

impl ValueRef<'_> {
    pub fn into_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Integer(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Text(t) => Value::Text(t.to_string()),
        }
    }
}

impl Params for ParamsFromIter {
    fn values(&self) -> Result<Vec<ValueRef<'_>>> {
        match &self.0 {
            Ok(values) => Ok(values.iter().map(Value::as_ref).collect()),
            Err(e) => Err(Error::Conversion(e.clone())),
        }
    }
}

/// A statement's parameters, in order: `params![uuid, name, 3]`.
#[macro_export]
macro_rules! sql_params {
    ($($v:expr),* $(,)?) => {
        $crate::store::sql::ParamList(&[$(&$v as &dyn $crate::store::sql::ToValue),*])
    };
}
pub use crate::sql_params as params;

impl rusqlite::ToSql for ValueRef<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as V};
        Ok(ToSqlOutput::Borrowed(match *self {
            ValueRef::Null => V::Null,
            ValueRef::Integer(n) => V::Integer(n),
            ValueRef::Real(x) => V::Real(x),
            ValueRef::Text(t) => V::Text(t.as_bytes()),
        }))
    }
}

/// Why a statement failed.
#[derive(Debug)]
pub enum Error {
    /// `query_row` found no row.
    NoRows,
    /// A constraint (unique, foreign key, ...) refused the write.
    Constraint(String),
    /// The database was busy or locked: worth retrying later.
    Busy(String),
    /// The transaction lost a race with another (a serialization failure or a deadlock):
    /// running it again from the start will do.
    Conflict(String),
    /// A value did not fit what it was read or bound as.
    Conversion(String),
    /// Anything else: unreachable, broken, or a mistake in the SQL.
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoRows => f.write_str("no row"),
            Error::Constraint(m)
            | Error::Busy(m)
            | Error::Conflict(m)
            | Error::Conversion(m)
            | Error::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode as C;
        match e.sqlite_error_code() {
            _ if matches!(e, rusqlite::Error::QueryReturnedNoRows) => Error::NoRows,
            Some(C::DatabaseBusy | C::DatabaseLocked) => Error::Busy(e.to_string()),
            Some(C::ConstraintViolation) => Error::Constraint(e.to_string()),
            _ => Error::Other(e.to_string()),
        }
    }
}

/// `.optional()` on a `query_row`: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
