//! Fault injection (down, outage window, forced 429s, a requests-per-minute limit, random errors,
//! latency) and the request statistics served by `/admin/stats`.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Faults applied to every `/api/v1/...` request, checked in this order: `down`/`outage` (503),
/// `rateLimited` (429), `requestsPerMinute` (429), `errorRate`; then `latencyMs` is waited out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Delay before handling an accepted request, in milliseconds.
    pub latency_ms: u64,
    /// Probability (0.0–1.0) of answering `error_status` instead of handling the request.
    pub error_rate: f64,
    /// Status used for `error_rate` failures (400–599; anything else means 503).
    pub error_status: u16,
    /// Answer every request with 503.
    pub down: bool,
    /// Answer 503 while the current time is inside this window.
    pub outage: Option<Outage>,
    /// Answer the next `count` requests with 429.
    pub rate_limited: RateLimited,
    /// Accept at most this many requests in any sliding 60-second window; 429 beyond that.
    pub requests_per_minute: Option<u32>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            latency_ms: 0,
            error_rate: 0.0,
            error_status: 503,
            down: false,
            outage: None,
            rate_limited: RateLimited::default(),
            requests_per_minute: None,
        }
    }
}

impl Faults {
    /// Rejects values that make no sense, for `PUT /admin/faults`.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(format!(
                "errorRate {} is not between 0.0 and 1.0",
                self.error_rate
            ));
        }
        if !(400..=599).contains(&self.error_status) {
            return Err(format!(
                "errorStatus {} is not between 400 and 599",
                self.error_status
            ));
        }
        if self.outage.as_ref().is_some_and(|o| o.until < o.from) {
            return Err("outage.until is before outage.from".into());
        }
        Ok(())
    }
}

/// A window of time during which the mock answers 503.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Outage {
    /// Start of the outage (RFC 3339), inclusive.
    pub from: DateTime<Utc>,
    /// End of the outage (RFC 3339), exclusive.
    pub until: DateTime<Utc>,
}

/// Forced rate limiting: the next `count` requests get 429.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RateLimited {
    /// How many more requests to refuse; decremented by each refusal.
    pub count: u32,
    /// Value of the `Retry-After` header on those refusals.
    pub retry_after_seconds: u64,
}

impl Default for RateLimited {
    fn default() -> RateLimited {
        RateLimited {
            count: 0,
            retry_after_seconds: 2,
        }
    }
}

/// Why a request was refused by a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// `down` or inside `outage`: 503.
    Unavailable,
    /// Forced or per-minute rate limit: 429 with this `Retry-After`.
    RateLimited { retry_after_seconds: u64 },
    /// Random failure with this status.
    Error { status: u16 },
}

/// The configured faults plus the sliding window for `requests_per_minute`.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub faults: Faults,
    window: VecDeque<Instant>,
}

const MINUTE: Duration = Duration::from_secs(60);

impl FaultState {
    /// Replaces the faults and forgets the per-minute window.
    pub fn set(&mut self, faults: Faults) {
        self.faults = faults;
        self.window.clear();
    }

    /// Decides the fate of one request: `Ok(latency)` to handle it after that delay, or the
    /// rejection. Order: down/outage, forced 429, per-minute limit, random error.
    pub fn check(&mut self, now_utc: DateTime<Utc>, now: Instant) -> Result<Duration, Rejection> {
        let f = &mut self.faults;
        if f.down
            || f.outage
                .as_ref()
                .is_some_and(|o| o.from <= now_utc && now_utc < o.until)
        {
            return Err(Rejection::Unavailable);
        }
        if f.rate_limited.count > 0 {
            f.rate_limited.count -= 1;
            return Err(Rejection::RateLimited {
                retry_after_seconds: f.rate_limited.retry_after_seconds,
            });
        }
        if let Some(limit) = f.requests_per_minute {
            while self
                .window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= MINUTE)
            {
                self.window.pop_front();
            }
            if self.window.len() >= limit as usize {
                let frees_in = self
                    .window
                    .front()
                    .map_or(MINUTE, |t| MINUTE.saturating_sub(now.duration_since(*t)));
                let retry_after_seconds =
                    frees_in.as_secs() + u64::from(frees_in.subsec_nanos() > 0);
                return Err(Rejection::RateLimited {
                    retry_after_seconds: retry_after_seconds.max(1),
                });
            }
            self.window.push_back(now);
        }
        if f.error_rate > 0.0 && rand::random::<f64>() < f.error_rate {
            return Err(Rejection::Error {
                status: f.error_status,
            });
        }
        Ok(Duration::from_millis(f.latency_ms))
    }
}

