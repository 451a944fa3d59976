//! OAuth helpers shared by the token tests: registering clients, posting forms to the
//! token endpoint, reading answers and token claims.

use base64::Engine as _;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::{Server, StatusCode, expect_json, query};

/// The secret every client registered by [`register`] gets.
pub const SECRET: &str = "s3cret-value";

/// Registers a client with [`SECRET`] (none for a public client).
pub fn register(s: &Server, admin: &str, id: &str, grants: &[&str], scope: &str, public: bool) {
    let mut body = json!({"client_id": id, "scope": scope, "grant_types": grants});
    if public {
        body["token_endpoint_auth_method"] = json!("none");
    } else {
        body["client_secret"] = json!(SECRET);
    }
    let r = post_client(s, admin, &body);
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().unwrap());
}

/// `POST /iam/api/clients` with `body`, as `token`.
pub fn post_client(s: &Server, token: &str, body: &Value) -> Response {
    s.post_json("/iam/api/clients", Some(token), body)
}

/// POSTs a form to `path`, authenticating as `basic` (id, secret) when given.
pub fn post_form(
    s: &Server,
    path: &str,
    basic: Option<(&str, &str)>,
    pairs: &[(&str, &str)],
) -> Response {
    let mut rb = s
        .req(Method::POST, path, None)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(pairs));
    if let Some((id, secret)) = basic {
        rb = rb.basic_auth(id, Some(secret));
    }
    rb.send().unwrap()
}

/// A successful token answer.
pub fn token_ok(r: Response) -> Value {
    assert_eq!(r.headers()["cache-control"], "no-store");
    let v = expect_json(r, StatusCode::OK, "token");
    assert_eq!(v["token_type"], "Bearer", "{v}");
    v
}

/// An RFC 6749 §5.2 error with exactly this status and code.
pub fn oauth_error(r: Response, status: StatusCode, code: &str) -> Value {
    let v = expect_json(r, status, code);
    assert_eq!(v["error"], code, "{v}");
    assert!(v["error_description"].is_string(), "{v}");
    v
}

/// The claims of a JWT (not verified: the server checks signatures).
pub fn claims(jwt: &str) -> Value {
    jwt_part(jwt, 1)
}

/// The header of a JWT.
pub fn jwt_header(jwt: &str) -> Value {
    jwt_part(jwt, 0)
}

fn jwt_part(jwt: &str, n: usize) -> Value {
    let part = jwt.split('.').nth(n).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// A password-grant token (access and refresh) for `username` through client `client`.
pub fn password_grant(
    s: &Server,
    client: &str,
    username: &str,
    password: &str,
    scope: &str,
) -> Value {
    token_ok(post_form(
        s,
        "/token",
        Some((client, SECRET)),
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
            ("scope", scope),
        ],
    ))
}

/// The `refresh_token` grant through client `client` (authenticated with [`SECRET`]).
pub fn refresh_grant(s: &Server, client: &str, refresh_token: &str) -> reqwest::blocking::Response {
    post_form(
        s,
        "/token",
        Some((client, SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
}

/// The `scope` of a token answer or introspection, sorted.
pub fn scopes(v: &Value) -> Vec<String> {
    let mut s: Vec<String> = v["scope"]
        .as_str()
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();
    s.sort();
    s
}
