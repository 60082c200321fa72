//! Peak RSS of `jack-pms serve` with the mock hotels (and its in-process mock PMS), idle after a
//! few calls, with the compiled-artefact cache warm (the second start). Prints the figures.
//!
//! `cargo bench -p jack-pms-host --bench serve_rss`

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::root;

mod support;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field")
}

fn get(addr: &str, path: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer jack-dev-token\r\nConnection: close\r\n\r\n"
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.starts_with("HTTP/1.1 200")
}

fn run_once(label: &str, config: &Path, api: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jack-pms"))
        .args(["serve", "--config"])
        .arg(config)
        .env("JACK_MOCK_PMS_KEY", "bench-mock-pms-key-0123456789")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start serve");
    let started = Instant::now();
    while !get(api, "/healthz") {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ready = started.elapsed();
    for path in [
        "/v1/hotels",
        "/v1/hotels/DEMO1/in-house",
        "/v1/hotels/DEMO1/rooms",
        "/v1/hotels/DEMO2/rooms",
    ] {
        assert!(get(api, path), "{path} failed");
    }
    std::thread::sleep(Duration::from_secs(2));
    let pid = child.id();
    println!(
        "{label}: ready in {} ms; idle RSS {} KiB; peak RSS (VmHWM) {} KiB",
        ready.as_millis(),
        status_kib(pid, "VmRSS:"),
        status_kib(pid, "VmHWM:")
    );
    let _ = child.kill();
    let _ = child.wait();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` probes benches; nothing to list here.
    }
    assert!(
        root().join("target/adapters/mock.wasm").exists(),
        "run ./adapters/build.sh first"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let (api, mock) = (free_port(), free_port());
    let example =
        std::fs::read_to_string(root().join("examples/mock.yaml")).expect("examples/mock.yaml");
    let config = example
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{api}"))
        .replace("127.0.0.1:9090", &format!("127.0.0.1:{mock}"))
        .replace(
            "dir: ../target/adapters",
            &format!("dir: {}", root().join("target/adapters").display()),
        )
        .replace(
            "cacheDir: ../target/adapters/compiled",
            &format!("cacheDir: {}", dir.path().join("compiled").display()),
        )
        .replace(
            "seed: mock-seed.json",
            &format!("seed: {}", root().join("examples/mock-seed.json").display()),
        );
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).expect("config");
    let api = format!("127.0.0.1:{api}");
    run_once("cold start (compiles adapters)", &path, &api);
    run_once("warm start (compiled cache)", &path, &api);
}
