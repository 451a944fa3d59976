//! The example site plugins of `guest/examples/`, loaded into a running server: the Rust
//! policy (roles plus group stewards, configured through its settings) and the Python
//! policy built with componentize-py from PyPI.

use std::path::PathBuf;
use std::process::Command;

use iam_tests::*;
use reqwest::Method;
use serde_json::json;

fn put_label(s: &Server, token: &str, account: &str) -> reqwest::blocking::Response {
    s.put_json(
        &format!("/iam/account/{account}/labels"),
        Some(token),
        &json!({"prefix": "site.example.org", "name": "cluster", "value": "tier1"}),
    )
}

#[test]
fn the_rust_site_policy_lets_stewards_manage_labels() {
    let s = Server::start_with_config(&format!(
        "[plugins.policy]\ncomponent = \"{EXAMPLE_SITE_POLICY}\"\n"
    ));
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");
    let stewards = s.create_group(&admin, "stewards");
    let r = s
        .req(
            Method::POST,
            &format!("/iam/account/{bob}/managed-groups/{stewards}"),
            Some(&admin),
        )
        .send()
        .unwrap();
    assert!(r.status().is_success());
    let bob_token = s.token("bob");

    // Without the setting the policy is plain `roles`: bob may not.
    expect_denied(
        put_label(&s, &bob_token, &alice),
        "no steward group configured",
    );

    std::fs::write(
        s.dir.path().join("iam.toml"),
        format!(
            "[plugins.policy]\ncomponent = \"{EXAMPLE_SITE_POLICY}\"\n\
             [plugins.policy.settings]\nsteward_group = \"{stewards}\"\n"
        ),
    )
    .unwrap();
    let r = s.reload_plugins(&admin);
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().unwrap());
    assert_eq!(put_label(&s, &bob_token, &alice).status(), StatusCode::OK);
    assert!(
        s.log()
            .contains("steward bob allowed Operation::SetAccountLabel"),
        "{}",
        s.log()
    );
    // Only labels and attributes: the rest of `roles` stands.
    expect_denied(
        s.req(
            Method::POST,
            &format!("/iam/account/{alice}/authorities?authority=ROLE_ADMIN"),
            Some(&bob_token),
        )
        .send()
        .unwrap(),
        "authorities stay admin-only",
    );
    let alice_token = s.token("alice");
    expect_denied(put_label(&s, &alice_token, &bob), "alice manages nothing");
}

/// Builds `guest/examples/python-policy` with componentize-py, installed from PyPI into a
/// virtual environment under `target/` (kept between runs).
fn build_python_policy() -> PathBuf {
    let root = workspace_root();
    const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";
    let venv = python_venv(
        "python-plugin",
        &[COMPONENTIZE_PY.as_ref()],
        COMPONENTIZE_PY,
    );
    let work = venv.parent().unwrap().to_path_buf();
    let tool = venv.join("bin").join("componentize-py");
    let out = work.join("python-policy.wasm");
    run_ok(
        Command::new(&tool)
            .current_dir(&root)
            .args([
                "-d",
                "wit",
                "-w",
                "iam:plugin/policy@0.1.0",
                "componentize",
                "app",
            ])
            .args(["-p", "guest/examples/python-policy", "-o"])
            .arg(&out),
        "componentize-py",
    );
    out
}

#[test]
fn the_python_site_policy_keeps_readonly_accounts_unchanged() {
    let wasm = build_python_policy();
    let s = Server::start_with_config(&format!(
        "[plugins.policy]\ncomponent = \"{}\"\n",
        wasm.display()
    ));
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");
    std::fs::write(
        s.dir.path().join("iam.toml"),
        format!(
            "[plugins.policy]\ncomponent = \"{}\"\n[plugins.policy.settings]\nreadonly_accounts = \"{alice}\"\n",
            wasm.display()
        ),
    )
    .unwrap();
    let r = s.reload_plugins(&admin);
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().unwrap());

    // ROLE_ADMIN may change bob, not alice.
    assert_eq!(put_label(&s, &admin, &bob).status(), StatusCode::OK);
    expect_denied(put_label(&s, &admin, &alice), "alice is read-only");
    assert!(
        s.log()
            .contains(&format!("refused a change to read-only account {alice}")),
        "{}",
        s.log()
    );
    // Users read their own data and nobody else's.
    let alice_token = s.token("alice");
    expect_json(
        s.get(&format!("/iam/account/{alice}/labels"), Some(&alice_token)),
        StatusCode::OK,
        "own labels",
    );
    expect_denied(
        s.get(&format!("/iam/account/{bob}/labels"), Some(&alice_token)),
        "another's labels",
    );
    let list = expect_json(
        s.get("/iam/admin/plugins", Some(&admin)),
        StatusCode::OK,
        "plugins",
    );
    let policy = &list["plugins"][0];
    assert_eq!(policy["slot"], "policy");
    assert!(
        policy["component"]
            .as_str()
            .unwrap()
            .ends_with("python-policy.wasm")
    );
}
