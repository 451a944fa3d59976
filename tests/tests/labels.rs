//! `GET|PUT|DELETE /iam/account/{id}/labels` (docs/api.md §5.3, §4.6, §1.3,
//! §2 and §3.5), tested black-box against the real server under both
//! built-in policies.

use iam_tests::*;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const PREFIX_RULE: &str = "invalid prefix (does not match with regexp: '^((?!-)[A-Za-z0-9-]{1,63}(?<!-)\\.)+[A-Za-z]{2,6}$')";
const NAME_RULE: &str = "invalid name (does not match with regexp: '^[a-zA-Z][a-zA-Z0-9-_.]*$')";
const NO_WHITESPACE: &str = "The string must not contain any new line or carriage return";
const INVALID: &str = "Invalid label: ";

/// Asserts a 400 `{"error": "Invalid label: <detail>"}`.
fn expect_invalid(r: Response, detail: &str, what: &str) {
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        &format!("{INVALID}{detail}"),
        what,
    );
}

/// Asserts a 400 `Invalid label: ...` whose message holds every one of `parts`, joined by
/// `,` in some order (so the message is exactly that long).
fn expect_invalid_all(r: Response, parts: &[&str], what: &str) {
    let v = expect_json(r, StatusCode::BAD_REQUEST, what);
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{what}: {v}");
    let msg = v["error"].as_str().unwrap_or_else(|| panic!("{what}: {v}"));
    let detail = msg
        .strip_prefix(INVALID)
        .unwrap_or_else(|| panic!("{what}: {msg:?}"));
    for p in parts {
        assert!(detail.contains(p), "{what}: {msg:?} lacks {p:?}");
    }
    let expected_len = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len() - 1;
    assert_eq!(detail.len(), expected_len, "{what}: {msg:?}");
}

fn setup_with(args: &[&str]) -> Ctx {
    Ctx::start(args, labels_path)
}

fn setup() -> Ctx {
    setup_with(&[])
}

// ---------------------------------------------------------------------------------------------
// Reading and writing
// ---------------------------------------------------------------------------------------------

#[test]
fn a_fresh_account_has_no_labels() {
    let c = setup();
    let r = c.get(&c.alice, Some(&c.admin));
    let ct = content_type(&r);
    assert!(ct.starts_with("application/json"), "content type {ct:?}");
    assert_eq!(expect_json(r, StatusCode::OK, "GET"), json!([]));
}

#[test]
fn labels_are_listed_by_prefix_then_name_with_empty_members_omitted() {
    let c = setup();
    c.set_ok(&c.alice, json!({"prefix": "example.org", "name": "b"}));
    c.set_ok(&c.alice, json!({"name": "zeta", "value": "1"}));
    c.set_ok(
        &c.alice,
        json!({"prefix": "example.org", "name": "a", "value": "x"}),
    );
    c.set_ok(&c.alice, json!({"prefix": "b.example.org", "name": "z"}));
    c.set_ok(&c.alice, json!({"name": "alpha"}));
    c.set_ok(&c.alice, json!({"name": "empty", "value": ""}));
    c.set_ok(
        &c.alice,
        json!({"prefix": null, "name": "nulls", "value": null}),
    );
    c.set_ok(
        &c.alice,
        json!({"prefix": "a.io", "name": "m", "value": "v-1_2.3"}),
    );
    c.set_ok(&c.alice, json!({"name": "a1-b_c.D", "value": "é"}));

    let got = c.list(&c.alice);
    // serde_json compares objects key by key: absent members must really be absent.
    assert_eq!(
        got,
        json!([
            {"name": "a1-b_c.D", "value": "é"},
            {"name": "alpha"},
            {"name": "empty"},
            {"name": "nulls"},
            {"name": "zeta", "value": "1"},
            {"prefix": "a.io", "name": "m", "value": "v-1_2.3"},
            {"prefix": "b.example.org", "name": "z"},
            {"prefix": "example.org", "name": "a", "value": "x"},
            {"prefix": "example.org", "name": "b"},
        ])
    );
    for l in got.as_array().unwrap() {
        let o = l.as_object().unwrap();
        assert!(
            o.values()
                .all(|v| v.as_str().is_some_and(|s| !s.is_empty())),
            "no null or empty member: {l}"
        );
    }

    // Labels belong to one account only.
    assert_eq!(c.list(&c.bob), json!([]));
}

