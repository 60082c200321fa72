//! What DESIGN calls the engine: one method per operation, used by the API and the CLI. It
//! resolves the hotel, checks the caller's input, gives writes their operation id, runs the call
//! in the runtime and wraps reads with their provenance (`meta`).
//!
//! Reads go through the read cache; writes go through the durable outbox and the audit log
//! ([`writes`]).

mod guardrails;
mod inbound;
mod sync;
mod writes;

pub use inbound::{EventAction, Forget, WebhookReceipt, mews_event_action};
pub use sync::ServiceRunner;

pub use crate::state::outbox::{OperationRecord, WriteState};
pub use writes::Written;

use crate::cache::{Key as CacheKey, ReadCache};
use crate::config::{Config, HotelSettings};
use crate::events::tracker::ChangeTracker;
use crate::metrics::{CacheLabels, CallLabels, OperationLabels, metrics};
use crate::model::{
    Charge, Guest, GuestIdentifier, GuestQuery, Money, PmsHealth, Preference, Reservation,
    RoomStatus,
};
use crate::operation::{Call, Operation, Outcome};
use crate::runtime::{CallError, HotelBinding, Runtime, ZoneSource};
use crate::state::outbox::WriteRequest;
use crate::state::{State, StateError};
use crate::sync::scheduler::{Scheduler, StreamStatus};
use crate::vault::SecretStore;
use crate::zone::HotelZone;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Why a service call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// No hotel with this id.
    #[error("unknown hotel `{0}`")]
    UnknownHotel(String),
    /// The hotel is configured but its adapter could not be bound.
    #[error("hotel `{hotel}` is unavailable: {reason}")]
    HotelUnavailable {
        /// Hotel.
        hotel: String,
        /// Why.
        reason: String,
    },
    /// The caller's input is invalid.
    #[error("{0}")]
    BadInput(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The call failed in the adapter or the PMS.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The PMS refused a stored write for good (it is `failed`).
    #[error("{error}")]
    Refused {
        /// Operation id.
        operation_id: String,
        /// The refusal.
        error: CallError,
    },
    /// A write will not be applied (failed for good, or cancelled by staff).
    #[error("operation `{operation_id}` is {state}: {reason}")]
    WriteFailed {
        /// Operation id.
        operation_id: String,
        /// `failed` or `cancelled`.
        state: WriteState,
        /// Why.
        reason: String,
    },
    /// The write breaks one of the hotel's guardrails (`writes:`): refused before anything was
    /// stored or sent, and audited.
    #[error("refused by guardrail `{rule}`: {detail}")]
    Guardrail {
        /// The rule's name (`charge.amount.max`, `note.length`, …).
        rule: &'static str,
        /// What the write did against it.
        detail: String,
    },
    /// The thing is busy (a sync run of the same stream is in progress).
    #[error("{0}")]
    Busy(String),
    /// The caller could not prove who it is (a vendor webhook's token).
    #[error("{0}")]
    Unauthorized(String),
    /// The state file (outbox, audit log) could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
}

/// Where read data came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Fresh from the PMS.
    Pms,
    /// From the host's cache.
    Cache,
}

/// Provenance of a read.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Where the data came from.
    pub source: Source,
    /// True when the data is older than its TTL (served because the PMS is unavailable).
    pub stale: bool,
    /// When the data was fetched from the PMS (RFC 3339).
    pub fetched_at: DateTime<Utc>,
}

/// A read result with its provenance.
#[derive(Debug, Clone)]
pub struct Read<T> {
    /// The data.
    pub data: T,
    /// Provenance.
    pub meta: Meta,
}

