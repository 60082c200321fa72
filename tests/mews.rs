//! The Mews adapter end to end: the real `jack-pms serve` with the compiled `mews` component,
//! its HTTP API, and the Mews simulator (`tests/sims/mews`) over HTTPS from the test CA at
//! Mews' real demo host name (`api.mews-demo.com`, pinned to the simulator with
//! `egress.resolve`). The simulator's tokens are the public demo tokens of Mews' docs.

#[path = "sims/mews/mod.rs"]
mod sim;
mod support;

use reqwest::Method;
use serde_json::{Value, json};
use sim::{ACCESS_TOKEN, Booking, CLIENT_TOKEN, Fault, SERVICE_ID, Sim};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Stack, StackOptions, TOKEN};

const RESERVATIONS: &str = "reservations/getAll/2023-06-06";
/// Age category of the documented examples counted as children.
const CHILD: &str = "ab58c939-be30-4a60-8f75-ae1600c60c9f";

/// A stack with hotel `MEWS1` on the Mews adapter against `sim`.
async fn stack(sim: &Arc<Sim>, settings: &str, options: StackOptions) -> Stack {
    let addr = support::tls::serve_https(sim.router()).await;
    let extra = format!(
        "  - id: MEWS1\n    adapter: mews\n    settings: {{ platformAddress: api.mews-demo.com, serviceId: {SERVICE_ID}, enterpriseTimeZone: Europe/Prague, pricingMode: gross, childAgeCategoryIds: \"{CHILD}\"{settings} }}\n    secrets: {{ clientToken: {{ env: T_MEWS_CLIENT }}, accessToken: {{ env: T_MEWS_ACCESS }} }}\n{}",
        options.extra_hotels
    );
    let mut env = options.env.clone();
    env.push(("T_MEWS_CLIENT".into(), CLIENT_TOKEN.into()));
    env.push(("T_MEWS_ACCESS".into(), ACCESS_TOKEN.into()));
    let mut resolve = options.resolve.clone();
    resolve.push(("api.mews-demo.com".into(), addr));
    Stack::start_with(StackOptions {
        extra_hotels: extra,
        env,
        resolve,
        ..options
    })
    .await
}

