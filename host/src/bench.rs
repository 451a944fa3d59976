//! Benchmark support, compiled only with the `bench` feature (never into a normal build):
//! the guests' logic linked natively, so `iam-bench` can measure in one run what running it
//! as Wasm costs; a bare "hello" route, the ceiling of the machine; and an in-process
//! timing of policy decisions.
//!
//! A server started with `IAM_BENCH_NATIVE=1` answers `GET /iam/account/{id}/attributes`
//! with the native policy and handler, through the same pipeline (token, blocking pool,
//! one read transaction, the same JSON). Everything here reaches the server through
//! [`extend`], which `server.rs` hands to the router in bench builds only.

use std::time::Instant;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use iam_guest_logic::store::{Accounts, AttributeStore, StoreResult};
use iam_guest_logic::types as logic;

use crate::contract::types;
use crate::http::{ApiError, AppState, Family, Req};
use crate::store::{Store, StoreError, TxMode};

/// Whether this server runs the native attributes path (`IAM_BENCH_NATIVE=1`).
fn native_enabled() -> bool {
    std::env::var("IAM_BENCH_NATIVE").is_ok_and(|v| v == "1")
}

/// The bench build's additions to the API router: `/bench/hello` (a route that does
/// nothing: the machine's ceiling) and, with `IAM_BENCH_NATIVE=1`, the native
/// `GET /iam/account/{id}/attributes` in front of the Wasm one.
pub fn extend(app: AppState) -> impl FnOnce(Router<AppState>) -> Router<AppState> {
    move |api| {
        let api = api.route("/bench/hello", get(|| async { "hello" }));
        if native_enabled() {
            api.layer(from_fn_with_state(app, native_attributes))
        } else {
            api
        }
    }
}

/// Takes `GET /iam/account/{id}/attributes` to [`list_attributes`]; the rest goes on.
async fn native_attributes(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let id = req
        .uri()
        .path()
        .strip_prefix("/iam/account/")
        .and_then(|rest| rest.strip_suffix("/attributes"))
        .filter(|id| !id.contains('/'))
        .map(String::from);
    match id {
        Some(id) if req.method() == Method::GET => {
            let (mut parts, _) = req.into_parts();
            match Req::from_request_parts(&mut parts, &app).await {
                Ok(r) => list_attributes(r, id).await.into_response(),
                Err(e) => e.into_response(),
            }
        }
        _ => next.run(req).await,
    }
}

/// The host's database, for the logic crate's store traits, natively: what the attributes
/// logic calls (the traits' other methods answer with a store error).
struct NativeStore<'c>(&'c dyn Store);

fn db(e: StoreError) -> String {
    format!("database error: {e}")
}

impl Accounts for NativeStore<'_> {
    fn get(&self, id: &str) -> StoreResult<Option<logic::Account>> {
        Ok(self
            .0
            .accounts()
            .by_uuid(id)
            .map_err(db)?
            .map(|a| logic::Account {
                id: a.id,
                username: a.username,
                given_name: a.given_name,
                family_name: a.family_name,
                email: a.email,
                active: a.active,
                service_account: a.service_account,
                created: a.created,
                last_modified: a.last_modified,
                end_time: a.end_time,
            }))
    }
}

impl AttributeStore for NativeStore<'_> {
    fn get_all(&self, account_id: &str) -> StoreResult<Vec<logic::Attribute>> {
        Ok(self
            .0
            .attributes()
            .all(account_id)
            .map_err(db)?
            .into_iter()
            .map(|a| logic::Attribute {
                name: a.name,
                value: a.value,
            })
            .collect())
    }

    fn put(&self, account_id: &str, attr: &logic::Attribute) -> StoreResult<()> {
        let attr = types::Attribute {
            name: attr.name.clone(),
            value: attr.value.clone(),
        };
        self.0.attributes().put(account_id, &attr).map_err(db)
    }

    fn remove(&self, account_id: &str, name: &str) -> StoreResult<bool> {
        self.0.attributes().remove(account_id, name).map_err(db)
    }
}

fn principal(p: &types::Principal) -> logic::Principal {
    logic::Principal {
        account_id: p.account_id.clone(),
        username: p.username.clone(),
        client_id: p.client_id.clone(),
        authorities: p.authorities.clone(),
        scopes: p.scopes.clone(),
    }
}

fn error(e: logic::Error) -> types::Error {
    match e {
        logic::Error::Invalid(m) => types::Error::Invalid(m),
        logic::Error::NotFound(m) => types::Error::NotFound(m),
        logic::Error::Conflict(m) => types::Error::Conflict(m),
        logic::Error::Forbidden(m) => types::Error::Forbidden(m),
        logic::Error::Internal(m) => types::Error::Internal(m),
    }
}

