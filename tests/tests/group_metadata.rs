//! `GET|PUT|DELETE /iam/group/{id}/attributes` and `GET|PUT|DELETE /iam/group/{id}/labels`
//! (INDIGO IAM's GroupController and GroupLabelsController): the rules and messages of the
//! account attributes and labels (attributes.rs, labels.rs) on a group, tested black-box.
//! Who may call them is the business of authorization_matrix.rs; here: what they answer,
//! in which order they check, and what they leave alone.

use iam_tests::*;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const ATTRIBUTE_NAME_RULE: &str =
    "invalid name (does not match with regexp: '^[a-zA-Z][a-zA-Z0-9\\-_.]*$')";
const LABEL_NAME_RULE: &str =
    "invalid name (does not match with regexp: '^[a-zA-Z][a-zA-Z0-9-_.]*$')";
const PREFIX_RULE: &str = "invalid prefix (does not match with regexp: '^((?!-)[A-Za-z0-9-]{1,63}(?<!-)\\.)+[A-Za-z]{2,6}$')";
const NO_WHITESPACE: &str = "The string must not contain any new line or carriage return";
const INVALID_ATTRIBUTE: &str = "Invalid attribute: ";
const INVALID_LABEL: &str = "Invalid label: ";

/// A server (see [`Ctx`]) whose resource is `resource` of a group, and the group `g1`.
fn setup_with(args: &[&str], resource: fn(&str) -> String) -> (Ctx, String) {
    let c = Ctx::start(args, resource);
    let g = c.server.create_group(&c.admin, "g1");
    (c, g)
}

fn setup(resource: fn(&str) -> String) -> (Ctx, String) {
    setup_with(&[], resource)
}

/// What the admin reads at `path` (200, JSON).
fn list_at(c: &Ctx, path: &str) -> Value {
    expect_json(c.server.get(path, Some(&c.admin)), StatusCode::OK, path)
}

/// Asserts a 400 `{"error": "<prefix><detail>"}` whose detail is every one of `parts`,
/// joined by `,` in some order.
fn expect_invalid(r: Response, prefix: &str, parts: &[&str], what: &str) {
    let v = expect_json(r, StatusCode::BAD_REQUEST, what);
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{what}: {v}");
    let msg = v["error"].as_str().unwrap_or_else(|| panic!("{what}: {v}"));
    let detail = msg
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{what}: {msg:?}"));
    for p in parts {
        assert!(detail.contains(p), "{what}: {msg:?} lacks {p:?}");
    }
    let len = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len() - 1;
    assert_eq!(detail.len(), len, "{what}: {msg:?}");
}

/// Asserts that the admin's GET, PUT and DELETE at `resource` of `id` are 404
/// `Group not found for uuid: <id>`.
fn expect_no_group(c: &Ctx, resource: fn(&str) -> String, id: &str) {
    let (path, admin) = (resource(id), Some(c.admin.as_str()));
    let msg = format!("Group not found for uuid: {id}");
    let answers = [
        ("GET", c.server.get(&path, admin)),
        (
            "PUT",
            c.server.put_json(&path, admin, &json!({"name": "a"})),
        ),
        ("DELETE", c.server.delete(&format!("{path}?name=a"), admin)),
    ];
    for (method, r) in answers {
        expect_error(r, StatusCode::NOT_FOUND, &msg, &format!("{method} {path}"));
    }
}

/// Asserts that the admin's PUT on `id` reads its body before anything else: 400 for
/// malformed JSON, 415 for another content type.
fn expect_body_read_first(c: &Ctx, id: &str) {
    let admin = Some(c.admin.as_str());
    let r = c.put_raw(id, admin, Some(JSON), "{");
    expect_plain_error(r, StatusCode::BAD_REQUEST, &format!("malformed on {id}"));
    let r = c.put_raw(id, admin, Some("text/plain"), r#"{"name":"a"}"#);
    let what = format!("text/plain on {id}");
    expect_plain_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, &what);
}

