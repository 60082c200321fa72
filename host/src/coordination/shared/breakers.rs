//! Circuit breakers decided once for the cluster ([`CircuitBreakers`] in Redis).
//!
//! The count of sandbox failures in a row and the end of the cool-down live in one hash per
//! (hotel, adapter); failures are counted by a script that opens the breaker at
//! [`THRESHOLD`] and publishes the change, so every host keeps a mirror of every breaker that
//! is not closed. The call path reads only the mirror: a call costs no Redis round trip while
//! its breaker is closed and clean, and a success costs one only when it closes a breaker that
//! counted failures. When the cool-down ends, the first host to ask turns the breaker half-open
//! (one more failure re-opens it at once), as the in-process breaker does.
//!
//! While Redis is unreachable the host keeps its own breakers ([`LocalBreakers`]); the mirrors
//! are dropped whenever the subscription that feeds them is renewed.

use super::bus::Message;
use super::link::Link;
use crate::runtime::breaker::{
    BreakerStatus, COOL_DOWN, CircuitBreakers, LocalBreakers, THRESHOLD,
};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

/// Counts a failure; opens at ARGV[1] failures for ARGV[2] ms and publishes the change on
/// ARGV[3] (hotel ARGV[4], adapter ARGV[5]). Returns `{failures, ms open}`.
static FAIL: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local left = 0
if f >= tonumber(ARGV[1]) then
  left = tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'open', string.format('%.0f', now + left))
end
redis.call('PEXPIRE', KEYS[1], 86400000)
redis.call('PUBLISH', ARGV[3], cjson.encode({t = 'breaker', hotel = ARGV[4], adapter = ARGV[5], failures = f, openMs = left}))
return {f, left}
",
    )
});

/// After the cool-down, turns the breaker half-open (failures at ARGV[1] = threshold - 1) and
/// returns `{1, 0}`; `{0, ms left}` while still open; `{1, 0}` when it is closed.
static CLAIM: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local open = tonumber(redis.call('HGET', KEYS[1], 'open') or '0')
if open == 0 then return {1, 0} end
if open > now then return {0, open - now} end
redis.call('HDEL', KEYS[1], 'open')
redis.call('HSET', KEYS[1], 'failures', ARGV[1])
return {1, 0}
",
    )
});

/// Closes the breaker and publishes it (ARGV as for FAIL), if it counted anything.
static RESET: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
if redis.call('DEL', KEYS[1]) == 1 then
  redis.call('PUBLISH', ARGV[1], cjson.encode({t = 'breaker', hotel = ARGV[2], adapter = ARGV[3], failures = 0, openMs = 0}))
end
return 1
",
    )
});

#[derive(Debug, Clone, Copy)]
struct Mirror {
    failures: u32,
    open_until: Option<Instant>,
}

/// The cluster's breakers, in Redis (see the module docs).
pub struct SharedBreakers {
    link: Arc<Link>,
    channel: String,
    /// Breakers that are not closed and clean, by `hotel\0adapter`.
    mirrors: Mutex<HashMap<String, Mirror>>,
    fallback: LocalBreakers,
}

impl SharedBreakers {
    /// Breakers kept in the Redis of `link`, whose changes are published on `channel`.
    pub fn new(link: Arc<Link>, channel: String) -> SharedBreakers {
        SharedBreakers {
            link,
            channel,
            mirrors: Mutex::default(),
            fallback: LocalBreakers::default(),
        }
    }

    /// Applies a change another host published.
    pub fn apply(&self, message: &Message) {
        if let Message::Breaker {
            hotel,
            adapter,
            failures,
            open_ms,
        } = message
        {
            self.mirror(hotel, adapter, *failures, *open_ms);
        }
    }

