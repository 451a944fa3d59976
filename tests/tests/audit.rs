//! The audit trail (docs/api.md §14): each change is logged once its transaction commits,
//! with the request id, and stored in that transaction (`GET /iam/audit/events`);
//! rolled-back changes leave no trace in either.

use iam_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The events logged for the request that gave `r`, as (event, account, group, detail).
fn events_of(s: &Server, r: &reqwest::blocking::Response) -> Vec<(String, String, String, String)> {
    let id = r.headers()["x-request-id"].to_str().unwrap();
    s.audit_events()
        .into_iter()
        .filter(|e| e.request == id)
        .map(|e| (e.event, e.account, e.group, e.detail))
        .collect()
}

fn ev(event: &str, account: &str, group: &str, detail: &str) -> (String, String, String, String) {
    (event.into(), account.into(), group.into(), detail.into())
}

/// `GET /iam/audit/events{query}` as `token`, expecting 200.
fn stored(s: &Server, token: &str, query: &str) -> Value {
    expect_json(
        s.get(&format!("/iam/audit/events{query}"), Some(token)),
        StatusCode::OK,
        query,
    )
}

/// The stored events of the request that gave `r`.
fn stored_of(s: &Server, admin: &str, r: &reqwest::blocking::Response) -> Vec<Value> {
    let id = r.headers()["x-request-id"].to_str().unwrap();
    stored(s, admin, "?count=100")["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["request"] == id)
        .cloned()
        .collect()
}

fn send(s: &Server, method: Method, path: &str, token: &str) -> reqwest::blocking::Response {
    s.req(method, path, Some(token)).send().unwrap()
}

#[test]
fn group_attribute_and_label_changes_are_audited_on_the_group() {
    let s = Server::start();
    let admin = s.token("admin");
    let g = s.create_group(&admin, "g1");
    let attrs = group_attributes_path(&g);
    let r = s.put_json(&attrs, Some(&admin), &json!({"name": "a", "value": "1"}));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(events_of(&s, &r), [ev("group attribute set", "-", &g, "a")]);
    let r = send(&s, Method::DELETE, &format!("{attrs}?name=a"), &admin);
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        events_of(&s, &r),
        [ev("group attribute removed", "-", &g, "a")]
    );
    let r = send(&s, Method::DELETE, &format!("{attrs}?name=a"), &admin);
    assert_eq!(events_of(&s, &r), []);

    let labels = group_labels_path(&g);
    let r = s.put_json(
        &labels,
        Some(&admin),
        &json!({"prefix": "ex.org", "name": "l"}),
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        events_of(&s, &r),
        [ev("group label set", "-", &g, "ex.org/l")]
    );
    let path = format!("{labels}?prefix=ex.org&name=l");
    let r = send(&s, Method::DELETE, &path, &admin);
    assert_eq!(
        events_of(&s, &r),
        [ev("group label removed", "-", &g, "ex.org/l")]
    );
    let r = send(&s, Method::DELETE, &path, &admin);
    assert_eq!(events_of(&s, &r), []);
}

