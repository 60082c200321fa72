//! Shared coordination against the real Redis of every machine of this project
//! (127.0.0.1:6379), each test under a key prefix of its own (removed at its end), with several
//! [`Coordination`]s standing for several hosts; and against a Redis server the test starts
//! itself on another port, where Redis must stop and come back.

use super::link::Link;
use crate::cache::{Invalidation, Key, ReadCache};
use crate::coordination::Coordination;
use crate::egress::EgressError;
use crate::egress::limits::{RateLimit, RateScope};
use crate::egress::oauth::{FetchedToken, TokenKey};
use crate::model::{Guest, GuestIdentifier, Money, PmsError};
use crate::operation::{Call, Outcome};
use crate::vault::Secret;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::scratch::{DEFAULT_SERVER as REDIS, OwnRedis, ScratchPrefix as Prefix};

fn key() -> Zeroizing<[u8; 32]> {
    Zeroizing::new([9u8; 32])
}

async fn host(prefix: &Prefix, url: &str, node: &str) -> Coordination {
    Coordination::redis(&prefix.settings(url), node, &key())
        .await
        .expect("coordination")
}

async fn link(prefix: &Prefix, url: &str, node: &str) -> Arc<Link> {
    let link = Link::connect(&prefix.settings(url), node, &key())
        .await
        .expect("link");
    link.spawn_heartbeat();
    link
}

