//! Calling a guest: a fresh instance per call under its slot's deadline and memory cap, the
//! policy's decision (with the shadow policy beside it), a handler on the request's
//! transaction, and what a failed call tells the log and the caller.

use std::time::Instant;

use wasmtime::{Store, Trap};

use super::engine::MemoryLimiter;
use super::load::{Loadable, Slot};
use super::{GuestState, Plugins, bounded_wait, escape_guest_text};
use crate::audit::Trail;
use crate::contract::exports::iam::plugin::authorizer::{self, Decision};
use crate::contract::types;
use crate::slots::{POLICY, POLICY_SHADOW};
use crate::store::Tx;

/// Why a guest call failed.
#[derive(Debug)]
pub enum FailureKind {
    /// Ran past its deadline (503).
    Deadline,
    /// Tried to grow memory past its cap (500).
    Memory,
    /// Trapped or panicked (500).
    Trap,
    /// Could not be instantiated, e.g. every pooled slot is busy (503).
    Unavailable,
}

/// A failed guest call, with what the log needs.
#[derive(Debug)]
pub struct Failure {
    /// The slot (`policy`, `attributes`, ...): safe to show to the caller.
    pub slot: &'static str,
    /// Where the slot's component came from, for the log.
    pub source: String,
    pub kind: FailureKind,
    pub detail: String,
    pub stderr: String,
}

impl Failure {
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            FailureKind::Deadline => "deadline exceeded",
            FailureKind::Memory => "memory limit exceeded",
            FailureKind::Trap => "trapped",
            FailureKind::Unavailable => "could not be instantiated",
        }
    }

    /// Logs the failure with what an operator needs to find the cause.
    pub fn log(&self, what: &str) {
        tracing::error!(
            slot = self.slot,
            source = %self.source,
            kind = self.kind_name(),
            detail = %self.detail,
            stderr = %self.stderr,
            "{what}"
        );
    }
}

/// What a handler call hands back to the transaction it ran in.
pub struct Handled<R> {
    pub result: Result<R, Failure>,
    pub tx: Tx,
    /// The changes the call's writes made, to log if the transaction commits.
    pub audit: Trail,
}

impl<R> Handled<R> {
    /// The same call with its result changed by `f` (the transaction and trail unchanged).
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Handled<S> {
        Handled {
            result: self.result.map(f),
            tx: self.tx,
            audit: self.audit,
        }
    }
}

impl Plugins {
    /// Asks the policy whether `caller` may perform `op`. A policy that fails denies (fail
    /// closed). A shadow policy is asked too; when it decides otherwise, the disagreement
    /// is counted and logged, and never changes the answer. A deny reason is the guest's
    /// text, bound for the log: it comes back escaped.
    pub fn authorize(&self, caller: &types::Principal, op: &types::Operation) -> Decision {
        let ask = |slot: &Slot<authorizer::GuestIndices>| {
            self.call(slot, None, |guest: &authorizer::Guest, store| {
                guest.call_authorize(store, caller, op)
            })
            .0
            .map(|d| match d {
                Decision::Deny(reason) => Decision::Deny(escape_guest_text(&reason).into_owned()),
                allow => allow,
            })
        };
        let metrics = crate::metrics::get();
        let outcome = |d: &Decision| match d {
            Decision::Allow => "allow",
            Decision::Deny(_) => "deny",
        };
        let decision = match ask(&self.policy) {
            Ok(d) => {
                metrics.decision(POLICY, outcome(&d));
                d
            }
            Err(f) => {
                metrics.decision(POLICY, "error");
                f.log("the policy failed: the request is denied");
                Decision::Deny(format!("the policy failed ({})", f.kind_name()))
            }
        };
        if let Some(shadow) = &self.policy_shadow {
            let asked = ask(shadow);
            metrics.decision(
                POLICY_SHADOW,
                asked.as_ref().map_or("error", |d| outcome(d)),
            );
            match asked {
                Ok(candidate) => {
                    let allows = |d: &Decision| matches!(d, Decision::Allow);
                    if allows(&candidate) != allows(&decision) {
                        self.policy.stats.shadow_disagreed();
                        tracing::warn!(
                            operation = ?op,
                            caller = ?caller,
                            enforced = ?decision,
                            shadow = ?candidate,
                            "shadow policy disagrees"
                        );
                    }
                }
                Err(f) => {
                    self.policy.stats.shadow_failed();
                    f.log("the shadow policy failed (not enforced)");
                }
            }
        }
        decision
    }

    /// Calls a handler slot's guest with the request's transaction as its store, and
    /// gives the transaction back with the outcome.
    pub fn handle<I: Loadable, R>(
        &self,
        slot: &Slot<I>,
        tx: Tx,
        f: impl FnOnce(&I::Guest, &mut Store<GuestState>) -> wasmtime::Result<R>,
    ) -> Handled<R> {
        let (result, state) = self.call(slot, Some(tx), f);
        Handled {
            result,
            tx: state.conn.expect("transaction handed back"),
            audit: state.audit,
        }
    }

    fn call<I: Loadable, R>(
        &self,
        slot: &Slot<I>,
        conn: Option<Tx>,
        f: impl FnOnce(&I::Guest, &mut Store<GuestState>) -> wasmtime::Result<R>,
    ) -> (Result<R, Failure>, GuestState) {
        let started = Instant::now();
        let state = GuestState::new(
            slot.name,
            slot.public_name.clone(),
            slot.settings.clone(),
            MemoryLimiter::new(slot.memory_bytes),
            conn,
            started + slot.deadline,
        );
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(slot.deadline_ticks);
        store.epoch_deadline_trap();

        let outcome = match slot.pre.instantiate(&mut store) {
            Err(e) => Err((FailureKind::Unavailable, e)),
            Ok(instance) => match slot.indices.load_guest(&mut store, &instance) {
                Err(e) => Err((FailureKind::Unavailable, e)),
                Ok(guest) => f(&guest, &mut store).map_err(|e| {
                    let kind = if store.data().limiter.hit {
                        FailureKind::Memory
                    } else if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt)
                        || e.is::<bounded_wait::WaitedPastDeadline>()
                    {
                        FailureKind::Deadline
                    } else {
                        FailureKind::Trap
                    };
                    (kind, e)
                }),
            },
        };
        if let Some(streak) = slot.stats.record(started.elapsed(), outcome.is_err()) {
            tracing::error!(
                slot = slot.name,
                source = %slot.source,
                "plugin has failed {streak} calls in a row"
            );
        }
        let result = outcome.map_err(|(kind, e)| Failure {
            slot: slot.name,
            source: slot.source.clone(),
            kind,
            // Both may carry guest text (its stderr, function names in a backtrace).
            detail: escape_guest_text(&format!("{e:#}")).into_owned(),
            stderr: escape_guest_text(&store.data().stderr_text()).into_owned(),
        });
        (result, store.into_data())
    }
}
