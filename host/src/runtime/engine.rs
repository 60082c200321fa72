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

/// Set (to anything) to write `/tmp/perf-<pid>.map`, so that `perf` names adapter functions.
pub const PERFMAP_VAR: &str = "JACK_PMS_PERFMAP";

/// Address space the pool's linear memories may reserve before the engine gives up on
/// bounds-check-free memories (a 64-bit process has 128 TiB).
const ADDRESS_BUDGET: u64 = 16 << 40;

/// How each pool slot's linear memory is laid out in virtual memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MemoryLayout {
    reservation: u64,
    guard: u64,
}

impl MemoryLayout {
    /// A 32-bit wasm address plus a static offset can never leave a 4 GiB reservation followed
    /// by a guard region, so the compiled code needs no bounds check on each load and store
    /// (for an adapter mapping a page of JSON, a fifth of the call's time). It costs only
    /// address space, never memory: the cap on what an instance may use is the pool's
    /// `max_memory_size`. When `memories` such slots would not fit the budget, each is reserved
    /// at its cap instead, and cranelift emits explicit bounds checks.
    fn for_pool(memories: u32, max_memory_bytes: u64) -> MemoryLayout {
        const FOUR_GIB: u64 = 1 << 32;
        const GUARD: u64 = 32 << 20;
        let unchecked = MemoryLayout {
            reservation: FOUR_GIB,
            guard: GUARD,
        };
        if max_memory_bytes <= FOUR_GIB
            && u64::from(memories).saturating_mul(FOUR_GIB + GUARD) <= ADDRESS_BUDGET
        {
            unchecked
        } else {
            MemoryLayout {
                reservation: max_memory_bytes.next_power_of_two(),
                guard: 64 << 10,
            }
        }
    }
}

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
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    let layout = MemoryLayout::for_pool(max_instances * MEMORIES_PER_COMPONENT, max_memory_bytes);
    config
        .memory_reservation(layout.reservation)
        .memory_guard_size(layout.guard)
        // A pool slot never moves, so compiled code may keep the memory's base in a register
        // across calls and loops instead of reloading it.
        .memory_may_move(false);
    tracing::debug!(
        reservation = layout.reservation,
        guard = layout.guard,
        "linear memory layout"
    );
    if std::env::var_os(PERFMAP_VAR).is_some() {
        // For `perf record`: names the JIT code of adapters by their Rust symbols.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_are_unchecked_while_the_pool_fits_the_address_budget() {
        let default_pool = MemoryLayout::for_pool(64 * MEMORIES_PER_COMPONENT, 64 << 20);
        assert_eq!(default_pool.reservation, 1 << 32);
        assert_eq!(default_pool.guard, 32 << 20);

        // 10,000 instances x 2 memories x 4 GiB would not fit: reserved at the cap instead.
        let huge_pool = MemoryLayout::for_pool(10_000 * MEMORIES_PER_COMPONENT, 48 << 20);
        assert_eq!(huge_pool.reservation, 64 << 20);
        assert_eq!(huge_pool.guard, 64 << 10);
    }
}
