//! Change events end to end: `jack-pms serve` with its mock PMS, the sync streams run through
//! `POST /v1/hotels/{hotel}/sync/{stream}`, the hotel changed the way front-desk staff would
//! (the mock's `/admin/hotels/...` routes) and through Jack's API, and the resulting events read
//! by a real SSE client on `GET /v1/events` and by a webhook receiver that checks every
//! signature.
//!
//! Every wait polls with a generous deadline and nothing asserts on timing: the machines these
//! run on are slow and noisy.

mod support;

use std::collections::BTreeMap;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeDelta, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use support::events::{Collected, Seen, open_sse, snapshot, start_receiver};
use support::{Backend, Stack, StackOptions};

/// How long any one wait may take before the test gives up.
const DEADLINE: Duration = Duration::from_secs(60);
/// How long to keep listening after the expected events arrived, to catch extra ones.
const GRACE: Duration = Duration::from_secs(3);
/// The streams, in the order the tests run them.
const STREAMS: [&str; 4] = ["arrivals", "departures", "inHouse", "roomStatus"];
/// The webhook secret's environment variable.
const SECRET_VAR: &str = "T_WEBHOOK_SECRET";

// ---- helpers -----------------------------------------------------------------------------

/// A stack whose four streams are enabled but (practically) never fire on their own: the
/// tests run them through the API, so no background run can race them, take their lock (409)
/// or report the hotels without a real PMS (`HOSTILE`, `FSREADER`) as unavailable. `0 0 1 1 *`
/// with the per-stream jitter spread over its year-long gap fires once a year at a random time.
async fn stack(webhook_url: &str, secret: &str, backend: Backend) -> Stack {
    let rare = "{ enabled: true, schedule: \"0 0 1 1 *\" }";
    let pms = format!(
        "  sync:\n    arrivals: {rare}\n    departures: {rare}\n    inHouse: {rare}\n    roomStatus: {rare}\n"
    );
    let top = format!(
        "events:\n  webhooks:\n    - url: {webhook_url}\n      secret: {{ env: {SECRET_VAR} }}\n"
    );
    Stack::start_with(StackOptions {
        sync: true,
        pms,
        top,
        env: vec![(SECRET_VAR.to_owned(), secret.to_owned())],
        backend,
        ..StackOptions::default()
    })
    .await
}

