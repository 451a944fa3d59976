//! Client authentication at the token, introspection and revocation endpoints (RFC 6749
//! §2.3): Basic or form credentials, public clients, and the throttling and busy answers
//! of credential checks (shared with the password grant).

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::OAuthError;
use crate::auth::throttle::{Refused, Throttle};
use crate::passwords;
use crate::store::{Credentials, Store};

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
                .map_err(|r| throttled("client authentication", r))?;
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
/// 429 with `Retry-After`: too many failed attempts (or the shared counts failed).
pub(super) fn throttled(what: &str, refused: Refused) -> OAuthError {
    let wait = match refused {
        Refused::Wait(wait) => wait,
        Refused::Store(e) => return OAuthError::from(e),
    };
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
pub(super) fn busy() -> OAuthError {
    let mut e = OAuthError::new(
        503,
        "temporarily_unavailable",
        "Too many credential checks in progress: try again shortly",
    );
    e.retry_after = Some(1);
    e
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
