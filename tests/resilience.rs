//! Caching with stale fallback, coalescing, rate limits, 429 pauses and retries, end to end:
//! `jack-pms serve` and the mock PMS (with its fault injection) over real HTTP.

mod support;

use futures_util::future::join_all;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::{Stack, StackOptions};

fn route_count(stats: &Value, route: &str) -> u64 {
    stats["byRoute"][route].as_u64().unwrap_or(0)
}

const ROOMS: &str = "GET /api/v1/hotels/{hotel}/rooms";
const RESERVATION: &str = "GET /api/v1/hotels/{hotel}/reservations/{confirmation}";

#[tokio::test]
async fn reads_fall_back_to_stale_data_while_the_pms_is_down() {
    let s = Stack::start_with(StackOptions {
        pms: "  cache:\n    reservationTTL: 1\n".into(),
        ..StackOptions::default()
    })
    .await;
    let path = "/v1/hotels/DEMO1/reservations/CONF1001";
    let (status, first) = s.get(path).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (
            first["meta"]["source"].as_str(),
            first["meta"]["stale"].as_bool()
        ),
        (Some("pms"), Some(false))
    );
    let (_, again) = s.get(path).await;
    assert_eq!(again["meta"]["source"], "cache", "{again}");
    assert_eq!(again["meta"]["fetchedAt"], first["meta"]["fetchedAt"]);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.faults(json!({"down": true})).await;
    let (status, stale) = s.get(path).await;
    assert_eq!(status, 200, "{stale}");
    assert_eq!(stale["meta"]["stale"], true, "{stale}");
    assert_eq!(stale["data"], first["data"]);
    assert_eq!(stale["meta"]["fetchedAt"], first["meta"]["fetchedAt"]);
    // Nothing cached for this one: a clear 503.
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/CONF1002").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["type"], "urn:jack-pms:problem:pms-unavailable");

    s.faults(json!({})).await;
    let (status, fresh) = s.get(path).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            fresh["meta"]["source"].as_str(),
            fresh["meta"]["stale"].as_bool()
        ),
        (Some("pms"), Some(false))
    );
    assert_ne!(fresh["meta"]["fetchedAt"], first["meta"]["fetchedAt"]);
}

