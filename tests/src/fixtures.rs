//! Fixtures shared by the per-endpoint tests: a server with an admin and two plain users
//! ([`Ctx`]) and the account sub-resource a file is about, the cast of callers the ordering
//! tests run through ([`Ctx::callers`]), how a refused request is answered ([`Refusal`]),
//! and the X.509 fixtures of `tests/fixtures/`.

use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::{
    INDIGO_USER, JSON, Server, StatusCode, UNKNOWN_ID, body, expect, expect_denied,
    expect_empty_ok, expect_error, expect_json, expect_plain_error, expect_unauthorized, query,
    user_body, with_query,
};

/// Certificate of `CN=test2,O=IGI,C=IT` from `CN=Test CA,O=IGI,C=IT` (tests/fixtures/README.md).
pub const TEST2_CERT: &str = include_str!("../fixtures/test2-cert.pem");
/// Certificate of `CN=test3,O=IGI,C=IT` from the same CA.
pub const TEST3_CERT: &str = include_str!("../fixtures/test3-cert.pem");
/// An RFC 3820 proxy of test2, its private key, then test2's certificate.
pub const TEST2_PROXY: &str = include_str!("../fixtures/test2-proxy.pem");

/// Creates `username` with `pem` linked as its certificate; returns (id, token).
pub fn user_with_cert(s: &Server, admin: &str, username: &str, pem: &str) -> (String, String) {
    let mut b = user_body(username);
    b[INDIGO_USER] = json!({"certificates": [{"pemEncodedCertificate": pem, "display": "mine"}]});
    let r = s.post_scim("/scim/Users", Some(admin), &b);
    assert_eq!(r.status(), StatusCode::CREATED, "create {username}");
    (
        body(r)["id"].as_str().unwrap().to_string(),
        s.token(username),
    )
}

/// `PUT /iam/account/me/proxycert` with `chain` as the `certificate_chain`.
pub fn upload_proxy(s: &Server, token: Option<&str>, chain: impl Into<Value>) -> Response {
    let chain: Value = chain.into();
    s.put_json(
        "/iam/account/me/proxycert",
        token,
        &json!({"certificate_chain": chain}),
    )
}

/// A server with its admin's token and two plain users, alice and bob, each with a token;
/// `resource` is the account sub-resource the test file is about (`attributes_path`, ...),
/// which [`Ctx::get`], [`Ctx::put`] and the rest reach.
pub struct Ctx {
    pub server: Server,
    pub admin: String,
    pub alice: String,
    pub alice_token: String,
    pub bob: String,
    pub bob_token: String,
    resource: fn(&str) -> String,
}

impl Ctx {
    /// Starts a server with `args` after `serve` (e.g. `--policy strict`).
    pub fn start(args: &[&str], resource: fn(&str) -> String) -> Ctx {
        let server = Server::start_with_args(args);
        let admin = server.token("admin");
        let alice = server.create_user(&admin, "alice");
        let bob = server.create_user(&admin, "bob");
        let alice_token = server.token("alice");
        let bob_token = server.token("bob");
        Ctx {
            server,
            admin,
            alice,
            alice_token,
            bob,
            bob_token,
            resource,
        }
    }

    /// The resource of account `id`.
    pub fn path(&self, id: &str) -> String {
        (self.resource)(id)
    }

    pub fn get(&self, id: &str, token: Option<&str>) -> Response {
        self.server.get(&self.path(id), token)
    }

    /// PUT with a JSON body.
    pub fn put(&self, id: &str, token: Option<&str>, body: &Value) -> Response {
        self.server.put_json(&self.path(id), token, body)
    }