/// A hotel as listed by `GET /v1/hotels`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HotelSummary {
    /// Hotel id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Adapter name.
    pub adapter: String,
    /// Adapter version, when loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter_version: Option<String>,
    /// SHA-256 of the running component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adapter_sha256: Option<String>,
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// Why it is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One rate-limit bucket's usage.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitUsage {
    /// Bucket key (`hotel:<id>`).
    pub bucket: String,
    /// Requests in the current window.
    pub used: u32,
    /// Requests allowed per window.
    pub limit: u32,
    /// Window length, seconds.
    pub per_seconds: u64,
    /// Milliseconds the bucket stays paused after a 429, when paused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_for_ms: Option<u64>,
    /// The longest pause a `Retry-After` may impose (`egress.maxRetryAfterMs`).
    pub retry_after_cap_ms: u64,
    /// True when the PMS's last 429 asked for longer than the cap, and was cut to it.
    pub retry_after_clamped: bool,
}

/// Read-cache statistics of one hotel.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CacheStats {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads that went to the PMS.
    pub misses: u64,
    /// Reads answered with a stale copy because the PMS failed.
    pub stale: u64,
    /// hits / (hits + misses), 0 when there was no read.
    pub hit_ratio: f64,
}

/// Health of one hotel's PMS connection.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HotelHealth {
    /// Hotel id.
    pub hotel: String,
    /// Adapter name.
    pub adapter: String,
    /// True when the PMS answered and accepted the credentials.
    pub healthy: bool,
    /// Detail from the adapter, or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The hotel's IANA time zone, which "today" is computed in.
    pub time_zone: String,
    /// Where the zone came from: `config`, `adapterSetting`, or `default` (none was named, UTC
    /// is assumed: set `timeZone`).
    pub time_zone_source: ZoneSource,
    /// Today at the hotel (`YYYY-MM-DD`): the default date of arrivals and departures.
    pub local_date: String,
    /// Round trip of the health check, ms.
    pub latency_ms: u64,
    /// When it was checked.
    pub checked_at: DateTime<Utc>,
    /// Writes waiting for the PMS (queued or being attempted).
    pub queue_depth: u64,
    /// The OAuth token's validity, for adapters using OAuth (never the token).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_valid_until: Option<DateTime<Utc>>,
    /// Usage of the hotel's rate-limit buckets.
    pub rate_limits: Vec<RateLimitUsage>,
    /// Read-cache statistics since start.
    pub cache: CacheStats,
    /// Last completed sync run of any stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<DateTime<Utc>>,
    /// Each sync stream: last run, duration, outcome, next run.
    pub sync: Vec<StreamStatus>,
}

struct Hotel {
    settings: HotelSettings,
    binding: Result<Arc<HotelBinding>, String>,
}

/// The hotels as bound at one moment; a reload swaps in a new map while calls in flight keep the
/// one they started with.
type Hotels = Arc<BTreeMap<String, Arc<Hotel>>>;

/// What a reload of the hotels did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReloadReport {
    /// Hotels that were not there before.
    pub added: Vec<String>,
    /// Hotels no longer in the config (their queued writes wait until they come back).
    pub removed: Vec<String>,
    /// Hotels bound again (settings, secrets references, pins and adapter files re-read).
    pub rebound: Vec<String>,
    /// Hotels that could not be bound, with the reason; the others serve regardless.
    pub unavailable: Vec<HotelProblem>,
    /// What a reload does not change: it needs a restart.
    pub not_reloaded: Vec<String>,
}

/// A hotel that cannot serve, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HotelProblem {
    /// Hotel id.
    pub id: String,
    /// Why it is unavailable.
    pub problem: String,
}

/// Binds every hotel of `config`; one that cannot be bound keeps its reason.
fn bind_all(
    config: &Config,
    runtime: &Runtime,
    secrets: &Arc<dyn SecretStore>,
) -> BTreeMap<String, Arc<Hotel>> {
    config
        .hotels
        .iter()
        .map(|h| {
            let binding = runtime.bind(h, secrets.clone()).map(Arc::new).map_err(|e| {
                tracing::error!(hotel = %h.id, error = %e, "hotel unavailable");
                e.to_string()
            });
            if let Ok(b) = &binding
                && b.zone_source == ZoneSource::Default
            {
                tracing::warn!(
                    hotel = %h.id,
                    "the hotel names no timeZone: its \"today\" is UTC's; set hotels[].timeZone"
                );
            }
            (
                h.id.clone(),
                Arc::new(Hotel {
                    settings: h.clone(),
                    binding,
                }),
            )
        })
        .collect()
}

