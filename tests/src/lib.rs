//! Black-box test harness: starts the real `iam-host` binary on a free port with a fresh
//! SQLite file and talks HTTP to it.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

pub use reqwest::StatusCode;

pub mod oauth;

/// The misbehaving test guests (see `tests/guests/`).
pub const FAULTY_HANDLER: &str = env!("IAM_TEST_FAULTY_HANDLER");
pub const FAULTY_POLICY: &str = env!("IAM_TEST_FAULTY_POLICY");
/// An `attributes` handler that also imports `authority-store` (which its slot does not
/// provide).
pub const GREEDY_HANDLER: &str = env!("IAM_TEST_GREEDY_HANDLER");
/// A `labels` handler that sleeps 30 s inside `PUT` with the label name `sleep`, 50 ms
/// with `nap`.
pub const SLEEPY_HANDLER: &str = env!("IAM_TEST_SLEEPY_HANDLER");
/// A `labels` handler whose log lines (`GET`) and panic message (`PUT`) try to forge a
/// host log line.
pub const LOG_FORGER: &str = env!("IAM_TEST_LOG_FORGER");
/// A `labels` handler that imports `account-writer` (which only the `scim` slot gets).
pub const WRITER_HANDLER: &str = env!("IAM_TEST_WRITER_HANDLER");
/// The example site policy of `guest/examples/site-policy`.
pub const EXAMPLE_SITE_POLICY: &str = env!("IAM_EXAMPLE_SITE_POLICY");

pub const ADMIN_PASSWORD: &str = "admin-password";
pub const SCIM: &str = "application/scim+json";

/// The `iam-host` binary of this build (`IAM_HOST_BIN` overrides).
pub fn host_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("IAM_HOST_BIN") {
        return p.into();
    }
    // target/<profile>/deps/<test> → target/<profile>/iam-host
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("iam-host");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (or build iam-host first)",
        bin.display()
    );
    bin
}

/// A running server with its own temporary directory and database.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub base: String,
    args: Vec<String>,
    child: Option<Child>,
    client: Client,
}

impl Server {
    /// A server with the built-in plugins.
    pub fn start() -> Server {
        Server::start_with_args(&[])
    }

    /// A server with `extra` arguments after `serve` (e.g. `--policy FILE`).
    pub fn start_with_args(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        Server::launch(dir, extra.iter().map(|s| s.to_string()).collect())
    }

