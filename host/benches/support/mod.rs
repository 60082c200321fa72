//! What the HTTP benchmarks share: the workspace root, token hashing, and a closed-loop load
//! generator that reports requests per second and latency percentiles.
#![allow(dead_code)]

use jack_pms_host::app::App;
use jack_pms_host::config::Config;
use jack_pms_host::egress::{Egress, EgressError, Policy, PreparedRequest, RawResponse, Transport};
use jack_pms_host::service::Service;
use jack_pms_host::vault::Secret;
use jack_pms_host::vault::master_key::MasterKey;
use jack_pms_host::vault::store::Vault;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root")
        .to_path_buf()
}

/// Common start of a bench binary: `None` when cargo only lists benchmarks (`--list`);
/// otherwise sets environment variable `secret_var` (the hotels' PMS key, read by the host's
/// environment secret backend) and returns the directory of the built adapters.
pub fn start(secret_var: &str, secret: &str) -> Option<PathBuf> {
    if std::env::args().any(|a| a == "--list") {
        return None;
    }
    let adapters = root().join("target/adapters");
    assert!(
        adapters.join("mock.wasm").exists(),
        "run ./adapters/build.sh first"
    );
    // SAFETY: called first thing in `main`, before any other thread exists.
    unsafe { std::env::set_var(secret_var, secret) };
    Some(adapters)
}

/// Serves the host for `config` on an ephemeral loopback port, its PMS answered by `transport`
/// in-process and its state in a new vault at `state`. Call inside a tokio runtime.
pub async fn serve_api(config: &Config, transport: Arc<dyn Transport>, state: &Path) -> SocketAddr {
    let vault = Vault::open(state, MasterKey::generate())
        .await
        .expect("vault");
    serve_api_with(config, transport, vault).await
}

/// As [`serve_api`], over a vault of the caller's (several hosts on one PostgreSQL database).
pub async fn serve_api_with(
    config: &Config,
    transport: Arc<dyn Transport>,
    vault: Vault,
) -> SocketAddr {
    // The coordination the config asks for (in process, or shared through Redis).
    let vault = Arc::new(vault);
    let coordination = App::coordination(config, &vault)
        .await
        .expect("coordination");
    let egress =
        Arc::new(coordination.egress(Egress::with_transport(Policy::default(), transport)));
    let app = App::build_coordinated(config, egress, vault, coordination)
        .await
        .expect("app");
    let api = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = api.local_addr().expect("addr");
    tokio::spawn(app.serve(api, std::future::pending()));
    addr
}

/// The answer function of [`canned_service`]: every outbound request the adapter (or the host's
/// OAuth client) makes, answered in-process.
pub type Answer = dyn Fn(&PreparedRequest) -> RawResponse + Send + Sync + 'static;

struct Canned(Box<Answer>);

impl Transport for Canned {
    fn send(
        &self,
        request: PreparedRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RawResponse, EgressError>> + Send + '_>> {
        let response = (self.0)(&request);
        Box::pin(async move { Ok(response) })
    }
}

/// A 200 JSON response with `body`.
pub fn json_response(body: impl Into<Vec<u8>>) -> RawResponse {
    RawResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    }
}

