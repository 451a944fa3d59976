//! SCIM replace (`PUT`) of users and groups, and group membership `PATCH` (docs/api.md §10.3, §10.4).

use iam_tests::*;
use serde_json::{Value, json};

fn patch_body(op: &str, members: &[&str]) -> Value {
    let value: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "operations": [{"op": op, "path": "members", "value": value}]
    })
}

fn member_ids(s: &Server, token: &str, group: &str) -> Vec<String> {
    let list = body(s.get(&format!("/scim/Groups/{group}/members"), Some(token)));
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn replace_user() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    s.create_user(&admin, "bob");
    let path = format!("/scim/Users/{alice}");
    let before = body(s.get(&path, Some(&admin)));
    std::thread::sleep(std::time::Duration::from_millis(5));

    let mut b = user_body("alice2");
    b["name"] = json!({"givenName": "Alicia", "familyName": "Liddell"});
    b.as_object_mut().unwrap().remove("active");
    let r = s.put_scim(&path, Some(&admin), &b);
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(content_type(&r), "application/scim+json;charset=UTF-8");
    let after = body(r);
    assert_eq!(after["userName"], "alice2");
    assert_eq!(after["name"]["formatted"], "Alicia Liddell");
    assert_eq!(after["emails"][0]["value"], "alice2@example.org");
    assert_eq!(
        after["active"], true,
        "absent active keeps the current value"
    );
    assert_eq!(after["meta"]["created"], before["meta"]["created"]);
    assert_ne!(
        after["meta"]["lastModified"],
        before["meta"]["lastModified"]
    );
    assert_eq!(after, body(s.get(&path, Some(&admin))));

    // Conflicts with other accounts only.
    let r = s.put_scim(&path, Some(&admin), &user_body("bob"));
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        body(r)["detail"],
        "username bob already assigned to another user"
    );
    let mut b = user_body("alice2");
    b["emails"][0]["value"] = json!("bob@example.org");
    let r = s.put_scim(&path, Some(&admin), &b);
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        body(r)["detail"],
        "email bob@example.org already assigned to another user"
    );
    assert_eq!(
        s.put_scim(&path, Some(&admin), &user_body("alice2"))
            .status(),
        StatusCode::OK
    );

    // Validation, 404, content type, policy.
    let r = s.put_scim(&path, Some(&admin), &json!({"userName": ""}));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(
        body(r)["detail"]
            .as_str()
            .unwrap()
            .starts_with("Invalid Scim User: ")
    );
    let r = s.put_scim(
        &format!("/scim/Users/{UNKNOWN_ID}"),
        Some(&admin),
        &user_body("zed"),
    );
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(r)["detail"],
        json!(format!("No user mapped to id '{UNKNOWN_ID}'"))
    );
    let r = s.put_json(&path, Some(&admin), &user_body("alice2"));
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    expect_denied(
        s.put_scim(&path, Some(&s.token("bob")), &user_body("alice2")),
        "plain user",
    );
    expect_unauthorized(s.put_scim(&path, None, &user_body("alice2")), "anonymous");
}

#[test]
fn a_password_in_the_body_is_accepted_and_never_rendered() {
    // Stored hashed (checked by the token grants once they exist); never rendered.
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let mut b = user_body("alice");
    b["password"] = json!("new-secret");
    let r = s.put_scim(&format!("/scim/Users/{alice}"), Some(&admin), &b);
    assert_eq!(r.status(), StatusCode::OK);
    assert!(body(r).get("password").is_none());
}

