//! Outbound rate limits (DESIGN §3, §4): GCRA buckets keyed by hotel, vendor credential or
//! vendor environment. A request over the budget waits its turn, up to the call's deadline,
//! instead of failing; a 429 from the PMS pauses the buckets it came through.
//!
//! The buckets sit behind [`RateLimiter`], so that where they live is a choice of the
//! deployment: [`RateLimits`] keeps them in this process (governor), which is right for one
//! host; several hosts sharing a vendor's budget need one bucket for all of them (a shared
//! store), which is another implementation of the same trait.

use futures_util::future::BoxFuture;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota};
use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// What a limit counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RateScope {
    /// One hotel (property).
    Hotel,
    /// One vendor credential (e.g. a Mews access token).
    Credential,
    /// One vendor environment (all hotels on one origin, e.g. an OHIP gateway).
    Environment,
}

/// `requests` per `per` against `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed…
    pub requests: u32,
    /// …per this long…
    pub per: Duration,
    /// …per this scope.
    pub scope: RateScope,
}

/// How much slower than the vendor's limit the host spaces requests (10 %), so that transport
/// jitter can never push the arrivals the vendor counts over its limit.
pub const HEADROOM: f64 = 1.10;

/// One bucket.
pub struct Bucket {
    limit: RateLimit,
    /// The hosts this bucket is one share of (1: the whole limit).
    nodes: u32,
    limiter: DefaultDirectRateLimiter,
    paused_until: Mutex<Option<Instant>>,
    recent: Mutex<VecDeque<Instant>>,
    last_pause_clamped: std::sync::atomic::AtomicBool,
}

/// The GCRA parameters of `limit`: the emission interval τ and the burst b.
///
/// GCRA with burst b and emission interval τ lets at most b + (W/τ) - 1 requests through in any
/// window W. With τ = W / (N - b + 1) that is at most N: the vendor's "N per W" holds in every
/// sliding window, not just on average, while still allowing a small burst.
///
/// The interval is then stretched by [`HEADROOM`]: the vendor counts arrivals, and a request
/// admitted on time can be delayed on the way while the next one is not, which would squeeze
/// N + 1 arrivals into one window at exact spacing. Cloudbeds suspends a key for that.
pub fn gcra(limit: RateLimit) -> (Duration, u32) {
    let n = limit.requests.max(1);
    let burst = (n / 10).max(1);
    let interval = (limit.per / (n - burst + 1).max(1)).mul_f64(HEADROOM);
    (interval.max(Duration::from_micros(1)), burst)
}

impl Bucket {
    fn new(limit: RateLimit) -> Bucket {
        let (interval, burst) = gcra(limit);
        Bucket::with(limit, interval, burst, 1)
    }

    /// One host's share of `limit` while `nodes` hosts that normally share one bucket each keep
    /// their own (their coordination store is unreachable): q = ⌊N / nodes⌋ requests per window,
    /// spaced W / q apart stretched by [`HEADROOM`], without a burst, and empty at creation.
    ///
    /// Such a bucket admits at most 1 + ⌊q / 1.1⌋ ≤ q requests in any window, so the hosts
    /// together stay within N in every window however their shares are phased; and as it starts
    /// empty, the switch from the shared bucket to the shares cannot add a burst to a window the
    /// shared bucket already filled. (A limit smaller than the number of hosts still gets one
    /// request per window per host.)
    pub fn share(limit: RateLimit, nodes: u32) -> Bucket {
        let nodes = nodes.max(1);
        let q = (limit.requests / nodes).max(1);
        let interval = (limit.per / q)
            .mul_f64(HEADROOM)
            .max(Duration::from_micros(1));
        let bucket = Bucket::with(limit, interval, 1, nodes);
        // Taking the one cell at once makes the first admission wait one interval.
        let _ = bucket.limiter.check();
        bucket
    }

