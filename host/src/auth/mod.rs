//! Authentication: ES256 bearer tokens signed by the server's own keys, and the principal
//! a verified token stands for.

pub mod external;
pub mod keys;
pub mod oauth;
pub mod passwords;
pub mod throttle;
pub mod verified;

use jsonwebtoken::{Algorithm, Header, Validation};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::plugins::types::Principal;
use crate::store::{accounts, authorities, clients, now_ms, tokens};
use external::TrustedIssuers;
use keys::{Keyring, LiveKeyring};
use verified::VerifiedTokens;

/// Scopes every account may hold.
pub const USER_SCOPES: &[&str] = &["openid", "profile", "email"];
/// Scopes stripped from the tokens of accounts without `ROLE_ADMIN` (account-api.md §1).
pub const ADMIN_SCOPES: &[&str] = &[
    "iam:admin.read",
    "iam:admin.write",
    "scim:read",
    "scim:write",
];

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The account UUID for a user token, the client id for a client token.
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default)]
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The audience the client asked for (`audience` parameter of `POST /token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// Why a request is not authenticated; both are 401.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    /// No bearer token at all.
    Missing,
    /// A token that cannot be accepted; the text says why.
    Invalid(String),
}

/// Signs an access token for an account.
pub fn mint(
    keyring: &Keyring,
    issuer: &str,
    subject: &str,
    scopes: &[String],
    lifetime_secs: u64,
    client_id: Option<&str>,
    audience: Option<&str>,
) -> anyhow::Result<String> {
    let now = now_ms() / 1000;
    let claims = Claims {
        iss: issuer.to_string(),
        sub: subject.to_string(),
        iat: now,
        exp: now + lifetime_secs,
        jti: uuid::Uuid::new_v4().to_string(),
        nbf: None,
        scope: scopes.join(" "),
        client_id: client_id.map(Into::into),
        aud: audience.map(Into::into),
    };
    let key = keyring.active();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    Ok(jsonwebtoken::encode(&header, &claims, &key.encoding)?)
}

/// Checks a token's algorithm, key, signature, issuer and validity window.
pub fn verify(keyring: &Keyring, issuer: &str, token: &str) -> Result<Claims, AuthError> {
    let invalid = |m: &str| AuthError::Invalid(m.to_string());
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("Invalid access token"))?;
    // Only our own algorithm: `none`, HS256 keyed with a public key and the like are refused.
    if header.alg != Algorithm::ES256 {
        return Err(invalid("Invalid access token: unsupported algorithm"));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("Invalid access token: no key id"))?;
    let key = keyring
        .find(&kid)
        .ok_or_else(|| invalid("Invalid access token: unknown key id"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.leeway = 5;
    jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)
        .map(|data| data.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => invalid("Access token expired"),
            jsonwebtoken::errors::ErrorKind::ImmatureSignature => {
                invalid("Access token not yet valid")
            }
            jsonwebtoken::errors::ErrorKind::InvalidIssuer => {
                invalid("Invalid access token: wrong issuer")
            }
            _ => invalid("Invalid access token"),
        })
}

/// The principal a bearer token stands for: the token verified (with the keys in the
/// database now, when it names a key this server has not loaded yet), then its account or
/// client checked. A token of a trusted external issuer acts as the account its identity
/// is linked to. Blocking.
pub fn authenticate(
    conn: &Connection,
    keyring: &LiveKeyring,
    issuer: &str,
    trusted: &TrustedIssuers,
    verified: &VerifiedTokens,
    token: &str,
) -> Result<Principal, AuthError> {
    if let Some(claims) = verified.get(token) {
        return principal(conn, &claims);
    }
    if let Some(other) = external::unverified_issuer(token).filter(|i| i != issuer)
        && let Some(t) = trusted.find(&other)
    {
        return t.authenticate(conn, token);
    }
    let mut keys = keyring.get();
    let kid = jsonwebtoken::decode_header(token).ok().and_then(|h| h.kid);
    if let Some(kid) = kid
        && keys.find(&kid).is_none()
        && keyring.may_reload_for_unknown_kid()
    {
        keys = keyring
            .refresh(conn)
            .map_err(|_| AuthError::Invalid("Cannot verify the access token now".into()))?;
    }
    let claims = verify(&keys, issuer, token)?;
    verified.insert(token, &claims);
    principal(conn, &claims)
}

/// The principal a verified token stands for. The token must not be revoked, and the
/// client it was issued to must still exist and be active; a user token's account must
/// still exist and be active, and its authorities are read now, so a revoked role takes
/// effect at once.
pub fn principal(conn: &Connection, claims: &Claims) -> Result<Principal, AuthError> {
    let scopes: Vec<String> = claims.scope.split_whitespace().map(String::from).collect();
    let db_error = |_| AuthError::Invalid("Cannot verify the access token now".into());
    if tokens::is_revoked(conn, &claims.jti).map_err(db_error)? {
        return Err(AuthError::Invalid("Invalid access token: revoked".into()));
    }
    if let Some(client) = &claims.client_id {
        let live = clients::get(conn, client)
            .map_err(db_error)?
            .is_some_and(|c| c.active);
        if !live {
            return Err(AuthError::Invalid(
                "Invalid access token: the client no longer exists or is suspended".into(),
            ));
        }
    }
    match accounts::by_uuid(conn, &claims.sub).map_err(db_error)? {
        Some(account) if account.active => Ok(Principal {
            authorities: authorities::of_account(conn, &account.id).map_err(db_error)?,
            account_id: Some(account.id),
            username: Some(account.username),
            client_id: claims.client_id.clone(),
            scopes,
        }),
        Some(_) => Err(AuthError::Invalid(
            "Invalid access token: the account is disabled".into(),
        )),
        None if claims.client_id.as_deref() == Some(claims.sub.as_str()) => Ok(Principal {
            account_id: None,
            username: None,
            client_id: claims.client_id.clone(),
            authorities: Vec::new(),
            scopes,
        }),
        None => Err(AuthError::Invalid(
            "Invalid access token: the account no longer exists".into(),
        )),
    }
}

/// The scopes a user token gets: the requested ones (or every scope the account may hold
/// when none are requested), without the admin scopes unless the account is an admin.
pub fn user_token_scopes(requested: Option<&str>, is_admin: bool) -> Vec<String> {
    let allowed = |s: &str| is_admin || !ADMIN_SCOPES.contains(&s);
    match requested {
        Some(r) => r
            .split_whitespace()
            .filter(|s| allowed(s))
            .map(String::from)
            .collect(),
        None => USER_SCOPES
            .iter()
            .chain(ADMIN_SCOPES)
            .filter(|s| allowed(s))
            .map(|s| s.to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_scopes_are_stripped_from_non_admins() {
        assert_eq!(
            user_token_scopes(None, false),
            ["openid", "profile", "email"]
        );
        assert_eq!(user_token_scopes(None, true).len(), 7);
        assert_eq!(
            user_token_scopes(Some("openid scim:write"), false),
            ["openid"]
        );
        assert_eq!(
            user_token_scopes(Some("openid scim:write"), true),
            ["openid", "scim:write"]
        );
    }
}
