//! The partner promise, proved: `examples/partner-adapter` is an Apaleo adapter written only
//! against the SDK, outside the jack-pms workspace. This suite treats it as a partner's delivery:
//! it runs the crate's own native tests and builds the component with cargo, runs the
//! conformance suite on it (`jack-pms adapter test`) against an Apaleo simulator over HTTPS, then
//! ships it into a running `jack-pms serve` that was started without it: the `.wasm` and its
//! manifest are copied into the adapters directory, a hotel pinned to its sha256 is added to the
//! config file, `POST /v1/admin/reload` picks both up, and the new hotel serves requests at once,
//! in the same process.
//!
//! Only the CLI binary and the HTTP API are used: no item of the host crate.

#[path = "sims/apaleo/mod.rs"]
mod sim;
mod support;

use serde_json::{Value, json};
use sim::Sim;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::{Stack, StackOptions, TOKEN, root};

/// The simulator's client id (the conformance profile names the same one).
const CLIENT_ID: &str = "jack-partner-example";

/// The partner's crate.
fn crate_dir() -> PathBuf {
    root().join("examples/partner-adapter")
}

/// Runs `cargo <args>` in the partner's crate.
fn cargo(args: &[&str]) {
    support::cargo_in(&crate_dir(), args);
}

/// The partner's own native tests, then the component, built once per test binary; returns
/// `apaleo.wasm`.
fn built() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        cargo(&["test", "--quiet"]);
        cargo(&["build", "--quiet", "--release", "--target", "wasm32-wasip2"]);
        let wasm = root().join("target/template/wasm32-wasip2/release/apaleo.wasm");
        assert!(wasm.exists(), "cargo built no {}", wasm.display());
        wasm
    })
    .clone()
}

async fn built_async() -> PathBuf {
    tokio::task::spawn_blocking(built).await.expect("join")
}

/// A random client secret (so that the host's log can be checked for it).
fn client_secret() -> String {
    support::random_key()
}

