//! Attacks on tokens and credentials (issue 11), each performed over real HTTP against the
//! real server: stale admin scopes, client tokens posing as accounts, tokens older than
//! their account, parallel and distributed password guessing, client-secret guessing and
//! its timing, echoed credentials, and audit events that must say who acted.

use std::time::{Duration, Instant};

use iam_tests::oauth::*;
use iam_tests::*;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

const ADMIN_SCOPES: &str = "openid iam:admin.read iam:admin.write scim:read scim:write";

/// Creates `username` with `password` and returns its id.
fn user_with_password(s: &Server, admin: &str, username: &str, password: &str) -> String {
    let mut b = user_body(username);
    b["password"] = json!(password);
    let r = s.post_scim("/scim/Users", Some(admin), &b);
    expect_json(r, StatusCode::CREATED, "create user")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn authority(s: &Server, admin: &str, method: Method, account: &str, role: &str) -> Response {
    s.req(
        method,
        &format!("/iam/account/{account}/authorities?authority={role}"),
        Some(admin),
    )
    .send()
    .unwrap()
}

fn introspect(s: &Server, token: &str) -> Value {
    introspect_as(s, "app", token)
}

#[test]
fn a_demoted_admin_loses_the_admin_scopes_at_once_and_on_refresh() {
    let s = Server::start();
    let admin = s.token("admin");
    register(
        &s,
        &admin,
        "app",
        &["password", "refresh_token", "client_credentials"],
        ADMIN_SCOPES,
        false,
    );
    let bob = user_with_password(&s, &admin, "bob", "bob-password");
    expect(
        authority(&s, &admin, Method::POST, &bob, "ROLE_ADMIN"),
        StatusCode::OK,
        "make bob an admin",
    );
    let t = password_grant(&s, "app", "bob", "bob-password", ADMIN_SCOPES);
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(scopes(&t).len(), 5, "{t}");
    expect_json(
        s.get("/scim/Users", Some(&access)),
        StatusCode::OK,
        "bob as an admin",
    );

    expect(
        authority(&s, &admin, Method::DELETE, &bob, "ROLE_ADMIN"),
        StatusCode::OK,
        "demote bob",
    );
    // The old token still carries the scopes, but they no longer count.
    expect_denied(s.get("/scim/Users", Some(&access)), "list users");
    expect_denied(
        s.get("/iam/account/search", Some(&access)),
        "search accounts",
    );
    expect_denied(
        authority(&s, &access, Method::POST, &bob, "ROLE_ADMIN"),
        "grant ROLE_ADMIN back",
    );
    expect_denied(
        s.put_json(
            &attributes_path(&bob),
            Some(&access),
            &json!({"name": "a", "value": "b"}),
        ),
        "write attributes",
    );
    assert_eq!(
        scopes(&introspect(&s, &access)),
        ["openid"],
        "introspection shows the scopes that count"
    );

    // A refresh mints no admin scopes, and neither does the rotated refresh token later.
    let r = token_ok(refresh_grant(&s, "app", &refresh));
    assert_eq!(scopes(&r), ["openid"], "{r}");
    let refresh2 = r["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(scopes(&introspect(&s, &refresh2)), ["openid"]);
    expect(
        authority(&s, &admin, Method::POST, &bob, "ROLE_ADMIN"),
        StatusCode::OK,
        "promote bob again",
    );
    let r = token_ok(refresh_grant(&s, "app", &refresh2));
    assert_eq!(
        scopes(&r),
        ["openid"],
        "a refresh token stripped once stays stripped: {r}"
    );

    // A client token has no account: it keeps the scopes its client was granted.
    let c = token_ok(post_form(
        &s,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "iam:admin.read"),
        ],
    ));
    let client_token = c["access_token"].as_str().unwrap();
    expect_json(
        s.get("/iam/api/clients", Some(client_token)),
        StatusCode::OK,
        "client token with iam:admin.read",
    );
}

