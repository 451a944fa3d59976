//! Refresh tokens and revoked access tokens.

use super::StoreResult;

/// A stored refresh token.
pub struct RefreshToken {
    /// The client it was issued to (`client_id`).
    pub client_id: String,
    /// The account it acts for (UUID).
    pub account_id: String,
    /// The scopes granted with it, space-separated.
    pub scope: String,
    pub audience: Option<String>,
    pub created_ms: u64,
    pub expires_ms: Option<u64>,
}

pub struct NewRefreshToken<'a> {
    pub hash: &'a str,
    pub client_id: &'a str,
    pub account_id: &'a str,
    pub scope: &'a str,
    pub audience: Option<&'a str>,
    pub expires_ms: Option<u64>,
}

/// Refresh tokens and revoked access tokens.
pub trait TokenStore {
    fn insert_refresh(&self, t: &NewRefreshToken) -> StoreResult<()>;
    /// The refresh token with this digest, expired or not.
    fn refresh_by_hash(&self, hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Deletes the refresh token with this digest; false when there was none.
    fn delete_refresh(&self, hash: &str) -> StoreResult<bool>;
    /// Puts an access token's id on the revocation list until the token expires anyway, and
    /// forgets revocations nobody needs any more.
    fn revoke_access(&self, jti: &str, expires_ms: u64) -> StoreResult<()>;
    fn is_revoked(&self, jti: &str) -> StoreResult<bool>;
}
