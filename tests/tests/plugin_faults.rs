//! Plugins loaded through the config, and guests that misbehave: each failure stays inside
//! its own request, rolls its transaction back, and is logged with the request id.

use iam_tests::*;
use serde_json::{Value, json};

fn faulty_handler_server(extra_plugins_toml: &str) -> Server {
    Server::start_with_config(&format!(
        "[plugins]\n{extra_plugins_toml}\n[plugins.handlers]\nattributes = \"{FAULTY_HANDLER}\"\n"
    ))
}

fn put_attr(s: &Server, token: &str, account: &str, name: &str) -> reqwest::blocking::Response {
    s.put_json(
        &format!("/iam/account/{account}/attributes"),
        Some(token),
        &json!({"name": name, "value": "v"}),
    )
}

fn attribute_names(s: &Server, token: &str, account: &str) -> Vec<String> {
    let r = s.get(&format!("/iam/account/{account}/attributes"), Some(token));
    assert_eq!(r.status(), StatusCode::OK);
    body(r)
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect()
}

/// The server still answers, and an ordinary write through the same plugin still works.
fn assert_still_serving(s: &Server, token: &str, account: &str) {
    assert_eq!(s.get("/health", None).status(), StatusCode::OK);
    assert_eq!(put_attr(s, token, account, "fine").status(), StatusCode::OK);
}

#[test]
fn a_trapping_handler_fails_only_its_request() {
    let s = faulty_handler_server("");
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");

    let r = put_attr(&s, &admin, &me, "trap");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let err = body(r);
    let msg = err["error"].as_str().unwrap();
    assert!(
        msg.contains("plugin 'attributes' failed") && msg.contains(&request_id),
        "{msg}"
    );
    assert!(
        !msg.contains(".wasm"),
        "the body must not reveal server paths: {msg}"
    );

    assert_still_serving(&s, &admin, &me);
    assert_eq!(attribute_names(&s, &admin, &me), ["fine"]);

    // The log names the request and carries the guest's panic message from its stderr.
    let log = s.log();
    let line = log
        .lines()
        .position(|l| l.contains(&request_id) && l.contains("plugin failed"))
        .unwrap_or_else(|| panic!("no failure logged for {request_id}:\n{log}"));
    let rest: String = log
        .lines()
        .skip(line)
        .take(40)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        rest.contains("deliberate trap requested by the test"),
        "{rest}"
    );
}

#[test]
fn a_looping_handler_is_stopped_by_the_deadline() {
    let s = faulty_handler_server("deadline_ms = 300");
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let r = put_attr(&s, &admin, &me, "loop");
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body(r)["error"]
            .as_str()
            .unwrap()
            .contains("exceeded its time limit")
    );
    assert_still_serving(&s, &admin, &me);
    assert!(s.log().contains("kind=Deadline"));
}

#[test]
fn a_handler_that_exhausts_memory_is_stopped_by_the_cap() {
    let s = faulty_handler_server("memory_mib = 16");
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    for _ in 0..3 {
        let r = put_attr(&s, &admin, &me, "alloc");
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            body(r)["error"]
                .as_str()
                .unwrap()
                .contains("exceeded its memory limit")
        );
    }
    assert_still_serving(&s, &admin, &me);
}

#[test]
fn a_handler_that_writes_then_traps_leaves_nothing_behind() {
    let s = faulty_handler_server("");
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let before = s.last_modified(&admin, &format!("/scim/Users/{me}"));
    std::thread::sleep(std::time::Duration::from_millis(5));

    let r = put_attr(&s, &admin, &me, "writetrap");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Neither the attribute nor the touch of the account survived.
    assert!(attribute_names(&s, &admin, &me).is_empty());
    assert_eq!(
        s.last_modified(&admin, &format!("/scim/Users/{me}")),
        before
    );
    // Also after a restart: the rollback reached the file.
    let mut s = s;
    s.restart();
    let admin = s.token("admin");
    assert!(attribute_names(&s, &admin, &me).is_empty());
}

#[test]
fn a_policy_from_a_file_replaces_the_builtin() {
    let s = Server::start_with_args(&["--policy", FAULTY_POLICY]);
    let admin = s.token("admin");
    let user = s.create_user(&admin, "plainuser");
    let plain = s.token("plainuser");
    // The built-in `roles` policy refuses a plain user's write; this policy allows it...
    let r = put_attr(&s, &plain, &user, "granted");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(attribute_names(&s, &plain, &user), ["granted"]);
    // ...and denies every delete, even the admin's.
    let r = s.delete(
        &format!("/iam/account/{user}/attributes?name=granted"),
        Some(&admin),
    );
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        body(r),
        json!({"error": "access_denied", "error_description": "Access is denied"})
    );
}

#[test]
fn a_failing_policy_denies_only_its_request() {
    let s = Server::start_with_config(&format!(
        "[plugins]\npolicy = \"{FAULTY_POLICY}\"\ndeadline_ms = 300\n"
    ));
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");

    // Fail closed: a policy that traps or runs out of time denies.
    for (path, kind) in [("trap", "trapped"), ("loop", "deadline exceeded")] {
        let r = s.get(&format!("/iam/account/{path}/attributes"), Some(&admin));
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            body(r),
            json!({"error": "access_denied", "error_description": "Access is denied"})
        );
        let log = s.log();
        assert!(
            log.contains("the policy failed: the request is denied") && log.contains(kind),
            "{path}: {log}"
        );
    }

    assert_eq!(s.get("/health", None).status(), StatusCode::OK);
    let r = s.get(&format!("/iam/account/{me}/attributes"), Some(&admin));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(body(r), Value::Array(vec![]));
    assert!(s.log().contains("deliberate policy trap"));
}

#[test]
fn many_faults_in_a_row_do_not_exhaust_the_instance_pool() {
    let s = faulty_handler_server("");
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    // More failing calls than the pool has instance slots: every failed instance must be
    // returned to the pool.
    for _ in 0..300 {
        assert_eq!(
            put_attr(&s, &admin, &me, "trap").status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    assert_still_serving(&s, &admin, &me);
    // A component that keeps failing is reported loudly.
    let log = s.log();
    for streak in [5, 8, 256] {
        assert!(
            log.contains(&format!("plugin has failed {streak} calls in a row")),
            "{streak}"
        );
    }
}
