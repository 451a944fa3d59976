//! Attacks by a site's plugin on the server that loads it (issue 11): a guest that sleeps
//! past its deadline while holding the write lock, a slot that reaches account writes it
//! has no use for, log lines forged through the `log` import or a panic message, and plugin
//! file paths shown on `/metrics` without a token. Each test performs the attack against
//! the real server binary.

use std::process::Command;
use std::time::{Duration, Instant};

use iam_tests::*;
use reqwest::Method;
use serde_json::json;

/// The labels slot filled by `component`, with `deadline_ms` as its limit.
fn labels_plugin_server(component: &str, deadline_ms: u64) -> Server {
    Server::start_with_config(&format!(
        "[plugins.handlers.labels]\ncomponent = \"{component}\"\ndeadline_ms = {deadline_ms}\n"
    ))
}

fn put_label(s: &Server, token: &str, account: &str, name: &str) -> reqwest::blocking::Response {
    s.put_json(
        &format!("/iam/account/{account}/labels"),
        Some(token),
        &json!({"name": name, "value": "v"}),
    )
}

fn label_names(s: &Server, token: &str, account: &str) -> Vec<String> {
    let r = s.get(&format!("/iam/account/{account}/labels"), Some(token));
    expect_json(r, StatusCode::OK, "GET labels")
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect()
}

// --- 7: a plugin cannot outlive its deadline by sleeping ---------------------------------

#[test]
fn a_sleeping_handler_ends_at_its_deadline_and_other_writes_go_on() {
    let s = labels_plugin_server(SLEEPY_HANDLER, 1000);
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let other = s.create_user(&admin, "bystander");

    std::thread::scope(|scope| {
        // The sleeper asks for 30 s inside its write transaction.
        let sleeper = scope.spawn(|| {
            let started = Instant::now();
            let r = put_label(&s, &admin, &me, "sleep");
            (started.elapsed(), r)
        });
        // Meanwhile another request writes through another slot.
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let r = s.put_json(
            &attributes_path(&other),
            Some(&admin),
            &json!({"name": "meanwhile", "value": "written"}),
        );
        let waited = started.elapsed();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            waited < Duration::from_secs(5),
            "the other write waited {waited:?} behind the sleeper"
        );

        let (took, r) = sleeper.join().unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let msg = body(r)["error"].as_str().unwrap().to_string();
        assert!(
            msg.contains("plugin 'labels' exceeded its time limit"),
            "{msg}"
        );
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(5),
            "the sleeper's request took {took:?} for a deadline of 1 s"
        );
    });

    // The sleeper's write was rolled back; the other one stayed.
    assert!(label_names(&s, &admin, &me).is_empty());
    let attrs = body(s.get(&attributes_path(&other), Some(&admin)));
    assert_eq!(attrs, json!([{"name": "meanwhile", "value": "written"}]));
    let log = s.log();
    assert!(
        log.contains("kind=Deadline") && log.contains("waited (wasi:io/poll) until its deadline"),
        "{log}"
    );
    // The server goes on serving through the same plugin.
    assert_eq!(put_label(&s, &admin, &me, "fine").status(), StatusCode::OK);
}

#[test]
fn a_short_sleep_within_the_deadline_still_works() {
    let s = labels_plugin_server(SLEEPY_HANDLER, 1000);
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let r = put_label(&s, &admin, &me, "nap");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(label_names(&s, &admin, &me), ["nap"]);
}

// --- 8: least privilege between slots ------------------------------------------------------

#[test]
fn a_labels_plugin_that_imports_account_writes_is_refused_at_start() {
    let err = serve_fails_with(&format!(
        "[plugins.handlers]\nlabels = \"{WRITER_HANDLER}\"\n"
    ));
    assert!(
        err.contains("plugin slot 'labels'")
            && err.contains("imports iam:plugin/account-writer@0.1.0")
            && err.contains("which the 'labels' slot does not provide")
            && err.contains("only the 'scim' slot gets it"),
        "{err}"
    );

    // `plugin check` says the same, and that the component fits no slot.
    let out = Command::new(host_binary())
        .args(["plugin", "check", WRITER_HANDLER])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("labels: does not fit: imports iam:plugin/account-writer@0.1.0")
            && text.contains("passwords"),
        "{text}"
    );
    assert!(!text.contains(": fits"), "{text}");
}

