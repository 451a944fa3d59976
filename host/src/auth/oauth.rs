//! The OAuth2 authorization server for this API: client authentication and the
//! `client_credentials`, `password` and `refresh_token` grants (RFC 6749), introspection
//! (RFC 7662) and revocation (RFC 7009). Blocking: runs on the blocking pool. The slow
//! hash checks run before the write transaction, so they never hold the write lock.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::keys::Keyring;
use super::throttle::Throttle;
use super::{Grant, TokenKind, effective_scopes, mint, verify};
use crate::passwords;
use crate::store::Credentials;
use crate::store::{Db, NewRefreshToken, Store, StoreError, TxMode, now_ms};

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
/// form); a public client (`none`) names itself and sends no secret. Secret checks are
/// throttled per client (and source), and a secret sent for an unknown or public client is
/// checked against a dummy hash, so the answer takes as long whether the client exists
/// or not.
pub fn authenticate_client(
    conn: &dyn Store,
    throttle: &Throttle,
    auth: &ClientAuth,
    source: IpAddr,
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
    let found = conn.clients().credentials(&id)?;
    let public = |c: &Credentials| c.client.token_endpoint_auth_method == "none";
    let secret = secret.filter(|s| !s.is_empty());
    let creds = match secret.as_deref() {
        None => found.filter(|c| public(c) && c.secret_hash.is_none()),
        Some(given) => {
            let attempt = throttle
                .begin(&id, source)
                .map_err(|wait| throttled("client authentication", wait))?;
            let hash = found
                .as_ref()
                .filter(|c| !public(c))
                .and_then(|c| c.secret_hash.as_deref());
            let valid = passwords::verify(given, hash.unwrap_or(passwords::dummy_hash()))
                .map_err(|_| busy())?
                && hash.is_some();
            let creds = found.filter(|_| valid);
            if creds.is_some() {
                attempt.succeeded();
            }
            creds
        }
    };
    let creds = creds.ok_or_else(bad)?;
    if !creds.client.active {
        return Err(OAuthError::invalid_client("Client is suspended"));
    }
    Ok(creds)
}

/// 429 with `Retry-After`: too many failed attempts.
fn throttled(what: &str, wait: std::time::Duration) -> OAuthError {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let error = if what == "login" {
        "invalid_grant"
    } else {
        "invalid_client"
    };
    let mut e = OAuthError::new(
        429,
        error,
        format!("Too many failed {what} attempts: try again in {secs} seconds"),
    );
    e.retry_after = Some(secs);
    e
}

/// 503: every hashing turn is taken; the client should retry shortly.
fn busy() -> OAuthError {
    let mut e = OAuthError::new(
        503,
        "temporarily_unavailable",
        "Too many credential checks in progress: try again shortly",
    );
    e.retry_after = Some(1);
    e
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
    /// Failed password attempts, per account.
    pub throttle: &'a Throttle,
    /// Failed client-secret attempts, per client.
    pub client_throttle: &'a Throttle,
}

/// `POST /token`: authenticates the client and runs the grant.
pub fn token(
    conn: &dyn Store,
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
        authenticate_client(conn, iss.client_throttle, auth, source)?;
        return Err(OAuthError::new(
            400,
            "unsupported_grant_type",
            format!("Unsupported grant type: {grant}"),
        ));
    }
    let creds = authenticate_client(conn, iss.client_throttle, auth, source)?;
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
            iss.db.transaction(TxMode::Write, |conn| {
                conn.clients().mark_used(client_id)?;
                let grant = Grant {
                    kind: TokenKind::Client,
                    subject: client_id,
                    scopes: &scopes,
                    client_id: Some(client_id),
                    audience,
                };
                issue(conn, iss, &creds, &grant, None)
            })
        }
        "password" => {
            let account = password_account(conn, iss.throttle, form, source)?;
            iss.db.transaction(TxMode::Write, |conn| {
                let held = conn.authorities().of_account(&account)?;
                let scopes = granted_scopes(&creds, form.param("scope"), Some(&held))?;
                let refresh = allows_refresh(&creds).then(|| RefreshGrant {
                    scope: scopes.join(" "),
                });
                conn.clients().mark_used(client_id)?;
                let grant = Grant {
                    kind: TokenKind::User,
                    subject: &account,
                    scopes: &scopes,
                    client_id: Some(client_id),
                    audience,
                };
                issue(conn, iss, &creds, &grant, refresh)
            })
        }
        // Checking and using up the old token in one transaction: it is used only once.
        _ => iss.db.transaction(TxMode::Write, |conn| {
            conn.clients().mark_used(client_id)?;
            refresh(conn, iss, &creds, form, audience)
        }),
    }
}

