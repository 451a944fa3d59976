//! Authentication and the cross-cutting rules (docs/api.md §1, §2, §3.2, §4 and
//! §15): 401 before anything else, 403 bodies, token checks, public endpoints,
//! framework errors as JSON.

use std::time::Duration;

use iam_tests::*;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

/// A request with a raw `Authorization` header.
fn with_authorization(s: &Server, method: Method, path: &str, value: &str) -> Response {
    s.req(method, path, None)
        .header("authorization", value)
        .send()
        .unwrap()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn b64url_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn b64url_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = B64
            .iter()
            .position(|&x| x == c)
            .unwrap_or_else(|| panic!("bad base64url {c}")) as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// The header, payload and signature of a compact JWT.
fn jwt_parts(token: &str) -> (Value, Value, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWT: {token}");
    let header = serde_json::from_slice(&b64url_decode(parts[0])).unwrap();
    let payload = serde_json::from_slice(&b64url_decode(parts[1])).unwrap();
    (header, payload, parts[2].to_string())
}

fn jwt(header: &Value, payload: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        b64url_encode(header.to_string().as_bytes()),
        b64url_encode(payload.to_string().as_bytes()),
        signature
    )
}

fn scopes_of(token: &str) -> Vec<String> {
    let (_, payload, _) = jwt_parts(token);
    let mut v: Vec<String> = payload["scope"]
        .as_str()
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();
    v.sort();
    v
}