    /// PUT with `body` as it is, under `content_type` when one is given.
    pub fn put_raw(
        &self,
        id: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> Response {
        self.server
            .send_raw(Method::PUT, &self.path(id), token, content_type, body)
    }

    /// DELETE with `params` in the query string.
    pub fn delete(&self, id: &str, token: Option<&str>, params: &[(&str, &str)]) -> Response {
        self.server
            .delete(&with_query(&self.path(id), params), token)
    }

    /// DELETE with `params` in an `application/x-www-form-urlencoded` body.
    pub fn delete_form(&self, id: &str, token: Option<&str>, params: &[(&str, &str)]) -> Response {
        self.server.send_raw(
            Method::DELETE,
            &self.path(id),
            token,
            Some("application/x-www-form-urlencoded"),
            &query(params),
        )
    }

    /// The resource of `id` as the admin reads it.
    pub fn list(&self, id: &str) -> Value {
        expect_json(
            self.get(id, Some(&self.admin)),
            StatusCode::OK,
            &format!("GET {}", self.path(id)),
        )
    }

    /// A PUT by the admin, answered 200 with an empty body.
    pub fn set_ok(&self, id: &str, body: Value) {
        expect_empty_ok(
            self.put(id, Some(&self.admin), &body),
            &format!("PUT {body}"),
        );
    }

    /// A DELETE by the admin, answered 204 with no body.
    pub fn delete_ok(&self, id: &str, params: &[(&str, &str)]) {
        let text = expect(
            self.delete(id, Some(&self.admin), params),
            StatusCode::NO_CONTENT,
            &format!("DELETE {params:?}"),
        );
        assert!(text.is_empty(), "DELETE answers no body, got {text:?}");
    }

    /// Asserts that PUT on alice's resource, which must list nothing yet, reads JSON only:
    /// 415 for any other content type, 400 for an unreadable body (the usual ones and
    /// `wrongly_typed`), nothing stored; `application/json` with parameters or in another
    /// case is read.
    pub fn check_put_reads_json(&self, wrongly_typed: &[&str]) {
        self.check_put_reads_json_on(&self.alice, wrongly_typed);
    }

    /// [`Ctx::check_put_reads_json`] on the resource of `id` (an account or, for a
    /// group resource, a group), which must list nothing yet.
    pub fn check_put_reads_json_on(&self, id: &str, wrongly_typed: &[&str]) {
        let admin = Some(self.admin.as_str());
        assert_eq!(self.list(id), json!([]), "a resource with nothing yet");
        let body = r#"{"name":"a","value":"b"}"#;
        for ct in [
            Some("text/plain"),
            Some("application/xml"),
            Some("application/scim+json"),
            Some("application/x-www-form-urlencoded"),
            None,
        ] {
            let r = self.put_raw(id, admin, ct, body);
            let what = format!("content type {ct:?}");
            expect_plain_error(r, StatusCode::UNSUPPORTED_MEDIA_TYPE, &what);
        }
        let unreadable = [
            "{",
            "not json",
            "",
            "   ",
            r#"{"name":"a","value":"b""#,
            "[]",
            r#""a""#,
            "null",
        ];
        for bad in unreadable.iter().chain(wrongly_typed) {
            let r = self.put_raw(id, admin, Some(JSON), bad);
            expect_plain_error(r, StatusCode::BAD_REQUEST, &format!("body {bad:?}"));
        }
        assert_eq!(self.list(id), json!([]), "nothing unreadable was stored");

        let mut stored = Vec::new();
        for (i, ct) in ["application/json;charset=UTF-8", "Application/JSON"]
            .iter()
            .enumerate()
        {
            let body = json!({"name": format!("n{i}"), "value": "v"});
            expect_empty_ok(self.put_raw(id, admin, Some(ct), &body.to_string()), ct);
            stored.push(body);
        }
        assert_eq!(self.list(id), json!(stored));
    }

    /// Asserts that the admin's GET, PUT of `put` and DELETE with `params` on the resource of
    /// `id` are all answered 404 `{"error": msg}`.
    pub fn expect_not_found(&self, id: &str, put: &Value, params: &[(&str, &str)], msg: &str) {
        let admin = Some(self.admin.as_str());
        let answers = [
            ("GET", self.get(id, admin)),
            ("PUT", self.put(id, admin, put)),
            ("DELETE", self.delete(id, admin, params)),
        ];
        for (method, r) in answers {
            let what = format!("{method} {}", self.path(id));
            expect_error(r, StatusCode::NOT_FOUND, msg, &what);
        }
    }

    /// Deletes the account `id` through SCIM.
    pub fn delete_user(&self, id: &str) {
        let r = self
            .server
            .delete(&format!("/scim/Users/{id}"), Some(&self.admin));
        expect(r, StatusCode::NO_CONTENT, &format!("delete {id}"));
    }

    /// `meta.lastModified` of the SCIM user `id`.
    pub fn last_modified(&self, id: &str) -> String {
        self.server
            .last_modified(&self.admin, &format!("/scim/Users/{id}"))
    }

    /// Grants `authority` to `id` as the admin.
    pub fn grant(&self, id: &str, authority: &str) {
        self.server.grant(&self.admin, id, authority);
    }

    /// Revokes `authority` from `id` as the admin.
    pub fn revoke(&self, id: &str, authority: &str) {
        self.server.revoke(&self.admin, id, authority);
    }

    /// Every kind of caller, with a token minted now (none for `anonymous`), for tests that
    /// take each refused one through the order of the checks; alice is the account they
    /// act on. Creates carol, who holds ROLE_READER, and dave, who manages a group.
    pub fn callers(&self) -> Vec<(&'static str, Option<String>)> {
        let s = &self.server;
        let carol = s.create_user(&self.admin, "carol");
        let dave = s.create_user(&self.admin, "dave");
        let group = s.create_group(&self.admin, "physics");
        self.grant(&carol, "ROLE_READER");
        self.grant(&dave, &format!("ROLE_GM:{group}"));
        vec![
            ("anonymous", None),
            ("plain user", Some(self.bob_token.clone())),
            ("self", Some(self.alice_token.clone())),
            ("ROLE_READER user", Some(s.token("carol"))),
            ("group manager", Some(s.token("dave"))),
            (
                "admin, openid only",
                Some(s.token_with("admin", Some("openid"))),
            ),
            (
                "admin, iam:admin.read",
                Some(s.token_with("admin", Some("iam:admin.read"))),
            ),
            (
                "admin, iam:admin.write",
                Some(s.token_with("admin", Some("iam:admin.write"))),
            ),
            (
                "plain user asking for admin scopes",
                Some(s.token_with(
                    "bob",
                    Some("openid iam:admin.read iam:admin.write scim:read scim:write"),
                )),
            ),
        ]
    }
}

/// The requests [`Ctx::check_refusals`] sends to an account sub-resource that is read with
/// GET, written with a JSON PUT and cleared with DELETE and query parameters.
pub struct Writes<'a> {
    /// A valid PUT body, which GET then lists exactly as it is.
    pub put: Value,
    /// The DELETE parameters that remove it again.
    pub delete: &'a [(&'a str, &'a str)],
    /// Well-formed PUT bodies that validation refuses.
    pub invalid_puts: Vec<Value>,
    /// DELETE parameters that validation refuses.
    pub invalid_deletes: &'a [&'a [(&'a str, &'a str)]],
}

