//! Several hosts on one PostgreSQL database: three real `jack-pms serve` processes share the
//! state and one mock PMS (served from this test process, so it outlives the hosts). Writes
//! spread over all three survive any of them being killed; an idempotency key is one write
//! across hosts; writes queued on every host while the PMS is down are replayed once each, in
//! order; each scheduled sync fire runs on one host, and a dead host's hotels keep syncing; an
//! SSE client resumes on another host; a webhook receiver gets each event once.

#[path = "sims/opera/mod.rs"]
mod opera_sim;
mod support;

use jack_pms_host::coordination::shared::scratch::{DEFAULT_SERVER, ScratchPrefix};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::pms::ExternalPms;
use support::{Backend, Stack, StackOptions, StateDb, TOKEN};

/// Outbox settings with short delays, so replays happen within a second or so.
const FAST_OUTBOX: &str = "outbox:\n  maxAttempts: 50\n  initialDelayMs: 200\n  maxDelayMs: 1000\n";
/// The reservations the write tests touch (of the mock PMS's DEMO1).
const RESERVATIONS: [&str; 4] = ["CONF1001", "CONF1002", "CONF1004", "CONF1008"];
/// Longest wait for an eventual state.
const EVENTUALLY: Duration = Duration::from_secs(120);

/// What every host of one cluster shares: the state database, the master key, the PMS.
struct Shared {
    state: Arc<StateDb>,
    master_key: String,
    pms: ExternalPms,
    /// Extra hotels (YAML under `hotels:`) beside `EXT1`, the PMS's DEMO1.
    hotels: String,
    /// Extra `pms:` YAML (sync schedules).
    pms_yaml: String,
    /// Extra top-level YAML.
    top: String,
    /// Extra environment of every host.
    env: Vec<(String, String)>,
}

impl Shared {
    async fn new(pms: ExternalPms) -> Shared {
        Shared {
            state: StateDb::new(Backend::Postgres).await,
            master_key: support::random_master_key(),
            pms,
            hotels: String::new(),
            pms_yaml: String::new(),
            top: String::new(),
            env: Vec::new(),
        }
    }

    /// Starts host `node` (the same id again after a kill: it takes back at once what it held).
    async fn start(&self, node: &str) -> Stack {
        let base = &self.pms.base;
        Stack::start_with(StackOptions {
            top: format!(
                "{FAST_OUTBOX}vault:\n  masterKeyEnv: CLUSTER_MASTER_KEY\n{}",
                self.top
            ),
            // The mock adapter's 100 requests a minute per hotel would pace the test, not test it.
            extra_hotels: format!(
                "  - id: EXT1\n    adapter: mock\n    settings: {{ baseUrl: \"{base}\", hotelId: DEMO1 }}\n    secrets: {{ apiKey: {{ env: CLUSTER_PMS_KEY }} }}\n    rateLimits: [{{ requests: 100000, perSeconds: 1, scope: hotel }}]\n{}",
                self.hotels.replace("{pms}", base)
            ),
            env: [
                ("CLUSTER_MASTER_KEY".to_owned(), self.master_key.clone()),
                ("CLUSTER_PMS_KEY".to_owned(), self.pms.key.clone()),
            ]
            .into_iter()
            .chain(self.env.iter().cloned())
            .collect(),
            state: Some(self.state.clone()),
            node_id: Some(node.to_owned()),
            mock_pms: false,
            sync: !self.pms_yaml.is_empty(),
            pms: self.pms_yaml.clone(),
            ..StackOptions::default()
        })
        .await
    }
}

/// POST a note to `number` of `hotel` on host `s`, with an optional `Idempotency-Key`.
async fn add_note(
    s: &Stack,
    hotel: &str,
    number: &str,
    note: &str,
    key: Option<&str>,
) -> Option<(u16, Value)> {
    let mut request = s
        .http
        .post(s.url(&format!("/v1/hotels/{hotel}/reservations/{number}/notes")))
        .bearer_auth(TOKEN)
        .json(&json!({ "note": note }));
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    match request.send().await {
        Ok(r) => Some(support::read(r).await),
        Err(_) => None,
    }
}

/// Polls `check` every 200 ms until it gives a value; panics with `what` after [`EVENTUALLY`].
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            started.elapsed() < EVENTUALLY,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `jack-pms outbox list --json` on host `s`, optionally of some states only.
fn outbox_list(s: &Stack, states: &[&str]) -> Vec<Value> {
    let config = s.config_path();
    let mut args = vec![
        "outbox",
        "list",
        "--json",
        "--config",
        config.to_str().expect("utf-8"),
    ];
    for st in states {
        args.extend(["--state", st]);
    }
    let out = s.cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("outbox list JSON")
}

