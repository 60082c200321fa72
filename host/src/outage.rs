//! Which hotels' PMSes are down, kept behind [`PmsOutages`] so that the decision can be made
//! once for every host that shares it.
//!
//! Two facts are kept per hotel:
//! - **Writes held**: after a write failed because the PMS is down, new writes for the hotel
//!   are queued without an attempt of their own for a backoff that grows with the failures in a
//!   row (the replay worker's next attempt is the probe). A success releases them at once.
//! - **Outage reported**: `pms.unavailable` was recorded and `pms.recovered` not yet. Setting it
//!   answers whether this call changed it, so exactly one caller records each change.
//!
//! [`LocalOutages`] keeps both in this process (one host, the default).

use futures_util::future::BoxFuture;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How long writes are held after `n` failures in a row (n ≥ 1).
pub type HoldFor<'a> = &'a (dyn Fn(u32) -> Duration + Sync);

/// Where the PMS-down state of every hotel lives.
pub trait PmsOutages: Send + Sync {
    /// Records that a write found `hotel`'s PMS down: writes are held for `hold_for(failures in
    /// a row)`. True when this is the first failure since the PMS last answered (time to alert).
    fn hold_writes<'a>(&'a self, hotel: &'a str, hold_for: HoldFor<'a>) -> BoxFuture<'a, bool>;

    /// Records that `hotel`'s PMS took a write: writes flow again. True when they were held.
    fn release_writes<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, bool>;

    /// True while new writes for `hotel` are held (queued without an attempt).
    fn writes_held<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, bool>;

    /// Sets whether an outage of `hotel` is reported; true when this call changed it.
    fn set_reported<'a>(&'a self, hotel: &'a str, down: bool) -> BoxFuture<'a, bool>;
}

#[derive(Debug, Clone, Copy)]
struct Held {
    failures: u32,
    until: Instant,
}

/// The outages seen by this process (the default, for one host).
#[derive(Debug, Default)]
pub struct LocalOutages {
    held: Mutex<HashMap<String, Held>>,
    reported: Mutex<HashSet<String>>,
}

impl PmsOutages for LocalOutages {
    fn hold_writes<'a>(&'a self, hotel: &'a str, hold_for: HoldFor<'a>) -> BoxFuture<'a, bool> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let entry = held.entry(hotel.to_owned()).or_insert(Held {
            failures: 0,
            until: Instant::now(),
        });
        entry.failures = entry.failures.saturating_add(1);
        let now = Instant::now();
        entry.until = now.checked_add(hold_for(entry.failures)).unwrap_or(now);
        let first = entry.failures == 1;
        Box::pin(std::future::ready(first))
    }

    fn release_writes<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, bool> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        Box::pin(std::future::ready(held.remove(hotel).is_some()))
    }

    fn writes_held<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, bool> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        Box::pin(std::future::ready(
            held.get(hotel).is_some_and(|h| now < h.until),
        ))
    }

    fn set_reported<'a>(&'a self, hotel: &'a str, down: bool) -> BoxFuture<'a, bool> {
        let mut reported = self.reported.lock().unwrap_or_else(|p| p.into_inner());
        let changed = if down {
            reported.insert(hotel.to_owned())
        } else {
            reported.remove(hotel)
        };
        Box::pin(std::future::ready(changed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn writes_are_held_for_the_backoff_and_released_by_a_success() {
        let outages = LocalOutages::default();
        let hold = |n: u32| Duration::from_secs(u64::from(n) * 10);
        assert!(outages.hold_writes("h1", &hold).await, "first failure");
        assert!(!outages.hold_writes("h1", &hold).await, "second failure");
        assert!(outages.writes_held("h1").await);
        assert!(!outages.writes_held("h2").await);
        tokio::time::advance(Duration::from_secs(19)).await;
        assert!(
            outages.writes_held("h1").await,
            "held 20 s after two failures"
        );
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(
            !outages.writes_held("h1").await,
            "the hold ends: the next write probes"
        );
        assert!(outages.release_writes("h1").await);
        assert!(!outages.release_writes("h1").await);
        assert!(outages.hold_writes("h1", &hold).await, "a new outage");
    }

    #[tokio::test]
    async fn each_change_of_the_reported_flag_is_told_once() {
        let outages = LocalOutages::default();
        assert!(outages.set_reported("h1", true).await);
        assert!(!outages.set_reported("h1", true).await);
        assert!(outages.set_reported("h1", false).await);
        assert!(!outages.set_reported("h1", false).await);
    }
}
