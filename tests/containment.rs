//! The hostile catalogue: every hole of the containment review, tried with a real hostile
//! component (`tests/adapters/hostile`) against a real malicious vendor on loopback
//! (`support::evil`), each followed by a normal call on the same host to prove it unharmed.

mod support;

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::evil::EvilVendor;
use support::{Stack, StackOptions};

/// `s` as one path segment (the attack names carry `/` and `:`).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn attack(s: &Stack, hotel: &str, name: &str) -> (u16, Value) {
    s.get(&format!(
        "/v1/hotels/{hotel}/reservations/{}",
        segment(name)
    ))
    .await
}

fn detail(body: &Value) -> String {
    body["detail"].as_str().unwrap_or_default().to_string()
}

/// The host keeps serving: the demo hotel answers, and so does the hostile adapter's health.
async fn still_serving(s: &Stack) {
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/CONF1001").await;
    assert_eq!(status, 200, "the host stopped serving: {body}");
    let (status, body) = s.get("/v1/hotels/EVIL/health").await;
    assert_eq!((status, &body["healthy"]), (200, &json!(true)), "{body}");
}

/// Where `text` holds the secret in a form the scrubber must catch: any 12 consecutive
/// characters of it in any letter case (the scrubber's fragment), its base64 or its hex.
fn leak(text: &str, secret: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let key = secret.to_ascii_lowercase();
    let b = key.as_bytes();
    for w in b.windows(12) {
        let w = std::str::from_utf8(w).unwrap_or_default();
        if lower.contains(w) {
            return Some(format!("the fragment `{w}`"));
        }
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
    if text.contains(&b64[..b64.len() - 4]) {
        return Some("its base64".into());
    }
    if lower.contains(&hex::encode(secret)) {
        return Some("its hex".into());
    }
    None
}

fn evil_hotels(evil: &EvilVendor) -> String {
    let base = evil.base();
    format!(
        "  - id: EVIL\n    adapter: hostile\n    settings: {{ baseUrl: \"{base}\" }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n    rateLimits: [{{ requests: 1000, perSeconds: 1, scope: hotel }}, {{ requests: 1000, perSeconds: 1, scope: environment }}]\n\
         \x20 - id: EVIL2\n    adapter: hostile\n    settings: {{ baseUrl: \"{base}\" }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n    rateLimits: [{{ requests: 1000, perSeconds: 1, scope: hotel }}, {{ requests: 1000, perSeconds: 1, scope: environment }}]\n\
         \x20 - id: EVIL3\n    adapter: hostile\n    settings: {{ baseUrl: \"{base}\" }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n\
         \x20 - id: EVIL_OAUTH\n    adapter: hostile_oauth\n    settings: {{ baseUrl: \"{base}\" }}\n    secrets:\n      clientId: {{ env: T_CLIENT_ID }}\n      clientSecret: {{ env: T_CLIENT_SECRET }}\n      appKey: {{ env: T_APP_KEY }}\n"
    )
}

async fn evil_stack(evil: &EvilVendor, log: &'static str) -> Stack {
    Stack::start_with(StackOptions {
        extra_hotels: evil_hotels(evil),
        env: vec![
            ("T_CLIENT_ID".into(), support::random_key()),
            ("T_CLIENT_SECRET".into(), support::random_key()),
            ("T_APP_KEY".into(), support::random_key()),
        ],
        egress: "  maxRetryAfterMs: 3000\n".into(),
        adapters: "  maxConcurrentInstances: 16\n".into(),
        log,
        ..StackOptions::default()
    })
    .await
}

#[tokio::test]
async fn secrets_do_not_leave_through_encodings_compression_ranges_or_redirects() {
    let evil = EvilVendor::start().await;
    let s = evil_stack(&evil, "debug").await;
    let key = s.key.clone();
    let mut seen = Vec::new();

    // Compressed: the host asked for gzip itself, decoded it, and scrubbed the plaintext.
    let (status, body) = attack(&s, "EVIL", "keyed:/echo-gzip").await;
    assert_eq!(status, 200, "{body}");
    let page = body["data"]["notes"][1].as_str().unwrap_or_default();
    assert!(page.contains("invalid api key [REDACTED]"), "{body}");
    assert!(
        !body.to_string().contains("content-encoding"),
        "the guest saw the vendor's encoding: {body}"
    );
    seen.push(body.to_string());

    // Every other encoding of the report, in one JSON answer.
    let (status, body) = attack(&s, "EVIL", "keyed:/echo-encodings").await;
    assert_eq!(status, 200, "{body}");
    let echoed = body["data"]["notes"][1].as_str().unwrap_or_default();
    let fields: Value = serde_json::from_str(echoed).expect("the echo is still JSON");
    for (field, value) in fields.as_object().expect("an object") {
        let value = value.as_str().unwrap_or_default();
        assert!(
            value.contains("[REDACTED]"),
            "{field} was not scrubbed: {value}"
        );
    }
    seen.push(body.to_string());

    // Headers are scrubbed too (lowercased and base64 forms).
    let (status, body) = attack(&s, "EVIL", "keyed:/echo-headers").await;
    assert_eq!(status, 200, "{body}");
    let notes = body["data"]["notes"].to_string();
    assert!(
        notes.contains("x-echo: [REDACTED]") && notes.contains("set-cookie: session=[REDACTED]"),
        "{body}"
    );
    seen.push(body.to_string());

    // Encodings and ranges the host did not ask for are refused, never passed on.
    for (name, expected) in [
        (
            "keyed:/echo-br",
            "content-encoding `br`, which the host did not ask for",
        ),
        ("keyed:/echo-range", "partial response"),
    ] {
        let (status, body) = attack(&s, "EVIL", name).await;
        assert!(status >= 500, "{name}: {body}");
        assert!(detail(&body).contains(expected), "{name}: {body}");
        seen.push(body.to_string());
        still_serving(&s).await;
    }

    // The guest may not negotiate for itself.
    for header in [
        "Accept-Encoding",
        "accept_encoding",
        "Range",
        "TE",
        "x_api_key",
        "X_Api_Key",
    ] {
        let (status, body) = attack(&s, "EVIL", &format!("with-header:{header}:/echo-gzip")).await;
        assert_eq!(status, 502, "{header}: {body}");
        assert!(detail(&body).contains("refused"), "{header}: {body}");
    }

    // A redirect to a host name made of the (case-folded) key: refused, and neither the
    // answer nor the log shows the name.
    let (status, body) = attack(&s, "EVIL", "keyed:/redirect-secret").await;
    assert_eq!(status, 502, "{body}");
    assert!(detail(&body).contains("redirect to"), "{body}");
    seen.push(body.to_string());
    still_serving(&s).await;

    for text in &seen {
        if let Some(how) = leak(text, &key) {
            panic!("an answer carries {how} of the secret: {text}");
        }
    }
    let logs = s.logs();
    assert!(logs.contains("DEBUG"), "debug logging was not on");
    if let Some(how) = leak(&logs, &key) {
        panic!("the log carries {how} of the secret");
    }
}

#[tokio::test]
async fn absurd_numbers_never_panic_the_host_nor_strand_a_write() {
    let evil = EvilVendor::start().await;
    let s = evil_stack(&evil, "info").await;

    // A read that meets `Retry-After: 2^64-1`: the 429 comes back to the adapter once the pause
    // (cut to the cap) would outlast the call, the host unharmed.
    let (status, body) = attack(&s, "EVIL", "keyed:/retry-after-max").await;
    assert_eq!(
        (status, &body["data"]["notes"][0]),
        (200, &json!("429")),
        "{body}"
    );
    let (_, health) = s.get("/v1/hotels/EVIL/health").await;
    let bucket = &health["rateLimits"][0];
    assert_eq!(bucket["retryAfterClamped"], json!(true), "{health}");
    assert_eq!(bucket["retryAfterCapMs"], json!(3000), "{health}");
    assert!(
        bucket["pausedForMs"].as_u64().unwrap_or(0) <= 3000,
        "the pause is over the cap: {health}"
    );
    // The HTTP-date form is read too (and cut the same way).
    let (status, body) = attack(&s, "EVIL2", "keyed:/retry-after-date").await;
    assert_eq!(
        (status, &body["data"]["notes"][0]),
        (200, &json!("429")),
        "{body}"
    );
    let (_, health) = s.get("/v1/hotels/EVIL2/health").await;
    assert_eq!(
        health["rateLimits"][0]["retryAfterClamped"],
        json!(true),
        "{health}"
    );

    // An adapter's own absurd `rate-limited(ms)` reaches Jack as a bounded Retry-After.
    let r = s
        .http
        .get(s.url("/v1/hotels/EVIL/reservations/absurd-retry"))
        .bearer_auth(support::TOKEN)
        .send()
        .await
        .unwrap();
    let retry_after: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header");
    assert!(
        retry_after <= 3,
        "Retry-After {retry_after} s is over the cap"
    );

    // A write that meets the same answer: queued with a bounded delay, never stuck pending,
    // and staff can cancel it.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (status, body) = s
        .send(
            Method::POST,
            "/v1/hotels/EVIL/reservations/R1/notes",
            json!({"note": "/retry-after-max"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["operationId"]
        .as_str()
        .expect("an operation id")
        .to_string();
    let (_, op) = s.get(&format!("/v1/operations/{id}")).await;
    assert_eq!(op["state"], json!("queued"), "{op}");
    let out = s.cli(&[
        "outbox",
        "cancel",
        &id,
        "--config",
        s.config_path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "cancel failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, op) = s.get(&format!("/v1/operations/{id}")).await;
    assert_eq!(op["state"], json!("cancelled"), "{op}");
    still_serving(&s).await;
}

#[tokio::test]
async fn a_write_whose_caller_goes_away_is_never_left_pending() {
    let evil = EvilVendor::start().await;
    let s = evil_stack(&evil, "info").await;
    // The vendor takes 1.5 s; the caller gives up after 300 ms and closes the connection.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let r = impatient
        .post(s.url("/v1/hotels/EVIL/reservations/R7/notes"))
        .bearer_auth(support::TOKEN)
        .json(&json!({"note": "/slow"}))
        .send()
        .await;
    assert!(r.is_err(), "the request was meant to time out: {r:?}");
    // Whatever happened to the attempt, the write leaves `pending` by itself: applied if the
    // attempt ran to its end, queued to be read back if it was cut off with the connection.
    let config = s.config_path();
    let mut last = Value::Null;
    for _ in 0..100 {
        let out = s.cli(&[
            "outbox",
            "list",
            "--hotel",
            "EVIL",
            "--json",
            "--config",
            config.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        last = serde_json::from_slice(&out.stdout).expect("outbox list --json");
        let state = last[0]["state"].as_str().unwrap_or_default().to_string();
        if state == "applied" || state == "queued" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let state = last[0]["state"].as_str().unwrap_or_default();
    assert!(
        state == "applied" || state == "queued",
        "the write is stuck: {last}"
    );
    if state == "queued" {
        let logs = s.logs();
        assert!(
            logs.contains("the attempt was abandoned before it finished"),
            "queued without saying why:\n{logs}"
        );
    }
    println!("a write whose caller left ended {state}");
    still_serving(&s).await;
}

/// Resident memory of a process, bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test]
async fn a_guest_cannot_exhaust_memory_or_the_log_nor_forge_lines() {
    let evil = EvilVendor::start().await;
    let s = evil_stack(&evil, "info").await;
    still_serving(&s).await;
    let before = rss(s.pid());

    // 400 strings pointing into one 1 MiB buffer: refused before the host copies them out,
    // one at a time and eight at once.
    let (status, body) = attack(&s, "EVIL", "amplify").await;
    assert_eq!(status, 502, "{body}");
    assert!(detail(&body).contains("maxResultBytes"), "{body}");
    let at_once: Vec<_> = (0..8)
        .map(|i| {
            // Distinct reads over two hotels (four each: their share of the slots, and under
            // the breaker's five), so that neither the cache nor a share serialises them.
            let hotel = ["EVIL2", "EVIL3"][i % 2];
            let path = format!("/v1/hotels/{hotel}/reservations/amplify-{i}");
            let (http, url) = (s.http.clone(), s.url(&path));
            tokio::spawn(async move {
                let r = http.get(url).bearer_auth(support::TOKEN).send().await;
                r.map(|r| r.status().as_u16()).unwrap_or(0)
            })
        })
        .collect();
    for call in at_once {
        assert_eq!(call.await.unwrap(), 502);
    }
    // An 8 MiB error text reaches Jack (and the log) cut to a couple of KiB.
    let (status, body) = attack(&s, "EVIL", "huge-error").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body.to_string().len() < 4096 && detail(&body).contains("more bytes dropped"),
        "{} bytes: {}",
        body.to_string().len(),
        &body.to_string()[..200.min(body.to_string().len())]
    );
    let after = rss(s.pid());
    println!(
        "serve RSS before the memory cases {} MiB, after {} MiB",
        before >> 20,
        after >> 20
    );
    assert!(
        after < before + (128 << 20),
        "RSS grew from {} to {} MiB",
        before >> 20,
        after >> 20
    );

    // 100,000 log lines, and 1.8 MB of stdout (6,000 lines) plus 1 MiB of stderr without a
    // newline: a bounded number of lines kept, the rest counted.
    for name in ["flood-log", "flood-stdout"] {
        let (status, body) = attack(&s, "EVIL", name).await;
        assert_eq!(status, 200, "{name}: {body}");
    }
    // Guest stdout drains through a WASI writer task, so its report may land just after the
    // answer: wait for it (bounded).
    let mut logs = s.logs();
    for _ in 0..100 {
        if logs
            .matches("adapter output over its per-call budget")
            .count()
            >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        logs = s.logs();
    }
    assert!(
        logs.matches("adapter output over its per-call budget")
            .count()
            >= 2,
        "no report of what was dropped"
    );
    let kept = logs.lines().filter(|l| l.contains("flood line")).count();
    assert!(kept <= 1000, "{kept} flood lines kept");
    assert!(
        logs.len() < 16 << 20,
        "the log grew to {} bytes",
        logs.len()
    );

    // Control characters from the adapter or the vendor never reach the log or an answer raw.
    let (status, body) = attack(&s, "EVIL", "ansi-error").await;
    assert!(status >= 500, "{body}");
    assert!(
        !detail(&body).contains('\u{1b}') && !detail(&body).contains('\n'),
        "{body}"
    );
    let (status, _) = attack(&s, "EVIL", "log-injection").await;
    assert_eq!(status, 200);
    let logs = s.logs();
    assert!(!logs.contains('\u{1b}'), "a raw escape reached the log");
    assert!(
        !logs.lines().any(|l| l.starts_with("2026-12-02T00:00:00")),
        "a forged line reached the log"
    );
    assert!(
        logs.contains("innocent\\n2026-12-02"),
        "the escaped line is missing"
    );

    // A trap answers with a short reason; the wasm backtrace stays in the log.
    let (status, body) = attack(&s, "EVIL", "trap").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        !detail(&body).contains("backtrace") && !detail(&body).contains("0x"),
        "{body}"
    );
    still_serving(&s).await;
}

#[tokio::test]
async fn one_hotel_cannot_starve_or_suspend_another() {
    let evil = EvilVendor::start().await;
    let s = evil_stack(&evil, "info").await;
    // 30 slow calls of one hotel (its share: a quarter of 16 slots) …
    let slow: Vec<_> = (0..30)
        .map(|i| {
            // Distinct reads, so that the cache does not coalesce them into one.
            let path = format!(
                "/v1/hotels/EVIL/reservations/{}",
                segment(&format!("keyed:/slow?i={i}"))
            );
            let (http, url) = (s.http.clone(), s.url(&path));
            tokio::spawn(async move { http.get(url).bearer_auth(support::TOKEN).send().await })
        })
        .collect();
    while evil.seen.slow_in_flight.load(Ordering::SeqCst) < 4 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // … hold at most the hotel's share of the pool …
    assert!(evil.seen.slow_in_flight.load(Ordering::SeqCst) <= 4);
    // … while another hotel on the same adapter and one on another adapter are served at once.
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/CONF1001").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.get("/v1/hotels/EVIL2/health").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        evil.seen.slow_in_flight.load(Ordering::SeqCst) > 0,
        "the other hotels were only served after the slow calls ended"
    );
    for call in slow {
        let _ = call.await;
    }

    // Five traps in a row suspend that hotel on that adapter, not the adapter's other hotels.
    for _ in 0..5 {
        let (status, _) = attack(&s, "EVIL3", "trap").await;
        assert_eq!(status, 502);
    }
    let (status, body) = attack(&s, "EVIL3", "trap").await;
    assert_eq!(status, 503, "the breaker did not open: {body}");
    assert!(detail(&body).contains("suspended"), "{body}");
    let (status, body) = s.get("/v1/hotels/EVIL2/health").await;
    assert_eq!((status, &body["healthy"]), (200, &json!(true)), "{body}");
}

#[tokio::test]
async fn oauth_refreshes_once_per_window_however_often_the_pms_refuses() {
    let evil = EvilVendor::start().await;
    let s = evil_stack(&evil, "info").await;
    for i in 0..4 {
        let (status, body) = attack(&s, "EVIL_OAUTH", &format!("oauth:/always-401?n={i}")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["notes"][0], json!("401"), "{body}");
    }
    // The first token, and one refresh after the first 401; the later 401s refresh nothing
    // (and are not sent twice).
    assert_eq!(evil.seen.tokens.load(Ordering::SeqCst), 2);
    assert_eq!(evil.seen.refused.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn ipv4_embedded_ipv6_addresses_are_refused_like_their_ipv4_address() {
    let evil = EvilVendor::start().await;
    let port = evil.addr.port();
    let hotel = |id: &str, base: &str| {
        format!(
            "  - id: {id}\n    adapter: hostile\n    settings: {{ baseUrl: \"{base}\" }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n"
        )
    };
    let s = Stack::start_with(StackOptions {
        allow_loopback: false,
        extra_hotels: [
            hotel("V4COMPAT", &format!("https://[::127.0.0.1]:{port}")),
            hotel("TRANSLATED", &format!("https://[::ffff:0:7f00:1]:{port}")),
            hotel("NAT64", &format!("https://[64:ff9b::7f00:1]:{port}")),
            hotel("SIXTOFOUR", &format!("https://[2002:7f00:1::1]:{port}")),
            hotel("SITELOCAL", &format!("https://[fec0::1]:{port}")),
            hotel("PINNED", "https://pinned.evil.test"),
        ]
        .concat(),
        resolve: vec![(
            "pinned.evil.test".into(),
            format!("[64:ff9b::7f00:1]:{port}").parse().unwrap(),
        )],
        ..StackOptions::default()
    })
    .await;
    for (id, expected) in [
        ("V4COMPAT", "loopback"),
        ("TRANSLATED", "loopback"),
        ("NAT64", "loopback"),
        ("SIXTOFOUR", "loopback"),
        ("SITELOCAL", "private"),
        ("PINNED", "resolves only to refused addresses"),
    ] {
        let (status, body) = attack(&s, id, "keyed:/echo-gzip").await;
        assert!(status >= 500, "{id}: {body}");
        assert!(detail(&body).contains(expected), "{id}: {body}");
    }
    assert_eq!(evil.seen.tokens.load(Ordering::SeqCst), 0);
}
