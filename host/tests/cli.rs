//! The `iam-host` command line. (Also makes `cargo test --workspace` build the binary the
//! black-box tests in `tests/` start.)

use std::process::Command;

fn iam_host() -> Command {
    Command::new(env!("CARGO_BIN_EXE_iam-host"))
}

#[test]
fn help_lists_the_commands() {
    let out = iam_host().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("serve") && text.contains("token"), "{text}");
}

#[test]
fn token_needs_an_existing_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = iam_host()
        .args(["token", "--username", "admin", "--db"])
        .arg(dir.path().join("missing.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
}

#[test]
fn serve_refuses_an_unknown_policy_and_a_missing_plugin_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("iam.db");
    let out = iam_host()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            "nonsense",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown policy 'nonsense'"));

    let out = iam_host()
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--policy",
            "/nonexistent/p.wasm",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plugin slot 'policy'") && err.contains("/nonexistent/p.wasm"),
        "{err}"
    );
}

/// Writes a config that puts `component` into the `attributes` handler slot, runs `serve`
/// with it, expects it to fail, and returns its stderr.
fn serve_fails_with_attributes_component(component: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("iam.toml");
    std::fs::write(
        &path,
        format!("[plugins.handlers]\nattributes = \"{component}\"\n"),
    )
    .unwrap();
    let out = iam_host()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .arg("--db")
        .arg(dir.path().join("iam.db"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn serve_refuses_a_component_that_does_not_fit_its_slot() {
    // The built-in policy component exports no handler interface.
    let err = serve_fails_with_attributes_component(env!("IAM_GUEST_POLICY_ROLES"));
    assert!(
        err.contains("plugin slot 'attributes'") && err.contains("does not export"),
        "{err}"
    );
}

fn plugin_check(args: &[&str]) -> (bool, String) {
    let out = iam_host()
        .args(["plugin", "check"])
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn plugin_check_reports_what_a_component_fits() {
    let policy = env!("IAM_GUEST_POLICY_ROLES");
    let (ok, text) = plugin_check(&[policy]);
    assert!(ok, "{text}");
    assert!(text.contains("contract:  iam:plugin@0.1.0"), "{text}");
    assert!(text.contains("iam:plugin/authorizer@0.1.0"), "{text}");
    assert!(text.contains("  policy: fits"), "{text}");
    assert!(
        text.contains("  labels: does not fit: does not export iam:plugin/labels"),
        "{text}"
    );

    let (ok, text) = plugin_check(&[policy, "--slot", "labels"]);
    assert!(!ok, "{text}");
    let (ok, _) = plugin_check(&[policy, "--slot", "policy"]);
    assert!(ok);

    // Each built-in handler fits its own slot only.
    let (ok, text) = plugin_check(&[env!("IAM_GUEST_HANDLER_LABELS"), "--slot", "labels"]);
    assert!(ok, "{text}");
    let (ok, text) = plugin_check(&[env!("IAM_GUEST_HANDLER_SCIM")]);
    assert!(ok, "{text}");
    assert!(
        text.contains("  scim: fits") && text.contains("  groups: does not fit"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm not really").unwrap();
    let (ok, text) = plugin_check(&[junk.to_str().unwrap()]);
    assert!(
        !ok && text.contains("is not a WebAssembly component"),
        "{text}"
    );
    let (ok, text) = plugin_check(&[policy, "--slot", "nonsense"]);
    assert!(!ok && text.contains("unknown slot 'nonsense'"), "{text}");
}
