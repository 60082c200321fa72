//! A circuit breaker per (hotel, adapter) (DESIGN §4): after repeated sandbox failures (traps, deadline,
//! memory) in a row, calls are refused for a cool-down instead of burning an instance each. After
//! the cool-down one call is let through; success closes the breaker, failure re-opens it.
//!
//! The runtime reaches the breakers through [`CircuitBreakers`], so that where their state lives
//! is the deployment's choice: [`LocalBreakers`] keeps it in this process (one host); hosts that
//! should open a failing adapter's breaker once for all of them share another implementation.

use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Consecutive failures that open the breaker.
pub const THRESHOLD: u32 = 5;
/// How long it stays open.
pub const COOL_DOWN: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct State {
    consecutive: u32,
    open_until: Option<Instant>,
}

/// The breaker of one hotel on one adapter.
#[derive(Debug, Default)]
pub struct Breaker {
    state: Mutex<State>,
}

impl Breaker {
    /// `Err((failures, remaining))` while open.
    pub fn check(&self) -> Result<(), (u32, Duration)> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match s.open_until {
            Some(until) if Instant::now() < until => Err((s.consecutive, until - Instant::now())),
            Some(_) => {
                // Half-open: let this call through; a failure re-opens at once.
                s.open_until = None;
                s.consecutive = THRESHOLD.saturating_sub(1);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Records a call's result.
    pub fn record(&self, sandbox_failure: bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if sandbox_failure {
            s.consecutive += 1;
            if s.consecutive >= THRESHOLD {
                s.open_until = Some(Instant::now() + COOL_DOWN);
            }
        } else {
            s.consecutive = 0;
            s.open_until = None;
        }
    }

    /// The state as it is now, without the half-open transition a check makes.
    pub fn status(&self) -> BreakerStatus {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        BreakerStatus::new(
            s.consecutive,
            s.open_until
                .and_then(|until| until.checked_duration_since(Instant::now())),
        )
    }

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .consecutive
    }
}

/// A breaker's state, for health pages and `/v1/hotels/{hotel}/health`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BreakerStatus {
    /// `closed` (calls go through), `open` (calls are refused until the cool-down ends).
    pub state: BreakerState,
    /// Sandbox failures in a row (traps, deadline, memory).
    pub failures: u32,
    /// While open: milliseconds until one call is let through again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reopens_in_ms: Option<u64>,
}

/// Whether a breaker lets calls through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls are refused for the rest of the cool-down.
    Open,
}

impl BreakerStatus {
    /// `failures` in a row, open for `left` more (if it is open).
    pub fn new(failures: u32, left: Option<Duration>) -> BreakerStatus {
        match left.filter(|l| !l.is_zero()) {
            Some(left) => BreakerStatus {
                state: BreakerState::Open,
                failures,
                reopens_in_ms: Some(u64::try_from(left.as_millis()).unwrap_or(u64::MAX)),
            },
            None => BreakerStatus {
                state: BreakerState::Closed,
                failures,
                reopens_in_ms: None,
            },
        }
    }
}

/// Where the breakers of every (hotel, adapter) pair live.
pub trait CircuitBreakers: Send + Sync {
    /// `Err((failures, remaining))` while the breaker of `hotel` on `adapter` is open; once the
    /// cool-down is over, one call is let through (half-open).
    fn check<'a>(
        &'a self,
        hotel: &'a str,
        adapter: &'a str,
    ) -> BoxFuture<'a, Result<(), (u32, Duration)>>;

    /// Records a call's result: a sandbox failure counts towards opening, anything else closes.
    fn record<'a>(
        &'a self,
        hotel: &'a str,
        adapter: &'a str,
        sandbox_failure: bool,
    ) -> BoxFuture<'a, ()>;

    /// The breaker's state now, changing nothing (a check may turn it half-open; this does not).
    fn status<'a>(&'a self, hotel: &'a str, adapter: &'a str) -> BoxFuture<'a, BreakerStatus>;
}

/// The breakers of this process, one per (hotel, adapter) (the default).
#[derive(Default)]
pub struct LocalBreakers {
    /// Keyed `hotel\0adapter`: one allocation per lookup, on every call's path.
    breakers: Mutex<HashMap<String, Arc<Breaker>>>,
}

impl LocalBreakers {
    /// One hotel's breaker on one adapter: one hotel's failing calls (a PMS answer that makes
    /// the adapter trap) must not suspend the adapter for other hotels.
    fn breaker(&self, hotel: &str, adapter: &str) -> Arc<Breaker> {
        let mut breakers = self.breakers.lock().unwrap_or_else(|p| p.into_inner());
        breakers
            .entry(format!("{hotel}\u{0}{adapter}"))
            .or_default()
            .clone()
    }
}

impl CircuitBreakers for LocalBreakers {
    fn check<'a>(
        &'a self,
        hotel: &'a str,
        adapter: &'a str,
    ) -> BoxFuture<'a, Result<(), (u32, Duration)>> {
        Box::pin(std::future::ready(self.breaker(hotel, adapter).check()))
    }

    fn record<'a>(
        &'a self,
        hotel: &'a str,
        adapter: &'a str,
        sandbox_failure: bool,
    ) -> BoxFuture<'a, ()> {
        self.breaker(hotel, adapter).record(sandbox_failure);
        Box::pin(std::future::ready(()))
    }

    fn status<'a>(&'a self, hotel: &'a str, adapter: &'a str) -> BoxFuture<'a, BreakerStatus> {
        let found = self
            .breakers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&format!("{hotel}\u{0}{adapter}"))
            .map(|b| b.status());
        Box::pin(std::future::ready(
            found.unwrap_or(BreakerStatus::new(0, None)),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_and_resets_on_success() {
        let b = Breaker::default();
        for _ in 0..THRESHOLD - 1 {
            b.record(true);
            assert!(b.check().is_ok());
        }
        b.record(true);
        assert!(b.check().is_err());
        let b = Breaker::default();
        b.record(true);
        b.record(false);
        assert_eq!(b.failures(), 0);
    }

    #[tokio::test]
    async fn each_hotel_has_its_own_breaker() {
        let breakers = LocalBreakers::default();
        for _ in 0..THRESHOLD {
            breakers.record("h1", "mock", true).await;
        }
        assert!(breakers.check("h1", "mock").await.is_err());
        assert!(breakers.check("h2", "mock").await.is_ok());
        assert!(breakers.check("h1", "other").await.is_ok());
    }
}
