//! Regression tests of issue 11's findings on accounts, each an attack over real HTTP on the
//! real server: a proxy upload reaching another account's certificate (6) and a deleted
//! account's token coming back through a client-chosen SCIM id (3). Fixtures:
//! tests/fixtures/README.md.

use base64::Engine as _;
use iam_tests::*;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const INDIGO: &str = "urn:indigo-dc:scim:schemas:IndigoUser";
const TEST2_CERT: &str = include_str!("../fixtures/test2-cert.pem");
const TEST2_PROXY: &str = include_str!("../fixtures/test2-proxy.pem");
const TEST2: &str = "CN=test2,O=IGI,C=IT";
/// The victim's subject and issuer on someone else's key, and a proxy that key signed.
const FORGED_PROXY: &str = include_str!("../fixtures/forged-test2-proxy.pem");
/// The attacker's own certificate: the victim's subject DN, from the attacker's CA.
const ATTACKER_CERT: &str = include_str!("../fixtures/attacker-cert.pem");
const ATTACKER_PROXY: &str = include_str!("../fixtures/attacker-proxy.pem");

// ---------------------------------------------------------------------------------------
// Finding 6: proxy certificates.

fn upload(s: &Server, token: &str, chain: &str) -> Response {
    s.put_json(
        "/iam/account/me/proxycert",
        Some(token),
        &json!({"certificate_chain": chain}),
    )
}

/// A user with `pem` linked; returns (id, token).
fn user_with_cert(s: &Server, admin: &str, username: &str, pem: &str) -> (String, String) {
    let mut b = user_body(username);
    b[INDIGO] = json!({"certificates": [{"pemEncodedCertificate": pem, "display": "mine"}]});
    let r = s.post_scim("/scim/Users", Some(admin), &b);
    assert_eq!(r.status(), StatusCode::CREATED, "create {username}");
    (
        body(r)["id"].as_str().unwrap().to_string(),
        s.token(username),
    )
}

/// What the database holds for each linked certificate with subject test2:
/// (account, issuer, PEM, proxy chain).
fn test2_rows(s: &Server) -> Vec<(String, String, String, Option<String>)> {
    let conn = rusqlite::Connection::open(s.db_path()).unwrap();
    let mut q = conn
        .prepare(
            "SELECT a.uuid, c.issuer_dn, c.pem, c.proxy_chain FROM certificates c
             JOIN accounts a ON a.id = c.account_id WHERE c.subject_dn = ?1 ORDER BY c.id",
        )
        .unwrap();
    q.query_map([TEST2], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

/// The account's one linked certificate as SCIM shows it.
fn scim_cert(s: &Server, admin: &str, id: &str) -> Value {
    let user = body(s.get(&format!("/scim/Users/{id}"), Some(admin)));
    let certs = user[INDIGO]["certificates"].as_array().unwrap().clone();
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

/// A 401 for a token that is refused (not a missing one).
fn expect_refused_token(r: Response, what: &str) {
    let v = expect_json(r, StatusCode::UNAUTHORIZED, what);
    assert_eq!(v["error"], "invalid_token", "{what}: {v}");
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
        upload(&s, &victim_token, TEST2_PROXY).status(),
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
    let r = upload(&s, &mallory_token, FORGED_PROXY);
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
        upload(&s, &mallory_token, ATTACKER_PROXY).status(),
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
    let r = upload(&s, &token, FORGED_PROXY);
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
        error(upload(&s, &token, &chain), StatusCode::BAD_REQUEST),
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
        error(upload(&s, &token, &tampered), StatusCode::BAD_REQUEST).ends_with(&format!(
            "is not signed by '{TEST2}', the certificate after it"
        ))
    );
    assert_eq!(scim_cert(&s, &admin, &id)["hasProxyCertificate"], false);

    // The genuine one still goes through.
    assert_eq!(upload(&s, &token, TEST2_PROXY).status(), StatusCode::OK);
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
    expect_refused_token(s.get("/scim/Me", Some(&old_token)), "deleted account");

    // The same name and the old id: a new account with a new id.
    let mut b = user_body("bob");
    b["id"] = json!(old);
    let u = expect_json(
        s.post_scim("/scim/Users", Some(&admin), &b),
        StatusCode::CREATED,
        "bob again",
    );
    assert_ne!(u["id"], json!(old));
    expect_refused_token(s.get("/scim/Me", Some(&old_token)), "old token, new bob");
    assert_eq!(
        s.get(&format!("/scim/Users/{old}"), Some(&admin)).status(),
        StatusCode::NOT_FOUND
    );
    let new_token = s.token("bob");
    assert_eq!(s.get("/scim/Me", Some(&new_token)).status(), StatusCode::OK);
}
