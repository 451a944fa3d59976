//! The OAuth2 authorization server for this API: client authentication and the
//! `client_credentials`, `password` and `refresh_token` grants (RFC 6749), introspection
//! (RFC 7662) and revocation (RFC 7009). Blocking: runs on the blocking pool. The slow
//! hash checks run before the write transaction, so they never hold the write lock.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rusqlite::Connection;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::keys::Keyring;
use super::throttle::Throttle;
use super::{ADMIN_SCOPES, mint, passwords, verify};
use crate::store::clients::{self, Credentials};
use crate::store::{Db, TxMode, accounts, authorities, begin, now_ms, tokens};

/// Token lifetimes used when a client has none of its own.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub access_secs: u64,
    pub refresh_secs: u64,
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

impl From<rusqlite::Error> for OAuthError {
    fn from(e: rusqlite::Error) -> OAuthError {
        tracing::error!("token endpoint database error: {e}");
        OAuthError::server_error()
    }
}

/// How the client presented itself.
#[derive(Debug, Default)]
pub struct ClientAuth {
    /// `Authorization: Basic` credentials, already decoded.
    pub basic: Option<(String, String)>,
    /// `client_id` form parameter.
    pub form_id: Option<String>,
    /// `client_secret` form parameter.
    pub form_secret: Option<String>,
}

impl ClientAuth {
    /// Reads an `Authorization: Basic` header value: `base64(urlencode(id):urlencode(secret))`
    /// (RFC 6749 §2.3.1).
    pub fn basic_from_header(value: &str) -> Result<Option<(String, String)>, OAuthError> {
        let Some((scheme, rest)) = value.trim().split_once(' ') else {
            return Ok(None);
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return Ok(None);
        }
        let bad = || OAuthError::invalid_client("Invalid basic authentication token");
        let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (id, secret) = text.split_once(':').ok_or_else(bad)?;
        let unescape = |s: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                .ok()
                .and_then(|mut v| v.pop())
                .map(|(_, v)| v)
                .ok_or_else(bad)
        };
        Ok(Some((unescape(id)?, unescape(secret)?)))
    }
}

/// Checks the client's credentials. A confidential client proves its secret (Basic or
/// form); a public client (`none`) names itself and sends no secret.
pub fn authenticate_client(
    conn: &Connection,
    auth: &ClientAuth,
) -> Result<Credentials, OAuthError> {
    let (id, secret) = match (&auth.basic, &auth.form_id) {
        (Some((id, _)), Some(form)) if form != id => {
            return Err(OAuthError::invalid_request(
                "client_id does not match the authenticated client",
            ));
        }
        (Some((id, secret)), _) => {
            if auth.form_secret.is_some() {
                return Err(OAuthError::invalid_request(
                    "Use one client authentication method, not two",
                ));
            }
            (id.clone(), Some(secret.clone()))
        }
        (None, Some(id)) => (id.clone(), auth.form_secret.clone()),
        (None, None) => {
            return Err(OAuthError::invalid_client(
                "Full authentication is required to access this resource",
            ));
        }
    };
    let bad = || OAuthError::invalid_client("Bad client credentials");
    let creds = clients::credentials(conn, &id)?.ok_or_else(bad)?;
    let public = creds.client.token_endpoint_auth_method == "none";
    let ok = match (&creds.secret_hash, secret.as_deref()) {
        (Some(hash), Some(given)) => !public && passwords::verify(given, hash),
        (None, None) => public,
        (None, Some("")) => public,
        _ => false,
    };
    if !ok {
        return Err(bad());
    }
    if !creds.client.active {
        return Err(OAuthError::invalid_client("Client is suspended"));
    }
    Ok(creds)
}

/// The request parameters of `POST /token` the grants read.
pub trait Form {
    fn param(&self, name: &str) -> Option<&str>;
}

/// Everything the token endpoint needs besides the request.
pub struct Issuer<'a> {
    pub db: &'a Db,
    pub keyring: &'a Keyring,
    pub issuer: &'a str,
    pub lifetimes: Lifetimes,
    pub throttle: &'a Throttle,
}

