//! The read cache (DESIGN §1): results of read operations keyed by hotel, operation and
//! arguments, with the TTLs of the hotel's `pms.cache` block.
//!
//! - Concurrent identical reads coalesce into one adapter call (moka's `try_get_with`).
//! - A last-known-good copy of every result outlives its TTL (bounded by bytes and age), so that
//!   when the PMS is unavailable reads answer with it, flagged stale, as the seed requires.
//! - Both the fresh entries and the stale copies are weighed by their size in bytes, each with
//!   its own byte budget, so that a few huge results cannot grow the host without bound.
//! - Writes invalidate what they change ([`Invalidation`]).
//! - With several hosts, a [`SharedCache`] (Redis) is a second level behind this one: a miss
//!   here looks there before the PMS, results fetched here are stored there, its last-known-good
//!   copies answer when this host has none, and invalidations reach it (and, through it, every
//!   other host's first level) before a write's answer returns.
//!
//! Kept in memory only: nothing here is written to disk, so personal data in cached results never
//! reaches the state file (the shared level seals what it stores).

use crate::config::CacheTtls;
use crate::operation::{Call, Outcome};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
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
    /// How long it is fresh from now (what this level keeps it for).
    pub ttl: Duration,
}

/// What changed, as every host's cache must forget it: the one description a write (or a
/// vendor's webhook) gives of its effect, applied here and sent to the other hosts.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Invalidation {
    /// A note or a check-out change on a reservation: that reservation and every reservation
    /// list of the hotel, not balances.
    #[serde(rename_all = "camelCase")]
    Reservation {
        /// The reservation.
        confirmation_number: String,
    },
    /// A charge: that reservation's balance.
    #[serde(rename_all = "camelCase")]
    Balance {
        /// The reservation.
        confirmation_number: String,
    },
    /// Preferences: every guest entry of the hotel.
    Guests,
    /// Everything of one kind (a vendor webhook said something changed).
    Of {
        /// The kind.
        of: Kind,
    },
    /// Every balance of the hotel (a vendor webhook said a payment changed).
    Balances,
}

impl Invalidation {
    /// What `call` (a write) changes; `None` for reads.
    pub fn of_write(call: &Call) -> Option<Invalidation> {
        Some(match call {
            Call::AddReservationNote {
                confirmation_number,
                ..
            }
            | Call::UpdateCheckoutTime {
                confirmation_number,
                ..
            } => Invalidation::Reservation {
                confirmation_number: confirmation_number.clone(),
            },
            Call::PostCharge {
                confirmation_number,
                ..
            } => Invalidation::Balance {
                confirmation_number: confirmation_number.clone(),
            },
            Call::UpdateGuestPreferences { .. } => Invalidation::Guests,
            _ => return None,
        })
    }

    /// True when the entry under `key` (of the same hotel) must be forgotten.
    pub fn covers(&self, key: &Key) -> bool {
        let balance = key.call.starts_with("getBalance\0");
        match self {
            Invalidation::Reservation {
                confirmation_number: n,
            } => {
                key.kind == Kind::Reservation
                    && (key.reservation.is_none() || key.reservation.as_deref() == Some(n.as_str()))
                    && !balance
            }
            Invalidation::Balance {
                confirmation_number: n,
            } => key.kind == Kind::Reservation && balance && key.reservation.as_deref() == Some(n),
            Invalidation::Guests => key.kind == Kind::Guest,
            Invalidation::Of { of } => key.kind == *of,
            Invalidation::Balances => key.kind == Kind::Reservation && balance,
        }
    }
}

/// A result found in the shared level, and the generation it was looked up under (what a
/// result fetched after a miss is stored under, so that an invalidation between the lookup and
/// the store hides it).
pub struct SharedLookup {
    /// The fresh entry, if there is one.
    pub entry: Option<Entry>,
    /// Opaque to the cache: handed back to [`SharedCache::put`].
    pub generation: String,
}

/// A second cache level shared by several hosts (see the module docs). Every method may fail
/// quietly (the store unreachable): the cache then behaves as if the level were empty.
pub trait SharedCache: Send + Sync {
    /// The fresh entry of `key`, if any.
    fn get<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Option<SharedLookup>>;

    /// The last-known-good copy of `key`, if any.
    fn get_stale<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Option<Entry>>;

