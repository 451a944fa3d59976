//! `GET|PUT|DELETE /iam/account/{id}/attributes` (docs/api.md §5.1, §4.6; the
//! policies of docs/api.md §2), tested black-box against the real server.

use iam_tests::*;
use serde_json::{Value, json};

const NAME_RULE: &str = "invalid name (does not match with regexp: '^[a-zA-Z][a-zA-Z0-9\\-_.]*$')";
const NO_WHITESPACE: &str = "The string must not contain any new line or carriage return";

fn setup_with(args: &[&str]) -> Ctx {
    Ctx::start(args, attributes_path)
}

fn setup() -> Ctx {
    setup_with(&[])
}

#[test]
fn a_fresh_account_has_no_attributes() {
    let c = setup();
    let r = c.get(&c.alice, Some(&c.admin));
    let ct = r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    assert_eq!(expect_json(r, StatusCode::OK, "GET"), json!([]));
}

#[test]
fn put_then_get_lists_attributes_ordered_by_name_with_null_values_written() {
    let c = setup();
    c.set_ok(&c.alice, json!({"name": "zeta", "value": "last"}));
    c.set_ok(
        &c.alice,
        json!({"name": "affiliation", "value": "INFN-CNAF"}),
    );
    c.set_ok(&c.alice, json!({"name": "middle"}));
    c.set_ok(&c.alice, json!({"name": "nulled", "value": null}));
    c.set_ok(&c.alice, json!({"name": "empty", "value": ""}));
    c.set_ok(&c.alice, json!({"name": "a1-b_c.D", "value": "x"}));

    let got = c.list(&c.alice);
    assert_eq!(
        got,
        json!([
            {"name": "a1-b_c.D", "value": "x"},
            {"name": "affiliation", "value": "INFN-CNAF"},
            {"name": "empty", "value": ""},
            {"name": "middle", "value": null},
            {"name": "nulled", "value": null},
            {"name": "zeta", "value": "last"},
        ])
    );
    // `value: null` is written, not omitted.
    for item in got.as_array().unwrap() {
        let obj = item.as_object().unwrap();
        assert!(obj.contains_key("value"), "{item}");
        assert_eq!(obj.len(), 2, "only name and value: {item}");
    }

    // Attributes belong to one account only.
    assert_eq!(c.list(&c.bob), json!([]));
}

#[test]
fn put_replaces_by_name_including_setting_the_value_to_null() {
    let c = setup();
    c.set_ok(&c.alice, json!({"name": "a", "value": "1"}));
    c.set_ok(&c.alice, json!({"name": "a", "value": "2"}));
    assert_eq!(c.list(&c.alice), json!([{"name": "a", "value": "2"}]));
    c.set_ok(&c.alice, json!({"name": "a", "value": null}));
    assert_eq!(c.list(&c.alice), json!([{"name": "a", "value": null}]));
    c.set_ok(&c.alice, json!({"name": "a", "value": "3"}));
    assert_eq!(c.list(&c.alice), json!([{"name": "a", "value": "3"}]));
    // Names are case-sensitive keys.
    c.set_ok(&c.alice, json!({"name": "A", "value": "upper"}));
    assert_eq!(c.list(&c.alice).as_array().unwrap().len(), 2);
}

#[test]
fn put_ignores_unknown_properties() {
    let c = setup();
    c.set_ok(
        &c.alice,
        json!({"name": "a", "value": "b", "prefix": "ignored", "extra": {"x": 1}}),
    );
    assert_eq!(c.list(&c.alice), json!([{"name": "a", "value": "b"}]));
}

#[test]
fn unknown_account_is_404_on_every_operation() {
    let c = setup();
    for id in [UNKNOWN_ID, "not-a-uuid"] {
        let msg = format!("Account not found for id '{id}'");
        c.expect_not_found(
            id,
            &json!({"name": "a", "value": "b"}),
            &[("name", "a")],
            &msg,
        );
    }
}