/// The engine: hotels bound to their adapters.
pub struct Service {
    runtime: Arc<Runtime>,
    hotels: std::sync::RwLock<Hotels>,
    cache: ReadCache,
    state: Arc<State>,
    writes: writes::Writes,
    tracker: Arc<ChangeTracker>,
    scheduler: std::sync::OnceLock<Arc<Scheduler>>,
    /// The hosts sharing the state (for who ran each stream last).
    cluster: std::sync::OnceLock<Arc<crate::cluster::Cluster>>,
    secrets: Arc<dyn SecretStore>,
}

impl Service {
    /// Binds every hotel of `config`. A hotel that cannot be bound stays listed as unavailable
    /// with its reason, so one broken hotel never takes the others down.
    pub fn new(
        config: &Config,
        runtime: Arc<Runtime>,
        secrets: Arc<dyn SecretStore>,
        state: Arc<State>,
        tracker: Arc<ChangeTracker>,
        outages: Arc<dyn crate::outage::PmsOutages>,
    ) -> Service {
        let hotels = bind_all(config, &runtime, &secrets);
        Service {
            runtime,
            hotels: std::sync::RwLock::new(Arc::new(hotels)),
            cache: ReadCache::default(),
            state,
            writes: writes::Writes::new(config.outbox.clone(), outages),
            tracker,
            scheduler: std::sync::OnceLock::new(),
            cluster: std::sync::OnceLock::new(),
            secrets,
        }
    }

    /// Gives the service this host's cluster membership (once): health then shows the runs of
    /// every host, not only this one's.
    pub fn attach_cluster(&self, cluster: Arc<crate::cluster::Cluster>) {
        let _ = self.cluster.set(cluster);
    }

    /// The change tracker (and through it the event log).
    pub fn tracker(&self) -> &Arc<ChangeTracker> {
        &self.tracker
    }

    /// Gives the service the running scheduler (once): its per-stream status shows in
    /// `/v1/hotels/{hotel}/health` and vendor webhooks trigger its streams.
    pub fn attach_scheduler(&self, scheduler: Arc<Scheduler>) {
        let _ = self.scheduler.set(scheduler);
    }

    /// Hotel ids and their resolved settings.
    pub fn hotel_settings(&self) -> Vec<HotelSettings> {
        self.hotels_now()
            .values()
            .map(|h| h.settings.clone())
            .collect()
    }

    /// The hotels as bound now.
    fn hotels_now(&self) -> Hotels {
        self.hotels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One hotel as bound now.
    fn hotel(&self, hotel: &str) -> Result<Arc<Hotel>, ServiceError> {
        self.hotels_now()
            .get(hotel)
            .cloned()
            .ok_or_else(|| ServiceError::UnknownHotel(hotel.to_string()))
    }

    /// Binds the hotels of `config` again (after its secret references were updated) and swaps
    /// them in: adapter files are re-read, so a new or changed component is picked up without a
    /// restart. Calls in flight finish with the binding they started with.
    pub fn reload_hotels(&self, config: &Config) -> ReloadReport {
        self.runtime.forget_loaded();
        let fresh = bind_all(config, &self.runtime, &self.secrets);
        let mut report = ReloadReport {
            not_reloaded: vec![
                "server (listen address, tokens)".into(),
                "adapters (directory, limits), egress, vault, state, outbox and events".into(),
                "sync schedules (a hotel added by a reload is synced from the next start; its reads and writes work at once)".into(),
            ],
            ..ReloadReport::default()
        };
        let mut hotels = self.hotels.write().unwrap_or_else(|p| p.into_inner());
        for (id, hotel) in &fresh {
            if hotels.contains_key(id) {
                report.rebound.push(id.clone());
            } else {
                report.added.push(id.clone());
            }
            if let Err(problem) = &hotel.binding {
                report.unavailable.push(HotelProblem {
                    id: id.clone(),
                    problem: problem.clone(),
                });
            }
        }
        report.removed = hotels
            .keys()
            .filter(|id| !fresh.contains_key(*id))
            .cloned()
            .collect();
        *hotels = Arc::new(fresh);
        report
    }

    /// The runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    fn binding(&self, hotel: &str) -> Result<Arc<HotelBinding>, ServiceError> {
        let h = self.hotel(hotel)?;
        h.binding
            .as_ref()
            .cloned()
            .map_err(|reason| ServiceError::HotelUnavailable {
                hotel: hotel.to_string(),
                reason: reason.clone(),
            })
    }

