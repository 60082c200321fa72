//! [`CallState`], the data of one call's `Store`: the per-call context of each capability, the
//! WASI context and the resource limiter. Built fresh for every call and dropped with it.

use crate::capabilities::{config, http, log};
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The `T` of `Store<T>`.
pub struct CallState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) http: http::Ctx,
    pub(crate) log: log::Ctx,
    pub(crate) config: config::Ctx,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory (and table) growth, and remembers that it refused, so that the trap the
/// guest then raises can be reported as what it is: the memory limit.
#[derive(Debug)]
pub struct MemoryLimiter {
    /// Largest linear memory, bytes.
    pub max_memory: usize,
    /// Set when a growth was refused.
    pub refused: bool,
}

/// Largest table the guest may grow to (elements).
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.refused = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}
