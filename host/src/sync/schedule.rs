//! Cron schedules, clocks and per-(hotel, stream) jitter.
//!
//! # Jitter
//!
//! With every hotel on `*/5 * * * *`, 1,000 hotels would all call their PMS at :00, :05, …
//! Instead each (hotel, stream) gets a stable fraction in [0, 1) from a SHA-256 of its names
//! (stable across restarts and Rust versions, unlike `DefaultHasher`), and fires that fraction
//! of the way into the gap between one cron fire and the next. The offset is measured per gap,
//! so it is always shorter than the gap it sits in: a hotel never fires twice in one gap or
//! skips one, even for uneven schedules such as `0 9,17 * * *`. An optional cap keeps daily
//! schedules close to their hour.
//!
//! # Clocks
//!
//! Cron needs wall-clock time, the waiting needs a timer. [`SystemClock`] uses `Utc::now()` and
//! re-checks it at least every minute so wall-clock steps (NTP) are followed. [`FakeClock`] is
//! anchored on tokio's clock: under `#[tokio::test(start_paused = true)]` time only moves when
//! the test advances it or every task is idle, and then it moves for the scheduler, the runners'
//! own `tokio::time::sleep`s and timeouts alike. That is why it is built on tokio's paused time
//! rather than as a free-standing fake with its own wakers: a runner that "takes 7 minutes"
//! is a plain `sleep`, and the whole test runs in milliseconds, deterministically.

use chrono::{DateTime, TimeDelta, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use sha2::{Digest, Sha256};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// Why a schedule cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// Not a valid five-field cron expression.
    #[error("invalid cron expression `{expression}`: {reason}")]
    Invalid {
        /// The expression as configured.
        expression: String,
        /// What the parser said.
        reason: String,
    },
    /// Valid, but never fires after the given time (e.g. `0 0 30 2 *`).
    #[error("cron expression `{expression}` never fires after {after}")]
    NeverFires {
        /// The expression as configured.
        expression: String,
        /// The time searched from.
        after: DateTime<Utc>,
    },
}

/// A parsed five-field cron schedule (minute hour day-of-month month day-of-week), in UTC.
#[derive(Clone, Debug)]
pub struct Schedule {
    expression: String,
    cron: Cron,
    max_spread: Option<Duration>,
}

impl Schedule {
    /// Parses `expression`. Seconds and year fields are refused: the config documents five
    /// fields, and a six-field string is more likely a mistake than a wish for second-level
    /// syncs.
    pub fn parse(expression: &str) -> Result<Schedule, ScheduleError> {
        let invalid = |reason: String| ScheduleError::Invalid {
            expression: expression.to_owned(),
            reason,
        };
        let fields = expression.split_whitespace().count();
        if fields != 5 {
            return Err(invalid(format!(
                "expected five fields (minute hour day month weekday), found {fields}"
            )));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(expression)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Schedule {
            expression: expression.to_owned(),
            cron,
            max_spread: None,
        })
    }

    /// Caps the jitter window (e.g. spread a daily 03:00 sync over 10 minutes, not 24 hours).
    pub fn with_max_spread(mut self, max_spread: Duration) -> Schedule {
        self.max_spread = Some(max_spread);
        self
    }

    /// The expression as configured.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The first cron fire strictly after `after`.
    pub fn next_cron_fire(&self, after: DateTime<Utc>) -> Result<DateTime<Utc>, ScheduleError> {
        self.cron
            .find_next_occurrence(&after, false)
            .map_err(|_| ScheduleError::NeverFires {
                expression: self.expression.clone(),
                after,
            })
    }

    /// The gap between the cron fire `fire` and the next one (the "interval" there).
    pub fn gap_after(&self, fire: DateTime<Utc>) -> Result<Duration, ScheduleError> {
        let next = self.next_cron_fire(fire)?;
        Ok((next - fire).to_std().unwrap_or_default())
    }

    /// The jitter window after `fire`: the gap, capped by `max_spread`.
    fn window_after(&self, fire: DateTime<Utc>) -> Result<Duration, ScheduleError> {
        let gap = self.gap_after(fire)?;
        Ok(self.max_spread.map_or(gap, |cap| gap.min(cap)))
    }

