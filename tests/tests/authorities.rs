//! `GET|POST|DELETE /iam/account/{id}/authorities` and `GET /iam/me/authorities`
//! (docs/api.md §5.2, §6.3, §1, §2 and §3.5), tested black-box
//! against the real server under both built-in policies.

use iam_tests::*;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const ME: &str = "/iam/me/authorities";

fn gm(group: &str) -> String {
    format!("ROLE_GM:{group}")
}

/// How the `authority` parameter travels.
#[derive(Clone, Copy)]
enum Param<'a> {
    /// No parameter at all.
    Missing,
    /// `?authority=<a>`.
    Query(&'a str),
    /// `authority=<a>` in an `application/x-www-form-urlencoded` body.
    Form(&'a str),
}

fn setup_with(args: &[&str]) -> Ctx {
    Ctx::start(args, authorities_path)
}

fn setup() -> Ctx {
    setup_with(&[])
}

/// The authorities endpoints, on top of the shared context (whose `get` reads an account's).
trait Authorities {
    /// `GET /iam/me/authorities`.
    fn me(&self, token: Option<&str>) -> Response;
    fn send(&self, method: Method, id: &str, token: Option<&str>, p: Param) -> Response;
    /// POST `?authority=`.
    fn post_authority(&self, id: &str, token: Option<&str>, authority: &str) -> Response;
    /// DELETE `?authority=`.
    fn delete_authority(&self, id: &str, token: Option<&str>, authority: &str) -> Response;
    /// The authorities of `id` as the admin sees them.
    fn authorities(&self, id: &str) -> Value;
    fn delete_group(&self, group: &str);
}

impl Authorities for Ctx {
    fn me(&self, token: Option<&str>) -> Response {
        self.server.get(ME, token)
    }

    fn send(&self, method: Method, id: &str, token: Option<&str>, p: Param) -> Response {
        let path = authorities_path(id);
        match p {
            Param::Missing => self.server.req(method, &path, token).send().unwrap(),
            Param::Query(a) => {
                let url = format!("{path}?authority={}", encode(a));
                self.server.req(method, &url, token).send().unwrap()
            }
            Param::Form(a) => self.server.send_raw(
                method,
                &path,
                token,
                Some("application/x-www-form-urlencoded"),
                &format!("authority={}", encode(a)),
            ),
        }
    }

    fn post_authority(&self, id: &str, token: Option<&str>, authority: &str) -> Response {
        self.send(Method::POST, id, token, Param::Query(authority))
    }

    fn delete_authority(&self, id: &str, token: Option<&str>, authority: &str) -> Response {
        self.send(Method::DELETE, id, token, Param::Query(authority))
    }

    fn authorities(&self, id: &str) -> Value {
        let v = self.list(id);
        assert_eq!(
            v.as_object().map(|o| o.len()),
            Some(1),
            "only `authorities` expected: {v}"
        );
        v["authorities"].clone()
    }

    fn delete_group(&self, group: &str) {
        expect(
            self.server
                .delete(&format!("/scim/Groups/{group}"), Some(&self.admin)),
            StatusCode::NO_CONTENT,
            "delete group",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Listing and the shape of the answers
// ---------------------------------------------------------------------------------------------

#[test]
fn a_new_account_holds_role_user_and_the_admin_also_role_admin() {
    let c = setup();
    let r = c.get(&c.alice, Some(&c.admin));
    let ct = content_type(&r);
    assert!(ct.starts_with("application/json"), "content type {ct:?}");
    assert_eq!(
        expect_json(r, StatusCode::OK, "GET alice"),
        json!({"authorities": ["ROLE_USER"]})
    );

    let admin_id = c.server.user_id(&c.admin, "admin");
    assert_eq!(c.authorities(&admin_id), json!(["ROLE_USER", "ROLE_ADMIN"]));

    // The caller's own list, ROLE_USER first (the Java test depends on that order).
    let r = c.me(Some(&c.admin));
    let ct = content_type(&r);
    assert!(ct.starts_with("application/json"), "content type {ct:?}");
    assert_eq!(
        expect_json(r, StatusCode::OK, "me admin"),
        json!({"authorities": ["ROLE_USER", "ROLE_ADMIN"]})
    );
    assert_eq!(
        expect_json(c.me(Some(&c.alice_token)), StatusCode::OK, "me alice"),
        json!({"authorities": ["ROLE_USER"]})
    );
}

#[test]
fn grant_and_revoke_through_query_and_form_parameters_with_role_user_first_then_sorted() {
    let c = setup();
    let group = c.server.create_group(&c.admin, "physics");
    let group_gm = gm(&group);

    // Query parameter.
    expect_empty_ok(
        c.send(
            Method::POST,
            &c.alice,
            Some(&c.admin),
            Param::Query("ROLE_READER"),
        ),
        "POST ?authority=ROLE_READER",
    );
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER", "ROLE_READER"]));

    // Form body.
    expect_empty_ok(
        c.send(
            Method::POST,
            &c.alice,
            Some(&c.admin),
            Param::Form("ROLE_ADMIN"),
        ),
        "POST form authority=ROLE_ADMIN",
    );
    expect_empty_ok(
        c.send(
            Method::POST,
            &c.alice,
            Some(&c.admin),
            Param::Form(&group_gm),
        ),
        "POST form ROLE_GM",
    );
    c.grant(&c.alice, "ROLE_PRE_AUTHENTICATED");
    assert_eq!(
        c.authorities(&c.alice),
        json!([
            "ROLE_USER",
            "ROLE_ADMIN",
            group_gm,
            "ROLE_PRE_AUTHENTICATED",
            "ROLE_READER"
        ])
    );
    // The caller's own view is the same list.
    assert_eq!(
        expect_json(c.me(Some(&c.alice_token)), StatusCode::OK, "me alice"),
        json!({"authorities": [
            "ROLE_USER",
            "ROLE_ADMIN",
            group_gm,
            "ROLE_PRE_AUTHENTICATED",
            "ROLE_READER"
        ]})
    );
    // Authorities belong to one account only.
    assert_eq!(c.authorities(&c.bob), json!(["ROLE_USER"]));

    // Revoking through the query string and through a form body.
    expect_empty_ok(
        c.send(
            Method::DELETE,
            &c.alice,
            Some(&c.admin),
            Param::Query("ROLE_ADMIN"),
        ),
        "DELETE ?authority=ROLE_ADMIN",
    );
    expect_empty_ok(
        c.send(
            Method::DELETE,
            &c.alice,
            Some(&c.admin),
            Param::Form(&group_gm),
        ),
        "DELETE form ROLE_GM",
    );
    assert_eq!(
        c.authorities(&c.alice),
        json!(["ROLE_USER", "ROLE_PRE_AUTHENTICATED", "ROLE_READER"])
    );

    // Revoking an authority the account does not hold: silent 200, nothing changes.
    expect_empty_ok(
        c.delete_authority(&c.alice, Some(&c.admin), "ROLE_ADMIN"),
        "DELETE not held",
    );
    expect_empty_ok(
        c.delete_authority(&c.alice, Some(&c.admin), &group_gm),
        "DELETE ROLE_GM not held",
    );
    assert_eq!(
        c.authorities(&c.alice),
        json!(["ROLE_USER", "ROLE_PRE_AUTHENTICATED", "ROLE_READER"])
    );

    // Even ROLE_USER can be revoked; the rest stays sorted.
    c.revoke(&c.alice, "ROLE_USER");
    assert_eq!(
        c.authorities(&c.alice),
        json!(["ROLE_PRE_AUTHENTICATED", "ROLE_READER"])
    );
    c.revoke(&c.alice, "ROLE_PRE_AUTHENTICATED");
    c.revoke(&c.alice, "ROLE_READER");
    assert_eq!(c.authorities(&c.alice), json!([]));
    // ...and granted back: it is first again.
    c.grant(&c.alice, "ROLE_READER");
    c.grant(&c.alice, "ROLE_USER");
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER", "ROLE_READER"]));
    assert_eq!(c.authorities(&c.bob), json!(["ROLE_USER"]));
}

// ---------------------------------------------------------------------------------------------
// Validation, lookups and their order
// ---------------------------------------------------------------------------------------------

#[test]
fn post_and_delete_validate_the_parameter_first_then_the_account_then_the_authority() {
    let c = setup();
    let group = c.server.create_group(&c.admin, "physics");
    let long = format!("ROLE_{}", "X".repeat(124)); // 129 characters
    let at_limit = format!("ROLE_{}", "X".repeat(123)); // 128 characters
    assert_eq!(long.chars().count(), 129);
    assert_eq!(at_limit.chars().count(), 128);

    for method in [Method::POST, Method::DELETE] {
        let m = method.as_str();
        // Missing or blank: first violation, whatever the account.
        for id in [c.alice.as_str(), UNKNOWN_ID] {
            for p in [
                Param::Missing,
                Param::Query(""),
                Param::Query("   "),
                Param::Query("\t"),
                Param::Form(""),
                Param::Form("  "),
            ] {
                expect_error(
                    c.send(method.clone(), id, Some(&c.admin), p),
                    StatusCode::BAD_REQUEST,
                    "Authority cannot be an empty string",
                    &format!("{m} blank on {id}"),
                );
            }
            // A form body of another content type is not read.
            let r = c
                .server
                .req(method.clone(), &authorities_path(id), Some(&c.admin))
                .header("content-type", "text/plain")
                .body("authority=ROLE_READER")
                .send()
                .unwrap();
            expect_error(
                r,
                StatusCode::BAD_REQUEST,
                "Authority cannot be an empty string",
                &format!("{m} text/plain body on {id}"),
            );
            for p in [Param::Query(&long), Param::Form(&long)] {
                expect_error(
                    c.send(method.clone(), id, Some(&c.admin), p),
                    StatusCode::BAD_REQUEST,
                    "Invalid authority size",
                    &format!("{m} 129 chars on {id}"),
                );
            }
        }

        // Then the account: 404, even for an authority that does not exist.
        for id in [UNKNOWN_ID, "not-a-uuid"] {
            let msg = format!("No account found for id '{id}'");
            for a in ["ROLE_READER", "ROLE_NOPE", at_limit.as_str()] {
                expect_error(
                    c.send(method.clone(), id, Some(&c.admin), Param::Query(a)),
                    StatusCode::NOT_FOUND,
                    &msg,
                    &format!("{m} {a} on {id}"),
                );
            }
        }

        // Then the authority itself: exact, case-sensitive.
        let gm_unknown = gm(UNKNOWN_ID);
        let gm_upper = gm(&group.to_uppercase());
        let gm_space = format!("ROLE_GM:{group} ");
        let gm_no_colon = format!("ROLE_GM{group}");
        for a in [
            "ROLE_NOPE",
            "role_admin",
            "Role_Reader",
            "ROLE_ADMIN ",
            " ROLE_ADMIN",
            "ADMIN",
            "READER",
            "ROLE_CLIENT",
            "ROLE_GM",
            "ROLE_GM:",
            gm_unknown.as_str(),
            gm_upper.as_str(),
            gm_space.as_str(),
            gm_no_colon.as_str(),
            at_limit.as_str(),
        ] {
            expect_error(
                c.send(method.clone(), &c.alice, Some(&c.admin), Param::Query(a)),
                StatusCode::BAD_REQUEST,
                &format!("Invalid authority: '{a}'"),
                &format!("{m} {a:?}"),
            );
            expect_error(
                c.send(method.clone(), &c.alice, Some(&c.admin), Param::Form(a)),
                StatusCode::BAD_REQUEST,
                &format!("Invalid authority: '{a}'"),
                &format!("{m} form {a:?}"),
            );
        }
    }

    // None of the refused requests changed anything.
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER"]));
}

#[test]
fn granting_an_authority_already_held_is_refused_with_the_username_and_uuid() {
    let c = setup();
    let group = c.server.create_group(&c.admin, "physics");
    expect_error(
        c.post_authority(&c.alice, Some(&c.admin), "ROLE_USER"),
        StatusCode::BAD_REQUEST,
        &format!(
            "Authority 'ROLE_USER' is already bound to user 'alice' ({})",
            c.alice
        ),
        "ROLE_USER twice",
    );
    c.grant(&c.alice, "ROLE_READER");
    expect_error(
        c.send(
            Method::POST,
            &c.alice,
            Some(&c.admin),
            Param::Form("ROLE_READER"),
        ),
        StatusCode::BAD_REQUEST,
        &format!(
            "Authority 'ROLE_READER' is already bound to user 'alice' ({})",
            c.alice
        ),
        "ROLE_READER twice",
    );
    c.grant(&c.bob, &gm(&group));
    expect_error(
        c.post_authority(&c.bob, Some(&c.admin), &gm(&group)),
        StatusCode::BAD_REQUEST,
        &format!(
            "Authority '{}' is already bound to user 'bob' ({})",
            gm(&group),
            c.bob
        ),
        "ROLE_GM twice",
    );
    let admin_id = c.server.user_id(&c.admin, "admin");
    expect_error(
        c.post_authority(&admin_id, Some(&c.admin), "ROLE_ADMIN"),
        StatusCode::BAD_REQUEST,
        &format!("Authority 'ROLE_ADMIN' is already bound to user 'admin' ({admin_id})"),
        "ROLE_ADMIN twice",
    );
    // The held authority of one account does not block another.
    c.grant(&c.bob, "ROLE_READER");
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER", "ROLE_READER"]));
    assert_eq!(
        c.authorities(&c.bob),
        json!(["ROLE_USER", gm(&group), "ROLE_READER"])
    );
}

#[test]
fn unknown_or_deleted_accounts_are_404_with_the_authority_wording() {
    let c = setup();
    for id in [UNKNOWN_ID, "not-a-uuid"] {
        let msg = format!("No account found for id '{id}'");
        expect_error(
            c.get(id, Some(&c.admin)),
            StatusCode::NOT_FOUND,
            &msg,
            "GET unknown",
        );
        expect_error(
            c.post_authority(id, Some(&c.admin), "ROLE_READER"),
            StatusCode::NOT_FOUND,
            &msg,
            "POST unknown",
        );
        expect_error(
            c.delete_authority(id, Some(&c.admin), "ROLE_USER"),
            StatusCode::NOT_FOUND,
            &msg,
            "DELETE unknown",
        );
    }

    c.grant(&c.bob, "ROLE_READER");
    c.delete_user(&c.bob);
    let msg = format!("No account found for id '{}'", c.bob);
    expect_error(
        c.get(&c.bob, Some(&c.admin)),
        StatusCode::NOT_FOUND,
        &msg,
        "GET deleted",
    );
    expect_error(
        c.post_authority(&c.bob, Some(&c.admin), "ROLE_READER"),
        StatusCode::NOT_FOUND,
        &msg,
        "POST deleted",
    );
    expect_error(
        c.delete_authority(&c.bob, Some(&c.admin), "ROLE_READER"),
        StatusCode::NOT_FOUND,
        &msg,
        "DELETE deleted",
    );
    // A new account with the same username starts with ROLE_USER only.
    let again = c.server.create_user(&c.admin, "bob");
    assert_eq!(c.authorities(&again), json!(["ROLE_USER"]));
}

#[test]
fn authority_changes_do_not_touch_last_modified() {
    let c = setup();
    let group = c.server.create_group(&c.admin, "physics");
    let t0 = c.last_modified(&c.alice);

    for a in ["ROLE_READER".to_string(), "ROLE_ADMIN".into(), gm(&group)] {
        let a = a.as_str();
        tick();
        c.grant(&c.alice, a);
        assert_eq!(c.last_modified(&c.alice), t0, "POST {a}");
    }
    tick();
    c.revoke(&c.alice, "ROLE_READER");
    assert_eq!(c.last_modified(&c.alice), t0, "DELETE held");
    tick();
    c.revoke(&c.alice, "ROLE_READER");
    assert_eq!(c.last_modified(&c.alice), t0, "DELETE not held");
    tick();
    expect(
        c.post_authority(&c.alice, Some(&c.admin), "ROLE_ADMIN"),
        StatusCode::BAD_REQUEST,
        "already held",
    );
    expect(
        c.post_authority(&c.alice, Some(&c.admin), "ROLE_NOPE"),
        StatusCode::BAD_REQUEST,
        "unknown authority",
    );
    assert_eq!(c.last_modified(&c.alice), t0, "refused POSTs");
    assert_eq!(
        c.authorities(&c.alice),
        json!(["ROLE_USER", "ROLE_ADMIN", gm(&group)])
    );
}

// ---------------------------------------------------------------------------------------------
// GET /iam/me/authorities
// ---------------------------------------------------------------------------------------------

fn me_authorities_needs_role_user(args: &[&str]) {
    let c = setup_with(args);
    expect_unauthorized(c.me(None), "anonymous");
    let group = c.server.create_group(&c.admin, "physics");
    let carol = c.server.create_user(&c.admin, "carol");
    c.grant(&carol, &gm(&group));
    let carol_token = c.server.token("carol");

    // Every user token with ROLE_USER, whatever its scopes.
    for (token, expected) in [
        (c.alice_token.clone(), json!(["ROLE_USER"])),
        (
            c.server.token_with("alice", Some("openid")),
            json!(["ROLE_USER"]),
        ),
        (
            c.server
                .token_with("alice", Some("openid iam:admin.read iam:admin.write")),
            json!(["ROLE_USER"]),
        ),
        (carol_token, json!(["ROLE_USER", gm(&group)])),
        (
            c.server.token_with("admin", Some("openid")),
            json!(["ROLE_USER", "ROLE_ADMIN"]),
        ),
        (
            c.server.token_with("admin", Some("iam:admin.read")),
            json!(["ROLE_USER", "ROLE_ADMIN"]),
        ),
        (
            c.server.token_with("admin", Some("iam:admin.write")),
            json!(["ROLE_USER", "ROLE_ADMIN"]),
        ),
    ] {
        assert_eq!(
            expect_json(c.me(Some(&token)), StatusCode::OK, "me"),
            json!({ "authorities": expected })
        );
    }

    // The list is read at request time: the token minted before the change sees it.
    c.grant(&c.alice, "ROLE_READER");
    assert_eq!(
        expect_json(c.me(Some(&c.alice_token)), StatusCode::OK, "me reader"),
        json!({"authorities": ["ROLE_USER", "ROLE_READER"]})
    );

    // Without ROLE_USER the caller is refused, even holding other roles...
    c.revoke(&c.alice, "ROLE_USER");
    expect_denied(c.me(Some(&c.alice_token)), "alice without ROLE_USER");
    c.revoke(&c.alice, "ROLE_READER");
    expect_denied(c.me(Some(&c.alice_token)), "alice with no authority");
    // ...and allowed again once it is back.
    c.grant(&c.alice, "ROLE_USER");
    assert_eq!(
        expect_json(c.me(Some(&c.alice_token)), StatusCode::OK, "me again"),
        json!({"authorities": ["ROLE_USER"]})
    );
    // Bob was never affected.
    assert_eq!(
        expect_json(c.me(Some(&c.bob_token)), StatusCode::OK, "me bob"),
        json!({"authorities": ["ROLE_USER"]})
    );
}

#[test]
fn me_authorities_needs_role_user_under_roles() {
    me_authorities_needs_role_user(&[]);
}

#[test]
fn me_authorities_needs_role_user_under_strict() {
    me_authorities_needs_role_user(&["--policy", "strict"]);
}

// ---------------------------------------------------------------------------------------------
// Refusals (who is refused: authorization_matrix.rs)
// ---------------------------------------------------------------------------------------------

/// Each caller refused a read or a write of alice's authorities is refused the same way
/// whatever else is wrong: the decision comes before validation and the account lookup. A
/// refused grant or revocation changes nothing; one let through is done.
fn refusals_come_first(policy: &str) {
    let c = setup_with(&["--policy", policy]);
    let mut refused = Vec::new();
    for (name, token) in c.callers() {
        let token = token.as_deref();
        let what = |op: &str| format!("{policy}: {op} by {name}");
        match decision(c.get(&c.alice, token), &what("GET")) {
            Decision::Refused(refusal) => {
                refusal.expect(c.get(UNKNOWN_ID, token), &what("GET unknown"))
            }
            Decision::Through(r) => assert_eq!(
                expect_json(r, StatusCode::OK, &what("GET")),
                json!({"authorities": ["ROLE_USER"]}),
                "{}",
                what("GET")
            ),
        }

        let r = c.post_authority(&c.alice, token, "ROLE_READER");
        let refusal = match decision(r, &what("POST")) {
            Decision::Refused(refusal) => refusal,
            Decision::Through(r) => {
                expect_empty_ok(r, &what("POST"));
                let granted = json!(["ROLE_USER", "ROLE_READER"]);
                assert_eq!(c.authorities(&c.alice), granted, "{}", what("POST"));
                let r = c.delete_authority(&c.alice, token, "ROLE_READER");
                expect_empty_ok(r, &what("DELETE"));
                assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER"]));
                continue;
            }
        };
        refused.push(name);
        assert_eq!(
            c.authorities(&c.alice),
            json!(["ROLE_USER"]),
            "{}",
            what("POST")
        );
        c.grant(&c.alice, "ROLE_READER");
        let r = c.delete_authority(&c.alice, token, "ROLE_READER");
        refusal.expect(r, &what("DELETE"));
        assert_eq!(
            c.authorities(&c.alice),
            json!(["ROLE_USER", "ROLE_READER"]),
            "{}",
            what("DELETE")
        );
        c.revoke(&c.alice, "ROLE_READER");

        for method in [Method::POST, Method::DELETE] {
            let m = method.as_str();
            for (id, p) in [
                (c.alice.as_str(), Param::Missing),
                (c.alice.as_str(), Param::Query("ROLE_NOPE")),
                (c.alice.as_str(), Param::Query("ROLE_USER")),
                (UNKNOWN_ID, Param::Query("ROLE_READER")),
                (UNKNOWN_ID, Param::Missing),
            ] {
                let r = c.send(method.clone(), id, token, p);
                refusal.expect(r, &what(&format!("{m} invalid/unknown")));
            }
        }
    }
    assert_refusals_met(&refused, policy);
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER"]));
}

#[test]
fn refusals_come_first_under_both_policies() {
    for policy in ["roles", "strict"] {
        refusals_come_first(policy);
    }
}

#[test]
fn anonymous_is_401_before_anything_else() {
    let c = setup();
    for id in [c.alice.as_str(), UNKNOWN_ID] {
        expect_unauthorized(c.get(id, None), "GET");
        for method in [Method::POST, Method::DELETE] {
            for p in [
                Param::Missing,
                Param::Query(""),
                Param::Query("ROLE_NOPE"),
                Param::Query("ROLE_USER"),
                Param::Form("ROLE_READER"),
            ] {
                expect_unauthorized(c.send(method.clone(), id, None, p), method.as_str());
            }
        }
    }
    // A malformed token is a 401 too.
    let r = c.get(&c.alice, Some("not-a-token"));
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER"]));
}

// ---------------------------------------------------------------------------------------------
// Effects of granted roles on the same, already issued tokens
// ---------------------------------------------------------------------------------------------

#[test]
fn granting_role_admin_takes_effect_at_once_on_an_existing_token_and_revoking_too() {
    let c = setup();
    let alice = c.alice_token.clone();

    // Before: a plain user.
    expect_denied(c.get(&c.bob, Some(&alice)), "GET bob's authorities");
    expect_denied(
        c.post_authority(&c.bob, Some(&alice), "ROLE_READER"),
        "POST on bob",
    );
    expect_denied(c.server.get("/scim/Users", Some(&alice)), "SCIM list users");
    expect_denied(
        c.server
            .put_json(&labels_path(&c.bob), Some(&alice), &json!({"name": "x"})),
        "PUT bob's label",
    );

    c.grant(&c.alice, "ROLE_ADMIN");

    // The very same token is now an admin's (roles policy).
    assert_eq!(
        expect_json(c.get(&c.bob, Some(&alice)), StatusCode::OK, "GET bob"),
        json!({"authorities": ["ROLE_USER"]})
    );
    expect_empty_ok(
        c.post_authority(&c.bob, Some(&alice), "ROLE_READER"),
        "POST on bob",
    );
    assert_eq!(c.authorities(&c.bob), json!(["ROLE_USER", "ROLE_READER"]));
    expect(
        c.server.get("/scim/Users", Some(&alice)),
        StatusCode::OK,
        "SCIM list users",
    );
    expect_empty_ok(
        c.server
            .put_json(&labels_path(&c.bob), Some(&alice), &json!({"name": "x"})),
        "PUT bob's label",
    );
    expect_empty_ok(
        c.delete_authority(&c.bob, Some(&alice), "ROLE_READER"),
        "DELETE on bob",
    );
    // An admin may even revoke its own ROLE_ADMIN...
    expect_empty_ok(
        c.delete_authority(&c.alice, Some(&alice), "ROLE_ADMIN"),
        "alice revokes her own ROLE_ADMIN",
    );
    // ...and loses the rights at once.
    expect_denied(c.get(&c.bob, Some(&alice)), "GET bob after revocation");
    expect_denied(
        c.post_authority(&c.bob, Some(&alice), "ROLE_READER"),
        "POST after revocation",
    );
    expect_denied(
        c.server.get("/scim/Users", Some(&alice)),
        "SCIM list after revocation",
    );
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER"]));
    assert_eq!(c.authorities(&c.bob), json!(["ROLE_USER"]));

    // Granted again by the admin, revoked by the admin: same story.
    c.grant(&c.alice, "ROLE_ADMIN");
    expect(c.get(&c.bob, Some(&alice)), StatusCode::OK, "GET again");
    c.revoke(&c.alice, "ROLE_ADMIN");
    expect_denied(c.get(&c.bob, Some(&alice)), "GET after admin revocation");
}

#[test]
fn under_strict_role_admin_on_a_user_token_without_scopes_grants_nothing() {
    let c = setup_with(&["--policy", "strict"]);
    let alice = c.alice_token.clone();
    c.grant(&c.alice, "ROLE_ADMIN");
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER", "ROLE_ADMIN"]));
    expect_denied(c.get(&c.bob, Some(&alice)), "GET bob's authorities");
    expect_denied(
        c.post_authority(&c.bob, Some(&alice), "ROLE_READER"),
        "POST on bob",
    );
    expect_denied(
        c.server.get(&labels_path(&c.bob), Some(&alice)),
        "GET bob's labels",
    );
    // Her own labels remain readable (self), her own authorities too.
    expect(
        c.server.get(&labels_path(&c.alice), Some(&alice)),
        StatusCode::OK,
        "GET own labels",
    );
    assert_eq!(
        expect_json(c.me(Some(&alice)), StatusCode::OK, "me"),
        json!({"authorities": ["ROLE_USER", "ROLE_ADMIN"]})
    );
    // Once she holds ROLE_ADMIN, a new token may carry the admin scopes.
    let scoped = c.server.token_with("alice", Some("iam:admin.read"));
    assert_eq!(
        expect_json(c.get(&c.bob, Some(&scoped)), StatusCode::OK, "scoped GET"),
        json!({"authorities": ["ROLE_USER"]})
    );
}

// ---------------------------------------------------------------------------------------------
// Group deletion and ROLE_GM:<group>
// ---------------------------------------------------------------------------------------------

#[test]
fn deleting_a_group_strips_its_manager_authority_everywhere_and_makes_it_unknown() {
    let c = setup();
    let doomed = c.server.create_group(&c.admin, "doomed");
    let kept = c.server.create_group(&c.admin, "kept");
    c.grant(&c.alice, &gm(&doomed));
    c.grant(&c.alice, &gm(&kept));
    c.grant(&c.bob, &gm(&doomed));
    c.grant(&c.bob, "ROLE_READER");

    let alice = c.alice_token.clone();
    let bob = c.bob_token.clone();
    let (first, second) = if doomed < kept {
        (gm(&doomed), gm(&kept))
    } else {
        (gm(&kept), gm(&doomed))
    };
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER", first, second]));
    assert_eq!(
        c.authorities(&c.bob),
        json!(["ROLE_USER", gm(&doomed), "ROLE_READER"])
    );
    expect(
        c.get(&c.bob, Some(&alice)),
        StatusCode::OK,
        "alice reads bob",
    );

    let t_alice = c.last_modified(&c.alice);
    c.delete_group(&doomed);

    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER", gm(&kept)]));
    assert_eq!(c.authorities(&c.bob), json!(["ROLE_USER", "ROLE_READER"]));
    assert_eq!(
        expect_json(c.me(Some(&bob)), StatusCode::OK, "me bob"),
        json!({"authorities": ["ROLE_USER", "ROLE_READER"]})
    );
    // The authority no longer exists.
    expect_error(
        c.post_authority(&c.alice, Some(&c.admin), &gm(&doomed)),
        StatusCode::BAD_REQUEST,
        &format!("Invalid authority: '{}'", gm(&doomed)),
        "POST deleted group's ROLE_GM",
    );
    expect_error(
        c.delete_authority(&c.bob, Some(&c.admin), &gm(&doomed)),
        StatusCode::BAD_REQUEST,
        &format!("Invalid authority: '{}'", gm(&doomed)),
        "DELETE deleted group's ROLE_GM",
    );
    // Alice still manages "kept", so she keeps her reads; once that group goes too, they go.
    expect(
        c.get(&c.bob, Some(&alice)),
        StatusCode::OK,
        "alice still reads",
    );
    c.delete_group(&kept);
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER"]));
    expect_denied(c.get(&c.bob, Some(&alice)), "alice no longer a manager");
    expect_error(
        c.post_authority(&c.alice, Some(&c.admin), &gm(&kept)),
        StatusCode::BAD_REQUEST,
        &format!("Invalid authority: '{}'", gm(&kept)),
        "POST second deleted group's ROLE_GM",
    );
    // Stripping the authority is not an account modification.
    assert_eq!(c.last_modified(&c.alice), t_alice);

    // A new group brings a new, grantable authority.
    let fresh = c.server.create_group(&c.admin, "doomed");
    assert_ne!(fresh, doomed);
    c.grant(&c.alice, &gm(&fresh));
    assert_eq!(c.authorities(&c.alice), json!(["ROLE_USER", gm(&fresh)]));
}

#[test]
fn authorities_survive_a_restart() {
    let mut c = setup();
    let group = c.server.create_group(&c.admin, "physics");
    c.grant(&c.alice, "ROLE_READER");
    c.grant(&c.alice, &gm(&group));
    c.server.restart();
    assert_eq!(
        c.authorities(&c.alice),
        json!(["ROLE_USER", gm(&group), "ROLE_READER"])
    );
    assert_eq!(
        expect_json(c.me(Some(&c.alice_token)), StatusCode::OK, "me"),
        json!({"authorities": ["ROLE_USER", gm(&group), "ROLE_READER"]})
    );
    expect(
        c.get(&c.bob, Some(&c.alice_token)),
        StatusCode::OK,
        "reader after restart",
    );
}