/// Runs `f` in one write transaction, committed only when it succeeds.
fn write<T>(
    db: &Db,
    conn: &Connection,
    f: impl FnOnce() -> Result<T, OAuthError>,
) -> Result<T, OAuthError> {
    let _turn = db.write_gate(TxMode::Write);
    begin(conn, TxMode::Write)?;
    let result = f().and_then(|v| {
        conn.execute_batch("COMMIT")?;
        Ok(v)
    });
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    result
}

/// `POST /token`: authenticates the client and runs the grant.
pub fn token(
    conn: &Connection,
    iss: &Issuer,
    auth: &ClientAuth,
    form: &impl Form,
    source: IpAddr,
) -> Result<Value, OAuthError> {
    let grant = form
        .param("grant_type")
        .filter(|g| !g.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing grant type"))?;
    if !matches!(grant, "client_credentials" | "password" | "refresh_token") {
        // The client is still authenticated first: an unknown client learns nothing.
        authenticate_client(conn, auth)?;
        return Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            format!("Unsupported grant type: {grant}"),
        ));
    }
    let creds = authenticate_client(conn, auth)?;
    if !creds.client.grant_types.iter().any(|g| g == grant) {
        return Err(OAuthError::new(
            400,
            "unauthorized_client",
            format!("Unauthorized grant type: {grant}"),
        ));
    }
    let audience = form.param("audience").filter(|a| !a.is_empty());
    let client_id = &creds.client.client_id;
    match grant {
        "client_credentials" => {
            if creds.client.token_endpoint_auth_method == "none" {
                return Err(OAuthError::invalid_client(
                    "A public client cannot use the client_credentials grant",
                ));
            }
            let scopes = granted_scopes(&creds, form.param("scope"), None)?;
            write(iss.db, conn, || {
                clients::mark_used(conn, client_id)?;
                issue(conn, iss, &creds, client_id, &scopes, audience, None)
            })
        }
        "password" => {
            let account = password_account(conn, iss.throttle, form, source)?;
            write(iss.db, conn, || {
                let is_admin = is_admin(conn, &account)?;
                let scopes = granted_scopes(&creds, form.param("scope"), Some(is_admin))?;
                let refresh = allows_refresh(&creds).then(|| RefreshGrant {
                    scope: scopes.join(" "),
                });
                clients::mark_used(conn, client_id)?;
                issue(conn, iss, &creds, &account, &scopes, audience, refresh)
            })
        }
        // Checking and using up the old token in one transaction: it is used only once.
        _ => write(iss.db, conn, || {
            clients::mark_used(conn, client_id)?;
            refresh(conn, iss, &creds, form, audience)
        }),
    }
}

/// The account a password grant is for, once the password checks out. Failures are
/// throttled per account and source address, so a guesser elsewhere cannot lock the owner
/// out, and a lock always ends.
fn password_account(
    conn: &Connection,
    throttle: &Throttle,
    form: &impl Form,
    source: IpAddr,
) -> Result<String, OAuthError> {
    let username = form
        .param("username")
        .ok_or_else(|| OAuthError::invalid_request("Missing parameter: username"))?;
    let password = form
        .param("password")
        .ok_or_else(|| OAuthError::invalid_request("Missing parameter: password"))?;
    if let Err(wait) = throttle.check(username, source) {
        let secs = wait.as_secs().max(1);
        let mut e = OAuthError::new(
            429,
            "invalid_grant",
            format!("Too many failed login attempts: try again in {secs} seconds"),
        );
        e.retry_after = Some(secs);
        return Err(e);
    }
    let found = accounts::by_username(conn, username)?;
    let hash = match &found {
        Some(a) => accounts::password_hash(conn, &a.id)?,
        None => None,
    };
    let valid = match &hash {
        Some(h) => passwords::verify(password, h),
        None => {
            // Spend the same time as a real check, so timing does not reveal usernames.
            passwords::verify(password, passwords::dummy_hash());
            false
        }
    };
    let Some(account) = found.filter(|_| valid) else {
        throttle.failed(username, source);
        return Err(OAuthError::invalid_grant("Bad credentials"));
    };
    throttle.succeeded(username, source);
    if !account.active {
        return Err(OAuthError::invalid_grant("User is disabled"));
    }
    Ok(account.id)
}