    /// Runs any call for a hotel (the CLI's `call`).
    pub async fn call(&self, hotel: &str, call: Call) -> Result<Outcome, ServiceError> {
        let binding = self.binding(hotel)?;
        let operation = call.operation();
        let started = Instant::now();
        let result = self.runtime.call(&binding, call).await;
        let elapsed = started.elapsed();
        let ms = elapsed.as_millis() as u64;
        let outcome = match &result {
            Ok(_) => {
                tracing::info!(%hotel, %operation, ms, "call ok");
                "ok"
            }
            Err(e) => {
                tracing::warn!(%hotel, %operation, ms, error = %e, "call failed");
                match e {
                    CallError::Pms(_) => "pms_error",
                    CallError::CircuitOpen { .. } | CallError::Instantiate { .. } => "rejected",
                    _ => "adapter_failure",
                }
            }
        };
        let m = metrics();
        let operation = operation.camel_name().to_string();
        m.call_seconds
            .get_or_create(&OperationLabels {
                operation: operation.clone(),
            })
            .observe(elapsed.as_secs_f64());
        m.calls
            .get_or_create(&CallLabels {
                hotel: hotel.to_string(),
                operation,
                outcome,
            })
            .inc();
        Ok(result?)
    }

    /// The read cache.
    pub fn cache(&self) -> &ReadCache {
        &self.cache
    }

    /// A read through the cache: fresh copy, one coalesced fetch, or (when the PMS fails) the
    /// last-known-good copy flagged stale.
    async fn read(&self, hotel: &str, call: Call) -> Result<Read<Outcome>, ServiceError> {
        let binding = self.binding(hotel)?;
        let Some(key) = CacheKey::of(&binding.hotel_id, &call) else {
            let data = self.call(hotel, call).await?;
            return Ok(Read {
                data,
                meta: Meta {
                    source: Source::Pms,
                    stale: false,
                    fetched_at: Utc::now(),
                },
            });
        };
        let ttl = ReadCache::ttl(key.kind, &self.hotel(hotel)?.settings.pms.cache);
        let fetch = async {
            match self.call(hotel, call).await {
                // "Not found" is not cached: the guest or booking may appear any moment.
                Ok(outcome) if is_absent(&outcome) => Err(Fetch::Absent(outcome)),
                Ok(outcome) => Ok(outcome),
                Err(e) => Err(Fetch::Failed(e)),
            }
        };
        let stale_ok =
            |e: &Fetch| matches!(e, Fetch::Failed(ServiceError::Call(c)) if pms_is_down(c));
        let result = self.cache.get_or_fetch(key, ttl, fetch, stale_ok).await;
        let lookup = match &result {
            Ok(c) if c.stale => "stale",
            Ok(c) if c.from_cache => "hit",
            _ => "miss",
        };
        metrics()
            .cache
            .get_or_create(&CacheLabels {
                hotel: hotel.to_string(),
                result: lookup,
            })
            .inc();
        match result {
            Ok(c) => Ok(Read {
                data: c.outcome,
                meta: Meta {
                    source: if c.from_cache {
                        Source::Cache
                    } else {
                        Source::Pms
                    },
                    stale: c.stale,
                    fetched_at: c.fetched_at,
                },
            }),
            Err(e) => match &*e {
                Fetch::Absent(outcome) => {
                    // The seed: "404 → return null, log for investigation".
                    tracing::info!(%hotel, operation = %outcome_operation(outcome), "not found in the PMS");
                    Ok(Read {
                        data: outcome.clone(),
                        meta: Meta {
                            source: Source::Pms,
                            stale: false,
                            fetched_at: Utc::now(),
                        },
                    })
                }
                Fetch::Failed(error) => Err(error.clone()),
            },
        }
    }

