//! The read cache (DESIGN §1): results of read operations keyed by hotel, operation and
//! arguments, with the TTLs of the hotel's `pms.cache` block.
//!
//! - Concurrent identical reads coalesce into one adapter call (moka's `try_get_with`).
//! - A last-known-good copy of every result outlives its TTL (bounded by bytes and age), so that
//!   when the PMS is unavailable reads answer with it, flagged stale, as the seed requires.
//! - Both the fresh entries and the stale copies are weighed by their size in bytes, each with
//!   its own byte budget, so that a few huge results cannot grow the host without bound.
//! - Writes invalidate what they change.
//!
//! Kept in memory only: nothing here is written to disk, so personal data in cached results never
//! reaches the state file.

use crate::config::CacheTtls;
use crate::operation::{Call, Outcome};
use chrono::{DateTime, Utc};
use moka::Expiry;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long last-known-good copies are kept at most.
pub const STALE_FOR: Duration = Duration::from_secs(24 * 3600);
/// Bytes of results kept, fresh and stale each (the entries' own estimate of their size).
pub const BUDGET_BYTES: u64 = 256 << 20;
/// Largest single entry kept: anything bigger would push out hundreds of ordinary ones, and is
/// answered without being cached (moka weighs entries in `u32`).
pub const MAX_ENTRY_BYTES: usize = 16 << 20;

/// What a cached result is about; decides its TTL and what a write invalidates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Guest profiles and searches.
    Guest,
    /// One reservation, its balance, or a reservation list.
    Reservation,
    /// Room statuses.
    Room,
}

/// The key of one cached read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// Hotel id.
    pub hotel: Arc<str>,
    /// What it is about.
    pub kind: Kind,
    /// The confirmation number it concerns, when it concerns one reservation.
    pub reservation: Option<String>,
    /// Operation and arguments, canonical.
    pub call: String,
}

impl Key {
    /// The key of `call` for `hotel`, or `None` when the call is not a cacheable read.
    pub fn of(hotel: &Arc<str>, call: &Call) -> Option<Key> {
        let key = |kind, reservation: Option<&String>, call: String| Key {
            hotel: hotel.clone(),
            kind,
            reservation: reservation.cloned(),
            call,
        };
        use crate::model::GuestIdentifier as G;
        Some(match call {
            Call::GetGuest(G::Id(v)) => key(Kind::Guest, None, format!("getGuest\0id\0{v}")),
            Call::GetGuest(G::Email(v)) => key(
                Kind::Guest,
                None,
                format!("getGuest\0email\0{}", v.to_lowercase()),
            ),
            Call::GetGuest(G::Phone(v)) => key(Kind::Guest, None, format!("getGuest\0phone\0{v}")),
            Call::GetGuest(G::ConfirmationNumber(v)) => {
                key(Kind::Guest, None, format!("getGuest\0conf\0{v}"))
            }
            Call::SearchGuests(q) => key(
                Kind::Guest,
                None,
                format!(
                    "searchGuests\0{}\0{}\0{}",
                    q.email.as_deref().unwrap_or_default().to_lowercase(),
                    q.phone.as_deref().unwrap_or_default(),
                    q.name.as_deref().unwrap_or_default()
                ),
            ),
            Call::GetReservation(n) => {
                key(Kind::Reservation, Some(n), format!("getReservation\0{n}"))
            }
            Call::GetBalance(n) => key(Kind::Reservation, Some(n), format!("getBalance\0{n}")),
            Call::GetArrivals(d) => key(Kind::Reservation, None, format!("getArrivals\0{d}")),
            Call::GetDepartures(d) => key(Kind::Reservation, None, format!("getDepartures\0{d}")),
            Call::GetInHouseGuests => key(Kind::Reservation, None, "getInHouseGuests".into()),
            Call::GetRoomStatus(r) => key(Kind::Room, None, format!("getRoomStatus\0{r}")),
            Call::GetAllRoomStatuses => key(Kind::Room, None, "getAllRoomStatuses".into()),
            _ => return None,
        })
    }
}

/// A cached result.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The result.
    pub outcome: Outcome,
    /// When it was fetched from the PMS.
    pub fetched_at: DateTime<Utc>,
    ttl: Duration,
}

