//! The read cache's second level, in Redis ([`SharedCache`]).
//!
//! - **Sealed**: every value is sealed (bound to its key name), and key names hold a keyed hash
//!   of the call (which may hold an email or a phone number), never the call itself.
//! - **Invalidation by generations**: each entry is stored under the generations of the groups
//!   it belongs to (its kind; one reservation, or the reservation lists; balances). A write
//!   bumps the generations of the groups it changes, in one script that also publishes the
//!   invalidation to every host (whose first levels forget the same entries): entries stored
//!   under an older generation are never found again and expire by their TTL. A result fetched
//!   after a miss is stored under the generation its lookup saw, so a write between the two
//!   hides it instead of it hiding the write.
//! - **Last-known-good copies** are kept apart, without generations, for [`STALE_FOR`], so that a
//!   host that never read a hotel can answer `stale: true` while the PMS is down.
//! - Entries larger than [`MAX_SHARED_ENTRY`] (serialized) are not shared.
//! - One round trip per lookup, per store and per invalidation; none for a first-level hit.
//! - Each host publishes its hit, miss and stale counts per hotel every [`STATS_EVERY`]; health
//!   sums them.
//!
//! The scripts build key names inside Redis, so this is for a single Redis server (or a
//! primary with replicas), not Redis Cluster.

use super::bus::Bus;
use super::link::Link;
use crate::cache::{Entry, Invalidation, Key, Kind, STALE_FOR, SharedCache, SharedLookup};
use crate::model::{Guest, Money, Reservation, RoomStatus};
use crate::operation::Outcome;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

/// Largest serialized entry shared (bigger ones stay in each host's first level).
pub const MAX_SHARED_ENTRY: usize = 4 << 20;
/// Longest a fresh entry is kept in Redis, whatever the TTL says.
pub const MAX_SHARED_TTL: Duration = Duration::from_secs(86_400);
/// How long a hotel's generations live after their last change (longer than any entry).
const GENERATIONS_FOR: Duration = Duration::from_secs(7 * 86_400);
/// How often this host publishes its cache counts.
pub const STATS_EVERY: Duration = Duration::from_secs(2);

/// Looks an entry up under the current generations of its groups.
/// KEYS[1]: the hotel's generations. ARGV[1]: the entry's base name; ARGV[2..]: its groups.
/// Returns `{value or false, generation}`.
static GET: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
local gens = redis.call('HMGET', KEYS[1], unpack(fields))
local parts = {}
for i = 1, #gens do parts[#parts + 1] = gens[i] or '0' end
local generation = table.concat(parts, '.')
local value = redis.call('GET', ARGV[1] .. ':' .. generation)
return {value, generation}
",
    )
});

/// Stores an entry: fresh under generation ARGV[2] ('' = the current one) for ARGV[4] ms
/// (0 = not fresh), and as the last-known-good copy KEYS[2] for ARGV[5] ms.
/// KEYS[1]: generations; ARGV[1]: base name; ARGV[3]: sealed fresh value; ARGV[6]: sealed
/// stale copy; ARGV[7..]: the groups.
static PUT: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
local generation = ARGV[2]
if generation == '' then
  local fields = {}
  for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
  local gens = redis.call('HMGET', KEYS[1], unpack(fields))
  local parts = {}
  for i = 1, #gens do parts[#parts + 1] = gens[i] or '0' end
  generation = table.concat(parts, '.')
end
if tonumber(ARGV[4]) > 0 then
  redis.call('SET', ARGV[1] .. ':' .. generation, ARGV[3], 'PX', ARGV[4])
end
redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[5])
return 1
",
    )
});

/// Bumps the generations ARGV[4..] of a hotel (KEYS[1], kept ARGV[3] ms from now) and
/// publishes ARGV[2] on channel ARGV[1].
static INVALIDATE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
for i = 4, #ARGV do redis.call('HINCRBY', KEYS[1], ARGV[i], 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
",
    )
});