#[test]
fn fresh_groups_list_nothing_and_unknown_groups_are_404() {
    let (c, g) = setup(group_attributes_path);
    for path in [group_attributes_path(&g), group_labels_path(&g)] {
        let r = c.server.get(&path, Some(&c.admin));
        let ct = content_type(&r);
        assert!(ct.starts_with("application/json"), "{path}: {ct:?}");
        assert_eq!(expect_json(r, StatusCode::OK, &path), json!([]));
    }
    // An account's id names no group.
    for id in [UNKNOWN_ID, "not-a-uuid", c.alice.as_str()] {
        expect_no_group(&c, group_attributes_path, id);
        expect_no_group(&c, group_labels_path, id);
    }
}

#[test]
fn attributes_are_keyed_by_name_and_listed_by_name() {
    let (c, g) = setup(group_attributes_path);
    c.set_ok(&g, json!({"name": "zeta", "value": "last"}));
    c.set_ok(&g, json!({"name": "affiliation", "value": "INFN-CNAF"}));
    c.set_ok(&g, json!({"name": "middle"}));
    c.set_ok(&g, json!({"name": "nulled", "value": null}));
    c.set_ok(
        &g,
        json!({"name": "a1-b_c.D", "value": "x", "extra": {"x": 1}}),
    );
    // `value: null` is written, not omitted; unknown properties are ignored.
    assert_eq!(
        c.list(&g),
        json!([
            {"name": "a1-b_c.D", "value": "x"},
            {"name": "affiliation", "value": "INFN-CNAF"},
            {"name": "middle", "value": null},
            {"name": "nulled", "value": null},
            {"name": "zeta", "value": "last"},
        ])
    );

    // A PUT of a known name replaces its value, null included.
    c.set_ok(&g, json!({"name": "zeta", "value": "first"}));
    c.set_ok(&g, json!({"name": "affiliation", "value": null}));
    c.set_ok(&g, json!({"name": "nulled", "value": "now"}));
    assert_eq!(
        c.list(&g),
        json!([
            {"name": "a1-b_c.D", "value": "x"},
            {"name": "affiliation", "value": null},
            {"name": "middle", "value": null},
            {"name": "nulled", "value": "now"},
            {"name": "zeta", "value": "first"},
        ])
    );

    // DELETE by name, whatever the value says, by query or by form; absent ones: 204.
    c.delete_ok(&g, &[("name", "zeta"), ("value", "other")]);
    let r = c.delete_form(&g, Some(&c.admin), &[("name", "middle")]);
    assert_eq!(expect(r, StatusCode::NO_CONTENT, "DELETE form"), "");
    c.delete_ok(&g, &[("name", "zeta")]);
    c.delete_ok(&g, &[("name", "never")]);
    c.delete_ok(&g, &[("name", "nulled"), ("value", "")]);
    assert_eq!(
        c.list(&g),
        json!([{"name": "a1-b_c.D", "value": "x"}, {"name": "affiliation", "value": null}])
    );
}

