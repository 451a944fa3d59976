//! The operator interface of docs/api.md §15: `serve` configured by environment
//! variables alone, flags winning over them, and the first-start admin.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use iam_tests::*;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `iam-host serve` with exactly `args` and `envs` and waits for `/health` on `port`.
fn serve(args: &[&str], envs: &[(&str, String)], port: u16, log: &std::path::Path) -> Running {
    let mut cmd = Command::new(host_binary());
    cmd.arg("serve").args(args);
    // What a server on PostgreSQL keeps in its working or temporary directory (there is no
    // database file to keep it next to) stays in the test's own directory.
    let own = log.parent().unwrap();
    cmd.current_dir(own).env("TMPDIR", own);
    for var in [
        "IAM_CONFIG",
        "IAM_LISTEN",
        "IAM_DB",
        "IAM_BASE_URL",
        "IAM_POLICY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd
        .env("IAM_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let running = Running(child);
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("http://127.0.0.1:{port}/health")).send()
            && r.status() == StatusCode::OK
        {
            return running;
        }
        assert!(
            Instant::now() < deadline,
            "no server on {port}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_reads_its_settings_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let db = TestDb::new(dir.path().join("from-env.db"));
    let log = dir.path().join("log");
    let _server = serve(
        &[],
        &[
            ("IAM_LISTEN", format!("127.0.0.1:{port}")),
            ("IAM_DB", db.arg().to_string()),
        ],
        port,
        &log,
    );
    // IAM_DB names the database: the server made its admin there.
    assert_eq!(
        db.one("SELECT username FROM accounts WHERE username = 'admin'"),
        "admin"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("created account 'admin' with the password from IAM_ADMIN_PASSWORD"),
        "{logged}"
    );
}

/// About where a relative SQLite path in the file points, so on SQLite whatever the engine
/// switch says.
#[test]
fn the_config_file_comes_from_iam_config_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let file_port = free_port();
    let flag_port = free_port();
    let config = dir.path().join("iam.toml");
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:{file_port}\"\ndb = \"configured.db\"\n"),
    )
    .unwrap();
    let log = dir.path().join("log");
    {
        let _server = serve(
            &[],
            &[("IAM_CONFIG", config.display().to_string())],
            file_port,
            &log,
        );
        // A relative path in the file is relative to the file.
        assert!(dir.path().join("configured.db").exists());
    }
    // --listen beats the file.
    let _server = serve(
        &["--listen", &format!("127.0.0.1:{flag_port}")],
        &[("IAM_CONFIG", config.display().to_string())],
        flag_port,
        &log,
    );
}

#[test]
fn a_generated_admin_password_is_logged_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let db = TestDb::new(dir.path().join("iam.db"));
    let log = dir.path().join("log");
    let mut cmd = Command::new(host_binary());
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--db",
        db.arg(),
    ]);
    cmd.current_dir(dir.path()).env("TMPDIR", dir.path());
    for var in ["IAM_CONFIG", "IAM_ADMIN_PASSWORD"] {
        cmd.env_remove(var);
    }
    let child = cmd
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let running = Running(child);
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .is_err()
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(running);
    let first = std::fs::read_to_string(&log).unwrap();
    assert!(
        first.contains("created account 'admin' with the generated password"),
        "{first}"
    );
    // A second start on the same database creates nobody and prints no password.
    let _again = serve(
        &["--listen", &format!("127.0.0.1:{port}"), "--db", db.arg()],
        &[],
        port,
        &log,
    );
    let second = std::fs::read_to_string(&log).unwrap();
    assert!(!second.contains("created account 'admin'"), "{second}");
}

/// Liveness never asks the database; readiness does, and says why it is not ready. A server
/// refuses to start on a database a newer server migrated.
#[test]
fn readiness_follows_the_database_and_liveness_does_not() {
    let mut s = Server::start();
    for path in ["/health", "/health/liveness", "/health/readiness"] {
        let v = expect_json(s.get(path, None), StatusCode::OK, path);
        assert_eq!(v["status"], "UP", "{path}");
    }
    // Another (newer) server moves the schema on under this one. SQLite keeps the version
    // in the file's header, PostgreSQL as one row per applied migration.
    let at: u64 = if s.is_postgres() {
        s.sql_one("SELECT max(version) FROM schema_migrations")
    } else {
        s.sql_one("PRAGMA user_version")
    }
    .parse()
    .unwrap();
    if s.is_postgres() {
        s.sql_execute(&format!(
            "INSERT INTO schema_migrations (version, applied_ms) VALUES ({}, 0)",
            at + 1
        ));
    } else {
        s.sql_execute(&format!("PRAGMA user_version = {}", at + 1));
    }
    let v = expect_json(
        s.get("/health/readiness", None),
        StatusCode::SERVICE_UNAVAILABLE,
        "readiness on a newer schema",
    );
    assert_eq!(v["status"], "DOWN");
    assert_eq!(
        v["reason"],
        format!(
            "database schema at version {}, this server's is {at}",
            at + 1
        )
    );
    let v = expect_json(s.get("/health/liveness", None), StatusCode::OK, "liveness");
    assert_eq!(v["status"], "UP");

    s.stop();
    let msg = serve_fails_with_db(s.db());
    assert!(
        msg.contains(&format!(
            "the database schema is at version {}, newer than this server knows ({at})",
            at + 1
        )),
        "{msg}"
    );
}

fn serve_fails_with_db(db: &str) -> String {
    let out = std::process::Command::new(host_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--db", db])
        .output()
        .unwrap();
    assert!(!out.status.success(), "serve started");
    String::from_utf8_lossy(&out.stderr).into_owned()
}
