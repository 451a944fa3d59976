//! Linked identities in the IndigoUser extension: OIDC ids, SAML ids and SSH keys, each
//! linked to at most one account (docs/api.md §10.1, §10.3).

use iam_tests::*;
use serde_json::{Value, json};

// Made with ssh-keygen; the fingerprint is what `ssh-keygen -lf` printed.
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPC3F+gTo1JZ3IlVZ7wpW+TSp3FxpTMZgSsf7DhriecQ test";
const FINGERPRINT: &str = "SHA256:dS3N7BY/u4XeXgEdWhI/qAd8VRHc0qGnSoJaqoJtcvM";

fn with_identities(username: &str, ext: Value) -> Value {
    let mut b = user_body(username);
    b[INDIGO_USER] = ext;
    b
}

#[test]
fn identities_are_stored_and_shown() {
    let s = Server::start();
    let admin = s.token("admin");
    let ext = json!({
        "oidcIds": [{"issuer": "https://op.example.org", "subject": "alice-sub"}],
        "samlIds": [{"idpId": "https://idp.example.org", "userId": "alice@example.org", "attributeId": "mail"}],
        "sshKeys": [{"display": "laptop", "value": KEY, "primary": true}],
    });
    let r = s.post_scim("/scim/Users", Some(&admin), &with_identities("alice", ext));
    assert_eq!(r.status(), StatusCode::CREATED);
    let user = body(r);
    let shown = &user[INDIGO_USER];
    assert_eq!(
        shown["oidcIds"],
        json!([{"issuer": "https://op.example.org", "subject": "alice-sub"}])
    );
    assert_eq!(
        shown["samlIds"],
        json!([{"idpId": "https://idp.example.org", "userId": "alice@example.org", "attributeId": "mail"}])
    );
    let key = &shown["sshKeys"][0];
    assert_eq!(
        (key["display"].clone(), key["value"].clone()),
        (json!("laptop"), json!(KEY))
    );
    assert_eq!(key["fingerprint"], FINGERPRINT);
    assert_eq!(key["primary"], true);
    assert!(key["created"].as_str().unwrap().ends_with('Z'));
    let id = user["id"].as_str().unwrap();
    assert_eq!(
        body(s.get(&format!("/scim/Users/{id}"), Some(&admin)))[INDIGO_USER],
        *shown
    );
}