    /// Forgets every mirror (the subscription that feeds them was renewed).
    pub fn resync(&self) {
        self.mirrors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn mirror(&self, hotel: &str, adapter: &str, failures: u32, open_ms: u64) {
        let mut mirrors = self.mirrors.lock().unwrap_or_else(|p| p.into_inner());
        let id = format!("{hotel}\u{0}{adapter}");
        if failures == 0 {
            mirrors.remove(&id);
        } else {
            // Redis's answer is trusted no further than the cool-down.
            let open = Duration::from_millis(open_ms).min(COOL_DOWN);
            mirrors.insert(
                id,
                Mirror {
                    failures,
                    open_until: (open_ms > 0).then(|| Instant::now() + open),
                },
            );
        }
    }

    fn key(&self, hotel: &str, adapter: &str) -> String {
        self.link.key(&format!("brk:{hotel}:{adapter}"))
    }

    async fn check_now(&self, hotel: &str, adapter: &str) -> Result<(), (u32, Duration)> {
        if !self.link.is_up() {
            self.link.alone("breakers");
            return self.fallback.check(hotel, adapter).await;
        }
        let id = format!("{hotel}\u{0}{adapter}");
        let mirror = self
            .mirrors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .copied();
        let Some(Mirror {
            failures,
            open_until: Some(until),
        }) = mirror
        else {
            return Ok(());
        };
        let now = Instant::now();
        if now < until {
            return Err((failures, until - now));
        }
        let key = self.key(hotel, adapter);
        let claimed: Option<(u8, u64)> = self
            .link
            .run("breakers", |mut conn| {
                let key = &key;
                async move {
                    CLAIM
                        .key(key)
                        .arg(THRESHOLD.saturating_sub(1))
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await;
        match claimed {
            Some((1, _)) => {
                self.mirror(hotel, adapter, THRESHOLD.saturating_sub(1).max(1), 0);
                Ok(())
            }
            Some((_, left)) => {
                self.mirror(hotel, adapter, failures, left);
                Err((failures, Duration::from_millis(left).min(COOL_DOWN)))
            }
            None => self.fallback.check(hotel, adapter).await,
        }
    }

    async fn record_now(&self, hotel: &str, adapter: &str, sandbox_failure: bool) {
        if !self.link.is_up() {
            self.link.alone("breakers");
            return self.fallback.record(hotel, adapter, sandbox_failure).await;
        }
        let key = self.key(hotel, adapter);
        let channel = &self.channel;
        if sandbox_failure {
            let counted: Option<(u32, u64)> = self
                .link
                .run("breakers", |mut conn| {
                    let key = &key;
                    async move {
                        FAIL.key(key)
                            .arg(THRESHOLD)
                            .arg(COOL_DOWN.as_millis() as u64)
                            .arg(channel)
                            .arg(hotel)
                            .arg(adapter)
                            .invoke_async(&mut conn)
                            .await
                    }
                })
                .await;
            match counted {
                Some((failures, open_ms)) => self.mirror(hotel, adapter, failures, open_ms),
                None => self.fallback.record(hotel, adapter, true).await,
            }
            return;
        }
        self.fallback.record(hotel, adapter, false).await;
        let id = format!("{hotel}\u{0}{adapter}");
        let counted = self
            .mirrors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id)
            .is_some();
        if counted {
            let _: Option<u8> = self
                .link
                .run("breakers", |mut conn| {
                    let key = &key;
                    async move {
                        RESET
                            .key(key)
                            .arg(channel)
                            .arg(hotel)
                            .arg(adapter)
                            .invoke_async(&mut conn)
                            .await
                    }
                })
                .await;
        }
    }
}

impl CircuitBreakers for SharedBreakers {
    fn check<'a>(
        &'a self,
        hotel: &'a str,
        adapter: &'a str,
    ) -> BoxFuture<'a, Result<(), (u32, Duration)>> {
        Box::pin(self.check_now(hotel, adapter))
    }

    fn record<'a>(
        &'a self,
        hotel: &'a str,
        adapter: &'a str,
        sandbox_failure: bool,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.record_now(hotel, adapter, sandbox_failure))
    }

    fn status<'a>(&'a self, hotel: &'a str, adapter: &'a str) -> BoxFuture<'a, BreakerStatus> {
        if !self.link.is_up() {
            return self.fallback.status(hotel, adapter);
        }
        // The mirror holds every breaker that is not closed and clean.
        let mirror = self
            .mirrors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&format!("{hotel}\u{0}{adapter}"))
            .copied();
        let status = match mirror {
            Some(m) => BreakerStatus::new(
                m.failures,
                m.open_until
                    .and_then(|until| until.checked_duration_since(Instant::now())),
            ),
            None => BreakerStatus::new(0, None),
        };
        Box::pin(std::future::ready(status))
    }
}