/// A service with one hotel `B1` using `adapter` (from `target/adapters`, built when missing)
/// with `settings` (a YAML flow map), each secret of `secrets` set in the vault to a dummy value,
/// rate limits lifted (the benchmarks measure the sandbox, not the policy), and every outbound
/// request answered in-process by `answer`. Returns the runtime it runs on (two workers), the
/// service and the directory holding its state.
pub fn canned_service(
    adapter: &str,
    settings: &str,
    secrets: &[&str],
    answer: impl Fn(&PreparedRequest) -> RawResponse + Send + Sync + 'static,
) -> (tokio::runtime::Runtime, Arc<Service>, tempfile::TempDir) {
    let adapters = root().join("target/adapters");
    if !adapters.join(format!("{adapter}.wasm")).exists() {
        let ok = std::process::Command::new("bash")
            .arg(root().join("adapters/build.sh"))
            .status()
            .expect("run adapters/build.sh");
        assert!(ok.success(), "adapters/build.sh failed");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let secret_refs = secrets
        .iter()
        .map(|name| format!("{name}: {{ vault: {name} }}"))
        .collect::<Vec<_>>()
        .join(", ");
    let yaml = format!(
        "server:\n  tokens:\n    - name: bench\n      sha256: {zeros}\nadapters:\n  dir: {dir}\n  cacheDir: {cache}\n  allowUnpinned: true\n\
         hotels:\n  - id: B1\n    adapter: {adapter}\n    settings: {settings}\n    secrets: {{ {secret_refs} }}\n    rateLimits: [{{ requests: 1000000000, perSeconds: 1, scope: hotel }}]\n",
        zeros = "0".repeat(64),
        dir = adapters.display(),
        cache = dir.path().join("compiled").display(),
    );
    let config = Config::from_yaml(&yaml, Path::new("bench.yaml")).expect("bench config");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let egress = Arc::new(Egress::with_transport(
        Policy::default(),
        Arc::new(Canned(Box::new(answer))),
    ));
    let service = rt.block_on(async {
        let vault = Vault::open(&dir.path().join("state.db"), MasterKey::generate())
            .await
            .expect("vault");
        for name in secrets {
            vault
                .set(
                    "B1",
                    name,
                    &Secret::new(format!("bench-{name}-0123456789abcdef")),
                )
                .await
                .expect("bench secret");
        }
        App::build_with(&config, egress, Arc::new(vault))
            .await
            .expect("app")
            .service
            .clone()
    });
    (rt, service, dir)
}

/// The host's half of mapping one reservation, as the runtime does it for a component's
/// answer: the model's status enum and the vendor-prefixed guest id. The mapping benchmarks add
/// it to their native side so that both sides do the same work.
pub fn host_half(vendor: &str, r: jack_pms_sdk::Reservation) -> jack_pms_host::model::Reservation {
    use jack_pms_host::model::ReservationStatus as S;
    use jack_pms_sdk::ReservationStatus as W;
    jack_pms_host::model::Reservation {
        id: r.id,
        confirmation_number: r.confirmation_number,
        guest_id: format!("{vendor}:{}", r.guest_pms_id),
        guest_name: r.guest_name,
        status: match r.status {
            W::Reserved => S::Reserved,
            W::CheckedIn => S::CheckedIn,
            W::CheckedOut => S::CheckedOut,
            W::Cancelled => S::Cancelled,
            W::NoShow => S::NoShow,
        },
        arrival_date: r.arrival_date,
        departure_date: r.departure_date,
        checkout_time: r.checkout_time,
        room_number: r.room_number,
        room_type: r.room_type,
        adults: r.adults,
        children: r.children,
        notes: r.notes,
    }
}

/// Hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// What one load round measured.
pub struct Figures {
    /// Successful requests per second.
    pub rps: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Failed requests.
    pub errors: usize,
    /// Responses by status code.
    pub statuses: std::collections::BTreeMap<u16, usize>,
}

/// `connections` keep-alive clients sending `request(client, n)` (n counts up per client) for
/// `round`; 2xx answers count as successes.
pub async fn load<F>(connections: usize, round: Duration, request: F) -> Figures
where
    F: Fn(&reqwest::Client, usize, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    let request = std::sync::Arc::new(request);
    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let (client, request) = (client.clone(), request.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut statuses = std::collections::BTreeMap::new();
                let mut n = 0;
                while started.elapsed() < round {
                    let t = Instant::now();
                    match request(&client, worker, n).send().await {
                        Ok(r) => {
                            *statuses.entry(r.status().as_u16()).or_insert(0) += 1;
                            if r.status().is_success() {
                                let _ = r.bytes().await;
                                latencies.push(t.elapsed());
                            } else {
                                errors += 1;
                            }
                        }
                        Err(_) => errors += 1,
                    }
                    n += 1;
                }
                (latencies, errors, statuses)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    let mut statuses = std::collections::BTreeMap::new();
    for w in workers {
        let (l, e, s) = w.await.expect("worker");
        all.extend(l);
        errors += e;
        for (k, v) in s {
            *statuses.entry(k).or_insert(0) += v;
        }
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        rps: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
        statuses,
    }
}