#[test]
fn an_identity_belongs_to_one_account() {
    let s = Server::start();
    let admin = s.token("admin");
    let oidc = json!({"oidcIds": [{"issuer": "https://op.example.org", "subject": "s"}]});
    let saml = json!({"samlIds": [{"idpId": "idp", "userId": "u", "attributeId": "a"}]});
    let ssh = json!({"sshKeys": [{"value": KEY}]});
    let alice = {
        let mut ext = oidc.clone();
        ext["samlIds"] = saml["samlIds"].clone();
        ext["sshKeys"] = ssh["sshKeys"].clone();
        let r = s.post_scim(
            "/scim/Users",
            Some(&admin),
            &with_identities("alice", ext.clone()),
        );
        assert_eq!(r.status(), StatusCode::CREATED);
        (body(r)["id"].as_str().unwrap().to_string(), ext)
    };
    for (ext, detail) in [
        (
            &oidc,
            "OIDC id (issuer: https://op.example.org, subject: s) already bound to a user",
        ),
        (
            &saml,
            "SAML id (idpId: idp, userId: u, attributeId: a) already bound to a user",
        ),
        (
            &ssh,
            &*format!("SSH key with fingerprint {FINGERPRINT} already bound to a user"),
        ),
    ] {
        let r = s.post_scim(
            "/scim/Users",
            Some(&admin),
            &with_identities("bob", ext.clone()),
        );
        assert_eq!(scim_error_detail(r, StatusCode::CONFLICT, "taken"), detail);
    }
    // Replacing alice with her own identities is fine, and can drop some of them.
    let path = format!("/scim/Users/{}", alice.0);
    assert_eq!(
        s.put_scim(
            &path,
            Some(&admin),
            &with_identities("alice", alice.1.clone())
        )
        .status(),
        StatusCode::OK
    );
    let r = s.put_scim(&path, Some(&admin), &with_identities("alice", oidc.clone()));
    assert_eq!(r.status(), StatusCode::OK);
    let shown = &body(r)[INDIGO_USER];
    assert!(shown.get("samlIds").is_none() && shown.get("sshKeys").is_none());
    // What she dropped is free for bob now; deleting her frees the rest.
    let r = s.post_scim(
        "/scim/Users",
        Some(&admin),
        &with_identities("bob", ssh.clone()),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        s.delete(&path, Some(&admin)).status(),
        StatusCode::NO_CONTENT
    );
    let r = s.post_scim(
        "/scim/Users",
        Some(&admin),
        &with_identities("carol", oidc.clone()),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[test]
fn malformed_identities_are_refused() {
    let s = Server::start();
    let admin = s.token("admin");
    let r = s.post_scim(
        "/scim/Users",
        Some(&admin),
        &with_identities("a", json!({"sshKeys": [{"value": "ssh-rsa !!!"}]})),
    );
    assert!(
        scim_error_detail(r, StatusCode::BAD_REQUEST, "malformed").starts_with("Invalid SSH key: ")
    );
    let mislabelled = KEY.replacen("ssh-ed25519", "ssh-rsa", 1);
    let r = s.post_scim(
        "/scim/Users",
        Some(&admin),
        &with_identities("a", json!({"sshKeys": [{"value": mislabelled}]})),
    );
    assert!(
        scim_error_detail(r, StatusCode::BAD_REQUEST, "malformed").starts_with("Invalid SSH key: ")
    );
    for bad in [
        json!({"oidcIds": [{"issuer": "https://op.example.org"}]}),
        json!({"samlIds": [{"idpId": "i", "userId": "u"}]}),
        json!({"oidcIds": "not a list"}),
    ] {
        let r = s.post_scim(
            "/scim/Users",
            Some(&admin),
            &with_identities("a", bad.clone()),
        );
        expect_plain_error(r, StatusCode::BAD_REQUEST, &bad.to_string());
    }
    // Nothing was created by the refused requests.
    assert_eq!(body(s.get("/scim/Users", Some(&admin)))["totalResults"], 1);
}

#[test]
fn certificates_are_linked_found_and_shown() {
    let s = Server::start();
    let admin = s.token("admin");
    let ext = json!({"certificates": [
        {"display": "grid cert", "pemEncodedCertificate": TEST2_CERT, "primary": true},
    ]});
    let r = s.post_scim("/scim/Users", Some(&admin), &with_identities("alice", ext));
    assert_eq!(r.status(), StatusCode::CREATED);
    let user = body(r);
    let id = user["id"].as_str().unwrap().to_string();
    let cert = &user[INDIGO_USER]["certificates"][0];
    assert_eq!(cert["subjectDn"], "CN=test2,O=IGI,C=IT");
    assert_eq!(cert["issuerDn"], "CN=Test CA,O=IGI,C=IT");
    assert_eq!(cert["display"], "grid cert");
    assert_eq!(cert["primary"], true);
    assert_eq!(cert["hasProxyCertificate"], false);
    assert_eq!(cert["pemEncodedCertificate"], TEST2_CERT);

    // The list leaves the PEM out; single reads and finders keep it.
    let list = body(s.get("/scim/Users", Some(&admin)));
    let listed = list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == json!(id))
        .unwrap();
    assert!(
        listed[INDIGO_USER]["certificates"][0]
            .get("pemEncodedCertificate")
            .is_none()
    );
    assert_eq!(
        listed[INDIGO_USER]["certificates"][0]["subjectDn"],
        "CN=test2,O=IGI,C=IT"
    );
    let found = body(s.get(
        "/iam/account/find/bycertsubject?certificateSubject=CN%3Dtest2%2CO%3DIGI%2CC%3DIT",
        Some(&admin),
    ));
    assert_eq!(found["totalResults"], 1);
    assert_eq!(found["Resources"][0]["id"], json!(id));
    assert_eq!(
        found["Resources"][0][INDIGO_USER]["certificates"][0]["pemEncodedCertificate"],
        TEST2_CERT
    );

    // A certificate belongs to one account.
    let r = s.post_scim(
        "/scim/Users",
        Some(&admin),
        &with_identities(
            "bob",
            json!({"certificates": [{"pemEncodedCertificate": TEST2_CERT}]}),
        ),
    );
    assert_eq!(
        scim_error_detail(r, StatusCode::CONFLICT, "taken"),
        "X.509 certificate (subject: CN=test2,O=IGI,C=IT, issuer: CN=Test CA,O=IGI,C=IT) already bound to a user"
    );
    // Replacing alice's certificates swaps them.
    let r = s.put_scim(
        &format!("/scim/Users/{id}"),
        Some(&admin),
        &with_identities(
            "alice",
            json!({"certificates": [{"pemEncodedCertificate": TEST3_CERT}]}),
        ),
    );
    assert_eq!(r.status(), StatusCode::OK);
    let certs = body(r)[INDIGO_USER]["certificates"].clone();
    assert_eq!(certs.as_array().unwrap().len(), 1);
    assert_eq!(certs[0]["subjectDn"], "CN=test3,O=IGI,C=IT");
    assert_eq!(certs[0]["display"], "cert-0");

    // Not a certificate: a SCIM 400.
    let r = s.post_scim(
        "/scim/Users",
        Some(&admin),
        &with_identities(
            "carol",
            json!({"certificates": [{"pemEncodedCertificate": "junk"}]}),
        ),
    );
    assert!(
        scim_error_detail(r, StatusCode::BAD_REQUEST, "malformed")
            .starts_with("Invalid X.509 certificate: ")
    );
}
