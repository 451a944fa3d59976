//! The policy table of docs/api.md §2.2 as one matrix: every operation, called by every
//! kind of caller, under both built-in policies. "Allowed" means the policy let the request
//! through (whatever the handler then answered); "denied" is 403 `access_denied`;
//! anonymous callers always get 401.
//!
//! The matrix also runs over time: callers whose role, group-manager right, account or
//! client was taken away *after* their token was minted. The ex-admin's token still lists
//! every admin scope, yet each decision follows the state of the database now: the `ex-*`
//! callers are treated exactly as a plain user, and tokens of a disabled or deleted
//! account, or of a removed client, are 401 everywhere.

use iam_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

/// The callers. Every `admin*` token belongs to the admin account (ROLE_ADMIN, ROLE_USER)
/// and differs only in its scopes: `admin` has none of the IAM scopes.
const CALLERS: &[&str] = &[
    "plain",
    "self",
    "reader",
    "gm",
    "gm-other",
    "admin",
    "admin.read",
    "admin.write",
    "scim:read",
    "scim:write",
];

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
    } else {
        caller
    };
    let admin_account = caller.starts_with("admin") || caller.starts_with("scim");
    rule.split(',').map(str::trim).any(|term| match term {
        "self" => caller == "self",
        "USER" => caller != "anonymous",
        "ADMIN" => !strict && admin_account,
        "READER" => !strict && caller == "reader",
        "GM" => !strict && matches!(caller, "gm" | "gm-other"),
        "GM of g" => caller == "gm",
        "iam:admin.read" => caller == "admin.read",
        "iam:admin.write" => caller == "admin.write",
        "scim:read" => caller == "scim:read",
        "scim:write" => caller == "scim:write",
        other => panic!("unknown rule term {other}"),
    })
}

struct Case {
    what: &'static str,
    method: Method,
    path: String,
    body: Option<(&'static str, Value)>,
    roles: &'static str,
    strict: &'static str,
}

fn case(
    what: &'static str,
    method: Method,
    path: String,
    roles: &'static str,
    strict: &'static str,
) -> Case {
    Case {
        what,
        method,
        path,
        body: None,
        roles,
        strict,
    }
}

fn with_body(mut c: Case, content_type: &'static str, body: Value) -> Case {
    c.body = Some((content_type, body));
    c
}

const JSON: &str = "application/json";

fn matrix(policy: &str) {
    let strict = policy == "strict";
    let s = Server::start_with_args(&["--policy", policy]);
    let admin = s.token("admin");
    let target = s.create_user(&admin, "target");
    let other = s.create_user(&admin, "other");
    for name in [
        "plain", "reader", "gm", "gmother", "exadmin", "exreader", "exgm", "disabled", "deleted",
    ] {
        s.create_user(&admin, name);
    }
    let g = s.create_group(&admin, "g");
    let h = s.create_group(&admin, "h");
    let send = |m: Method, path: &str| s.req(m, path, Some(&admin)).send().unwrap();
    let reader = s.user_id(&admin, "reader");
    let gm = s.user_id(&admin, "gm");
    let gm_other = s.user_id(&admin, "gmother");
    assert!(
        send(
            Method::POST,
            &format!("/iam/account/{reader}/authorities?authority=ROLE_READER")
        )
        .status()
        .is_success()
    );
    assert!(
        send(
            Method::POST,
            &format!("/iam/account/{gm}/managed-groups/{g}")
        )
        .status()
        .is_success()
    );
    assert!(
        send(
            Method::POST,
            &format!("/iam/account/{gm_other}/managed-groups/{h}")
        )
        .status()
        .is_success()
    );
    // g keeps a member, so deleting it is refused (400) rather than done.
    assert!(
        send(Method::POST, &format!("/iam/account/{other}/groups/{g}"))
            .status()
            .is_success()
    );

    // The stale callers get their rights and their tokens first, then lose the rights.
    let grant = |m: Method, path: String| {
        let r = send(m, &path);
        assert!(r.status().is_success(), "{path}: {}", r.status());
    };
    let exadmin = s.user_id(&admin, "exadmin");
    let exreader = s.user_id(&admin, "exreader");
    let exgm = s.user_id(&admin, "exgm");
    let disabled = s.user_id(&admin, "disabled");
    let deleted = s.user_id(&admin, "deleted");
    let authority = |a: &str, role: &str| format!("/iam/account/{a}/authorities?authority={role}");
    grant(Method::POST, authority(&exadmin, "ROLE_ADMIN"));
    grant(Method::POST, authority(&exreader, "ROLE_READER"));
    grant(
        Method::POST,
        format!("/iam/account/{exgm}/managed-groups/{g}"),
    );
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
        ("disabled", s.token("disabled")),
        ("deleted", s.token("deleted")),
        ("client-gone", via_gone_client),
    ];
    tick();
    grant(Method::DELETE, authority(&exadmin, "ROLE_ADMIN"));
    grant(Method::DELETE, authority(&exreader, "ROLE_READER"));
    grant(
        Method::DELETE,
        format!("/iam/account/{exgm}/managed-groups/{g}"),
    );
    let mut off = user_body("disabled");
    off["active"] = json!(false);
    let r = s
        .req(
            Method::PUT,
            &format!("/scim/Users/{disabled}"),
            Some(&admin),
        )
        .header("content-type", SCIM)
        .body(off.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "disable an account");
    grant(Method::DELETE, format!("/scim/Users/{deleted}"));
    grant(Method::DELETE, "/iam/api/clients/gone".to_string());