#[test]
fn attribute_validation_comes_before_the_group_lookup() {
    let (c, g) = setup(group_attributes_path);
    let admin = Some(c.admin.as_str());
    let (long_name, long_value) = ("a".repeat(65), "v".repeat(257));
    let blank = "must not be blank";
    for id in [g.as_str(), UNKNOWN_ID] {
        for (body, parts) in [
            (json!({}), vec![blank]),
            (json!({"value": "v"}), vec![blank]),
            (json!({"name": null, "value": "v"}), vec![blank]),
            (json!({"name": "1abc"}), vec![ATTRIBUTE_NAME_RULE]),
            (
                json!({"name": "a b", "value": "v"}),
                vec![ATTRIBUTE_NAME_RULE],
            ),
            (
                json!({"name": long_name}),
                vec!["name cannot be longer than 64 chars"],
            ),
            (
                json!({"name": "a", "value": long_value}),
                vec!["value cannot be longer than 256 chars"],
            ),
            (
                json!({"name": "a", "value": "é".repeat(257)}),
                vec!["value cannot be longer than 256 chars"],
            ),
            (json!({"name": "a", "value": "x y"}), vec![NO_WHITESPACE]),
            (json!({"name": "a", "value": "x\ny"}), vec![NO_WHITESPACE]),
            (json!({"name": "a", "value": "x\ry"}), vec![NO_WHITESPACE]),
            (
                json!({"name": "-a", "value": "x y"}),
                vec![ATTRIBUTE_NAME_RULE, NO_WHITESPACE],
            ),
        ] {
            let what = format!("PUT {body} on {id}");
            expect_invalid(c.put(id, admin, &body), INVALID_ATTRIBUTE, &parts, &what);
        }
        for (params, detail) in [
            (vec![], blank),
            (vec![("value", "1")], blank),
            (vec![("name", "1a")], ATTRIBUTE_NAME_RULE),
            (
                vec![("name", long_name.as_str())],
                "name cannot be longer than 64 chars",
            ),
            (vec![("name", "a"), ("value", "x y")], NO_WHITESPACE),
        ] {
            let what = format!("DELETE {params:?} on {id}");
            expect_invalid(
                c.delete(id, admin, &params),
                INVALID_ATTRIBUTE,
                &[detail],
                &what,
            );
        }
        expect_body_read_first(&c, id);
    }
    assert_eq!(c.list(&g), json!([]), "nothing invalid was stored");

    // The limits themselves are accepted.
    c.set_ok(
        &g,
        json!({"name": "n".repeat(64), "value": "v".repeat(256)}),
    );
    c.set_ok(&g, json!({"name": "u", "value": "é".repeat(256)}));
    assert_eq!(
        c.list(&g),
        json!([
            {"name": "n".repeat(64), "value": "v".repeat(256)},
            {"name": "u", "value": "é".repeat(256)},
        ])
    );
}

#[test]
fn labels_are_keyed_by_prefix_and_name_and_listed_by_prefix_then_name() {
    let (c, g) = setup(group_labels_path);
    c.set_ok(&g, json!({"prefix": "example.org", "name": "b"}));
    c.set_ok(&g, json!({"name": "zeta", "value": "1"}));
    c.set_ok(
        &g,
        json!({"prefix": "example.org", "name": "a", "value": "x"}),
    );
    c.set_ok(&g, json!({"prefix": "b.example.org", "name": "z"}));
    c.set_ok(&g, json!({"name": "alpha"}));
    c.set_ok(&g, json!({"name": "empty", "value": ""}));
    c.set_ok(
        &g,
        json!({"prefix": null, "name": "nulls", "value": null, "x": 1}),
    );
    // Null and empty members are left out (serde_json compares objects key by key).
    assert_eq!(
        c.list(&g),
        json!([
            {"name": "alpha"},
            {"name": "empty"},
            {"name": "nulls"},
            {"name": "zeta", "value": "1"},
            {"prefix": "b.example.org", "name": "z"},
            {"prefix": "example.org", "name": "a", "value": "x"},
            {"prefix": "example.org", "name": "b"},
        ])
    );

    // The same name under a prefix is another label; a PUT replaces (or drops) the value.
    c.set_ok(
        &g,
        json!({"prefix": "example.org", "name": "zeta", "value": "2"}),
    );
    c.set_ok(&g, json!({"name": "zeta", "value": "3"}));
    c.set_ok(
        &g,
        json!({"prefix": "example.org", "name": "b", "value": "4"}),
    );
    c.set_ok(&g, json!({"prefix": "example.org", "name": "a"}));
    let listed = json!([
        {"name": "alpha"},
        {"name": "empty"},
        {"name": "nulls"},
        {"name": "zeta", "value": "3"},
        {"prefix": "b.example.org", "name": "z"},
        {"prefix": "example.org", "name": "a"},
        {"prefix": "example.org", "name": "b", "value": "4"},
        {"prefix": "example.org", "name": "zeta", "value": "2"},
    ]);
    assert_eq!(c.list(&g), listed);

    // Absent (prefix, name) pairs: 204, nothing removed.
    c.delete_ok(&g, &[("prefix", "nowhere.org"), ("name", "zeta")]);
    c.delete_ok(&g, &[("name", "a")]);
    c.delete_ok(&g, &[("prefix", "example.org"), ("name", "alpha")]);
    assert_eq!(c.list(&g), listed);
    // Without a prefix: the unprefixed label only; with one, whatever the value says.
    c.delete_ok(&g, &[("name", "zeta")]);
    c.delete_ok(
        &g,
        &[("prefix", "example.org"), ("name", "zeta"), ("value", "x")],
    );
    let r = c.delete_form(
        &g,
        Some(&c.admin),
        &[("prefix", "b.example.org"), ("name", "z")],
    );
    assert_eq!(expect(r, StatusCode::NO_CONTENT, "DELETE form"), "");
    c.delete_ok(&g, &[("name", "zeta")]);
    assert_eq!(
        c.list(&g),
        json!([
            {"name": "alpha"},
            {"name": "empty"},
            {"name": "nulls"},
            {"prefix": "example.org", "name": "a"},
            {"prefix": "example.org", "name": "b", "value": "4"},
        ])
    );
}