/// `iam-host token` with an explicit lifetime.
fn token_with_lifetime(s: &Server, username: &str, lifetime: u64) -> String {
    let out = s
        .cli(&["token"])
        .args(["--username", username, "--lifetime", &lifetime.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "token: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn base64url_helpers_round_trip() {
    for s in ["", "a", "ab", "abc", "abcd", "{\"alg\":\"none\"}", "ü€😀"] {
        assert_eq!(
            b64url_decode(&b64url_encode(s.as_bytes())),
            s.as_bytes(),
            "{s}"
        );
    }
    assert_eq!(b64url_encode(b"{\"alg\":\"none\"}"), "eyJhbGciOiJub25lIn0");
}

// ---------------------------------------------------------------------------------------------
// Public endpoints

#[test]
fn health_jwk_and_discovery_need_no_token() {
    let s = Server::start();
    assert_eq!(
        expect_json(s.get("/health", None), StatusCode::OK, "health"),
        json!({"status": "UP"})
    );

    let jwk = expect_json(s.get("/jwk", None), StatusCode::OK, "jwk");
    let keys = jwk["keys"].as_array().expect("keys");
    assert!(!keys.is_empty(), "{jwk}");
    for k in keys {
        assert_eq!(k["kty"], "EC", "{k}");
        assert_eq!(k["crv"], "P-256", "{k}");
        assert!(k["kid"].as_str().is_some_and(|s| !s.is_empty()), "{k}");
        for coord in ["x", "y"] {
            let c = k[coord]
                .as_str()
                .unwrap_or_else(|| panic!("{coord} in {k}"));
            assert_eq!(
                b64url_decode(c).len(),
                32,
                "{coord} is a P-256 coordinate: {k}"
            );
        }
        // Public keys only.
        assert!(k.get("d").is_none(), "private key material published: {k}");
    }

    let disc = expect_json(
        s.get("/.well-known/openid-configuration", None),
        StatusCode::OK,
        "discovery",
    );
    let issuer = disc["issuer"].as_str().expect("issuer");
    let jwks_uri = disc["jwks_uri"].as_str().expect("jwks_uri");
    assert!(
        disc["token_endpoint"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{disc}"
    );
    // jwks_uri points at this server's key set.
    let via_uri: Value = body(reqwest::blocking::get(jwks_uri).unwrap());
    assert_eq!(via_uri, jwk);

    // The tokens the server issues carry that issuer and one of those keys.
    let token = s.token("admin");
    let (header, payload, _) = jwt_parts(&token);
    assert_eq!(payload["iss"], issuer);
    assert_eq!(header["alg"], "ES256");
    let kids: Vec<&Value> = keys.iter().map(|k| &k["kid"]).collect();
    assert!(
        kids.contains(&&header["kid"]),
        "token kid {} not in {kids:?}",
        header["kid"]
    );
    let admin_id = s.user_id(&token, "admin");
    assert_eq!(payload["sub"], admin_id.as_str());

    // Public endpoints do not care about a bad token.
    assert_eq!(
        expect_json(
            with_authorization(&s, Method::GET, "/health", "Bearer garbage"),
            StatusCode::OK,
            "health"
        ),
        json!({"status": "UP"})
    );
}

// ---------------------------------------------------------------------------------------------
// 401

/// A request to try: method, path, and an optional (content type, body).
type Case<'a> = (Method, String, Option<(&'a str, &'a str)>);

#[test]
fn missing_token_is_401_before_anything_else() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let group = s.create_group(&admin, "g");
    let bob_body = user_body("bob").to_string();
    let cases: Vec<Case> = vec![
        (Method::GET, attributes_path(&alice), None),
        (Method::GET, attributes_path(UNKNOWN_ID), None),
        (
            Method::PUT,
            attributes_path(&alice),
            Some(("application/json", r#"{"name":"a"}"#)),
        ),
        (
            Method::PUT,
            attributes_path(&alice),
            Some(("application/json", "{")),
        ),
        (
            Method::PUT,
            attributes_path(&alice),
            Some(("text/plain", "x")),
        ),
        (
            Method::PUT,
            attributes_path(UNKNOWN_ID),
            Some(("application/json", r#"{"name":"1bad"}"#)),
        ),
        (
            Method::DELETE,
            format!("{}?name=a", attributes_path(&alice)),
            None,
        ),
        (Method::DELETE, attributes_path(UNKNOWN_ID), None),
        (Method::GET, "/scim/Users".into(), None),
        (Method::GET, "/scim/Users?count=abc".into(), None),
        (Method::GET, format!("/scim/Users/{alice}"), None),
        (Method::GET, format!("/scim/Users/{UNKNOWN_ID}"), None),
        (
            Method::POST,
            "/scim/Users".into(),
            Some((SCIM, bob_body.as_str())),
        ),
        (Method::POST, "/scim/Users".into(), Some((SCIM, "{"))),
        (
            Method::POST,
            "/scim/Users".into(),
            Some(("application/json", "{}")),
        ),
        (Method::DELETE, format!("/scim/Users/{alice}"), None),
        (Method::GET, "/scim/Groups".into(), None),
        (Method::GET, format!("/scim/Groups/{group}"), None),
        (
            Method::POST,
            "/scim/Groups".into(),
            Some((SCIM, r#"{"displayName":"x"}"#)),
        ),
        (Method::DELETE, format!("/scim/Groups/{group}"), None),
    ];
    for (method, path, payload) in cases {
        let what = format!("{method} {path}");
        let mut rb = s.req(method.clone(), &path, None);
        if let Some((ct, b)) = payload {
            rb = rb.header("content-type", ct).body(b.to_string());
        }
        expect_unauthorized(rb.send().unwrap(), &what);
        // A bad Accept does not come first either.
        let r = s
            .req(method, &path, None)
            .header("accept", "application/json")
            .send()
            .unwrap();
        expect_unauthorized(r, &format!("{what} with Accept: application/json"));
    }
    // Nothing changed.
    let list: Value = body(s.get("/scim/Users", Some(&admin)));
    assert_eq!(list["totalResults"], 2);
    expect_json(
        s.get(&format!("/scim/Groups/{group}"), Some(&admin)),
        StatusCode::OK,
        "group kept",
    );
}

#[test]
fn an_authorization_header_that_is_not_bearer_is_401() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    for value in ["Basic YWRtaW46YWRtaW4tcGFzc3dvcmQ=", "Token abc", "Bearer"] {
        let r = with_authorization(&s, Method::GET, &attributes_path(&alice), value);
        let ch = challenge(&r);
        let v = expect_json(r, StatusCode::UNAUTHORIZED, value);
        assert!(
            v["error"] == "unauthorized" || v["error"] == "invalid_token",
            "{value}: {v}"
        );
        assert!(ch.starts_with("Bearer"), "{value}: {ch:?}");
    }
    // The scheme is case-insensitive.
    let r = with_authorization(
        &s,
        Method::GET,
        &attributes_path(&alice),
        &format!("bearer {admin}"),
    );
    assert_eq!(
        expect_json(r, StatusCode::OK, "lower-case bearer"),
        json!([])
    );
    let r = with_authorization(
        &s,
        Method::GET,
        &attributes_path(&alice),
        &format!("BEARER {admin}"),
    );
    assert_eq!(
        expect_json(r, StatusCode::OK, "upper-case bearer"),
        json!([])
    );
}

#[test]
fn malformed_unsigned_and_tampered_tokens_are_invalid_token() {
    let s = Server::start();
    let admin = s.token("admin");
    let admin_id = s.user_id(&admin, "admin");
    let bob_id = s.create_user(&admin, "bob");
    let bob = s.token("bob");
    let path = attributes_path(&bob_id);
    // The real tokens work.
    expect(s.get(&path, Some(&bob)), StatusCode::OK, "bob's own token");

    let (header, payload, signature) = jwt_parts(&bob);
    let mut forged: Vec<(&str, String)> = vec![
        ("garbage", "garbage".into()),
        ("three garbage parts", "a.b.c".into()),
        ("two parts", bob.rsplit_once('.').unwrap().0.to_string()),
        ("trailing junk", format!("{bob}x")),
    ];
    // alg none, with and without the signature part, with and without the real kid.
    forged.push((
        "alg none",
        jwt(&json!({"alg": "none", "typ": "JWT"}), &payload, ""),
    ));
    forged.push((
        "alg none, kid",
        jwt(&json!({"alg": "none", "kid": header["kid"]}), &payload, ""),
    ));
    forged.push((
        "alg none, old signature",
        jwt(
            &json!({"alg": "none", "kid": header["kid"]}),
            &payload,
            &signature,
        ),
    ));
    forged.push((
        "alg None",
        jwt(&json!({"alg": "None", "kid": header["kid"]}), &payload, ""),
    ));
    // HS256 with a made-up MAC.
    forged.push((
        "alg HS256",
        jwt(
            &json!({"alg": "HS256", "kid": header["kid"]}),
            &payload,
            "c2lnbmF0dXJl",
        ),
    ));
    // Tampered signature.
    let mut sig: Vec<char> = signature.chars().collect();
    sig[10] = if sig[10] == 'A' { 'B' } else { 'A' };
    forged.push((
        "tampered signature",
        jwt(&header, &payload, &sig.into_iter().collect::<String>()),
    ));
    forged.push(("no signature", jwt(&header, &payload, "")));
    // Tampered payload under the real signature: elevate bob, or impersonate the admin.
    let mut elevated = payload.clone();
    elevated["scope"] = json!("openid iam:admin.read iam:admin.write scim:read scim:write");
    forged.push(("elevated scopes", jwt(&header, &elevated, &signature)));
    let mut impersonated = payload.clone();
    impersonated["sub"] = json!(admin_id);
    forged.push((
        "sub changed to the admin",
        jwt(&header, &impersonated, &signature),
    ));
    let mut longer = payload.clone();
    longer["exp"] = json!(payload["exp"].as_u64().unwrap() + 100_000);
    forged.push(("exp extended", jwt(&header, &longer, &signature)));
    // Unknown key id.
    let mut other_kid = header.clone();
    other_kid["kid"] = json!("not-a-known-key");
    forged.push(("unknown kid", jwt(&other_kid, &payload, &signature)));

    for (what, token) in &forged {
        expect_invalid_token(s.get(&path, Some(token)), what);
        expect_invalid_token(
            s.get(&attributes_path(&admin_id), Some(token)),
            &format!("{what} on admin"),
        );
        expect_invalid_token(
            s.get("/scim/Users", Some(token)),
            &format!("{what} on SCIM"),
        );
        // 401 before the 400 of a malformed body and the 404 of an unknown account.
        let r = s
            .req(Method::PUT, &attributes_path(UNKNOWN_ID), Some(token))
            .header("content-type", "application/json")
            .body("{")
            .send()
            .unwrap();
        expect_invalid_token(r, &format!("{what}, malformed body, unknown account"));
        expect_invalid_token(
            s.put_json(&path, Some(token), &json!({"name": "a"})),
            &format!("{what} PUT"),
        );
    }
    // Nothing was written by the forged admin tokens.
    assert_eq!(body(s.get(&path, Some(&admin))), json!([]));
}

#[test]
fn a_token_from_another_server_is_invalid_token() {
    let a = Server::start();
    let b = Server::start();
    let a_admin = a.token("admin");
    let b_admin = b.token("admin");
    // Each server's admin exists on both, but the keys differ.
    expect_invalid_token(a.get("/scim/Users", Some(&b_admin)), "B's token on A");
    expect_invalid_token(b.get("/scim/Users", Some(&a_admin)), "A's token on B");
    // Even with A's key id in the header, B's signature does not verify on A.
    let (a_header, _, _) = jwt_parts(&a_admin);
    let (mut b_header, b_payload, b_sig) = jwt_parts(&b_admin);
    b_header["kid"] = a_header["kid"].clone();
    let mut payload = b_payload.clone();
    payload["iss"] = jwt_parts(&a_admin).1["iss"].clone();
    expect_invalid_token(
        a.get("/scim/Users", Some(&jwt(&b_header, &payload, &b_sig))),
        "B signed, A kid",
    );
    expect(
        a.get("/scim/Users", Some(&a_admin)),
        StatusCode::OK,
        "A's own token",
    );
}

#[test]
fn an_expired_token_is_invalid_token() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let short = token_with_lifetime(&s, "alice", 0);
    let long = token_with_lifetime(&s, "alice", 60);
    let (_, payload, _) = jwt_parts(&short);
    assert_eq!(payload["exp"], payload["iat"], "lifetime 0");
    // Past any clock-skew leeway.
    std::thread::sleep(Duration::from_secs(7));
    expect_invalid_token(s.get(&attributes_path(&alice), Some(&short)), "expired");
    expect_invalid_token(s.get("/scim/Users", Some(&short)), "expired on SCIM");
    assert_eq!(
        expect_json(
            s.get(&attributes_path(&alice), Some(&long)),
            StatusCode::OK,
            "not expired"
        ),
        json!([])
    );
}

#[test]
fn a_token_of_a_deleted_or_inactive_account_is_invalid_token() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let alice_token = s.token("alice");
    expect(
        s.get(&attributes_path(&alice), Some(&alice_token)),
        StatusCode::OK,
        "before deletion",
    );
    expect(
        s.delete(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::NO_CONTENT,
        "delete alice",
    );
    expect_invalid_token(
        s.get(&attributes_path(&alice), Some(&alice_token)),
        "deleted account",
    );
    expect_invalid_token(
        s.get("/scim/Users", Some(&alice_token)),
        "deleted account on SCIM",
    );

    // A new account with the same username does not revive the old token.
    s.create_user(&admin, "alice");
    expect_invalid_token(
        s.get(&attributes_path(&alice), Some(&alice_token)),
        "old token, recreated username",
    );

    // Inactive (`active` absent on creation).
    let mut b = user_body("sleepy");
    b.as_object_mut().unwrap().remove("active");
    let r = s.post_scim("/scim/Users", Some(&admin), &b);
    let sleepy = expect_json(r, StatusCode::CREATED, "inactive user")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sleepy_token = s.token("sleepy");
    expect_invalid_token(
        s.get(&attributes_path(&sleepy), Some(&sleepy_token)),
        "inactive account",
    );
}

/// Spring Security guards every path under `/iam/**` and `/scim/**`: an anonymous request is
/// 401 there even when no handler would match (docs/api.md §1.3: 401
/// "before anything else is looked at").
#[test]
fn anonymous_requests_under_protected_prefixes_are_401_even_without_a_route() {
    let s = Server::start();
    let cases = [
        (Method::POST, "/iam/account/x/attributes"),
        (Method::PATCH, "/iam/account/x/attributes"),
        (Method::PUT, "/scim/Users"),
        (Method::GET, "/iam/nonexistent"),
        (Method::GET, "/scim/Nonexistent"),
    ];
    let mut wrong = Vec::new();
    for (method, path) in cases {
        let r = s.req(method.clone(), path, None).send().unwrap();
        let status = r.status();
        let text = r.text().unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status != StatusCode::UNAUTHORIZED || v["error"] != "unauthorized" {
            wrong.push(format!("{method} {path}: {status} {text}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "expected 401 unauthorized for:\n{}",
        wrong.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Scopes (who gets the 403 `access_denied` of each operation: authorization_matrix.rs)

#[test]
fn admin_scopes_are_stripped_from_non_admin_tokens() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "bob");
    let all = "openid profile email iam:admin.read iam:admin.write scim:read scim:write";
    let mut all_sorted: Vec<String> = all.split(' ').map(String::from).collect();
    all_sorted.sort();

    assert_eq!(scopes_of(&admin), all_sorted, "admin default");
    assert_eq!(
        scopes_of(&s.token_with("admin", Some(all))),
        all_sorted,
        "admin asking"
    );
    assert_eq!(
        scopes_of(&s.token_with("admin", Some("iam:admin.read"))),
        ["iam:admin.read"]
    );
    assert_eq!(
        scopes_of(&s.token("bob")),
        ["email", "openid", "profile"],
        "bob default"
    );
    assert_eq!(
        scopes_of(&s.token_with("bob", Some(all))),
        ["email", "openid", "profile"],
        "bob asking"
    );
    assert!(scopes_of(&s.token_with("bob", Some("scim:read scim:write"))).is_empty());

    // And the stripped token is denied what the scopes would have allowed.
    let bob = s.token_with("bob", Some(all));
    expect_denied(
        s.get("/scim/Users", Some(&bob)),
        "bob with stripped scim:read",
    );
    expect_denied(
        s.get(&attributes_path(&s.user_id(&admin, "admin")), Some(&bob)),
        "bob with stripped iam:admin.read",
    );
}

#[test]
fn an_unreadable_body_is_400_before_403_and_an_invalid_one_is_403() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    s.create_user(&admin, "bob");
    let bob = s.token("bob");
    let put = |ct: &str, b: &str| {
        s.req(Method::PUT, &attributes_path(&alice), Some(&bob))
            .header("content-type", ct)
            .body(b.to_string())
            .send()
            .unwrap()
    };
    expect_plain_error(
        put("application/json", "{"),
        StatusCode::BAD_REQUEST,
        "malformed JSON",
    );
    expect_plain_error(
        put("application/json", ""),
        StatusCode::BAD_REQUEST,
        "missing body",
    );
    expect_plain_error(
        put("text/plain", r#"{"name":"a"}"#),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "wrong type",
    );
    expect_denied(
        put("application/json", r#"{"name":"1 bad","value":"x y"}"#),
        "invalid body",
    );
    expect_denied(put("application/json", r#"{}"#), "blank name");
    expect_denied(
        s.put_json(
            &attributes_path(UNKNOWN_ID),
            Some(&bob),
            &json!({"name": "a"}),
        ),
        "unknown account",
    );

    let post = |path: &str, b: &str| {
        s.req(Method::POST, path, Some(&bob))
            .header("content-type", SCIM)
            .body(b.to_string())
            .send()
            .unwrap()
    };
    expect_plain_error(
        post("/scim/Users", "{"),
        StatusCode::BAD_REQUEST,
        "SCIM user malformed",
    );
    expect_denied(
        post("/scim/Users", r#"{"userName":""}"#),
        "SCIM user invalid",
    );
    expect_plain_error(
        post("/scim/Groups", "{"),
        StatusCode::BAD_REQUEST,
        "SCIM group malformed",
    );
    expect_denied(
        post("/scim/Groups", r#"{"displayName":"a/b"}"#),
        "SCIM group invalid",
    );
}

// ---------------------------------------------------------------------------------------------
// Routing errors

#[test]
fn unknown_routes_are_404_and_wrong_methods_405_as_json() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    for path in [
        "/iam/nonexistent",
        "/scim/Nonexistent",
        "/nonexistent",
        "/iam/account/x/attributes/extra",
    ] {
        expect_plain_error(s.get(path, Some(&admin)), StatusCode::NOT_FOUND, path);
    }
    let cases = [
        (Method::POST, attributes_path(&alice)),
        (Method::PATCH, attributes_path(&alice)),
        (Method::PUT, "/scim/Users".to_string()),
        (Method::DELETE, "/scim/Users".to_string()),
        (Method::POST, format!("/scim/Users/{alice}")),
        (Method::DELETE, "/scim/Groups".to_string()),
        (Method::POST, "/health".to_string()),
    ];
    for (method, path) in cases {
        let what = format!("{method} {path}");
        let r = s
            .req(method, &path, Some(&admin))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .unwrap();
        expect_plain_error(r, StatusCode::METHOD_NOT_ALLOWED, &what);
    }
}

// ---------------------------------------------------------------------------------------------
// Restart

#[test]
fn keys_and_tokens_survive_a_restart() {
    let mut s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let alice_token = s.token("alice");
    let jwk_before = body(s.get("/jwk", None));
    let disc_before = body(s.get("/.well-known/openid-configuration", None));
    s.restart();
    assert_eq!(body(s.get("/jwk", None)), jwk_before, "same keys");
    assert_eq!(
        body(s.get("/.well-known/openid-configuration", None))["issuer"],
        disc_before["issuer"]
    );
    expect(
        s.get("/scim/Users", Some(&admin)),
        StatusCode::OK,
        "admin token after restart",
    );
    expect(
        s.get(&attributes_path(&alice), Some(&alice_token)),
        StatusCode::OK,
        "alice token after restart",
    );
    // Tokens minted after the restart use the same key.
    let (h1, _, _) = jwt_parts(&admin);
    let (h2, _, _) = jwt_parts(&s.token("admin"));
    assert_eq!(h1["kid"], h2["kid"]);
}