#[test]
fn a_running_server_refuses_to_reload_into_a_plugin_with_account_writes() {
    let s = Server::start_with_config("");
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    std::fs::write(
        s.dir.path().join("iam.toml"),
        format!("[plugins.handlers]\nlabels = \"{WRITER_HANDLER}\"\n"),
    )
    .unwrap();
    let r = s
        .req(Method::POST, "/iam/admin/plugins/reload", Some(&admin))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let msg = body(r)["error"].as_str().unwrap().to_string();
    assert!(
        msg.contains("plugin slot 'labels'") && msg.contains("iam:plugin/account-writer"),
        "{msg}"
    );
    // The built-in labels handler still serves, and the admin's password is untouched.
    assert_eq!(put_label(&s, &admin, &me, "fine").status(), StatusCode::OK);
    let list = expect_json(
        s.get("/iam/admin/plugins", Some(&admin)),
        StatusCode::OK,
        "list",
    );
    let labels = list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slot"] == "labels")
        .unwrap();
    assert_eq!(labels["component"], "builtin:labels-handler");
}

// --- 11: leaks and forged log lines --------------------------------------------------------

/// The lines of the server's log that start like a host line of year 2099: forged ones.
fn forged_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| {
            l.trim_start_matches(|c: char| !c.is_ascii_digit())
                .starts_with("2099-")
        })
        .collect()
}

#[test]
fn a_plugin_log_line_cannot_forge_a_host_line() {
    let s = labels_plugin_server(LOG_FORGER, 1000);
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let r = s.get(&format!("/iam/account/{me}/labels"), Some(&admin));
    assert_eq!(r.status(), StatusCode::OK);
    let request = r.headers()["x-request-id"].to_str().unwrap().to_string();

    let log = s.log();
    assert!(forged_lines(&log).is_empty(), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "a raw escape reached the log:\n{log}"
    );
    // Each message is one line, escaped, under the guest's tags and the request id.
    for (start, level) in [
        ("x\\n2099-01-01", "INFO"),
        ("y\\r\\u{1b}[2K2099-01-01", "WARN"),
    ] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(start)).collect();
        assert_eq!(lines.len(), 1, "{start}:\n{log}");
        let line = lines[0];
        assert!(
            line.contains(level)
                && line.contains(" plugin: ")
                && line.contains("plugin=\"labels\"")
                && line.contains("component=\"site:labels@sha256:")
                && line.contains(&request)
                && line.contains("account=\"forged\""),
            "{line}"
        );
    }
}

#[test]
fn a_plugin_panic_message_cannot_forge_a_host_line() {
    let s = labels_plugin_server(LOG_FORGER, 1000);
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let r = put_label(&s, &admin, &me, "anything");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let log = s.log();
    assert!(forged_lines(&log).is_empty(), "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("plugin failed"))
        .unwrap_or_else(|| panic!("no failure logged:\n{log}"));
    assert!(
        line.contains("slot=\"labels\"") && line.contains("z\\n2099-01-01T00:00:00"),
        "the guest's stderr should be on the failure's line, escaped: {line}"
    );
}

#[test]
fn metrics_without_a_token_show_no_plugin_path() {
    let plugins = tempfile::tempdir().unwrap();
    let labels = plugins.path().join("secret-site-labels.wasm");
    std::fs::copy(SLEEPY_HANDLER, &labels).unwrap();
    let policy = plugins.path().join("secret-site-policy.wasm");
    std::fs::copy(FAULTY_POLICY, &policy).unwrap();
    let s = Server::start_with_config(&format!(
        "[plugins]\npolicy = \"{}\"\npolicy_shadow = \"{}\"\n[plugins.handlers]\nlabels = \"{}\"\n",
        policy.display(),
        policy.display(),
        labels.display()
    ));
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    assert_eq!(
        put_label(&s, &admin, &me, "counted").status(),
        StatusCode::OK
    );

    let r = s.get("/metrics", None);
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().unwrap();
    let dir = plugins.path().to_string_lossy().into_owned();
    for leak in [dir.as_str(), "secret-site", ".wasm", "/tmp"] {
        assert!(!text.contains(leak), "/metrics shows {leak:?}:\n{text}");
    }
    let list = expect_json(
        s.get("/iam/admin/plugins", Some(&admin)),
        StatusCode::OK,
        "list",
    );
    let slot = |name: &str| {
        list["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["slot"] == name)
            .unwrap()
            .clone()
    };
    // Named by slot and digest; the admin endpoint still has the path for the operator.
    let labels_slot = slot("labels");
    let digest = labels_slot["sha256"].as_str().unwrap();
    let name = format!("site:labels@sha256:{}", &digest[..12]);
    assert_eq!(labels_slot["name"], name.as_str());
    assert_eq!(labels_slot["component"], labels.to_string_lossy().as_ref());
    assert!(
        text.contains(&format!(
            "iam_plugin_calls_total{{slot=\"labels\",component=\"{name}\"}}"
        )),
        "{text}"
    );
    assert!(
        text.contains("component=\"site:policy@sha256:")
            && text.contains("component=\"site:policy_shadow@sha256:"),
        "{text}"
    );
    assert!(
        text.contains("component=\"builtin:attributes-handler\""),
        "{text}"
    );
}
