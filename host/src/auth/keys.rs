//! The server's ES256 signing keys: created on first start, kept in the database, published
//! at `/jwk`. The newest key whose signing time has come signs; every stored key verifies,
//! so tokens signed before a rotation stay valid until they expire. A rotation may publish
//! its key some time before it signs, so that every server sharing the database, and every
//! relying party caching `/jwk`, knows it before the first token signed with it.

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::store::Store;
use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

use crate::store::KeyRow;

/// One key pair, ready to sign and verify.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    x: String,
    y: String,
    signs_from_ms: u64,
}

/// Every key the server knows, newest first.
pub struct Keyring {
    keys: Vec<SigningKey>,
}

impl Keyring {
    /// Loads the stored keys, creating the first one on an empty database.
    pub fn load_or_create(conn: &dyn Store) -> Result<Keyring> {
        if conn.keys().all()?.is_empty() {
            conn.keys().insert(&generate()?)?;
        }
        Keyring::load(conn)
    }

    /// Adds a new key, published at once and signing after `publish_for` (`iam-host keys
    /// rotate`); returns its id.
    pub fn rotate(conn: &dyn Store, publish_for: Duration) -> Result<String> {
        let mut row = generate()?;
        row.signs_from_ms = crate::store::now_ms() + publish_for.as_millis() as u64;
        conn.keys().insert(&row)?;
        Ok(row.kid)
    }

    fn load(conn: &dyn Store) -> Result<Keyring> {
        let keys = conn
            .keys()
            .all()?
            .into_iter()
            .map(|row| {
                Ok(SigningKey {
                    encoding: EncodingKey::from_ec_pem(row.private_pem.as_bytes())
                        .with_context(|| format!("stored key {} is unreadable", row.kid))?,
                    decoding: DecodingKey::from_ec_components(&row.x, &row.y)?,
                    kid: row.kid,
                    x: row.x,
                    y: row.y,
                    signs_from_ms: row.signs_from_ms,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Keyring { keys })
    }

    /// The key that signs new tokens: the newest one whose time has come (the oldest if
    /// none has, which a first key, signing from the start, rules out).
    pub fn active(&self) -> &SigningKey {
        let now = crate::store::now_ms();
        self.keys
            .iter()
            .find(|k| k.signs_from_ms <= now)
            .unwrap_or_else(|| &self.keys[self.keys.len() - 1])
    }

    pub fn find(&self, kid: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The public keys as a JWK set.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
                       "kid": k.kid, "x": k.x, "y": k.y})
            })
            .collect();
        json!({ "keys": keys })
    }
}

/// The keyring of a running server. `iam-host keys rotate` adds keys to the database from
/// another process; the server picks them up when it signs a token, serves `/jwk`, or meets
/// a token signed with a key it does not know (that last check at most once a second, so
/// junk key ids cannot flood the database).
pub struct LiveKeyring {
    current: RwLock<Arc<Keyring>>,
    last_unknown_kid_reload: Mutex<Option<Instant>>,
}

impl LiveKeyring {
    pub fn new(keyring: Keyring) -> LiveKeyring {
        LiveKeyring {
            current: RwLock::new(Arc::new(keyring)),
            last_unknown_kid_reload: Mutex::new(None),
        }
    }

    pub fn get(&self) -> Arc<Keyring> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The keyring as the database has it now.
    pub fn refresh(&self, conn: &dyn Store) -> Result<Arc<Keyring>> {
        let current = self.get();
        let stored: Vec<String> = conn.keys().all()?.into_iter().map(|r| r.kid).collect();
        let known: Vec<&str> = current.keys.iter().map(|k| k.kid.as_str()).collect();
        if stored == known {
            return Ok(current);
        }
        let fresh = Arc::new(Keyring::load(conn)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
    }

    /// Whether a token's unknown key id may trigger a reload now.
    pub fn may_reload_for_unknown_kid(&self) -> bool {
        let mut last = self
            .last_unknown_kid_reload
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if last.is_some_and(|t| now.duration_since(t) < Duration::from_secs(1)) {
            return false;
        }
        *last = Some(now);
        true
    }
}

fn generate() -> Result<KeyRow> {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .context("cannot encode the new key")?;
    let point = secret.public_key().to_encoded_point(false);
    let coord =
        |c: Option<&p256::FieldBytes>| URL_SAFE_NO_PAD.encode(c.expect("uncompressed point"));
    Ok(KeyRow {
        kid: uuid::Uuid::new_v4().simple().to_string(),
        private_pem: pem.to_string(),
        x: coord(point.x()),
        y: coord(point.y()),
        signs_from_ms: 0,
    })
}
