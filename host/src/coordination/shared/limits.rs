//! Rate-limit buckets shared by every host: one GCRA bucket per key for the whole cluster, kept
//! in Redis and taken atomically by a Lua script on Redis's own clock (so hosts' clocks need
//! not agree, and no read-modify-write race exists).
//!
//! - **One round trip per admitted request** when the bucket has room. A request that must wait
//!   learns from the same answer how long, sleeps, and asks again; the waiters of one host queue
//!   behind one another (a fair lock per bucket), so a host asks on behalf of its first waiter
//!   only, not once per waiter.
//! - Only admissions *now* are granted, never slots in the future: a host killed mid-burst
//!   leaves nothing reserved behind it, and the cluster's admissions in any window are bounded
//!   by the GCRA bound of [`crate::egress::limits::gcra`], below the vendor's limit.
//! - A 429 pauses the bucket for every host: admissions resume at the pause's end, one interval
//!   apart (no burst after a pause).
//! - While Redis is unreachable each host admits through its own [`Bucket::share`] of the
//!   limit (the shared interval times the number of live hosts it last saw, no burst, empty at
//!   first), so that the hosts together still keep to the vendor's limit in every window. When
//!   Redis answers again, a host keeps to its share (as well as taking from the shared bucket)
//!   for one window of the limit plus [`RECOVERY`]: the other hosts notice the return up to a
//!   heartbeat later and admit through their shares alone until then, and the shared bucket
//!   knows nothing of what the shares admitted before. The shares are dropped after that.
//! - A host cut off from a Redis that the others still reach (a partition) admits through its
//!   share while they use the shared bucket: the cluster may then exceed the limit by that
//!   share. Nothing short of a consensus protocol avoids that; it ends when the host is back.

use super::link::{Link, RECOVERY};
use crate::egress::limits::{Bucket, BucketUsage, RateLimit, RateLimiter, gcra};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Takes one admission if the bucket has room now; otherwise says how long to wait.
///
/// KEYS: the bucket's hash (`tat`: theoretical arrival time, `paused`: pause end, `clamped`),
/// the sorted set of recent admissions (for usage figures). ARGV: emission interval, tolerance
/// (interval × (burst − 1)), window, all in µs, and a unique member for the admission.
/// Returns `{1, 0}` (admitted) or `{0, µs to wait}`. Times are µs on Redis's clock, stored with
/// `%.0f` (Lua would print a 16-digit number in exponent form).
static ACQUIRE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused') or '0')
if paused > now then return {0, paused - now} end
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
if tat < now then tat = now end
local allow_at = tat - tolerance
if allow_at > now then return {0, allow_at - now} end
local next_tat = tat + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', next_tat))
redis.call('PEXPIRE', KEYS[1], math.ceil((next_tat - now + window) / 1000) + 1000)
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000) + 1000)
return {1, 0}
",
    )
});

/// Pauses a bucket until now + ARGV[1] µs (never shortens a pause); the first admission after
/// it is at its end, the next one interval later. ARGV[2]: tolerance µs; ARGV[3]: 1 when the
/// vendor asked for longer than the host allows; ARGV[4]: window µs.
static PAUSE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untl = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused') or '0')
if untl > paused then
  redis.call('HSET', KEYS[1], 'paused', string.format('%.0f', untl))
  local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
  local after = untl + tonumber(ARGV[2])
  if after > tat then redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', after)) end
  redis.call('PEXPIRE', KEYS[1], math.ceil((untl - now + tonumber(ARGV[4])) / 1000) + 1000)
end
redis.call('HSET', KEYS[1], 'clamped', ARGV[3])
return 1
",
    )
});

/// The cluster's admissions in the last window, µs left of a pause, and the clamped flag.
static USAGE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local used = redis.call('ZCOUNT', KEYS[2], now - tonumber(ARGV[1]), '+inf')
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused') or '0')
local left = 0
if paused > now then left = paused - now end
local clamped = tonumber(redis.call('HGET', KEYS[1], 'clamped') or '0')
return {used, left, clamped}
",
    )
});

/// The buckets of the cluster, in Redis (see the module docs).
pub struct SharedLimits {
    link: Arc<Link>,
    /// One fair lock per bucket: this host's waiters ask Redis one at a time.
    queues: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The buckets this host used, with their limits (what health and metrics list).
    known: Mutex<HashMap<String, RateLimit>>,
    /// This host's shares while Redis is down, with the node count each was made for.
    shares: Mutex<HashMap<String, Arc<Bucket>>>,
    has_shares: AtomicBool,
}

impl SharedLimits {
    /// Buckets kept in the Redis of `link`.
    pub fn new(link: Arc<Link>) -> SharedLimits {
        SharedLimits {
            link,
            queues: Mutex::default(),
            known: Mutex::default(),
            shares: Mutex::default(),
            has_shares: AtomicBool::new(false),
        }
    }

