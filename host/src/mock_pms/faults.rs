//! Fault injection (scripted failures, down, outage window, forced 429s, a requests-per-minute
//! limit, random errors, latency with jitter, slow answers after applied writes) and the request
//! statistics served by `/admin/stats`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Faults applied to every `/api/v1/...` request (and, when OAuth is configured, to the token
/// endpoint), before authentication, checked in this order: `failNext` (`failNextToken` at the
/// token endpoint), `down`/`outage` (503), `rateLimited` (429), `requestsPerMinute` (429),
/// `errorRate`; then `latencyMs` plus up to `latencyJitterMs` is waited out. Separately,
/// `timeoutAfterApply` slows the answer to writes after they are applied.
///
/// Every field is optional in JSON; the defaults inject nothing.
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
    /// Extra delay, uniform in `0..=latency_jitter_ms` milliseconds, added to `latency_ms`.
    pub latency_jitter_ms: u64,
    /// Answer the next `count` `/api/v1` requests with a chosen status (checked first).
    pub fail_next: FailNext,
    /// Like `fail_next`, for the OAuth token endpoint only (`fail_next` does not touch it).
    pub fail_next_token: FailNext,
    /// Apply the next `count` writes normally, then delay their answers.
    pub timeout_after_apply: TimeoutAfterApply,
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
            latency_jitter_ms: 0,
            fail_next: FailNext::default(),
            fail_next_token: FailNext::default(),
            timeout_after_apply: TimeoutAfterApply::default(),
        }
    }
}

/// Longest delay accepted for `latencyJitterMs` and `timeoutAfterApply.delayMs` (ten minutes).
pub(crate) const MAX_DELAY_MS: u64 = 600_000;

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
        for (name, fail) in [
            ("failNext", &self.fail_next),
            ("failNextToken", &self.fail_next_token),
        ] {
            if !(400..=599).contains(&fail.status) {
                return Err(format!(
                    "{name}.status {} is not between 400 and 599",
                    fail.status
                ));
            }
        }
        if self.latency_jitter_ms > MAX_DELAY_MS {
            return Err(format!(
                "latencyJitterMs {} is more than {MAX_DELAY_MS}",
                self.latency_jitter_ms
            ));
        }
        let timeout = &self.timeout_after_apply;
        if timeout.delay_ms > MAX_DELAY_MS {
            return Err(format!(
                "timeoutAfterApply.delayMs {} is more than {MAX_DELAY_MS}",
                timeout.delay_ms
            ));
        }
        if timeout.count > 0 && timeout.delay_ms == 0 {
            return Err("timeoutAfterApply.delayMs must be positive when count is set".into());
        }
        Ok(())
    }
}

/// Scripted failures: the next `count` requests answer `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FailNext {
    /// How many more requests to fail; decremented by each failure.
    pub count: u32,
    /// Status to answer (400–599; anything else means 503), with the usual JSON error body.
    pub status: u16,
    /// If set, the failures carry `Retry-After` with this many seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
}

impl Default for FailNext {
    fn default() -> FailNext {
        FailNext {
            count: 0,
            status: 503,
            retry_after_seconds: None,
        }
    }
}

/// Slow answers after applied writes: for the next `count` write requests (`POST`/`PUT` on a
/// write route under `/api/v1/hotels/`) that pass faults and authentication, the write is handled
/// normally and the answer is then held back `delay_ms` milliseconds, so a client with a shorter
/// timeout gives up although the write happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct TimeoutAfterApply {
    /// How many more writes to slow down; decremented by each.
    pub count: u32,
    /// Delay after the write is applied, in milliseconds.
    pub delay_ms: u64,
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

/// Which kind of request a fault check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// An `/api/v1` request: `failNext` applies.
    Api,
    /// A call to the OAuth token endpoint: `failNextToken` applies.
    Token,
}

/// Why a request was refused by a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// `failNext`/`failNextToken`: this status, with `Retry-After` if set.
    Scripted {
        status: u16,
        retry_after_seconds: Option<u64>,
    },
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
    /// rejection. Order: scripted failure, down/outage, forced 429, per-minute limit, random
    /// error.
    pub fn check(
        &mut self,
        now_utc: DateTime<Utc>,
        now: Instant,
        target: Target,
    ) -> Result<Duration, Rejection> {
        let f = &mut self.faults;
        let scripted = match target {
            Target::Api => &mut f.fail_next,
            Target::Token => &mut f.fail_next_token,
        };
        if scripted.count > 0 {
            scripted.count -= 1;
            return Err(Rejection::Scripted {
                status: scripted.status,
                retry_after_seconds: scripted.retry_after_seconds,
            });
        }
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
        let jitter = match f.latency_jitter_ms {
            0 => 0,
            max => rand::random_range(0..=max),
        };
        Ok(Duration::from_millis(f.latency_ms.saturating_add(jitter)))
    }

    /// For a write that passed the gate: the delay to add after applying it, if
    /// `timeoutAfterApply` still has a count left (which this decrements).
    pub fn take_write_delay(&mut self) -> Option<Duration> {
        let t = &mut self.faults.timeout_after_apply;
        if t.count == 0 {
            return None;
        }
        t.count -= 1;
        Some(Duration::from_millis(t.delay_ms))
    }
}