fn is_admin(conn: &Connection, account: &str) -> rusqlite::Result<bool> {
    Ok(authorities::of_account(conn, account)?
        .iter()
        .any(|a| a == "ROLE_ADMIN"))
}

fn allows_refresh(creds: &Credentials) -> bool {
    creds
        .client
        .grant_types
        .iter()
        .any(|g| g == "refresh_token")
}

/// The scopes a token gets: the requested ones the client may have (all the client's when
/// none are requested), without the admin scopes for a user who is not an admin
/// (`user_is_admin` is `None` for client tokens). Asking only for scopes the client may not
/// have is `invalid_scope`.
fn granted_scopes(
    creds: &Credentials,
    requested: Option<&str>,
    user_is_admin: Option<bool>,
) -> Result<Vec<String>, OAuthError> {
    let allowed = &creds.client.scope;
    let requested: Vec<&str> = requested.unwrap_or("").split_whitespace().collect();
    let mut scopes: Vec<String> = if requested.is_empty() {
        allowed.clone()
    } else {
        let granted: Vec<String> = requested
            .iter()
            .filter(|s| allowed.iter().any(|a| a == *s))
            .map(|s| s.to_string())
            .collect();
        if granted.is_empty() {
            return Err(OAuthError::invalid_scope(format!(
                "Invalid scope: {}",
                requested.join(" ")
            )));
        }
        granted
    };
    if user_is_admin == Some(false) {
        scopes.retain(|s| !ADMIN_SCOPES.contains(&s.as_str()));
    }
    scopes.dedup();
    Ok(scopes)
}

/// A refresh token to issue beside the access token.
struct RefreshGrant {
    /// The scopes of the original grant (a refreshed token keeps them).
    scope: String,
}

fn issue(
    conn: &Connection,
    iss: &Issuer,
    creds: &Credentials,
    subject: &str,
    scopes: &[String],
    audience: Option<&str>,
    refresh: Option<RefreshGrant>,
) -> Result<Value, OAuthError> {
    let lifetime = creds
        .client
        .access_token_validity
        .unwrap_or(iss.lifetimes.access_secs);
    let client_id = &creds.client.client_id;
    let access = mint(
        iss.keyring,
        iss.issuer,
        subject,
        scopes,
        lifetime,
        Some(client_id),
        audience,
    )
    .map_err(|e| {
        tracing::error!("cannot sign a token: {e:#}");
        OAuthError::server_error()
    })?;
    let mut response = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scopes.join(" "),
    });
    if let Some(r) = refresh {
        let value = random_token();
        let secs = creds
            .client
            .refresh_token_validity
            .unwrap_or(iss.lifetimes.refresh_secs);
        tokens::insert_refresh(
            conn,
            &tokens::NewRefreshToken {
                hash: &digest(&value),
                client_id,
                account_id: subject,
                scope: &r.scope,
                audience,
                // 0: never expires (as in INDIGO IAM's client settings).
                expires_ms: (secs > 0).then(|| now_ms() + secs * 1000),
            },
        )?;
        response["refresh_token"] = json!(value);
    }
    Ok(response)
}

