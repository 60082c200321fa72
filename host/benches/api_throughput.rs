//! A cached read through the full HTTP API (bearer auth, routing, cache hit, JSON envelope)
//! against a bare axum handler returning the same JSON, side by side in one run, under the same
//! load: requests per second and latency percentiles. The API runs twice: coordinating in
//! process (one host) and through the project's Redis (127.0.0.1:6379, several hosts; the read
//! is a first-level hit, which must not touch Redis). Prints the figures.
//!
//! `cargo bench -p jack-pms-host --bench api_throughput`

use jack_pms_host::config::Config;
use jack_pms_host::egress::{EgressError, PreparedRequest, RawResponse, Transport};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use support::{Figures, sha256_hex};

mod support;

const GUEST: &str = r#"{"id":"G1001","givenName":"Sarah","surname":"Chen",
"emails":[{"address":"sarah.chen@example.com","primary":true}],"phones":[{"number":"+31612345678","primary":true}],
"membershipLevel":"GOLD","language":"en","vip":true,"preferences":[{"group":"PILLOW","code":"FEATHER","text":"Feather pillows"}]}"#;
const TOKEN: &str = "bench-token";
const CONNECTIONS: usize = 32;
const ROUND: Duration = Duration::from_secs(4);

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

/// `CONNECTIONS` keep-alive clients hammering `url` for `ROUND`.
async fn get(url: String, auth: bool) -> Figures {
    support::load(CONNECTIONS, ROUND, move |client, _, _| {
        let request = client.get(&url);
        if auth {
            request.bearer_auth(TOKEN)
        } else {
            request
        }
    })
    .await
}

fn main() {
    let Some(adapters) = support::start("JACK_BENCH_KEY", "bench-secret-key-0123456789") else {
        return;
    };
    let cache = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "server:\n  tokens:\n    - name: bench\n      sha256: {}\nadapters:\n  dir: {}\n  cacheDir: {}\n  allowUnpinned: true\n\
         hotels:\n  - id: B1\n    adapter: mock\n    settings: {{ baseUrl: \"https://pms.bench.example\", hotelId: B1 }}\n    secrets: {{ apiKey: {{ env: JACK_BENCH_KEY }} }}\n",
        sha256_hex(TOKEN),
        adapters.display(),
        cache.path().display()
    );
    let config = Config::from_yaml(&yaml, Path::new("bench.yaml")).expect("config");
    let prefix = format!("jack-bench-{}", std::process::id());
    let redis_config = Config::from_yaml(
        &format!("{yaml}coordination:\n  redis: redis://127.0.0.1:6379/0\n  keyPrefix: {prefix}\n"),
        Path::new("bench.yaml"),
    )
    .expect("config");
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let (api_addr, redis_addr, bare_addr, body) = server_rt.block_on(async {
        let api_addr =
            support::serve_api(&config, Arc::new(Canned), &cache.path().join("state.db")).await;
        let redis_addr = support::serve_api(
            &redis_config,
            Arc::new(Canned),
            &cache.path().join("state-redis.db"),
        )
        .await;
        // Warm the caches, and take the exact JSON the API answers for the bare handler.
        let mut body = Default::default();
        for addr in [redis_addr, api_addr] {
            let url = format!("http://{addr}/v1/hotels/B1/guests/mock:G1001");
            body = reqwest::Client::new()
                .get(&url)
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("warm")
                .bytes()
                .await
                .expect("body");
        }
        let bare_body = body.clone();
        let bare = axum::Router::new().route(
            "/guest",
            axum::routing::get(move || {
                let b = bare_body.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], b) }
            }),
        );
        let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let bare_addr = bare_listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(bare_listener, bare).await });
        (api_addr, redis_addr, bare_addr, body)
    });
    println!(
        "response: {} bytes of JSON, {CONNECTIONS} connections, {} s per round",
        body.len(),
        ROUND.as_secs()
    );
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let api_url = format!("http://{api_addr}/v1/hotels/B1/guests/mock:G1001");
    let redis_url = format!("http://{redis_addr}/v1/hotels/B1/guests/mock:G1001");
    let bare_url = format!("http://{bare_addr}/guest");
    let mut rows = Vec::new();
    // Alternate the three, twice, so that none enjoys a warmer machine.
    for round in 0..2 {
        let bare = client_rt.block_on(get(bare_url.clone(), false));
        let api = client_rt.block_on(get(api_url.clone(), true));
        let redis = client_rt.block_on(get(redis_url.clone(), true));
        rows.push((round, bare, api, redis));
    }
    let show = |f: &Figures| {
        format!(
            "{:>8.0} req/s (p50 {:>6.2} ms, p99 {:>6.2} ms, {} errors)",
            f.rps,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.errors
        )
    };
    for (round, bare, api, redis) in &rows {
        println!(
            "round {round}: bare axum {} | cached read, in process {} ratio {:.2} | cached read, Redis coordination {} ratio {:.2}",
            show(bare),
            show(api),
            api.rps / bare.rps,
            show(redis),
            redis.rps / bare.rps
        );
    }
}
