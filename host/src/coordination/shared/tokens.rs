//! OAuth tokens shared by every host: one token per [`TokenKey`] for the cluster, refreshed by
//! one host at a time.
//!
//! - A host keeps the token it last used and sends no Redis command while it is fresh: a read
//!   costs no round trip for its token. When the token is due (5/6 of its lifetime), or the
//!   PMS refused it with a 401, the host reads the cluster's token; only if that one is due or
//!   refused too does it refresh.
//! - A refresh takes a lock in Redis (with expiry, [`LOCK_TTL`]) whose value carries a fencing
//!   number from a counter. The new token is stored only by the lock's holder and only over a
//!   token with a smaller fencing number, so a host that was too slow (its lock expired and
//!   another host refreshed) can never overwrite a newer token. The holder re-reads the token
//!   after taking the lock: another host may have just stored one.
//! - Hosts that find the lock taken wait for the new token (polling every [`POLL`]) instead of
//!   fetching their own; within the host, callers for one key queue behind one lock, so 30
//!   concurrent calls over three hosts with an expired token make one token request.
//! - Tokens are sealed in Redis (bound to their key name), whose name is a keyed hash of the
//!   hotel, endpoint, grant and audience: nothing in Redis shows a token.
//! - The 401 rule of [`REJECTION_WINDOW`] holds for the cluster: the stored token records when
//!   it replaced a refused one.
//! - While Redis is unreachable the host keeps tokens alone ([`TokenCache`]).

use super::link::Link;
use crate::egress::EgressError;
use crate::egress::oauth::{FetchedToken, REJECTION_WINDOW, TokenCache, TokenKey, TokenStore};
use crate::vault::Secret;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// How long a refresh lock lives: a host that dies mid-refresh holds the others up this long
/// at most.
pub const LOCK_TTL: Duration = Duration::from_secs(30);
/// How often a host waiting for another's refresh looks for the new token.
pub const POLL: Duration = Duration::from_millis(25);

/// Takes the refresh lock: a new fencing number from the counter, and the lock if free.
/// Returns the fencing number, or 0 when another host holds the lock.
pub(super) static LOCK: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local f = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 86400000 * 400)
if redis.call('SET', KEYS[1], ARGV[1] .. ':' .. f, 'NX', 'PX', ARGV[2]) then return f end
return 0
",
    )
});

/// Stores a token if this host's lock is still the lock (or none is held) and the stored
/// token is older (smaller fencing number); releases the lock. 1 when stored.
pub(super) static STORE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local held = redis.call('GET', KEYS[2])
if held and held ~= ARGV[1] then return 0 end
local fence = tonumber(redis.call('HGET', KEYS[1], 'fence') or '0')
if fence >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[3], 'fence', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
if held then redis.call('DEL', KEYS[2]) end
return 1
",
    )
});

/// Releases the lock if this host still holds it.
static RELEASE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// One token as kept (sealed in Redis, and in this host's slot).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Record {
    access: String,
    fence: u64,
    refresh_at_ms: i64,
    valid_until_ms: i64,
    replaced_rejected_at_ms: Option<i64>,
}

impl Drop for Record {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.access);
    }
}

