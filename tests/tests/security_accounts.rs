//! Regression tests of issue 11's findings on accounts, each an attack over real HTTP on the
//! real server: a proxy upload reaching another account's certificate (6), a deleted
//! account's token coming back through a client-chosen SCIM id (3), and token lifetimes
//! large enough to overflow the expiry arithmetic (10). Fixtures: tests/fixtures/README.md.

use base64::Engine as _;
use iam_tests::oauth::{post_client, post_form};
use iam_tests::*;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const TEST2: &str = "CN=test2,O=IGI,C=IT";
/// The victim's subject and issuer on someone else's key, and a proxy that key signed.
const FORGED_PROXY: &str = include_str!("../fixtures/forged-test2-proxy.pem");
/// The attacker's own certificate: the victim's subject DN, from the attacker's CA.
const ATTACKER_CERT: &str = include_str!("../fixtures/attacker-cert.pem");
const ATTACKER_PROXY: &str = include_str!("../fixtures/attacker-proxy.pem");

// ---------------------------------------------------------------------------------------
// Finding 6: proxy certificates.

/// What the database holds for each linked certificate with subject test2:
/// (account, issuer, PEM, proxy chain).
fn test2_rows(s: &Server) -> Vec<(String, String, String, Option<String>)> {
    s.sql_rows(&format!(
        "SELECT a.uuid, c.issuer_dn, c.pem, c.proxy_chain FROM certificates c
         JOIN accounts a ON a.id = c.account_id WHERE c.subject_dn = {} ORDER BY c.id",
        sql_str(TEST2)
    ))
    .into_iter()
    .map(|r| {
        let text = |i: usize| r[i].clone().unwrap();
        (text(0), text(1), text(2), r[3].clone())
    })
    .collect()
}

/// The account's one linked certificate as SCIM shows it.
fn scim_cert(s: &Server, admin: &str, id: &str) -> Value {
    let user = body(s.get(&format!("/scim/Users/{id}"), Some(admin)));
    let certs = user[INDIGO_USER]["certificates"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(certs.len(), 1, "{user}");
    certs[0].clone()
}

/// The `n`th PEM block of `text` with this label.
fn block<'a>(text: &'a str, label: &str, n: usize) -> &'a str {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.match_indices(&begin).nth(n).unwrap().0;
    let stop = start + text[start..].find(&end).unwrap() + end.len();
    &text[start..stop]
}

fn error(r: Response, status: StatusCode) -> String {
    let v = expect_json(r, status, "error");
    v["error"].as_str().unwrap().to_string()
}

#[test]
fn a_proxy_upload_never_reaches_another_accounts_certificate() {
    let s = Server::start();
    let admin = s.token("admin");
    let (victim, victim_token) = user_with_cert(&s, &admin, "test2", TEST2_CERT);
    assert_eq!(
        upload_proxy(&s, Some(&victim_token), TEST2_PROXY).status(),
        StatusCode::OK
    );
    let victim_before = scim_cert(&s, &admin, &victim);
    assert_eq!(
        victim_before["proxyExpirationTime"],
        "2125-06-18T06:44:25.000Z"
    );

    // Mallory holds a certificate with the victim's subject DN from another CA, and makes
    // a certificate naming the victim's subject and issuer, with a proxy it signed.
    let (mallory, mallory_token) = user_with_cert(&s, &admin, "mallory", ATTACKER_CERT);
    let r = upload_proxy(&s, Some(&mallory_token), FORGED_PROXY);
    assert_eq!(
        error(r, StatusCode::CONFLICT),
        format!("X.509 credential with subject '{TEST2}' is already linked to another user")
    );

    // The victim keeps its certificate and its own proxy; Mallory got nothing.
    assert_eq!(scim_cert(&s, &admin, &victim), victim_before);
    let rows = test2_rows(&s);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (&rows[0].0, rows[0].1.as_str(), rows[0].2.trim()),
        (&victim, "CN=Test CA,O=IGI,C=IT", TEST2_CERT.trim())
    );
    assert_eq!(rows[0].3.as_deref(), Some(TEST2_PROXY));
    assert_eq!((&rows[1].0, &rows[1].3), (&mallory, &None));

    // Mallory's proxy of Mallory's own certificate (ECDSA) is fine, and lands on Mallory's
    // certificate only, although both have the same subject DN.
    assert_eq!(
        upload_proxy(&s, Some(&mallory_token), ATTACKER_PROXY).status(),
        StatusCode::OK
    );
    let rows = test2_rows(&s);
    assert_eq!(rows[0].3.as_deref(), Some(TEST2_PROXY));
    assert_eq!(rows[1].3.as_deref(), Some(ATTACKER_PROXY));
    assert_eq!(scim_cert(&s, &admin, &mallory)["hasProxyCertificate"], true);
    assert_eq!(scim_cert(&s, &admin, &victim), victim_before);
}