/// A cacheable result as stored (tagged: the in-process [`Outcome`] serializes untagged).
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "camelCase")]
enum Stored {
    Guest(Option<Guest>),
    Guests(Vec<Guest>),
    Reservation(Option<Reservation>),
    Reservations(Vec<Reservation>),
    Balance(Money),
    Room(Option<RoomStatus>),
    Rooms(Vec<RoomStatus>),
}

impl Stored {
    fn of(outcome: &Outcome) -> Option<Stored> {
        Some(match outcome {
            Outcome::Guest(g) => Stored::Guest(g.clone()),
            Outcome::Guests(g) => Stored::Guests(g.clone()),
            Outcome::Reservation(r) => Stored::Reservation(r.clone()),
            Outcome::Reservations(r) => Stored::Reservations(r.clone()),
            Outcome::Balance(m) => Stored::Balance(m.clone()),
            Outcome::Room(r) => Stored::Room(r.clone()),
            Outcome::Rooms(r) => Stored::Rooms(r.clone()),
            _ => return None,
        })
    }

    fn outcome(self) -> Outcome {
        match self {
            Stored::Guest(g) => Outcome::Guest(g),
            Stored::Guests(g) => Outcome::Guests(g),
            Stored::Reservation(r) => Outcome::Reservation(r),
            Stored::Reservations(r) => Outcome::Reservations(r),
            Stored::Balance(m) => Outcome::Balance(m),
            Stored::Room(r) => Outcome::Room(r),
            Stored::Rooms(r) => Outcome::Rooms(r),
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Value {
    fetched_at_ms: i64,
    outcome: Stored,
}

/// The shared level (see the module docs).
pub struct RedisCache {
    link: Arc<Link>,
    bus: Arc<Bus>,
    /// Hotels this host has looked up, whose counts it publishes.
    hotels: Mutex<BTreeSet<String>>,
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Guest => "guest",
        Kind::Reservation => "reservation",
        Kind::Room => "room",
    }
}

impl RedisCache {
    /// The shared level in `link`'s Redis, telling other hosts through `bus`.
    pub fn new(link: Arc<Link>, bus: Arc<Bus>) -> Arc<RedisCache> {
        Arc::new(RedisCache {
            link,
            bus,
            hotels: Mutex::default(),
        })
    }

    /// Publishes this host's counts of every hotel it has looked up, every [`STATS_EVERY`],
    /// until the cache is dropped.
    pub fn spawn_stats(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(STATS_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(cache) = weak.upgrade() else { return };
                cache.publish_counts().await;
            }
        })
    }

    async fn publish_counts(&self) {
        let hotels: Vec<String> = self
            .hotels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        if hotels.is_empty() || !self.link.is_up() {
            return;
        }
        let node = self.link.node().to_owned();
        let _: Option<()> = self
            .link
            .run("cache", |mut conn| async move {
                let mut pipe = ::redis::pipe();
                for hotel in &hotels {
                    let (hits, misses, stale) = crate::metrics::metrics().cache_counts(hotel);
                    let key = self.link.key(&format!("cstats:{hotel}"));
                    pipe.cmd("HSET")
                        .arg(&key)
                        .arg(format!("{node}:hits"))
                        .arg(hits)
                        .arg(format!("{node}:misses"))
                        .arg(misses)
                        .arg(format!("{node}:stale"))
                        .arg(stale)
                        .ignore();
                    pipe.cmd("PEXPIRE").arg(&key).arg(86_400_000u64).ignore();
                }
                pipe.query_async(&mut conn).await
            })
            .await;
    }