    /// Stores `entry` for `key`: fresh for `entry.ttl` (under `generation` from the lookup, or
    /// the current one when `None`) and as the last-known-good copy.
    fn put<'a>(
        &'a self,
        key: &'a Key,
        entry: &'a Entry,
        generation: Option<&'a str>,
    ) -> BoxFuture<'a, ()>;

    /// Forgets what `what` changed of `hotel` in the shared level and tells every other host to
    /// forget it in theirs; returns when that is done (or the store failed).
    fn invalidate<'a>(&'a self, hotel: &'a str, what: &'a Invalidation) -> BoxFuture<'a, ()>;

    /// (hits, misses, stale) of `hotel` summed over every host, when the store knows them.
    fn counts<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, Option<(u64, u64, u64)>>;
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
    shared: Option<Arc<dyn SharedCache>>,
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
            shared: None,
        }
    }

    /// This cache with `shared` as its second level.
    pub fn with_shared(mut self, shared: Arc<dyn SharedCache>) -> ReadCache {
        self.shared = Some(shared);
        self
    }

    /// The second level, if there is one.
    pub fn shared(&self) -> Option<&Arc<dyn SharedCache>> {
        self.shared.as_ref()
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
    /// PMS's, the last-known-good copy is returned instead, flagged stale. With a shared level,
    /// a miss here looks there before fetching, and what is fetched is stored there.
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
                    self.keep_stale(key.clone(), entry.clone());
                    if let Some(shared) = &self.shared {
                        shared.put(&key, &entry, None).await;
                    }
                    Ok(Cached {
                        outcome: entry.outcome.clone(),
                        fetched_at: entry.fetched_at,
                        from_cache: false,
                        stale: false,
                    })
                }
                Err(e) => self.fallback(&key, Arc::new(e), &use_stale).await,
            };
        }
        let mut fetched_here = false;
        let result = self
            .fresh
            .try_get_with(key.clone(), async {
                let mut generation = None;
                if let Some(shared) = &self.shared
                    && let Some(lookup) = shared.get(&key).await
                {
                    if let Some(mut entry) = lookup.entry {
                        // Fresh here for what is left of its life there.
                        let age = (Utc::now() - entry.fetched_at).to_std().unwrap_or_default();
                        entry.ttl = ttl.saturating_sub(age).max(Duration::from_millis(1));
                        return Ok(Arc::new(entry));
                    }
                    generation = Some(lookup.generation);
                }
                fetched_here = true;
                let outcome = fetch.await?;
                let entry = Arc::new(Entry {
                    outcome,
                    fetched_at: Utc::now(),
                    ttl,
                });
                if let Some(shared) = &self.shared {
                    shared.put(&key, &entry, generation.as_deref()).await;
                }
                Ok(entry)
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
            Err(e) => self.fallback(&key, e, &use_stale).await,
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

    /// The last-known-good copy of `key` (this host's, else the shared level's) when the
    /// failure is the PMS's; the error otherwise.
    async fn fallback<E>(
        &self,
        key: &Key,
        error: Arc<E>,
        use_stale: &impl Fn(&E) -> bool,
    ) -> Result<Cached, Arc<E>> {
        if !use_stale(&error) {
            return Err(error);
        }
        let entry = match self.stale.get(key) {
            Some(entry) => Some(entry),
            None => match &self.shared {
                Some(shared) => shared.get_stale(key).await.map(Arc::new),
                None => None,
            },
        };
        match entry {
            Some(entry) => {
                self.counters.stale.fetch_add(1, Ordering::Relaxed);
                Ok(Cached {
                    outcome: entry.outcome.clone(),
                    fetched_at: entry.fetched_at,
                    from_cache: true,
                    stale: true,
                })
            }
            None => Err(error),
        }
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
        if let Some(shared) = &self.shared {
            shared.put(&key, &entry, None).await;
        }
        if !ttl.is_zero() {
            self.fresh.insert(key, entry).await;
        }
    }

    /// Forgets what `what` changed of `hotel`, here and (with a shared level) in the shared
    /// level and every other host's cache, before it returns. Last-known-good copies stay:
    /// when the PMS is down, an older copy flagged stale still serves Jack better than no
    /// answer.
    pub async fn invalidate(&self, hotel: &str, what: &Invalidation) {
        self.forget_here(hotel, what);
        if let Some(shared) = &self.shared {
            shared.invalidate(hotel, what).await;
        }
    }

    /// Forgets what `what` changed of `hotel` in this host's fresh entries only (another host
    /// told of it).
    pub fn forget_here(&self, hotel: &str, what: &Invalidation) {
        let hotel: Arc<str> = hotel.into();
        let what = what.clone();
        // The cache was built with invalidation closures enabled, so this cannot fail.
        let _ = self
            .fresh
            .invalidate_entries_if(move |k, _| k.hotel == hotel && what.covers(k));
    }

    /// Forgets every fresh entry of this host (it may have missed other hosts' invalidations).
    pub fn forget_all_here(&self) {
        self.fresh.invalidate_all();
    }

    /// Forgets what write `call` changes (see [`Invalidation::of_write`]).
    pub async fn invalidate_for_write(&self, hotel: &str, call: &Call) {
        if let Some(what) = Invalidation::of_write(call) {
            self.invalidate(hotel, &what).await;
        }
    }
}

#[cfg(test)]
mod tests;
