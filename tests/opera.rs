//! The Oracle OPERA Cloud adapter end to end: the real `jack-pms serve`, the compiled `opera`
//! component, and an OHIP simulator over HTTPS with a test CA (tests/sims/opera), every operation
//! through the HTTP API.

#[path = "sims/opera/mod.rs"]
mod sim;
mod support;

use serde_json::{Value, json};
use sim::{Credentials, Fault, Profile, Reservation, Room, Sim, SimState};
use std::time::{Duration, Instant};
use support::{Stack, StackOptions};

const HOTEL: &str = "HOTEL1";
const DAY: &str = "2031-03-10";
const BUSY_DAY: &str = "2031-03-20";
const HUGE_DAY: &str = "2031-03-25";
/// 1,000 stays that arrive on one day and depart on the next: no split of the search helps.
const PACKED_DAY: &str = "2031-04-01";

struct Ohip {
    s: Stack,
    sim: Sim,
    creds: Credentials,
}

fn seed(state: &mut SimState) {
    state.profiles.push(Profile {
        id: "P100".into(),
        given: "Sarah".into(),
        surname: "Smith".into(),
        emails: vec![
            ("sarah.old@example.com".into(), false),
            ("sarah@example.com".into(), true),
        ],
        phones: vec![
            ("+31 20 555 0100".into(), false),
            ("+31 6 5550 0101".into(), true),
        ],
        memberships: vec!["GOLD".into(), "SILVER".into()],
        vip: Some("VIP1".into()),
        language: Some("E".into()),
        preferences: vec![
            (
                "PILLOW".into(),
                "FEATHER".into(),
                Some("Feather pillows".into()),
            ),
            ("FLOOR".into(), "HIGH".into(), None),
        ],
    });
    state.profiles.push(Profile {
        id: "P200".into(),
        given: "Tom".into(),
        surname: "Jones".into(),
        emails: vec![("tom@example.com".into(), true)],
        ..Profile::default()
    });
    // The in-house guest with several comments, a room and a checkout time.
    let mut r = Reservation::new(1, "2031-03-08", DAY, "P100");
    r.status = "DueOut".into();
    r.room = Some("101".into());
    r.expected_departure = Some("2031-03-10 11:00:00.0".into());
    r.balance = 230.5;
    for (i, text) in ["Late arrival", "Allergic to feathers", "Anniversary"]
        .iter()
        .enumerate()
    {
        r.comments.push(sim::Comment {
            title: None,
            text: text.to_string(),
            created: format!("2031-03-0{} 10:00:00.0", 7 - i),
        });
    }
    state.reservations.push(r);
    let mut r = Reservation::new(2, "2031-03-09", "2031-03-12", "P200");
    r.status = "InHouse".into();
    r.room = Some("102".into());
    state.reservations.push(r);
    // Arrivals today: one reserved, one cancelled, one no-show.
    state
        .reservations
        .push(Reservation::new(3, DAY, "2031-03-13", "P200"));
    let mut r = Reservation::new(4, DAY, "2031-03-11", "P100");
    r.status = "Cancelled".into();
    state.reservations.push(r);
    let mut r = Reservation::new(5, DAY, "2031-03-12", "P200");
    r.status = "NoShow".into();
    state.reservations.push(r);
    // A cancelled stay that would have departed today.
    let mut r = Reservation::new(6, "2031-03-07", DAY, "P200");
    r.status = "Cancelled".into();
    state.reservations.push(r);
    // 450 arrivals on a busy day: three pages of 200.
    for n in 0..450 {
        state
            .reservations
            .push(Reservation::new(1000 + n, BUSY_DAY, "2031-03-22", "P200"));
    }
    // More than OHIP's 1,000-record ceiling arriving on one day, departing over the next five
    // (every 100th cancelled).
    for n in 0..1005 {
        let departure = format!("2031-03-{}", 26 + n % 5);
        let mut r = Reservation::new(5000 + n, HUGE_DAY, &departure, "P200");
        if n % 100 == 0 {
            r.status = "Cancelled".into();
        }
        state.reservations.push(r);
    }
    for n in 0..1000 {
        state
            .reservations
            .push(Reservation::new(7000 + n, PACKED_DAY, "2031-04-02", "P200"));
    }
    // Reservation guests carry their profile's name.
    let names: Vec<(String, String, String)> = state
        .profiles
        .iter()
        .map(|p| (p.id.clone(), p.given.clone(), p.surname.clone()))
        .collect();
    for r in &mut state.reservations {
        if let Some((_, given, surname)) = names.iter().find(|(id, _, _)| *id == r.profile_id) {
            r.given = given.clone();
            r.surname = surname.clone();
        }
    }
    for (id, status, fo) in [
        ("101", "Dirty", "Occupied"),
        ("102", "Clean", "Occupied"),
        ("103", "Inspected", "Vacant"),
        ("104", "Pickup", "Vacant"),
        ("105", "OutOfOrder", "Vacant"),
        ("106", "OutOfService", "Vacant"),
    ] {
        state.rooms.push(Room {
            id: id.into(),
            status: status.into(),
            front_office: fo.into(),
        });
    }
}

