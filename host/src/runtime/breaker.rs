//! A circuit breaker per (hotel, adapter) (DESIGN §4): after repeated sandbox failures (traps, deadline,
//! memory) in a row, calls are refused for a cool-down instead of burning an instance each. After
//! the cool-down one call is let through; success closes the breaker, failure re-opens it.

use std::sync::Mutex;
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

    /// Consecutive failures so far.
    pub fn failures(&self) -> u32 {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .consecutive
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
}