/// Request statistics since start or the last reset.
///
/// The OAuth token endpoint counts only while OAuth is configured; it then counts like an API
/// route in `totalRequests`, `byRoute`, `rejected` (faults, and client authentication failures)
/// and the overall max-rate figures, but never in the per-hotel figures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Every `/api/v1` request (and token endpoint call) that arrived, including rejected ones.
    pub total_requests: u64,
    /// Arrivals by `"METHOD /matched/{path}"`.
    pub by_route: BTreeMap<String, u64>,
    /// Arrivals by hotel id (known hotels only).
    pub by_hotel: BTreeMap<String, u64>,
    /// Arrivals by hotel id, then `"METHOD /matched/{path}"` (known hotels only).
    pub by_hotel_route: BTreeMap<String, BTreeMap<String, u64>>,
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
    /// Most accepted `/api/v1` requests for each hotel in any sliding one-second window.
    pub max_requests_in_any_second_by_hotel: BTreeMap<String, u64>,
    /// Calls to the token endpoint, whatever their outcome.
    pub token_requests: u64,
    /// Tokens granted.
    pub tokens_issued: u64,
}

/// Counts of refused requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    /// Missing or wrong credentials: `x-api-key`, bearer token or `x-app-key` on `/api/v1`, and
    /// client credentials or `x-app-key` at the token endpoint.
    pub unauthorized: u64,
    /// Refused by an injected fault.
    pub faults: u64,
}

/// Arrival times of accepted requests kept for the rate figures; beyond this the oldest are
/// dropped, so the per-minute figure saturates at this value.
const MAX_TIMESTAMPS: usize = 100_000;

/// Stats plus the timestamps of the last minute of accepted requests, and of the last second
/// per hotel.
#[derive(Debug, Default)]
pub(crate) struct StatsState {
    pub stats: Stats,
    accepted: VecDeque<Instant>,
    accepted_by_hotel: HashMap<String, VecDeque<Instant>>,
}

const SECOND: Duration = Duration::from_secs(1);

impl StatsState {
    /// Counts an arriving `/api/v1` request; `hotel` must be a known hotel.
    pub fn arrived(&mut self, route: String, hotel: Option<String>) {
        self.stats.total_requests += 1;
        if let Some(hotel) = hotel {
            let by_route = self.stats.by_hotel_route.entry(hotel.clone()).or_default();
            *by_route.entry(route.clone()).or_default() += 1;
            *self.stats.by_hotel.entry(hotel).or_default() += 1;
        }
        *self.stats.by_route.entry(route).or_default() += 1;
    }

    /// Counts a call to the token endpoint.
    pub fn token_request(&mut self, route: String) {
        self.stats.token_requests += 1;
        self.arrived(route, None);
    }

