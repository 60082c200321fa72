//! The sync scheduler: one tokio task per enabled (hotel, stream), firing on the stream's cron
//! schedule plus the hotel's jitter, calling a [`SyncRunner`], feeding the result to the
//! [`ChangeTracker`] and keeping per-stream status for `/v1/hotels/{hotel}/health`.
//!
//! Guarantees:
//! - never two runs of the same (hotel, stream) at once: each stream's task runs inline (the
//!   next fire is only computed after the run), and [`Scheduler::run_now`] takes the same
//!   per-stream lock. Fires that pass while a run is still going are skipped, counted
//!   (`skippedOverlaps`) and logged, not queued: queuing would make a slow PMS fall further
//!   behind;
//! - at most `max_concurrent` runs at once over all hotels (a semaphore), so 1,000 hotels do
//!   not open 4,000 PMS calls together; waiting for a permit is not counted in `durationMs`;
//! - disabled streams never run (they still appear in the status, as disabled);
//! - with several hosts on one state database, each scheduled fire runs on exactly one of them:
//!   every host keeps the same timers (schedules and jitter are the same everywhere) and, at a
//!   fire, asks its [`FireClaims`] whether the fire is its own to run (`cluster.rs` implements
//!   it). A host that dies simply stops claiming; the others claim its fires.
//!
//! The hotel's rate budget and the cache warming belong to the runner: its PMS calls go through
//! the egress rate limiter like any other call, and it stores what it fetched in the cache.
//!
//! Shutdown ([`Scheduler::shutdown`]) stops the timers and drops runs in flight: syncs only read,
//! so an interrupted one is simply done again at the next start.

use super::StreamKind;
use super::schedule::{BoxFuture, Clock, Jitter, Schedule, ScheduleError};
use crate::config::{SyncSettings, SyncStream};
use crate::events::diff::SyncItems;
use crate::events::tracker::ChangeTracker;
pub use crate::report::{RunOutcome, StreamStatus};
use crate::zone::HotelZone;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// Why a sync run failed, as the runner reports it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyncFailure {
    /// The PMS did not answer (or answered 5xx): gives `pms.unavailable` once per outage.
    #[error("the PMS is unavailable: {0}")]
    Unavailable(String),
    /// Any other failure (credentials, adapter error, …).
    #[error("{0}")]
    Failed(String),
}

/// Performs one sync run: fetches the stream from the PMS (through the egress limiter, so it
/// takes its place in the hotel's rate budget), warms the cache with the result, and returns
/// what it fetched: [`SyncItems::Reservations`] for arrivals, departures and in-house,
/// [`SyncItems::Rooms`] for room status. `look_ahead_days` is the stream's config value; `now`
/// is the run's start on the scheduler's clock, from which the hotel-local dates are computed.
pub trait SyncRunner: Send + Sync + 'static {
    /// One run; see the trait docs.
    fn run<'a>(
        &'a self,
        hotel: &'a str,
        stream: StreamKind,
        look_ahead_days: u32,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<SyncItems, SyncFailure>>;
}

/// Why the scheduler could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    /// A stream's cron expression is invalid.
    #[error("hotel `{hotel}`, sync stream `{stream}`: {source}")]
    Schedule {
        /// The hotel.
        hotel: String,
        /// The stream.
        stream: StreamKind,
        /// The parse error (names the expression).
        #[source]
        source: ScheduleError,
    },
    /// `run_now` for a stream that is not configured or is disabled.
    #[error("hotel `{hotel}` has no enabled sync stream `{stream}`")]
    UnknownStream {
        /// The hotel.
        hotel: String,
        /// The stream.
        stream: StreamKind,
    },
    /// `run_now` while a run of the same stream is in progress.
    #[error("a `{stream}` sync of hotel `{hotel}` is already running")]
    Busy {
        /// The hotel.
        hotel: String,
        /// The stream.
        stream: StreamKind,
    },
}

/// One (hotel, stream) to schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamJob {
    /// Jack's hotel id.
    pub hotel: String,
    /// Which stream.
    pub stream: StreamKind,
    /// Its resolved config.
    pub config: SyncStream,
    /// The hotel's zone, whose wall clock the schedule is read on.
    pub zone: HotelZone,
}