#[test]
fn label_validation_comes_before_the_group_lookup() {
    let (c, g) = setup(group_labels_path);
    let admin = Some(c.admin.as_str());
    let long_prefix = format!("{}org", "a.".repeat(130));
    let (long_name, long_value) = ("n".repeat(65), "v".repeat(65));
    let required = "name is required";
    for id in [g.as_str(), UNKNOWN_ID] {
        for (body, parts) in [
            (json!({}), vec![required]),
            (json!({"prefix": "example.org"}), vec![required]),
            (json!({"name": null, "value": "v"}), vec![required]),
            (json!({"prefix": "aword", "name": "n"}), vec![PREFIX_RULE]),
            (json!({"prefix": "a_b.org", "name": "n"}), vec![PREFIX_RULE]),
            (
                json!({"prefix": long_prefix, "name": "n"}),
                vec!["invalid prefix length"],
            ),
            (json!({"name": "-pippo"}), vec![LABEL_NAME_RULE]),
            (json!({"name": long_name}), vec!["invalid name length"]),
            (
                json!({"name": "n", "value": long_value}),
                vec!["invalid value length"],
            ),
            (json!({"name": "n", "value": "x y"}), vec![NO_WHITESPACE]),
            (
                json!({"prefix": "aword", "name": "-x", "value": "a\nb"}),
                vec![PREFIX_RULE, LABEL_NAME_RULE, NO_WHITESPACE],
            ),
            (
                json!({"prefix": "example.org", "value": long_value}),
                vec![required, "invalid value length"],
            ),
        ] {
            let what = format!("PUT {body} on {id}");
            expect_invalid(c.put(id, admin, &body), INVALID_LABEL, &parts, &what);
        }
        for (params, detail) in [
            (vec![], required),
            (vec![("prefix", "example.org"), ("value", "v")], required),
            (vec![("prefix", "aword"), ("name", "a")], PREFIX_RULE),
            (vec![("name", "-pippo")], LABEL_NAME_RULE),
            (vec![("name", long_name.as_str())], "invalid name length"),
            (vec![("name", "a"), ("value", "x y")], NO_WHITESPACE),
            (
                vec![("name", "a"), ("value", long_value.as_str())],
                "invalid value length",
            ),
        ] {
            let what = format!("DELETE {params:?} on {id}");
            expect_invalid(
                c.delete(id, admin, &params),
                INVALID_LABEL,
                &[detail],
                &what,
            );
        }
        expect_body_read_first(&c, id);
    }
    assert_eq!(c.list(&g), json!([]), "nothing invalid was stored");

    // The limits themselves are accepted.
    let prefix_256 = format!("{}abcdef", "a.".repeat(125));
    assert_eq!(prefix_256.len(), 256);
    let big = json!({"prefix": prefix_256, "name": "n".repeat(64), "value": "v".repeat(64)});
    let odd = json!({"prefix": "x-y.Example.MUSEUM", "name": "Z9-_.", "value": "a=b,c;d"});
    c.set_ok(&g, big.clone());
    c.set_ok(&g, odd.clone());
    assert_eq!(c.list(&g), json!([big, odd]));
}

