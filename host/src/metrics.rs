//! Prometheus metrics (`GET /metrics`): calls, latency, cache lookups, outbound requests, PMS
//! timeouts, adapter failures, and gauges for rate-limit usage and OAuth token validity that are
//! read from the live state at scrape time. Never a secret, never guest data in a label.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::OnceLock;

/// `hotel`, `operation`, `outcome` (`ok`, `pms_error`, `adapter_failure`, `rejected`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// Hotel id.
    pub hotel: String,
    /// Operation (camelCase).
    pub operation: String,
    /// Outcome.
    pub outcome: &'static str,
}

/// `operation`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// Operation (camelCase).
    pub operation: String,
}

/// `hotel`, `result` (`hit`, `miss`, `stale`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// Hotel id.
    pub hotel: String,
    /// Lookup result.
    pub result: &'static str,
}

/// `hotel`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HotelLabels {
    /// Hotel id.
    pub hotel: String,
}

/// `hotel`, `class` (`2xx` … `5xx`, `error`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutboundLabels {
    /// Hotel id.
    pub hotel: String,
    /// Status class.
    pub class: &'static str,
}

/// `adapter`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AdapterLabels {
    /// Adapter name.
    pub adapter: String,
}

/// `bucket` (`hotel:<id>`, `environment:<adapter>:<origin>`, `credential:<adapter>:<hash>`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BucketLabels {
    /// Bucket key.
    pub bucket: String,
}

/// `hotel`, `operation`, `result` (`applied`, `queued`, `failed`, `verified_applied`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WriteLabels {
    /// Hotel id.
    pub hotel: String,
    /// Operation (camelCase).
    pub operation: String,
    /// What happened.
    pub result: &'static str,
}

/// `hotel`, `rule`: a write refused by a guardrail.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GuardrailLabels {
    /// Hotel id.
    pub hotel: String,
    /// The rule (`charge.amount.max`, …).
    pub rule: &'static str,
}

/// `hotel`, `kind` (`write_failed`, `critical_write_queued`, `pms_unavailable`,
/// `awaiting_approval`; `duplicate_node_id` with no hotel).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    /// Hotel id.
    pub hotel: String,
    /// Alert kind.
    pub kind: &'static str,
}

/// `part` (`rate_limits`, `tokens`, `cache`, `outages`, `breakers`): what a host did alone
/// because its coordination store was unreachable.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartLabels {
    /// The part of the coordination.
    pub part: &'static str,
}

/// The node id every metric of this process is labelled with, set once when the host is built
/// (before the first metric is touched); `local` when nothing set it.
static NODE: OnceLock<String> = OnceLock::new();

/// Labels every metric of this process with `node="<node>"` (several hosts scraped into one
/// Prometheus). Only the first call counts, and only before the metrics are first used.
pub fn set_node(node: &str) {
    let _ = NODE.set(node.to_owned());
}