    fn with(limit: RateLimit, interval: Duration, burst: u32, nodes: u32) -> Bucket {
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN));
        Bucket {
            limit,
            nodes,
            limiter: governor::RateLimiter::direct(quota),
            paused_until: Mutex::new(None),
            recent: Mutex::new(VecDeque::new()),
            last_pause_clamped: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The vendor's limit this bucket keeps to (whole, or a share of it).
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    /// How many hosts this bucket is one share of (1: the whole limit).
    pub fn nodes(&self) -> u32 {
        self.nodes
    }

    /// Waits for a slot (and for any pause to end). `false` when `deadline` comes first.
    pub async fn acquire(&self, deadline: Instant) -> bool {
        loop {
            let paused = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
            match paused {
                Some(until) if until > Instant::now() => {
                    if until >= deadline {
                        return false;
                    }
                    tokio::time::sleep_until(until).await;
                }
                _ => break,
            }
        }
        // Waits run on tokio's timer so that they end at the deadline and are cancelled with
        // the call.
        while let Err(not_until) = self.limiter.check() {
            let wake = Instant::now() + not_until.wait_time_from(DefaultClock::default().now());
            if wake > deadline {
                return false;
            }
            tokio::time::sleep_until(wake).await;
        }
        let now = Instant::now();
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.push_back(now);
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > self.limit.per)
        {
            recent.pop_front();
        }
        true
    }

    /// Stops all requests through this bucket for `pause` (a 429 from the PMS, already clamped
    /// to `egress.maxRetryAfterMs`); `clamped` records that the vendor asked for longer, which
    /// health reports.
    pub fn pause(&self, pause: Duration, clamped: bool) {
        // A pause past what the clock can represent is as good as the furthest it can.
        let now = Instant::now();
        let until = now
            .checked_add(pause)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365));
        let mut p = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if p.is_none_or(|current| current < until) {
            *p = Some(until);
        }
        self.last_pause_clamped
            .store(clamped, std::sync::atomic::Ordering::Relaxed);
    }

    /// True when the last 429's `Retry-After` asked for more than `egress.maxRetryAfterMs`.
    pub fn last_pause_clamped(&self) -> bool {
        self.last_pause_clamped
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests in the current window, and the limit.
    pub fn usage(&self) -> (u32, RateLimit) {
        let now = Instant::now();
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let n = recent
            .iter()
            .filter(|t| now.duration_since(**t) <= self.limit.per)
            .count();
        (n as u32, self.limit)
    }

    /// Until when the bucket is paused.
    pub fn paused_until(&self) -> Option<Instant> {
        self.paused_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .filter(|u| *u > Instant::now())
    }
}

/// Where the buckets live: the egress pipeline asks it for a slot before every request and tells
/// it of every 429. Keys are `hotel:<id>`, `credential:<adapter>:<hash>` or
/// `environment:<adapter>:<origin>` (never a secret); `limit` comes with every call, so an
/// implementation creates a bucket on first use and replaces it when the limit changes.
pub trait RateLimiter: Send + Sync {
    /// Waits for a slot in bucket `key` (and for any pause of it to end). `false` when
    /// `deadline` comes first: nothing was taken then.
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        limit: RateLimit,
        deadline: Instant,
    ) -> BoxFuture<'a, bool>;

    /// Stops every request through bucket `key` for `pause` (a 429 from the PMS, already
    /// clamped to `egress.maxRetryAfterMs`); `clamped` records that the vendor asked for longer,
    /// which health reports.
    fn pause<'a>(
        &'a self,
        key: &'a str,
        limit: RateLimit,
        pause: Duration,
        clamped: bool,
    ) -> BoxFuture<'a, ()>;

    /// Usage of every bucket whose key starts with `prefix`, sorted by key.
    fn usage<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Vec<BucketUsage>>;
}

/// The buckets of this process, by key: right for one host (the default).
#[derive(Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<String, Arc<Bucket>>>,
}

