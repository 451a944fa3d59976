//! OAuth client management (`/iam/api/clients`), ownership, and `GET /iam/account/me/clients`
//! (docs/api.md §11).

use iam_tests::oauth::post_client;
use iam_tests::*;
use serde_json::{Value, json};

#[test]
fn register_read_list_and_delete() {
    let s = Server::start();
    let admin = s.token("admin");

    let r = post_client(
        &s,
        &admin,
        &json!({"client_id": "tasks-app", "client_name": "Tasks", "scope": "openid profile openid",
               "grant_types": ["client_credentials"], "redirect_uris": ["https://app.example.org/cb"]}),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = body(r);
    let secret = created["client_secret"]
        .as_str()
        .expect("a generated secret")
        .to_string();
    assert!(secret.len() >= 20);
    assert_eq!(created["client_id"], "tasks-app");
    assert_eq!(created["scope"], "openid profile");
    assert_eq!(created["grant_types"], json!(["client_credentials"]));
    assert_eq!(created["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(created["active"], true);
    assert!(created["created_at"].as_u64().unwrap() > 1_700_000_000_000);

    // The secret is never shown again.
    let r = s.get("/iam/api/clients/tasks-app", Some(&admin));
    assert_eq!(r.status(), StatusCode::OK);
    let read = body(r);
    assert!(read.get("client_secret").is_none());
    let mut without_secret = created.clone();
    without_secret
        .as_object_mut()
        .unwrap()
        .remove("client_secret");
    assert_eq!(read, without_secret);

    // Generated id, public client without secret, RFC 7591 default grant.
    let r = post_client(&s, &admin, &json!({"token_endpoint_auth_method": "none"}));
    assert_eq!(r.status(), StatusCode::CREATED);
    let public = body(r);
    assert!(public.get("client_secret").is_none());
    assert_eq!(public["grant_types"], json!(["authorization_code"]));
    assert!(!public["client_id"].as_str().unwrap().is_empty());

    let list = body(s.get("/iam/api/clients", Some(&admin)));
    assert_eq!(
        (list["totalResults"].clone(), list["itemsPerPage"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(list["Resources"][0]["client_id"], "tasks-app");
    assert!(list.get("schemas").is_none());
    assert_eq!(
        body(s.get("/iam/api/clients?count=0", Some(&admin))),
        json!({"totalResults": 2, "Resources": []})
    );
    assert_eq!(
        body(s.get("/iam/api/clients?startIndex=2", Some(&admin)))["Resources"][0],
        {
            let mut p = public.clone();
            p.as_object_mut().unwrap().remove("client_secret");
            p
        }
    );

    let r = s.delete("/iam/api/clients/tasks-app", Some(&admin));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s.get("/iam/api/clients/tasks-app", Some(&admin));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(r),
        json!({"error": "Client not found for clientId: tasks-app"})
    );
    let r = s.delete("/iam/api/clients/tasks-app", Some(&admin));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(r),
        json!({"error": "Client not found for clientId: tasks-app"})
    );
}

#[test]
fn registration_errors() {
    let s = Server::start();
    let admin = s.token("admin");
    assert_eq!(
        post_client(&s, &admin, &json!({"client_id": "c"})).status(),
        StatusCode::CREATED
    );
    // IAM's method validation: 400, each violation as `saveNewClient.client<path>: <message>`,
    // all joined by ", ".
    let invalid = |bad: Value, msg: &str| {
        let r = post_client(&s, &admin, &bad);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body(r), json!({"error": msg}), "{bad}");
    };
    invalid(
        json!({"client_id": "c"}),
        "saveNewClient.client.clientId: Client id not available",
    );
    invalid(
        json!({"client_name": "abc"}),
        "saveNewClient.client.clientName: Invalid length: must be between 4 and 256 characters",
    );
    invalid(
        json!({"client_id": "c", "client_name": ""}),
        "saveNewClient.client.clientId: Client id not available, \
         saveNewClient.client.clientName: should not be blank, \
         saveNewClient.client.clientName: Invalid length: must be between 4 and 256 characters",
    );
    invalid(
        json!({"client_description": "d".repeat(1025)}),
        "saveNewClient.client.clientDescription: Invalid ength: must be at most 1024 characters",
    );
    invalid(
        json!({"redirect_uris": ["/cb"], "grant_types": ["client_credentials"]}),
        "saveNewClient.client.redirectUris[].<iterable element>: \
         Invalid redirect URI: no scheme set",
    );
    invalid(
        json!({"scope": "s".repeat(2049)}),
        "saveNewClient.client.scope[].<iterable element>: string size must be between 1 and 2048",
    );
    invalid(
        json!({"grant_types": ["authorization_code"]}),
        "saveNewClient.client: Authorization code requires a valid redirect uri",
    );
    invalid(
        json!({"redirect_uris": ["https://app.example.org/cb#top"]}),
        "saveNewClient.client: Invalid redirect URI: contains a fragment",
    );
    invalid(
        json!({"token_endpoint_auth_method": "private_key_jwt"}),
        "saveNewClient.client: private_key_jwt requires a jwks uri or a jwk value",
    );
    // Ours: IAM fails in its database here.
    invalid(
        json!({"client_id": "i".repeat(257)}),
        "saveNewClient.client.clientId: size must be between 0 and 256",
    );
    // Values IAM's JSON binding refuses (framework 400s) come before validation.
    invalid(
        json!({"grant_types": ["magic"], "client_name": ""}),
        "JSON parse error: magic is not a supported grant type",
    );
    invalid(
        json!({"token_endpoint_auth_method": "magic"}),
        "JSON parse error: 'magic' is not a valid token_endpoint_auth_method",
    );
    // A method IAM has and we cannot verify.
    invalid(
        json!({"token_endpoint_auth_method": "client_secret_jwt"}),
        "Invalid client: unsupported token_endpoint_auth_method 'client_secret_jwt'",
    );
    for bad in [
        json!({"grant_types": "password"}),
        json!({"redirect_uris": [1]}),
    ] {
        expect_plain_error(
            post_client(&s, &admin, &bad),
            StatusCode::BAD_REQUEST,
            &bad.to_string(),
        );
    }
    // What IAM accepts: any client id, a public client's secret (dropped), the default code
    // grant without redirect URIs.
    let r = post_client(
        &s,
        &admin,
        &json!({"client_id": "has space", "token_endpoint_auth_method": "none",
               "client_secret": "s"}),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let public = body(r);
    assert_eq!(public["client_id"], "has space");
    assert!(public.get("client_secret").is_none());
    assert_eq!(public["grant_types"], json!(["authorization_code"]));
    let r = post_client(&s, &admin, &json!({"client_id": " "}));
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_ne!(body(r)["client_id"], " ");
}

#[test]
fn owners_and_me_clients() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    for id in ["one", "two", "three"] {
        let r = post_client(
            &s,
            &admin,
            &json!({"client_id": id, "client_name": format!("{id} app"), "scope": "openid"}),
        );
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    for id in ["one", "three"] {
        let r = s.post(
            &format!("/iam/api/clients/{id}/owners/{alice}"),
            Some(&admin),
        );
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // Idempotent.
    assert_eq!(
        s.post(
            &format!("/iam/api/clients/one/owners/{alice}"),
            Some(&admin)
        )
        .status(),
        StatusCode::CREATED
    );
    // The account is checked first, and an unknown one is a 400; then the client, a 404.
    let r = s.post(
        &format!("/iam/api/clients/nope/owners/{alice}"),
        Some(&admin),
    );
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(r),
        json!({"error": "Client not found for clientId: nope"})
    );
    let r = s.delete(
        &format!("/iam/api/clients/nope/owners/{alice}"),
        Some(&admin),
    );
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(r),
        json!({"error": "Client not found for clientId: nope"})
    );
    for client in ["one", "nope"] {
        let r = s.post(
            &format!("/iam/api/clients/{client}/owners/{UNKNOWN_ID}"),
            Some(&admin),
        );
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body(r),
            json!({"error": "assignClientOwner.accountId: Invalid IAM account uuid"})
        );
        let r = s.delete(
            &format!("/iam/api/clients/{client}/owners/{UNKNOWN_ID}"),
            Some(&admin),
        );
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body(r),
            json!({"error": "removeClientOwner.accountId: Invalid IAM account uuid"})
        );
    }

    let token = s.token("alice");
    let r = s.get("/iam/account/me/clients", Some(&token));
    assert_eq!(r.status(), StatusCode::OK);
    let mine = body(r);
    assert_eq!(mine["totalResults"], 2);
    assert!(mine.get("schemas").is_none());
    let first = &mine["Resources"][0];
    assert_eq!(first["client_id"], "one");
    assert_eq!(first["client_name"], "one app");
    assert_eq!(first["scope"], "openid");
    assert_eq!(first["active"], true);
    assert!(
        first.get("grant_types").is_none() && first.get("token_endpoint_auth_method").is_none()
    );
    assert_eq!(mine["Resources"][1]["client_id"], "three");

    // Paging of me/clients: SCIM errors for bad values, count=0 for the count only.
    let page = body(s.get("/iam/account/me/clients?count=1&startIndex=2", Some(&token)));
    assert_eq!(
        (
            page["itemsPerPage"].clone(),
            page["Resources"][0]["client_id"].clone()
        ),
        (json!(1), json!("three"))
    );
    assert_eq!(
        body(s.get("/iam/account/me/clients?count=0", Some(&token))),
        json!({"totalResults": 2, "Resources": []})
    );
    let r = s.get("/iam/account/me/clients?startIndex=0", Some(&token));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e = body(r);
    assert_eq!(e["detail"], "Invalid pagination request: [must be >=1]");
    assert_eq!(
        e["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );

    let r = s.delete(
        &format!("/iam/api/clients/one/owners/{alice}"),
        Some(&admin),
    );
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        body(s.get("/iam/account/me/clients", Some(&token)))["totalResults"],
        1
    );

    // Deleting the account drops its ownership links, not the clients.
    assert_eq!(
        s.delete(&format!("/scim/Users/{alice}"), Some(&admin))
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        body(s.get("/iam/api/clients", Some(&admin)))["totalResults"],
        3
    );
}

/// The password grant through `client` with `secret`, as the admin.
fn admin_token_via(s: &Server, client: &str, secret: &str) -> reqwest::blocking::Response {
    iam_tests::oauth::post_form(
        s,
        "/token",
        Some((client, secret)),
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", ADMIN_PASSWORD),
            ("scope", "openid"),
        ],
    )
}

#[test]
fn disabled_clients_get_no_tokens_and_theirs_are_refused_at_once() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "alice");
    let alice = s.token("alice");
    iam_tests::oauth::register(&s, &admin, "svc", &["password"], "openid", false);
    let issued = iam_tests::oauth::token_ok(admin_token_via(&s, "svc", iam_tests::oauth::SECRET));
    let via_svc = issued["access_token"].as_str().unwrap().to_string();
    assert_eq!(s.get("/scim/Me", Some(&via_svc)).status(), StatusCode::OK);

    // Only administrators; an unknown client is IAM's 404.
    let r = s.req(
        reqwest::Method::PATCH,
        "/iam/api/clients/svc/disable",
        Some(&alice),
    );
    assert_eq!(r.send().unwrap().status(), StatusCode::FORBIDDEN);
    let r = s.req(
        reqwest::Method::PATCH,
        "/iam/api/clients/nope/disable",
        Some(&admin),
    );
    expect_error(
        r.send().unwrap(),
        StatusCode::NOT_FOUND,
        "Client not found for clientId: nope",
        "unknown client",
    );

    let r = s.req(
        reqwest::Method::PATCH,
        "/iam/api/clients/svc/disable",
        Some(&admin),
    );
    expect_empty_ok(r.send().unwrap(), "disable");
    let shown = body(s.get("/iam/api/clients/svc", Some(&admin)));
    assert_eq!(shown["active"], false, "{shown}");
    // At once: the token it obtained before is refused, and it gets no new one.
    expect_invalid_token(
        s.get("/scim/Me", Some(&via_svc)),
        "token of a disabled client",
    );
    let v = iam_tests::oauth::oauth_error(
        admin_token_via(&s, "svc", iam_tests::oauth::SECRET),
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    assert_eq!(v["error_description"], "Client is suspended", "{v}");

    // Enabled again, it works again (its tokens had not expired).
    let r = s.req(
        reqwest::Method::PATCH,
        "/iam/api/clients/svc/enable",
        Some(&admin),
    );
    expect_empty_ok(r.send().unwrap(), "enable");
    assert_eq!(s.get("/scim/Me", Some(&via_svc)).status(), StatusCode::OK);
    iam_tests::oauth::token_ok(admin_token_via(&s, "svc", iam_tests::oauth::SECRET));

    let events: Vec<(String, String)> = s
        .audit_events()
        .into_iter()
        .filter(|e| e.event.starts_with("client "))
        .map(|e| (e.event, e.detail))
        .collect();
    assert!(
        events.contains(&("client disabled".into(), "svc".into())),
        "{events:?}"
    );
    assert!(
        events.contains(&("client enabled".into(), "svc".into())),
        "{events:?}"
    );
}

