//! End-to-end tests of durable writes: the outbox (queued while the PMS is down, replayed in
//! order exactly once, read back instead of resent when an outcome is unknown, surviving
//! SIGKILL), idempotency keys, the tamper-evident audit log and the encryption of personal data
//! in the state file. Each test runs the real `jack-pms serve` binary (see `support`).

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::time::{Duration, Instant};
use support::pms::{comments, mock_get};
use support::{Backend, Stack, StackOptions, StateDb, TOKEN, random_master_key};

/// Longest wait for an eventual state (generous: the machine may be slow and busy).
const EVENTUALLY: Duration = Duration::from_secs(90);

/// The mock PMS's route of charges, as `/admin/stats` `byRoute` names it.
const CHARGES_ROUTE: &str = "POST /api/v1/hotels/{hotel}/reservations/{confirmation}/charges";
/// The mock PMS's read-back route (`find-write`).
const OPERATIONS_ROUTE: &str = "GET /api/v1/hotels/{hotel}/operations/{operationId}";

/// Outbox settings with short delays, so replays happen within a second or so.
const FAST_OUTBOX: &str = "outbox:\n  maxAttempts: 50\n  initialDelayMs: 200\n  maxDelayMs: 1000\n";

async fn outbox_stack(backend: Backend) -> Stack {
    Stack::start_with(StackOptions {
        top: FAST_OUTBOX.into(),
        backend,
        ..StackOptions::default()
    })
    .await
}

/// Polls `check` every 200 ms until it gives a value; panics with `what` (and the host's log)
/// after [`EVENTUALLY`].
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
            started.elapsed() < EVENTUALLY,
            "timed out waiting for {what}; host log:\n{}",
            tail(&s.logs())
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The last lines of a log, enough to see what went wrong.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(80)..].join("\n")
}

