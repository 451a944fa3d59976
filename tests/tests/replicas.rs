//! Several servers on one database, as replicas behind a load balancer: whatever one writes
//! or decides, the others see at once (accounts, tokens and their revocation, disabled
//! accounts, signing keys, throttling, plugin reloads, the lifecycle job's turn), and
//! concurrent writes across them behave as they do on one server. On SQLite the replicas
//! share one file on one machine; on PostgreSQL (`IAM_TEST_POSTGRES`) one database.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use iam_tests::oauth::{SECRET, jwt_header, oauth_error, post_form, register, token_ok};
use iam_tests::proxy::TcpProxy;
use iam_tests::*;
use serde_json::{Value, json};

/// What every replica shares besides the database: the public URL (the token issuer) of
/// the load balancer in front of them.
const SHARED: &str = "base_url = \"https://iam.example.org\"\n";

/// Two servers on one database, configured alike (`SHARED` and `toml`).
fn pair(toml: &str) -> (Server, Server) {
    let a = Server::start_with_config(&format!("{SHARED}{toml}"));
    let b = a.replica(&["--config", config_of(&a).as_str()]);
    (a, b)
}

fn config_of(s: &Server) -> String {
    s.dir.path().join("iam.toml").to_string_lossy().into_owned()
}

fn password_token(s: &Server, user: &str, password: &str) -> Value {
    token_ok(post_form(
        s,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", password),
        ],
    ))
}

fn create_with_password(s: &Server, admin: &str, user: &str) -> String {
    let mut body = user_body(user);
    body["password"] = json!(format!("{user}-password"));
    let r = s.post_scim("/scim/Users", Some(admin), &body);
    expect_json(r, StatusCode::CREATED, "create user")["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn what_one_replica_writes_or_revokes_the_other_sees_at_once() {
    let (a, b) = pair("");
    let admin = a.token("admin");
    register(
        &a,
        &admin,
        "app",
        &["password", "refresh_token"],
        "openid",
        false,
    );

    // An account created on A is read on B at once.
    let id = create_with_password(&a, &admin, "alice");
    let read = expect_json(
        b.get(&format!("/scim/Users/{id}"), Some(&admin)),
        StatusCode::OK,
        "the user on B",
    );
    assert_eq!(read["userName"], "alice");

    // A token issued by A verifies on B; its refresh token works on B.
    let t = password_token(&a, "alice", "alice-password");
    let access = t["access_token"].as_str().unwrap().to_string();
    expect_json(
        b.get("/scim/Me", Some(&access)),
        StatusCode::OK,
        "A's token on B",
    );
    let refreshed = token_ok(post_form(
        &b,
        "/token",
        Some(("app", SECRET)),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ],
    ));
    // The refresh token was used up on B: A refuses it.
    oauth_error(
        post_form(
            &a,
            "/token",
            Some(("app", SECRET)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", t["refresh_token"].as_str().unwrap()),
            ],
        ),
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    // Revoked on B, refused on A (which verified it a moment ago).
    expect_json(a.get("/scim/Me", Some(&access)), StatusCode::OK, "before");
    let r = post_form(&b, "/revoke", Some(("app", SECRET)), &[("token", &access)]);
    assert_eq!(r.status(), StatusCode::OK);
    expect_invalid_token(a.get("/scim/Me", Some(&access)), "revoked on B, used on A");

    // Disabled on A: the account's token from B's refresh is refused on B.
    let fresh = refreshed["access_token"].as_str().unwrap().to_string();
    expect_json(
        b.get("/scim/Me", Some(&fresh)),
        StatusCode::OK,
        "before disable",
    );
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}]
    });
    let r = a.patch_scim(&format!("/scim/Users/{id}"), Some(&admin), &patch);
    assert!(r.status().is_success(), "{}", r.text().unwrap());
    assert!(
        b.get("/scim/Me", Some(&fresh)).status().is_client_error(),
        "a disabled account's token is refused on B"
    );

    // Made admin on B: A lets the account's existing token do admin things at once, and
    // takes it back as soon as B does.
    let bob = create_with_password(&a, &admin, "bob");
    let bob_token = password_token(&a, "bob", "bob-password")["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    expect_denied(
        a.get("/iam/account/search", Some(&bob_token)),
        "not yet an admin",
    );
    b.grant(&admin, &bob, "ROLE_ADMIN");
    expect_json(
        a.get("/iam/account/search", Some(&bob_token)),
        StatusCode::OK,
        "an admin since B said so",
    );
    b.revoke(&admin, &bob, "ROLE_ADMIN");
    expect_denied(
        a.get("/iam/account/search", Some(&bob_token)),
        "demoted on B",
    );
}

