//! The host side of the adapter's imports, one module per WIT interface (Spin's "factors").
//!
//! Each module offers a per-call `Ctx`, kept in the call's store, with the capability's logic in
//! plain Rust. The generated WIT traits are implemented in `runtime::wit::since_v*`, which
//! converts the generated types and delegates here, so a new WIT version reuses this code.

pub mod config;
pub mod http;
pub mod log;