#[test]
fn the_end_entity_certificate_must_be_the_linked_one_not_just_its_names() {
    let s = Server::start();
    let admin = s.token("admin");
    let (id, token) = user_with_cert(&s, &admin, "test2", TEST2_CERT);
    // Same subject and issuer DNs as the linked certificate, another key: refused, and the
    // linked certificate is not replaced by it.
    let r = upload_proxy(&s, Some(&token), FORGED_PROXY);
    assert_eq!(
        error(r, StatusCode::BAD_REQUEST),
        format!(
            "Invalid proxy: the end-entity certificate '{TEST2}' (issuer 'CN=Test CA,O=IGI,C=IT') \
             is not the certificate linked to user 'test2'"
        )
    );
    let cert = scim_cert(&s, &admin, &id);
    assert_eq!(
        cert["pemEncodedCertificate"].as_str().unwrap().trim(),
        TEST2_CERT.trim()
    );
    assert_eq!(cert["hasProxyCertificate"], false);
}

#[test]
fn a_proxy_not_signed_by_its_end_entity_certificate_is_refused() {
    let s = Server::start();
    let admin = s.token("admin");
    let (id, token) = user_with_cert(&s, &admin, "test2", TEST2_CERT);

    // A proxy named after test2 but signed by another key, before test2's real certificate.
    let chain = format!(
        "{}\n{}\n{}",
        block(FORGED_PROXY, "CERTIFICATE", 0),
        block(FORGED_PROXY, "PRIVATE KEY", 0),
        TEST2_CERT
    );
    assert_eq!(
        error(
            upload_proxy(&s, Some(&token), chain.as_str()),
            StatusCode::BAD_REQUEST
        ),
        format!(
            "Error reading proxy certificate from string: invalid chain: 'CN=666,{TEST2}' is \
             not signed by '{TEST2}', the certificate after it"
        )
    );

    // test2's genuine RSA proxy with one bit of its signature flipped.
    let proxy = block(TEST2_PROXY, "CERTIFICATE", 0);
    let (_, mut der) = pem_der(proxy);
    *der.last_mut().unwrap() ^= 1;
    let tampered = TEST2_PROXY.replacen(proxy, &der_pem(&der), 1);
    assert!(
        error(
            upload_proxy(&s, Some(&token), tampered.as_str()),
            StatusCode::BAD_REQUEST
        )
        .ends_with(&format!(
            "is not signed by '{TEST2}', the certificate after it"
        ))
    );
    assert_eq!(scim_cert(&s, &admin, &id)["hasProxyCertificate"], false);

    // The genuine one still goes through.
    assert_eq!(
        upload_proxy(&s, Some(&token), TEST2_PROXY).status(),
        StatusCode::OK
    );
    assert_eq!(scim_cert(&s, &admin, &id)["hasProxyCertificate"], true);
}

