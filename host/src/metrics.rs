//! The server's own measurements, rendered by `GET /metrics` in Prometheus' text format.
//! Names follow OpenTelemetry's semantic conventions where one exists
//! (`http.server.request.duration` with `http.request.method`, `http.route` and
//! `http.response.status_code` becomes `http_server_request_duration_seconds` with those
//! labels, dots as underscores); this server's own carry `iam_`.
//!
//! One registry per process ([`get`]) that every floor records into, as a process has one
//! `/metrics`. Only bounded values become labels: route templates (never a raw path, which
//! a caller could vary without end), known grant types, the contract's error codes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{LazyLock, RwLock};
use std::time::Duration;

/// Upper bounds (seconds) of the request-duration buckets: OpenTelemetry's recommended
/// ones, with three more under 5 ms, where most answers of this server fall.
const BUCKETS: [f64; 17] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0,
    7.5, 10.0,
];

/// What a request was, for its duration's labels.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct RequestKey {
    method: &'static str,
    /// The route template; none when no route took the request.
    route: Option<String>,
    status: u16,
}

/// Counts per bucket (not cumulative: summed when rendered), the count and the sum.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_nanos
            .fetch_add(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }
}

/// Values keyed by their labels, created on first use.
struct Family<K, V>(RwLock<HashMap<K, V>>);

impl<K: Eq + Hash + Ord + Clone, V: Default> Family<K, V> {
    fn new() -> Self {
        Family(RwLock::new(HashMap::new()))
    }

    fn with(&self, key: K, f: impl FnOnce(&V)) {
        if let Some(v) = self.0.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return f(v);
        }
        let mut all = self.0.write().unwrap_or_else(|e| e.into_inner());
        f(all.entry(key).or_default())
    }

    /// The keys in order, each with what `f` reads of its value.
    fn sorted<T>(&self, f: impl Fn(&V) -> T) -> Vec<(K, T)> {
        let all = self.0.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<(K, T)> = all.iter().map(|(k, v)| (k.clone(), f(v))).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// Everything measured.
pub struct Metrics {
    requests: Family<RequestKey, Histogram>,
    active: AtomicI64,
    tokens: Family<(&'static str, &'static str), AtomicU64>,
    decisions: Family<(&'static str, &'static str), AtomicU64>,
    audit: Family<&'static str, AtomicU64>,
    retries: AtomicU64,
    db_in_use: AtomicI64,
    db_idle: AtomicI64,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's registry.
pub fn get() -> &'static Metrics {
    &METRICS
}

/// The grant types the token endpoint knows; anything else is counted as `other`, so a
/// caller cannot make up label values.
pub fn grant_label(grant: Option<&str>) -> &'static str {
    match grant {
        Some("password") => "password",
        Some("client_credentials") => "client_credentials",
        Some("refresh_token") => "refresh_token",
        None | Some("") => "none",
        Some(_) => "other",
    }
}

