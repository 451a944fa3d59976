//! The Wasm runtime: one engine, every slot's component compiled once at start and kept
//! as an `InstancePre`, and a fresh instance per call under a wall-time deadline and a
//! memory cap. A guest that traps, loops or exhausts memory fails only its own call.

mod bindings;
mod host_store;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use rusqlite::Connection;
use wasmtime::component::{Component, HasSelf, Instance, InstancePre, Linker, ResourceTable};
use wasmtime::{
    Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store, Trap,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub use authorizer::Decision;
use bindings::exports::iam::plugin::authorizer;
pub use bindings::exports::iam::plugin::{
    attributes, authorities, certificates, clients, find, groups, labels, lifecycle, managers,
    scim, search,
};
pub use bindings::iam::plugin::accounts::AccountUpdate;
pub use bindings::iam::plugin::types;

use crate::audit::Trail;
use crate::config::PluginsConfig;

/// The default guests, compiled by `build.rs` from `guest/` and embedded in the binary.
const BUILTIN_POLICY_ROLES: &[u8] = include_bytes!(env!("IAM_GUEST_POLICY_ROLES"));
const BUILTIN_POLICY_STRICT: &[u8] = include_bytes!(env!("IAM_GUEST_POLICY_STRICT"));
const BUILTIN_HANDLERS: &[u8] = include_bytes!(env!("IAM_GUEST_HANDLERS"));

/// How often the engine's epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(5);
/// How much of a guest's stderr is kept for the log.
const STDERR_CAPACITY: usize = 16 * 1024;
/// Instances that may exist at once (the pool is reserved up front).
pub const MAX_INSTANCES: u32 = 256;

/// The state of one guest instance's store.
pub struct GuestState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
    /// The connection of the request's transaction; absent for the policy.
    conn: Option<Connection>,
    /// What the handler's writes changed, logged once the transaction commits.
    audit: Trail,
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory and remembers that the cap was hit, so the failure can say so.
struct MemoryLimiter {
    max_bytes: usize,
    hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            // Trapping (rather than failing the grow) stops a guest that would otherwise
            // abort with a less helpful message, or worse, carry on.
            wasmtime::bail!("memory limit of {} MiB exceeded", self.max_bytes >> 20);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

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

/// A compiled component filling one slot.
pub struct Slot<I> {
    name: &'static str,
    source: String,
    pre: InstancePre<GuestState>,
    indices: I,
}

/// Every slot, ready to instantiate.
pub struct Plugins {
    engine: Engine,
    policy: Slot<authorizer::GuestIndices>,
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
    deadline_ticks: u64,
    memory_bytes: usize,
    ticker_stop: Arc<AtomicBool>,
}

impl Drop for Plugins {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

/// Where a slot's component comes from.
enum Source<'a> {
    Builtin(&'static str, &'static [u8]),
    File(&'a str),
}

impl Plugins {
    /// Builds the engine and compiles and checks every slot's component. Any misfit stops
    /// the start: the server never runs half-wired.
    pub fn load(cfg: &PluginsConfig) -> Result<Plugins> {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(MAX_INSTANCES)
            .total_core_instances(MAX_INSTANCES * 4)
            .total_memories(MAX_INSTANCES * 2)
            .total_tables(MAX_INSTANCES * 4)
            .max_memory_size(cfg.memory_bytes);
        let mut wcfg = wasmtime::Config::new();
        wcfg.wasm_component_model(true)
            .epoch_interruption(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wcfg)?;

        let policy_source = match cfg.policy.as_str() {
            "roles" => Source::Builtin("builtin:roles", BUILTIN_POLICY_ROLES),
            "strict" => Source::Builtin("builtin:strict", BUILTIN_POLICY_STRICT),
            p if p.ends_with(".wasm") => Source::File(p),
            other => bail!(
                "unknown policy '{other}': use 'roles', 'strict' or a path to a .wasm component"
            ),
        };
        let handler_source = |group: &str| match cfg.handlers.get(group) {
            Some(path) => Source::File(path.to_str().unwrap_or_default()),
            None => Source::Builtin("builtin:handlers", BUILTIN_HANDLERS),
        };

        // The built-in handler component fills several slots: compile it once.
        let mut compiled = Compiled::default();
        let c = &mut compiled;
        let policy = slot(&engine, c, "policy", policy_source)?;
        let attributes = slot(&engine, c, "attributes", handler_source("attributes"))?;
        let authorities = slot(&engine, c, "authorities", handler_source("authorities"))?;
        let labels = slot(&engine, c, "labels", handler_source("labels"))?;
        let groups = slot(&engine, c, "groups", handler_source("groups"))?;
        let managers = slot(&engine, c, "managers", handler_source("managers"))?;
        let search = slot(&engine, c, "search", handler_source("search"))?;
        let lifecycle = slot(&engine, c, "lifecycle", handler_source("lifecycle"))?;
        let find = slot(&engine, c, "find", handler_source("find"))?;
        let clients = slot(&engine, c, "clients", handler_source("clients"))?;
        let certificates = slot(&engine, c, "certificates", handler_source("certificates"))?;
        let scim = slot(&engine, c, "scim", handler_source("scim"))?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.clone(), ticker_stop.clone());
        Ok(Plugins {
            deadline_ticks: (cfg.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64,
            memory_bytes: cfg.memory_bytes,
            engine,
            policy,
            attributes,
            authorities,
            labels,
            groups,
            managers,
            search,
            lifecycle,
            find,
            clients,
            certificates,
            scim,
            ticker_stop,
        })
    }

    /// Which component fills each slot, for the start-up log.
    pub fn describe(&self) -> Vec<(&'static str, &str)> {
        vec![
            (self.policy.name, self.policy.source.as_str()),
            (self.attributes.name, self.attributes.source.as_str()),
            (self.authorities.name, self.authorities.source.as_str()),
            (self.labels.name, self.labels.source.as_str()),
            (self.groups.name, self.groups.source.as_str()),
            (self.managers.name, self.managers.source.as_str()),
            (self.search.name, self.search.source.as_str()),
            (self.lifecycle.name, self.lifecycle.source.as_str()),
            (self.find.name, self.find.source.as_str()),
            (self.clients.name, self.clients.source.as_str()),
            (self.certificates.name, self.certificates.source.as_str()),
            (self.scim.name, self.scim.source.as_str()),
        ]
    }

    /// Asks the policy whether `caller` may perform `op`.
    pub fn authorize(
        &self,
        caller: &types::Principal,
        op: &types::Operation,
    ) -> Result<Decision, Failure> {
        let (result, _) = self.call(&self.policy, None, |guest: &authorizer::Guest, store| {
            guest.call_authorize(store, caller, op)
        });
        result
    }

    /// Calls a handler slot's guest with `conn` (inside the request's transaction) as its
    /// store, and gives the connection back with the outcome.
    pub fn handle<I: Loadable, R>(
        &self,
        slot: &Slot<I>,
        conn: Connection,
        f: impl FnOnce(&I::Guest, &mut Store<GuestState>) -> wasmtime::Result<R>,
    ) -> Handled<R> {
        let (result, state) = self.call(slot, Some(conn), f);
        Handled {
            result,
            conn: state.conn.expect("connection handed back"),
            audit: state.audit,
        }
    }

    fn call<I: Loadable, R>(
        &self,
        slot: &Slot<I>,
        conn: Option<Connection>,
        f: impl FnOnce(&I::Guest, &mut Store<GuestState>) -> wasmtime::Result<R>,
    ) -> (Result<R, Failure>, GuestState) {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let state = GuestState {
            // No files, environment, arguments or sockets: a guest reaches the world only
            // through the slot's imports. Its stderr is kept for the log.
            wasi: WasiCtxBuilder::new()
                .stderr(stderr.clone())
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                max_bytes: self.memory_bytes,
                hit: false,
            },
            conn,
            audit: Trail::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(self.deadline_ticks);
        store.epoch_deadline_trap();

        let outcome = match slot.pre.instantiate(&mut store) {
            Err(e) => Err((FailureKind::Unavailable, e)),
            Ok(instance) => match slot.indices.load_guest(&mut store, &instance) {
                Err(e) => Err((FailureKind::Unavailable, e)),
                Ok(guest) => f(&guest, &mut store).map_err(|e| {
                    let kind = if store.data().limiter.hit {
                        FailureKind::Memory
                    } else if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
                        FailureKind::Deadline
                    } else {
                        FailureKind::Trap
                    };
                    (kind, e)
                }),
            },
        };
        let result = outcome.map_err(|(kind, e)| Failure {
            slot: slot.name,
            source: slot.source.clone(),
            kind,
            detail: format!("{e:#}"),
            stderr: String::from_utf8_lossy(&stderr.contents()).into_owned(),
        });
        (result, store.into_data())
    }
}

/// What a handler call hands back to the transaction it ran in.
pub struct Handled<R> {
    pub result: Result<R, Failure>,
    pub conn: Connection,
    /// The changes the call's writes made, to log if the transaction commits.
    pub audit: Trail,
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

macro_rules! loadable {
    ($($iface:ident),*) => {$(
        impl Loadable for $iface::GuestIndices {
            type Guest = $iface::Guest;
            fn find(pre: &InstancePre<GuestState>) -> wasmtime::Result<Self> {
                $iface::GuestIndices::new(pre)
            }
            fn load_guest(&self, store: &mut Store<GuestState>, instance: &Instance) -> wasmtime::Result<$iface::Guest> {
                self.load(store, instance)
            }
        }
    )*};
}
loadable!(
    authorizer,
    attributes,
    authorities,
    labels,
    groups,
    managers,
    search,
    lifecycle,
    find,
    clients,
    certificates,
    scim
);

/// The store interfaces a slot's component may import. A site's component gets only its
/// slot's (least privilege: an `attributes` plugin cannot reach authorities); the built-in
/// handler component, which serves every group, gets them all.
fn store_imports(slot: Option<&str>) -> Vec<AddToLinker> {
    use bindings::iam::plugin::{
        accounts, attribute_store, authority_store, certificate_store, client_store, group_store,
        label_store, membership_store,
    };
    let accounts: AddToLinker = |l| accounts::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s);
    let attribute_store: AddToLinker =
        |l| attribute_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s);
    let authority_store: AddToLinker =
        |l| authority_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s);
    let group_store: AddToLinker =
        |l| group_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s);
    let membership_store: AddToLinker =
        |l| membership_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s);
    let certificate_store: AddToLinker =
        |l| certificate_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s);
    let client_store: AddToLinker =
        |l| client_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s);
    let label_store: AddToLinker =
        |l| label_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s);
    match slot {
        Some("policy") => vec![],
        Some("attributes") => vec![accounts, attribute_store],
        Some("authorities") => vec![accounts, authority_store],
        Some("labels") => vec![accounts, label_store],
        Some("groups") => vec![accounts, group_store, membership_store],
        Some("managers") => vec![accounts, group_store, authority_store],
        Some("search") => vec![accounts, group_store],
        Some("lifecycle") => vec![accounts, label_store],
        Some("find") => vec![accounts, group_store],
        Some("clients") => vec![accounts, client_store],
        Some("certificates") => vec![accounts, certificate_store],
        Some("scim") => vec![accounts, group_store, membership_store],
        Some(other) => unreachable!("no slot named {other}"),
        None => vec![
            accounts,
            attribute_store,
            authority_store,
            group_store,
            label_store,
            membership_store,
            client_store,
            certificate_store,
        ],
    }
}

