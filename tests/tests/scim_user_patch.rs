//! `PATCH /scim/Users/{id}` (docs/scim.md): INDIGO IAM's operations without a path, RFC 7644
//! paths with value filters, all or nothing, conditional on `If-Match`.

use iam_tests::oauth::{password_grant, register};
use iam_tests::*;
use reqwest::Method;
use reqwest::blocking::Response;
use reqwest::header::IF_MATCH;
use serde_json::{Value, json};

// Made with ssh-keygen.
const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPC3F+gTo1JZ3IlVZ7wpW+TSp3FxpTMZgSsf7DhriecQ test";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An INDIGO IAM patch body: one operation without a path.
fn iam(op: &str, value: Value) -> Value {
    json!({"schemas": [PATCH_OP], "operations": [{"op": op, "value": value}]})
}

/// An RFC 7644 patch body.
fn rfc(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

struct Fixture {
    s: Server,
    admin: String,
    alice: String,
    bob: String,
}

impl Fixture {
    fn new() -> Fixture {
        let s = Server::start();
        let admin = s.token("admin");
        let alice = s.create_user(&admin, "alice");
        let bob = s.create_user(&admin, "bob");
        Fixture {
            s,
            admin,
            alice,
            bob,
        }
    }

    fn path(&self, id: &str) -> String {
        format!("/scim/Users/{id}")
    }

    fn patch(&self, id: &str, body: &Value) -> Response {
        self.s.patch_scim(&self.path(id), Some(&self.admin), body)
    }

    fn patch_ok(&self, id: &str, body: &Value) -> Value {
        let r = self.patch(id, body);
        assert_eq!(
            r.status(),
            StatusCode::NO_CONTENT,
            "{body}: {}",
            r.text().unwrap()
        );
        self.user(id)
    }

    fn user(&self, id: &str) -> Value {
        expect_scim(
            self.s.get(&self.path(id), Some(&self.admin)),
            StatusCode::OK,
            "user",
        )
    }

    fn error(&self, id: &str, body: &Value, status: StatusCode) -> Value {
        scim_error_body(self.patch(id, body), status, &body.to_string())
    }
}

/// A ScimError's whole body, with its status and schema checked.
fn scim_error_body(r: Response, status: StatusCode, what: &str) -> Value {
    let text = r.text().unwrap();
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: {text}"));
    assert_eq!(v["status"], status.as_u16().to_string(), "{what}: {v}");
    assert_eq!(v["schemas"], json!([SCIM_ERROR]), "{what}: {v}");
    v
}

#[test]
fn iam_operations_change_names_email_and_activity() {
    let f = Fixture::new();
    let before = f.user(&f.alice);
    let u = f.patch_ok(
        &f.alice,
        &iam(
            "add",
            json!({
                "userName": "alice2",
                "name": {"givenName": "Alicia", "familyName": "Liddell"},
                "emails": [{"type": "work", "value": "alicia@example.org", "primary": true}],
                "active": false,
            }),
        ),
    );
    assert_eq!(u["userName"], "alice2");
    assert_eq!(u["displayName"], "alice2");
    assert_eq!(u["name"]["formatted"], "Alicia Liddell");
    assert_eq!(u["emails"][0]["value"], "alicia@example.org");
    assert_eq!(u["active"], false);
    assert_ne!(u["meta"]["lastModified"], before["meta"]["lastModified"]);

    // The same e-mail again is no change: the user is not touched.
    tick();
    let again = f.patch_ok(
        &f.alice,
        &iam(
            "replace",
            json!({"emails": [{"type": "work", "value": "alicia@example.org", "primary": true}]}),
        ),
    );
    assert_eq!(again["meta"]["lastModified"], u["meta"]["lastModified"]);

    let e = f.error(
        &f.alice,
        &iam(
            "replace",
            json!({"emails": [{"type": "work", "value": "", "primary": true}]}),
        ),
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains(": must not be empty"),
        "{e}"
    );
    let e = f.error(
        &f.alice,
        &iam(
            "replace",
            json!({"emails": [{"type": "work", "value": "fake", "primary": true}]}),
        ),
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e["detail"]
            .as_str()
            .unwrap()
            .contains("Please provide a valid email address"),
        "{e}"
    );
    let e = f.error(
        &f.alice,
        &iam("replace", json!({"userName": "bob"})),
        StatusCode::CONFLICT,
    );
    assert_eq!(e["detail"], "Username bob already bound to another user");
    assert_eq!(e["scimType"], "uniqueness");
    let e = f.error(
        &f.alice,
        &iam(
            "add",
            json!({"emails": [{"type": "work", "value": "bob@example.org", "primary": true}]}),
        ),
        StatusCode::CONFLICT,
    );
    assert_eq!(
        e["detail"],
        "Email bob@example.org already bound to another user"
    );
    // Replace does not take SSH keys: nothing left to do is IAM's "not supported".
    let e = f.error(
        &f.alice,
        &iam(
            "replace",
            json!({INDIGO_USER: {"sshKeys": [{"value": KEY}]}}),
        ),
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(e["detail"], "replace operation not supported");
    assert_eq!(
        f.user(&f.alice)["userName"],
        "alice2",
        "refusals change nothing"
    );
}

#[test]
fn iam_operations_link_and_unlink_identities() {
    let f = Fixture::new();
    let oidc = json!({"issuer": "https://op.example.org", "subject": "a"});
    let u = f.patch_ok(
        &f.alice,
        &iam(
            "add",
            json!({INDIGO_USER: {
                "oidcIds": [oidc, oidc],
                "samlIds": [{"idpId": "https://idp", "userId": "a", "attributeId": "mail"}],
                "sshKeys": [{"display": "laptop", "value": KEY, "primary": true}],
            }}),
        ),
    );
    let ext = &u[INDIGO_USER];
    assert_eq!(
        ext["oidcIds"],
        json!([oidc]),
        "a repeat in one request links once"
    );
    assert_eq!(ext["samlIds"].as_array().unwrap().len(), 1);
    assert_eq!(ext["sshKeys"][0]["display"], "laptop");

    // Another user cannot take them.
    let e = f.error(
        &f.bob,
        &iam("add", json!({INDIGO_USER: {"oidcIds": [oidc]}})),
        StatusCode::CONFLICT,
    );
    assert_eq!(e["scimType"], "uniqueness");

    // Removal: by the key alone (an SSH key by its value), unknown ones ignored.
    let u = f.patch_ok(
        &f.alice,
        &iam(
            "remove",
            json!({INDIGO_USER: {
                "oidcIds": [oidc, {"issuer": "https://other", "subject": "z"}],
                "sshKeys": [{"value": KEY}],
            }}),
        ),
    );
    assert!(u[INDIGO_USER].get("oidcIds").is_none());
    assert!(u[INDIGO_USER].get("sshKeys").is_none());
    assert_eq!(u[INDIGO_USER]["samlIds"].as_array().unwrap().len(), 1);
    f.patch_ok(
        &f.bob,
        &iam("add", json!({INDIGO_USER: {"oidcIds": [oidc]}})),
    );

    // The picture: add, then remove.
    let u = f.patch_ok(
        &f.alice,
        &iam("add", json!({"photos": [{"value": "https://p/a.png"}]})),
    );
    assert_eq!(
        u["photos"],
        json!([{"value": "https://p/a.png", "type": "photo"}])
    );
    let u = f.patch_ok(
        &f.alice,
        &iam("remove", json!({"photos": [{"value": "x"}]})),
    );
    assert!(u.get("photos").is_none());
}

#[test]
fn a_patched_password_signs_in() {
    let f = Fixture::new();
    register(&f.s, &f.admin, "app", &["password"], "openid", false);
    f.patch_ok(&f.alice, &iam("add", json!({"password": "a new secret 1"})));
    let t = password_grant(&f.s, "app", "alice", "a new secret 1", "openid");
    assert!(t["access_token"].is_string());
    let u = f.user(&f.alice);
    assert!(u.get("password").is_none(), "never shown");
}

#[test]
fn rfc_paths_with_value_filters() {
    let f = Fixture::new();
    let oidc = format!("{INDIGO_USER}:oidcIds");
    let u = f.patch_ok(
        &f.alice,
        &rfc(json!([
            {"op": "Replace", "path": "name.givenName", "value": "Alicia"},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a2@example.org"},
            {"op": "add", "path": "nickName", "value": "ali"},
            {"op": "add", "path": oidc, "value": [
                {"issuer": "https://a", "subject": "1"}, {"issuer": "https://b", "subject": "2"}]},
            {"op": "remove", "path": format!("{oidc}[issuer eq \"https://a\"]")},
            {"op": "add", "path": "addresses", "value": [{"locality": "Bologna", "country": "IT"}]},
        ])),
    );
    assert_eq!(u["name"]["givenName"], "Alicia");
    assert_eq!(u["emails"][0]["value"], "a2@example.org");
    assert_eq!(u["nickName"], "ali");
    assert_eq!(
        u[INDIGO_USER]["oidcIds"],
        json!([{"issuer": "https://b", "subject": "2"}])
    );
    assert_eq!(
        u["addresses"],
        json!([{"locality": "Bologna", "country": "IT"}])
    );

    let u = f.patch_ok(
        &f.alice,
        &rfc(json!([
            {"op": "remove", "path": "nickName"},
            {"op": "replace", "path": "addresses.locality", "value": "Padova"},
        ])),
    );
    assert!(u.get("nickName").is_none());
    assert_eq!(u["addresses"][0]["locality"], "Padova");

    // The whole extension as the path: its attributes, one by one.
    let u = f.patch_ok(
        &f.alice,
        &rfc(json!([{"op": "replace", "path": INDIGO_USER,
                     "value": {"oidcIds": [{"issuer": "https://c", "subject": "3"}]}}])),
    );
    assert_eq!(
        u[INDIGO_USER]["oidcIds"],
        json!([{"issuer": "https://c", "subject": "3"}])
    );
    assert_eq!(u["addresses"][0]["country"], "IT");

    // A filter that selects nothing: noTarget, and nothing written.
    let e = f.error(
        &f.alice,
        &rfc(json!([
            {"op": "replace", "path": "userName", "value": "changed"},
            {"op": "remove", "path": format!("{oidc}[issuer eq \"HTTPS://B\"]")},
        ])),
        StatusCode::BAD_REQUEST,
    );
    assert_eq!(e["scimType"], "noTarget", "issuers are case-exact: {e}");
    assert_eq!(f.user(&f.alice)["userName"], "alice");
}

#[test]
fn bad_paths_and_bodies_are_scim_errors() {
    let f = Fixture::new();
    let cases = [
        (
            json!([{"op": "replace", "path": "userName eq", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "title", "value": "x"}]),
            "invalidPath",
        ),
        (
            json!([{"op": "replace", "path": "id", "value": "x"}]),
            "mutability",
        ),
        (
            json!([{"op": "replace", "path": "groups", "value": []}]),
            "mutability",
        ),
        (
            json!([{"op": "replace", "path": "name.formatted", "value": "x"}]),
            "mutability",
        ),
        (json!([{"op": "remove", "path": "active"}]), "mutability"),
        (
            json!([{"op": "replace", "path": "userName"}]),
            "invalidValue",
        ),
        (
            json!([{"op": "frobnicate", "path": "userName", "value": "x"}]),
            "invalidSyntax",
        ),
        (
            json!([{"op": "remove", "path": "emails[value eq \"nobody@x\"]"}]),
            "noTarget",
        ),
        (json!([]), "invalidValue"),
    ];
    for (ops, kind) in cases {
        let e = f.error(&f.alice, &rfc(ops.clone()), StatusCode::BAD_REQUEST);
        assert_eq!(e["scimType"], kind, "{ops}: {e}");
    }
    let e = f.error(
        &f.alice,
        &rfc(json!([{"op": "replace", "path": "emails[type eq]", "value": "x"}])),
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e["detail"].as_str().unwrap().contains("position"),
        "the error says where: {e}"
    );
    // Removing the only e-mail leaves the user without one: refused by the rules.
    let e = f.error(
        &f.alice,
        &rfc(json!([{"op": "remove", "path": "emails"}])),
        StatusCode::BAD_REQUEST,
    );
    assert!(
        e["detail"].as_str().unwrap().contains("must not be empty"),
        "{e}"
    );
    let r = f.patch(
        "00000000-0000-0000-0000-000000000000",
        &iam("add", json!({"active": true})),
    );
    expect_scim_error(
        r,
        StatusCode::NOT_FOUND,
        "No user mapped to id '00000000-0000-0000-0000-000000000000'",
        "unknown user",
    );
}

#[test]
fn patch_is_authorized_like_put_and_guarded_by_if_match() {
    let f = Fixture::new();
    let alice_token = f.s.token("alice");
    // A user may not patch even themselves (as with PUT): no self-promotion to active, no
    // e-mail takeover.
    let r = f.s.patch_scim(
        &f.path(&f.alice),
        Some(&alice_token),
        &iam("replace", json!({"userName": "queen"})),
    );
    expect_denied(r, "self patch");
    assert_eq!(f.user(&f.alice)["userName"], "alice");

    let version = f.user(&f.alice)["meta"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    f.patch_ok(&f.alice, &iam("add", json!({"nickName": "a"})));
    let r =
        f.s.req(Method::PATCH, &f.path(&f.alice), Some(&f.admin))
            .header("content-type", SCIM)
            .header(IF_MATCH, &version)
            .body(iam("add", json!({"nickName": "b"})).to_string())
            .send()
            .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(f.user(&f.alice)["nickName"], "a");

    // attributes= asks for the patched user in the answer.
    let r = f.s.patch_scim(
        &format!("{}?attributes=nickName", f.path(&f.alice)),
        Some(&f.admin),
        &iam("add", json!({"nickName": "c"})),
    );
    let v = expect_scim(r, StatusCode::OK, "patch with attributes");
    assert_eq!(v["nickName"], "c");
    assert!(v.get("emails").is_none());
}

/// A demoted admin's old token patches no user, alone or in a bulk request: the decision
/// reads the account's authorities now.
#[test]
fn a_demoted_admin_patches_nobody() {
    let f = Fixture::new();
    f.s.grant(&f.admin, &f.bob, "ROLE_ADMIN");
    let bob = f.s.token("bob");
    let nick = |n: &str| iam("add", json!({"nickName": n}));
    let r =
        f.s.patch_scim(&f.path(&f.alice), Some(&bob), &nick("while admin"));
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    f.s.revoke(&f.admin, &f.bob, "ROLE_ADMIN");
    expect_denied(
        f.s.patch_scim(&f.path(&f.alice), Some(&bob), &nick("after")),
        "PATCH after demotion",
    );
    let r = f.s.post_scim(
        "/scim/Bulk",
        Some(&bob),
        &json!({"Operations": [{"method": "PATCH", "path": format!("/Users/{}", f.alice),
                                "data": nick("bulk after")}]}),
    );
    let v = expect_scim(r, StatusCode::OK, "bulk after demotion");
    assert_eq!(v["Operations"][0]["status"], "403");
    assert_eq!(f.user(&f.alice)["nickName"], "while admin");
}