#[test]
fn identity_is_prefix_and_name_and_put_replaces_the_value() {
    let c = setup();
    let id = c.alice.clone();
    c.set_ok(&id, json!({"name": "l", "value": "1"}));
    c.set_ok(
        &id,
        json!({"prefix": "example.org", "name": "l", "value": "2"}),
    );
    c.set_ok(&id, json!({"prefix": "other.org", "name": "l"}));
    assert_eq!(
        c.list(&id),
        json!([
            {"name": "l", "value": "1"},
            {"prefix": "example.org", "name": "l", "value": "2"},
            {"prefix": "other.org", "name": "l"},
        ])
    );

    // Replacing the unprefixed one leaves the prefixed ones alone, and vice versa.
    c.set_ok(&id, json!({"name": "l", "value": "3"}));
    c.set_ok(
        &id,
        json!({"prefix": "other.org", "name": "l", "value": "4"}),
    );
    assert_eq!(
        c.list(&id),
        json!([
            {"name": "l", "value": "3"},
            {"prefix": "example.org", "name": "l", "value": "2"},
            {"prefix": "other.org", "name": "l", "value": "4"},
        ])
    );
    // A PUT without a value drops the value.
    c.set_ok(&id, json!({"prefix": "example.org", "name": "l"}));
    c.set_ok(&id, json!({"name": "l", "value": null}));
    assert_eq!(
        c.list(&id),
        json!([
            {"name": "l"},
            {"prefix": "example.org", "name": "l"},
            {"prefix": "other.org", "name": "l", "value": "4"},
        ])
    );
    // Names are case-sensitive keys.
    c.set_ok(&id, json!({"name": "L", "value": "upper"}));
    assert_eq!(c.list(&id).as_array().unwrap().len(), 4);
    // Unknown properties are ignored.
    c.set_ok(
        &c.bob,
        json!({"name": "n", "value": "v", "extra": {"x": 1}, "qualifiedName": "q"}),
    );
    assert_eq!(c.list(&c.bob), json!([{"name": "n", "value": "v"}]));
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

#[test]
fn put_validation_messages() {
    let c = setup();
    let id = c.alice.clone();
    let put = |body: Value| c.put(&id, Some(&c.admin), &body);

    // Prefix pattern.
    let label_64 = format!("{}.org", "a".repeat(64));
    for bad in [
        "aword",
        "-starts-with-dash.com",
        "ends-with-dash-.com",
        "contains_underscore.org",
        "contains/slashes.org",
        "example.org\n",
        "example.org\r",
        "exa\nmple.org",
        "exa\rmple.org",
        "example.o",
        "example.toolong",
        "example.c0m",
        ".org",
        "a..org",
        "example.org.",
        "exa mple.org",
        label_64.as_str(),
    ] {
        expect_invalid(
            put(json!({"prefix": bad, "name": "n"})),
            PREFIX_RULE,
            &format!("prefix {bad:?}"),
        );
    }
    // Prefix length: a DNS-like prefix of 263 characters breaks only the length rule.
    let long_prefix = format!("{}org", "a.".repeat(130));
    assert_eq!(long_prefix.len(), 263);
    expect_invalid(
        put(json!({"prefix": long_prefix, "name": "n"})),
        "invalid prefix length",
        "prefix of 263 chars",
    );

    // Name required.
    for body in [
        json!({}),
        json!({"name": null}),
        json!({"prefix": "example.org"}),
        json!({"value": "v"}),
        json!({"prefix": "example.org", "name": null, "value": "v"}),
    ] {
        expect_invalid(put(body.clone()), "name is required", &format!("{body}"));
    }
    // An empty name is required and does not match the pattern either.
    let v = expect_json(
        put(json!({"name": ""})),
        StatusCode::BAD_REQUEST,
        "name \"\"",
    );
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.starts_with(INVALID) && msg.contains("name is required"),
        "{msg:?}"
    );

    // Name pattern.
    for bad in [
        "-pippo",
        "/ciccio/paglia",
        ".starts-with-dot",
        "name\n",
        "na\rme",
        "\nname",
        "1abc",
        "_a",
        "a b",
        "a:b",
        "a@b",
        "é",
    ] {
        expect_invalid(
            put(json!({"name": bad})),
            NAME_RULE,
            &format!("name {bad:?}"),
        );
    }
    // Name length: 64 is fine, 65 is not.
    expect_invalid(
        put(json!({"name": "n".repeat(65)})),
        "invalid name length",
        "name of 65 chars",
    );

    // Value length: 64 is fine, 65 is not (characters, not bytes).
    expect_invalid(
        put(json!({"name": "n", "value": "v".repeat(65)})),
        "invalid value length",
        "value of 65 chars",
    );
    expect_invalid(
        put(json!({"name": "n", "value": "é".repeat(65)})),
        "invalid value length",
        "value of 65 é",
    );
    // Value: space, tab, CR and LF are all refused.
    for bad in [
        "x y",
        " ",
        "x\ty",
        "x\ny",
        "x\ry",
        "x\r\ny",
        "trailing ",
        "\n",
    ] {
        expect_invalid(
            put(json!({"name": "n", "value": bad})),
            NO_WHITESPACE,
            &format!("value {bad:?}"),
        );
    }

    // Several violations: every message, joined by ",".
    expect_invalid_all(
        put(json!({"prefix": "aword", "name": "-x", "value": "a b"})),
        &[PREFIX_RULE, NAME_RULE, NO_WHITESPACE],
        "three violations",
    );
    expect_invalid_all(
        put(json!({"prefix": "example.org", "value": "v".repeat(65)})),
        &["name is required", "invalid value length"],
        "no name, long value",
    );
    expect_invalid_all(
        put(json!({"name": format!("1{}", "a".repeat(64)), "value": "x y"})),
        &[NAME_RULE, "invalid name length", NO_WHITESPACE],
        "bad long name, bad value",
    );

    // Nothing invalid was stored.
    assert_eq!(c.list(&id), json!([]));

    // The limits themselves are accepted.
    let prefix_256 = format!("{}abcdef", "a.".repeat(125));
    let prefix_257 = format!("ab.{}abcdef", "a.".repeat(124));
    assert_eq!(prefix_257.len(), 257);
    expect_invalid(
        put(json!({"prefix": prefix_257, "name": "n"})),
        "invalid prefix length",
        "prefix of 257 chars",
    );
    assert_eq!(prefix_256.len(), 256);
    let label_63 = format!("{}.org", "a".repeat(63));
    c.set_ok(
        &id,
        json!({"prefix": prefix_256, "name": "n".repeat(64), "value": "v".repeat(64)}),
    );
    c.set_ok(
        &id,
        json!({"prefix": label_63, "name": "u", "value": "é".repeat(64)}),
    );
    c.set_ok(
        &id,
        json!({"prefix": "x-y.Example.MUSEUM", "name": "Z9-_.", "value": "a=b,c;d"}),
    );
    assert_eq!(
        c.list(&id),
        json!([
            {"prefix": prefix_256, "name": "n".repeat(64), "value": "v".repeat(64)},
            {"prefix": label_63, "name": "u", "value": "é".repeat(64)},
            {"prefix": "x-y.Example.MUSEUM", "name": "Z9-_.", "value": "a=b,c;d"},
        ])
    );
}

