//! The secret scrubber's cost on a PMS-sized answer (a 200-reservation JSON page, ~100 KB) with
//! four 44-character secrets, against a baseline measured in the same run: one Aho-Corasick
//! search for the raw secrets alone, which is the least any scrubber must do. Two bodies: one
//! with no escape character at all (most vendors), and one in PHP's `json_encode` style, whose
//! `\/` in every URL sends the scrubber through its decoding pass (Cloudbeds). Prints each
//! ratio; target ≤ 3× the baseline on the clean body.
//!
//! `cargo bench -p jack-pms-host --bench scrub`

use aho_corasick::AhoCorasick;
use criterion::{Criterion, criterion_group, criterion_main};
use jack_pms_host::egress::scrub::Scrubber;
use std::hint::black_box;
use std::time::{Duration, Instant};

const SECRETS: [&str; 4] = [
    "jpms-secret-5f0c1e2d3b4a59687766554433221100",
    "jpms-secret-00112233445566778899aabbccddeeff",
    "jpms-secret-0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "jpms-secret-ffeeddccbbaa99887766554433221100",
];

fn page(escaped_slashes: bool) -> Vec<u8> {
    let slash = if escaped_slashes { "\\/" } else { "/" };
    let mut out = String::from(r#"{"success":true,"data":["#);
    for i in 0..200 {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            r#"{{"propertyID":"P100","reservationID":"CB{:06}","status":"confirmed","guestName":"Guest{i} Benchmark","startDate":"2024-03-05","endDate":"2024-03-08","adults":"2","children":"{}","balance":{}.5,"sourceName":"Booking.com","thirdPartyIdentifier":"BDC-{i}","links":{{"self":"https:{slash}{slash}api.cloudbeds.com{slash}api{slash}v1.2{slash}getReservation?reservationID=CB{:06}"}},"guestEmail":"guest{i}@example.com","notes":"late arrival, \"quiet\" room"}}"#,
            100_000 + i,
            i % 3,
            120 + i,
            100_000 + i
        ));
    }
    out.push_str("]}");
    out.into_bytes()
}

/// Median time of `f` over `runs` runs.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn bench(c: &mut Criterion) {
    let scrubber = Scrubber::new(SECRETS);
    let baseline = AhoCorasick::new(SECRETS).expect("baseline automaton");
    for (name, body) in [("clean", page(false)), ("escaped", page(true))] {
        let mut group = c.benchmark_group(format!("scrub/{name}-{}KB", body.len() >> 10));
        group.bench_function("baseline: raw secrets only", |b| {
            b.iter(|| black_box(baseline.find_iter(black_box(&body)).count()))
        });
        group.bench_function("scrubber", |b| {
            b.iter(|| black_box(scrubber.bytes(black_box(body.clone()))))
        });
        group.finish();
        // The ratio, from medians taken here in the same run (the clone is part of both, so
        // that only the searching differs).
        let base = median(201, || {
            let copy = body.clone();
            black_box(baseline.find_iter(&copy).count());
        });
        let ours = median(201, || {
            black_box(scrubber.bytes(body.clone()));
        });
        println!(
            "scrub/{name}: scrubber {:?}, baseline {:?}, ratio {:.2}",
            ours,
            base,
            ours.as_secs_f64() / base.as_secs_f64()
        );
    }
    let build = median(101, || {
        black_box(Scrubber::new(SECRETS));
    });
    println!("scrub/build: {build:?} to build the automaton for four secrets (cached per set)");
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
