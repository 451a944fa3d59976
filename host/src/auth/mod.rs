//! Authentication: ES256 bearer tokens signed by the server's own keys, and the principal
//! a verified token stands for.

pub mod external;
pub mod keys;
pub mod oauth;
pub mod throttle;
pub mod verified;

use crate::store::Store;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::contract::types::Principal;
use crate::store::now_ms;
use external::TrustedIssuers;
use keys::{Keyring, LiveKeyring};
use verified::VerifiedTokens;

/// Scopes every account may hold.
pub const USER_SCOPES: &[&str] = &["openid", "profile", "email"];

/// Scopes that stand for an authority: on a user token each counts only while the account
/// holds the authority *now*. A token outlives a demotion, so issuance alone cannot decide
/// this; [`effective_scopes`] applies the table on every request, and issuance and refresh
/// use the same function. (A client token has no account: its scopes are the client's.)
pub const AUTHORITY_SCOPES: &[(&str, &str)] = &[
    ("iam:admin.read", "ROLE_ADMIN"),
    ("iam:admin.write", "ROLE_ADMIN"),
    ("scim:read", "ROLE_ADMIN"),
    ("scim:write", "ROLE_ADMIN"),
];

/// What a token stands for. The server writes it into every token it signs (claim
/// `kind`), so a client token can never be read as an account's, whatever its `sub`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// An account's token (`sub` is the account UUID).
    User,
    /// A client's own token (client_credentials: `sub` is the client id).
    Client,
}

/// The scopes of a user token that count for an account holding `authorities`: those
/// backed by an authority the account no longer holds are dropped.
pub fn effective_scopes<S: AsRef<str>>(scopes: &[S], authorities: &[String]) -> Vec<String> {
    let holds = |scope: &str| {
        AUTHORITY_SCOPES
            .iter()
            .filter(|(s, _)| *s == scope)
            .all(|(_, authority)| authorities.iter().any(|a| a == authority))
    };
    let mut kept: Vec<String> = Vec::with_capacity(scopes.len());
    for s in scopes.iter().map(AsRef::as_ref) {
        if holds(s) && !kept.iter().any(|k| k == s) {
            kept.push(s.to_string());
        }
    }
    kept
}

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The account UUID for a user token, the client id for a client token.
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub jti: String,
    /// Set by this server on every token; a token without it is refused.
    pub kind: TokenKind,
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

/// The latest expiry a token may carry (year 9999): every later computation in
/// milliseconds stays far from overflowing.
pub const MAX_EXP_SECS: u64 = 253_402_300_799;

/// Why a request is not authenticated; both are 401.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthError {
    /// No bearer token at all.
    Missing,
    /// A token that cannot be accepted; the text says why.
    Invalid(String),
    /// The database could not be asked whether the token still stands (503: nothing is
    /// wrong with the token, try again).
    Unavailable,
}

/// What a new access token says besides its times.
pub struct Grant<'a> {
    pub kind: TokenKind,
    /// The account UUID (user token) or the client id (client token).
    pub subject: &'a str,
    pub scopes: &'a [String],
    pub client_id: Option<&'a str>,
    pub audience: Option<&'a str>,
}

