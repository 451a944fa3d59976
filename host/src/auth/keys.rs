//! The server's ES256 signing keys: created on first start, kept in the database, published
//! at `/jwk`. The newest key signs; every stored key verifies.

use anyhow::{Context, Result};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::store::keys::{self as rows, KeyRow};

/// One key pair, ready to sign and verify.
pub struct SigningKey {
    pub kid: String,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    x: String,
    y: String,
}

/// Every key the server knows, newest first.
pub struct Keyring {
    keys: Vec<SigningKey>,
}

impl Keyring {
    /// Loads the stored keys, creating the first one on an empty database.
    pub fn load_or_create(conn: &Connection) -> Result<Keyring> {
        let mut stored = rows::all(conn)?;
        if stored.is_empty() {
            let row = generate()?;
            rows::insert(conn, &row)?;
            stored = rows::all(conn)?;
        }
        let keys = stored
            .into_iter()
            .map(|row| {
                Ok(SigningKey {
                    encoding: EncodingKey::from_ec_pem(row.private_pem.as_bytes())
                        .with_context(|| format!("stored key {} is unreadable", row.kid))?,
                    decoding: DecodingKey::from_ec_components(&row.x, &row.y)?,
                    kid: row.kid,
                    x: row.x,
                    y: row.y,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Keyring { keys })
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> &SigningKey {
        &self.keys[0]
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
    })
}
