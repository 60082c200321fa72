//! The config file as written (YAML), before resolution. Every struct refuses unknown keys, so a
//! typo is an error that names the key and its line, never a silently ignored setting.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawConfig {
    /// The seed's `pms:` block: defaults for every hotel.
    #[serde(default)]
    pub pms: PmsBlock,
    /// The HTTP API.
    #[serde(default)]
    pub server: ServerBlock,
    /// Where adapters live and the sandbox limits.
    #[serde(default)]
    pub adapters: AdaptersBlock,
    /// Outbound network policy.
    #[serde(default)]
    pub egress: EgressBlock,
    /// The in-process mock PMS, for development.
    #[serde(default)]
    pub mock_pms: Option<MockPmsBlock>,
    /// The state file (SQLite): vault, and later outbox and audit log.
    #[serde(default)]
    pub state: StateBlock,
    /// Where the vault's master key comes from (never from this file).
    #[serde(default)]
    pub vault: VaultBlock,
    /// The durable write queue.
    #[serde(default)]
    pub outbox: OutboxBlock,
    /// Change events: retention and webhooks to Jack.
    #[serde(default)]
    pub events: EventsBlock,
    /// Guardrails on what Jack may write, for every hotel (`hotels[].writes` overrides).
    #[serde(default)]
    pub writes: WritesBlock,
    /// What several hosts share besides the state (rate limits, tokens, cache, PMS health).
    #[serde(default)]
    pub coordination: CoordinationBlock,
    /// One entry per hotel.
    #[serde(default)]
    pub hotels: Vec<HotelBlock>,
}

/// The seed's `pms:` block, loaded as written (DESIGN §6).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PmsBlock {
    /// `opera_cloud`, `mews`, `cloudbeds` or `mock`: the default adapter for hotels that name none.
    pub vendor: Option<String>,
    /// The IANA time zone of hotels that set none of their own (`Europe/Prague`).
    pub time_zone: Option<String>,
    /// Sync schedules.
    #[serde(default)]
    pub sync: SyncBlock,
    /// Cache TTLs.
    #[serde(default)]
    pub cache: CacheBlock,
    /// Retry policy.
    #[serde(default)]
    pub retry: RetryBlock,
}

/// `pms.sync`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncBlock {
    /// Arrivals stream.
    pub arrivals: Option<SyncStream>,
    /// Departures stream.
    pub departures: Option<SyncStream>,
    /// In-house guests stream.
    pub in_house: Option<SyncStream>,
    /// Room status stream.
    pub room_status: Option<SyncStream>,
    /// Guest profiles.
    pub guest_profiles: Option<GuestProfilesSync>,
}

/// One scheduled sync stream.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncStream {
    /// Whether the stream runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Cron expression (five fields).
    pub schedule: String,
    /// Days ahead to fetch (arrivals and departures).
    pub look_ahead_days: Option<u32>,
}

fn yes() -> bool {
    true
}

/// `pms.sync.guestProfiles`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuestProfilesSync {
    /// Only `on_demand`: guests are fetched when asked, never bulk-synced.
    pub mode: GuestProfilesMode,
}

/// How guest profiles are synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuestProfilesMode {
    /// Fetched when asked.
    OnDemand,
}

/// `pms.cache`, TTLs in seconds.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheBlock {
    /// Guest TTL (seed: 3600).
    #[serde(rename = "guestTTL")]
    pub guest_ttl: Option<u64>,
    /// Reservation TTL (seed: 300).
    #[serde(rename = "reservationTTL")]
    pub reservation_ttl: Option<u64>,
    /// Room status TTL (seed: 60).
    #[serde(rename = "roomStatusTTL")]
    pub room_status_ttl: Option<u64>,
}

