//! Starting the server: open the database, run first-start set-up, load the plugins, serve.

use std::sync::Arc;

use crate::store::Store;
use anyhow::{Context, Result};

use crate::auth::external::{JwksSource, TrustedIssuers};
use crate::auth::keys::{Keyring, LiveKeyring};
use crate::auth::oauth::Lifetimes;
use crate::auth::throttle::Throttle;
use crate::auth::verified::VerifiedTokens;
use crate::config::Config;
use crate::contract::types;
use crate::http::{self, App};
use crate::lifecycle;
use crate::pipeline::Pipeline;
use crate::plugins::LivePlugins;
use crate::store::{self, Db, Location, TxMode};
use crate::{auth, passwords};

const ISSUER_KEY: &str = "issuer";

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("IAM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let log = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => log.with_ansi(std::io::stderr().is_terminal()).init(),
        // One object per line, the event's fields at the top level and the request's
        // (`id`, `method`, `path`) under `span`, for log shippers.
        LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// Opens the database (first-start set-up included) and loads the plugins.
fn build_app(cfg: &Config) -> Result<App> {
    let db = Db::open(&cfg.db)?;
    let keyring = db.transaction(TxMode::Write, |conn| {
        bootstrap_admin(conn)?;
        conn.meta().set(ISSUER_KEY, &cfg.base_url)?;
        Keyring::load_or_create(conn)
    })?;
    let cache_key = db.transaction(TxMode::Write, plugin_cache_key)?;
    let plugins = LivePlugins::load(&cfg.plugins, cache_key)?;
    warn_missing_default_groups(&db, &cfg.registration.default_group_names()?)?;
    plugins.get().log_loaded();
    Ok(App {
        keyring: LiveKeyring::new(keyring),
        throttle: Throttle::new("login", db.clone()),
        client_throttle: Throttle::new("client", db.clone()),
        pipeline: Arc::new(Pipeline::new(db, plugins, cfg.overrides.clone())),
        lifetimes: Lifetimes {
            access_secs: cfg.oauth.access_token_lifetime_secs,
            refresh_secs: cfg.oauth.refresh_token_lifetime_secs,
            max_access_secs: cfg.oauth.max_access_token_lifetime_secs,
            max_refresh_secs: cfg.oauth.max_refresh_token_lifetime_secs,
        },
        trusted_issuers: TrustedIssuers::new(
            cfg.oauth
                .trusted_issuers
                .iter()
                .map(|t| {
                    let source = match (&t.jwks_file, &t.jwks_url) {
                        (Some(f), _) => JwksSource::File(f.clone()),
                        (_, Some(u)) => JwksSource::Url(u.clone()),
                        (None, None) => unreachable!("checked when the config was read"),
                    };
                    (t.issuer.clone(), t.audience.list(), source)
                })
                .collect(),
        ),
        verified_tokens: VerifiedTokens::default(),
        issuer: cfg.base_url.clone(),
        base_url: cfg.base_url.clone(),
        scim: http::ScimView {
            base_url: cfg.base_url.clone(),
            include: cfg.scim.clone(),
        },
        max_body_bytes: cfg.max_body_bytes,
        lifecycle: lifecycle::settings(&cfg.lifecycle),
        registration: types::RegistrationSettings {
            default_groups: cfg.registration.default_group_names()?,
        },
    })
}

/// The key that signs this server's cached compiled components, made on first use.
fn plugin_cache_key(conn: &dyn Store) -> Result<[u8; 32]> {
    const KEY: &str = "plugin_cache_key";
    let hex = match conn.meta().get(KEY)? {
        Some(h) => h,
        None => {
            use rand_core::RngCore;
            let mut k = [0u8; 32];
            rand_core::OsRng.fill_bytes(&mut k);
            let h: String = k.iter().map(|b| format!("{b:02x}")).collect();
            conn.meta().set(KEY, &h)?;
            h
        }
    };
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16)?;
    }
    Ok(key)
}

/// A default group that does not exist is skipped when an account is created; say so
/// at start, when the operator is looking.
fn warn_missing_default_groups(db: &Db, names: &[String]) -> Result<()> {
    db.transaction(TxMode::Read, |conn| {
        for name in names {
            if conn.groups().by_name(name)?.is_none() {
                tracing::warn!(group = %name, "[registration] default group does not exist (yet): new accounts skip it");
            }
        }
        Ok(())
    })
}

pub fn serve(cfg: Config) -> Result<()> {
    let app = Arc::new(build_app(&cfg)?);
    let job_app = app.pipeline.clone();
    let follower = app.clone();
    #[cfg(not(feature = "bench"))]
    let extend = |api| api;
    #[cfg(feature = "bench")]
    let extend = crate::bench::extend(app.clone());
    let metrics_router = http::metrics_router(app.clone());
    let router = http::router(
        app,
        cfg.max_body_bytes,
        cfg.metrics_listen.is_some(),
        extend,
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        spawn_reload_on_sighup(job_app.clone());
        spawn_follow_other_servers(follower);
        lifecycle::spawn(job_app, &cfg.lifecycle, &cfg.audit);
        let listener = tokio::net::TcpListener::bind(&cfg.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.listen))?;
        tracing::info!(address = %listener.local_addr()?, db = %store::describe(&cfg.db), "iam-host listening");
        if let Some(address) = &cfg.metrics_listen {
            let metrics = tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address} (metrics)"))?;
            tracing::info!(address = %metrics.local_addr()?, "metrics listening");
            tokio::spawn(async move {
                if let Err(e) = axum::serve(metrics, metrics_router).await {
                    tracing::error!("the metrics listener failed: {e}");
                }
            });
        }
        // The caller's address keys the throttling of password attempts.
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, service)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server failed")
    })
}

