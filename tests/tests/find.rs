//! The account finders `/iam/account/find/...` (docs/api.md §8, with the differences §3.1,
//! §3.3, §3.4).

use iam_tests::*;
use serde_json::{Value, json};

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

fn find(s: &Server, token: &str, path: &str) -> Value {
    let r = s.get(&format!("/iam/account/find/{path}"), Some(token));
    expect_scim(r, StatusCode::OK, path)
}

#[test]
fn single_result_finders() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");

    for path in [
        "byusername?username=alice".to_string(),
        "byemail?email=alice@example.org".to_string(),
        format!("byuuid/{alice}"),
    ] {
        let found = find(&s, &admin, &path);
        assert_eq!(found["totalResults"], 1, "{path}");
        assert_eq!(found["itemsPerPage"], 10, "{path}: IAM's constant");
        assert_eq!(found["startIndex"], 1);
        assert_eq!(found["schemas"], json!([LIST]));
        assert_eq!(
            found["Resources"][0],
            body(s.get(&format!("/scim/Users/{alice}"), Some(&admin)))
        );
    }
    for path in [
        "byusername?username=nobody",
        "byusername?username=ALICE",
        "byemail?email=nobody@example.org",
        "bycertsubject?certificateSubject=CN%3Dtest2%2CO%3DIGI%2CC%3DIT",
        "byuuid/3f0c3bb4-8a7a-4a5e-9f65-4b8d7cb0e0aa",
    ] {
        // Not found: only Resources and schemas, no totalResults.
        assert_eq!(
            find(&s, &admin, path),
            json!({"Resources": [], "schemas": [LIST]}),
            "{path}"
        );
    }
    // A missing required parameter is a 400 JSON error.
    for path in [
        "byusername",
        "byemail",
        "bycertsubject",
        "bylabel",
        "byauthority",
    ] {
        let r = s.get(&format!("/iam/account/find/{path}"), Some(&admin));
        expect_plain_error(r, StatusCode::BAD_REQUEST, path);
    }
}

#[test]
fn by_label_with_and_without_value_and_prefix() {
    let s = Server::start();
    let admin = s.token("admin");
    let label = |id: &str, body: Value| {
        let r = s.put_json(&format!("/iam/account/{id}/labels"), Some(&admin), &body);
        assert_eq!(r.status(), StatusCode::OK);
    };
    let bob = s.create_user(&admin, "bob");
    let alice = s.create_user(&admin, "alice");
    let carol = s.create_user(&admin, "carol");
    label(&bob, json!({"name": "team", "value": "red"}));
    label(&alice, json!({"name": "team", "value": "blue"}));
    label(
        &carol,
        json!({"prefix": "example.org", "name": "team", "value": "red"}),
    );

    let all = find(&s, &admin, "bylabel?name=team");
    assert_eq!(usernames(&all), ["alice", "bob", "carol"]);
    assert_eq!(
        (all["totalResults"].clone(), all["itemsPerPage"].clone()),
        (json!(3), json!(3))
    );
    assert_eq!(
        usernames(&find(&s, &admin, "bylabel?name=team&value=red")),
        ["bob", "carol"]
    );
    assert_eq!(
        usernames(&find(&s, &admin, "bylabel?name=team&prefix=example.org")),
        ["carol"]
    );
    assert_eq!(
        usernames(&find(
            &s,
            &admin,
            "bylabel?name=team&prefix=example.org&value=blue"
        )),
        Vec::<String>::new()
    );
    let none = find(&s, &admin, "bylabel?name=nothing");
    assert_eq!(
        none,
        json!({"totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": [], "schemas": [LIST]})
    );

    // Paging: count=0 is the count only; startIndex below 1 is 1 (IAM: 500).
    assert_eq!(
        find(&s, &admin, "bylabel?name=team&count=0"),
        json!({"totalResults": 3, "Resources": [], "schemas": [LIST]})
    );
    let page = find(&s, &admin, "bylabel?name=team&startIndex=0&count=2");
    assert_eq!(
        (page["startIndex"].clone(), usernames(&page)),
        (json!(1), vec!["alice".to_string(), "bob".into()])
    );
    let page = find(&s, &admin, "bylabel?name=team&startIndex=3");
    assert_eq!(usernames(&page), ["carol"]);
    let bad = s.get("/iam/account/find/bylabel?name=team&count=x", Some(&admin));
    expect_plain_error(bad, StatusCode::BAD_REQUEST, "count=x");
}

