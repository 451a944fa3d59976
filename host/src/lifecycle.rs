//! The account-lifecycle job: on a timer in the server, or once from the CLI, the
//! `lifecycle` guest labels, suspends and removes expired accounts.

use std::sync::Arc;
use std::time::Duration;

use crate::audit::Actor;
use crate::config::LifecycleConfig;
use crate::contract::types::LifecycleSettings;
use crate::pipeline::{Pipeline, PipelineError, RequestId};
use crate::plugins::lifecycle::LifecycleReport;
use crate::store::{TxMode, now_ms};

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

/// Runs the job every `interval_secs` for as long as the server runs.
pub fn spawn(pipeline: Arc<Pipeline>, cfg: &LifecycleConfig) {
    if !cfg.enabled {
        return;
    }
    let period = Duration::from_secs(cfg.interval_secs.max(1));
    let settings = settings(cfg);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let pipeline = pipeline.clone();
            // Failures are logged where they happen; the next tick tries again.
            let _ = tokio::task::spawn_blocking(move || run_once(&pipeline, settings)).await;
        }
    });
}