/// Every metric of the host.
pub struct Metrics {
    registry: Registry,
    /// Operations run, by outcome.
    pub calls: Family<CallLabels, Counter>,
    /// Operation latency.
    pub call_seconds: Family<OperationLabels, Histogram>,
    /// Read-cache lookups.
    pub cache: Family<CacheLabels, Counter>,
    /// Outbound requests by status class.
    pub outbound: Family<OutboundLabels, Counter>,
    /// Requests that timed out after every retry (an alert condition).
    pub pms_timeouts: Family<HotelLabels, Counter>,
    /// Traps, deadline and memory overruns.
    pub adapter_failures: Family<AdapterLabels, Counter>,
    /// Guest log lines dropped because a call went over its output budget.
    pub guest_log_dropped: Family<AdapterLabels, Counter>,
    /// Requests in each rate-limit bucket's current window.
    pub rate_used: Family<BucketLabels, Gauge>,
    /// Each bucket's limit.
    pub rate_limit: Family<BucketLabels, Gauge>,
    /// Seconds until each hotel's OAuth token expires.
    pub token_valid_seconds: Family<HotelLabels, Gauge>,
    /// Write attempts by result.
    pub writes: Family<WriteLabels, Counter>,
    /// Staff alerts raised.
    pub alerts: Family<AlertLabels, Counter>,
    /// Writes refused by a guardrail, by rule.
    pub guardrail_refusals: Family<GuardrailLabels, Counter>,
    /// Writes waiting in the outbox, per hotel (read at scrape time).
    pub outbox_depth: Family<HotelLabels, Gauge>,
    /// 1 while the coordination store (Redis) answers; 0 while this host coordinates alone,
    /// also when no store is configured (health's `coordination.mode` tells which).
    pub coordination_up: Gauge,
    /// Live hosts sharing the coordination store, as last seen.
    pub coordination_nodes: Gauge,
    /// Decisions this host took alone because the coordination store was unreachable.
    pub coordination_fallbacks: Family<PartLabels, Counter>,
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

impl Metrics {
    fn new() -> Metrics {
        let node = NODE.get().map_or("local", String::as_str).to_owned();
        let mut registry = Registry::with_prefix_and_labels(
            "jack_pms",
            [(
                std::borrow::Cow::Borrowed("node"),
                std::borrow::Cow::Owned(node),
            )]
            .into_iter(),
        );
        let calls = Family::<CallLabels, Counter>::default();
        let call_seconds = Family::<OperationLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let cache = Family::<CacheLabels, Counter>::default();
        let outbound = Family::<OutboundLabels, Counter>::default();
        let pms_timeouts = Family::<HotelLabels, Counter>::default();
        let adapter_failures = Family::<AdapterLabels, Counter>::default();
        let guest_log_dropped = Family::<AdapterLabels, Counter>::default();
        let rate_used = Family::<BucketLabels, Gauge>::default();
        let rate_limit = Family::<BucketLabels, Gauge>::default();
        let token_valid_seconds = Family::<HotelLabels, Gauge>::default();
        let writes = Family::<WriteLabels, Counter>::default();
        let alerts = Family::<AlertLabels, Counter>::default();
        let guardrail_refusals = Family::<GuardrailLabels, Counter>::default();
        let outbox_depth = Family::<HotelLabels, Gauge>::default();
        let coordination_up = Gauge::default();
        let coordination_nodes = Gauge::default();
        let coordination_fallbacks = Family::<PartLabels, Counter>::default();
        registry.register(
            "coordination_redis_up",
            "1 while the coordination store (Redis) answers, 0 while this host coordinates alone",
            coordination_up.clone(),
        );
        registry.register(
            "coordination_nodes",
            "Live hosts sharing the coordination store, as last seen",
            coordination_nodes.clone(),
        );
        registry.register(
            "coordination_fallbacks",
            "Decisions taken alone because the coordination store was unreachable, by part",
            coordination_fallbacks.clone(),
        );
        registry.register(
            "writes",
            "Write attempts by hotel, operation and result",
            writes.clone(),
        );
        registry.register(
            "alerts",
            "Staff alerts raised (failed writes, queued critical writes, PMS unavailable)",
            alerts.clone(),
        );
        registry.register(
            "guardrail_refusals",
            "Writes refused by a hotel's guardrails (writes:), by rule",
            guardrail_refusals.clone(),
        );
        registry.register(
            "outbox_depth",
            "Writes waiting in the outbox for the PMS",
            outbox_depth.clone(),
        );
        registry.register(
            "calls",
            "Adapter operations run, by hotel, operation and outcome",
            calls.clone(),
        );
        registry.register(
            "call_seconds",
            "Adapter operation latency",
            call_seconds.clone(),
        );
        registry.register(
            "cache_lookups",
            "Read-cache lookups by result",
            cache.clone(),
        );
        registry.register(
            "outbound_requests",
            "Requests sent to PMSes, by status class",
            outbound.clone(),
        );
        registry.register(
            "pms_timeouts",
            "Requests that timed out after every retry",
            pms_timeouts.clone(),
        );
        registry.register(
            "adapter_failures",
            "Adapter traps and limit overruns",
            adapter_failures.clone(),
        );
        registry.register(
            "guest_log_lines_dropped",
            "Adapter log lines (log import, stdout, stderr) dropped over the per-call budget",
            guest_log_dropped.clone(),
        );
        registry.register(
            "rate_limit_used",
            "Requests in each rate-limit bucket's current window",
            rate_used.clone(),
        );
        registry.register(
            "rate_limit_limit",
            "Requests each rate-limit bucket allows per window",
            rate_limit.clone(),
        );
        registry.register(
            "oauth_token_valid_seconds",
            "Seconds until the hotel's OAuth token expires",
            token_valid_seconds.clone(),
        );
        Metrics {
            registry,
            calls,
            call_seconds,
            cache,
            outbound,
            pms_timeouts,
            adapter_failures,
            guest_log_dropped,
            rate_used,
            rate_limit,
            token_valid_seconds,
            writes,
            alerts,
            guardrail_refusals,
            outbox_depth,
            coordination_up,
            coordination_nodes,
            coordination_fallbacks,
        }
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts one outbound response (or failure) for `hotel`.
    pub fn outbound_status(&self, hotel: &str, status: Option<u16>) {
        let class = match status {
            Some(200..=299) => "2xx",
            Some(300..=399) => "3xx",
            Some(400..=499) => "4xx",
            Some(500..=599) => "5xx",
            _ => "error",
        };
        self.outbound
            .get_or_create(&OutboundLabels {
                hotel: hotel.to_string(),
                class,
            })
            .inc();
    }

    /// The cache counts of `hotel`: (hits, misses, stale).
    pub fn cache_counts(&self, hotel: &str) -> (u64, u64, u64) {
        let get = |result| {
            self.cache
                .get_or_create(&CacheLabels {
                    hotel: hotel.to_string(),
                    result,
                })
                .get()
        };
        (get("hit"), get("miss"), get("stale"))
    }
}