    /// Counts a request that passed faults and auth, and updates the max-rate figures
    /// (`hotel`, a known hotel, for the per-hotel one).
    pub fn accepted(&mut self, now: Instant, hotel: Option<&str>) {
        if let Some(hotel) = hotel {
            let window = match self.accepted_by_hotel.get_mut(hotel) {
                Some(window) => window,
                None => self.accepted_by_hotel.entry(hotel.to_owned()).or_default(),
            };
            while window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= SECOND)
            {
                window.pop_front();
            }
            if window.len() >= MAX_TIMESTAMPS {
                window.pop_front();
            }
            window.push_back(now);
            let in_second = window.len() as u64;
            let max = self
                .stats
                .max_requests_in_any_second_by_hotel
                .entry(hotel.to_owned())
                .or_default();
            *max = (*max).max(in_second);
        }
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
                .partition_point(|t| now.duration_since(*t) >= SECOND);
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
        let api = Target::Api;
        assert!(state.check(now, t0, api).is_ok());
        assert!(state.check(now, t0 + Duration::from_secs(10), api).is_ok());
        let refused = state.check(now, t0 + Duration::from_secs(20), api);
        assert_eq!(
            refused,
            Err(Rejection::RateLimited {
                retry_after_seconds: 40
            })
        );
        assert!(state.check(now, t0 + Duration::from_secs(60), api).is_ok());
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
            stats.accepted(t0 + Duration::from_millis(ms), Some("H1"));
        }
        // 900..1800 holds five requests inside one second.
        assert_eq!(stats.stats.max_requests_in_any_second, 5);
        assert_eq!(stats.stats.max_requests_in_any_minute, 7);
        stats.accepted(t0 + Duration::from_secs(70), None);
        assert_eq!(stats.stats.max_requests_in_any_minute, 7);
        assert_eq!(
            stats.stats.max_requests_in_any_second_by_hotel,
            BTreeMap::from([("H1".to_owned(), 5)])
        );
    }

    #[test]
    fn per_hotel_rates_are_separate_and_windows_stay_small() {
        let mut stats = StatsState::default();
        let t0 = Instant::now();
        for i in 0..3 {
            stats.accepted(t0 + Duration::from_millis(i * 10), Some("A"));
        }
        for i in 0..5 {
            stats.accepted(t0 + Duration::from_millis(i * 10), Some("B"));
        }
        // One request a second for a while: the window never holds more than one.
        for i in 2..20 {
            stats.accepted(t0 + Duration::from_secs(i), Some("A"));
        }
        let by_hotel = &stats.stats.max_requests_in_any_second_by_hotel;
        assert_eq!((by_hotel["A"], by_hotel["B"]), (3, 5));
        assert_eq!(stats.stats.max_requests_in_any_second, 8);
        assert_eq!(stats.accepted_by_hotel["A"].len(), 1);
        stats.reset();
        assert!(stats.stats.max_requests_in_any_second_by_hotel.is_empty());
    }

    #[test]
    fn fail_next_comes_first_and_counts_down_per_target() {
        let mut state = FaultState::default();
        state.set(Faults {
            down: true,
            fail_next: FailNext {
                count: 2,
                status: 502,
                retry_after_seconds: Some(3),
            },
            fail_next_token: FailNext {
                count: 1,
                status: 500,
                retry_after_seconds: None,
            },
            ..Faults::default()
        });
        let (now, t0) = (Utc::now(), Instant::now());
        let scripted = Err(Rejection::Scripted {
            status: 502,
            retry_after_seconds: Some(3),
        });
        assert_eq!(state.check(now, t0, Target::Api), scripted);
        assert_eq!(
            state.check(now, t0, Target::Token),
            Err(Rejection::Scripted {
                status: 500,
                retry_after_seconds: None
            })
        );
        assert_eq!(state.check(now, t0, Target::Api), scripted);
        assert_eq!(
            state.check(now, t0, Target::Api),
            Err(Rejection::Unavailable)
        );
        assert_eq!(
            state.check(now, t0, Target::Token),
            Err(Rejection::Unavailable)
        );
        assert_eq!(state.faults.fail_next.count, 0);
    }

    #[test]
    fn jitter_stays_within_bounds_and_varies() {
        let mut state = FaultState::default();
        state.set(Faults {
            latency_ms: 100,
            latency_jitter_ms: 1000,
            ..Faults::default()
        });
        let (now, t0) = (Utc::now(), Instant::now());
        let delays: Vec<Duration> = (0..200)
            .map(|_| state.check(now, t0, Target::Api).unwrap())
            .collect();
        assert!(delays.iter().all(|d| (100..=1100).contains(&d.as_millis())));
        assert!(delays.iter().any(|d| *d != delays[0]), "jitter varies");
    }

    #[test]
    fn write_delays_are_taken_once_each() {
        let mut state = FaultState::default();
        assert_eq!(state.take_write_delay(), None);
        state.set(Faults {
            timeout_after_apply: TimeoutAfterApply {
                count: 2,
                delay_ms: 250,
            },
            ..Faults::default()
        });
        let delay = Some(Duration::from_millis(250));
        assert_eq!(state.take_write_delay(), delay);
        assert_eq!(state.take_write_delay(), delay);
        assert_eq!(state.take_write_delay(), None);
    }

    #[test]
    fn new_faults_are_validated() {
        let bad = |json: &str| {
            serde_json::from_str::<Faults>(json)
                .map_err(|e| e.to_string())
                .and_then(|f| f.validate())
                .unwrap_err()
        };
        assert!(bad(r#"{"failNext": {"count": 1, "status": 302}}"#).contains("failNext.status"));
        assert!(bad(r#"{"failNextToken": {"status": 600}}"#).contains("failNextToken"));
        assert!(bad(r#"{"failNext": {"count": -1}}"#).contains("invalid value"));
        assert!(bad(r#"{"failNext": {"cnt": 1}}"#).contains("unknown field"));
        assert!(bad(r#"{"latencyJitterMs": 600001}"#).contains("latencyJitterMs"));
        assert!(bad(r#"{"timeoutAfterApply": {"count": 1}}"#).contains("positive"));
        assert!(
            bad(r#"{"timeoutAfterApply": {"count": 1, "delayMs": 700000}}"#).contains("delayMs")
        );
        let ok: Faults = serde_json::from_str(
            r#"{"failNext": {"count": 2, "status": 429, "retryAfterSeconds": 1}, "timeoutAfterApply": {"count": 1, "delayMs": 10}, "latencyJitterMs": 5}"#,
        )
        .unwrap();
        assert_eq!(ok.validate(), Ok(()));
        let defaults = serde_json::to_value(Faults::default()).unwrap();
        assert_eq!(
            defaults["failNext"],
            serde_json::json!({"count": 0, "status": 503})
        );
        assert_eq!(
            defaults["timeoutAfterApply"],
            serde_json::json!({"count": 0, "delayMs": 0})
        );
    }
}
