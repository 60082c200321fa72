//! A secret (the mock PMS's API key, from the environment) never appears in the host's logs nor
//! in anything the guest receives, even when the PMS echoes it back.

mod support;

use reqwest::Method;
use serde_json::json;
use support::{Stack, StackOptions, TOKEN};

#[tokio::test]
async fn secrets_never_reach_the_guest_or_the_logs() {
    // Debug logging everywhere, so that every log line the host can write is in the scan.
    let s = Stack::start_with(StackOptions {
        log: "debug",
        ..StackOptions::default()
    })
    .await;
    let key = s.key.clone();

    // The mock PMS echoes the request headers, key included; the guest gets it scrubbed.
    let (status, body) = s.get("/v1/hotels/HOSTILE/reservations/echo").await;
    assert_eq!(status, 200, "{body}");
    let seen = body.to_string();
    assert!(
        !seen.contains(&key),
        "the guest received the secret: {seen}"
    );
    assert!(
        seen.contains("[REDACTED]"),
        "the echo did not come back at all: {seen}"
    );

    // Exercise every path that logs: reads, writes, failures.
    let mut responses = vec![seen];
    for path in [
        "/v1/hotels",
        "/v1/hotels/DEMO1/health",
        "/v1/hotels/DEMO1/rooms",
        "/v1/hotels/DEMO1/reservations/CONF1001",
        "/v1/hotels/HOSTILE/reservations/trap",
    ] {
        responses.push(s.get(path).await.1.to_string());
    }
    responses.push(
        s.send(
            Method::POST,
            "/v1/hotels/DEMO1/reservations/CONF1001/notes",
            json!({"note": "hello"}),
        )
        .await
        .1
        .to_string(),
    );
    s.faults(json!({"down": true})).await;
    responses.push(s.get("/v1/hotels/DEMO1/rooms").await.1.to_string());
    s.faults(json!({})).await;

    for r in &responses {
        assert!(
            !r.contains(&key),
            "an API response contains the secret: {r}"
        );
    }
    let logs = s.logs();
    assert!(logs.contains("DEBUG"), "debug logging was not on");
    assert!(!logs.contains(&key), "the log contains the secret");
}

#[tokio::test]
async fn a_wrong_key_is_reported_without_showing_either_key() {
    let wrong = support::random_key();
    let s = Stack::start_with(StackOptions {
        hotel_key: Some(wrong.clone()),
        ..StackOptions::default()
    })
    .await;
    let r = s
        .http
        .get(s.url("/v1/hotels/DEMO1/rooms"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let (status, body) = support::read(r).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["type"], "urn:jack-pms:problem:pms-unauthorized");
    let text = body.to_string() + &s.logs();
    assert!(
        !text.contains(&wrong) && !text.contains(&s.key),
        "a key leaked: {text}"
    );
}
