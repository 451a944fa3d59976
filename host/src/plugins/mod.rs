//! The Wasm runtime: one engine per plugin set, every slot's component checked against the
//! contract and compiled once (or loaded from the on-disk cache), kept as an `InstancePre`,
//! and a fresh instance per call under the slot's wall-time deadline and memory cap. A
//! guest that traps, loops or exhausts memory fails only its own call. A running server
//! swaps whole plugin sets (`LivePlugins`); requests in flight finish on the set they
//! started with.

mod bounded_wait;
mod cache;
mod host;
pub mod slot_check;
pub use host::runtime::escape_guest_text;
pub mod stats;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Instance, InstancePre, Linker, ResourceTable};
use wasmtime::{
    Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Store, Trap,
};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::contract::exports::iam::plugin::authorizer;
pub use crate::contract::exports::iam::plugin::{
    attributes, authorities, certificates, clients, find, groups, labels, lifecycle, managers,
    scim, search,
};
use crate::contract::types;
pub use authorizer::Decision;

use crate::audit::Trail;
use crate::config::{BUILTIN_HANDLERS, PluginSpec, PluginsConfig};
use crate::store::Tx;
use stats::{SlotStats, Stats};

/// The default guests, compiled by `build.rs` from `guest/` and embedded in the binary.
const BUILTIN_POLICY_ROLES: &[u8] = include_bytes!(env!("IAM_GUEST_POLICY_ROLES"));
const BUILTIN_POLICY_STRICT: &[u8] = include_bytes!(env!("IAM_GUEST_POLICY_STRICT"));
/// One default handler component per group, each importing only its group's store (and
/// cheaper to instantiate than one exporting every group): `(group, component)` pairs,
/// written by `build.rs`.
const BUILTIN_HANDLER_COMPONENTS: &[(&str, &[u8])] =
    include!(concat!(env!("OUT_DIR"), "/builtin_handlers.rs"));

/// How often the engine's epoch advances; deadlines are counted in these ticks.
const EPOCH_TICK: Duration = Duration::from_millis(5);
/// How much of a guest's stderr is kept for the log.
const STDERR_CAPACITY: usize = 16 * 1024;
/// Bytes of each linear memory and table kept resident between instances.
const KEEP_RESIDENT: usize = 256 << 10;
/// Instances that may exist at once (the pool is reserved up front).
pub const MAX_INSTANCES: u32 = 256;