#[test]
fn put_validation_messages() {
    let c = setup();
    let id = c.alice.clone();
    let prefix = "Invalid attribute: ";
    let exact = |body: Value, detail: &str| {
        expect_error(
            c.put(&id, Some(&c.admin), &body),
            StatusCode::BAD_REQUEST,
            &format!("{prefix}{detail}"),
            &format!("PUT {body}"),
        );
    };
    let contains = |body: Value, parts: &[&str]| {
        let msg = expect_plain_error(
            c.put(&id, Some(&c.admin), &body),
            StatusCode::BAD_REQUEST,
            &format!("PUT {body}"),
        );
        assert!(msg.starts_with(prefix), "{body}: {msg}");
        for p in parts {
            assert!(msg.contains(p), "{body}: {msg:?} lacks {p:?}");
        }
    };

    // Name required (a missing or null name: see `put_without_a_name_reports_only_blank`).
    contains(json!({}), &["must not be blank"]);
    contains(json!({"name": ""}), &["must not be blank"]);
    contains(json!({"name": "   "}), &["must not be blank"]);

    // Name pattern.
    for bad in [
        "1abc", "-a", ".a", "_a", "a b", "a/b", "a\nb", "a:b", "é", "a@b",
    ] {
        exact(json!({"name": bad, "value": "v"}), NAME_RULE);
    }

    // Name length: 64 is fine, 65 is not.
    exact(
        json!({"name": "a".repeat(65)}),
        "name cannot be longer than 64 chars",
    );

    // Value length: 256 is fine, 257 is not (characters, not bytes).
    exact(
        json!({"name": "a", "value": "v".repeat(257)}),
        "value cannot be longer than 256 chars",
    );
    exact(
        json!({"name": "a", "value": "é".repeat(257)}),
        "value cannot be longer than 256 chars",
    );

    // "No whitespace" rule: space, tab, CR and LF are all refused.
    for bad in ["x y", " ", "x\ty", "x\ny", "x\ry", "x\r\ny", "trailing "] {
        exact(json!({"name": "a", "value": bad}), NO_WHITESPACE);
    }

    // Several violations: every message, joined by ",".
    let msg = expect_plain_error(
        c.put(&id, Some(&c.admin), &json!({"name": "-a", "value": "x y"})),
        StatusCode::BAD_REQUEST,
        "two violations",
    );
    let a = format!("{prefix}{NAME_RULE},{NO_WHITESPACE}");
    let b = format!("{prefix}{NO_WHITESPACE},{NAME_RULE}");
    assert!(msg == a || msg == b, "{msg:?}");
    contains(
        json!({"name": format!("1{}", "a".repeat(70)), "value": "v".repeat(300)}),
        &[
            NAME_RULE,
            "name cannot be longer than 64 chars",
            "value cannot be longer than 256 chars",
        ],
    );

    // Nothing invalid was stored.
    assert_eq!(c.list(&id), json!([]));

    // The limits themselves are accepted.
    c.set_ok(
        &id,
        json!({"name": "n".repeat(64), "value": "v".repeat(256)}),
    );
    c.set_ok(&id, json!({"name": "u", "value": "é".repeat(256)}));
    let got = c.list(&id);
    assert_eq!(
        got,
        json!([
            {"name": "n".repeat(64), "value": "v".repeat(256)},
            {"name": "u", "value": "é".repeat(256)},
        ])
    );
}

/// A null name breaks only `@NotBlank` (null passes `@Pattern` and `@Size` in Bean
/// Validation), so the message is exactly "must not be blank" (docs/api.md §5.1), as it is for
/// DELETE without `name`.
#[test]
fn put_without_a_name_reports_only_blank() {
    let c = setup();
    for (id, body) in [
        (c.alice.as_str(), json!({})),
        (c.alice.as_str(), json!({"value": "v"})),
        (c.alice.as_str(), json!({"name": null, "value": "v"})),
        (UNKNOWN_ID, json!({"value": "v"})),
    ] {
        expect_error(
            c.put(id, Some(&c.admin), &body),
            StatusCode::BAD_REQUEST,
            "Invalid attribute: must not be blank",
            &format!("PUT {body} on {id}"),
        );
    }
}

#[test]
fn validation_comes_before_the_account_lookup() {
    let c = setup();
    expect_error(
        c.put(UNKNOWN_ID, Some(&c.admin), &json!({"name": "1bad"})),
        StatusCode::BAD_REQUEST,
        &format!("Invalid attribute: {NAME_RULE}"),
        "PUT invalid on unknown account",
    );
    let msg = expect_plain_error(
        c.put(UNKNOWN_ID, Some(&c.admin), &json!({"value": "x"})),
        StatusCode::BAD_REQUEST,
        "PUT blank name on unknown account",
    );
    assert!(
        msg.starts_with("Invalid attribute: must not be blank"),
        "{msg}"
    );
    expect_error(
        c.delete(UNKNOWN_ID, Some(&c.admin), &[]),
        StatusCode::BAD_REQUEST,
        "Invalid attribute: must not be blank",
        "DELETE without name on unknown account",
    );
    expect_error(
        c.delete(
            UNKNOWN_ID,
            Some(&c.admin),
            &[("name", "a"), ("value", "x y")],
        ),
        StatusCode::BAD_REQUEST,
        &format!("Invalid attribute: {NO_WHITESPACE}"),
        "DELETE invalid value on unknown account",
    );
}

