//! The policy table of docs/api.md §2.2 as one matrix: every operation, called by every
//! kind of caller, under both built-in policies. A caller the policy lets through gets the
//! handler's answer, the same for all of them (each case names it); one it does not is
//! refused with 403 `access_denied`, and that refusal leaves no trace in the audit trail;
//! anonymous callers always get the 401 of a missing token.
//!
//! The matrix also runs over time: callers whose role, group-manager right, account or
//! client was taken away *after* their token was minted, and callers granted a role or a
//! group after theirs. The ex-admin's token still lists every admin scope, yet each
//! decision follows the state of the database now: the `ex-*` callers are treated exactly
//! as a plain user, the `new-*` ones as the role they gained, and tokens of a disabled or
//! deleted account, or of a removed client, are 401 `invalid_token` everywhere.
//!
//! The per-endpoint files check what this matrix does not: in which order a refused
//! request meets the checks (401, unreadable body, 403, validation, lookup).

use std::collections::HashSet;

use iam_tests::*;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

/// The callers. Every `admin*` token belongs to the admin account (ROLE_ADMIN, ROLE_USER)
/// and differs only in its scopes: `admin` has none of the IAM scopes (only `openid`),
/// `admin.none` no scope at all, `admin.all` every one. `*+scopes` asked for every admin
/// scope, which a plain account never gets.
const CALLERS: &[&str] = &[
    "plain",
    "plain+scopes",
    "self",
    "self+scopes",
    "reader",
    "gm",
    "gm-other",
    "admin",
    "admin.read",
    "admin.write",
    "admin.all",
    "admin.none",
    "scim:read",
    "scim:write",
];

/// Callers who gained a right after their token was minted; each must fare as the caller
/// named after `new-`.
const PROMOTED: &[&str] = &["new-admin", "new-reader", "new-gm"];

/// Callers who lost a right after their token was minted; each must fare as `plain`.
const DEMOTED: &[&str] = &["ex-admin", "ex-reader", "ex-gm"];

/// Callers whose account or client is gone or disabled since their token was minted; each
/// must get 401.
const REVOKED: &[&str] = &["disabled", "deleted", "client-gone"];

const ALL_ADMIN_SCOPES: &str = "openid iam:admin.read iam:admin.write scim:read scim:write";

/// Who the policy lets through, written as the table reads: role words stand for the
/// callers holding that role, scope words for the token with that scope.
fn allowed(rule: &str, caller: &str, strict: bool) -> bool {
    let caller = if DEMOTED.contains(&caller) {
        "plain"
    } else if PROMOTED.contains(&caller) {
        caller.trim_start_matches("new-")
    } else if caller == "admin.none" {
        "admin"
    } else {
        caller.strip_suffix("+scopes").unwrap_or(caller)
    };
    let admin_account = caller.starts_with("admin") || caller.starts_with("scim");
    let scoped = |scope: &str| caller == scope || caller == "admin.all";
    rule.split(',').map(str::trim).any(|term| match term {
        "self" => caller == "self",
        "USER" => caller != "anonymous",
        "ADMIN" => !strict && admin_account,
        "READER" => !strict && caller == "reader",
        "GM" => !strict && matches!(caller, "gm" | "gm-other"),
        "GM of g" => caller == "gm",
        "iam:admin.read" => scoped("admin.read"),
        "iam:admin.write" => scoped("admin.write"),
        "scim:read" => scoped("scim:read"),
        "scim:write" => scoped("scim:write"),
        other => panic!("unknown rule term {other}"),
    })
}

