//! The Wasm runtime: one engine per plugin set, every slot's component checked against the
//! contract and compiled once (or loaded from the on-disk cache), kept as an `InstancePre`,
//! and a fresh instance per call under the slot's wall-time deadline and memory cap. A
//! guest that traps, loops or exhausts memory fails only its own call. A running server
//! swaps whole plugin sets (`LivePlugins`); requests in flight finish on the set they
//! started with.
//!
//! The slots come from the registry (`crate::slots`, read from `wit/worlds.wit`): the plugin
//! set has a field per slot, and each slot's linker holds exactly its imports.
//!
//! - `engine`: the engine, the instance pool, the epoch and the memory cap
//! - `state`: a guest instance's store state; `host/`: the imports, one file per interface
//!   domain, each over a narrow view of that state
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

use crate::config::PluginsConfig;
use crate::slots::{self, POLICY_SHADOW};
use load::{LoadCtx, Slot};
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

/// The plugin set: a field per slot of the registry, each typed by its export.
macro_rules! plugin_set {
    (
        policy: $policy:ident $policy_name:literal $policy_export:ident;
        handlers: $($slot:ident $name:literal $export:ident,)*
    ) => {
        pub use crate::contract::exports::iam::plugin::{$($export),*};
        use crate::contract::exports::iam::plugin::$policy_export;

        /// Every slot, ready to instantiate.
        pub struct Plugins {
            engine: Engine,
            $policy: Slot<$policy_export::GuestIndices>,
            /// A candidate policy, evaluated beside `policy` and never enforced.
            policy_shadow: Option<Slot<$policy_export::GuestIndices>>,
            $(pub $slot: Slot<$export::GuestIndices>,)*
            ticker_stop: Arc<AtomicBool>,
        }

        impl Plugins {
            /// Every slot of `cfg`, loaded with `ctx`.
            fn load_slots(ctx: &mut LoadCtx, cfg: &PluginsConfig) -> Result<Plugins> {
                Ok(Plugins {
                    $policy: ctx.policy($policy_name, &cfg.policy)?,
                    policy_shadow: cfg
                        .policy_shadow
                        .as_ref()
                        .map(|s| ctx.policy(POLICY_SHADOW, s))
                        .transpose()?,
                    $($slot: ctx.handler($name)?,)*
                    engine: ctx.engine.clone(),
                    ticker_stop: Arc::new(AtomicBool::new(false)),
                })
            }

            /// Every slot's component, digest, contract and statistics: the policy, its
            /// shadow, then the handler slots.
            pub fn describe(&self) -> Vec<SlotInfo> {
                let mut v = vec![self.$policy.info()];
                v.extend(self.policy_shadow.as_ref().map(Slot::info));
                $(v.push(self.$slot.info());)*
                v
            }
        }
    };
}
slots::for_each_slot!(plugin_set);

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
        let plugins = Plugins::load_slots(&mut ctx, cfg)?;
        engine::spawn_epoch_ticker(engine, plugins.ticker_stop.clone());
        Ok(plugins)
    }

    /// Logs what fills each slot (at start and after a reload).
    pub fn log_loaded(&self) {
        for p in self.describe() {
            tracing::info!(slot = p.slot, source = %p.source, sha256 = %p.digest, contract = %p.contract, "plugin loaded");
        }
    }
}