#[test]
fn a_rotated_key_is_published_everywhere_before_it_signs() {
    let (a, b) = pair("");
    let admin = a.token("admin");
    register(
        &a,
        &admin,
        "svc",
        &["client_credentials"],
        "iam:admin.read",
        false,
    );
    let issue = |s: &Server| {
        token_ok(post_form(
            s,
            "/token",
            Some(("svc", SECRET)),
            &[("grant_type", "client_credentials")],
        ))["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let old_kid = jwt_header(&issue(&a))["kid"].as_str().unwrap().to_string();

    let out = a
        .cli(&["keys", "rotate", "--publish-for", "4"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let new_kid = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let rotated = Instant::now();

    // Published by both at once, while both still sign with the old key.
    for s in [&a, &b] {
        let jwks = expect_json(s.get("/jwk", None), StatusCode::OK, "jwk");
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert!(kids.contains(&new_kid.as_str()) && kids.contains(&old_kid.as_str()));
        let token = issue(s);
        if rotated.elapsed() < Duration::from_secs(3) {
            assert_eq!(
                jwt_header(&token)["kid"],
                old_kid.as_str(),
                "signed before its time"
            );
        }
    }
    // Once its time has come, both sign with it, and each verifies the other's tokens.
    thread::sleep(Duration::from_secs(4).saturating_sub(rotated.elapsed()));
    let from_a = issue(&a);
    let from_b = issue(&b);
    assert_eq!(jwt_header(&from_a)["kid"], new_kid.as_str());
    assert_eq!(jwt_header(&from_b)["kid"], new_kid.as_str());
    let admin_scope = |s: &Server, t: &str| s.get("/scim/Me", Some(t)).status();
    // Client tokens have no account: anything but 401 means the signature was accepted.
    assert_ne!(admin_scope(&b, &from_a), StatusCode::UNAUTHORIZED);
    assert_ne!(admin_scope(&a, &from_b), StatusCode::UNAUTHORIZED);
}

/// Twenty SCIM user creations at once, alternating between the servers: `body(i)` is the
/// i-th one's body. Their statuses.
fn race(
    servers: [&Server; 2],
    admin: &str,
    body: impl Fn(usize) -> Value + Sync,
) -> Vec<StatusCode> {
    thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                let s = servers[i % 2];
                let body = &body;
                scope.spawn(move || s.post_scim("/scim/Users", Some(admin), &body(i)).status())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn twenty_concurrent_creations_of_one_username_across_replicas_make_one_account() {
    let (a, b) = pair("");
    let admin = a.token("admin");
    let servers = [&a, &b];
    let statuses = race(servers, &admin, |i| {
        let mut body = user_body("racer");
        // Different emails: only the username collides.
        body["emails"][0]["value"] = json!(format!("racer{i}@example.org"));
        body
    });
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");
    assert_eq!(
        a.sql_one("SELECT count(*) FROM accounts WHERE username = 'racer'"),
        "1"
    );

    // The same for an e-mail address, under different usernames.
    let statuses = race(servers, &admin, |i| {
        let mut body = user_body(&format!("mailer{i}"));
        body["emails"][0]["value"] = json!("shared@example.org");
        body
    });
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    // On PostgreSQL the database itself refuses a second one, whatever a handler checks.
    if a.is_postgres() {
        let mut pg = postgres::Client::connect(a.db(), postgres::NoTls).unwrap();
        let duplicate = pg.batch_execute(
            "INSERT INTO accounts(uuid, username, email, given_name, family_name, created_ms,
                                  last_modified_ms)
             VALUES ('dup-uuid', 'dup', 'shared@example.org', 'D', 'Up', 0, 0)",
        );
        let e = duplicate.expect_err("a second account with the same e-mail");
        assert_eq!(
            e.code(),
            Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
            "{e}"
        );
    }

    // Concurrent membership edits from both replicas: none is lost.
    let group = a.create_group(&admin, "crowd");
    let members: Vec<String> = (0..10)
        .map(|i| a.create_user(&admin, &format!("member{i}")))
        .collect();
    thread::scope(|scope| {
        for (i, id) in members.iter().enumerate() {
            let s = servers[i % 2];
            let admin = admin.clone();
            let group = group.clone();
            scope.spawn(move || {
                let r = s.post(&format!("/iam/account/{id}/groups/{group}"), Some(&admin));
                assert!(r.status().is_success(), "join: {}", r.status());
            });
        }
    });
    let listed = expect_json(
        b.get(&format!("/iam/account/find/bygroup/{group}"), Some(&admin)),
        StatusCode::OK,
        "members",
    );
    assert_eq!(listed["totalResults"], 10, "{listed}");
}

#[test]
fn a_password_throttle_holds_across_replicas() {
    let (a, b) = pair("");
    let admin = a.token("admin");
    register(&a, &admin, "app", &["password"], "openid", false);
    create_with_password(&a, &admin, "carol");
    let attempt = |s: &Server| {
        post_form(
            s,
            "/token",
            Some(("app", SECRET)),
            &[
                ("grant_type", "password"),
                ("username", "carol"),
                ("password", "guess"),
            ],
        )
    };
    // One server lets 3 failures through free, and a 4th that starts the wait; two
    // servers together do not let through more.
    for (i, s) in [&a, &b, &a, &b].into_iter().enumerate() {
        oauth_error(attempt(s), StatusCode::BAD_REQUEST, "invalid_grant");
        let _ = i;
    }
    for s in [&a, &b] {
        let r = attempt(s);
        assert_eq!(
            r.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            r.text().unwrap()
        );
    }
}

#[test]
fn the_lifecycle_job_runs_once_per_period_across_replicas() {
    let (a, b) = pair("[lifecycle]\ninterval_secs = 3600\n");
    // Both tick at start; only one pass runs in the period.
    thread::sleep(Duration::from_secs(2));
    let passes = |s: &Server| s.log().matches("lifecycle pass done").count();
    assert_eq!(
        passes(&a) + passes(&b),
        1,
        "A:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );
    // The CLI is an operator's explicit pass: it always runs.
    let out = a.cli(&["lifecycle"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_plugin_reload_through_the_api_reaches_every_replica() {
    let (a, b) = pair("");
    let admin = a.token_with("admin", Some("iam:admin.write"));
    let r = a.reload_plugins(&admin);
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().unwrap());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !b.log().contains("another server reloaded the plugins") {
        assert!(Instant::now() < deadline, "B did not follow:\n{}", b.log());
        thread::sleep(Duration::from_millis(100));
    }
    assert!(!a.log().contains("another server reloaded the plugins"));
}

#[test]
fn killing_a_replica_under_write_load_loses_nothing_acknowledged() {
    let (a, b) = pair("");
    let admin = a.token("admin");
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut a = a;
    thread::scope(|scope| {
        for w in 0..4 {
            let (servers, admin, acknowledged) = ([&a.base, &b.base], &admin, &acknowledged);
            let servers = servers.map(String::clone);
            scope.spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap();
                for i in 0..40 {
                    let name = format!("load{w}x{i}");
                    let r = client
                        .post(format!("{}/scim/Users", servers[i % 2]))
                        .bearer_auth(admin)
                        .header("content-type", "application/scim+json")
                        .json(&user_body(&name))
                        .send();
                    if let Ok(r) = r
                        && r.status() == StatusCode::CREATED
                    {
                        acknowledged.lock().unwrap().push(name);
                    }
                }
            });
        }
        thread::sleep(Duration::from_millis(700));
        a.stop(); // SIGKILL, mid-load
    });
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 40,
        "too little got through: {}",
        acknowledged.len()
    );
    // B keeps serving, and has every account either server acknowledged.
    for name in &acknowledged {
        let found = expect_json(
            b.get(
                &format!("/scim/Users?filter=userName%20eq%20%22{name}%22"),
                Some(&admin),
            ),
            StatusCode::OK,
            "find",
        );
        assert_eq!(
            found["totalResults"], 1,
            "{name} was acknowledged but is gone"
        );
    }
    b.create_user(&admin, "after-the-crash");
}

#[test]
fn replicas_that_lose_the_database_answer_503_fast_and_recover() {
    let a = Server::start_with_config(SHARED);
    if !a.is_postgres() {
        // A SQLite file cannot go away from under the server: the PostgreSQL pass runs it.
        eprintln!("needs PostgreSQL (IAM_TEST_POSTGRES): runs in the PostgreSQL pass");
        return;
    }
    let target = a
        .db()
        .split('@')
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let proxy = TcpProxy::start(&target);
    let config = config_of(&a);
    let b = a.replica_via(&proxy.url_for(a.db()), &["--config", &config]);
    let c = a.replica_via(&proxy.url_for(a.db()), &["--config", &config]);
    let admin = a.token("admin");
    b.create_user(&admin, "before");

    proxy.down();
    for s in [&b, &c] {
        for path in ["/scim/Users?count=1", "/health/readiness"] {
            let started = Instant::now();
            let status = s.get(path, Some(&admin)).status();
            let took = started.elapsed();
            assert_eq!(
                status,
                StatusCode::SERVICE_UNAVAILABLE,
                "{path} without the database"
            );
            assert!(took < Duration::from_secs(8), "{path} took {took:?}");
        }
        // Liveness does not depend on the database.
        assert_eq!(s.get("/health/liveness", None).status(), StatusCode::OK);
    }

    proxy.up();
    let deadline = Instant::now() + Duration::from_secs(20);
    for s in [&b, &c] {
        while s.get("/health/readiness", None).status() != StatusCode::OK {
            assert!(Instant::now() < deadline, "no recovery:\n{}", s.log());
            thread::sleep(Duration::from_millis(200));
        }
        expect_json(
            s.get("/scim/Users?count=1", Some(&admin)),
            StatusCode::OK,
            "after",
        );
    }
    c.create_user(&admin, "after");
}

/// The advisory lock every write transaction of the server holds on PostgreSQL.
const WRITE_LOCK: i64 = 0x6961_6d2d_7761_736d;

#[test]
fn a_write_that_loses_a_deadlock_runs_again_and_succeeds() {
    let s = Server::start();
    if !s.is_postgres() {
        // SQLite has one writer at a time and no deadlocks: the PostgreSQL pass runs it.
        eprintln!("needs PostgreSQL (IAM_TEST_POSTGRES): runs in the PostgreSQL pass");
        return;
    }
    let admin = s.token("admin");
    let id = s.create_user(&admin, "dora");
    // Another session (a maintenance script, say) holds dora's row...
    let mut other = postgres::Client::connect(s.db(), postgres::NoTls).unwrap();
    let mut tx = other.transaction().unwrap();
    tx.execute(
        "UPDATE accounts SET given_name = given_name WHERE username = 'dora'",
        &[],
    )
    .unwrap();
    // ...while the server's write (holding its write lock) waits for that row...
    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"name": {"givenName": "Dorothea"}}}]
    });
    let answer = thread::scope(|scope| {
        let writer =
            scope.spawn(|| s.patch_scim(&format!("/scim/Users/{id}"), Some(&admin), &patch));
        thread::sleep(Duration::from_millis(500));
        // ...and then wants the server's write lock: a deadlock. PostgreSQL rolls back the
        // server's transaction (it waited first), which runs again once this one is done.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])
            .unwrap();
        tx.commit().unwrap();
        writer.join().unwrap()
    });
    assert!(answer.status().is_success(), "{}", answer.text().unwrap());
    assert!(
        s.log().contains("transaction conflicted, running it again"),
        "{}",
        s.log()
    );
    // And the metrics count it.
    let metrics = s.get("/metrics", None).text().unwrap();
    let retries: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("iam_db_transaction_retries_total "))
        .expect("the retries counter")
        .trim()
        .parse()
        .unwrap();
    assert!(retries >= 1, "{metrics}");
    let user = expect_json(
        s.get(&format!("/scim/Users/{id}"), Some(&admin)),
        StatusCode::OK,
        "dora",
    );
    assert_eq!(user["name"]["givenName"], "Dorothea");
}