fn utc(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Two guests, two rooms, a reservation in 2030 and one in house now.
fn seed(sim: &Sim) {
    sim.add_customer("c-john", "John", "Smith", "j.smith@example.com");
    sim.add_customer("c-thea", "Thea", "Carbone", "thea@quotidiano.example");
    sim.add_room("r-101", "101", "Clean");
    sim.add_room("r-102", "102", "Dirty");
    sim.add_reservation(Booking {
        id: "res-52",
        number: "52",
        state: "Confirmed",
        account: "c-john",
        start: "2030-04-23T13:00:00Z",
        end: "2030-04-25T10:00:00Z",
        room: Some("r-101"),
    });
    let now = chrono::Utc::now();
    sim.add_reservation(Booking {
        id: "res-53",
        number: "53",
        state: "Started",
        account: "c-thea",
        start: &utc(now - chrono::Duration::days(1)),
        end: &utc(now + chrono::Duration::days(1)),
        room: Some("r-102"),
    });
}

async fn wait_applied(s: &Stack, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (_, op) = s.get(&format!("/v1/operations/{id}")).await;
        if op["state"] == "applied" || op["state"] == "failed" {
            return op;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "never settled: {op}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every body the simulator received has the shape of Mews' documented example of its operation:
/// each field sent appears there, with the example's JSON type.
fn assert_requests_follow_the_documented_examples(sim: &Sim) {
    let examples = support::root().join(sim::EXAMPLES);
    let received = sim.received();
    let mut findings: Vec<String> = received
        .iter()
        .filter(|r| !r.body.is_null())
        .flat_map(|r| support::contract::mews(&examples, &r.operation, &r.body))
        .collect();
    findings.sort();
    findings.dedup();
    assert!(
        findings.is_empty(),
        "requests unlike Mews' documented examples ({} checked):\n{}",
        received.len(),
        findings.join("\n")
    );
}

#[tokio::test]
async fn every_operation_end_to_end_through_the_api() {
    let sim = Sim::new();
    seed(&sim);
    sim.add_order_item("oi-1", "c-john", "res-52", 100.0);
    sim.add_payment("pay-1", "c-john", Some("res-52"), -30.0, "Open");
    sim.add_payment("pay-2", "c-john", Some("res-52"), -500.0, "Closed");
    // John's other stay, with its own open item and payment: not part of res-52's balance.
    sim.add_reservation(Booking {
        id: "res-54",
        number: "54",
        state: "Confirmed",
        account: "c-john",
        start: "2030-06-10T13:00:00Z",
        end: "2030-06-12T10:00:00Z",
        room: None,
    });
    sim.add_order_item("oi-2", "c-john", "res-54", 45.0);
    sim.add_payment("pay-3", "c-john", Some("res-54"), -10.0, "Open");
    let s = stack(&sim, "", StackOptions::default()).await;

    let (status, body) = s.get("/v1/hotels/MEWS1/health").await;
    assert_eq!(status, 200, "{body}");

    // Guests: by id, e-mail and confirmation number; search by name; phone is unsupported.
    let (status, body) = s.get("/v1/hotels/MEWS1/guests/mews:c-john").await;
    assert_eq!(status, 200, "{body}");
    let guest = &body["data"];
    assert_eq!(guest["id"], "mews:c-john");
    assert_eq!(
        (guest["firstName"].as_str(), guest["lastName"].as_str()),
        (Some("John"), Some("Smith"))
    );
    assert_eq!(guest["email"], "j.smith@example.com");
    assert!(
        guest["preferences"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["code"] == "OceanView")),
        "{guest}"
    );
    let (status, body) = s
        .get("/v1/hotels/MEWS1/guests?email=thea@quotidiano.example")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["id"], "mews:c-thea", "{body}");
    let (status, body) = s.get("/v1/hotels/MEWS1/guests?name=John%20Smith").await;
    assert_eq!(
        (status, body["data"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{body}"
    );
    let customers_before = sim.received_for("customers/getAll").len();
    let (status, body) = s.get("/v1/hotels/MEWS1/guests?phone=%2B420123").await;
    assert_eq!(status, 501, "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| d.contains("phone")),
        "{body}"
    );
    assert_eq!(
        sim.received_for("customers/getAll").len(),
        customers_before,
        "a phone search must not scan Mews"
    );
    let (status, body) = s.get("/v1/hotels/MEWS1/guests/mews:nobody").await;
    assert_eq!(status, 404, "{body}");

    // Reservations: by number, arrivals, departures, in house.
    let (status, body) = s.get("/v1/hotels/MEWS1/reservations/52").await;
    assert_eq!(status, 200, "{body}");
    let r = &body["data"];
    assert_eq!(r["status"], "reserved", "{r}");
    assert_eq!(r["guestName"], "John Smith");
    assert_eq!(r["guestId"], "mews:c-john");
    assert_eq!(r["roomNumber"], "101");
    assert_eq!(
        (r["arrivalDate"].as_str(), r["departureDate"].as_str()),
        (Some("2030-04-23"), Some("2030-04-25"))
    );
    assert_eq!(
        (r["adults"].as_u64(), r["children"].as_u64()),
        (Some(2), Some(2)),
        "{r}"
    );
    let (status, _) = s.get("/v1/hotels/MEWS1/reservations/999").await;
    assert_eq!(status, 404);
    let (status, body) = s.get("/v1/hotels/MEWS1/arrivals?date=2030-04-23").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{body}");
    let (status, body) = s.get("/v1/hotels/MEWS1/departures?date=2030-04-25").await;
    assert_eq!(
        (status, body["data"].as_array().map(Vec::len)),
        (200, Some(0)),
        "52 is not checked in: {body}"
    );
    let (status, body) = s.get("/v1/hotels/MEWS1/in-house").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"][0]["confirmationNumber"], "53", "{body}");
    assert_eq!(body["data"][0]["status"], "checked_in", "{body}");
    let in_house = sim
        .received_for(RESERVATIONS)
        .last()
        .cloned()
        .expect("request");
    assert_eq!(in_house.body["States"], json!(["Started"]));
    assert!(in_house.body["CollidingUtc"]["StartUtc"].is_string());

    // Rooms.
    let (status, body) = s.get("/v1/hotels/MEWS1/rooms").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(2), "{body}");
    let (status, body) = s.get("/v1/hotels/MEWS1/rooms/102").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["housekeeping"], "dirty");
    let (status, _) = s.get("/v1/hotels/MEWS1/rooms/999").await;
    assert_eq!(status, 404);

    // Balance: the reservation's own open items minus its open payments, not the rest of the
    // guest's account (John's other stay owes 35.00 of its own).
    let (status, body) = s.get("/v1/hotels/MEWS1/reservations/52/balance").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"amount": "70.00", "currency": "EUR"}));
    let (status, body) = s.get("/v1/hotels/MEWS1/reservations/54/balance").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"amount": "35.00", "currency": "EUR"}));

    // Writes.
    let (status, body) = s
        .send(
            Method::POST,
            "/v1/hotels/MEWS1/reservations/52/notes",
            json!({"note": "Late arrival, around 23:00"}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("applied")),
        "{body}"
    );
    let op = body["operationId"]
        .as_str()
        .expect("operation id")
        .to_owned();
    let notes = sim.notes();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0]["OrderId"], "res-52");
    assert!(
        notes[0]["Text"].as_str().is_some_and(|t| t
            == format!(
                "Late arrival, around 23:00 (via Jack, ref {})",
                &op[op.len() - 8..]
            )),
        "{notes:?}"
    );
    let (_, body) = s.get("/v1/hotels/MEWS1/reservations/52").await;
    assert_eq!(
        body["data"]["notes"],
        json!(["Late arrival, around 23:00"]),
        "{body}"
    );

    let (status, body) = s
        .send(
            Method::PUT,
            "/v1/hotels/MEWS1/reservations/52/checkout",
            json!({"checkoutTime": "2030-04-25T13:30:00+02:00"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let stored = sim.reservation("52").expect("52");
    assert_eq!(stored["ScheduledEndUtc"], "2030-04-25T11:30:00Z");
    let update = sim.received_for("reservations/updateInterval");
    assert_eq!(update[0].body["ReservationId"], "res-52");
    assert_eq!(update[0].body["ChargeCancellationFee"], false);

    let (status, body) = s
        .send(
            Method::PUT,
            "/v1/hotels/MEWS1/guests/mews:c-john/preferences",
            json!({"preferences": [
                {"category": "CLASSIFICATION", "code": "VeryImportant"},
                {"category": "DIETARY", "code": "VEGAN", "description": "Vegan"}
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let john = sim.customer("c-john").expect("john");
    assert_eq!(john["Classifications"], json!(["VeryImportant"]));
    assert_eq!(john["DietaryRequirements"], "Vegan");
    let (_, body) = s.get("/v1/hotels/MEWS1/guests/mews:c-john").await;
    assert_eq!(
        body["data"]["vip"], true,
        "the write invalidated the cached guest: {body}"
    );
    let (status, body) = s
        .send(
            Method::PUT,
            "/v1/hotels/MEWS1/guests/mews:c-john/preferences",
            json!({"preferences": [{"category": "PILLOW", "code": "FEATHER"}]}),
        )
        .await;
    assert_eq!(
        status, 501,
        "no Mews field for the category: unsupported, not a bad request: {body}"
    );

    let (status, body) = s
        .send(
            Method::POST,
            "/v1/hotels/MEWS1/reservations/52/charges",
            json!({"amount": "12.50", "currency": "EUR", "description": "Minibar"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let op = body["operationId"]
        .as_str()
        .expect("operation id")
        .to_owned();
    let order = sim.received_for("orders/add").pop().expect("orders/add");
    assert_eq!(order.body["LinkedReservationId"], "res-52");
    assert_eq!(order.body["AccountId"], "c-john");
    assert_eq!(order.body["Items"][0]["UnitAmount"]["GrossValue"], 12.5);
    assert_eq!(order.body["Items"][0]["ExternalIdentifier"], op.as_str());
    let (_, body) = s.get("/v1/hotels/MEWS1/reservations/52/balance").await;
    assert_eq!(
        body["data"]["amount"], "82.50",
        "the charge invalidated the balance: {body}"
    );

    // find-write: an answer lost after Mews applied the charge → read back, never posted twice.
    sim.inject(
        "orders/add",
        Fault {
            apply: true,
            ..Fault::new(504, "")
        },
    );
    let (status, body) = s
        .send(
            Method::POST,
            "/v1/hotels/MEWS1/reservations/52/charges",
            json!({"amount": "5", "currency": "EUR", "description": "Water"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let lost = body["operationId"]
        .as_str()
        .expect("operation id")
        .to_owned();
    let op = wait_applied(&s, &lost).await;
    assert_eq!(op["state"], "applied", "{op}");
    let copies = sim
        .order_items()
        .iter()
        .filter(|i| i["ExternalIdentifier"] == lost.as_str())
        .count();
    assert_eq!(copies, 1, "read back by ExternalIdentifier, not resent");
    assert_eq!(sim.received_for("orders/add").len(), 2);
    // … and a note that never reached Mews is found absent and sent again, once.
    sim.inject(
        "serviceOrderNotes/add",
        Fault::new(502, "{\"Message\":\"Bad gateway\"}"),
    );
    let (status, body) = s
        .send(
            Method::POST,
            "/v1/hotels/MEWS1/reservations/52/notes",
            json!({"note": "Feather pillows"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let queued = body["operationId"]
        .as_str()
        .expect("operation id")
        .to_owned();
    assert_eq!(wait_applied(&s, &queued).await["state"], "applied");
    assert_eq!(sim.notes().len(), 2);
    assert!(
        !sim.received_for("serviceOrderNotes/getAll").is_empty(),
        "find-write read the notes back"
    );

    // Every body Mews received carries the tokens, merged by the host; the guest never wrote
    // them (the host refuses a guest body with a credential field, so every call above passing
    // is the proof), and none reached the host's log (checked when the stack drops).
    let received = sim.received();
    assert!(received.len() > 20);
    for r in &received {
        assert_eq!(r.body["ClientToken"], CLIENT_TOKEN, "{}", r.operation);
        assert_eq!(r.body["AccessToken"], ACCESS_TOKEN, "{}", r.operation);
        assert_eq!(r.body["Client"], "jack-pms 0.1.0", "{}", r.operation);
    }
    // Every request the adapter sent in this run, held to the shapes of Mews' documented
    // examples (Mews publishes no machine-readable spec).
    assert_requests_follow_the_documented_examples(&sim);
}

#[tokio::test]
async fn arrivals_follow_the_cursor_across_three_pages() {
    let sim = Sim::new();
    sim.add_customer("c-john", "John", "Smith", "j.smith@example.com");
    for i in 0..12 {
        sim.add_reservation(Booking {
            id: &format!("res-{i:02}"),
            number: &format!("{}", 100 + i),
            state: "Confirmed",
            account: "c-john",
            start: &format!("2030-06-10T{:02}:00:00Z", 8 + i),
            end: "2030-06-12T10:00:00Z",
            room: None,
        });
    }
    let s = stack(
        &sim,
        ", reservationsPageSize: \"5\"",
        StackOptions::default(),
    )
    .await;
    let (status, body) = s.get("/v1/hotels/MEWS1/arrivals?date=2030-06-10").await;
    assert_eq!(status, 200, "{body}");
    let numbers: Vec<&str> = body["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["confirmationNumber"].as_str())
        .collect();
    assert_eq!(numbers.len(), 12, "{body}");
    let pages = sim.received_for(RESERVATIONS);
    assert_eq!(pages.len(), 3, "three pages of 5, 5 and 2");
    let cursors: Vec<&Value> = pages
        .iter()
        .map(|p| &p.body["Limitation"]["Cursor"])
        .collect();
    assert!(cursors[0].is_null());
    assert_eq!(cursors[1], "res-04");
    assert_eq!(cursors[2], "res-09");
    assert!(pages.iter().all(|p| p.body["Limitation"]["Count"] == 5));
}

#[tokio::test]
async fn a_local_date_on_a_dst_change_becomes_the_right_utc_interval() {
    let sim = Sim::new();
    sim.add_customer("c-john", "John", "Smith", "j.smith@example.com");
    // Prague, 2024-03-31: clocks jump from 02:00 to 03:00, so the local day is
    // [2024-03-30T23:00Z, 2024-03-31T22:00Z), 23 hours.
    for (id, number, start) in [
        ("before", "1", "2024-03-30T22:30:00Z"), // 23:30 on the 30th, local
        ("first", "2", "2024-03-30T23:00:00Z"),  // 00:00 on the 31st
        ("late", "3", "2024-03-31T21:30:00Z"),   // 23:30 on the 31st (CEST)
        ("after", "4", "2024-03-31T22:30:00Z"),  // 00:30 on 1 April
    ] {
        sim.add_reservation(Booking {
            id,
            number,
            state: "Confirmed",
            account: "c-john",
            start,
            end: "2024-04-02T09:00:00Z",
            room: None,
        });
    }
    let s = stack(&sim, "", StackOptions::default()).await;
    let (status, body) = s.get("/v1/hotels/MEWS1/arrivals?date=2024-03-31").await;
    assert_eq!(status, 200, "{body}");
    let sent = sim.received_for(RESERVATIONS).pop().expect("query");
    assert_eq!(
        sent.body["ScheduledStartUtc"],
        json!({"StartUtc": "2024-03-30T23:00:00Z", "EndUtc": "2024-03-31T22:00:00Z"})
    );
    assert_eq!(sent.body["States"], json!(["Confirmed", "Started"]));
    let got: Vec<(&str, &str)> = body["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["confirmationNumber"].as_str().unwrap_or_default(),
                r["arrivalDate"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(got, vec![("2", "2024-03-31"), ("3", "2024-03-31")]);
    // And the 25-hour day in October.
    let (status, _) = s.get("/v1/hotels/MEWS1/departures?date=2024-10-27").await;
    assert_eq!(status, 200);
    let sent = sim.received_for(RESERVATIONS).pop().expect("query");
    assert_eq!(
        sent.body["ScheduledEndUtc"],
        json!({"StartUtc": "2024-10-26T22:00:00Z", "EndUtc": "2024-10-27T23:00:00Z"})
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out_and_sent_again() {
    let sim = Sim::new();
    seed(&sim);
    // A small window, so that the test reaches it: 3 requests per 2 s.
    sim.set_window(3, Duration::from_secs(2));
    let s = stack(&sim, "", StackOptions::default()).await;
    // Five distinct reads (a repeated one would come from the cache): the fourth meets the
    // window's end.
    for room in ["101", "102", "997", "998", "999"] {
        let (status, body) = s.get(&format!("/v1/hotels/MEWS1/rooms/{room}")).await;
        assert!(status == 200 || status == 404, "{status} {body}");
    }
    let (status, body) = s.get("/v1/hotels/MEWS1/rooms").await;
    assert_eq!(status, 200, "{body}");
    let received = sim.received();
    let limited: Vec<usize> = received
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 429)
        .map(|(i, _)| i)
        .collect();
    assert!(!limited.is_empty(), "the window was reached: {received:?}");
    for i in limited {
        let next = received.get(i + 1).expect("the request was sent again");
        assert_eq!(next.status, 200);
        assert!(
            next.at.duration_since(received[i].at) >= Duration::from_millis(900),
            "sent again before Retry-After"
        );
    }
}

#[tokio::test]
async fn a_408_is_retried_with_smaller_pages() {
    let sim = Sim::new();
    seed(&sim);
    sim.set_heavy_threshold(RESERVATIONS, 100);
    // The default retry policy (3 attempts): the manifest's `no_retry_statuses = [408]` hands
    // each 408 to the adapter at once, so no too-heavy page is ever sent twice.
    let s = stack(
        &sim,
        ", reservationsPageSize: \"400\"",
        StackOptions::default(),
    )
    .await;
    let (status, body) = s.get("/v1/hotels/MEWS1/reservations/52").await;
    assert_eq!(status, 200, "{body}");
    let counts: Vec<(u16, u64)> = sim
        .received_for(RESERVATIONS)
        .iter()
        .map(|r| {
            (
                r.status,
                r.body["Limitation"]["Count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(counts, vec![(408, 400), (408, 200), (200, 100)]);
}

#[tokio::test]
async fn malformed_or_unexpected_mews_answers_are_clear_errors_never_traps() {
    let sim = Sim::new();
    seed(&sim);
    let s = stack(&sim, "", StackOptions::default()).await;
    let cases: Vec<(Fault, u16, &str)> = vec![
        (
            Fault::new(200, "{\"Reservations\": [{\"Id\": "),
            502,
            "cannot read",
        ),
        (
            Fault::new(200, "<html>maintenance</html>"),
            502,
            "cannot read",
        ),
        (
            Fault::new(
                200,
                r#"{"Reservations":[{"Id":"x","Number":"52","State":"Teleported","ScheduledStartUtc":"2030-01-01T00:00:00Z","ScheduledEndUtc":"2030-01-02T00:00:00Z"}],"Cursor":"x"}"#,
            ),
            502,
            "Teleported",
        ),
        (
            Fault::new(
                200,
                r#"{"Reservations":[{"Id":"x","Number":"52","State":"Confirmed","ScheduledStartUtc":"soon","ScheduledEndUtc":"later"}],"Cursor":"x"}"#,
            ),
            502,
            "soon",
        ),
        (
            Fault::new(
                403,
                r#"{"Message":"The enterprise is disabled.","RequestId":"mews-req-7"}"#,
            ),
            409,
            "mews-req-7",
        ),
    ];
    for (fault, want, text) in cases {
        sim.inject(RESERVATIONS, fault);
        let (status, body) = s.get("/v1/hotels/MEWS1/reservations/52").await;
        assert_eq!(status, want, "{body}");
        let detail = body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(text), "`{text}` not in {body}");
    }
    // A 500 on a read is retried by the host; the next answer is good.
    sim.inject(RESERVATIONS, Fault::new(500, "oops"));
    let (status, body) = s.get("/v1/hotels/MEWS1/reservations/52").await;
    assert_eq!(status, 200, "{body}");
    let logs = s.logs();
    assert!(
        !logs.to_lowercase().contains("trap"),
        "no adapter trapped:\n{logs}"
    );
}

#[tokio::test]
async fn wrong_tokens_are_refused_by_mews_and_reported() {
    let sim = Sim::new();
    seed(&sim);
    let wrong = "0000000000000000000000000000000-WRONGWRONGWRONGWRONGWRONGWRONGW";
    let s = stack(
        &sim,
        "",
        StackOptions {
            extra_hotels: format!(
                "  - id: MEWS2\n    adapter: mews\n    settings: {{ platformAddress: api.mews-demo.com, serviceId: {SERVICE_ID}, enterpriseTimeZone: Europe/Prague, pricingMode: gross }}\n    secrets: {{ clientToken: {{ env: T_MEWS_CLIENT }}, accessToken: {{ env: T_MEWS_WRONG }} }}\n"
            ),
            env: vec![("T_MEWS_WRONG".into(), wrong.into())],
            ..StackOptions::default()
        },
    )
    .await;
    let (status, body) = s.get("/v1/hotels/MEWS2/reservations/52").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Mews 401")),
        "{body}"
    );
    assert!(!body.to_string().contains(wrong));
    let refused = sim
        .received()
        .into_iter()
        .find(|r| r.status == 401)
        .expect("a 401");
    assert_eq!(refused.body["AccessToken"], wrong);
}

#[tokio::test]
async fn a_mews_webhook_invalidates_the_cache_and_refreshes_the_stream() {
    let sim = Sim::new();
    seed(&sim);
    let token = support::random_key();
    let rare = "{ enabled: true, schedule: \"0 0 1 1 *\" }";
    let addr = support::tls::serve_https(sim.router()).await;
    let s = Stack::start_with(StackOptions {
        sync: true,
        pms: format!(
            "  sync:\n    arrivals: {rare}\n    departures: {rare}\n    inHouse: {rare}\n    roomStatus: {rare}\n"
        ),
        extra_hotels: format!(
            "  - id: MEWS1\n    adapter: mews\n    settings: {{ platformAddress: api.mews-demo.com, serviceId: {SERVICE_ID}, enterpriseTimeZone: Europe/Prague, pricingMode: gross }}\n    secrets: {{ clientToken: {{ env: T_MEWS_CLIENT }}, accessToken: {{ env: T_MEWS_ACCESS }} }}\n    inboundWebhook: {{ token: {{ env: T_INBOUND_TOKEN }} }}\n"
        ),
        env: vec![
            ("T_INBOUND_TOKEN".into(), token.clone()),
            ("T_MEWS_CLIENT".into(), CLIENT_TOKEN.into()),
            ("T_MEWS_ACCESS".into(), ACCESS_TOKEN.into()),
        ],
        resolve: vec![("api.mews-demo.com".into(), addr)],
        ..StackOptions::default()
    })
    .await;

    // A cached read, and the room stream's silent baseline.
    let (_, first) = s.get("/v1/hotels/MEWS1/rooms/102").await;
    assert_eq!(first["data"]["housekeeping"], "dirty", "{first}");
    let (_, again) = s.get("/v1/hotels/MEWS1/rooms/102").await;
    assert_eq!(again["meta"]["source"], "cache", "{again}");
    let (status, body) = s
        .send(Method::POST, "/v1/hotels/MEWS1/sync/roomStatus", json!({}))
        .await;
    assert_eq!((status, body["events"].as_u64()), (200, Some(0)), "{body}");
    let events = open_events(&s).await;

    // Housekeeping cleans 102 in Mews; Mews tells us with a general webhook.
    sim.set_room_state("102", "Clean");
    let resources_before = sim.received_for("resources/getAll").len();
    let payload = json!({
        "EnterpriseId": "851df8c8-90f2-4c4a-8e01-a4fc46b25178",
        "IntegrationId": "c8bee838-7fb1-4f4e-8fac-ac87008b2f90",
        "Events": [
            {"Discriminator": "ResourceUpdated", "Value": {"Id": "r-102"}},
            {"Discriminator": "PaymentUpdated", "Value": {"Id": "pay-1"}},
            {"Discriminator": "MessageAdded", "Value": {"Id": "m-1"}}
        ]
    });
    let r = s
        .http
        .post(s.url(&format!("/v1/webhooks/MEWS1/mews?token={token}")))
        .json(&payload)
        .send()
        .await
        .expect("webhook");
    let (status, receipt) = support::read(r).await;
    assert_eq!(status, 202, "{receipt}");
    assert_eq!(receipt["ignored"], 1, "{receipt}");
    assert_eq!(
        receipt["invalidated"],
        json!(["balances", "rooms"]),
        "{receipt}"
    );
    assert_eq!(receipt["refreshing"], json!(["roomStatus"]), "{receipt}");

    // The refresh ran by itself and produced the change event…
    let seen = wait_for(&events, "room.status_changed").await;
    assert!(seen.contains("102"), "{seen}");
    assert!(sim.received_for("resources/getAll").len() > resources_before);
    // …and the cached room was forgotten: the next read goes to Mews and sees Clean.
    let (_, after) = s.get("/v1/hotels/MEWS1/rooms/102").await;
    assert_eq!(after["data"]["housekeeping"], "clean", "{after}");
}

type Events = Arc<std::sync::Mutex<String>>;

/// The SSE stream of change events, collected as text.
async fn open_events(s: &Stack) -> Events {
    let mut response = reqwest::Client::new()
        .get(s.url("/v1/events?hotel=MEWS1"))
        .bearer_auth(TOKEN)
        .header("accept", "text/event-stream")
        .send()
        .await
        .expect("SSE");
    assert_eq!(response.status(), 200);
    let seen: Events = Arc::default();
    let out = seen.clone();
    tokio::spawn(async move {
        while let Ok(Some(chunk)) = response.chunk().await {
            out.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    seen
}

async fn wait_for(events: &Events, kind: &str) -> String {
    let started = Instant::now();
    loop {
        let text = events.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if text.contains(kind) {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no {kind} event: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_passes_the_conformance_suite() {
    let sim = Sim::new();
    seed(&sim);
    sim.add_order_item("oi-1", "c-john", "res-52", 100.0);
    let addr = support::tls::serve_https(sim.router()).await;
    let report = support::conformance(
        "mews",
        &format!("https://localhost:{}", addr.port()),
        vec![
            ("T_MEWS_CLIENT".into(), CLIENT_TOKEN.into()),
            ("T_MEWS_ACCESS".into(), ACCESS_TOKEN.into()),
        ],
        true,
    )
    .await;
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["skipped"], 0, "{report:#}");
}