#[test]
fn replace_group_renames() {
    let s = Server::start();
    let admin = s.token("admin");
    let root = s.create_group(&admin, "root");
    let other = s.create_group(&admin, "other");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("child", Some((&root, "root"))),
    );
    let child = body(r)["id"].as_str().unwrap().to_string();

    let r = s.put_scim(
        &format!("/scim/Groups/{root}"),
        Some(&admin),
        &group_body("renamed", None),
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r)["displayName"], "renamed");
    // A subgroup keeps its parent's prefix; renaming the parent renamed it too.
    let g = body(s.get(&format!("/scim/Groups/{child}"), Some(&admin)));
    assert_eq!(g["displayName"], "renamed/child");
    let r = s.put_scim(
        &format!("/scim/Groups/{child}"),
        Some(&admin),
        &group_body("kid", None),
    );
    assert_eq!(r.status(), StatusCode::OK);
    let g = body(r);
    assert_eq!(g["displayName"], "renamed/kid");
    assert_eq!(
        g["urn:indigo-dc:scim:schemas:IndigoGroup"]["parentGroup"]["value"],
        json!(root)
    );

    let r = s.put_scim(
        &format!("/scim/Groups/{root}"),
        Some(&admin),
        &group_body("other", None),
    );
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        body(r)["detail"],
        "other is already mapped to another group"
    );
    let r = s.put_scim(
        &format!("/scim/Groups/{root}"),
        Some(&admin),
        &group_body("a/b", None),
    );
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body(r)["detail"],
        "Group displayName cannot contain a slash character"
    );
    let r = s.put_scim(
        &format!("/scim/Groups/{UNKNOWN_ID}"),
        Some(&admin),
        &group_body("x", None),
    );
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Renaming to its own name is fine.
    let r = s.put_scim(
        &format!("/scim/Groups/{other}"),
        Some(&admin),
        &group_body("other", None),
    );
    assert_eq!(r.status(), StatusCode::OK);
}

#[test]
fn patch_membership() {
    let s = Server::start();
    let admin = s.token("admin");
    let root = s.create_group(&admin, "root");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("child", Some((&root, "root"))),
    );
    let child = body(r)["id"].as_str().unwrap().to_string();
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");
    let child_path = format!("/scim/Groups/{child}");

    // add joins the ancestors too.
    let r = s.patch_scim(
        &child_path,
        Some(&admin),
        &patch_body("add", &[&alice, &bob]),
    );
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(member_ids(&s, &admin, &child), [alice.clone(), bob.clone()]);
    assert_eq!(member_ids(&s, &admin, &root), [alice.clone(), bob.clone()]);

    // remove on the parent leaves the children too.
    let r = s.patch_scim(
        &format!("/scim/Groups/{root}"),
        Some(&admin),
        &patch_body("remove", &[&bob]),
    );
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(member_ids(&s, &admin, &child), std::slice::from_ref(&alice));
    assert_eq!(member_ids(&s, &admin, &root), std::slice::from_ref(&alice));

    // replace sets the exact direct membership.
    let r = s.patch_scim(&child_path, Some(&admin), &patch_body("Replace", &[&bob]));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(member_ids(&s, &admin, &child), std::slice::from_ref(&bob));

    // The RFC's capitalised key works too.
    let mut b = patch_body("remove", &[&bob]);
    b["Operations"] = b.as_object_mut().unwrap().remove("operations").unwrap();
    assert_eq!(
        s.patch_scim(&child_path, Some(&admin), &b).status(),
        StatusCode::NO_CONTENT
    );
    assert!(member_ids(&s, &admin, &child).is_empty());

    // Errors.
    let r = s.patch_scim(&child_path, Some(&admin), &patch_body("add", &[UNKNOWN_ID]));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(r)["detail"],
        json!(format!("No user mapped to id '{UNKNOWN_ID}'"))
    );
    let r = s.patch_scim(&child_path, Some(&admin), &patch_body("move", &[&bob]));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let mut b = patch_body("add", &[&bob]);
    b["operations"][0]["path"] = json!("displayName");
    assert_eq!(
        s.patch_scim(&child_path, Some(&admin), &b).status(),
        StatusCode::BAD_REQUEST
    );
    let r = s.patch_scim(
        &format!("/scim/Groups/{UNKNOWN_ID}"),
        Some(&admin),
        &patch_body("add", &[&bob]),
    );
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A failed patch changes nothing, even after earlier operations of the same body.
    let b = json!({"operations": [
        {"op": "add", "path": "members", "value": [{"value": bob}]},
        {"op": "add", "path": "members", "value": [{"value": UNKNOWN_ID}]},
    ]});
    assert_eq!(
        s.patch_scim(&child_path, Some(&admin), &b).status(),
        StatusCode::NOT_FOUND
    );
    assert!(member_ids(&s, &admin, &child).is_empty());
}
