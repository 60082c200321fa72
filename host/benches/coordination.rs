//! What coordinating through Redis (the project's, 127.0.0.1:6379) costs, measured beside the
//! in-process default in the same run:
//! - one rate-limit admission: µs per call, sequential and with 32 callers at once;
//! - cached reads through the HTTP API: one host in process, one host on Redis, and three
//!   hosts on Redis with the load spread over them. The steady state is first-level hits, which
//!   must not touch Redis. (Each bench host has a vault of its own, so what one seals in Redis
//!   does not open on another: each host's first read goes to the canned PMS.)
//!
//! `cargo bench -p jack-pms-host --bench coordination`

use jack_pms_host::config::Config;
use jack_pms_host::config::RedisSettings;
use jack_pms_host::coordination::Coordination;
use jack_pms_host::egress::limits::{RateLimit, RateLimiter, RateLimits, RateScope};
use jack_pms_host::egress::{EgressError, PreparedRequest, RawResponse, Transport};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Figures, sha256_hex};

mod support;

const TOKEN: &str = "bench-token";
const CONNECTIONS: usize = 32;
const ROUND: Duration = Duration::from_secs(4);
const GUEST: &str = r#"{"id":"G1001","givenName":"Sarah","surname":"Chen","emails":[{"address":"sarah.chen@example.com","primary":true}],"vip":true}"#;

struct Canned;

impl Transport for Canned {
    fn send(
        &self,
        _r: PreparedRequest,
    ) -> Pin<Box<dyn Future<Output = Result<RawResponse, EgressError>> + Send + '_>> {
        Box::pin(async {
            Ok(RawResponse {
                status: 200,
                headers: vec![],
                body: GUEST.as_bytes().to_vec(),
            })
        })
    }
}

/// µs per admission: `n` sequential calls, then `n` over 32 concurrent callers (admissions/s).
async fn admissions(limits: Arc<dyn RateLimiter>, n: usize) -> (f64, f64) {
    let limit = RateLimit {
        requests: 1_000_000,
        per: Duration::from_secs(1),
        scope: RateScope::Hotel,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    let started = Instant::now();
    for _ in 0..n {
        assert!(limits.acquire("hotel:bench", limit, deadline).await);
    }
    let sequential = started.elapsed().as_secs_f64() * 1e6 / n as f64;
    let started = Instant::now();
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let limits = limits.clone();
            tokio::spawn(async move {
                for _ in 0..n / 32 {
                    assert!(limits.acquire("hotel:bench2", limit, deadline).await);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let per_second = (n / 32 * 32) as f64 / started.elapsed().as_secs_f64();
    (sequential, per_second)
}

fn show(f: &Figures) -> String {
    format!(
        "{:>8.0} req/s (p50 {:>6.2} ms, p99 {:>6.2} ms, {} errors)",
        f.rps,
        f.p50.as_secs_f64() * 1e3,
        f.p99.as_secs_f64() * 1e3,
        f.errors
    )
}

fn main() {
    let Some(adapters) = support::start("JACK_BENCH_KEY", "bench-secret-key-0123456789") else {
        return;
    };
    let prefix = format!("jack-bench-{}", std::process::id());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");

    let (local, shared) = rt.block_on(async {
        let settings = RedisSettings {
            url: secrecy::SecretString::from("redis://127.0.0.1:6379/0".to_owned()),
            key_prefix: prefix.clone(),
            timeout: Duration::from_millis(250),
        };
        let redis = Coordination::redis(&settings, "bench", &zeroize::Zeroizing::new([3u8; 32]))
            .await
            .expect("redis");
        let local = admissions(Arc::new(RateLimits::default()), 20_000).await;
        let shared = admissions(redis.limits.clone(), 5_000).await;
        (local, shared)
    });
    println!(
        "rate-limit admission: in process {:.2} µs/call sequential, {:.0}/s with 32 callers | Redis {:.1} µs/call sequential (+{:.1} µs), {:.0}/s with 32 callers",
        local.0,
        local.1,
        shared.0,
        shared.0 - local.0,
        shared.1
    );

    let cache = tempfile::tempdir().expect("tempdir");
    let base = format!(
        "server:\n  tokens:\n    - name: bench\n      sha256: {}\nadapters:\n  dir: {}\n  cacheDir: {}\n  allowUnpinned: true\n\
         hotels:\n  - id: B1\n    adapter: mock\n    settings: {{ baseUrl: \"https://pms.bench.example\", hotelId: B1 }}\n    secrets: {{ apiKey: {{ env: JACK_BENCH_KEY }} }}\n",
        sha256_hex(TOKEN),
        adapters.display(),
        cache.path().display()
    );
    let in_process = Config::from_yaml(&base, Path::new("bench.yaml")).expect("config");
    let on_redis = |node: &str| {
        Config::from_yaml(
            &format!("{base}state:\n  nodeId: {node}\ncoordination:\n  redis: redis://127.0.0.1:6379/0\n  keyPrefix: {prefix}-api\n"),
            Path::new("bench.yaml"),
        )
        .expect("config")
    };
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let (one, three) = server_rt.block_on(async {
        let one =
            support::serve_api(&in_process, Arc::new(Canned), &cache.path().join("one.db")).await;
        let mut three = Vec::new();
        for node in ["a", "b", "c"] {
            three.push(
                support::serve_api(
                    &on_redis(node),
                    Arc::new(Canned),
                    &cache.path().join(format!("{node}.db")),
                )
                .await,
            );
        }
        (one, three)
    });
    let url = |addr: std::net::SocketAddr| format!("http://{addr}/v1/hotels/B1/guests/mock:G1001");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let get = |urls: Vec<String>| {
        client_rt.block_on(support::load(
            CONNECTIONS,
            ROUND,
            move |client, worker, _| client.get(&urls[worker % urls.len()]).bearer_auth(TOKEN),
        ))
    };
    // Warm every host.
    for addr in std::iter::once(one).chain(three.iter().copied()) {
        let _ = client_rt.block_on(async {
            reqwest::Client::new()
                .get(url(addr))
                .bearer_auth(TOKEN)
                .send()
                .await
        });
    }
    for round in 0..2 {
        let single = get(vec![url(one)]);
        let single_redis = get(vec![url(three[0])]);
        let spread = get(three.iter().map(|a| url(*a)).collect());
        println!(
            "round {round}: one host in process {} | one host on Redis {} ratio {:.2} | three hosts on Redis {} ratio {:.2}",
            show(&single),
            show(&single_redis),
            single_redis.rps / single.rps,
            show(&spread),
            spread.rps / single.rps
        );
    }
    println!(
        "(three hosts share this machine's 2 cores with the load generator: their sum is bounded by the cores, not by Redis)"
    );
}
