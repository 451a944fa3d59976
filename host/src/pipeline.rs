//! The request pipeline, the floor below HTTP that background jobs share: the policy
//! decides, then a handler guest runs inside one transaction, committed only when the guest
//! returns `ok` (rolled back on its errors and failures); the audit trail of its writes is
//! logged, with who acted, only after the commit. Blocking work (Wasm, SQLite) runs on the
//! blocking pool, never on the async reactor. HTTP maps [`PipelineError`] to its answers.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use crate::audit::{Actor, Event};
use crate::config::{Config, Overrides};
use crate::contract::types;
use crate::plugins::{Decision, Failure, Handled, LivePlugins, Plugins};
use crate::store::{ATTEMPTS, Db, Store, StoreError, Tx, TxMode, conflict_backoff};

/// Requests running guests at once. More than a few per core only adds memory (instances,
/// connections) and queueing inside; the rest wait their turn at the door.
const GUEST_CALLS: usize = 32;

/// The id of one request (or job run), for logs, the audit trail and `x-request-id`.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

impl RequestId {
    /// A fresh id; `prefix` names a job's runs (`lifecycle-...`).
    pub fn new(prefix: &str) -> RequestId {
        RequestId(format!("{prefix}{}", uuid::Uuid::new_v4().simple()))
    }
}

/// What a handler guest call returns to the pipeline.
pub type GuestOutcome<R> = Handled<Result<R, types::Error>>;

/// Why an operation did not complete.
#[derive(Debug)]
pub enum PipelineError {
    /// The policy said no (the reason is logged, never shown).
    Denied,
    /// The handler answered with one of the contract's errors.
    Guest(types::Error),
    /// The handler's guest failed: trap, deadline, memory.
    Plugin(Failure),
    /// The database failed outside the guest.
    Database(anyhow::Error),
    /// The server is shutting down or its worker failed.
    Internal,
}

/// The database and the plugins, with the rules for running an operation over them.
pub struct Pipeline {
    pub db: Db,
    /// The current plugin set (swapped whole on reload).
    pub plugins: LivePlugins,
    /// Where the configuration came from, to read it again on reload.
    overrides: Overrides,
    /// Bounds the guest calls in flight to what the instance pool can hold.
    guest_slots: Semaphore,
    /// The reload generation this server's plugins follow (see [`Pipeline::follow_reloads`]);
    /// `None` until first read.
    seen_generation: Mutex<Option<u64>>,
}

/// The count of plugin reloads asked for through the API, in `meta`: every server on the
/// database follows it.
const GENERATION_KEY: &str = "plugins.generation";

impl Pipeline {
    pub fn new(db: Db, plugins: LivePlugins, overrides: Overrides) -> Pipeline {
        Pipeline {
            db,
            plugins,
            overrides,
            guest_slots: Semaphore::new(GUEST_CALLS),
            seen_generation: Mutex::new(None),
        }
    }