/// `kill -HUP` reloads the plugins, as `POST /iam/admin/plugins/reload` does.
fn spawn_reload_on_sighup(pipeline: Arc<Pipeline>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hup) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP: reload through the admin endpoint");
        return;
    };
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let pipeline = pipeline.clone();
            let outcome = tokio::task::spawn_blocking(move || pipeline.reload_plugins()).await;
            if let Ok(Err(e)) = outcome {
                tracing::error!("plugin reload refused, the running plugins stay: {e:#}");
            }
        }
    });
}

/// Follows what other servers on the database (or `iam-host keys rotate`) changed, every
/// `RELOAD_POLL`: plugin reloads asked through the API (a generation counter) and new
/// signing keys.
fn spawn_follow_other_servers(app: Arc<App>) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(crate::pipeline::RELOAD_POLL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let app = app.clone();
            let outcome = tokio::task::spawn_blocking(move || {
                app.pipeline.follow_reloads()?;
                app.pipeline
                    .db
                    .transaction(TxMode::Read, |conn| app.keyring.refresh(conn))?;
                anyhow::Ok(())
            })
            .await;
            if let Ok(Err(e)) = outcome {
                tracing::warn!("following the other servers: {e:#}");
            }
        }
    });
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("cannot listen for SIGTERM");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}

/// `iam-host lifecycle`: one pass of the account-lifecycle job; prints what it did.
pub fn run_lifecycle(cfg: Config) -> Result<()> {
    let app = build_app(&cfg)?;
    let report = lifecycle::run_once(&app.pipeline, app.lifecycle)
        .map_err(|e| anyhow::anyhow!("lifecycle pass failed: {e:?}"))?;
    lifecycle::prune_audit(&app.pipeline.db, &cfg.audit)?;
    println!(
        "{}",
        serde_json::json!({
            "pendingSuspension": report.pending_suspension,
            "suspended": report.suspended,
            "removed": report.removed,
        })
    );
    Ok(())
}

/// On an empty database, creates `admin` (ROLE_ADMIN, ROLE_USER) with the password in
/// `IAM_ADMIN_PASSWORD`, or a random one printed once to the log.
fn bootstrap_admin(conn: &dyn Store) -> Result<()> {
    if conn.accounts().count()? > 0 {
        return Ok(());
    }
    let password = std::env::var("IAM_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    let generated = password.is_none();
    let password = password.unwrap_or_else(passwords::random);
    let uuid = uuid::Uuid::new_v4().to_string();
    conn.accounts().insert(
        &store::NewAccount {
            uuid: &uuid,
            username: "admin",
            given_name: "Admin",
            family_name: "User",
            email: "admin@iam.local",
            active: true,
            password_hash: Some(&passwords::hash(&password)),
        },
        &["ROLE_ADMIN", "ROLE_USER"],
    )?;
    if generated {
        tracing::warn!(
            "created account 'admin' with the generated password {password} (shown only once)"
        );
    } else {
        tracing::info!("created account 'admin' with the password from IAM_ADMIN_PASSWORD");
    }
    Ok(())
}

/// `iam-host keys rotate`: adds a signing key and prints its id.
pub fn rotate_keys(location: &Location, publish_for: std::time::Duration) -> Result<()> {
    let db = Db::open_existing(location)?;
    let kid = db.transaction(TxMode::Write, |conn| Keyring::rotate(conn, publish_for))?;
    println!("{kid}");
    Ok(())
}

/// `iam-host db copy`: copies and verifies, then prints each table's rows and checksum.
pub fn copy_database(from: &Location, to: &Location, replace: bool) -> Result<()> {
    let source = Db::open_existing(from)?;
    let target = Db::open(to)?;
    let sums = store::copy_database(&source, &target, replace)?;
    for s in &sums {
        println!("{:<20} {:>10} rows  sha256 {}", s.table, s.rows, s.checksum);
    }
    eprintln!(
        "copied {} to {}: every table verified",
        store::describe(from),
        store::describe(to)
    );
    Ok(())
}

/// `iam-host token`: signs a token for `username` with the server's key and issuer.
pub fn print_token(
    location: &Location,
    username: &str,
    scope: Option<&str>,
    lifetime: u64,
) -> Result<()> {
    let db = Db::open_existing(location)?;
    let token = db.transaction(TxMode::Write, |conn| {
        let keyring = Keyring::load_or_create(conn)?;
        let issuer = conn
            .meta()
            .get(ISSUER_KEY)?
            .unwrap_or_else(|| format!("http://{}", crate::config::DEFAULT_LISTEN));
        let account = conn
            .accounts()
            .by_username(username)?
            .with_context(|| format!("no account with username '{username}'"))?;
        let held = conn.authorities().of_account(&account.id)?;
        let scopes = auth::user_token_scopes(scope, &held);
        let grant = auth::Grant {
            kind: auth::TokenKind::User,
            subject: &account.id,
            scopes: &scopes,
            client_id: None,
            audience: None,
        };
        auth::mint(&keyring, &issuer, &grant, lifetime)
    })?;
    println!("{token}");
    Ok(())
}
