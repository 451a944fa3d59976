//! `PUT /iam/account/{id}/endTime` and the account-lifecycle job (docs/api.md §7, with
//! the differences §3.1 and §3.6).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use iam_tests::*;
use serde_json::{Value, json};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn end_time_path(id: &str) -> String {
    format!("/iam/account/{id}/endTime")
}

fn user(s: &Server, token: &str, id: &str) -> Value {
    body(s.get(&format!("/scim/Users/{id}"), Some(token)))
}

fn put_label(s: &Server, token: &str, id: &str, name: &str, value: &str) {
    let r = s.put_json(
        &format!("/iam/account/{id}/labels"),
        Some(token),
        &json!({"name": name, "value": value}),
    );
    assert_eq!(r.status(), StatusCode::OK);
}

fn status_label(s: &Server, token: &str, id: &str) -> Option<String> {
    let labels = body(s.get(&format!("/iam/account/{id}/labels"), Some(token)));
    labels
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "lifecycle.status" && l.get("prefix").is_none())
        .map(|l| l["value"].as_str().unwrap().to_string())
}

/// Runs `iam-host lifecycle` once against the server's database and config.
fn run_lifecycle(s: &Server, config: Option<&str>) -> Value {
    let mut cmd = s.cli(&["lifecycle"]);
    if let Some(c) = config {
        let path = s.dir.path().join("lifecycle.toml");
        std::fs::write(&path, c).unwrap();
        cmd.arg("--config").arg(path);
    }
    let out = cmd.env_remove("IAM_CONFIG").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn end_time_accepts_millis_iso_dates_and_null() {
    let s = Server::start();
    let admin = s.token("admin");
    let id = s.create_user(&admin, "alice");
    let path = end_time_path(&id);

    let r = s.put_json(&path, Some(&admin), &json!({"endTime": 1704103200000u64}));
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().unwrap(), "");
    let ext = &user(&s, &admin, &id)["urn:indigo-dc:scim:schemas:IndigoUser"];
    assert_eq!(ext["endTime"], "2024-01-01T10:00:00.000Z");

    s.put_json(
        &path,
        Some(&admin),
        &json!({"endTime": "2030-06-01T12:30:00.000Z", "other": 1}),
    );
    let ext = &user(&s, &admin, &id)["urn:indigo-dc:scim:schemas:IndigoUser"];
    assert_eq!(ext["endTime"], "2030-06-01T12:30:00.000Z");

    s.put_json(&path, Some(&admin), &json!({"endTime": "2031-02-03"}));
    let ext = &user(&s, &admin, &id)["urn:indigo-dc:scim:schemas:IndigoUser"];
    assert_eq!(ext["endTime"], "2031-02-03T00:00:00.000Z");

    for clear in [json!({"endTime": null}), json!({})] {
        s.put_json(&path, Some(&admin), &json!({"endTime": 1}));
        let r = s.put_json(&path, Some(&admin), &clear);
        assert_eq!(r.status(), StatusCode::OK);
        let ext = &user(&s, &admin, &id)["urn:indigo-dc:scim:schemas:IndigoUser"];
        assert!(ext.get("endTime").is_none(), "{clear}: {ext}");
    }
}

#[test]
fn end_time_errors() {
    let s = Server::start();
    let admin = s.token("admin");
    let id = s.create_user(&admin, "alice");
    let path = end_time_path(&id);
    for bad in [
        json!({"endTime": "next tuesday"}),
        json!({"endTime": true}),
        json!({"endTime": -1}),
    ] {
        expect_plain_error(
            s.put_json(&path, Some(&admin), &bad),
            StatusCode::BAD_REQUEST,
            &bad.to_string(),
        );
    }
    let r = s.send_raw(
        reqwest::Method::PUT,
        &path,
        Some(&admin),
        Some(JSON),
        "{not json",
    );
    expect_plain_error(r, StatusCode::BAD_REQUEST, "malformed");
    let r = s
        .req(reqwest::Method::PUT, &path, Some(&admin))
        .header("content-type", "application/json")
        .send()
        .unwrap();
    expect_plain_error(r, StatusCode::BAD_REQUEST, "missing body");

    // Unknown account: 404 (IAM answers 500; docs/api.md §3.1).
    let r = s.put_json(
        &end_time_path(UNKNOWN_ID),
        Some(&admin),
        &json!({"endTime": 1}),
    );
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body(r),
        json!({"error": format!("Account not found for id '{UNKNOWN_ID}'")})
    );
}

#[test]
fn end_time_is_read_only_when_configured() {
    let s = Server::start_with_config("[lifecycle]\nread_only_end_time = true\n");
    let admin = s.token("admin");
    let id = s.create_user(&admin, "alice");
    let r = s.put_json(&end_time_path(&id), Some(&admin), &json!({"endTime": 1}));
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body(r),
        json!({"error": "Account end time is read-only for this organization"})
    );
}