/// POST/PUT a write with an optional `Idempotency-Key`.
async fn write(
    s: &Stack,
    method: Method,
    path: &str,
    body: Value,
    key: Option<&str>,
) -> (u16, Value) {
    let mut request = s
        .http
        .request(method, s.url(path))
        .bearer_auth(TOKEN)
        .json(&body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    support::read(request.send().await.expect("write request")).await
}

async fn add_note(s: &Stack, hotel: &str, number: &str, note: &str) -> (u16, Value) {
    write(
        s,
        Method::POST,
        &format!("/v1/hotels/{hotel}/reservations/{number}/notes"),
        json!({ "note": note }),
        None,
    )
    .await
}

async fn post_charge(
    s: &Stack,
    hotel: &str,
    number: &str,
    charge: Value,
    key: Option<&str>,
) -> (u16, Value) {
    write(
        s,
        Method::POST,
        &format!("/v1/hotels/{hotel}/reservations/{number}/charges"),
        charge,
        key,
    )
    .await
}

/// The operation id of a 200/202 write answer (panics on anything else).
fn accepted_id(status: u16, body: &Value) -> String {
    assert!(
        status == 200 || status == 202,
        "write answered {status}: {body}"
    );
    let id = body["operationId"]
        .as_str()
        .unwrap_or_else(|| panic!("no operationId in {body}"));
    assert!(!id.is_empty(), "{body}");
    id.to_owned()
}

/// `GET /v1/operations/{id}`.
async fn operation(s: &Stack, id: &str) -> Value {
    let (status, body) = s.get(&format!("/v1/operations/{id}")).await;
    assert_eq!(status, 200, "GET /v1/operations/{id}: {body}");
    body
}

/// Waits until every operation in `ids` is `applied`; panics at once if one ends otherwise.
async fn wait_applied(s: &Stack, ids: &[String]) {
    let started = Instant::now();
    let mut open: BTreeSet<String> = ids.iter().cloned().collect();
    let mut last = Value::Null;
    while !open.is_empty() {
        for id in open.clone() {
            let op = operation(s, &id).await;
            match op["state"].as_str() {
                Some("applied") => {
                    open.remove(&id);
                }
                Some("pending" | "queued") => last = op,
                other => panic!("operation {id} ended {other:?}: {op}"),
            }
        }
        assert!(
            started.elapsed() < EVENTUALLY,
            "{} writes still not applied, e.g. {last}; host log:\n{}",
            open.len(),
            tail(&s.logs())
        );
        if !open.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A reservation's folio at a mock PMS: `{balance, postings}`.
async fn folio(http: &reqwest::Client, base: &str, key: &str, hotel: &str, number: &str) -> Value {
    mock_get(
        http,
        base,
        key,
        &format!("/api/v1/hotels/{hotel}/reservations/{number}/folio"),
    )
    .await
}

fn stat(stats: &Value, name: &str) -> u64 {
    stats[name]
        .as_u64()
        .unwrap_or_else(|| panic!("no {name} in {stats}"))
}

fn route_count(stats: &Value, route: &str) -> u64 {
    stats["byRoute"][route].as_u64().unwrap_or(0)
}

/// Runs the CLI and returns exit code and stdout (stderr appended for messages).
fn cli(s: &Stack, args: &[&str]) -> (i32, String, String) {
    let config = s.config_path();
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--config", config.to_str().expect("utf-8 path")]);
    let out = s.cli(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `jack-pms outbox list --json [--state S]…`.
fn outbox_list(s: &Stack, states: &[&str]) -> Vec<Value> {
    let mut args = vec!["outbox", "list", "--json"];
    for state in states {
        args.extend(["--state", state]);
    }
    let (code, out, err) = cli(s, &args);
    assert_eq!(code, 0, "outbox list failed:\n{out}\n{err}");
    serde_json::from_str::<Vec<Value>>(&out)
        .unwrap_or_else(|e| panic!("outbox list --json is not a JSON array ({e}):\n{out}"))
}

/// `jack-pms audit verify`: exit code and everything it printed.
fn audit_verify(s: &Stack) -> (i32, String) {
    let (code, out, err) = cli(s, &["audit", "verify"]);
    (code, format!("{out}{err}"))
}

// ---------------------------------------------------------------------------------------------

on_both_backends! {
    /// While the PMS is down, writes are stored and queued (202); when it is back, every one of them
    /// is applied exactly once, and writes to one reservation land in the order they were sent.
    async fn pms_down_writes_are_queued_then_applied_exactly_once_in_order(backend: Backend) {
    // FAST1 is the mock PMS's DEMO1 without the mock adapter's 100-requests-a-minute limit, which
    // would pace the replay at one write per 0.66 s.
    let s = Stack::start_with(StackOptions {
        top: FAST_OUTBOX.into(),
        backend,
        extra_hotels: "  - id: FAST1\n    adapter: mock\n    settings: { baseUrl: \"http://127.0.0.1:{mock_port}\", hotelId: DEMO1 }\n    secrets: { apiKey: { env: TEST_HOTEL_KEY } }\n    rateLimits: [{ requests: 100000, perSeconds: 1, scope: hotel }]\n".into(),
        ..StackOptions::default()
    })
    .await;
    s.faults(json!({ "down": true })).await;

    const RESERVATIONS: [&str; 5] = ["CONF1001", "CONF1002", "CONF1003", "CONF1004", "CONF1005"];
    const PER_RESERVATION: usize = 10;
    let is_charge = |i: usize| i % 5 == 4;
    // One task per reservation, each sending its writes one after the other: the order sent is
    // the order each reservation must see.
    let mut tasks = tokio::task::JoinSet::new();
    let s = std::sync::Arc::new(s);
    for number in RESERVATIONS {
        let s = s.clone();
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..PER_RESERVATION {
                let (status, body) = if is_charge(i) {
                    let charge = json!({
                        "amount": format!("{}.25", i + 1),
                        "currency": "EUR",
                        "description": format!("c-{number}-{i}"),
                    });
                    post_charge(&s, "FAST1", number, charge, None).await
                } else {
                    add_note(&s, "FAST1", number, &format!("n-{number}-{i}")).await
                };
                assert_eq!(
                    status, 202,
                    "write {i} to {number} while the PMS is down: {body}"
                );
                assert_eq!(body["status"], "queued", "{body}");
                ids.push(accepted_id(status, &body));
            }
            (number, ids)
        });
    }
    let mut by_reservation: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        let (number, ids) = done.expect("writer task");
        by_reservation.insert(number, ids);
    }
    let s = std::sync::Arc::into_inner(s).expect("tasks done");
    let all: Vec<String> = by_reservation.values().flatten().cloned().collect();
    assert_eq!(all.len(), 50);
    assert_eq!(
        all.iter().collect::<BTreeSet<_>>().len(),
        50,
        "operation ids are unique"
    );

    for id in &all {
        let op = operation(&s, id).await;
        assert_eq!(op["id"], id.as_str(), "{op}");
        assert_eq!(op["hotel"], "FAST1", "{op}");
        // `pending` only for the instant the worker probes the (still down) PMS with it.
        assert!(
            matches!(op["state"].as_str(), Some("queued" | "pending")),
            "operation {id} while the PMS is down: {op}"
        );
    }
    let (status, health) = s.get("/v1/hotels/FAST1/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["queueDepth"], 50, "{health}");
    let stats = s.mock_stats().await;
    assert_eq!(
        stat(&stats, "writesApplied"),
        0,
        "nothing applied while down: {stats}"
    );

    // The PMS is back.
    s.faults(json!({})).await;
    wait_applied(&s, &all).await;

    let stats = s.mock_stats().await;
    assert_eq!(stat(&stats, "writesApplied"), 50, "{stats}");
    assert_eq!(stat(&stats, "writesDeduplicated"), 0, "{stats}");
    let (_, health) = s.get("/v1/hotels/FAST1/health").await;
    assert_eq!(health["queueDepth"], 0, "{health}");

    let base = format!("http://{}", s.mock);
    for number in RESERVATIONS {
        let notes: Vec<String> = comments(&s.http, &base, &s.key, "DEMO1", number)
            .await
            .into_iter()
            .filter(|c| c.starts_with("n-"))
            .collect();
        let expected: Vec<String> = (0..PER_RESERVATION)
            .filter(|i| !is_charge(*i))
            .map(|i| format!("n-{number}-{i}"))
            .collect();
        assert_eq!(
            notes, expected,
            "notes of {number}: each once, in the order sent"
        );

        let folio = folio(&s.http, &base, &s.key, "DEMO1", number).await;
        let charges: Vec<(String, String)> = folio["postings"]
            .as_array()
            .expect("postings")
            .iter()
            .filter(|p| {
                p["description"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("c-"))
            })
            .map(|p| {
                (
                    p["description"].as_str().unwrap_or_default().to_owned(),
                    p["operationId"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let ids = &by_reservation[number];
        let expected: Vec<(String, String)> = (0..PER_RESERVATION)
            .filter(|i| is_charge(*i))
            .map(|i| (format!("c-{number}-{i}"), ids[i].clone()))
            .collect();
        assert_eq!(
            charges, expected,
            "charges of {number}: each once, in order"
        );
    }
    }
}

on_both_backends! {
    /// Twenty-odd rounds of: start the host on the same state file, fire writes, SIGKILL the host
    /// at a random moment. The mock PMS lives outside the host (in this test process) so it keeps
    /// what it was given. At the end every write that was answered 200/202 is applied exactly once
    /// and the audit chain is intact.
    async fn crash_safety_sigkill_rounds(backend: Backend) {
    use rand::Rng as _;

    const ROUNDS: usize = 22;
    const WRITES_PER_ROUND: usize = 16;
    const RESERVATIONS: [&str; 4] = ["CONF1001", "CONF1002", "CONF1004", "CONF1008"];

    // The long-lived mock PMS.
    let pms = support::pms::ExternalPms::start(support::pms::example_seed()).await;
    let (pms_base, pms_key) = (pms.base.clone(), pms.key.clone());

    // One state database and one master key for every round; one node id, so each restart
    // takes back at once what the killed host held (its lease need not run out).
    let state = StateDb::new(backend).await;
    let master_key = random_master_key();
    // EXT1 is the external mock PMS's DEMO1. Its rate limit is raised: the mock adapter's
    // manifest allows 100 requests a minute, which would make the backlog, not the crashes,
    // the subject of this test.
    let options = || StackOptions {
        top: format!("{FAST_OUTBOX}vault:\n  masterKeyEnv: CRASH_MASTER_KEY\n"),
        state: Some(state.clone()),
        node_id: Some("crash-node".into()),
        extra_hotels: format!(
            "  - id: EXT1\n    adapter: mock\n    settings: {{ baseUrl: \"{pms_base}\", hotelId: DEMO1 }}\n    secrets: {{ apiKey: {{ env: CRASH_PMS_KEY }} }}\n    rateLimits: [{{ requests: 100000, perSeconds: 1, scope: hotel }}]\n"
        ),
        env: vec![
            ("CRASH_MASTER_KEY".into(), master_key.clone()),
            ("CRASH_PMS_KEY".into(), pms_key.clone()),
        ],
        ..StackOptions::default()
    };

    // The PMS takes a while to apply a write and then to answer, so that kills land in the
    // middle of attempts: before the write reached the PMS and after it was applied.
    let http = reqwest::Client::new();
    let set_faults = |faults: Value| {
        let (http, url) = (http.clone(), format!("{pms_base}/admin/faults"));
        async move {
            let r = http.put(url).json(&faults).send().await.expect("faults");
            assert!(r.status().is_success(), "faults: {}", r.status());
        }
    };
    set_faults(json!({
        "latencyJitterMs": 150,
        "timeoutAfterApply": { "count": 1_000_000, "delayMs": 150 },
    }))
    .await;

    // note text -> operation id (when the answer's body arrived whole), for every write the
    // host answered 200/202.
    let mut accepted: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut sent: BTreeSet<String> = BTreeSet::new();
    let mut cut_off = 0usize;
    for round in 0..ROUNDS {
        let mut s = Stack::start_with(options()).await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..WRITES_PER_ROUND {
            let (http, url) = (
                s.http.clone(),
                s.url(&format!(
                    "/v1/hotels/EXT1/reservations/{}/notes",
                    RESERVATIONS[i % RESERVATIONS.len()]
                )),
            );
            let note = format!("crash-r{round}-w{i}");
            sent.insert(note.clone());
            tasks.spawn(support::post_note(http, url, note));
        }
        let delay = rand::rng().random_range(0..=300u64);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        s.stop();
        while let Some(done) = tasks.join_next().await {
            let (note, answer) = done.expect("write task");
            match answer {
                // The status line is sent only once the write is on disk: accepted, even if the
                // kill cut the body off.
                Some((200 | 202, body)) => {
                    let id = body["operationId"].as_str().map(str::to_owned);
                    accepted.insert(note, id);
                }
                Some((status, body)) => panic!("write {note} answered {status}: {body}"),
                None => cut_off += 1,
            }
        }
        drop(s);
    }
    eprintln!(
        "crash rounds: {} writes sent, {} accepted, {cut_off} cut off by the kill",
        sent.len(),
        accepted.len()
    );
    assert!(
        accepted.len() >= ROUNDS,
        "too few writes were accepted to test anything ({} of {})",
        accepted.len(),
        sent.len()
    );

    // A last host finishes the queue.
    set_faults(json!({})).await;
    let s = Stack::start_with(options()).await;
    eventually(&s, "the outbox to drain", || async {
        outbox_list(&s, &["queued", "pending"])
            .is_empty()
            .then_some(())
    })
    .await;
    let rows = outbox_list(&s, &[]);
    let failed: Vec<&Value> = rows.iter().filter(|r| r["state"] != "applied").collect();
    assert!(failed.is_empty(), "writes not applied: {failed:#?}");
    let states: HashMap<&str, &str> = rows
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id"),
                r["state"].as_str().expect("state"),
            )
        })
        .collect();

    let mut seen: HashMap<String, usize> = HashMap::new();
    for number in RESERVATIONS {
        for text in comments(&http, &pms_base, &pms_key, "DEMO1", number).await {
            if text.starts_with("crash-") {
                *seen.entry(text).or_default() += 1;
            }
        }
    }
    let doubled: Vec<(&String, &usize)> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        doubled.is_empty(),
        "notes applied more than once: {doubled:?}"
    );
    let lost: Vec<(&String, &Option<String>)> = accepted
        .iter()
        .filter(|(note, _)| !seen.contains_key(*note))
        .collect();
    assert!(lost.is_empty(), "accepted writes never applied: {lost:?}");
    for (note, id) in accepted
        .iter()
        .filter_map(|(n, id)| Some((n, id.as_ref()?)))
    {
        assert_eq!(
            states.get(id.as_str()).copied(),
            Some("applied"),
            "the outbox row of accepted note {note} ({id})"
        );
    }
    // Nothing reached the PMS that nobody sent.
    assert!(seen.keys().all(|note| sent.contains(note)), "{seen:?}");

    let stats = mock_get(&http, &pms_base, &pms_key, "/admin/stats").await;
    eprintln!(
        "crash rounds: the PMS applied {} writes and recognised {} replays",
        stat(&stats, "writesApplied"),
        stat(&stats, "writesDeduplicated")
    );

    // Event and outcome are plaintext columns: count them straight from the file (`audit list`
    // shows only the newest 1,000 rows).
    let db = state.open().await;
    let audit: Vec<(String, String, i64)> = jack_pms_host::on_db!(&db, p => sqlx::query_as(
        "SELECT event, outcome, COUNT(*) FROM audit GROUP BY event, outcome",
    )
    .fetch_all(p)
    .await)
    .expect("audit counts");
    db.close().await;
    let count = |event: &str, outcome: &str| {
        audit
            .iter()
            .find(|(e, o, _)| e == event && o == outcome)
            .map_or(0, |(_, _, n)| *n)
    };
    eprintln!(
        "crash rounds: {} writes cut off mid-attempt; read back: {} found applied, {} absent",
        count("recovered", "queued"),
        count("verified", "applied"),
        count("verified", "absent")
    );

    assert!(
        count("recovered", "queued") > 0,
        "no kill landed during an attempt: the rounds tested nothing of recovery"
    );

    let (code, out) = audit_verify(&s);
    assert_eq!(code, 0, "audit verify after the crash rounds:\n{out}");
    drop(s);
    drop(pms);
    }
}

on_both_backends! {
    /// The PMS applies a charge but its answer never comes back in time: the host must not post it
    /// again, but read it back (`find-write`) and mark it applied.
    async fn unknown_outcome_is_read_back_not_resent(backend: Backend) {
    let s = outbox_stack(backend).await;
    let base = format!("http://{}", s.mock);
    let before = folio(&s.http, &base, &s.key, "DEMO1", "CONF1008").await;
    assert_eq!(before["balance"]["amount"], "18.90", "{before}");
    // The host's egress request timeout is 5 s: hold the applied write's answer well past it.
    s.faults(json!({ "timeoutAfterApply": { "count": 1, "delayMs": 12000 } }))
        .await;
    let charge = json!({ "amount": "7.25", "currency": "EUR", "description": "Late bar tab" });
    let (status, body) = post_charge(&s, "DEMO1", "CONF1008", charge, Some("bar-tab-1")).await;
    assert_eq!(
        status, 202,
        "a write whose answer timed out is queued: {body}"
    );
    let id = accepted_id(status, &body);
    wait_applied(&s, std::slice::from_ref(&id)).await;

    let stats = s.mock_stats().await;
    assert_eq!(
        route_count(&stats, CHARGES_ROUTE),
        1,
        "the charge was posted exactly once: {stats}"
    );
    assert_eq!(stat(&stats, "writesApplied"), 1, "{stats}");
    assert_eq!(
        stat(&stats, "writesDeduplicated"),
        0,
        "no second POST relied on the PMS's dedupe: {stats}"
    );
    assert!(
        route_count(&stats, OPERATIONS_ROUTE) >= 1,
        "the host read the write back: {stats}"
    );

    let after = folio(&s.http, &base, &s.key, "DEMO1", "CONF1008").await;
    let postings: Vec<&Value> = after["postings"]
        .as_array()
        .expect("postings")
        .iter()
        .filter(|p| p["operationId"] == id.as_str())
        .collect();
    assert_eq!(postings.len(), 1, "{after}");
    assert_eq!(postings[0]["amount"], "7.25", "{after}");
    assert_eq!(after["balance"]["amount"], "26.15", "{after}");

    // The audit log tells the story: the attempt that timed out, then the read-back.
    let (code, out, err) = cli(&s, &["audit", "list", "--json", "--operation", &id]);
    assert_eq!(code, 0, "{out}{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).expect("audit list --json");
    let events: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["event"].as_str().unwrap_or(""),
                r["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        events.contains(&("attempt", "queued")),
        "the attempt timed out and was queued: {events:?}"
    );
    assert!(
        events.contains(&("verified", "applied")),
        "the write was read back and found: {events:?}"
    );
    assert!(
        !events.contains(&("attempt", "applied")),
        "no second attempt applied it: {events:?}"
    );
    }
}

on_both_backends! {
    /// An `Idempotency-Key` used again answers with the first write's operation and sends nothing
    /// more to the PMS; the same key for another write is refused (422); the same key at another
    /// hotel is another write.
    async fn idempotency_key_reuse_returns_the_first_operation(backend: Backend) {
    let s = outbox_stack(backend).await;
    let eur = json!({ "amount": "4.00", "currency": "EUR", "description": "Espresso" });
    let (status, first) = post_charge(&s, "DEMO1", "CONF1001", eur.clone(), Some("key-1")).await;
    assert_eq!(status, 200, "{first}");
    let first_id = accepted_id(status, &first);

    let (status, again) = post_charge(&s, "DEMO1", "CONF1001", eur.clone(), Some("key-1")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["operationId"], first_id.as_str(), "{again}");
    assert_eq!(again["status"], "applied", "{again}");
    let stats = s.mock_stats().await;
    assert_eq!(stat(&stats, "writesApplied"), 1, "{stats}");
    assert_eq!(route_count(&stats, CHARGES_ROUTE), 1, "{stats}");

    // The same key for another write is refused, naming the first; nothing more is written.
    let more = json!({ "amount": "5.00", "currency": "EUR", "description": "Espresso" });
    let (status, reused) = post_charge(&s, "DEMO1", "CONF1001", more, Some("key-1")).await;
    assert_eq!(status, 422, "{reused}");
    assert_eq!(reused["type"], "urn:jack-pms:problem:idempotency-key-reused", "{reused}");
    assert_eq!(reused["operationId"], first_id.as_str(), "{reused}");
    let stats = s.mock_stats().await;
    assert_eq!(route_count(&stats, CHARGES_ROUTE), 1, "{stats}");

    // The same key at DEMO2 is a different write.
    let usd = json!({ "amount": "4.00", "currency": "USD", "description": "Espresso" });
    let (status, other) = post_charge(&s, "DEMO2", "PDX2001", usd, Some("key-1")).await;
    assert_eq!(status, 200, "{other}");
    let other_id = accepted_id(status, &other);
    assert_ne!(other_id, first_id);
    let stats = s.mock_stats().await;
    assert_eq!(stat(&stats, "writesApplied"), 2, "{stats}");

    // Racing retries with one new key: one operation, one write at the PMS.
    let mut tasks = tokio::task::JoinSet::new();
    let s = std::sync::Arc::new(s);
    for _ in 0..8 {
        let s = s.clone();
        let eur = eur.clone();
        tasks.spawn(async move { post_charge(&s, "DEMO1", "CONF1001", eur, Some("key-2")).await });
    }
    let mut ids = BTreeSet::new();
    while let Some(done) = tasks.join_next().await {
        let (status, body) = done.expect("task");
        ids.insert(accepted_id(status, &body));
    }
    assert_eq!(ids.len(), 1, "one operation for one key: {ids:?}");
    let id: Vec<String> = ids.into_iter().collect();
    wait_applied(&s, &id).await;
    let stats = s.mock_stats().await;
    assert_eq!(stat(&stats, "writesApplied"), 3, "{stats}");
    assert_eq!(stat(&stats, "writesDeduplicated"), 0, "{stats}");
    let folio = folio(
        &s.http,
        &format!("http://{}", s.mock),
        &s.key,
        "DEMO1",
        "CONF1001",
    )
    .await;
    let espressos = folio["postings"]
        .as_array()
        .expect("postings")
        .iter()
        .filter(|p| p["description"] == "Espresso")
        .count();
    assert_eq!(espressos, 2, "{folio}");
    }
}

/// Makes three applied writes, then stops the host.
async fn stack_with_audit_rows(backend: Backend) -> Stack {
    let mut s = outbox_stack(backend).await;
    for i in 0..3 {
        let (status, body) = add_note(&s, "DEMO1", "CONF1001", &format!("audit-{i}")).await;
        assert_eq!(status, 200, "{body}");
    }
    s.stop();
    let (code, out) = audit_verify(&s);
    assert_eq!(code, 0, "an untouched log verifies:\n{out}");
    let rows: u64 = out
        .split("intact: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no row count in:\n{out}"));
    assert!(rows >= 6, "three writes, at least two rows each:\n{out}");
    s
}

on_both_backends! {
    /// Editing or deleting an audit row (after dropping the triggers that forbid it) is caught by
    /// `jack-pms audit verify`.
    async fn audit_tampering_is_detected(backend: Backend) {
    // An edited row.
    let s = stack_with_audit_rows(backend).await;
    let refused = exec(&s, "UPDATE audit SET outcome = 'failed' WHERE seq = 2").await;
    assert!(refused.is_err(), "the trigger refuses updates");
    drop_trigger(&s, "audit_no_update").await;
    let changed = exec(&s, "UPDATE audit SET outcome = 'failed' WHERE seq = 2")
        .await
        .expect("update");
    assert_eq!(changed, 1);
    let (code, out) = audit_verify(&s);
    assert_eq!(code, 1, "an edited row is caught:\n{out}");
    assert!(out.contains("row 2 "), "the edited row is named:\n{out}");
    assert!(out.contains("TAMPERED"), "{out}");
    drop(s);

    // A deleted row in the middle.
    let s = stack_with_audit_rows(backend).await;
    let refused = exec(&s, "DELETE FROM audit WHERE seq = 3").await;
    assert!(refused.is_err(), "the trigger refuses deletes");
    drop_trigger(&s, "audit_no_delete").await;
    exec(&s, "DELETE FROM audit WHERE seq = 3").await.expect("delete");
    let (code, out) = audit_verify(&s);
    assert_eq!(code, 1, "a deleted row is caught:\n{out}");
    assert!(
        out.contains("rows 3..3 are missing"),
        "the gap is named:\n{out}"
    );
    assert!(out.contains("row 4 "), "the broken link is named:\n{out}");
    drop(s);

    // Rows cut from the end: the head record no longer matches the last row.
    let s = stack_with_audit_rows(backend).await;
    if backend == Backend::Postgres {
        let refused = exec(&s, "TRUNCATE audit").await;
        assert!(refused.is_err(), "the trigger refuses truncation");
    }
    drop_trigger(&s, "audit_no_delete").await;
    exec(&s, "DELETE FROM audit WHERE seq >= 5").await.expect("delete");
    let (code, out) = audit_verify(&s);
    assert_eq!(code, 1, "rows cut from the end are caught:\n{out}");
    assert!(out.contains("head record"), "{out}");
    }
}

/// Runs one statement on the stack's state database: the rows it changed, or the error.
async fn exec(s: &Stack, sql: &str) -> Result<u64, String> {
    let db = s.open_state().await;
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let result = jack_pms_host::on_db!(&db, p => sqlx::query(sql)
        .execute(p)
        .await
        .map(|r| r.rows_affected()));
    db.close().await;
    result.map_err(|e| e.to_string())
}

/// Drops one of the audit table's append-only triggers (as someone with the database's keys
/// could), so the hashes are all that is left to catch an edit.
async fn drop_trigger(s: &Stack, name: &str) {
    let sql = match s.backend() {
        Backend::Sqlite => format!("DROP TRIGGER {name}"),
        Backend::Postgres => format!("DROP TRIGGER {name} ON audit"),
    };
    exec(s, &sql).await.expect("drop trigger");
}

on_both_backends! {
    /// Personal data in writes (notes, charge descriptions, preferences) and in reads (guest
    /// profiles) never reaches the state file in plaintext; the CLI, with the key, opens it.
    async fn state_file_holds_no_personal_data_in_plaintext(backend: Backend) {
    let mut s = outbox_stack(backend).await;
    let note = "Guest Sarah Chen (sarah.chen@example.com, +31612345678) asks for the zebra-suite";
    let (status, body) = add_note(&s, "DEMO1", "CONF1001", note).await;
    assert_eq!(status, 200, "{body}");
    let charge = json!({
        "amount": "88.00",
        "currency": "EUR",
        "description": "Private dinner for Sarah Chen, quokka-table",
    });
    let (status, body) = post_charge(&s, "DEMO1", "CONF1001", charge, Some("dinner-1")).await;
    assert_eq!(status, 200, "{body}");
    let prefs = json!({ "preferences": [
        { "category": "PILLOW", "code": "HYPO", "description": "Hypoallergenic narwhal-pillow" }
    ]});
    let (status, body) = write(
        &s,
        Method::PUT,
        "/v1/hotels/DEMO1/guests/mock:G1001/preferences",
        prefs,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // A write the PMS refuses (unknown reservation) and one queued while it is down: their
    // payloads and error texts are stored too.
    let (status, body) = add_note(
        &s,
        "DEMO1",
        "CONF9999",
        "Refused note for Sarah Chen, okapi",
    )
    .await;
    assert!(status >= 400, "{body}");
    s.faults(json!({ "down": true })).await;
    let (status, queued) = add_note(
        &s,
        "DEMO1",
        "CONF1002",
        "Queued note: Lukas Vermeulen, axolotl",
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    s.faults(json!({})).await;
    // Reads fill the caches.
    for path in [
        "/v1/hotels/DEMO1/guests/mock:G1001",
        "/v1/hotels/DEMO1/guests?email=sarah.chen%40example.com",
        "/v1/hotels/DEMO1/reservations/CONF1001",
        "/v1/hotels/DEMO1/in-house",
    ] {
        let (status, body) = s.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
    }
    let (_, guest) = s.get("/v1/hotels/DEMO1/guests/mock:G1001").await;
    assert!(guest.to_string().contains("Sarah"), "{guest}");
    let id = accepted_id(202, &queued);
    wait_applied(&s, std::slice::from_ref(&id)).await;
    s.stop();

    let secrets = [
        "Sarah",
        "Chen",
        "sarah.chen@example.com",
        "+31612345678",
        "zebra",
        "quokka",
        "narwhal",
        "okapi",
        "axolotl",
        "Vermeulen",
    ];
    let files = s.state_files().await;
    let mut plain_ids = false;
    for (path, bytes) in &files {
        // The control: what is not personal data (operation names, targets) is stored in
        // plaintext, so the scan does read the rows.
        plain_ids |= contains(bytes, b"reservation:CONF1001");
        for secret in secrets {
            for needle in [secret.as_bytes().to_vec(), utf16le(secret)] {
                assert!(
                    !contains(bytes, &needle),
                    "{path} holds `{secret}` in plaintext"
                );
            }
        }
    }
    assert!(!files.is_empty(), "no state files found");
    assert!(plain_ids, "the scan found not even the plaintext targets");

    let (code, out, err) = cli(&s, &["audit", "list", "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    for text in [note, "quokka-table", "narwhal-pillow", "axolotl"] {
        assert!(
            out.contains(text),
            "audit list shows `{text}` (stored, sealed):\n{out}"
        );
    }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

on_both_backends! {
    /// `audit verify` on the state file of a serving host, while writes are appended, must not
    /// report tampering: new rows after the ones it read are not a truncation.
    async fn audit_verify_while_the_host_writes_reports_no_tampering(backend: Backend) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let s = Arc::new(outbox_stack(backend).await);
    // Queued writes append audit rows as fast as the host can take them, with no PMS traffic.
    s.faults(json!({ "down": true })).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..4 {
        let (s, stop) = (s.clone(), stop.clone());
        writers.spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let number = format!("PDX200{}", 1 + w);
                let (status, body) = add_note(&s, "DEMO2", &number, &format!("live-{w}-{n}")).await;
                assert_eq!(status, 202, "{body}");
                n += 1;
            }
        });
    }
    let mut false_alarms = Vec::new();
    for _ in 0..10 {
        let s = s.clone();
        let (code, out) = tokio::task::spawn_blocking(move || audit_verify(&s))
            .await
            .expect("verify");
        if code != 0 {
            false_alarms.push(out);
        }
    }
    stop.store(true, Ordering::Relaxed);
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    assert!(
        false_alarms.is_empty(),
        "{} of 10 runs of `audit verify` on an untouched log said it was tampered with, e.g.:\n{}",
        false_alarms.len(),
        false_alarms[0]
    );
    let (code, out) = audit_verify(&s);
    assert_eq!(code, 0, "once the writes stop:\n{out}");
    }
}

/// A write the PMS refuses outright (here: a reservation it does not have) is the caller's to
/// hear about and stays in the audit log, but it is no staff alert: there is nothing for a
/// person at the hotel to resolve.
#[tokio::test]
async fn a_write_the_pms_refuses_outright_is_no_staff_alert() {
    let s = outbox_stack(Backend::Sqlite).await;
    let (status, body) = add_note(&s, "DEMO1", "NO-SUCH-RESERVATION", "Late arrival").await;
    assert_eq!(status, 404, "{body}");
    let id = body["operationId"].as_str().map(str::to_owned);
    let metrics = metrics_text(&s).await;
    assert!(
        metrics.contains(r#"result="refused""#),
        "the refusal is counted: {metrics}"
    );
    assert!(
        !metrics
            .lines()
            .any(|l| l.starts_with("jack_pms_alerts_total") && l.contains("write_failed")),
        "no write_failed alert: {metrics}"
    );
    assert!(!s.logs().contains("staff alert"), "{}", tail(&s.logs()));
    let audit = cli(&s, &["audit", "list", "--hotel", "DEMO1"]);
    assert_eq!(audit.0, 0, "{audit:?}");
    assert!(audit.1.contains("refused"), "audited: {}", audit.1);
    if let Some(id) = id {
        assert_eq!(operation(&s, &id).await["state"], "failed");
    }
}

/// `GET /metrics` (no token needed), as text.
async fn metrics_text(s: &Stack) -> String {
    s.http
        .get(s.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text")
}

/// UTC's date `days` from today (the mock PMS lays its seed out around it).
fn offset_date(days: i64) -> String {
    (chrono::Utc::now().date_naive() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// Guardrails, for a hotel that set them: largest charge 500.00 EUR, three charges per
/// reservation per hour, charges over 200.00 held for approval.
const GUARDED: &str = "writes:\n  maxChargeAmount: \"500.00\"\n  currency: EUR\n  maxChargesPerReservationPerHour: 3\n  approvalThreshold: \"200.00\"\n  checkoutWindowHours: 12\n  maxPreferencesPerGuest: 5\n";

async fn guarded_stack() -> Stack {
    Stack::start_with(StackOptions {
        top: format!("{FAST_OUTBOX}{GUARDED}"),
        ..StackOptions::default()
    })
    .await
}

/// Staff tools decide about stored writes over the API, each action needing its scope: Jack's
/// token and an operator cannot approve, an approver cannot cancel; the audit log names the
/// token that decided; the write's state decides what is possible.
#[tokio::test]
async fn staff_decide_over_the_api_with_scoped_tokens() {
    let (ops, night) = (support::random_key(), support::random_key());
    let s = Stack::start_with(StackOptions {
        top: format!("{FAST_OUTBOX}{GUARDED}"),
        tokens: format!(
            "    - name: ops-desk\n      sha256: {}\n      scopes: [operator]\n    \
             - name: night-manager\n      sha256: {}\n      scopes: [approver]\n",
            support::sha256_hex(ops.as_bytes()),
            support::sha256_hex(night.as_bytes())
        ),
        ..StackOptions::default()
    })
    .await;
    let act = |token: String, id: String, action: &'static str| {
        let s = &s;
        async move {
            let r = s
                .http
                .post(s.url(&format!("/v1/operations/{id}/{action}")))
                .bearer_auth(token)
                .send()
                .await
                .expect("request");
            support::read(r).await
        }
    };
    let (status, body) = post_charge(
        &s,
        "DEMO1",
        "CONF1001",
        charge("350.00", "EUR", "Spa"),
        None,
    )
    .await;
    let held = accepted_id(status, &body);
    let (status, body) = post_charge(
        &s,
        "DEMO1",
        "CONF1002",
        charge("480.00", "EUR", "Suite"),
        None,
    )
    .await;
    let other = accepted_id(status, &body);

    for token in [TOKEN.to_string(), ops.clone()] {
        let (status, body) = act(token, held.clone(), "approve").await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["type"], "urn:jack-pms:problem:forbidden", "{body}");
    }
    let (status, body) = act(night.clone(), other.clone(), "cancel").await;
    assert_eq!(status, 403, "an approver cannot cancel: {body}");
    assert_eq!(operation(&s, &held).await["state"], "awaiting_approval");

    let (status, body) = act(night.clone(), held.clone(), "approve").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], held.as_str(), "{body}");
    wait_applied(&s, std::slice::from_ref(&held)).await;
    // A reason goes into the audit log; an empty one is refused.
    let cancel_with = |reason: &'static str| {
        let (s, ops, other) = (&s, ops.clone(), other.clone());
        async move {
            let r = s
                .http
                .post(s.url(&format!("/v1/operations/{other}/cancel")))
                .bearer_auth(ops)
                .json(&json!({ "reason": reason }))
                .send()
                .await
                .expect("request");
            support::read(r).await
        }
    };
    let (status, body) = cancel_with(" \n ").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = cancel_with("Guest paid the suite at the desk").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "cancelled", "{body}");
    let (_, audit, _) = cli(&s, &["audit", "list", "--json", "--operation", &other]);
    assert!(
        audit.contains("ops-desk") && audit.contains("reason: Guest paid the suite at the desk"),
        "{audit}"
    );

    // What the state does not allow is a 409 naming it; an unknown operation is a 404; an
    // unknown action a 400.
    let (status, body) = act(night.clone(), other.clone(), "approve").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["type"], "urn:jack-pms:problem:operation-state",
        "{body}"
    );
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("cancelled"),
        "{body}"
    );
    let (status, body) = act(ops.clone(), "op-nothing".into(), "retry").await;
    assert_eq!(status, 404, "{body}");
    let (status, body) = act(ops.clone(), held.clone(), "delete").await;
    assert_eq!(status, 400, "{body}");

    assert_eq!(
        route_count(&s.mock_stats().await, CHARGES_ROUTE),
        1,
        "only the approved one"
    );
    let (_, audit, _) = cli(&s, &["audit", "list", "--operation", &held]);
    assert!(
        audit.contains("approved") && audit.contains("night-manager"),
        "{audit}"
    );
    let (_, audit, _) = cli(&s, &["audit", "list", "--operation", &other]);
    assert!(
        audit.contains("cancelled") && audit.contains("ops-desk"),
        "{audit}"
    );
    assert!(
        !s.logs().contains(&ops) && !s.logs().contains(&night),
        "tokens never logged"
    );
}