/// `http.request.method`: the known methods as they are, others `_OTHER`.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method as M;
    match *method {
        M::GET => "GET",
        M::POST => "POST",
        M::PUT => "PUT",
        M::DELETE => "DELETE",
        M::PATCH => "PATCH",
        M::HEAD => "HEAD",
        M::OPTIONS => "OPTIONS",
        M::TRACE => "TRACE",
        M::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// A request in flight: counted from its creation until it drops.
pub struct InFlight(());

impl Drop for InFlight {
    fn drop(&mut self) {
        METRICS.active.fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    fn new() -> Metrics {
        Metrics {
            requests: Family::new(),
            active: AtomicI64::new(0),
            tokens: Family::new(),
            decisions: Family::new(),
            audit: Family::new(),
            retries: AtomicU64::new(0),
            db_in_use: AtomicI64::new(0),
            db_idle: AtomicI64::new(0),
        }
    }

    /// A request starts (`http_server_active_requests`).
    pub fn request_started(&self) -> InFlight {
        self.active.fetch_add(1, Relaxed);
        InFlight(())
    }

    /// A request was answered.
    pub fn request_done(
        &self,
        method: &'static str,
        route: Option<&str>,
        status: u16,
        took: Duration,
    ) {
        let key = RequestKey {
            method,
            route: route.map(str::to_string),
            status,
        };
        self.requests.with(key, |h| h.observe(took));
    }

    /// The token endpoint answered: `outcome` is `issued` or the RFC 6749 error code.
    pub fn token_outcome(&self, grant: &'static str, outcome: &'static str) {
        self.tokens.with((grant, outcome), |c| {
            c.fetch_add(1, Relaxed);
        });
    }

    /// A policy decided (`allow`, `deny`, or `error` when it failed and the request was
    /// denied for it).
    pub fn decision(&self, slot: &'static str, outcome: &'static str) {
        self.decisions.with((slot, outcome), |c| {
            c.fetch_add(1, Relaxed);
        });
    }

    /// A committed change entered the audit trail.
    pub fn audit_event(&self, kind: &'static str) {
        self.audit.with(kind, |c| {
            c.fetch_add(1, Relaxed);
        });
    }

    /// A transaction conflicted and runs again.
    pub fn transaction_retried(&self) {
        self.retries.fetch_add(1, Relaxed);
    }

    /// A database connection left (`+1`) or came back to (`-1`) a pool, or was opened or
    /// closed while out of it: the changes in connections in use and idle.
    pub fn db_connections(&self, in_use: i64, idle: i64) {
        self.db_in_use.fetch_add(in_use, Relaxed);
        self.db_idle.fetch_add(idle, Relaxed);
    }

    /// Every family in Prometheus' text exposition format (version 0.0.4).
    pub fn render(&self, out: &mut String) {
        let name = "http_server_request_duration_seconds";
        header(out, name, "histogram", "Duration of HTTP server requests.");
        for (k, (buckets, count, sum)) in self.requests.sorted(|h| {
            let buckets: Vec<u64> = h.buckets.iter().map(|b| b.load(Relaxed)).collect();
            (buckets, h.count.load(Relaxed), h.sum_nanos.load(Relaxed))
        }) {
            let mut labels = format!("http_request_method=\"{}\"", k.method);
            if let Some(route) = &k.route {
                let _ = write!(labels, ",http_route=\"{}\"", escape(route));
            }
            let _ = write!(labels, ",http_response_status_code=\"{}\"", k.status);
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(&buckets) {
                cumulative += n;
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", sum as f64 / 1e9);
            let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
        }

        let name = "http_server_active_requests";
        header(out, name, "gauge", "HTTP server requests in flight.");
        let _ = writeln!(out, "{name} {}", self.active.load(Relaxed));

        let name = "iam_tokens_total";
        header(
            out,
            name,
            "counter",
            "Token endpoint answers by grant type and outcome (issued or the OAuth error code).",
        );
        for ((grant, outcome), n) in self.tokens.sorted(|c| c.load(Relaxed)) {
            let _ = writeln!(
                out,
                "{name}{{grant_type=\"{grant}\",outcome=\"{outcome}\"}} {n}"
            );
        }

        let name = "iam_authorization_decisions_total";
        header(
            out,
            name,
            "counter",
            "Policy decisions by slot and outcome (allow, deny, error: the policy failed and the request was denied).",
        );
        for ((slot, outcome), n) in self.decisions.sorted(|c| c.load(Relaxed)) {
            let _ = writeln!(out, "{name}{{slot=\"{slot}\",outcome=\"{outcome}\"}} {n}");
        }

        let name = "iam_audit_events_total";
        header(
            out,
            name,
            "counter",
            "Committed changes entered in the audit trail, by type.",
        );
        for (kind, n) in self.audit.sorted(|c| c.load(Relaxed)) {
            let _ = writeln!(out, "{name}{{type=\"{}\"}} {n}", escape(kind));
        }

        let name = "iam_db_transaction_retries_total";
        header(
            out,
            name,
            "counter",
            "Transactions run again after a conflict with a concurrent one (PostgreSQL serialization failures and deadlocks).",
        );
        let _ = writeln!(out, "{name} {}", self.retries.load(Relaxed));

        let name = "iam_db_connections";
        header(
            out,
            name,
            "gauge",
            "Database connections of the pool, by state.",
        );
        let _ = writeln!(
            out,
            "{name}{{state=\"in_use\"}} {}",
            self.db_in_use.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "{name}{{state=\"idle\"}} {}",
            self.db_idle.load(Relaxed)
        );
    }
}

/// `# HELP` and `# TYPE` of a family.
pub fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the text format wants it.
pub fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_end_with_the_count() {
        let m = Metrics::new();
        let route = Some("/iam/account/{id}/labels");
        m.request_done("GET", route, 200, Duration::from_micros(300));
        m.request_done("GET", route, 200, Duration::from_millis(3));
        m.request_done("GET", route, 200, Duration::from_secs(30));
        let mut out = String::new();
        m.render(&mut out);
        let labels = "http_request_method=\"GET\",http_route=\"/iam/account/{id}/labels\",\
                      http_response_status_code=\"200\"";
        for (le, n) in [
            ("0.0005", 1),
            ("0.0025", 1),
            ("0.005", 2),
            ("10", 2),
            ("+Inf", 3),
        ] {
            let line = format!(
                "http_server_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {n}\n"
            );
            assert!(out.contains(&line), "{line} in\n{out}");
        }
        assert!(out.contains(&format!(
            "http_server_request_duration_seconds_count{{{labels}}} 3\n"
        )));
    }
}
