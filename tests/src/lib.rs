//! Black-box test harness: starts the real `iam-host` binary on a free port with a fresh
//! database and talks HTTP to it.
//!
//! The database is a SQLite file in the server's temporary directory, or, when the
//! environment variable `IAM_TEST_POSTGRES` holds the base URL of a PostgreSQL cluster
//! (`postgres://postgres@127.0.0.1:PORT`, see `tests/postgres-cluster`), a database of its own
//! created in that cluster for each server and dropped with it.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};

pub use reqwest::StatusCode;

pub mod fixtures;
pub mod oauth;
pub mod proxy;

pub use fixtures::*;

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
pub const JSON: &str = "application/json";
/// The SCIM extension schema of INDIGO IAM's users.
pub const INDIGO_USER: &str = "urn:indigo-dc:scim:schemas:IndigoUser";
/// The SCIM error schema.
pub const SCIM_ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The content type of SCIM answers.
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json;charset=UTF-8";

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

/// The base URL of the PostgreSQL cluster the tests run on (`IAM_TEST_POSTGRES`), or `None`
/// for SQLite.
pub fn test_postgres() -> Option<String> {
    std::env::var("IAM_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// A database of its own for one server (or one CLI run): a SQLite file, or a fresh
/// PostgreSQL database under `IAM_TEST_POSTGRES`, dropped when this is dropped.
pub struct TestDb {
    /// What `--db` gets: the file's path or the database's URL.
    arg: String,
    engine: Engine,
}

enum Engine {
    Sqlite(PathBuf),
    /// The database's URL, the URL of the cluster's `postgres` database (to drop it from),
    /// and its name.
    Postgres {
        url: String,
        admin: String,
        name: String,
    },
}

impl TestDb {
    /// The SQLite file `sqlite_file`, or under `IAM_TEST_POSTGRES` a new PostgreSQL database
    /// (and then `sqlite_file` is not used).
    pub fn new(sqlite_file: PathBuf) -> TestDb {
        match test_postgres() {
            Some(base) => TestDb::create_postgres(&base),
            None => TestDb::sqlite(sqlite_file),
        }
    }

    /// The SQLite file `path`, whatever the switch says: for tests about the file itself.
    pub fn sqlite(path: PathBuf) -> TestDb {
        TestDb {
            arg: path.to_string_lossy().into_owned(),
            engine: Engine::Sqlite(path),
        }
    }

    fn create_postgres(base: &str) -> TestDb {
        // Test binaries run in parallel and each runs its tests on parallel threads: the
        // process id and a counter keep names apart, the random part guards against a pid
        // reused while a leftover of an earlier run still exists.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "iam_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let admin = postgres_url(base, "postgres");
        pg_connect(&admin)
            .simple_query(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {base}: {e}"));
        let url = postgres_url(base, &name);
        TestDb {
            arg: url.clone(),
            engine: Engine::Postgres { url, admin, name },
        }
    }

    /// The string `--db` (or `IAM_DB`) gets.
    pub fn arg(&self) -> &str {
        &self.arg
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres { .. })
    }

    /// The SQLite file (panics on PostgreSQL: only tests about the file itself use it).
    pub fn sqlite_path(&self) -> &Path {
        match &self.engine {
            Engine::Sqlite(p) => p,
            Engine::Postgres { .. } => panic!("the database is PostgreSQL, not a SQLite file"),
        }
    }

    /// Runs one query and returns its rows, every column as text (`None` for NULL). Plain
    /// SQL both engines accept; quote strings with [`sql_str`].
    pub fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match &self.engine {
            Engine::Sqlite(path) => {
                let conn = sqlite_open(path);
                let mut q = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let n = q.column_count();
                let mut rows = q.query([]).unwrap_or_else(|e| panic!("{sql}: {e}"));
                let mut out = Vec::new();
                while let Some(row) = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}")) {
                    out.push(
                        (0..n)
                            .map(|i| sqlite_text(row.get_ref(i).unwrap()))
                            .collect(),
                    );
                }
                out
            }
            // The simple query protocol answers every column as text.
            Engine::Postgres { url, .. } => pg_connect(url)
                .simple_query(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .filter_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
                    }
                    _ => None,
                })
                .collect(),
        }
    }

    /// The one value the query answers (panics unless exactly one row with one non-NULL
    /// column).
    pub fn one(&self, sql: &str) -> String {
        let rows = self.rows(sql);
        match rows.as_slice() {
            [row] if row.len() == 1 => row[0].clone().unwrap_or_else(|| panic!("{sql}: NULL")),
            _ => panic!("{sql}: one value expected, got {rows:?}"),
        }
    }

    /// Runs one statement; returns the number of rows it changed.
    pub fn execute(&self, sql: &str) -> u64 {
        match &self.engine {
            Engine::Sqlite(path) => sqlite_open(path)
                .execute(sql, [])
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                as u64,
            Engine::Postgres { url, .. } => pg_connect(url)
                .simple_query(sql)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
                .into_iter()
                .map(|m| match m {
                    postgres::SimpleQueryMessage::CommandComplete(n) => n,
                    _ => 0,
                })
                .sum(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // The server using it is stopped by now; FORCE ends any session still around. A
        // leftover is harmless (the cluster is thrown away), so a failure only warns.
        if let Engine::Postgres { admin, name, .. } = &self.engine {
            let dropped = postgres::Client::connect(admin, postgres::NoTls).and_then(|mut c| {
                c.simple_query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            });
            if let Err(e) = dropped {
                eprintln!("warning: DROP DATABASE {name}: {e}");
            }
        }
    }
}

/// `base` (a cluster's URL, with or without a database and a `?query`) naming `database`.
fn postgres_url(base: &str, database: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (base, None),
    };
    let authority_at = head.find("://").map_or(0, |i| i + 3);
    let authority_end = head[authority_at..]
        .find('/')
        .map_or(head.len(), |i| authority_at + i);
    let mut url = format!("{}/{database}", &head[..authority_end]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// A connection to `url`; retried for a while, since a cluster busy with many parallel
/// servers may be out of connections for a moment.
fn pg_connect(url: &str) -> postgres::Client {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match postgres::Client::connect(url, postgres::NoTls) {
            Ok(c) => return c,
            Err(e) if Instant::now() >= deadline => panic!("connect to {url}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// An existing SQLite file, opened read-write (never created: a wrong path fails here).
fn sqlite_open(path: &Path) -> rusqlite::Connection {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    let conn = rusqlite::Connection::open_with_flags(path, flags)
        .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    // The server may be writing at the same moment.
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn
}

/// A SQLite value as text, as PostgreSQL's simple query protocol would give it.
fn sqlite_text(v: rusqlite::types::ValueRef<'_>) -> Option<String> {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// `s` as an SQL string literal (standard quoting, which both engines use).
pub fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A running server with its own temporary directory and database.
pub struct Server {
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub base: String,
    args: Vec<String>,
    child: Option<Child>,
    client: Client,
    /// Dropped after `Drop for Server` has stopped the server (and, shared with replicas,
    /// after the last of them).
    db: std::sync::Arc<TestDb>,
    /// `--db` when it is not `db`'s own (a replica reaching the database through a proxy).
    db_override: Option<String>,
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
        let db = std::sync::Arc::new(TestDb::new(dir.path().join("iam.db")));
        Server::launch_on(dir, args, db, None)
    }

    /// A server on `db` (e.g. one a test filled or copied), with `extra` arguments after
    /// `serve`.
    pub fn start_on(db: TestDb, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = extra.iter().map(|s| s.to_string()).collect();
        Server::launch_on(dir, args, std::sync::Arc::new(db), None)
    }

    /// Another server on this one's database, with `extra` arguments after `serve` (a
    /// replica behind the same load balancer, as it were).
    pub fn replica(&self, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = extra.iter().map(|s| s.to_string()).collect();
        Server::launch_on(dir, args, self.db.clone(), None)
    }

    /// Another server on this one's database, reaching it at `db_url` instead (through a
    /// [`TcpProxy`]).
    pub fn replica_via(&self, db_url: &str, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = extra.iter().map(|s| s.to_string()).collect();
        Server::launch_on(dir, args, self.db.clone(), Some(db_url.to_string()))
    }

    fn launch_on(
        dir: tempfile::TempDir,
        args: Vec<String>,
        db: std::sync::Arc<TestDb>,
        db_override: Option<String>,
    ) -> Server {
        let port = free_port();
        let mut server = Server {
            db_override,
            base: format!("http://127.0.0.1:{port}"),
            port,
            args,
            db,
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

    /// What the server got as `--db`: its SQLite file or its PostgreSQL database's URL.
    pub fn db(&self) -> &str {
        self.db_override.as_deref().unwrap_or(self.db.arg())
    }

    /// Whether the server runs on PostgreSQL (`IAM_TEST_POSTGRES`).
    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }

    /// The server's SQLite file, for tests about the file itself (panics on PostgreSQL).
    pub fn db_path(&self) -> PathBuf {
        self.db.sqlite_path().to_path_buf()
    }

    /// The rows of a query on the server's database, every column as text (see
    /// [`TestDb::rows`]).
    pub fn sql_rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.db.rows(sql)
    }

    /// The one value a query on the server's database answers.
    pub fn sql_one(&self, sql: &str) -> String {
        self.db.one(sql)
    }

    /// Runs a statement on the server's database behind its back; returns the rows changed.
    pub fn sql_execute(&self, sql: &str) -> u64 {
        self.db.execute(sql)
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
        let child = self
            .command()
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--db", self.db()])
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

    /// `iam-host`, to be run on this server's database.
    fn command(&self) -> Command {
        let mut cmd = Command::new(host_binary());
        if self.is_postgres() {
            // No database file to keep things next to (the plugin cache): what the server
            // keeps in its working or temporary directory stays in its own directory, as it
            // does on SQLite, instead of being shared with the servers of parallel tests.
            cmd.current_dir(self.dir.path())
                .env("TMPDIR", self.dir.path());
        }
        cmd
    }

    /// `iam-host <subcommand...> --db <the server's database>` (`token`, `lifecycle`,
    /// `keys rotate`), to add arguments to and run.
    pub fn cli(&self, subcommand: &[&str]) -> Command {
        let mut cmd = self.command();
        cmd.args(subcommand).args(["--db", self.db()]);
        cmd
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
        let (kid, pem) = self.signing_key();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid);
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// The id and private PEM of the server's active signing key, read from its database.
    pub fn signing_key(&self) -> (String, String) {
        let rows = self
            .sql_rows("SELECT kid, private_pem FROM signing_keys ORDER BY created_ms DESC LIMIT 1");
        let [row] = rows.as_slice() else {
            panic!("no signing key: {rows:?}")
        };
        (row[0].clone().unwrap(), row[1].clone().unwrap())
    }

    /// `POST /iam/admin/plugins/reload` as `token`.
    pub fn reload_plugins(&self, token: &str) -> Response {
        self.post("/iam/admin/plugins/reload", Some(token))
    }

    /// A token from `iam-host token` for `username`, with `scope` or the account's default.
    pub fn token_with(&self, username: &str, scope: Option<&str>) -> String {
        let mut cmd = self.cli(&["token"]);
        cmd.args(["--username", username]);
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

    /// POST without a body.
    pub fn post(&self, path: &str, token: Option<&str>) -> Response {
        self.req(reqwest::Method::POST, path, token).send().unwrap()
    }

    /// A request with `body` sent as it is, under `content_type` when one is given.
    pub fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: &str,
    ) -> Response {
        let mut rb = self.req(method, path, token);
        if let Some(ct) = content_type {
            rb = rb.header("content-type", ct);
        }
        rb.body(body.to_string()).send().unwrap()
    }

    /// POST with a JSON body (`Content-Type: application/json`).
    pub fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let body = body.to_string();
        self.send_raw(reqwest::Method::POST, path, token, Some(JSON), &body)
    }

    /// PUT with a JSON body (`Content-Type: application/json`).
    pub fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let body = body.to_string();
        self.send_raw(reqwest::Method::PUT, path, token, Some(JSON), &body)
    }

    /// POST with a SCIM JSON body (`Content-Type: application/scim+json`).
    pub fn post_scim(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let body = body.to_string();
        self.send_raw(reqwest::Method::POST, path, token, Some(SCIM), &body)
    }

    /// PUT with a SCIM JSON body.
    pub fn put_scim(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let body = body.to_string();
        self.send_raw(reqwest::Method::PUT, path, token, Some(SCIM), &body)
    }

    /// PATCH with a SCIM JSON body.
    pub fn patch_scim(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let body = body.to_string();
        self.send_raw(reqwest::Method::PATCH, path, token, Some(SCIM), &body)
    }

    /// Grants `authority` to `account` as `admin` (200, empty body).
    pub fn grant(&self, admin: &str, account: &str, authority: &str) {
        let path = format!(
            "{}?authority={}",
            authorities_path(account),
            encode(authority)
        );
        expect_empty_ok(self.post(&path, Some(admin)), &format!("grant {authority}"));
    }

    /// Revokes `authority` from `account` as `admin` (200, empty body).
    pub fn revoke(&self, admin: &str, account: &str, authority: &str) {
        let path = format!(
            "{}?authority={}",
            authorities_path(account),
            encode(authority)
        );
        let r = self
            .req(reqwest::Method::DELETE, &path, Some(admin))
            .send()
            .unwrap();
        expect_empty_ok(r, &format!("revoke {authority}"));
    }

    /// Makes `account` a member of `group` (and of its ancestors), as `admin` (201).
    pub fn join(&self, admin: &str, account: &str, group: &str) {
        let path = format!("/iam/account/{account}/groups/{group}");
        expect(self.post(&path, Some(admin)), StatusCode::CREATED, &path);
    }

    /// Makes `account` a manager of `group`, as `admin` (201).
    pub fn appoint(&self, admin: &str, account: &str, group: &str) {
        let path = format!("/iam/account/{account}/managed-groups/{group}");
        expect(self.post(&path, Some(admin)), StatusCode::CREATED, &path);
    }

    /// `meta.lastModified` of the SCIM resource at `path`.
    pub fn last_modified(&self, token: &str, path: &str) -> String {
        let v = expect_json(self.get(path, Some(token)), StatusCode::OK, path);
        v["meta"]["lastModified"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: no meta.lastModified in {v}"))
            .to_string()
    }

    /// The audit events logged so far, in order.
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        self.log()
            .lines()
            .filter(|l| l.contains(" audit: "))
            .map(|l| AuditEvent {
                request: log_field(l, "request"),
                event: log_field(l, "event"),
                account: log_field(l, "account"),
                group: log_field(l, "group"),
                detail: log_field(l, "detail"),
            })
            .collect()
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
        // A failing test shows what the server said about it (its directory goes away).
        if std::thread::panicking() {
            let log = self.log();
            let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
            let shown = &errors[errors.len().saturating_sub(20)..];
            if !shown.is_empty() {
                eprintln!("server errors:\n{}", shown.join("\n"));
            }
        }
    }
}

/// One line the server logged at target `audit`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// The request id (`x-request-id` of the answer).
    pub request: String,
    pub event: String,
    pub account: String,
    pub group: String,
    pub detail: String,
}

/// The value of `key="..."` in a log line (fields are written as quoted strings).
fn log_field(line: &str, key: &str) -> String {
    let start = line
        .find(&format!(" {key}=\""))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + key.len()
        + 3;
    let end = line[start..].find('"').unwrap() + start;
    line[start..end].to_string()
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

/// Runs `serve` with this config in a directory of its own, expects it to refuse to start,
/// and returns what it wrote to stderr.
pub fn serve_fails_with(config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("iam.toml");
    std::fs::write(&cfg, config).unwrap();
    let db = TestDb::new(dir.path().join("iam.db"));
    let out = Command::new(host_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .args(["--db", db.arg()])
        .output()
        .unwrap();
    assert!(!out.status.success(), "serve started with {config}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Seconds since the epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
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

/// The labels endpoint of account `id`.
pub fn labels_path(id: &str) -> String {
    format!("/iam/account/{id}/labels")
}

/// The attributes endpoint of group `id`.
pub fn group_attributes_path(id: &str) -> String {
    format!("/iam/group/{id}/attributes")
}

/// The labels endpoint of group `id`.
pub fn group_labels_path(id: &str) -> String {
    format!("/iam/group/{id}/labels")
}

/// The authorities endpoint of account `id`.
pub fn authorities_path(id: &str) -> String {
    format!("/iam/account/{id}/authorities")
}

/// The `userName`s of a list answer's `Resources`, in order.
pub fn usernames(list: &Value) -> Vec<String> {
    list["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("no Resources: {list}"))
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_string())
        .collect()
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

/// The body of the policy's 403.
pub fn denied_body() -> Value {
    json!({"error": "access_denied", "error_description": "Access is denied"})
}

/// The body of the 401 for a request without a token.
pub fn unauthorized_body() -> Value {
    json!({"error": "unauthorized",
           "error_description": "Full authentication is required to access this resource"})
}

/// Asserts the 403 answer of the policy: `access_denied`, "Access is denied".
pub fn expect_denied(r: Response, what: &str) {
    let v = expect_json(r, StatusCode::FORBIDDEN, what);
    assert_eq!(v, denied_body(), "{what}");
}

/// Asserts the 401 answer for a missing token, with a `Bearer` challenge.
pub fn expect_unauthorized(r: Response, what: &str) {
    let ch = challenge(&r);
    let v = expect_json(r, StatusCode::UNAUTHORIZED, what);
    assert_eq!(v, unauthorized_body(), "{what}");
    assert!(ch.starts_with("Bearer"), "{what}: WWW-Authenticate {ch:?}");
}

/// Asserts the 401 answer for a token that is refused (malformed, expired, revoked, or its
/// account or client gone): `invalid_token` with a description, and a `Bearer` challenge.
pub fn expect_invalid_token(r: Response, what: &str) {
    let ch = challenge(&r);
    let v = expect_json(r, StatusCode::UNAUTHORIZED, what);
    assert_eq!(v["error"], "invalid_token", "{what}: {v}");
    assert!(v["error_description"].is_string(), "{what}: {v}");
    assert_eq!(v.as_object().unwrap().len(), 2, "{what}: {v}");
    assert!(ch.starts_with("Bearer"), "{what}: WWW-Authenticate {ch:?}");
}

/// Asserts an `{"error": "..."}` framework error (415, 406, 400 for unreadable input, 405,
/// 404) rendered as `application/json`; returns the message.
pub fn expect_plain_error(r: Response, status: StatusCode, what: &str) -> String {
    let ct = content_type(&r);
    let v = expect_json(r, status, what);
    assert!(
        ct.starts_with("application/json"),
        "{what}: content type {ct:?}"
    );
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{what}: {v}");
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no error string: {v}"))
        .to_string()
}

/// Asserts an `{"error": msg}` answer with exactly that message.
pub fn expect_error(r: Response, status: StatusCode, msg: &str, what: &str) {
    let v = expect_json(r, status, what);
    assert_eq!(v, json!({ "error": msg }), "{what}");
}

/// Asserts a 200 with an empty body.
pub fn expect_empty_ok(r: Response, what: &str) {
    let text = expect(r, StatusCode::OK, what);
    assert!(text.is_empty(), "{what}: empty body expected, got {text:?}");
}

/// A successful SCIM answer: status, SCIM content type, JSON body.
pub fn expect_scim(r: Response, status: StatusCode, what: &str) -> Value {
    let ct = content_type(&r);
    let v = expect_json(r, status, what);
    assert_eq!(
        ct.replace(' ', ""),
        SCIM_CONTENT_TYPE,
        "{what}: content type"
    );
    v
}

/// The `scimType` values RFC 7644 §3.12 defines.
pub const SCIM_TYPES: &[&str] = &[
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
];

/// A ScimError with this status, rendered as `application/json` with exactly `schemas`,
/// `status` (a string) and `detail`; returns the detail.
pub fn scim_error_detail(r: Response, status: StatusCode, what: &str) -> String {
    let ct = content_type(&r);
    let v = expect_json(r, status, what);
    assert!(
        ct.starts_with("application/json"),
        "{what}: content type {ct}"
    );
    assert_eq!(v["schemas"], json!([SCIM_ERROR]), "{what}: {v}");
    assert_eq!(
        v["status"],
        json!(status.as_u16().to_string()),
        "{what}: status is a string: {v}"
    );
    // RFC 7644 §3.12's `scimType`, on 400 and 409 only (INDIGO IAM sends none: an addition).
    let extra = match v.get("scimType") {
        None => 0,
        Some(t) => {
            assert!(
                SCIM_TYPES.contains(&t.as_str().unwrap_or_default()),
                "{what}: scimType {t}"
            );
            assert!(
                matches!(status.as_u16(), 400 | 409),
                "{what}: scimType on a {status}: {v}"
            );
            if status == StatusCode::CONFLICT {
                assert_eq!(t, "uniqueness", "{what}");
            }
            1
        }
    };
    assert_eq!(
        v.as_object().unwrap().len(),
        3 + extra,
        "{what}: schemas, status, detail (and scimType) only: {v}"
    );
    v["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no detail: {v}"))
        .to_string()
}

/// A ScimError with exactly this status and detail.
pub fn expect_scim_error(r: Response, status: StatusCode, detail: &str, what: &str) {
    assert_eq!(scim_error_detail(r, status, what), detail, "{what}");
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

/// A query string or form body `k=v&...`, percent-encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `path` with `pairs` as its query string (none when empty).
pub fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    if pairs.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query(pairs))
    }
}

/// Stored times have millisecond resolution: make sure the clock moves between writes.
pub fn tick() {
    std::thread::sleep(Duration::from_millis(20));
}

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs a command to completion; its output is the panic message when it fails.
pub fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Python virtual environment `target/<name>/venv` with `pip install <install...>` done,
/// kept between runs and made again when `key` (what the install depends on: pinned
/// versions, a requirements file's text) changes. Returns the venv's directory.
pub fn python_venv(name: &str, install: &[&std::ffi::OsStr], key: &str) -> PathBuf {
    let venv = workspace_root().join("target").join(name).join("venv");
    let stamp = venv.join("installed-for.txt");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(key) {
        return venv;
    }
    run_ok(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv (needs Python 3 with venv)",
    );
    run_ok(
        Command::new(venv.join("bin").join("pip"))
            .args(["install", "--quiet"])
            .args(install),
        &format!("pip install for {name}"),
    );
    std::fs::write(&stamp, key).unwrap();
    venv
}