fn charge(amount: &str, currency: &str, description: &str) -> Value {
    json!({"amount": amount, "currency": currency, "description": description})
}

/// Asserts a 422 `write-refused` naming `rule`.
fn assert_refused(status: u16, body: &Value, rule: &str) {
    assert_eq!(status, 422, "{rule}: {body}");
    assert_eq!(body["type"], "urn:jack-pms:problem:write-refused", "{body}");
    assert_eq!(body["rule"], rule, "{body}");
}

/// What an assistant must never get onto a folio is refused before anything is stored or sent,
/// with the rule named, audited with who asked, and counted in /metrics.
#[tokio::test]
async fn guardrails_refuse_absurd_writes_before_anything_is_sent() {
    let s = guarded_stack().await;
    let number = "CONF1001";
    for (body, rule) in [
        (charge("-5", "EUR", "Minibar"), "charge.amount.positive"),
        (charge("0", "EUR", "Minibar"), "charge.amount.positive"),
        (
            charge("99999999999.99", "EUR", "Minibar"),
            "charge.amount.max",
        ),
        (charge("500.01", "EUR", "Minibar"), "charge.amount.max"),
        (charge("12.50", "USD", "Minibar"), "charge.currency"),
        (charge("12.50", "EUR", "   "), "charge.description"),
    ] {
        let (status, answer) = post_charge(&s, "DEMO1", number, body, None).await;
        assert_refused(status, &answer, rule);
    }
    for (note, rule) in [
        (String::new(), "note.empty"),
        ("late\u{1b}[2J".to_owned(), "note.control"),
        ("x".repeat(4001), "note.length"),
    ] {
        let (status, answer) = add_note(&s, "DEMO1", number, &note).await;
        assert_refused(status, &answer, rule);
    }
    // CONF1001 arrived yesterday and departs the day after tomorrow (UTC-day hotel).
    let far = format!("{}T11:00:00Z", offset_date(9));
    let (status, answer) = write(
        &s,
        Method::PUT,
        &format!("/v1/hotels/DEMO1/reservations/{number}/checkout"),
        json!({ "checkoutTime": far }),
        None,
    )
    .await;
    assert_refused(status, &answer, "checkout.window");
    let before = format!("{}T11:00:00Z", offset_date(-3));
    let (status, answer) = write(
        &s,
        Method::PUT,
        &format!("/v1/hotels/DEMO1/reservations/{number}/checkout"),
        json!({ "checkoutTime": before }),
        None,
    )
    .await;
    assert_refused(status, &answer, "checkout.before_arrival");
    let many: Vec<Value> = (0..6)
        .map(|i| json!({"category": "PILLOW", "code": format!("P{i}")}))
        .collect();
    let (status, answer) = write(
        &s,
        Method::PUT,
        "/v1/hotels/DEMO1/guests/mock:G1001/preferences",
        json!({ "preferences": many }),
        None,
    )
    .await;
    assert_refused(status, &answer, "preferences.count");

    // Nothing reached the PMS or the outbox.
    let stats = s.mock_stats().await;
    assert_eq!(route_count(&stats, CHARGES_ROUTE), 0, "{stats}");
    assert!(outbox_list(&s, &[]).is_empty());
    // Each refusal is audited with the caller and the rule, and counted.
    let (code, audit, err) = cli(&s, &["audit", "list", "--hotel", "DEMO1"]);
    assert_eq!(code, 0, "{err}");
    for rule in [
        "charge.amount.positive",
        "charge.amount.max",
        "note.control",
        "checkout.window",
        "preferences.count",
    ] {
        assert!(
            audit.contains(&format!("refused: {rule}")),
            "{rule} not audited:\n{audit}"
        );
    }
    assert!(audit.contains("test-suite"), "who asked:\n{audit}");
    let metrics = metrics_text(&s).await;
    assert!(
        metrics.contains(
            r#"jack_pms_guardrail_refusals_total{node="local",hotel="DEMO1",rule="charge.amount.max"} 2"#
        ),
        "{metrics}"
    );
}