/// Signs an access token.
pub fn mint(
    keyring: &Keyring,
    issuer: &str,
    grant: &Grant,
    lifetime_secs: u64,
) -> anyhow::Result<String> {
    let now = now_ms() / 1000;
    let Grant {
        kind,
        subject,
        scopes,
        client_id,
        audience,
    } = *grant;
    if kind == TokenKind::Client && client_id != Some(subject) {
        anyhow::bail!("a client token's subject is its client id");
    }
    let exp = now
        .checked_add(lifetime_secs)
        .filter(|e| *e <= MAX_EXP_SECS)
        .ok_or_else(|| anyhow::anyhow!("token lifetime of {lifetime_secs} s is too long"))?;
    let claims = Claims {
        iss: issuer.to_string(),
        sub: subject.to_string(),
        iat: now,
        exp,
        jti: uuid::Uuid::new_v4().to_string(),
        kind,
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
        .map_err(|e| e.into_kind())
        .and_then(|data| {
            // We never sign a later expiry; refusing one keeps every time computation small.
            if data.claims.exp > MAX_EXP_SECS {
                Err(jsonwebtoken::errors::ErrorKind::InvalidToken)
            } else {
                Ok(data.claims)
            }
        })
        .map_err(|kind| match kind {
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
    conn: &dyn Store,
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
        keys = keyring.refresh(conn).map_err(|e| {
            tracing::warn!("cannot load the signing keys: {e:#}");
            AuthError::Unavailable
        })?;
    }
    let claims = verify(&keys, issuer, token)?;
    verified.insert(token, &claims);
    principal(conn, &claims)
}

/// The principal a verified token stands for. The token must not be revoked, and the
/// client it was issued to must still exist and be active. A client token stands for its
/// client alone, never for an account. A user token's account must still exist, be
/// active and be older than the token; its authorities are read now, and so are the
/// scopes they back, so a revoked role takes effect at once.
pub fn principal(conn: &dyn Store, claims: &Claims) -> Result<Principal, AuthError> {
    let invalid = |m: &str| AuthError::Invalid(m.to_string());
    let db_error = |e: crate::store::StoreError| {
        tracing::warn!("cannot verify a token: {e}");
        AuthError::Unavailable
    };
    let scopes: Vec<&str> = claims.scope.split_whitespace().collect();
    if conn.tokens().is_revoked(&claims.jti).map_err(db_error)? {
        return Err(invalid("Invalid access token: revoked"));
    }
    if let Some(client) = &claims.client_id {
        let live = conn
            .clients()
            .get(client)
            .map_err(db_error)?
            .is_some_and(|c| c.active);
        if !live {
            return Err(invalid(
                "Invalid access token: the client no longer exists or is suspended",
            ));
        }
    }
    if claims.kind == TokenKind::Client {
        if claims.client_id.as_deref() != Some(claims.sub.as_str()) {
            return Err(invalid("Invalid access token"));
        }
        return Ok(Principal {
            account_id: None,
            username: None,
            client_id: claims.client_id.clone(),
            authorities: Vec::new(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        });
    }
    let account = conn
        .accounts()
        .by_uuid(&claims.sub)
        .map_err(db_error)?
        .ok_or_else(|| invalid("Invalid access token: the account no longer exists"))?;
    if !account.active {
        return Err(invalid("Invalid access token: the account is disabled"));
    }
    // `iat` is whole seconds: a token minted after the account has iat + 1 s > created.
    if claims.iat.saturating_add(1).saturating_mul(1000) <= account.created {
        return Err(invalid(
            "Invalid access token: issued before the account existed",
        ));
    }
    let authorities = conn
        .authorities()
        .of_account(&account.id)
        .map_err(db_error)?;
    Ok(Principal {
        scopes: effective_scopes(&scopes, &authorities),
        authorities,
        account_id: Some(account.id),
        username: Some(account.username),
        client_id: claims.client_id.clone(),
    })
}

/// The scopes a user token gets: the requested ones (or every scope the account may hold
/// when none are requested), less those backed by authorities the account lacks.
pub fn user_token_scopes(requested: Option<&str>, authorities: &[String]) -> Vec<String> {
    match requested {
        Some(r) => effective_scopes(&r.split_whitespace().collect::<Vec<_>>(), authorities),
        None => {
            let all: Vec<&str> = USER_SCOPES
                .iter()
                .chain(AUTHORITY_SCOPES.iter().map(|(s, _)| s))
                .copied()
                .collect();
            effective_scopes(&all, authorities)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_scopes_are_stripped_from_non_admins() {
        let user = ["ROLE_USER".to_string()];
        let admin = ["ROLE_USER".to_string(), "ROLE_ADMIN".to_string()];
        assert_eq!(
            user_token_scopes(None, &user),
            ["openid", "profile", "email"]
        );
        assert_eq!(user_token_scopes(None, &admin).len(), 7);
        assert_eq!(
            user_token_scopes(Some("openid scim:write"), &user),
            ["openid"]
        );
        assert_eq!(
            user_token_scopes(Some("openid scim:write openid"), &admin),
            ["openid", "scim:write"]
        );
        assert_eq!(
            effective_scopes(&["iam:admin.read", "custom"], &user),
            ["custom"]
        );
    }
}