fn hotel_yaml(id: &str, port: u16, extra: &str, secrets: &[&str]) -> String {
    let secrets: Vec<String> = secrets
        .iter()
        .map(|name| format!("      {name}: {{ env: OHIP_{} }}\n", name.to_uppercase()))
        .collect();
    format!(
        "  - id: {id}\n    adapter: opera\n    settings: {{ hostname: \"localhost:{port}\", hotelId: {HOTEL}, chargeTransactionCode: \"2004\", timeZone: \"Europe/Amsterdam\"{extra} }}\n    secrets:\n{}",
        secrets.concat()
    )
}

async fn start(ttl: Duration) -> Ohip {
    let creds = Credentials {
        client_id: support::random_key(),
        client_secret: support::random_key(),
        app_key: support::random_key(),
        username: "JACK_INTEGRATION".into(),
        password: support::random_key(),
    };
    let sim = Sim::new(HOTEL, creds.clone());
    sim.state().token_ttl = ttl;
    seed(&mut sim.state());
    let addr = support::tls::serve_https(sim.router()).await;
    let port = addr.port();
    // OPERA1 uses client credentials (and sends enterpriseId on token requests) and is given no
    // username/password; OPERA2 picks the password grant, the only one that needs them.
    let hotels = hotel_yaml(
        "OPERA1",
        port,
        ", enterpriseId: ENT1",
        &["clientId", "clientSecret", "appKey"],
    ) + &hotel_yaml(
        "OPERA2",
        port,
        ", authScheme: oauth2-password",
        &["clientId", "clientSecret", "appKey", "username", "password"],
    );
    let s = Stack::start_with(StackOptions {
        extra_hotels: hotels,
        pms: "  retry:\n    initialDelay: 50\n".into(),
        top: "outbox:\n  initialDelayMs: 200\n  maxDelayMs: 1000\n".into(),
        env: vec![
            ("OHIP_CLIENTID".into(), creds.client_id.clone()),
            ("OHIP_CLIENTSECRET".into(), creds.client_secret.clone()),
            ("OHIP_APPKEY".into(), creds.app_key.clone()),
            ("OHIP_USERNAME".into(), creds.username.clone()),
            ("OHIP_PASSWORD".into(), creds.password.clone()),
        ],
        ..StackOptions::default()
    })
    .await;
    Ohip { s, sim, creds }
}