#[test]
fn account_changes_are_audited_as_iam_names_them() {
    let s = Server::start();
    let admin = s.token("admin");
    let r = s.post_scim("/scim/Users", Some(&admin), &user_body("alice"));
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = events_of(&s, &r);
    let alice = body(r)["id"].as_str().unwrap().to_string();
    assert_eq!(created, [ev("account created", &alice, "-", "alice")]);

    // Attributes: a PUT is always "set"; a DELETE is logged only when something went.
    let attrs = attributes_path(&alice);
    let r = s.put_json(&attrs, Some(&admin), &json!({"name": "a", "value": "1"}));
    assert_eq!(events_of(&s, &r), [ev("attribute set", &alice, "-", "a")]);
    let r = send(&s, Method::DELETE, &format!("{attrs}?name=a"), &admin);
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        events_of(&s, &r),
        [ev("attribute removed", &alice, "-", "a")]
    );
    let r = send(&s, Method::DELETE, &format!("{attrs}?name=a"), &admin);
    assert_eq!(events_of(&s, &r), []);

    // Labels: an identical PUT is still "set" (IAM logs it), removal only when present.
    let labels = format!("/iam/account/{alice}/labels");
    let label = json!({"prefix": "ex.org", "name": "l", "value": "v"});
    for _ in 0..2 {
        let r = s.put_json(&labels, Some(&admin), &label);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            events_of(&s, &r),
            [ev("label set", &alice, "-", "ex.org/l")]
        );
    }
    let r = send(
        &s,
        Method::DELETE,
        &format!("{labels}?prefix=ex.org&name=l"),
        &admin,
    );
    assert_eq!(
        events_of(&s, &r),
        [ev("label removed", &alice, "-", "ex.org/l")]
    );
    let r = send(
        &s,
        Method::DELETE,
        &format!("{labels}?prefix=ex.org&name=l"),
        &admin,
    );
    assert_eq!(events_of(&s, &r), []);

    // Authorities: removal is logged even when the account did not hold it, as in IAM.
    let auth = format!("/iam/account/{alice}/authorities?authority=ROLE_READER");
    let r = send(&s, Method::POST, &auth, &admin);
    assert!(r.status().is_success(), "{}", r.status());
    let r = send(&s, Method::POST, &auth, &admin);
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(events_of(&s, &r), []);
    for _ in 0..2 {
        let r = send(&s, Method::DELETE, &auth, &admin);
        assert!(r.status().is_success(), "{}", r.status());
        assert_eq!(
            events_of(&s, &r),
            [ev("authority removed", &alice, "-", "ROLE_READER")]
        );
    }

    // End time, and the lifecycle label it clears.
    let r = s.put_json(
        &format!("/iam/account/{alice}/endTime"),
        Some(&admin),
        &json!({"endTime": 1704103200000u64}),
    );
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        events_of(&s, &r),
        [ev("end time updated", &alice, "-", "1704103200000")]
    );

    let r = send(&s, Method::DELETE, &format!("/scim/Users/{alice}"), &admin);
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        events_of(&s, &r),
        [ev("account removed", &alice, "-", "alice")]
    );
}

#[test]
fn group_and_membership_changes_are_audited() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let r = s.post_scim("/scim/Groups", Some(&admin), &group_body("parent", None));
    let parent = body(r)["id"].as_str().unwrap().to_string();
    let r = s.post_scim(
        "/scim/Groups",
        Some(&admin),
        &group_body("child", Some((&parent, "parent"))),
    );
    assert_eq!(r.status(), StatusCode::CREATED);
    let created = events_of(&s, &r);
    let child = body(r)["id"].as_str().unwrap().to_string();
    // The group and its manager role are created together; the role is no account's yet.
    assert_eq!(created, [ev("group created", "-", &child, "parent/child")]);

    // Joining the child joins the parent too: one event per group actually joined.
    let membership = format!("/iam/account/{alice}/groups/{child}");
    let r = send(&s, Method::POST, &membership, &admin);
    assert!(r.status().is_success(), "{}", r.status());
    let mut joined = events_of(&s, &r);
    joined.sort();
    let mut expected = vec![
        ev("membership added", &alice, &child, ""),
        ev("membership added", &alice, &parent, ""),
    ];
    expected.sort();
    assert_eq!(joined, expected);
    let r = send(&s, Method::POST, &membership, &admin);
    assert_eq!(events_of(&s, &r), []);

    // Leaving the parent leaves the child too.
    let r = send(
        &s,
        Method::DELETE,
        &format!("/iam/account/{alice}/groups/{parent}"),
        &admin,
    );
    assert!(r.status().is_success(), "{}", r.status());
    let mut left = events_of(&s, &r);
    left.sort();
    let mut expected = vec![
        ev("membership removed", &alice, &child, ""),
        ev("membership removed", &alice, &parent, ""),
    ];
    expected.sort();
    assert_eq!(left, expected);

    // Managing a group is an authority change.
    let r = send(
        &s,
        Method::POST,
        &format!("/iam/account/{alice}/managed-groups/{child}"),
        &admin,
    );
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        events_of(&s, &r),
        [ev(
            "authority added",
            &alice,
            "-",
            &format!("ROLE_GM:{child}")
        )]
    );

    let r = send(&s, Method::DELETE, &format!("/scim/Groups/{child}"), &admin);
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let removed = events_of(&s, &r);
    assert!(
        removed.contains(&ev("group removed", "-", &child, "parent/child")),
        "{removed:?}"
    );
}

