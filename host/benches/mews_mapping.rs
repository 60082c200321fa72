//! The Mews adapter's mapping cost in the sandbox against native Rust: `get-arrivals` answered by
//! a 200-reservation `reservations/getAll/2023-06-06` page (with the customers, rooms and notes
//! pages it refers to), every request answered in-process; and the same parse and mapping of the
//! same bodies done natively by the adapter crate's public functions, plus the host's half (ids
//! prefixed with the vendor). Target: sandboxed / native ≤ 2.0.
//!
//! `cargo bench -p jack-pms-host --bench mews_mapping`

use criterion::{Criterion, criterion_group, criterion_main};
use jack_pms_host::model;
use jack_pms_host::operation::{Call, Outcome};
use mews::jack_pms_sdk;
use mews::jack_pms_sdk::tz::TimeZone;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

mod support;

const N: usize = 200;
const DATE: &str = "2030-06-10";
const CHILD: &str = "ab58c939-be30-4a60-8f75-ae1600c60c9f";

fn example(file: &str, field: &str) -> Value {
    let path = support::root()
        .join("tests/vendor-api/mews/examples")
        .join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).expect("example json");
    v[field][0].clone()
}

/// The four bodies Mews would send, built from its documented examples.
struct Bodies {
    reservations: Vec<u8>,
    customers: Vec<u8>,
    resources: Vec<u8>,
    notes: Vec<u8>,
    empty_reservations: Vec<u8>,
}

fn bodies() -> Bodies {
    let (r0, c0, x0, n0) = (
        example(
            "reservations-getAll-2023-06-06.response.json",
            "Reservations",
        ),
        example("customers-getAll.response.json", "Customers"),
        example("resources-getAll.response.json", "Resources"),
        example(
            "serviceOrderNotes-getAll.response.json",
            "ServiceOrderNotes",
        ),
    );
    let (mut rs, mut cs, mut xs, mut ns) = (vec![], vec![], vec![], vec![]);
    for i in 0..N {
        let mut r = r0.clone();
        r["Id"] = json!(format!("res-{i:04}"));
        r["Number"] = json!(format!("{}", 1000 + i));
        r["AccountId"] = json!(format!("cust-{i:04}"));
        r["AssignedResourceId"] = json!(format!("room-{i:04}"));
        r["ScheduledStartUtc"] = json!(format!("2030-06-10T{:02}:{:02}:00Z", 6 + i % 12, i % 60));
        r["ScheduledEndUtc"] = json!("2030-06-13T09:00:00Z");
        rs.push(r);
        let mut c = c0.clone();
        c["Id"] = json!(format!("cust-{i:04}"));
        c["LastName"] = json!(format!("Guest{i}"));
        cs.push(c);
        let mut x = x0.clone();
        x["Id"] = json!(format!("room-{i:04}"));
        x["Name"] = json!(format!("{}", 100 + i));
        xs.push(x);
        let mut n = n0.clone();
        n["Id"] = json!(format!("note-{i:04}"));
        n["OrderId"] = json!(format!("res-{i:04}"));
        ns.push(n);
    }
    let last = |v: &Vec<Value>| v.last().map(|x| x["Id"].clone()).unwrap_or(Value::Null);
    Bodies {
        reservations: json!({"Reservations": rs, "Cursor": last(&rs)})
            .to_string()
            .into_bytes(),
        customers: json!({"Customers": cs, "Documents": null, "Cursor": last(&cs)})
            .to_string()
            .into_bytes(),
        resources: json!({"Resources": xs, "Cursor": last(&xs)})
            .to_string()
            .into_bytes(),
        notes: json!({"ServiceOrderNotes": ns, "Cursor": last(&ns)})
            .to_string()
            .into_bytes(),
        empty_reservations: json!({"Reservations": [], "Cursor": null})
            .to_string()
            .into_bytes(),
    }
}

fn native(b: &Bodies, children: &[String]) -> Vec<model::Reservation> {
    // The settings lookup the component does on every call, time zone included.
    let tz = TimeZone::get("Europe/Prague").expect("tz");
    let day = tz
        .day_utc(jack_pms_sdk::dates::Date::parse(DATE).expect("date"))
        .expect("day");
    std::hint::black_box(day);
    mews::wire::map_reservation_bodies(
        &b.reservations,
        &b.customers,
        &b.resources,
        &b.notes,
        &tz,
        children,
    )
    .expect("native mapping")
    .into_iter()
    .map(|r| support::host_half("mews", r))
    .collect()
}

fn benches(c: &mut Criterion) {
    let b = bodies();
    let children = vec![CHILD.to_string()];
    let answers = (
        b.reservations.clone(),
        b.customers.clone(),
        b.resources.clone(),
        b.notes.clone(),
        b.empty_reservations.clone(),
    );
    let (rt, service, _dir) = support::canned_service(
        "mews",
        &format!(
            "{{ platformAddress: api.mews.com, serviceId: svc, enterpriseTimeZone: Europe/Prague, pricingMode: gross, childAgeCategoryIds: \"{CHILD}\" }}"
        ),
        &["clientToken", "accessToken"],
        move |request| {
            let path = request.url.path().to_string();
            let body: Value = request
                .body
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            let next_page = !body["Limitation"]["Cursor"].is_null();
            let answer = if path.ends_with("reservations/getAll/2023-06-06") {
                if next_page {
                    answers.4.clone()
                } else {
                    answers.0.clone()
                }
            } else if path.ends_with("customers/getAll") {
                answers.1.clone()
            } else if path.ends_with("resources/getAll") {
                answers.2.clone()
            } else if path.ends_with("serviceOrderNotes/getAll") {
                answers.3.clone()
            } else {
                b"{}".to_vec()
            };
            support::json_response(answer)
        },
    );
    let call = || Call::GetArrivals(DATE.into());

    // Check once that both sides give the same 200 reservations.
    let sandboxed = match rt.block_on(service.call("B1", call())) {
        Ok(Outcome::Reservations(list)) => list,
        other => panic!("unexpected: {other:?}"),
    };
    let natively = native(&b, &children);
    assert_eq!(sandboxed.len(), N);
    assert_eq!(
        serde_json::to_value(&sandboxed).expect("json"),
        serde_json::to_value(&natively).expect("json")
    );

    let mut group = c.benchmark_group("mews get-arrivals, 200 reservations");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function(
        "sandboxed (fresh instance + 4 in-process requests + mapping)",
        |bench| {
            bench
                .to_async(&rt)
                .iter(|| async { service.call("B1", call()).await.expect("call") })
        },
    );
    group.bench_function("native (same bodies, same parse and mapping)", |bench| {
        bench.iter(|| native(std::hint::black_box(&b), &children))
    });
    group.finish();

    // The ratio, measured the same way for both, printed for the closing note.
    let rounds = 50;
    let started = Instant::now();
    for _ in 0..rounds {
        rt.block_on(service.call("B1", call())).expect("call");
    }
    let wasm = started.elapsed() / rounds;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(native(&b, &children));
    }
    let native_time = started.elapsed() / rounds;
    println!(
        "mews mapping: sandboxed {wasm:?}, native {native_time:?}, ratio {:.2} (target <= 2.0)",
        wasm.as_secs_f64() / native_time.as_secs_f64()
    );
}

criterion_group!(name = mews_mapping; config = Criterion::default().sample_size(20); targets = benches);
criterion_main!(mews_mapping);