#[test]
fn put_needs_a_json_content_type_and_a_readable_body() {
    setup().check_put_reads_json(&[
        r#"{"name":{"x":1}}"#,
        r#"{"name":"a","value":["b"]}"#,
        r#"{"prefix":{},"name":"a"}"#,
    ]);
}

#[test]
fn unknown_or_deleted_accounts_are_404_after_validation() {
    let c = setup();
    for id in [UNKNOWN_ID, "not-a-uuid"] {
        let msg = format!("Account not found for id '{id}'");
        let label = json!({"prefix": "example.org", "name": "a", "value": "b"});
        c.expect_not_found(id, &label, &[("name", "a")], &msg);
        // Validation comes first.
        expect_invalid(
            c.put(id, Some(&c.admin), &json!({"value": "v"})),
            "name is required",
            "PUT no name on unknown",
        );
        expect_invalid(
            c.put(id, Some(&c.admin), &json!({"prefix": "aword", "name": "a"})),
            PREFIX_RULE,
            "PUT bad prefix on unknown",
        );
        expect_invalid(
            c.delete(id, Some(&c.admin), &[]),
            "name is required",
            "DELETE no name on unknown",
        );
        expect_invalid(
            c.delete(id, Some(&c.admin), &[("name", "a"), ("value", "x y")]),
            NO_WHITESPACE,
            "DELETE bad value on unknown",
        );
        // Framework errors come before everything.
        expect_plain_error(
            c.put_raw(id, Some(&c.admin), Some("application/json"), "{"),
            StatusCode::BAD_REQUEST,
            "malformed on unknown",
        );
        expect_plain_error(
            c.put_raw(id, Some(&c.admin), Some("text/plain"), r#"{"name":"a"}"#),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "text/plain on unknown",
        );
    }

    c.set_ok(&c.bob, json!({"name": "a", "value": "1"}));
    c.delete_user(&c.bob);
    let msg = format!("Account not found for id '{}'", c.bob);
    c.expect_not_found(&c.bob, &json!({"name": "a"}), &[("name", "a")], &msg);
    // A new account with the same username starts empty.
    let again = c.server.create_user(&c.admin, "bob");
    assert_eq!(c.list(&again), json!([]));
}

// ---------------------------------------------------------------------------------------------
// DELETE
// ---------------------------------------------------------------------------------------------

#[test]
fn delete_removes_by_prefix_and_name_ignoring_the_value() {
    let c = setup();
    let id = c.alice.clone();
    c.set_ok(&id, json!({"name": "l", "value": "1"}));
    c.set_ok(
        &id,
        json!({"prefix": "example.org", "name": "l", "value": "2"}),
    );
    c.set_ok(&id, json!({"prefix": "other.org", "name": "l"}));
    c.set_ok(&id, json!({"name": "m"}));

    // Without a prefix: the unprefixed label only.
    c.delete_ok(&id, &[("name", "l")]);
    assert_eq!(
        c.list(&id),
        json!([
            {"name": "m"},
            {"prefix": "example.org", "name": "l", "value": "2"},
            {"prefix": "other.org", "name": "l"},
        ])
    );
    // Again, and a name that never existed: still 204.
    c.delete_ok(&id, &[("name", "l")]);
    c.delete_ok(&id, &[("name", "never")]);
    // A prefix that holds no such label: 204, nothing removed.
    c.delete_ok(&id, &[("prefix", "nowhere.org"), ("name", "l")]);
    c.delete_ok(&id, &[("prefix", "example.org"), ("name", "m")]);
    assert_eq!(c.list(&id).as_array().unwrap().len(), 3);

    // With a prefix, whatever the value says.
    c.delete_ok(
        &id,
        &[("prefix", "example.org"), ("name", "l"), ("value", "other")],
    );
    assert_eq!(
        c.list(&id),
        json!([{"name": "m"}, {"prefix": "other.org", "name": "l"}])
    );
    // Through a form body too.
    let text = expect(
        c.delete_form(
            &id,
            Some(&c.admin),
            &[("prefix", "other.org"), ("name", "l"), ("value", "")],
        ),
        StatusCode::NO_CONTENT,
        "DELETE form",
    );
    assert!(text.is_empty());
    c.delete_ok(&id, &[("name", "m"), ("value", "ignored")]);
    assert_eq!(c.list(&id), json!([]));

    // Another account's label of the same (prefix, name) is untouched.
    c.set_ok(
        &c.bob,
        json!({"prefix": "example.org", "name": "l", "value": "bob"}),
    );
    c.set_ok(
        &id,
        json!({"prefix": "example.org", "name": "l", "value": "alice"}),
    );
    c.delete_ok(&id, &[("prefix", "example.org"), ("name", "l")]);
    assert_eq!(
        c.list(&c.bob),
        json!([{"prefix": "example.org", "name": "l", "value": "bob"}])
    );
    assert_eq!(c.list(&id), json!([]));
}

#[test]
fn delete_validates_its_parameters() {
    let c = setup();
    let id = c.alice.clone();
    c.set_ok(
        &id,
        json!({"prefix": "example.org", "name": "a", "value": "1"}),
    );

    for params in [
        vec![],
        vec![("value", "1")],
        vec![("prefix", "example.org")],
    ] {
        expect_invalid(
            c.delete(&id, Some(&c.admin), &params),
            "name is required",
            &format!("DELETE {params:?}"),
        );
    }
    expect_invalid(
        c.delete_form(&id, Some(&c.admin), &[("prefix", "example.org")]),
        "name is required",
        "DELETE form without name",
    );
    let v = expect_json(
        c.delete(&id, Some(&c.admin), &[("name", "")]),
        StatusCode::BAD_REQUEST,
        "empty name",
    );
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.starts_with(INVALID) && msg.contains("name is required"),
        "{msg:?}"
    );
    for bad in ["-pippo", "/ciccio/paglia", ".starts-with-dot", "a\nb"] {
        expect_invalid(
            c.delete(&id, Some(&c.admin), &[("name", bad)]),
            NAME_RULE,
            &format!("DELETE name {bad:?}"),
        );
    }
    expect_invalid(
        c.delete(&id, Some(&c.admin), &[("name", "n".repeat(65).as_str())]),
        "invalid name length",
        "DELETE long name",
    );
    for bad in ["aword", "contains_underscore.org", "example.org\n"] {
        expect_invalid(
            c.delete(&id, Some(&c.admin), &[("prefix", bad), ("name", "a")]),
            PREFIX_RULE,
            &format!("DELETE prefix {bad:?}"),
        );
    }
    for bad in ["x y", "x\ny", "x\ty", "x\ry"] {
        expect_invalid(
            c.delete(&id, Some(&c.admin), &[("name", "a"), ("value", bad)]),
            NO_WHITESPACE,
            &format!("DELETE value {bad:?}"),
        );
    }
    expect_invalid(
        c.delete(
            &id,
            Some(&c.admin),
            &[("name", "a"), ("value", "v".repeat(65).as_str())],
        ),
        "invalid value length",
        "DELETE long value",
    );
    // Nothing was removed by the refused requests.
    assert_eq!(
        c.list(&id),
        json!([{"prefix": "example.org", "name": "a", "value": "1"}])
    );
}

