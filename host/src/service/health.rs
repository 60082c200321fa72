//! Health of each hotel's PMS connection as `/v1/hotels/{hotel}/health` shows it (the adapter's
//! health check, timed, beside the host's own figures: queue, token, rate limits, cache, sync
//! streams), and the gauges `/metrics` reads from live state.

use super::ServiceError;
use super::reads::Reads;
use super::registry::BoundHotel;
use super::writes::Outbox;
use crate::cluster::{Cluster, LastRun};
use crate::coordination::{Coordination, CoordinationStatus};
use crate::metrics::{BucketLabels, HotelLabels, metrics};
use crate::model::PmsHealth;
use crate::operation::{Call, Outcome};
use crate::runtime::{Runtime, ZoneSource};
use crate::sync::scheduler::{Scheduler, StreamStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

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

/// Read-cache statistics of one hotel: of every host sharing the coordination (Redis), else of
/// this host, since each host started.
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
    /// Read-cache statistics since start: summed over every host when they coordinate through
    /// Redis (each host reports its own every few seconds).
    pub cache: CacheStats,
    /// How the host coordinates with the others (rate limits, tokens, cache, PMS health):
    /// figures above are the cluster's in `redis` mode.
    pub coordination: CoordinationStatus,
    /// Last completed sync run of any stream.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<DateTime<Utc>>,
    /// Each sync stream: last run, duration, outcome, next run.
    pub sync: Vec<StreamStatus>,
    /// The circuit breaker of the hotel's adapter (opened by repeated sandbox failures).
    pub breaker: crate::runtime::breaker::BreakerStatus,
}

/// Reports the health of the hotels and renders the metrics.
pub struct Health {
    runtime: Arc<Runtime>,
    outbox: Arc<Outbox>,
    reads: Arc<Reads>,
    coordination: Coordination,
    node: String,
}

impl Health {
    /// Health over `runtime` (checks, buckets, tokens), `outbox` (queue depths) and `reads`
    /// (cache figures), as host `node` coordinating through `coordination`.
    pub fn new(
        runtime: Arc<Runtime>,
        outbox: Arc<Outbox>,
        reads: Arc<Reads>,
        coordination: Coordination,
        node: String,
    ) -> Health {
        Health {
            runtime,
            outbox,
            reads,
            coordination,
            node,
        }
    }

    /// `healthCheck` of `hotel`, timed, with the host's own figures; the sync streams as
    /// `scheduler` ran them here, or as any host of `cluster` ran them last.
    pub async fn hotel(
        &self,
        hotel: &BoundHotel,
        scheduler: Option<&Scheduler>,
        cluster: Option<&Cluster>,
    ) -> Result<HotelHealth, ServiceError> {
        let id = hotel.id();
        let binding = hotel.binding();
        let mut sync = scheduler.map(|s| s.status(id)).unwrap_or_default();
        if let Some(cluster) = cluster {
            match cluster.last_runs(id).await {
                Ok(runs) => merge_cluster_runs(&mut sync, runs),
                Err(e) => {
                    tracing::warn!(hotel = %id, error = %e, "cannot read other hosts' sync runs")
                }
            }
        }
        let started = Instant::now();
        let result = self.runtime.call(binding, Call::HealthCheck).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let (healthy, detail) = match result {
            Ok(Outcome::Health(PmsHealth { healthy, detail })) => (healthy, detail),
            Ok(_) => (false, Some("unexpected result".into())),
            Err(e) => (false, Some(e.to_string())),
        };
        Ok(HotelHealth {
            hotel: id.to_string(),
            adapter: binding.adapter.name.clone(),
            healthy,
            detail,
            time_zone: binding.zone.name().to_owned(),
            time_zone_source: binding.zone_source,
            local_date: binding.zone.today().to_string(),
            latency_ms,
            checked_at: Utc::now(),
            queue_depth: self.outbox.queue_depth(id).await?,
            last_sync: sync.iter().filter_map(|s| s.last_finished).max(),
            sync,
            token_valid_until: self.runtime.egress().tokens().valid_until(id).await,
            rate_limits: self.rate_limit_usage(id).await,
            cache: self.cache_stats(id).await,
            coordination: self.coordination.status(&self.node),
            breaker: self.runtime.breaker_status(id, &binding.adapter.name).await,
        })
    }

    /// The hotel's read-cache figures: the cluster's when the shared level knows them.
    async fn cache_stats(&self, hotel: &str) -> CacheStats {
        let cluster = match self.reads.cache().shared() {
            Some(shared) => shared.counts(hotel).await,
            None => None,
        };
        // The cluster's sums lag this host's own counts by a few seconds: never show less.
        let own = metrics().cache_counts(hotel);
        let (hits, misses, stale) = match cluster {
            Some((h, m, s)) => (h.max(own.0), m.max(own.1), s.max(own.2)),
            None => own,
        };
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

    /// Refreshes the gauges read from live state (buckets of every hotel, tokens of `hotels`)
    /// and renders every metric (Prometheus text).
    pub async fn render_metrics(&self, hotels: &[String]) -> String {
        let m = metrics();
        let egress = self.runtime.egress();
        for usage in egress.limits().usage("").await {
            let labels = BucketLabels { bucket: usage.key };
            m.rate_used
                .get_or_create(&labels)
                .set(i64::from(usage.used));
            m.rate_limit
                .get_or_create(&labels)
                .set(i64::from(usage.limit.requests));
        }
        for hotel in hotels {
            if let Some(until) = egress.tokens().valid_until(hotel).await {
                let left = (until - Utc::now()).num_seconds().max(0);
                m.token_valid_seconds
                    .get_or_create(&HotelLabels {
                        hotel: hotel.clone(),
                    })
                    .set(left);
            }
        }
        m.encode()
    }
}

/// Shows, for each stream, the last run of whichever host ran it (the record in the state
/// database), where that is newer than this host's own.
fn merge_cluster_runs(sync: &mut [StreamStatus], runs: Vec<LastRun>) {
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