#[test]
fn put_needs_a_json_content_type_and_a_readable_body() {
    let (c, g) = setup(group_attributes_path);
    c.check_put_reads_json_on(
        &g,
        &[r#"{"name":"a","value":{"x":1}}"#, r#"{"name":["a"]}"#],
    );
    let (c, g) = setup(group_labels_path);
    c.check_put_reads_json_on(&g, &[r#"{"name":{"x":1}}"#, r#"{"prefix":{},"name":"a"}"#]);
}

#[test]
fn metadata_belongs_to_one_group_and_is_apart_from_accounts() {
    let (c, g) = setup(group_attributes_path);
    let s = &c.server;
    let h = s.create_group(&c.admin, "h");
    let r = s.post_scim(
        "/scim/Groups",
        Some(&c.admin),
        &group_body("kid", Some((&g, "g1"))),
    );
    let child = expect_json(r, StatusCode::CREATED, "subgroup")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let put = |path: String, body: Value| {
        expect_empty_ok(s.put_json(&path, Some(&c.admin), &body), &path);
    };
    put(
        group_attributes_path(&g),
        json!({"name": "a", "value": "g"}),
    );
    put(
        group_attributes_path(&h),
        json!({"name": "a", "value": "h"}),
    );
    put(
        attributes_path(&c.alice),
        json!({"name": "a", "value": "alice"}),
    );
    put(group_labels_path(&g), json!({"name": "a", "value": "g"}));
    put(
        labels_path(&c.alice),
        json!({"name": "a", "value": "alice"}),
    );

    let mine = |who: &str| json!([{"name": "a", "value": who}]);
    assert_eq!(c.list(&g), mine("g"));
    assert_eq!(c.list(&h), mine("h"));
    assert_eq!(list_at(&c, &group_labels_path(&g)), mine("g"));
    assert_eq!(
        list_at(&c, &group_labels_path(&h)),
        json!([]),
        "attributes are no labels"
    );
    assert_eq!(list_at(&c, &attributes_path(&c.alice)), mine("alice"));
    assert_eq!(list_at(&c, &labels_path(&c.alice)), mine("alice"));
    // A subgroup inherits nothing; bob, a member of g, gets nothing either.
    s.join(&c.admin, &c.bob, &g);
    for path in [
        group_attributes_path(&child),
        group_labels_path(&child),
        attributes_path(&c.bob),
        labels_path(&c.bob),
    ] {
        assert_eq!(list_at(&c, &path), json!([]), "{path}");
    }

    // Removing g's "a" leaves h's, alice's and g's label alone.
    c.delete_ok(&g, &[("name", "a")]);
    assert_eq!(c.list(&g), json!([]));
    assert_eq!(c.list(&h), mine("h"));
    assert_eq!(list_at(&c, &attributes_path(&c.alice)), mine("alice"));
    assert_eq!(list_at(&c, &group_labels_path(&g)), mine("g"));
    // A group's id names no account.
    let r = s.get(&attributes_path(&g), Some(&c.admin));
    expect_error(
        r,
        StatusCode::NOT_FOUND,
        &format!("Account not found for id '{g}'"),
        "account",
    );
}

#[test]
fn changes_leave_the_groups_last_modified_alone() {
    let (c, g) = setup(group_attributes_path);
    let (s, admin) = (&c.server, Some(c.admin.as_str()));
    let scim = format!("/scim/Groups/{g}");
    let t0 = s.last_modified(&c.admin, &scim);
    let labels = group_labels_path(&g);

    tick();
    c.set_ok(&g, json!({"name": "a", "value": "1"}));
    c.set_ok(&g, json!({"name": "a", "value": "2"}));
    expect_empty_ok(
        s.put_json(&labels, admin, &json!({"name": "l"})),
        "PUT label",
    );
    expect_empty_ok(
        s.put_json(&labels, admin, &json!({"name": "l", "value": "v"})),
        "again",
    );
    assert_eq!(s.last_modified(&c.admin, &scim), t0, "PUTs");
    tick();
    c.delete_ok(&g, &[("name", "a")]);
    c.delete_ok(&g, &[("name", "absent")]);
    let r = s.delete(&format!("{labels}?name=l"), admin);
    expect(r, StatusCode::NO_CONTENT, "DELETE label");
    assert_eq!(s.last_modified(&c.admin, &scim), t0, "DELETEs");

    // What does change the group moves it (the clock did advance).
    s.join(&c.admin, &c.alice, &g);
    let t1 = s.last_modified(&c.admin, &scim);
    assert!(t1 > t0, "membership: {t0} → {t1}");
}

#[test]
fn a_deleted_group_takes_its_metadata_along() {
    let (c, g) = setup(group_attributes_path);
    c.set_ok(&g, json!({"name": "a", "value": "1"}));
    let labels = group_labels_path(&g);
    let r = c
        .server
        .put_json(&labels, Some(&c.admin), &json!({"name": "l"}));
    expect_empty_ok(r, "PUT label");

    let r = c
        .server
        .delete(&format!("/scim/Groups/{g}"), Some(&c.admin));
    expect(r, StatusCode::NO_CONTENT, "delete the group");
    expect_no_group(&c, group_attributes_path, &g);
    expect_no_group(&c, group_labels_path, &g);

    // A new group of the same name starts empty.
    let again = c.server.create_group(&c.admin, "g1");
    assert_ne!(again, g);
    assert_eq!(c.list(&again), json!([]));
    assert_eq!(list_at(&c, &group_labels_path(&again)), json!([]));
}

#[test]
fn metadata_survives_a_restart() {
    let (mut c, g) = setup(group_attributes_path);
    c.set_ok(&g, json!({"name": "a", "value": "1"}));
    c.set_ok(&g, json!({"name": "b"}));
    let label = json!({"prefix": "example.org", "name": "l", "value": "v"});
    expect_empty_ok(
        c.server
            .put_json(&group_labels_path(&g), Some(&c.admin), &label),
        "PUT label",
    );
    c.server.restart();
    assert_eq!(
        c.list(&g),
        json!([{"name": "a", "value": "1"}, {"name": "b", "value": null}])
    );
    assert_eq!(list_at(&c, &group_labels_path(&g)), json!([label]));
}

/// The manager of a group reads its attributes and labels (the admin's answer) and writes
/// neither; a manager of another group is refused; `ROLE_READER` reads labels only, and
/// only under `roles`.
#[test]
fn managers_read_their_group_only_and_readers_its_labels_under_roles() {
    for policy in ["roles", "strict"] {
        let (c, g) = setup_with(&["--policy", policy], group_attributes_path);
        let s = &c.server;
        let h = s.create_group(&c.admin, "h");
        let carol = s.create_user(&c.admin, "carol");
        c.grant(&carol, "ROLE_READER");
        s.appoint(&c.admin, &c.alice, &g);
        let (manager, reader) = (Some(c.alice_token.as_str()), s.token("carol"));
        for id in [&g, &h] {
            c.set_ok(id, json!({"name": "a", "value": "1"}));
            let r = s.put_json(
                &group_labels_path(id),
                Some(&c.admin),
                &json!({"name": "l"}),
            );
            expect_empty_ok(r, "PUT label");
        }
        for (kind, resource) in [
            ("attributes", group_attributes_path as fn(&str) -> String),
            ("labels", group_labels_path),
        ] {
            let what = |who: &str| format!("{policy}: {kind} by {who}");
            let r = s.get(&resource(&g), manager);
            let got = expect_json(r, StatusCode::OK, &what("manager of g"));
            assert_eq!(got, list_at(&c, &resource(&g)), "{}", what("manager"));
            expect_denied(s.get(&resource(&h), manager), &what("manager of another"));
            let put = s.put_json(&resource(&g), manager, &json!({"name": "b"}));
            expect_denied(put, &what("manager PUT"));
            let delete = s.delete(&format!("{}?name=a", resource(&g)), manager);
            expect_denied(delete, &what("manager DELETE"));

            let r = s.get(&resource(&g), Some(&reader));
            if policy == "roles" && kind == "labels" {
                expect_json(r, StatusCode::OK, &what("reader"));
            } else {
                expect_denied(r, &what("reader"));
            }
        }
        // Nothing the refused callers sent was stored.
        assert_eq!(c.list(&g), json!([{"name": "a", "value": "1"}]));
        assert_eq!(list_at(&c, &group_labels_path(&g)), json!([{"name": "l"}]));
    }
}

/// Who may read and write is the matrix of authorization_matrix.rs; what each caller it
/// refuses gets, and in which order (401, unreadable body, 403, validation, lookup), is
/// checked here.
#[test]
fn refusals_come_first_under_both_policies() {
    for policy in ["roles", "strict"] {
        let (c, g) = setup_with(&["--policy", policy], group_attributes_path);
        c.set_ok(&g, json!({"name": "base", "value": "1"}));
        let writes = Writes {
            put: json!({"name": "w", "value": "x"}),
            delete: &[("name", "w")],
            invalid_puts: vec![
                json!({}),
                json!({"value": "x"}),
                json!({"name": "1bad"}),
                json!({"name": "1bad", "value": "x y"}),
            ],
            invalid_deletes: &[&[], &[("name", "a"), ("value", "x y")]],
        };
        c.check_refusals_on(&format!("{policy} attributes"), &g, &writes);

        let (c, g) = setup_with(&["--policy", policy], group_labels_path);
        c.set_ok(
            &g,
            json!({"prefix": "example.org", "name": "base", "value": "1"}),
        );
        let writes = Writes {
            put: json!({"name": "w", "value": "x"}),
            delete: &[("name", "w")],
            invalid_puts: vec![
                json!({}),
                json!({"value": "x y"}),
                json!({"prefix": "aword", "name": "-x", "value": "a b"}),
            ],
            invalid_deletes: &[&[], &[("name", "-x"), ("value", "a b")]],
        };
        c.check_refusals_on(&format!("{policy} labels"), &g, &writes);
    }
}

/// A demoted admin's token, minted while they were admin, writes no group metadata: the
/// decision reads the account's authorities now, not the token's.
#[test]
fn a_demoted_admin_no_longer_writes_group_metadata() {
    let s = Server::start();
    let admin = s.token("admin");
    let g = s.create_group(&admin, "g1");
    let bob = s.create_user(&admin, "bob");
    s.grant(&admin, &bob, "ROLE_ADMIN");
    let token = s.token("bob");
    let attribute = json!({"name": "site", "value": "before"});
    let label = json!({"name": "tier", "value": "before"});
    let put = |path: String, body: &Value| s.put_json(&path, Some(&token), body);
    assert_eq!(
        put(group_attributes_path(&g), &attribute).status(),
        StatusCode::OK
    );
    assert_eq!(put(group_labels_path(&g), &label).status(), StatusCode::OK);

    s.revoke(&admin, &bob, "ROLE_ADMIN");
    expect_denied(
        put(
            group_attributes_path(&g),
            &json!({"name": "site", "value": "after"}),
        ),
        "attribute after demotion",
    );
    expect_denied(
        put(
            group_labels_path(&g),
            &json!({"name": "tier", "value": "after"}),
        ),
        "label after demotion",
    );
    expect_denied(
        s.delete(
            &format!("{}?name=site", group_attributes_path(&g)),
            Some(&token),
        ),
        "attribute removal after demotion",
    );
    let attributes = body(s.get(&group_attributes_path(&g), Some(&admin)));
    assert_eq!(attributes, json!([{"name": "site", "value": "before"}]));
    let labels = body(s.get(&group_labels_path(&g), Some(&admin)));
    assert_eq!(labels[0]["value"], "before");
}