    /// The hotels and the state of their adapters.
    pub fn hotels(&self) -> Vec<HotelSummary> {
        self.hotels_now()
            .values()
            .map(|h| {
                let (status, problem, version, sha) = match &h.binding {
                    Ok(b) => (
                        "ready",
                        None,
                        Some(b.adapter.manifest.version.clone()),
                        Some(b.adapter.sha256_hex()),
                    ),
                    Err(reason) => ("unavailable", Some(reason.clone()), None, None),
                };
                HotelSummary {
                    id: h.settings.id.clone(),
                    name: h.settings.name.clone(),
                    adapter: h.settings.adapter.clone(),
                    adapter_version: version,
                    adapter_sha256: sha,
                    status,
                    problem,
                }
            })
            .collect()
    }

    /// The hotel's time zone (as its binding settled it).
    pub fn zone(&self, hotel: &str) -> Result<HotelZone, ServiceError> {
        Ok(self.binding(hotel)?.zone.clone())
    }

    /// `healthCheck`, timed.
    pub async fn health(&self, hotel: &str) -> Result<HotelHealth, ServiceError> {
        let binding = self.binding(hotel)?;
        let mut sync = self
            .scheduler
            .get()
            .map(|s| s.status(hotel))
            .unwrap_or_default();
        if let Some(cluster) = self.cluster.get() {
            match cluster.last_runs(hotel).await {
                Ok(runs) => merge_cluster_runs(&mut sync, runs),
                Err(e) => tracing::warn!(%hotel, error = %e, "cannot read other hosts' sync runs"),
            }
        }
        let started = Instant::now();
        let result = self.runtime.call(&binding, Call::HealthCheck).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let (healthy, detail) = match result {
            Ok(Outcome::Health(PmsHealth { healthy, detail })) => (healthy, detail),
            Ok(_) => (false, Some("unexpected result".into())),
            Err(e) => (false, Some(e.to_string())),
        };
        Ok(HotelHealth {
            hotel: hotel.to_string(),
            adapter: binding.adapter.name.clone(),
            healthy,
            detail,
            time_zone: binding.zone.name().to_owned(),
            time_zone_source: binding.zone_source,
            local_date: binding.zone.today().to_string(),
            latency_ms,
            checked_at: Utc::now(),
            queue_depth: self.queue_depth(hotel).await?,
            last_sync: sync.iter().filter_map(|s| s.last_finished).max(),
            sync,
            token_valid_until: self.runtime.egress().tokens().valid_until(hotel).await,
            rate_limits: self.rate_limit_usage(hotel).await,
            cache: {
                let (hits, misses, stale) = metrics().cache_counts(hotel);
                let reads = hits + misses;
                CacheStats {
                    hits,
                    misses,
                    stale,
                    hit_ratio: if reads == 0 {
                        0.0
                    } else {
                        hits as f64 / reads as f64
                    },
                }
            },
        })
    }

    async fn rate_limit_usage(&self, hotel: &str) -> Vec<RateLimitUsage> {
        let now = tokio::time::Instant::now();
        let max_pause = self.runtime.egress().policy().max_retry_after;
        let key = format!("hotel:{hotel}");
        self.runtime
            .egress()
            .limits()
            .usage(&key)
            .await
            .into_iter()
            .filter(|u| u.key == key)
            .map(|u| RateLimitUsage {
                bucket: u.key,
                used: u.used,
                limit: u.limit.requests,
                per_seconds: u.limit.per.as_secs(),
                paused_for_ms: u.paused_until.map(|p| {
                    u64::try_from(p.saturating_duration_since(now).as_millis()).unwrap_or(u64::MAX)
                }),
                retry_after_cap_ms: u64::try_from(max_pause.as_millis()).unwrap_or(u64::MAX),
                retry_after_clamped: u.pause_clamped,
            })
            .collect()
    }