// ---------------------------------------------------------------------------------------------
// meta.lastModified
// ---------------------------------------------------------------------------------------------

#[test]
fn only_real_changes_bump_last_modified() {
    let c = setup();
    let id = c.alice.clone();
    let t0 = c.last_modified(&id);

    // A new label bumps.
    tick();
    c.set_ok(&id, json!({"name": "l", "value": "1"}));
    let t1 = c.last_modified(&id);
    assert!(t1 > t0, "new label: {t0} → {t1}");

    // The very same label again does not.
    tick();
    c.set_ok(&id, json!({"name": "l", "value": "1"}));
    c.set_ok(
        &id,
        json!({"prefix": null, "name": "l", "value": "1", "x": 2}),
    );
    assert_eq!(c.last_modified(&id), t1, "identical PUT");

    // Another value does.
    tick();
    c.set_ok(&id, json!({"name": "l", "value": "2"}));
    let t2 = c.last_modified(&id);
    assert!(t2 > t1, "new value: {t1} → {t2}");

    // Dropping the value does; repeating the valueless label does not.
    tick();
    c.set_ok(&id, json!({"name": "l"}));
    let t3 = c.last_modified(&id);
    assert!(t3 > t2, "value dropped: {t2} → {t3}");
    tick();
    c.set_ok(&id, json!({"name": "l"}));
    c.set_ok(&id, json!({"name": "l", "value": null}));
    assert_eq!(c.last_modified(&id), t3, "identical valueless PUT");

    // The same name under a prefix is another label: it bumps, and so does its twin's value.
    tick();
    c.set_ok(&id, json!({"prefix": "example.org", "name": "l"}));
    let t4 = c.last_modified(&id);
    assert!(t4 > t3, "prefixed twin: {t3} → {t4}");
    tick();
    c.set_ok(&id, json!({"prefix": "example.org", "name": "l"}));
    assert_eq!(c.last_modified(&id), t4, "identical prefixed PUT");

    // Refused requests do not bump.
    tick();
    expect(
        c.put(&id, Some(&c.admin), &json!({"name": "-l", "value": "9"})),
        StatusCode::BAD_REQUEST,
        "invalid PUT",
    );
    expect(
        c.put(&id, Some(&c.bob_token), &json!({"name": "l", "value": "9"})),
        StatusCode::FORBIDDEN,
        "denied PUT",
    );
    expect(
        c.put(
            &id,
            Some(&c.alice_token),
            &json!({"name": "l", "value": "9"}),
        ),
        StatusCode::FORBIDDEN,
        "self PUT",
    );
    expect(
        c.delete(&id, Some(&c.bob_token), &[("name", "l")]),
        StatusCode::FORBIDDEN,
        "denied DELETE",
    );
    assert_eq!(c.last_modified(&id), t4, "refused requests");

    // Removing an absent label does not bump, whatever the mismatch.
    tick();
    c.delete_ok(&id, &[("name", "absent")]);
    c.delete_ok(&id, &[("prefix", "other.org"), ("name", "l")]);
    assert_eq!(c.last_modified(&id), t4, "DELETE of absent labels");

    // A real removal bumps; removing it again does not.
    tick();
    c.delete_ok(&id, &[("prefix", "example.org"), ("name", "l")]);
    let t5 = c.last_modified(&id);
    assert!(t5 > t4, "removal: {t4} → {t5}");
    tick();
    c.delete_ok(&id, &[("prefix", "example.org"), ("name", "l")]);
    assert_eq!(c.last_modified(&id), t5, "second removal");
    tick();
    c.delete_ok(&id, &[("name", "l"), ("value", "whatever")]);
    let t6 = c.last_modified(&id);
    assert!(t6 > t5, "unprefixed removal: {t5} → {t6}");
    assert_eq!(c.list(&id), json!([]));

    // Bob's account was never touched by any of this.
    let bob = c.last_modified(&c.bob);
    assert!(bob < t1, "bob {bob} vs {t1}");
}

