//! The retry policy (the seed's `pms.retry` block) and its delays.
//!
//! The delay formula is the seed's own (`initialDelay × factor^(attempt-1)`, capped at
//! `maxDelay`, plus 0–50 % random jitter), with two additions: a `Retry-After` from the PMS
//! replaces the computed delay, and no retry starts that would end past the call's deadline.
//! Small enough, and specific enough, that a generic backoff crate would add more than it saves.

use rand::Rng;
use std::time::Duration;

/// Backoff shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// Doubling.
    Exponential,
    /// Growing by the initial delay.
    Linear,
    /// Constant.
    Fixed,
}

/// How failed requests are retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub max_attempts: u32,
    /// Backoff shape.
    pub backoff: Backoff,
    /// First delay.
    pub initial_delay: Duration,
    /// Delay cap.
    pub max_delay: Duration,
    /// Add 0–50 % random extra delay.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    /// The seed's defaults.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff: Backoff::Exponential,
            initial_delay: Duration::from_millis(1000),
            max_delay: Duration::from_millis(30_000),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The delay after failed attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let n = attempt.max(1) - 1;
        let base = match self.backoff {
            Backoff::Exponential => self
                .initial_delay
                .saturating_mul(2u32.saturating_pow(n.min(30))),
            Backoff::Linear => self.initial_delay.saturating_mul(n + 1),
            Backoff::Fixed => self.initial_delay,
        };
        let base = base.min(self.max_delay);
        if self.jitter {
            base + base.mul_f64(rand::rng().random_range(0.0..0.5))
        } else {
            base
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the vendors we serve).
pub fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_delays() {
        let p = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        assert_eq!(p.delay(1), Duration::from_millis(1000));
        assert_eq!(p.delay(2), Duration::from_millis(2000));
        assert_eq!(p.delay(3), Duration::from_millis(4000));
        assert_eq!(p.delay(10), Duration::from_secs(30));
        let j = RetryPolicy::default();
        for _ in 0..100 {
            let d = j.delay(2);
            assert!(
                d >= Duration::from_millis(2000) && d < Duration::from_millis(3000),
                "{d:?}"
            );
        }
        let linear = RetryPolicy {
            backoff: Backoff::Linear,
            jitter: false,
            ..RetryPolicy::default()
        };
        assert_eq!(linear.delay(3), Duration::from_millis(3000));
        assert_eq!(
            retry_after(&[("Retry-After".into(), "2".into())]),
            Some(Duration::from_secs(2))
        );
    }
}
