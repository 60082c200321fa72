//! # jack-pms host
//!
//! Loads sandboxed PMS adapter components and serves Jack's HTTP API. The flow of a request
//! (DESIGN §1):
//!
//! ```text
//! api (axum, bearer auth) ─▶ service (one method per operation)
//!                                │
//!                                ▼
//!                  runtime: fresh component instance per call (limits, deadline)
//!                                │ guest calls the `http` import
//!                                ▼
//!   capabilities::http ─▶ egress: allowlist → forbidden headers → credentials → address policy
//!                                → redirects re-checked → size cap → scrub secrets ─▶ PMS
//! ```
//!
//! Dependencies point one way: `api`, `cli` → `service` → `runtime` → `capabilities` → `egress`
//! → `vault`. Nothing in `egress` uses wasmtime; nothing below `api` uses axum (the mock PMS is a
//! separate development server).
#![deny(missing_docs)]

pub mod api;
pub mod app;
pub mod cache;
pub mod capabilities;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod conformance;
pub mod console;
pub mod coordination;
pub mod db;
pub mod egress;
pub mod events;
pub mod manifest;
pub mod metrics;
pub mod mock_pms;
pub mod model;
pub mod operation;
pub mod outage;
pub mod report;
pub mod review;
pub mod runtime;
pub mod service;
pub mod staff;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod untrusted;
pub mod vault;
pub mod zone;