    /// The generations hash of `hotel`, the entry's base name (fresh copies live under it plus
    /// a generation), its last-known-good copy's name, and its groups.
    fn names(&self, key: &Key) -> (String, String, String, Vec<String>) {
        let hotel = &*key.hotel;
        let id = self.link.hide(&key.call);
        let mut groups = vec![format!("k:{}", kind_name(key.kind))];
        if key.kind == Kind::Reservation {
            let balance = key.call.starts_with("getBalance\0");
            match (&key.reservation, balance) {
                (Some(n), true) => {
                    groups.push("b".into());
                    groups.push(format!("rb:{}", self.link.hide(n)));
                }
                (Some(n), false) => groups.push(format!("r:{}", self.link.hide(n))),
                (None, _) => groups.push("lists".into()),
            }
        }
        (
            self.link.key(&format!("cgen:{hotel}")),
            self.link.key(&format!("c:{hotel}:{id}")),
            self.link.key(&format!("cs:{hotel}:{id}")),
            groups,
        )
    }

    /// The groups whose generations `what` bumps.
    fn bumped(&self, what: &Invalidation) -> Vec<String> {
        match what {
            Invalidation::Reservation {
                confirmation_number,
            } => vec![
                format!("r:{}", self.link.hide(confirmation_number)),
                "lists".into(),
            ],
            Invalidation::Balance {
                confirmation_number,
            } => vec![format!("rb:{}", self.link.hide(confirmation_number))],
            Invalidation::Guests => vec![format!("k:{}", kind_name(Kind::Guest))],
            Invalidation::Of { of } => vec![format!("k:{}", kind_name(*of))],
            Invalidation::Balances => vec!["b".into()],
        }
    }

    fn open(&self, name: &str, sealed: &[u8]) -> Option<Entry> {
        if sealed.len() > MAX_SHARED_ENTRY + 64 {
            return None;
        }
        let plain = self.link.open(name, sealed)?;
        let value: Value = serde_json::from_slice(&plain).ok()?;
        Some(Entry {
            outcome: value.outcome.outcome(),
            fetched_at: DateTime::<Utc>::from_timestamp_millis(value.fetched_at_ms)?,
            ttl: Duration::ZERO,
        })
    }

    fn note_hotel(&self, hotel: &str) {
        let mut hotels = self.hotels.lock().unwrap_or_else(|p| p.into_inner());
        if !hotels.contains(hotel) {
            hotels.insert(hotel.to_owned());
        }
    }

    async fn get_now(&self, key: &Key) -> Option<SharedLookup> {
        self.note_hotel(&key.hotel);
        let (gens, base, _, groups) = self.names(key);
        let (value, generation): (Option<Vec<u8>>, String) = self
            .link
            .run("cache", |mut conn| {
                let (gens, base, groups) = (&gens, &base, &groups);
                async move {
                    let mut call = GET.key(gens);
                    call.arg(base);
                    for g in groups {
                        call.arg(g);
                    }
                    call.invoke_async(&mut conn).await
                }
            })
            .await?;
        Some(SharedLookup {
            entry: value.and_then(|v| self.open(&base, &v)),
            generation,
        })
    }

    async fn get_stale_now(&self, key: &Key) -> Option<Entry> {
        let (_, _, stale, _) = self.names(key);
        let value: Option<Vec<u8>> = self
            .link
            .run("cache", |mut conn| {
                let stale = &stale;
                async move { ::redis::cmd("GET").arg(stale).query_async(&mut conn).await }
            })
            .await?;
        value.and_then(|v| self.open(&stale, &v))
    }

