//! The retry policy (the seed's `pms.retry` block) and its delays.
//!
//! The delay formula is the seed's own (`initialDelay × factor^(attempt-1)`, capped at
//! `maxDelay`, plus 0–50 % random jitter), with two additions: a `Retry-After` from the PMS
//! replaces the computed delay, and no retry starts that would end past the call's deadline.
//! Small enough, and specific enough, that a generic backoff crate would add more than it saves.

use chrono::{DateTime, Utc};
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

/// The delay a vendor's `Retry-After` asks for, as sent: delta-seconds (RFC 9110 §10.2.3, any
/// number of digits; a value too large for a `Duration` saturates) or an HTTP-date (IMF-fixdate,
/// and the obsolete RFC 850 and asctime forms, as RFC 9110 requires recipients to accept), taken
/// relative to `now`. A date in the past means "now". `None` when the header is absent or is
/// neither form. Callers clamp the result with [`clamp_vendor_delay`] before using it.
pub fn retry_after(headers: &[(String, String)], now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .map(|(_, v)| v.trim())?;
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than a u64 holds is still "a very long time", not garbage.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = http_date(value)?;
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// An HTTP-date in any of the three forms of RFC 9110 §5.6.7.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    // IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") is a subset of RFC 2822.
    if let Ok(t) = DateTime::parse_from_rfc2822(value) {
        return Some(t.with_timezone(&Utc));
    }
    // RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994").
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(value, f).ok())
        .map(|t| t.and_utc())
}

/// A delay that a vendor (a `Retry-After`) or an adapter (`rate-limited(ms)`) asked for, cut to
/// the operator's `egress.maxRetryAfterMs`. The second value is true when it was cut, so that
/// the caller can say so.
pub fn clamp_vendor_delay(asked: Duration, max: Duration) -> (Duration, bool) {
    if asked > max {
        (max, true)
    } else {
        (asked, false)
    }
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
    }

    #[test]
    fn retry_after_in_every_form_and_absurd_values_do_not_overflow() {
        let now = DateTime::parse_from_rfc3339("1994-11-06T08:49:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let h = |v: &str| vec![("Retry-After".to_string(), v.to_string())];
        assert_eq!(retry_after(&h("2"), now), Some(Duration::from_secs(2)));
        assert_eq!(
            retry_after(&h("18446744073709551615"), now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            retry_after(&h("99999999999999999999999999"), now),
            Some(Duration::from_secs(u64::MAX))
        );
        for date in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                retry_after(&h(date), now),
                Some(Duration::from_secs(7)),
                "{date}"
            );
        }
        assert_eq!(
            retry_after(&h("Sun, 06 Nov 1994 08:00:00 GMT"), now),
            Some(Duration::ZERO),
            "a date in the past is now"
        );
        assert_eq!(
            retry_after(&h("Fri, 31 Dec 9999 23:59:59 GMT"), now)
                .map(|d| d > Duration::from_secs(1 << 37)),
            Some(true)
        );
        for junk in ["", "-1", "1.5", "soon", "\u{0}"] {
            assert_eq!(retry_after(&h(junk), now), None, "{junk:?}");
        }
        let max = Duration::from_secs(300);
        assert_eq!(
            clamp_vendor_delay(Duration::from_secs(u64::MAX), max),
            (max, true)
        );
        assert_eq!(
            clamp_vendor_delay(Duration::from_secs(2), max),
            (Duration::from_secs(2), false)
        );
    }
}
