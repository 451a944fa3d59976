//! The OAuth2 front door: `POST /token` (client_credentials, password, refresh_token),
//! client authentication, scopes, `/introspect`, `/revoke`, `/userinfo`, discovery and key
//! rotation, over real HTTP.

use std::time::Duration;

use iam_tests::oauth::*;
use iam_tests::*;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

#[test]
fn client_credentials_both_client_auth_methods_and_the_token_works() {
    let s = Server::start();
    let admin = s.token("admin");
    register(
        &s,
        &admin,
        "svc",
        &["client_credentials"],
        "iam:admin.read scim:read openid",
        false,
    );

    // HTTP Basic.
    let t = token_ok(post_form(
        &s,
        "/token",
        Some(("svc", SECRET)),
        &[("grant_type", "client_credentials")],
    ));
    assert_eq!(scopes(&t), ["iam:admin.read", "openid", "scim:read"]);
    assert!(
        t.get("refresh_token").is_none(),
        "no refresh token for client credentials"
    );
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(
        (c["sub"].clone(), c["client_id"].clone()),
        (json!("svc"), json!("svc"))
    );
    assert_eq!(c["iss"], s.base);
    assert!(c["jti"].is_string() && c["iat"].is_u64());
    assert_eq!(
        c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
        3600
    );
    assert_eq!(t["expires_in"], 3600);
    assert!(c.get("aud").is_none());

    // Form parameters, a narrower scope and an audience.
    let t = token_ok(post_form(
        &s,
        "/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", SECRET),
            ("scope", "iam:admin.read iam:admin.write"),
            ("audience", "https://api.example.org"),
        ],
    ));
    assert_eq!(scopes(&t), ["iam:admin.read"], "requested ∩ allowed");
    let access = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&access)["aud"], "https://api.example.org");

    // The client token reaches the API with its scope: account search needs iam:admin.read.
    expect_json(
        s.get("/iam/account/search", Some(&access)),
        StatusCode::OK,
        "search",
    );
    expect_denied(
        s.get("/scim/Users", Some(&access)),
        "scim:read was not granted",
    );

    // Asking only for scopes the client may not have.
    oauth_error(
        post_form(
            &s,
            "/token",
            Some(("svc", SECRET)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "scim:write"),
            ],
        ),
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    );
}

#[test]
fn client_authentication_errors() {
    let s = Server::start();
    let admin = s.token("admin");
    register(&s, &admin, "svc", &["client_credentials"], "openid", false);
    register(&s, &admin, "cli", &["password"], "openid", true);
    let grant = [("grant_type", "client_credentials")];

    for (what, basic, extra) in [
        ("wrong secret", Some(("svc", "nope")), vec![]),
        ("unknown client", Some(("ghost", SECRET)), vec![]),
        ("no credentials", None, vec![]),
        (
            "form, wrong secret",
            None,
            vec![("client_id", "svc"), ("client_secret", "nope")],
        ),
        (
            "confidential client without secret",
            None,
            vec![("client_id", "svc")],
        ),
        (
            "public client with a secret",
            None,
            vec![("client_id", "cli"), ("client_secret", "x")],
        ),
    ] {
        let mut pairs = grant.to_vec();
        pairs.extend(extra);
        let r = post_form(&s, "/token", basic, &pairs);
        assert!(challenge_basic(&r), "{what}: {:?}", r.headers());
        oauth_error(r, StatusCode::UNAUTHORIZED, "invalid_client");
    }

    // A public client may not use client_credentials.
    let r = post_form(
        &s,
        "/token",
        None,
        &[("grant_type", "client_credentials"), ("client_id", "cli")],
    );
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    oauth_error(r, StatusCode::BAD_REQUEST, "unauthorized_client");

    // Request errors.
    oauth_error(
        post_form(&s, "/token", Some(("svc", SECRET)), &[]),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    oauth_error(
        post_form(
            &s,
            "/token",
            Some(("svc", SECRET)),
            &[("grant_type", "authorization_code")],
        ),
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
    );
    oauth_error(
        post_form(
            &s,
            "/token",
            Some(("svc", SECRET)),
            &[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", "x"),
            ],
        ),
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
    );
    oauth_error(
        post_form(
            &s,
            "/token",
            Some(("svc", SECRET)),
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "password"),
            ],
        ),
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    let r = s
        .req(Method::POST, "/token", None)
        .basic_auth("svc", Some(SECRET))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .unwrap();
    oauth_error(r, StatusCode::BAD_REQUEST, "invalid_request");

    // A deleted client's tokens die with it.
    let t = token_ok(post_form(&s, "/token", Some(("svc", SECRET)), &grant));
    let access = t["access_token"].as_str().unwrap().to_string();
    expect(
        s.delete("/iam/api/clients/svc", Some(&admin)),
        StatusCode::NO_CONTENT,
        "delete client",
    );
    expect_invalid_token(
        s.get("/iam/group/search", Some(&access)),
        "token of a deleted client",
    );
}

