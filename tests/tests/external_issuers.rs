//! Tokens of trusted external issuers (`[[oauth.trusted_issuers]]`): accepted for the
//! account whose `IndigoUser.oidcIds` links the token's (`iss`, `sub`), refused otherwise.
//! The issuer's JWKS is served by a loopback HTTP server in the test.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use iam_tests::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

const IDP: &str = "https://idp.example.org";
const FILE_IDP: &str = "https://files.example.org";

/// An issuer's signing key and its public JWK.
struct IssuerKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

fn issuer_key(kid: &str) -> IssuerKey {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let point = secret.public_key().to_encoded_point(false);
    let jwk = json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                     "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
                     "y": URL_SAFE_NO_PAD.encode(point.y().unwrap())});
    IssuerKey {
        kid: kid.into(),
        encoding: EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        jwk,
    }
}

fn sign(key: &IssuerKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

/// The audience both trusted issuers are configured with.
const AUDIENCE: &str = "iam-wasm-test";

/// An access token's claims, minted for this server.
fn claims(iss: &str, sub: &str, scope: &str) -> Value {
    let now = now_secs();
    json!({"iss": iss, "sub": sub, "aud": AUDIENCE, "iat": now, "exp": now + 300, "scope": scope})
}

/// Serves `body` to every request on a loopback port; counts the requests.
fn serve_jwks(body: String) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                body.len(),
                body
            );
        }
    });
    (port, hits)
}

#[test]
fn linked_identities_act_as_their_account_and_others_are_refused() {
    let key = issuer_key("idp-1");
    let file_key = issuer_key("file-1");
    let (port, hits) = serve_jwks(json!({"keys": [key.jwk]}).to_string());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("files-jwks.json"),
        json!({"keys": [file_key.jwk]}).to_string(),
    )
    .unwrap();
    let s = Server::start_with_config(&format!(
        "[[oauth.trusted_issuers]]\nissuer = \"{IDP}\"\naudience = \"{AUDIENCE}\"\n\
         jwks_url = \"http://127.0.0.1:{port}/jwks\"\n\
         [[oauth.trusted_issuers]]\nissuer = \"{FILE_IDP}\"\naudience = [\"other\", \"{AUDIENCE}\"]\n\
         jwks_file = \"{}\"\n",
        dir.path().join("files-jwks.json").display()
    ));
    let admin = s.token("admin");
    let mut alice = user_body("alice");
    alice["urn:indigo-dc:scim:schemas:IndigoUser"] = json!({"oidcIds": [
        {"issuer": IDP, "subject": "alice-at-idp"},
        {"issuer": FILE_IDP, "subject": "alice-in-files"}
    ]});
    let r = s.post_scim("/scim/Users", Some(&admin), &alice);
    assert_eq!(r.status(), StatusCode::CREATED);
    let alice_id = body(r)["id"].as_str().unwrap().to_string();

    // A linked identity acts as alice, with the token's scopes minus the admin ones.
    let token = sign(&key, &claims(IDP, "alice-at-idp", "openid scim:read"));
    let me = expect_json(s.get("/scim/Me", Some(&token)), StatusCode::OK, "scim/Me");
    assert_eq!(me["id"], alice_id);
    expect_denied(
        s.get("/scim/Users", Some(&token)),
        "scim:read is stripped for a non-admin",
    );
    let token = sign(&file_key, &claims(FILE_IDP, "alice-in-files", "openid"));
    let me = expect_json(
        s.get("/scim/Me", Some(&token)),
        StatusCode::OK,
        "from a JWKS file",
    );
    assert_eq!(me["id"], alice_id);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the JWKS is fetched once and cached"
    );

    let refused = |token: &str, what: &str| {
        let r = s.get("/scim/Me", Some(token));
        let v = expect_json(r, StatusCode::UNAUTHORIZED, what);
        assert_eq!(v["error"], "invalid_token", "{what}: {v}");
    };
    refused(
        &sign(&key, &claims(IDP, "someone-else", "openid")),
        "unlinked subject",
    );
    refused(
        &sign(&key, &claims(FILE_IDP, "alice-at-idp", "openid")),
        "signed by the wrong issuer's key",
    );
    refused(
        &sign(
            &key,
            &claims("https://untrusted.example.org", "alice-at-idp", "openid"),
        ),
        "untrusted issuer",
    );
    let mut expired = claims(IDP, "alice-at-idp", "openid");
    expired["exp"] = json!(1_000_000);
    refused(&sign(&key, &expired), "expired");
    let stranger = issuer_key("idp-1");
    refused(
        &sign(&stranger, &claims(IDP, "alice-at-idp", "openid")),
        "a key the issuer does not publish",
    );
    // HS256 "signed" with the published key material is never accepted.
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(IDP, "alice-at-idp", "openid"),
        &EncodingKey::from_secret(key.jwk["x"].as_str().unwrap().as_bytes()),
    )
    .unwrap();
    refused(&hs, "HS256");

    // Tokens minted for someone else: no audience, another audience, an ID token.
    let mut no_aud = claims(IDP, "alice-at-idp", "openid");
    no_aud.as_object_mut().unwrap().remove("aud");
    refused(&sign(&key, &no_aud), "no audience");
    let mut other_rp = claims(IDP, "alice-at-idp", "openid");
    other_rp["aud"] = json!(["some-other-service"]);
    refused(&sign(&key, &other_rp), "minted for another relying party");
    let mut listed = claims(IDP, "alice-at-idp", "openid");
    listed["aud"] = json!(["some-other-service", AUDIENCE]);
    expect_json(
        s.get("/scim/Me", Some(&sign(&key, &listed))),
        StatusCode::OK,
        "our audience among others",
    );
    let mut id_token = claims(IDP, "alice-at-idp", "");
    id_token.as_object_mut().unwrap().remove("scope");
    id_token["nonce"] = json!("n-0S6_WzA2Mj");
    refused(&sign(&key, &id_token), "an ID token with a nonce");
    let mut id_token = claims(IDP, "alice-at-idp", "openid");
    id_token["at_hash"] = json!("77QmUPtjPfzWtF2AnpK9RQ");
    refused(&sign(&key, &id_token), "an ID token with at_hash");

    // Unlinking the identity ends its access.
    let token = sign(&key, &claims(IDP, "alice-at-idp", "openid"));
    let mut unlinked = user_body("alice");
    unlinked["urn:indigo-dc:scim:schemas:IndigoUser"] = json!({"oidcIds": []});
    let r = s
        .req(
            reqwest::Method::PUT,
            &format!("/scim/Users/{alice_id}"),
            Some(&admin),
        )
        .header("content-type", SCIM)
        .body(unlinked.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    refused(&token, "after unlinking");
}

#[test]
fn a_trusted_issuer_without_an_audience_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("iam.toml");
    std::fs::write(
        &config,
        format!("[[oauth.trusted_issuers]]\nissuer = \"{IDP}\"\njwks_url = \"http://127.0.0.1:1/jwks\"\n"),
    )
    .unwrap();
    let db = TestDb::new(dir.path().join("iam.db"));
    let out = std::process::Command::new(host_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db.arg()])
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("audience"), "{err}");
}