    /// Refreshes the gauges read from live state and renders every metric (Prometheus text).
    pub async fn render_metrics(&self) -> String {
        let m = metrics();
        let egress = self.runtime.egress();
        for usage in egress.limits().usage("").await {
            let labels = crate::metrics::BucketLabels { bucket: usage.key };
            m.rate_used
                .get_or_create(&labels)
                .set(i64::from(usage.used));
            m.rate_limit
                .get_or_create(&labels)
                .set(i64::from(usage.limit.requests));
        }
        for hotel in self.hotels_now().keys() {
            if let Some(until) = egress.tokens().valid_until(hotel).await {
                let left = (until - Utc::now()).num_seconds().max(0);
                m.token_valid_seconds
                    .get_or_create(&crate::metrics::HotelLabels {
                        hotel: hotel.clone(),
                    })
                    .set(left);
            }
        }
        m.encode()
    }

    /// `getGuest` by Jack's guest id (`<vendor>:<pmsId>`, or a bare PMS id).
    pub async fn get_guest(
        &self,
        hotel: &str,
        guest_id: &str,
    ) -> Result<Read<Guest>, ServiceError> {
        let pms_id = self.pms_guest_id(hotel, guest_id)?;
        let read = self
            .read(hotel, Call::GetGuest(GuestIdentifier::Id(pms_id)))
            .await?;
        match read.data {
            Outcome::Guest(Some(g)) => Ok(Read {
                data: g,
                meta: read.meta,
            }),
            _ => Err(ServiceError::NotFound(format!(
                "no guest `{guest_id}` in hotel `{hotel}`"
            ))),
        }
    }

    /// `searchGuests`; at least one field must be set.
    pub async fn search_guests(
        &self,
        hotel: &str,
        query: GuestQuery,
    ) -> Result<Read<Vec<Guest>>, ServiceError> {
        let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
        if blank(&query.email) && blank(&query.phone) && blank(&query.name) {
            return Err(ServiceError::BadInput(
                "give at least one of email, phone or name".into(),
            ));
        }
        let read = self.read(hotel, Call::SearchGuests(query)).await?;
        match read.data {
            Outcome::Guests(gs) => Ok(Read {
                data: gs,
                meta: read.meta,
            }),
            _ => Err(unexpected(Operation::SearchGuests)),
        }
    }

    /// `updateGuestPreferences`.
    pub async fn update_guest_preferences(
        &self,
        hotel: &str,
        guest_id: &str,
        preferences: Vec<Preference>,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        let guest_pms_id = self.pms_guest_id(hotel, guest_id)?;
        for p in &preferences {
            if p.category.trim().is_empty() || p.code.trim().is_empty() {
                return Err(ServiceError::BadInput(
                    "every preference needs a category and a code".into(),
                ));
            }
        }
        let request = WriteRequest::UpdateGuestPreferences {
            guest_pms_id,
            preferences,
        };
        self.submit(hotel, caller, idempotency_key, request).await
    }

    /// `getReservation`.
    pub async fn get_reservation(
        &self,
        hotel: &str,
        number: &str,
    ) -> Result<Read<Reservation>, ServiceError> {
        let read = self
            .read(hotel, Call::GetReservation(number.to_string()))
            .await?;
        match read.data {
            Outcome::Reservation(Some(r)) => Ok(Read {
                data: r,
                meta: read.meta,
            }),
            _ => Err(ServiceError::NotFound(format!(
                "no reservation `{number}` in hotel `{hotel}`"
            ))),
        }
    }