impl Record {
    /// True when the token must be replaced: due for refresh, or refused by the PMS and the
    /// last refusal was not already answered with a new token within the window.
    fn due(&self, rejected: Option<&Secret>, now_ms: i64) -> bool {
        let refused = rejected.is_some_and(|r| r.expose() == self.access);
        let recently_replaced = self
            .replaced_rejected_at_ms
            .is_some_and(|at| now_ms.saturating_sub(at) < REJECTION_WINDOW.as_millis() as i64);
        if refused && recently_replaced {
            tracing::warn!(
                "the PMS refused an OAuth token that replaced a refused one less than {} s ago; not refreshing again",
                REJECTION_WINDOW.as_secs()
            );
        }
        now_ms >= self.refresh_at_ms || (refused && !recently_replaced)
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Record>>>;

/// The cluster's tokens, in Redis (see the module docs).
pub struct SharedTokens {
    link: Arc<Link>,
    slots: Mutex<HashMap<TokenKey, Slot>>,
    /// Tokens kept alone while Redis is down.
    fallback: TokenCache,
}

impl SharedTokens {
    /// Tokens kept in the Redis of `link`.
    pub fn new(link: Arc<Link>) -> SharedTokens {
        SharedTokens {
            link,
            slots: Mutex::default(),
            fallback: TokenCache::default(),
        }
    }

    fn slot(&self, key: &TokenKey) -> Slot {
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default()
            .clone()
    }

    fn names(&self, key: &TokenKey) -> (String, String, String) {
        let id = self.link.hide(&format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            key.hotel, key.endpoint, key.grant, key.audience
        ));
        (
            self.link.key(&format!("tok:{id}")),
            self.link.key(&format!("tok:{id}:lock")),
            self.link.key(&format!("tok:{id}:fence")),
        )
    }

    /// The cluster's token for `key`: `Ok(None)` when there is none (or it does not open),
    /// `Err(())` when Redis failed.
    async fn read(&self, name: &str) -> Result<Option<Record>, ()> {
        let got: Option<(Option<Vec<u8>>, Option<u64>)> = self
            .link
            .run("tokens", |mut conn| async move {
                ::redis::cmd("HMGET")
                    .arg(name)
                    .arg("value")
                    .arg("fence")
                    .query_async(&mut conn)
                    .await
            })
            .await;
        let (Some(sealed), _) = got.ok_or(())? else {
            return Ok(None);
        };
        Ok(self
            .link
            .open(name, &sealed)
            .and_then(|plain| serde_json::from_slice::<Record>(&plain).ok()))
    }

    async fn release(&self, lock: &str, holder: &str) {
        let _: Option<u8> = self
            .link
            .run("tokens", |mut conn| async move {
                RELEASE.key(lock).arg(holder).invoke_async(&mut conn).await
            })
            .await;
    }

    async fn token_now(
        &self,
        key: &TokenKey,
        rejected: Option<&Secret>,
        fetch: BoxFuture<'_, Result<FetchedToken, EgressError>>,
    ) -> Result<Secret, EgressError> {
        let slot = self.slot(key);
        // This host's callers for one key wait for one another: one of them talks to Redis.
        let mut kept = slot.lock().await;
        if let Some(record) = kept.as_ref().filter(|r| !r.due(rejected, now_ms())) {
            return Ok(Secret::new(record.access.clone()));
        }
        if !self.link.is_up() {
            self.link.alone("tokens");
            return self.fallback.token(key, rejected, fetch).await;
        }
        let (name, lock, fence_counter) = self.names(key);
        let mut fetch = Some(fetch);
        let mut waited_since: Option<tokio::time::Instant> = None;
        let mut warned = false;
        loop {
            let Ok(current) = self.read(&name).await else {
                return self.fall_back(key, rejected, fetch).await;
            };
            if let Some(record) = current.as_ref().filter(|r| !r.due(rejected, now_ms())) {
                *kept = Some(record.clone());
                return Ok(Secret::new(record.access.clone()));
            }
            let holder_prefix = self.link.node().to_owned();
            let taken: Option<u64> = self
                .link
                .run("tokens", |mut conn| {
                    let (lock, fence_counter, holder_prefix) =
                        (&lock, &fence_counter, &holder_prefix);
                    async move {
                        LOCK.key(lock)
                            .key(fence_counter)
                            .arg(holder_prefix)
                            .arg(LOCK_TTL.as_millis() as u64)
                            .invoke_async(&mut conn)
                            .await
                    }
                })
                .await;
            let fence = match taken {
                None => return self.fall_back(key, rejected, fetch).await,
                Some(0) => {
                    // Another host is refreshing: wait for its token (the next read finds it).
                    // Its lock expires after LOCK_TTL, and this host then takes it.
                    let since = *waited_since.get_or_insert_with(tokio::time::Instant::now);
                    if since.elapsed() > LOCK_TTL && !warned {
                        warned = true;
                        tracing::warn!(hotel = %key.hotel, "another host's token refresh has not finished in {} s", LOCK_TTL.as_secs());
                    }
                    tokio::time::sleep(POLL).await;
                    continue;
                }
                Some(fence) => fence,
            };
            let holder = format!("{holder_prefix}:{fence}");
            // Another host may have stored a token between the read and the lock.
            match self.read(&name).await {
                Ok(Some(record)) if !record.due(rejected, now_ms()) => {
                    self.release(&lock, &holder).await;
                    let access = Secret::new(record.access.clone());
                    *kept = Some(record);
                    return Ok(access);
                }
                _ => {}
            }
            let Some(fetch) = fetch.take() else {
                self.release(&lock, &holder).await;
                return Err(EgressError::Credentials("no OAuth token".into()));
            };
            let fetched = match fetch.await {
                Ok(f) => f,
                Err(e) => {
                    self.release(&lock, &holder).await;
                    return Err(e);
                }
            };
            let after_rejection = current
                .as_ref()
                .is_some_and(|r| rejected.is_some_and(|x| x.expose() == r.access));
            let now = now_ms();
            let lifetime_ms = i64::try_from(fetched.lifetime.as_millis()).unwrap_or(i64::MAX);
            let record = Record {
                access: fetched.access.expose().to_owned(),
                fence,
                refresh_at_ms: now.saturating_add(lifetime_ms / 6 * 5),
                valid_until_ms: now.saturating_add(lifetime_ms),
                replaced_rejected_at_ms: after_rejection.then_some(now),
            };
            self.store(key, &name, &lock, &holder, &record, fetched.lifetime)
                .await;
            *kept = Some(record);
            return Ok(fetched.access);
        }
    }

    async fn store(
        &self,
        key: &TokenKey,
        name: &str,
        lock: &str,
        holder: &str,
        record: &Record,
        lifetime: Duration,
    ) {
        let Ok(plain) = serde_json::to_vec(record).map(zeroize::Zeroizing::new) else {
            return;
        };
        let sealed = self.link.seal(name, &plain);
        let valid = self.link.key("tokvalid");
        let ttl_ms = u64::try_from(lifetime.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let stored: Option<u8> = self
            .link
            .run("tokens", |mut conn| {
                let (sealed, valid) = (&sealed, &valid);
                async move {
                    STORE
                        .key(name)
                        .key(lock)
                        .key(valid)
                        .arg(holder)
                        .arg(record.fence)
                        .arg(sealed.as_slice())
                        .arg(ttl_ms)
                        .arg(&key.hotel)
                        .arg(record.valid_until_ms)
                        .invoke_async(&mut conn)
                        .await
                }
            })
            .await;
        if stored == Some(0) {
            tracing::info!(hotel = %key.hotel, "a newer OAuth token is already shared; this host's refresh is used by this call only");
        }
    }

    async fn fall_back(
        &self,
        key: &TokenKey,
        rejected: Option<&Secret>,
        fetch: Option<BoxFuture<'_, Result<FetchedToken, EgressError>>>,
    ) -> Result<Secret, EgressError> {
        match fetch {
            Some(fetch) => self.fallback.token(key, rejected, fetch).await,
            None => Err(EgressError::Credentials("no OAuth token".into())),
        }
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl TokenStore for SharedTokens {
    fn token<'a>(
        &'a self,
        key: &'a TokenKey,
        rejected: Option<&'a Secret>,
        fetch: BoxFuture<'a, Result<FetchedToken, EgressError>>,
    ) -> BoxFuture<'a, Result<Secret, EgressError>> {
        Box::pin(self.token_now(key, rejected, fetch))
    }

    fn valid_until<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, Option<DateTime<Utc>>> {
        Box::pin(async move {
            let valid = self.link.key("tokvalid");
            let shared: Option<Option<i64>> = self
                .link
                .run("tokens", |mut conn| async move {
                    ::redis::cmd("HGET")
                        .arg(&valid)
                        .arg(hotel)
                        .query_async(&mut conn)
                        .await
                })
                .await;
            match shared {
                Some(Some(ms)) => DateTime::<Utc>::from_timestamp_millis(ms),
                Some(None) => None,
                None => self.fallback.valid_until(hotel).await,
            }
        })
    }

    fn current(&self, hotel: &str) -> Vec<Secret> {
        let slots: Vec<Slot> = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(k, _)| k.hotel == hotel)
            .map(|(_, s)| s.clone())
            .collect();
        let mut out: Vec<Secret> = slots
            .iter()
            .filter_map(|s| {
                s.try_lock()
                    .ok()
                    .and_then(|r| r.as_ref().map(|r| Secret::new(r.access.clone())))
            })
            .collect();
        out.extend(self.fallback.current(hotel));
        out
    }
}