    /// The first jittered fire strictly after `after`: a cron fire plus `jitter` of its window.
    pub fn next_fire(
        &self,
        after: DateTime<Utc>,
        jitter: Jitter,
    ) -> Result<DateTime<Utc>, ScheduleError> {
        // The cron fire at or before `after` may still have its jittered fire ahead of us.
        if let Ok(prev) = self.cron.find_previous_occurrence(&after, true) {
            let at = prev + jitter.offset(self.window_after(prev)?);
            if at > after {
                return Ok(at);
            }
        }
        let mut fire = self.next_cron_fire(after)?;
        // Two rounds at most: the jittered time of the first fire after `after` is after it.
        loop {
            let at = fire + jitter.offset(self.window_after(fire)?);
            if at > after {
                return Ok(at);
            }
            fire = self.next_cron_fire(fire)?;
        }
    }
}

/// A stable fraction in [0, 1) of a stream's window, as a 64-bit fixed-point number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jitter(u64);

impl Jitter {
    /// The jitter of `stream` at `hotel`: the first 8 bytes of SHA-256("hotel\0stream").
    pub fn for_stream(hotel: &str, stream: &str) -> Jitter {
        let digest = Sha256::new()
            .chain_update(hotel.as_bytes())
            .chain_update([0u8])
            .chain_update(stream.as_bytes())
            .finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        Jitter(u64::from_be_bytes(first))
    }

    /// No jitter: fire on the cron time.
    pub const NONE: Jitter = Jitter(0);

    /// This fraction of `window`, in whole milliseconds, always `< window` (or zero).
    pub fn offset(self, window: Duration) -> TimeDelta {
        let ms = window.as_millis().min(u128::from(u64::MAX));
        // Multiply-shift maps the hash uniformly onto [0, ms) without modulo bias.
        let offset = (ms * u128::from(self.0)) >> 64;
        TimeDelta::milliseconds(i64::try_from(offset).unwrap_or(i64::MAX))
    }
}

/// A boxed future, for object-safe async traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The scheduler's view of time.
pub trait Clock: Send + Sync + 'static {
    /// The current wall-clock time.
    fn now(&self) -> DateTime<Utc>;
    /// Resolves at (or soon after) `at`; immediately if `at` is past.
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()>;
}

/// Real time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Sleep in slices of at most a minute and look at the wall clock again, so a
            // clock step does not leave us sleeping towards a stale target.
            loop {
                let left = (at - Utc::now()).to_std().unwrap_or_default();
                if left.is_zero() {
                    return;
                }
                tokio::time::sleep(left.min(Duration::from_secs(60))).await;
            }
        })
    }
}

/// A clock that starts at a chosen wall time and advances with tokio's clock: with tokio's time
/// paused (`start_paused = true`, `tokio::time::advance`) it is fully controlled by the test.
/// See the module docs for why.
#[derive(Clone, Copy, Debug)]
pub struct FakeClock {
    start: DateTime<Utc>,
    anchor: tokio::time::Instant,
}

