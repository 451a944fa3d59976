//! Group membership (docs/api.md §6.2) and group managers (§6.3), under both policies.

use iam_tests::*;
use serde_json::{Value, json};

fn member_path(account: &str, group: &str) -> String {
    format!("/iam/account/{account}/groups/{group}")
}

fn manager_path(account: &str, group: &str) -> String {
    format!("/iam/account/{account}/managed-groups/{group}")
}

/// Creates `name` under `parent` = (uuid, full name) and returns its UUID.
fn subgroup(s: &Server, token: &str, name: &str, parent: (&str, &str)) -> String {
    let r = s.post_scim("/scim/Groups", Some(token), &group_body(name, Some(parent)));
    assert_eq!(r.status(), StatusCode::CREATED);
    body(r)["id"].as_str().unwrap().to_string()
}

/// The group UUIDs a user's SCIM representation lists.
fn user_groups(s: &Server, token: &str, account: &str) -> Vec<String> {
    let user = body(s.get(&format!("/scim/Users/{account}"), Some(token)));
    let mut ids: Vec<String> = user["groups"]
        .as_array()
        .map(|gs| {
            gs.iter()
                .map(|g| g["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[test]
fn membership_climbs_to_ancestors_and_removal_reaches_descendants() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let root = s.create_group(&admin, "root");
    let mid = subgroup(&s, &admin, "mid", (&root, "root"));
    let leaf = subgroup(&s, &admin, "leaf", (&mid, "root/mid"));
    let sibling = subgroup(&s, &admin, "sibling", (&root, "root"));

    let r = s.post(&member_path(&alice, &leaf), Some(&admin));
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.text().unwrap(), "");
    assert_eq!(
        user_groups(&s, &admin, &alice),
        sorted(vec![root.clone(), mid.clone(), leaf.clone()])
    );
    // The SCIM user shows each group's full name.
    let user = body(s.get(&format!("/scim/Users/{alice}"), Some(&admin)));
    let names: Vec<&str> = user["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["display"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["root", "root/mid", "root/mid/leaf"]);
    assert_eq!(
        user["groups"][0]["$ref"],
        json!(format!("{}/scim/Groups/{root}", s.base))
    );

    // Idempotent: still 201, nothing duplicated.
    assert_eq!(
        s.post(&member_path(&alice, &leaf), Some(&admin)).status(),
        StatusCode::CREATED
    );
    assert_eq!(user_groups(&s, &admin, &alice).len(), 3);
    assert_eq!(
        s.post(&member_path(&alice, &sibling), Some(&admin))
            .status(),
        StatusCode::CREATED
    );

    // Removing from mid removes from leaf too, keeps root and the sibling.
    let r = s.delete(&member_path(&alice, &mid), Some(&admin));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        user_groups(&s, &admin, &alice),
        sorted(vec![root.clone(), sibling.clone()])
    );
    // Idempotent too.
    assert_eq!(
        s.delete(&member_path(&alice, &mid), Some(&admin)).status(),
        StatusCode::NO_CONTENT
    );

    // A group with members cannot be deleted.
    let r = s.delete(&format!("/scim/Groups/{sibling}"), Some(&admin));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(r)["detail"], "Group is not empty");
}

#[test]
fn membership_lookups_are_group_first_and_answer_400() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let g = s.create_group(&admin, "g");
    for (method, ok) in [
        (reqwest::Method::POST, StatusCode::CREATED),
        (reqwest::Method::DELETE, StatusCode::NO_CONTENT),
    ] {
        let send = |path: &str| s.req(method.clone(), path, Some(&admin)).send().unwrap();
        let r = send(&member_path("nobody", "nogroup"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body(r),
            json!({"error": "Group not found for uuid: nogroup"})
        );
        let r = send(&member_path("nobody", &g));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body(r),
            json!({"error": "Account not found for id 'nobody'"})
        );
        assert_eq!(send(&member_path(&alice, &g)).status(), ok);
    }
}

#[test]
fn membership_changes_touch_the_account_and_the_group() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let g = s.create_group(&admin, "g");
    let user_path = format!("/scim/Users/{alice}");
    let group_path = format!("/scim/Groups/{g}");
    let (u0, g0) = (
        s.last_modified(&admin, &user_path),
        s.last_modified(&admin, &group_path),
    );
    std::thread::sleep(std::time::Duration::from_millis(5));
    s.post(&member_path(&alice, &g), Some(&admin));
    let (u1, g1) = (
        s.last_modified(&admin, &user_path),
        s.last_modified(&admin, &group_path),
    );
    assert!(u1 > u0 && g1 > g0, "{u0} {u1} {g0} {g1}");
    std::thread::sleep(std::time::Duration::from_millis(5));
    // Already a member: nothing changes.
    s.post(&member_path(&alice, &g), Some(&admin));
    assert_eq!(s.last_modified(&admin, &user_path), u1);
    s.delete(&member_path(&alice, &g), Some(&admin));
    assert!(s.last_modified(&admin, &user_path) > u1);
    assert!(s.last_modified(&admin, &group_path) > g1);
}