/// `jack-pms audit verify` on host `s`: exit code and output.
fn audit_verify(s: &Stack) -> (i32, String) {
    let config = s.config_path();
    let out = s.cli(&[
        "audit",
        "verify",
        "--config",
        config.to_str().expect("utf-8"),
    ]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Waits until no write is queued or pending, then checks that every note in `accepted` is at
/// the PMS exactly once, nothing else arrived that was not sent, and the audit chain verifies.
async fn assert_applied_once(
    shared: &Shared,
    host: &Stack,
    accepted: &BTreeSet<String>,
    sent: &BTreeSet<String>,
) {
    eventually("the outbox to drain", || async {
        outbox_list(host, &["queued", "pending"])
            .is_empty()
            .then_some(())
    })
    .await;
    let failed: Vec<Value> = outbox_list(host, &[])
        .into_iter()
        .filter(|r| r["state"] != "applied")
        .collect();
    assert!(failed.is_empty(), "writes not applied: {failed:#?}");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for number in RESERVATIONS {
        for text in shared.pms.comments("DEMO1", number).await {
            if sent.contains(&text) {
                *seen.entry(text).or_default() += 1;
            }
        }
    }
    let doubled: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        doubled.is_empty(),
        "notes applied more than once: {doubled:?}"
    );
    let lost: Vec<_> = accepted.iter().filter(|n| !seen.contains_key(*n)).collect();
    assert!(lost.is_empty(), "accepted writes never applied: {lost:?}");
    let (code, out) = audit_verify(host);
    assert_eq!(code, 0, "audit verify:\n{out}");
}

/// Writes go to all three hosts at once while one of them is SIGKILLed at a random moment and
/// restarted, round after round: every accepted write is applied exactly once, none is lost,
/// and the audit chain the three hosts wrote together verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_survive_any_host_being_killed() {
    use rand::Rng as _;
    const ROUNDS: usize = 21;
    const WRITES_PER_ROUND: usize = 12;
    let shared = Shared::new(ExternalPms::start(support::pms::example_seed()).await).await;
    // The PMS takes a while to apply and answer, so kills land mid-attempt.
    shared
        .pms
        .faults(json!({ "latencyJitterMs": 100, "timeoutAfterApply": { "count": 1_000_000, "delayMs": 100 } }))
        .await;
    let names = ["node-a", "node-b", "node-c"];
    let mut hosts = Vec::new();
    for n in names {
        hosts.push(Some(shared.start(n).await));
    }
    let mut accepted = BTreeSet::new();
    let mut sent = BTreeSet::new();
    let mut cut_off = 0;
    for round in 0..ROUNDS {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..WRITES_PER_ROUND {
            let host = hosts[i % 3].as_ref().expect("host");
            let (http, url) = (
                host.http.clone(),
                host.url(&format!(
                    "/v1/hotels/EXT1/reservations/{}/notes",
                    RESERVATIONS[i % 4]
                )),
            );
            let note = format!("cluster-r{round}-w{i}");
            sent.insert(note.clone());
            tasks.spawn(support::post_note(http, url, note));
        }
        tokio::time::sleep(Duration::from_millis(rand::rng().random_range(0..=300u64))).await;
        let victim = round % 3;
        if let Some(h) = hosts[victim].as_mut() {
            h.stop();
        }
        while let Some(done) = tasks.join_next().await {
            let (note, answer) = done.expect("task");
            match answer {
                Some((200 | 202, _)) => {
                    accepted.insert(note);
                }
                Some((status, body)) => panic!("write {note} answered {status}: {body}"),
                None => cut_off += 1,
            }
        }
        hosts[victim] = None;
        hosts[victim] = Some(shared.start(names[victim]).await);
    }
    eprintln!(
        "cluster kill rounds: {} sent, {} accepted, {cut_off} cut off",
        sent.len(),
        accepted.len()
    );
    assert!(
        accepted.len() >= ROUNDS * WRITES_PER_ROUND / 2,
        "too few writes accepted"
    );
    shared.pms.faults(json!({})).await;
    let host = hosts[0].as_ref().expect("host");
    assert_applied_once(&shared, host, &accepted, &sent).await;
    let stats = shared.pms.get("/admin/stats").await;
    eprintln!(
        "cluster kill rounds: the PMS applied {} writes, recognised {} replays",
        stats["writesApplied"], stats["writesDeduplicated"]
    );
}

