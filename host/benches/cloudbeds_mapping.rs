//! The Cloudbeds adapter's mapping cost in the sandbox against native Rust: `get-arrivals`
//! answered by one 200-reservation `getReservations` page (built like the simulator's answers:
//! the OpenAPI schema's fields, `includeAllRooms` rooms), in-process; and the same parse and
//! mapping of the same body done natively by the adapter crate's public functions, plus the
//! host's half (guest ids prefixed with the vendor). Target: sandboxed / native ≤ 2.0.
//!
//! `cargo bench -p jack-pms-host --bench cloudbeds_mapping`

use criterion::{Criterion, criterion_group, criterion_main};
use jack_pms_host::model;
use jack_pms_host::operation::{Call, Outcome};
use serde_json::json;
use std::time::{Duration, Instant};

mod support;

const N: usize = 200;
const DATE: &str = "2024-03-05";
/// A date whose page is empty: what the sandbox costs with (almost) nothing to map.
const EMPTY_DATE: &str = "2024-03-06";

/// One getReservations page with `N` reservations arriving on `DATE`.
fn page() -> Vec<u8> {
    let statuses = ["confirmed", "not_confirmed", "checked_in", "canceled"];
    let data: Vec<_> = (0..N)
        .map(|i| {
            let status = statuses[i % statuses.len()];
            json!({
                "propertyID": "P100",
                "reservationID": format!("CB{:06}", 100_000 + i),
                "dateCreated": "2024-01-02 10:00:00",
                "dateModified": "2024-01-03 10:00:00",
                "status": status,
                "guestID": format!("G{i:05}"),
                "profileID": format!("G{i:05}"),
                "guestName": format!("Guest{i} Benchmark"),
                "startDate": DATE,
                "endDate": "2024-03-08",
                "allotmentBlockCode": null,
                "groupCode": null,
                "adults": "2",
                "children": format!("{}", i % 3),
                "balance": 120.5 + i as f64,
                "sourceName": "Booking.com",
                "sourceID": "s-2",
                "thirdPartyIdentifier": format!("BDC-{i}"),
                "subReservationID": null,
                "origin": "api",
                "mealPlans": "",
                "rooms": [{
                    "roomTypeID": "RT1",
                    "roomTypeName": "Double Room",
                    "roomTypeIsVirtual": false,
                    "subReservationID": format!("CB{:06}-1", 100_000 + i),
                    "isRoomLocked": false,
                    "guestID": format!("G{i:05}"),
                    "guestName": format!("Guest{i} Benchmark"),
                    "adults": "2",
                    "children": format!("{}", i % 3),
                    "reservationRoomID": format!("RR{i}"),
                    "roomID": format!("R{}", 100 + i),
                    "roomName": format!("{}", 100 + i),
                    "roomCheckIn": DATE,
                    "roomCheckOut": "2024-03-08",
                    "roomStatus": if status == "checked_in" { "in_house" } else { "not_checked_in" },
                    "marketName": "OTA",
                    "marketCode": "OTA"
                }]
            })
        })
        .collect();
    serde_json::to_vec(&json!({"success": true, "data": data, "count": N, "total": N}))
        .expect("page json")
}

fn native(body: &[u8]) -> Vec<model::Reservation> {
    let (list, _total) = cloudbeds::mapping::reservations_page(body).expect("native mapping");
    list.into_iter()
        .map(|r| support::host_half("cloudbeds", r))
        .collect()
}

fn benches(c: &mut Criterion) {
    let body = page();
    let answer = body.clone();
    let empty = br#"{"success":true,"data":[],"count":0,"total":0}"#.to_vec();
    let (rt, service, _dir) = support::canned_service(
        "cloudbeds",
        "{ propertyId: P100, apiVersion: v1.3, currency: EUR }",
        &["apiKey"],
        move |request| {
            assert!(
                request.url.path().ends_with("/getReservations"),
                "{}",
                request.url
            );
            if request.url.as_str().contains(EMPTY_DATE) {
                support::json_response(empty.clone())
            } else {
                support::json_response(answer.clone())
            }
        },
    );
    let call = || Call::GetArrivals(DATE.into());

    let sandboxed = match rt.block_on(service.call("B1", call())) {
        Ok(Outcome::Reservations(list)) => list,
        other => panic!("unexpected: {other:?}"),
    };
    let natively = native(&body);
    assert_eq!(sandboxed.len(), N);
    assert_eq!(
        serde_json::to_value(&sandboxed).expect("json"),
        serde_json::to_value(&natively).expect("json")
    );

    let mut group = c.benchmark_group("cloudbeds get-arrivals, 200 reservations");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(
        "sandboxed (fresh instance + 1 in-process request + mapping)",
        |bench| {
            bench
                .to_async(&rt)
                .iter(|| async { service.call("B1", call()).await.expect("call") })
        },
    );
    group.bench_function("native (same body, same parse and mapping)", |bench| {
        bench.iter(|| native(std::hint::black_box(&body)))
    });
    group.finish();

    let rounds = 50;
    let started = Instant::now();
    for _ in 0..rounds {
        rt.block_on(service.call("B1", call())).expect("call");
    }
    let wasm = started.elapsed() / rounds;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(native(&body));
    }
    let native_time = started.elapsed() / rounds;
    let started = Instant::now();
    for _ in 0..rounds {
        rt.block_on(service.call("B1", Call::GetArrivals(EMPTY_DATE.into())))
            .expect("call");
    }
    let fixed = started.elapsed() / rounds;
    println!(
        "cloudbeds mapping: sandboxed {wasm:?}, native {native_time:?}, ratio {:.2} (target <= 2.0); \
         the sandboxed call with an empty page (instance, request, envelope) takes {fixed:?}",
        wasm.as_secs_f64() / native_time.as_secs_f64()
    );
}

criterion_group!(name = cloudbeds_mapping; config = Criterion::default().sample_size(20); targets = benches);
criterion_main!(cloudbeds_mapping);
