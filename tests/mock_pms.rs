//! End-to-end tests of the mock PMS over real HTTP on 127.0.0.1, using the example seed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeDelta, Utc};
use jack_pms_host::mock_pms::{
    FailNext, Faults, MockPms, OAuthConfig, Outage, RateLimited, Seed, SeedError,
    TimeoutAfterApply, load_seed,
};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::oneshot;

const KEY: &str = "test-key-3f9a";

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2030, 6, 15).unwrap()
}

fn day(offset: i64) -> String {
    (today() + TimeDelta::days(offset)).to_string()
}

fn example_seed_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/mock-seed.json")
}

fn example_seed() -> Seed {
    load_seed(&example_seed_path()).unwrap()
}

/// A mock PMS serving on an ephemeral loopback port; stops when dropped.
struct Server {
    base: String,
    pms: MockPms,
    client: reqwest::Client,
    _stop: oneshot::Sender<()>,
}

fn new_pms() -> MockPms {
    MockPms::new(example_seed(), SecretString::from(KEY), today()).unwrap()
}

async fn start() -> Server {
    serve(new_pms()).await
}

async fn serve(pms: MockPms) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(pms.clone().serve(listener, async move {
        let _ = stopped.await;
    }));
    Server {
        base,
        pms,
        client: reqwest::Client::new(),
        _stop: stop,
    }
}

impl Server {
    /// Sends a request with the API key; returns status, headers and JSON body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, headers, value)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.call(Method::GET, path, None).await;
        (status, body)
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.call(method, path, Some(body)).await;
        (status, body)
    }

    async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.json().await.unwrap())
    }
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}

fn confirmations(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["confirmation"].as_str().unwrap().to_owned())
        .collect()
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_owned())
        .collect()
}

// ---- auth, reads -------------------------------------------------------------------------

#[tokio::test]
async fn api_key_is_required_and_admin_is_open() {
    let server = start().await;
    let url = format!("{}/api/v1/hotels/DEMO1/ping", server.base);
    let missing = server.client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&missing.json().await.unwrap()), "UNAUTHORIZED");
    let wrong = server
        .client
        .get(&url)
        .header("x-api-key", "test-key-3f9b")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let short = server
        .client
        .get(&url)
        .header("x-api-key", "test")
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(
        server.get("/api/v1/hotels/DEMO1/ping").await,
        (StatusCode::OK, json!({"status": "ok", "version": "mock-1"}))
    );
    assert_eq!(
        server.admin(Method::GET, "/admin/health", None).await,
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let stats = server.pms.stats();
    assert_eq!(stats.rejected.unauthorized, 3);
    assert_eq!(stats.total_requests, 4);
    assert!(
        !format!("{:?}", server.pms).contains(KEY),
        "the key must not show in Debug output"
    );
}

#[tokio::test]
async fn unknown_hotel_route_and_method_get_json_errors() {
    let server = start().await;
    let (status, body) = server.get("/api/v1/hotels/NOPE/ping").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, body) = server.get("/api/v1/hotels/DEMO1/nothing-here").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, body) = server
        .send(
            Method::DELETE,
            "/api/v1/hotels/DEMO1/guests/G1001",
            json!({}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED")
    );
    let not_json = server
        .client
        .post(format!(
            "{}/api/v1/hotels/DEMO1/reservations/CONF1001/notes",
            server.base
        ))
        .header("x-api-key", KEY)
        .body("text=hi")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        error_code(&not_json.json().await.unwrap()),
        "UNSUPPORTED_MEDIA_TYPE"
    );
    assert_eq!(
        server.pms.stats().by_route["GET /api/v1/{*rest}"],
        1,
        "unknown paths are counted"
    );
    let (status, body) = server.admin(Method::GET, "/elsewhere", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
}

#[tokio::test]
async fn guest_by_id_is_served_as_seeded() {
    let server = start().await;
    let (status, guest) = server.get("/api/v1/hotels/DEMO1/guests/G1001").await;
    assert_eq!(status, StatusCode::OK);
    let seeded = serde_json::to_value(&example_seed().hotels[0].guests[0]).unwrap();
    assert_eq!(guest, seeded);
    assert_eq!(guest["givenName"], "Sarah");
    assert_eq!(
        guest["emails"][0],
        json!({"address": "sarah.chen@example.com", "primary": true})
    );
    assert_eq!(
        guest["preferences"][0],
        json!({"group": "PILLOW", "code": "FEATHER", "text": "Feather pillows"})
    );
    assert_eq!(guest["membershipLevel"], "GOLD");

    let (status, body) = server.get("/api/v1/hotels/DEMO1/guests/G9999").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, _) = server.get("/api/v1/hotels/DEMO2/guests/G1001").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "guests belong to one hotel");
}

#[tokio::test]
async fn guest_search_by_email_phone_and_name() {
    let server = start().await;
    let search =
        |query: &'static str| server.get_owned(format!("/api/v1/hotels/DEMO1/guests?{query}"));
    let (_, body) = search("email=SARAH.CHEN@Example.com").await;
    assert_eq!(ids(&body), ["G1001"]);
    let (_, body) = search("email=p.raman%40work.example.com").await;
    assert_eq!(ids(&body), ["G1008"], "secondary emails match too");
    let (_, body) = search("email=chen@example.com").await;
    assert_eq!(ids(&body), Vec::<String>::new(), "email is an exact match");
    let (_, body) = search("phone=%2B31623456789").await;
    assert_eq!(
        ids(&body),
        ["G1002"],
        "spaces in the stored number are ignored"
    );
    let (_, body) = search("phone=%2B44-20-7946-0958").await;
    assert_eq!(ids(&body), ["G1004"]);
    let (_, body) = search("name=CHEN").await;
    assert_eq!(ids(&body), ["G1001"]);
    let (_, body) = search("name=sarah%20chen").await;
    assert_eq!(ids(&body), ["G1001"], "name matches \"givenName surname\"");
    let (_, body) = search("name=ar").await;
    assert_eq!(ids(&body), ["G1001", "G1006", "G1007"]);
    let (_, body) = search("name=ar&email=marta.kowalska@example.com").await;
    assert_eq!(ids(&body), ["G1006"], "filters combine with AND");
    let (_, body) = search("").await;
    assert_eq!(body["totalItems"], 8);
    let (status, body) = search("email=").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST")
    );
}

impl Server {
    async fn get_owned(&self, path: String) -> (StatusCode, Value) {
        self.get(&path).await
    }
}

