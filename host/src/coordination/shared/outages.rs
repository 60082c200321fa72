//! Which PMSes are down, decided once for the cluster ([`PmsOutages`] in Redis).
//!
//! - **Writes held**: a hash per hotel with the failures in a row and the end of the hold (on
//!   Redis's clock); a write failure on any host holds new writes on every host, a success on
//!   any host releases them. One round trip per check.
//! - **Outage reported**: a set of hotels whose `pms.unavailable` was recorded; `SADD`/`SREM`
//!   answer whether this call changed it, so exactly one host of the cluster records each
//!   `pms.unavailable` and each `pms.recovered`.
//! - While Redis is unreachable, the host decides alone ([`LocalOutages`]).

use super::link::Link;
use crate::outage::{HoldFor, LocalOutages, PmsOutages};
use futures_util::future::BoxFuture;
use std::sync::{Arc, LazyLock};

/// Counts one more failure in a row; returns the count. KEYS[1]: the hotel's hash.
static FAIL: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('PEXPIRE', KEYS[1], 86400000)
return n
",
    )
});

/// Holds writes until now + ARGV[1] ms (Redis's clock).
static HOLD: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'until', string.format('%.0f', now + tonumber(ARGV[1])))
return 1
",
    )
});

/// 1 while writes are held.
static HELD: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if untl > now then return 1 end
return 0
",
    )
});

/// The cluster's outages, in Redis (see the module docs).
pub struct SharedOutages {
    link: Arc<Link>,
    fallback: LocalOutages,
}

impl SharedOutages {
    /// Outages kept in the Redis of `link`.
    pub fn new(link: Arc<Link>) -> SharedOutages {
        SharedOutages {
            link,
            fallback: LocalOutages::default(),
        }
    }

    fn key(&self, hotel: &str) -> String {
        self.link.key(&format!("out:{hotel}"))
    }

    async fn hold_now(&self, hotel: &str, hold_for: HoldFor<'_>) -> bool {
        let key = self.key(hotel);
        let failures: Option<u32> = self
            .link
            .run("outages", |mut conn| {
                let key = &key;
                async move { FAIL.key(key).invoke_async(&mut conn).await }
            })
            .await;
        let Some(failures) = failures else {
            return self.fallback.hold_writes(hotel, hold_for).await;
        };
        let hold_ms = u64::try_from(hold_for(failures.max(1)).as_millis()).unwrap_or(u64::MAX);
        let held: Option<u8> = self
            .link
            .run("outages", |mut conn| {
                let key = &key;
                async move { HOLD.key(key).arg(hold_ms).invoke_async(&mut conn).await }
            })
            .await;
        if held.is_none() {
            self.fallback.hold_writes(hotel, hold_for).await;
        }
        failures == 1
    }

    async fn release_now(&self, hotel: &str) -> bool {
        let key = self.key(hotel);
        // A release while Redis was down must not leave writes held here.
        let local = self.fallback.release_writes(hotel).await;
        let removed: Option<u32> = self
            .link
            .run("outages", |mut conn| {
                let key = &key;
                async move { ::redis::cmd("DEL").arg(key).query_async(&mut conn).await }
            })
            .await;
        match removed {
            Some(n) => n > 0,
            None => local,
        }
    }

    async fn held_now(&self, hotel: &str) -> bool {
        let key = self.key(hotel);
        let held: Option<u8> = self
            .link
            .run("outages", |mut conn| {
                let key = &key;
                async move { HELD.key(key).invoke_async(&mut conn).await }
            })
            .await;
        match held {
            Some(h) => h == 1,
            None => self.fallback.writes_held(hotel).await,
        }
    }

    async fn set_reported_now(&self, hotel: &str, down: bool) -> bool {
        let key = self.link.key("reported");
        let changed: Option<u32> = self
            .link
            .run("outages", |mut conn| {
                let key = &key;
                async move {
                    ::redis::cmd(if down { "SADD" } else { "SREM" })
                        .arg(key)
                        .arg(hotel)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await;
        match changed {
            Some(n) => {
                // Keep the local flag in step, so that a fallback later starts from the truth.
                self.fallback.set_reported(hotel, down).await;
                n > 0
            }
            None => self.fallback.set_reported(hotel, down).await,
        }
    }
}

impl PmsOutages for SharedOutages {
    fn hold_writes<'a>(&'a self, hotel: &'a str, hold_for: HoldFor<'a>) -> BoxFuture<'a, bool> {
        Box::pin(self.hold_now(hotel, hold_for))
    }

    fn release_writes<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(self.release_now(hotel))
    }

    fn writes_held<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(self.held_now(hotel))
    }

    fn set_reported<'a>(&'a self, hotel: &'a str, down: bool) -> BoxFuture<'a, bool> {
        Box::pin(self.set_reported_now(hotel, down))
    }
}
