//! A third-party SCIM 2.0 conformance checker, scim2-tester (PyPI), run against a live
//! server. The versions are pinned in `tests/conformance/requirements.txt` and installed into
//! a virtual environment under `target/` (kept between runs). Every check must pass except the
//! known ones listed here and in docs/scim.md, each for a stated reason; any other failure
//! fails the test.

use std::path::PathBuf;
use std::process::Command;

use iam_tests::*;
use serde_json::Value;

/// Checks that fail on purpose: (check, resource type, start of the reason). docs/scim.md
/// ("Conformance") says why for each.
const KNOWN: &[(&str, &str, &str)] = &[
    // Unknown paths under /scim/ answer INDIGO IAM's {"error": ...}.
    (
        "random_url",
        "",
        "The server answered 404 without a SCIM error",
    ),
    // Random text is not an SSH key or a certificate: the server checks them.
    ("object_query_with_attributes", "User", "Invalid SSH key"),
    ("object_list_with_attributes", "User", "Invalid SSH key"),
    ("search_with_attributes", "User", "Invalid SSH key"),
    ("object_replacement", "User", "Invalid SSH key"),
    (
        "check_add_attribute",
        "User",
        "Failed to add attribute 'urn:indigo-dc:scim:schemas:IndigoUser:sshKeys'",
    ),
    (
        "check_add_attribute",
        "User",
        "Failed to add attribute 'urn:indigo-dc:scim:schemas:IndigoUser:certificates'",
    ),
    (
        "check_add_attribute",
        "User",
        "Failed to add attribute 'urn:indigo-dc:scim:schemas:IndigoUser':",
    ),
    ("check_remove_attribute", "User", "Invalid SSH key"),
    (
        "check_replace_attribute",
        "User",
        "Failed to replace attribute 'urn:indigo-dc:scim:schemas:IndigoUser:sshKeys'",
    ),
    (
        "check_replace_attribute",
        "User",
        "Failed to replace attribute 'urn:indigo-dc:scim:schemas:IndigoUser:certificates'",
    ),
    (
        "check_replace_attribute",
        "User",
        "Failed to replace attribute 'urn:indigo-dc:scim:schemas:IndigoUser':",
    ),
    // externalId is not stored.
    (
        "check_add_attribute",
        "User",
        "Failed to add attribute 'externalId'",
    ),
    (
        "check_replace_attribute",
        "User",
        "Failed to replace attribute 'externalId'",
    ),
    (
        "object_query_with_attributes",
        "Group",
        "GET /Resource/{id}: requested attribute 'externalId'",
    ),
    (
        "object_list_with_attributes",
        "Group",
        "GET /Resource: requested attribute 'externalId'",
    ),
    (
        "check_add_attribute",
        "Group",
        "Failed to add attribute 'externalId'",
    ),
    (
        "check_replace_attribute",
        "Group",
        "Failed to replace attribute 'externalId'",
    ),
    // name.formatted is computed; the e-mail's type is always "work".
    (
        "check_replace_attribute",
        "User",
        "Attribute 'name' was not replaced",
    ),
    (
        "check_replace_attribute",
        "User",
        "Attribute 'emails' was not replaced",
    ),
    // Group PATCH is INDIGO IAM's: members only; members are never rendered.
    (
        "check_add_attribute",
        "Group",
        "Attribute 'members' was not added",
    ),
    (
        "check_add_attribute",
        "Group",
        "Failed to add attribute 'urn:indigo-dc:scim:schemas:IndigoGroup",
    ),
    (
        "check_remove_attribute",
        "Group",
        "Failed to remove attribute 'urn:indigo-dc:scim:schemas:IndigoGroup'",
    ),
    (
        "check_replace_attribute",
        "Group",
        "Failed to replace attribute 'displayName'",
    ),
    (
        "check_replace_attribute",
        "Group",
        "Attribute 'members' was not replaced",
    ),
    (
        "check_replace_attribute",
        "Group",
        "Failed to replace attribute 'urn:indigo-dc:scim:schemas:IndigoGroup'",
    ),
];

/// The Python of a virtual environment holding the pinned checker.
fn checker_python() -> PathBuf {
    let requirements = workspace_root().join("tests/conformance/requirements.txt");
    let pinned = std::fs::read_to_string(&requirements).unwrap();
    let venv = python_venv(
        "scim-conformance",
        &["-r".as_ref(), requirements.as_os_str()],
        &pinned,
    );
    venv.join("bin").join("python")
}

#[test]
fn scim2_tester_finds_only_the_known_differences() {
    let python = checker_python();
    // The checker's client sends bodies as application/json, which the operator's switch
    // lets in (INDIGO IAM, and this server by default, answer 415).
    let s = Server::start_with_config("[scim]\naccept_application_json = true\n");
    let admin = s.token("admin");
    let out = Command::new(python)
        .arg(workspace_root().join("tests/conformance/scim_check.py"))
        .arg(s.url("/scim"))
        .arg(&admin)
        .output()
        .expect("run the checker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "checker failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let mut unexpected = Vec::new();
    let mut seen = vec![false; KNOWN.len()];
    let mut passed = 0;
    for r in &results {
        let (title, resource, status, reason) = (
            text(r, "title"),
            text(r, "resource"),
            text(r, "status"),
            text(r, "reason"),
        );
        match status.as_str() {
            "SUCCESS" => passed += 1,
            "SKIPPED" => {}
            _ => match KNOWN.iter().position(|(t, res, why)| {
                *t == title && *res == resource && reason.starts_with(why)
            }) {
                Some(i) => seen[i] = true,
                None => unexpected.push(format!("{title} [{resource}] {status}: {reason}")),
            },
        }
    }
    assert!(
        unexpected.is_empty(),
        "new failures:\n{}",
        unexpected.join("\n")
    );
    // The checker fills attributes with random values, so some known differences show only
    // on some runs (a random e-mail type may happen to be "work"): listed, not required.
    for ((t, res, why), hit) in KNOWN.iter().zip(&seen) {
        if !hit {
            eprintln!("known difference not hit this run: {t} [{res}] {why}");
        }
    }
    assert!(passed >= 50, "only {passed} checks passed");
}