/// `pms.retry`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryBlock {
    /// Attempts in all (seed: 3).
    pub max_attempts: Option<u32>,
    /// Backoff shape.
    pub backoff: Option<crate::egress::retry::Backoff>,
    /// First delay, ms (seed: 1000).
    pub initial_delay: Option<u64>,
    /// Delay cap, ms (seed: 30000).
    pub max_delay: Option<u64>,
    /// Random extra delay.
    pub jitter: Option<bool>,
}

/// `server`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerBlock {
    /// Listen address; `--listen` overrides it.
    pub listen: Option<String>,
    /// API tokens, stored as SHA-256 hashes.
    #[serde(default)]
    pub tokens: Vec<TokenBlock>,
    /// The staff console (`/console`).
    #[serde(default)]
    pub console: ConsoleBlock,
}

/// `server.console`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsoleBlock {
    /// Serve the console (default true).
    pub enabled: Option<bool>,
    /// Minutes without a request after which a session ends (default 30).
    pub idle_minutes: Option<u64>,
    /// Hours after login after which a session ends, used or not (default 12).
    pub session_hours: Option<u64>,
    /// Mark the session cookie `Secure`: set it when a TLS proxy serves the console (it is
    /// also set for requests that arrive with `X-Forwarded-Proto: https`).
    pub secure_cookies: Option<bool>,
}

/// One API token.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenBlock {
    /// The caller's name, written to the logs (and the audit log).
    pub name: String,
    /// Hex SHA-256 of the token.
    pub sha256: String,
    /// What the token may do beyond reads and writes (`operator`, `approver`); none by default.
    #[serde(default)]
    pub scopes: Vec<crate::config::TokenScope>,
}

/// `adapters`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdaptersBlock {
    /// Directory of `<name>.wasm` + `<name>.toml`, relative to the config file.
    pub dir: Option<String>,
    /// Directory for compiled artefacts, relative to the config file.
    pub cache_dir: Option<String>,
    /// Development only: load adapters whose hotel config pins no sha256 (logged as a warning).
    #[serde(default)]
    pub allow_unpinned: bool,
    /// Default sandbox limits.
    #[serde(default)]
    pub limits: LimitsBlock,
    /// Per-adapter overrides, by adapter name.
    #[serde(default)]
    pub overrides: BTreeMap<String, LimitsBlock>,
    /// Instances that may run at once (pooling allocator slots).
    pub max_concurrent_instances: Option<u32>,
    /// Calls of one hotel that may run at once (a quarter of the pool, at least 1), so that one
    /// hotel's slow PMS cannot take every sandbox slot.
    pub max_concurrent_calls_per_hotel: Option<u32>,
}

/// Sandbox limits (DESIGN §4).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LimitsBlock {
    /// Linear memory cap, MiB (64).
    pub memory_mib: Option<u64>,
    /// Wall-clock deadline per call, ms (30000).
    pub deadline_ms: Option<u64>,
    /// Outbound requests per call (100).
    pub max_requests_per_call: Option<u32>,
    /// Response body cap, bytes (10 MiB).
    pub max_response_bytes: Option<u64>,
    /// Largest result one call may hand the host, bytes of strings and list items (16 MiB).
    pub max_result_bytes: Option<u64>,
    /// Log lines one call may write through `log`, stdout and stderr together (1000).
    pub max_log_lines_per_call: Option<u32>,
    /// Log bytes one call may write through `log`, stdout and stderr together (256 KiB).
    pub max_log_bytes_per_call: Option<u64>,
    /// Calls of this adapter that may run at once, over all its hotels (half the pool).
    pub max_concurrent_calls: Option<u32>,
}

