//! Signing-key rows. The cryptography lives in `auth::keys`.

use super::{Connection, Dialect, params};
use crate::store::{KeyRow, KeyStore, StoreResult};

/// Every key, newest first (of two made in the same millisecond, the one inserted last).
pub fn all(conn: &Connection) -> super::Result<Vec<KeyRow>> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => {
            "SELECT kid, private_pem, public_x, public_y, signs_from_ms FROM signing_keys ORDER BY created_ms DESC, rowid DESC"
        }
        Dialect::Postgres => {
            "SELECT kid, private_pem, public_x, public_y, signs_from_ms FROM signing_keys ORDER BY created_ms DESC, seq DESC"
        }
    };
    conn.prepare(sql)?
        .query_map([], |r| {
            Ok(KeyRow {
                kid: r.get(0)?,
                private_pem: r.get(1)?,
                x: r.get(2)?,
                y: r.get(3)?,
                signs_from_ms: r.get::<i64>(4)?.max(0) as u64,
            })
        })?
        .collect()
}

pub fn insert(conn: &Connection, key: &KeyRow) -> super::Result<()> {
    conn.execute(
        "INSERT INTO signing_keys(kid, private_pem, public_x, public_y, created_ms, signs_from_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key.kid,
            key.private_pem,
            key.x,
            key.y,
            super::now_ms(),
            super::sql_int(key.signs_from_ms)
        ],
    )?;
    Ok(())
}

impl KeyStore for Connection {
    fn all(&self) -> StoreResult<Vec<KeyRow>> {
        Ok(all(self)?)
    }

    fn insert(&self, key: &KeyRow) -> StoreResult<()> {
        Ok(insert(self, key)?)
    }
}