/// The state of one guest instance's store.
pub struct GuestState {
    /// Built when the guest first calls WASI: most calls never do, and building it costs
    /// about as much as the rest of the store.
    wasi: Option<WasiCtx>,
    /// The guest's stderr, kept for the log (exists once WASI is built).
    stderr: Option<MemoryOutputPipe>,
    table: ResourceTable,
    limiter: MemoryLimiter,
    /// The request's transaction; absent for the policy.
    conn: Option<Tx>,
    /// What the handler's writes changed, logged once the transaction commits.
    audit: Trail,
    /// The slot this instance fills, for its log lines.
    slot: &'static str,
    /// The public name of the component filling it, for its log lines.
    component: Arc<str>,
    /// The operator's settings for this plugin (`config` import).
    settings: Arc<BTreeMap<String, String>>,
    /// Lines logged by this call so far.
    log_lines: u32,
    /// When the call's deadline passes: no WASI wait lasts beyond it.
    deadline: Instant,
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let stderr = &mut self.stderr;
        let ctx = self.wasi.get_or_insert_with(|| {
            let pipe = MemoryOutputPipe::new(STDERR_CAPACITY);
            *stderr = Some(pipe.clone());
            // No files, environment, arguments or sockets: a guest reaches the world only
            // through the slot's imports.
            WasiCtxBuilder::new()
                .stderr(pipe)
                .allow_tcp(false)
                .allow_udp(false)
                .allow_ip_name_lookup(false)
                .build()
        });
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

impl GuestState {
    /// What the guest wrote to stderr so far.
    fn stderr_text(&self) -> String {
        self.stderr
            .as_ref()
            .map(|p| String::from_utf8_lossy(&p.contents()).into_owned())
            .unwrap_or_default()
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

/// A compiled component filling one slot, with what its calls run under.
pub struct Slot<I> {
    name: &'static str,
    /// `builtin:roles`, `builtin:labels-handler` (say) or the file's path.
    source: String,
    /// What surfaces without a token (`/metrics`) and guest log lines call the component:
    /// the built-in's name, or `site:<slot>@sha256:<first 12 hex digits>` for a file, whose
    /// path says something about the server's file system.
    public_name: Arc<str>,
    /// SHA-256 of the component, hex.
    digest: String,
    /// The contract version it was built against.
    contract: String,
    pre: InstancePre<GuestState>,
    indices: I,
    deadline: Duration,
    deadline_ticks: u64,
    memory_bytes: usize,
    settings: Arc<BTreeMap<String, String>>,
    stats: Arc<SlotStats>,
}

/// What `GET /iam/admin/plugins` shows of a slot.
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

/// The engine every plugin set is compiled with: one configuration, so artifacts in the
/// cache stay valid across restarts. The pool's per-memory reservation is the largest cap
/// any slot asks for; each store's limiter applies the slot's own cap.
pub fn engine(max_memory_bytes: usize) -> Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(MAX_INSTANCES)
        .total_core_instances(MAX_INSTANCES * 4)
        .total_memories(MAX_INSTANCES * 2)
        .total_tables(MAX_INSTANCES * 4)
        .max_memory_size(max_memory_bytes)
        // Pages a guest touched stay mapped and are reset on reuse, instead of being
        // returned to the OS and faulted in again by the next instance. Where Linux has
        // PAGEMAP_SCAN (6.7+), only the pages the guest dirtied are reset.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(KEEP_RESIDENT)
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut wcfg = wasmtime::Config::new();
    wcfg.wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Ok(Engine::new(&wcfg)?)
}

impl Plugins {
    /// Builds an engine and checks and compiles every slot's component. Any misfit stops
    /// the load: a server never runs half-wired.
    /// `cache_key` signs the compiled components cached in `cfg.cache_dir`.
    pub fn load(cfg: &PluginsConfig, stats: &Stats, cache_key: [u8; 32]) -> Result<Plugins> {
        let handler_spec = |group: &str| {
            cfg.handlers.get(group).cloned().unwrap_or(PluginSpec {
                component: BUILTIN_HANDLERS.into(),
                sha256: None,
                deadline: cfg.default_deadline,
                memory_bytes: cfg.default_memory_bytes,
                settings: BTreeMap::new(),
            })
        };
        let max_memory = cfg
            .handlers
            .values()
            .chain([&cfg.policy])
            .chain(&cfg.policy_shadow)
            .map(|s| s.memory_bytes)
            .chain([cfg.default_memory_bytes])
            .max()
            .unwrap_or(cfg.default_memory_bytes);
        let engine = engine(max_memory)?;
        let cache = cache::Cache::new(cfg.cache_dir.as_deref(), cache_key);

        // One file may fill several slots: each is compiled once.
        let mut compiled = Compiled::default();
        let mut ctx = LoadCtx {
            engine: &engine,
            compiled: &mut compiled,
            cache: &cache,
            stats,
        };
        let policy = ctx.slot("policy", &cfg.policy, false)?;
        let policy_shadow = cfg
            .policy_shadow
            .as_ref()
            .map(|s| ctx.slot("policy_shadow", s, false))
            .transpose()?;
        macro_rules! h {
            ($name:literal) => {
                ctx.slot($name, &handler_spec($name), true)
            };
        }
        let plugins = Plugins {
            policy,
            policy_shadow,
            attributes: h!("attributes")?,
            authorities: h!("authorities")?,
            labels: h!("labels")?,
            groups: h!("groups")?,
            managers: h!("managers")?,
            search: h!("search")?,
            lifecycle: h!("lifecycle")?,
            find: h!("find")?,
            clients: h!("clients")?,
            certificates: h!("certificates")?,
            scim: h!("scim")?,
            ticker_stop: Arc::new(AtomicBool::new(false)),
            engine,
        };
        spawn_epoch_ticker(plugins.engine.clone(), plugins.ticker_stop.clone());
        Ok(plugins)
    }

    /// Every slot's component, digest, contract and statistics.
    /// Logs what fills each slot (at start and after a reload).
    pub fn log_loaded(&self) {
        for p in self.describe() {
            tracing::info!(slot = p.slot, source = %p.source, sha256 = %p.digest, contract = %p.contract, "plugin loaded");
        }
    }

