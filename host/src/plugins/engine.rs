//! The engine every plugin set runs on, and the limits a guest runs under: the instance
//! pool, the epoch that counts deadlines, the memory cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Result;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter};

/// How often the engine's epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);
/// Bytes of each linear memory and table kept resident between instances.
const KEEP_RESIDENT: usize = 256 << 10;
/// Instances that may exist at once (the pool is reserved up front).
pub const MAX_INSTANCES: u32 = 256;

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

/// A deadline in epoch ticks (at least one).
pub fn deadline_ticks(deadline: Duration) -> u64 {
    (deadline.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] until `stop` is set.
pub fn spawn_epoch_ticker(engine: Engine, stop: Arc<AtomicBool>) {
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

/// Caps linear memory and remembers that the cap was hit, so the failure can say so.
pub struct MemoryLimiter {
    max_bytes: usize,
    pub hit: bool,
}

impl MemoryLimiter {
    pub fn new(max_bytes: usize) -> MemoryLimiter {
        MemoryLimiter {
            max_bytes,
            hit: false,
        }
    }
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
