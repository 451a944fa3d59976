//! Access tokens this server already verified: a client sends the same token on every
//! request, and checking an ES256 signature costs far more than the rest of a small
//! request. Only what the signature proves is remembered (issuer, claims, validity window),
//! and only until the token expires; revocation, the account and its authorities are still
//! checked on every request.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::Claims;
use crate::store::now_ms;

/// Tokens remembered at most; when full, expired ones go, then all.
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct VerifiedTokens(Mutex<HashMap<[u8; 32], Claims>>);

fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether the claims' validity window holds now (the same 5 s leeway as `verify`).
fn current(c: &Claims) -> bool {
    let now = now_ms() / 1000;
    c.exp.saturating_add(5) > now && c.nbf.is_none_or(|nbf| nbf <= now + 5)
}

impl VerifiedTokens {
    /// The claims of `token` if it was verified before and is still within its window.
    pub fn get(&self, token: &str) -> Option<Claims> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let k = key(token);
        match map.get(&k) {
            Some(c) if current(c) => Some(c.clone()),
            Some(_) => {
                map.remove(&k);
                None
            }
            None => None,
        }
    }

    pub fn insert(&self, token: &str, claims: &Claims) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CAPACITY {
            map.retain(|_, c| current(c));
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(key(token), claims.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            iss: "i".into(),
            sub: "s".into(),
            iat: 0,
            exp,
            jti: "j".into(),
            kind: super::super::TokenKind::User,
            nbf: None,
            scope: String::new(),
            client_id: None,
            aud: None,
        }
    }

    #[test]
    fn remembers_until_expiry() {
        let v = VerifiedTokens::default();
        let now = now_ms() / 1000;
        v.insert("a", &claims(now + 60));
        v.insert("b", &claims(now - 60));
        assert!(v.get("a").is_some());
        assert!(v.get("b").is_none());
        assert!(v.get("c").is_none());
    }
}
