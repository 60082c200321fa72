//! Per-call cost of the sandbox: a fresh instance of the mock adapter plus one `get-guest`, with
//! its `http` import answered in-process (no network), against the same mapping done natively;
//! and the time to load an adapter whose compiled artefact is cached on disk. The benchmark hotel
//! lifts the manifest's 100-per-minute rate limit: this measures the sandbox, not the policy.
//!
//! `cargo bench -p jack-pms-host --bench call`

use criterion::{Criterion, criterion_group, criterion_main};
use jack_pms_host::app::App;
use jack_pms_host::config::Config;
use jack_pms_host::egress::{EgressError, Policy, PreparedRequest, RawResponse, Transport};
use jack_pms_host::model::GuestIdentifier;
use jack_pms_host::operation::{Call, Outcome};
use jack_pms_host::vault::master_key::MasterKey;
use jack_pms_host::vault::store::Vault;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use support::root;

mod support;

const GUEST: &str = r#"{"id":"G1001","givenName":"Sarah","surname":"Chen",
"emails":[{"address":"sarah.chen@example.com","primary":true}],
"phones":[{"number":"+31612345678","primary":true}],"membershipLevel":"GOLD","language":"en","vip":true,
"preferences":[{"group":"PILLOW","code":"FEATHER","text":"Feather pillows"},{"group":"FLOOR","code":"HIGH"}]}"#;

/// Answers every request with the guest, in-process.
struct Canned;

impl Transport for Canned {
    fn send(
        &self,
        _request: PreparedRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RawResponse, EgressError>> + Send + '_>> {
        Box::pin(async {
            Ok(RawResponse {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: GUEST.as_bytes().to_vec(),
            })
        })
    }
}

fn config(cache: &Path) -> Config {
    let adapters = root().join("target/adapters");
    if !adapters.join("mock.wasm").exists() {
        let ok = std::process::Command::new("bash")
            .arg(root().join("adapters/build.sh"))
            .status()
            .expect("run adapters/build.sh");
        assert!(ok.success(), "adapters/build.sh failed");
    }
    let yaml = format!(
        "server:\n  tokens:\n    - name: bench\n      sha256: {zeros}\nadapters:\n  dir: {dir}\n  cacheDir: {cache}\n  allowUnpinned: true\n\
         hotels:\n  - id: B1\n    adapter: mock\n    settings: {{ baseUrl: \"https://pms.bench.example\", hotelId: B1 }}\n    secrets: {{ apiKey: {{ env: JACK_BENCH_KEY }} }}\n    rateLimits: [{{ requests: 1000000000, perSeconds: 1, scope: hotel }}]\n",
        zeros = "0".repeat(64),
        dir = adapters.display(),
        cache = cache.display(),
    );
    Config::from_yaml(&yaml, Path::new("bench.yaml")).expect("bench config")
}

fn native_mapping(body: &[u8]) -> jack_pms_host::model::Guest {
    let wire: mock::wire::WireGuest = serde_json::from_slice(body).expect("guest json");
    let g = wire.into_common();
    // The host's half of the mapping, as the runtime does it.
    jack_pms_host::model::Guest {
        id: format!("mock:{}", g.pms_id),
        external_ids: jack_pms_host::model::ExternalIds { pms: g.pms_id },
        first_name: g.first_name,
        last_name: g.last_name,
        email: g.email,
        phone: g.phone,
        loyalty_tier: g.loyalty_tier,
        language: g.language,
        vip: g.vip,
        preferences: g
            .preferences
            .into_iter()
            .map(|p| jack_pms_host::model::Preference {
                category: p.category,
                code: p.code,
                description: p.description,
            })
            .collect(),
    }
}

fn benches(c: &mut Criterion) {
    // SAFETY: set before any other thread exists; the bench reads it through the host's env backend.
    unsafe { std::env::set_var("JACK_BENCH_KEY", "bench-secret-key-0123456789") };
    let cache = tempfile::tempdir().expect("tempdir");
    let config = config(cache.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio");
    let egress = Arc::new(jack_pms_host::egress::Egress::with_transport(
        Policy::default(),
        Arc::new(Canned),
    ));
    let app = rt
        .block_on(async {
            let vault = Vault::open(&cache.path().join("state.db"), MasterKey::generate())
                .await
                .expect("vault");
            App::build_with(&config, egress, Arc::new(vault)).await
        })
        .expect("app");
    let service = app.service.clone();
    let call = || Call::GetGuest(GuestIdentifier::Id("G1001".into()));

    // Check once that the call really maps the guest.
    match rt.block_on(service.call("B1", call())) {
        Ok(Outcome::Guest(Some(g))) => assert_eq!(g.id, "mock:G1001"),
        other => panic!("unexpected: {other:?}"),
    }
    assert_eq!(native_mapping(GUEST.as_bytes()).id, "mock:G1001");

    let mut group = c.benchmark_group("per-call");
    group.bench_function(
        "sandboxed get-guest (fresh instance + call + in-process http)",
        |b| {
            b.to_async(&rt)
                .iter(|| async { service.call("B1", call()).await.expect("call") })
        },
    );
    group.bench_function("native mapping (same JSON, same mapping)", |b| {
        b.iter(|| native_mapping(std::hint::black_box(GUEST.as_bytes())))
    });
    group.finish();

    // A read answered from the cache, inside the engine (no HTTP): key, lookup, clone, envelope.
    rt.block_on(service.get_guest("B1", "mock:G1001"))
        .expect("warm the cache");
    c.bench_function("cached read inside the engine (getGuest)", |b| {
        b.to_async(&rt).iter(|| async {
            let read = service.get_guest("B1", "mock:G1001").await.expect("read");
            assert!(matches!(
                read.meta.source,
                jack_pms_host::service::Source::Cache
            ));
            read
        })
    });

    let runtime = service.runtime().clone();
    c.bench_function("load mock adapter from the compiled-artefact cache", |b| {
        b.iter(|| {
            let loaded = runtime.load_uncached("mock").expect("load");
            assert!(loaded.from_cache);
            loaded
        })
    });
}

criterion_group!(name = call; config = Criterion::default().sample_size(50); targets = benches);
criterion_main!(call);