#[test]
fn a_client_token_never_acts_as_an_account() {
    let s = Server::start();
    let admin = s.token("admin");
    let admin_id = s.user_id(&admin, "admin");
    // A client id equal to an account id is refused.
    let r = s
        .req(Method::POST, "/iam/api/clients", Some(&admin))
        .header("content-type", "application/json")
        .body(
            json!({"client_id": admin_id, "client_secret": SECRET, "scope": "openid",
                   "grant_types": ["client_credentials"]})
            .to_string(),
        )
        .send()
        .unwrap();
    let v = expect_json(r, StatusCode::BAD_REQUEST, "client named after the admin");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("Client id not available"),
        "{v}"
    );

    // Even a client that got such an id (renamed in the database behind the API's back)
    // gets a client token, never the admin's.
    register(&s, &admin, "app", &["client_credentials"], "openid", false);
    let renamed = s.sql_execute(&format!(
        "UPDATE clients SET client_id = {} WHERE client_id = 'app'",
        sql_str(&admin_id)
    ));
    assert_eq!(renamed, 1);
    let t = token_ok(post_form(
        &s,
        "/token",
        Some((&admin_id, SECRET)),
        &[("grant_type", "client_credentials")],
    ));
    let token = t["access_token"].as_str().unwrap();
    let c = claims(token);
    assert_eq!(c["sub"], admin_id.as_str());
    assert_eq!(c["kind"], "client", "{c}");
    expect_denied(s.get("/iam/me/authorities", Some(token)), "me/authorities");
    expect_denied(
        s.get(&attributes_path(&admin_id), Some(token)),
        "the admin's attributes as 'self'",
    );
    expect_denied(s.get("/scim/Me", Some(token)), "scim/Me");
    let i = introspect_as(&s, &admin_id, token);
    assert_eq!(i["active"], true, "{i}");
    assert!(
        i.get("username").is_none(),
        "a client token has no user: {i}"
    );

    // A token that does not say what it is is refused, whatever its subject.
    let forged = s.sign(&json!({"iss": s.base, "sub": admin_id, "iat": now_secs(),
                                "exp": now_secs() + 300, "jti": "x", "scope": "openid"}));
    expect_invalid_token(s.get("/iam/me/authorities", Some(&forged)), "no kind");
    // A client token must name its client as its subject.
    let forged = s.sign(
        &json!({"iss": s.base, "sub": admin_id, "client_id": "nobody",
                                "kind": "client", "iat": now_secs(),
                                "exp": now_secs() + 300, "jti": "y", "scope": "openid"}),
    );
    expect_invalid_token(
        s.get("/iam/me/authorities", Some(&forged)),
        "client token for another subject",
    );
}

fn introspect_as(s: &Server, client: &str, token: &str) -> Value {
    expect_json(
        post_form(
            s,
            "/introspect",
            Some((client, SECRET)),
            &[("token", token)],
        ),
        StatusCode::OK,
        "introspect",
    )
}

#[test]
fn a_token_older_than_its_account_is_refused() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let claims = |iat: u64| {
        json!({"iss": s.base, "sub": alice, "kind": "user", "iat": iat,
               "exp": now_secs() + 300, "jti": format!("j{iat}"), "scope": "openid"})
    };
    expect_json(
        s.get("/iam/me/authorities", Some(&s.sign(&claims(now_secs())))),
        StatusCode::OK,
        "a token issued now",
    );
    expect_invalid_token(
        s.get(
            "/iam/me/authorities",
            Some(&s.sign(&claims(now_secs() - 3600))),
        ),
        "a token issued an hour before the account existed",
    );
}

/// An HTTP client whose requests come from `source` (any 127.x.y.z is this machine).
fn client_from(source: &str) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .local_address(Some(source.parse().unwrap()))
        .build()
        .unwrap()
}

/// Sends a password grant for `username` through `client`.
fn login_with(
    client: &reqwest::blocking::Client,
    s: &Server,
    username: &str,
    password: &str,
) -> Response {
    client
        .post(s.url("/token"))
        .basic_auth("app", Some(SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ]))
        .send()
        .unwrap()
}

fn login_from(s: &Server, source: &str, username: &str, password: &str) -> Response {
    login_with(&client_from(source), s, username, password)
}

/// Counts answers by status; every 429 must say how long to wait.
fn tally(answers: Vec<Response>) -> (usize, usize) {
    let (mut rejected, mut throttled) = (0, 0);
    for r in answers {
        match r.status() {
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => rejected += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(r.headers().contains_key("retry-after"));
                throttled += 1;
            }
            other => panic!("unexpected {other}: {}", r.text().unwrap()),
        }
    }
    (rejected, throttled)
}