/// `egress`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EgressBlock {
    /// Allow plain `http://` to loopback addresses (development and tests).
    #[serde(default)]
    pub allow_loopback_http: bool,
    /// Allow destinations that resolve to loopback (127.0.0.0/8, ::1).
    #[serde(default)]
    pub allow_loopback: bool,
    /// Allow destinations that resolve to private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7).
    #[serde(default)]
    pub allow_private: bool,
    /// Timeout of one outbound request, ms (10000).
    pub request_timeout_ms: Option<u64>,
    /// Redirect hops followed (5).
    pub max_redirects: Option<u32>,
    /// PEM files of extra certificate authorities to trust for TLS, relative to the config file
    /// (a private PMS behind an internal CA; test simulators). The public web roots stay trusted.
    #[serde(default)]
    pub trusted_ca_files: Vec<String>,
    /// Fixed addresses for host names, like curl's `--resolve` (`api.cloudbeds.com:
    /// 127.0.0.1:8443`): for a PMS reached through a private link, or a simulator standing in
    /// for a vendor whose manifest names a fixed host. The address policy still applies to them.
    #[serde(default)]
    pub resolve: BTreeMap<String, String>,
    /// Longest pause a vendor's `Retry-After` (or an adapter's `rate-limited`) may impose, ms
    /// (300000): a longer one is cut to this, so that no vendor answer can park a hotel's
    /// requests for years.
    pub max_retry_after_ms: Option<u64>,
}

/// `mockPms`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MockPmsBlock {
    /// Start the mock PMS inside `serve`.
    #[serde(default)]
    pub enabled: bool,
    /// Listen address (127.0.0.1:9090).
    pub listen: Option<String>,
    /// Seed file, relative to the config file.
    pub seed: String,
    /// The API key the mock PMS expects.
    pub api_key: SecretRefBlock,
    /// Faults to inject from the start (latency, error rate, outage, 429s); also settable at
    /// run time with `PUT /admin/faults`.
    #[serde(default)]
    pub faults: Option<crate::mock_pms::Faults>,
}

/// Where a secret comes from: exactly one of `env` or `vault`. Never the value itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretRefBlock {
    /// Environment variable holding the value.
    pub env: Option<String>,
    /// Name of the secret in the vault (for this hotel).
    pub vault: Option<String>,
}

/// `state`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateBlock {
    /// SQLite state file, relative to the config file (`.jack-pms/state.db`).
    pub path: Option<String>,
    /// PostgreSQL URL (`postgres://user@host/db`), for several hosts sharing one state.
    pub url: Option<String>,
    /// Environment variable holding the PostgreSQL URL (keeps a password out of the file).
    pub url_env: Option<String>,
    /// This host's name among the hosts sharing the state (the owner of the writes it attempts).
    pub node_id: Option<String>,
}

/// `coordination`: where hosts share their rate-limit buckets, OAuth tokens, read cache and
/// PMS health. Absent: each host keeps them in its own process (one host).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CoordinationBlock {
    /// Redis URL (`redis://host:6379/0`, `rediss://` for TLS).
    pub redis: Option<String>,
    /// Environment variable holding the Redis URL (keeps a password out of the file).
    pub redis_env: Option<String>,
    /// Prefix of every Redis key and channel (`jack-pms`), so that deployments can share a
    /// server.
    pub key_prefix: Option<String>,
    /// Longest wait for one Redis command before the host falls back to local behaviour, ms
    /// (default 250).
    pub timeout_ms: Option<u64>,
}

/// `vault`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VaultBlock {
    /// Environment variable holding the base64 master key (`JACK_PMS_MASTER_KEY`).
    pub master_key_env: Option<String>,
    /// File holding the base64 master key (mode 0600), relative to the config file.
    pub master_key_file: Option<String>,
    /// Development only: create `masterKeyFile` with a new random key when it is missing.
    #[serde(default)]
    pub generate_master_key_file: bool,
}

/// `outbox`: how queued writes are replayed.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OutboxBlock {
    /// Attempts before a write becomes `failed` (default 10).
    pub max_attempts: Option<u32>,
    /// Delay before the first replay, ms (default 1000); doubles each attempt.
    pub initial_delay_ms: Option<u64>,
    /// Longest delay between replays, ms (default 300000).
    pub max_delay_ms: Option<u64>,
    /// Operations whose queueing alerts staff at once (default `[postCharge]`).
    pub critical: Option<Vec<String>>,
    /// Days applied and cancelled writes stay in the outbox (and an `Idempotency-Key` is
    /// remembered), default 30. Their audit rows are kept for good.
    pub retain_days: Option<u32>,
}