// ---------------------------------------------------------------------------------------------
// Authorization
// ---------------------------------------------------------------------------------------------

/// Who may read and write is the matrix of authorization_matrix.rs; what each caller it
/// refuses gets, and in which order, is checked here.
fn refusals_come_first(policy: &str) {
    let c = setup_with(&["--policy", policy]);
    c.set_ok(
        &c.alice,
        json!({"prefix": "example.org", "name": "base", "value": "1"}),
    );
    c.check_refusals(
        policy,
        &Writes {
            put: json!({"name": "w", "value": "x"}),
            delete: &[("name", "w")],
            invalid_puts: vec![
                json!({}),
                json!({"value": "x y"}),
                json!({"prefix": "aword", "name": "-x", "value": "a b"}),
            ],
            invalid_deletes: &[&[], &[("name", "-x"), ("value", "a b")]],
        },
    );
}

#[test]
fn refusals_come_first_under_both_policies() {
    for policy in ["roles", "strict"] {
        refusals_come_first(policy);
    }
}

#[test]
fn self_reads_only_its_own_labels_under_both_policies() {
    for args in [&[][..], &["--policy", "strict"][..]] {
        let c = setup_with(args);
        c.set_ok(&c.alice, json!({"name": "a"}));
        c.set_ok(&c.bob, json!({"name": "b"}));
        assert_eq!(
            expect_json(
                c.get(&c.alice, Some(&c.alice_token)),
                StatusCode::OK,
                "alice"
            ),
            json!([{"name": "a"}])
        );
        assert_eq!(
            expect_json(c.get(&c.bob, Some(&c.bob_token)), StatusCode::OK, "bob"),
            json!([{"name": "b"}])
        );
        expect_denied(c.get(&c.bob, Some(&c.alice_token)), "alice on bob");
        expect_denied(c.get(&c.alice, Some(&c.bob_token)), "bob on alice");
        // The admin reads its own labels with any token under both policies.
        let admin_id = c.server.user_id(&c.admin, "admin");
        let openid = c.server.token_with("admin", Some("openid"));
        assert_eq!(
            expect_json(
                c.get(&admin_id, Some(&openid)),
                StatusCode::OK,
                "admin self"
            ),
            json!([])
        );
    }
}

#[test]
fn labels_survive_a_restart() {
    let mut c = setup();
    c.set_ok(
        &c.alice,
        json!({"prefix": "example.org", "name": "l", "value": "v"}),
    );
    c.set_ok(&c.alice, json!({"name": "l"}));
    let before = c.last_modified(&c.alice);
    c.server.restart();
    let expected = json!([{"name": "l"}, {"prefix": "example.org", "name": "l", "value": "v"}]);
    assert_eq!(c.list(&c.alice), expected);
    assert_eq!(c.last_modified(&c.alice), before);
    assert_eq!(
        expect_json(
            c.get(&c.alice, Some(&c.alice_token)),
            StatusCode::OK,
            "self"
        ),
        expected
    );
}