    async fn put_now(&self, key: &Key, entry: &Entry, generation: Option<&str>) {
        let Some(outcome) = Stored::of(&entry.outcome) else {
            return;
        };
        let value = Value {
            fetched_at_ms: entry.fetched_at.timestamp_millis(),
            outcome,
        };
        let Ok(plain) = serde_json::to_vec(&value).map(zeroize::Zeroizing::new) else {
            return;
        };
        if plain.len() > MAX_SHARED_ENTRY {
            return;
        }
        let (gens, base, stale, groups) = self.names(key);
        let fresh = self.link.seal(&base, &plain);
        let stale_copy = self.link.seal(&stale, &plain);
        let fresh_ms = u64::try_from(entry.ttl.min(MAX_SHARED_TTL).as_millis()).unwrap_or(0);
        let stale_ms = u64::try_from(STALE_FOR.as_millis()).unwrap_or(u64::MAX);
        let generation = generation.unwrap_or("");
        let _: Option<u8> = self
            .link
            .run("cache", |mut conn| {
                let (gens, base, stale, groups, fresh, stale_copy) =
                    (&gens, &base, &stale, &groups, &fresh, &stale_copy);
                async move {
                    let mut call = PUT.key(gens);
                    call.key(stale)
                        .arg(base)
                        .arg(generation)
                        .arg(fresh.as_slice())
                        .arg(fresh_ms)
                        .arg(stale_ms)
                        .arg(stale_copy.as_slice());
                    for g in groups {
                        call.arg(g);
                    }
                    call.invoke_async(&mut conn).await
                }
            })
            .await;
    }

    async fn invalidate_now(&self, hotel: &str, what: &Invalidation) {
        let gens = self.link.key(&format!("cgen:{hotel}"));
        let message = super::bus::Message::Invalidate {
            hotel: hotel.to_owned(),
            what: what.clone(),
            from: self.link.node().to_owned(),
        };
        let Ok(text) = serde_json::to_string(&message) else {
            return;
        };
        let groups = self.bumped(what);
        let channel = self.bus.channel().to_owned();
        let done: Option<u8> = self
            .link
            .run("cache", |mut conn| {
                let (gens, groups, channel, text) = (&gens, &groups, &channel, &text);
                async move {
                    let mut call = INVALIDATE.key(gens);
                    call.arg(channel)
                        .arg(text)
                        .arg(GENERATIONS_FOR.as_millis() as u64);
                    for g in groups {
                        call.arg(g);
                    }
                    call.invoke_async(&mut conn).await
                }
            })
            .await;
        if done.is_none() {
            tracing::warn!(hotel = %hotel, "Redis did not take a cache invalidation: other hosts keep their copies until their TTL");
        }
    }

    async fn counts_now(&self, hotel: &str) -> Option<(u64, u64, u64)> {
        let key = self.link.key(&format!("cstats:{hotel}"));
        let all: std::collections::HashMap<String, u64> = self
            .link
            .run("cache", |mut conn| {
                let key = &key;
                async move {
                    ::redis::cmd("HGETALL")
                        .arg(key)
                        .query_async(&mut conn)
                        .await
                }
            })
            .await?;
        let mut sums = (0u64, 0u64, 0u64);
        for (field, n) in all {
            if field.ends_with(":hits") {
                sums.0 = sums.0.saturating_add(n);
            } else if field.ends_with(":misses") {
                sums.1 = sums.1.saturating_add(n);
            } else if field.ends_with(":stale") {
                sums.2 = sums.2.saturating_add(n);
            }
        }
        Some(sums)
    }
}

impl SharedCache for RedisCache {
    fn get<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Option<SharedLookup>> {
        Box::pin(self.get_now(key))
    }

    fn get_stale<'a>(&'a self, key: &'a Key) -> BoxFuture<'a, Option<Entry>> {
        Box::pin(self.get_stale_now(key))
    }

    fn put<'a>(
        &'a self,
        key: &'a Key,
        entry: &'a Entry,
        generation: Option<&'a str>,
    ) -> BoxFuture<'a, ()> {
        Box::pin(self.put_now(key, entry, generation))
    }

    fn invalidate<'a>(&'a self, hotel: &'a str, what: &'a Invalidation) -> BoxFuture<'a, ()> {
        Box::pin(self.invalidate_now(hotel, what))
    }

    fn counts<'a>(&'a self, hotel: &'a str) -> BoxFuture<'a, Option<(u64, u64, u64)>> {
        Box::pin(self.counts_now(hotel))
    }
}