/// At most three charges per reservation per hour; the fourth is refused, another
/// reservation's are not.
#[tokio::test]
async fn charges_per_reservation_per_hour_are_capped() {
    let s = guarded_stack().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let (status, body) = post_charge(
            &s,
            "DEMO1",
            "CONF1001",
            charge("10.00", "EUR", &format!("Coffee {i}")),
            Some(&format!("coffee-{i}")),
        )
        .await;
        ids.push(accepted_id(status, &body));
    }
    // A retry of the third (same Idempotency-Key) is that charge again, not a fourth.
    let (status, body) = post_charge(
        &s,
        "DEMO1",
        "CONF1001",
        charge("10.00", "EUR", "Coffee 2"),
        Some("coffee-2"),
    )
    .await;
    assert_eq!(accepted_id(status, &body), ids[2], "{body}");
    let (status, body) = post_charge(
        &s,
        "DEMO1",
        "CONF1001",
        charge("10.00", "EUR", "Coffee 4"),
        None,
    )
    .await;
    assert_refused(status, &body, "charge.rate");
    let (status, body) = post_charge(
        &s,
        "DEMO1",
        "CONF1002",
        charge("10.00", "EUR", "Coffee"),
        None,
    )
    .await;
    ids.push(accepted_id(status, &body));
    wait_applied(&s, &ids).await;
}

