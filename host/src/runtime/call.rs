//! One call: a fresh `Store` and instance from the adapter's `InstancePre`, the limits of
//! DESIGN §4 (memory, epoch deadline plus an async timeout around host calls, request count,
//! response size), and the translation of traps into clear errors. The instance is dropped with
//! the store whatever happens, so a trapped or timed-out guest leaves nothing behind.

use super::engine;
use super::state::{CallState, MemoryLimiter};
use super::{HotelBinding, wasi};
use crate::capabilities::{config, http, log};
use crate::egress::Egress;
use crate::model::PmsError;
use crate::operation::{Call, Operation, Outcome};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, Trap};

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The adapter answered with a `pms-error`.
    #[error(transparent)]
    Pms(#[from] PmsError),
    /// The adapter trapped (panic, abort, stack overflow …).
    #[error("adapter `{adapter}` trapped during {operation}: {reason}")]
    Trap {
        /// Adapter.
        adapter: String,
        /// Operation.
        operation: Operation,
        /// What happened.
        reason: String,
    },
    /// The adapter ran past its deadline.
    #[error("adapter `{adapter}` exceeded its deadline of {} ms during {operation}", .deadline.as_millis())]
    Deadline {
        /// Adapter.
        adapter: String,
        /// Operation.
        operation: Operation,
        /// The deadline.
        deadline: Duration,
    },
    /// The adapter tried to use more memory than allowed.
    #[error("adapter `{adapter}` exceeded its memory limit of {} MiB during {operation}", .limit_bytes >> 20)]
    Memory {
        /// Adapter.
        adapter: String,
        /// Operation.
        operation: Operation,
        /// The limit.
        limit_bytes: u64,
    },
    /// The adapter tried to move more data into the host in one transfer (its result, or the
    /// arguments of one import call) than `maxResultBytes` allows.
    #[error(
        "adapter `{adapter}` tried to hand the host more than {limit_bytes} bytes at once during {operation} (maxResultBytes)"
    )]
    TooMuchData {
        /// Adapter.
        adapter: String,
        /// Operation.
        operation: Operation,
        /// The limit.
        limit_bytes: u64,
    },
    /// No instance could be created (pool exhausted, instantiation trap).
    #[error("adapter `{adapter}` could not be instantiated: {reason}")]
    Instantiate {
        /// Adapter.
        adapter: String,
        /// Why.
        reason: String,
    },
    /// The adapter returned data that breaks the contract.
    #[error("adapter `{adapter}` returned invalid data for {operation}: {reason}")]
    InvalidOutput {
        /// Adapter.
        adapter: String,
        /// Operation.
        operation: Operation,
        /// What is wrong.
        reason: String,
    },
    /// The circuit breaker is open after repeated traps.
    #[error("adapter `{adapter}` is suspended for {} s after {traps} traps in a row", .retry_after.as_secs())]
    CircuitOpen {
        /// Adapter.
        adapter: String,
        /// Consecutive traps.
        traps: u32,
        /// Time until the next attempt is allowed.
        retry_after: Duration,
    },
}

impl CallError {
    /// True for failures of the sandboxed adapter itself (which count towards the breaker).
    pub fn is_sandbox_failure(&self) -> bool {
        matches!(
            self,
            CallError::Trap { .. }
                | CallError::Deadline { .. }
                | CallError::Memory { .. }
                | CallError::TooMuchData { .. }
        )
    }
}