/// One `Idempotency-Key` sent to two hosts at the same instant is one operation and one write at
/// the PMS.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_idempotency_key_is_one_write_across_hosts() {
    let shared = Shared::new(ExternalPms::start(support::pms::example_seed()).await).await;
    let (a, b) = (shared.start("node-a").await, shared.start("node-b").await);
    let before = shared.pms.get("/admin/stats").await["writesApplied"]
        .as_u64()
        .unwrap_or(0);
    const KEYS: usize = 10;
    for k in 0..KEYS {
        let key = format!("same-key-{k}");
        let note = format!("idem-{k}");
        let (ra, rb) = tokio::join!(
            add_note(&a, "EXT1", "CONF1001", &note, Some(&key)),
            add_note(&b, "EXT1", "CONF1001", &note, Some(&key))
        );
        let (sa, ba) = ra.expect("answer from a");
        let (sb, bb) = rb.expect("answer from b");
        assert!(
            matches!(sa, 200 | 202) && matches!(sb, 200 | 202),
            "{sa} {ba} / {sb} {bb}"
        );
        assert_eq!(
            ba["operationId"], bb["operationId"],
            "one operation for key {key}"
        );
    }
    let notes: Vec<String> = shared
        .pms
        .comments("DEMO1", "CONF1001")
        .await
        .into_iter()
        .filter(|t| t.starts_with("idem-"))
        .collect();
    let distinct: BTreeSet<&String> = notes.iter().collect();
    assert_eq!(notes.len(), KEYS, "one write per key: {notes:?}");
    assert_eq!(distinct.len(), KEYS, "{notes:?}");
    let after = shared.pms.get("/admin/stats").await["writesApplied"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(after - before, KEYS as u64);
}

/// While the PMS is down, writes are accepted (queued) on all three hosts; when it is back each
/// is applied exactly once, and each reservation's writes land in the order they were sent,
/// whichever hosts took them and whichever host replays them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_queued_on_every_host_replay_once_in_order() {
    let shared = Shared::new(ExternalPms::start(support::pms::example_seed()).await).await;
    let hosts = Arc::new(vec![
        shared.start("node-a").await,
        shared.start("node-b").await,
        shared.start("node-c").await,
    ]);
    shared.pms.faults(json!({ "down": true })).await;
    const PER_RESERVATION: usize = 9;
    let mut tasks = tokio::task::JoinSet::new();
    for (r, number) in RESERVATIONS.into_iter().enumerate() {
        let hosts = hosts.clone();
        tasks.spawn(async move {
            let mut notes = Vec::new();
            for i in 0..PER_RESERVATION {
                // Each write of a reservation to another host than the one before.
                let host = &hosts[(r + i) % 3];
                let note = format!("order-{number}-{i}");
                let (status, body) = add_note(host, "EXT1", number, &note, None)
                    .await
                    .expect("answer");
                assert_eq!(status, 202, "{body}");
                notes.push(note);
            }
            (number, notes)
        });
    }
    let mut expected = BTreeMap::new();
    let mut sent = BTreeSet::new();
    while let Some(done) = tasks.join_next().await {
        let (number, notes) = done.expect("task");
        sent.extend(notes.iter().cloned());
        expected.insert(number, notes);
    }
    shared.pms.faults(json!({})).await;
    assert_applied_once(&shared, &hosts[1], &sent, &sent).await;
    for (number, notes) in expected {
        let at_pms: Vec<String> = shared
            .pms
            .comments("DEMO1", number)
            .await
            .into_iter()
            .filter(|t| t.starts_with("order-"))
            .collect();
        assert_eq!(at_pms, notes, "the order of {number}'s writes");
    }
}

