//! Operating plugins on a running server: pins, settings and the log import, reload
//! (endpoint and SIGHUP, refused when bad, seamless under load), the shadow policy,
//! `/iam/admin/plugins`, `/metrics`, and the compiled-component cache.

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use iam_tests::*;
use reqwest::Method;
use serde_json::Value;

fn config_path(s: &Server) -> std::path::PathBuf {
    s.dir.path().join("iam.toml")
}

fn slot<'a>(plugins: &'a Value, name: &str) -> &'a Value {
    plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["slot"] == name)
        .unwrap_or_else(|| panic!("no slot {name} in {plugins}"))
}

/// The sha256 line of `iam-host plugin check`.
fn digest_of(file: &str) -> String {
    let out = Command::new(host_binary())
        .args(["plugin", "check", file])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("sha256:"))
        .unwrap_or_else(|| panic!("no sha256 in {text}"))
        .trim()
        .to_string()
}

#[test]
fn pins_are_enforced_at_start() {
    let wrong = "0".repeat(64);
    let err = serve_fails_with(&format!(
        "[plugins.policy]\ncomponent = \"{FAULTY_POLICY}\"\nsha256 = \"{wrong}\"\n"
    ));
    assert!(
        err.contains("plugin slot 'policy'") && err.contains(&format!("the config pins {wrong}")),
        "{err}"
    );

    let right = digest_of(FAULTY_POLICY);
    let s = Server::start_with_config(&format!(
        "[plugins.policy]\ncomponent = \"{FAULTY_POLICY}\"\nsha256 = \"{right}\"\n"
    ));
    let admin = s.token("admin");
    let list = expect_json(
        s.get("/iam/admin/plugins", Some(&admin)),
        StatusCode::OK,
        "list",
    );
    assert_eq!(slot(&list, "policy")["sha256"], right.as_str());
}

#[test]
fn a_site_plugin_may_import_only_its_slots_store() {
    let err = serve_fails_with(&format!(
        "[plugins.handlers]\nattributes = \"{GREEDY_HANDLER}\"\n"
    ));
    assert!(
        err.contains("plugin slot 'attributes'")
            && err.contains("imports iam:plugin/authority-store@0.1.0")
            && err.contains("which the 'attributes' slot does not provide"),
        "{err}"
    );

    let out = Command::new(host_binary())
        .args(["plugin", "check", GREEDY_HANDLER, "--slot", "attributes"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("attributes: does not fit: imports iam:plugin/authority-store"),
        "{text}"
    );
}

#[test]
fn settings_reach_the_guest_and_its_log_lines_the_host_log() {
    let s = Server::start_with_config(&format!(
        "[plugins.policy]\ncomponent = \"{FAULTY_POLICY}\"\n[plugins.policy.settings]\ndeny_labels = \"true\"\n"
    ));
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let r = s.get(&format!("/iam/account/{me}/labels"), Some(&admin));
    let request = r.headers()["x-request-id"].to_str().unwrap().to_string();
    expect_denied(r, "the setting closes labels");
    let log = s.log();
    let line = log
        .lines()
        .find(|l| l.contains("deny_labels is Some(\"true\")"))
        .unwrap_or_else(|| panic!("no guest log line:\n{log}"));
    assert!(
        line.contains(&request) && line.contains("plugin=\"policy\""),
        "{line}"
    );
}

#[test]
fn reload_swaps_the_policy_and_refuses_a_bad_set() {
    let s = Server::start_with_config("[plugins]\npolicy = \"roles\"\n");
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    // ROLE_ADMIN without scopes: `roles` allows, `strict` does not.
    let bare_admin = s.token_with("admin", Some("openid"));
    let path = attributes_path(&alice);
    expect_json(s.get(&path, Some(&bare_admin)), StatusCode::OK, "roles");

    // Only admins reload.
    let plain = s.token("alice");
    expect_denied(s.reload_plugins(&plain), "a plain user");
    expect_unauthorized(
        s.req(Method::POST, "/iam/admin/plugins/reload", None)
            .send()
            .unwrap(),
        "anonymous",
    );

    std::fs::write(config_path(&s), "[plugins]\npolicy = \"strict\"\n").unwrap();
    let list = expect_json(s.reload_plugins(&admin), StatusCode::OK, "reload");
    assert_eq!(slot(&list, "policy")["component"], "builtin:strict");
    expect_denied(s.get(&path, Some(&bare_admin)), "strict after the reload");

    // A set that does not load is refused, and the running one stays.
    std::fs::write(config_path(&s), "[plugins]\npolicy = \"missing.wasm\"\n").unwrap();
    let r = s.reload_plugins(&admin);
    let v = expect_json(r, StatusCode::BAD_REQUEST, "bad reload");
    let msg = v["error"].as_str().unwrap();
    assert!(
        msg.contains("the running plugins stay") && msg.contains("missing.wasm"),
        "{msg}"
    );
    expect_denied(s.get(&path, Some(&bare_admin)), "still strict");

    // SIGHUP reloads too.
    std::fs::write(config_path(&s), "[plugins]\npolicy = \"roles\"\n").unwrap();
    s.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if s.get(&path, Some(&bare_admin)).status() == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn reloading_under_load_fails_no_request() {
    let s = Arc::new(Server::start());
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (s, stop, served) = (s.clone(), stop.clone(), served.clone());
            let (token, path) = (admin.clone(), attributes_path(&me));
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let r = s.get(&path, Some(&token));
                    if r.status() != StatusCode::OK {
                        failures.push(format!("{} {}", r.status(), r.text().unwrap_or_default()));
                    }
                    served.fetch_add(1, Ordering::Relaxed);
                }
                failures
            })
        })
        .collect();
    for i in 0..6 {
        let policy = if i % 2 == 0 { "strict" } else { "roles" };
        std::fs::write(
            config_path(&s),
            format!("[plugins]\npolicy = \"{policy}\"\n"),
        )
        .unwrap();
        expect_json(s.reload_plugins(&admin), StatusCode::OK, "reload");
    }
    stop.store(true, Ordering::Relaxed);
    let failures: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(served.load(Ordering::Relaxed) > 20, "the load ran");
}