    /// A server configured by a TOML file written into its directory.
    pub fn start_with_config(toml: &str) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("iam.toml");
        std::fs::write(&config, toml).unwrap();
        let args = vec!["--config".into(), config.to_string_lossy().into_owned()];
        Server::launch(dir, args)
    }

    /// Starts a server in `dir` on a free port with `args` after `serve`.
    fn launch(dir: tempfile::TempDir, args: Vec<String>) -> Server {
        let port = free_port();
        let mut server = Server {
            base: format!("http://127.0.0.1:{port}"),
            port,
            args,
            dir,
            child: None,
            client: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        server.spawn();
        server
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("iam.db")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new(host_binary())
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--db")
            .arg(self.db_path())
            .args(&self.args)
            .env("IAM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("IAM_LOG", "info")
            .env_remove("IAM_CONFIG")
            .env_remove("IAM_BASE_URL")
            .env_remove("IAM_POLICY")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start iam-host");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!(
                    "iam-host exited with {status} during start:\n{}",
                    self.log()
                );
            }
            if let Ok(r) = self.client.get(self.url("/health")).send()
                && r.status().is_success()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("iam-host did not become ready:\n{}", self.log());
    }

    /// Stops the server (SIGKILL) and starts it again on the same database and port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends the server a signal (`HUP`, `TERM`, ...).
    pub fn signal(&self, name: &str) {
        let pid = self.pid();
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.log_path()) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Signs `claims` with the server's own active key, read from its database: how an
    /// attacker who could make the server sign anything would forge a token, and how tests
    /// build tokens the token endpoint would never issue.
    pub fn sign(&self, claims: &Value) -> String {
        let conn = rusqlite::Connection::open(self.db_path()).unwrap();
        let (kid, pem): (String, String) = conn
            .query_row(
                "SELECT kid, private_pem FROM signing_keys ORDER BY created_ms DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid);
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// A token from `iam-host token` for `username`, with `scope` or the account's default.
    pub fn token_with(&self, username: &str, scope: Option<&str>) -> String {
        let mut cmd = Command::new(host_binary());
        cmd.arg("token")
            .arg("--db")
            .arg(self.db_path())
            .args(["--username", username]);
        if let Some(s) = scope {
            cmd.args(["--scope", s]);
        }
        let out = cmd.output().expect("run iam-host token");
        assert!(
            out.status.success(),
            "token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    pub fn token(&self, username: &str) -> String {
        self.token_with(username, None)
    }

    /// A request with an optional bearer token.
    pub fn req(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, self.url(path));
        match token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.req(reqwest::Method::GET, path, token).send().unwrap()
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.req(reqwest::Method::DELETE, path, token)
            .send()
            .unwrap()
    }

    /// PUT with a JSON body (`Content-Type: application/json`).
    pub fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.req(reqwest::Method::PUT, path, token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    }

    /// POST with a SCIM JSON body (`Content-Type: application/scim+json`).
    pub fn post_scim(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.req(reqwest::Method::POST, path, token)
            .header("content-type", SCIM)
            .body(body.to_string())
            .send()
            .unwrap()
    }

    /// Creates an active user with `ROLE_USER` through SCIM and returns its UUID.
    pub fn create_user(&self, admin_token: &str, username: &str) -> String {
        let r = self.post_scim("/scim/Users", Some(admin_token), &user_body(username));
        assert_eq!(r.status(), StatusCode::CREATED, "create user {username}");
        r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates a root group through SCIM and returns its UUID.
    pub fn create_group(&self, admin_token: &str, name: &str) -> String {
        let r = self.post_scim("/scim/Groups", Some(admin_token), &group_body(name, None));
        assert_eq!(r.status(), StatusCode::CREATED, "create group {name}");
        r.json::<Value>().unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The UUID of the account `username`, found through SCIM.
    pub fn user_id(&self, admin_token: &str, username: &str) -> String {
        let list: Value = self.get("/scim/Users", Some(admin_token)).json().unwrap();
        list["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["userName"] == username)
            .unwrap_or_else(|| panic!("no user {username}"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A valid SCIM user creation body.
pub fn user_body(username: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": username,
        "active": true,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"type": "work", "value": format!("{username}@example.org"), "primary": true}]
    })
}

/// A SCIM group creation body, optionally under `parent` = (uuid, name).
pub fn group_body(name: &str, parent: Option<(&str, &str)>) -> Value {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": name,
    });
    if let Some((id, display)) = parent {
        body["urn:indigo-dc:scim:schemas:IndigoGroup"] =
            json!({"parentGroup": {"value": id, "display": display}});
    }
    body
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The JSON body of a response (panics with the text when it is not JSON).
pub fn body(r: Response) -> Value {
    let text = r.text().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

/// A well-formed UUID that names no account or group.
pub const UNKNOWN_ID: &str = "3f0c3bb4-8a7a-4a5e-9f65-4b8d7cb0e0aa";

/// The attributes endpoint of account `id`.
pub fn attributes_path(id: &str) -> String {
    format!("/iam/account/{id}/attributes")
}

/// The `Content-Type` header of a response (empty when absent).
pub fn content_type(r: &Response) -> String {
    r.headers()
        .get("content-type")
        .map(|h| h.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The `WWW-Authenticate` header of a response (empty when absent).
pub fn challenge(r: &Response) -> String {
    r.headers()
        .get("www-authenticate")
        .map(|h| h.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Asserts the status and returns the body text.
pub fn expect(r: Response, status: StatusCode, what: &str) -> String {
    let got = r.status();
    let text = r.text().unwrap();
    assert_eq!(got, status, "{what}: body {text:?}");
    text
}

/// Asserts the status and returns the body as JSON.
pub fn expect_json(r: Response, status: StatusCode, what: &str) -> Value {
    let text = expect(r, status, what);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {text:?}"))
}

/// Asserts the 403 answer of the policy: `access_denied`, "Access is denied".
pub fn expect_denied(r: Response, what: &str) {
    let v = expect_json(r, StatusCode::FORBIDDEN, what);
    assert_eq!(
        v,
        json!({"error": "access_denied", "error_description": "Access is denied"}),
        "{what}"
    );
}

/// Asserts the 401 answer for a missing token, with a `Bearer` challenge.
pub fn expect_unauthorized(r: Response, what: &str) {
    let ch = challenge(&r);
    let v = expect_json(r, StatusCode::UNAUTHORIZED, what);
    assert_eq!(
        v,
        json!({"error": "unauthorized",
               "error_description": "Full authentication is required to access this resource"}),
        "{what}"
    );
    assert!(ch.starts_with("Bearer"), "{what}: WWW-Authenticate {ch:?}");
}

/// Asserts an `{"error": "..."}` framework error (415, 406, 400 for unreadable input, 405,
/// 404) rendered as `application/json`.
pub fn expect_plain_error(r: Response, status: StatusCode, what: &str) {
    let ct = content_type(&r);
    let v = expect_json(r, status, what);
    assert!(
        ct.starts_with("application/json"),
        "{what}: content type {ct:?}"
    );
    assert!(v["error"].is_string(), "{what}: {v}");
    assert_eq!(v.as_object().unwrap().len(), 1, "{what}: {v}");
}

/// Percent-encodes a query or form component.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Stored times have millisecond resolution: make sure the clock moves between writes.
pub fn tick() {
    std::thread::sleep(Duration::from_millis(20));
}