#[test]
fn a_new_secret_is_shown_once_and_the_old_one_stops_working() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "alice");
    let alice = s.token("alice");
    iam_tests::oauth::register(&s, &admin, "svc", &["password"], "openid", false);

    assert_eq!(
        s.post("/iam/api/clients/svc/secret", Some(&alice)).status(),
        StatusCode::FORBIDDEN
    );
    expect_error(
        s.post("/iam/api/clients/nope/secret", Some(&admin)),
        StatusCode::NOT_FOUND,
        "Client not found for clientId: nope",
        "unknown client",
    );
    let r = s.post("/iam/api/clients/svc/secret", Some(&admin));
    assert_eq!(r.status(), StatusCode::CREATED);
    let rotated = body(r);
    assert_eq!(rotated["client_id"], "svc");
    let secret = rotated["client_secret"].as_str().unwrap().to_string();
    assert!(secret.len() >= 20 && secret != iam_tests::oauth::SECRET);
    assert!(
        body(s.get("/iam/api/clients/svc", Some(&admin)))
            .get("client_secret")
            .is_none()
    );
    iam_tests::oauth::oauth_error(
        admin_token_via(&s, "svc", iam_tests::oauth::SECRET),
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    iam_tests::oauth::token_ok(admin_token_via(&s, "svc", &secret));
    assert!(
        s.audit_events()
            .iter()
            .any(|e| e.event == "client secret rotated" && e.detail == "svc")
    );

    // A public client authenticates without a secret: it gets none.
    let r = post_client(
        &s,
        &admin,
        &json!({"client_id": "spa", "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "redirect_uris": ["https://spa.example.org/cb"]}),
    );
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().unwrap());
    expect_error(
        s.post("/iam/api/clients/spa/secret", Some(&admin)),
        StatusCode::BAD_REQUEST,
        "Client spa is a public client: it has no secret",
        "public client",
    );
}
