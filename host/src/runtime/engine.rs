//! The wasmtime engine: component model, async host calls, the pooling allocator sized from the
//! config, and epoch interruption driven by a ticker thread (the wall-clock deadline).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// One epoch tick. Deadlines are rounded up to whole ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Largest wasm stack a guest may use; deeper recursion traps with "stack overflow".
pub const MAX_WASM_STACK: usize = 1 << 20;

/// Core instances, tables and memories one adapter component may have (a Rust component has a
/// handful: the main module and small shims).
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const TABLES_PER_COMPONENT: u32 = 8;
const MEMORIES_PER_COMPONENT: u32 = 2;

/// Bytes of each pool slot's linear memory kept resident between instances.
const KEEP_RESIDENT: usize = 4 << 20;

/// The engine and its epoch ticker, which stops when this is dropped.
pub struct EngineHandle {
    /// The engine.
    pub engine: Engine,
    stop: Arc<AtomicBool>,
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Builds the engine for `max_instances` concurrent instances whose memories are at most
/// `max_memory_bytes` each.
pub fn build(max_instances: u32, max_memory_bytes: u64) -> wasmtime::Result<EngineHandle> {
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(max_instances)
        .total_core_instances(max_instances * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(max_instances * MEMORIES_PER_COMPONENT)
        .total_tables(max_instances * TABLES_PER_COMPONENT)
        .total_stacks(max_instances)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_memory_size(usize::try_from(max_memory_bytes).unwrap_or(usize::MAX))
        .table_elements(100_000)
        // Reset the first pages of a slot with memset rather than madvise: a fresh instance per
        // call then neither page-faults its stack and heap back in nor triggers TLB shootdowns.
        // A Rust guest's stack alone is 1 MiB. Costs at most this much RSS per slot in use.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 << 10);

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK)
        .async_stack_size(MAX_WASM_STACK + (1 << 20))
        // Linear memories are reserved at their cap (not 4 GiB each), keeping the pool's virtual
        // footprint proportional to what adapters may really use.
        .memory_reservation(if std::env::var_os("JACK_TMP_4G").is_some() {
            1 << 32
        } else {
            max_memory_bytes.next_power_of_two()
        })
        .memory_guard_size(64 << 10)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if std::env::var_os("JACK_PMS_PERFMAP_TMP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config)?;

    let stop = Arc::new(AtomicBool::new(false));
    let weak = engine.weak();
    let flag = stop.clone();
    std::thread::Builder::new()
        .name("jack-pms-epoch".into())
        .spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        })
        .map_err(|e| wasmtime::format_err!("cannot start the epoch ticker: {e}"))?;
    Ok(EngineHandle { engine, stop })
}

/// Epoch ticks for `deadline`, rounded up.
pub fn ticks(deadline: Duration) -> u64 {
    deadline.as_millis().div_ceil(EPOCH_TICK.as_millis()).max(1) as u64
}
