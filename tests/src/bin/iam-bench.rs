//! `iam-bench`: seeds a database, starts the real server (release build, `bench` feature),
//! drives it over loopback HTTP with its own async load generator and writes BENCHMARKS.md.
//!
//! ```sh
//! cargo run --release -p iam-tests --bin iam-bench -- [--accounts N] [--seconds S]
//!     [--db postgres | --db postgres://...]
//! ```
//!
//! Seeding writes SQLite directly (one transaction of prepared inserts into the server's
//! own schema, after the server created it): going through the API would take hours at a
//! million accounts and measure nothing of interest. With `--db`, the seeded file is then
//! moved into PostgreSQL with `iam-host db copy` (`postgres`: a throwaway cluster the bench
//! starts with `tests/postgres-cluster`; a URL: that database, whose content is replaced),
//! the servers run on it, one and two replicas are compared, and the numbers go to the
//! PostgreSQL section of BENCHMARKS.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use iam_tests::{encode, workspace_root};
use serde_json::{Value, json};

const ADMIN_PASSWORD: &str = "bench-admin-password";
/// Accounts with attributes and labels: the targets of the per-account requests.
const HOT_ACCOUNTS: usize = 1000;
/// The heading of BENCHMARKS.md's hand-written part, kept when the numbers are rewritten.
const ANALYSIS: &str = "## Analysis";
/// The heading of the PostgreSQL numbers, between the SQLite ones and the analysis.
const POSTGRES: &str = "## PostgreSQL";
/// Turns each of the Wasm and the native server take for the throughput ratio.
const RATIO_ROUNDS: usize = 5;
/// The most members the big group gets.
const BIG_GROUP_MAX: usize = 100_000;
/// Account `i` is named `GIVEN[i % 8]` `FAMILY[(i / 8) % 8]i`.
const GIVEN: [&str; 8] = [
    "Ada", "Bruno", "Chiara", "Dario", "Elena", "Fabio", "Giulia", "Luca",
];
const FAMILY: [&str; 8] = [
    "Rossi", "Bianchi", "Verdi", "Neri", "Gallo", "Costa", "Fontana", "Conti",
];

struct Args {
    accounts: usize,
    seconds: f64,
    output: PathBuf,
    /// `postgres` (a throwaway cluster) or a PostgreSQL URL; SQLite when absent.
    db: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        accounts: 10_000,
        seconds: 2.0,
        output: workspace_root().join("BENCHMARKS.md"),
        db: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--accounts" => a.accounts = value().parse().unwrap_or_else(|_| usage("--accounts N")),
            "--seconds" => a.seconds = value().parse().unwrap_or_else(|_| usage("--seconds S")),
            "--output" => a.output = PathBuf::from(value()),
            "--db" => {
                let db = value();
                if db != "postgres" && !db.starts_with("postgres://") {
                    usage("--db postgres | --db postgres://...");
                }
                a.db = Some(db);
            }
            "-h" | "--help" => usage(""),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    if a.accounts < HOT_ACCOUNTS {
        usage(&format!("--accounts must be at least {HOT_ACCOUNTS}"));
    }
    a
}

fn usage(problem: &str) -> ! {
    if !problem.is_empty() {
        eprintln!("iam-bench: {problem}");
    }
    eprintln!(
        "usage: iam-bench [--accounts N (default 10000)] [--seconds S per measurement (default 2)] [--output FILE] [--db postgres|postgres://...]"
    );
    std::process::exit(2);
}

/// BENCHMARKS.md with `numbers` in place: the SQLite numbers first, then the PostgreSQL
/// section, then the hand-written analysis, each kept when a run rewrites another; the last
/// line is the SQLite run's ratio (kept by a PostgreSQL run).
fn merge(previous: &str, numbers: &str, postgres: bool, last: &str) -> String {
    let ratio_line = "\nwasm/native throughput ratio:";
    let body = previous
        .rfind(ratio_line)
        .map_or(previous, |at| &previous[..at]);
    let analysis_at = body.find(ANALYSIS).unwrap_or(body.len());
    let pg_at = body.find(POSTGRES).unwrap_or(analysis_at).min(analysis_at);
    let (sqlite, pg, analysis) = (
        &body[..pg_at],
        &body[pg_at..analysis_at],
        &body[analysis_at..],
    );
    let mut out = String::new();
    let (sqlite, pg) = if postgres {
        (
            sqlite.trim_end().to_string(),
            numbers.trim_end().to_string(),
        )
    } else {
        (numbers.trim_end().to_string(), pg.trim_end().to_string())
    };
    for part in [sqlite.as_str(), pg.as_str(), analysis.trim_end()] {
        if !part.is_empty() {
            out.push_str(part);
            out.push_str("\n\n");
        }
    }
    let tail = if postgres {
        previous
            .rfind(ratio_line)
            .map_or(last.to_string(), |at| previous[at..].to_string())
    } else {
        last.to_string()
    };
    format!("{}\n{}", out.trim_end(), tail)
}

