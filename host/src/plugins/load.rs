//! Loading a slot: its component's bytes (a built-in or a file, checked against its pin),
//! compiled once (or taken from the on-disk cache), checked against the contract, linked
//! with exactly the slot's imports and kept as an `InstancePre`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Instance, InstancePre, Linker};
use wasmtime::{Engine, Store};

use super::engine::deadline_ticks;
use super::host::{HasStore, runtime::HasPlugin};
use super::stats::{SlotStats, Stats};
use super::{GuestState, bounded_wait, cache, slot_check};
use crate::config::{BUILTIN_HANDLERS, PluginSpec, PluginsConfig};
use crate::slots::{self, POLICY};

/// The default guests, compiled by `build.rs` from `guest/` and embedded in the binary.
const BUILTIN_POLICY_ROLES: &[u8] = include_bytes!(env!("IAM_GUEST_POLICY_ROLES"));
const BUILTIN_POLICY_STRICT: &[u8] = include_bytes!(env!("IAM_GUEST_POLICY_STRICT"));
/// One default handler component per group, each importing only its group's store (and
/// cheaper to instantiate than one exporting every group): `(group, component)` pairs,
/// written by `build.rs`.
const BUILTIN_HANDLER_COMPONENTS: &[(&str, &[u8])] =
    include!(concat!(env!("OUT_DIR"), "/builtin_handlers.rs"));

/// A compiled component filling one slot, with what its calls run under.
pub struct Slot<I> {
    pub(super) name: &'static str,
    /// `builtin:roles`, `builtin:labels-handler` (say) or the file's path.
    pub(super) source: String,
    /// What surfaces without a token (`/metrics`) and guest log lines call the component:
    /// the built-in's name, or `site:<slot>@sha256:<first 12 hex digits>` for a file, whose
    /// path says something about the server's file system.
    pub(super) public_name: Arc<str>,
    /// SHA-256 of the component, hex.
    pub(super) digest: String,
    /// The contract version it was built against.
    pub(super) contract: String,
    pub(super) pre: InstancePre<GuestState>,
    pub(super) indices: I,
    pub(super) deadline: Duration,
    pub(super) deadline_ticks: u64,
    pub(super) memory_bytes: usize,
    pub(super) settings: Arc<BTreeMap<String, String>>,
    pub(super) stats: Arc<SlotStats>,
}

/// The exported interface of a slot: found in a component once, loaded from each instance.
pub trait Loadable: Sized {
    type Guest;
    fn find(pre: &InstancePre<GuestState>) -> wasmtime::Result<Self>;
    fn load_guest(
        &self,
        store: &mut Store<GuestState>,
        instance: &Instance,
    ) -> wasmtime::Result<Self::Guest>;
}

/// Every slot's export is [`Loadable`], and [`find_export`] finds it by slot name.
macro_rules! exports {
    (
        policy: $policy:ident $policy_name:literal $policy_export:ident;
        handlers: $($slot:ident $name:literal $export:ident,)*
    ) => {
        exports!(@each $policy_name $policy_export, $($name $export,)*);
    };
    (@each $($name:literal $export:ident,)*) => {
        use crate::contract::exports::iam::plugin::{$($export),*};

        $(
            impl Loadable for $export::GuestIndices {
                type Guest = $export::Guest;
                fn find(pre: &InstancePre<GuestState>) -> wasmtime::Result<Self> {
                    $export::GuestIndices::new(pre)
                }
                fn load_guest(
                    &self,
                    store: &mut Store<GuestState>,
                    instance: &Instance,
                ) -> wasmtime::Result<$export::Guest> {
                    self.load(store, instance)
                }
            }
        )*

        /// Finds the export of `slot` in a linked component.
        pub fn find_export(slot: &str, pre: &InstancePre<GuestState>) -> wasmtime::Result<()> {
            match slot {
                $($name => $export::GuestIndices::new(pre).map(drop),)*
                other => unreachable!("no slot named {other}"),
            }
        }
    };
}
slots::for_each_slot!(exports);

/// Adds one contract interface to a linker, over the view of the guest state it works on.
macro_rules! add_import {
    (store $linker:ident $module:ident) => {
        $module::add_to_linker::<GuestState, HasStore>($linker, GuestState::store_view)
    };
    (runtime $linker:ident $module:ident) => {
        $module::add_to_linker::<GuestState, HasPlugin>($linker, GuestState::plugin_view)
    };
}

/// Links `iface`, one of the interfaces a slot may import.
macro_rules! imports {
    ($($kind:ident $name:literal $module:ident,)*) => {
        fn add_import(linker: &mut Linker<GuestState>, iface: &str) -> wasmtime::Result<()> {
            use crate::contract::iam::plugin::{$($module),*};
            match iface {
                $($name => add_import!($kind linker $module),)*
                // The interfaces without functions (`types`) have nothing to link.
                _ => Ok(()),
            }
        }
    };
}
slots::for_each_import!(imports);

/// The linker of a slot: WASI (Rust's std needs it; the context has no files, network or
/// environment: see `GuestState`; waits end at the call's deadline: see `bounded_wait`),
/// and the contract interfaces the slot may import, none other.
pub fn linker(engine: &Engine, slot: &str) -> Result<Linker<GuestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    // A guest may wait (sleep, poll a timer) only until its deadline.
    bounded_wait::shadow_poll(&mut linker)?;
    for iface in slots::imports_of(slot) {
        add_import(&mut linker, iface)?;
    }
    Ok(linker)
}