type AddToLinker = fn(&mut Linker<GuestState>) -> wasmtime::Result<()>;

/// A linker with WASI (Rust's std needs it; the context has no files, network or
/// environment: see `Plugins::call`) and the given store interfaces.
fn linker(engine: &Engine, imports: Vec<AddToLinker>) -> Result<Linker<GuestState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    for add in imports {
        add(&mut linker)?;
    }
    Ok(linker)
}

/// Components compiled so far, by source.
#[derive(Default)]
struct Compiled(HashMap<String, Component>);

/// Compiles (or reuses) a slot's component and checks that it exports the slot's interface
/// and that the host can satisfy its imports.
fn slot<I: Loadable>(
    engine: &Engine,
    compiled: &mut Compiled,
    name: &'static str,
    source: Source,
) -> Result<Slot<I>> {
    let linker = linker(
        engine,
        match source {
            Source::Builtin(..) => store_imports(None),
            Source::File(_) => store_imports(Some(name)),
        },
    )?;
    let (label, bytes) = match source {
        Source::Builtin(label, bytes) => (label.to_string(), Cow::Borrowed(bytes)),
        Source::File(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("plugin slot '{name}': cannot read {path}"))?;
            (path.to_string(), Cow::Owned(bytes))
        }
    };
    let component = match compiled.0.get(&label) {
        Some(c) => c.clone(),
        None => {
            let c = Component::new(engine, &bytes)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("plugin slot '{name}': {label} is not a valid WebAssembly component")
                })?;
            compiled.0.insert(label.clone(), c.clone());
            c
        }
    };
    let pre = linker.instantiate_pre(&component).map_err(|e| {
        anyhow!("plugin slot '{name}': {label} imports something the host does not provide: {e:#}")
    })?;
    let indices = I::find(&pre).map_err(|e| {
        anyhow!("plugin slot '{name}': {label} does not export the slot's interface: {e:#}")
    })?;
    Ok(Slot {
        name,
        source: label,
        pre,
        indices,
    })
}

fn spawn_epoch_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("wasm-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("cannot start the epoch thread");
}
