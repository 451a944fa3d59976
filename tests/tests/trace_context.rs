//! W3C `traceparent`: the trace id becomes the request id, in the answer's `x-request-id`,
//! the request's log lines and its audit events; malformed headers are ignored. And
//! `--log-format json`: one JSON object per log line, for log shippers.

use iam_tests::*;
use reqwest::Method;
use serde_json::{Value, json};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

fn put_label(s: &Server, token: &str, account: &str, traceparent: &str) -> String {
    let r = s
        .req(Method::PUT, &labels_path(account), Some(token))
        .header("traceparent", traceparent)
        .json(&json!({"name": "tier", "value": "gold"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.headers()["x-request-id"].to_str().unwrap().to_string()
}

fn is_trace_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn the_trace_id_is_the_request_id_in_the_answer_the_log_and_the_audit_trail() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let id = put_label(
        &s,
        &admin,
        &alice,
        &format!("00-{TRACE}-00f067aa0ba902b7-01"),
    );
    assert_eq!(id, TRACE);
    let audit = s.audit_events();
    let set = audit.iter().find(|e| e.event == "label set").unwrap();
    assert_eq!(set.request, TRACE);
    assert!(
        s.log()
            .lines()
            .any(|l| l.contains(&format!("id={TRACE}")) && l.contains("done")),
        "{}",
        s.log()
    );

    // Malformed: the request gets an id of its own, shaped like a trace id.
    for bad in [
        format!("00-{}-00f067aa0ba902b7-01", TRACE.to_uppercase()),
        format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
        format!("00-{TRACE}-0000000000000000-01"),
        format!("ff-{TRACE}-00f067aa0ba902b7-01"),
        format!("00-{TRACE}-00f067aa0ba902b7-01-more"),
        "not a trace".to_string(),
    ] {
        let id = put_label(&s, &admin, &alice, &bad);
        assert!(is_trace_id(&id) && id != TRACE, "{bad} gave {id}");
    }
    // Without the header, too; and every request's id is its own.
    let r = s.get(&labels_path(&alice), Some(&admin));
    let a = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let r = s.get(&labels_path(&alice), Some(&admin));
    let b = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(is_trace_id(&a) && is_trace_id(&b) && a != b);
}

#[test]
fn json_logs_are_one_object_per_line_with_the_request_and_the_audit_fields() {
    let s = Server::start_with_args(&["--log-format", "json"]);
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    put_label(
        &s,
        &admin,
        &alice,
        &format!("00-{TRACE}-00f067aa0ba902b7-01"),
    );
    let log = s.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 3, "{log}");
    for l in &lines {
        assert!(
            l["timestamp"].is_string() && l["level"].is_string() && l["target"].is_string(),
            "{l}"
        );
    }
    let done = lines
        .iter()
        .find(|l| l["message"] == "done" && l["span"]["id"] == TRACE)
        .unwrap_or_else(|| panic!("no request line for the trace in {log}"));
    assert_eq!(done["status"], 200, "{done}");
    assert_eq!(done["span"]["method"], "PUT", "{done}");
    assert!(done["micros"].is_u64(), "{done}");
    let audit = lines
        .iter()
        .find(|l| l["target"] == "audit" && l["event"] == "label set")
        .unwrap_or_else(|| panic!("no audit line in {log}"));
    assert_eq!(audit["request"], TRACE, "{audit}");
    assert_eq!(audit["account"], alice.as_str(), "{audit}");
    assert_eq!(audit["detail"], "tier", "{audit}");
}
