//! Hostile adapters, each a real component: every attack is contained, reported clearly, and a
//! normal call right after it succeeds.

mod support;

use serde_json::{Value, json};
use support::{Stack, StackOptions};

async fn attack(s: &Stack, name: &str) -> (u16, Value) {
    s.get(&format!("/v1/hotels/HOSTILE/reservations/{name}"))
        .await
}

/// The host keeps serving: the demo hotel answers and the hostile adapter itself still works.
async fn still_serving(s: &Stack) {
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/CONF1001").await;
    assert_eq!(status, 200, "the host stopped serving: {body}");
    let (status, body) = s.get("/v1/hotels/HOSTILE/health").await;
    assert_eq!((status, &body["healthy"]), (200, &json!(true)), "{body}");
}

fn detail(body: &Value) -> String {
    body["detail"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn runaway_guests_are_stopped_and_the_host_keeps_serving() {
    let s = Stack::start().await;
    let cases: [(&str, u16, &[&str]); 5] = [
        ("loop", 504, &["exceeded its deadline of 2000 ms"]),
        ("memory", 502, &["exceeded its memory limit of 32 MiB"]),
        // Either the engine's stack limit or the guest's in-memory stack gives out first.
        ("recursion", 502, &["stack overflow", "runaway recursion"]),
        ("trap", 502, &["unreachable code reached"]),
        (
            "bad-date",
            502,
            &["arrivalDate `yesterday` is not a YYYY-MM-DD date"],
        ),
    ];
    for (name, status, expected) in cases {
        let (got, body) = attack(&s, name).await;
        assert_eq!(got, status, "{name}: {body}");
        assert!(
            expected.iter().any(|e| detail(&body).contains(e)),
            "{name}: {body}"
        );
        still_serving(&s).await;
    }
    // The failures were logged with the adapter's name.
    let logs = s.logs();
    assert!(
        logs.contains("adapter failed; instance discarded"),
        "{logs}"
    );
}

#[tokio::test]
async fn egress_policy_refuses_and_says_why() {
    let s = Stack::start_with(StackOptions {
        extra_hotels: "  - id: HOSTILE_META\n    adapter: hostile\n    settings: { baseUrl: \"https://169.254.169.254\" }\n    secrets: { apiKey: { env: TEST_HOTEL_KEY } }\n".into(),
        ..StackOptions::default()
    })
    .await;
    let mock = s.mock.port();
    let cases: Vec<(String, &str)> = vec![
        (
            "get:https:%2F%2Fevil.example.com%2Fsteal".into(),
            "is not in the allowlist of adapter `hostile` for hotel `HOSTILE`",
        ),
        (
            format!("get:http:%2F%2F127.0.0.1:{}%2Fadmin", mock + 1),
            "is not in the allowlist",
        ),
        (
            "auth-header".into(),
            "header `Authorization: credential headers are set by the host",
        ),
        (
            "api-key-header".into(),
            "header `X-Api-Key: credential headers are set by the host",
        ),
        (
            "wrong-scheme".into(),
            "asks for `json-body-credentials` but the manifest declares `api-key-header`",
        ),
        ("huge".into(), "exceeded 1048576 bytes"),
        ("many-requests".into(), "request 11 failed"),
    ];
    for (name, expected) in &cases {
        let (status, body) = attack(&s, name).await;
        assert_eq!(status, 502, "{name}: {body}");
        assert!(detail(&body).contains(expected), "{name}: {body}");
        still_serving(&s).await;
    }
    // The per-call cap let exactly 10 requests through.
    let (_, body) = attack(&s, "many-requests").await;
    assert!(
        detail(&body).contains("limit of 10 outbound requests"),
        "{body}"
    );

    // Link-local (cloud metadata) is refused even when the allowlist names it.
    let (status, body) = s.get("/v1/hotels/HOSTILE_META/reservations/get:https:%2F%2F169.254.169.254%2Flatest%2Fmeta-data").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        detail(&body).contains("169.254.169.254 is link-local"),
        "{body}"
    );
    // Plain http only to loopback.
    let (status, body) = s.get("/v1/hotels/HOSTILE_META/reservations/metadata").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        detail(&body).contains("plain http is allowed only to loopback"),
        "{body}"
    );
    still_serving(&s).await;
}

#[tokio::test]
async fn loopback_is_refused_unless_the_operator_allows_it() {
    let s = Stack::start_with(StackOptions {
        allow_loopback: false,
        ..StackOptions::default()
    })
    .await;
    // An IP literal is checked directly…
    let (status, body) = attack(&s, "echo").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        detail(&body).contains("127.0.0.1 is a loopback address (egress.allowLoopback is off)"),
        "{body}"
    );
    // …and a name is checked on the addresses DNS returned.
    let name = format!(
        "get:http:%2F%2Flocalhost:{}%2Fapi%2Fv1%2Fecho",
        s.mock.port()
    );
    let s2 = Stack::start_with(StackOptions {
        allow_loopback: false,
        extra_hotels: format!(
            "  - id: HOSTILE_LOCAL\n    adapter: hostile\n    settings: {{ baseUrl: \"http://localhost:{}\" }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n",
            s.mock.port()
        ),
        ..StackOptions::default()
    })
    .await;
    let (status, body) = s2
        .get(&format!("/v1/hotels/HOSTILE_LOCAL/reservations/{name}"))
        .await;
    assert_eq!(status, 502, "{body}");
    assert!(
        detail(&body).contains("resolves only to refused addresses"),
        "{body}"
    );
}

