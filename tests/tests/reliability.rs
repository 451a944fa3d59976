//! Reliability: crash durability, guest faults under load, concurrent writers, bad input
//! of every kind, and token attacks. Each test is bounded in time.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use iam_tests::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

/// A small deterministic generator (xorshift), so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let mut s = Server::start();
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let acked: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let mut rng = Rng(0x5eed_cafe);
    let path = attributes_path(&me);
    for round in 0..4 {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (stop, acked) = (stop.clone(), acked.clone());
                let (base, token, path) = (s.base.clone(), admin.clone(), path.clone());
                std::thread::spawn(move || {
                    let client = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(10))
                        .build()
                        .unwrap();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let name = format!("r{round}w{w}n{i}");
                        i += 1;
                        let r = client
                            .put(format!("{base}{path}"))
                            .bearer_auth(&token)
                            .header("content-type", "application/json")
                            .body(json!({"name": name, "value": "v"}).to_string())
                            .send();
                        // Only a 2xx the client saw counts as acknowledged.
                        if let Ok(r) = r
                            && r.status().is_success()
                        {
                            acked.lock().unwrap().insert(name);
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(200 + rng.below(400)));
        s.stop(); // SIGKILL, mid-write
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        // A SQLite file must come out of the kill intact. PostgreSQL keeps its own files
        // (the killed server's transactions end with its connections): there the check is
        // what follows, that every acknowledged write is there.
        if !s.is_postgres() {
            assert_eq!(s.sql_one("PRAGMA integrity_check"), "ok", "round {round}");
        }
        s.restart();
    }
    let stored: BTreeSet<String> = body(s.get(&path, Some(&admin)))
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    let acked = acked.lock().unwrap();
    assert!(acked.len() > 20, "the writers wrote ({})", acked.len());
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

#[test]
fn a_handler_trapping_under_load_leaves_every_other_request_correct() {
    let s = Arc::new(Server::start_with_config(&format!(
        "[plugins.handlers]\nattributes = \"{FAULTY_HANDLER}\"\n"
    )));
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let pid = s.pid();
    let path = attributes_path(&me);
    let run = |requests: usize| {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let (s, token, path) = (s.clone(), admin.clone(), path.clone());
                std::thread::spawn(move || {
                    let mut wrong = Vec::new();
                    for i in 0..requests / 4 {
                        // One request in five traps in the guest.
                        let name = if i % 5 == 0 {
                            "trap".to_string()
                        } else {
                            format!("t{t}")
                        };
                        let r = s.put_json(
                            &path,
                            Some(&token),
                            &json!({"name": name, "value": i.to_string()}),
                        );
                        let expected = if name == "trap" {
                            StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            StatusCode::OK
                        };
                        if r.status() != expected {
                            wrong.push(format!("{name}: {}", r.status()));
                        }
                    }
                    wrong
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(400), Vec::<String>::new(), "warm-up");
    let before = rss_kib(pid);
    assert_eq!(run(2000), Vec::<String>::new());
    let after = rss_kib(pid);
    // Flat: no leaked instances or stores (a leak of one 64 KiB page per failed call
    // alone would be 25 MiB here).
    assert!(
        after < before + 16 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
    // Every non-trapping write is there with its last value.
    let attrs = body(s.get(&path, Some(&admin)));
    let names: BTreeSet<&str> = attrs
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["t0", "t1", "t2", "t3"]));
}

#[test]
fn concurrent_writers_on_one_account_and_group_lose_nothing() {
    let s = Arc::new(Server::start());
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let group = s.create_group(&admin, "busy");
    let members: Vec<String> = (0..8)
        .map(|i| s.create_user(&admin, &format!("member{i}")))
        .collect();
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let (s, token, me, group) = (s.clone(), admin.clone(), me.clone(), group.clone());
            let member = members[t % members.len()].clone();
            std::thread::spawn(move || {
                let mut failures = Vec::new();
                for i in 0..15 {
                    let r = s.put_json(
                        &attributes_path(&me),
                        Some(&token),
                        &json!({"name": format!("c{t}x{i}"), "value": "v"}),
                    );
                    if r.status() != StatusCode::OK {
                        failures.push(format!("attribute: {} {}", r.status(), r.text().unwrap()));
                    }
                    let membership = format!("/iam/account/{member}/groups/{group}");
                    let method = if i % 2 == 0 {
                        Method::POST
                    } else {
                        Method::DELETE
                    };
                    let r = s.req(method, &membership, Some(&token)).send().unwrap();
                    if !r.status().is_success() {
                        failures.push(format!("membership: {} {}", r.status(), r.text().unwrap()));
                    }
                }
                failures
            })
        })
        .collect();
    let failures: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    let attrs = body(s.get(&attributes_path(&me), Some(&admin)));
    assert_eq!(attrs.as_array().unwrap().len(), 16 * 15, "no lost update");
    // Each member's last operation was a join (i = 14 is even).
    let list = body(s.get(&format!("/scim/Groups/{group}/members"), Some(&admin)));
    assert_eq!(list["totalResults"], members.len());
    assert!(
        !s.log().contains("database is locked"),
        "a lock error was logged"
    );
}

