//! End to end over real HTTP: `jack-pms serve` with the mock adapter (a real component) and the
//! mock PMS; every API operation, reads and writes, and the error contract.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Stack, TOKEN, root, today};

/// The demo hotel's seed, to derive expectations from the data rather than hard-code them.
fn seed_hotel(id: &str) -> Value {
    let seed: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("examples/mock-seed.json")).unwrap(),
    )
    .unwrap();
    seed["hotels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == id)
        .unwrap()
        .clone()
}

fn offset_date(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

fn confirmations(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["confirmationNumber"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn expected_confirmations(hotel: &Value, keep: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut v: Vec<String> = hotel["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| keep(r))
        // Arrivals and departures list the stays that are happening (the contract's rule).
        .filter(|r| r["state"] != "CANCELLED" && r["state"] != "NO_SHOW")
        .map(|r| r["confirmation"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn every_read_operation_answers_with_the_envelope() {
    let s = Stack::start().await;
    let hotel = seed_hotel("DEMO1");

    let (status, hotels) = s.get("/v1/hotels").await;
    assert_eq!(status, 200, "{hotels}");
    let demo = hotels
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == "DEMO1")
        .unwrap();
    assert_eq!(demo["status"], "ready", "{demo}");
    assert_eq!(demo["adapter"], "mock");
    assert_eq!(demo["adapterSha256"].as_str().unwrap().len(), 64);

    let (status, health) = s.get("/v1/hotels/DEMO1/health").await;
    assert_eq!(
        (status, &health["healthy"]),
        (200, &json!(true)),
        "{health}"
    );

    // getGuest, by the vendor-prefixed id.
    let g = &hotel["guests"][0];
    let id = format!("mock:{}", g["id"].as_str().unwrap());
    let (status, guest) = s.get(&format!("/v1/hotels/DEMO1/guests/{id}")).await;
    assert_eq!(status, 200, "{guest}");
    assert_eq!(guest["data"]["id"], json!(id));
    assert_eq!(guest["data"]["externalIds"]["pms"], g["id"]);
    assert_eq!(guest["data"]["firstName"], g["givenName"]);
    assert_eq!(guest["data"]["lastName"], g["surname"]);
    assert_eq!(guest["meta"]["source"], "pms");
    assert_eq!(guest["meta"]["stale"], false);
    assert!(
        chrono::DateTime::parse_from_rfc3339(guest["meta"]["fetchedAt"].as_str().unwrap()).is_ok()
    );

    // searchGuests by email, phone and name.
    let email = g["emails"][0]["address"].as_str().unwrap();
    let (status, found) = s
        .get(&format!(
            "/v1/hotels/DEMO1/guests?email={}",
            email.to_uppercase()
        ))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["data"][0]["id"], json!(id));
    let phone = g["phones"][0]["number"].as_str().unwrap();
    let (_, found) = s
        .get(&format!(
            "/v1/hotels/DEMO1/guests?phone={}",
            phone.replace('+', "%2B")
        ))
        .await;
    assert_eq!(found["data"][0]["id"], json!(id), "{found}");
    let (_, found) = s
        .get(&format!(
            "/v1/hotels/DEMO1/guests?name={}",
            g["surname"].as_str().unwrap()
        ))
        .await;
    assert!(
        found["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == json!(id)),
        "{found}"
    );

    // getReservation.
    let r = &hotel["reservations"][0];
    let number = r["confirmation"].as_str().unwrap();
    let (status, res) = s
        .get(&format!("/v1/hotels/DEMO1/reservations/{number}"))
        .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"]["confirmationNumber"], json!(number));
    assert_eq!(
        res["data"]["guestId"],
        json!(format!("mock:{}", r["guestId"].as_str().unwrap()))
    );
    let arrival = offset_date(r["arrivalOffsetDays"].as_i64().unwrap());
    assert_eq!(res["data"]["arrivalDate"], json!(arrival));

    // Arrivals and departures for today, in-house now: exactly the seed's.
    let (status, arrivals) = s
        .get(&format!("/v1/hotels/DEMO1/arrivals?date={}", today()))
        .await;
    assert_eq!(status, 200, "{arrivals}");
    assert_eq!(
        confirmations(&arrivals),
        expected_confirmations(&hotel, |r| r["arrivalOffsetDays"] == 0)
    );
    let (_, departures) = s
        .get(&format!("/v1/hotels/DEMO1/departures?date={}", today()))
        .await;
    assert_eq!(
        confirmations(&departures),
        expected_confirmations(&hotel, |r| r["arrivalOffsetDays"].as_i64().unwrap()
            + r["nights"].as_i64().unwrap()
            == 0)
    );
    let (_, in_house) = s.get("/v1/hotels/DEMO1/in-house").await;
    assert_eq!(
        confirmations(&in_house),
        expected_confirmations(&hotel, |r| r["state"] == "IN_HOUSE"
            || r["state"] == "DUE_OUT")
    );
    assert!(
        in_house["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "checked_in")
    );

    // Rooms.
    let (status, rooms) = s.get("/v1/hotels/DEMO1/rooms").await;
    assert_eq!(status, 200, "{rooms}");
    assert_eq!(
        rooms["data"].as_array().unwrap().len(),
        hotel["rooms"].as_array().unwrap().len()
    );
    let room = hotel["rooms"][0]["number"].as_str().unwrap();
    let (status, one) = s.get(&format!("/v1/hotels/DEMO1/rooms/{room}")).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["data"]["roomNumber"], json!(room));

    // Balance.
    let (status, balance) = s
        .get(&format!("/v1/hotels/DEMO1/reservations/{number}/balance"))
        .await;
    assert_eq!(status, 200, "{balance}");
    assert_eq!(balance["data"]["currency"], hotel["currency"]);
}

#[tokio::test]
async fn writes_are_applied_and_readable_back() {
    let s = Stack::start().await;
    let hotel = seed_hotel("DEMO1");
    let r = hotel["reservations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["state"] == "IN_HOUSE")
        .unwrap();
    let number = r["confirmation"].as_str().unwrap();
    let currency = hotel["currency"].as_str().unwrap();

    // addReservationNote.
    let (status, w) = s
        .send(
            Method::POST,
            &format!("/v1/hotels/DEMO1/reservations/{number}/notes"),
            json!({"note": "Guest asked for extra towels"}),
        )
        .await;
    assert_eq!(status, 200, "{w}");
    assert_eq!(w["status"], "applied");
    let op = w["operationId"].as_str().unwrap().to_string();
    let (_, res) = s
        .get(&format!("/v1/hotels/DEMO1/reservations/{number}"))
        .await;
    assert!(
        res["data"]["notes"]
            .as_array()
            .unwrap()
            .contains(&json!("Guest asked for extra towels")),
        "{res}"
    );
    let (status, state) = s.get(&format!("/v1/operations/{op}")).await;
    assert_eq!(
        (status, state["state"].as_str()),
        (200, Some("applied")),
        "{state}"
    );
    assert_eq!(state["caller"], "test-suite");

    // updateCheckoutTime.
    let time = format!(
        "{}T13:30:00+00:00",
        offset_date(r["arrivalOffsetDays"].as_i64().unwrap() + r["nights"].as_i64().unwrap())
    );
    let (status, w) = s
        .send(
            Method::PUT,
            &format!("/v1/hotels/DEMO1/reservations/{number}/checkout"),
            json!({"checkoutTime": time}),
        )
        .await;
    assert_eq!(status, 200, "{w}");
    let (_, res) = s
        .get(&format!("/v1/hotels/DEMO1/reservations/{number}"))
        .await;
    let got = chrono::DateTime::parse_from_rfc3339(res["data"]["checkoutTime"].as_str().unwrap())
        .unwrap();
    assert_eq!(got, chrono::DateTime::parse_from_rfc3339(&time).unwrap());

    // postCharge changes the balance by exactly the amount; the same Idempotency-Key posts once.
    let (_, before) = s
        .get(&format!("/v1/hotels/DEMO1/reservations/{number}/balance"))
        .await;
    let charge =
        json!({"amount": "12.34", "currency": currency, "description": "Minibar", "code": "MB"});
    let post = |key: &'static str| {
        let s = &s;
        let charge = charge.clone();
        async move {
            let r = s
                .http
                .post(s.url(&format!("/v1/hotels/DEMO1/reservations/{number}/charges")))
                .bearer_auth(TOKEN)
                .header("Idempotency-Key", key)
                .json(&charge)
                .send()
                .await
                .unwrap();
            support::read(r).await
        }
    };
    let (status, first) = post("charge-key-1").await;
    assert_eq!(status, 200, "{first}");
    let (status, second) = post("charge-key-1").await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(first["operationId"], second["operationId"]);
    let (_, after) = s
        .get(&format!("/v1/hotels/DEMO1/reservations/{number}/balance"))
        .await;
    let cents = |v: &Value| {
        (v["data"]["amount"]
            .as_str()
            .unwrap()
            .parse::<f64>()
            .unwrap()
            * 100.0)
            .round() as i64
    };
    assert_eq!(
        cents(&after) - cents(&before),
        1234,
        "before {before} after {after}"
    );

    // updateGuestPreferences replaces the preferences.
    let guest = format!("mock:{}", r["guestId"].as_str().unwrap());
    let prefs = json!({"preferences": [{"category": "FLOOR", "code": "HIGH", "description": "High floor"}]});
    let (status, w) = s
        .send(
            Method::PUT,
            &format!("/v1/hotels/DEMO1/guests/{guest}/preferences"),
            prefs,
        )
        .await;
    assert_eq!(status, 200, "{w}");
    let (_, g) = s.get(&format!("/v1/hotels/DEMO1/guests/{guest}")).await;
    assert_eq!(
        g["data"]["preferences"],
        json!([{"category": "FLOOR", "code": "HIGH", "description": "High floor"}])
    );
}

fn assert_problem(status: u16, body: &Value, expected_status: u16, kind: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["status"], json!(expected_status), "{body}");
    assert_eq!(
        body["type"],
        json!(format!("urn:jack-pms:problem:{kind}")),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn errors_are_problems() {
    let s = Stack::start().await;

    // No token, a wrong token.
    let r = s.http.get(s.url("/v1/hotels")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    let (status, body) = support::read(r).await;
    assert_problem(status, &body, 401, "unauthorized");
    let r = s
        .http
        .get(s.url("/v1/hotels/DEMO1/rooms"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    let (status, body) = support::read(r).await;
    assert_problem(status, &body, 401, "unauthorized");

    // Unknown hotel, unknown guest, reservation and room.
    let (status, body) = s.get("/v1/hotels/NOPE/rooms").await;
    assert_problem(status, &body, 404, "unknown-hotel");
    assert!(body["detail"].as_str().unwrap().contains("NOPE"));
    let (status, body) = s.get("/v1/hotels/DEMO1/guests/mock:NOBODY").await;
    assert_problem(status, &body, 404, "not-found");
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/NOSUCH").await;
    assert_problem(status, &body, 404, "not-found");
    let (status, body) = s.get("/v1/hotels/DEMO1/rooms/9999").await;
    assert_problem(status, &body, 404, "not-found");
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/NOSUCH/balance").await;
    assert_problem(status, &body, 404, "not-found");

    // Malformed bodies and parameters.
    let path = "/v1/hotels/DEMO1/reservations/CONF1001/notes";
    let r = s
        .http
        .post(s.url(path))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{\"note\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = support::read(r).await;
    assert_problem(status, &body, 400, "bad-request");
    let (status, body) = s
        .send(Method::POST, path, json!({"text": "wrong field"}))
        .await;
    assert_problem(status, &body, 400, "bad-request");
    // An empty note is well-formed but breaks a guardrail: 422, naming the rule.
    let (status, body) = s.send(Method::POST, path, json!({"note": "   "})).await;
    assert_problem(status, &body, 422, "write-refused");
    assert_eq!(body["rule"], "note.empty", "{body}");
    let charges = "/v1/hotels/DEMO1/reservations/CONF1001/charges";
    let (status, body) = s
        .send(
            Method::POST,
            charges,
            json!({"amount": 12.5, "currency": "EUR", "description": "x"}),
        )
        .await;
    assert_problem(status, &body, 400, "bad-request");
    let (status, body) = s
        .send(
            Method::POST,
            charges,
            json!({"amount": "12,50", "currency": "EUR", "description": "x"}),
        )
        .await;
    assert_problem(status, &body, 400, "bad-request");
    let (status, body) = s
        .send(
            Method::PUT,
            "/v1/hotels/DEMO1/reservations/CONF1001/checkout",
            json!({"checkoutTime": "noon"}),
        )
        .await;
    assert_problem(status, &body, 400, "bad-request");
    let (status, body) = s.get("/v1/hotels/DEMO1/arrivals?date=2024-13-45").await;
    assert_problem(status, &body, 400, "bad-request");
    let (status, body) = s.get("/v1/hotels/DEMO1/guests").await;
    assert_problem(status, &body, 400, "bad-request");
    // Another vendor's guest id is no guest of this hotel (as the document says).
    let (status, body) = s.get("/v1/hotels/DEMO1/guests/opera:123").await;
    assert_problem(status, &body, 404, "not-found");

    // Unknown route, unknown operation id.
    let (status, body) = s.get("/v1/nothing").await;
    assert_problem(status, &body, 404, "not-found");
    let (status, body) = s.get("/v1/operations/op-unknown").await;
    assert_problem(status, &body, 404, "not-found");

    // The PMS is down: a clear 503.
    s.faults(json!({"down": true})).await;
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/CONF1001").await;
    assert_problem(status, &body, 503, "pms-unavailable");
    s.faults(json!({})).await;
    let (status, _) = s.get("/v1/hotels/DEMO1/rooms").await;
    assert_eq!(status, 200);

    // A 429 is waited out and retried (tests/resilience.rs); one whose Retry-After lies beyond
    // the call's deadline comes back at once as 503 with that Retry-After.
    s.faults(json!({"rateLimited": {"count": 5, "retryAfterSeconds": 60}}))
        .await;
    let r = s
        .http
        .get(s.url("/v1/hotels/DEMO1/reservations/CONF1003"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let retry_after = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = support::read(r).await;
    assert_problem(status, &body, 503, "pms-rate-limited");
    assert_eq!(retry_after.as_deref(), Some("60"), "{body}");
}

#[tokio::test]
async fn health_endpoints_and_openapi() {
    let s = Stack::start().await;
    let r = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = s.http.get(s.url("/openapi.json")).send().await.unwrap();
    let (status, doc) = support::read(r).await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/hotels",
        "/v1/hotels/{hotel}/health",
        "/v1/hotels/{hotel}/guests/{guestId}",
        "/v1/hotels/{hotel}/guests",
        "/v1/hotels/{hotel}/guests/{guestId}/preferences",
        "/v1/hotels/{hotel}/reservations/{confirmationNumber}",
        "/v1/hotels/{hotel}/arrivals",
        "/v1/hotels/{hotel}/departures",
        "/v1/hotels/{hotel}/in-house",
        "/v1/hotels/{hotel}/reservations/{confirmationNumber}/notes",
        "/v1/hotels/{hotel}/reservations/{confirmationNumber}/checkout",
        "/v1/hotels/{hotel}/reservations/{confirmationNumber}/charges",
        "/v1/hotels/{hotel}/reservations/{confirmationNumber}/balance",
        "/v1/hotels/{hotel}/rooms",
        "/v1/hotels/{hotel}/rooms/{roomNumber}",
        "/v1/operations/{id}",
    ] {
        assert!(paths.contains_key(p), "OpenAPI lacks {p}");
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    // Health reports limiter usage and cache statistics; /metrics exposes them.
    s.get("/v1/hotels/DEMO1/rooms").await;
    s.get("/v1/hotels/DEMO1/rooms").await;
    let (status, health) = s.get("/v1/hotels/DEMO1/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["cache"]["hits"], 1, "{health}");
    assert_eq!(health["cache"]["misses"], 1, "{health}");
    let bucket = &health["rateLimits"][0];
    assert_eq!(
        (
            bucket["bucket"].as_str(),
            bucket["limit"].as_u64(),
            bucket["perSeconds"].as_u64()
        ),
        (Some("hotel:DEMO1"), Some(100), Some(60)),
        "{health}"
    );
    assert!(bucket["used"].as_u64().unwrap() >= 2, "{health}");
    let text = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Every metric carries the host's node id (`local`: one host on SQLite).
    for metric in [
        "jack_pms_calls_total{node=\"local\",hotel=\"DEMO1\",operation=\"getAllRoomStatuses\",outcome=\"ok\"} 1",
        "jack_pms_cache_lookups_total{node=\"local\",hotel=\"DEMO1\",result=\"hit\"} 1",
        "jack_pms_rate_limit_limit{node=\"local\",bucket=\"hotel:DEMO1\"} 100",
        "jack_pms_outbound_requests_total{node=\"local\",hotel=\"DEMO1\",class=\"2xx\"}",
    ] {
        assert!(text.contains(metric), "no `{metric}` in:\n{text}");
    }
}

/// Runs the `jack-pms` binary with `args` and the stack's keys in its environment.
fn jack_pms(s: &Stack, args: &[&str]) -> std::process::Output {
    s.cli(args)
}

#[tokio::test]
async fn the_cli_calls_one_operation_and_inspects_components() {
    let s = Stack::start().await;
    let config = s.dir.path().join("config.yaml");
    let config = config.to_str().unwrap();
    let out = jack_pms(
        &s,
        &[
            "call",
            "--config",
            config,
            "DEMO1",
            "getReservation",
            "confirmation=CONF1001",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["confirmationNumber"], "CONF1001");

    // --trace: each outbound request of the adapter on stderr, credentials never.
    let out = jack_pms(
        &s,
        &[
            "call",
            "--config",
            config,
            "DEMO1",
            "getReservation",
            "confirmation=CONF1001",
            "--trace",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("outbound request")
            && stderr.contains("/api/v1/hotels/DEMO1/reservations/CONF1001"),
        "{stderr}"
    );
    assert!(!stderr.contains(&s.key), "the trace shows a credential");

    let out = jack_pms(
        &s,
        &["call", "--config", config, "DEMO1", "getReservations"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown operation"));
    let out = jack_pms(
        &s,
        &[
            "call",
            "--config",
            config,
            "DEMO1",
            "getReservation",
            "number=1",
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs `confirmation=…`"));

    let adapters = support::adapters_dir();
    let mock = adapters.join("mock.wasm");
    let out = jack_pms(
        &s,
        &["adapter", "inspect", "--json", mock.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["wit"], "jack:pms@0.1.0");
    assert_eq!(report["manifest"]["auth"], "api-key-header");
    assert_eq!(report["manifest"]["secrets"], json!(["apiKey"]));
    assert_eq!(
        report["sha256"].as_str().unwrap(),
        support::sha256_hex(&std::fs::read(&mock).unwrap())
    );

    // The reviewer's report: the contract's docs for each import and export…
    let http = report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "jack:pms/http@0.1.0")
        .expect("http import");
    assert!(
        http["docs"]["docs"]
            .as_str()
            .unwrap()
            .contains("only way out of the sandbox")
    );
    assert_eq!(report["exports"][0]["name"], "jack:pms/adapter@0.1.0");
    assert_eq!(
        report["exports"][0]["docs"]["functions"]
            .as_array()
            .unwrap()
            .len(),
        16
    );
    // …and, for a hotel of a config, where it may connect, whence its secrets come, its limits.
    let config = s.config_path();
    let out = jack_pms(
        &s,
        &[
            "adapter",
            "inspect",
            "--json",
            mock.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--hotel",
            "DEMO1",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let hotel = &report["hotel"];
    assert_eq!(
        hotel["allowedOrigins"],
        json!([format!("http://127.0.0.1:{}", s.mock.port())]),
        "{hotel}"
    );
    assert_eq!(
        hotel["secrets"]["apiKey"],
        "environment variable TEST_HOTEL_KEY"
    );
    assert_eq!(hotel["rateLimits"][0]["from"], "manifest");
    assert_eq!(hotel["limits"]["memoryMib"], 64);
    assert!(hotel["pin"].as_str().unwrap().contains("not pinned"));

    let fs_reader = adapters.join("fs_reader.wasm");
    let out = jack_pms(&s, &["adapter", "inspect", fs_reader.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("filesystem access is never granted"));
}

#[tokio::test]
async fn a_reload_adds_and_removes_hotels_without_a_restart() {
    let s = Stack::start().await;
    let config_path = s.config_path();
    let original = std::fs::read_to_string(&config_path).unwrap();
    let (status, _) = s.get("/v1/hotels/DEMO3/reservations/CONF2001").await;
    assert_eq!(status, 404, "DEMO3 is not configured yet");

    // A new hotel in the file, then a reload: it serves at once.
    let with_demo3 = format!(
        "{original}  - id: DEMO3\n    adapter: mock\n    settings: {{ baseUrl: \"http://127.0.0.1:{}\", hotelId: DEMO2 }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n",
        s.mock.port()
    );
    std::fs::write(&config_path, &with_demo3).unwrap();
    let (status, report) = s
        .send(reqwest::Method::POST, "/v1/admin/reload", json!({}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["added"], json!(["DEMO3"]), "{report}");
    assert!(
        report["rebound"]
            .as_array()
            .unwrap()
            .contains(&json!("DEMO1"))
    );
    let (status, hotels) = s.get("/v1/hotels").await;
    assert_eq!(status, 200);
    assert!(
        hotels
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == "DEMO3" && h["status"] == "ready"),
        "{hotels}"
    );
    let (_, hotel) = s.get("/v1/hotels/DEMO2/in-house").await;
    let (status, in_house) = s.get("/v1/hotels/DEMO3/in-house").await;
    assert_eq!(status, 200, "{in_house}");
    assert_eq!(
        in_house["data"], hotel["data"],
        "DEMO3 reads DEMO2's PMS data"
    );

    // An invalid config changes nothing: DEMO3 keeps serving.
    std::fs::write(&config_path, format!("{with_demo3}  - id: [oops\n")).unwrap();
    let (status, problem) = s
        .send(reqwest::Method::POST, "/v1/admin/reload", json!({}))
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("not reloaded"),
        "{problem}"
    );
    let (status, _) = s.get("/v1/hotels/DEMO3/in-house").await;
    assert_eq!(status, 200);

    // SIGHUP reloads too: back to the original file, DEMO3 is gone.
    std::fs::write(&config_path, &original).unwrap();
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &s.pid().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(hup.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, _) = s.get("/v1/hotels/DEMO3/in-house").await;
        if status == 404 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "DEMO3 still served after SIGHUP:\n{}",
            s.logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(s.logs().contains("config reloaded"));
}

/// The hotel's calendar date now in `zone`.
fn local_date(zone: &str) -> String {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get(zone).unwrap())
        .date()
        .to_string()
}

/// "Today" is the hotel's: at any moment one of two zones is on another date than UTC
/// (Kiritimati, UTC+14, from 10:00 UTC; Pago Pago, UTC-11, before 11:00 UTC). A hotel there gets
/// its own date's arrivals and departures when the caller names no date, its health says which
/// zone and date it is on, and its arrivals sync fetches its own today and tomorrow.
#[tokio::test]
async fn today_is_the_hotels_date_not_utcs() {
    use chrono::Timelike;
    let zone = if chrono::Utc::now().hour() >= 10 {
        "Pacific/Kiritimati"
    } else {
        "Pacific/Pago_Pago"
    };
    let rare = "{ schedule: \"0 0 1 1 *\", lookAheadDays: 1 }";
    let s = Stack::start_with(support::StackOptions {
        sync: true,
        pms: format!(
            "  sync:\n    arrivals: {rare}\n    departures: {rare}\n    inHouse: {rare}\n    roomStatus: {rare}\n"
        ),
        extra_hotels: format!(
            "  - id: FAR\n    adapter: mock\n    timeZone: {zone}\n    settings: {{ baseUrl: \"http://127.0.0.1:{{mock_port}}\", hotelId: DEMO1 }}\n    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}\n"
        ),
        ..Default::default()
    })
    .await;
    let hotel = seed_hotel("DEMO1");
    // The mock PMS lays its seed out around UTC's date when it started.
    let mock_today = chrono::Utc::now().date_naive();
    let arrives_on = |r: &Value, date: &str| {
        (mock_today + chrono::Duration::days(r["arrivalOffsetDays"].as_i64().unwrap()))
            .format("%Y-%m-%d")
            .to_string()
            == date
    };
    let departs_on = |r: &Value, date: &str| {
        let days = r["arrivalOffsetDays"].as_i64().unwrap() + r["nights"].as_i64().unwrap();
        (mock_today + chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
            == date
    };

    // Read the hotel's date on both sides of the request, so a local midnight in between is
    // noticed and the check repeated rather than misjudged.
    for _ in 0..3 {
        let date = local_date(zone);
        assert_ne!(
            date,
            today(),
            "{zone} is on UTC's date: the test chose the wrong zone"
        );
        let (status, arrivals) = s.get("/v1/hotels/FAR/arrivals").await;
        let (_, departures) = s.get("/v1/hotels/FAR/departures").await;
        let (_, health) = s.get("/v1/hotels/FAR/health").await;
        if local_date(zone) != date {
            continue;
        }
        assert_eq!(status, 200, "{arrivals}");
        assert_eq!(
            confirmations(&arrivals),
            expected_confirmations(&hotel, |r| arrives_on(r, &date)),
            "arrivals of {date} at {zone}"
        );
        assert_eq!(
            confirmations(&departures),
            expected_confirmations(&hotel, |r| departs_on(r, &date))
        );
        assert_eq!(health["timeZone"], json!(zone), "{health}");
        assert_eq!(health["timeZoneSource"], json!("config"));
        assert_eq!(health["localDate"], json!(date));

        // The sync's "today and one day ahead" are the hotel's dates too.
        let (status, run) = s
            .send(Method::POST, "/v1/hotels/FAR/sync/arrivals", json!({}))
            .await;
        assert_eq!(status, 200, "{run}");
        let tomorrow = jiff::civil::Date::strptime("%Y-%m-%d", &date)
            .unwrap()
            .tomorrow()
            .unwrap()
            .to_string();
        let expected =
            expected_confirmations(&hotel, |r| arrives_on(r, &date) || arrives_on(r, &tomorrow))
                .len();
        if local_date(zone) == date {
            assert_eq!(run["items"], json!(expected), "{run}");
        }
        // DEMO1 names no zone: its today is UTC's, and its health says it assumed so.
        let (_, demo) = s.get("/v1/hotels/DEMO1/health").await;
        assert_eq!(demo["timeZone"], json!("UTC"), "{demo}");
        assert_eq!(demo["timeZoneSource"], json!("default"));
        return;
    }
    panic!("the hotel's date kept changing under the test");
}

/// What the framework answers (an oversized or non-JSON body, an unknown method, a path or
/// header it cannot take) is a problem like the handlers' answers, with the headers it needs,
/// and the document served is the one the client is generated from.
#[tokio::test]
async fn every_error_is_a_problem_and_the_document_is_the_committed_one() {
    let s = Stack::start().await;
    let problem_of = |r: reqwest::Response| async move {
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert_eq!(content_type, "application/problem+json");
        support::read(r).await
    };
    let note_url = s.url("/v1/hotels/DEMO1/reservations/CONF1001/notes");

    // A body over the limit: 413, before anything is parsed or stored.
    let huge = json!({ "note": "x".repeat(jack_pms_host::api::MAX_BODY_BYTES + 1) });
    let r = s
        .http
        .post(&note_url)
        .bearer_auth(TOKEN)
        .json(&huge)
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(r).await;
    assert_problem(status, &body, 413, "payload-too-large");

    // A body that is not JSON: 415.
    let r = s
        .http
        .post(&note_url)
        .bearer_auth(TOKEN)
        .body("note=hi")
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(r).await;
    assert_problem(status, &body, 415, "unsupported-media-type");

    // An unknown method: 405 with Allow.
    let r = s
        .http
        .delete(&note_url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let allow = r
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = problem_of(r).await;
    assert_problem(status, &body, 405, "method-not-allowed");
    assert_eq!(allow.as_deref(), Some("POST"), "{body}");

    // A stream that does not exist, a Last-Event-ID that is not an id, a key with a space: 400.
    let (status, body) = s
        .send(Method::POST, "/v1/hotels/DEMO1/sync/everything", json!({}))
        .await;
    assert_problem(status, &body, 400, "bad-request");
    let r = s
        .http
        .get(s.url("/v1/events"))
        .bearer_auth(TOKEN)
        .header("last-event-id", "latest")
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(r).await;
    assert_problem(status, &body, 400, "bad-request");
    let r = s
        .http
        .post(&note_url)
        .bearer_auth(TOKEN)
        .header("idempotency-key", "two words")
        .json(&json!({ "note": "hi" }))
        .send()
        .await
        .unwrap();
    let (status, body) = problem_of(r).await;
    assert_problem(status, &body, 400, "bad-request");

    // The served document is the committed copy the TypeScript client is generated from.
    let (status, served) = s.get("/openapi.json").await;
    assert_eq!(status, 200);
    let committed: Value = serde_json::from_str(include_str!("../sdk/typescript/openapi.json"))
        .expect("the committed document is JSON");
    assert!(
        served == committed,
        "sdk/typescript/openapi.json is not what the host serves"
    );
    let link = &served["paths"]["/v1/hotels/{hotel}/reservations/{confirmationNumber}/notes"]["post"]
        ["responses"]["202"]["links"]["operation"];
    assert_eq!(link["operationId"], "getOperation", "{link}");
}