#[test]
fn rolled_back_changes_leave_no_trace() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let group = s.create_group(&admin, "g");
    let before = s.audit_events().len();

    // The first operation adds alice, the second names an unknown account: the patch is
    // all-or-nothing, so the membership of the first is rolled back and not audited.
    let patch: Value = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "operations": [
            {"op": "add", "path": "members", "value": [{"value": alice}]},
            {"op": "add", "path": "members", "value": [{"value": UNKNOWN_ID}]}
        ]
    });
    let r = s
        .req(
            Method::PATCH,
            &format!("/scim/Groups/{group}"),
            Some(&admin),
        )
        .header("content-type", SCIM)
        .body(patch.to_string())
        .send()
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(events_of(&s, &r), []);
    assert_eq!(s.audit_events().len(), before, "{:?}", s.audit_events());
    assert_eq!(stored_of(&s, &admin, &r), Vec::<Value>::new());
}

#[test]
fn a_handler_that_writes_then_traps_is_not_audited() {
    let s = Server::start_with_config(&format!(
        "[plugins.handlers]\nattributes = \"{FAULTY_HANDLER}\"\n"
    ));
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let path = attributes_path(&me);
    let r = s.put_json(
        &path,
        Some(&admin),
        &json!({"name": "writetrap", "value": "v"}),
    );
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(events_of(&s, &r), []);
    assert_eq!(stored_of(&s, &admin, &r), Vec::<Value>::new());
    // The same component's ordinary write is audited: the trail comes from the host.
    let r = s.put_json(&path, Some(&admin), &json!({"name": "fine", "value": "v"}));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(events_of(&s, &r), [ev("attribute set", &me, "-", "fine")]);
}