/// Three hosts, 100 hotels, the room-status stream every minute: each fire runs on exactly one
/// host (the PMS counts one call per hotel per fire), hotels spread over all three hosts, and
/// when one host is killed its hotels go on syncing on the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_sync_fire_runs_once_and_a_dead_hosts_hotels_keep_syncing() {
    use jack_pms_host::sync::schedule::{Jitter, Schedule};
    const HOTELS: usize = 100;
    let mut seed = support::pms::example_seed();
    let demo = seed
        .hotels
        .iter()
        .find(|h| h.id == "DEMO1")
        .expect("DEMO1")
        .clone();
    let mut hotels = String::new();
    for i in 0..HOTELS {
        let id = format!("S{i:03}");
        seed.hotels.push(jack_pms_host::mock_pms::SeedHotel {
            id: id.clone(),
            ..demo.clone()
        });
        hotels.push_str(&format!(
            "  - id: {id}\n    adapter: mock\n    settings: {{ baseUrl: \"{{pms}}\", hotelId: {id} }}\n    secrets: {{ apiKey: {{ env: CLUSTER_PMS_KEY }} }}\n    rateLimits: [{{ requests: 100000, perSeconds: 1, scope: hotel }}]\n"
        ));
    }
    let mut shared = Shared::new(ExternalPms::start(seed).await).await;
    shared.hotels = hotels;
    let off = "{ enabled: false, schedule: \"* * * * *\" }";
    shared.pms_yaml = format!(
        "  sync:\n    arrivals: {off}\n    departures: {off}\n    inHouse: {off}\n    roomStatus: {{ enabled: true, schedule: \"* * * * *\" }}\n"
    );
    // Fires while the hosts are starting may run or not (no host may be up yet): fuzzy.
    let started = chrono::Utc::now();
    let mut hosts = vec![
        shared.start("node-a").await,
        shared.start("node-b").await,
        shared.start("node-c").await,
    ];
    let ready = chrono::Utc::now();
    // A minute with all three, then more than a minute after node-c is killed (every hotel
    // fires at least once without it).
    tokio::time::sleep(Duration::from_secs(60)).await;
    let killed_at = chrono::Utc::now();
    hosts[2].stop();
    tokio::time::sleep(Duration::from_secs(70)).await;
    let stopped = chrono::Utc::now();
    hosts[0].stop();
    hosts[1].stop();

    let stats = shared.pms.get("/admin/stats").await;
    let schedule = Schedule::parse("* * * * *").expect("schedule");
    let route = "GET /api/v1/hotels/{hotel}/rooms";
    let near = |t: chrono::DateTime<chrono::Utc>, edge: chrono::DateTime<chrono::Utc>, s: i64| {
        (t - edge).num_seconds().abs() <= s
    };
    let mut by_node: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..HOTELS {
        let id = format!("S{i:03}");
        let calls = stats["byHotelRoute"][&id][route].as_u64().unwrap_or(0) as usize;
        // The fires between the last host's start and the stop, as every host computes them.
        let jitter = Jitter::for_stream(&id, "roomStatus");
        let (mut fires, mut fuzzy) = (0usize, 0usize);
        let mut after = started;
        while let Ok(fire) = schedule.next_fire(after, jitter) {
            if fire >= stopped {
                break;
            }
            fires += 1;
            // A fire at the edges may fall before a host was up or after it stopped; one at
            // the kill may be claimed by the dying host and lost with it.
            let starting = fire <= ready + chrono::Duration::seconds(3);
            if starting || near(fire, stopped, 3) || near(fire, killed_at, 5) {
                fuzzy += 1;
            }
            after = fire;
        }
        assert!(
            calls <= fires && calls + fuzzy >= fires,
            "hotel {id}: {calls} runs for {fires} fires ({fuzzy} at an edge): each fire must run exactly once"
        );
        let _ = &mut by_node;
    }
    // Who ran what: the health of the surviving hosts names the host of each stream's last run.
    drop(hosts);
    let survivors = [shared.start("node-a").await];
    for i in 0..HOTELS {
        let (status, health) = survivors[0]
            .get(&format!("/v1/hotels/S{i:03}/health"))
            .await;
        assert_eq!(status, 200, "{health}");
        let stream = health["sync"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["stream"] == "roomStatus"))
            .cloned()
            .unwrap_or_default();
        if let Some(node) = stream["lastNode"].as_str() {
            *by_node.entry(node.to_owned()).or_default() += 1;
        }
    }
    eprintln!("sync: last runs by host after node-c died: {by_node:?}");
    assert!(
        by_node.get("node-a").copied().unwrap_or(0) > 10
            && by_node.get("node-b").copied().unwrap_or(0) > 10,
        "hotels spread over the surviving hosts: {by_node:?}"
    );
    assert_eq!(
        by_node.get("node-c"),
        None,
        "the dead host ran nothing last: {by_node:?}"
    );
}

/// Cleans or dirties `rooms` of DEMO1 at the PMS, the way housekeeping would.
async fn housekeeping(pms: &ExternalPms, rooms: &[&str], state: &str) {
    for room in rooms {
        let r = pms
            .http
            .put(format!("{}/admin/hotels/DEMO1/rooms/{room}", pms.base))
            .json(&json!({ "housekeeping": state }))
            .send()
            .await
            .expect("housekeeping");
        assert!(
            r.status().is_success(),
            "housekeeping {room}: {}",
            r.status()
        );
    }
}

/// Runs EXT1's room-status stream on host `s` now; the number of events it produced.
async fn sync_rooms(s: &Stack) -> u64 {
    eventually("a room-status run", || async {
        let (status, body) = s
            .send(Method::POST, "/v1/hotels/EXT1/sync/roomStatus", json!({}))
            .await;
        // 409: a run of the stream is in progress (its own timer's): try again.
        (status == 200).then(|| body["events"].as_u64().unwrap_or(0))
    })
    .await
}

/// Waits until `collected` holds `n` events; their ids.
async fn ids_after(collected: &support::events::Collected, n: usize, what: &str) -> Vec<String> {
    eventually(what, || async {
        let seen = support::events::snapshot(collected);
        (seen.len() >= n).then(|| seen.iter().map(|e| e.id.clone()).collect::<Vec<_>>())
    })
    .await
}