impl Ctx {
    /// Takes every caller of [`Ctx::callers`] through the resource of alice, which must
    /// list something already. Who is refused is `authorization_matrix.rs`'s business; here
    /// each caller refused a read or a write is refused the same way, and first: 401 before
    /// anything (the body is not even read), an unreadable body (400) or another content
    /// type (415) before 403, and 403 before validation and the account lookup. A refused
    /// write changes nothing; a write let through is done, and its DELETE undoes it.
    pub fn check_refusals(&self, label: &str, w: &Writes) {
        self.check_refusals_on(label, &self.alice, w);
    }

    /// [`Ctx::check_refusals`] on the resource of `subject` (an account or, for a group
    /// resource, a group other than the `physics` group [`Ctx::callers`] creates), which
    /// must list something already; [`UNKNOWN_ID`] stands for the unknown one.
    pub fn check_refusals_on(&self, label: &str, subject: &str, w: &Writes) {
        let before = self.list(subject);
        let mut refused = Vec::new();
        for (name, token) in self.callers() {
            let token = token.as_deref();
            let what = |op: &str| format!("{label}: {op} by {name}");
            match decision(self.get(subject, token), &what("GET")) {
                Decision::Refused(refusal) => {
                    refusal.expect(self.get(UNKNOWN_ID, token), &what("GET unknown"))
                }
                Decision::Through(r) => assert_eq!(
                    expect_json(r, StatusCode::OK, &what("GET")),
                    before,
                    "{}",
                    what("GET")
                ),
            }

            let refusal = match decision(self.put(subject, token, &w.put), &what("PUT")) {
                Decision::Refused(refusal) => refusal,
                Decision::Through(r) => {
                    expect_empty_ok(r, &what("PUT"));
                    let listed = self.list(subject);
                    let items = listed.as_array().unwrap();
                    assert!(items.contains(&w.put), "{}: {listed}", what("PUT"));
                    assert_eq!(items.len(), before.as_array().unwrap().len() + 1);
                    let r = self.delete(subject, token, w.delete);
                    let text = expect(r, StatusCode::NO_CONTENT, &what("DELETE"));
                    assert!(text.is_empty(), "{}: {text:?}", what("DELETE"));
                    assert_eq!(self.list(subject), before, "{}", what("DELETE"));
                    continue;
                }
            };
            refused.push(name);
            assert_eq!(self.list(subject), before, "{}", what("refused PUT"));
            self.set_ok(subject, w.put.clone());
            let written = self.list(subject);
            let r = self.delete(subject, token, w.delete);
            refusal.expect(r, &what("DELETE"));
            assert_eq!(self.list(subject), written, "{}", what("refused DELETE"));
            self.delete_ok(subject, w.delete);

            // The decision comes before validation and before the account lookup.
            refusal.expect(
                self.put(UNKNOWN_ID, token, &w.put),
                &what("PUT on an unknown account"),
            );
            refusal.expect(
                self.delete(UNKNOWN_ID, token, w.delete),
                &what("DELETE on an unknown account"),
            );
            for id in [subject, UNKNOWN_ID] {
                for body in &w.invalid_puts {
                    refusal.expect(
                        self.put(id, token, body),
                        &what(&format!("PUT {body} on {id}")),
                    );
                }
                for params in w.invalid_deletes {
                    let r = self.delete(id, token, params);
                    refusal.expect(r, &what(&format!("DELETE {params:?} on {id}")));
                }
                // The body is read (400, 415) before the decision, but after authentication.
                let valid = w.put.to_string();
                for (ct, text, status) in [
                    (JSON, "{", StatusCode::BAD_REQUEST),
                    (JSON, "", StatusCode::BAD_REQUEST),
                    (JSON, "[]", StatusCode::BAD_REQUEST),
                    (
                        "text/plain",
                        valid.as_str(),
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ),
                ] {
                    let r = self.put_raw(id, token, Some(ct), text);
                    let what = what(&format!("PUT {ct} {text:?} on {id}"));
                    match refusal {
                        Refusal::Unauthorized => expect_unauthorized(r, &what),
                        Refusal::Denied => {
                            expect_plain_error(r, status, &what);
                        }
                    }
                }
            }
        }
        assert_refusals_met(&refused, label);
        assert_eq!(self.list(subject), before, "{label}: after");
    }
}