    let mut tokens: Vec<(&str, String)> = CALLERS
        .iter()
        .map(|c| {
            let t = match *c {
                "plain" => s.token("plain"),
                "self" => s.token("target"),
                "reader" => s.token("reader"),
                "gm" => s.token("gm"),
                "gm-other" => s.token("gmother"),
                "admin" => s.token_with("admin", Some("openid")),
                "admin.read" => s.token_with("admin", Some("iam:admin.read")),
                "admin.write" => s.token_with("admin", Some("iam:admin.write")),
                scope => s.token_with("admin", Some(scope)),
            };
            (*c, t)
        })
        .collect();
    tokens.extend(stale);

    let acc = |rest: &str| format!("/iam/account/{target}/{rest}");
    let cases = vec![
        case(
            "GET attributes",
            Method::GET,
            acc("attributes"),
            "iam:admin.read, self, ADMIN, READER, GM",
            "iam:admin.read, self",
        ),
        with_body(
            case(
                "PUT attributes",
                Method::PUT,
                acc("attributes"),
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
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "GET labels",
            Method::GET,
            acc("labels"),
            "iam:admin.read, self, ADMIN, READER, GM",
            "iam:admin.read, self",
        ),
        with_body(
            case(
                "PUT labels",
                Method::PUT,
                acc("labels"),
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
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        with_body(
            case(
                "PUT endTime",
                Method::PUT,
                acc("endTime"),
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
            "iam:admin.read, ADMIN, READER, GM",
            "iam:admin.read",
        ),
        case(
            "POST authorities",
            Method::POST,
            format!("/iam/account/{other}/authorities?authority=ROLE_PRE_AUTHENTICATED"),
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "DELETE authorities",
            Method::DELETE,
            format!("/iam/account/{other}/authorities?authority=ROLE_PRE_AUTHENTICATED"),
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "POST managed-groups",
            Method::POST,
            format!("/iam/account/{other}/managed-groups/{h}"),
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "DELETE managed-groups",
            Method::DELETE,
            format!("/iam/account/{other}/managed-groups/{h}"),
            "iam:admin.write, ADMIN",
            "iam:admin.write",
        ),
        case(
            "GET /iam/me/authorities",
            Method::GET,
            "/iam/me/authorities".into(),
            "USER",
            "USER",
        ),
        case(
            "GET me/clients",
            Method::GET,
            "/iam/account/me/clients".into(),
            "USER",
            "USER",
        ),
        with_body(
            case(
                "PUT me/proxycert",
                Method::PUT,
                "/iam/account/me/proxycert".into(),
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
            "iam:admin.read, ADMIN",
            "iam:admin.read",
        ),
        case(
            "POST membership",
            Method::POST,
            format!("/iam/account/{other}/groups/{g}"),
            "iam:admin.write, ADMIN, GM of g",
            "iam:admin.write, GM of g",
        ),
        case(
            "DELETE membership of a subgroup-less member",
            Method::DELETE,
            format!("/iam/account/{target}/groups/{g}"),
            "iam:admin.write, ADMIN, GM of g",
            "iam:admin.write, GM of g",
        ),
        case(
            "GET managed-groups",
            Method::GET,
            acc("managed-groups"),
            "iam:admin.read, self, ADMIN",
            "iam:admin.read, self",
        ),
        case(
            "GET group-managers",
            Method::GET,
            format!("/iam/group/{g}/group-managers"),
            "iam:admin.read, ADMIN, READER, GM of g",
            "iam:admin.read, GM of g",
        ),
        case(
            "GET account search",
            Method::GET,
            "/iam/account/search".into(),
            "iam:admin.read, scim:read, ADMIN, READER, GM",
            "iam:admin.read",
        ),
        case(
            "GET group search",
            Method::GET,
            "/iam/group/search".into(),
            "USER, iam:admin.read, scim:read",
            "USER, iam:admin.read",
        ),
        with_body(
            case(
                "POST /iam/group",
                Method::POST,
                "/iam/group".into(),
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
            "scim:read, ADMIN, READER",
            "scim:read",
        ),
        case(
            "GET /scim/Users/{id}",
            Method::GET,
            format!("/scim/Users/{target}"),
            "scim:read, ADMIN, READER, GM",
            "scim:read",
        ),
        with_body(
            case(
                "POST /scim/Users",
                Method::POST,
                "/scim/Users".into(),
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
                "scim:write, ADMIN",
                "scim:write",
            ),
            SCIM,
            user_body("other"),
        ),
        case(
            "DELETE /scim/Users/{id}",
            Method::DELETE,
            format!("/scim/Users/{UNKNOWN_ID}"),
            "scim:write, ADMIN",
            "scim:write",
        ),
        case(
            "GET /scim/Groups",
            Method::GET,
            "/scim/Groups".into(),
            "scim:read, ADMIN, READER",
            "scim:read",
        ),
        case(
            "GET /scim/Groups/{g}",
            Method::GET,
            format!("/scim/Groups/{g}"),
            "scim:read, ADMIN, READER, GM of g",
            "scim:read, GM of g",
        ),
        case(
            "GET /scim/Groups/{g}/members",
            Method::GET,
            format!("/scim/Groups/{g}/members"),
            "scim:read, ADMIN, READER, GM of g",
            "scim:read, GM of g",
        ),
        case(
            "GET /scim/Groups/{g}/subgroups",
            Method::GET,
            format!("/scim/Groups/{g}/subgroups"),
            "scim:read, ADMIN, READER, GM of g",
            "scim:read, GM of g",
        ),
        with_body(
            case(
                "POST /scim/Groups",
                Method::POST,
                "/scim/Groups".into(),
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
                "scim:write, ADMIN",
                "scim:write",
            ),
            SCIM,
            group_body("g", None),
        ),
        with_body(
            case(
                "PATCH /scim/Groups/{g}",
                Method::PATCH,
                format!("/scim/Groups/{g}"),
                "scim:write, ADMIN, GM of g",
                "scim:write, GM of g",
            ),
            SCIM,
            json!({"operations": []}),
        ),
        case(
            "DELETE /scim/Groups/{g}",
            Method::DELETE,
            format!("/scim/Groups/{g}"),
            "scim:write, ADMIN, GM of g",
            "scim:write, GM of g",
        ),
        case(
            "GET /scim/Me",
            Method::GET,
            "/scim/Me".into(),
            "scim:read, USER",
            "scim:read, USER",
        ),
        case(
            "GET clients",
            Method::GET,
            "/iam/api/clients".into(),
            "iam:admin.read, ADMIN",
            "iam:admin.read",
        ),
        with_body(
            case(
                "POST clients",
                Method::POST,
                "/iam/api/clients".into(),
                "iam:admin.write, ADMIN",
                "iam:admin.write",
            ),
            JSON,
            json!({}),
        ),
    ];

    let mut wrong = Vec::new();
    for c in &cases {
        let rule = if strict { c.strict } else { c.roles };
        let request = |token: Option<&str>| {
            let mut rb = s.req(c.method.clone(), &c.path, token);
            if let Some((ct, b)) = &c.body {
                rb = rb.header("content-type", *ct).body(b.to_string());
            }
            rb.send().unwrap()
        };
        let r = request(None);
        if r.status() != StatusCode::UNAUTHORIZED {
            wrong.push(format!("{}: anonymous got {}", c.what, r.status()));
        }
        for (caller, token) in &tokens {
            let r = request(Some(token));
            let status = r.status();
            if REVOKED.contains(caller) {
                if status != StatusCode::UNAUTHORIZED {
                    wrong.push(format!("{}: {caller} should be 401, got {status}", c.what));
                }
                continue;
            }
            let expect = allowed(rule, caller, strict);
            if expect && (status == StatusCode::FORBIDDEN || status == StatusCode::UNAUTHORIZED) {
                wrong.push(format!(
                    "{}: {caller} should be allowed, got {status}",
                    c.what
                ));
            }
            if !expect {
                if status != StatusCode::FORBIDDEN {
                    wrong.push(format!(
                        "{}: {caller} should be denied, got {status}",
                        c.what
                    ));
                } else if body(r)
                    != json!({"error": "access_denied", "error_description": "Access is denied"})
                {
                    wrong.push(format!("{}: {caller} denied with the wrong body", c.what));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{policy}: {} wrong cells:\n{}",
        wrong.len(),
        wrong.join("\n")
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