/// The four jobs of a hotel from its resolved `sync` block (`guestProfiles: on_demand` is not a
/// stream: guests are fetched when asked, never bulk-synced), on the hotel's wall clock.
pub fn jobs_for_hotel(hotel: &str, sync: &SyncSettings, zone: &HotelZone) -> Vec<StreamJob> {
    [
        (StreamKind::Arrivals, &sync.arrivals),
        (StreamKind::Departures, &sync.departures),
        (StreamKind::InHouse, &sync.in_house),
        (StreamKind::RoomStatus, &sync.room_status),
    ]
    .into_iter()
    .map(|(stream, config)| StreamJob {
        hotel: hotel.to_owned(),
        stream,
        config: config.clone(),
        zone: zone.clone(),
    })
    .collect()
}

/// Whose a scheduled fire is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This host runs it.
    Run,
    /// Another host claimed it first (its node id).
    TakenBy(String),
}

/// Decides, across the hosts sharing one state, which host runs each scheduled fire, and keeps
/// the record of who ran what. A failure to reach the record should answer [`Claim::Run`]:
/// syncs only read, and a fire run twice costs PMS calls, while a fire nobody runs loses news.
pub trait FireClaims: Send + Sync + 'static {
    /// This host's node id.
    fn node(&self) -> &str;
    /// Claims the fire at `fire` of `stream` of `hotel` (every host computes the same `fire`).
    fn claim<'a>(
        &'a self,
        hotel: &'a str,
        stream: StreamKind,
        fire: DateTime<Utc>,
    ) -> BoxFuture<'a, Claim>;
    /// Records how the claimed fire at `fire` went.
    fn record<'a>(
        &'a self,
        hotel: &'a str,
        stream: StreamKind,
        fire: DateTime<Utc>,
        finished: DateTime<Utc>,
        outcome: &'a RunOutcome,
    ) -> BoxFuture<'a, ()>;
}

/// Scheduler tuning.
#[derive(Clone)]
pub struct SchedulerOptions {
    /// Most runs in progress at once, over all hotels. Default 64.
    pub max_concurrent: usize,
    /// Cap on the jitter window (see [`Schedule::with_max_spread`]). Default: none, the whole
    /// interval.
    pub max_spread: Option<Duration>,
    /// Who runs each fire when several hosts share the state. Default: none, every fire runs
    /// here (one host).
    pub claims: Option<Arc<dyn FireClaims>>,
}

impl std::fmt::Debug for SchedulerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerOptions")
            .field("max_concurrent", &self.max_concurrent)
            .field("max_spread", &self.max_spread)
            .field("claims", &self.claims.as_ref().map(|c| c.node().to_owned()))
            .finish()
    }
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        SchedulerOptions {
            max_concurrent: 64,
            max_spread: None,
            claims: None,
        }
    }
}

type StatusMap = BTreeMap<(String, StreamKind), StreamStatus>;

/// A cloneable, read-only view of the scheduler's status, for the API's state.
#[derive(Clone, Debug, Default)]
pub struct StatusHandle(Arc<Mutex<StatusMap>>);

impl StatusHandle {
    /// The hotel's streams, in [`StreamKind`] order; empty for an unknown hotel.
    pub fn status(&self, hotel: &str) -> Vec<StreamStatus> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.range(
            (hotel.to_owned(), StreamKind::Arrivals)..=(hotel.to_owned(), StreamKind::RoomStatus),
        )
        .map(|(_, s)| s.clone())
        .collect()
    }

    fn update(&self, hotel: &str, stream: StreamKind, f: impl FnOnce(&mut StreamStatus)) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = map.get_mut(&(hotel.to_owned(), stream)) {
            f(s);
        }
    }
}

struct Job {
    hotel: String,
    stream: StreamKind,
    look_ahead_days: u32,
    schedule: Schedule,
    jitter: Jitter,
    /// Held for the whole of a run: the "never two at once" lock.
    busy: Arc<tokio::sync::Mutex<()>>,
}

struct Inner {
    claims: Option<Arc<dyn FireClaims>>,
    runner: Arc<dyn SyncRunner>,
    tracker: Option<Arc<ChangeTracker>>,
    clock: Arc<dyn Clock>,
    permits: Semaphore,
    status: StatusHandle,
}

