//! The account-lifecycle job: on a timer in the server, or once from the CLI, the
//! `lifecycle` guest labels, suspends and removes expired accounts, and the stored audit
//! trail loses the events past its retention. Servers sharing a database take turns: a
//! timed pass first claims its period in the database (`meta`), so the job runs once per
//! period whatever the number of servers.

use std::sync::Arc;
use std::time::Duration;

use crate::audit::Actor;
use crate::config::{AuditConfig, LifecycleConfig};
use crate::contract::types::LifecycleSettings;
use crate::pipeline::{Pipeline, PipelineError, RequestId};
use crate::plugins::lifecycle::LifecycleReport;
use crate::store::{Db, StoreError, TxMode, now_ms};

/// When the last timed pass started (ms since the epoch), in `meta`.
const LAST_RUN_KEY: &str = "lifecycle.last_run_ms";

/// The guest's view of the `[lifecycle]` config.
pub fn settings(cfg: &LifecycleConfig) -> LifecycleSettings {
    LifecycleSettings {
        read_only_end_time: cfg.read_only_end_time,
        removal_enabled: cfg.removal_enabled,
        suspension_grace_days: cfg.suspension_grace_period_days,
        removal_grace_days: cfg.removal_grace_period_days,
    }
}

/// One pass, in one transaction. Blocking: call it off the async reactor.
pub fn run_once(
    pipeline: &Pipeline,
    settings: LifecycleSettings,
) -> Result<LifecycleReport, PipelineError> {
    let request = RequestId::new("lifecycle-");
    let report = pipeline
        .in_transaction(
            &request,
            &Actor::job("lifecycle"),
            TxMode::Write,
            |p, tx| {
                p.handle(&p.lifecycle, tx, |g, store| {
                    g.call_expire_accounts(store, now_ms(), settings)
                })
            },
        )
        .inspect_err(|e| tracing::error!(request = %request.0, "lifecycle pass failed: {e:?}"))?;
    tracing::info!(
        pending_suspension = report.pending_suspension,
        suspended = report.suspended,
        removed = report.removed,
        "lifecycle pass done"
    );
    Ok(report)
}

/// Audit events deleted per transaction: the write lock is held for one batch at a time.
const AUDIT_BATCH: u64 = 10_000;

/// Deletes the stored audit events older than `[audit] retention_days` (none when it is 0),
/// a batch per transaction; returns how many. Blocking.
pub fn prune_audit(db: &Db, cfg: &AuditConfig) -> Result<u64, StoreError> {
    if cfg.retention_days == 0 {
        return Ok(0);
    }
    let before = now_ms().saturating_sub(u64::from(cfg.retention_days) * 86_400_000);
    let mut removed = 0;
    loop {
        let n = db.transaction(TxMode::Write, |conn| {
            conn.audit().remove_before(before, AUDIT_BATCH)
        })?;
        removed += n;
        if n < AUDIT_BATCH {
            break;
        }
    }
    if removed > 0 {
        tracing::info!(
            removed,
            retention_days = cfg.retention_days,
            "audit events past their retention removed"
        );
    }
    Ok(removed)
}

/// Claims the pass of the period starting now: `false` when another server (or this one)
/// already ran one less than a period ago. The claim and its check are one write
/// transaction, so of servers ticking together exactly one gets it.
fn claim_period(db: &Db, period: Duration) -> Result<bool, StoreError> {
    db.transaction(TxMode::Write, |conn| {
        let now = now_ms();
        // A twentieth of slack: the timer's next tick must not find it a hair too soon. A
        // last run more than a period ahead is a clock gone wrong, not a reason to stop.
        let period = period.as_millis() as u64;
        let gap = period - period / 20;
        let due = conn
            .meta()
            .get(LAST_RUN_KEY)?
            .and_then(|v| v.parse::<u64>().ok())
            .is_none_or(|last| now.saturating_sub(last) >= gap || last > now + period);
        if due {
            conn.meta().set(LAST_RUN_KEY, &now.to_string())?;
        }
        Ok(due)
    })
}

/// Runs the job every `interval_secs` for as long as the server runs.
pub fn spawn(pipeline: Arc<Pipeline>, cfg: &LifecycleConfig, audit: &AuditConfig) {
    if !cfg.enabled {
        return;
    }
    let audit = *audit;
    let period = Duration::from_secs(cfg.interval_secs.max(1));
    let settings = settings(cfg);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let pipeline = pipeline.clone();
            // Failures are logged where they happen; the next tick tries again.
            let _ = tokio::task::spawn_blocking(move || match claim_period(&pipeline.db, period) {
                Ok(true) => {
                    let _ = run_once(&pipeline, settings);
                    if let Err(e) = prune_audit(&pipeline.db, &audit) {
                        tracing::error!("audit retention: {e}");
                    }
                }
                Ok(false) => tracing::debug!("lifecycle pass of this period already run"),
                Err(e) => tracing::error!("lifecycle: cannot claim the period: {e}"),
            })
            .await;
        }
    });
}