/// One hotel.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HotelBlock {
    /// Jack's id for the hotel (used in API paths).
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// The hotel's IANA time zone (`Asia/Tokyo`): what "today" means for it. Defaults to
    /// `pms.timeZone`, then to the zone the adapter's own settings name, then UTC.
    pub time_zone: Option<String>,
    /// Adapter name (`<name>.wasm`); defaults from `pms.vendor`.
    pub adapter: Option<String>,
    /// Hex SHA-256 of the adapter component: what was reviewed is what runs.
    pub sha256: Option<String>,
    /// Non-secret settings handed to the adapter's `config` import.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
    /// Secret references by the names the manifest declares.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretRefBlock>,
    /// Overrides of the `pms:` block for this hotel.
    pub pms: Option<PmsBlock>,
    /// Rate limits replacing the adapter manifest's defaults for this hotel.
    pub rate_limits: Option<Vec<RateLimitBlock>>,
    /// The vendor's webhooks into `POST /v1/webhooks/{hotel}/{vendor}`.
    pub inbound_webhook: Option<InboundWebhookBlock>,
    /// Guardrails on writes for this hotel, over the file's `writes:` (set fields win).
    pub writes: Option<WritesBlock>,
}

/// `writes:` the guardrails on what an assistant may write (README "Guardrails").
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WritesBlock {
    /// Largest charge, a decimal string in the hotel's currency (default "1000.00").
    pub max_charge_amount: Option<String>,
    /// The hotel's ISO 4217 currency: a charge in another is refused (default: not checked).
    pub currency: Option<String>,
    /// Charges one reservation may receive per hour (default 10).
    pub max_charges_per_reservation_per_hour: Option<u32>,
    /// Charges over this amount are held for staff approval (default: none held).
    pub approval_threshold: Option<String>,
    /// How far a new check-out time may lie from the booked departure day, hours (default 24).
    pub checkout_window_hours: Option<u32>,
    /// Preferences one guest may have set at once (default 20).
    pub max_preferences_per_guest: Option<u32>,
}

/// `hotels[].inboundWebhook`: the shared secret the vendor puts in the webhook URL
/// (`?token=…`, Mews' scheme).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundWebhookBlock {
    /// Where the token comes from (`{ env: VAR }` or `{ vault: name }`).
    pub token: SecretRefBlock,
}

/// `events`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventsBlock {
    /// Events kept for `Last-Event-ID` resume (default 100000).
    pub retention: Option<u64>,
    /// Receivers of signed webhook deliveries.
    #[serde(default)]
    pub webhooks: Vec<WebhookBlock>,
    /// Attempts per event and receiver (default 8).
    pub webhook_max_attempts: Option<u32>,
    /// Seconds a PMS may stay unavailable before a `staff.alert` (`pms_down`) is raised
    /// (default 600).
    pub pms_down_alert_after_secs: Option<u64>,
}

/// One webhook receiver.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookBlock {
    /// Where to POST.
    pub url: String,
    /// The HMAC-SHA256 key shared with the receiver (`{ env: VAR }`).
    pub secret: SecretRefBlock,
    /// Event types to send; all when absent.
    pub events: Option<Vec<String>>,
    /// `jack` (the event's JSON, the default) or `slack` (`{"text": …}` for an incoming
    /// webhook of Slack or a chat tool that speaks its format).
    pub format: Option<String>,
}

/// One rate limit.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitBlock {
    /// Requests allowed…
    pub requests: u32,
    /// …per this many seconds…
    pub per_seconds: u32,
    /// …per `hotel`, `credential` or `environment`.
    pub scope: crate::egress::limits::RateScope,
}
