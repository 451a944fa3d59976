//! Trusted external issuers: a token another OpenID provider signed is accepted when the
//! config trusts its issuer and its (`iss`, `sub`) is an OIDC identity linked to an account
//! (`IndigoUser.oidcIds`); it then acts as that account. Keys come from a JWKS file or URL,
//! cached, and fetched again when a token names a key the cache lacks.
//!
//! Only access tokens minted for this server count: the token's `aud` must name one of
//! the audiences configured for its issuer, and ID tokens (which the provider hands to
//! every relying party a user logs into) are refused, so a token another service received
//! cannot be replayed here.

use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use crate::store::Store;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::{AuthError, effective_scopes};
use crate::contract::types::{OidcId, Principal};

/// How long fetched keys are trusted before they are fetched again.
const CACHE_FOR: Duration = Duration::from_secs(600);
/// The least time between two fetches triggered by unknown key ids.
const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// A JWKS fetch that takes longer fails.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where an issuer's keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    File(PathBuf),
    Url(String),
}

/// One trusted issuer and its cached keys.
pub struct TrustedIssuer {
    pub issuer: String,
    /// The `aud` values that mark a token as minted for this server (at least one).
    audiences: Vec<String>,
    source: JwksSource,
    cache: RwLock<Option<(JwkSet, Instant)>>,
}

/// Every trusted issuer of the config.
#[derive(Default)]
pub struct TrustedIssuers(Vec<TrustedIssuer>);

impl TrustedIssuers {
    /// Each issuer with the audiences its tokens must name and where its keys are.
    pub fn new(list: Vec<(String, Vec<String>, JwksSource)>) -> TrustedIssuers {
        TrustedIssuers(
            list.into_iter()
                .map(|(issuer, audiences, source)| TrustedIssuer {
                    issuer,
                    audiences,
                    source,
                    cache: RwLock::new(None),
                })
                .collect(),
        )
    }

    pub fn find(&self, issuer: &str) -> Option<&TrustedIssuer> {
        self.0.iter().find(|t| t.issuer == issuer)
    }
}

/// `aud`: one string or a list (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn names(&self, wanted: &[String]) -> bool {
        match self {
            Audience::One(a) => wanted.contains(a),
            Audience::Many(list) => list.iter().any(|a| wanted.contains(a)),
        }
    }
}

/// The claims read from an external token.
#[derive(Deserialize)]
struct ExternalClaims {
    sub: String,
    #[serde(default)]
    aud: Option<Audience>,
    /// Claims only ID tokens carry (OpenID Connect Core §2, §3.1.3.6, §3.3.2.11).
    #[serde(default)]
    nonce: Option<serde_json::Value>,
    #[serde(default)]
    at_hash: Option<serde_json::Value>,
    #[serde(default)]
    c_hash: Option<serde_json::Value>,
    /// Keycloak marks its ID tokens `"typ": "ID"` (access tokens: `"Bearer"`).
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    /// Some providers list scopes as an array.
    #[serde(default)]
    scp: Option<Vec<String>>,
}

/// Signature algorithms accepted from other issuers: public-key ones only, so a token
/// "signed" with a published key as an HMAC secret is refused.
const ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

impl TrustedIssuer {
    /// Verifies a token of this issuer and finds the account its identity is linked to.
    pub fn authenticate(&self, conn: &dyn Store, token: &str) -> Result<Principal, AuthError> {
        let invalid = |m: &str| AuthError::Invalid(m.to_string());
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| invalid("Invalid access token"))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(invalid("Invalid access token: unsupported algorithm"));
        }
        let key = self.key(header.kid.as_deref())?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.validate_aud = false;
        validation.leeway = 5;
        let claims = jsonwebtoken::decode::<ExternalClaims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    invalid("Access token expired")
                }
                _ => invalid("Invalid access token"),
            })?
            .claims;
        let id_token = claims.nonce.is_some()
            || claims.at_hash.is_some()
            || claims.c_hash.is_some()
            || claims
                .typ
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("id"))
            || header
                .typ
                .as_deref()
                .is_some_and(|t| t.to_ascii_lowercase().contains("id"));
        if id_token {
            return Err(invalid(
                "Invalid access token: an ID token is not an access token",
            ));
        }
        if !claims
            .aud
            .as_ref()
            .is_some_and(|a| a.names(&self.audiences))
        {
            return Err(invalid("Invalid access token: not issued for this server"));
        }
        let db_error = |e: crate::store::StoreError| {
            tracing::warn!("cannot verify a token: {e}");
            AuthError::Unavailable
        };
        let identity = OidcId {
            issuer: self.issuer.clone(),
            subject: claims.sub.clone(),
        };
        let owner = conn
            .identities()
            .oidc_owner(&identity)
            .map_err(db_error)?
            .ok_or_else(|| {
                invalid("Invalid access token: no account is linked to this identity")
            })?;
        let account = conn
            .accounts()
            .by_uuid(&owner)
            .map_err(db_error)?
            .filter(|a| a.active)
            .ok_or_else(|| invalid("Invalid access token: the account is disabled"))?;
        let held = conn
            .authorities()
            .of_account(&account.id)
            .map_err(db_error)?;
        let scopes = match (claims.scope, claims.scp) {
            (Some(s), _) => s.split_whitespace().map(String::from).collect(),
            (None, Some(list)) => list,
            (None, None) => Vec::new(),
        };
        // Another issuer cannot hand out this server's admin scopes to a non-admin.
        let scopes = effective_scopes(&scopes, &held);
        Ok(Principal {
            authorities: held,
            account_id: Some(account.id),
            username: Some(account.username),
            client_id: None,
            scopes,
        })
    }

    /// The key a token names, from the cache or, when the cache is stale or lacks it, from
    /// the source.
    fn key(&self, kid: Option<&str>) -> Result<DecodingKey, AuthError> {
        let pick = |set: &JwkSet| match kid {
            Some(k) => set.find(k).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let unknown = || AuthError::Invalid("Invalid access token: unknown key id".into());
        let cached = self.cache.read().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((set, at)) = &cached {
            match pick(set) {
                Some(jwk) if at.elapsed() < CACHE_FOR => return decoding_key(&jwk),
                // Just fetched and still unknown: do not let junk key ids hammer the source.
                None if at.elapsed() < REFETCH_AFTER => return Err(unknown()),
                _ => {}
            }
        }
        let set = self.fetch().map_err(|e| {
            tracing::warn!(issuer = %self.issuer, "cannot load the issuer's keys: {e:#}");
            AuthError::Invalid("Cannot verify the access token now".into())
        })?;
        let jwk = pick(&set);
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Some((set, Instant::now()));
        decoding_key(&jwk.ok_or_else(unknown)?)
    }

    fn fetch(&self) -> anyhow::Result<JwkSet> {
        let text = match &self.source {
            JwksSource::File(path) => std::fs::read_to_string(path)?,
            JwksSource::Url(url) => {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(FETCH_TIMEOUT))
                    .build()
                    .into();
                agent.get(url).call()?.body_mut().read_to_string()?
            }
        };
        Ok(serde_json::from_str(&text)?)
    }
}

fn decoding_key(jwk: &jsonwebtoken::jwk::Jwk) -> Result<DecodingKey, AuthError> {
    DecodingKey::from_jwk(jwk)
        .map_err(|_| AuthError::Invalid("Invalid access token: unusable key".into()))
}

/// The `iss` claim of a token, read without checking anything: it only chooses which
/// issuer's keys verify the token.
pub fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("iss")?.as_str().map(String::from)
}