#[tokio::test]
async fn concurrent_identical_reads_reach_the_pms_once_and_writes_invalidate() {
    let s = Stack::start().await;
    // Slow the PMS so that all 100 reads are in flight together.
    s.faults(json!({"latencyMs": 300})).await;
    let reads = (0..100).map(|_| s.get("/v1/hotels/DEMO1/rooms"));
    let results = join_all(reads).await;
    assert!(results.iter().all(|(status, _)| *status == 200));
    let stats = s.mock_stats().await;
    assert_eq!(route_count(&stats, ROOMS), 1, "{stats}");

    // A note invalidates the reservation: the next read goes to the PMS and shows it.
    s.faults(json!({})).await;
    let path = "/v1/hotels/DEMO1/reservations/CONF1001";
    s.get(path).await;
    s.get(path).await;
    assert_eq!(route_count(&s.mock_stats().await, RESERVATION), 1);
    let (status, _) = s
        .send(
            reqwest::Method::POST,
            &format!("{path}/notes"),
            json!({"note": "cache me not"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, after) = s.get(path).await;
    assert_eq!(after["meta"]["source"], "pms");
    assert!(
        after["data"]["notes"]
            .as_array()
            .unwrap()
            .contains(&json!("cache me not"))
    );
    assert_eq!(route_count(&s.mock_stats().await, RESERVATION), 2);
}

#[tokio::test]
async fn a_burst_never_exceeds_the_hotels_rate_limit_upstream() {
    // The mock adapter's manifest declares 100 requests per minute per hotel (the seed's figure).
    let s = Stack::start_with(StackOptions {
        overrides: "    mock:\n      deadlineMs: 3000\n".into(),
        ..StackOptions::default()
    })
    .await;
    let started = Instant::now();
    // 300 distinct reads, so that the cache cannot absorb them.
    let paths: Vec<String> = (0..300)
        .map(|i| format!("/v1/hotels/DEMO1/reservations/BURST{i}"))
        .collect();
    let results = join_all(paths.iter().map(|p| s.get(p))).await;
    let elapsed = started.elapsed();
    let mut done = 0;
    for (status, body) in &results {
        match status {
            404 => done += 1,
            503 | 504 => assert!(
                body["detail"].as_str().is_some(),
                "an unclear failure: {body}"
            ),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(done >= 5, "the budget was not used: {done} calls completed");
    assert!(
        elapsed < Duration::from_secs(30),
        "calls did not end at their deadline: {elapsed:?}"
    );
    let stats = s.mock_stats().await;
    let upstream = stats["byHotel"]["DEMO1"].as_u64().unwrap();
    assert!(
        upstream <= 100,
        "{upstream} requests reached the PMS: {stats}"
    );
    assert!(
        stats["maxRequestsInAnyMinute"].as_u64().unwrap() <= 100,
        "{stats}"
    );
}

#[tokio::test]
async fn a_429_pauses_that_hotel_only() {
    let s = Stack::start().await;
    // The next request the PMS sees, whichever hotel's, gets 429 with Retry-After: 2.
    s.faults(json!({"rateLimited": {"count": 1, "retryAfterSeconds": 2}}))
        .await;
    let started = Instant::now();
    let demo1 = async {
        let r = s.get("/v1/hotels/DEMO1/rooms").await;
        (r, started.elapsed())
    };
    let demo2 = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let r = s.get("/v1/hotels/DEMO2/rooms").await;
        (r, started.elapsed())
    };
    let (((s1, b1), t1), ((s2, b2), t2)) = tokio::join!(demo1, demo2);
    assert_eq!(
        s1, 200,
        "the rate-limited read was dropped instead of queued: {b1}"
    );
    assert_eq!(s2, 200, "{b2}");
    assert!(
        t1 >= Duration::from_secs(2),
        "DEMO1 did not wait out Retry-After: {t1:?}"
    );
    assert!(
        t2 < t1,
        "DEMO2 was held up by DEMO1's pause: DEMO2 {t2:?}, DEMO1 {t1:?}"
    );
}

/// A run of 429s longer than `pms.retry.maxAttempts` (3) is waited out, one `Retry-After` at a
/// time, until the call's deadline: the seed's "queue request, respect Retry-After", not a 503.
#[tokio::test]
async fn a_run_of_429s_longer_than_max_attempts_is_waited_out() {
    let s = Stack::start().await;
    s.faults(json!({"rateLimited": {"count": 5, "retryAfterSeconds": 1}}))
        .await;
    let started = Instant::now();
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/CONF1001").await;
    assert_eq!(status, 200, "five 429s then the answer: {body}");
    assert_eq!(
        route_count(&s.mock_stats().await, RESERVATION),
        6,
        "each 429 waited out, then sent again"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "each Retry-After was respected: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn reads_retry_server_errors_but_not_client_errors() {
    let s = Stack::start_with(StackOptions {
        pms: "  retry:\n    initialDelay: 50\n".into(),
        ..StackOptions::default()
    })
    .await;
    s.faults(json!({"failNext": {"count": 2, "status": 503}}))
        .await;
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/CONF1001").await;
    assert_eq!(status, 200, "5xx then success should succeed: {body}");
    assert_eq!(route_count(&s.mock_stats().await, RESERVATION), 3);

    s.faults(json!({"failNext": {"count": 1, "status": 400}}))
        .await;
    let (status, body) = s.get("/v1/hotels/DEMO1/reservations/CONF1002").await;
    assert_eq!(status, 422, "the PMS refused the request: {body}");
    assert_eq!(
        route_count(&s.mock_stats().await, RESERVATION),
        4,
        "a 400 must not be retried"
    );

    // Writes are not retried on 5xx by the egress pipeline (the PMS may have applied them): the
    // write is queued, and the outbox reads it back before sending it again.
    const NOTES: &str = "POST /api/v1/hotels/{hotel}/reservations/{confirmation}/notes";
    s.faults(json!({"failNext": {"count": 1, "status": 502}}))
        .await;
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/DEMO1/reservations/CONF1001/notes",
            json!({"note": "once"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "queued", "{body}");
    let stats = s.mock_stats().await;
    assert_eq!(route_count(&stats, NOTES), 1, "{stats}");
    let id = body["operationId"]
        .as_str()
        .expect("operation id")
        .to_owned();
    let started = std::time::Instant::now();
    loop {
        let (_, op) = s.get(&format!("/v1/operations/{id}")).await;
        if op["state"] == "applied" {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "never applied: {op}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let stats = s.mock_stats().await;
    assert_eq!(
        route_count(&stats, NOTES),
        2,
        "one failed send, one resend: {stats}"
    );
    assert_eq!(stats["writesApplied"], 1, "{stats}");
}
