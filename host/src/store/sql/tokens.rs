//! Refresh tokens (stored as SHA-256 digests, never in clear) and the revocation list of
//! access tokens.

use super::{Connection, OptionalExtension, params};

use super::now_ms;
use crate::store::{NewRefreshToken, RefreshToken, StoreResult, TokenStore};

pub fn insert_refresh(conn: &Connection, t: &NewRefreshToken) -> super::Result<()> {
    conn.prepare_cached(
        "INSERT INTO refresh_tokens(token_hash, client_id, account_id, scope, audience,
                                    created_ms, expires_ms)
         SELECT ?1, c.id, a.id, ?4, ?5, CAST(?6 AS BIGINT), CAST(?7 AS BIGINT)
         FROM clients c, accounts a
         WHERE c.client_id = ?2 AND a.uuid = ?3",
    )?
    .execute(params![
        t.hash,
        t.client_id,
        t.account_id,
        t.scope,
        t.audience,
        now_ms(),
        t.expires_ms
    ])?;
    Ok(())
}

/// The refresh token with this digest, expired or not.
pub fn refresh_by_hash(conn: &Connection, hash: &str) -> super::Result<Option<RefreshToken>> {
    conn.prepare_cached(
        "SELECT c.client_id, a.uuid, t.scope, t.audience, t.created_ms, t.expires_ms
         FROM refresh_tokens t JOIN clients c ON c.id = t.client_id
         JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = ?1",
    )?
    .query_row([hash], |r| {
        Ok(RefreshToken {
            client_id: r.get(0)?,
            account_id: r.get(1)?,
            scope: r.get(2)?,
            audience: r.get(3)?,
            created_ms: r.get(4)?,
            expires_ms: r.get(5)?,
        })
    })
    .optional()
}

/// Deletes the refresh token with this digest; false when there was none.
pub fn delete_refresh(conn: &Connection, hash: &str) -> super::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM refresh_tokens WHERE token_hash = ?1")?
        .execute([hash])?
        > 0)
}

/// Puts an access token's id on the revocation list until the token expires anyway, and
/// forgets revocations nobody needs any more.
pub fn revoke_access(conn: &Connection, jti: &str, expires_ms: u64) -> super::Result<()> {
    conn.prepare_cached("DELETE FROM revoked_tokens WHERE expires_ms < ?1")?
        .execute([now_ms()])?;
    conn.prepare_cached(
        "INSERT INTO revoked_tokens(jti, expires_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![jti, expires_ms])?;
    Ok(())
}

pub fn is_revoked(conn: &Connection, jti: &str) -> super::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM revoked_tokens WHERE jti = ?1")?
        .query_row([jti], |_| Ok(()))
        .optional()?
        .is_some())
}

impl TokenStore for Connection {
    fn insert_refresh(&self, t: &NewRefreshToken) -> StoreResult<()> {
        Ok(insert_refresh(self, t)?)
    }

    fn refresh_by_hash(&self, hash: &str) -> StoreResult<Option<RefreshToken>> {
        Ok(refresh_by_hash(self, hash)?)
    }

    fn delete_refresh(&self, hash: &str) -> StoreResult<bool> {
        Ok(delete_refresh(self, hash)?)
    }

    fn revoke_access(&self, jti: &str, expires_ms: u64) -> StoreResult<()> {
        Ok(revoke_access(self, jti, expires_ms)?)
    }

    fn is_revoked(&self, jti: &str) -> StoreResult<bool> {
        Ok(is_revoked(self, jti)?)
    }
}