#[test]
fn put_needs_a_json_content_type_and_a_readable_body() {
    // A value that cannot be read as a string is unreadable JSON too.
    setup().check_put_reads_json(&[
        r#"{"name":"a","value":{"x":1}}"#,
        r#"{"name":["a"],"value":"b"}"#,
    ]);
}

#[test]
fn delete_removes_by_name_and_is_idempotent() {
    let c = setup();
    let id = c.alice.clone();
    c.set_ok(&id, json!({"name": "a", "value": "1"}));
    c.set_ok(&id, json!({"name": "b", "value": "2"}));
    c.set_ok(&id, json!({"name": "c"}));

    let text = expect(
        c.delete(&id, Some(&c.admin), &[("name", "a")]),
        StatusCode::NO_CONTENT,
        "DELETE a",
    );
    assert!(text.is_empty());
    assert_eq!(
        c.list(&id),
        json!([{"name": "b", "value": "2"}, {"name": "c", "value": null}])
    );

    // Again: still 204.
    expect(
        c.delete(&id, Some(&c.admin), &[("name", "a")]),
        StatusCode::NO_CONTENT,
        "DELETE a again",
    );
    // Never set: 204.
    expect(
        c.delete(&id, Some(&c.admin), &[("name", "never")]),
        StatusCode::NO_CONTENT,
        "DELETE never",
    );

    // The value is ignored: a different value still removes the attribute.
    expect(
        c.delete(&id, Some(&c.admin), &[("name", "b"), ("value", "other")]),
        StatusCode::NO_CONTENT,
        "DELETE b with another value",
    );
    expect(
        c.delete(&id, Some(&c.admin), &[("name", "c"), ("value", "")]),
        StatusCode::NO_CONTENT,
        "DELETE c with empty value",
    );
    assert_eq!(c.list(&id), json!([]));

    // Another account's attribute of the same name is untouched.
    c.set_ok(&c.bob, json!({"name": "a", "value": "bob"}));
    c.set_ok(&id, json!({"name": "a", "value": "alice"}));
    expect(
        c.delete(&id, Some(&c.admin), &[("name", "a")]),
        StatusCode::NO_CONTENT,
        "DELETE alice a",
    );
    assert_eq!(c.list(&c.bob), json!([{"name": "a", "value": "bob"}]));
}

#[test]
fn delete_validates_its_parameters() {
    let c = setup();
    let id = c.alice.clone();
    c.set_ok(&id, json!({"name": "a", "value": "1"}));

    expect_error(
        c.delete(&id, Some(&c.admin), &[]),
        StatusCode::BAD_REQUEST,
        "Invalid attribute: must not be blank",
        "DELETE without name",
    );
    expect_error(
        c.delete(&id, Some(&c.admin), &[("value", "1")]),
        StatusCode::BAD_REQUEST,
        "Invalid attribute: must not be blank",
        "DELETE with value only",
    );
    let msg = expect_plain_error(
        c.delete(&id, Some(&c.admin), &[("name", "")]),
        StatusCode::BAD_REQUEST,
        "empty name",
    );
    assert!(
        msg.starts_with("Invalid attribute: ") && msg.contains("must not be blank"),
        "{msg}"
    );
    expect_error(
        c.delete(&id, Some(&c.admin), &[("name", "1a")]),
        StatusCode::BAD_REQUEST,
        &format!("Invalid attribute: {NAME_RULE}"),
        "DELETE bad name",
    );
    expect_error(
        c.delete(&id, Some(&c.admin), &[("name", "a".repeat(65).as_str())]),
        StatusCode::BAD_REQUEST,
        "Invalid attribute: name cannot be longer than 64 chars",
        "DELETE long name",
    );
    for bad in ["x y", "x\ny", "x\ty", "x\ry"] {
        expect_error(
            c.delete(&id, Some(&c.admin), &[("name", "a"), ("value", bad)]),
            StatusCode::BAD_REQUEST,
            &format!("Invalid attribute: {NO_WHITESPACE}"),
            &format!("DELETE value {bad:?}"),
        );
    }
    // Nothing was removed by the refused requests.
    assert_eq!(c.list(&id), json!([{"name": "a", "value": "1"}]));
}