#[tokio::test]
async fn wasi_gives_no_environment_no_arguments_no_stdin_and_no_files() {
    let s = Stack::start().await;
    let (status, body) = attack(&s, "environment").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["notes"],
        json!(["vars=0", "args=0", "home=None", "key=None", "stdin=true/0"]),
        "the guest saw ambient authority: {body}"
    );

    // A component that imports wasi:filesystem is refused at load; its hotel says exactly why.
    let (_, hotels) = s.get("/v1/hotels").await;
    let fs = hotels
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "FSREADER")
        .unwrap();
    assert_eq!(fs["status"], "unavailable");
    let problem = fs["problem"].as_str().unwrap();
    assert!(
        problem.contains(
            "import `wasi:filesystem/types@0.2.6`: filesystem access is never granted to adapters"
        ),
        "{problem}"
    );
    let (status, body) = s
        .get("/v1/hotels/FSREADER/reservations/%2Fetc%2Fpasswd")
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(detail(&body).contains("filesystem access"), "{body}");
    still_serving(&s).await;
}

#[tokio::test]
async fn guest_output_goes_to_the_log_with_the_adapter_and_hotel() {
    let s = Stack::start().await;
    let (status, body) = attack(&s, "stdout").await;
    assert_eq!(status, 200, "{body}");
    let logs = s.logs();
    for line in [
        "hostile stdout line",
        "hostile stderr line",
        "hostile log line",
    ] {
        let found = logs
            .lines()
            .find(|l| l.contains(line))
            .unwrap_or_else(|| panic!("no `{line}` in the log:\n{logs}"));
        assert!(
            found.contains("adapter") && found.contains("hostile") && found.contains("HOSTILE"),
            "{found}"
        );
    }
}

#[tokio::test]
async fn a_pinned_sha256_that_does_not_match_refuses_the_hotel() {
    let s = Stack::start_with(StackOptions {
        extra_hotels: format!(
            "  - id: PINNED_WRONG\n    adapter: mock\n    sha256: {}\n    settings: {{ baseUrl: \"http://127.0.0.1:1\", hotelId: X }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n",
            "0".repeat(64)
        ),
        ..StackOptions::default()
    })
    .await;
    let (status, body) = s.get("/v1/hotels/PINNED_WRONG/rooms").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        detail(&body).contains("refusing to run an unreviewed component"),
        "{body}"
    );
    still_serving(&s).await;
}

#[tokio::test]
async fn https_to_a_pms_behind_a_trusted_ca_and_a_pinned_name() {
    // The mock PMS over HTTPS with the test CA's certificate; the stack trusts that CA through
    // `egress.trustedCaFiles`, and no hotel below may use plain http.
    let key = support::random_key();
    let seed = jack_pms_host::mock_pms::load_seed(&support::root().join("examples/mock-seed.json"))
        .expect("seed");
    let pms = jack_pms_host::mock_pms::MockPms::new(
        seed,
        secrecy::SecretString::from(key.clone()),
        chrono::Utc::now().date_naive(),
    )
    .expect("mock PMS");
    let addr = support::tls::serve_https(pms.router()).await;
    let hotel = |id: &str, base: &str| {
        format!(
            "  - id: {id}\n    adapter: mock\n    settings: {{ baseUrl: \"{base}\", hotelId: DEMO1 }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n"
        )
    };
    let s = Stack::start_with(StackOptions {
        hotel_key: Some(key),
        extra_hotels: [
            hotel("TLS_LOCAL", &format!("https://localhost:{}", addr.port())),
            // A name DNS does not know, pinned to the simulator (`egress.resolve`).
            hotel("TLS_PINNED", "https://pms.jack.test"),
            // Pinned too, but the certificate does not cover this name.
            hotel("TLS_WRONG_NAME", "https://wrong.jack.test"),
        ]
        .concat(),
        resolve: vec![
            ("pms.jack.test".into(), addr),
            ("wrong.jack.test".into(), addr),
        ],
        ..StackOptions::default()
    })
    .await;
    for hotel in ["TLS_LOCAL", "TLS_PINNED"] {
        let (status, body) = s
            .get(&format!("/v1/hotels/{hotel}/reservations/CONF1001"))
            .await;
        assert_eq!(status, 200, "{hotel}: {body}");
        assert_eq!(body["data"]["confirmationNumber"], json!("CONF1001"));
    }
    let (status, body) = s
        .get("/v1/hotels/TLS_WRONG_NAME/reservations/CONF1001")
        .await;
    // A failed handshake is a connection failure: the PMS is unavailable, and the reason is told.
    assert_eq!(status, 503, "{body}");
    assert!(
        detail(&body).to_lowercase().contains("certificate"),
        "a name the certificate does not cover must fail the TLS handshake: {body}"
    );
}
