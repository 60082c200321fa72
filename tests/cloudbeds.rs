//! The Cloudbeds adapter end to end: the real `jack-pms serve` binary, the compiled component,
//! and a Cloudbeds simulator (`tests/sims/cloudbeds`) served over HTTPS from a test CA. The
//! manifest allows only `https://api.cloudbeds.com`; the host pins that name to the simulator
//! with `egress.resolve`, so the adapter runs exactly as it would against Cloudbeds.

#[path = "sims/cloudbeds/mod.rs"]
mod sim;
mod support;

use serde_json::{Value, json};
use sim::{FaultKind, Sim};
use std::future::Future;
use std::time::{Duration, Instant};
use support::{Stack, StackOptions};

const PROPERTY: &str = "P100";

/// Outbox settings with short delays, so replays happen within a second or so.
const FAST_OUTBOX: &str = "outbox:\n  maxAttempts: 50\n  initialDelayMs: 200\n  maxDelayMs: 1000\n";

struct Cb {
    s: Stack,
    sim: Sim,
    key: String,
}

/// One Cloudbeds hotel `CB1` (plus `extra` hotels, which may use `CB_API_KEY`) against a fresh
/// simulator; `prepare` fills the simulator before the host starts.
async fn start(extra: &str, overrides: &str, prepare: impl FnOnce(&Sim)) -> Cb {
    let key = support::random_key();
    let sim = Sim::new(&key, PROPERTY);
    prepare(&sim);
    let addr = support::tls::serve_https(sim.router()).await;
    let s = Stack::start_with(StackOptions {
        extra_hotels: format!(
            "  - id: CB1\n    adapter: cloudbeds\n    settings: {{ propertyId: \"{PROPERTY}\", apiVersion: \"v1.3\", currency: \"EUR\", preferencesCustomField: \"jackPreferences\", chargeItemCategory: \"Jack\" }}\n    secrets: {{ apiKey: {{ env: CB_API_KEY }} }}\n{extra}"
        ),
        env: vec![("CB_API_KEY".into(), key.clone())],
        resolve: vec![("api.cloudbeds.com".into(), addr)],
        overrides: overrides.into(),
        top: FAST_OUTBOX.into(),
        ..StackOptions::default()
    })
    .await;
    Cb { s, sim, key }
}

/// Polls `check` every 200 ms until it gives a value; panics after two minutes.
async fn eventually<T, F, Fut>(s: &Stack, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}; host log:\n{}",
            s.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn problem_kind(body: &Value) -> &str {
    body["type"]
        .as_str()
        .unwrap_or_default()
        .trim_start_matches("urn:jack-pms:problem:")
}