#[tokio::test]
async fn pagination_walks_to_the_end() {
    let server = start().await;
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let (status, body) = server
            .get(&format!(
                "/api/v1/hotels/DEMO1/guests?page={page}&pageSize=3"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (body["page"].as_u64(), body["pageSize"].as_u64()),
            (Some(page), Some(3))
        );
        assert_eq!(
            (body["totalPages"].as_u64(), body["totalItems"].as_u64()),
            (Some(3), Some(8))
        );
        seen.extend(ids(&body));
        if page == body["totalPages"].as_u64().unwrap() {
            break;
        }
        page += 1;
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(
        seen.iter().collect::<BTreeSet<_>>().len(),
        8,
        "no guest appears twice"
    );

    let (_, past_end) = server
        .get("/api/v1/hotels/DEMO1/guests?page=4&pageSize=3")
        .await;
    assert_eq!(
        (
            past_end["items"].as_array().unwrap().len(),
            past_end["totalPages"].as_u64()
        ),
        (0, Some(3))
    );
    let (_, defaults) = server.get("/api/v1/hotels/DEMO1/rooms").await;
    assert_eq!(
        (defaults["page"].as_u64(), defaults["pageSize"].as_u64()),
        (Some(1), Some(50))
    );
    assert_eq!(defaults["items"].as_array().unwrap().len(), 12);
    let (_, clamped) = server.get("/api/v1/hotels/DEMO1/rooms?pageSize=5000").await;
    assert_eq!(clamped["pageSize"], 100);
    let (_, empty) = server
        .get("/api/v1/hotels/DEMO1/guests?name=nobody-by-this-name")
        .await;
    assert_eq!(
        (empty["totalPages"].as_u64(), empty["totalItems"].as_u64()),
        (Some(1), Some(0))
    );
    for bad in [
        "page=0",
        "page=-1",
        "page=abc",
        "pageSize=0",
        "pageSize=1.5",
    ] {
        let (status, body) = server
            .get(&format!("/api/v1/hotels/DEMO1/rooms?{bad}"))
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn rooms_are_listed_and_found() {
    let server = start().await;
    let (status, room) = server.get("/api/v1/hotels/DEMO1/rooms/105").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (room["number"].as_str(), room["housekeeping"].as_str()),
        (Some("105"), Some("OUT_OF_ORDER"))
    );
    assert_eq!(room["occupied"], false);
    assert!(room["updatedAt"].is_string());
    let (status, _) = server.get("/api/v1/hotels/DEMO1/rooms/999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, rooms) = server.get("/api/v1/hotels/DEMO2/rooms").await;
    assert_eq!(rooms["totalItems"], 4);
}

#[tokio::test]
async fn reservation_is_served_with_dates_relative_to_today() {
    let server = start().await;
    let (status, r) = server
        .get("/api/v1/hotels/DEMO1/reservations/CONF1001")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(r["id"], "R5001");
    assert_eq!(r["guestId"], "G1001");
    assert_eq!(r["guestName"], "Sarah Chen");
    assert_eq!(r["state"], "IN_HOUSE");
    assert_eq!(
        (
            r["arrival"].as_str().unwrap(),
            r["departure"].as_str().unwrap()
        ),
        (&*day(-1), &*day(2))
    );
    assert_eq!(r["checkoutTime"], Value::Null);
    assert_eq!(
        (r["room"].as_str(), r["roomType"].as_str()),
        (Some("101"), Some("KING"))
    );
    assert_eq!(
        (r["adults"].as_u64(), r["children"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(r["comments"][0]["text"], "Late arrival");
    chrono::DateTime::parse_from_rfc3339(r["comments"][0]["createdAt"].as_str().unwrap()).unwrap();
    let (_, unassigned) = server
        .get("/api/v1/hotels/DEMO1/reservations/CONF1006")
        .await;
    assert!(unassigned.get("room").is_none());
    let (status, _) = server.get("/api/v1/hotels/DEMO1/reservations/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reservation_filters_match_the_seed() {
    let server = start().await;
    let seed = example_seed();
    let list =
        |query: String| server.get_owned(format!("/api/v1/hotels/DEMO1/reservations?{query}"));
    // Expected lists computed from the seed itself, for each day around today.
    for offset in -3..=5 {
        let expect = |pick: &dyn Fn(i64, i64) -> bool| {
            let mut found: Vec<String> = seed.hotels[0]
                .reservations
                .iter()
                .filter(|r| {
                    pick(
                        r.arrival_offset_days,
                        r.arrival_offset_days + i64::from(r.nights),
                    )
                })
                .map(|r| r.confirmation.clone())
                .collect();
            found.sort();
            found
        };
        let (_, arrivals) = list(format!("arrival={}", day(offset))).await;
        assert_eq!(
            confirmations(&arrivals),
            expect(&|a, _| a == offset),
            "arrivals on day {offset}"
        );
        let (_, departures) = list(format!("departure={}", day(offset))).await;
        assert_eq!(
            confirmations(&departures),
            expect(&|_, d| d == offset),
            "departures on day {offset}"
        );
    }
    // And the scenario the seed promises, spelled out.
    let (_, arrivals) = list(format!("arrival={}", day(0))).await;
    assert_eq!(
        confirmations(&arrivals),
        ["CONF1005", "CONF1006", "CONF1011"]
    );
    let (_, tomorrow) = list(format!("arrival={}", day(1))).await;
    assert_eq!(confirmations(&tomorrow), ["CONF1007", "CONF1009"]);
    let (_, departures) = list(format!("departure={}", day(0))).await;
    assert_eq!(
        confirmations(&departures),
        ["CONF1002", "CONF1003", "CONF1010"]
    );
    let (_, in_house) = list("state=IN_HOUSE".into()).await;
    assert_eq!(
        confirmations(&in_house),
        ["CONF1001", "CONF1004", "CONF1008"]
    );
    let (_, both) = list(format!("arrival={}&state=RESERVED", day(0))).await;
    assert_eq!(confirmations(&both), ["CONF1005", "CONF1006"]);
    let (_, all) = list(String::new()).await;
    assert_eq!(all["totalItems"], 12);

    for bad in [
        "arrival=2030-13-01",
        "departure=tomorrow",
        "state=SLEEPING",
        "arrival=15-06-2030",
    ] {
        let (status, body) = list(bad.into()).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            "{bad}"
        );
    }
}

// ---- writes ------------------------------------------------------------------------------

#[tokio::test]
async fn note_is_appended_to_comments() {
    let server = start().await;
    let path = "/api/v1/hotels/DEMO1/reservations/CONF1001/notes";
    let (status, ack) = server
        .send(
            Method::POST,
            path,
            json!({"operationId": "op-note-1", "text": "Extra towels"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(ack["requestId"].as_str().unwrap().starts_with("mock-req-"));
    let (_, r) = server
        .get("/api/v1/hotels/DEMO1/reservations/CONF1001")
        .await;
    let texts: Vec<&str> = r["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Late arrival", "Extra towels"]);

    let (status, body) = server
        .send(
            Method::POST,
            path,
            json!({"operationId": "op-note-2", "text": "  "}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST")
    );
    let (status, body) = server
        .send(Method::POST, path, json!({"text": "no operation id"}))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST")
    );
    let missing = "/api/v1/hotels/DEMO1/reservations/NOPE/notes";
    let (status, _) = server
        .send(
            Method::POST,
            missing,
            json!({"operationId": "op-note-3", "text": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn charges_change_the_folio_balance_exactly() {
    let server = start().await;
    let folio_path = "/api/v1/hotels/DEMO1/reservations/CONF1001/folio";
    let (_, folio) = server.get(folio_path).await;
    assert_eq!(
        folio["balance"],
        json!({"amount": "51.50", "currency": "EUR"})
    );
    assert_eq!(folio["postings"].as_array().unwrap().len(), 2);

    let charges = "/api/v1/hotels/DEMO1/reservations/CONF1001/charges";
    for (op, amount) in [
        ("op-c1", "12.50"),
        ("op-c2", "0.1"),
        ("op-c3", "0.20"),
        ("op-c4", "3"),
    ] {
        let body = json!({"operationId": op, "amount": amount, "currency": "EUR", "description": "Bar", "code": "BAR"});
        assert_eq!(
            server.send(Method::POST, charges, body).await.0,
            StatusCode::OK
        );
    }
    // 51.50 + 12.50 + 0.10 + 0.20 + 3.00: with floats 0.1 + 0.2 would already drift.
    let (_, folio) = server.get(folio_path).await;
    assert_eq!(
        folio["balance"],
        json!({"amount": "67.30", "currency": "EUR"})
    );
    let last = folio["postings"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["operationId"].as_str(), last["amount"].as_str()),
        (Some("op-c4"), Some("3.00"))
    );
    assert_eq!(
        (last["currency"].as_str(), last["code"].as_str()),
        (Some("EUR"), Some("BAR"))
    );
    chrono::DateTime::parse_from_rfc3339(last["postedAt"].as_str().unwrap()).unwrap();

    let wrong_currency =
        json!({"operationId": "op-c5", "amount": "1.00", "currency": "USD", "description": "Bar"});
    let (status, body) = server.send(Method::POST, charges, wrong_currency).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST")
    );
    for amount in ["12.505", "1e3", "", "ten"] {
        let body = json!({"operationId": "op-c6", "amount": amount, "currency": "EUR", "description": "Bar", "code": null});
        assert_eq!(
            server.send(Method::POST, charges, body).await.0,
            StatusCode::BAD_REQUEST,
            "{amount}"
        );
    }
    let (_, folio) = server.get(folio_path).await;
    assert_eq!(
        folio["balance"]["amount"], "67.30",
        "rejected charges change nothing"
    );
    let (_, refunded) = server
        .get("/api/v1/hotels/DEMO1/reservations/CONF1010/folio")
        .await;
    assert_eq!(refunded["balance"]["amount"], "0.00");
    let (_, usd) = server
        .get("/api/v1/hotels/DEMO2/reservations/PDX2001/folio")
        .await;
    assert_eq!(
        usd["balance"],
        json!({"amount": "38.75", "currency": "USD"})
    );
}

#[tokio::test]
async fn checkout_time_is_set_and_validated() {
    let server = start().await;
    let path = "/api/v1/hotels/DEMO1/reservations/CONF1002/checkout";
    let time = "2030-06-15T13:30:00+02:00";
    let (status, _) = server
        .send(
            Method::PUT,
            path,
            json!({"operationId": "op-co-1", "checkoutTime": time}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, r) = server
        .get("/api/v1/hotels/DEMO1/reservations/CONF1002")
        .await;
    assert_eq!(r["checkoutTime"], time);

    let (status, body) = server
        .send(
            Method::PUT,
            path,
            json!({"operationId": "op-co-2", "checkoutTime": "1pm"}),
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::BAD_REQUEST, "BAD_REQUEST")
    );
    for done in ["CONF1010", "CONF1011"] {
        let path = format!("/api/v1/hotels/DEMO1/reservations/{done}/checkout");
        let (status, body) = server
            .send(
                Method::PUT,
                &path,
                json!({"operationId": format!("op-{done}"), "checkoutTime": time}),
            )
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::CONFLICT, "CONFLICT"),
            "{done}"
        );
    }
}

#[tokio::test]
async fn preferences_are_replaced() {
    let server = start().await;
    let prefs = json!([{"group": "PILLOW", "code": "FOAM"}, {"group": "ROOM", "code": "QUIET", "text": "Quiet room"}]);
    let path = "/api/v1/hotels/DEMO1/guests/G1001/preferences";
    let (status, _) = server
        .send(
            Method::PUT,
            path,
            json!({"operationId": "op-p-1", "preferences": prefs}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, guest) = server.get("/api/v1/hotels/DEMO1/guests/G1001").await;
    assert_eq!(guest["preferences"], prefs);
    let missing = "/api/v1/hotels/DEMO1/guests/G9999/preferences";
    let (status, _) = server
        .send(
            Method::PUT,
            missing,
            json!({"operationId": "op-p-2", "preferences": []}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server
        .send(
            Method::PUT,
            path,
            json!({"operationId": "op-p-3", "preferences": "none"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn replayed_operation_is_applied_once_and_can_be_looked_up() {
    let server = start().await;
    let path = "/api/v1/hotels/DEMO1/reservations/CONF1004/notes";
    let note = json!({"operationId": "op-replay", "text": "Crib in room"});
    let (_, first) = server.send(Method::POST, path, note.clone()).await;
    let (status, second) = server.send(Method::POST, path, note).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["requestId"], second["requestId"]);
    let (_, r) = server
        .get("/api/v1/hotels/DEMO1/reservations/CONF1004")
        .await;
    let cribs = r["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["text"] == "Crib in room")
        .count();
    assert_eq!(cribs, 1);

    let charge = json!({"operationId": "op-replay-charge", "amount": "10.00", "currency": "EUR", "description": "Bar"});
    let charges = "/api/v1/hotels/DEMO1/reservations/CONF1004/charges";
    server.send(Method::POST, charges, charge.clone()).await;
    server.send(Method::POST, charges, charge).await;
    let (_, folio) = server
        .get("/api/v1/hotels/DEMO1/reservations/CONF1004/folio")
        .await;
    assert_eq!(
        folio["balance"]["amount"], "60.00",
        "50.00 seeded + one 10.00 charge"
    );

    let (status, op) = server
        .get("/api/v1/hotels/DEMO1/operations/op-replay")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        op,
        json!({"operationId": "op-replay", "kind": "note", "target": "CONF1004", "requestId": first["requestId"]})
    );
    let (_, op) = server
        .get("/api/v1/hotels/DEMO1/operations/op-replay-charge")
        .await;
    assert_eq!(op["kind"], "charge");
    let (status, _) = server
        .get("/api/v1/hotels/DEMO1/operations/never-sent")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = server
        .get("/api/v1/hotels/DEMO2/operations/op-replay")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "operations are per hotel");
    let stats = server.pms.stats();
    assert_eq!((stats.writes_applied, stats.writes_deduplicated), (2, 2));
}

#[tokio::test]
async fn echo_returns_everything_including_the_key() {
    let server = start().await;
    let response = server
        .client
        .patch(format!("{}/api/v1/echo?a=1&b=two", server.base))
        .header("x-api-key", KEY)
        .header("x-custom", "yes")
        .body("hello body")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let echo: Value = response.json().await.unwrap();
    assert_eq!(echo["method"], "PATCH");
    assert_eq!(echo["path"], "/api/v1/echo");
    assert_eq!(echo["query"], "a=1&b=two");
    assert_eq!(echo["headers"]["x-api-key"], KEY);
    assert_eq!(echo["headers"]["x-custom"], "yes");
    assert_eq!(echo["body"], "hello body");
}

// ---- faults and stats --------------------------------------------------------------------

#[tokio::test]
async fn down_and_outage_answer_503() {
    let server = start().await;
    let ping = "/api/v1/hotels/DEMO1/ping";
    server.pms.set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let (status, body) = server.get(ping).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE")
    );
    assert_eq!(
        server.admin(Method::GET, "/admin/health", None).await.0,
        StatusCode::OK,
        "admin is never faulted"
    );

    let now = Utc::now();
    let inside = Outage {
        from: now - TimeDelta::minutes(1),
        until: now + TimeDelta::minutes(1),
    };
    server.pms.set_faults(Faults {
        outage: Some(inside),
        ..Faults::default()
    });
    assert_eq!(server.get(ping).await.0, StatusCode::SERVICE_UNAVAILABLE);
    // Through the admin API, with an outage that is already over.
    let past = json!({"outage": {"from": (now - TimeDelta::hours(2)).to_rfc3339(), "until": (now - TimeDelta::hours(1)).to_rfc3339()}});
    let (status, set) = server.admin(Method::PUT, "/admin/faults", Some(past)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        set["errorStatus"], 503,
        "unspecified fields take their defaults"
    );
    assert_eq!(server.get(ping).await.0, StatusCode::OK);
    assert_eq!(server.pms.stats().rejected.faults, 2);
}

#[tokio::test]
async fn forced_rate_limit_sends_retry_after() {
    let server = start().await;
    let faults = Faults {
        rate_limited: RateLimited {
            count: 2,
            retry_after_seconds: 7,
        },
        ..Faults::default()
    };
    server.pms.set_faults(faults);
    for _ in 0..2 {
        let (status, headers, body) = server
            .call(Method::GET, "/api/v1/hotels/DEMO1/ping", None)
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
        );
        assert_eq!(headers["retry-after"], "7");
    }
    assert_eq!(
        server.get("/api/v1/hotels/DEMO1/ping").await.0,
        StatusCode::OK
    );
    let (_, faults) = server.admin(Method::GET, "/admin/faults", None).await;
    assert_eq!(
        faults["rateLimited"],
        json!({"count": 0, "retryAfterSeconds": 7})
    );
}

#[tokio::test]
async fn requests_per_minute_is_enforced() {
    let server = start().await;
    server.pms.set_faults(Faults {
        requests_per_minute: Some(3),
        ..Faults::default()
    });
    for _ in 0..3 {
        assert_eq!(
            server.get("/api/v1/hotels/DEMO1/ping").await.0,
            StatusCode::OK
        );
    }
    let (status, headers, _) = server
        .call(Method::GET, "/api/v1/hotels/DEMO1/ping", None)
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (59..=60).contains(&retry),
        "a slot frees a minute after the first request, got {retry}"
    );
}

#[tokio::test]
async fn error_rate_one_always_fails_with_the_configured_status() {
    let server = start().await;
    server.pms.set_faults(Faults {
        error_rate: 1.0,
        error_status: 500,
        ..Faults::default()
    });
    for _ in 0..5 {
        let (status, body) = server.get("/api/v1/hotels/DEMO1/ping").await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
        );
    }
    server.pms.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(
        server.get("/api/v1/hotels/DEMO1/ping").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    server.pms.set_faults(Faults::default());
    assert_eq!(
        server.get("/api/v1/hotels/DEMO1/ping").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let server = start().await;
    server.pms.set_faults(Faults {
        latency_ms: 300,
        ..Faults::default()
    });
    let started = Instant::now();
    assert_eq!(
        server.get("/api/v1/hotels/DEMO1/ping").await.0,
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(server.pms.faults().latency_ms, 300);
}

#[tokio::test]
async fn bad_faults_are_refused() {
    let server = start().await;
    for bad in [
        json!({"errorRate": 2.0}),
        json!({"errorStatus": 200}),
        json!({"latency": 5}),
        json!({"down": "yes"}),
    ] {
        let (status, body) = server
            .admin(Method::PUT, "/admin/faults", Some(bad.clone()))
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            "{bad}"
        );
    }
    assert_eq!(server.pms.faults(), Faults::default());
}

#[tokio::test]
async fn stats_count_routes_hotels_and_rates() {
    let server = start().await;
    for _ in 0..3 {
        server.get("/api/v1/hotels/DEMO1/guests/G1001").await;
    }
    server.get("/api/v1/hotels/DEMO2/ping").await;
    server.get("/api/v1/hotels/NOPE/ping").await;
    server
        .client
        .get(format!("{}/api/v1/hotels/DEMO1/rooms", server.base))
        .send()
        .await
        .unwrap();
    let (status, stats) = server.admin(Method::GET, "/admin/stats", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["totalRequests"], 6);
    assert_eq!(
        stats["byRoute"]["GET /api/v1/hotels/{hotel}/guests/{guestId}"],
        3
    );
    assert_eq!(stats["byRoute"]["GET /api/v1/hotels/{hotel}/ping"], 2);
    assert_eq!(stats["byRoute"]["GET /api/v1/hotels/{hotel}/rooms"], 1);
    assert_eq!(stats["byHotel"], json!({"DEMO1": 4, "DEMO2": 1}));
    assert_eq!(stats["rejected"], json!({"unauthorized": 1, "faults": 0}));
    assert_eq!(stats["maxRequestsInAnyMinute"], 5, "accepted requests only");
    assert!((1..=5).contains(&stats["maxRequestsInAnySecond"].as_u64().unwrap()));
    assert_eq!(
        (
            stats["writesApplied"].as_u64(),
            stats["writesDeduplicated"].as_u64()
        ),
        (Some(0), Some(0))
    );

    let (status, _) = server.admin(Method::POST, "/admin/reset-stats", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, stats) = server.admin(Method::GET, "/admin/stats", None).await;
    assert_eq!(stats["totalRequests"], 0);
    assert_eq!(stats["byRoute"], json!({}));
}

// ---- seeds -------------------------------------------------------------------------------

#[test]
fn example_seed_is_valid_and_covers_the_scenario() {
    let seed = example_seed();
    let ids: Vec<&str> = seed.hotels.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(ids, ["DEMO1", "DEMO2"]);
    let (demo1, demo2) = (&seed.hotels[0], &seed.hotels[1]);
    assert_eq!(
        (demo1.currency.as_str(), demo2.currency.as_str()),
        ("EUR", "USD")
    );
    assert_eq!(
        (
            demo1.rooms.len(),
            demo1.guests.len(),
            demo1.reservations.len()
        ),
        (12, 8, 12)
    );
    assert_eq!(
        (
            demo2.rooms.len(),
            demo2.guests.len(),
            demo2.reservations.len()
        ),
        (4, 3, 4)
    );
    let states: BTreeSet<&str> = demo1
        .reservations
        .iter()
        .map(|r| r.state.as_str())
        .collect();
    assert_eq!(
        states.len(),
        jack_pms_host::mock_pms::RESERVATION_STATES.len(),
        "every state is represented"
    );
    assert!(
        demo1
            .reservations
            .iter()
            .all(|r| (-2..=3).contains(&r.arrival_offset_days))
    );
    for guest in seed.hotels.iter().flat_map(|h| &h.guests) {
        assert!(
            guest
                .emails
                .iter()
                .all(|e| e.address.ends_with("example.com")),
            "{}",
            guest.id
        );
    }
}

/// Writes `json` to a fresh temp file and loads it.
fn load_text(name: &str, json: &str) -> Result<Seed, SeedError> {
    let path = std::env::temp_dir().join(format!("mock-seed-{}-{name}.json", std::process::id()));
    std::fs::write(&path, json).unwrap();
    let result = load_seed(&path);
    std::fs::remove_file(&path).unwrap();
    result
}

/// The example seed with one edit to DEMO1, as JSON text.
fn edited(edit: impl FnOnce(&mut Value)) -> String {
    let mut seed: Value =
        serde_json::from_str(&std::fs::read_to_string(example_seed_path()).unwrap()).unwrap();
    edit(&mut seed["hotels"][0]);
    seed.to_string()
}

#[test]
fn seed_errors_name_the_hotel_and_record() {
    let cases: Vec<(&str, String, &[&str])> = vec![
        (
            "state",
            edited(|h| h["reservations"][1]["state"] = json!("ASLEEP")),
            &["DEMO1", "R5002", "ASLEEP", "IN_HOUSE"],
        ),
        (
            "guest",
            edited(|h| h["reservations"][2]["guestId"] = json!("G404")),
            &["DEMO1", "R5003", "G404"],
        ),
        (
            "dup",
            edited(|h| h["reservations"][3]["confirmation"] = json!("CONF1001")),
            &["DEMO1", "R5004", "CONF1001", "duplicated"],
        ),
        (
            "amount",
            edited(|h| h["reservations"][0]["postings"][0]["amount"] = json!("45.001")),
            &["R5001", "45.001"],
        ),
        (
            "hk",
            edited(|h| h["rooms"][0]["housekeeping"] = json!("SPARKLING")),
            &["room `101`", "SPARKLING"],
        ),
        (
            "room",
            edited(|h| h["reservations"][0]["room"] = json!("999")),
            &["R5001", "999"],
        ),
        (
            "guestid",
            edited(|h| h["guests"][1]["id"] = json!("G1001")),
            &["guest `G1001`", "duplicated"],
        ),
    ];
    for (name, json, expected) in cases {
        let error = load_text(name, &json).unwrap_err();
        assert!(
            matches!(error, SeedError::Invalid { .. }),
            "{name}: {error:?}"
        );
        let message = error.to_string();
        for part in expected {
            assert!(
                message.contains(part),
                "{name}: `{message}` should mention `{part}`"
            );
        }
    }
}

#[test]
fn seed_parse_and_read_errors_name_the_file() {
    let error = load_text("syntax", "{\n  \"hotels\": [\n    { \"id\": 5 }\n  ]\n}").unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, SeedError::Parse { .. }));
    assert!(
        message.contains("mock-seed-") && message.contains("line 3"),
        "{message}"
    );
    let typo = load_text(
        "typo",
        r#"{"hotels": [{"id": "H", "name": "n", "currency": "EUR", "room": []}]}"#,
    )
    .unwrap_err();
    assert!(typo.to_string().contains("unknown field `room`"), "{typo}");
    let missing = load_seed(Path::new("/nonexistent/seed.json")).unwrap_err();
    assert!(matches!(missing, SeedError::Read { .. }));
    assert!(missing.to_string().contains("/nonexistent/seed.json"));
}

#[test]
fn seed_is_validated_by_new_too() {
    let mut seed = example_seed();
    seed.hotels[1].reservations[0].nights = 0;
    let error = MockPms::new(seed, SecretString::from(KEY), today()).unwrap_err();
    assert!(
        error.to_string().contains("DEMO2") && error.to_string().contains("nights"),
        "{error}"
    );
}

// ---- OAuth -------------------------------------------------------------------------------

const CLIENT_ID: &str = "ohip-client-7c1a";
const CLIENT_SECRET: &str = "ohip-secret-94be";
const APP_KEY: &str = "app-key-5d2e";
const USERNAME: &str = "jack-integration";
const PASSWORD: &str = "pa ss&word=1";
const SECRETS: [&str; 5] = [CLIENT_ID, CLIENT_SECRET, APP_KEY, USERNAME, PASSWORD];
const PING: &str = "/api/v1/hotels/DEMO1/ping";
const TOKEN: &str = "/oauth/v1/tokens";

fn oauth_config() -> OAuthConfig {
    OAuthConfig::new(
        SecretString::from(CLIENT_ID),
        SecretString::from(CLIENT_SECRET),
        SecretString::from(APP_KEY),
    )
    .with_password_grant(SecretString::from(USERNAME), SecretString::from(PASSWORD))
}

async fn start_with_oauth(config: OAuthConfig) -> Server {
    serve(new_pms().with_oauth(config)).await
}

type Reply = (StatusCode, reqwest::header::HeaderMap, Value);

/// HTTP Basic credentials for a token request: `(client id, client secret)`.
type Basic<'a> = Option<(&'a str, &'a str)>;

async fn reply(response: reqwest::Response) -> Reply {
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, headers, value)
}

impl Server {
    /// A token request: optional Basic credentials and app key, form fields URL-encoded.
    async fn token_request(
        &self,
        basic: Basic<'_>,
        app_key: Option<&str>,
        form: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.post(format!("{}{TOKEN}", self.base)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        if let Some(key) = app_key {
            request = request.header("x-app-key", key);
        }
        reply(request.send().await.unwrap()).await
    }

    /// A client-credentials token with the right credentials.
    async fn token(&self) -> String {
        let (status, _, body) = self
            .token_request(
                Some((CLIENT_ID, CLIENT_SECRET)),
                Some(APP_KEY),
                &[("grant_type", "client_credentials")],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A GET with a bearer token (and the app key, if given), no API key.
    async fn bearer_get(&self, token: &str, app_key: Option<&str>, path: &str) -> Reply {
        let mut request = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(key) = app_key {
            request = request.header("x-app-key", key);
        }
        reply(request.send().await.unwrap()).await
    }
}

fn www_authenticate(headers: &reqwest::header::HeaderMap) -> Option<&str> {
    headers.get("www-authenticate").map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn oauth_grants_tokens_for_client_credentials_and_password() {
    let server = start_with_oauth(oauth_config()).await;
    assert!(server.pms.oauth_enabled());
    let (status, headers, body) = server
        .token_request(
            Some((CLIENT_ID, CLIENT_SECRET)),
            Some(APP_KEY),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "urn:opc:hgbu:ws:__myscopes__"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["oracle_tk_context"], "user_assertion");
    assert_eq!(headers["cache-control"], "no-store");
    let by_client = body["access_token"].as_str().unwrap().to_owned();
    assert!(by_client.len() >= 32, "{by_client}");
    assert_eq!(body.as_object().unwrap().len(), 4, "{body}");

    let (status, _, body) = server
        .token_request(
            Some((CLIENT_ID, CLIENT_SECRET)),
            Some(APP_KEY),
            &[
                ("grant_type", "password"),
                ("username", USERNAME),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let by_user = body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(by_client, by_user);

    // Both tokens are valid at once, on reads and writes.
    for token in [&by_client, &by_user] {
        let (status, _, body) = server.bearer_get(token, Some(APP_KEY), PING).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("ok"))
        );
    }
    let note = server
        .client
        .post(format!(
            "{}/api/v1/hotels/DEMO1/reservations/CONF1001/notes",
            server.base
        ))
        .bearer_auth(&by_user)
        .header("x-app-key", APP_KEY)
        .json(&json!({"operationId": "op-bearer", "text": "Via OAuth"}))
        .send()
        .await
        .unwrap();
    assert_eq!(note.status(), StatusCode::OK);
    assert_eq!(server.pms.active_tokens(), 2);
    let shown = format!("{:?}", server.pms);
    for token in [&by_client, &by_user] {
        assert!(!shown.contains(&token[..8]), "Debug shows a token: {shown}");
    }
    let (_, stats) = server.admin(Method::GET, "/admin/stats", None).await;
    assert_eq!(
        (
            stats["tokensIssued"].as_u64(),
            stats["tokenRequests"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(stats["byRoute"]["POST /oauth/v1/tokens"], 2);
    assert_eq!(stats["totalRequests"], 5);
    assert_eq!(
        stats["byHotel"],
        json!({"DEMO1": 3}),
        "token calls have no hotel"
    );
}

#[tokio::test]
async fn token_endpoint_refuses_bad_clients_users_and_grants() {
    let server = start_with_oauth(oauth_config()).await;
    let good = Some((CLIENT_ID, CLIENT_SECRET));
    let cc = [("grant_type", "client_credentials")];
    let unauthorized: [(Basic, Option<&str>); 5] = [
        (Some((CLIENT_ID, "ohip-secret-94bf")), Some(APP_KEY)),
        (Some(("ohip-client-7c1b", CLIENT_SECRET)), Some(APP_KEY)),
        (None, Some(APP_KEY)),
        (good, Some("app-key-5d2f")),
        (good, None),
    ];
    let mut bodies = Vec::new();
    for (basic, app_key) in unauthorized {
        let (status, headers, body) = server.token_request(basic, app_key, &cc).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            "{basic:?} {app_key:?}"
        );
        assert_eq!(www_authenticate(&headers), Some("Basic realm=\"mock-pms\""));
        bodies.push(body);
    }
    let bad_user: [&[(&str, &str)]; 3] = [
        &[
            ("grant_type", "password"),
            ("username", USERNAME),
            ("password", "pa ss&word=2"),
        ],
        &[
            ("grant_type", "password"),
            ("username", "someone"),
            ("password", PASSWORD),
        ],
        &[("grant_type", "password"), ("username", USERNAME)],
    ];
    for form in bad_user {
        let (status, _, body) = server.token_request(good, Some(APP_KEY), form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{form:?}");
        assert_eq!(error_code(&body), "UNAUTHORIZED");
        bodies.push(body);
    }
    let bad_grant: [&[(&str, &str)]; 3] = [
        &[("grant_type", "authorization_code")],
        &[("scope", "x")],
        &[
            ("grant_type", "client_credentials"),
            ("grant_type", "password"),
        ],
    ];
    for form in bad_grant {
        let (status, _, body) = server.token_request(good, Some(APP_KEY), form).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            "{form:?}"
        );
    }
    let json_body = server
        .client
        .post(format!("{}{TOKEN}", server.base))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("x-app-key", APP_KEY)
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let get = server
        .client
        .get(format!("{}{TOKEN}", server.base))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("x-app-key", APP_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::METHOD_NOT_ALLOWED);

    for body in &bodies {
        for secret in SECRETS {
            assert!(!body.to_string().contains(secret), "{body} leaks {secret}");
        }
    }
    let stats = server.pms.stats();
    assert_eq!((stats.token_requests, stats.tokens_issued), (13, 0));
    assert_eq!(
        stats.rejected.unauthorized, 5,
        "client authentication failures only"
    );
    assert_eq!(stats.by_route["GET /oauth/v1/tokens"], 1);
    assert_eq!(server.pms.active_tokens(), 0);
}

#[tokio::test]
async fn bearer_token_needs_the_app_key_and_expires() {
    let config = oauth_config().with_token_lifetime(Duration::from_secs(1));
    let server = start_with_oauth(config).await;
    let (status, _, body) = server
        .token_request(
            Some((CLIENT_ID, CLIENT_SECRET)),
            Some(APP_KEY),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(
        (status, body["expires_in"].as_u64()),
        (StatusCode::OK, Some(1))
    );
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        server.bearer_get(&token, Some(APP_KEY), PING).await.0,
        StatusCode::OK
    );

    for app_key in [None, Some("app-key-5d2f")] {
        let (status, headers, body) = server.bearer_get(&token, app_key, PING).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
        );
        assert_eq!(
            www_authenticate(&headers),
            Some("Bearer"),
            "a wrong app key is not a bad token"
        );
    }
    let mut unknown = token.clone();
    unknown.replace_range(20..21, if &token[20..21] == "A" { "B" } else { "A" });
    let (status, headers, _) = server.bearer_get(&unknown, Some(APP_KEY), PING).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        www_authenticate(&headers),
        Some("Bearer error=\"invalid_token\"")
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, headers, body) = server.bearer_get(&token, Some(APP_KEY), PING).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        "expired"
    );
    assert_eq!(
        www_authenticate(&headers),
        Some("Bearer error=\"invalid_token\"")
    );
    assert_eq!(server.pms.active_tokens(), 0);
    let fresh = server.token().await;
    assert_eq!(
        server.bearer_get(&fresh, Some(APP_KEY), PING).await.0,
        StatusCode::OK
    );
    assert_eq!(server.pms.stats().rejected.unauthorized, 4);
}

#[tokio::test]
async fn revoke_all_invalidates_tokens_and_the_api_key_still_works() {
    let server = start_with_oauth(oauth_config()).await;
    let (first, second) = (server.token().await, server.token().await);
    assert_eq!(
        server.bearer_get(&first, Some(APP_KEY), PING).await.0,
        StatusCode::OK
    );
    let (status, body) = server
        .admin(Method::POST, "/admin/oauth/revoke-all", None)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"status": "ok", "revoked": 2}))
    );
    for token in [&first, &second] {
        let (status, headers, _) = server.bearer_get(token, Some(APP_KEY), PING).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            www_authenticate(&headers),
            Some("Bearer error=\"invalid_token\"")
        );
    }
    // The API key works with OAuth on, with or without a (bad) bearer token beside it.
    assert_eq!(server.get(PING).await.0, StatusCode::OK);
    let both = server
        .client
        .get(format!("{}{PING}", server.base))
        .header("x-api-key", KEY)
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), StatusCode::OK);
    let (status, headers, body) = reply(
        server
            .client
            .get(format!("{}{PING}", server.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::UNAUTHORIZED, "UNAUTHORIZED")
    );
    assert_eq!(www_authenticate(&headers), Some("Bearer"));

    let third = server.token().await;
    assert_eq!(
        server.bearer_get(&third, Some(APP_KEY), PING).await.0,
        StatusCode::OK
    );
    assert_eq!(server.pms.revoke_all_tokens(), 1);
    assert_eq!(
        server.bearer_get(&third, Some(APP_KEY), PING).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn without_oauth_nothing_changes() {
    let server = start().await;
    assert!(!server.pms.oauth_enabled());
    let (status, _, body) = server
        .token_request(
            Some((CLIENT_ID, CLIENT_SECRET)),
            Some(APP_KEY),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let (status, headers, body) = server
        .bearer_get("some-token-that-is-long-enough-0000", Some(APP_KEY), PING)
        .await;
    assert_eq!(
        (status, body["error"]["message"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing or wrong x-api-key"))
    );
    assert_eq!(www_authenticate(&headers), None);
    assert_eq!(server.get(PING).await.0, StatusCode::OK);
    let (_, stats) = server.admin(Method::GET, "/admin/stats", None).await;
    assert_eq!(
        stats["totalRequests"], 2,
        "the token endpoint is not counted"
    );
    assert_eq!(
        (
            stats["tokenRequests"].as_u64(),
            stats["tokensIssued"].as_u64()
        ),
        (Some(0), Some(0))
    );
    let (_, oauth) = server.admin(Method::GET, "/admin/oauth", None).await;
    assert_eq!(oauth, json!({"enabled": false, "activeTokens": 0}));
}

#[tokio::test]
async fn admin_oauth_configures_at_run_time_without_echoing_secrets() {
    let server = start().await;
    let config = json!({
        "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "appKey": APP_KEY,
        "username": USERNAME, "password": PASSWORD, "tokenLifetimeSeconds": 120
    });
    let response = server
        .client
        .put(format!("{}/admin/oauth", server.base))
        .json(&config)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{text} echoes {secret}");
    }
    let shown: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        shown,
        json!({"enabled": true, "passwordGrant": true, "tokenLifetimeSeconds": 120, "activeTokens": 0})
    );
    let (status, _, body) = server
        .token_request(
            Some((CLIENT_ID, CLIENT_SECRET)),
            Some(APP_KEY),
            &[
                ("grant_type", "password"),
                ("username", USERNAME),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, body["expires_in"].as_u64()),
        (StatusCode::OK, Some(120))
    );
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        server.bearer_get(&token, Some(APP_KEY), PING).await.0,
        StatusCode::OK
    );
    let (_, got) = server.admin(Method::GET, "/admin/oauth", None).await;
    assert_eq!(got["activeTokens"], 1);
    for secret in SECRETS {
        assert!(!got.to_string().contains(secret));
    }

    // Bad bodies are refused without quoting them; the configuration stays.
    let bad = [
        json!({"clientId": "c", "clientSecret": "s", "appKey": "k", "username": "lonely-user-x"}),
        json!({"clientId": "c", "clientSecret": "s", "appKey": "k", "tokenLifetimeSeconds": "sekrit-value-x"}),
        json!({"clientId": 918273645, "clientSecret": "s", "appKey": "k"}),
        json!({"clientId": "c", "clientSecret": "", "appKey": "k"}),
        json!({"clientId": "c", "clientSecret": "s"}),
        json!({"clientId": "c", "clientSecret": "s", "appKey": "k", "scope": "x"}),
    ];
    for body in bad {
        let (status, error) = server
            .admin(Method::PUT, "/admin/oauth", Some(body.clone()))
            .await;
        assert_eq!(
            (status, error_code(&error)),
            (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            "{body}"
        );
        for quoted in ["lonely-user-x", "sekrit-value-x", "918273645"] {
            assert!(!error.to_string().contains(quoted), "{error}");
        }
    }
    assert_eq!(
        server.bearer_get(&token, Some(APP_KEY), PING).await.0,
        StatusCode::OK
    );

    // A new configuration revokes the old tokens; DELETE turns OAuth off.
    let other = json!({"clientId": "c2", "clientSecret": "s2", "appKey": "k2"});
    let (status, shown) = server.admin(Method::PUT, "/admin/oauth", Some(other)).await;
    assert_eq!(
        (status, shown["passwordGrant"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    assert_eq!(shown["tokenLifetimeSeconds"], 3600);
    assert_eq!(
        server.bearer_get(&token, Some("k2"), PING).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, _) = server
        .token_request(
            Some(("c2", "s2")),
            Some("k2"),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, shown) = server.admin(Method::DELETE, "/admin/oauth", None).await;
    assert_eq!(
        (status, shown["enabled"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (status, _, _) = server
        .token_request(
            Some(("c2", "s2")),
            Some("k2"),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn oauth_config_debug_shows_no_secret() {
    let config = oauth_config();
    let shown = format!("{config:?} {:?}", new_pms().with_oauth(config.clone()));
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{shown} shows {secret}");
    }
    assert!(shown.contains("token_lifetime"), "{shown}");
}

#[tokio::test]
async fn token_endpoint_is_faulted_and_counted() {
    let server = start_with_oauth(oauth_config()).await;
    let cc = [("grant_type", "client_credentials")];
    let good = Some((CLIENT_ID, CLIENT_SECRET));
    server.pms.set_faults(Faults {
        down: true,
        ..Faults::default()
    });
    let (status, _, _) = server.token_request(good, Some(APP_KEY), &cc).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    server.pms.set_faults(Faults {
        rate_limited: RateLimited {
            count: 1,
            retry_after_seconds: 9,
        },
        ..Faults::default()
    });
    let (status, headers, _) = server.token_request(good, Some(APP_KEY), &cc).await;
    assert_eq!(
        (status, &headers["retry-after"]),
        (StatusCode::TOO_MANY_REQUESTS, &"9".parse().unwrap())
    );
    // failNext is for /api/v1; failNextToken for the token endpoint.
    server.pms.set_faults(Faults {
        fail_next: FailNext {
            count: 1,
            status: 502,
            retry_after_seconds: None,
        },
        fail_next_token: FailNext {
            count: 1,
            status: 500,
            retry_after_seconds: Some(1),
        },
        ..Faults::default()
    });
    let (status, headers, body) = server.token_request(good, Some(APP_KEY), &cc).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
    );
    assert_eq!(headers["retry-after"], "1");
    let token = server.token().await;
    assert_eq!(
        server.bearer_get(&token, Some(APP_KEY), PING).await.0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        server.bearer_get(&token, Some(APP_KEY), PING).await.0,
        StatusCode::OK
    );
    server.pms.set_faults(Faults {
        latency_ms: 200,
        ..Faults::default()
    });
    let started = Instant::now();
    server.token().await;
    assert!(started.elapsed() >= Duration::from_millis(200));

    let stats = server.pms.stats();
    assert_eq!((stats.token_requests, stats.tokens_issued), (5, 2));
    assert_eq!(stats.by_route["POST /oauth/v1/tokens"], 5);
    assert_eq!(stats.total_requests, 7);
    assert_eq!(stats.rejected.faults, 4);
}

// ---- scripted failures -------------------------------------------------------------------

#[tokio::test]
async fn fail_next_fails_exactly_n_requests_then_recovers() {
    let server = start().await;
    server.pms.set_faults(Faults {
        fail_next: FailNext {
            count: 2,
            status: 502,
            retry_after_seconds: None,
        },
        ..Faults::default()
    });
    for _ in 0..2 {
        let (status, headers, body) = server.call(Method::GET, PING, None).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_GATEWAY, "INTERNAL_ERROR")
        );
        assert!(headers.get("retry-after").is_none());
    }
    assert_eq!(server.get(PING).await.0, StatusCode::OK);

    // Through the admin API, with Retry-After; it comes before authentication.
    let script = json!({"failNext": {"count": 2, "status": 429, "retryAfterSeconds": 4}});
    let (status, set) = server
        .admin(Method::PUT, "/admin/faults", Some(script))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        set["failNext"],
        json!({"count": 2, "status": 429, "retryAfterSeconds": 4})
    );
    let (status, headers, body) = server.call(Method::GET, PING, None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED")
    );
    assert_eq!(headers["retry-after"], "4");
    let no_key = server
        .client
        .get(format!("{}{PING}", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(server.get(PING).await.0, StatusCode::OK);
    assert_eq!(server.pms.faults().fail_next.count, 0);
    let stats = server.pms.stats();
    assert_eq!((stats.rejected.faults, stats.rejected.unauthorized), (4, 0));

    for bad in [
        json!({"failNext": {"count": 1, "status": 200}}),
        json!({"failNext": {"count": 1, "status": 600}}),
        json!({"failNext": {"count": -1}}),
        json!({"failNext": {"count": 1, "retryAfter": 3}}),
        json!({"timeoutAfterApply": {"count": 1, "delayMs": 0}}),
        json!({"latencyJitterMs": -5}),
    ] {
        let (status, _) = server
            .admin(Method::PUT, "/admin/faults", Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn timeout_after_apply_applies_the_write_but_answers_late() {
    let server = start().await;
    server.pms.set_faults(Faults {
        timeout_after_apply: TimeoutAfterApply {
            count: 2,
            delay_ms: 1500,
        },
        ..Faults::default()
    });
    // Reads are not slowed, and do not use up the count.
    let started = Instant::now();
    assert_eq!(server.get(PING).await.0, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(1000));

    let notes = format!(
        "{}/api/v1/hotels/DEMO1/reservations/CONF1003/notes",
        server.base
    );
    let impatient = server
        .client
        .post(&notes)
        .header("x-api-key", KEY)
        .timeout(Duration::from_millis(300))
        .json(&json!({"operationId": "op-slow-1", "text": "Written, answer lost"}))
        .send()
        .await;
    let error = impatient.expect_err("the client times out");
    assert!(error.is_timeout(), "{error}");
    // The write happened although the client never heard.
    let (status, op) = server
        .get("/api/v1/hotels/DEMO1/operations/op-slow-1")
        .await;
    assert_eq!(
        (status, op["kind"].as_str()),
        (StatusCode::OK, Some("note"))
    );
    let (_, r) = server
        .get("/api/v1/hotels/DEMO1/reservations/CONF1003")
        .await;
    assert!(r["comments"].to_string().contains("Written, answer lost"));
    assert_eq!(server.pms.stats().writes_applied, 1);

    // The second slowed write answers once the delay is over; the third is prompt.
    let started = Instant::now();
    let (status, body) = server
        .send(
            Method::PUT,
            "/api/v1/hotels/DEMO1/reservations/CONF1003/checkout",
            json!({"operationId": "op-slow-2", "checkoutTime": "2030-06-16T11:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let started = Instant::now();
    let (status, _) = server
        .send(
            Method::POST,
            "/api/v1/hotels/DEMO1/reservations/CONF1003/notes",
            json!({"operationId": "op-slow-3", "text": "Prompt"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(1000));
    assert_eq!(server.pms.faults().timeout_after_apply.count, 0);
}

#[tokio::test]
async fn latency_jitter_is_bounded() {
    let server = start().await;
    let (status, _) = server
        .admin(
            Method::PUT,
            "/admin/faults",
            Some(json!({"latencyMs": 50, "latencyJitterMs": 150})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..8 {
        let started = Instant::now();
        assert_eq!(server.get(PING).await.0, StatusCode::OK);
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(50) && elapsed < Duration::from_millis(50 + 150 + 250),
            "{elapsed:?}"
        );
    }
    assert_eq!(server.pms.faults().latency_jitter_ms, 150);
}

#[tokio::test]
async fn stats_count_per_hotel_routes_and_rates() {
    let server = start().await;
    for _ in 0..3 {
        server.get("/api/v1/hotels/DEMO1/guests/G1001").await;
    }
    for _ in 0..2 {
        server.get("/api/v1/hotels/DEMO1/rooms").await;
    }
    server.get("/api/v1/hotels/DEMO2/ping").await;
    server.get("/api/v1/hotels/NOPE/ping").await;
    server.get("/api/v1/nowhere").await;
    let unauthorized = server
        .client
        .get(format!("{}/api/v1/hotels/DEMO2/ping", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);

    let (_, stats) = server.admin(Method::GET, "/admin/stats", None).await;
    assert_eq!(
        stats["byHotelRoute"],
        json!({
            "DEMO1": {
                "GET /api/v1/hotels/{hotel}/guests/{guestId}": 3,
                "GET /api/v1/hotels/{hotel}/rooms": 2
            },
            "DEMO2": {"GET /api/v1/hotels/{hotel}/ping": 2}
        }),
        "arrivals, for known hotels only"
    );
    let by_hotel = &stats["maxRequestsInAnySecondByHotel"];
    assert_eq!(by_hotel["DEMO2"], 1, "accepted requests only");
    let demo1 = by_hotel["DEMO1"].as_u64().unwrap();
    assert!((1..=5).contains(&demo1), "{demo1}");
    assert!(demo1 <= stats["maxRequestsInAnySecond"].as_u64().unwrap());
    assert_eq!(by_hotel.as_object().unwrap().len(), 2);
    assert_eq!(
        (
            stats["tokenRequests"].as_u64(),
            stats["tokensIssued"].as_u64()
        ),
        (Some(0), Some(0))
    );

    // A burst for DEMO2: the per-hotel figure sees all of it.
    let burst: Vec<_> = (0..6)
        .map(|_| {
            let client = server.client.clone();
            let url = format!("{}/api/v1/hotels/DEMO2/rooms", server.base);
            tokio::spawn(async move {
                client
                    .get(url)
                    .header("x-api-key", KEY)
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    for request in burst {
        assert_eq!(request.await.unwrap(), StatusCode::OK);
    }
    let stats = server.pms.stats();
    let demo2 = stats.max_requests_in_any_second_by_hotel["DEMO2"];
    assert!((6..=7).contains(&demo2), "{demo2}");
    assert_eq!(stats.max_requests_in_any_second_by_hotel["DEMO1"], demo1);

    server.admin(Method::POST, "/admin/reset-stats", None).await;
    let (_, stats) = server.admin(Method::GET, "/admin/stats", None).await;
    assert_eq!(stats["byHotelRoute"], json!({}));
    assert_eq!(stats["maxRequestsInAnySecondByHotel"], json!({}));
}