#[test]
fn the_shadow_policy_is_counted_never_enforced_and_metrics_show_it() {
    let s =
        Server::start_with_config("[plugins]\npolicy = \"roles\"\npolicy_shadow = \"strict\"\n");
    let admin = s.token("admin");
    let alice = s.create_user(&admin, "alice");
    let bare_admin = s.token_with("admin", Some("openid"));
    for _ in 0..3 {
        expect_json(
            s.get(&attributes_path(&alice), Some(&bare_admin)),
            StatusCode::OK,
            "enforced roles",
        );
    }
    let list = expect_json(
        s.get("/iam/admin/plugins", Some(&admin)),
        StatusCode::OK,
        "list",
    );
    let policy = slot(&list, "policy");
    assert_eq!(policy["shadow_disagreements"], 3, "{policy}");
    assert_eq!(slot(&list, "policy_shadow")["component"], "builtin:strict");
    assert!(policy["calls"].as_u64().unwrap() >= 4, "{policy}");
    assert!(
        policy["latency_micros"]["p99"].as_u64().unwrap()
            >= policy["latency_micros"]["p50"].as_u64().unwrap()
    );
    let log = s.log();
    assert!(
        log.contains("shadow policy disagrees") && log.contains("GetAccountAttributes"),
        "{log}"
    );
    expect_denied(
        s.get("/iam/admin/plugins", Some(&s.token("alice"))),
        "a plain user",
    );

    let r = s.get("/metrics", None);
    assert_eq!(r.status(), StatusCode::OK);
    assert!(content_type(&r).starts_with("text/plain"));
    let text = r.text().unwrap();
    assert!(
        text.contains("# TYPE iam_plugin_calls_total counter"),
        "{text}"
    );
    assert!(
        text.contains(
            "iam_plugin_shadow_disagreements_total{slot=\"policy\",component=\"builtin:roles\"} 3"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "iam_plugin_calls_total{slot=\"labels\",component=\"builtin:labels-handler\"}"
        ),
        "{text}"
    );
}

#[test]
fn compiled_components_are_cached_and_only_our_own_are_loaded() {
    // The cache's default place is next to the SQLite file; with PostgreSQL there is no
    // file, so the test names the same place in the config.
    let mut s = if test_postgres().is_some() {
        Server::start_with_config("[plugins]\ncache_dir = \"iam.plugin-cache\"\n")
    } else {
        Server::start()
    };
    assert!(!s.log().contains("component loaded from the cache"));
    s.restart();
    let log = s.log();
    // Every slot's component (the roles policy and each handler group) comes from the
    // cache on the second run (the log holds both runs, each naming every slot once).
    let slots = log.matches("plugin loaded slot=").count() / 2;
    assert!(
        slots >= 13,
        "the policy and the twelve handler groups:\n{log}"
    );
    assert_eq!(
        log.matches("component loaded from the cache").count(),
        slots,
        "{log}"
    );

    // A cache file someone else wrote (here: altered) is ignored and compiling takes over.
    let cache = s.dir.path().join("iam.plugin-cache");
    for entry in std::fs::read_dir(&cache).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }
    s.restart();
    assert!(
        s.log()
            .contains("cached component not written by this host"),
        "{}",
        s.log()
    );
    let admin = s.token("admin");
    expect_json(
        s.get("/iam/admin/plugins", Some(&admin)),
        StatusCode::OK,
        "still serving",
    );
}

#[test]
fn limits_are_per_plugin() {
    // A generous default, a tight limit for the one site handler.
    let s = Server::start_with_config(&format!(
        "[plugins]\ndeadline_ms = 20000\n[plugins.handlers.attributes]\ncomponent = \"{FAULTY_HANDLER}\"\ndeadline_ms = 200\n"
    ));
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let started = Instant::now();
    let r = s.put_json(
        &attributes_path(&me),
        Some(&admin),
        &serde_json::json!({"name": "loop", "value": "v"}),
    );
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
