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
//! # Time zones
//!
//! A schedule is read on the hotel's wall clock: `0 6 * * *` is 06:00 at the hotel, whatever the
//! host's zone. Cron walks the hotel's local calendar; each local fire is then placed on the UTC
//! timeline with the zone's rules. Where a clock change makes that ambiguous:
//!
//! - **Spring forward** (local times that never happen, such as 02:30 on the night clocks jump
//!   from 02:00 to 03:00): the fire runs once, at the first instant after the jump. Several
//!   skipped fires (`*/15` between 02:00 and 03:00) run as one.
//! - **Fall back** (local times that happen twice): a schedule that names its hours (`30 1 * *
//!   *`, `0 9,17 * * *`) runs once, at the first occurrence, never again an hour later; one
//!   whose hour field is `*` (`*/5 * * * *`) keeps running every interval of real time through
//!   the repeated hour, so a five-minute sync never pauses for an hour.
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

use crate::zone::HotelZone;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::tz::AmbiguousOffset;
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

/// A parsed five-field cron schedule (minute hour day-of-month month day-of-week), read on a
/// hotel's wall clock (UTC unless [`Schedule::in_zone`] says otherwise).
#[derive(Clone, Debug)]
pub struct Schedule {
    expression: String,
    cron: Cron,
    max_spread: Option<Duration>,
    zone: HotelZone,
    /// The hour field is `*` (or `*/n`): the schedule is an interval, which keeps running
    /// through a repeated hour instead of firing once per local time (module docs).
    every_hour: bool,
}