/// A throwaway PostgreSQL cluster (`tests/postgres-cluster`), stopped when dropped.
struct Cluster {
    url: String,
    dir: PathBuf,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = workspace_root().join("target").join("bench-pg");
        let out = Command::new(workspace_root().join("tests").join("postgres-cluster"))
            .arg("start")
            .env("PGCLUSTER_DIR", &dir)
            // Measured as production runs it: every commit flushed to disk.
            .env("PGCLUSTER_DURABLE", "1")
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/postgres-cluster");
        assert!(out.status.success(), "starting PostgreSQL failed");
        let base = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let mut admin = postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls)
            .expect("connect to the bench cluster");
        admin.batch_execute("CREATE DATABASE iam_bench").unwrap();
        Cluster {
            url: format!("{base}/iam_bench"),
            dir,
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(workspace_root().join("tests").join("postgres-cluster"))
            .arg("stop")
            .env("PGCLUSTER_DIR", &self.dir)
            .status();
    }
}

/// `iam-host db copy` of the seeded file into `url` (replacing what is there; the copy
/// ends with `VACUUM (ANALYZE)`); returns the seconds the copy took.
fn copy_into(bin: &Path, file: &str, url: &str) -> f64 {
    eprintln!("copying the accounts to PostgreSQL...");
    let t = Instant::now();
    let status = Command::new(bin)
        .args(["db", "copy", "--from", file, "--to", url, "--replace"])
        .stdout(Stdio::null())
        .status()
        .expect("run iam-host db copy");
    assert!(status.success(), "db copy failed");
    let took = t.elapsed().as_secs_f64();
    // The copy's writes are flushed now, not by a checkpoint in the middle of a measurement.
    postgres::Client::connect(url, postgres::NoTls)
        .and_then(|mut c| c.batch_execute("CHECKPOINT"))
        .expect("checkpoint after the copy");
    took
}

/// The server's version and settings, as `15.8 (fsync on, synchronous_commit on,
/// shared_buffers 1GB)`.
fn pg_version(url: &str) -> String {
    let show = |what: &str| {
        postgres::Client::connect(url, postgres::NoTls)
            .and_then(|mut c| c.query_one(&format!("SHOW {what}"), &[]))
            .map(|r| r.get::<_, String>(0))
            .unwrap_or_default()
    };
    let version = show("server_version");
    format!(
        "{} (fsync {}, synchronous_commit {}, shared_buffers {})",
        version.split_whitespace().next().unwrap_or(""),
        show("fsync"),
        show("synchronous_commit"),
        show("shared_buffers")
    )
}

/// Builds the server with the `bench` feature in the profile this tool was built with.
fn build_server() -> PathBuf {
    let release = !cfg!(debug_assertions);
    eprintln!("building iam-host with the bench feature...");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(workspace_root())
        .args(["build", "-p", "iam-host", "--features", "bench"]);
    if release {
        cmd.arg("--release");
    }
    assert!(
        cmd.status().expect("run cargo").success(),
        "building iam-host failed"
    );
    workspace_root()
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join("iam-host")
}

/// A server process on a free port.
struct Server {
    child: Child,
    base: String,
    pid: u32,
}

impl Server {
    fn start(bin: &Path, dir: &Path, db: &str, native: bool) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.join(format!(
            "{}-{port}.log",
            if native { "native" } else { "wasm" }
        )))
        .unwrap();
        let child = Command::new(bin)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--db",
                db,
            ])
            .env("IAM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            // One issuer for every start, so the token stays valid whatever the port.
            .env("IAM_BASE_URL", "http://iam-bench.invalid")
            .env("IAM_LOG", "warn")
            .env("IAM_BENCH_NATIVE", if native { "1" } else { "0" })
            .env_remove("IAM_CONFIG")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start iam-host");
        let pid = child.id();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(120);
        let client = reqwest::blocking::Client::new();
        while client
            .get(format!("{base}/health"))
            .send()
            .map(|r| !r.status().is_success())
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "iam-host did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, base, pid }
    }
}