fn verdict(report: &Value, id: &str) -> String {
    report["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .and_then(|c| c["verdict"].as_str())
        .unwrap_or("missing")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partner_adapter_builds_and_conforms_against_the_simulator() {
    let wasm = built_async().await;
    let secret = client_secret();
    let sim = Sim::new(CLIENT_ID, &secret);
    let addr = support::tls::serve_https(sim.router()).await;
    let (code, report) = support::adapter_test(
        vec![
            wasm.display().to_string(),
            "--manifest".into(),
            crate_dir().join("apaleo.toml").display().to_string(),
            "--against".into(),
            format!("https://localhost:{}", addr.port()),
            "--ca-file".into(),
            support::tls::ca_path().display().to_string(),
        ],
        vec![("APALEO_SIM_CLIENT_SECRET".into(), secret.clone())],
    )
    .await;
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["skipped"], 0, "{report:#}");
    for id in [
        "manifest",
        "component",
        "describe",
        "operations.health-check",
        "operations.get-guest",
        "operations.search-guests",
        "operations.get-reservation",
        "operations.get-reservation.missing",
        "operations.find-write.note",
        "operations.find-write.absent",
        "operations.get-arrivals",
        "operations.get-departures",
        "operations.get-in-house-guests",
        "operations.add-reservation-note",
        "operations.get-balance",
        "operations.get-room-status",
        "operations.get-all-room-statuses",
        "unsupported.post-charge",
        "unsupported.update-checkout-time",
        "unsupported.update-guest-preferences",
        "credentials",
        "statuses.404.get-reservation",
        "statuses.429.get-reservation",
        "statuses.503.get-reservation",
        "malformed.get-arrivals",
        "malformed.add-reservation-note",
        // The profile asks for pages of 2: these follow several pages to the exact counts.
        "pagination.get-arrivals",
        "pagination.get-departures",
        "pagination.get-in-house-guests",
        "pagination.get-all-room-statuses",
        "pagination.search-guests",
    ] {
        assert_eq!(verdict(&report, id), "pass", "{id}: {report:#}");
    }
    // The conformance note went through the real PATCH, marked with its operation id.
    let comment = sim.comment("FHXZQNDK-1").unwrap_or_default();
    assert!(
        comment.starts_with("Late check-out requested\n") && comment.contains("[jack:"),
        "{comment}"
    );
}

/// Copies `from` to `to` through a temporary name, so that a host reading the directory never
/// sees half a file.
fn install(from: &Path, to: &Path) {
    let partial = to.with_extension("partial");
    std::fs::copy(from, &partial).expect("copy into the adapters directory");
    std::fs::rename(&partial, to).expect("rename into place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_partner_adapter_loads_into_a_running_server_and_serves() {
    let wasm = built_async().await;
    let secret = client_secret();
    let sim = Sim::new(CLIENT_ID, &secret);
    let addr = support::tls::serve_https(sim.router()).await;
    // The operator's environment holds the hotel's secrets; the config does not name the
    // hotel yet, and the adapters directory may not hold apaleo.wasm yet either.
    let s = Stack::start_with(StackOptions {
        env: vec![
            ("APALEO_CLIENT_ID".into(), CLIENT_ID.into()),
            ("APALEO_CLIENT_SECRET".into(), secret.clone()),
        ],
        resolve: vec![
            ("api.apaleo.com".into(), addr),
            ("identity.apaleo.com".into(), addr),
        ],
        ..StackOptions::default()
    })
    .await;
    let pid = s.pid();
    let (status, _) = s.get("/v1/hotels/APA1/in-house").await;
    assert_eq!(status, 404, "the hotel must not exist before the reload");

    // Ship: the component and its manifest into the adapters directory …
    let adapters = support::adapters_dir();
    install(&wasm, &adapters.join("apaleo.wasm"));
    install(
        &crate_dir().join("apaleo.toml"),
        &adapters.join("apaleo.toml"),
    );
    // … and a hotel pinned to what was reviewed.
    let sha = support::sha256_hex(&std::fs::read(&wasm).expect("read the component"));
    let mut config = std::fs::read_to_string(s.config_path()).expect("read the config");
    if !config.ends_with('\n') {
        config.push('\n');
    }
    config.push_str(&format!(
        "  - id: APA1\n    name: Apaleo Munich\n    adapter: apaleo\n    sha256: {sha}\n    settings: {{ propertyId: MUC, pageSize: \"3\" }}\n    secrets: {{ clientId: {{ env: APALEO_CLIENT_ID }}, clientSecret: {{ env: APALEO_CLIENT_SECRET }} }}\n"
    ));
    std::fs::write(s.config_path(), config).expect("write the config");

    let r = s
        .http
        .post(s.url("/v1/admin/reload"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("reload");
    let (status, report) = support::read(r).await;
    assert_eq!(status, 200, "{report:#}\n{}", s.logs());
    assert_eq!(report["added"], json!(["APA1"]), "{report:#}");
    assert!(
        report["unavailable"]
            .as_array()
            .is_some_and(|u| u.iter().all(|h| h["id"] != "APA1")),
        "{report:#}"
    );

    // The new hotel serves at once, through the sandboxed component and the host's OAuth.
    let (status, body) = s.get("/v1/hotels/APA1/reservations/FHXZQNDK-1").await;
    assert_eq!(status, 200, "{body:#}\n{}", s.logs());
    let r = &body["data"];
    assert_eq!(r["confirmationNumber"], "FHXZQNDK-1", "{body:#}");
    assert_eq!(r["guestName"], "Sarah Chen");
    assert_eq!(r["guestId"], "apaleo:FHXZQNDK-1");
    assert_eq!(r["status"], "checked_in");
    assert_eq!(r["roomNumber"], "101");

    // A channel's confirmation code finds the same kind of answer.
    let (status, body) = s.get("/v1/hotels/APA1/reservations/BDC-448812").await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["confirmationNumber"], "LQRVTMWE-1");

    let (status, body) = s.get("/v1/hotels/APA1/in-house").await;
    assert_eq!(status, 200, "{body:#}");
    let mut ids: Vec<&str> = body["data"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["confirmationNumber"].as_str())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        ["FHXZQNDK-1", "GDKSVRXE-1", "KVXLDNGS-1", "WMTRBQJL-1"],
        "pages of 3 followed to the end, the Berlin property's guest left out"
    );

    let today = support::today();
    let (status, body) = s
        .get(&format!("/v1/hotels/APA1/arrivals?date={today}"))
        .await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(3), "{body:#}");

    let (status, body) = s
        .get("/v1/hotels/APA1/reservations/FHXZQNDK-1/balance")
        .await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(
        body["data"],
        json!({ "amount": "120.50", "currency": "EUR" })
    );

    let (status, body) = s.get("/v1/hotels/APA1/rooms/202").await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["housekeeping"], "out_of_order");

    // A write goes through the outbox to Apaleo's PATCH.
    let r = s
        .http
        .post(s.url("/v1/hotels/APA1/reservations/FHXZQNDK-1/notes"))
        .bearer_auth(TOKEN)
        .header("idempotency-key", "partner-note-1")
        .json(&json!({ "note": "Airport taxi at 07:00" }))
        .send()
        .await
        .expect("note");
    let (status, body) = support::read(r).await;
    assert_eq!(status, 200, "{body:#}\n{}", s.logs());
    assert_eq!(body["status"], "applied", "{body:#}");
    let comment = sim.comment("FHXZQNDK-1").unwrap_or_default();
    assert!(
        comment.contains("Airport taxi at 07:00 [jack:"),
        "{comment}"
    );
    let (_, body) = s.get("/v1/hotels/APA1/reservations/FHXZQNDK-1").await;
    let notes = body["data"]["notes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        notes.contains(&json!("Airport taxi at 07:00")),
        "the note reads back without its marker: {notes:?}"
    );

    // What Apaleo cannot do is refused with the reason, not faked.
    let r = s
        .http
        .post(s.url("/v1/hotels/APA1/reservations/FHXZQNDK-1/charges"))
        .bearer_auth(TOKEN)
        .json(&json!({ "amount": "5.00", "currency": "EUR", "description": "Minibar" }))
        .send()
        .await
        .expect("charge");
    let (status, body) = support::read(r).await;
    assert_eq!(status, 501, "{body:#}");

    // One token for the hotel, fetched by the host; the hotels that were there still serve, and
    // all of it happened in the process started at the beginning.
    assert_eq!(sim.token_requests(), 1);
    let (status, _) = s.get("/v1/hotels/DEMO1/in-house").await;
    assert_eq!(status, 200);
    assert_eq!(s.pid(), pid);
    let (status, body) = s.get("/v1/hotels").await;
    assert_eq!(status, 200);
    assert!(
        body.to_string().contains("APA1"),
        "GET /v1/hotels lists the new hotel: {body:#}"
    );
}
