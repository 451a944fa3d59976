//! `POST /introspect` (RFC 7662), what a token is, and `POST /revoke` (RFC 7009), ending
//! one, for access and refresh tokens alike.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::{OAuthError, digest};
use crate::audit::{Actor, Event};
use crate::auth;
use crate::auth::keys::Keyring;
use crate::auth::{TokenKind, effective_scopes, verify};
use crate::store::{Credentials, Db, Store, TxMode, now_ms};

/// `POST /introspect`: what the token is, for an authenticated confidential client.
pub fn introspect(
    conn: &dyn Store,
    keyring: &Keyring,
    issuer: &str,
    token: &str,
) -> Result<Value, OAuthError> {
    let inactive = json!({"active": false});
    if let Ok(claims) = verify(keyring, issuer, token) {
        // No leeway here: a resource server asking wants the plain truth.
        let expired = claims.exp <= now_ms() / 1000;
        let Some(principal) = auth::principal(conn, &claims).ok().filter(|_| !expired) else {
            return Ok(inactive);
        };
        // The scopes that count now, not those written in the token.
        let mut v = json!({
            "active": true,
            "token_type": "Bearer",
            "scope": principal.scopes.join(" "),
            "sub": claims.sub,
            "iss": claims.iss,
            "iat": claims.iat,
            "exp": claims.exp,
            "jti": claims.jti,
        });
        if let Some(c) = &claims.client_id {
            v["client_id"] = json!(c);
        }
        if let Some(a) = &claims.aud {
            v["aud"] = json!(a);
        }
        if let Some(name) = principal.username {
            v["username"] = json!(name);
        }
        return Ok(v);
    }
    let Some(stored) = conn.tokens().refresh_by_hash(&digest(token))? else {
        return Ok(inactive);
    };
    if stored.expires_ms.is_some_and(|e| e <= now_ms()) {
        return Ok(inactive);
    }
    let Some(account) = conn
        .accounts()
        .by_uuid(&stored.account_id)?
        .filter(|a| a.active)
    else {
        return Ok(inactive);
    };
    let held = conn.authorities().of_account(&account.id)?;
    let original: Vec<&str> = stored.scope.split_whitespace().collect();
    let mut v = json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": effective_scopes(&original, &held).join(" "),
        "client_id": stored.client_id,
        "sub": account.id,
        "username": account.username,
        "iss": issuer,
        "iat": stored.created_ms / 1000,
    });
    if let Some(e) = stored.expires_ms {
        v["exp"] = json!(e / 1000);
    }
    Ok(v)
}

/// `POST /revoke`: ends a token the client holds. Unknown or invalid tokens are not an
/// error (RFC 7009 §2.2); another client's token is refused.
/// Revokes `token` for `client`; the revocation enters the audit trail (`request`,
/// `source`) in its transaction.
pub fn revoke(
    db: &Db,
    keyring: &Keyring,
    issuer: &str,
    client: &Credentials,
    token: &str,
    (request, source): (&str, IpAddr),
) -> Result<(), OAuthError> {
    let other_client = || {
        OAuthError::new(
            400,
            "unauthorized_client",
            "The token was not issued to this client",
        )
    };
    let hash = digest(token);
    let client_id = client.client.client_id.as_str();
    let record = |conn: &dyn Store, account: Option<String>, detail: String| {
        let actor = Actor {
            client: Some(client_id.to_string()),
            source: Some(source),
            ..Actor::default()
        };
        let event = Event::apart("token revoked", account, detail);
        conn.audit().record(request, &actor, &[event])
    };
    db.transaction(TxMode::Write, |conn| {
        if let Some(stored) = conn.tokens().refresh_by_hash(&hash)? {
            if stored.client_id != client_id {
                return Err(other_client());
            }
            conn.tokens().delete_refresh(&hash)?;
            record(conn, Some(stored.account_id), "refresh token".into())?;
            return Ok(());
        }
        // An expired access token needs no revoking; any other valid one does.
        if let Ok(claims) = verify(keyring, issuer, token) {
            if claims.client_id.as_deref() != Some(client_id) {
                return Err(other_client());
            }
            // Saturating: a wrapped expiry would let the revocation be purged at once.
            conn.tokens()
                .revoke_access(&claims.jti, claims.exp.saturating_mul(1000))?;
            let account = (claims.kind == TokenKind::User).then_some(claims.sub);
            record(conn, account, format!("access token {}", claims.jti))?;
        }
        Ok(())
    })
}
