//! `POST /scim/Bulk` (RFC 7644 §3.7; docs/scim.md): bulkId references, failOnErrors, the
//! limits, and every operation authorized as if sent alone.

use iam_tests::*;
use serde_json::{Value, json};

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn bulk(s: &Server, token: &str, ops: Value, fail_on_errors: Option<i64>) -> Value {
    let mut b = json!({"schemas": [BULK_REQUEST], "Operations": ops});
    if let Some(n) = fail_on_errors {
        b["failOnErrors"] = json!(n);
    }
    expect_scim(
        s.post_scim("/scim/Bulk", Some(token), &b),
        StatusCode::OK,
        "bulk",
    )
}

fn statuses(v: &Value) -> Vec<String> {
    v["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap().to_string())
        .collect()
}

fn new_user(bulk_id: &str, name: &str) -> Value {
    json!({"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": user_body(name)})
}

#[test]
fn a_group_is_created_with_members_created_in_the_same_request() {
    let s = Server::start();
    let admin = s.token("admin");
    let v = bulk(
        &s,
        &admin,
        json!([
            new_user("u1", "alice"),
            new_user("u2", "bob"),
            {"method": "POST", "path": "/Groups", "bulkId": "g1", "data": group_body("cms", None)},
            {"method": "PATCH", "path": "/Groups/bulkId:g1", "data": {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "operations": [{"op": "add", "path": "members",
                                "value": [{"value": "bulkId:u1"}, {"value": "bulkId:u2"}]}]}},
        ]),
        None,
    );
    assert_eq!(statuses(&v), ["201", "201", "201", "204"], "{v}");
    let ops = v["Operations"].as_array().unwrap();
    assert_eq!(ops[0]["bulkId"], "u1");
    assert_eq!(ops[0]["method"], "POST");
    let alice_location = ops[0]["location"].as_str().unwrap();
    let alice = alice_location.rsplit('/').next().unwrap();
    assert!(ops[0]["version"].as_str().unwrap().starts_with("W/"));
    let group = ops[2]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let members = body(s.get(&format!("/scim/Groups/{group}/members"), Some(&admin)));
    assert_eq!(members["totalResults"], 2);
    let user = body(s.get(&format!("/scim/Users/{alice}"), Some(&admin)));
    assert_eq!(user["userName"], "alice");
    assert_eq!(user["groups"][0]["display"], "cms");
}

#[test]
fn errors_are_per_operation_and_fail_on_errors_stops() {
    let s = Server::start();
    let admin = s.token("admin");
    s.create_user(&admin, "taken");
    // A GET is not a bulk operation: the request itself is refused.
    let r = s.post_scim(
        "/scim/Bulk",
        Some(&admin),
        &json!({"Operations": [{"method": "GET", "path": "/Users"}]}),
    );
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(r)["scimType"], "invalidSyntax");

    let v = bulk(
        &s,
        &admin,
        json!([
            new_user("a", "taken"),
            {"method": "PUT", "path": "/Users/bulkId:nowhere", "data": user_body("x")},
            new_user("b", "fresh"),
        ]),
        None,
    );
    assert_eq!(statuses(&v), ["409", "409", "201"], "{v}");
    let first = &v["Operations"][0]["response"];
    assert_eq!(
        first["detail"],
        "A user with username 'taken' already exists"
    );
    assert_eq!(first["scimType"], "uniqueness");
    assert!(
        v["Operations"][1]["response"]["detail"]
            .as_str()
            .unwrap()
            .contains("nowhere")
    );

    let v = bulk(
        &s,
        &admin,
        json!([
            new_user("a", "taken"),
            new_user("b", "fresh"),
            new_user("c", "other")
        ]),
        Some(1),
    );
    assert_eq!(statuses(&v), ["409"], "stops after the first error: {v}");
    let list = body(s.get(
        "/scim/Users?filter=userName%20eq%20%22other%22",
        Some(&admin),
    ));
    assert_eq!(list["totalResults"], 0);
}

#[test]
fn every_operation_is_authorized_as_if_sent_alone() {
    let s = Server::start();
    let admin = s.token("admin");
    let manager = s.create_user(&admin, "manager");
    let member = s.create_user(&admin, "member");
    let g = s.create_group(&admin, "cms");
    s.appoint(&admin, &manager, &g);
    let token = s.token("manager");
    let v = bulk(
        &s,
        &token,
        json!([
            new_user("u", "intruder"),
            {"method": "PATCH", "path": format!("/Groups/{g}"), "data": {
                "operations": [{"op": "add", "path": "members", "value": [{"value": member}]}]}},
            {"method": "DELETE", "path": format!("/Users/{member}")},
        ]),
        None,
    );
    // A manager may change the members of their group, nothing else.
    assert_eq!(statuses(&v), ["403", "204", "403"], "{v}");
    assert_eq!(v["Operations"][0]["response"], denied_body());
    let list = body(s.get(
        "/scim/Users?filter=userName%20eq%20%22intruder%22",
        Some(&admin),
    ));
    assert_eq!(list["totalResults"], 0);
    assert_eq!(
        s.get(&format!("/scim/Users/{member}"), Some(&admin))
            .status(),
        StatusCode::OK
    );
    expect_unauthorized(
        s.post_scim("/scim/Bulk", None, &json!({"Operations": []})),
        "no token",
    );
}

#[test]
fn versions_guard_bulk_writes_and_limits_hold() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let stale = body(s.get(&format!("/scim/Users/{alice}"), Some(&admin)))["meta"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let mut b = user_body("alice");
    b["nickName"] = json!("a");
    let v = bulk(
        &s,
        &admin,
        json!([
            {"method": "PUT", "path": format!("/Users/{alice}"), "version": stale, "data": b},
            {"method": "PUT", "path": format!("/Users/{alice}"), "version": stale, "data": b},
        ]),
        None,
    );
    assert_eq!(statuses(&v), ["200", "412"], "{v}");
    assert_ne!(v["Operations"][0]["version"], json!(stale));

    let spc = body(s.get("/scim/ServiceProviderConfig", Some(&admin)));
    assert_eq!(spc["bulk"]["supported"], true);
    assert_eq!(spc["bulk"]["maxOperations"], 1000);
    let max_payload = spc["bulk"]["maxPayloadSize"].as_u64().unwrap();
    assert_eq!(max_payload, 1 << 20);

    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/{i}")}))
        .collect();
    let r = s.post_scim("/scim/Bulk", Some(&admin), &json!({"Operations": many}));
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body(r)["scimType"], "tooMany");
    let huge = "x".repeat(max_payload as usize);
    let r = s.post_scim(
        "/scim/Bulk",
        Some(&admin),
        &json!({"Operations": [{"method": "POST", "path": "/Users", "bulkId": "x",
                                "data": {"userName": huge}}]}),
    );
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