    /// A turn among the requests running guests at once (the benchmark's native path
    /// queues the same way).
    pub async fn turn(&self) -> Result<tokio::sync::SemaphorePermit<'_>, PipelineError> {
        self.guest_slots
            .acquire()
            .await
            .map_err(|_| PipelineError::Internal)
    }

    /// Runs one caller's operation: the policy decides, then `call` runs the handler guest
    /// in one transaction (see [`Pipeline::in_transaction`]), a write one when the operation
    /// may write ([`mode_of`]).
    pub async fn execute<R: Send + 'static>(
        self: &Arc<Self>,
        request: &RequestId,
        principal: types::Principal,
        source: Option<IpAddr>,
        op: types::Operation,
        call: impl Fn(&Plugins, Tx) -> GuestOutcome<R> + Send + 'static,
    ) -> Result<R, PipelineError> {
        let _turn = self.turn().await?;
        let pipeline = self.clone();
        let request = request.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            // One plugin set for the whole request, even if a reload swaps it meanwhile.
            let plugins = pipeline.plugins.get();
            let actor = Actor::caller(&principal, source);
            if let Decision::Deny(reason) = plugins.authorize(&principal, &op) {
                let caller = principal.account_id.or(principal.client_id);
                tracing::info!(?caller, %reason, "denied");
                let (method, path) = crate::contract::endpoint_of(&op);
                pipeline.record_apart(
                    &request,
                    &actor,
                    "access denied",
                    format!("{method} {path}"),
                );
                return Err(PipelineError::Denied);
            }
            pipeline.transaction_with(&plugins, &request, &actor, mode_of(&op), call)
        })
        .await
        .map_err(|e| {
            tracing::error!("request task failed: {e}");
            PipelineError::Internal
        })?
    }

    /// Runs a handler guest call inside one transaction: committed only when the guest
    /// returns `ok`, rolled back on its errors and failures. The audit trail of its writes
    /// is logged, naming `actor`, only after the commit. A transaction that conflicts with
    /// a concurrent one (PostgreSQL) is void whatever the guest made of it: the call runs
    /// again on a fresh transaction. Blocking.
    pub fn in_transaction<R>(
        &self,
        request: &RequestId,
        actor: &Actor,
        mode: TxMode,
        call: impl Fn(&Plugins, Tx) -> GuestOutcome<R>,
    ) -> Result<R, PipelineError> {
        self.transaction_with(&self.plugins.get(), request, actor, mode, call)
    }

    fn transaction_with<R>(
        &self,
        plugins: &Plugins,
        request: &RequestId,
        actor: &Actor,
        mode: TxMode,
        call: impl Fn(&Plugins, Tx) -> GuestOutcome<R>,
    ) -> Result<R, PipelineError> {
        let mut attempt = 1;
        loop {
            let tx = self
                .db
                .begin(mode)
                .map_err(|e| PipelineError::Database(e.into()))?;
            let Handled { result, tx, audit } = call(plugins, tx);
            // Anything but a successful commit drops `tx`, which rolls back.
            let conflict = if tx.conflicted() {
                StoreError::conflict("transaction conflicted")
            } else {
                match result {
                    // The trail is stored in the change's own transaction: it holds a
                    // change exactly when the change committed.
                    Ok(Ok(value)) => match tx
                        .audit()
                        .record(&request.0, actor, audit.events())
                        .and_then(|()| tx.commit())
                    {
                        Ok(()) => {
                            audit.log_committed(&request.0, actor);
                            return Ok(value);
                        }
                        Err(e) if e.is_conflict() => e,
                        Err(e) => return Err(PipelineError::Database(e.into())),
                    },
                    Ok(Err(error)) => return Err(PipelineError::Guest(error)),
                    Err(failure) => return Err(PipelineError::Plugin(failure)),
                }
            };
            if attempt >= ATTEMPTS {
                return Err(PipelineError::Database(conflict.into()));
            }
            tracing::info!(request = %request.0, attempt, "transaction conflicted, running it again");
            conflict_backoff(attempt);
            attempt += 1;
        }
    }

    /// Stores an event that comes with no change (a denial), in a write transaction of its
    /// own; a failure is logged and changes no answer. Blocking.
    fn record_apart(&self, request: &RequestId, actor: &Actor, kind: &'static str, detail: String) {
        let event = Event::apart(kind, None, detail);
        let stored = self.db.transaction(TxMode::Write, |conn| {
            conn.audit()
                .record(&request.0, actor, std::slice::from_ref(&event))
        });
        if let Err(e) = stored {
            tracing::error!(request = %request.0, "cannot store the audit event {kind}: {e}");
        }
    }

    /// Reads the configuration again and swaps in the plugin set it names. Blocking. On
    /// any error the running set stays.
    pub fn reload_plugins(&self) -> anyhow::Result<()> {
        let cfg = Config::load(self.overrides.clone())?;
        self.plugins.reload(&cfg.plugins)?;
        self.plugins.get().log_loaded();
        tracing::info!("plugins reloaded");
        Ok(())
    }

    /// Reloads the plugins here and, once they loaded, tells every other server on the
    /// database to do the same (they follow within [`RELOAD_POLL`]); the reload enters the
    /// audit trail, naming `actor`. Blocking.
    pub fn reload_plugins_everywhere(
        &self,
        request: &RequestId,
        actor: &Actor,
    ) -> anyhow::Result<()> {
        self.reload_plugins()?;
        let generation = self.db.transaction(TxMode::Write, |conn| {
            let next = generation(conn)? + 1;
            conn.meta().set(GENERATION_KEY, &next.to_string())?;
            let event = Event::apart("plugins reloaded", None, format!("generation {next}"));
            conn.audit().record(&request.0, actor, &[event])?;
            Ok::<_, StoreError>(next)
        })?;
        *self.seen() = Some(generation);
        Ok(())
    }

    /// Reloads the plugins if another server asked for it since the last look. Blocking;
    /// the server calls it every [`RELOAD_POLL`].
    pub fn follow_reloads(&self) -> anyhow::Result<()> {
        let stored = self.db.transaction(TxMode::Read, generation)?;
        let seen = self.seen().replace(stored);
        match seen {
            Some(seen) if seen != stored => {
                tracing::info!(generation = stored, "another server reloaded the plugins");
                self.reload_plugins()
            }
            _ => Ok(()),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        self.seen_generation
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// How often a server looks for plugin reloads asked of another one.
pub const RELOAD_POLL: std::time::Duration = std::time::Duration::from_secs(2);

fn generation(conn: &dyn Store) -> Result<u64, StoreError> {
    Ok(conn
        .meta()
        .get(GENERATION_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// How an operation's transaction starts: a `GET` only reads, everything else may write.
/// The method comes from the contract (`contract::endpoint_of`), so a new operation needs
/// nothing here.
pub fn mode_of(op: &types::Operation) -> TxMode {
    match crate::contract::endpoint_of(op).0 {
        "GET" => TxMode::Read,
        _ => TxMode::Write,
    }
}