/// Request statistics since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Every `/api/v1` request that arrived, including rejected ones.
    pub total_requests: u64,
    /// Arrivals by `"METHOD /matched/{path}"`.
    pub by_route: BTreeMap<String, u64>,
    /// Arrivals by hotel id (known hotels only).
    pub by_hotel: BTreeMap<String, u64>,
    /// Requests refused before reaching a handler.
    pub rejected: Rejected,
    /// Writes applied to the store.
    pub writes_applied: u64,
    /// Writes recognised as replays of an applied `operationId` and not applied again.
    pub writes_deduplicated: u64,
    /// Most accepted requests in any sliding one-second window.
    pub max_requests_in_any_second: u64,
    /// Most accepted requests in any sliding 60-second window.
    pub max_requests_in_any_minute: u64,
}

/// Counts of refused requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    /// Missing or wrong `x-api-key`.
    pub unauthorized: u64,
    /// Refused by an injected fault.
    pub faults: u64,
}

/// Arrival times of accepted requests kept for the rate figures; beyond this the oldest are
/// dropped, so the per-minute figure saturates at this value.
const MAX_TIMESTAMPS: usize = 100_000;

/// Stats plus the timestamps of the last minute of accepted requests.
#[derive(Debug, Default)]
pub(crate) struct StatsState {
    pub stats: Stats,
    accepted: VecDeque<Instant>,
}

impl StatsState {
    /// Counts an arriving `/api/v1` request.
    pub fn arrived(&mut self, route: String, hotel: Option<String>) {
        self.stats.total_requests += 1;
        *self.stats.by_route.entry(route).or_default() += 1;
        if let Some(hotel) = hotel {
            *self.stats.by_hotel.entry(hotel).or_default() += 1;
        }
    }

    /// Counts a request that passed faults and auth, and updates the max-rate figures.
    pub fn accepted(&mut self, now: Instant) {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= MINUTE)
        {
            self.accepted.pop_front();
        }
        if self.accepted.len() >= MAX_TIMESTAMPS {
            self.accepted.pop_front();
        }
        self.accepted.push_back(now);
        let in_second = self.accepted.len()
            - self
                .accepted
                .partition_point(|t| now.duration_since(*t) >= Duration::from_secs(1));
        let s = &mut self.stats;
        s.max_requests_in_any_minute = s.max_requests_in_any_minute.max(self.accepted.len() as u64);
        s.max_requests_in_any_second = s.max_requests_in_any_second.max(in_second as u64);
    }

    /// Zeroes everything.
    pub fn reset(&mut self) {
        *self = StatsState::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_minute_limit_frees_a_slot_after_sixty_seconds() {
        let mut state = FaultState::default();
        state.set(Faults {
            requests_per_minute: Some(2),
            ..Faults::default()
        });
        let t0 = Instant::now();
        let now = Utc::now();
        assert!(state.check(now, t0).is_ok());
        assert!(state.check(now, t0 + Duration::from_secs(10)).is_ok());
        let refused = state.check(now, t0 + Duration::from_secs(20));
        assert_eq!(
            refused,
            Err(Rejection::RateLimited {
                retry_after_seconds: 40
            })
        );
        assert!(state.check(now, t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn faults_json_is_camel_case_with_defaults() {
        let json = r#"{"latencyMs": 5, "outage": {"from": "2030-01-01T10:00:00+02:00", "until": "2030-01-01T08:00:00Z"}}"#;
        let faults: Faults = serde_json::from_str(json).unwrap();
        assert_eq!(faults.latency_ms, 5);
        assert_eq!(faults.error_status, 503);
        assert_eq!(faults.rate_limited.retry_after_seconds, 2);
        let outage = faults.outage.unwrap();
        assert_eq!(outage.from, outage.until, "offsets are converted to UTC");
        assert!(serde_json::from_str::<Faults>(r#"{"latency": 5}"#).is_err());
    }

    #[test]
    fn max_rates_use_sliding_windows() {
        let mut stats = StatsState::default();
        let t0 = Instant::now();
        for ms in [0, 100, 900, 1500, 1600, 1700, 1800] {
            stats.accepted(t0 + Duration::from_millis(ms));
        }
        // 900..1800 holds five requests inside one second.
        assert_eq!(stats.stats.max_requests_in_any_second, 5);
        assert_eq!(stats.stats.max_requests_in_any_minute, 7);
        stats.accepted(t0 + Duration::from_secs(70));
        assert_eq!(stats.stats.max_requests_in_any_minute, 7);
    }
}
