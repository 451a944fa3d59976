//! The Wasm runtime: one engine per plugin set, every slot's component checked against the
//! contract and compiled once (or loaded from the on-disk cache), kept as an `InstancePre`,
//! and a fresh instance per call under the slot's wall-time deadline and memory cap. A
//! guest that traps, loops or exhausts memory fails only its own call. A running server
//! swaps whole plugin sets (`LivePlugins`); requests in flight finish on the set they
//! started with.
//!
//! - `engine`: the engine, the instance pool, the epoch and the memory cap
//! - `state`: a guest instance's store state; `host/`: the imports, one file per interface
//!   domain
//! - `load`: a slot's component read, checked, compiled (`cache`) and linked
//! - `call`: a call to the policy or a handler, and its failures
//! - `live`: reload; `check`: `iam-host plugin check`; `slot_check`: the contract check;
//!   `stats`: per-slot call statistics

mod bounded_wait;
mod cache;
mod call;
mod check;
mod engine;
mod host;
mod live;
mod load;
pub mod slot_check;
mod state;
pub mod stats;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use wasmtime::Engine;

pub use crate::contract::exports::iam::plugin::authorizer::Decision;
pub use call::{Failure, FailureKind, Handled};
pub use check::check_file;
pub use host::runtime::escape_guest_text;
pub use live::LivePlugins;
pub use load::{
    attributes, authorities, certificates, clients, find, groups, labels, lifecycle, managers,
    scim, search,
};

use crate::config::PluginsConfig;
use load::{LoadCtx, Slot, authorizer};
use state::GuestState;
use stats::Stats;

/// What `GET /iam/admin/plugins` and `/metrics` show of a slot.
pub struct SlotInfo {
    pub slot: &'static str,
    /// The file's path or the built-in's name: only for the admin endpoint and the log.
    pub source: String,
    /// The name safe to show without a token.
    pub public_name: String,
    pub digest: String,
    pub contract: String,
    pub stats: stats::Snapshot,
}

impl<I> Slot<I> {
    fn info(&self) -> SlotInfo {
        SlotInfo {
            slot: self.name,
            source: self.source.clone(),
            public_name: self.public_name.to_string(),
            digest: self.digest.clone(),
            contract: self.contract.clone(),
            stats: self.stats.snapshot(),
        }
    }
}

/// Every slot, ready to instantiate.
pub struct Plugins {
    engine: Engine,
    policy: Slot<authorizer::GuestIndices>,
    /// A candidate policy, evaluated beside `policy` and never enforced.
    policy_shadow: Option<Slot<authorizer::GuestIndices>>,
    pub attributes: Slot<attributes::GuestIndices>,
    pub authorities: Slot<authorities::GuestIndices>,
    pub labels: Slot<labels::GuestIndices>,
    pub groups: Slot<groups::GuestIndices>,
    pub managers: Slot<managers::GuestIndices>,
    pub search: Slot<search::GuestIndices>,
    pub lifecycle: Slot<lifecycle::GuestIndices>,
    pub find: Slot<find::GuestIndices>,
    pub clients: Slot<clients::GuestIndices>,
    pub certificates: Slot<certificates::GuestIndices>,
    pub scim: Slot<scim::GuestIndices>,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Plugins {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Plugins {
    /// Builds an engine and checks and compiles every slot's component. Any misfit stops
    /// the load: a server never runs half-wired.
    /// `cache_key` signs the compiled components cached in `cfg.cache_dir`.
    pub fn load(cfg: &PluginsConfig, stats: &Stats, cache_key: [u8; 32]) -> Result<Plugins> {
        let max_memory = cfg
            .handlers
            .values()
            .chain([&cfg.policy])
            .chain(&cfg.policy_shadow)
            .map(|s| s.memory_bytes)
            .chain([cfg.default_memory_bytes])
            .max()
            .unwrap_or(cfg.default_memory_bytes);
        let engine = engine::engine(max_memory)?;
        let mut ctx = LoadCtx::new(&engine, cfg, stats, cache_key);
        let plugins = Plugins {
            policy: ctx.policy("policy", &cfg.policy)?,
            policy_shadow: cfg
                .policy_shadow
                .as_ref()
                .map(|s| ctx.policy("policy_shadow", s))
                .transpose()?,
            attributes: ctx.handler("attributes")?,
            authorities: ctx.handler("authorities")?,
            labels: ctx.handler("labels")?,
            groups: ctx.handler("groups")?,
            managers: ctx.handler("managers")?,
            search: ctx.handler("search")?,
            lifecycle: ctx.handler("lifecycle")?,
            find: ctx.handler("find")?,
            clients: ctx.handler("clients")?,
            certificates: ctx.handler("certificates")?,
            scim: ctx.handler("scim")?,
            engine: engine.clone(),
            ticker_stop: Arc::new(AtomicBool::new(false)),
        };
        engine::spawn_epoch_ticker(engine, plugins.ticker_stop.clone());
        Ok(plugins)
    }

    /// Logs what fills each slot (at start and after a reload).
    pub fn log_loaded(&self) {
        for p in self.describe() {
            tracing::info!(slot = p.slot, source = %p.source, sha256 = %p.digest, contract = %p.contract, "plugin loaded");
        }
    }

    /// Every slot's component, digest, contract and statistics: the policy, its shadow,
    /// then the handler slots.
    pub fn describe(&self) -> Vec<SlotInfo> {
        let mut v = vec![self.policy.info()];
        v.extend(self.policy_shadow.as_ref().map(Slot::info));
        v.extend([
            self.attributes.info(),
            self.authorities.info(),
            self.labels.info(),
            self.groups.info(),
            self.managers.info(),
            self.search.info(),
            self.lifecycle.info(),
            self.find.info(),
            self.clients.info(),
            self.certificates.info(),
            self.scim.info(),
        ]);
        v
    }
}
