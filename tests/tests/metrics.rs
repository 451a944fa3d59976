//! `/metrics`: HTTP requests by method, route template and status (never a raw path),
//! requests in flight, token endpoint outcomes, policy decisions, audit events, the
//! database pool; and `--metrics-listen`, which moves `/metrics` off the API's listener.

use iam_tests::oauth::{SECRET, post_form, register};
use iam_tests::*;
use serde_json::json;

/// The value of the sample `name{labels}` (labels exactly as rendered), 0 when absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |v| v.trim().parse().expect("a number"))
}

fn scrape(s: &Server) -> String {
    let r = s.get("/metrics", None);
    assert_eq!(r.status(), StatusCode::OK);
    assert!(content_type(&r).starts_with("text/plain"));
    r.text().unwrap()
}

const COUNT: &str = "http_server_request_duration_seconds_count";

#[test]
fn requests_are_counted_by_route_template_method_and_status_never_by_raw_path() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let route = "http_route=\"/iam/account/{id}/attributes\"";
    let ok =
        format!("{COUNT}{{http_request_method=\"GET\",{route},http_response_status_code=\"200\"}}");
    let not_found =
        format!("{COUNT}{{http_request_method=\"GET\",{route},http_response_status_code=\"404\"}}");
    let before = scrape(&s);
    for _ in 0..3 {
        assert_eq!(
            s.get(&attributes_path(&alice), Some(&admin)).status(),
            StatusCode::OK
        );
    }
    let missing = "0c0ffee0-0000-4000-8000-000000000000";
    assert_eq!(
        s.get(&attributes_path(missing), Some(&admin)).status(),
        StatusCode::NOT_FOUND
    );
    // No route: counted without `http_route`, and the path a caller made up is nowhere.
    let made_up = "/no-such-thing-7f3a9c";
    assert_eq!(s.get(made_up, None).status(), StatusCode::NOT_FOUND);
    let after = scrape(&s);
    assert_eq!(sample(&after, &ok) - sample(&before, &ok), 3.0, "{after}");
    assert_eq!(
        sample(&after, &not_found) - sample(&before, &not_found),
        1.0
    );
    let unrouted =
        format!("{COUNT}{{http_request_method=\"GET\",http_response_status_code=\"404\"}}");
    assert!(sample(&after, &unrouted) >= 1.0, "{after}");
    for raw in [alice.as_str(), missing, made_up] {
        assert!(
            !after.contains(raw),
            "{raw} leaked into the metrics:\n{after}"
        );
    }
    // Buckets are cumulative and end with the count.
    let labels = format!("http_request_method=\"GET\",{route},http_response_status_code=\"200\"");
    let inf = sample(
        &after,
        &format!("http_server_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}"),
    );
    assert_eq!(inf, sample(&after, &ok));
    assert!(after.contains("# TYPE http_server_request_duration_seconds histogram"));
    // The scrape itself is the one request in flight.
    assert_eq!(
        sample(&after, "http_server_active_requests"),
        1.0,
        "{after}"
    );
    // A pool of connections, none of them in use between requests.
    assert!(
        sample(&after, "iam_db_connections{state=\"idle\"}") >= 1.0,
        "{after}"
    );
    assert!(after.contains("# TYPE iam_db_transaction_retries_total counter"));
    // The plugin statistics are still there.
    assert!(after.contains("# TYPE iam_plugin_calls_total counter"));
}

#[test]
fn decisions_audit_events_and_token_outcomes_are_counted() {
    let s = Server::start();
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let bob = s.create_user(&admin, "bob");
    let alice_token = s.token("alice");
    let deny = "iam_authorization_decisions_total{slot=\"policy\",outcome=\"deny\"}";
    let allow = "iam_authorization_decisions_total{slot=\"policy\",outcome=\"allow\"}";
    let label_set = "iam_audit_events_total{type=\"label set\"}";
    let before = scrape(&s);

    // Denied: a plain user reading another's attributes.
    assert_eq!(
        s.get(&attributes_path(&bob), Some(&alice_token)).status(),
        StatusCode::FORBIDDEN
    );
    // Allowed and committed: one audit event.
    let r = s.put_json(
        &labels_path(&alice),
        Some(&admin),
        &json!({"name": "tier", "value": "1"}),
    );
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().unwrap());
    // Allowed but refused by the handler: rolled back, no audit event.
    let r = s.put_json(
        &labels_path(&alice),
        Some(&admin),
        &json!({"name": "bad name!"}),
    );
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let after = scrape(&s);
    assert_eq!(sample(&after, deny) - sample(&before, deny), 1.0, "{after}");
    assert_eq!(
        sample(&after, allow) - sample(&before, allow),
        2.0,
        "{after}"
    );
    assert_eq!(
        sample(&after, label_set) - sample(&before, label_set),
        1.0,
        "{after}"
    );

    // The token endpoint, by grant type and outcome; made-up grant types are `other`.
    register(&s, &admin, "metrics-client", &["password"], "openid", false);
    let password = |pw: &str| {
        post_form(
            &s,
            "/token",
            Some(("metrics-client", SECRET)),
            &[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", pw),
                ("scope", "openid"),
            ],
        )
        .status()
    };
    assert_eq!(password(ADMIN_PASSWORD), StatusCode::OK);
    assert_eq!(password("wrong"), StatusCode::BAD_REQUEST);
    let r = post_form(
        &s,
        "/token",
        Some(("metrics-client", SECRET)),
        &[("grant_type", "made-up-grant-42")],
    );
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let text = scrape(&s);
    let tokens = |grant: &str, outcome: &str| {
        sample(
            &text,
            &format!("iam_tokens_total{{grant_type=\"{grant}\",outcome=\"{outcome}\"}}"),
        )
    };
    assert_eq!(tokens("password", "issued"), 1.0, "{text}");
    assert_eq!(tokens("password", "invalid_grant"), 1.0, "{text}");
    assert_eq!(tokens("other", "unsupported_grant_type"), 1.0, "{text}");
    assert!(!text.contains("made-up-grant-42"), "{text}");
}

#[test]
fn metrics_listen_serves_metrics_apart_from_the_api() {
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let s = Server::start_with_args(&["--metrics-listen", &address]);
    let admin = s.token("admin");
    // The API's listener no longer answers /metrics.
    let r = s.get("/metrics", None);
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(content_type(&r).contains("json"));
    assert_eq!(s.get("/scim/Me", Some(&admin)).status(), StatusCode::OK);

    let client = reqwest::blocking::Client::new();
    let r = client
        .get(format!("http://{address}/metrics"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().unwrap();
    let me = format!(
        "{COUNT}{{http_request_method=\"GET\",http_route=\"/scim/Me\",http_response_status_code=\"200\"}}"
    );
    assert_eq!(sample(&text, &me), 1.0, "{text}");
    // And the management listener serves nothing else.
    let r = client
        .get(format!("http://{address}/scim/Me"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