/// The component bytes of a spec: a built-in guest or a file, checked against its pin.
fn component_bytes(
    slot: &str,
    spec: &PluginSpec,
    handler: bool,
) -> Result<(String, Cow<'static, [u8]>)> {
    let (label, bytes) = match (spec.component.as_str(), handler) {
        ("roles", false) => (
            "builtin:roles".to_string(),
            Cow::Borrowed(BUILTIN_POLICY_ROLES),
        ),
        ("strict", false) => (
            "builtin:strict".to_string(),
            Cow::Borrowed(BUILTIN_POLICY_STRICT),
        ),
        (BUILTIN_HANDLERS, true) => {
            let (_, bytes) = BUILTIN_HANDLER_COMPONENTS
                .iter()
                .find(|(group, _)| *group == slot)
                .with_context(|| format!("no built-in handler for slot '{slot}'"))?;
            (format!("builtin:{slot}-handler"), Cow::Borrowed(*bytes))
        }
        (path, _) if spec.is_file() => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("plugin slot '{slot}': cannot read {path}"))?;
            (path.to_string(), Cow::Owned(bytes))
        }
        (other, false) => bail!(
            "plugin slot '{slot}': unknown policy '{other}': use 'roles', 'strict' or a path to a .wasm component"
        ),
        (other, true) => bail!(
            "plugin slot '{slot}': unknown component '{other}': use '{BUILTIN_HANDLERS}' or a path to a .wasm component"
        ),
    };
    if let Some(pin) = &spec.sha256 {
        let digest = sha256_hex(&bytes);
        if &digest != pin {
            bail!(
                "plugin slot '{slot}': {label} has sha256 {digest}, but the config pins {pin}: refused"
            );
        }
    }
    Ok((label, bytes))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Components compiled so far in one load, by source.
#[derive(Default)]
struct Compiled(HashMap<String, (Component, String)>);

/// What loading a plugin set needs along the way.
pub struct LoadCtx<'a> {
    pub engine: &'a Engine,
    pub cfg: &'a PluginsConfig,
    compiled: Compiled,
    cache: cache::Cache,
    stats: &'a Stats,
}

impl<'a> LoadCtx<'a> {
    pub fn new(
        engine: &'a Engine,
        cfg: &'a PluginsConfig,
        stats: &'a Stats,
        cache_key: [u8; 32],
    ) -> LoadCtx<'a> {
        LoadCtx {
            engine,
            cfg,
            compiled: Compiled::default(),
            cache: cache::Cache::new(cfg.cache_dir.as_deref(), cache_key),
            stats,
        }
    }

    /// The policy slot (or, as `policy_shadow`, the candidate beside it).
    pub fn policy<I: Loadable>(
        &mut self,
        name: &'static str,
        spec: &PluginSpec,
    ) -> Result<Slot<I>> {
        self.slot(name, POLICY, spec, false)
    }

    /// A handler slot: its configured component, or the built-in one with the default
    /// limits.
    pub fn handler<I: Loadable>(&mut self, group: &'static str) -> Result<Slot<I>> {
        let spec = self.cfg.handlers.get(group).cloned().unwrap_or(PluginSpec {
            component: BUILTIN_HANDLERS.into(),
            sha256: None,
            deadline: self.cfg.default_deadline,
            memory_bytes: self.cfg.default_memory_bytes,
            settings: BTreeMap::new(),
        });
        self.slot(group, group, &spec, true)
    }

    /// Reads, checks against the contract (as a component filling slot `kind`) and
    /// compiles (or reuses) a slot's component.
    fn slot<I: Loadable>(
        &mut self,
        name: &'static str,
        kind: &str,
        spec: &PluginSpec,
        handler: bool,
    ) -> Result<Slot<I>> {
        let (label, bytes) = component_bytes(name, spec, handler)?;
        // One file may fill several slots: each is compiled once.
        let (component, digest) = match self.compiled.0.get(&label) {
            Some(c) => c.clone(),
            None => {
                let digest = sha256_hex(&bytes);
                let c = self
                    .cache
                    .component(self.engine, &bytes, &digest)
                    .with_context(|| {
                        format!(
                            "plugin slot '{name}': {label} is not a valid WebAssembly component"
                        )
                    })?;
                self.compiled
                    .0
                    .insert(label.clone(), (c.clone(), digest.clone()));
                (c, digest)
            }
        };
        let shape = slot_check::Shape::of(self.engine, &component);
        shape
            .check(kind)
            .map_err(|e| anyhow!("plugin slot '{name}': {label} {e:#}"))?;
        let linker = linker(self.engine, kind)?;
        let pre = linker.instantiate_pre(&component).map_err(|e| {
            anyhow!("plugin slot '{name}': {label} does not fit the contract: {e:#}")
        })?;
        let indices = I::find(&pre).map_err(|e| {
            anyhow!("plugin slot '{name}': {label} does not export the slot's interface: {e:#}")
        })?;
        let public_name = if spec.is_file() {
            format!("site:{name}@sha256:{}", &digest[..12])
        } else {
            label.clone()
        };
        Ok(Slot {
            name,
            source: label,
            public_name: public_name.into(),
            digest,
            contract: shape
                .contract_versions()
                .first()
                .cloned()
                .unwrap_or_else(|| slots::VERSION.into()),
            pre,
            indices,
            deadline: spec.deadline,
            deadline_ticks: deadline_ticks(spec.deadline),
            memory_bytes: spec.memory_bytes,
            settings: Arc::new(spec.settings.clone()),
            stats: self.stats.slot(name),
        })
    }
}