#[test]
fn a_changed_end_time_clears_the_status_and_touches_the_account() {
    let s = Server::start();
    let admin = s.token("admin");
    let id = s.create_user(&admin, "alice");
    let path = end_time_path(&id);
    put_label(&s, &admin, &id, "lifecycle.status", "PENDING_SUSPENSION");
    let before = user(&s, &admin, &id)["meta"]["lastModified"].clone();
    std::thread::sleep(Duration::from_millis(5));

    s.put_json(&path, Some(&admin), &json!({"endTime": 1893456000000u64}));
    assert_eq!(status_label(&s, &admin, &id), None);
    let touched = user(&s, &admin, &id)["meta"]["lastModified"].clone();
    assert_ne!(touched, before);

    // The same value again changes nothing, not even a status label set since.
    put_label(&s, &admin, &id, "lifecycle.status", "PENDING_SUSPENSION");
    let labelled = user(&s, &admin, &id)["meta"]["lastModified"].clone();
    std::thread::sleep(Duration::from_millis(5));
    s.put_json(
        &path,
        Some(&admin),
        &json!({"endTime": "2030-01-01T00:00:00Z"}),
    );
    assert_eq!(
        status_label(&s, &admin, &id).as_deref(),
        Some("PENDING_SUSPENSION")
    );
    assert_eq!(user(&s, &admin, &id)["meta"]["lastModified"], labelled);
}

#[test]
fn the_lifecycle_job_labels_suspends_and_removes() {
    let s = Server::start();
    let admin = s.token("admin");
    let now = now_ms();
    let fresh = s.create_user(&admin, "fresh");
    let old = s.create_user(&admin, "old");
    let ancient = s.create_user(&admin, "ancient");
    let future = s.create_user(&admin, "future");
    for (id, end) in [
        (&fresh, now - 2 * DAY_MS),
        (&old, now - 10 * DAY_MS),
        (&ancient, now - 40 * DAY_MS),
        (&future, now + 5 * DAY_MS),
    ] {
        let r = s.put_json(&end_time_path(id), Some(&admin), &json!({"endTime": end}));
        assert_eq!(r.status(), StatusCode::OK);
    }

    let report = run_lifecycle(&s, None);
    assert_eq!(
        report,
        json!({"pendingSuspension": 1, "suspended": 1, "removed": 1})
    );
    assert_eq!(
        status_label(&s, &admin, &fresh).as_deref(),
        Some("PENDING_SUSPENSION")
    );
    assert_eq!(user(&s, &admin, &fresh)["active"], true);
    assert_eq!(
        status_label(&s, &admin, &old).as_deref(),
        Some("PENDING_REMOVAL")
    );
    assert_eq!(user(&s, &admin, &old)["active"], false);
    let r = s.get(&format!("/scim/Users/{ancient}"), Some(&admin));
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(status_label(&s, &admin, &future), None);
    // A suspended account's token no longer works.
    let r = s.get(
        &format!("/iam/account/{old}/attributes"),
        Some(&s.token("old")),
    );
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Without removal, suspended accounts are labelled SUSPENDED and nobody is deleted.
    let report = run_lifecycle(
        &s,
        Some("[lifecycle]\nremoval_enabled = false\nremoval_grace_period_days = 0\n"),
    );
    assert_eq!(
        report,
        json!({"pendingSuspension": 1, "suspended": 0, "removed": 0})
    );
    assert_eq!(status_label(&s, &admin, &old).as_deref(), Some("SUSPENDED"));

    // Setting a new end time clears the status but does not re-activate.
    s.put_json(
        &end_time_path(&old),
        Some(&admin),
        &json!({"endTime": now + DAY_MS}),
    );
    assert_eq!(status_label(&s, &admin, &old), None);
    assert_eq!(user(&s, &admin, &old)["active"], false);

    // Zero grace periods act at once.
    let report = run_lifecycle(
        &s,
        Some("[lifecycle]\nsuspension_grace_period_days = 0\nremoval_grace_period_days = 0\n"),
    );
    assert_eq!(report["removed"], 1);
    assert_eq!(
        s.get(&format!("/scim/Users/{fresh}"), Some(&admin))
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[test]
fn the_server_runs_the_job_on_its_interval() {
    let s = Server::start_with_config(
        "[lifecycle]\ninterval_secs = 1\nremoval_grace_period_days = 0\n",
    );
    let admin = s.token("admin");
    let id = s.create_user(&admin, "expired");
    let r = s.put_json(
        &end_time_path(&id),
        Some(&admin),
        &json!({"endTime": now_ms() - 2 * DAY_MS}),
    );
    assert_eq!(r.status(), StatusCode::OK);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while s.get(&format!("/scim/Users/{id}"), Some(&admin)).status() == StatusCode::OK {
        assert!(
            std::time::Instant::now() < deadline,
            "the job never removed the account:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(s.log().contains("lifecycle pass done"));
}
