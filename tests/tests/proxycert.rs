//! `PUT /iam/account/me/proxycert` (docs/api.md §12).

use iam_tests::*;
use serde_json::json;

#[test]
fn a_proxy_for_a_linked_certificate_is_stored() {
    let s = Server::start();
    let admin = s.token("admin");
    let (id, token) = user_with_cert(&s, &admin, "test2", TEST2_CERT);
    let before =
        body(s.get(&format!("/scim/Users/{id}"), Some(&admin)))["meta"]["lastModified"].clone();
    std::thread::sleep(std::time::Duration::from_millis(5));

    let r = upload_proxy(&s, Some(&token), json!(TEST2_PROXY));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().unwrap(), "");

    let user = body(s.get(&format!("/scim/Users/{id}"), Some(&admin)));
    assert_ne!(user["meta"]["lastModified"], before);
    let certs = user[INDIGO_USER]["certificates"].as_array().unwrap();
    assert_eq!(
        certs.len(),
        1,
        "the linked certificate is refreshed, not duplicated"
    );
    assert_eq!(certs[0]["hasProxyCertificate"], true);
    assert_eq!(certs[0]["proxyExpirationTime"], "2125-06-18T06:44:25.000Z");
    assert_eq!(certs[0]["display"], "mine");
}

#[test]
fn proxy_upload_errors() {
    let s = Server::start();
    let admin = s.token("admin");
    let (_, token) = user_with_cert(&s, &admin, "test3", TEST3_CERT);
    let error = |r: reqwest::blocking::Response| {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        body(r)["error"].as_str().unwrap().to_string()
    };
    assert_eq!(
        error(upload_proxy(&s, Some(&token), json!(""))),
        "Invalid proxy certificate: must not be blank"
    );
    assert_eq!(
        error(upload_proxy(&s, Some(&token), json!(null))),
        "Invalid proxy certificate: must not be blank"
    );
    assert_eq!(
        error(upload_proxy(&s, Some(&token), json!("x".repeat(8193)))),
        "Invalid proxy certificate: length must be between 0 and 8192"
    );
    assert!(
        error(upload_proxy(&s, Some(&token), json!("junk")))
            .starts_with("Error reading proxy certificate from string: ")
    );
    // A plain certificate without its key is not a credential.
    assert!(
        error(upload_proxy(&s, Some(&token), json!(TEST3_CERT)))
            .starts_with("Error reading proxy certificate from string: ")
    );
    // test3 does not own test2's certificate.
    assert_eq!(
        error(upload_proxy(&s, Some(&token), json!(TEST2_PROXY))),
        "Invalid proxy: user 'test3' does not own certificate 'CN=test2,O=IGI,C=IT'"
    );
    // 401 before anything else; a client token or an account without ROLE_USER is refused.
    expect_unauthorized(upload_proxy(&s, None, json!("")), "anonymous");
    let test3 = s.user_id(&admin, "test3");
    let r = s
        .req(
            reqwest::Method::DELETE,
            &format!("/iam/account/{test3}/authorities?authority=ROLE_USER"),
            Some(&admin),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    expect_denied(
        upload_proxy(&s, Some(&token), json!(TEST2_PROXY)),
        "no ROLE_USER",
    );
}