/// The account a password grant is for, once the password checks out. Attempts are
/// throttled per account, from each source and across all (see `throttle`).
fn password_account(
    conn: &dyn Store,
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
    let attempt = throttle
        .begin(username, source)
        .map_err(|wait| throttled("login", wait))?;
    let found = conn.accounts().by_username(username)?;
    let hash = match &found {
        Some(a) => conn.accounts().password_hash(&a.id)?,
        None => None,
    };
    // Without an account, spend the same time as a real check, so timing does not reveal
    // usernames.
    let valid = passwords::verify(password, hash.as_deref().unwrap_or(passwords::dummy_hash()))
        .map_err(|_| busy())?
        && hash.is_some();
    let Some(account) = found.filter(|_| valid) else {
        return Err(OAuthError::invalid_grant("Bad credentials"));
    };
    attempt.succeeded();
    if !account.active {
        return Err(OAuthError::invalid_grant("User is disabled"));
    }
    Ok(account.id)
}

fn allows_refresh(creds: &Credentials) -> bool {
    creds
        .client
        .grant_types
        .iter()
        .any(|g| g == "refresh_token")
}

/// The scopes a token gets: the requested ones the client may have (all the client's when
/// none are requested), less, for a user token, those backed by authorities the account
/// does not hold (`user_authorities` is `None` for client tokens). Asking only for scopes
/// the client may not have is `invalid_scope`.
fn granted_scopes(
    creds: &Credentials,
    requested: Option<&str>,
    user_authorities: Option<&[String]>,
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
    if let Some(held) = user_authorities {
        scopes = effective_scopes(&scopes, held);
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
    conn: &dyn Store,
    iss: &Issuer,
    creds: &Credentials,
    grant: &Grant,
    refresh: Option<RefreshGrant>,
) -> Result<Value, OAuthError> {
    let lifetime = iss.lifetimes.access(creds.client.access_token_validity);
    let client_id = &creds.client.client_id;
    let access = mint(iss.keyring, iss.issuer, grant, lifetime).map_err(|e| {
        tracing::error!("cannot sign a token: {e:#}");
        OAuthError::server_error()
    })?;
    let mut response = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": grant.scopes.join(" "),
    });
    if let Some(r) = refresh {
        let value = random_token();
        let secs = iss.lifetimes.refresh(creds.client.refresh_token_validity);
        conn.tokens().insert_refresh(&NewRefreshToken {
            hash: &digest(&value),
            client_id,
            account_id: grant.subject,
            scope: &r.scope,
            audience: grant.audience,
            // 0: never expires (as in INDIGO IAM's client settings).
            expires_ms: (secs > 0).then(|| now_ms().saturating_add(secs.saturating_mul(1000))),
        })?;
        response["refresh_token"] = json!(value);
    }
    Ok(response)
}

/// The `refresh_token` grant: the old token is used up (rotation) and a new one issued
/// with the same scopes; a narrower `scope` narrows only the access token.
fn refresh(
    conn: &dyn Store,
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
    // The submitted value is never echoed: it is a credential.
    let invalid = || OAuthError::invalid_grant("Invalid refresh token");
    let stored = conn.tokens().refresh_by_hash(&hash)?.ok_or_else(invalid)?;
    if stored.client_id != creds.client.client_id {
        return Err(OAuthError::invalid_grant(
            "The refresh token was issued to another client",
        ));
    }
    conn.tokens().delete_refresh(&hash)?;
    if stored.expires_ms.is_some_and(|e| e <= now_ms()) {
        return Err(OAuthError::invalid_grant("Refresh token expired"));
    }
    let account = conn
        .accounts()
        .by_uuid(&stored.account_id)?
        .ok_or_else(invalid)?;
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
    // The account or the client may have lost rights since the original grant: both the
    // new access token and the new refresh token keep only what still holds.
    let held = conn.authorities().of_account(&account.id)?;
    let scopes = granted_scopes(creds, Some(wanted), Some(&held))?;
    let audience = audience.or(stored.audience.as_deref());
    let refresh = RefreshGrant {
        scope: effective_scopes(&original, &held).join(" "),
    };
    let grant = Grant {
        kind: TokenKind::User,
        subject: &account.id,
        scopes: &scopes,
        client_id: Some(&creds.client.client_id),
        audience,
    };
    issue(conn, iss, creds, &grant, Some(refresh))
}

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
        let Some(principal) = super::principal(conn, &claims).ok().filter(|_| !expired) else {
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
pub fn revoke(
    db: &Db,
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
    db.transaction(TxMode::Write, |conn| {
        if let Some(stored) = conn.tokens().refresh_by_hash(&hash)? {
            if stored.client_id != client.client.client_id {
                return Err(other_client());
            }
            conn.tokens().delete_refresh(&hash)?;
            return Ok(());
        }
        // An expired access token needs no revoking; any other valid one does.
        if let Ok(claims) = verify(keyring, issuer, token) {
            if claims.client_id.as_deref() != Some(client.client.client_id.as_str()) {
                return Err(other_client());
            }
            // Saturating: a wrapped expiry would let the revocation be purged at once.
            conn.tokens()
                .revoke_access(&claims.jti, claims.exp.saturating_mul(1000))?;
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
