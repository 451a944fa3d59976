//! Attacks by a site's plugin on the server that loads it (issue 11): a guest that sleeps
//! past its deadline while holding the write lock, a slot that reaches account writes it
//! has no use for, log lines forged through the `log` import or a panic message, and plugin
//! file paths shown on `/metrics` without a token. Each test performs the attack against
//! the real server binary.

use std::process::Command;

use iam_tests::*;
use reqwest::Method;
use serde_json::json;

fn put_label(s: &Server, token: &str, account: &str, name: &str) -> reqwest::blocking::Response {
    s.put_json(
        &format!("/iam/account/{account}/labels"),
        Some(token),
        &json!({"name": name, "value": "v"}),
    )
}

/// Runs `serve` with this config, expects it to refuse to start, and returns its stderr.
fn serve_fails_with(config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("iam.toml");
    std::fs::write(&cfg, config).unwrap();
    let out = Command::new(host_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--db")
        .arg(dir.path().join("iam.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
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
