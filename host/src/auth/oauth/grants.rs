//! `POST /token` (RFC 6749): the `client_credentials`, `password` and `refresh_token`
//! grants, the scopes a token gets, and issuing access and refresh tokens.

use std::net::IpAddr;

use serde_json::{Value, json};

use super::client_auth::{busy, throttled};
use super::{ClientAuth, Lifetimes, OAuthError, authenticate_client, digest, random_token};
use crate::audit::{Actor, Event, caller_text};
use crate::auth::keys::Keyring;
use crate::auth::throttle::Throttle;
use crate::auth::{Grant, TokenKind, effective_scopes, mint};
use crate::passwords;
use crate::store::{Credentials, Db, NewRefreshToken, Store, TxMode, now_ms};

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
    /// The request's id and the caller's address, for the audit trail.
    pub request: &'a str,
    pub source: IpAddr,
}

impl Issuer<'_> {
    /// Stores one token-endpoint event (issuance, failed or throttled login) on `conn`:
    /// with a token, in the transaction that issues it.
    fn record(
        &self,
        conn: &dyn Store,
        kind: &'static str,
        account: Option<&str>,
        client: Option<&str>,
        detail: String,
    ) -> Result<(), OAuthError> {
        let actor = Actor {
            account: account.map(String::from),
            client: client.map(String::from),
            source: Some(self.source),
            job: None,
        };
        let event = Event::apart(kind, account.map(String::from), detail);
        conn.audit().record(self.request, &actor, &[event])?;
        Ok(())
    }

    /// [`Issuer::record`] in a write transaction of its own (the refusals, which write
    /// nothing else).
    fn record_apart(&self, kind: &'static str, account: Option<&str>, client: &str, detail: &str) {
        let stored = self.db.transaction(TxMode::Write, |conn| {
            self.record(conn, kind, account, Some(client), detail.to_string())
        });
        if let Err(e) = stored {
            tracing::error!(
                request = self.request,
                "cannot store the audit event {kind}: {}",
                e.description
            );
        }
    }
}

/// `POST /token`: authenticates the client and runs the grant.
pub fn token(
    conn: &dyn Store,
    iss: &Issuer,
    auth: &ClientAuth,
    form: &impl Form,
) -> Result<Value, OAuthError> {
    let source = iss.source;
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
            let account = password_account(conn, iss, client_id, form)?;
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
    iss: &Issuer,
    client_id: &str,
    form: &impl Form,
) -> Result<String, OAuthError> {
    let username = form
        .param("username")
        .ok_or_else(|| OAuthError::invalid_request("Missing parameter: username"))?;
    let password = form
        .param("password")
        .ok_or_else(|| OAuthError::invalid_request("Missing parameter: password"))?;
    let attempt = iss.throttle.begin(username, iss.source).map_err(|r| {
        iss.record_apart("login throttled", None, client_id, &caller_text(username));
        throttled("login", r)
    })?;
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
    let account = match found {
        Some(a) if valid => a,
        other => {
            let id = other.map(|a| a.id);
            iss.record_apart(
                "login failed",
                id.as_deref(),
                client_id,
                &caller_text(username),
            );
            return Err(OAuthError::invalid_grant("Bad credentials"));
        }
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
    let user = (grant.kind == TokenKind::User).then_some(grant.subject);
    iss.record(
        conn,
        "token issued",
        user,
        Some(client_id),
        grant.scopes.join(" "),
    )?;
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