/// Every status is a 2xx or 4xx with a JSON body; never a 5xx.
fn expect_handled(r: Response, what: &str) {
    let status = r.status();
    let ct = content_type(&r);
    let text = r.text().unwrap_or_default();
    assert!(
        !status.is_server_error(),
        "{what}: {status} {}",
        &text[..text.len().min(300)]
    );
    if status.is_client_error() {
        assert!(
            ct.contains("json"),
            "{what}: {status} with content type {ct:?}"
        );
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{what}: {status} body is not JSON: {text}"));
        assert!(v.is_object(), "{what}: {v}");
    }
}

#[test]
fn bad_input_is_a_4xx_json_error_never_a_5xx() {
    let s = Server::start_with_config("max_body_bytes = 65536\n");
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let group = s.create_group(&admin, "g");
    // Every parser: JSON bodies, form and query parameters, path segments.
    let endpoints: Vec<(Method, String, &str)> = vec![
        (
            Method::PUT,
            format!("/iam/account/{me}/attributes"),
            "application/json",
        ),
        (
            Method::DELETE,
            format!("/iam/account/{me}/attributes"),
            "application/json",
        ),
        (
            Method::PUT,
            format!("/iam/account/{me}/labels"),
            "application/json",
        ),
        (
            Method::POST,
            format!("/iam/account/{me}/authorities"),
            "application/x-www-form-urlencoded",
        ),
        (
            Method::PUT,
            format!("/iam/account/{me}/endTime"),
            "application/json",
        ),
        (Method::POST, "/iam/group".into(), "application/json"),
        (
            Method::PUT,
            format!("/iam/group/{group}"),
            "application/json",
        ),
        (Method::POST, "/scim/Users".into(), SCIM),
        (Method::PUT, format!("/scim/Users/{me}"), SCIM),
        (Method::POST, "/scim/Groups".into(), SCIM),
        (Method::PATCH, format!("/scim/Groups/{group}"), SCIM),
        (Method::POST, "/iam/api/clients".into(), "application/json"),
        (
            Method::PUT,
            "/iam/account/me/proxycert".into(),
            "application/x-www-form-urlencoded",
        ),
        (
            Method::GET,
            "/iam/account/search".into(),
            "application/json",
        ),
        (Method::GET, "/iam/group/search".into(), "application/json"),
        (
            Method::GET,
            "/iam/account/find/byusername".into(),
            "application/json",
        ),
        (
            Method::GET,
            "/iam/account/find/bylabel".into(),
            "application/json",
        ),
        (
            Method::GET,
            format!("/iam/account/find/bygroup/{group}"),
            "application/json",
        ),
        (Method::GET, "/scim/Users".into(), SCIM),
        (Method::GET, "/iam/api/clients".into(), "application/json"),
        (
            Method::POST,
            "/token".into(),
            "application/x-www-form-urlencoded",
        ),
        (
            Method::POST,
            "/introspect".into(),
            "application/x-www-form-urlencoded",
        ),
    ];
    let values = [
        json!(null),
        json!(true),
        json!(-1),
        json!(1e308),
        json!("x"),
        json!(""),
        json!("ü€😀\u{0}"),
        json!([]),
        json!({}),
        json!([1, "a", null]),
        json!({"a": {"b": [1]}}),
        json!("2024-13-45T99:99:99Z"),
        json!(u64::MAX),
        json!("../../etc/passwd"),
        json!("<script>"),
        json!("a".repeat(5000)),
    ];
    let keys = [
        "name",
        "value",
        "prefix",
        "endTime",
        "userName",
        "emails",
        "name",
        "active",
        "displayName",
        "operations",
        "Operations",
        "description",
        "parent",
        "client_id",
        "grant_types",
        "scope",
        "urn:indigo-dc:scim:schemas:IndigoUser",
        "schemas",
        "id",
        "redirect_uris",
        "password",
        "photos",
        "addresses",
    ];
    let params = [
        "count",
        "startIndex",
        "filter",
        "sortBy",
        "sortDirection",
        "username",
        "name",
        "value",
        "authority",
        "attributes",
        "grant_type",
        "token",
        "certificateChain",
    ];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let start = Instant::now();
    for round in 0..12 {
        for (method, path, ct) in &endpoints {
            // A random JSON object body.
            let mut obj = serde_json::Map::new();
            for _ in 0..rng.below(5) {
                obj.insert(rng.pick(&keys).to_string(), rng.pick(&values).clone());
            }
            // A random query string.
            let query: Vec<String> = (0..rng.below(4))
                .map(|_| {
                    let v = rng.pick(&values);
                    let v = v
                        .as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string());
                    format!("{}={}", rng.pick(&params), encode(&v))
                })
                .collect();
            let url = format!("{path}?{}", query.join("&"));
            let body = match round % 4 {
                0 | 1 => Value::Object(obj).to_string().into_bytes(),
                2 => rng.pick(&values).to_string().into_bytes(),
                // Bytes that are not UTF-8.
                _ => vec![0xff, 0xfe, b'{', 0x80, b'"', 0xc3],
            };
            let what = format!("{method} {url}");
            let r = s
                .req(method.clone(), &url, Some(&admin))
                .header("content-type", *ct)
                .body(body)
                .send()
                .unwrap();
            expect_handled(r, &what);
        }
    }
    assert!(start.elapsed() < Duration::from_secs(120));

    let attrs = attributes_path(&me);
    let send = |method: Method, path: &str, ct: &str, body: Vec<u8>| {
        s.req(method, path, Some(&admin))
            .header("content-type", ct)
            .body(body)
            .send()
            .unwrap()
    };
    // Over the configured body limit: 413.
    let r = send(Method::PUT, &attrs, "application/json", vec![b' '; 70_000]);
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    expect_handled(r, "oversize");
    // Deep nesting.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = send(
        Method::POST,
        "/scim/Users",
        SCIM,
        deep.into_bytes()[..60_000].to_vec(),
    );
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    expect_handled(r, "deep nesting");
    let nested = format!("{{\"name\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    expect_handled(
        send(Method::PUT, &attrs, "application/json", nested.into_bytes()),
        "nested value",
    );
    // Invalid UTF-8 in the path and a huge query string.
    expect_handled(
        s.req(Method::GET, "/iam/account/%ff%fe/attributes", Some(&admin))
            .send()
            .unwrap(),
        "invalid UTF-8 in the path",
    );
    let huge = format!("/iam/account/search?filter={}", "a".repeat(60_000));
    expect_handled(s.get(&huge, Some(&admin)), "huge query string");
    let many = format!(
        "/iam/account/search?{}",
        (0..5000)
            .map(|i| format!("p{i}=x"))
            .collect::<Vec<_>>()
            .join("&")
    );
    expect_handled(s.get(&many, Some(&admin)), "many parameters");
    // Unknown and unusual methods.
    for m in ["BREW", "PROPFIND", "TRACE", "CONNECTX"] {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let r = s.req(method, &attrs, Some(&admin)).send().unwrap();
        assert!(r.status().is_client_error(), "{m}: {}", r.status());
        expect_handled(r, m);
    }
    // The server is still well.
    expect_json(s.get(&attrs, Some(&admin)), StatusCode::OK, "still serving");
}