/// Local fires examined per search before giving up. A fall-back hour of a once-per-local-time
/// schedule skips at most 60 per-minute fires; a year of searching is croner's own business.
const MAX_LOCAL_STEPS: usize = 1_000;

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
        let hour = expression.split_whitespace().nth(1).unwrap_or("*");
        Ok(Schedule {
            expression: expression.to_owned(),
            cron,
            max_spread: None,
            zone: HotelZone::utc(),
            every_hour: hour.starts_with('*'),
        })
    }

    /// Reads the schedule on `zone`'s wall clock.
    pub fn in_zone(mut self, zone: HotelZone) -> Schedule {
        self.zone = zone;
        self
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
        let never = || ScheduleError::NeverFires {
            expression: self.expression.clone(),
            after,
        };
        // Croner walks the local calendar as if it were UTC (a calendar without clock changes);
        // `instants` then applies the zone's rules. The walk starts early enough to see a
        // repeated hour's second pass: at `after` read on the smallest offset near it.
        let mut local = self.local(after, Extreme::Smallest).ok_or_else(never)?;
        let mut best: Option<DateTime<Utc>> = None;
        for _ in 0..MAX_LOCAL_STEPS {
            local = match self.cron.find_next_occurrence(&local.and_utc(), false) {
                Ok(next) => next.naive_utc(),
                Err(_) => break,
            };
            let instants = self.instants(local);
            // A later local time's first instant is never earlier than this one's: once it is
            // past the best found, nothing later can beat it.
            if let (Some(first), Some(b)) = (instants.first(), best)
                && *first >= b
            {
                break;
            }
            if let Some(t) = instants.into_iter().find(|t| *t > after) {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        best.ok_or_else(never)
    }

    /// The last cron fire at or before `at`, if any (the mirror of [`Schedule::next_cron_fire`]).
    fn previous_cron_fire(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut local = self.local(at, Extreme::Largest)?;
        let mut inclusive = true;
        let mut best: Option<DateTime<Utc>> = None;
        for _ in 0..MAX_LOCAL_STEPS {
            local = match self
                .cron
                .find_previous_occurrence(&local.and_utc(), inclusive)
            {
                Ok(previous) => previous.naive_utc(),
                Err(_) => break,
            };
            inclusive = false;
            let instants = self.instants(local);
            if let (Some(last), Some(b)) = (instants.last(), best)
                && *last <= b
            {
                break;
            }
            if let Some(t) = instants.into_iter().rev().find(|t| *t <= at) {
                best = Some(best.map_or(t, |b| b.max(t)));
            }
        }
        best
    }

    /// The wall-clock reading of instant `t` on the smallest (or largest) offset the zone has
    /// within a day either side of `t`: the earliest (or latest) local time whose fire could
    /// still fall after (or before) `t` when a repeated hour is near.
    fn local(&self, t: DateTime<Utc>, extreme: Extreme) -> Option<NaiveDateTime> {
        let ts = jiff::Timestamp::from_millisecond(t.timestamp_millis()).ok()?;
        let tz = self.zone.tz();
        let day = jiff::SignedDuration::from_hours(24);
        let mut offset = tz.to_offset(ts);
        let near = [
            tz.following(ts).next().map(|tr| tr.timestamp()),
            tz.preceding(ts).next().map(|tr| tr.timestamp()),
        ];
        for transition in near.into_iter().flatten() {
            if transition.duration_since(ts).abs() > day {
                continue;
            }
            // The offsets on both sides of a transition within a day.
            for side in [
                transition,
                transition
                    .checked_sub(jiff::SignedDuration::from_secs(1))
                    .ok()?,
            ] {
                let o = tz.to_offset(side);
                offset = match extreme {
                    Extreme::Smallest => offset.min(o),
                    Extreme::Largest => offset.max(o),
                };
            }
        }
        let civil = offset.to_datetime(ts);
        chrono::NaiveDate::from_ymd_opt(
            i32::from(civil.year()),
            u32::try_from(civil.month()).ok()?,
            u32::try_from(civil.day()).ok()?,
        )?
        .and_hms_opt(
            u32::try_from(civil.hour()).ok()?,
            u32::try_from(civil.minute()).ok()?,
            u32::try_from(civil.second()).ok()?,
        )
    }

    /// The instants, in order, at which a fire at wall-clock time `local` runs: one, none (never
    /// in practice), or two in a repeated hour for an every-hour schedule (module docs).
    fn instants(&self, local: NaiveDateTime) -> Vec<DateTime<Utc>> {
        let from_ts = |ts: jiff::Timestamp| DateTime::from_timestamp_millis(ts.as_millisecond());
        let Some(civil) = civil_of(local) else {
            return Vec::new();
        };
        let tz = self.zone.tz();
        let at_offset =
            |offset: jiff::tz::Offset| offset.to_timestamp(civil).ok().and_then(from_ts);
        match tz.to_ambiguous_timestamp(civil).offset() {
            AmbiguousOffset::Unambiguous { offset } => at_offset(offset).into_iter().collect(),
            AmbiguousOffset::Gap { after, .. } => {
                // The wall clock jumped over `local`: run at the jump, the first instant after
                // the instant that `local` would have been on the later offset's clock.
                let Some(before_jump) = after.to_timestamp(civil).ok() else {
                    return Vec::new();
                };
                tz.following(before_jump)
                    .next()
                    .and_then(|t| from_ts(t.timestamp()))
                    .into_iter()
                    .collect()
            }
            AmbiguousOffset::Fold { before, after } => {
                let first = at_offset(before);
                let second = at_offset(after).filter(|_| self.every_hour);
                first.into_iter().chain(second).collect()
            }
        }
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
        if let Some(prev) = self.previous_cron_fire(after) {
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

/// Which end of the offsets near an instant [`Schedule::local`] reads it on.
#[derive(Clone, Copy)]
enum Extreme {
    Smallest,
    Largest,
}

/// `local` as jiff's civil date-time.
fn civil_of(local: NaiveDateTime) -> Option<jiff::civil::DateTime> {
    use chrono::{Datelike, Timelike};
    jiff::civil::DateTime::new(
        i16::try_from(local.year()).ok()?,
        i8::try_from(local.month()).ok()?,
        i8::try_from(local.day()).ok()?,
        i8::try_from(local.hour()).ok()?,
        i8::try_from(local.minute()).ok()?,
        i8::try_from(local.second()).ok()?,
        0,
    )
    .ok()
}

/// A stable fraction in [0, 1) of a stream's window, as a 64-bit fixed-point number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jitter(u64);

/// The first 8 bytes of SHA-256(`a` ‖ 0 ‖ `b`), big-endian: a hash of two names that is the
/// same on every host, across restarts and Rust versions (unlike `DefaultHasher`).
pub fn stable_hash(a: &str, b: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(a.as_bytes())
        .chain_update([0u8])
        .chain_update(b.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

impl Jitter {
    /// The jitter of `stream` at `hotel`: [`stable_hash`] of the two names.
    pub fn for_stream(hotel: &str, stream: &str) -> Jitter {
        Jitter(stable_hash(hotel, stream))
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

    fn in_zone(expression: &str, zone: &str) -> Schedule {
        Schedule::parse(expression)
            .expect("parse")
            .in_zone(HotelZone::parse(zone).expect("zone"))
    }

    /// Every cron fire from `from` up to `to`.
    fn fires(s: &Schedule, from: &str, to: &str) -> Vec<DateTime<Utc>> {
        let (mut at, to) = (t(from), t(to));
        let mut out = Vec::new();
        loop {
            at = s.next_cron_fire(at).expect("fire");
            if at > to {
                return out;
            }
            out.push(at);
        }
    }

    #[test]
    fn six_oclock_is_six_at_the_hotel() {
        let tokyo = in_zone("0 6 * * *", "Asia/Tokyo");
        assert_eq!(
            tokyo.next_cron_fire(t("2026-12-01T12:00:00Z")).unwrap(),
            t("2026-12-01T21:00:00Z") // 06:00 JST on Dec 2
        );
        let la = in_zone("0 6 * * *", "America/Los_Angeles");
        assert_eq!(
            la.next_cron_fire(t("2026-12-01T12:00:00Z")).unwrap(),
            t("2026-12-01T14:00:00Z") // 06:00 PST
        );
        // Kathmandu is UTC+05:45: a five-minute schedule still fires on the hotel's :00, :05 …
        let ktm = in_zone("*/5 * * * *", "Asia/Kathmandu");
        assert_eq!(
            ktm.next_cron_fire(t("2026-12-01T12:01:00Z")).unwrap(),
            t("2026-12-01T12:05:00Z")
        );
        assert_eq!(
            ktm.previous_cron_fire(t("2026-12-01T12:04:59Z")),
            Some(t("2026-12-01T12:00:00Z"))
        );
    }

    #[test]
    fn spring_forward_runs_skipped_times_once_at_the_jump() {
        // Europe/Prague, 2026-03-29: 02:00 CET (01:00 UTC) jumps to 03:00 CEST.
        let daily = in_zone("30 2 * * *", "Europe/Prague");
        assert_eq!(
            fires(&daily, "2026-03-28T00:00:00Z", "2026-03-30T23:00:00Z"),
            [
                t("2026-03-28T01:30:00Z"),
                t("2026-03-29T01:00:00Z"), // the jump
                t("2026-03-30T00:30:00Z"),
            ]
        );
        // Four quarter-hours of the skipped hour run as one, at the jump; none twice.
        let quarter = in_zone("*/15 * * * *", "Europe/Prague");
        assert_eq!(
            fires(&quarter, "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),
            [
                t("2026-03-29T00:45:00Z"), // 01:45 CET
                t("2026-03-29T01:00:00Z"), // 02:00-02:45 skipped, and 03:00 CEST
                t("2026-03-29T01:15:00Z"),
                t("2026-03-29T01:30:00Z"),
            ]
        );
    }

    #[test]
    fn fall_back_runs_named_hours_once_and_intervals_through() {
        // Europe/Prague, 2026-10-25: 03:00 CEST (01:00 UTC) falls back to 02:00 CET.
        let daily = in_zone("30 2 * * *", "Europe/Prague");
        assert_eq!(
            fires(&daily, "2026-10-24T00:00:00Z", "2026-10-26T23:00:00Z"),
            [
                t("2026-10-24T00:30:00Z"),
                t("2026-10-25T00:30:00Z"), // first 02:30 (CEST) only
                t("2026-10-26T01:30:00Z"),
            ]
        );
        // Every 30 minutes of real time through the repeated hour.
        let half = in_zone("*/30 * * * *", "Europe/Prague");
        assert_eq!(
            fires(&half, "2026-10-24T23:45:00Z", "2026-10-25T02:00:00Z"),
            [
                t("2026-10-25T00:00:00Z"),
                t("2026-10-25T00:30:00Z"),
                t("2026-10-25T01:00:00Z"),
                t("2026-10-25T01:30:00Z"),
                t("2026-10-25T02:00:00Z"),
            ]
        );
        // Jitter windows stay inside the real gaps: never a doubled run.
        let j = Jitter(u64::MAX);
        let mut at = t("2026-10-24T23:00:00Z");
        let mut jittered = Vec::new();
        for _ in 0..6 {
            at = half.next_fire(at, j).expect("fire");
            jittered.push(at);
        }
        for pair in jittered.windows(2) {
            assert!(pair[1] > pair[0]);
            assert!((pair[1] - pair[0]).num_minutes() <= 31, "{pair:?}");
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
