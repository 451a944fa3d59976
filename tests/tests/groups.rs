//! Group membership (docs/api.md §6.2) and group managers (§6.3), under both policies.

use iam_tests::*;
use serde_json::{Value, json};

fn member_path(account: &str, group: &str) -> String {
    format!("/iam/account/{account}/groups/{group}")
}

fn manager_path(account: &str, group: &str) -> String {
    format!("/iam/account/{account}/managed-groups/{group}")
}

fn post(s: &Server, path: &str, token: &str) -> reqwest::blocking::Response {
    s.req(reqwest::Method::POST, path, Some(token))
        .send()
        .unwrap()
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

fn last_modified(s: &Server, token: &str, path: &str) -> String {
    body(s.get(path, Some(token)))["meta"]["lastModified"]
        .as_str()
        .unwrap()
        .to_string()
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

    let r = post(&s, &member_path(&alice, &leaf), &admin);
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
        post(&s, &member_path(&alice, &leaf), &admin).status(),
        StatusCode::CREATED
    );
    assert_eq!(user_groups(&s, &admin, &alice).len(), 3);
    assert_eq!(
        post(&s, &member_path(&alice, &sibling), &admin).status(),
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
        last_modified(&s, &admin, &user_path),
        last_modified(&s, &admin, &group_path),
    );
    std::thread::sleep(std::time::Duration::from_millis(5));
    post(&s, &member_path(&alice, &g), &admin);
    let (u1, g1) = (
        last_modified(&s, &admin, &user_path),
        last_modified(&s, &admin, &group_path),
    );
    assert!(u1 > u0 && g1 > g0, "{u0} {u1} {g0} {g1}");
    std::thread::sleep(std::time::Duration::from_millis(5));
    // Already a member: nothing changes.
    post(&s, &member_path(&alice, &g), &admin);
    assert_eq!(last_modified(&s, &admin, &user_path), u1);
    s.delete(&member_path(&alice, &g), Some(&admin));
    assert!(last_modified(&s, &admin, &user_path) > u1);
    assert!(last_modified(&s, &admin, &group_path) > g1);
}

#[test]
fn managers_are_the_gm_authority() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let g = s.create_group(&admin, "g");
    let h = s.create_group(&admin, "h");

    let r = post(&s, &manager_path(&alice, &g), &admin);
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = post(&s, &manager_path(&alice, &g), &admin);
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

    let r = s.get(
        &format!("/iam/account/{alice}/managed-groups"),
        Some(&admin),
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        body(r),
        json!({
            "id": alice, "username": "alice",
            "managedGroups": [{"name": "g", "id": g, "description": null, "parent": null}],
            "unmanagedGroups": [{"name": "h", "id": h, "description": null, "parent": null}],
        })
    );

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

/// Who may do what: the membership and manager rows of the policy table.
fn authorization_matrix(policy: &str) {
    let s = Server::start_with_args(&["--policy", policy]);
    let strict = policy == "strict";
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    s.create_user(&admin, "bob");
    let manager = s.create_user(&admin, "manager");
    let other_manager = s.create_user(&admin, "othermanager");
    let reader = s.create_user(&admin, "reader");
    let g = s.create_group(&admin, "g");
    let h = s.create_group(&admin, "h");
    post(&s, &manager_path(&manager, &g), &admin);
    post(&s, &manager_path(&other_manager, &h), &admin);
    let r = s
        .req(
            reqwest::Method::POST,
            &format!("/iam/account/{reader}/authorities?authority=ROLE_READER"),
            Some(&admin),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    let tokens: Vec<(&str, String)> = vec![
        ("plain", s.token("bob")),
        ("manager of g", s.token("manager")),
        ("manager of h", s.token("othermanager")),
        ("reader", s.token("reader")),
        (
            "admin without scopes",
            s.token_with("admin", Some("openid")),
        ),
        ("admin.read", s.token_with("admin", Some("iam:admin.read"))),
        (
            "admin.write",
            s.token_with("admin", Some("iam:admin.write")),
        ),
    ];
    // Every admin token carries ROLE_ADMIN, which `roles` honours for all four rules; under
    // `strict` only the named scope (and the group-manager and self rules) count.
    let allowed = |who: &str, rule: &str| -> bool {
        if !strict && who.starts_with("admin") {
            return true;
        }
        match rule {
            "member" => matches!(who, "manager of g" | "admin.write"),
            "managed-groups of alice" => who == "admin.read",
            "appoint" => who == "admin.write",
            "group-managers of g" => {
                matches!(who, "manager of g" | "admin.read") || (!strict && who == "reader")
            }
            _ => unreachable!(),
        }
    };
    for (who, token) in &tokens {
        let check = |rule: &str, r: reqwest::blocking::Response, ok: StatusCode| {
            if allowed(who, rule) {
                assert_eq!(r.status(), ok, "{policy}: {who} should be allowed: {rule}");
            } else {
                expect_denied(r, &format!("{policy}: {who} must be denied: {rule}"));
            }
        };
        check(
            "member",
            post(&s, &member_path(&alice, &g), token),
            StatusCode::CREATED,
        );
        check(
            "member",
            s.delete(&member_path(&alice, &g), Some(token)),
            StatusCode::NO_CONTENT,
        );
        check(
            "managed-groups of alice",
            s.get(&format!("/iam/account/{alice}/managed-groups"), Some(token)),
            StatusCode::OK,
        );
        check(
            "appoint",
            post(&s, &manager_path(&alice, &h), token),
            StatusCode::CREATED,
        );
        check(
            "appoint",
            s.delete(&manager_path(&alice, &h), Some(token)),
            StatusCode::NO_CONTENT,
        );
        check(
            "group-managers of g",
            s.get(&format!("/iam/group/{g}/group-managers"), Some(token)),
            StatusCode::OK,
        );
    }
    // Everyone reads their own managed groups, and only those.
    let r = s.get(
        &format!("/iam/account/{alice}/managed-groups"),
        Some(&s.token("alice")),
    );
    assert_eq!(r.status(), StatusCode::OK);
    let own: Value = body(s.get(
        &format!("/iam/account/{manager}/managed-groups"),
        Some(&s.token("manager")),
    ));
    assert_eq!(own["managedGroups"][0]["id"], json!(g));
    // No token at all: 401 before anything.
    expect_unauthorized(
        s.req(reqwest::Method::POST, &member_path(&alice, &g), None)
            .send()
            .unwrap(),
        "anonymous",
    );
}

#[test]
fn authorization_under_roles() {
    authorization_matrix("roles");
}

#[test]
fn authorization_under_strict() {
    authorization_matrix("strict");
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
            post(&s, &member_path(u, &root), &admin).status(),
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
    post(&s, &manager_path(&alice, &root), &admin);
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
    let create = |token: &str, body: Value| {
        s.req(reqwest::Method::POST, "/iam/group", Some(token))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    };
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
    post(&s, &manager_path(&alice, child_id), &admin);

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
        s.req(
            reqwest::Method::PUT,
            &format!("/iam/group/{id}"),
            Some(token),
        )
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap()
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