#[test]
fn managers_are_the_gm_authority() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let g = s.create_group(&admin, "g");
    let h = s.create_group(&admin, "h");

    let r = s.post(&manager_path(&alice, &g), Some(&admin));
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = s.post(&manager_path(&alice, &g), Some(&admin));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body(r),
        json!({"error": format!("Authority 'ROLE_GM:{g}' is already bound to user 'alice' ({alice})")})
    );
    let auths = body(s.get(&format!("/iam/account/{alice}/authorities"), Some(&admin)));
    assert_eq!(
        auths,
        json!({"authorities": ["ROLE_USER", format!("ROLE_GM:{g}")]})
    );

    // The admin and the manager herself read the same answer.
    let managed = json!({
        "id": alice, "username": "alice",
        "managedGroups": [{"name": "g", "id": g, "description": null, "parent": null}],
        "unmanagedGroups": [{"name": "h", "id": h, "description": null, "parent": null}],
    });
    for token in [&admin, &s.token("alice")] {
        let r = s.get(&format!("/iam/account/{alice}/managed-groups"), Some(token));
        assert_eq!(expect_json(r, StatusCode::OK, "managed-groups"), managed);
    }

    let r = s.get(&format!("/iam/group/{g}/group-managers"), Some(&admin));
    assert_eq!(r.status(), StatusCode::OK);
    let managers = body(r);
    assert_eq!(managers.as_array().unwrap().len(), 1);
    assert_eq!(managers[0]["userName"], "alice");
    assert_eq!(managers[0]["id"], json!(alice));
    assert_eq!(
        body(s.get(&format!("/iam/group/{h}/group-managers"), Some(&admin))),
        json!([])
    );

    // Managing does not make a member.
    assert!(user_groups(&s, &admin, &alice).is_empty());

    let r = s.delete(&manager_path(&alice, &g), Some(&admin));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        s.delete(&manager_path(&alice, &g), Some(&admin)).status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        body(s.get(&format!("/iam/group/{g}/group-managers"), Some(&admin))),
        json!([])
    );
}

#[test]
fn manager_lookups_are_account_first_and_answer_400() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let g = s.create_group(&admin, "g");
    for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
        let send = |path: &str| s.req(method.clone(), path, Some(&admin)).send().unwrap();
        let r = send(&manager_path("nobody", "nogroup"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body(r),
            json!({"error": "Account not found for id 'nobody'"})
        );
        let r = send(&manager_path(&alice, "nogroup"));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body(r), json!({"error": "Group 'nogroup' not found"}));
    }
    let r = s.get("/iam/account/nobody/managed-groups", Some(&admin));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body(r),
        json!({"error": "Account not found for id 'nobody'"})
    );
    let r = s.get("/iam/group/nogroup/group-managers", Some(&admin));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(body(r), json!({"error": "Group 'nogroup' not found"}));
    let _ = g;
}