    fn queue(&self, key: &str, limit: RateLimit) -> Arc<tokio::sync::Mutex<()>> {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_owned(), limit);
        self.queues
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.to_owned())
            .or_default()
            .clone()
    }

    /// This host's share of bucket `key` while Redis is down (made on first use, for the node
    /// count last seen; a changed limit or count makes a new one).
    fn share(&self, key: &str, limit: RateLimit) -> Arc<Bucket> {
        let nodes = self.link.nodes();
        let mut shares = self.shares.lock().unwrap_or_else(|p| p.into_inner());
        self.has_shares.store(true, Ordering::SeqCst);
        match shares.get(key) {
            Some(b) if b.limit() == limit && b.nodes() == nodes => b.clone(),
            _ => {
                let b = Arc::new(Bucket::share(limit, nodes));
                shares.insert(key.to_owned(), b.clone());
                b
            }
        }
    }

    /// Forgets the shares once Redis answers again, so that the next outage starts them empty.
    fn drop_shares(&self) {
        if self.has_shares.swap(false, Ordering::SeqCst) {
            self.shares
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
        }
    }

    async fn acquire_now(&self, key: &str, limit: RateLimit, deadline: Instant) -> bool {
        let queue = self.queue(key, limit);
        let Ok(_turn) = tokio::time::timeout_at(deadline, queue.lock()).await else {
            return false;
        };
        let (interval, burst) = gcra(limit);
        let tolerance = interval.saturating_mul(burst.saturating_sub(1));
        let bucket = self.link.key(&format!("rl:{key}"));
        let recent = self.link.key(&format!("rl:{key}:recent"));
        loop {
            if !self.link.is_up() {
                self.link.alone("rate_limits");
                return self.share(key, limit).acquire(deadline).await;
            }
            let member = format!("{}:{}", self.link.node(), uuid::Uuid::new_v4().simple());
            let answer: Option<(u8, u64)> = self
                .link
                .run("rate_limits", |mut conn| {
                    let (bucket, recent, member) = (&bucket, &recent, &member);
                    async move {
                        ACQUIRE
                            .key(bucket)
                            .key(recent)
                            .arg(micros(interval))
                            .arg(micros(tolerance))
                            .arg(micros(limit.per))
                            .arg(member)
                            .invoke_async(&mut conn)
                            .await
                    }
                })
                .await;
            match answer {
                Some((1, _))
                    if self
                        .link
                        .back_for()
                        .is_some_and(|back| back < limit.per.saturating_add(RECOVERY)) =>
                {
                    // Admitted by the cluster; still keep to the share until every host is back.
                    return self.share(key, limit).acquire(deadline).await;
                }
                Some((1, _)) => {
                    self.drop_shares();
                    return true;
                }
                Some((_, wait_us)) => {
                    // Redis's answer is trusted no further than a day.
                    let wait = Duration::from_micros(wait_us.min(86_400_000_000));
                    let now = Instant::now();
                    match now.checked_add(wait) {
                        Some(wake) if wake <= deadline => tokio::time::sleep_until(wake).await,
                        _ => return false,
                    }
                }
                None => return self.share(key, limit).acquire(deadline).await,
            }
        }
    }

    async fn pause_now(&self, key: &str, limit: RateLimit, pause: Duration, clamped: bool) {
        self.known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_owned(), limit);
        // The share pauses too: if Redis fails before the pause ends, this host still waits.
        if !self.link.is_up() {
            self.link.alone("rate_limits");
            self.share(key, limit).pause(pause, clamped);
            return;
        }
        let (interval, burst) = gcra(limit);
        let tolerance = interval.saturating_mul(burst.saturating_sub(1));
        let bucket = self.link.key(&format!("rl:{key}"));
        let done: Option<u8> = self
            .link
            .run("rate_limits", |mut conn| {
                let bucket = &bucket;
                async move {
                    PAUSE
                        .key(bucket)
                        .arg(micros(pause))
                        .arg(micros(tolerance))
                        .arg(u8::from(clamped))
                        .arg(micros(limit.per))
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await;
        if done.is_none() {
            self.share(key, limit).pause(pause, clamped);
        }
    }

    async fn usage_now(&self, prefix: &str) -> Vec<BucketUsage> {
        let mut known: Vec<(String, RateLimit)> = self
            .known
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, l)| (k.clone(), *l))
            .collect();
        known.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::with_capacity(known.len());
        for (key, limit) in known {
            let bucket = self.link.key(&format!("rl:{key}"));
            let recent = self.link.key(&format!("rl:{key}:recent"));
            let figures: Option<(u32, u64, u8)> = self
                .link
                .run("rate_limits", |mut conn| {
                    let (bucket, recent) = (&bucket, &recent);
                    async move {
                        USAGE
                            .key(bucket)
                            .key(recent)
                            .arg(micros(limit.per))
                            .invoke_async(&mut conn)
                            .await
                    }
                })
                .await;
            let usage = match figures {
                Some((used, paused_us, clamped)) => BucketUsage {
                    key,
                    used,
                    limit,
                    paused_until: (paused_us > 0).then(|| {
                        Instant::now() + Duration::from_micros(paused_us.min(86_400_000_000))
                    }),
                    pause_clamped: clamped == 1,
                },
                // Redis down: this host's share (if it has used one) is what limits it now.
                None => {
                    let share = self
                        .shares
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&key)
                        .cloned();
                    BucketUsage {
                        used: share.as_ref().map_or(0, |s| s.usage().0),
                        paused_until: share.as_ref().and_then(|s| s.paused_until()),
                        pause_clamped: share.as_ref().is_some_and(|s| s.last_pause_clamped()),
                        key,
                        limit,
                    }
                }
            };
            out.push(usage);
        }
        out
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl RateLimiter for SharedLimits {
    fn acquire<'a>(
        &'a self,
        key: &'a str,
        limit: RateLimit,
        deadline: Instant,
    ) -> BoxFuture<'a, bool> {
        Box::pin(self.acquire_now(key, limit, deadline))
    }

    fn pause<'a>(
        &'a self,
        key: &'a str,
        limit: RateLimit,
        pause: Duration,
        clamped: bool,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.pause_now(key, limit, pause, clamped))
    }

    fn usage<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Vec<BucketUsage>> {
        Box::pin(self.usage_now(prefix))
    }
}