/// The `refresh_token` grant: the old token is used up (rotation) and a new one issued
/// with the same scopes; a narrower `scope` narrows only the access token.
fn refresh(
    conn: &Connection,
    iss: &Issuer,
    creds: &Credentials,
    form: &impl Form,
    audience: Option<&str>,
) -> Result<Value, OAuthError> {
    let value = form
        .param("refresh_token")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("Missing parameter: refresh_token"))?;
    let hash = digest(value);
    let invalid = || OAuthError::invalid_grant(format!("Invalid refresh token: {value}"));
    let stored = tokens::refresh_by_hash(conn, &hash)?.ok_or_else(invalid)?;
    if stored.client_id != creds.client.client_id {
        return Err(OAuthError::invalid_grant(
            "The refresh token was issued to another client",
        ));
    }
    tokens::delete_refresh(conn, &hash)?;
    if stored.expires_ms.is_some_and(|e| e <= now_ms()) {
        return Err(OAuthError::invalid_grant("Refresh token expired"));
    }
    let account = accounts::by_uuid(conn, &stored.account_id)?.ok_or_else(invalid)?;
    if !account.active {
        return Err(OAuthError::invalid_grant("User is disabled"));
    }
    let original: Vec<&str> = stored.scope.split_whitespace().collect();
    let requested = form.param("scope").filter(|s| !s.trim().is_empty());
    if let Some(r) = requested
        && let Some(extra) = r.split_whitespace().find(|s| !original.contains(s))
    {
        return Err(OAuthError::invalid_scope(format!(
            "Up-scoping is not allowed: {extra}"
        )));
    }
    let wanted = requested.unwrap_or(&stored.scope);
    // The account or the client may have lost rights since the original grant.
    let scopes = granted_scopes(creds, Some(wanted), Some(is_admin(conn, &account.id)?))?;
    let audience = audience.or(stored.audience.as_deref());
    let refresh = RefreshGrant {
        scope: stored.scope.clone(),
    };
    issue(
        conn,
        iss,
        creds,
        &account.id,
        &scopes,
        audience,
        Some(refresh),
    )
}

/// `POST /introspect`: what the token is, for an authenticated confidential client.
pub fn introspect(
    conn: &Connection,
    keyring: &Keyring,
    issuer: &str,
    token: &str,
) -> Result<Value, OAuthError> {
    let inactive = json!({"active": false});
    if let Ok(claims) = verify(keyring, issuer, token) {
        // No leeway here: a resource server asking wants the plain truth.
        let expired = claims.exp <= now_ms() / 1000;
        if expired || super::principal(conn, &claims).is_err() {
            return Ok(inactive);
        }
        let mut v = json!({
            "active": true,
            "token_type": "Bearer",
            "scope": claims.scope,
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
        if let Some(a) = accounts::by_uuid(conn, &claims.sub)? {
            v["username"] = json!(a.username);
        }
        return Ok(v);
    }
    let Some(stored) = tokens::refresh_by_hash(conn, &digest(token))? else {
        return Ok(inactive);
    };
    if stored.expires_ms.is_some_and(|e| e <= now_ms()) {
        return Ok(inactive);
    }
    let Some(account) = accounts::by_uuid(conn, &stored.account_id)?.filter(|a| a.active) else {
        return Ok(inactive);
    };
    let mut v = json!({
        "active": true,
        "token_type": "refresh_token",
        "scope": stored.scope,
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
pub fn revoke(
    db: &Db,
    conn: &Connection,
    keyring: &Keyring,
    issuer: &str,
    client: &Credentials,
    token: &str,
) -> Result<(), OAuthError> {
    let other_client = || {
        OAuthError::new(
            400,
            "unauthorized_client",
            "The token was not issued to this client",
        )
    };
    let hash = digest(token);
    write(db, conn, || {
        if let Some(stored) = tokens::refresh_by_hash(conn, &hash)? {
            if stored.client_id != client.client.client_id {
                return Err(other_client());
            }
            tokens::delete_refresh(conn, &hash)?;
            return Ok(());
        }
        // An expired access token needs no revoking; any other valid one does.
        if let Ok(claims) = verify(keyring, issuer, token) {
            if claims.client_id.as_deref() != Some(client.client.client_id.as_str()) {
                return Err(other_client());
            }
            tokens::revoke_access(conn, &claims.jti, claims.exp * 1000)?;
        }
        Ok(())
    })
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
    fn basic_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20client:s%3Acret"));
        assert_eq!(
            ClientAuth::basic_from_header(&header).unwrap(),
            Some(("my client".into(), "s:cret".into()))
        );
        assert_eq!(ClientAuth::basic_from_header("Bearer x").unwrap(), None);
        assert!(ClientAuth::basic_from_header("Basic !!!").is_err());
        let no_colon = format!("Basic {}", STANDARD.encode("nocolon"));
        assert!(ClientAuth::basic_from_header(&no_colon).is_err());
    }
}