/// A charge over the approval threshold is held, visibly, until staff approve it (then it is
/// sent) or reject it (then it never is); the audit log names who decided.
#[tokio::test]
async fn charges_over_the_threshold_wait_for_staff_approval() {
    let s = guarded_stack().await;
    let (status, body) = post_charge(
        &s,
        "DEMO1",
        "CONF1001",
        charge("350.00", "EUR", "Spa day"),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["status"], "awaiting_approval", "{body}");
    let held = accepted_id(status, &body);
    let (status, body) = post_charge(
        &s,
        "DEMO1",
        "CONF1002",
        charge("480.00", "EUR", "Suite upgrade"),
        None,
    )
    .await;
    let rejected = accepted_id(status, &body);
    assert_eq!(operation(&s, &held).await["state"], "awaiting_approval");
    // Held means held: the worker leaves it alone.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(route_count(&s.mock_stats().await, CHARGES_ROUTE), 0);
    assert_eq!(operation(&s, &held).await["state"], "awaiting_approval");
    let listed = outbox_list(&s, &["awaiting_approval"]);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        s.logs().contains("awaiting_approval"),
        "staff are alerted: {}",
        tail(&s.logs())
    );

    let (code, _, err) = cli(&s, &["outbox", "approve", &held]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = cli(&s, &["outbox", "reject", &rejected]);
    assert_eq!(code, 0, "{err}");
    wait_applied(&s, std::slice::from_ref(&held)).await;
    assert_eq!(operation(&s, &rejected).await["state"], "cancelled");
    assert_eq!(
        route_count(&s.mock_stats().await, CHARGES_ROUTE),
        1,
        "only the approved one"
    );
    // Approving twice, or approving a rejected write, is refused with a clear message.
    let (code, _, err) = cli(&s, &["outbox", "approve", &rejected]);
    assert_ne!(code, 0);
    assert!(err.contains("cancelled"), "{err}");
    let (_, audit, _) = cli(&s, &["audit", "list", "--operation", &held]);
    let login = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let approver = format!("cli:{login}");
    assert!(
        audit.contains("approved") && audit.contains(&approver),
        "who approved:\n{audit}"
    );
}