#[test]
fn put_always_bumps_last_modified_and_delete_only_on_removal() {
    let c = setup();
    let id = c.alice.clone();
    let t0 = c.last_modified(&id);

    tick();
    c.set_ok(&id, json!({"name": "a", "value": "1"}));
    let t1 = c.last_modified(&id);
    assert!(t1 > t0, "PUT bumps: {t0} → {t1}");

    // The very same attribute again still bumps.
    tick();
    c.set_ok(&id, json!({"name": "a", "value": "1"}));
    let t2 = c.last_modified(&id);
    assert!(t2 > t1, "identical PUT bumps: {t1} → {t2}");

    // Refused requests do not.
    tick();
    expect(
        c.put(&id, Some(&c.admin), &json!({"name": "1a"})),
        StatusCode::BAD_REQUEST,
        "bad PUT",
    );
    expect(
        c.put(&id, Some(&c.bob_token), &json!({"name": "a"})),
        StatusCode::FORBIDDEN,
        "denied PUT",
    );
    assert_eq!(c.last_modified(&id), t2, "refused PUTs do not bump");

    // Removing an absent attribute does not bump.
    tick();
    expect(
        c.delete(&id, Some(&c.admin), &[("name", "absent")]),
        StatusCode::NO_CONTENT,
        "DELETE absent",
    );
    assert_eq!(
        c.last_modified(&id),
        t2,
        "DELETE of an absent attribute does not bump"
    );

    // A real removal does.
    tick();
    expect(
        c.delete(&id, Some(&c.admin), &[("name", "a")]),
        StatusCode::NO_CONTENT,
        "DELETE a",
    );
    let t3 = c.last_modified(&id);
    assert!(t3 > t2, "DELETE bumps: {t2} → {t3}");

    // Bob's account was never touched by any of this.
    let bob_user: Value = body(
        c.server
            .get(&format!("/scim/Users/{}", c.bob), Some(&c.admin)),
    );
    assert!(bob_user["meta"]["lastModified"].as_str().unwrap() < t1.as_str());
}

/// Who may read and write is the matrix of authorization_matrix.rs; what each caller it
/// refuses gets, and in which order, is checked here.
fn refusals_come_first(policy: &str) {
    let c = setup_with(&["--policy", policy]);
    c.set_ok(&c.alice, json!({"name": "base", "value": "1"}));
    c.check_refusals(
        policy,
        &Writes {
            put: json!({"name": "w", "value": "x"}),
            delete: &[("name", "w")],
            invalid_puts: vec![
                json!({}),
                json!({"value": "x"}),
                json!({"name": "1bad"}),
                json!({"name": "1bad", "value": "x y"}),
            ],
            invalid_deletes: &[&[], &[("name", "a"), ("value", "x y")]],
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
fn attributes_of_a_deleted_account_are_gone() {
    let c = setup();
    c.set_ok(&c.bob, json!({"name": "a", "value": "1"}));
    c.delete_user(&c.bob);
    let msg = format!("Account not found for id '{}'", c.bob);
    c.expect_not_found(&c.bob, &json!({"name": "a"}), &[("name", "a")], &msg);

    // A new account with the same username starts empty.
    let again = c.server.create_user(&c.admin, "bob");
    assert_ne!(again, c.bob);
    assert_eq!(c.list(&again), json!([]));
}

#[test]
fn attributes_survive_a_restart() {
    let mut c = setup();
    c.set_ok(
        &c.alice,
        json!({"name": "affiliation", "value": "INFN-CNAF"}),
    );
    c.set_ok(&c.alice, json!({"name": "nothing"}));
    let before = c.last_modified(&c.alice);

    c.server.restart();
    let expected =
        json!([{"name": "affiliation", "value": "INFN-CNAF"}, {"name": "nothing", "value": null}]);
    assert_eq!(c.list(&c.alice), expected);
    assert_eq!(c.last_modified(&c.alice), before);
    // Tokens minted before the restart still work.
    assert_eq!(
        expect_json(
            c.get(&c.alice, Some(&c.alice_token)),
            StatusCode::OK,
            "self after restart"
        ),
        expected
    );

    // And writes after the restart are kept too.
    expect(
        c.delete(&c.alice, Some(&c.admin), &[("name", "nothing")]),
        StatusCode::NO_CONTENT,
        "DELETE",
    );
    c.server.restart();
    assert_eq!(
        c.list(&c.alice),
        json!([{"name": "affiliation", "value": "INFN-CNAF"}])
    );
}