/// Runs `call` against `binding`'s adapter in a fresh instance, finishing by `deadline` (the
/// call's start plus the adapter's deadline limit).
pub async fn run(
    engine: &Engine,
    egress: &Arc<Egress>,
    binding: &HotelBinding,
    call: Call,
    deadline: tokio::time::Instant,
) -> Result<Outcome, CallError> {
    let adapter = &binding.adapter;
    let operation = call.operation();
    let limits = &binding.limits;
    let budget = log::OutputBudget::new(
        binding.adapter_name.clone(),
        binding.hotel_id.clone(),
        limits.max_log_lines_per_call,
        limits.max_log_bytes_per_call,
    );
    let state = CallState {
        wasi: wasi::context(&budget),
        table: ResourceTable::new(),
        limiter: MemoryLimiter {
            max_memory: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
            refused: false,
        },
        http: http::Ctx {
            egress: egress.clone(),
            destination: binding.destination.clone(),
            sent: 0,
            max_requests: limits.max_requests_per_call,
            options: crate::egress::SendOptions {
                max_response_bytes: limits.max_response_bytes,
                deadline,
                read_only: !operation.is_write(),
            },
        },
        log: log::Ctx { budget },
        config: config::Ctx {
            settings: binding.settings.clone(),
        },
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    // Bounds what the host copies out of the sandbox in one transfer (a result, or one import
    // call's arguments): strings count their bytes, lists their items' host size, so a guest
    // cannot make the host allocate many times its own memory by pointing many strings at one
    // buffer.
    store.set_hostcall_fuel(usize::try_from(limits.max_result_bytes).unwrap_or(usize::MAX));
    store.set_epoch_deadline(engine::ticks(
        deadline.saturating_duration_since(tokio::time::Instant::now()),
    ));
    store.epoch_deadline_trap();

    let deadline_error = || CallError::Deadline {
        adapter: adapter.name.clone(),
        operation,
        deadline: limits.deadline,
    };
    // The epoch deadline stops guest code; this timeout also covers time spent in host calls.
    let outcome =
        match tokio::time::timeout_at(deadline, adapter.adapter.invoke(&mut store, call)).await {
            Err(_) => return Err(deadline_error()),
            Ok(result) => result,
        };
    match outcome {
        Ok(result) => {
            let max_delay = egress.policy().max_retry_after;
            match result.map_err(|e| e.contained(max_delay))? {
                Outcome::Health(mut h) => {
                    h.detail = h.detail.map(|d| crate::untrusted::error_text(&d));
                    Ok(Outcome::Health(h))
                }
                other => Ok(other),
            }
        }
        Err(error) => {
            if store.data().limiter.refused {
                return Err(CallError::Memory {
                    adapter: adapter.name.clone(),
                    operation,
                    limit_bytes: limits.memory_bytes,
                });
            }
            // wasmtime's hostcall-fuel error type is private; its message is stable API text.
            if error.chain().any(|e| {
                e.to_string()
                    .contains("fuel allocated for hostcalls has been exhausted")
            }) {
                return Err(CallError::TooMuchData {
                    adapter: adapter.name.clone(),
                    operation,
                    limit_bytes: limits.max_result_bytes,
                });
            }
            match error.downcast_ref::<Trap>() {
                Some(Trap::Interrupt) => Err(deadline_error()),
                Some(trap) => Err(CallError::Trap {
                    adapter: adapter.name.clone(),
                    operation,
                    reason: describe_trap(*trap),
                }),
                // Every slot of the pooling allocator is taken: not the adapter's fault.
                None if error
                    .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
                    .is_some() =>
                {
                    Err(CallError::Instantiate {
                        adapter: adapter.name.clone(),
                        reason: short_reason(&error),
                    })
                }
                None => {
                    // The full chain (with the guest's wasm backtrace) is for the operator's log,
                    // escaped; the caller gets the root cause in one short line.
                    tracing::warn!(adapter = %adapter.name, %operation, error = %crate::untrusted::escape(&format!("{error:?}"), 16 << 10), "adapter failed outside a plain trap");
                    Err(CallError::Trap {
                        adapter: adapter.name.clone(),
                        operation,
                        reason: short_reason(&error),
                    })
                }
            }
        }
    }
}

/// The root cause of a wasmtime error in one bounded, escaped line: never the wasm backtrace,
/// which names the adapter's internals and can be long.
fn short_reason(error: &wasmtime::Error) -> String {
    let root = error.root_cause().to_string();
    let first = root.lines().next().unwrap_or_default();
    crate::untrusted::escape(first, 512)
}

fn describe_trap(trap: Trap) -> String {
    match trap {
        Trap::StackOverflow => "stack overflow (runaway recursion)".into(),
        Trap::UnreachableCodeReached => {
            "unreachable code reached (the adapter panicked or aborted)".into()
        }
        // Rust guests keep their stack in linear memory: runaway recursion usually ends here.
        Trap::MemoryOutOfBounds => "out-of-bounds memory access (in Rust guests, typically runaway recursion overflowing the stack)".into(),
        Trap::IntegerDivisionByZero => "integer division by zero".into(),
        other => other.to_string(),
    }
}