/// Where a read was answered from.
#[derive(Clone, Debug)]
pub struct Cached {
    /// The result.
    pub outcome: Outcome,
    /// When it was fetched from the PMS.
    pub fetched_at: DateTime<Utc>,
    /// False when this caller's read went to the PMS.
    pub from_cache: bool,
    /// True when served past its TTL because the PMS failed.
    pub stale: bool,
}

struct PerEntryTtl;

impl Expiry<Key, Arc<Entry>> for PerEntryTtl {
    fn expire_after_create(
        &self,
        _key: &Key,
        value: &Arc<Entry>,
        _now: Instant,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

/// Hit and miss counters.
#[derive(Debug, Default)]
pub struct Counters {
    /// Answered from the fresh cache (including coalesced waiters).
    pub hits: AtomicU64,
    /// Went to the PMS.
    pub misses: AtomicU64,
    /// Answered with a stale copy because the PMS failed.
    pub stale: AtomicU64,
}

/// The cache.
pub struct ReadCache {
    fresh: moka::future::Cache<Key, Arc<Entry>>,
    stale: moka::sync::Cache<Key, Arc<Entry>>,
    counters: Counters,
}

impl Default for ReadCache {
    fn default() -> ReadCache {
        ReadCache::new(BUDGET_BYTES, STALE_FOR)
    }
}

/// The weight of one entry: its key and its result, in bytes.
fn weight(key: &Key, entry: &Arc<Entry>) -> u32 {
    let bytes = std::mem::size_of::<Key>()
        + key.call.len()
        + key.reservation.as_ref().map_or(0, String::len)
        + std::mem::size_of::<Entry>()
        + entry.outcome.approximate_bytes();
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

impl ReadCache {
    /// A cache of at most `budget_bytes` of fresh and as many of stale entries, stale ones kept
    /// `stale_for`.
    pub fn new(budget_bytes: u64, stale_for: Duration) -> ReadCache {
        ReadCache {
            fresh: moka::future::Cache::builder()
                .max_capacity(budget_bytes)
                .weigher(weight)
                .expire_after(PerEntryTtl)
                .support_invalidation_closures()
                .build(),
            stale: moka::sync::Cache::builder()
                .max_capacity(budget_bytes)
                .weigher(weight)
                .time_to_live(stale_for)
                .support_invalidation_closures()
                .build(),
            counters: Counters::default(),
        }
    }

    /// Hit, miss and stale counts.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The TTL of `kind` under `ttls`.
    pub fn ttl(kind: Kind, ttls: &CacheTtls) -> Duration {
        match kind {
            Kind::Guest => ttls.guest,
            Kind::Reservation => ttls.reservation,
            Kind::Room => ttls.room_status,
        }
    }

    /// The fresh result for `key`, or the one `fetch` produces; concurrent callers for the same
    /// key share one `fetch`. When `fetch` fails and `use_stale(&error)` says the failure is the
    /// PMS's, the last-known-good copy is returned instead, flagged stale.
    pub async fn get_or_fetch<E, F>(
        &self,
        key: Key,
        ttl: Duration,
        fetch: F,
        use_stale: impl Fn(&E) -> bool,
    ) -> Result<Cached, Arc<E>>
    where
        F: Future<Output = Result<Outcome, E>>,
        E: Send + Sync + 'static,
    {
        if ttl.is_zero() {
            // Caching disabled for this kind: still keep the last-known-good copy.
            return match fetch.await {
                Ok(outcome) => {
                    let entry = Arc::new(Entry {
                        outcome,
                        fetched_at: Utc::now(),
                        ttl,
                    });
                    self.counters.misses.fetch_add(1, Ordering::Relaxed);
                    self.keep_stale(key, entry.clone());
                    Ok(Cached {
                        outcome: entry.outcome.clone(),
                        fetched_at: entry.fetched_at,
                        from_cache: false,
                        stale: false,
                    })
                }
                Err(e) => self.fallback(&key, Arc::new(e), &use_stale),
            };
        }
        let mut fetched_here = false;
        let result = self
            .fresh
            .try_get_with(key.clone(), async {
                fetched_here = true;
                let outcome = fetch.await?;
                Ok(Arc::new(Entry {
                    outcome,
                    fetched_at: Utc::now(),
                    ttl,
                }))
            })
            .await;
        match result {
            Ok(entry) => {
                if fetched_here {
                    self.counters.misses.fetch_add(1, Ordering::Relaxed);
                    self.keep_stale(key, entry.clone());
                } else {
                    self.counters.hits.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Cached {
                    outcome: entry.outcome.clone(),
                    fetched_at: entry.fetched_at,
                    from_cache: !fetched_here,
                    stale: false,
                })
            }
            Err(e) => self.fallback(&key, e, &use_stale),
        }
    }

    /// Keeps `entry` as the last-known-good copy of `key`, unless it is too big to be worth
    /// keeping (it would push out hundreds of ordinary entries).
    fn keep_stale(&self, key: Key, entry: Arc<Entry>) {
        if entry.outcome.approximate_bytes() <= MAX_ENTRY_BYTES {
            self.stale.insert(key, entry);
        } else {
            self.stale.invalidate(&key);
        }
    }

    fn fallback<E>(
        &self,
        key: &Key,
        error: Arc<E>,
        use_stale: &impl Fn(&E) -> bool,
    ) -> Result<Cached, Arc<E>> {
        if use_stale(&error)
            && let Some(entry) = self.stale.get(key)
        {
            self.counters.stale.fetch_add(1, Ordering::Relaxed);
            return Ok(Cached {
                outcome: entry.outcome.clone(),
                fetched_at: entry.fetched_at,
                from_cache: true,
                stale: true,
            });
        }
        Err(error)
    }

    /// Stores a result fetched outside [`ReadCache::get_or_fetch`] (a scheduled sync), so the
    /// next read is answered from it.
    pub async fn put(&self, key: Key, ttl: Duration, outcome: Outcome) {
        let entry = Arc::new(Entry {
            outcome,
            fetched_at: Utc::now(),
            ttl,
        });
        self.keep_stale(key.clone(), entry.clone());
        if !ttl.is_zero() {
            self.fresh.insert(key, entry).await;
        }
    }

    /// Forgets every fresh entry of `kind` for `hotel` (a vendor webhook said something changed).
    pub fn invalidate_kind(&self, hotel: &str, kind: Kind) {
        let hotel: Arc<str> = hotel.into();
        // The cache was built with invalidation closures enabled, so this cannot fail.
        let _ = self
            .fresh
            .invalidate_entries_if(move |k, _| k.hotel == hotel && k.kind == kind);
    }

    /// Forgets every fresh balance of `hotel` (a vendor webhook said a payment changed), and
    /// nothing else of its reservations.
    pub fn invalidate_balances(&self, hotel: &str) {
        let hotel: Arc<str> = hotel.into();
        // The cache was built with invalidation closures enabled, so this cannot fail.
        let _ = self.fresh.invalidate_entries_if(move |k, _| {
            k.hotel == hotel && k.kind == Kind::Reservation && k.call.starts_with("getBalance\0")
        });
    }

    /// Forgets what a write changes. A note or a check-out change on reservation `n` → that
    /// reservation and every reservation list of the hotel; a charge → that reservation's balance;
    /// preferences → every guest entry of the hotel. Last-known-good copies stay: when the PMS
    /// is down, an older copy flagged stale still serves Jack better than no answer.
    pub fn invalidate_for_write(&self, hotel: &str, call: &Call) {
        let hotel: Arc<str> = hotel.into();
        let predicate: Box<dyn Fn(&Key) -> bool + Send + Sync> = match call {
            Call::AddReservationNote {
                confirmation_number,
                ..
            }
            | Call::UpdateCheckoutTime {
                confirmation_number,
                ..
            } => {
                let n = confirmation_number.clone();
                Box::new(move |k: &Key| {
                    k.kind == Kind::Reservation
                        && (k.reservation.is_none() || k.reservation.as_deref() == Some(n.as_str()))
                        && !k.call.starts_with("getBalance")
                })
            }
            Call::PostCharge {
                confirmation_number,
                ..
            } => {
                let n = confirmation_number.clone();
                Box::new(move |k: &Key| {
                    k.kind == Kind::Reservation && k.call == format!("getBalance\0{n}")
                })
            }
            Call::UpdateGuestPreferences { .. } => Box::new(|k: &Key| k.kind == Kind::Guest),
            _ => return,
        };
        // The cache was built with invalidation closures enabled, so this cannot fail.
        let _ = self
            .fresh
            .invalidate_entries_if(move |k, _| k.hotel == hotel && predicate(k));
    }
}

#[cfg(test)]
mod tests;
