//! Signing-key rows. The cryptography lives in `auth::keys`.

use crate::store::{KeyRow, KeyStore, StoreResult};
use rusqlite::{Connection, params};

/// Every key, newest first.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<KeyRow>> {
    conn.prepare("SELECT kid, private_pem, public_x, public_y FROM signing_keys ORDER BY created_ms DESC, rowid DESC")?
        .query_map([], |r| {
            Ok(KeyRow { kid: r.get(0)?, private_pem: r.get(1)?, x: r.get(2)?, y: r.get(3)? })
        })?
        .collect()
}

pub fn insert(conn: &Connection, key: &KeyRow) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO signing_keys(kid, private_pem, public_x, public_y, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![key.kid, key.private_pem, key.x, key.y, super::now_ms()],
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
