//! One full sync cycle of 1,000 hotels (four streams each: arrivals and departures for today and
//! tomorrow, in-house guests, every room's status) against the mock PMS over loopback HTTP, in
//! process: each run goes through the scheduler's run-now path, the sandboxed adapter, the egress
//! pipeline (rate limits included), the read cache and the change tracker (snapshot diff and
//! event log in the SQLite state file). Prints the wall time of each cycle and the process CPU
//! time it took; CPU per cycle over the 5-minute interval is the share of one core the sync
//! costs. The mock PMS runs in the same process, so its CPU is counted too (an upper bound).
//!
//! `cargo bench -p jack-pms-host --bench sync_cycle`

use jack_pms_host::app::{App, start_mock_pms};
use jack_pms_host::config::Config;
use jack_pms_host::egress::Egress;
use jack_pms_host::sync::StreamKind;
use jack_pms_host::sync::scheduler::SchedulerOptions;
use jack_pms_host::vault::master_key::MasterKey;
use jack_pms_host::vault::store::Vault;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{root, sha256_hex};

mod support;

const HOTELS: usize = 1000;
const CYCLES: usize = 3;
const CONCURRENT_RUNS: usize = 64;
const INTERVAL: Duration = Duration::from_secs(300);

/// User + system CPU time of this process, from /proc (Linux; USER_HZ is 100).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn main() {
    let Some(adapters) = support::start("JACK_BENCH_MOCK_KEY", "bench-mock-key-0123456789") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut hotels = String::new();
    for i in 0..HOTELS {
        let pms_hotel = if i % 2 == 0 { "DEMO1" } else { "DEMO2" };
        hotels.push_str(&format!(
            "  - id: H{i:04}\n    adapter: mock\n    settings: {{ baseUrl: \"http://127.0.0.1:{port}\", hotelId: {pms_hotel} }}\n    secrets: {{ apiKey: {{ env: JACK_BENCH_MOCK_KEY }} }}\n"
        ));
    }
    // Schedules that do not fire during the run: the cycle is driven explicitly.
    let never = "{ enabled: true, schedule: \"0 0 1 1 *\", lookAheadDays: 1 }";
    let yaml = format!(
        "pms:\n  vendor: mock\n  sync:\n    arrivals: {never}\n    departures: {never}\n    inHouse: {never}\n    roomStatus: {never}\n\
         server:\n  tokens:\n    - name: bench\n      sha256: {}\nadapters:\n  dir: {}\n  cacheDir: {}\n  allowUnpinned: true\n\
         egress:\n  allowLoopbackHttp: true\n  allowLoopback: true\n\
         mockPms:\n  enabled: true\n  listen: 127.0.0.1:{port}\n  seed: {}\n  apiKey: {{ env: JACK_BENCH_MOCK_KEY }}\n\
         hotels:\n{hotels}",
        sha256_hex("bench-token"),
        adapters.display(),
        dir.path().join("compiled").display(),
        root().join("examples/mock-seed.json").display(),
    );
    let config = Config::from_yaml(&yaml, Path::new("bench.yaml")).expect("config");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    rt.block_on(async {
        start_mock_pms(&config, std::future::pending())
            .await
            .expect("mock PMS");
        let egress = Arc::new(Egress::new(config.egress.clone()).expect("egress"));
        let vault = Vault::open(&dir.path().join("state.db"), MasterKey::generate())
            .await
            .expect("vault");
        let app = App::build_with(&config, egress, Arc::new(vault))
            .await
            .expect("app");
        let scheduler = app
            .start_sync(SchedulerOptions::default())
            .expect("scheduler");
        let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_RUNS));
        println!(
            "{HOTELS} hotels x 4 streams, {CONCURRENT_RUNS} runs at once, mock PMS on loopback"
        );
        for cycle in 0..CYCLES {
            let (wall, cpu) = (Instant::now(), cpu_time());
            let mut runs = tokio::task::JoinSet::new();
            for i in 0..HOTELS {
                for stream in StreamKind::ALL {
                    let (scheduler, gate) = (scheduler.clone(), gate.clone());
                    runs.spawn(async move {
                        let _permit = gate.acquire_owned().await.expect("gate");
                        scheduler.run_now(&format!("H{i:04}"), stream).await
                    });
                }
            }
            let (mut ok, mut failed) = (0, 0);
            while let Some(r) = runs.join_next().await {
                match r.expect("run task") {
                    Ok(jack_pms_host::sync::scheduler::RunOutcome::Ok { .. }) => ok += 1,
                    _ => failed += 1,
                }
            }
            let (wall, cpu) = (wall.elapsed(), cpu_time().saturating_sub(cpu));
            println!(
                "cycle {cycle}{}: {ok} runs ok, {failed} failed, wall {:.2} s, CPU {:.2} s = {:.2} % of one core over the {} s interval",
                if cycle == 0 { " (baseline snapshots)" } else { "" },
                wall.as_secs_f64(),
                cpu.as_secs_f64(),
                100.0 * cpu.as_secs_f64() / INTERVAL.as_secs_f64(),
                INTERVAL.as_secs()
            );
        }
    });
}