    /// `getArrivals` for a hotel-local date; `None` is the hotel's today.
    pub async fn arrivals(
        &self,
        hotel: &str,
        date: Option<&str>,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let date = self.local_date(hotel, date)?;
        self.reservations(hotel, Call::GetArrivals(date)).await
    }

    /// `getDepartures` for a hotel-local date; `None` is the hotel's today.
    pub async fn departures(
        &self,
        hotel: &str,
        date: Option<&str>,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let date = self.local_date(hotel, date)?;
        self.reservations(hotel, Call::GetDepartures(date)).await
    }

    /// `date` checked, or the hotel's today when the caller gave none.
    fn local_date(&self, hotel: &str, date: Option<&str>) -> Result<String, ServiceError> {
        match date {
            Some(date) => check_date(date),
            None => Ok(self.binding(hotel)?.zone.today().to_string()),
        }
    }

    /// `getInHouseGuests`.
    pub async fn in_house(&self, hotel: &str) -> Result<Read<Vec<Reservation>>, ServiceError> {
        self.reservations(hotel, Call::GetInHouseGuests).await
    }

    async fn reservations(
        &self,
        hotel: &str,
        call: Call,
    ) -> Result<Read<Vec<Reservation>>, ServiceError> {
        let operation = call.operation();
        let read = self.read(hotel, call).await?;
        match read.data {
            Outcome::Reservations(rs) => Ok(Read {
                data: rs,
                meta: read.meta,
            }),
            _ => Err(unexpected(operation)),
        }
    }

    /// `addReservationNote`.
    pub async fn add_note(
        &self,
        hotel: &str,
        number: &str,
        note: &str,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        // Empty, over-long and control-character notes are the guardrails' (422, audited).
        let request = WriteRequest::AddReservationNote {
            confirmation_number: number.to_string(),
            note: note.to_string(),
        };
        self.submit(hotel, caller, idempotency_key, request).await
    }

    /// `updateCheckoutTime`; `time` is RFC 3339.
    pub async fn update_checkout(
        &self,
        hotel: &str,
        number: &str,
        time: &str,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        DateTime::parse_from_rfc3339(time).map_err(|_| {
            ServiceError::BadInput(format!(
                "`{time}` is not an RFC 3339 date-time such as 2024-01-15T11:00:00+01:00"
            ))
        })?;
        let request = WriteRequest::UpdateCheckoutTime {
            confirmation_number: number.to_string(),
            time: time.to_string(),
        };
        self.submit(hotel, caller, idempotency_key, request).await
    }