/// The running scheduler. See the module docs.
pub struct Scheduler {
    inner: Arc<Inner>,
    jobs: BTreeMap<(String, StreamKind), Arc<Job>>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("jobs", &self.jobs.len())
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// Parses every schedule (failing on the first invalid one, naming hotel, stream and
    /// expression) and starts one task per enabled job. Must be called inside a tokio runtime.
    /// `tracker` = None runs without change events (e.g. benchmarks of the runner alone).
    pub fn start(
        jobs: Vec<StreamJob>,
        runner: Arc<dyn SyncRunner>,
        tracker: Option<Arc<ChangeTracker>>,
        clock: Arc<dyn Clock>,
        options: SchedulerOptions,
    ) -> Result<Scheduler, SchedulerError> {
        let status = StatusHandle::default();
        let mut parsed = BTreeMap::new();
        {
            let mut map = status.0.lock().unwrap_or_else(PoisonError::into_inner);
            for job in jobs {
                map.insert(
                    (job.hotel.clone(), job.stream),
                    StreamStatus {
                        stream: job.stream,
                        enabled: job.config.enabled,
                        schedule: job.config.schedule.clone(),
                        last_started: None,
                        last_finished: None,
                        duration_ms: None,
                        outcome: None,
                        runs: 0,
                        skipped_overlaps: 0,
                        next_run: None,
                        running: false,
                        last_node: None,
                        run_elsewhere: 0,
                    },
                );
                if !job.config.enabled {
                    continue;
                }
                let mut schedule = Schedule::parse(&job.config.schedule)
                    .map_err(|source| SchedulerError::Schedule {
                        hotel: job.hotel.clone(),
                        stream: job.stream,
                        source,
                    })?
                    .in_zone(job.zone.clone());
                if let Some(cap) = options.max_spread {
                    schedule = schedule.with_max_spread(cap);
                }
                let key = (job.hotel.clone(), job.stream);
                parsed.insert(
                    key,
                    Arc::new(Job {
                        jitter: Jitter::for_stream(&job.hotel, job.stream.as_str()),
                        hotel: job.hotel,
                        stream: job.stream,
                        look_ahead_days: job.config.look_ahead_days,
                        schedule,
                        busy: Arc::new(tokio::sync::Mutex::new(())),
                    }),
                );
            }
        }
        let inner = Arc::new(Inner {
            claims: options.claims.clone(),
            runner,
            tracker,
            clock,
            permits: Semaphore::new(options.max_concurrent.max(1)),
            status,
        });
        let (shutdown, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for job in parsed.values() {
            tasks.spawn(job_loop(inner.clone(), job.clone(), shutdown.subscribe()));
        }
        Ok(Scheduler {
            inner,
            jobs: parsed,
            shutdown,
            tasks,
        })
    }

    /// The hotel's stream statuses (for the health endpoint).
    pub fn status(&self, hotel: &str) -> Vec<StreamStatus> {
        self.inner.status.status(hotel)
    }

    /// A handle on the statuses that outlives borrows of the scheduler.
    pub fn status_handle(&self) -> StatusHandle {
        self.inner.status.clone()
    }

    /// Runs one stream now, outside its schedule (manual trigger, benchmarks), unless a run of it
    /// is already in progress. Returns the outcome.
    pub async fn run_now(
        &self,
        hotel: &str,
        stream: StreamKind,
    ) -> Result<RunOutcome, SchedulerError> {
        let job = self.jobs.get(&(hotel.to_owned(), stream)).ok_or_else(|| {
            SchedulerError::UnknownStream {
                hotel: hotel.to_owned(),
                stream,
            }
        })?;
        let guard = job
            .busy
            .clone()
            .try_lock_owned()
            .map_err(|_| SchedulerError::Busy {
                hotel: hotel.to_owned(),
                stream,
            })?;
        Ok(execute(&self.inner, job, guard).await)
    }

    /// Stops every timer and drops the runs in flight (see the module docs).
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// One stream's timer loop.
async fn job_loop(inner: Arc<Inner>, job: Arc<Job>, mut shutdown: watch::Receiver<bool>) {
    let mut after = inner.clock.now();
    loop {
        let fire = match job.schedule.next_fire(after, job.jitter) {
            Ok(fire) => fire,
            Err(e) => {
                tracing::error!(hotel = %job.hotel, stream = %job.stream, error = %e, "sync stream stopped");
                return;
            }
        };
        inner
            .status
            .update(&job.hotel, job.stream, |s| s.next_run = Some(fire));
        tokio::select! {
            () = inner.clock.sleep_until(fire) => {}
            _ = shutdown.changed() => return,
        }
        after = fire;
        let Ok(guard) = job.busy.clone().try_lock_owned() else {
            // A manual run holds the lock: this fire is an overlap.
            skip(&inner, &job, 1);
            continue;
        };
        if let Some(claims) = &inner.claims {
            let claim = tokio::select! {
                claim = claims.claim(&job.hotel, job.stream, fire) => claim,
                _ = shutdown.changed() => return,
            };
            if let Claim::TakenBy(node) = claim {
                inner.status.update(&job.hotel, job.stream, |s| {
                    s.run_elsewhere += 1;
                    s.last_node = Some(node);
                });
                continue;
            }
        }
        tokio::select! {
            outcome = execute(&inner, &job, guard) => {
                if let Some(claims) = &inner.claims {
                    claims
                        .record(&job.hotel, job.stream, fire, inner.clock.now(), &outcome)
                        .await;
                }
            }
            _ = shutdown.changed() => return,
        }
        // Fires that went by during the run are skipped, not made up.
        let now = inner.clock.now();
        let mut missed = 0;
        while let Ok(next) = job.schedule.next_fire(after, job.jitter) {
            if next > now {
                break;
            }
            missed += 1;
            after = next;
        }
        if missed > 0 {
            skip(&inner, &job, missed);
        }
    }
}

fn skip(inner: &Inner, job: &Job, n: u64) {
    tracing::warn!(
        hotel = %job.hotel,
        stream = %job.stream,
        skipped = n,
        "sync run still in progress at its next fire; skipped"
    );
    inner
        .status
        .update(&job.hotel, job.stream, |s| s.skipped_overlaps += n);
}

/// One run, holding the stream's lock (`_busy`) throughout.
async fn execute(inner: &Inner, job: &Job, _busy: tokio::sync::OwnedMutexGuard<()>) -> RunOutcome {
    inner
        .status
        .update(&job.hotel, job.stream, |s| s.running = true);
    // The semaphore is never closed, so acquire only fails if it were; then run unthrottled
    // rather than not at all.
    let _permit = inner.permits.acquire().await.ok();
    let started = inner.clock.now();
    inner
        .status
        .update(&job.hotel, job.stream, |s| s.last_started = Some(started));
    let result = inner
        .runner
        .run(&job.hotel, job.stream, job.look_ahead_days, started)
        .await;
    let outcome = match result {
        Ok(items) => {
            let events = match &inner.tracker {
                Some(t) => t.observe(&job.hotel, job.stream, &items, started).await,
                None => Ok(Vec::new()),
            };
            match events {
                Ok(events) => RunOutcome::Ok {
                    items: items.len(),
                    events: events.len(),
                },
                Err(e) => RunOutcome::Error {
                    message: format!("fetched, but the change events failed: {e}"),
                },
            }
        }
        Err(failure) => {
            if let Some(t) = &inner.tracker {
                let unavailable = matches!(failure, SyncFailure::Unavailable(_));
                if let Err(e) = t
                    .failed(&job.hotel, unavailable, &failure.to_string(), started)
                    .await
                {
                    tracing::warn!(hotel = %job.hotel, error = %e, "cannot record pms.unavailable");
                }
            }
            RunOutcome::Error {
                message: failure.to_string(),
            }
        }
    };
    let finished = inner.clock.now();
    let duration_ms = (finished - started)
        .num_milliseconds()
        .max(0)
        .unsigned_abs();
    if let RunOutcome::Error { message } = &outcome {
        tracing::warn!(hotel = %job.hotel, stream = %job.stream, error = %message, "sync run failed");
    }
    inner.status.update(&job.hotel, job.stream, |s| {
        s.running = false;
        s.last_finished = Some(finished);
        s.duration_ms = Some(duration_ms);
        s.outcome = Some(outcome.clone());
        s.runs += 1;
        s.last_node = inner.claims.as_ref().map(|c| c.node().to_owned());
    });
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::schedule::FakeClock;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn start_time() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn settings(schedule: &str) -> SyncSettings {
        let s = |days| SyncStream {
            enabled: true,
            schedule: schedule.into(),
            look_ahead_days: days,
        };
        SyncSettings {
            arrivals: s(1),
            departures: s(1),
            in_house: s(0),
            room_status: s(0),
        }
    }

    /// Counts calls and concurrency; each run takes `takes` of (tokio) time.
    struct Counting {
        takes: Duration,
        calls: Mutex<BTreeMap<(String, StreamKind), u32>>,
        /// The `now` of every run, in order.
        started: Mutex<Vec<DateTime<Utc>>>,
        active: AtomicU32,
        max_active: AtomicU32,
    }

    impl Counting {
        fn new(takes: Duration) -> Arc<Counting> {
            Arc::new(Counting {
                takes,
                calls: Mutex::new(BTreeMap::new()),
                started: Mutex::new(Vec::new()),
                active: AtomicU32::new(0),
                max_active: AtomicU32::new(0),
            })
        }
    }

    impl SyncRunner for Counting {
        fn run<'a>(
            &'a self,
            hotel: &'a str,
            stream: StreamKind,
            _days: u32,
            now: DateTime<Utc>,
        ) -> BoxFuture<'a, Result<SyncItems, SyncFailure>> {
            Box::pin(async move {
                self.started
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(now);
                let now = self.active.fetch_add(1, Ordering::SeqCst) + 1;
                self.max_active.fetch_max(now, Ordering::SeqCst);
                *self
                    .calls
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .entry((hotel.to_owned(), stream))
                    .or_default() += 1;
                tokio::time::sleep(self.takes).await;
                self.active.fetch_sub(1, Ordering::SeqCst);
                Ok(SyncItems::Reservations(vec![]))
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn five_minutes_one_run_per_stream_per_hotel() {
        let clock = Arc::new(FakeClock::new(start_time()));
        let runner = Counting::new(Duration::from_secs(2));
        let mut jobs = jobs_for_hotel("h1", &settings("*/5 * * * *"), &HotelZone::utc());
        jobs.extend(jobs_for_hotel(
            "h2",
            &settings("*/5 * * * *"),
            &HotelZone::utc(),
        ));
        let sched = Scheduler::start(
            jobs,
            runner.clone(),
            None,
            clock.clone(),
            SchedulerOptions::default(),
        )
        .expect("start");
        // Paused time auto-advances through every timer up to 10:05:00.
        clock
            .sleep_until(start_time() + Duration::from_secs(300))
            .await;
        // Let runs that fired just before the end finish their 2 s.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let calls = runner
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        assert_eq!(calls.len(), 8, "{calls:?}");
        assert!(calls.values().all(|n| *n == 1), "{calls:?}");
        for hotel in ["h1", "h2"] {
            let status = sched.status(hotel);
            assert_eq!(status.len(), 4);
            for s in &status {
                assert_eq!(s.runs, 1, "{s:?}");
                assert_eq!(s.duration_ms, Some(2000));
                assert_eq!(
                    s.outcome,
                    Some(RunOutcome::Ok {
                        items: 0,
                        events: 0
                    })
                );
                assert!(
                    s.next_run
                        .is_some_and(|t| t > start_time() + Duration::from_secs(300))
                );
            }
        }
        let json = serde_json::to_value(sched.status("h1")).expect("json");
        assert_eq!(json[2]["stream"], "inHouse");
        assert!(json[0].get("skippedOverlaps").is_some());
        sched.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn slow_run_is_not_overlapped() {
        let clock = Arc::new(FakeClock::new(start_time()));
        let runner = Counting::new(Duration::from_secs(7 * 60));
        let jobs = vec![StreamJob {
            hotel: "h1".into(),
            stream: StreamKind::Arrivals,
            config: settings("*/5 * * * *").arrivals,
            zone: HotelZone::utc(),
        }];
        let sched = Scheduler::start(
            jobs,
            runner.clone(),
            None,
            clock.clone(),
            SchedulerOptions::default(),
        )
        .expect("start");
        // 30 minutes: fires every 5 min, each run takes 7, so every other fire is skipped.
        clock
            .sleep_until(start_time() + Duration::from_secs(30 * 60))
            .await;
        assert_eq!(runner.max_active.load(Ordering::SeqCst), 1);
        let s = &sched.status("h1")[0];
        assert!(s.runs >= 2, "{s:?}");
        assert!(s.skipped_overlaps >= 2, "{s:?}");
        // Every fire (6 in 30 min) either ran or was skipped; none queued up.
        let started = u64::from(
            runner
                .calls
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .sum::<u32>(),
        );
        assert!(
            started + s.skipped_overlaps <= 6 && started + s.skipped_overlaps >= 5,
            "{s:?}"
        );
        sched.shutdown().await;
    }

    #[tokio::test(start_paused = true)]
    async fn disabled_never_runs_and_cap_holds() {
        let clock = Arc::new(FakeClock::new(start_time()));
        let runner = Counting::new(Duration::from_secs(60));
        let mut jobs = Vec::new();
        for i in 0..50 {
            let mut s = settings("* * * * *");
            s.room_status.enabled = false;
            jobs.extend(jobs_for_hotel(&format!("h{i}"), &s, &HotelZone::utc()));
        }
        let sched = Scheduler::start(
            jobs,
            runner.clone(),
            None,
            clock.clone(),
            SchedulerOptions {
                max_concurrent: 5,
                max_spread: None,
                claims: None,
            },
        )
        .expect("start");
        clock
            .sleep_until(start_time() + Duration::from_secs(600))
            .await;
        assert!(runner.max_active.load(Ordering::SeqCst) <= 5);
        let calls = runner
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        assert!(calls.keys().all(|(_, s)| *s != StreamKind::RoomStatus));
        let h0 = sched.status("h0");
        assert!(!h0[3].enabled && h0[3].runs == 0);
        sched.shutdown().await;
    }

    /// `30 2 * * *` at a hotel in New York, over the week clocks spring forward (2026-03-08:
    /// 02:00 EST jumps to 03:00 EDT, so 02:30 never happens) and the week they fall back
    /// (2026-11-01: 02:00 EDT back to 01:00 EST, so 01:30 happens twice): one run a day, every
    /// day, at the hotel's 02:30 (on the jump day at the jump, 03:00 EDT).
    #[tokio::test(start_paused = true)]
    async fn daily_schedule_in_the_hotels_zone_across_clock_changes() {
        let new_york = HotelZone::parse("America/New_York").expect("zone");
        for (start, fires) in [
            (
                "2026-03-06T12:00:00Z",
                [
                    "2026-03-07T07:30:00Z", // 02:30 EST
                    "2026-03-08T07:00:00Z", // the jump: 03:00 EDT
                    "2026-03-09T06:30:00Z", // 02:30 EDT
                ],
            ),
            (
                "2026-10-30T12:00:00Z",
                [
                    "2026-10-31T05:30:00Z", // 01:30 EDT
                    "2026-11-01T05:30:00Z", // the first 01:30 (EDT); not again at 06:30
                    "2026-11-02T06:30:00Z", // 01:30 EST
                ],
            ),
        ] {
            let start: DateTime<Utc> = start.parse().expect("start");
            let schedule = if start.format("%m").to_string() == "03" {
                "30 2 * * *"
            } else {
                "30 1 * * *"
            };
            let clock = Arc::new(FakeClock::new(start));
            let runner = Counting::new(Duration::from_secs(1));
            let sched = Scheduler::start(
                vec![StreamJob {
                    hotel: "ny".into(),
                    stream: StreamKind::Arrivals,
                    config: settings(schedule).arrivals,
                    zone: new_york.clone(),
                }],
                runner.clone(),
                None,
                clock.clone(),
                SchedulerOptions {
                    max_concurrent: 1,
                    max_spread: Some(Duration::ZERO),
                    claims: None,
                },
            )
            .expect("start");
            clock
                .sleep_until(start + Duration::from_secs(3 * 86_400))
                .await;
            let started = runner
                .started
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let expected: Vec<DateTime<Utc>> =
                fires.iter().map(|f| f.parse().expect("fire")).collect();
            assert_eq!(started, expected, "{schedule} from {start}");
            sched.shutdown().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn bad_schedule_and_run_now() {
        let clock = Arc::new(FakeClock::new(start_time()));
        let runner = Counting::new(Duration::from_secs(1));
        let err = Scheduler::start(
            jobs_for_hotel("h1", &settings("*/5 * *"), &HotelZone::utc()),
            runner.clone(),
            None,
            clock.clone(),
            SchedulerOptions::default(),
        )
        .expect_err("bad cron");
        let msg = err.to_string();
        assert!(msg.contains("h1") && msg.contains("`*/5 * *`"), "{msg}");

        let sched = Scheduler::start(
            jobs_for_hotel("h1", &settings("0 3 * * *"), &HotelZone::utc()),
            runner.clone(),
            None,
            clock.clone(),
            SchedulerOptions::default(),
        )
        .expect("start");
        let out = sched.run_now("h1", StreamKind::InHouse).await.expect("run");
        assert_eq!(
            out,
            RunOutcome::Ok {
                items: 0,
                events: 0
            }
        );
        assert!(matches!(
            sched.run_now("h9", StreamKind::InHouse).await,
            Err(SchedulerError::UnknownStream { .. })
        ));
        sched.shutdown().await;
    }
}
