//! The opera adapter's CPU cost for one arrivals page of 200 OHIP reservations: the sandboxed
//! component (fresh instance, `get-arrivals`, its OHIP request answered in-process, the host's
//! checks of the result) against native Rust doing the same parse and mapping with the adapter
//! crate's own public functions (`opera::mapping::reservations_page`) plus the host's half.
//! Prints the ratio; the target is at most 2.0.
//!
//! `cargo bench -p jack-pms-host --bench opera_mapping`

use criterion::{Criterion, criterion_group, criterion_main};
use jack_pms_host::egress::RawResponse;
use jack_pms_host::operation::{Call, Outcome};
use opera::time::HotelZone;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

mod support;

const RESERVATIONS: usize = 200;
const DATE: &str = "2031-03-20";
const SETTINGS: &str = "{ hostname: \"ohip.bench.example\", hotelId: H1, chargeTransactionCode: \"2004\", timeZone: \"Europe/Amsterdam\" }";

/// One `reservationsDetails` page shaped as Oracle's spec and the simulator write it.
fn page() -> Vec<u8> {
    let info: Vec<Value> = (0..RESERVATIONS)
        .map(|n| {
            json!({
                "reservationIdList": [
                    {"id": format!("{}", 500_000 + n), "type": "Reservation"},
                    {"id": format!("{}", 800_000 + n), "type": "Confirmation"},
                ],
                "roomStay": {
                    "arrivalDate": DATE,
                    "departureDate": "2031-03-22",
                    "expectedTimes": {
                        "reservationExpectedArrivalTime": "2031-03-20 15:00:00.0",
                        "reservationExpectedDepartureTime": "2031-03-22 11:00:00.0",
                    },
                    "adultCount": 2,
                    "childCount": n % 3,
                    "roomClass": "ALL",
                    "roomType": "STDK",
                    "roomId": format!("{}", 100 + n),
                    "numberOfRooms": 1,
                    "ratePlanCode": "BAR",
                    "rateAmount": {"amount": 120.0, "currencyCode": "EUR"},
                    "balance": {"amount": 0, "currencyCode": "EUR"},
                    "guarantee": {"guaranteeCode": "6PM", "shortDescription": "6pm Hold"},
                    "marketCode": "LEISURE",
                    "sourceOfBusiness": "WEB",
                },
                "reservationGuest": {
                    "id": format!("{}", 300_000 + n), "type": "Profile",
                    "givenName": format!("Guest{n}"), "surname": format!("Family{n}"),
                    "phoneNumber": "+31 20 555 0100", "email": format!("guest{n}@example.com"),
                    "language": "E", "nameType": "Guest",
                },
                "reservationPaymentMethod": {"paymentMethod": "CA"},
                "displayColor": "GREEN",
                "hotelId": "H1",
                "hotelName": "Hotel Bench",
                "roomStayReservation": true,
                "createDateTime": "2031-01-09 01:02:48.0",
                "lastModifyDateTime": "2031-02-26 03:00:08.0",
                "reservationStatus": if n % 10 == 0 { "Cancelled" } else { "Reserved" },
                "computedReservationStatus": "DueIn",
                "walkInIndicator": false,
                "preRegistered": false,
                "openFolio": false,
            })
        })
        .collect();
    serde_json::to_vec(&json!({"reservations": {
        "reservationInfo": info,
        "totalPages": 1, "offset": 0, "limit": 200, "hasMore": false,
        "totalResults": RESERVATIONS, "count": RESERVATIONS,
    }}))
    .expect("page json")
}

/// Native: the adapter crate's parse and mapping, then the host's half (vendor-prefixed guest
/// ids, the model's types), as the runtime does it.
fn native(body: &[u8], zone: HotelZone) -> Vec<jack_pms_host::model::Reservation> {
    let page = opera::mapping::reservations_page(body, zone).expect("page");
    page.reservations
        .into_iter()
        .map(|r| support::host_half("opera", r))
        .collect()
}

fn benches(c: &mut Criterion) {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let body = page();
    let answer_body = body.clone();
    let (rt, service, _dir) = support::canned_service(
        "opera",
        SETTINGS,
        &["clientId", "clientSecret", "appKey"],
        move |request| {
            if request.url.path() == "/oauth/v1/tokens" {
                support::json_response(
                    br#"{"access_token":"bench-token-0123456789","expires_in":3600,"token_type":"Bearer"}"#
                        .to_vec(),
                )
            } else {
                RawResponse {
                    status: 200,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: answer_body.clone(),
                }
            }
        },
    );
    let zone = HotelZone::parse("Europe/Amsterdam").expect("zone");
    let call = || Call::GetArrivals(DATE.into());

    // Check once that both paths map the same 200 reservations.
    let sandboxed = match rt.block_on(service.call("B1", call())) {
        Ok(Outcome::Reservations(rs)) => rs,
        other => panic!("unexpected: {other:?}"),
    };
    let natively = native(&body, zone);
    assert_eq!(sandboxed.len(), RESERVATIONS);
    assert_eq!(
        serde_json::to_value(&sandboxed).expect("json"),
        serde_json::to_value(&natively).expect("json")
    );

    let mut group = c.benchmark_group("opera get-arrivals, 200 reservations");
    group.bench_function("sandboxed (fresh instance + call + in-process http)", |b| {
        b.to_async(&rt)
            .iter(|| async { service.call("B1", call()).await.expect("call") })
    });
    group.bench_function("native (same JSON, same mapping functions)", |b| {
        b.iter(|| native(std::hint::black_box(&body), zone))
    });
    group.finish();

    // The ratio, measured here directly so that it is printed with the figures.
    let rounds = 200;
    let time = |f: &mut dyn FnMut()| {
        for _ in 0..20 {
            f();
        }
        let started = Instant::now();
        for _ in 0..rounds {
            f();
        }
        started.elapsed() / rounds
    };
    let sandboxed = time(&mut || {
        rt.block_on(service.call("B1", call())).expect("call");
    });
    let natively = time(&mut || {
        std::hint::black_box(native(std::hint::black_box(&body), zone));
    });
    let ratio = sandboxed.as_secs_f64()
        / natively
            .as_secs_f64()
            .max(Duration::from_nanos(1).as_secs_f64());
    println!(
        "\nopera get-arrivals ({RESERVATIONS} reservations, {} KiB page): sandboxed {:.1} us, native {:.1} us, ratio {ratio:.2} (target <= 2.0)",
        body.len() / 1024,
        sandboxed.as_secs_f64() * 1e6,
        natively.as_secs_f64() * 1e6,
    );
}

criterion_group!(name = opera_mapping; config = Criterion::default().sample_size(30); targets = benches);
criterion_main!(opera_mapping);