struct Case {
    what: &'static str,
    method: Method,
    path: String,
    body: Option<(&'static str, Value)>,
    /// What the handler answers every caller the policy lets through.
    status: StatusCode,
    /// A request the admin sends before each caller's, so that each finds the same state.
    reset: Option<(Method, String)>,
    roles: &'static str,
    strict: &'static str,
}

fn case(
    what: &'static str,
    method: Method,
    path: String,
    status: StatusCode,
    roles: &'static str,
    strict: &'static str,
) -> Case {
    Case {
        what,
        method,
        path,
        body: None,
        status,
        reset: None,
        roles,
        strict,
    }
}

fn with_body(mut c: Case, content_type: &'static str, body: Value) -> Case {
    c.body = Some((content_type, body));
    c
}

fn with_reset(mut c: Case, method: Method, path: String) -> Case {
    c.reset = Some((method, path));
    c
}

/// What an answer says about the decision.
#[derive(Debug, PartialEq)]
enum Answer {
    /// 401 for a missing token, with a `Bearer` challenge.
    Unauthorized,
    /// 401 `invalid_token`, with a `Bearer` challenge.
    InvalidToken,
    /// The policy's 403.
    Denied,
    /// Let through: the handler's status.
    Through(StatusCode),
    /// A 401 or 403 with another body or challenge.
    Odd(StatusCode, String),
}

impl Answer {
    fn of(r: Response) -> Answer {
        let status = r.status();
        let bearer = challenge(&r).starts_with("Bearer");
        let text = r.text().unwrap();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let invalid_token = v["error"] == "invalid_token"
            && v["error_description"].is_string()
            && v.as_object().is_some_and(|o| o.len() == 2);
        match status {
            StatusCode::UNAUTHORIZED if bearer && v == unauthorized_body() => Answer::Unauthorized,
            StatusCode::UNAUTHORIZED if bearer && invalid_token => Answer::InvalidToken,
            StatusCode::FORBIDDEN if v == denied_body() => Answer::Denied,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Answer::Odd(status, text),
            _ => Answer::Through(status),
        }
    }