/// The most guesses a throttle with `free` free failures lets through in `elapsed`: the
/// free ones, the first one past them, and one more each time a doubling wait (1 s, 2 s,
/// 4 s, ...) runs out. Unthrottled, a machine checks dozens in that time.
fn most_evaluated(free: usize, elapsed: Duration) -> usize {
    free + 2 + (elapsed.as_secs_f64() + 1.0).log2().ceil() as usize
}

/// Asserts that `username` is throttled now: a wrong guess (which, if it is still
/// evaluated, starts a new wait) and then at once the right password both get 429 or the
/// wrong one 400 and the right one 429.
fn right_password_is_refused_now(s: &Server, source: &str, username: &str, password: &str) {
    let c = client_from(source);
    let _ = login_with(&c, s, username, "one-more-wrong-guess");
    let r = login_with(&c, s, username, password);
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password while {username} is throttled"
    );
    assert!(r.headers().contains_key("retry-after"));
}

#[test]
fn parallel_and_distributed_password_guessing_is_throttled() {
    let s = Server::start();
    let admin = s.token("admin");
    register(&s, &admin, "app", &["password"], "openid", false);
    user_with_password(&s, &admin, "bob", "bob-password");
    user_with_password(&s, &admin, "carol", "carol-password");

    // 40 guesses at once from one address: attempts count when they start, so only the
    // free ones (3 per source) are evaluated.
    let clients: Vec<_> = (0..40).map(|_| client_from("127.0.0.1")).collect();
    let started = Instant::now();
    let answers: Vec<Response> = std::thread::scope(|scope| {
        let handles: Vec<_> = clients
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let s = &s;
                scope.spawn(move || login_with(c, s, "bob", &format!("guess-{i}")))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let most = most_evaluated(3, started.elapsed());
    let (evaluated, throttled) = tally(answers);
    assert!(
        evaluated <= most,
        "{evaluated} parallel guesses were evaluated (at most {most})"
    );
    assert_eq!(evaluated + throttled, 40);
    // While throttled, the right password gets the same 429: no oracle.
    right_password_is_refused_now(&s, "127.0.0.1", "bob", "bob-password");

    // One guess each from 40 addresses: the account's own cap across sources holds (10
    // free failures, then a wait that doubles; a slow run may see the first wait end).
    let sources: Vec<_> = (0..40)
        .map(|i| client_from(&format!("127.0.1.{}", i + 1)))
        .collect();
    let started = Instant::now();
    let answers: Vec<Response> = sources
        .iter()
        .map(|c| login_with(c, &s, "carol", "wrong"))
        .collect();
    let most = most_evaluated(10, started.elapsed());
    let (evaluated, _) = tally(answers);
    assert!(
        evaluated <= most,
        "{evaluated} distributed guesses were evaluated (at most {most})"
    );
    // From a fresh address too, the right password waits.
    right_password_is_refused_now(&s, "127.0.2.1", "carol", "carol-password");
    // Another account is not affected.
    token_ok(login_from(&s, "127.0.2.1", "admin", ADMIN_PASSWORD));
}

/// A client_credentials request authenticated as (`id`, `secret`).
fn client_login(s: &Server, id: &str, secret: &str) -> Response {
    post_form(
        s,
        "/token",
        Some((id, secret)),
        &[("grant_type", "client_credentials")],
    )
}

#[test]
fn client_secret_guessing_is_throttled() {
    let s = Server::start();
    let admin = s.token("admin");
    register(&s, &admin, "app", &["client_credentials"], "openid", false);
    let started = Instant::now();
    let answers: Vec<Response> = (0..10).map(|_| client_login(&s, "app", "guess")).collect();
    let most = most_evaluated(3, started.elapsed());
    let (evaluated, throttled) = tally(answers);
    assert!(
        evaluated <= most,
        "{evaluated} secret guesses were evaluated (at most {most})"
    );
    assert!(throttled >= 10 - most);
    // A wrong guess (starting a new wait if it is still evaluated), then the right secret.
    let _ = client_login(&s, "app", "one-more-guess");
    let r = client_login(&s, "app", SECRET);
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right secret while throttled"
    );
    // The lock is per client: another client is served.
    register(
        &s,
        &admin,
        "other",
        &["client_credentials"],
        "openid",
        false,
    );
    token_ok(client_login(&s, "other", SECRET));
}

#[test]
fn unknown_clients_take_as_long_as_known_ones() {
    let s = Server::start();
    let admin = s.token("admin");
    for i in 0..6 {
        register(
            &s,
            &admin,
            &format!("known-{i}"),
            &["client_credentials"],
            "openid",
            false,
        );
    }
    let time = |id: &str| {
        let started = Instant::now();
        let r = client_login(&s, id, "wrong-secret");
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        started.elapsed()
    };
    // Interleaved, so load on the machine hits both alike; the fastest of each.
    let (mut known, mut unknown) = (Duration::MAX, Duration::MAX);
    for i in 0..6 {
        known = known.min(time(&format!("known-{i}")));
        unknown = unknown.min(time(&format!("unknown-{i}")));
    }
    assert!(
        unknown * 4 > known,
        "an unknown client answers in {unknown:?}, a known one in {known:?}"
    );
}

/// The server's peak resident memory (VmHWM), in KiB.
fn peak_rss_kib(s: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap()
}

#[test]
fn a_flood_of_secret_checks_does_not_exhaust_memory() {
    let s = Server::start();
    // Warm up: one check of each kind.
    assert_eq!(
        client_login(&s, "nobody", "x").status(),
        StatusCode::UNAUTHORIZED
    );
    let before = peak_rss_kib(&s);
    // 64 checks at once, each a ~19 MiB argon2 hash (unknown ids are checked against a
    // dummy hash); unbounded they would need over a GiB.
    let answers: Vec<Response> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let s = &s;
                scope.spawn(move || client_login(s, &format!("flood-{i}"), "x"))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in answers {
        assert!(
            matches!(
                r.status(),
                StatusCode::UNAUTHORIZED | StatusCode::SERVICE_UNAVAILABLE
            ),
            "{}",
            r.status()
        );
    }
    let grown_mib = (peak_rss_kib(&s) - before) / 1024;
    assert!(
        grown_mib < 300,
        "peak memory grew by {grown_mib} MiB under 64 concurrent checks"
    );
}

#[test]
fn error_answers_never_echo_credentials() {
    let s = Server::start();
    let admin = s.token("admin");
    register(
        &s,
        &admin,
        "app",
        &["refresh_token", "password"],
        "openid",
        false,
    );
    let bait = "<script>alert(1)</script>-secret-refresh-value";
    let r = post_form(
        &s,
        "/token",
        Some(("app", SECRET)),
        &[("grant_type", "refresh_token"), ("refresh_token", bait)],
    );
    let text = expect(r, StatusCode::BAD_REQUEST, "bad refresh token");
    assert!(!text.contains("secret-refresh-value"), "{text}");
    assert!(!text.contains("<script>"), "{text}");
    let r = post_form(
        &s,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", bait),
        ],
    );
    let text = expect(r, StatusCode::BAD_REQUEST, "bad password");
    assert!(!text.contains("secret-refresh-value"), "{text}");
    let r = s.get("/iam/me/authorities", Some(bait));
    let text = expect(r, StatusCode::UNAUTHORIZED, "bad bearer token");
    assert!(!text.contains("secret-refresh-value"), "{text}");
}

#[test]
fn audit_events_say_who_acted_and_from_where() {
    let s = Server::start();
    let admin = s.token("admin");
    let admin_id = s.user_id(&admin, "admin");
    register(&s, &admin, "app", &["password"], ADMIN_SCOPES, false);
    let t = password_grant(&s, "app", "admin", ADMIN_PASSWORD, ADMIN_SCOPES);
    let token = t["access_token"].as_str().unwrap();
    let alice = s.create_user(&admin, "alice");
    let r = s.put_json(
        &attributes_path(&alice),
        Some(token),
        &json!({"name": "marker-attr", "value": "v"}),
    );
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    expect(r, StatusCode::OK, "set an attribute");
    let line = s
        .log()
        .lines()
        .find(|l| l.contains("audit") && l.contains("marker-attr"))
        .unwrap_or_else(|| panic!("no audit line:\n{}", s.log()))
        .to_string();
    for part in [
        format!("actor_account=\"{admin_id}\""),
        "actor_client=\"app\"".to_string(),
        "source=\"127.0.0.1\"".to_string(),
        format!("request=\"{request_id}\""),
    ] {
        assert!(line.contains(&part), "{part} missing from: {line}");
    }
}