#[test]
fn token_attacks_are_401() {
    let s = Server::start();
    let admin = s.token("admin");
    let me = s.user_id(&admin, "admin");
    let (kid, pem) = s.signing_key();
    let key = EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
    let claims = |overrides: Value| {
        let mut c = json!({"iss": s.base, "sub": me, "iat": now_secs(), "exp": now_secs() + 300,
                           "jti": "x", "kind": "user", "scope": "openid iam:admin.read"});
        for (k, v) in overrides.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let sign = |c: &Value, kid: &str| {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(kid.into());
        jsonwebtoken::encode(&h, c, &key).unwrap()
    };
    let path = attributes_path(&me);
    // Sanity: our own construction is accepted as it stands.
    expect_json(
        s.get(&path, Some(&sign(&claims(json!({})), &kid))),
        StatusCode::OK,
        "control",
    );

    let jwk = body(s.get("/jwk", None))["keys"][0].clone();
    let mut attacks: Vec<(&str, String)> = vec![
        (
            "expired",
            sign(
                &claims(json!({"exp": now_secs() - 120, "iat": now_secs() - 600})),
                &kid,
            ),
        ),
        (
            "not yet valid",
            sign(&claims(json!({"nbf": now_secs() + 600})), &kid),
        ),
        (
            "wrong issuer",
            sign(&claims(json!({"iss": "https://evil.example.org"})), &kid),
        ),
        ("unknown kid", sign(&claims(json!({})), "no-such-key")),
    ];
    // HS256 with the public key material as the secret, in the forms an attacker would try.
    for secret in [
        jwk.to_string(),
        format!(
            "{}{}",
            jwk["x"].as_str().unwrap(),
            jwk["y"].as_str().unwrap()
        ),
    ] {
        let mut h = Header::new(Algorithm::HS256);
        h.kid = Some(kid.clone());
        let t = jsonwebtoken::encode(
            &h,
            &claims(json!({})),
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        attacks.push(("HS256 keyed with the public key", t));
    }
    // alg none.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims(json!({})).to_string())
    );
    attacks.push(("alg none", none));
    // A tampered payload under a real signature.
    let real = sign(&claims(json!({"scope": "openid"})), &kid);
    let parts: Vec<&str> = real.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims(json!({"scope": "openid iam:admin.write"})).to_string()),
        parts[2]
    );
    attacks.push(("tampered payload", tampered));
    // A token of a deleted account.
    let alice = s.create_user(&admin, "alice");
    let alice_token = s.token("alice");
    expect(
        s.delete(&format!("/scim/Users/{alice}"), Some(&admin)),
        StatusCode::NO_CONTENT,
        "delete",
    );
    attacks.push(("deleted account", alice_token));

    for (what, token) in attacks {
        let r = s.get(&path, Some(&token));
        assert!(challenge(&r).starts_with("Bearer"), "{what}");
        let v = expect_json(r, StatusCode::UNAUTHORIZED, what);
        assert_eq!(v["error"], "invalid_token", "{what}: {v}");
    }
}
