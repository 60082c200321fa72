//! Durable write acceptance through the HTTP API: `POST …/notes` with bearer auth, the outbox
//! row and its audit row in one SQLite transaction (WAL, `synchronous=FULL`: fsync before the
//! answer), group-committed. Two phases, printed side by side:
//! - queued: the PMS answers 503, so every write is stored and answered 202 (pure acceptance);
//! - applied: the PMS answers 200, so each write is stored, sent through the sandboxed adapter,
//!   and its outcome stored again before the 200.
//!
//! Then the same acceptance on PostgreSQL (a scratch database on the server every machine of this
//! project runs, fsync and `synchronous_commit` on, as the server is configured): one host, and
//! three hosts in this process sharing the database, the load spread over them; and the latency
//! of one replay claim (queued → pending, with its audit row) on PostgreSQL.
//!
//! `cargo bench -p jack-pms-host --bench write_throughput`

use jack_pms_host::config::Config;
use jack_pms_host::db::{Db, Location};
use jack_pms_host::egress::{EgressError, PreparedRequest, RawResponse, Transport};
use jack_pms_host::vault::master_key::MasterKey;
use jack_pms_host::vault::store::Vault;
use std::future::Future;
use std::net::SocketAddr;
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
        report(&client_rt, phase, hotel, vec![api_addr]);
    }

    // PostgreSQL: one host, then three sharing the database.
    let scratch = match server_rt.block_on(jack_pms_host::db::scratch::ScratchDb::create()) {
        Ok(db) => db,
        Err(e) => {
            println!("PostgreSQL phases skipped: no server ({e})");
            return;
        }
    };
    let key = MasterKey::generate().to_base64().as_str().to_owned();
    let location = Location::Postgres(scratch.url().into());
    let start_host = |node: &str| {
        let mut config = config.clone();
        config.state.node_id = node.to_owned();
        let (location, key) = (location.clone(), key.clone());
        server_rt.block_on(async move {
            let db = Db::open(&location).await.expect("open PostgreSQL");
            let vault = Vault::from_db(db, MasterKey::parse(&key).expect("key"))
                .await
                .expect("vault");
            support::serve_api_with(&config, Arc::new(Pms), vault).await
        })
    };
    let first = start_host("bench-a");
    println!("PostgreSQL {}:", location.describe());
    report(&client_rt, "1 host, queued (202)", "Q", vec![first]);
    let hosts = vec![first, start_host("bench-b"), start_host("bench-c")];
    report(&client_rt, "3 hosts, queued (202)", "Q", hosts);
    server_rt.block_on(claim_latency(&location, &key));
}

/// Closed-loop load of note writes to `hotel`, spread over `hosts`; prints one line.
fn report(rt: &tokio::runtime::Runtime, phase: &str, hotel: &'static str, hosts: Vec<SocketAddr>) {
    let figures = rt.block_on(support::load(
        CONNECTIONS,
        ROUND,
        move |client, worker, n| {
            // One reservation per connection keeps each connection's writes in order without
            // one connection waiting on another's queue.
            let api = hosts[worker % hosts.len()];
            client
                .post(format!(
                    "http://{api}/v1/hotels/{hotel}/reservations/R{worker}/notes"
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

/// How long the replay worker's claim of one queued write takes on PostgreSQL (one transaction:
/// the state lock, the compare-and-set, the audit row), one claim at a time.
async fn claim_latency(location: &Location, key: &str) {
    use jack_pms_host::state::State;
    use jack_pms_host::state::audit::AuditEntry;
    use jack_pms_host::state::outbox::{NewWrite, WriteRequest, WriteState};
    use jack_pms_host::state::writer::Transition;
    const CLAIMS: usize = 500;
    let db = Db::open(location).await.expect("open");
    let vault = Vault::from_db(db, MasterKey::parse(key).expect("key"))
        .await
        .expect("vault");
    let state = State::open(&vault, "bench-claims").await.expect("state");
    let writer = state.writer();
    for i in 0..CLAIMS {
        writer
            .accept(NewWrite {
                id: format!("claim-{i}"),
                hotel: "Q".into(),
                request: WriteRequest::AddReservationNote {
                    confirmation_number: format!("C{i}"),
                    note: "a note".into(),
                },
                idempotency_key: None,
                caller: "bench".into(),
                state: WriteState::Queued,
                queued_because: None,
            })
            .await
            .expect("accept");
    }
    let mut took = Vec::with_capacity(CLAIMS);
    for i in 0..CLAIMS {
        let id = format!("claim-{i}");
        let started = std::time::Instant::now();
        let claimed = writer
            .transition(Transition {
                id: id.clone(),
                from: vec![WriteState::Queued],
                to: WriteState::Pending,
                verify: false,
                count_attempt: false,
                fenced: false,
                reset_attempts: false,
                next_attempt_at: chrono::Utc::now(),
                error: None,
                pms_reference: None,
                audit: AuditEntry {
                    actor: "replay".into(),
                    hotel: "Q".into(),
                    operation: "addReservationNote".into(),
                    operation_id: id,
                    target: format!("reservation:C{i}"),
                    event: "replay",
                    attempt: Some(1),
                    outcome: "pending".into(),
                    detail: None,
                    pms_request_id: None,
                },
            })
            .await
            .expect("claim");
        assert!(claimed);
        took.push(started.elapsed());
    }
    took.sort();
    let pct = |p: usize| took[(took.len() * p / 100).min(took.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "replay claim on PostgreSQL: p50 {:.2} ms  p99 {:.2} ms  ({CLAIMS} claims, one at a time)",
        pct(50),
        pct(99)
    );
}