/// `GET /iam/account/{id}/attributes` with the `roles` policy and the attributes handler
/// running natively.
async fn list_attributes(req: Req, id: String) -> Result<Response, ApiError> {
    let _turn = req
        .app
        .pipeline
        .turn()
        .await
        .map_err(|_| ApiError::unavailable())?;
    let app = req.app.clone();
    let request = req.id.clone();
    let caller = principal(&req.caller.principal);
    let attrs = tokio::task::spawn_blocking(move || {
        let op = logic::Operation::GetAccountAttributes(id.clone());
        iam_guest_logic::policy::authorize_roles(&caller, &op).map_err(|_| ApiError::Forbidden)?;
        let tx = app
            .pipeline
            .db
            .begin(TxMode::Read)
            .map_err(|e| ApiError::database(&request, &e.into()))?;
        let store = NativeStore(&*tx);
        let result = iam_guest_logic::attributes::list(&store, &store, &id);
        drop(tx);
        result.map_err(|e| ApiError::guest_error(&request, Family::Iam, error(e)))
    })
    .await
    .map_err(|_| ApiError::internal())??;
    let body: Vec<_> = attrs
        .into_iter()
        .map(|a| serde_json::json!({"name": a.name, "value": a.value}))
        .collect();
    Ok(Json(body).into_response())
}

/// `iam-host bench-policy`: times `iterations` policy decisions in this process, through
/// the built-in `roles` component (instantiate + authorize) and natively, and as many
/// handler calls (instantiate + GET attributes of an unknown account, one store call);
/// prints JSON.
pub fn time_policy(iterations: usize) -> anyhow::Result<()> {
    let cfg = crate::config::Config::load(crate::config::Overrides::default())?;
    let mut plugins_cfg = cfg.plugins;
    plugins_cfg.cache_dir = None;
    let stats = crate::plugins::stats::Stats::default();
    let plugins = crate::plugins::Plugins::load(&plugins_cfg, &stats, [0; 32])?;
    let caller = types::Principal {
        account_id: Some("6a3c0a5e-0000-4000-8000-000000000001".into()),
        username: Some("reader".into()),
        client_id: None,
        authorities: vec!["ROLE_USER".into(), "ROLE_READER".into()],
        scopes: vec!["openid".into(), "profile".into()],
    };
    let op = types::Operation::GetAccountAttributes("6a3c0a5e-0000-4000-8000-000000000002".into());
    let native_caller = principal(&caller);
    let native_op =
        logic::Operation::GetAccountAttributes("6a3c0a5e-0000-4000-8000-000000000002".into());
    let mut wasm = Vec::with_capacity(iterations);
    let mut native = Vec::with_capacity(iterations);
    for i in 0..iterations + iterations / 10 {
        let t = Instant::now();
        let d = plugins.authorize(&caller, &op);
        let w = t.elapsed();
        let t = Instant::now();
        let n = iam_guest_logic::policy::authorize_roles(&native_caller, &native_op);
        let nt = t.elapsed();
        assert!(matches!(d, crate::plugins::Decision::Allow) && n.is_ok());
        // The first tenth warms up.
        if i >= iterations / 10 {
            wasm.push(w.as_nanos() as u64);
            native.push(nt.as_nanos() as u64);
        }
    }
    // One handler call, on a scratch database.
    let dir = std::env::temp_dir().join(format!("iam-bench-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = crate::store::Db::open(&crate::store::Location::Sqlite(dir.join("scratch.db")))?;
    let mut handler = Vec::with_capacity(iterations);
    let mut tx = Some(db.begin(crate::store::TxMode::Read)?);
    for i in 0..iterations + iterations / 10 {
        let c = tx.take().expect("transaction");
        let t = Instant::now();
        let handled = plugins.handle(&plugins.attributes, c, |g, store| {
            g.call_get(store, "6a3c0a5e-0000-4000-8000-000000000002")
        });
        let took = t.elapsed();
        assert!(matches!(handled.result, Ok(Err(types::Error::NotFound(_)))));
        tx = Some(handled.tx);
        if i >= iterations / 10 {
            handler.push(took.as_nanos() as u64);
        }
    }
    drop(tx);
    let _ = std::fs::remove_dir_all(&dir);
    let pct = |v: &mut Vec<u64>, p: f64| {
        v.sort_unstable();
        v[((v.len() as f64 - 1.0) * p) as usize] as f64 / 1000.0
    };
    println!(
        "{}",
        serde_json::json!({
            "iterations": wasm.len(),
            "wasm_p50_us": pct(&mut wasm, 0.5),
            "wasm_p99_us": pct(&mut wasm, 0.99),
            "native_p50_us": pct(&mut native, 0.5),
            "native_p99_us": pct(&mut native, 0.99),
            "handler_p50_us": pct(&mut handler, 0.5),
            "handler_p99_us": pct(&mut handler, 0.99),
        })
    );
    Ok(())
}