async fn post_charge(s: &Stack, number: &str, charge: Value, key: &str) -> (u16, Value) {
    let r = s
        .http
        .post(s.url(&format!("/v1/hotels/CB1/reservations/{number}/charges")))
        .bearer_auth(support::TOKEN)
        .header("Idempotency-Key", key)
        .json(&charge)
        .send()
        .await
        .expect("POST charge");
    support::read(r).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_answers_match_the_openapi_schemas() {
    let key = support::random_key();
    let sim = Sim::new(&key, PROPERTY);
    // This test calls in a quick loop itself: no limiter here.
    sim.state().limit = usize::MAX;
    let addr = support::tls::serve_https(sim.router()).await;
    let http = support::tls::client();
    let base = format!("https://localhost:{}/api/v1.3", addr.port());
    let get = |call: &str, query: &str| {
        let (http, key) = (http.clone(), key.clone());
        let url = format!("{base}/{call}?propertyID={PROPERTY}&{query}");
        async move {
            let r = http.get(url).header("x-api-key", key).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let send = |method: reqwest::Method, call: &str, form: Vec<(&str, &str)>| {
        let (http, key) = (http.clone(), key.clone());
        let url = format!("{base}/{call}");
        let mut pairs = vec![("propertyID".to_string(), PROPERTY.to_string())];
        pairs.extend(form.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        async move {
            let r = http
                .request(method, url)
                .header("x-api-key", key)
                .form(&pairs)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let check = |schema: &str, body: &Value| {
        let validator = sim::validator(schema);
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{schema}: {errors:#?}\n{body:#}");
        assert_eq!(body["success"], json!(true), "{schema}: {body}");
    };
    check("GetHotelDetailsResponse", &get("getHotelDetails", "").await);
    check("GetGuestResponse", &get("getGuest", "guestID=G1").await);
    check(
        "GetGuestListResponse",
        &get("getGuestList", "guestLastName=Turing&includeGuestInfo=true").await,
    );
    check(
        "GetReservationResponse",
        &get("getReservation", "reservationID=CB-2001").await,
    );
    check(
        "GetReservationResponse",
        &get("getReservation", "reservationID=CB-2002").await,
    );
    check(
        "GetReservationsResponse",
        &get("getReservations", "status=checked_in&includeAllRooms=true").await,
    );
    check(
        "GetReservationsResponse",
        &get(
            "getReservations",
            "checkInFrom=2024-03-05&checkInTo=2024-03-05",
        )
        .await,
    );
    check(
        "GetReservationNotesResponse",
        &get("getReservationNotes", "reservationID=CB-2001").await,
    );
    check(
        "GetHousekeepingStatusResponse",
        &get("getHousekeepingStatus", "pageSize=5000").await,
    );
    check(
        "PostReservationNoteResponse",
        &send(
            reqwest::Method::POST,
            "postReservationNote",
            vec![("reservationID", "CB-2001"), ("reservationNote", "hello")],
        )
        .await,
    );
    check(
        "PutReservationResponse",
        &send(
            reqwest::Method::PUT,
            "putReservation",
            vec![("reservationID", "CB-2001"), ("checkoutDate", "2024-03-06")],
        )
        .await,
    );
    let item = vec![
        ("reservationID", "CB-2001"),
        ("referenceID", "ref-1"),
        ("items[0][appItemID]", "MINIBAR"),
        ("items[0][itemName]", "Minibar"),
        ("items[0][itemQuantity]", "1"),
        ("items[0][itemPrice]", "12.50"),
    ];
    check(
        "PostCustomItemResponse",
        &send(reqwest::Method::POST, "postCustomItem", item.clone()).await,
    );
    let again = send(reqwest::Method::POST, "postCustomItem", item).await;
    check("PostCustomItemResponse", &again);
    assert!(
        again["data"]["notice"].is_string(),
        "a repeated referenceID gives a notice: {again}"
    );
    check(
        "PostAdjustmentResponse",
        &send(
            reqwest::Method::POST,
            "postAdjustment",
            vec![
                ("reservationID", "CB-2001"),
                ("type", "product"),
                ("amount", "5"),
            ],
        )
        .await,
    );
    check(
        "PutGuestResponse",
        &send(
            reqwest::Method::PUT,
            "putGuest",
            vec![
                ("guestID", "G1"),
                ("guestCustomFields[0][customFieldName]", "jackPreferences"),
                ("guestCustomFields[0][customFieldValue]", "PILLOW:FEATHER"),
            ],
        )
        .await,
    );
    // The validators do refuse what the schemas do not allow.
    let reservation = sim::validator("GetReservationResponse");
    assert!(!reservation.is_valid(&json!({"success": "yes"})));
    assert!(!reservation.is_valid(&json!({"success": true, "data": {"status": "teleported"}})));
    assert!(!reservation.is_valid(&json!({"success": true, "data": {"balance": "12.50"}})));
    assert!(
        !sim::validator("GetHousekeepingStatusResponse")
            .is_valid(&json!({"success": true, "data": [{"roomBlocked": "no"}]}))
    );
    // The published refusals are HTTP 200 and fit the envelope too.
    let refused = get("getReservation", "reservationID=NOPE").await;
    assert_eq!(refused["success"], json!(false));
    assert!(
        sim::validator("GetReservationResponse").is_valid(&refused),
        "{refused}"
    );
    // And the API key is checked.
    let r = http
        .get(format!("{base}/getHotelDetails"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .get(format!("{base}/getHotelDetails"))
        .header("x-api-key", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Every request the simulator received conforms to Cloudbeds' OpenAPI 3 spec: a declared
/// operation, declared query parameters or form fields of the declared types, required fields.
fn assert_requests_follow_the_spec(sim: &Sim) {
    let spec = sim::spec();
    let requests = sim.state().requests.clone();
    let mut findings: Vec<String> = requests
        .iter()
        .flat_map(|r| {
            let write = spec["paths"][format!("/{}", r.call)].get("get").is_none();
            support::contract::cloudbeds(spec, &r.call, write, &r.params)
        })
        .collect();
    findings.sort();
    findings.dedup();
    assert!(
        findings.is_empty(),
        "requests that do not follow Cloudbeds' spec ({} checked):\n{}",
        requests.len(),
        findings.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seed_example_reservation_maps_field_by_field() {
    let Cb { s, sim, .. } = start("", "", |_| {}).await;
    let (status, body) = s.get("/v1/hotels/CB1/reservations/CB-1001").await;
    assert_eq!(status, 200, "{body}");
    let r = &body["data"];
    // reservationID → id and confirmation number
    assert_eq!(r["id"], json!("CB-1001"));
    assert_eq!(r["confirmationNumber"], json!("CB-1001"));
    // guestFirstName + guestLastName → guestName
    assert_eq!(r["guestName"], json!("Ada Lovelace"));
    // checkIn → arrivalDate, checkOut → departureDate
    assert_eq!(r["arrivalDate"], json!("2024-01-15"));
    assert_eq!(r["departureDate"], json!("2024-01-18"));
    // roomNumber → roomNumber
    assert_eq!(r["roomNumber"], json!("101"));
    // status "checked_in" → checked_in
    assert_eq!(r["status"], json!("checked_in"));
    // What the seed's example does not carry stays empty rather than invented.
    assert_eq!(r["notes"], json!([]));
    assert_eq!(r["adults"], json!(0));
    assert!(r.get("checkoutTime").is_none_or(Value::is_null), "{r}");
    // Asked for with the key and property the host holds.
    let asked = sim.requests("getReservation");
    assert_eq!(asked.len(), 1);
    assert!(asked[0].key_valid);
    assert_eq!(asked[0].version, "v1.3");
    assert!(
        asked[0]
            .params
            .contains(&("propertyID".into(), PROPERTY.into()))
    );
    assert!(
        asked[0]
            .params
            .contains(&("reservationID".into(), "CB-1001".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_operation_end_to_end() {
    let Cb { s, sim, .. } = start("", "", |sim| {
        sim.state().rooms.push(sim::SimRoom {
            id: "R106".into(),
            name: "106".into(),
            condition: "inspected".into(),
            ..Default::default()
        });
    })
    .await;

    // health-check
    let (status, body) = s.get("/v1/hotels/CB1/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["healthy"], json!(true), "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Hotel Cloudbeds Test"),
        "{body}"
    );

    // get-guest
    let (status, body) = s.get("/v1/hotels/CB1/guests/cloudbeds:G1").await;
    assert_eq!(status, 200, "{body}");
    let g = &body["data"];
    assert_eq!(g["id"], json!("cloudbeds:G1"));
    assert_eq!(g["firstName"], json!("Ada"));
    assert_eq!(g["lastName"], json!("Lovelace"));
    assert_eq!(g["email"], json!("ada@example.com"));
    assert_eq!(g["phone"], json!("+44 20 7946 0001"));
    assert_eq!(g["preferences"], json!([]));
    let (status, body) = s.get("/v1/hotels/CB1/guests/cloudbeds:NOPE").await;
    assert_eq!((status, problem_kind(&body)), (404, "not-found"), "{body}");

    // search-guests: e-mail, phone, name
    let (status, body) = s.get("/v1/hotels/CB1/guests?email=alan@example.com").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1), "{body}");
    assert_eq!(body["data"][0]["id"], json!("cloudbeds:G2"));
    assert_eq!(body["data"][0]["firstName"], json!("Alan"));
    let (_, body) = s
        .get("/v1/hotels/CB1/guests?phone=%2B1%20202%20555%200103")
        .await;
    assert_eq!(body["data"][0]["id"], json!("cloudbeds:G3"), "{body}");
    let (_, body) = s.get("/v1/hotels/CB1/guests?name=Grace%20Hopper").await;
    assert_eq!(body["data"][0]["lastName"], json!("Hopper"), "{body}");
    let list = sim.requests("getGuestList");
    assert!(list.iter().any(|r| {
        r.params
            .contains(&("guestEmail".into(), "alan@example.com".into()))
    }));
    assert!(list.iter().any(|r| {
        r.params
            .contains(&("guestPhone".into(), "+1 202 555 0103".into()))
    }));
    assert!(list.iter().any(|r| {
        r.params
            .contains(&("guestFirstName".into(), "Grace".into()))
            && r.params
                .contains(&("guestLastName".into(), "Hopper".into()))
    }));

    // get-reservation, with notes and balance
    let (status, body) = s.get("/v1/hotels/CB1/reservations/CB-2001").await;
    assert_eq!(status, 200, "{body}");
    let r = &body["data"];
    assert_eq!(r["guestId"], json!("cloudbeds:G2"));
    assert_eq!(r["guestName"], json!("Alan Turing"));
    assert_eq!(r["status"], json!("checked_in"));
    assert_eq!(r["arrivalDate"], json!("2024-03-01"));
    assert_eq!(r["departureDate"], json!("2024-03-05"));
    assert_eq!(r["roomNumber"], json!("102"));
    assert_eq!(r["roomType"], json!("DBL"));
    assert_eq!(
        (r["adults"].clone(), r["children"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(r["notes"], json!(["VIP: bring flowers", "Late arrival"]));
    let (status, body) = s.get("/v1/hotels/CB1/reservations/NOPE").await;
    assert_eq!((status, problem_kind(&body)), (404, "not-found"), "{body}");

    // get-balance
    let (status, body) = s.get("/v1/hotels/CB1/reservations/CB-2001/balance").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({"amount": "245.50", "currency": "EUR"}));

    // get-arrivals / get-departures / get-in-house-guests
    let numbers = |body: &Value| -> Vec<(String, String)> {
        body["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        (
                            r["confirmationNumber"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                            r["status"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (status, body) = s.get("/v1/hotels/CB1/arrivals?date=2024-03-05").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        numbers(&body),
        [("CB-2002", "reserved"), ("CB-2003", "reserved")]
            .map(|(a, b)| (a.to_string(), b.to_string())),
        "happening stays only: CB-2004 (cancelled) and CB-2005 (no-show) are left out"
    );
    let (_, body) = s.get("/v1/hotels/CB1/departures?date=2024-03-05").await;
    assert_eq!(
        numbers(&body),
        [("CB-2001".to_string(), "checked_in".to_string())]
    );
    assert_eq!(body["data"][0]["roomNumber"], json!("102"), "{body}");
    let (_, body) = s.get("/v1/hotels/CB1/in-house").await;
    assert_eq!(
        numbers(&body),
        [("CB-1001", "checked_in"), ("CB-2001", "checked_in")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let listed = sim.requests("getReservations");
    assert!(listed.iter().any(|r| {
        r.params
            .contains(&("checkInFrom".into(), "2024-03-05".into()))
            && r.params
                .contains(&("checkInTo".into(), "2024-03-05".into()))
    }));
    assert!(listed.iter().any(|r| {
        r.params
            .contains(&("checkOutFrom".into(), "2024-03-05".into()))
            && r.params
                .contains(&("checkOutTo".into(), "2024-03-05".into()))
    }));
    assert!(
        listed
            .iter()
            .any(|r| r.params.contains(&("status".into(), "checked_in".into())))
    );

    // get-all-room-statuses / get-room-status, with NOTES §4's precedence
    let (status, body) = s.get("/v1/hotels/CB1/rooms").await;
    assert_eq!(status, 200, "{body}");
    let rooms: Vec<(String, String, bool)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["roomNumber"].as_str().unwrap().to_string(),
                r["housekeeping"].as_str().unwrap().to_string(),
                r["occupied"].as_bool().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("101", "clean", false),
        ("102", "dirty", true),
        ("103", "out_of_order", false), // blocked wins over vacant pickup
        ("104", "pickup", false),       // vacant pickup wins over dirty
        ("105", "dirty", false),        // do-not-disturb is a service flag, not a state
        ("106", "inspected", false),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c));
    assert_eq!(rooms, expected);
    let (status, body) = s.get("/v1/hotels/CB1/rooms/103").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["housekeeping"], json!("out_of_order"));
    let (status, _) = s.get("/v1/hotels/CB1/rooms/999").await;
    assert_eq!(status, 404);
    // Every request the adapter sent in this run, held to Cloudbeds' published spec.
    assert_requests_follow_the_spec(&sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_operation_end_to_end() {
    let extra = "  - id: CB2\n    adapter: cloudbeds\n    settings: { propertyId: \"P100\", apiVersion: \"v1.2\", chargeMode: adjustment, adjustmentType: product }\n    secrets: { apiKey: { env: CB_API_KEY } }\n";
    let Cb { s, sim, key } = start(extra, "", |_| {}).await;

    // add-reservation-note: form-encoded, operation id in the note for find-write
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/CB1/reservations/CB-2001/notes",
            json!({"note": "Extra towels"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let op = body["operationId"].as_str().unwrap().to_string();
    assert!(
        body["pmsReference"].is_string(),
        "the reservationNoteID is the reference: {body}"
    );
    let writes = sim.writes("postReservationNote");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].content_type, "application/x-www-form-urlencoded");
    assert_eq!(writes[0].get("propertyID"), Some(PROPERTY));
    assert_eq!(writes[0].get("reservationID"), Some("CB-2001"));
    assert_eq!(
        writes[0].get("reservationNote"),
        // What staff read in Cloudbeds: the note and a short reference to the operation.
        Some(format!("Extra towels (via Jack, ref {})", &op[op.len() - 8..]).as_str())
    );
    let (_, body) = s.get("/v1/hotels/CB1/reservations/CB-2001").await;
    assert_eq!(body["data"]["notes"][2], json!("Extra towels"), "{body}");

    // update-checkout-time: putReservation's checkoutDate (Cloudbeds keeps no time)
    let (status, body) = s
        .send(
            reqwest::Method::PUT,
            "/v1/hotels/CB1/reservations/CB-2001/checkout",
            json!({"checkoutTime": "2024-03-06T11:00:00+01:00"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let writes = sim.writes("putReservation");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].http_method, "PUT");
    assert_eq!(writes[0].content_type, "application/x-www-form-urlencoded");
    assert_eq!(writes[0].get("reservationID"), Some("CB-2001"));
    assert_eq!(writes[0].get("checkoutDate"), Some("2024-03-06"));
    assert_eq!(sim.state().reservations["CB-2001"].end, "2024-03-06");
    // A checked-out reservation cannot move: Cloudbeds' refusal comes back as a conflict.
    sim.state().reservations.get_mut("CB-2002").unwrap().status = "checked_out".into();
    let (status, body) = s
        .send(
            reqwest::Method::PUT,
            "/v1/hotels/CB1/reservations/CB-2002/checkout",
            json!({"checkoutTime": "2024-03-09T11:00:00Z"}),
        )
        .await;
    assert_eq!((status, problem_kind(&body)), (409, "conflict"), "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("checked out"),
        "{body}"
    );

    // post-charge: postCustomItem with referenceID = the host's operation id
    let (status, body) = post_charge(
        &s,
        "CB-2001",
        json!({"amount": "12.50", "currency": "EUR", "description": "Minibar", "code": "MINIBAR"}),
        "minibar-1",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let op = body["operationId"].as_str().unwrap().to_string();
    let writes = sim.writes("postCustomItem");
    assert_eq!(writes.len(), 1);
    let w = &writes[0];
    assert_eq!(w.content_type, "application/x-www-form-urlencoded");
    assert_eq!(w.get("reservationID"), Some("CB-2001"));
    assert_eq!(w.get("referenceID"), Some(op.as_str()));
    assert_eq!(w.get("items[0][appItemID]"), Some("MINIBAR"));
    assert_eq!(w.get("items[0][itemSKU]"), Some("MINIBAR"));
    assert_eq!(w.get("items[0][itemName]"), Some("Minibar"));
    assert_eq!(w.get("items[0][itemPrice]"), Some("12.50"));
    assert_eq!(w.get("items[0][itemQuantity]"), Some("1"));
    assert_eq!(w.get("items[0][itemCategoryName]"), Some("Jack"));
    let (_, body) = s.get("/v1/hotels/CB1/reservations/CB-2001/balance").await;
    assert_eq!(
        body["data"],
        json!({"amount": "258.00", "currency": "EUR"}),
        "{body}"
    );
    // A charge in another currency is refused before anything is sent.
    let (status, body) = post_charge(
        &s,
        "CB-2001",
        json!({"amount": "3.00", "currency": "USD", "description": "Soda"}),
        "soda-1",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["type"], "urn:jack-pms:problem:pms-refused", "{body}");
    assert_eq!(sim.writes("postCustomItem").len(), 1);

    // post-charge through postAdjustment (chargeMode: adjustment), on API v1.2
    let r = s
        .http
        .post(s.url("/v1/hotels/CB2/reservations/CB-2003/charges"))
        .bearer_auth(support::TOKEN)
        .json(&json!({"amount": "7.25", "currency": "EUR", "description": "Late checkout"}))
        .send()
        .await
        .unwrap();
    let (status, body) = support::read(r).await;
    assert_eq!(status, 200, "{body}");
    let op = body["operationId"].as_str().unwrap().to_string();
    let writes = sim.writes("postAdjustment");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].get("type"), Some("product"));
    assert_eq!(writes[0].get("amount"), Some("7.25"));
    assert_eq!(
        writes[0].get("notes"),
        Some(format!("Late checkout (via Jack, ref {})", &op[op.len() - 8..]).as_str())
    );
    assert!(
        sim.requests("postAdjustment")
            .iter()
            .all(|r| r.version == "v1.2")
    );

    // update-guest-preferences: the configured guest custom field, read back by get-guest
    let prefs = json!({"preferences": [
        {"category": "PILLOW", "code": "FEATHER", "description": "Feather pillow"},
        {"category": "FLOOR", "code": "HIGH"}
    ]});
    let (status, body) = s
        .send(
            reqwest::Method::PUT,
            "/v1/hotels/CB1/guests/cloudbeds:G3/preferences",
            prefs.clone(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let writes = sim.writes("putGuest");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].http_method, "PUT");
    assert_eq!(writes[0].get("guestID"), Some("G3"));
    assert_eq!(
        writes[0].get("guestCustomFields[0][customFieldName]"),
        Some("jackPreferences")
    );
    assert_eq!(
        writes[0].get("guestCustomFields[0][customFieldValue]"),
        Some("PILLOW:FEATHER=Feather pillow\nFLOOR:HIGH")
    );
    let (_, body) = s.get("/v1/hotels/CB1/guests/cloudbeds:G3").await;
    assert_eq!(body["data"]["preferences"], prefs["preferences"], "{body}");
    // Without a configured field, Cloudbeds has nowhere to keep them: unsupported, with why.
    let (status, body) = s
        .send(
            reqwest::Method::PUT,
            "/v1/hotels/CB2/guests/cloudbeds:G3/preferences",
            prefs,
        )
        .await;
    assert_eq!(
        (status, problem_kind(&body)),
        (501, "unsupported"),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("preferencesCustomField"),
        "{body}"
    );

    // No write ever carried the API key (the adapter never had it).
    assert!(
        sim.state()
            .writes
            .iter()
            .all(|w| w.form.iter().all(|(_, v)| !v.contains(&key)))
    );
    // Every request the adapter sent in this run, held to Cloudbeds' published spec.
    assert_requests_follow_the_spec(&sim);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_charge_never_posts_twice_and_a_note_is_read_back() {
    let Cb { s, sim, .. } = start("", "", |_| {}).await;

    // The charge reaches Cloudbeds but the answer is a 500: the outcome is unknown.
    sim.fault(Some("postCustomItem"), FaultKind::ApplyThen(500), 1);
    let (status, body) = post_charge(
        &s,
        "CB-2001",
        json!({"amount": "20.00", "currency": "EUR", "description": "Spa"}),
        "spa-1",
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let op = body["operationId"].as_str().unwrap().to_string();
    eventually(&s, "the charge to be applied", || async {
        let (_, body) = s.get(&format!("/v1/operations/{op}")).await;
        (body["state"] == json!("applied")).then_some(())
    })
    .await;
    // Sent twice with the same referenceID; Cloudbeds holds it once.
    let writes = sim.writes("postCustomItem");
    assert_eq!(writes.len(), 2, "{writes:?}");
    assert!(
        writes
            .iter()
            .all(|w| w.get("referenceID") == Some(op.as_str()))
    );
    let items: Vec<_> = sim
        .state()
        .items
        .iter()
        .filter(|i| i.reference_id.as_deref() == Some(op.as_str()))
        .cloned()
        .collect();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(sim.state().reservations["CB-2001"].balance, "265.50");

    // A note that reached Cloudbeds before a 500 is found by its marker and not sent again.
    sim.fault(Some("postReservationNote"), FaultKind::ApplyThen(500), 1);
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/CB1/reservations/CB-2002/notes",
            json!({"note": "Crib in room"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let op = body["operationId"].as_str().unwrap().to_string();
    eventually(&s, "the note to be applied", || async {
        let (_, body) = s.get(&format!("/v1/operations/{op}")).await;
        (body["state"] == json!("applied")).then_some(())
    })
    .await;
    assert_eq!(
        sim.writes("postReservationNote").len(),
        1,
        "read back, not resent"
    );
    let notes = sim.state().notes["CB-2002"].clone();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        sim.count("getReservationNotes") >= 1,
        "find-write read the notes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_false_with_http_200_is_the_right_pms_error() {
    // CB9 names a property the key does not cover: Cloudbeds' published HTTP 200 refusal.
    let extra = "  - id: CB9\n    adapter: cloudbeds\n    settings: { propertyId: \"P999\", apiVersion: v1.3, currency: EUR }\n    secrets: { apiKey: { env: CB_API_KEY } }\n";
    let Cb { s, sim, .. } = start(extra, "", |_| {}).await;
    let (status, body) = s.get("/v1/hotels/CB9/reservations/CB-2001").await;
    assert_eq!(
        (status, problem_kind(&body)),
        (502, "pms-unauthorized"),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("None of the included property id's match"),
        "Cloudbeds' message is carried: {body}"
    );
    let (status, body) = s.get("/v1/hotels/CB9/health").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["healthy"], json!(false), "{body}");

    // The other published refusals.
    sim.fault(
        Some("getHousekeepingStatus"),
        FaultKind::Refuse("User who approved this connection is not active anymore".into()),
        1,
    );
    let (status, body) = s.get("/v1/hotels/CB1/rooms").await;
    assert_eq!(
        (status, problem_kind(&body)),
        (502, "pms-unauthorized"),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("not active anymore"),
        "{body}"
    );

    // A business refusal of a write (HTTP 200, success:false) is not applied and says why.
    sim.fault(
        Some("postReservationNote"),
        FaultKind::Refuse("Reservation is locked by another user".into()),
        1,
    );
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/CB1/reservations/CB-2001/notes",
            json!({"note": "x"}),
        )
        .await;
    assert_eq!((status, problem_kind(&body)), (409, "conflict"), "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("locked"),
        "{body}"
    );

    // An unknown reservation: HTTP 200 success:false "not found" is a plain 404.
    let (status, body) = s.get("/v1/hotels/CB1/reservations/CB-404/balance").await;
    assert_eq!((status, problem_kind(&body)), (404, "not-found"), "{body}");

    // A wrong key: the published HTTP 401 body.
    let extra_key = "  - id: CBX\n    adapter: cloudbeds\n    settings: { propertyId: \"P100\", apiVersion: v1.3 }\n    secrets: { apiKey: { env: CB_WRONG_KEY } }\n";
    drop(s);
    let key = support::random_key();
    let sim2 = Sim::new(&key, PROPERTY);
    let addr = support::tls::serve_https(sim2.router()).await;
    let s = Stack::start_with(StackOptions {
        extra_hotels: extra_key.into(),
        env: vec![("CB_WRONG_KEY".into(), support::random_key())],
        resolve: vec![("api.cloudbeds.com".into(), addr)],
        ..StackOptions::default()
    })
    .await;
    let (status, body) = s.get("/v1/hotels/CBX/rooms").await;
    assert_eq!(
        (status, problem_kind(&body)),
        (502, "pms-unauthorized"),
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("denied the request"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_guests_over_several_pages() {
    let Cb { s, sim, .. } = start("", "", |sim| {
        let mut st = sim.state();
        for i in 0..500 {
            st.guests.insert(
                format!("PG{i:04}"),
                sim::SimGuest {
                    first: format!("Guest{i}"),
                    last: "Pagetest".into(),
                    email: format!("guest{i}@example.com"),
                    phone: format!("+1 555 {i:04}"),
                    ..Default::default()
                },
            );
        }
        for i in 0..250 {
            st.reservations.insert(
                format!("IH-{i:04}"),
                sim::SimReservation {
                    guest_id: format!("PG{i:04}"),
                    status: "checked_in".into(),
                    start: "2024-03-01".into(),
                    end: "2024-03-09".into(),
                    room: Some(format!("{}", 200 + i)),
                    room_type: "Single".into(),
                    adults: 1,
                    balance: "0".into(),
                    ..Default::default()
                },
            );
        }
    })
    .await;
    let (status, body) = s.get("/v1/hotels/CB1/guests?name=Pagetest").await;
    assert_eq!(status, 200, "{body}");
    let guests = body["data"].as_array().unwrap();
    assert_eq!(guests.len(), 500);
    let mut ids: Vec<&str> = guests.iter().map(|g| g["id"].as_str().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 500, "no guest twice");
    let pages: Vec<(String, String)> = sim
        .requests("getGuestList")
        .iter()
        .map(|r| {
            let get = |k: &str| {
                r.params
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            (get("pageNumber"), get("pageSize"))
        })
        .collect();
    assert_eq!(
        pages,
        (1..=5)
            .map(|n| (n.to_string(), "100".to_string()))
            .collect::<Vec<_>>()
    );

    let (status, body) = s.get("/v1/hotels/CB1/in-house").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"].as_array().unwrap().len(),
        252,
        "250 + the two seeded in-house"
    );
    assert_eq!(sim.count("getReservations"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_100_calls_never_exceeds_5_per_second_at_cloudbeds() {
    let Cb { s, sim, .. } = start("", "    cloudbeds:\n      deadlineMs: 90000\n", |sim| {
        let mut st = sim.state();
        for i in 0..100 {
            st.reservations.insert(
                format!("BURST-{i:03}"),
                sim::SimReservation {
                    guest_id: "G1".into(),
                    status: "confirmed".into(),
                    start: "2024-04-01".into(),
                    end: "2024-04-02".into(),
                    room_type: "Double Room".into(),
                    balance: format!("{i}.25"),
                    ..Default::default()
                },
            );
        }
    })
    .await;
    let started = Instant::now();
    let calls = (0..100).map(|i| {
        let s = &s;
        async move {
            let (status, body) = s
                .get(&format!("/v1/hotels/CB1/reservations/BURST-{i:03}/balance"))
                .await;
            assert_eq!(status, 200, "call {i}: {body}");
            assert_eq!(body["data"]["amount"], json!(format!("{i}.25")));
        }
    });
    futures_util::future::join_all(calls).await;
    let elapsed = started.elapsed();

    let arrivals: Vec<Instant> = sim
        .requests("getReservation")
        .iter()
        .map(|r| r.at)
        .collect();
    assert_eq!(arrivals.len(), 100, "one request per call");
    let st = sim.state();
    let usage = st.usage.values().next().expect("the key's usage");
    assert!(!usage.suspended, "Cloudbeds would have suspended the key");
    assert!(
        usage.max_in_window <= sim::LIMIT_PER_SECOND,
        "max {} in a window",
        usage.max_in_window
    );
    // Also over the strict one-second window, with no allowance at all.
    let strict = arrivals
        .iter()
        .map(|t| {
            arrivals
                .iter()
                .filter(|u| **u >= *t && u.duration_since(*t) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    // 100 requests at no more than 5 a second take at least 19 s from first to last.
    let span = arrivals.last().unwrap().duration_since(arrivals[0]);
    eprintln!(
        "burst: 100 calls in {elapsed:?}; arrivals spanned {span:?}; most in a {:?} window: {}; in a strict 1 s window: {strict}",
        st.window(),
        usage.max_in_window
    );
    assert!(span >= Duration::from_millis(19_000), "{span:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_never_sees_the_api_key() {
    let Cb { s, sim, key } = start("", "", |_| {}).await;
    // Cloudbeds echoing the key back (in names and notes) reaches neither the adapter nor Jack.
    sim.fault(Some("getGuest"), FaultKind::EchoKey, 1);
    let (status, body) = s.get("/v1/hotels/CB1/guests/cloudbeds:G2").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        !body.to_string().contains(&key),
        "the key reached Jack: {body}"
    );
    assert!(
        body["data"]["firstName"]
            .as_str()
            .unwrap_or_default()
            .starts_with("echo "),
        "{body}"
    );
    sim.fault(Some("getReservationNotes"), FaultKind::EchoKey, 1);
    let (status, body) = s.get("/v1/hotels/CB1/reservations/CB-2001").await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains(&key), "{body}");
    // The host applied it to every request, as `x-api-key`.
    let st = sim.state();
    assert!(!st.presented_keys.is_empty());
    assert!(
        st.presented_keys
            .iter()
            .all(|k| k.as_deref() == Some(key.as_str()))
    );
    drop(st);
    // `jack-pms adapter inspect` shows the host-applied scheme and secret name, not a value.
    let out = s.cli(&[
        "adapter",
        "inspect",
        support::adapters_dir()
            .join("cloudbeds.wasm")
            .to_str()
            .unwrap(),
        "--json",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("x-api-key") && text.contains("api.cloudbeds.com"),
        "{text}"
    );
    assert!(!text.contains(&key));
    // (Dropping the stack checks that the key never reached the host's log.)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_give_a_clear_pms_error_never_a_trap() {
    let Cb { s, sim, .. } = start("", "", |_| {}).await;
    let cases: &[(&str, &str)] = &[
        ("{\"success\": tru", "cannot read"),
        ("<html><body>502 Bad Gateway</body></html>", "cannot read"),
        (
            "{\"data\": {\"reservationID\": \"CB-2001\"}}",
            "without a `success` flag",
        ),
        ("{\"success\": true}", "sent no reservation"),
        ("{\"success\": true, \"data\": [1, 2]}", "cannot read"),
        (
            "{\"success\": true, \"data\": {\"reservationID\": \"CB-2001\", \"status\": \"teleported\", \"startDate\": \"2024-03-01\", \"endDate\": \"2024-03-05\"}}",
            "status this adapter does not know",
        ),
        (
            "{\"success\": true, \"data\": {\"reservationID\": \"CB-2001\", \"status\": \"confirmed\", \"startDate\": \"soon\", \"endDate\": \"2024-03-05\"}}",
            "not a date",
        ),
        ("", "cannot read"),
    ];
    for (i, (body, expect)) in cases.iter().enumerate() {
        sim.fault(
            Some("getReservation"),
            FaultKind::Malformed(body.to_string()),
            1,
        );
        let (status, answer) = s.get(&format!("/v1/hotels/CB1/reservations/BAD-{i}")).await;
        assert_eq!(
            (status, problem_kind(&answer)),
            (502, "adapter-error"),
            "case {i}: {answer}"
        );
        assert!(
            answer["detail"]
                .as_str()
                .unwrap_or_default()
                .contains(expect),
            "case {i}: {answer}"
        );
    }
    // A housekeeping row with an unknown condition, and a list that is not a list.
    sim.fault(Some("getHousekeepingStatus"), FaultKind::Malformed("{\"success\": true, \"data\": [{\"roomName\": \"101\", \"roomCondition\": \"sparkling\"}], \"count\": 1, \"total\": 1}".into()), 1);
    let (status, answer) = s.get("/v1/hotels/CB1/rooms").await;
    assert_eq!(
        (status, problem_kind(&answer)),
        (502, "adapter-error"),
        "{answer}"
    );
    assert!(
        answer["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("sparkling"),
        "{answer}"
    );
    // 5xx: the host retries reads, then the PMS is unavailable.
    sim.fault(
        Some("getHousekeepingStatus"),
        FaultKind::Status(503, "<h1>Service Unavailable</h1>".into()),
        20,
    );
    let (status, answer) = s.get("/v1/hotels/CB1/rooms/101").await;
    assert_eq!(
        (status, problem_kind(&answer)),
        (503, "pms-unavailable"),
        "{answer}"
    );
    sim.state().faults.clear();
    // The adapter kept working throughout: no trap, no open circuit breaker.
    let (status, answer) = s.get("/v1/hotels/CB1/reservations/CB-2001").await;
    assert_eq!(status, 200, "{answer}");
    assert!(!s.logs().contains("trap"), "{}", s.logs());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_passes_the_conformance_suite() {
    let key = support::random_key();
    let sim = Sim::new(&key, PROPERTY);
    let addr = support::tls::serve_https(sim.router()).await;
    let report = support::conformance(
        "cloudbeds",
        &format!("https://localhost:{}", addr.port()),
        vec![("CB_API_KEY".into(), key)],
        false,
    )
    .await;
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["skipped"], 0, "{report:#}");
    // The suite's own calls went through the host's limiter too: the key was never suspended.
    assert!(
        sim.state().usage.values().all(|u| u.max_in_window <= 5),
        "Cloudbeds would have suspended the key"
    );
}