/// An SSE client on host A sees events that host B appended; a client resuming on host B with
/// the last id it saw on A misses none and sees none twice. A webhook receiver gets each event
/// exactly once while both hosts are restarted one after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sse_resumes_on_another_host_and_webhooks_deliver_once() {
    let secret = support::random_key();
    let receiver = support::events::start_receiver(&secret).await;
    let mut shared = Shared::new(ExternalPms::start(support::pms::example_seed()).await).await;
    shared.top = format!(
        "events:\n  webhooks:\n    - url: {}\n      secret: {{ env: CLUSTER_WEBHOOK_SECRET }}\n",
        receiver.url
    );
    let rare = "{ enabled: true, schedule: \"0 0 1 1 *\" }";
    let off = "{ enabled: false, schedule: \"0 0 1 1 *\" }";
    shared.pms_yaml = format!(
        "  sync:\n    arrivals: {off}\n    departures: {off}\n    inHouse: {off}\n    roomStatus: {rare}\n"
    );
    shared.env = vec![("CLUSTER_WEBHOOK_SECRET".into(), secret.clone())];
    let mut a = shared.start("node-a").await;
    let mut b = shared.start("node-b").await;
    assert_eq!(
        sync_rooms(&a).await,
        0,
        "the first run is a silent baseline"
    );
    let on_a = support::events::open_sse(&a, "?hotel=EXT1", None).await;

    // Appended by B, read live on A.
    housekeeping(&shared.pms, &["101", "201"], "DIRTY").await;
    assert_eq!(sync_rooms(&b).await, 2);
    let first = ids_after(&on_a, 2, "B's events on A's stream").await;
    housekeeping(&shared.pms, &["204"], "DIRTY").await;
    assert_eq!(sync_rooms(&a).await, 1);
    let seen_on_a = ids_after(&on_a, 3, "A's own event").await;

    // Resumed on B after the first event: the rest, then what comes live.
    let on_b = support::events::open_sse(&b, "?hotel=EXT1", Some(&first[0])).await;
    housekeeping(&shared.pms, &["301", "202"], "DIRTY").await;
    assert_eq!(sync_rooms(&a).await, 2);
    let resumed = ids_after(&on_b, 4, "the resumed stream on B").await;
    let all_on_a = ids_after(&on_a, 5, "every event on A").await;
    assert_eq!(
        resumed,
        all_on_a[1..].to_vec(),
        "resumed on B after {}",
        first[0]
    );
    assert_eq!(all_on_a[..3], seen_on_a[..3]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(support::events::snapshot(&on_b).len(), 4, "nothing twice");

    // Both hosts restarted cleanly, one after the other, with events in between.
    let mut expected = all_on_a.len();
    for (host, node, rooms) in [
        (&mut a, "node-a", ["101", "201"]),
        (&mut b, "node-b", ["204", "301"]),
    ] {
        host.terminate();
        *host = shared.start(node).await;
        housekeeping(&shared.pms, &rooms, "CLEAN").await;
        expected += usize::try_from(sync_rooms(host).await).unwrap_or(0);
    }
    let delivered = ids_after(
        &receiver.got,
        expected,
        "every event at the webhook receiver",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let delivered_now: Vec<String> = support::events::snapshot(&receiver.got)
        .iter()
        .map(|e| e.id.clone())
        .collect();
    let distinct: BTreeSet<&String> = delivered_now.iter().collect();
    assert_eq!(
        distinct.len(),
        delivered_now.len(),
        "an event delivered twice: {delivered_now:?}"
    );
    assert_eq!(delivered_now.len(), expected, "{delivered_now:?}");
    assert_eq!(
        delivered[..all_on_a.len()],
        all_on_a[..],
        "in order, none missed"
    );
    receiver.assert_no_bad_deliveries();
}

/// `coordination:` YAML that puts a cluster's rate limits, tokens, cache and PMS health in the
/// project's Redis (127.0.0.1:6379), under a key prefix of the test's own.
fn redis_coordination() -> (String, ScratchPrefix) {
    let prefix = ScratchPrefix::new();
    (
        format!(
            "coordination:\n  redis: {DEFAULT_SERVER}\n  keyPrefix: {}\n",
            prefix.0
        ),
        prefix,
    )
}

/// Reads `/api/v1/hotels/DEMO1/rooms` through the OAuth test adapter on `s`; `tag` keeps the
/// read out of the cache.
async fn oauth_read(s: &Stack, tag: &str) -> u16 {
    let (status, body) = s
        .get(&format!(
            "/v1/hotels/OHIP/reservations/oauth:%2Fapi%2Fv1%2Fhotels%2FDEMO1%2Frooms%3Ftag%3D{tag}"
        ))
        .await;
    if status == 200 {
        assert_eq!(body["data"]["notes"][0], "200", "{body}");
    }
    status
}

/// `n` reads through the OAuth test adapter, spread over `hosts`, all at once; their statuses.
async fn spread_reads(hosts: &[Stack], round: &str, n: usize) -> Vec<u16> {
    futures_util::future::join_all(
        (0..n).map(
            |i| async move { oauth_read(&hosts[i % hosts.len()], &format!("{round}{i}")).await },
        ),
    )
    .await
}

/// Three hosts on Redis share one rate-limit bucket (the PMS never sees more than the limit in
/// any second, also while one host is killed mid-burst) and one OAuth token (30 concurrent reads
/// over the three hosts after the PMS revoked every token make one token request).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_shares_rate_limits_and_tokens_across_hosts() {
    let (id, secret, app_key) = (
        support::random_key(),
        support::random_key(),
        support::random_key(),
    );
    let mut shared = Shared::new(ExternalPms::start(support::pms::example_seed()).await).await;
    let (top, _prefix) = redis_coordination();
    shared.top = top;
    shared.hotels = "  - id: OHIP\n    adapter: hostile_oauth\n    settings: { baseUrl: \"{pms}\" }\n    secrets:\n      clientId: { env: T_CLIENT_ID }\n      clientSecret: { env: T_CLIENT_SECRET }\n      appKey: { env: T_APP_KEY }\n    rateLimits: [{ requests: 10, perSeconds: 1, scope: hotel }]\n".into();
    shared.env = vec![
        ("T_CLIENT_ID".into(), id.clone()),
        ("T_CLIENT_SECRET".into(), secret.clone()),
        ("T_APP_KEY".into(), app_key.clone()),
    ];
    let r = shared
        .pms
        .http
        .put(format!("{}/admin/oauth", shared.pms.base))
        .json(&json!({"clientId": id, "clientSecret": secret, "appKey": app_key, "tokenLifetimeSeconds": 3600}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let mut hosts = vec![
        shared.start("node-a").await,
        shared.start("node-b").await,
        shared.start("node-c").await,
    ];
    for status in spread_reads(&hosts, "a", 30).await {
        assert_eq!(status, 200);
    }
    let stats = shared.pms.get("/admin/stats").await;
    assert_eq!(
        stats["tokenRequests"], 1,
        "one token for the cluster: {stats}"
    );

    // The PMS revokes every token: each host's next calls get a 401; one refresh in all.
    let r = shared
        .pms
        .http
        .post(format!("{}/admin/oauth/revoke-all", shared.pms.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    for status in spread_reads(&hosts, "b", 30).await {
        assert_eq!(status, 200);
    }
    let stats = shared.pms.get("/admin/stats").await;
    assert_eq!(
        stats["tokenRequests"], 2,
        "one refresh for the cluster: {stats}"
    );
    assert!(
        stats["maxRequestsInAnySecondByHotel"]["DEMO1"]
            .as_u64()
            .unwrap()
            <= 10,
        "{stats}"
    );

    // A burst over three hosts; one of them is killed in the middle of it. Reads through the
    // killed host fail (its connections drop); those through the others all complete.
    let doomed = hosts[2].pid().to_string();
    let (statuses, ()) = tokio::join!(
        futures_util::future::join_all((0..45).map(|i| {
            let host = &hosts[i % 3];
            let tag = format!("c{i}");
            async move {
                let (http, url) = (
                    host.http.clone(),
                    host.url(&format!(
                        "/v1/hotels/OHIP/reservations/oauth:%2Fapi%2Fv1%2Fhotels%2FDEMO1%2Frooms%3Ftag%3D{tag}"
                    )),
                );
                let status = match http.get(url).bearer_auth(TOKEN).send().await {
                    Ok(r) => Some(r.status().as_u16()),
                    Err(_) => None,
                };
                (i % 3, status)
            }
        })),
        async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &doomed])
                .status();
        }
    );
    hosts[2].stop();
    for (host, status) in statuses {
        if host != 2 {
            assert_eq!(status, Some(200), "every call of a live host completes");
        }
    }
    let stats = shared.pms.get("/admin/stats").await;
    assert!(
        stats["maxRequestsInAnySecondByHotel"]["DEMO1"]
            .as_u64()
            .unwrap()
            <= 10,
        "never more than the limit in any second: {stats}"
    );
    // Health on any host shows the cluster's bucket and mode.
    let (status, health) = hosts[0].get("/v1/hotels/OHIP/health").await;
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["coordination"]["mode"], "redis", "{health}");
    assert!(health["tokenValidUntil"].as_str().is_some(), "{health}");
}

