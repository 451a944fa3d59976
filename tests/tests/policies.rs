//! The built-in policies, selected with `--policy` or the config (docs/api.md §2).

use iam_tests::*;
use serde_json::json;

#[test]
fn roles_lets_role_admin_act_without_admin_scopes() {
    let s = Server::start_with_args(&["--policy", "roles"]);
    let admin = s.token("admin");
    let user = s.create_user(&admin, "alice");
    let openid_only = s.token_with("admin", Some("openid"));
    assert_eq!(
        s.get(&attributes_path(&user), Some(&openid_only)).status(),
        StatusCode::OK
    );
    let r = s.put_json(
        &attributes_path(&user),
        Some(&openid_only),
        &json!({"name": "a"}),
    );
    assert_eq!(r.status(), StatusCode::OK);
}

#[test]
fn strict_needs_the_scope_where_iam_ignores_roles_for_tokens() {
    let s = Server::start_with_config("[plugins]\npolicy = \"strict\"\n");
    assert!(s.log().contains("builtin:strict"), "{}", s.log());
    let admin = s.token("admin");
    let user = s.create_user(&admin, "alice");
    let admin_id = s.user_id(&admin, "admin");

    // ROLE_ADMIN alone no longer grants anything...
    let openid_only = s.token_with("admin", Some("openid"));
    assert_eq!(
        s.get(&attributes_path(&user), Some(&openid_only)).status(),
        StatusCode::FORBIDDEN
    );
    let r = s.put_json(
        &attributes_path(&user),
        Some(&openid_only),
        &json!({"name": "a"}),
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        s.get("/scim/Users", Some(&openid_only)).status(),
        StatusCode::FORBIDDEN
    );
    // ...but self still reads its own attributes...
    assert_eq!(
        s.get(&attributes_path(&admin_id), Some(&openid_only))
            .status(),
        StatusCode::OK
    );
    let alice = s.token("alice");
    assert_eq!(
        s.get(&attributes_path(&user), Some(&alice)).status(),
        StatusCode::OK
    );
    assert_eq!(
        s.get(&attributes_path(&admin_id), Some(&alice)).status(),
        StatusCode::FORBIDDEN
    );

    // ...and each scope grants exactly what it names.
    let read = s.token_with("admin", Some("iam:admin.read"));
    assert_eq!(
        s.get(&attributes_path(&user), Some(&read)).status(),
        StatusCode::OK
    );
    let r = s.put_json(&attributes_path(&user), Some(&read), &json!({"name": "a"}));
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let write = s.token_with("admin", Some("iam:admin.write"));
    let r = s.put_json(&attributes_path(&user), Some(&write), &json!({"name": "a"}));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        s.get(&attributes_path(&user), Some(&write)).status(),
        StatusCode::FORBIDDEN
    );
    let scim_read = s.token_with("admin", Some("scim:read"));
    assert_eq!(
        s.get("/scim/Users", Some(&scim_read)).status(),
        StatusCode::OK
    );
    let r = s.post_scim("/scim/Users", Some(&scim_read), &user_body("bob"));
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