#[test]
fn servers_starting_together_on_an_empty_database_migrate_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path().join("fresh.db"));
    // Three servers start on the empty database at once.
    let mut servers: Vec<(std::process::Child, u16)> = (0..3)
        .map(|i| {
            let port = free_port();
            let child = std::process::Command::new(host_binary())
                .args([
                    "serve",
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                    "--db",
                    db.arg(),
                ])
                .current_dir(dir.path())
                .env("TMPDIR", dir.path())
                .env("IAM_ADMIN_PASSWORD", format!("password-{i}"))
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            (child, port)
        })
        .collect();
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for (child, port) in &mut servers {
        loop {
            assert!(
                child.try_wait().unwrap().is_none(),
                "a server exited while starting"
            );
            let ready = client
                .get(format!("http://127.0.0.1:{port}/health/readiness"))
                .send()
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "a server never became ready");
            thread::sleep(Duration::from_millis(100));
        }
    }
    for (child, _) in &mut servers {
        let _ = child.kill();
        let _ = child.wait();
    }
    if db.is_postgres() {
        // One row per migration: each ran once.
        let rows = db.rows("SELECT version, count(*) FROM schema_migrations GROUP BY version");
        assert!(!rows.is_empty());
        assert!(
            rows.iter().all(|r| r[1].as_deref() == Some("1")),
            "{rows:?}"
        );
    }
    // One bootstrap admin, whichever server made it.
    assert_eq!(
        db.one("SELECT count(*) FROM accounts WHERE username = 'admin'"),
        "1"
    );
}
