//! Request-size limits answer with JSON errors, and the limit is configurable.

use iam_tests::*;
use serde_json::json;

#[test]
fn an_oversize_body_gets_413_json() {
    let s = Server::start_with_config("max_body_bytes = 4096\n");
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let path = format!("/iam/account/{me}/attributes");

    let big = json!({"name": "a", "value": "x".repeat(8000)});
    let r = s.put_json(&path, Some(&admin), &big);
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body(r)["error"].is_string());

    // Under the limit the same endpoint works.
    let r = s.put_json(&path, Some(&admin), &json!({"name": "a", "value": "small"}));
    assert_eq!(r.status(), StatusCode::OK);
}

#[test]
fn the_default_limit_is_one_mebibyte() {
    let s = Server::start();
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let big = json!({"name": "a", "value": "x".repeat(1 << 20)});
    let r = s.put_json(&format!("/iam/account/{me}/attributes"), Some(&admin), &big);
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body(r)["error"].is_string());
}
