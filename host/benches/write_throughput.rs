//! Durable write acceptance through the HTTP API: `POST …/notes` with bearer auth, the outbox
//! row and its audit row in one SQLite transaction (WAL, `synchronous=FULL`: fsync before the
//! answer), group-committed. Two phases, printed side by side:
//! - queued: the PMS answers 503, so every write is stored and answered 202 (pure acceptance);
//! - applied: the PMS answers 200, so each write is stored, sent through the sandboxed adapter,
//!   and its outcome stored again before the 200.
//!
//! `cargo bench -p jack-pms-host --bench write_throughput`

use jack_pms_host::config::Config;
use jack_pms_host::egress::{EgressError, PreparedRequest, RawResponse, Transport};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use support::sha256_hex;

mod support;

const TOKEN: &str = "bench-token";
const CONNECTIONS: usize = 64;
const ROUND: Duration = Duration::from_secs(5);

/// A PMS that refuses writes for hotel Q (503) and accepts them for hotel A.
struct Pms;

impl Transport for Pms {
    fn send(
        &self,
        r: PreparedRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RawResponse, EgressError>> + Send + '_>> {
        let down = r.url.as_str().contains("pms-q.bench.example");
        Box::pin(async move {
            Ok(if down {
                RawResponse {
                    status: 503,
                    headers: vec![],
                    body: b"{\"error\":\"maintenance\"}".to_vec(),
                }
            } else {
                RawResponse {
                    status: 200,
                    headers: vec![],
                    body: b"{\"requestId\":\"bench-req\"}".to_vec(),
                }
            })
        })
    }
}

fn main() {
    let Some(adapters) = support::start("JACK_BENCH_KEY", "bench-secret-key-0123456789") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let hotel = |id: &str, host: &str| {
        format!(
            "  - id: {id}\n    adapter: mock\n    settings: {{ baseUrl: \"https://{host}\", hotelId: {id} }}\n    secrets: {{ apiKey: {{ env: JACK_BENCH_KEY }} }}\n    rateLimits: [{{ requests: 1000000, perSeconds: 1, scope: hotel }}]\n"
        )
    };
    let yaml = format!(
        "server:\n  tokens:\n    - name: bench\n      sha256: {}\nadapters:\n  dir: {}\n  cacheDir: {}\n  allowUnpinned: true\n\
         outbox:\n  initialDelayMs: 30000\n  maxDelayMs: 30000\nhotels:\n{}{}",
        sha256_hex(TOKEN),
        adapters.display(),
        dir.path().join("compiled").display(),
        hotel("Q", "pms-q.bench.example"),
        hotel("A", "pms-a.bench.example"),
    );
    let config = Config::from_yaml(&yaml, Path::new("bench.yaml")).expect("config");
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let state_path = dir.path().join("state.db");
    let api_addr = server_rt.block_on(support::serve_api(&config, Arc::new(Pms), &state_path));
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    println!(
        "{CONNECTIONS} connections, {} s per phase, state file {} (WAL, synchronous=FULL)",
        ROUND.as_secs(),
        state_path.display()
    );
    for (phase, hotel) in [
        ("queued (PMS down, 202)", "Q"),
        ("applied (PMS up, 200)", "A"),
    ] {
        let figures = client_rt.block_on(support::load(
            CONNECTIONS,
            ROUND,
            move |client, worker, n| {
                // One reservation per connection keeps each connection's writes in order
                // without one connection waiting on another's queue.
                client
                    .post(format!(
                        "http://{api_addr}/v1/hotels/{hotel}/reservations/R{worker}/notes"
                    ))
                    .bearer_auth(TOKEN)
                    .json(&serde_json::json!({ "note": format!("Guest asked for extra towels, #{n}") }))
            },
        ));
        println!(
            "{phase:<24} {:>8.0} writes/s  p50 {:>6.2} ms  p99 {:>6.2} ms  errors {}  statuses {:?}",
            figures.rps,
            figures.p50.as_secs_f64() * 1e3,
            figures.p99.as_secs_f64() * 1e3,
            figures.errors,
            figures.statuses
        );
    }
}