/// The label and DER of one PEM block.
fn pem_der(pem: &str) -> (String, Vec<u8>) {
    let lines: Vec<&str> = pem.lines().collect();
    let label = lines[0]
        .trim_start_matches("-----BEGIN ")
        .trim_end_matches("-----");
    let b64: String = lines[1..lines.len() - 1].concat();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    (label.to_string(), der)
}

fn der_pem(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
        lines.join("\n")
    )
}

// ---------------------------------------------------------------------------------------
// Finding 3 (SCIM part): client-chosen ids.

#[test]
fn scim_creation_ignores_a_client_chosen_id() {
    let s = Server::start();
    let admin = s.token("admin");
    let wanted = "0f2d6a1e-5c3b-4e8f-9a7d-1b2c3d4e5f60";
    let mut b = user_body("chosen");
    b["id"] = json!(wanted);
    let u = expect_json(
        s.post_scim("/scim/Users", Some(&admin), &b),
        StatusCode::CREATED,
        "user with an id",
    );
    let id = u["id"].as_str().unwrap();
    assert_ne!(id, wanted);
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    assert_eq!(
        s.get(&format!("/scim/Users/{wanted}"), Some(&admin))
            .status(),
        StatusCode::NOT_FOUND
    );

    let mut g = group_body("chosen-group", None);
    g["id"] = json!(wanted);
    let group = expect_json(
        s.post_scim("/scim/Groups", Some(&admin), &g),
        StatusCode::CREATED,
        "group with an id",
    );
    assert_ne!(group["id"], wanted);
}

#[test]
fn a_deleted_accounts_token_stays_dead_when_its_id_is_offered_again() {
    let s = Server::start();
    let admin = s.token("admin");
    let old = s.create_user(&admin, "bob");
    let old_token = s.token("bob");
    assert_eq!(s.get("/scim/Me", Some(&old_token)).status(), StatusCode::OK);
    assert_eq!(
        s.delete(&format!("/scim/Users/{old}"), Some(&admin))
            .status(),
        StatusCode::NO_CONTENT
    );
    expect_invalid_token(s.get("/scim/Me", Some(&old_token)), "deleted account");

    // The same name and the old id: a new account with a new id.
    let mut b = user_body("bob");
    b["id"] = json!(old);
    let u = expect_json(
        s.post_scim("/scim/Users", Some(&admin), &b),
        StatusCode::CREATED,
        "bob again",
    );
    assert_ne!(u["id"], json!(old));
    expect_invalid_token(s.get("/scim/Me", Some(&old_token)), "old token, new bob");
    assert_eq!(
        s.get(&format!("/scim/Users/{old}"), Some(&admin)).status(),
        StatusCode::NOT_FOUND
    );
    let new_token = s.token("bob");
    assert_eq!(s.get("/scim/Me", Some(&new_token)).status(), StatusCode::OK);
}

// ---------------------------------------------------------------------------------------
// Finding 10: token lifetimes.

const SECRET: &str = "client-secret";

fn client(id: &str, access: Value, refresh: Value) -> Value {
    json!({"client_id": id, "client_secret": SECRET, "scope": "openid profile",
           "grant_types": ["password", "refresh_token"],
           "access_token_validity_seconds": access, "refresh_token_validity_seconds": refresh})
}