fn challenge_basic(r: &Response) -> bool {
    r.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Basic"))
}

#[test]
fn password_grant_scopes_refresh_rotation_and_userinfo() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let r = s
        .req(Method::PUT, &format!("/scim/Users/{alice}"), Some(&admin))
        .header("content-type", SCIM)
        .body({
            let mut b = user_body("alice");
            b["password"] = json!("alice-password");
            b.to_string()
        })
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let all = "openid profile email iam:admin.read iam:admin.write scim:read scim:write";
    register(
        &s,
        &admin,
        "app",
        &["password", "refresh_token"],
        all,
        false,
    );

    let password = |user: &str, pw: &str, scope: Option<&str>| {
        let mut pairs = vec![
            ("grant_type", "password"),
            ("username", user),
            ("password", pw),
        ];
        if let Some(sc) = scope {
            pairs.push(("scope", sc));
        }
        post_form(&s, "/token", Some(("app", SECRET)), &pairs)
    };

    // Admin scopes are stripped for a non-admin, kept for an admin.
    let t = token_ok(password("alice", "alice-password", None));
    assert_eq!(scopes(&t), ["email", "openid", "profile"]);
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(
        (c["sub"].clone(), c["client_id"].clone()),
        (json!(alice), json!("app"))
    );
    let t_admin = token_ok(password("admin", ADMIN_PASSWORD, Some("openid scim:read")));
    assert_eq!(scopes(&t_admin), ["openid", "scim:read"]);

    // Bad credentials and unknown users look the same.
    oauth_error(
        password("alice", "wrong", None),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    oauth_error(
        password("nobody", "wrong", None),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    // userinfo by scope.
    let access = t["access_token"].as_str().unwrap().to_string();
    let info = expect_json(
        s.get("/userinfo", Some(&access)),
        StatusCode::OK,
        "userinfo",
    );
    assert_eq!(info["sub"], alice);
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["email"], "alice@example.org");
    assert_eq!(info["groups"], json!([]));
    let narrow = token_ok(password("alice", "alice-password", Some("openid")));
    let info = expect_json(
        s.get("/userinfo", Some(narrow["access_token"].as_str().unwrap())),
        StatusCode::OK,
        "userinfo openid only",
    );
    assert!(
        info.get("email").is_none() && info.get("preferred_username").is_none(),
        "{info}"
    );
    let no_openid = token_ok(password("alice", "alice-password", Some("profile")));
    let r = s.get(
        "/userinfo",
        Some(no_openid["access_token"].as_str().unwrap()),
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    expect_unauthorized(s.get("/userinfo", None), "userinfo without a token");

    // Refresh: rotated, and the old one is refused afterwards.
    let first = t["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    let refresh = |rt: &str, scope: Option<&str>| {
        let mut pairs = vec![("grant_type", "refresh_token"), ("refresh_token", rt)];
        if let Some(sc) = scope {
            pairs.push(("scope", sc));
        }
        post_form(&s, "/token", Some(("app", SECRET)), &pairs)
    };
    let t2 = token_ok(refresh(&first, None));
    assert_eq!(scopes(&t2), ["email", "openid", "profile"]);
    let second = t2["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    oauth_error(
        refresh(&first, None),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // A narrower scope narrows the access token only; a wider one is refused.
    let t3 = token_ok(refresh(&second, Some("openid")));
    assert_eq!(scopes(&t3), ["openid"]);
    let third = t3["refresh_token"].as_str().unwrap().to_string();
    oauth_error(
        refresh(&third, Some("openid scim:read")),
        StatusCode::BAD_REQUEST,
        "invalid_scope",
    );
    let t4 = token_ok(refresh(&third, None));
    assert_eq!(
        scopes(&t4),
        ["email", "openid", "profile"],
        "the grant keeps its scopes"
    );

    // Refresh tokens die with the account.
    let fourth = t4["refresh_token"].as_str().unwrap().to_string();
    expect(
        s.delete(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::NO_CONTENT,
        "delete alice",
    );
    oauth_error(
        refresh(&fourth, None),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    oauth_error(
        password("alice", "alice-password", None),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
}

#[test]
fn introspection_and_revocation() {
    let s = Server::start_with_config("[oauth]\naccess_token_lifetime_secs = 1\n");
    let admin = s.token("admin");
    register(&s, &admin, "rs", &["client_credentials"], "openid", false);
    register(
        &s,
        &admin,
        "app",
        &["password", "refresh_token"],
        "openid iam:admin.read",
        false,
    );
    register(&s, &admin, "pub", &["password"], "openid", true);
    let t = token_ok(post_form(
        &s,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ],
    ));
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let introspect = |token: &str| {
        expect_json(
            post_form(&s, "/introspect", Some(("rs", SECRET)), &[("token", token)]),
            StatusCode::OK,
            "introspect",
        )
    };

    let v = introspect(&access);
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(
        (v["client_id"].clone(), v["username"].clone()),
        (json!("app"), json!("admin"))
    );
    assert_eq!(v["scope"], "openid iam:admin.read");
    let v = introspect(&refresh);
    assert_eq!(
        (v["active"].clone(), v["token_type"].clone()),
        (json!(true), json!("refresh_token"))
    );
    assert_eq!(introspect("not-a-token"), json!({"active": false}));
    // Public clients and bad credentials may not introspect.
    oauth_error(
        post_form(
            &s,
            "/introspect",
            None,
            &[("token", &access), ("client_id", "pub")],
        ),
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    oauth_error(
        post_form(&s, "/introspect", Some(("rs", "x")), &[("token", &access)]),
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );

    // Expired.
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(introspect(&access), json!({"active": false}));

    // Revoked: at once, everywhere. Another client may not revoke it.
    let t = token_ok(post_form(
        &s,
        "/token",
        Some(("app", SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    ));
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    expect_json(
        s.get("/iam/account/search", Some(&access)),
        StatusCode::OK,
        "before revoking",
    );
    oauth_error(
        post_form(&s, "/revoke", Some(("rs", SECRET)), &[("token", &access)]),
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
    );
    let r = post_form(&s, "/revoke", Some(("app", SECRET)), &[("token", &access)]);
    assert_eq!(r.status(), StatusCode::OK);
    expect_invalid_token(
        s.get("/iam/account/search", Some(&access)),
        "revoked access token",
    );
    assert_eq!(introspect(&access), json!({"active": false}));
    let r = post_form(
        &s,
        "/revoke",
        Some(("app", SECRET)),
        &[("token", &refresh), ("token_type_hint", "refresh_token")],
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(introspect(&refresh), json!({"active": false}));
    oauth_error(
        post_form(
            &s,
            "/token",
            Some(("app", SECRET)),
            &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
        ),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );
    // Unknown tokens are no error (RFC 7009 §2.2).
    assert_eq!(
        post_form(
            &s,
            "/revoke",
            Some(("app", SECRET)),
            &[("token", "nothing")]
        )
        .status(),
        StatusCode::OK
    );

    // Tokens die with their client.
    let t = token_ok(post_form(
        &s,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ],
    ));
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(introspect(&refresh)["active"], true);
    expect(
        s.delete("/iam/api/clients/app", Some(&admin)),
        StatusCode::NO_CONTENT,
        "delete the client",
    );
    assert_eq!(introspect(&refresh), json!({"active": false}));
}

#[test]
fn failed_passwords_are_throttled_per_account_and_source() {
    let s = Server::start();
    let admin = s.token("admin");
    register(&s, &admin, "app", &["password"], "openid", false);
    let attempt = |pw: &str| {
        post_form(
            &s,
            "/token",
            Some(("app", SECRET)),
            &[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", pw),
            ],
        )
    };
    for _ in 0..4 {
        oauth_error(attempt("wrong"), StatusCode::BAD_REQUEST, "invalid_grant");
    }
    // Now even the right password waits, and says for how long.
    let r = attempt(ADMIN_PASSWORD);
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // From another address on the loopback, the owner is not locked out.
    let other = reqwest::blocking::Client::builder()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let r = other
        .post(s.url("/token"))
        .basic_auth("app", Some(SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(&[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ]))
        .send()
        .unwrap();
    token_ok(r);
    // The wait ends.
    std::thread::sleep(Duration::from_millis(1100));
    token_ok(attempt(ADMIN_PASSWORD));
}

#[test]
fn discovery_is_truthful_and_rotated_keys_keep_old_tokens_valid() {
    let s = Server::start();
    let d = expect_json(
        s.get("/.well-known/openid-configuration", None),
        StatusCode::OK,
        "discovery",
    );
    assert_eq!(d["token_endpoint"], format!("{}/token", s.base));
    assert_eq!(
        d["introspection_endpoint"],
        format!("{}/introspect", s.base)
    );
    assert_eq!(d["revocation_endpoint"], format!("{}/revoke", s.base));
    assert_eq!(d["userinfo_endpoint"], format!("{}/userinfo", s.base));
    assert_eq!(
        d["grant_types_supported"],
        json!(["client_credentials", "password", "refresh_token"])
    );

    let admin = s.token("admin");
    register(
        &s,
        &admin,
        "svc",
        &["client_credentials"],
        "iam:admin.read",
        false,
    );
    let before = token_ok(post_form(
        &s,
        "/token",
        Some(("svc", SECRET)),
        &[("grant_type", "client_credentials")],
    ));
    let old = before["access_token"].as_str().unwrap().to_string();
    let jwks = expect_json(s.get("/jwk", None), StatusCode::OK, "jwk");
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);

    let out = s.cli(&["keys", "rotate"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_kid = String::from_utf8(out.stdout).unwrap().trim().to_string();
    // A CLI token signed with the new key is accepted before the server loaded that key.
    let cli = s.token("admin");
    expect_json(
        s.get("/iam/account/search", Some(&cli)),
        StatusCode::OK,
        "cli token",
    );

    let jwks = expect_json(s.get("/jwk", None), StatusCode::OK, "jwk");
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&new_kid.as_str()));
    // New tokens are signed with the new key; the old token still works.
    let after = token_ok(post_form(
        &s,
        "/token",
        Some(("svc", SECRET)),
        &[("grant_type", "client_credentials")],
    ));
    let header = jwt_header(after["access_token"].as_str().unwrap());
    assert_eq!(header["kid"], new_kid);
    expect_json(
        s.get("/iam/account/search", Some(&old)),
        StatusCode::OK,
        "old token",
    );
    expect_json(
        s.get(
            "/iam/account/search",
            Some(after["access_token"].as_str().unwrap()),
        ),
        StatusCode::OK,
        "new token",
    );
}

#[test]
fn token_lifetimes_are_set_per_client() {
    // Refresh tokens that never expire (0) need the refresh maximum lifted.
    let s = Server::start_with_config("[oauth]\nmax_refresh_token_lifetime_secs = 0\n");
    let admin = s.token("admin");
    let post = |body: Value| {
        s.req(Method::POST, "/iam/api/clients", Some(&admin))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    };
    let r = post(
        json!({"client_id": "short", "client_secret": SECRET, "scope": "openid",
                        "grant_types": ["password", "refresh_token"],
                        "access_token_validity_seconds": 120, "refresh_token_validity_seconds": 0}),
    );
    let created = expect_json(r, StatusCode::CREATED, "register");
    assert_eq!(created["access_token_validity_seconds"], 120);
    let t = token_ok(post_form(
        &s,
        "/token",
        Some(("short", SECRET)),
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
        ],
    ));
    assert_eq!(t["expires_in"], 120);
    let c = claims(t["access_token"].as_str().unwrap());
    assert_eq!(c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(), 120);
    // 0: the refresh token never expires.
    register(&s, &admin, "rs", &["client_credentials"], "openid", false);
    let v = expect_json(
        post_form(
            &s,
            "/introspect",
            Some(("rs", SECRET)),
            &[("token", t["refresh_token"].as_str().unwrap())],
        ),
        StatusCode::OK,
        "introspect",
    );
    assert_eq!(v["active"], true);
    assert!(v.get("exp").is_none(), "{v}");

    let r = post(
        json!({"client_id": "bad", "scope": "openid", "grant_types": ["password"],
                        "access_token_validity_seconds": -1}),
    );
    let v = expect_json(r, StatusCode::BAD_REQUEST, "negative lifetime");
    assert_eq!(
        v["error"],
        "saveNewClient.client.accessTokenValiditySeconds: must be greater than or equal to 0"
    );
}