    fn refused(&self) -> bool {
        !matches!(self, Answer::Through(_))
    }
}

fn matrix(policy: &str) {
    let strict = policy == "strict";
    let s = Server::start_with_args(&["--policy", policy]);
    let admin = s.token("admin");
    let target = s.create_user(&admin, "target");
    let other = s.create_user(&admin, "other");
    for name in [
        "plain",
        "reader",
        "gm",
        "gmother",
        "exadmin",
        "exreader",
        "exgm",
        "newadmin",
        "newreader",
        "newgm",
        "disabled",
        "deleted",
    ] {
        s.create_user(&admin, name);
    }
    let g = s.create_group(&admin, "g");
    let h = s.create_group(&admin, "h");
    let id = |name: &str| s.user_id(&admin, name);
    s.grant(&admin, &id("reader"), "ROLE_READER");
    s.appoint(&admin, &id("gm"), &g);
    s.appoint(&admin, &id("gmother"), &h);
    // g keeps a member, so deleting it is refused (400) rather than done.
    expect(
        s.post(&format!("/iam/account/{other}/groups/{g}"), Some(&admin)),
        StatusCode::CREATED,
        "other joins g",
    );

    // The stale callers get their rights and their tokens first, then lose the rights; the
    // promoted ones get their tokens first, then the rights.
    let (exadmin, exreader, exgm) = (id("exadmin"), id("exreader"), id("exgm"));
    s.grant(&admin, &exadmin, "ROLE_ADMIN");
    s.grant(&admin, &exreader, "ROLE_READER");
    s.appoint(&admin, &exgm, &g);
    iam_tests::oauth::register(&s, &admin, "gone", &["password"], ALL_ADMIN_SCOPES, false);
    let via_gone_client = iam_tests::oauth::password_grant(
        &s,
        "gone",
        "admin",
        ADMIN_PASSWORD,
        ALL_ADMIN_SCOPES,
    )["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let stale: Vec<(&str, String)> = vec![
        ("ex-admin", s.token_with("exadmin", Some(ALL_ADMIN_SCOPES))),
        ("ex-reader", s.token("exreader")),
        ("ex-gm", s.token("exgm")),
        ("new-admin", s.token("newadmin")),
        ("new-reader", s.token("newreader")),
        ("new-gm", s.token("newgm")),
        ("disabled", s.token("disabled")),
        ("deleted", s.token("deleted")),
        ("client-gone", via_gone_client),
    ];
    tick();
    s.revoke(&admin, &exadmin, "ROLE_ADMIN");
    s.revoke(&admin, &exreader, "ROLE_READER");
    expect(
        s.delete(
            &format!("/iam/account/{exgm}/managed-groups/{g}"),
            Some(&admin),
        ),
        StatusCode::NO_CONTENT,
        "ex-gm steps down",
    );
    s.grant(&admin, &id("newadmin"), "ROLE_ADMIN");
    s.grant(&admin, &id("newreader"), "ROLE_READER");
    s.appoint(&admin, &id("newgm"), &g);
    let mut off = user_body("disabled");
    off["active"] = json!(false);
    let r = s.put_scim(
        &format!("/scim/Users/{}", id("disabled")),
        Some(&admin),
        &off,
    );
    assert_eq!(r.status(), StatusCode::OK, "disable an account");
    for gone in [
        format!("/scim/Users/{}", id("deleted")),
        "/iam/api/clients/gone".into(),
    ] {
        assert!(
            s.delete(&gone, Some(&admin)).status().is_success(),
            "{gone}"
        );
    }

    let mut tokens: Vec<(&str, String)> = CALLERS
        .iter()
        .map(|c| {
            let t = match *c {
                "plain" => s.token("plain"),
                "plain+scopes" => s.token_with("plain", Some(ALL_ADMIN_SCOPES)),
                "self" => s.token("target"),
                "self+scopes" => s.token_with("target", Some(ALL_ADMIN_SCOPES)),
                "reader" => s.token("reader"),
                "gm" => s.token("gm"),
                "gm-other" => s.token("gmother"),
                "admin" => s.token_with("admin", Some("openid")),
                "admin.read" => s.token_with("admin", Some("iam:admin.read")),
                "admin.write" => s.token_with("admin", Some("iam:admin.write")),
                "admin.all" => s.token("admin"),
                "admin.none" => s.token_with("admin", Some("")),
                scope => s.token_with("admin", Some(scope)),
            };
            (*c, t)
        })
        .collect();
    tokens.extend(stale);

    let acc = |rest: &str| format!("/iam/account/{target}/{rest}");
    // Granted and revoked on the target itself, so that `self` acts on its own account.
    let authority = acc("authorities?authority=ROLE_PRE_AUTHENTICATED");
    let appointment = format!("/iam/account/{other}/managed-groups/{h}");
    let add_other = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "operations": [{"op": "add", "path": "members", "value": [{"value": other}]}]
    });
    let cases = vec![
        case(
            "GET attributes",
            Method::GET,
            acc("attributes"),
            StatusCode::OK,
            "iam:admin.read, self, ADMIN, READER, GM",
            "iam:admin.read, self",
        ),
        with_body(
            case(
                "PUT attributes",
                Method::PUT,
                acc("attributes"),
                StatusCode::OK,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            JSON,
            json!({"name": "a"}),
        ),
        case(
            "DELETE attributes",
            Method::DELETE,
            acc("attributes?name=a"),
            StatusCode::NO_CONTENT,
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "GET labels",
            Method::GET,
            acc("labels"),
            StatusCode::OK,
            "iam:admin.read, self, ADMIN, READER, GM",
            "iam:admin.read, self",
        ),
        with_body(
            case(
                "PUT labels",
                Method::PUT,
                acc("labels"),
                StatusCode::OK,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            JSON,
            json!({"name": "l"}),
        ),
        case(
            "DELETE labels",
            Method::DELETE,
            acc("labels?name=l"),
            StatusCode::NO_CONTENT,
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        with_body(
            case(
                "PUT endTime",
                Method::PUT,
                acc("endTime"),
                StatusCode::OK,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            JSON,
            json!({"endTime": null}),
        ),
        case(
            "GET authorities",
            Method::GET,
            acc("authorities"),
            StatusCode::OK,
            "iam:admin.read, ADMIN, READER, GM",
            "iam:admin.read",
        ),
        with_reset(
            case(
                "DELETE authorities (self's own)",
                Method::DELETE,
                authority.clone(),
                StatusCode::OK,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            Method::POST,
            authority.clone(),
        ),
        with_reset(
            case(
                "POST authorities (self's own)",
                Method::POST,
                authority.clone(),
                StatusCode::OK,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            Method::DELETE,
            authority.clone(),
        ),
        with_reset(
            case(
                "DELETE managed-groups",
                Method::DELETE,
                appointment.clone(),
                StatusCode::NO_CONTENT,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            Method::POST,
            appointment.clone(),
        ),
        with_reset(
            case(
                "POST managed-groups",
                Method::POST,
                appointment.clone(),
                StatusCode::CREATED,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            Method::DELETE,
            appointment.clone(),
        ),
        case(
            "GET /iam/me/authorities",
            Method::GET,
            "/iam/me/authorities".into(),
            StatusCode::OK,
            "USER",
            "USER",
        ),
        case(
            "GET me/clients",
            Method::GET,
            "/iam/account/me/clients".into(),
            StatusCode::OK,
            "USER",
            "USER",
        ),
        with_body(
            case(
                "PUT me/proxycert",
                Method::PUT,
                "/iam/account/me/proxycert".into(),
                StatusCode::BAD_REQUEST,
                "USER",
                "USER",
            ),
            JSON,
            json!({"certificate_chain": "junk"}),
        ),
        case(
            "GET find",
            Method::GET,
            "/iam/account/find/byusername?username=target".into(),
            StatusCode::OK,
            "iam:admin.read, ADMIN",
            "iam:admin.read",
        ),
        case(
            "POST membership",
            Method::POST,
            format!("/iam/account/{other}/groups/{g}"),
            StatusCode::CREATED,
            "iam:admin.write, ADMIN, GM of g",
            "iam:admin.write, GM of g",
        ),
        case(
            "DELETE membership of a subgroup-less member",
            Method::DELETE,
            format!("/iam/account/{target}/groups/{g}"),
            StatusCode::NO_CONTENT,
            "iam:admin.write, ADMIN, GM of g",
            "iam:admin.write, GM of g",
        ),
        case(
            "GET managed-groups",
            Method::GET,
            acc("managed-groups"),
            StatusCode::OK,
            "iam:admin.read, self, ADMIN",
            "iam:admin.read, self",
        ),
        case(
            "GET group-managers",
            Method::GET,
            format!("/iam/group/{g}/group-managers"),
            StatusCode::OK,
            "iam:admin.read, ADMIN, READER, GM of g",
            "iam:admin.read, GM of g",
        ),
        case(
            "GET group attributes",
            Method::GET,
            group_attributes_path(&g),
            StatusCode::OK,
            "iam:admin.read, ADMIN, GM of g",
            "iam:admin.read, GM of g",
        ),
        with_body(
            case(
                "PUT group attributes",
                Method::PUT,
                group_attributes_path(&g),
                StatusCode::OK,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            JSON,
            json!({"name": "a"}),
        ),
        case(
            "DELETE group attributes",
            Method::DELETE,
            format!("{}?name=a", group_attributes_path(&g)),
            StatusCode::NO_CONTENT,
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "GET group labels",
            Method::GET,
            group_labels_path(&g),
            StatusCode::OK,
            "iam:admin.read, ADMIN, READER, GM of g",
            "iam:admin.read, GM of g",
        ),
        with_body(
            case(
                "PUT group labels",
                Method::PUT,
                group_labels_path(&g),
                StatusCode::OK,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            JSON,
            json!({"name": "l"}),
        ),
        case(
            "DELETE group labels",
            Method::DELETE,
            format!("{}?name=l", group_labels_path(&g)),
            StatusCode::NO_CONTENT,
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "GET account search",
            Method::GET,
            "/iam/account/search".into(),
            StatusCode::OK,
            "iam:admin.read, scim:read, ADMIN, READER, GM",
            "iam:admin.read",
        ),
        case(
            "GET group search",
            Method::GET,
            "/iam/group/search".into(),
            StatusCode::OK,
            "USER, iam:admin.read, scim:read",
            "USER, iam:admin.read",
        ),
        with_body(
            case(
                "POST /iam/group",
                Method::POST,
                "/iam/group".into(),
                StatusCode::BAD_REQUEST,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            JSON,
            json!({"name": "g"}),
        ),
        with_body(
            case(
                "PUT /iam/group",
                Method::PUT,
                format!("/iam/group/{g}"),
                StatusCode::OK,
                "iam:admin.write, ADMIN, GM of g",
                "iam:admin.write, GM of g",
            ),
            JSON,
            json!({"description": "d"}),
        ),
        case(
            "GET /scim/Users",
            Method::GET,
            "/scim/Users?count=1".into(),
            StatusCode::OK,
            "scim:read, ADMIN, READER",
            "scim:read",
        ),
        case(
            "GET /scim/Users/{id}",
            Method::GET,
            format!("/scim/Users/{target}"),
            StatusCode::OK,
            "scim:read, ADMIN, READER, GM",
            "scim:read",
        ),
        with_body(
            case(
                "POST /scim/Users",
                Method::POST,
                "/scim/Users".into(),
                StatusCode::CONFLICT,
                "scim:write, ADMIN",
                "scim:write",
            ),
            SCIM,
            user_body("target"),
        ),
        with_body(
            case(
                "PUT /scim/Users/{id}",
                Method::PUT,
                format!("/scim/Users/{other}"),
                StatusCode::OK,
                "scim:write, ADMIN",
                "scim:write",
            ),
            SCIM,
            user_body("other"),
        ),
        with_body(
            case(
                "PATCH /scim/Users/{id}",
                Method::PATCH,
                format!("/scim/Users/{other}"),
                StatusCode::NO_CONTENT,
                "scim:write, ADMIN",
                "scim:write",
            ),
            SCIM,
            json!({"Operations": [{"op": "replace", "path": "nickName", "value": "o"}]}),
        ),
        case(
            "DELETE /scim/Users/{id}",
            Method::DELETE,
            format!("/scim/Users/{UNKNOWN_ID}"),
            StatusCode::NOT_FOUND,
            "scim:write, ADMIN",
            "scim:write",
        ),
        case(
            "GET /scim/Groups",
            Method::GET,
            "/scim/Groups".into(),
            StatusCode::OK,
            "scim:read, ADMIN, READER",
            "scim:read",
        ),
        case(
            "GET /scim/Groups/{g}",
            Method::GET,
            format!("/scim/Groups/{g}"),
            StatusCode::OK,
            "scim:read, ADMIN, READER, GM of g",
            "scim:read, GM of g",
        ),
        case(
            "GET /scim/Groups/{g}/members",
            Method::GET,
            format!("/scim/Groups/{g}/members"),
            StatusCode::OK,
            "scim:read, ADMIN, READER, GM of g",
            "scim:read, GM of g",
        ),
        case(
            "GET /scim/Groups/{g}/subgroups",
            Method::GET,
            format!("/scim/Groups/{g}/subgroups"),
            StatusCode::OK,
            "scim:read, ADMIN, READER, GM of g",
            "scim:read, GM of g",
        ),
        with_body(
            case(
                "POST /scim/Groups",
                Method::POST,
                "/scim/Groups".into(),
                StatusCode::CONFLICT,
                "scim:write, ADMIN",
                "scim:write",
            ),
            SCIM,
            group_body("g", None),
        ),
        with_body(
            case(
                "PUT /scim/Groups/{g}",
                Method::PUT,
                format!("/scim/Groups/{g}"),
                StatusCode::OK,
                "scim:write, ADMIN",
                "scim:write",
            ),
            SCIM,
            group_body("g", None),
        ),
        with_body(
            case(
                "PATCH /scim/Groups/{g}: add a member",
                Method::PATCH,
                format!("/scim/Groups/{g}"),
                StatusCode::NO_CONTENT,
                "scim:write, ADMIN, GM of g",
                "scim:write, GM of g",
            ),
            SCIM,
            add_other,
        ),
        case(
            "DELETE /scim/Groups/{g}",
            Method::DELETE,
            format!("/scim/Groups/{g}"),
            StatusCode::BAD_REQUEST,
            "scim:write, ADMIN, GM of g",
            "scim:write, GM of g",
        ),
        case(
            "GET /scim/Me",
            Method::GET,
            "/scim/Me".into(),
            StatusCode::OK,
            "scim:read, USER",
            "scim:read, USER",
        ),
        case(
            "GET clients",
            Method::GET,
            "/iam/api/clients".into(),
            StatusCode::OK,
            "iam:admin.read, ADMIN",
            "iam:admin.read",
        ),
        case(
            "PATCH clients/{c}/enable",
            Method::PATCH,
            "/iam/api/clients/gone/enable".into(),
            StatusCode::NOT_FOUND,
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "PATCH clients/{c}/disable",
            Method::PATCH,
            "/iam/api/clients/gone/disable".into(),
            StatusCode::NOT_FOUND,
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "POST clients/{c}/secret",
            Method::POST,
            "/iam/api/clients/gone/secret".into(),
            StatusCode::NOT_FOUND,
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        with_body(
            case(
                "POST clients",
                Method::POST,
                "/iam/api/clients".into(),
                StatusCode::CREATED,
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            JSON,
            json!({}),
        ),
    ];

    let mut wrong = Vec::new();
    let mut refused = HashSet::new();
    for c in &cases {
        let rule = if strict { c.strict } else { c.roles };
        let mut check = |caller: &str, token: Option<&str>, expected: Answer| {
            if let Some((m, path)) = &c.reset {
                s.req(m.clone(), path, Some(&admin)).send().unwrap();
            }
            let mut rb = s.req(c.method.clone(), &c.path, token);
            if let Some((ct, b)) = &c.body {
                rb = rb.header("content-type", *ct).body(b.to_string());
            }
            let r = rb.send().unwrap();
            let request = r.headers()["x-request-id"].to_str().unwrap().to_string();
            let got = Answer::of(r);
            if got.refused() {
                refused.insert(request);
            }
            if got != expected {
                wrong.push(format!(
                    "{}: {caller}: expected {expected:?}, got {got:?}",
                    c.what
                ));
            }
        };
        check("anonymous", None, Answer::Unauthorized);
        for (caller, token) in &tokens {
            let expected = if REVOKED.contains(caller) {
                Answer::InvalidToken
            } else if allowed(rule, caller, strict) {
                Answer::Through(c.status)
            } else {
                Answer::Denied
            };
            check(caller, Some(token), expected);
        }
    }
    assert!(
        wrong.is_empty(),
        "{policy}: {} wrong cells:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // A refused request changed nothing: the host derives the audit trail from the
    // handlers' store writes, and none carries the id of a refused request.
    let events = s.audit_events();
    assert!(events.len() > 100, "{policy}: the audit trail is read");
    let traces: Vec<&AuditEvent> = events
        .iter()
        .filter(|e| refused.contains(&e.request))
        .collect();
    assert!(
        traces.is_empty(),
        "{policy}: refused requests wrote {traces:?}"
    );
    assert!(
        refused.len() > 500,
        "{policy}: only {} refusals",
        refused.len()
    );
}

#[test]
fn the_roles_policy_table() {
    matrix("roles");
}

#[test]
fn the_strict_policy_table() {
    matrix("strict");
}