/// How a request the caller may not make is turned down.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Refusal {
    /// 401: no token.
    Unauthorized,
    /// 403 from the policy.
    Denied,
}

/// What became of a request: refused, or let through to the handler, whose answer it is.
pub enum Decision {
    Refused(Refusal),
    Through(Response),
}

/// How `r` was decided; a refusal has its body and challenge checked in full.
pub fn decision(r: Response, what: &str) -> Decision {
    match r.status() {
        StatusCode::UNAUTHORIZED => {
            expect_unauthorized(r, what);
            Decision::Refused(Refusal::Unauthorized)
        }
        StatusCode::FORBIDDEN => {
            expect_denied(r, what);
            Decision::Refused(Refusal::Denied)
        }
        _ => Decision::Through(r),
    }
}

impl Refusal {
    /// Asserts `r` is refused this way, body and challenge included.
    pub fn expect(self, r: Response, what: &str) {
        match self {
            Refusal::Unauthorized => expect_unauthorized(r, what),
            Refusal::Denied => expect_denied(r, what),
        }
    }
}

/// Asserts that every caller refused everywhere, and at least one more, was among those
/// `refused`: an ordering test whose loop met no refusal would check nothing.
pub fn assert_refusals_met(refused: &[&str], what: &str) {
    for always in [
        "anonymous",
        "plain user",
        "plain user asking for admin scopes",
    ] {
        assert!(
            refused.contains(&always),
            "{what}: {always} was not refused: {refused:?}"
        );
    }
    assert!(refused.len() > 3, "{what}: refused only {refused:?}");
}