async fn wait_applied(s: &Stack, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (_, op) = s.get(&format!("/v1/operations/{id}")).await;
        if op["state"] == "applied" {
            return op;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "never applied: {op}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// No token, client secret, app key or password in anything the simulator recorded as the
/// adapter's, nor in the host's log (the Stack checks the log for the secrets when dropped).
fn assert_no_secrets(o: &Ohip) {
    let state = o.sim.state();
    let recorded = format!("{:?}", state.requests);
    for secret in [
        &o.creds.client_id,
        &o.creds.client_secret,
        &o.creds.app_key,
        &o.creds.password,
    ] {
        assert!(!recorded.contains(secret.as_str()));
    }
    assert!(!recorded.contains("ohip-token-"), "a token was recorded");
    assert!(
        !o.s.logs().contains("ohip-token-"),
        "a token reached the log"
    );
}

#[tokio::test]
async fn every_operation_end_to_end() {
    let o = start(Duration::from_secs(3600)).await;
    let s = &o.s;

    let (status, health) = s.get("/v1/hotels/OPERA1/health").await;
    assert_eq!(status, 200, "{health}");
    assert!(health["tokenValidUntil"].as_str().is_some(), "{health}");

    // A guest whose primary e-mail and phone are not the first ones.
    let (status, g) = s.get("/v1/hotels/OPERA1/guests/opera:P100").await;
    assert_eq!(status, 200, "{g}");
    let g = &g["data"];
    assert_eq!(g["id"], "opera:P100");
    assert_eq!(g["firstName"], "Sarah");
    assert_eq!(g["lastName"], "Smith");
    assert_eq!(g["email"], "sarah@example.com");
    assert_eq!(g["phone"], "+31 6 5550 0101");
    assert_eq!(g["loyaltyTier"], "GOLD");
    assert_eq!(g["vip"], true);
    assert_eq!(g["preferences"][0]["category"], "PILLOW");
    assert_eq!(g["preferences"][0]["code"], "FEATHER");
    let (status, body) = s.get("/v1/hotels/OPERA1/guests/opera:NOPE").await;
    assert_eq!(status, 404, "204 from OHIP is not found: {body}");

    // Searches by e-mail, phone and name.
    for query in [
        "email=sarah%40example.com",
        "phone=%2B31%206%205550%200101",
        "name=Sarah%20Smith",
    ] {
        let (status, found) = s.get(&format!("/v1/hotels/OPERA1/guests?{query}")).await;
        assert_eq!(status, 200, "{query}: {found}");
        assert_eq!(
            found["data"].as_array().map(Vec::len),
            Some(1),
            "{query}: {found}"
        );
        assert_eq!(found["data"][0]["id"], "opera:P100", "{query}");
    }
    let (_, none) = s.get("/v1/hotels/OPERA1/guests?name=Nobody").await;
    assert_eq!(none["data"], json!([]), "{none}");

    // A reservation with several comments, oldest first, and its checkout time in RFC 3339.
    let (status, r) = s.get("/v1/hotels/OPERA1/reservations/800001").await;
    assert_eq!(status, 200, "{r}");
    let r = &r["data"];
    assert_eq!(r["id"], "500001");
    assert_eq!(r["status"], "checked_in");
    assert_eq!(r["guestId"], "opera:P100");
    assert_eq!(r["guestName"], "Sarah Smith");
    assert_eq!(r["roomNumber"], "101");
    assert_eq!(r["checkoutTime"], "2031-03-10T11:00:00+01:00");
    assert_eq!(
        r["notes"],
        json!(["Anniversary", "Allergic to feathers", "Late arrival"])
    );
    let (status, _) = s.get("/v1/hotels/OPERA1/reservations/999999").await;
    assert_eq!(status, 404);
    let (status, g) = s
        .get("/v1/hotels/OPERA1/guests?email=tom%40example.com")
        .await;
    assert_eq!((status, &g["data"][0]["id"]), (200, &json!("opera:P200")));

    // Arrivals and departures: only the stays that are happening, never cancelled or no-show
    // ones (the contract's rule); in-house.
    let (status, a) = s
        .get(&format!("/v1/hotels/OPERA1/arrivals?date={DAY}"))
        .await;
    assert_eq!(status, 200, "{a}");
    let statuses: Vec<&str> = a["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["reserved"], "{a}");
    assert_eq!(a["data"][0]["confirmationNumber"], "800003", "{a}");
    let (_, d) = s
        .get(&format!("/v1/hotels/OPERA1/departures?date={DAY}"))
        .await;
    assert_eq!(d["data"].as_array().map(Vec::len), Some(1), "{d}");
    assert_eq!(d["data"][0]["confirmationNumber"], "800001", "{d}");
    let (_, h) = s.get("/v1/hotels/OPERA1/in-house").await;
    let mut in_house: Vec<&str> = h["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["confirmationNumber"].as_str().unwrap())
        .collect();
    in_house.sort();
    assert_eq!(in_house, ["800001", "800002"], "{h}");

    // Arrivals spanning three pages: 200 + 200 + 50, offsets 0, 200, 400.
    let before = o.sim.state().requests.len();
    let (status, busy) = s
        .get(&format!("/v1/hotels/OPERA1/arrivals?date={BUSY_DAY}"))
        .await;
    assert_eq!(status, 200, "{busy}");
    assert_eq!(busy["data"].as_array().map(Vec::len), Some(450));
    {
        let state = o.sim.state();
        let pages: Vec<&str> = state.requests[before..]
            .iter()
            .map(|r| r.query.as_str())
            .collect();
        assert_eq!(pages.len(), 3, "{pages:?}");
        for (page, offset) in pages.iter().zip(["offset=0", "offset=200", "offset=400"]) {
            assert!(
                page.contains(offset) && page.contains("limit=200"),
                "{page}"
            );
        }
    }

    // More than OHIP's 1,000-record ceiling: the search is split by departure date and the
    // whole list returned (less the cancelled), each reservation once.
    let before = o.sim.state().requests.len();
    let (status, huge) = s
        .get(&format!("/v1/hotels/OPERA1/arrivals?date={HUGE_DAY}"))
        .await;
    assert_eq!(status, 200, "{huge}");
    let mut numbers: Vec<&str> = huge["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["confirmationNumber"].as_str().unwrap())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(
        numbers.len(),
        1005 - 11,
        "every stay once, the 11 cancelled left out"
    );
    {
        let state = o.sim.state();
        let searches = &state.requests[before..];
        assert!(
            searches
                .iter()
                .skip(1)
                .all(|r| r.query.contains("departureStartDate=")
                    && r.query.contains("departureEndDate=")),
            "the split searches narrow by departure date"
        );
        assert!(searches.len() < 60, "{} requests", searches.len());
    }
    // 1,000 stays sharing both dates: no split helps, and the error says so, never a short list.
    let (status, packed) = s
        .get(&format!("/v1/hotels/OPERA1/arrivals?date={PACKED_DAY}"))
        .await;
    assert_eq!(status, 502, "{packed}");
    let detail = packed["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("1000") && detail.contains("single day"),
        "{packed}"
    );

    // Rooms, one and all, per NOTES §4.
    let (status, room) = s.get("/v1/hotels/OPERA1/rooms/104").await;
    assert_eq!(status, 200, "{room}");
    assert_eq!(room["data"]["housekeeping"], "pickup");
    assert_eq!(room["data"]["occupied"], false);
    let (status, _) = s.get("/v1/hotels/OPERA1/rooms/999").await;
    assert_eq!(status, 404);
    let (_, rooms) = s.get("/v1/hotels/OPERA1/rooms").await;
    let states: Vec<&str> = rooms["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["housekeeping"].as_str().unwrap())
        .collect();
    assert_eq!(
        states,
        [
            "dirty",
            "clean",
            "inspected",
            "pickup",
            "out_of_order",
            "out_of_service"
        ]
    );

    // Balance from the folio (money as a decimal string).
    let (status, b) = s.get("/v1/hotels/OPERA1/reservations/800001/balance").await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["data"], json!({"amount": "230.50", "currency": "EUR"}));

    // Writes: a note, a checkout time, a charge, preferences.
    let writes_before = o.sim.state().writes().len();
    let (status, note) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/OPERA1/reservations/800001/notes",
            json!({"note": "Wants a late taxi"}),
        )
        .await;
    assert_eq!(status, 200, "{note}");
    let note_op = note["operationId"].as_str().unwrap().to_string();
    let (status, co) = s
        .send(
            reqwest::Method::PUT,
            "/v1/hotels/OPERA1/reservations/800001/checkout",
            json!({"checkoutTime": "2031-03-10T12:30:00Z"}),
        )
        .await;
    assert_eq!(status, 200, "{co}");
    let (status, charge) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/OPERA1/reservations/800001/charges",
            json!({"amount": "12.50", "currency": "EUR", "description": "Minibar"}),
        )
        .await;
    assert_eq!(status, 200, "{charge}");
    let charge_op = charge["operationId"].as_str().unwrap().to_string();
    let (status, prefs) = s
        .send(
            reqwest::Method::PUT,
            "/v1/hotels/OPERA1/guests/opera:P100/preferences",
            json!({"preferences": [
                {"category": "PILLOW", "code": "FOAM", "description": "Foam pillows"},
                {"category": "FLOOR", "code": "HIGH"},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{prefs}");
    {
        let state = o.sim.state();
        let writes = &state.writes()[writes_before..];
        let summary: Vec<String> = writes
            .iter()
            .map(|w| format!("{} {}", w.method, w.path))
            .collect();
        assert_eq!(
            summary,
            [
                "PUT /rsv/v1/hotels/HOTEL1/reservations/500001",
                "PUT /rsv/v1/hotels/HOTEL1/reservations/500001",
                "POST /csh/v1/hotels/HOTEL1/reservations/500001/charges",
                "DELETE /crm/v1/profiles/P100/preferenceType/PILLOW/preferences/FEATHER",
                "POST /crm/v1/profiles/P100/preferences",
            ]
        );
        for w in writes {
            // Headers the host applied: the hotel header from config, the token and app key
            // (recorded as present, never their values).
            assert_eq!(w.headers["x-hotelid"], HOTEL, "{w:?}");
            assert_eq!(w.headers["authorization"], "<present>");
            assert_eq!(w.headers["x-app-key"], "<present>");
        }
        // The comment follows the schema (an array), not Oracle's contradicting example.
        let comment = &writes[0].body["reservations"][0]["comments"][0]["comment"];
        assert_eq!(comment["text"]["value"], "Wants a late taxi");
        // What staff read above the comment in OPERA: a short reference to the operation.
        assert_eq!(
            comment["commentTitle"],
            format!("Jack, ref {}", &note_op[note_op.len() - 8..])
        );
        assert_eq!(
            writes[1].body["reservations"][0]["roomStay"]["expectedTimes"]["reservationExpectedDepartureTime"],
            "2031-03-10 13:30:00.0",
            "12:30 UTC is 13:30 in Amsterdam"
        );
        let posted = &writes[2].body["criteria"]["charges"][0];
        assert_eq!(posted["transactionCode"], "2004");
        assert_eq!(posted["postingReference"], charge_op.as_str());
        assert_eq!(
            posted["price"],
            json!({"amount": 12.5, "currencyCode": "EUR"})
        );
        assert_eq!(
            writes[4].body["preferenceCollections"][0]["preferenceType"],
            "PILLOW"
        );
        let profile = state.profiles.iter().find(|p| p.id == "P100").unwrap();
        let codes: Vec<&str> = profile.preferences.iter().map(|p| p.1.as_str()).collect();
        assert_eq!(codes, ["HIGH", "FOAM"]);
    }
    let (_, r) = s.get("/v1/hotels/OPERA1/reservations/800001").await;
    assert_eq!(r["data"]["notes"][3], "Wants a late taxi", "{r}");
    assert_eq!(
        r["data"]["checkoutTime"], "2031-03-10T13:30:00+01:00",
        "{r}"
    );
    let (_, b) = s.get("/v1/hotels/OPERA1/reservations/800001/balance").await;
    assert_eq!(b["data"]["amount"], "243.00", "{b}");

    // A charge whose outcome is unknown (the PMS answers 502): queued, read back through
    // find-write (the posting reference), then sent again and applied exactly once.
    o.sim.state().write_faults.push_back(Fault::Status(502));
    let (status, queued) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/OPERA1/reservations/800002/charges",
            json!({"amount": "4.20", "currency": "EUR", "description": "Coffee", "code": "MINIBAR"}),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    wait_applied(s, queued["operationId"].as_str().unwrap()).await;
    {
        let state = o.sim.state();
        let r = state.reservation("800002").unwrap();
        assert_eq!(r.postings.len(), 1, "{:?}", r.postings);
        assert_eq!(r.postings[0].code, "MINIBAR");
        assert!(
            state
                .requests
                .iter()
                .any(|q| q.path.ends_with("/reservations/500002/folios")
                    && q.query.contains("Postings")),
            "find-write read the folio's postings back"
        );
    }

    // OHIP's error body becomes a pms-error carrying OHIP's title and code.
    let (status, bad) = s
        .send(
            reqwest::Method::POST,
            "/v1/hotels/OPERA1/reservations/800001/charges",
            json!({"amount": "1.00", "currency": "EUR", "description": "x", "code": "NOPE"}),
        )
        .await;
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["type"], "urn:jack-pms:problem:pms-refused", "{bad}");
    let detail = bad["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("Invalid transaction code") && detail.contains("CSH00107"),
        "{bad}"
    );

    // The password-grant hotel works against the same OHIP; only client credentials send
    // enterpriseId.
    let (status, body) = s.get("/v1/hotels/OPERA2/rooms/101").await;
    assert_eq!(status, 200, "{body}");
    {
        let state = o.sim.state();
        assert!(state.grants.contains(&"client_credentials".to_string()));
        assert!(
            state.grants.contains(&"password".to_string()),
            "{:?}",
            state.grants
        );
        assert!(state.enterprise_ids.iter().all(|e| e == "ENT1"));
        assert_eq!(
            state.enterprise_ids.len(),
            state
                .grants
                .iter()
                .filter(|g| *g == "client_credentials")
                .count()
        );
    }
    assert_no_secrets(&o);
    // Every request the adapter sent in this run, held to Oracle's published specs.
    assert_requests_follow_oracles_specs(&o);
}

#[tokio::test]
async fn the_adapter_never_sees_a_token_and_bad_bodies_are_clear_errors() {
    let o = start(Duration::from_secs(3600)).await;
    let s = &o.s;
    // OHIP echoes the credential headers into a comment: the host scrubs them.
    o.sim.state().echo_credentials = true;
    let (status, r) = s.get("/v1/hotels/OPERA1/reservations/800002").await;
    assert_eq!(status, 200, "{r}");
    let echoed = r["data"]["notes"][0].as_str().unwrap();
    assert!(
        echoed.contains("authorization=Bearer [REDACTED]"),
        "{echoed}"
    );
    assert!(!echoed.contains(&o.creds.app_key), "{echoed}");
    assert!(!echoed.contains("ohip-token-"), "{echoed}");
    o.sim.state().echo_credentials = false;

    // Malformed and unexpected bodies: a clear pms-error, never a trap.
    for (body, needle) in [
        ("{\"reservations\": {\"reservationInfo\": [", "cannot read"),
        ("<html>Service Unavailable</html>", "cannot read"),
        (
            "{\"reservations\":{\"reservationInfo\":[{\"reservationIdList\":[{\"id\":\"1\",\"type\":\"Reservation\"},{\"id\":\"C1\",\"type\":\"Confirmation\"}],\"roomStay\":{\"arrivalDate\":\"2031-03-10\",\"departureDate\":\"2031-03-11\"},\"reservationStatus\":\"Teleported\"}],\"hasMore\":false}}",
            "Teleported",
        ),
        (
            "{\"reservations\":{\"reservationInfo\":[{\"reservationIdList\":[{\"id\":\"C1\",\"type\":\"Confirmation\"}]}],\"hasMore\":false}}",
            "internal Reservation id",
        ),
        (
            "{\"reservations\":{\"reservationInfo\":[],\"hasMore\":true}}",
            "empty page",
        ),
    ] {
        o.sim
            .state()
            .faults
            .push_back(Fault::Body(200, body.to_string()));
        let (status, problem) = s.get("/v1/hotels/OPERA1/in-house").await;
        assert_eq!(status, 502, "{body}: {problem}");
        assert_eq!(
            problem["type"]
                .as_str()
                .map(|t| t.ends_with("adapter-error")),
            Some(true),
            "{problem}"
        );
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(needle), "{body}: {problem}");
    }
    // The adapter was never suspended for trapping.
    let (status, _) = s.get("/v1/hotels/OPERA1/rooms/101").await;
    assert_eq!(status, 200);
    assert!(!s.logs().contains("adapter failed; instance discarded"));

    // The adapter cannot set the hotel header itself: the host refuses it (shown by the
    // host's unit tests); here: every request the adapter made carried the configured one.
    let state = o.sim.state();
    assert!(
        state
            .requests
            .iter()
            .all(|r| r.headers.get("x-hotelid").map(String::as_str) == Some(HOTEL))
    );
    drop(state);
    assert_no_secrets(&o);
}

#[tokio::test]
async fn token_expiry_429_5xx_and_slow_answers_are_handled_by_the_host() {
    let o = start(Duration::from_secs(3)).await;
    let s = &o.s;
    let (status, body) = s
        .get(&format!("/v1/hotels/OPERA1/arrivals?date={DAY}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(o.sim.state().tokens_issued, 1);

    // Refreshed at 5/6 of its 3 s life, before OHIP would refuse it.
    tokio::time::sleep(Duration::from_millis(2800)).await;
    let (status, body) = s
        .get(&format!("/v1/hotels/OPERA1/departures?date={DAY}"))
        .await;
    assert_eq!(status, 200, "{body}");
    {
        let state = o.sim.state();
        assert_eq!(state.tokens_issued, 2);
        assert_eq!(state.unauthorized, 0, "a token expired in use");
    }

    // The token expires mid-run (OHIP revoked it): one 401, one refresh, one retry.
    o.sim.state().expire_tokens();
    let (status, body) = s.get("/v1/hotels/OPERA1/in-house").await;
    assert_eq!(status, 200, "{body}");
    {
        let state = o.sim.state();
        assert_eq!(state.unauthorized, 1);
        assert_eq!(state.tokens_issued, 3);
    }

    // A 429 burst: the host pauses and sends again; the adapter sees the answer.
    let before = o.sim.state().requests.len();
    o.sim
        .state()
        .faults
        .extend([Fault::Status(429), Fault::Status(429)]);
    let (status, body) = s.get("/v1/hotels/OPERA1/rooms").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(o.sim.state().requests.len() - before, 3);

    // 5xx on a read: retried by the host.
    let before = o.sim.state().requests.len();
    o.sim
        .state()
        .faults
        .extend([Fault::Status(503), Fault::Status(500)]);
    let (status, body) = s.get("/v1/hotels/OPERA1/guests/opera:P200").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(o.sim.state().requests.len() - before, 3);

    // A slow answer (within the host's request timeout) is waited for.
    o.sim
        .state()
        .faults
        .push_back(Fault::Slow(Duration::from_millis(1500)));
    let (status, body) = s.get("/v1/hotels/OPERA1/rooms/102").await;
    assert_eq!(status, 200, "{body}");

    // A PMS that stays down: a clear 503 problem after the host's retries.
    o.sim
        .state()
        .faults
        .extend([Fault::Status(503), Fault::Status(503), Fault::Status(503)]);
    let (status, body) = s.get("/v1/hotels/OPERA1/rooms/103").await;
    assert_eq!(status, 503, "{body}");
    assert_no_secrets(&o);
}

/// Every answer the simulator gives validates against the definition Oracle's spec declares for
/// it (the whole spec document is the schema, so `$ref: '#/definitions/X'` resolves).
#[tokio::test]
async fn simulator_answers_follow_oracles_schemas() {
    let creds = Credentials {
        client_id: "id".into(),
        client_secret: "secret".into(),
        app_key: "app-key".into(),
        username: "user".into(),
        password: "pw".into(),
    };
    let sim = Sim::new(HOTEL, creds);
    seed(&mut sim.state());
    let addr = support::tls::serve_https(sim.router()).await;
    let base = format!("https://localhost:{}", addr.port());
    let http = support::tls::client();
    let specs = support::root().join("tests/vendor-api/opera");

    let token: Value = http
        .post(format!("{base}/oauth/v1/tokens"))
        .basic_auth("id", Some("secret"))
        .header("x-app-key", "app-key")
        .form(&[("grant_type", "client_credentials"), ("scope", "s")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    validate(&specs, "oauth.json", "OAuth2TokenResponse", &token);
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());

    let calls: &[(&str, &str, Option<Value>)] = &[
        ("GET", "/crm/v1/profiles?email=sarah%40example.com", None),
        (
            "GET",
            "/crm/v1/profiles/P100?fetchInstructions=Communication",
            None,
        ),
        ("GET", "/crm/v1/profiles/P100/preferences", None),
        (
            "POST",
            "/crm/v1/profiles/P200/preferences",
            Some(
                json!({"preferenceCollections": [{"preferenceType": "FLOOR", "preference": [{"preferenceCode": "LOW"}]}]}),
            ),
        ),
        (
            "GET",
            "/rsv/v1/hotels/HOTEL1/reservations?arrivalStartDate=2031-03-20&arrivalEndDate=2031-03-20&limit=200&offset=200",
            None,
        ),
        (
            "GET",
            "/rsv/v1/hotels/HOTEL1/reservations?confirmationNumberList=800001",
            None,
        ),
        (
            "GET",
            "/rsv/v1/hotels/HOTEL1/reservations/500001?fetchInstructions=Comments",
            None,
        ),
        (
            "PUT",
            "/rsv/v1/hotels/HOTEL1/reservations/500001",
            Some(
                json!({"reservations": [{"reservationIdList": [{"id": "500001", "type": "Reservation"}], "hotelId": HOTEL,
                "comments": [{"comment": {"text": {"value": "hello"}, "type": "RESERVATION"}}]}]}),
            ),
        ),
        (
            "POST",
            "/csh/v1/hotels/HOTEL1/reservations/500001/charges",
            Some(
                json!({"criteria": {"hotelId": HOTEL, "charges": [{"transactionCode": "2004", "price": {"amount": 3.5, "currencyCode": "EUR"}, "postingReference": "op-1"}]}}),
            ),
        ),
        (
            "GET",
            "/csh/v1/hotels/HOTEL1/reservations/500001/folios?fetchInstructions=Postings",
            None,
        ),
        (
            "GET",
            "/hsk/v1/hotels/HOTEL1/housekeepingOverview?limit=200",
            None,
        ),
    ];
    for (method, path_and_query, body) in calls {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = http
            .request(method.clone(), format!("{base}{path_and_query}"))
            .header("authorization", &bearer)
            .header("x-app-key", "app-key")
            .header("x-hotelid", HOTEL);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert!(
            (200..300).contains(&status) && status != 204,
            "{path_and_query}: {status}"
        );
        let answer: Value = response.json().await.unwrap();
        let path = path_and_query.split('?').next().unwrap();
        let (file, definition) = sim::schema_for(path, method.as_str()).unwrap();
        validate(&specs, file, definition, &answer);
    }
    // Oracle's error shape too.
    let response = http
        .post(format!("{base}/csh/v1/hotels/HOTEL1/reservations/500001/charges"))
        .header("authorization", &bearer)
        .header("x-app-key", "app-key")
        .header("x-hotelid", HOTEL)
        .json(&json!({"criteria": {"charges": [{"transactionCode": "NOPE", "price": {"amount": 1}}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    validate(
        &specs,
        "csh-cashiering.trimmed.json",
        "exceptionDetailType",
        &answer,
    );
    // And its refusals: no token, a 204 for nothing found.
    let response = http
        .get(format!("{base}/hsk/v1/hotels/HOTEL1/housekeepingOverview"))
        .header("x-app-key", "app-key")
        .header("x-hotelid", HOTEL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let response = http
        .get(format!("{base}/crm/v1/profiles/NOPE"))
        .header("authorization", &bearer)
        .header("x-app-key", "app-key")
        .header("x-hotelid", HOTEL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
}

/// Every request the OHIP simulator received conforms to Oracle's Swagger 2 spec of its module
/// (declared operation, query parameters and types, required headers and their patterns such as
/// `x-request-id`'s UUID, the body's schema).
fn assert_requests_follow_oracles_specs(o: &Ohip) {
    let specs = support::root().join("tests/vendor-api/opera");
    let state = o.sim.state();
    let mut findings = Vec::new();
    for r in &state.requests {
        let body = match &r.body {
            Value::String(s) if s.is_empty() => Value::Null,
            other => other.clone(),
        };
        let request = support::contract::OhipRequest {
            method: &r.method,
            path: &r.path,
            query: &r.query,
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
            body: &body,
        };
        findings.extend(support::contract::ohip(&specs, &request));
    }
    findings.sort();
    findings.dedup();
    assert!(
        findings.is_empty(),
        "requests that do not follow OHIP's specs ({} checked):\n{}",
        state.requests.len(),
        findings.join("\n")
    );
}

fn validate(specs: &std::path::Path, file: &str, definition: &str, instance: &Value) {
    let text = std::fs::read_to_string(specs.join(file)).expect("spec");
    let mut document: Value = serde_json::from_str(&text).expect("spec json");
    // Swagger 2.0 schemas are draft 4; the root names the definition and keeps every other one
    // reachable at `#/definitions/...`.
    document["$ref"] = json!(format!("#/definitions/{definition}"));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        // OHIP writes its date-times as `2031-03-10 11:00:00.0` (Oracle's own examples do),
        // which is not RFC 3339: formats are not asserted.
        .should_validate_formats(false)
        .build(&document)
        .expect("validator");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "{file} {definition}: {}\n{instance}",
        errors.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_passes_the_conformance_suite() {
    let creds = Credentials {
        client_id: support::random_key(),
        client_secret: support::random_key(),
        app_key: support::random_key(),
        username: "JACK_INTEGRATION".into(),
        password: support::random_key(),
    };
    let sim = Sim::new(HOTEL, creds.clone());
    seed(&mut sim.state());
    let addr = support::tls::serve_https(sim.router()).await;
    let report = support::conformance(
        "opera",
        &format!("https://localhost:{}", addr.port()),
        vec![
            ("OHIP_CLIENTID".into(), creds.client_id.clone()),
            ("OHIP_CLIENTSECRET".into(), creds.client_secret.clone()),
            ("OHIP_APPKEY".into(), creds.app_key.clone()),
        ],
        true,
    )
    .await;
    assert_eq!(report["failed"], 0, "{report:#}");
    assert_eq!(report["skipped"], 0, "{report:#}");
}