#[test]
fn scim_group_members_and_subgroups() {
    let s = Server::start();
    let admin = s.token("admin");
    let root = s.create_group(&admin, "root");
    let zeta = subgroup(&s, &admin, "zeta", (&root, "root"));
    let alpha = subgroup(&s, &admin, "alpha", (&root, "root"));
    let bob = s.create_user(&admin, "bob");
    let alice = s.create_user(&admin, "alice");
    for u in [&bob, &alice] {
        assert_eq!(
            s.post(&member_path(u, &root), Some(&admin)).status(),
            StatusCode::CREATED
        );
    }

    // Members: ordered by username, with the full name and the user's location.
    let r = s.get(&format!("/scim/Groups/{root}/members"), Some(&admin));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(content_type(&r), "application/scim+json;charset=UTF-8");
    let list = body(r);
    assert_eq!(list["totalResults"], 2);
    assert_eq!(list["itemsPerPage"], 2);
    assert_eq!(list["startIndex"], 1);
    assert_eq!(
        list["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(
        list["Resources"][0],
        json!({"value": alice, "display": "Test User", "$ref": format!("{}/scim/Users/{alice}", s.base)})
    );
    assert_eq!(list["Resources"][1]["value"], json!(bob));
    // SCIM paging: a window, and count=0 for the count only.
    let list = body(s.get(
        &format!("/scim/Groups/{root}/members?startIndex=2&count=5"),
        Some(&admin),
    ));
    assert_eq!(
        (
            list["itemsPerPage"].clone(),
            list["Resources"][0]["value"].clone()
        ),
        (json!(1), json!(bob))
    );
    let list = body(s.get(
        &format!("/scim/Groups/{root}/members?count=0"),
        Some(&admin),
    ));
    assert_eq!(
        list,
        json!({"totalResults": 2, "Resources": [], "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]})
    );

    // Subgroups: direct children ordered by name.
    let list = body(s.get(&format!("/scim/Groups/{root}/subgroups"), Some(&admin)));
    assert_eq!(list["totalResults"], 2);
    assert_eq!(
        list["Resources"],
        json!([
            {"value": alpha, "display": "root/alpha", "$ref": format!("{}/scim/Groups/{alpha}", s.base)},
            {"value": zeta, "display": "root/zeta", "$ref": format!("{}/scim/Groups/{zeta}", s.base)},
        ])
    );
    let list = body(s.get(&format!("/scim/Groups/{alpha}/subgroups"), Some(&admin)));
    assert_eq!(
        (list["totalResults"].clone(), list["Resources"].clone()),
        (json!(0), json!([]))
    );

    // Unknown group: SCIM 404.
    for what in ["members", "subgroups"] {
        let r = s.get(&format!("/scim/Groups/{UNKNOWN_ID}/{what}"), Some(&admin));
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            body(r)["detail"],
            json!(format!("No group mapped to id '{UNKNOWN_ID}'"))
        );
    }

    // A manager of the group may list it; a plain user may not.
    s.post(&manager_path(&alice, &root), Some(&admin));
    let alice_token = s.token("alice");
    assert_eq!(
        s.get(&format!("/scim/Groups/{root}/members"), Some(&alice_token))
            .status(),
        StatusCode::OK
    );
    expect_denied(
        s.get(&format!("/scim/Groups/{alpha}/members"), Some(&alice_token)),
        "other group",
    );
    expect_denied(
        s.get(
            &format!("/scim/Groups/{root}/subgroups"),
            Some(&s.token("bob")),
        ),
        "plain user",
    );
}

#[test]
fn scim_me_is_the_callers_own_user() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let r = s.get("/scim/Me", Some(&s.token("alice")));
    assert_eq!(r.status(), StatusCode::OK);
    let me = body(r);
    assert_eq!(me["id"], json!(alice));
    assert_eq!(
        me,
        body(s.get(&format!("/scim/Users/{alice}"), Some(&admin)))
    );
    expect_unauthorized(s.get("/scim/Me", None), "anonymous");
    let r = s
        .req(reqwest::Method::GET, "/scim/Me", Some(&admin))
        .header("accept", "application/json")
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
}

#[test]
fn iam_group_create_and_describe() {
    let s = Server::start();
    let admin = s.token("admin");
    let create = |token: &str, body: Value| s.post_json("/iam/group", Some(token), &body);
    let r = create(&admin, json!({"name": "root", "description": "The root"}));
    assert_eq!(r.status(), StatusCode::CREATED);
    let root = body(r);
    let root_id = root["id"].as_str().unwrap().to_string();
    assert_eq!(
        root,
        json!({"name": "root", "id": root_id, "description": "The root", "parent": null})
    );
    let r = create(
        &admin,
        json!({"name": "child", "parent": {"uuid": root_id}}),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let child = body(r);
    assert_eq!(child["name"], "root/child");
    assert_eq!(child["description"], Value::Null);
    assert_eq!(child["parent"], json!({"uuid": root_id, "name": "root"}));
    // The group is a SCIM group too, with its manager authority.
    let child_id = child["id"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("/scim/Groups/{child_id}"), Some(&admin))
            .status(),
        StatusCode::OK
    );
    let alice = s.create_user(&admin, "alice");
    s.post(&manager_path(&alice, child_id), Some(&admin));

    // Validation: IAM's bean validation, all messages prefixed "Invalid group: ".
    let name_rule =
        "Invalid group: invalid name (does not match with regexp: '^[a-zA-Z][a-zA-Z0-9\\-_.]*$')";
    for bad in [
        json!({"name": ""}),
        json!({"name": "1x"}),
        json!({"name": "a b"}),
        json!({"name": "a/b"}),
    ] {
        let r = create(&admin, bad.clone());
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body(r), json!({"error": name_rule}), "{bad}");
    }
    let invalid = |bad: Value, msg: &str| {
        let r = create(&admin, bad.clone());
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(body(r), json!({"error": msg}), "{bad}");
    };
    // IAM checks the name as given: a missing one, or a child named like a root group, is
    // "already assigned".
    for bad in [
        json!({}),
        json!({"name": null, "description": "d"}),
        json!({"name": "root"}),
        json!({"name": "child", "parent": {"uuid": root_id}}),
        json!({"name": "root", "parent": {"uuid": root_id}}),
    ] {
        invalid(bad, "Invalid group: name is already assigned");
    }
    invalid(
        json!({"name": "n".repeat(507), "parent": {"uuid": root_id}}),
        "Invalid group: group name too long",
    );
    for parent in [
        json!({"uuid": UNKNOWN_ID}),
        json!({}),
        json!({"uuid": null}),
    ] {
        invalid(
            json!({"name": "x", "parent": parent, "description": "d".repeat(513)}),
            "Invalid group: parent group not found",
        );
    }
    invalid(
        json!({"name": "x", "description": "d".repeat(513)}),
        "Invalid group: description cannot be longer than 512 chars",
    );
    invalid(
        json!({"name": "n".repeat(513)}),
        "Invalid group: name cannot be longer than 512 chars",
    );
    invalid(
        json!({"name": "9".repeat(513), "description": "d".repeat(513)}),
        &format!(
            "Invalid group: name cannot be longer than 512 chars,{}\
             ,description cannot be longer than 512 chars",
            &name_rule["Invalid group: ".len()..]
        ),
    );
    // A root name may take all 512 characters; a null parent is no parent.
    let r = create(&admin, json!({"name": "r".repeat(512), "parent": null}));
    assert_eq!(r.status(), StatusCode::CREATED);

    // PUT changes the description only; a manager of the group may.
    let update = |token: &str, id: &str, body: Value| {
        s.put_json(&format!("/iam/group/{id}"), Some(token), &body)
    };
    let manager = s.token("alice");
    let r = update(
        &manager,
        child_id,
        json!({"description": "Kids", "name": "ignored"}),
    );
    assert_eq!(r.status(), StatusCode::OK);
    let updated = body(r);
    assert_eq!(
        (updated["description"].clone(), updated["name"].clone()),
        (json!("Kids"), json!("root/child"))
    );
    let scim_group = body(s.get(&format!("/scim/Groups/{child_id}"), Some(&admin)));
    assert_eq!(
        scim_group["urn:indigo-dc:scim:schemas:IndigoGroup"]["description"],
        "Kids"
    );
    expect_denied(
        update(&manager, &root_id, json!({"description": "no"})),
        "manager of another group",
    );
    expect_denied(
        create(&manager, json!({"name": "mine"})),
        "manager creating",
    );
    let r = update(&admin, UNKNOWN_ID, json!({"description": "x"}));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(r),
        json!({"error": format!("Group not found for uuid: {UNKNOWN_ID}")})
    );
    // The description is checked before the group is looked up.
    for id in [child_id, UNKNOWN_ID] {
        let r = update(&admin, id, json!({"description": "d".repeat(513)}));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body(r),
            json!({"error": "Invalid group: description cannot be longer than 512 chars"})
        );
    }
}
