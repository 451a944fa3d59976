//! `iam-host db copy`: a site moves to another database (from a SQLite file to PostgreSQL in
//! the PostgreSQL pass, to another SQLite file in the SQLite pass) and a server on the copy
//! carries on where the old one stopped: same accounts, passwords, groups, labels, clients,
//! keys and tokens; new rows do not collide with copied ones.

use std::process::Command;

use iam_tests::oauth::{SECRET, post_form, register, token_ok};
use iam_tests::*;
use serde_json::json;

const CONFIG: &str = "base_url = \"https://iam.example.org\"\n";

fn copy(from: &str, to: &str, extra: &[&str]) -> std::process::Output {
    Command::new(host_binary())
        .args(["db", "copy", "--from", from, "--to", to])
        .args(extra)
        .output()
        .expect("run iam-host db copy")
}

#[test]
fn a_site_moves_to_another_database_and_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("iam.toml"), CONFIG).unwrap();
    let config = dir.path().join("iam.toml").to_string_lossy().into_owned();
    let source_file = dir.path().join("old.db");
    let mut old = Server::start_on(TestDb::sqlite(source_file.clone()), &["--config", &config]);
    let admin = old.token("admin");

    // A little of everything.
    let mut body = user_body("alice");
    body["password"] = json!("alice-password");
    let alice = expect_json(
        old.post_scim("/scim/Users", Some(&admin), &body),
        StatusCode::CREATED,
        "alice",
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let parent = old.create_group(&admin, "physics");
    let child = expect_json(
        old.post_scim(
            "/scim/Groups",
            Some(&admin),
            &group_body("cms", Some((&parent, "physics"))),
        ),
        StatusCode::CREATED,
        "child group",
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    old.join(&admin, &alice, &child);
    let r = old.put_json(
        &labels_path(&alice),
        Some(&admin),
        &json!({"prefix": "example.org", "name": "team", "value": "blue"}),
    );
    assert!(r.status().is_success(), "label: {}", r.status());
    register(
        &old,
        &admin,
        "app",
        &["password", "refresh_token"],
        "openid",
        false,
    );
    let tokens = token_ok(post_form(
        &old,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password"),
        ],
    ));
    let rotate = old.cli(&["keys", "rotate"]).output().unwrap();
    assert!(rotate.status.success());
    old.stop();

    let target = TestDb::new(dir.path().join("new.db"));
    let source = source_file.to_string_lossy().into_owned();
    let out = copy(&source, target.arg(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stdout).unwrap();
    for table in [
        "accounts",
        "groups",
        "memberships",
        "labels",
        "clients",
        "signing_keys",
        "refresh_tokens",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(table) && l.contains("sha256")),
            "{report}"
        );
    }
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("signing_keys ") && l.contains(" 2 rows")),
        "{report}"
    );

    // A second copy onto the now filled target is refused, unless told to replace it.
    let again = copy(&source, target.arg(), &[]);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains("not empty") && err.contains("--replace"),
        "{err}"
    );
    let replaced = copy(&source, target.arg(), &["--replace"]);
    assert!(
        replaced.status.success(),
        "{}",
        String::from_utf8_lossy(&replaced.stderr)
    );
    // A source that does not exist is an error, not an empty copy.
    let missing = copy(
        &dir.path().join("none.db").to_string_lossy(),
        target.arg(),
        &["--replace"],
    );
    assert!(!missing.status.success());

    // A server on the copy carries on.
    let new = Server::start_on(target, &["--config", &config]);
    let access = tokens["access_token"].as_str().unwrap();
    let me = expect_json(
        new.get("/scim/Me", Some(access)),
        StatusCode::OK,
        "old token",
    );
    assert_eq!(me["id"], alice.as_str());
    token_ok(post_form(
        &new,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ],
    ));
    token_ok(post_form(
        &new,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-password"),
        ],
    ));
    let admin = new.token("admin");
    let members = expect_json(
        new.get(&format!("/iam/account/find/bygroup/{child}"), Some(&admin)),
        StatusCode::OK,
        "members",
    );
    assert_eq!(members["totalResults"], 1);
    let labels = expect_json(
        new.get(&labels_path(&alice), Some(&admin)),
        StatusCode::OK,
        "labels",
    );
    assert_eq!(labels[0]["value"], "blue", "{labels}");
    let group = expect_json(
        new.get(&format!("/scim/Groups/{child}"), Some(&admin)),
        StatusCode::OK,
        "group",
    );
    assert_eq!(
        group["urn:indigo-dc:scim:schemas:IndigoGroup"]["parentGroup"]["value"],
        parent.as_str()
    );
    // New rows get ids of their own.
    new.create_user(&admin, "bob");
    new.create_group(&admin, "chemistry");
    register(
        &new,
        &admin,
        "app2",
        &["client_credentials"],
        "openid",
        false,
    );

    // And back to a SQLite file (from PostgreSQL in the PostgreSQL pass), verified as well.
    let mut new = new;
    new.stop();
    let back = dir.path().join("back.db").to_string_lossy().into_owned();
    let out = copy(new.db(), &back, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("accounts ") && l.contains(" 3 rows")),
        "{report}"
    );
}
