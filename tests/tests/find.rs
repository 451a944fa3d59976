//! The account finders `/iam/account/find/...` (docs/api.md §8, with the differences §3.1,
//! §3.3, §3.4).

use iam_tests::*;
use serde_json::{Value, json};

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

fn find(s: &Server, token: &str, path: &str) -> Value {
    let r = s.get(&format!("/iam/account/find/{path}"), Some(token));
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    assert_eq!(
        content_type(&r),
        "application/scim+json;charset=UTF-8",
        "{path}"
    );
    body(r)
}

fn usernames(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_string())
        .collect()
}

fn post(s: &Server, token: &str, path: &str) {
    let r = s
        .req(reqwest::Method::POST, path, Some(token))
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

fn scim_error(r: reqwest::blocking::Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status);
    let e = body(r);
    assert_eq!(
        e["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(e["status"], json!(status.as_u16().to_string()));
    e["detail"].as_str().unwrap().to_string()
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
        post(&s, &admin, &format!("/iam/account/{id}/groups/{g}"));
    }
    // Dave is only in another group: the filter must not leak him into `bygroup`.
    post(
        &s,
        &admin,
        &format!("/iam/account/{}/groups/{other}", ids[0]),
    );

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
        post(&s, &admin, &format!("/iam/account/{id}/groups/{g}"));
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
        scim_error(
            s.get(&format!("/iam/account/find/bygroup/{q}"), Some(&admin)),
            StatusCode::BAD_REQUEST,
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
        scim_error(r, StatusCode::BAD_REQUEST),
        "Group does not exist: nogroup"
    );
}

#[test]
fn by_authority() {
    let s = Server::start();
    let admin = s.token("admin");
    let g = s.create_group(&admin, "g");
    let alice = s.create_user(&admin, "alice");
    post(
        &s,
        &admin,
        &format!("/iam/account/{alice}/managed-groups/{g}"),
    );

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

#[test]
fn finders_need_admin_read_and_scim_json() {
    for policy in ["roles", "strict"] {
        let s = Server::start_with_args(&["--policy", policy]);
        let admin = s.token("admin");
        s.create_user(&admin, "alice");
        let path = "/iam/account/find/byusername?username=alice";
        expect_unauthorized(s.get(path, None), "anonymous");
        expect_denied(s.get(path, Some(&s.token("alice"))), "plain user");
        let scim_read = s.token_with("admin", Some("scim:read"));
        let openid = s.token_with("admin", Some("openid"));
        let read = s.token_with("admin", Some("iam:admin.read"));
        assert_eq!(s.get(path, Some(&read)).status(), StatusCode::OK);
        if policy == "strict" {
            expect_denied(
                s.get(path, Some(&openid)),
                "strict: ROLE_ADMIN without the scope",
            );
            expect_denied(s.get(path, Some(&scim_read)), "strict: scim:read");
        } else {
            assert_eq!(s.get(path, Some(&openid)).status(), StatusCode::OK);
        }
        // 406 for application/json, before a missing parameter.
        let r = s
            .req(
                reqwest::Method::GET,
                "/iam/account/find/byusername",
                Some(&admin),
            )
            .header("accept", "application/json")
            .send()
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
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
        let r = s
            .req(
                reqwest::Method::POST,
                &format!("/iam/account/{id}/groups/{group}"),
                Some(&admin),
            )
            .send()
            .unwrap();
        assert!(r.status().is_success());
    }
    let names = |s: &Server| -> Vec<String> {
        let list = body(s.get(
            &format!("/iam/account/find/bygroup/{group}?count=10"),
            Some(&admin),
        ));
        list["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["userName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&s), ["bob", "carol"]);
    let r = s
        .req(
            reqwest::Method::PUT,
            &format!("/scim/Users/{bob}"),
            Some(&admin),
        )
        .header("content-type", SCIM)
        .body({
            let mut b = user_body("zed");
            b["emails"][0]["value"] = serde_json::json!("bob@example.org");
            b.to_string()
        })
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(names(&s), ["carol", "zed"]);
    let members = body(s.get(&format!("/scim/Groups/{group}/members"), Some(&admin)));
    assert_eq!(members["Resources"][1]["value"], bob.as_str());
}