/// A token's claims, read without checking it.
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn lifetimes_over_the_maximum_are_refused_at_registration() {
    let s = Server::start();
    let admin = s.token("admin");
    let huge = 1u64 << 62;
    let refused = |access: Value, refresh: Value| {
        let r = post_client(&s, &admin, &client("greedy", access, refresh));
        error(r, StatusCode::BAD_REQUEST)
    };
    assert_eq!(
        refused(json!(huge), json!(null)),
        "saveNewClient.client.accessTokenValiditySeconds: must be less than or equal to 86400"
    );
    assert_eq!(
        refused(json!(86_401), json!(null)),
        "saveNewClient.client.accessTokenValiditySeconds: must be less than or equal to 86400"
    );
    assert_eq!(
        refused(json!(null), json!(huge)),
        "saveNewClient.client.refreshTokenValiditySeconds: must be less than or equal to 31536000"
    );
    assert_eq!(
        refused(json!(60), json!(0)),
        "saveNewClient.client.refreshTokenValiditySeconds: 0 (refresh tokens that never \
         expire) is not allowed on this server: the maximum is 31536000"
    );
    // Past what JSON integers here hold: a parse error, not a crash.
    assert!(refused(json!(u64::MAX), json!(null)).contains("must be an integer"));
    assert!(refused(json!(1e30), json!(null)).contains("must be an integer"));
    assert_eq!(
        s.get("/iam/api/clients/greedy", Some(&admin)).status(),
        StatusCode::NOT_FOUND
    );

    // The maximum is the operator's: a lower one is enforced as well.
    let s = Server::start_with_config(
        "[oauth]\naccess_token_lifetime_secs = 300\nmax_access_token_lifetime_secs = 600\n",
    );
    let admin = s.token("admin");
    let r = post_client(&s, &admin, &client("c", json!(601), json!(null)));
    assert!(error(r, StatusCode::BAD_REQUEST).ends_with("must be less than or equal to 600"));
    let r = post_client(&s, &admin, &client("c", json!(600), json!(null)));
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[test]
fn a_client_at_the_maximum_gets_tokens_that_expire_and_revoke() {
    let s = Server::start();
    let admin = s.token("admin");
    let (max_access, max_refresh) = (86_400u64, 31_536_000u64);
    let r = post_client(
        &s,
        &admin,
        &client("long", json!(max_access), json!(max_refresh)),
    );
    let created = expect_json(r, StatusCode::CREATED, "at the maximum");
    assert_eq!(created["access_token_validity_seconds"], max_access);

    let grant = [
        ("grant_type", "password"),
        ("username", "admin"),
        ("password", ADMIN_PASSWORD),
    ];
    let t = expect_json(
        post_form(&s, "/token", Some(("long", SECRET)), &grant),
        StatusCode::OK,
        "token",
    );
    assert_eq!(t["expires_in"], max_access);
    let access = t["access_token"].as_str().unwrap();
    let c = claims(access);
    let (iat, exp) = (c["iat"].as_u64().unwrap(), c["exp"].as_u64().unwrap());
    assert_eq!(exp - iat, max_access);

    // The refresh token expires after the maximum too.
    let refresh = t["refresh_token"].as_str().unwrap();
    let v = expect_json(
        post_form(
            &s,
            "/introspect",
            Some(("long", SECRET)),
            &[("token", refresh)],
        ),
        StatusCode::OK,
        "introspect refresh",
    );
    let lifetime = v["exp"].as_u64().unwrap() - v["iat"].as_u64().unwrap();
    assert!((max_refresh..=max_refresh + 1).contains(&lifetime), "{v}");

    // Revocation holds for the token's whole (long) life.
    assert_eq!(s.get("/userinfo", Some(access)).status(), StatusCode::OK);
    let r = post_form(&s, "/revoke", Some(("long", SECRET)), &[("token", access)]);
    assert_eq!(r.status(), StatusCode::OK);
    expect_invalid_token(s.get("/userinfo", Some(access)), "revoked");
    expect_invalid_token(s.get("/scim/Me", Some(access)), "revoked");
    let v = expect_json(
        post_form(
            &s,
            "/introspect",
            Some(("long", SECRET)),
            &[("token", access)],
        ),
        StatusCode::OK,
        "introspect revoked",
    );
    assert_eq!(v["active"], false);
    let kept: u64 = s
        .sql_one(&format!(
            "SELECT expires_ms FROM revoked_tokens WHERE jti = {}",
            sql_str(c["jti"].as_str().unwrap())
        ))
        .parse()
        .unwrap();
    assert_eq!(
        kept,
        exp * 1000,
        "the revocation is kept until the token expires"
    );
}