#[test]
fn the_stored_trail_is_queryable_by_administrators_only() {
    let s = Server::start();
    let admin = s.token("admin");
    let admin_id = s.user_id(&admin, "admin");
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");
    let group = s.create_group(&admin, "cms");
    let r = s.put_json(
        &labels_path(&alice),
        Some(&admin),
        &json!({"name": "tier", "value": "1"}),
    );
    assert_eq!(r.status(), StatusCode::OK);
    let label_request = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let r = send(
        &s,
        Method::POST,
        &format!("/iam/account/{bob}/groups/{group}"),
        &admin,
    );
    assert!(r.status().is_success());
    let r = send(
        &s,
        Method::DELETE,
        &format!("/iam/account/{bob}/groups/{group}"),
        &admin,
    );
    assert!(r.status().is_success());

    // Newest first, with who, what, on what, when.
    let all = stored(&s, &admin, "");
    let list = all["Resources"].as_array().unwrap();
    assert_eq!(all["startIndex"], 1);
    assert_eq!(all["itemsPerPage"], list.len());
    assert!(all["totalResults"].as_u64().unwrap() >= 6, "{all}");
    let newest = &list[0];
    assert_eq!(newest["type"], "membership removed", "{newest}");
    assert_eq!(newest["category"], "membership");
    assert_eq!(newest["account"], bob.as_str());
    assert_eq!(newest["group"], group.as_str());
    assert_eq!(newest["actor"]["account"], admin_id.as_str());
    assert_eq!(newest["actor"]["source"], "127.0.0.1");
    assert!(newest["time"].as_str().unwrap().ends_with('Z'), "{newest}");
    let ids: Vec<u64> = list.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");

    // Filters: type, target (an account or group), actor, category; paging.
    let set = stored(&s, &admin, "?type=label%20set");
    assert_eq!(set["totalResults"], 1, "{set}");
    let e = &set["Resources"][0];
    assert_eq!(
        (e["account"].as_str(), e["detail"].as_str()),
        (Some(alice.as_str()), Some("tier"))
    );
    assert_eq!(e["request"], label_request.as_str());
    let on_group = stored(&s, &admin, &format!("?target={group}"));
    let kinds: Vec<&str> = on_group["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["membership removed", "membership added", "group created"],
        "{on_group}"
    );
    let by_admin = stored(
        &s,
        &admin,
        &format!("?actor={admin_id}&category=membership"),
    );
    assert_eq!(by_admin["totalResults"], 2, "{by_admin}");
    assert_eq!(stored(&s, &admin, "?actor=nobody")["totalResults"], 0);
    let page = stored(&s, &admin, "?count=1&startIndex=2");
    assert_eq!(page["Resources"].as_array().unwrap().len(), 1);
    assert_eq!(page["Resources"][0]["id"], list[1]["id"]);
    assert_eq!(page["startIndex"], 2);
    assert_eq!(stored(&s, &admin, "?count=0")["Resources"], json!([]));
    // Times: the future holds nothing; a date-time or milliseconds both work.
    assert_eq!(
        stored(&s, &admin, "?since=2999-01-01T00:00:00Z")["totalResults"],
        0
    );
    assert_eq!(stored(&s, &admin, "?until=0")["totalResults"], 0);
    assert_eq!(
        stored(&s, &admin, "?since=0")["totalResults"],
        all["totalResults"]
    );

    // Bad parameters are 400s; only administrators may read.
    for q in [
        "?startIndex=0",
        "?count=-1",
        "?since=yesterday",
        "?count=many",
    ] {
        let r = s.get(&format!("/iam/audit/events{q}"), Some(&admin));
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{q}");
        assert!(content_type(&r).contains("json"));
    }
    let alice_token = s.token("alice");
    expect_denied(
        s.get("/iam/audit/events", Some(&alice_token)),
        "a plain user",
    );
    let reader = s.token_with("admin", Some("openid iam:admin.read"));
    assert_eq!(
        s.get("/iam/audit/events", Some(&reader)).status(),
        StatusCode::OK
    );
    assert_eq!(
        s.get("/iam/audit/events", None).status(),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn events_past_their_retention_are_removed_by_the_lifecycle_job() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let r = s.put_json(&labels_path(&alice), Some(&admin), &json!({"name": "old"}));
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.put_json(
        &labels_path(&alice),
        Some(&admin),
        &json!({"name": "recent"}),
    );
    assert_eq!(r.status(), StatusCode::OK);
    // Two days ago, for the first two events (the account's creation and the old label).
    let old_ids: Vec<String> = s
        .sql_rows("SELECT id FROM audit_events ORDER BY id LIMIT 2")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let two_days_ago = now_ms - 2 * 86_400_000;
    s.sql_execute(&format!(
        "UPDATE audit_events SET time_ms = {two_days_ago} WHERE id IN ({})",
        old_ids.join(", ")
    ));
    let total = |s: &Server| stored(s, &admin, "")["totalResults"].as_u64().unwrap();
    let before = total(&s);

    let run = |config: &str| {
        let path = s.dir.path().join("retention.toml");
        std::fs::write(&path, config).unwrap();
        let out = s
            .cli(&["lifecycle", "--config", path.to_str().unwrap()])
            .env_remove("IAM_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Without a retention period nothing goes.
    run("");
    assert_eq!(total(&s), before);
    run("[audit]\nretention_days = 1\n");
    assert_eq!(total(&s), before - 2);
    let left = stored(&s, &admin, "?count=100");
    let ids: Vec<String> = left["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].to_string())
        .collect();
    assert!(old_ids.iter().all(|id| !ids.contains(id)), "{left}");
    assert_eq!(stored(&s, &admin, "?type=label%20set")["totalResults"], 1);
}

#[test]
fn an_accounts_trail_is_for_administrators_and_its_group_managers_memberships() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");
    let gm = s.create_user(&admin, "gm");
    let cms = s.create_group(&admin, "cms");
    let atlas = s.create_group(&admin, "atlas");
    for (account, group) in [(&alice, &cms), (&alice, &atlas), (&bob, &cms)] {
        let r = send(
            &s,
            Method::POST,
            &format!("/iam/account/{account}/groups/{group}"),
            &admin,
        );
        assert!(r.status().is_success());
    }
    let r = send(
        &s,
        Method::DELETE,
        &format!("/iam/account/{alice}/groups/{cms}"),
        &admin,
    );
    assert!(r.status().is_success());
    let r = s.put_json(
        &labels_path(&alice),
        Some(&admin),
        &json!({"name": "private"}),
    );
    assert_eq!(r.status(), StatusCode::OK);
    let r = send(
        &s,
        Method::POST,
        &format!("/iam/account/{gm}/managed-groups/{cms}"),
        &admin,
    );
    assert!(r.status().is_success(), "{}", r.status());

    let trail = |token: &str, query: &str| {
        expect_json(
            s.get(&format!("/iam/account/{alice}/audit{query}"), Some(token)),
            StatusCode::OK,
            query,
        )
    };
    let kinds = |v: &Value| -> Vec<(String, String)> {
        v["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["account"], alice.as_str(), "{e}");
                (
                    e["type"].as_str().unwrap().to_string(),
                    e["group"].as_str().unwrap_or("-").to_string(),
                )
            })
            .collect()
    };
    // An administrator: everything about alice, newest first, nothing about bob.
    let all = trail(&admin, "");
    assert_eq!(
        kinds(&all),
        [
            ("label set".to_string(), "-".to_string()),
            ("membership removed".into(), cms.clone()),
            ("membership added".into(), atlas.clone()),
            ("membership added".into(), cms.clone()),
            ("account created".into(), "-".into()),
        ]
    );
    // The manager of cms: alice's memberships of cms only (she has left it since).
    let gm_token = s.token("gm");
    let seen = trail(&gm_token, "");
    assert_eq!(
        kinds(&seen),
        [
            ("membership removed".to_string(), cms.clone()),
            ("membership added".into(), cms.clone())
        ]
    );
    assert_eq!(seen["totalResults"], 2);
    assert_eq!(trail(&gm_token, "?category=account")["totalResults"], 0);
    assert_eq!(trail(&gm_token, "?type=label%20set")["totalResults"], 0);
    // Anyone else: 403; an unknown account: 404.
    let bob_token = s.token("bob");
    expect_denied(
        s.get(&format!("/iam/account/{alice}/audit"), Some(&bob_token)),
        "a plain user",
    );
    expect_error(
        s.get(&format!("/iam/account/{UNKNOWN_ID}/audit"), Some(&admin)),
        StatusCode::NOT_FOUND,
        &format!("Account not found for id '{UNKNOWN_ID}'"),
        "unknown account",
    );
}

#[test]
fn logins_tokens_denials_and_reloads_are_stored_too() {
    use iam_tests::oauth::{SECRET, post_form, register, token_ok};
    let s = Server::start();
    let admin = s.token("admin");
    let admin_id = s.user_id(&admin, "admin");
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");
    register(
        &s,
        &admin,
        "app",
        &["password", "refresh_token"],
        "openid",
        false,
    );
    let login = |user: &str, password: &str| {
        post_form(
            &s,
            "/token",
            Some(("app", SECRET)),
            &[
                ("grant_type", "password"),
                ("username", user),
                ("password", password),
            ],
        )
    };
    let issued = token_ok(login("admin", ADMIN_PASSWORD));
    assert_eq!(login("admin", "wrong").status(), StatusCode::BAD_REQUEST);
    assert_eq!(login("nobody", "wrong").status(), StatusCode::BAD_REQUEST);
    let refresh = issued["refresh_token"].as_str().unwrap();
    let r = post_form(&s, "/revoke", Some(("app", SECRET)), &[("token", refresh)]);
    assert_eq!(r.status(), StatusCode::OK);
    let alice_token = s.token("alice");
    let denied = s.get(&attributes_path(&bob), Some(&alice_token));
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let denied_request = denied.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let r = s.post("/iam/admin/plugins/reload", Some(&admin));
    assert_eq!(r.status(), StatusCode::OK);

    let one = |query: &str| {
        let v = stored(&s, &admin, query);
        assert_eq!(v["totalResults"], 1, "{query}: {v}");
        v["Resources"][0].clone()
    };
    let e = one("?type=token%20issued");
    assert_eq!(e["category"], "token");
    assert_eq!(
        (e["account"].as_str(), e["actor"]["client"].as_str()),
        (Some(admin_id.as_str()), Some("app"))
    );
    assert_eq!(e["detail"], "openid");
    let failed = stored(&s, &admin, "?category=login");
    let failures: Vec<(Value, Value)> = failed["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["account"].clone(), e["detail"].clone()))
        .collect();
    assert_eq!(
        failures,
        [
            (Value::Null, json!("nobody")),
            (json!(admin_id), json!("admin"))
        ],
        "{failed}"
    );
    let e = one("?type=token%20revoked");
    assert_eq!(
        (e["account"].as_str(), e["detail"].as_str()),
        (Some(admin_id.as_str()), Some("refresh token"))
    );
    let e = one("?category=authorization");
    assert_eq!(e["type"], "access denied");
    assert_eq!(e["actor"]["account"], alice.as_str());
    assert_eq!(e["detail"], "GET /iam/account/{account}/attributes");
    assert_eq!(e["request"], denied_request.as_str());
    let e = one("?type=plugins%20reloaded");
    assert_eq!(e["category"], "plugins");
    assert_eq!(e["actor"]["account"], admin_id.as_str());
}

#[test]
fn reading_the_trail_follows_the_callers_rights_now_and_callers_cannot_bloat_it() {
    use iam_tests::oauth::{SECRET, post_form, register};
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let boss = s.create_user(&admin, "boss");
    let gm = s.create_user(&admin, "gm");
    let cms = s.create_group(&admin, "cms");
    let r = send(
        &s,
        Method::POST,
        &format!("/iam/account/{alice}/groups/{cms}"),
        &admin,
    );
    assert!(r.status().is_success());
    let r = send(
        &s,
        Method::POST,
        &format!("/iam/account/{gm}/managed-groups/{cms}"),
        &admin,
    );
    assert!(r.status().is_success());
    s.grant(&admin, &boss, "ROLE_ADMIN");
    let boss_token = s.token_with("boss", Some("openid iam:admin.read"));
    let gm_token = s.token("gm");
    let alice_trail = format!("/iam/account/{alice}/audit");
    assert_eq!(
        s.get("/iam/audit/events", Some(&boss_token)).status(),
        StatusCode::OK
    );
    assert_eq!(
        s.get(&alice_trail, Some(&gm_token)).status(),
        StatusCode::OK
    );

    // Demoted after their tokens were minted: the tokens still name the rights, the
    // database no longer does.
    s.revoke(&admin, &boss, "ROLE_ADMIN");
    let r = send(
        &s,
        Method::DELETE,
        &format!("/iam/account/{gm}/managed-groups/{cms}"),
        &admin,
    );
    assert!(r.status().is_success());
    expect_denied(
        s.get("/iam/audit/events", Some(&boss_token)),
        "a demoted admin",
    );
    expect_denied(s.get(&alice_trail, Some(&boss_token)), "a demoted admin");
    expect_denied(s.get(&alice_trail, Some(&gm_token)), "a dismissed manager");

    // A failed login keeps at most 256 characters of the username the caller made up (the
    // form may hold 64 KiB).
    register(&s, &admin, "app", &["password"], "openid", false);
    let huge = "x".repeat(60_000);
    let r = post_form(
        &s,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "password"),
            ("username", &huge),
            ("password", "p"),
        ],
    );
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{}", r.text().unwrap());
    let failed = stored(&s, &admin, "?type=login%20failed");
    assert_eq!(failed["totalResults"], 1, "{failed}");
    assert_eq!(failed["Resources"][0]["detail"], "x".repeat(256));
}