/// The resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn uuid_of(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012}")
}

/// What the seeding made, for the requests to aim at.
struct Seeded {
    big_group: String,
    small_group: String,
    big_members: usize,
}

/// Fills the server's database: `n` accounts (the first `HOT_ACCOUNTS` with attributes and
/// labels), a big group with up to 100k members and a small one for membership writes.
fn seed(db: &Path, n: usize) -> Seeded {
    let mut conn = rusqlite::Connection::open(db).unwrap();
    conn.busy_timeout(Duration::from_secs(30)).unwrap();
    let hash: String = conn
        .query_row(
            "SELECT password_hash FROM accounts WHERE username = 'admin'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let now = 1_700_000_000_000i64;
    let tx = conn.transaction().unwrap();
    let user_role: i64 = tx
        .query_row(
            "SELECT id FROM authorities WHERE name = 'ROLE_USER'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    {
        let mut acc = tx
            .prepare(
                "INSERT INTO accounts(uuid, username, email, given_name, family_name, password_hash,
                                      active, created_ms, last_modified_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)",
            )
            .unwrap();
        let mut role = tx
            .prepare("INSERT INTO account_authorities(account_id, authority_id) VALUES (?1, ?2)")
            .unwrap();
        let mut attr = tx
            .prepare("INSERT INTO attributes(account_id, name, value) VALUES (?1, ?2, ?3)")
            .unwrap();
        let mut label = tx
            .prepare("INSERT INTO labels(account_id, prefix, name, value) VALUES (?1, ?2, ?3, ?4)")
            .unwrap();
        for i in 0..n {
            acc.execute(rusqlite::params![
                uuid_of(i),
                format!("user{i:07}"),
                format!("user{i:07}@bench.example.org"),
                GIVEN[i % GIVEN.len()],
                format!("{}{}", FAMILY[(i / GIVEN.len()) % FAMILY.len()], i),
                hash,
                now + i as i64
            ])
            .unwrap();
            let id = tx.last_insert_rowid();
            role.execute(rusqlite::params![id, user_role]).unwrap();
            if i < HOT_ACCOUNTS {
                for (k, v) in [
                    ("affiliation", "INFN"),
                    ("nationality", "IT"),
                    ("orcid", "0000-0001"),
                ] {
                    attr.execute(rusqlite::params![id, k, v]).unwrap();
                }
                label
                    .execute(rusqlite::params![id, "", "team", "bench"])
                    .unwrap();
                label
                    .execute(rusqlite::params![
                        id,
                        "site.example.org",
                        "cluster",
                        "tier1"
                    ])
                    .unwrap();
            }
        }
    }
    let big_members = n.min(BIG_GROUP_MAX);
    let mut groups = Vec::new();
    for (name, members) in [("bench-big", big_members), ("bench-small", 0)] {
        let uuid = format!("10000000-0000-4000-8000-{:012}", groups.len());
        tx.execute(
            "INSERT INTO groups(uuid, name, created_ms, last_modified_ms) VALUES (?1, ?2, ?3, ?3)",
            rusqlite::params![uuid, name, now],
        )
        .unwrap();
        let gid = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO authorities(name, group_id) VALUES (?1, ?2)",
            rusqlite::params![format!("ROLE_GM:{uuid}"), gid],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO memberships(account_id, group_id, created_ms)
             SELECT id, ?1, ?2 FROM accounts WHERE username LIKE 'user%' ORDER BY id LIMIT ?3",
            rusqlite::params![gid, now, members as i64],
        )
        .unwrap();
        groups.push(uuid);
    }
    tx.commit().unwrap();
    conn.execute_batch("ANALYZE").unwrap();
    Seeded {
        small_group: groups.pop().unwrap(),
        big_group: groups.pop().unwrap(),
        big_members,
    }
}

/// The i-th request of an endpoint: method, path and JSON body.
type MakeRequest = Arc<dyn Fn(u64) -> (reqwest::Method, String, Option<Value>) + Send + Sync>;

/// One kind of request of the mix.
#[derive(Clone)]
struct Endpoint {
    name: &'static str,
    make: MakeRequest,
}

fn get(name: &'static str, path: impl Fn(u64) -> String + Send + Sync + 'static) -> Endpoint {
    Endpoint {
        name,
        make: Arc::new(move |i| (reqwest::Method::GET, path(i), None)),
    }
}

