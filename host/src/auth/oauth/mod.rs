//! The OAuth2 authorization server for this API: client authentication and the
//! `client_credentials`, `password` and `refresh_token` grants (RFC 6749), introspection
//! (RFC 7662) and revocation (RFC 7009). Blocking: runs on the blocking pool. The slow
//! hash checks run before the write transaction, so they never hold the write lock.
//!
//! This file holds what the parts share: the errors, the token lifetimes and how opaque
//! tokens are made and stored. `client_auth` checks who the client is, `grants` runs
//! `POST /token`, `introspection` answers `POST /introspect` and `POST /revoke`; their
//! public items are re-exported here.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::store::StoreError;

mod client_auth;
mod grants;
mod introspection;

pub use client_auth::{ClientAuth, authenticate_client};
pub use grants::{Form, Issuer, token};
pub use introspection::{introspect, revoke};

/// Token lifetimes used when a client has none of its own, and the most any client gets.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access_secs: u64,
    pub refresh_secs: u64,
    /// The longest access token lifetime (registration refuses more).
    pub max_access_secs: u64,
    /// The longest refresh token lifetime; 0: no maximum, and refresh tokens may never expire.
    pub max_refresh_secs: u64,
}

impl Lifetimes {
    /// The access token lifetime of a client: its own or the default, cut to the maximum (a
    /// client registered before the maximum was lowered gets the maximum).
    pub fn access(&self, client: Option<u64>) -> u64 {
        client.unwrap_or(self.access_secs).min(self.max_access_secs)
    }

    /// The refresh token lifetime of a client (0: never expires, only without a maximum).
    pub fn refresh(&self, client: Option<u64>) -> u64 {
        let secs = client.unwrap_or(self.refresh_secs);
        match self.max_refresh_secs {
            0 => secs.min(crate::config::MAX_LIFETIME_SECS),
            max if secs == 0 => max,
            max => secs.min(max),
        }
    }
}

/// An RFC 6749 §5.2 error: `{"error": ..., "error_description": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
    /// Seconds to wait before trying again (throttled password attempts).
    pub retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: u16, error: &'static str, description: impl Into<String>) -> OAuthError {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_request", description)
    }

    /// 401: the caller must answer with `WWW-Authenticate: Basic`.
    pub fn invalid_client(description: impl Into<String>) -> OAuthError {
        OAuthError::new(401, "invalid_client", description)
    }

    fn invalid_grant(description: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_grant", description)
    }

    fn invalid_scope(description: impl Into<String>) -> OAuthError {
        OAuthError::new(400, "invalid_scope", description)
    }

    pub fn server_error() -> OAuthError {
        OAuthError::new(500, "server_error", "Internal server error")
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> OAuthError {
        tracing::error!("token endpoint database error: {e}");
        OAuthError::server_error()
    }
}

/// A new opaque token: 256 random bits.
fn random_token() -> String {
    use rand_core::RngCore;
    let mut bytes = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How a refresh token is stored: its SHA-256, hex. The token has 256 random bits, so a
/// fast hash is enough to make a stolen database useless.
fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_never_pass_their_maximums() {
        let l = Lifetimes {
            access_secs: 3600,
            refresh_secs: 600,
            max_access_secs: 86_400,
            max_refresh_secs: 1000,
        };
        assert_eq!(l.access(None), 3600);
        assert_eq!(l.access(Some(120)), 120);
        // A client stored with more (registered under a higher maximum) gets the maximum.
        assert_eq!(l.access(Some(1 << 62)), 86_400);
        assert_eq!(l.refresh(None), 600);
        assert_eq!(l.refresh(Some(1 << 62)), 1000);
        assert_eq!(
            l.refresh(Some(0)),
            1000,
            "never expiring needs the maximum lifted"
        );
        let unbounded = Lifetimes {
            max_refresh_secs: 0,
            ..l
        };
        assert_eq!(unbounded.refresh(Some(0)), 0);
        assert_eq!(
            unbounded.refresh(Some(u64::MAX)),
            crate::config::MAX_LIFETIME_SECS
        );
    }
}