    pub fn describe(&self) -> Vec<SlotInfo> {
        fn info<I>(s: &Slot<I>) -> SlotInfo {
            SlotInfo {
                slot: s.name,
                source: s.source.clone(),
                public_name: s.public_name.to_string(),
                digest: s.digest.clone(),
                contract: s.contract.clone(),
                stats: s.stats.snapshot(),
            }
        }
        let mut v = vec![info(&self.policy)];
        v.extend(self.policy_shadow.as_ref().map(info));
        v.extend([
            info(&self.attributes),
            info(&self.authorities),
            info(&self.labels),
            info(&self.groups),
            info(&self.managers),
            info(&self.search),
            info(&self.lifecycle),
            info(&self.find),
            info(&self.clients),
            info(&self.certificates),
            info(&self.scim),
        ]);
        v
    }

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
        let decision = match ask(&self.policy) {
            Ok(d) => d,
            Err(f) => {
                f.log("the policy failed: the request is denied");
                Decision::Deny(format!("the policy failed ({})", f.kind_name()))
            }
        };
        if let Some(shadow) = &self.policy_shadow {
            match ask(shadow) {
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
        let state = GuestState {
            wasi: None,
            stderr: None,
            table: ResourceTable::new(),
            limiter: MemoryLimiter {
                max_bytes: slot.memory_bytes,
                hit: false,
            },
            conn,
            audit: Trail::default(),
            slot: slot.name,
            component: slot.public_name.clone(),
            settings: slot.settings.clone(),
            log_lines: 0,
            deadline: started + slot.deadline,
        };
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

/// The plugin set a running server uses, swapped whole on reload. A request takes the
/// current set once and keeps it to the end, so a reload never cuts one short.
pub struct LivePlugins {
    current: RwLock<Arc<Plugins>>,
    /// Call statistics, kept across reloads.
    pub stats: Arc<Stats>,
    cache_key: [u8; 32],
    /// One reload at a time.
    reloading: Mutex<()>,
}

impl LivePlugins {
    /// Loads the first set.
    pub fn load(cfg: &PluginsConfig, cache_key: [u8; 32]) -> Result<LivePlugins> {
        let stats = Arc::new(Stats::default());
        let plugins = Plugins::load(cfg, &stats, cache_key)?;
        Ok(LivePlugins {
            current: RwLock::new(Arc::new(plugins)),
            stats,
            cache_key,
            reloading: Mutex::new(()),
        })
    }

    pub fn get(&self) -> Arc<Plugins> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Loads and checks a new set, then swaps it in. Blocking (compiles); on error the old
    /// set keeps serving.
    pub fn reload(&self, cfg: &PluginsConfig) -> Result<()> {
        let _one = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = Plugins::load(cfg, &self.stats, self.cache_key)?;
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(fresh);
        Ok(())
    }
}

/// What a handler call hands back to the transaction it ran in.
pub struct Handled<R> {
    pub result: Result<R, Failure>,
    pub tx: Tx,
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

/// `iam-host plugin check`: what a component imports and exports, which contract it was
/// built against, and which slots it fits. Prints a report (a closed pipe, as in `| head`,
/// is an error, not a panic); true when it fits `slot` (or, without one, at least one slot).
pub fn check_file(path: &std::path::Path, slot: Option<&str>) -> Result<bool> {
    if let Some(s) = slot
        && !slot_check::slots().any(|known| known == s)
    {
        let all: Vec<&str> = slot_check::slots().collect();
        bail!("unknown slot '{s}' (slots: {})", all.join(", "));
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let engine = engine(64 << 20)?;
    let component = Component::new(&engine, &bytes)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("{} is not a WebAssembly component", path.display()))?;
    let shape = slot_check::Shape::of(&engine, &component);
    let mut report = String::new();
    let out = &mut report;
    writeln!(out, "component: {}", path.display())?;
    writeln!(out, "sha256:    {}", sha256_hex(&bytes))?;
    let versions = shape.contract_versions();
    writeln!(
        out,
        "contract:  {}",
        if versions.is_empty() {
            "none (no iam:plugin interface)".to_string()
        } else {
            versions
                .iter()
                .map(|v| format!("{}@{v}", slot_check::PACKAGE))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )?;
    writeln!(out, "imports:")?;
    for i in &shape.imports {
        writeln!(out, "  {i}")?;
    }
    writeln!(out, "exports:")?;
    for e in &shape.exports {
        writeln!(out, "  {e}")?;
    }
    writeln!(out, "slots:")?;
    let mut fitting = Vec::new();
    for s in slot_check::slots() {
        if slot.is_some_and(|wanted| wanted != s) {
            continue;
        }
        match fits(&engine, &component, &shape, s) {
            Ok(()) => {
                writeln!(out, "  {s}: fits")?;
                fitting.push(s);
            }
            Err(e) => writeln!(out, "  {s}: does not fit: {e:#}")?,
        }
    }
    use std::io::Write as _;
    std::io::stdout()
        .write_all(report.as_bytes())
        .context("cannot write the report")?;
    Ok(!fitting.is_empty())
}

/// Whether a component fits a slot: the contract check, then linking and finding the export
/// as a load would.
fn fits(
    engine: &Engine,
    component: &Component,
    shape: &slot_check::Shape,
    slot: &str,
) -> Result<()> {
    shape.check(slot)?;
    let pre = linker(engine, slot)?
        .instantiate_pre(component)
        .map_err(|e| anyhow!("does not fit the contract: {e:#}"))?;
    let found = match slot {
        "policy" => authorizer::GuestIndices::new(&pre).map(drop),
        "attributes" => attributes::GuestIndices::new(&pre).map(drop),
        "authorities" => authorities::GuestIndices::new(&pre).map(drop),
        "labels" => labels::GuestIndices::new(&pre).map(drop),
        "groups" => groups::GuestIndices::new(&pre).map(drop),
        "managers" => managers::GuestIndices::new(&pre).map(drop),
        "search" => search::GuestIndices::new(&pre).map(drop),
        "lifecycle" => lifecycle::GuestIndices::new(&pre).map(drop),
        "find" => find::GuestIndices::new(&pre).map(drop),
        "clients" => clients::GuestIndices::new(&pre).map(drop),
        "certificates" => certificates::GuestIndices::new(&pre).map(drop),
        "scim" => scim::GuestIndices::new(&pre).map(drop),
        other => bail!("no slot named {other}"),
    };
    found.map_err(|e| anyhow!("its export does not match the slot's interface: {e:#}"))
}

/// The linker of a slot: WASI (Rust's std needs it; the context has no files, network or
/// environment: see `Plugins::call`; waits end at the call's deadline: see `bounded_wait`),
/// `config`, `log`, and the store interfaces the slot may import.
fn linker(engine: &Engine, slot: &str) -> Result<Linker<GuestState>> {
    use crate::contract::iam::plugin::{
        account_lifecycle, account_touch, account_writer, accounts, attribute_store,
        authority_store, authority_writer, certificate_store, client_store, config, group_store,
        group_writer, label_store, log, manager_store, membership_store,
    };
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    // A guest may wait (sleep, poll a timer) only until its deadline.
    bounded_wait::shadow_poll(&mut linker)?;
    for iface in slot_check::imports_of(slot) {
        let l = &mut linker;
        match *iface {
            "types" => Ok(()),
            "config" => config::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "log" => log::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "accounts" => accounts::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "account-touch" => account_touch::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "account-lifecycle" => {
                account_lifecycle::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s)
            }
            "account-writer" => account_writer::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "group-writer" => group_writer::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "authority-writer" => {
                authority_writer::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s)
            }
            "manager-store" => manager_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "attribute-store" => attribute_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "authority-store" => authority_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "group-store" => group_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "label-store" => label_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "membership-store" => {
                membership_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s)
            }
            "client-store" => client_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s),
            "certificate-store" => {
                certificate_store::add_to_linker::<_, HasSelf<GuestState>>(l, |s| s)
            }
            other => unreachable!("no store interface named {other}"),
        }?;
    }
    Ok(linker)
}

/// Components compiled so far in one load, by source.
#[derive(Default)]
struct Compiled(HashMap<String, (Component, String)>);

/// What loading a plugin set needs along the way.
struct LoadCtx<'a> {
    engine: &'a Engine,
    compiled: &'a mut Compiled,
    cache: &'a cache::Cache,
    stats: &'a Stats,
}

impl LoadCtx<'_> {
    /// Reads, checks against the contract and compiles (or reuses) a slot's component.
    fn slot<I: Loadable>(
        &mut self,
        name: &'static str,
        spec: &PluginSpec,
        handler: bool,
    ) -> Result<Slot<I>> {
        let (label, bytes) = component_bytes(name, spec, handler)?;
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
        // The shadow policy fills a policy slot.
        let kind = if name == "policy_shadow" {
            "policy"
        } else {
            name
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
                .unwrap_or_else(|| slot_check::VERSION.into()),
            pre,
            indices,
            deadline: spec.deadline,
            deadline_ticks: (spec.deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64,
            memory_bytes: spec.memory_bytes,
            settings: Arc::new(spec.settings.clone()),
            stats: self.stats.slot(name),
        })
    }
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