/// What one measurement found.
#[derive(Clone, Default)]
struct Measured {
    requests: u64,
    errors: u64,
    throughput: f64,
    p50_us: f64,
    p99_us: f64,
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize] as f64
}

/// Runs `endpoint` with `concurrency` clients for `seconds`.
async fn measure(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    endpoint: &Endpoint,
    concurrency: usize,
    seconds: f64,
) -> Measured {
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, base, token, ep) = (
            client.clone(),
            base.to_string(),
            token.to_string(),
            endpoint.clone(),
        );
        let (stop, counter) = (stop.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let (method, path, body) = (ep.make)(i);
                let mut rb = client
                    .request(method, format!("{base}{path}"))
                    .bearer_auth(&token);
                if let Some(b) = body {
                    rb = rb
                        .header("content-type", "application/json")
                        .body(b.to_string());
                }
                let t = Instant::now();
                let ok = match rb.send().await {
                    Ok(r) => {
                        let status = r.status();
                        let body = r.bytes().await.unwrap_or_default();
                        if !status.is_success() && errors == 0 {
                            eprintln!("  {}: {status} {}", ep.name, String::from_utf8_lossy(&body));
                        }
                        status.is_success()
                    }
                    Err(e) => {
                        if errors == 0 {
                            eprintln!("  {}: {e}", ep.name);
                        }
                        false
                    }
                };
                latencies.push(t.elapsed().as_micros() as u64);
                if !ok {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    Measured {
        requests: all.len() as u64,
        errors,
        throughput: all.len() as f64 / elapsed,
        p50_us: percentile(&all, 0.5),
        p99_us: percentile(&all, 0.99),
    }
}

fn token(bin: &Path, db: &str) -> String {
    let out = Command::new(bin)
        .args([
            "token",
            "--username",
            "admin",
            "--lifetime",
            "86400",
            "--db",
            db,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn endpoints(seeded: &Seeded, accounts: usize) -> Vec<Endpoint> {
    let hot = |i: u64| uuid_of((i as usize * 7919) % HOT_ACCOUNTS);
    let any = move |i: u64| (i as usize * 104_729) % accounts;
    let big = seeded.big_group.clone();
    let small = seeded.small_group.clone();
    let pages = (seeded.big_members / 100).max(1);
    vec![
        get("GET attributes", move |i| {
            format!("/iam/account/{}/attributes", hot(i))
        }),
        get("GET labels", move |i| {
            format!("/iam/account/{}/labels", hot(i))
        }),
        // A fragment of one person's family name, as someone looking for them would type.
        get("account search, filter", move |i| {
            let n = any(i);
            let family = FAMILY[(n / GIVEN.len()) % FAMILY.len()];
            format!("/iam/account/search?filter={}{n}&count=10", &family[2..])
        }),
        get("find byusername", move |i| {
            format!("/iam/account/find/byusername?username=user{:07}", any(i))
        }),
        get("find bygroup page", move |i| {
            let start = (i as usize % pages) * 100 + 1;
            format!("/iam/account/find/bygroup/{big}?count=100&startIndex={start}")
        }),
        Endpoint {
            name: "PUT label",
            make: Arc::new(move |i| {
                let body =
                    json!({"prefix": "bench.example.org", "name": "run", "value": i.to_string()});
                (
                    reqwest::Method::PUT,
                    format!("/iam/account/{}/labels", hot(i)),
                    Some(body),
                )
            }),
        },
        Endpoint {
            name: "add/remove group member",
            // Each hot account joins, then leaves on its next turn.
            make: Arc::new(move |i| {
                let turn = i as usize / HOT_ACCOUNTS;
                let method = if turn.is_multiple_of(2) {
                    reqwest::Method::POST
                } else {
                    reqwest::Method::DELETE
                };
                (
                    method,
                    format!(
                        "/iam/account/{}/groups/{small}",
                        uuid_of(i as usize % HOT_ACCOUNTS)
                    ),
                    None,
                )
            }),
        },
    ]
}

/// One row of the report.
struct Row {
    what: String,
    concurrency: usize,
    m: Measured,
}

fn main() {
    let args = args();
    let bin = build_server();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("iam.db");
    let file = db.to_string_lossy().into_owned();
    // The server creates its schema and the admin, then stops for the seeding.
    drop(Server::start(&bin, dir.path(), &file, false));
    eprintln!("seeding {} accounts...", args.accounts);
    let t = Instant::now();
    let seeded = seed(&db, args.accounts);
    let seed_secs = t.elapsed().as_secs_f64();
    // On PostgreSQL: the seeded file moved there as a site would move.
    let cluster = match args.db.as_deref() {
        Some("postgres") => Some(Cluster::start()),
        _ => None,
    };
    let (db_arg, copy_secs) = match (&cluster, &args.db) {
        (Some(c), _) => (c.url.clone(), Some(copy_into(&bin, &file, &c.url))),
        (None, Some(url)) => (url.clone(), Some(copy_into(&bin, &file, url))),
        (None, None) => (file.clone(), None),
    };
    let db_arg = db_arg.as_str();
    let token = token(&bin, db_arg);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .unwrap();
    let mut rows: Vec<Row> = Vec::new();
    let mut notes: BTreeMap<&str, String> = BTreeMap::new();

    // The Wasm server: the mix, the ceiling, memory.
    let server = Server::start(&bin, dir.path(), db_arg, false);
    let eps = endpoints(&seeded, args.accounts);
    let rss_idle = rss_kib(server.pid);
    rt.block_on(async {
        // Warm-up at the highest concurrency: caches, pools, SQLite pages, instance slots.
        for ep in &eps {
            measure(&client, &server.base, &token, ep, 64, 0.5).await;
        }
    });
    let rss_warm = rss_kib(server.pid);
    let peak = Arc::new(AtomicU64::new(rss_warm));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling, pid) = (peak.clone(), sampling.clone(), server.pid);
        std::thread::spawn(move || {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let hello = get("axum hello (ceiling)", |_| "/bench/hello".to_string());
    let mut total_requests = 0;
    for ep in eps.iter().chain([&hello]) {
        for c in [1, 16, 64] {
            eprintln!("{} at concurrency {c}...", ep.name);
            let m = rt.block_on(measure(&client, &server.base, &token, ep, c, args.seconds));
            total_requests += m.requests;
            rows.push(Row {
                what: ep.name.to_string(),
                concurrency: c,
                m,
            });
        }
    }
    sampling.store(false, Ordering::Relaxed);
    sampler.join().unwrap();
    // Leaks show as growth over many requests once everything is warm.
    let rss_before_100k = rss_kib(server.pid);
    let mut leak_requests = 0;
    while leak_requests < 100_000 {
        let m = rt.block_on(measure(&client, &server.base, &token, &eps[0], 16, 2.0));
        assert!(m.requests > 0, "no progress");
        leak_requests += m.requests;
    }
    let rss_end = rss_kib(server.pid);

    // Scale: the deep page and the big group, one client.
    let deep = (args.accounts * 9 / 10).max(1);
    let accounts = args.accounts;
    // The first deep page after the accounts changed walks the order once and remembers
    // positions; the ones after start from the nearest of them. The very first one also
    // reads the name index from disk.
    let deep_page_ms = || {
        rt.block_on(async {
            let t = Instant::now();
            let r = client
                .get(format!(
                    "{}/iam/account/search?count=10&startIndex={deep}",
                    server.base
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "deep page: {}", r.status());
            let _ = r.bytes().await;
            t.elapsed().as_secs_f64() * 1000.0
        })
    };
    let cold_deep_ms = deep_page_ms();
    deep_page_ms();
    let created = rt.block_on(async {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bench-newcomer",
            "active": true,
            "name": {"givenName": "Nora", "familyName": "Newcomer"},
            "emails": [{"type": "work", "value": "bench-newcomer@bench.example.org", "primary": true}]
        });
        client
            .post(format!("{}/scim/Users", server.base))
            .bearer_auth(&token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(created.is_success(), "creating an account: {created}");
    let changed_deep_ms = deep_page_ms();
    let scale_eps = [
        get("account search, deep page", move |_| {
            format!("/iam/account/search?count=10&startIndex={deep}")
        }),
        get("SCIM users, deep page", move |_| {
            format!("/scim/Users?count=10&startIndex={deep}")
        }),
        get("find byemail", move |i| {
            let n = (i as usize * 104_729) % accounts;
            format!("/iam/account/find/byemail?email=user{n:07}@bench.example.org")
        }),
        get("SCIM filter userName eq", move |i| {
            let n = (i as usize * 104_729) % accounts;
            format!(
                "/scim/Users?filter={}",
                encode(&format!("userName eq \"user{n:07}\""))
            )
        }),
        // In capitals: e-mails compare without case.
        get("SCIM filter emails.value eq", move |i| {
            let n = (i as usize * 104_729) % accounts;
            let email = format!("USER{n:07}@BENCH.EXAMPLE.ORG");
            format!(
                "/scim/Users?filter={}",
                encode(&format!("emails.value eq \"{email}\""))
            )
        }),
        get("SCIM filter id eq", move |i| {
            let n = (i as usize * 104_729) % accounts;
            format!(
                "/scim/Users?filter={}",
                encode(&format!("id eq \"{}\"", uuid_of(n)))
            )
        }),
        get("SCIM filter name.familyName co", move |i| {
            let n = (i as usize * 104_729) % accounts;
            let family = FAMILY[(n / GIVEN.len()) % FAMILY.len()];
            let fragment = format!("{}{n}", &family[2..]);
            format!(
                "/scim/Users?count=10&filter={}",
                encode(&format!("name.familyName co \"{fragment}\""))
            )
        }),
    ];
    for ep in &scale_eps {
        let m = rt.block_on(measure(&client, &server.base, &token, ep, 1, args.seconds));
        rows.push(Row {
            what: ep.name.to_string(),
            concurrency: 1,
            m,
        });
    }
    // SCIM bulk: 1000 user creations in one request, three times.
    let mut bulk_secs: Vec<f64> = (0..3)
        .map(|round| {
            let ops: Vec<Value> = (0..1000)
                .map(|k| {
                    let name = format!("bulk{round}-{k:04}");
                    json!({"method": "POST", "path": "/Users", "bulkId": name, "data": {
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": name, "active": true,
                        "name": {"givenName": "Bulk", "familyName": "Created"},
                        "emails": [{"type": "work", "value": format!("{name}@bench.example.org"),
                                    "primary": true}]}})
                })
                .collect();
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                              "Operations": ops});
            rt.block_on(async {
                let t = Instant::now();
                let r = client
                    .post(format!("{}/scim/Bulk", server.base))
                    .bearer_auth(&token)
                    .header("content-type", "application/scim+json")
                    .body(body.to_string())
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "bulk: {}", r.status());
                let answer: Value = r.json().await.unwrap();
                let created = answer["Operations"]
                    .as_array()
                    .map(|ops| ops.iter().filter(|o| o["status"] == "201").count())
                    .unwrap_or(0);
                assert_eq!(created, 1000, "bulk created {created} of 1000");
                t.elapsed().as_secs_f64()
            })
        })
        .collect();
    bulk_secs.sort_by(f64::total_cmp);
    let bulk_median = bulk_secs[1];
    // The same GET attributes, natively (a second server on the same database).
    let native = Server::start(&bin, dir.path(), db_arg, true);
    let attrs = eps[0].clone();
    rt.block_on(measure(&client, &native.base, &token, &attrs, 4, 0.3));
    let mut native_rows = Vec::new();
    for c in [1, 16, 64] {
        eprintln!("GET attributes (native) at concurrency {c}...");
        let m = rt.block_on(measure(
            &client,
            &native.base,
            &token,
            &attrs,
            c,
            args.seconds,
        ));
        native_rows.push(Row {
            what: "GET attributes (native)".into(),
            concurrency: c,
            m,
        });
    }
    // The ratio: this machine's speed drifts over minutes (other tenants), so the two
    // servers take turns, and the ratio is the median over the rounds.
    let mut rounds = Vec::new();
    for round in 1..=RATIO_ROUNDS {
        eprintln!("Wasm/native round {round} of {RATIO_ROUNDS}...");
        let w = rt.block_on(measure(
            &client,
            &server.base,
            &token,
            &attrs,
            16,
            args.seconds,
        ));
        let n = rt.block_on(measure(
            &client,
            &native.base,
            &token,
            &attrs,
            16,
            args.seconds,
        ));
        rounds.push((w.throughput, n.throughput));
    }
    drop(native);
    // Replicas (PostgreSQL): the same requests spread over one and two servers.
    let replicas = copy_secs.map(|_| {
        let second = Server::start(&bin, dir.path(), db_arg, false);
        let mix = [
            eps[0].clone(),
            eps.iter().find(|e| e.name == "PUT label").unwrap().clone(),
        ];
        mix.into_iter()
            .map(|ep| {
                eprintln!("{} on one and two replicas...", ep.name);
                let one = rt.block_on(measure(
                    &client,
                    &server.base,
                    &token,
                    &ep,
                    16,
                    args.seconds,
                ));
                let two = rt.block_on(async {
                    let (a, b) = tokio::join!(
                        measure(&client, &server.base, &token, &ep, 8, args.seconds),
                        measure(&client, &second.base, &token, &ep, 8, args.seconds)
                    );
                    a.throughput + b.throughput
                });
                (ep.name, one.throughput, two, one.errors)
            })
            .collect::<Vec<_>>()
    });
    drop(server);

    // One policy decision, in process.
    let out = Command::new(&bin)
        .args(["bench-policy", "--iterations", "20000"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();

    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let ratio = median(rounds.iter().map(|(w, n)| w / n.max(1e-9)).collect());
    let wasm16 = median(rounds.iter().map(|r| r.0).collect());
    let native16 = median(rounds.iter().map(|r| r.1).collect());
    let per_round: Vec<String> = rounds
        .iter()
        .map(|(w, n)| format!("{:.2}", w / n.max(1e-9)))
        .collect();
    notes.insert("ratio", format!("{ratio:.3}"));

    // The report.
    let mut md = String::new();
    match (copy_secs, &args.db) {
        (Some(copy_secs), Some(db)) => {
            md.push_str(&format!("{POSTGRES}\n\n"));
            md.push_str(&format!(
                "Output of `cargo run --release -p iam-tests --bin iam-bench -- --accounts {} --seconds {} \
                 --db {}` on this machine ({} cores), server, load generator and PostgreSQL {} sharing \
                 it. Seeding {} accounts into SQLite took {seed_secs:.1} s, and moving them to \
                 PostgreSQL with `iam-host db copy` (verified by checksums) {copy_secs:.1} s, then a \
                 `CHECKPOINT`; the big group has {} members.\n\n",
                args.accounts,
                args.seconds,
                if db == "postgres" { "postgres" } else { "postgres://..." },
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                pg_version(db_arg),
                args.accounts,
                seeded.big_members
            ));
        }
        _ => {
            md.push_str("# Benchmarks\n\n");
            md.push_str(&format!(
                "Output of `cargo run --release -p iam-tests --bin iam-bench -- --accounts {} --seconds {}` \
                 on this machine ({} cores), server and load generator sharing it. Seeding {} accounts \
                 (direct SQLite inserts, see `tests/src/bin/iam-bench.rs`) took {seed_secs:.1} s; the big \
                 group has {} members.\n\n",
                args.accounts, args.seconds, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                args.accounts, seeded.big_members
            ));
        }
    }
    md.push_str("| request | concurrency | requests/s | p50 ms | p99 ms | errors |\n|---|---:|---:|---:|---:|---:|\n");
    for r in rows.iter().chain(&native_rows) {
        md.push_str(&format!(
            "| {} | {} | {:.0} | {:.3} | {:.3} | {} |\n",
            r.what,
            r.concurrency,
            r.m.throughput,
            r.m.p50_us / 1000.0,
            r.m.p99_us / 1000.0,
            r.m.errors
        ));
    }
    let policy_p50 = policy["wasm_p50_us"].as_f64().unwrap_or(0.0);
    md.push_str(&format!(
        "\n**Wasm overhead.** GET attributes at concurrency 16, the two servers taking turns for \
         {RATIO_ROUNDS} rounds of {} s: median Wasm {wasm16:.0} req/s, native {native16:.0} req/s; \
         median ratio {ratio:.3} (rounds: {}). One policy decision (instantiate + authorize, in \
         process): Wasm p50 {:.1} µs / p99 {:.1} µs; native p50 {:.2} µs.\n\n",
        args.seconds,
        per_round.join(", "),
        policy_p50,
        policy["wasm_p99_us"].as_f64().unwrap_or(0.0),
        policy["native_p50_us"].as_f64().unwrap_or(0.0)
    ));
    md.push_str(&format!(
        "**Deep pages.** The first deep page of the run took {cold_deep_ms:.1} ms (the name \
         index read from disk, and one walk of the order remembering every 1024th position); \
         the first after an account was created {changed_deep_ms:.1} ms (the walk again); the \
         next ones start from the nearest remembered position.\n\n"
    ));
    md.push_str(&format!(
        "**Memory.** RSS idle {} MiB; after a warm-up at concurrency 64 {} MiB; peak under \
         load {} MiB; after the mix ({} requests) {} MiB; after {} more GET attributes {} MiB.\n\n",
        rss_idle / 1024,
        rss_warm / 1024,
        peak.load(Ordering::Relaxed) / 1024,
        total_requests,
        rss_before_100k / 1024,
        leak_requests,
        rss_end / 1024
    ));
    let find = |name: &str| {
        rows.iter()
            .find(|r| r.what == name && r.concurrency == 1)
            .map(|r| r.m.p50_us / 1000.0)
            .unwrap_or(f64::NAN)
    };
    let mark = |ok: bool| if ok { "met" } else { "**missed**" };
    let targets = [
        (
            "GET attributes through Wasm ≥ 80% of native throughput",
            format!("{:.0}%", ratio * 100.0),
            ratio >= 0.8,
        ),
        (
            "one policy decision ≤ 10 µs p50",
            format!("{policy_p50:.1} µs"),
            policy_p50 <= 10.0,
        ),
        (
            "find byusername p50 < 1 ms",
            format!("{:.3} ms", find("find byusername")),
            find("find byusername") < 1.0,
        ),
        (
            "find byemail p50 < 1 ms",
            format!("{:.3} ms", find("find byemail")),
            find("find byemail") < 1.0,
        ),
        (
            "account search with a substring filter p50 < 20 ms",
            format!("{:.3} ms", find("account search, filter")),
            find("account search, filter") < 20.0,
        ),
        (
            "deep page (startIndex 90% in) p50 < 20 ms",
            format!("{:.3} ms", find("account search, deep page")),
            find("account search, deep page") < 20.0,
        ),
        (
            "bygroup page of the big group p50 < 10 ms",
            format!("{:.3} ms", find("find bygroup page")),
            find("find bygroup page") < 10.0,
        ),
        (
            "SCIM filter userName eq p50 < 2 ms",
            format!("{:.3} ms", find("SCIM filter userName eq")),
            find("SCIM filter userName eq") < 2.0,
        ),
        (
            "SCIM filter emails.value eq p50 < 2 ms",
            format!("{:.3} ms", find("SCIM filter emails.value eq")),
            find("SCIM filter emails.value eq") < 2.0,
        ),
        (
            "SCIM filter id eq p50 < 2 ms",
            format!("{:.3} ms", find("SCIM filter id eq")),
            find("SCIM filter id eq") < 2.0,
        ),
        (
            "SCIM filter co on names p50 < 30 ms",
            format!("{:.3} ms", find("SCIM filter name.familyName co")),
            find("SCIM filter name.familyName co") < 30.0,
        ),
        (
            "SCIM bulk: 1000 user creations in one request < 5 s",
            format!(
                "median {bulk_median:.2} s (runs: {})",
                bulk_secs
                    .iter()
                    .map(|s| format!("{s:.2}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            bulk_median < 5.0,
        ),
        (
            "no memory growth across 100k requests (after the mix, within 5%)",
            format!(
                "{} → {} MiB over {leak_requests} requests",
                rss_before_100k / 1024,
                rss_end / 1024
            ),
            rss_end <= rss_before_100k + rss_before_100k / 20,
        ),
    ];
    if let Some(replicas) = &replicas {
        md.push_str(
            "**Replicas.** The same requests at concurrency 16 on one server, then split 8 + 8 \
             over two servers on the same database (all on this machine's cores):\n\n\
             | request | 1 replica req/s | 2 replicas req/s | errors |\n|---|---:|---:|---:|\n",
        );
        for (name, one, two, errors) in replicas {
            md.push_str(&format!("| {name} | {one:.0} | {two:.0} | {errors} |\n"));
        }
        md.push('\n');
    }
    md.push_str(&format!(
        "**Targets** (at {} accounts):\n\n| target | measured | |\n|---|---|---|\n",
        args.accounts
    ));
    for (t, v, ok) in &targets {
        md.push_str(&format!("| {t} | {v} | {} |\n", mark(*ok)));
    }
    let failed: Vec<String> = rows
        .iter()
        .chain(&native_rows)
        .filter(|r| r.m.errors > 0)
        .map(|r| format!("{} at {}: {} errors", r.what, r.concurrency, r.m.errors))
        .collect();
    if !failed.is_empty() {
        md.push_str(&format!(
            "\n**Requests failed**, the numbers above are not valid: {}\n",
            failed.join("; ")
        ));
    }
    let last = format!("\nwasm/native throughput ratio: {ratio:.3}\n");
    print!("{md}{last}");
    let previous = std::fs::read_to_string(&args.output).unwrap_or_default();
    std::fs::write(
        &args.output,
        merge(&previous, &md, copy_secs.is_some(), &last),
    )
    .unwrap();
    if !failed.is_empty() {
        std::process::exit(1);
    }
}