#[test]
fn by_group_and_not_in_group() {
    let s = Server::start();
    let admin = s.token("admin");
    let g = s.create_group(&admin, "g");
    let other = s.create_group(&admin, "other");
    let mut ids = Vec::new();
    for name in ["dave", "carol", "bob", "alice"] {
        ids.push(s.create_user(&admin, name));
    }
    for id in &ids[1..] {
        s.join(&admin, id, &g);
    }
    // Dave is only in another group: the filter must not leak him into `bygroup`.
    s.join(&admin, &ids[0], &other);

    let members = find(&s, &admin, &format!("bygroup/{g}"));
    assert_eq!(usernames(&members), ["alice", "bob", "carol"]);
    assert_eq!(members["totalResults"], 3);
    let outside = find(&s, &admin, &format!("notingroup/{g}"));
    assert_eq!(usernames(&outside), ["admin", "dave"]);

    // Filters: group condition AND (e-mail OR username OR full name), case-insensitive.
    assert_eq!(
        usernames(&find(&s, &admin, &format!("bygroup/{g}?filter=ALI"))),
        ["alice"]
    );
    assert_eq!(
        usernames(&find(&s, &admin, &format!("bygroup/{g}?filter=dave"))),
        Vec::<String>::new()
    );
    assert_eq!(
        usernames(&find(
            &s,
            &admin,
            &format!("bygroup/{g}?filter=test%20user")
        ))
        .len(),
        3
    );
    assert_eq!(
        usernames(&find(
            &s,
            &admin,
            &format!("notingroup/{g}?filter=example.org")
        )),
        ["dave"]
    );

    // Default page of 10, at most 100; count=0 is the count only.
    for i in 0..9 {
        let id = s.create_user(&admin, &format!("zz{i}"));
        s.join(&admin, &id, &g);
    }
    let page = find(&s, &admin, &format!("bygroup/{g}"));
    assert_eq!(
        (page["totalResults"].clone(), page["itemsPerPage"].clone()),
        (json!(12), json!(10))
    );
    assert_eq!(
        find(&s, &admin, &format!("bygroup/{g}?count=500"))["itemsPerPage"],
        12
    );
    assert_eq!(
        find(&s, &admin, &format!("notingroup/{g}?count=0")),
        json!({"totalResults": 2, "Resources": [], "schemas": [LIST]})
    );
    let page = find(&s, &admin, &format!("bygroup/{g}?startIndex=12&count=5"));
    assert_eq!(
        (page["startIndex"].clone(), page["itemsPerPage"].clone()),
        (json!(12), json!(1))
    );

    // Form validation, then the group.
    let detail = |q: &str| {
        scim_error_detail(
            s.get(&format!("/iam/account/find/bygroup/{q}"), Some(&admin)),
            StatusCode::BAD_REQUEST,
            q,
        )
    };
    let both = detail(&format!("{g}?filter="));
    assert!(
        both.starts_with("Invalid find account request: ["),
        "{both}"
    );
    assert!(
        both.contains("Please provide a non-blank filter string"),
        "{both}"
    );
    assert!(
        both.contains("Please provide a filter that is between 2 and 64 chars long"),
        "{both}"
    );
    assert_eq!(
        detail(&format!("{g}?filter=%20%20")),
        "Invalid find account request: [Please provide a non-blank filter string]"
    );
    assert_eq!(
        detail(&format!("{g}?filter={}", "x".repeat(65))),
        "Invalid find account request: [Please provide a filter that is between 2 and 64 chars long]"
    );
    assert_eq!(
        detail(&format!("{g}?startIndex=0")),
        "Invalid find account request: [must be >=1]"
    );
    assert_eq!(
        detail(&format!("{g}?count=-1")),
        "Invalid find account request: [must be >=0]"
    );
    assert_eq!(detail("nogroup"), "Group does not exist: nogroup");
    let r = s.get(
        "/iam/account/find/notingroup/nogroup?filter=ab",
        Some(&admin),
    );
    assert_eq!(
        scim_error_detail(r, StatusCode::BAD_REQUEST, "notingroup"),
        "Group does not exist: nogroup"
    );
}