/// Runs one stream of DEMO1 now (retrying while a run of it is in progress); returns the
/// outcome JSON.
async fn sync(stack: &Stack, stream: &str) -> Value {
    let started = Instant::now();
    loop {
        let path = format!("/v1/hotels/DEMO1/sync/{stream}");
        let (status, body) = stack.send(Method::POST, &path, json!({})).await;
        if status == 409 && started.elapsed() < DEADLINE {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        assert_eq!(status, 200, "POST {path}: {body}");
        return body;
    }
}

/// Runs every stream once, in order; each must succeed. Returns the events they reported.
async fn sync_all(stack: &Stack) -> u64 {
    let mut events = 0;
    for stream in STREAMS {
        let outcome = sync(stack, stream).await;
        assert_eq!(outcome["status"], "ok", "{stream}: {outcome}");
        events += outcome["events"].as_u64().expect("events count");
    }
    events
}

/// Waits until `collected` holds at least `n` events, then `GRACE` more, and returns them all.
async fn settle(collected: &Collected, n: usize, what: &str) -> Vec<Seen> {
    let started = Instant::now();
    while snapshot(collected).len() < n {
        assert!(
            started.elapsed() < DEADLINE,
            "{what}: waited for {n} events, got {:#?}",
            snapshot(collected)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(GRACE).await;
    snapshot(collected)
}

/// A sorted multiset of event keys.
fn keys(events: &[Seen]) -> Vec<(String, String, String)> {
    let mut keys: Vec<_> = events.iter().map(Seen::key).collect();
    keys.sort();
    keys
}

fn key(kind: &str, subject: &str) -> (String, String, String) {
    (kind.into(), "DEMO1".into(), subject.into())
}

/// Checks that an SSE event's fields agree and that ids increase.
fn assert_well_formed(events: &[Seen], what: &str) {
    let mut last = 0i64;
    for e in events {
        assert_eq!(e.body["id"], e.id.as_str(), "{what}: {e:?}");
        assert_eq!(e.body["type"], e.kind.as_str(), "{what}: {e:?}");
        let id: i64 = e.id.parse().unwrap_or_else(|_| panic!("{what}: id {e:?}"));
        assert!(id > last, "{what}: ids must increase: {events:#?}");
        last = id;
    }
}

fn date(days: i64) -> NaiveDate {
    Utc::now().date_naive() + TimeDelta::days(days)
}

/// A front-desk change at the mock PMS; must succeed.
async fn front_desk(stack: &Stack, method: Method, path: &str, body: Value) -> Value {
    let r = stack
        .http
        .request(method, stack.mock_url(path))
        .json(&body)
        .send()
        .await
        .expect("mock admin request");
    let (status, json) = support::read(r).await;
    assert!((200..300).contains(&status), "{path}: {status} {json}");
    json
}

// ---- tests -------------------------------------------------------------------------------

on_both_backends! {
    async fn front_desk_changes_reach_sse_and_webhooks_exactly_once(backend: Backend) {
    let test_started = Instant::now();
    let secret = support::random_key();
    let receiver = start_receiver(&secret).await;
    let stack = stack(&receiver.url, &secret, backend).await;
    let live = open_sse(&stack, "", None).await;

    // Each stream's first run is a silent baseline.
    assert_eq!(sync_all(&stack).await, 0, "baseline runs report nothing");

    // The front desk books, checks in, checks out, cancels; housekeeping cleans a room; Jack
    // moves a checkout time through its own API.
    front_desk(
        &stack,
        Method::POST,
        "/admin/hotels/DEMO1/reservations",
        json!({"confirmationNumber": "CONF9001", "guestId": "G1003",
               "arrival": date(0).to_string(), "departure": date(2).to_string(),
               "roomType": "KING", "adults": 2}),
    )
    .await;
    for (number, state) in [
        ("CONF1005", "IN_HOUSE"),
        ("CONF1002", "CHECKED_OUT"),
        ("CONF1006", "CANCELLED"),
    ] {
        let path = format!("/admin/hotels/DEMO1/reservations/{number}/state");
        let r = front_desk(&stack, Method::PUT, &path, json!({"state": state})).await;
        assert_eq!(r["state"], state);
    }
    front_desk(
        &stack,
        Method::PUT,
        "/admin/hotels/DEMO1/rooms/104",
        json!({"housekeeping": "CLEAN"}),
    )
    .await;
    let checkout = format!("{}T10:30:00Z", date(2));
    let (status, body) = stack
        .send(
            Method::PUT,
            "/v1/hotels/DEMO1/reservations/CONF1001/checkout",
            json!({"checkoutTime": checkout}),
        )
        .await;
    assert_eq!(status, 200, "checkout write: {body}");

    assert_eq!(
        sync_all(&stack).await,
        6,
        "the second runs report the changes"
    );
    // Nothing changed since: a third round is quiet.
    assert_eq!(sync_all(&stack).await, 0, "unchanged runs report nothing");

    let expected = {
        let mut e = vec![
            key("reservation.created", "CONF9001"),
            key("guest.arrived", "CONF1005"),
            key("guest.departed", "CONF1002"),
            key("reservation.cancelled", "CONF1006"),
            key("room.status_changed", "104"),
            key("reservation.updated", "CONF1001"),
        ];
        e.sort();
        e
    };
    let sse = settle(&live, expected.len(), "SSE").await;
    assert_eq!(keys(&sse), expected, "SSE events: {sse:#?}");
    assert_well_formed(&sse, "SSE");
    let hooks = settle(&receiver.got, expected.len(), "webhooks").await;
    receiver.assert_no_bad_deliveries();
    assert_eq!(keys(&hooks), expected, "webhook deliveries: {hooks:#?}");
    // The same events (ids and bodies) on both channels, webhooks in log order.
    assert_eq!(hooks, sse, "webhooks and SSE disagree");

    // The events carry what changed.
    let by_kind: BTreeMap<&str, &Seen> = sse.iter().map(|e| (e.kind.as_str(), e)).collect();
    let data = |kind: &str| &by_kind[kind].body["data"];
    assert_eq!(data("guest.arrived")["reservation"]["status"], "checked_in");
    assert_eq!(data("guest.arrived")["previousStatus"], "reserved");
    assert_eq!(
        data("reservation.cancelled")["reservation"]["status"],
        "cancelled"
    );
    assert_eq!(
        data("guest.departed")["reservation"]["status"],
        "checked_out"
    );
    assert_eq!(data("room.status_changed")["room"]["housekeeping"], "clean");
    assert_eq!(
        data("room.status_changed")["previous"]["housekeeping"],
        "dirty"
    );
    let moved = data("reservation.updated")["reservation"]["checkoutTime"]
        .as_str()
        .unwrap_or_default();
    assert!(
        moved.starts_with(&format!("{}T10:30:00", date(2))),
        "checkout time in the update: {moved}"
    );
    assert_eq!(
        data("reservation.created")["reservation"]["guestName"],
        "Amélie Dubois"
    );

    // A client resuming after the second event gets exactly the later ones, in order.
    let resumed = open_sse(&stack, "", Some(&sse[1].id)).await;
    let replayed = settle(&resumed, sse.len() - 2, "resumed SSE").await;
    assert_eq!(replayed, sse[2..], "replay after event {}", sse[1].id);
    // And `?hotel=` of another hotel replays none of them.
    let other = open_sse(&stack, "?hotel=DEMO2", Some("0")).await;
    tokio::time::sleep(GRACE).await;
    assert!(snapshot(&other).is_empty(), "{:#?}", snapshot(&other));

    // The health endpoint shows the streams' runs.
    let (status, health) = stack.get("/v1/hotels/DEMO1/health").await;
    assert_eq!(status, 200, "{health}");
    let streams = health["sync"].as_array().expect("sync array");
    let names: Vec<&str> = streams
        .iter()
        .filter_map(|s| s["stream"].as_str())
        .collect();
    assert_eq!(names, STREAMS, "{health}");
    for s in streams {
        assert!(s["runs"].as_u64().unwrap_or(0) >= 3, "{s}");
        assert_eq!(s["enabled"], true, "{s}");
        assert_eq!(s["outcome"]["status"], "ok", "{s}");
        assert!(s["lastFinished"].is_string(), "{s}");
    }
    assert!(health["lastSync"].is_string(), "{health}");

    receiver.assert_no_bad_deliveries();
    eprintln!(
        "front_desk_changes_reach_sse_and_webhooks_exactly_once took {:?}",
        test_started.elapsed()
    );
    }
}

on_both_backends! {
    async fn an_outage_gives_one_unavailable_and_one_recovered(backend: Backend) {
    let test_started = Instant::now();
    let secret = support::random_key();
    let receiver = start_receiver(&secret).await;
    let stack = stack(&receiver.url, &secret, backend).await;
    let live = open_sse(&stack, "?hotel=DEMO1", None).await;

    assert_eq!(sync_all(&stack).await, 0, "baseline runs report nothing");
    stack.faults(json!({"down": true})).await;
    // Two failing runs of different streams: one `pms.unavailable` for the outage.
    for stream in ["roomStatus", "inHouse"] {
        let outcome = sync(&stack, stream).await;
        assert_eq!(outcome["status"], "error", "{stream} while down: {outcome}");
    }
    let down = settle(&live, 1, "SSE while down").await;
    assert_eq!(
        keys(&down),
        [key("pms.unavailable", "")],
        "while down: {down:#?}"
    );
    assert!(
        down[0].body["data"]["detail"].is_string(),
        "unavailable says why: {down:#?}"
    );

    // Back up: runs succeed again (once any open circuit lets them through), and the first
    // success reports the recovery, once.
    stack.faults(json!({})).await;
    let started = Instant::now();
    loop {
        let outcome = sync(&stack, "roomStatus").await;
        if outcome["status"] == "ok" {
            break;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "roomStatus never recovered: {outcome}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(sync_all(&stack).await, 0, "nothing changed at the hotel");
    let expected = [key("pms.unavailable", ""), key("pms.recovered", "")];
    let sse = settle(&live, 2, "SSE after recovery").await;
    assert_eq!(
        sse.iter().map(Seen::key).collect::<Vec<_>>(),
        expected,
        "{sse:#?}"
    );
    assert_well_formed(&sse, "SSE");
    let hooks = settle(&receiver.got, 2, "webhooks").await;
    receiver.assert_no_bad_deliveries();
    assert_eq!(hooks, sse, "webhooks and SSE disagree");
    eprintln!(
        "an_outage_gives_one_unavailable_and_one_recovered took {:?}",
        test_started.elapsed()
    );
    }
}

/// Mews' general webhook payload, verbatim from Mews' documentation
/// (`vendor-api/mews/examples/webhook-general.payload.json`).
const MEWS_GENERAL_WEBHOOK: &str = r#"{
  "EnterpriseId": "851df8c8-90f2-4c4a-8e01-a4fc46b25178",
  "IntegrationId": "c8bee838-7fb1-4f4e-8fac-ac87008b2f90",
  "Events": [
    { "Discriminator": "ServiceOrderUpdated", "Value": { "Id": "bfee2c44-1f84-4326-a862-5289598f6e2d" } },
    { "Discriminator": "ResourceUpdated", "Value": { "Id": "7cccbdc6-73cf-4cd4-8056-6fd00f4d9699" } },
    { "Discriminator": "MessageAdded", "Value": { "Id": "4bfe4675-98a9-4428-9ea9-ae5300dbaa93" } },
    { "Discriminator": "CustomerAdded", "Value": { "Id": "c2f1d888-232e-49eb-87ac-5f75363af13b" } },
    { "Discriminator": "CustomerUpdated", "Value": { "Id": "b3ce0fd7-a715-4bfc-969e-ef7a4822963c" } },
    { "Discriminator": "PaymentUpdated", "Value": { "Id": "a41e2d45-71bc-49b4-9a05-a3ac5f75735c" } }
  ]
}"#;

on_both_backends! {
    async fn a_vendor_webhook_refreshes_the_affected_streams_at_once(backend: Backend) {
    let token = support::random_key();
    let rare = "{ enabled: true, schedule: \"0 0 1 1 *\" }";
    let s = Stack::start_with(StackOptions {
        sync: true,
        pms: format!(
            "  sync:\n    arrivals: {rare}\n    departures: {rare}\n    inHouse: {rare}\n    roomStatus: {rare}\n"
        ),
        extra_hotels: "  - id: WH1\n    adapter: mock\n    settings: { baseUrl: \"http://127.0.0.1:{mock_port}\", hotelId: DEMO1 }\n    secrets: { apiKey: { env: TEST_HOTEL_KEY } }\n    inboundWebhook: { token: { env: T_INBOUND_TOKEN } }\n".into(),
        env: vec![("T_INBOUND_TOKEN".into(), token.clone())],
        backend,
        ..StackOptions::default()
    })
    .await;
    // Baseline of the room stream, then the SSE client.
    let (status, body) = s
        .send(Method::POST, "/v1/hotels/WH1/sync/roomStatus", json!({}))
        .await;
    assert_eq!((status, body["events"].as_u64()), (200, Some(0)), "{body}");
    let sse = open_sse(&s, "?hotel=WH1", None).await;

    // Housekeeping cleans room 104 (DIRTY in the seed) at the PMS.
    front_desk(
        &s,
        Method::PUT,
        "/admin/hotels/DEMO1/rooms/104",
        json!({"housekeeping": "CLEAN"}),
    )
    .await;

    let post = |path: String, body: &'static str| {
        let client = s.http.clone();
        let url = s.url(&path);
        async move {
            let r = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("webhook POST");
            support::read(r).await
        }
    };
    // Refused: wrong or missing token, another vendor, a payload that is not Mews'.
    let (status, _) = post(
        "/v1/webhooks/WH1/mock?token=wrong".into(),
        MEWS_GENERAL_WEBHOOK,
    )
    .await;
    assert_eq!(status, 401);
    let (status, _) = post("/v1/webhooks/WH1/mock".into(), MEWS_GENERAL_WEBHOOK).await;
    assert_eq!(status, 401);
    let (status, _) = post(
        format!("/v1/webhooks/WH1/mews?token={token}"),
        MEWS_GENERAL_WEBHOOK,
    )
    .await;
    assert_eq!(status, 404, "WH1 runs the mock adapter, not Mews");
    let (status, problem) = post(
        format!("/v1/webhooks/WH1/mock?token={token}"),
        "{\"Events\": 3}",
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        snapshot(&sse).is_empty(),
        "no refresh from refused webhooks"
    );

    // Accepted: six events (one kind the host does not act on), four streams refreshed now.
    let (status, receipt) = post(
        format!("/v1/webhooks/WH1/mock?token={token}"),
        MEWS_GENERAL_WEBHOOK,
    )
    .await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["events"], 6);
    assert_eq!(receipt["ignored"], 1);
    assert_eq!(
        receipt["refreshing"],
        json!(["arrivals", "departures", "inHouse", "roomStatus"])
    );
    // The room change arrives without any scheduled or manual sync.
    let seen = settle(&sse, 1, "room change after the webhook").await;
    assert_eq!(
        keys(&seen),
        vec![(
            "room.status_changed".to_owned(),
            "WH1".to_owned(),
            "104".to_owned()
        )],
        "{seen:#?}"
    );
    assert!(
        !s.logs().contains(&token),
        "the inbound token must not be logged"
    );
    }
}