impl FakeClock {
    /// A clock reading `start` now. Must be called inside a tokio runtime.
    pub fn new(start: DateTime<Utc>) -> FakeClock {
        FakeClock {
            start,
            anchor: tokio::time::Instant::now(),
        }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now() - self.anchor;
        self.start + TimeDelta::from_std(elapsed).unwrap_or(TimeDelta::MAX)
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let offset = (at - self.start).to_std().unwrap_or_default();
        let deadline = self.anchor + offset;
        Box::pin(tokio::time::sleep_until(deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn bad_expression_names_it() {
        for bad in [
            "*/5 * * *",
            "61 * * * *",
            "* * * * * *",
            "every five minutes",
        ] {
            let err = Schedule::parse(bad).expect_err(bad);
            let msg = err.to_string();
            assert!(msg.contains(&format!("`{bad}`")), "{msg}");
        }
    }

    #[test]
    fn next_cron_fire_and_gap() {
        let s = Schedule::parse("*/5 * * * *").expect("parse");
        let after = t("2026-05-01T10:02:30Z");
        assert_eq!(
            s.next_cron_fire(after).expect("next"),
            t("2026-05-01T10:05:00Z")
        );
        assert_eq!(
            s.gap_after(t("2026-05-01T10:05:00Z")).expect("gap"),
            Duration::from_secs(300)
        );
    }

    #[test]
    fn thousand_hotels_spread_over_the_interval() {
        let s = Schedule::parse("*/5 * * * *").expect("parse");
        let start = t("2026-05-01T10:00:00Z");
        let mut per_second = vec![0u32; 300];
        for i in 0..1000 {
            let j = Jitter::for_stream(&format!("hotel-{i:04}"), "arrivals");
            let fire = s.next_fire(start, j).expect("fire");
            let offset = (fire - start).num_milliseconds();
            assert!((0..=300_000).contains(&offset), "{offset}");
            // `fire` is in (start, start + 300 s]; bucket by whole seconds.
            let bucket = usize::try_from((offset - 1).max(0) / 1000).unwrap_or(0);
            per_second[bucket.min(299)] += 1;
        }
        let max = per_second.iter().copied().max().unwrap_or(0);
        // Hash placement is uniform but random: 1,000 fires over 300 seconds is 3.3 a second
        // on average and, by the balls-into-bins bound, about 10-12 in the busiest second.
        // 15 still proves the point: no pile-up like 1,000 at :00.
        assert!(max <= 15, "a second has {max} fires");
        // Every minute of the interval gets a fair share (200 expected).
        for minute in per_second.chunks(60) {
            let n: u32 = minute.iter().sum();
            assert!((140..=260).contains(&n), "{n} fires in a minute");
        }
    }

    #[test]
    fn offset_stays_inside_each_gap() {
        let s = Schedule::parse("0 9,17 * * *").expect("parse");
        let j = Jitter(u64::MAX); // the largest fraction
        let after = t("2026-05-01T09:00:00Z");
        let fire = s.next_fire(after, j).expect("fire");
        // 09:00 + just under 8 h: still before 17:00.
        assert!(fire > after && fire < t("2026-05-01T17:00:00Z"), "{fire}");
        let next = s.next_fire(fire, j).expect("fire");
        assert!(next > t("2026-05-01T17:00:00Z") && next < t("2026-05-02T09:00:00Z"));
        let capped = Schedule::parse("0 3 * * *")
            .expect("parse")
            .with_max_spread(Duration::from_secs(600));
        let fire = capped
            .next_fire(t("2026-05-01T03:00:00Z"), j)
            .expect("fire");
        assert!(fire < t("2026-05-01T03:10:00Z"), "{fire}");
    }

    #[test]
    fn one_fire_per_interval() {
        let s = Schedule::parse("*/5 * * * *").expect("parse");
        let j = Jitter::for_stream("h1", "roomStatus");
        let mut at = t("2026-05-01T10:00:00Z");
        let mut fires = Vec::new();
        for _ in 0..4 {
            at = s.next_fire(at, j).expect("fire");
            fires.push(at);
        }
        for pair in fires.windows(2) {
            assert_eq!((pair[1] - pair[0]).num_seconds(), 300);
        }
    }

    #[test]
    fn never_fires_is_an_error() {
        let s = Schedule::parse("0 0 30 2 *").expect("parse");
        let err = s
            .next_fire(t("2026-05-01T10:00:00Z"), Jitter::NONE)
            .expect_err("Feb 30");
        assert!(err.to_string().contains("`0 0 30 2 *`"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn fake_clock_follows_paused_time() {
        let clock = FakeClock::new(t("2026-05-01T10:00:00Z"));
        // `tokio::time::advance` needs tokio's `test-util` feature, a dev-dependency only.
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(clock.now(), t("2026-05-01T10:01:30Z"));
        // Sleeping auto-advances paused time to the deadline.
        clock.sleep_until(t("2026-05-01T10:05:00Z")).await;
        assert_eq!(clock.now(), t("2026-05-01T10:05:00Z"));
    }
}
