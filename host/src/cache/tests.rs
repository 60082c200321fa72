use super::*;
use crate::model::{Money, PmsError};
use std::sync::atomic::AtomicUsize;

fn hotel() -> Arc<str> {
    "H1".into()
}

fn balance(amount: &str) -> Outcome {
    Outcome::Balance(Money {
        amount: amount.into(),
        currency: "EUR".into(),
    })
}

fn unavailable(e: &PmsError) -> bool {
    matches!(e, PmsError::Unavailable(_))
}

#[tokio::test]
async fn concurrent_identical_reads_make_one_fetch() {
    let cache = Arc::new(ReadCache::default());
    let fetches = Arc::new(AtomicUsize::new(0));
    let key = Key::of(&hotel(), &Call::GetBalance("C1".into())).unwrap();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (cache, fetches, key) = (cache.clone(), fetches.clone(), key.clone());
            tokio::spawn(async move {
                cache
                    .get_or_fetch(
                        key,
                        Duration::from_secs(60),
                        async {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, PmsError>(balance("1.00"))
                        },
                        unavailable,
                    )
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().outcome, balance("1.00"));
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
    assert_eq!(cache.counters().misses.load(Ordering::SeqCst), 1);
    assert_eq!(cache.counters().hits.load(Ordering::SeqCst), 99);
}

#[tokio::test]
async fn stale_copies_answer_when_the_pms_fails_and_only_then() {
    let cache = ReadCache::default();
    let key = Key::of(&hotel(), &Call::GetBalance("C1".into())).unwrap();
    let ttl = Duration::from_millis(30);
    let first = cache
        .get_or_fetch(
            key.clone(),
            ttl,
            async { Ok::<_, PmsError>(balance("1.00")) },
            unavailable,
        )
        .await
        .unwrap();
    assert!(!first.from_cache && !first.stale);
    let again = cache
        .get_or_fetch(
            key.clone(),
            ttl,
            async { Ok::<_, PmsError>(balance("9.99")) },
            unavailable,
        )
        .await
        .unwrap();
    assert!(again.from_cache && !again.stale);
    assert_eq!(again.outcome, balance("1.00"));
    tokio::time::sleep(Duration::from_millis(60)).await;

    // Expired, PMS down: the old value, flagged stale, with its original fetch time.
    let down = cache
        .get_or_fetch(
            key.clone(),
            ttl,
            async { Err(PmsError::Unavailable("down".into())) },
            unavailable,
        )
        .await
        .unwrap();
    assert!(down.stale);
    assert_eq!(down.outcome, balance("1.00"));
    assert_eq!(down.fetched_at, first.fetched_at);
    // Other errors are not hidden behind stale data.
    let e = cache
        .get_or_fetch(
            key.clone(),
            ttl,
            async { Err(PmsError::NotFound) },
            unavailable,
        )
        .await
        .unwrap_err();
    assert_eq!(*e, PmsError::NotFound);
    // Nothing cached at all: the error.
    let other = Key::of(&hotel(), &Call::GetBalance("C2".into())).unwrap();
    assert!(
        cache
            .get_or_fetch(
                other,
                ttl,
                async { Err(PmsError::Unavailable("down".into())) },
                unavailable
            )
            .await
            .is_err()
    );
    // Back up: fresh data again.
    let up = cache
        .get_or_fetch(
            key,
            ttl,
            async { Ok::<_, PmsError>(balance("2.00")) },
            unavailable,
        )
        .await
        .unwrap();
    assert!(!up.stale && !up.from_cache);
    assert_eq!(up.outcome, balance("2.00"));
}

#[tokio::test]
async fn writes_invalidate_what_they_change() {
    let cache = ReadCache::default();
    let h = hotel();
    let keys = [
        Call::GetReservation("C1".into()),
        Call::GetReservation("C2".into()),
        Call::GetBalance("C1".into()),
        Call::GetInHouseGuests,
        Call::GetGuest(crate::model::GuestIdentifier::Id("G1".into())),
        Call::GetAllRoomStatuses,
    ]
    .map(|c| Key::of(&h, &c).unwrap());
    for k in &keys {
        cache
            .get_or_fetch(
                k.clone(),
                Duration::from_secs(60),
                async { Ok::<_, PmsError>(balance("1.00")) },
                unavailable,
            )
            .await
            .unwrap();
    }
    let cached = |k: &Key| {
        let cache = &cache;
        let k = k.clone();
        async move {
            cache
                .get_or_fetch(
                    k,
                    Duration::from_secs(60),
                    async { Ok::<_, PmsError>(balance("2.00")) },
                    unavailable,
                )
                .await
                .unwrap()
                .from_cache
        }
    };
    cache
        .invalidate_for_write(
            "H1",
            &Call::AddReservationNote {
                operation_id: "op".into(),
                confirmation_number: "C1".into(),
                note: "n".into(),
            },
        )
        .await;
    let expected = [false, true, true, false, true, true];
    for (k, still) in keys.iter().zip(expected) {
        assert_eq!(cached(k).await, still, "{k:?}");
    }
    cache
        .invalidate_for_write(
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
    assert!(!cached(&keys[2]).await);
    assert!(cached(&keys[1]).await);
    cache
        .invalidate_for_write(
            "H1",
            &Call::UpdateGuestPreferences {
                operation_id: "op".into(),
                guest_pms_id: "G1".into(),
                preferences: vec![],
            },
        )
        .await;
    assert!(!cached(&keys[4]).await);
    // Other hotels are untouched.
    cache
        .invalidate_for_write(
            "H2",
            &Call::UpdateGuestPreferences {
                operation_id: "op".into(),
                guest_pms_id: "G1".into(),
                preferences: vec![],
            },
        )
        .await;
    assert!(cached(&keys[4]).await);
}

#[test]
fn only_reads_are_cacheable_and_keys_separate_arguments() {
    let h = hotel();
    assert!(Key::of(&h, &Call::HealthCheck).is_none());
    assert!(
        Key::of(
            &h,
            &Call::AddReservationNote {
                operation_id: "o".into(),
                confirmation_number: "C".into(),
                note: "n".into()
            }
        )
        .is_none()
    );
    use crate::model::GuestIdentifier as G;
    let a = Key::of(&h, &Call::GetGuest(G::Id("x".into()))).unwrap();
    let b = Key::of(&h, &Call::GetGuest(G::Email("x".into()))).unwrap();
    assert_ne!(a, b);
    let c = Key::of(&"H2".into(), &Call::GetGuest(G::Id("x".into()))).unwrap();
    assert_ne!(a, c);
}