impl RateLimits {
    /// The bucket for `key` with `limit` (created on first use; a changed limit replaces it).
    pub fn bucket(&self, key: String, limit: RateLimit) -> Arc<Bucket> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        match buckets.get(&key) {
            Some(b) if b.limit == limit => b.clone(),
            _ => {
                let b = Arc::new(Bucket::new(limit));
                buckets.insert(key, b.clone());
                b
            }
        }
    }

    /// Usage of every bucket whose key starts with `prefix`, sorted by key.
    pub fn usage_now(&self, prefix: &str) -> Vec<BucketUsage> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = buckets
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, b)| {
                let (used, limit) = b.usage();
                BucketUsage {
                    key: k.clone(),
                    used,
                    limit,
                    paused_until: b.paused_until(),
                    pause_clamped: b.last_pause_clamped(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }
}

impl RateLimiter for RateLimits {
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        limit: RateLimit,
        deadline: Instant,
    ) -> BoxFuture<'a, bool> {
        let bucket = self.bucket(key.to_owned(), limit);
        Box::pin(async move { bucket.acquire(deadline).await })
    }

    fn pause<'a>(
        &'a self,
        key: &'a str,
        limit: RateLimit,
        pause: Duration,
        clamped: bool,
    ) -> BoxFuture<'a, ()> {
        self.bucket(key.to_owned(), limit).pause(pause, clamped);
        Box::pin(std::future::ready(()))
    }

    fn usage<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Vec<BucketUsage>> {
        Box::pin(std::future::ready(self.usage_now(prefix)))
    }
}

/// What health and metrics show of one bucket.
#[derive(Debug, Clone)]
pub struct BucketUsage {
    /// `hotel:<id>`, `credential:<adapter>:<hash>` or `environment:<adapter>:<origin>`.
    pub key: String,
    /// Requests admitted in the current window.
    pub used: u32,
    /// The limit.
    pub limit: RateLimit,
    /// Until when a 429 paused it.
    pub paused_until: Option<Instant>,
    /// The last 429 asked for a longer pause than `egress.maxRetryAfterMs` allows.
    pub pause_clamped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn never_more_than_the_limit_in_any_window() {
        // Real time (governor keeps its own clock), so small numbers: 3 windows' worth of demand.
        // Admissions are at least ~53 ms apart after the burst, so timestamps taken a little late
        // on a loaded machine cannot crowd a 21st request into any window.
        let limit = RateLimit {
            requests: 20,
            per: Duration::from_secs(1),
            scope: RateScope::Hotel,
        };
        let bucket = Bucket::new(limit);
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..60 {
            assert!(bucket.acquire(start + Duration::from_secs(60)).await);
            times.push(Instant::now());
        }
        // Slide a window over every request: never more than the limit inside.
        for (i, t) in times.iter().enumerate() {
            let inside = times[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < limit.per)
                .count();
            assert!(
                inside <= 20,
                "{inside} requests within one window starting at request {i}"
            );
        }
        // And the budget was used, not starved: 60 requests need at least two windows.
        assert!(
            start.elapsed() >= Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_shares_of_every_host_add_up_to_the_limit_in_any_window() {
        let limit = RateLimit {
            requests: 10,
            per: Duration::from_secs(1),
            scope: RateScope::Hotel,
        };
        let times = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let (share, times) = (Arc::new(Bucket::share(limit, 3)), times.clone());
                tokio::spawn(async move {
                    for _ in 0..6 {
                        assert!(share.acquire(start + Duration::from_secs(30)).await);
                        times.lock().unwrap().push(Instant::now());
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let mut times = times.lock().unwrap().clone();
        times.sort();
        assert!(
            times[0].duration_since(start) >= Duration::from_millis(300),
            "a share starts empty"
        );
        for (i, t) in times.iter().enumerate() {
            let inside = times[i..]
                .iter()
                .take_while(|u| u.duration_since(*t) < limit.per)
                .count();
            assert!(inside <= 10, "{inside} admissions within one window");
        }
    }

    #[tokio::test]
    async fn waits_end_at_the_deadline_and_pauses_hold() {
        let bucket = Bucket::new(RateLimit {
            requests: 1,
            per: Duration::from_secs(10),
            scope: RateScope::Hotel,
        });
        let now = Instant::now();
        assert!(bucket.acquire(now + Duration::from_secs(1)).await);
        assert!(
            !bucket.acquire(now + Duration::from_millis(200)).await,
            "second request within the period"
        );
        let b2 = Bucket::new(RateLimit {
            requests: 100,
            per: Duration::from_secs(1),
            scope: RateScope::Hotel,
        });
        b2.pause(Duration::from_millis(300), false);
        let t = Instant::now();
        assert!(
            !b2.acquire(t + Duration::from_millis(100)).await,
            "paused bucket must not admit before the pause ends"
        );
        assert!(b2.acquire(t + Duration::from_secs(5)).await);
        assert!(Instant::now().duration_since(t) >= Duration::from_millis(300));
    }
}