/// Three hosts on Redis share the read cache (a write on A is seen at once by B; C, which never
/// read, answers from the shared last-known-good copy while the PMS is down) and decide PMS
/// outages once (one `pms.unavailable` and one `pms.recovered` for the cluster).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_shares_the_cache_and_pms_health_across_hosts() {
    let mut shared = Shared::new(ExternalPms::start(support::pms::example_seed()).await).await;
    let (top, _prefix) = redis_coordination();
    shared.top = top;
    let rare = "{ enabled: true, schedule: \"0 0 1 1 *\" }";
    let off = "{ enabled: false, schedule: \"0 0 1 1 *\" }";
    // Reservations stay fresh for a second, so that C's read below finds only the
    // last-known-good copy.
    shared.pms_yaml = format!(
        "  sync:\n    arrivals: {off}\n    departures: {off}\n    inHouse: {off}\n    roomStatus: {rare}\n  cache:\n    reservationTTL: 1\n"
    );
    let a = shared.start("node-a").await;
    let b = shared.start("node-b").await;
    let c = shared.start("node-c").await;
    let events = support::events::open_sse(&a, "?hotel=EXT1", None).await;

    // B reads (and keeps) a reservation; A adds a note; B's next read has it.
    let (status, before) = b.get("/v1/hotels/EXT1/reservations/CONF1001").await;
    assert_eq!(status, 200, "{before}");
    let (status, again) = b.get("/v1/hotels/EXT1/reservations/CONF1001").await;
    assert_eq!(
        (status, again["meta"]["source"].as_str()),
        (200, Some("cache")),
        "{again}"
    );
    let (status, note) = add_note(&a, "EXT1", "CONF1001", "late arrival, keep the room", None)
        .await
        .expect("note");
    assert!(status < 300, "{note}");
    assert_eq!(note["status"], "applied", "{note}");
    let (status, after) = b.get("/v1/hotels/EXT1/reservations/CONF1001").await;
    assert_eq!(status, 200, "{after}");
    assert!(
        after.to_string().contains("late arrival, keep the room"),
        "B answers the new state: {after}"
    );

    // A reads a guest; the PMS goes down; C, which never read it, answers it stale.
    let (status, fresh) = a.get("/v1/hotels/EXT1/reservations/CONF1002").await;
    assert_eq!(status, 200, "{fresh}");
    shared.pms.faults(json!({"down": true})).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, stale) = c.get("/v1/hotels/EXT1/reservations/CONF1002").await;
    assert_eq!(status, 200, "{stale}");
    assert_eq!(stale["meta"]["stale"], true, "{stale}");
    assert_eq!(stale["data"], fresh["data"]);

    // Every host's sync fails while it is down: one pms.unavailable; then one pms.recovered.
    for host in [&a, &b, &c] {
        let _ = host
            .send(Method::POST, "/v1/hotels/EXT1/sync/roomStatus", json!({}))
            .await;
    }
    shared.pms.faults(json!({})).await;
    for host in [&a, &b, &c] {
        let _ = host
            .send(Method::POST, "/v1/hotels/EXT1/sync/roomStatus", json!({}))
            .await;
    }
    let kinds = |k: &str| {
        support::events::snapshot(&events)
            .iter()
            .filter(|e| e.kind == k)
            .count()
    };
    eventually("pms.recovered", || async {
        (kinds("pms.recovered") >= 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(kinds("pms.unavailable"), 1, "one outage for the cluster");
    assert_eq!(kinds("pms.recovered"), 1, "one recovery for the cluster");
    let (_, health) = c.get("/v1/hotels/EXT1/health").await;
    assert!(
        health["cache"]["hits"].as_u64().unwrap_or(0) >= 1,
        "cluster cache figures: {health}"
    );
}

/// Redis (a server of the test's own) stops in the middle of a burst over three hosts and comes
/// back: no read fails because of it, and the PMS never sees more than the hotel's limit in any
/// second (each host keeps to its share while it coordinates alone).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_stopping_mid_run_fails_no_read_and_keeps_the_limit() {
    use jack_pms_host::coordination::shared::scratch::OwnRedis;
    let mut redis = OwnRedis::start().expect("redis-server on the PATH");
    let mut shared = Shared::new(ExternalPms::start(support::pms::example_seed()).await).await;
    shared.top = format!("coordination:\n  redis: {}\n", redis.url());
    shared.hotels = "  - id: SLOW\n    adapter: mock\n    settings: { baseUrl: \"{pms}\", hotelId: DEMO1 }\n    secrets: { apiKey: { env: CLUSTER_PMS_KEY } }\n    rateLimits: [{ requests: 10, perSeconds: 1, scope: hotel }]\n".into();
    let hosts = [
        shared.start("node-a").await,
        shared.start("node-b").await,
        shared.start("node-c").await,
    ];
    // Every host has seen the other two (the heartbeat runs every second).
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Uncached reads (each a new reservation number: the PMS answers 404), 60 over 3 hosts.
    let burst = futures_util::future::join_all((0..60).map(|i| {
        let host = &hosts[i % 3];
        async move {
            let (status, body) = host
                .get(&format!("/v1/hotels/SLOW/reservations/NOPE{i}"))
                .await;
            (status, body)
        }
    }));
    let (answers, ()) = tokio::join!(burst, async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        redis.stop();
        tokio::time::sleep(Duration::from_millis(2500)).await;
        redis.resume().expect("redis-server");
    });
    for (status, body) in answers {
        assert_eq!(
            status, 404,
            "the PMS's answer, never a failure of the host: {body}"
        );
    }
    let stats = shared.pms.get("/admin/stats").await;
    for h in &hosts {
        for l in h.logs().lines().filter(|l| l.contains("Redis")) {
            eprintln!("DBG {l}");
        }
    }
    assert!(
        stats["maxRequestsInAnySecondByHotel"]["DEMO1"]
            .as_u64()
            .unwrap()
            <= 10,
        "{stats}"
    );
    // Back to shared coordination once the heartbeat finds Redis again.
    for host in &hosts {
        eventually("shared coordination again", || async {
            let (_, health) = host.get("/v1/hotels/SLOW/health").await;
            (health["coordination"]["mode"] == "redis").then_some(())
        })
        .await;
    }
    let metrics = hosts[0]
        .http
        .get(hosts[0].url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics");
    assert!(
        metrics.contains(
            "jack_pms_coordination_fallbacks_total{node=\"node-a\",part=\"rate_limits\"}"
        ),
        "the fallback is counted: {metrics}"
    );
}

/// Three hosts on Redis against the OHIP simulator over HTTPS (the real Opera adapter): 30
/// concurrent reads spread over them make one token request, and after the simulator expires
/// every token, 30 more make one refresh. No token is ever in Redis or in a host's log in
/// plaintext.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_one_opera_token_for_the_cluster_never_in_plaintext() {
    let creds = opera_sim::Credentials {
        client_id: support::random_key(),
        client_secret: support::random_key(),
        app_key: support::random_key(),
        username: "JACK_INTEGRATION".into(),
        password: support::random_key(),
    };
    let sim = opera_sim::Sim::new("HOTEL1", creds.clone());
    let port = support::tls::serve_https(sim.router()).await.port();
    let mut shared = Shared::new(ExternalPms::start(support::pms::example_seed()).await).await;
    let (top, prefix) = redis_coordination();
    shared.top = top;
    // The adapter's own 100 a minute would pace the test, not test it.
    shared.hotels = format!(
        "  - id: OPERA1\n    adapter: opera\n    settings: {{ hostname: \"localhost:{port}\", hotelId: HOTEL1, chargeTransactionCode: \"2004\", timeZone: \"Europe/Amsterdam\" }}\n    secrets:\n      clientId: {{ env: OHIP_CLIENTID }}\n      clientSecret: {{ env: OHIP_CLIENTSECRET }}\n      appKey: {{ env: OHIP_APPKEY }}\n    rateLimits: [{{ requests: 100000, perSeconds: 1, scope: hotel }}, {{ requests: 100000, perSeconds: 1, scope: environment }}]\n"
    );
    shared.env = vec![
        ("OHIP_CLIENTID".into(), creds.client_id.clone()),
        ("OHIP_CLIENTSECRET".into(), creds.client_secret.clone()),
        ("OHIP_APPKEY".into(), creds.app_key.clone()),
    ];
    let hosts = [
        shared.start("node-a").await,
        shared.start("node-b").await,
        shared.start("node-c").await,
    ];
    // Reservations the simulator does not know: one uncached request each (OHIP answers 204).
    let round = |tag: &'static str| {
        futures_util::future::join_all((0..30).map(|i| {
            let host = &hosts[i % 3];
            async move {
                host.get(&format!("/v1/hotels/OPERA1/reservations/{tag}{i}"))
                    .await
            }
        }))
    };
    for (status, body) in round("A").await {
        assert_eq!(status, 404, "{body}");
    }
    assert_eq!(sim.state().tokens_issued, 1, "one token for the cluster");
    sim.state().expire_tokens();
    for (status, body) in round("B").await {
        assert_eq!(status, 404, "{body}");
    }
    assert_eq!(sim.state().tokens_issued, 2, "one refresh for the cluster");
    let tokens = sim.state().issued_tokens();
    assert_eq!(tokens.len(), 2);
    for (key, value) in prefix.dump(DEFAULT_SERVER).expect("dump") {
        for token in &tokens {
            assert!(!key.contains(token.as_str()), "a token in key {key}");
            assert!(
                !value.windows(token.len()).any(|w| w == token.as_bytes()),
                "a token in plaintext under {key}"
            );
        }
    }
    for host in &hosts {
        let logs = host.logs();
        for token in &tokens {
            assert!(!logs.contains(token.as_str()), "a token in a host's log");
        }
    }
}