#[test]
fn by_authority() {
    let s = Server::start();
    let admin = s.token("admin");
    let g = s.create_group(&admin, "g");
    let alice = s.create_user(&admin, "alice");
    s.appoint(&admin, &alice, &g);

    for q in ["admin", "ADMIN", "role_admin", "ROLE_ADMIN"] {
        assert_eq!(
            usernames(&find(&s, &admin, &format!("byauthority?authority={q}"))),
            ["admin"],
            "{q}"
        );
    }
    assert_eq!(
        usernames(&find(&s, &admin, &format!("byauthority?authority=gm:{g}"))),
        ["alice"]
    );
    assert_eq!(
        usernames(&find(&s, &admin, "byauthority?authority=user")),
        ["admin", "alice"]
    );
    assert_eq!(
        find(&s, &admin, "byauthority?authority=nothing")["totalResults"],
        0
    );
    // At most 10 a page.
    for i in 0..10 {
        s.create_user(&admin, &format!("u{i}"));
    }
    let page = find(&s, &admin, "byauthority?authority=USER&count=100");
    assert_eq!(
        (page["totalResults"].clone(), page["itemsPerPage"].clone()),
        (json!(12), json!(10))
    );
}

/// Who may use the finders is checked by authorization_matrix.rs. They answer SCIM JSON
/// only: 406 for `application/json`, before a missing parameter is noticed.
#[test]
fn finders_answer_scim_json_only() {
    for policy in ["roles", "strict"] {
        let s = Server::start_with_args(&["--policy", policy]);
        let admin = s.token("admin");
        let r = s
            .req(
                reqwest::Method::GET,
                "/iam/account/find/byusername",
                Some(&admin),
            )
            .header("accept", "application/json")
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE, "{policy}");
    }
}

#[test]
fn bygroup_follows_renames_in_username_order() {
    let s = Server::start();
    let admin = s.token("admin");
    let group = s.create_group(&admin, "renamed");
    let bob = s.create_user(&admin, "bob");
    s.create_user(&admin, "carol");
    let carol = s.user_id(&admin, "carol");
    for id in [&bob, &carol] {
        s.join(&admin, id, &group);
    }
    let names = |s: &Server| -> Vec<String> {
        usernames(&body(s.get(
            &format!("/iam/account/find/bygroup/{group}?count=10"),
            Some(&admin),
        )))
    };
    assert_eq!(names(&s), ["bob", "carol"]);
    let mut zed = user_body("zed");
    zed["emails"][0]["value"] = json!("bob@example.org");
    let r = s.put_scim(&format!("/scim/Users/{bob}"), Some(&admin), &zed);
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(names(&s), ["carol", "zed"]);
    let members = body(s.get(&format!("/scim/Groups/{group}/members"), Some(&admin)));
    assert_eq!(members["Resources"][1]["value"], bob.as_str());
}

/// The total of a group's member list follows every way memberships change (PostgreSQL
/// keeps it on the group; SQLite counts it), including a patch that fails half-way.
#[test]
fn bygroup_totals_follow_every_membership_change() {
    let s = Server::start();
    let admin = s.token("admin");
    let parent = s.create_group(&admin, "physics");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("cms", Some((&parent, "physics"))),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let child = body(r)["id"].as_str().unwrap().to_string();
    let users: Vec<String> = (0..6)
        .map(|i| s.create_user(&admin, &format!("member{i}")))
        .collect();
    let check = |when: &str| {
        for g in [&parent, &child] {
            let listed = find(&s, &admin, &format!("bygroup/{g}"));
            let stored = s.sql_one(&format!(
                "SELECT count(*) FROM memberships
                 WHERE group_id = (SELECT id FROM groups WHERE uuid = '{g}')"
            ));
            assert_eq!(listed["totalResults"].to_string(), stored, "{when}: {g}");
        }
    };
    let join = |user: &str, group: &str| {
        let r = s.post(&format!("/iam/account/{user}/groups/{group}"), Some(&admin));
        assert!(r.status().is_success(), "{}", r.status());
    };
    // Joining the subgroup joins its parent too.
    for u in &users[..3] {
        join(u, &child);
    }
    check("joined");
    let r = s.delete(
        &format!("/iam/account/{}/groups/{child}", users[0]),
        Some(&admin),
    );
    assert!(r.status().is_success());
    check("left");
    let patch = |ops: Value| {
        s.req(
            reqwest::Method::PATCH,
            &format!("/scim/Groups/{parent}"),
            Some(&admin),
        )
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "operations": ops})
                .to_string(),
        )
        .send()
        .unwrap()
        .status()
    };
    let add = |id: &str| json!({"op": "add", "path": "members", "value": [{"value": id}]});
    assert!(patch(json!([add(&users[3]), add(&users[4])])).is_success());
    check("patched in");
    // All or nothing: the second operation fails, the first is rolled back with its count.
    assert!(
        !patch(json!([
            add(&users[5]),
            add("0c0ffee0-0000-4000-8000-000000000000")
        ]))
        .is_success()
    );
    check("failed patch");
    let r = s.delete(&format!("/scim/Users/{}", users[1]), Some(&admin));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    check("member deleted");
}