    /// `postCharge`.
    pub async fn post_charge(
        &self,
        hotel: &str,
        number: &str,
        charge: Charge,
        caller: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Written, ServiceError> {
        // A malformed amount is a bad request; an absurd one is the guardrails' (422, audited).
        charge.money().validate().map_err(ServiceError::BadInput)?;
        let request = WriteRequest::PostCharge {
            confirmation_number: number.to_string(),
            charge,
        };
        self.submit(hotel, caller, idempotency_key, request).await
    }

    /// `getBalance`.
    pub async fn balance(&self, hotel: &str, number: &str) -> Result<Read<Money>, ServiceError> {
        let read = self
            .read(hotel, Call::GetBalance(number.to_string()))
            .await
            .map_err(|e| match e {
                ServiceError::Call(CallError::Pms(crate::model::PmsError::NotFound)) => {
                    ServiceError::NotFound(format!("no reservation `{number}` in hotel `{hotel}`"))
                }
                other => other,
            })?;
        match read.data {
            Outcome::Balance(m) => Ok(Read {
                data: m,
                meta: read.meta,
            }),
            _ => Err(unexpected(Operation::GetBalance)),
        }
    }

    /// `getRoomStatus`.
    pub async fn room(&self, hotel: &str, room: &str) -> Result<Read<RoomStatus>, ServiceError> {
        let read = self
            .read(hotel, Call::GetRoomStatus(room.to_string()))
            .await?;
        match read.data {
            Outcome::Room(Some(r)) => Ok(Read {
                data: r,
                meta: read.meta,
            }),
            _ => Err(ServiceError::NotFound(format!(
                "no room `{room}` in hotel `{hotel}`"
            ))),
        }
    }

    /// `getAllRoomStatuses`.
    pub async fn rooms(&self, hotel: &str) -> Result<Read<Vec<RoomStatus>>, ServiceError> {
        let read = self.read(hotel, Call::GetAllRoomStatuses).await?;
        match read.data {
            Outcome::Rooms(rs) => Ok(Read {
                data: rs,
                meta: read.meta,
            }),
            _ => Err(unexpected(Operation::GetAllRoomStatuses)),
        }
    }

    /// Strips and checks the `<vendor>:` prefix of a guest id.
    pub fn pms_guest_id(&self, hotel: &str, guest_id: &str) -> Result<String, ServiceError> {
        let binding = self.binding(hotel)?;
        let vendor = &binding.adapter.manifest.vendor;
        let pms_id = match guest_id.split_once(':') {
            Some((prefix, rest)) if prefix == vendor => rest,
            Some((prefix, _)) => {
                return Err(ServiceError::BadInput(format!(
                    "guest id `{guest_id}` belongs to vendor `{prefix}`, but hotel `{hotel}` uses `{vendor}`"
                )));
            }
            None => guest_id,
        };
        if pms_id.is_empty() {
            return Err(ServiceError::BadInput("the guest id is empty".into()));
        }
        Ok(pms_id.to_string())
    }
}

/// Why a cached read could not be answered fresh.
enum Fetch {
    /// The PMS has no such thing (answered, never cached).
    Absent(Outcome),
    /// The read failed.
    Failed(ServiceError),
}

fn outcome_operation(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Guest(_) => "getGuest",
        Outcome::Reservation(_) => "getReservation",
        Outcome::Room(_) => "getRoomStatus",
        _ => "read",
    }
}

fn is_absent(outcome: &Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Guest(None) | Outcome::Reservation(None) | Outcome::Room(None)
    )
}

/// Failures that mean "the PMS cannot answer now", when a stale copy beats an error.
pub(crate) fn pms_is_down(error: &CallError) -> bool {
    use crate::model::PmsError;
    matches!(
        error,
        CallError::Pms(PmsError::Unavailable(_) | PmsError::RateLimited(_))
            | CallError::Deadline { .. }
            | CallError::CircuitOpen { .. }
            | CallError::Instantiate { .. }
    )
}

fn unexpected(operation: Operation) -> ServiceError {
    ServiceError::Call(CallError::InvalidOutput {
        adapter: String::new(),
        operation,
        reason: "unexpected result kind".into(),
    })
}

fn check_date(date: &str) -> Result<String, ServiceError> {
    chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| {
            ServiceError::BadInput(format!("`{date}` is not a date of the form YYYY-MM-DD"))
        })
}

/// Shows, for each stream, the last run of whichever host ran it (the record in the state
/// database), where that is newer than this host's own.
fn merge_cluster_runs(sync: &mut [StreamStatus], runs: Vec<crate::cluster::LastRun>) {
    for run in runs {
        let Some(status) = sync.iter_mut().find(|s| s.stream.as_str() == run.stream) else {
            continue;
        };
        if status
            .last_started
            .is_some_and(|local| local >= run.started_at)
        {
            continue;
        }
        status.last_started = Some(run.started_at);
        status.last_finished = run.finished_at;
        status.duration_ms = run.finished_at.map(|f| {
            (f - run.started_at)
                .num_milliseconds()
                .max(0)
                .unsigned_abs()
        });
        status.outcome = run.outcome;
        status.running = run.finished_at.is_none();
        status.last_node = Some(run.node);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked() {
        assert!(check_date("2024-02-30").is_err());
        assert_eq!(check_date("2024-02-29").unwrap(), "2024-02-29");
    }
}