/// Waits until `n` hosts listen on the prefix's channel.
async fn subscribed(prefix: &Prefix, n: i64) {
    let client = ::redis::Client::open(REDIS).expect("client");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connection");
    for _ in 0..200 {
        let counts: Vec<(String, i64)> = ::redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(format!("{}:bus", prefix.0))
            .query_async(&mut conn)
            .await
            .expect("numsub");
        if counts.first().is_some_and(|(_, c)| *c >= n) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{n} hosts never subscribed");
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never: {what}");
}

/// Never more than `limit` admissions in any window of `per`.
fn assert_within_limit(times: &[std::time::Instant], limit: usize, per: Duration) {
    let mut times = times.to_vec();
    times.sort();
    for (i, t) in times.iter().enumerate() {
        let inside = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < per)
            .count();
        assert!(
            inside <= limit,
            "{inside} admissions within one window from admission {i}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_hosts_share_one_bucket_even_when_one_dies_mid_burst() {
    let prefix = Prefix::new();
    let hosts = [
        host(&prefix, REDIS, "a").await,
        host(&prefix, REDIS, "b").await,
        host(&prefix, REDIS, "c").await,
    ];
    let limit = RateLimit {
        requests: 20,
        per: Duration::from_secs(1),
        scope: RateScope::Hotel,
    };
    let admitted = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut tasks = Vec::new();
    let mut doomed = Vec::new();
    for (i, h) in hosts.iter().enumerate() {
        for _ in 0..20 {
            let (limits, admitted) = (h.limits.clone(), admitted.clone());
            let task = tokio::spawn(async move {
                let ok = limits.acquire("hotel:H1", limit, deadline).await;
                if ok {
                    admitted.lock().unwrap().push(std::time::Instant::now());
                }
                ok
            });
            if i == 2 {
                doomed.push(task);
            } else {
                tasks.push(task);
            }
        }
    }
    // Host c dies mid-burst: its waiting callers are gone, nothing it was granted lingers.
    tokio::time::sleep(Duration::from_millis(700)).await;
    for t in &doomed {
        t.abort();
    }
    for t in tasks {
        assert!(
            t.await.unwrap(),
            "every caller of a live host is admitted before its deadline"
        );
    }
    let times = admitted.lock().unwrap().clone();
    assert!(times.len() >= 40, "{} admitted", times.len());
    assert_within_limit(&times, 20, limit.per);
    // The usage every host sees is the cluster's.
    let usage = hosts[0].limits.usage("hotel:H1").await;
    assert_eq!(usage.len(), 1);
    assert!(
        usage[0].used >= 1 && usage[0].used <= 20,
        "{:?}",
        usage[0].used
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_end_at_the_deadline_and_a_429_pauses_every_host() {
    let prefix = Prefix::new();
    let a = host(&prefix, REDIS, "a").await;
    let b = host(&prefix, REDIS, "b").await;
    let slow = RateLimit {
        requests: 1,
        per: Duration::from_secs(10),
        scope: RateScope::Hotel,
    };
    let now = Instant::now();
    assert!(
        a.limits
            .acquire("hotel:slow", slow, now + Duration::from_secs(1))
            .await
    );
    let t = Instant::now();
    assert!(
        !b.limits
            .acquire("hotel:slow", slow, t + Duration::from_millis(200))
            .await,
        "the other host's request used the period"
    );
    assert!(
        t.elapsed() < Duration::from_millis(150),
        "refused at once: the wait would pass the deadline"
    );

    let fast = RateLimit {
        requests: 100,
        per: Duration::from_secs(1),
        scope: RateScope::Hotel,
    };
    a.limits
        .pause("hotel:fast", fast, Duration::from_millis(400), false)
        .await;
    let t = Instant::now();
    assert!(
        !b.limits
            .acquire("hotel:fast", fast, t + Duration::from_millis(100))
            .await
    );
    assert!(
        b.limits
            .acquire("hotel:fast", fast, t + Duration::from_secs(5))
            .await
    );
    assert!(
        t.elapsed() >= Duration::from_millis(350),
        "{:?}",
        t.elapsed()
    );
    // Both hosts show the cluster's figures: one admission, since b's.
    for h in [&a, &b] {
        let usage = h.limits.usage("hotel:fast").await;
        assert_eq!(usage.len(), 1);
        assert_eq!(usage[0].used, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_token_refresh_for_the_cluster_and_never_in_plaintext() {
    let prefix = Prefix::new();
    let hosts = [
        host(&prefix, REDIS, "a").await,
        host(&prefix, REDIS, "b").await,
        host(&prefix, REDIS, "c").await,
    ];
    let fetches = Arc::new(AtomicU32::new(0));
    let token_key = TokenKey {
        hotel: "H1".into(),
        endpoint: "https://pms.test/oauth/v1/tokens".into(),
        grant: "client_credentials:".into(),
        audience: "https://pms.test".into(),
    };
    let round = |rejected: Option<String>| {
        let mut tasks = Vec::new();
        for h in &hosts {
            for _ in 0..10 {
                let (tokens, fetches, key, rejected) = (
                    h.tokens.clone(),
                    fetches.clone(),
                    token_key.clone(),
                    rejected.clone(),
                );
                tasks.push(tokio::spawn(async move {
                    let rejected = rejected.map(Secret::new);
                    let fetch = Box::pin(async move {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Ok::<_, EgressError>(FetchedToken {
                            access: Secret::new(format!("tok-{}", uuid::Uuid::new_v4().simple())),
                            lifetime: Duration::from_secs(3600),
                        })
                    });
                    tokens
                        .token(&key, rejected.as_ref(), fetch)
                        .await
                        .expect("token")
                        .expose()
                        .to_owned()
                }));
            }
        }
        tasks
    };
    let mut seen = std::collections::BTreeSet::new();
    for t in round(None) {
        seen.insert(t.await.unwrap());
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "one token request for 30 calls on 3 hosts"
    );
    assert_eq!(seen.len(), 1);
    let first = seen.into_iter().next().unwrap();
    // The PMS refuses it on every host at once: one refresh.
    let mut seen = std::collections::BTreeSet::new();
    for t in round(Some(first.clone())) {
        seen.insert(t.await.unwrap());
    }
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "one refresh after 30 refusals"
    );
    assert_eq!(seen.len(), 1);
    let second = seen.into_iter().next().unwrap();
    assert_ne!(first, second);
    // Refused again within the window: no third token.
    for t in round(Some(second.clone())) {
        assert_eq!(t.await.unwrap(), second);
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    assert!(hosts[1].tokens.valid_until("H1").await.is_some());
    for (key, value) in prefix.dump(REDIS).expect("dump") {
        for token in [&first, &second] {
            assert!(!key.contains(token.as_str()), "a token in key {key}");
            assert!(
                !value.windows(token.len()).any(|w| w == token.as_bytes()),
                "a token in plaintext under {key}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_refresher_cannot_overwrite_a_newer_token() {
    let prefix = Prefix::new();
    let link = link(&prefix, REDIS, "slow").await;
    let (name, lock, fence) = (
        link.key("tok:x"),
        link.key("tok:x:lock"),
        link.key("tok:x:fence"),
    );
    let valid = link.key("tokvalid");
    let client = ::redis::Client::open(REDIS).unwrap();
    let conn = client.get_multiplexed_async_connection().await.unwrap();
    let take = |holder: &'static str| {
        let (lock, fence) = (lock.clone(), fence.clone());
        let mut conn = conn.clone();
        async move {
            let f: u64 = super::tokens::LOCK
                .key(&lock)
                .key(&fence)
                .arg(holder)
                .arg(30_000)
                .invoke_async(&mut conn)
                .await
                .unwrap();
            f
        }
    };
    let store = |holder: String, f: u64, value: &'static str| {
        let (name, lock, valid) = (name.clone(), lock.clone(), valid.clone());
        let mut conn = conn.clone();
        async move {
            let stored: u8 = super::tokens::STORE
                .key(&name)
                .key(&lock)
                .key(&valid)
                .arg(holder)
                .arg(f)
                .arg(value)
                .arg(60_000)
                .arg("H1")
                .arg(0)
                .invoke_async(&mut conn)
                .await
                .unwrap();
            stored
        }
    };
    let slow = take("slow").await;
    assert!(slow > 0);
    // Its lock expires; another host takes the next one and stores its token.
    let mut admin = conn.clone();
    let _: () = ::redis::cmd("DEL")
        .arg(&lock)
        .query_async(&mut admin)
        .await
        .unwrap();
    let fast = take("fast").await;
    assert!(fast > slow);
    assert_eq!(store(format!("fast:{fast}"), fast, "new").await, 1);
    // The slow host finishes last: refused, with or without a lock around.
    assert_eq!(store(format!("slow:{slow}"), slow, "old").await, 0);
    let stored: Option<String> = ::redis::cmd("HGET")
        .arg(&name)
        .arg("value")
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("new"));
}

fn guest_outcome(email: &str) -> Outcome {
    Outcome::Guest(Some(Guest {
        id: "G1".into(),
        external_ids: crate::model::ExternalIds { pms: "G1".into() },
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        email: Some(email.into()),
        phone: None,
        loyalty_tier: None,
        language: None,
        vip: None,
        preferences: vec![],
    }))
}

fn balance(amount: &str) -> Outcome {
    Outcome::Balance(Money {
        amount: amount.into(),
        currency: "EUR".into(),
    })
}

async fn read(
    cache: &ReadCache,
    key: &Key,
    fetches: &AtomicU32,
    answer: Result<Outcome, PmsError>,
) -> Result<crate::cache::Cached, Arc<PmsError>> {
    cache
        .get_or_fetch(
            key.clone(),
            Duration::from_secs(60),
            async {
                fetches.fetch_add(1, Ordering::SeqCst);
                answer
            },
            |e: &PmsError| matches!(e, PmsError::Unavailable(_)),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_host_is_seen_on_another_and_copies_outlive_the_pms() {
    let prefix = Prefix::new();
    let (a, b, c) = (
        host(&prefix, REDIS, "a").await,
        host(&prefix, REDIS, "b").await,
        host(&prefix, REDIS, "c").await,
    );
    let (ca, cb, cc) = (a.read_cache(), b.read_cache(), c.read_cache());
    subscribed(&prefix, 3).await;
    let hotel: Arc<str> = "H1".into();
    let key = Key::of(&hotel, &Call::GetBalance("C1".into())).unwrap();
    let fetches = AtomicU32::new(0);
    let first = read(&ca, &key, &fetches, Ok(balance("1.00")))
        .await
        .unwrap();
    assert!(!first.from_cache);
    let on_b = read(&cb, &key, &fetches, Ok(balance("9.99")))
        .await
        .unwrap();
    assert_eq!(
        on_b.outcome,
        balance("1.00"),
        "B answers from the shared level"
    );
    assert!(on_b.from_cache);
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    // A posts a charge: B's own copy and the shared one are gone before A's answer.
    ca.invalidate_for_write(
        "H1",
        &Call::PostCharge {
            operation_id: "op".into(),
            confirmation_number: "C1".into(),
            charge: crate::model::Charge {
                amount: "1.00".into(),
                currency: "EUR".into(),
                description: "x".into(),
                code: None,
            },
        },
    )
    .await;
    eventually("B forgets its copy", async || {
        let probe = AtomicU32::new(0);
        let r = read(&cb, &key, &probe, Ok(balance("2.00"))).await.unwrap();
        r.outcome == balance("2.00")
    })
    .await;

    // C never read the guest; the PMS is down: the shared last-known-good copy answers.
    let guest = Key::of(
        &hotel,
        &Call::GetGuest(GuestIdentifier::Email("ada@example.test".into())),
    )
    .unwrap();
    read(&ca, &guest, &fetches, Ok(guest_outcome("ada@example.test")))
        .await
        .unwrap();
    ca.invalidate("H1", &Invalidation::Guests).await;
    let down = read(
        &cc,
        &guest,
        &fetches,
        Err(PmsError::Unavailable("down".into())),
    )
    .await
    .unwrap();
    assert!(down.stale, "stale copy from the shared level");
    assert_eq!(down.outcome, guest_outcome("ada@example.test"));
    // Nothing personal in Redis in plaintext: not the email, not the name, in keys or values.
    for (key, value) in prefix.dump(REDIS).expect("dump") {
        for needle in ["ada@example.test", "Lovelace"] {
            assert!(!key.contains(needle), "{needle} in key {key}");
            assert!(
                !value.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in plaintext under {key}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn outages_and_breakers_are_decided_once_for_the_cluster() {
    let prefix = Prefix::new();
    let hosts = [
        host(&prefix, REDIS, "a").await,
        host(&prefix, REDIS, "b").await,
        host(&prefix, REDIS, "c").await,
    ];
    for h in &hosts {
        let _ = h.read_cache();
    }
    subscribed(&prefix, 3).await;
    let mut told = 0;
    let changes =
        futures_util::future::join_all(hosts.iter().map(|h| h.outages.set_reported("H1", true)))
            .await;
    told += changes.iter().filter(|c| **c).count();
    assert_eq!(told, 1, "one pms.unavailable for the cluster");
    let changes =
        futures_util::future::join_all(hosts.iter().map(|h| h.outages.set_reported("H1", false)))
            .await;
    assert_eq!(
        changes.iter().filter(|c| **c).count(),
        1,
        "one pms.recovered"
    );

    let hold = |n: u32| Duration::from_secs(u64::from(n) * 10);
    assert!(
        hosts[0].outages.hold_writes("H1", &hold).await,
        "first failure"
    );
    assert!(
        !hosts[1].outages.hold_writes("H1", &hold).await,
        "second, on another host"
    );
    assert!(hosts[2].outages.writes_held("H1").await);
    assert!(hosts[2].outages.release_writes("H1").await);
    assert!(!hosts[0].outages.writes_held("H1").await);

    for h in hosts.iter().take(2) {
        for _ in 0..2 {
            h.breakers.record("H1", "mock", true).await;
        }
    }
    assert!(
        hosts[2].breakers.check("H1", "mock").await.is_ok(),
        "4 failures: closed"
    );
    hosts[0].breakers.record("H1", "mock", true).await;
    eventually("host c sees the breaker open", async || {
        hosts[2].breakers.check("H1", "mock").await.is_err()
    })
    .await;
    assert!(
        hosts[1].breakers.check("H2", "mock").await.is_ok(),
        "other hotels are not affected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_stopping_and_coming_back_fails_nothing_and_keeps_the_limit() {
    let prefix = Prefix::new();
    let mut redis = OwnRedis::start().expect("redis-server on the PATH");
    let url = redis.url();
    let a = host(&prefix, &url, "a").await;
    let b = host(&prefix, &url, "b").await;
    let limit = RateLimit {
        requests: 20,
        per: Duration::from_secs(1),
        scope: RateScope::Hotel,
    };
    // Both hosts seen live by both: a share is half the budget.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let admitted = Arc::new(Mutex::new(Vec::new()));
    let run = |h: &Coordination, n: usize| {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (limits, admitted) = (h.limits.clone(), admitted.clone());
            tasks.push(tokio::spawn(async move {
                let ok = limits
                    .acquire("hotel:H1", limit, Instant::now() + Duration::from_secs(30))
                    .await;
                admitted.lock().unwrap().push(std::time::Instant::now());
                ok
            }));
        }
        tasks
    };
    let mut tasks = run(&a, 15);
    tasks.extend(run(&b, 15));
    // Redis stops mid-burst, and comes back a little later.
    tokio::time::sleep(Duration::from_millis(500)).await;
    redis.stop();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut more = run(&a, 10);
    more.extend(run(&b, 10));
    redis.resume().expect("redis-server");
    for t in tasks.into_iter().chain(more) {
        assert!(t.await.unwrap(), "no request fails because Redis is down");
    }
    assert_within_limit(&admitted.lock().unwrap(), 20, limit.per);
    // Shared again once the heartbeat finds it.
    eventually("Redis is used again", async || {
        a.status("a").mode == "redis" && b.status("b").mode == "redis"
    })
    .await;
    assert!(
        a.limits
            .acquire("hotel:H1", limit, Instant::now() + Duration::from_secs(5))
            .await
    );
    let keys = prefix.dump(&url).expect("dump");
    assert!(
        keys.iter().any(|(k, _)| k.ends_with(":rl:hotel:H1")),
        "the bucket lives in Redis again: {:?}",
        keys.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
}
