//! The host's configuration (DESIGN §6): the YAML file as written ([`raw`]), resolved once into
//! validated settings ([`Config`]) that everything else uses.
//!
//! Resolution applies the seed's defaults, resolves paths against the config file's directory,
//! and checks every value. Errors name the file, the key and, where it can be found, the line.
//! Secrets are never values in this file, only references ([`SecretRef`]).

pub mod raw;

use crate::egress::Policy as EgressPolicy;
pub use crate::egress::retry::{Backoff, RetryPolicy};
use crate::model::Decimal;
use crate::zone::HotelZone;
use raw::{PmsBlock, RawConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML is malformed, has an unknown key or a value of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the key, the line and the column.
        message: String,
    },
    /// A value is well-formed YAML but not acceptable.
    #[error("{path}{}: `{key}`: {message}", .line.map(|l| format!(": line {l}")).unwrap_or_default())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key, as a path (`hotels[0].sha256`).
        key: String,
        /// The line, when it could be found.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

/// Where a secret value comes from (the vault's type: the value itself is read by
/// [`crate::vault`] at send time).
pub use crate::vault::SecretRef;

/// Where the vault's master key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MasterKeySource {
    /// An environment variable (base64).
    Env(String),
    /// A file (base64, mode 0600).
    File(PathBuf),
}

/// The state database and the vault's key.
#[derive(Clone, Debug)]
pub struct StateSettings {
    /// Where the state lives: a SQLite file (default) or a PostgreSQL database.
    pub location: crate::db::Location,
    /// This host's node id: the owner of the writes it attempts (see [`crate::state::outbox`]).
    /// Configured (`state.nodeId`), or `local` on SQLite, or unique per process on PostgreSQL.
    pub node_id: String,
    /// The vault's master key.
    pub master_key: MasterKeySource,
    /// Development only: create the key file with a new key when it is missing.
    pub generate_master_key_file: bool,
}

/// How queued writes are replayed (`outbox:`).
#[derive(Clone, Debug)]
pub struct OutboxSettings {
    /// Attempts before a write becomes `failed`.
    pub max_attempts: u32,
    /// Delay before the first replay; doubles each attempt.
    pub initial_delay: Duration,
    /// Longest delay between replays.
    pub max_delay: Duration,
    /// Operations whose queueing alerts staff at once.
    pub critical: Vec<crate::operation::Operation>,
    /// How long applied and cancelled writes (and their idempotency keys) are kept.
    pub retain: Duration,
}

impl Default for OutboxSettings {
    fn default() -> OutboxSettings {
        OutboxSettings {
            max_attempts: 10,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            critical: vec![crate::operation::Operation::PostCharge],
            retain: Duration::from_secs(30 * 86_400),
        }
    }
}

/// An API token, by its hash.
#[derive(Clone, Debug)]
pub struct ApiToken {
    /// The caller's name.
    pub name: String,
    /// SHA-256 of the token.
    pub sha256: [u8; 32],
    /// What the token may do beyond reads and writes.
    pub scopes: Vec<TokenScope>,
}

/// A power a token may hold beyond reading and writing (`server.tokens[].scopes`). Jack's own
/// token holds none: deciding about stored writes is for people and their tools.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum TokenScope {
    /// Retry, resend and cancel stored writes (`POST /v1/operations/{id}/retry|resend|cancel`).
    Operator,
    /// Approve and reject writes held for approval (`POST /v1/operations/{id}/approve|reject`).
    Approver,
}

impl TokenScope {
    /// The scope's name in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Operator => "operator",
            TokenScope::Approver => "approver",
        }
    }
}

/// Settings of the HTTP API.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Accepted tokens.
    pub tokens: Vec<ApiToken>,
    /// The staff console.
    pub console: ConsoleSettings,
}

/// `server.console`: the staff console at `/console` on the API's listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsoleSettings {
    /// Whether `/console` is served.
    pub enabled: bool,
    /// A session nobody used for this long ends.
    pub idle: Duration,
    /// Every session ends this long after login.
    pub lifetime: Duration,
    /// Session cookies are `Secure` (served through TLS).
    pub secure_cookies: bool,
}

impl Default for ConsoleSettings {
    fn default() -> ConsoleSettings {
        ConsoleSettings {
            enabled: true,
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 3600),
            secure_cookies: false,
        }
    }
}

/// Sandbox limits of one adapter (DESIGN §4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Linear memory cap in bytes.
    pub memory_bytes: u64,
    /// Wall-clock deadline of one call.
    pub deadline: Duration,
    /// Outbound requests one call may make.
    pub max_requests_per_call: u32,
    /// Largest response body handed to the guest.
    pub max_response_bytes: u64,
    /// Largest result a call may return: the bytes of its strings plus a fixed cost per list
    /// item, checked before the host copies the result out of the sandbox.
    pub max_result_bytes: u64,
    /// Log lines one call may write (`log`, stdout and stderr together); the rest are dropped
    /// and counted.
    pub max_log_lines_per_call: u32,
    /// Log bytes one call may write, likewise.
    pub max_log_bytes_per_call: u64,
    /// Calls of the adapter that may run at once over all its hotels; `None`: half the pool.
    pub max_concurrent_calls: Option<u32>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(30),
            max_requests_per_call: 100,
            max_response_bytes: 10 << 20,
            max_result_bytes: 16 << 20,
            max_log_lines_per_call: 1000,
            max_log_bytes_per_call: 256 << 10,
            max_concurrent_calls: None,
        }
    }
}

/// Where adapters are and how they run.
#[derive(Clone, Debug)]
pub struct AdapterSettings {
    /// Directory with `<name>.wasm` and `<name>.toml`.
    pub dir: PathBuf,
    /// Directory for compiled artefacts.
    pub cache_dir: PathBuf,
    /// Load adapters without a sha256 pin (development only).
    pub allow_unpinned: bool,
    /// Limits for adapters without an override.
    pub default_limits: Limits,
    /// Limits per adapter name.
    pub overrides: BTreeMap<String, Limits>,
    /// Instances that may run at once.
    pub max_concurrent_instances: u32,
    /// Calls of one hotel that may run at once.
    pub max_concurrent_calls_per_hotel: u32,
}

impl AdapterSettings {
    /// The limits that apply to `adapter`.
    pub fn limits_for(&self, adapter: &str) -> &Limits {
        self.overrides.get(adapter).unwrap_or(&self.default_limits)
    }
}

/// The in-process mock PMS.
#[derive(Clone, Debug)]
pub struct MockPmsSettings {
    /// Start it inside `serve`.
    pub enabled: bool,
    /// Listen address.
    pub listen: SocketAddr,
    /// Seed file.
    pub seed: PathBuf,
    /// The API key it expects.
    pub api_key: SecretRef,
    /// Faults injected from the start.
    pub faults: crate::mock_pms::Faults,
}

/// A scheduled sync stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncStream {
    /// Whether it runs.
    pub enabled: bool,
    /// Cron expression.
    pub schedule: String,
    /// Days ahead.
    pub look_ahead_days: u32,
}

/// The seed's sync block, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncSettings {
    /// Arrivals.
    pub arrivals: SyncStream,
    /// Departures.
    pub departures: SyncStream,
    /// In-house guests.
    pub in_house: SyncStream,
    /// Room status.
    pub room_status: SyncStream,
}

/// Cache TTLs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheTtls {
    /// Guests.
    pub guest: Duration,
    /// Reservations.
    pub reservation: Duration,
    /// Room status.
    pub room_status: Duration,
}

/// The `pms:` block resolved for one hotel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PmsSettings {
    /// Vendor named in the block, if any.
    pub vendor: Option<String>,
    /// Sync schedules.
    pub sync: SyncSettings,
    /// Cache TTLs.
    pub cache: CacheTtls,
    /// Retry policy.
    pub retry: RetryPolicy,
}

/// One hotel, resolved.
#[derive(Clone, Debug)]
pub struct HotelSettings {
    /// Jack's id for the hotel.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The configured IANA time zone (`hotels[].timeZone`, else `pms.timeZone`), if any; the
    /// binding settles the hotel's zone from it and the adapter's own zone setting.
    pub time_zone: Option<HotelZone>,
    /// Adapter name.
    pub adapter: String,
    /// Pinned sha256 of the adapter component.
    pub sha256: Option<[u8; 32]>,
    /// Non-secret settings for the adapter.
    pub settings: BTreeMap<String, String>,
    /// Secret references by name.
    pub secrets: BTreeMap<String, SecretRef>,
    /// The `pms:` block for this hotel.
    pub pms: PmsSettings,
    /// Rate limits replacing the manifest's, when set.
    pub rate_limits: Option<Vec<crate::egress::limits::RateLimit>>,
    /// The token vendor webhooks must carry, when inbound webhooks are configured.
    pub inbound_webhook_token: Option<SecretRef>,
    /// Guardrails on writes.
    pub writes: WriteRules,
}

/// Guardrails on what an assistant may write to one hotel's PMS (`writes:` laid under
/// `hotels[].writes`), checked before a write is stored or sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteRules {
    /// Largest charge amount (in the hotel's currency).
    pub max_charge_amount: Decimal,
    /// The hotel's currency, when configured: charges in another are refused.
    pub currency: Option<String>,
    /// Charges per reservation per rolling hour.
    pub max_charges_per_reservation_per_hour: u32,
    /// Charges over this are held for approval; `None` holds none.
    pub approval_threshold: Option<Decimal>,
    /// How far a new check-out time may lie outside the booked departure day.
    pub checkout_window: Duration,
    /// Preferences per guest.
    pub max_preferences_per_guest: u32,
}

impl Default for WriteRules {
    fn default() -> WriteRules {
        WriteRules {
            max_charge_amount: Decimal::parse("1000.00").unwrap_or(Decimal::ZERO),
            currency: None,
            max_charges_per_reservation_per_hour: 10,
            approval_threshold: None,
            checkout_window: Duration::from_secs(24 * 3600),
            max_preferences_per_guest: 20,
        }
    }
}

/// Change events (`events:`).
#[derive(Clone, Debug)]
pub struct EventsSettings {
    /// Events kept for resume.
    pub retention: u64,
    /// Webhook receivers.
    pub webhooks: Vec<WebhookSettings>,
    /// Attempts per event and receiver.
    pub webhook_max_attempts: u32,
    /// How long a PMS may stay unavailable before staff are alerted (`staff.alert`, `pms_down`).
    pub pms_down_alert_after: Duration,
}

/// One webhook receiver.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Where to POST.
    pub url: String,
    /// Its signing secret's source.
    pub secret: SecretRef,
    /// Event types to send; all when `None`.
    pub events: Option<Vec<String>>,
    /// The body's shape.
    pub format: WebhookFormat,
}

/// What a webhook delivery's body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WebhookFormat {
    /// The event's JSON (as on `/v1/events`).
    #[default]
    Jack,
    /// `{"text": "<one line>"}`: Slack's incoming webhooks and the chat tools that accept them.
    Slack,
}

/// Redis, where several hosts coordinate (`coordination:`).
#[derive(Clone, Debug)]
pub struct RedisSettings {
    /// The server's URL (may hold a password: never shown).
    pub url: secrecy::SecretString,
    /// Prefix of every key and channel.
    pub key_prefix: String,
    /// Longest wait for one command before falling back to local behaviour.
    pub timeout: Duration,
}

/// The resolved configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// HTTP API.
    pub server: ServerSettings,
    /// Adapters.
    pub adapters: AdapterSettings,
    /// Outbound network policy.
    pub egress: EgressPolicy,
    /// Mock PMS.
    pub mock_pms: Option<MockPmsSettings>,
    /// State file and vault key.
    pub state: StateSettings,
    /// The durable write queue.
    pub outbox: OutboxSettings,
    /// Change events.
    pub events: EventsSettings,
    /// Redis, when several hosts share rate limits, tokens, the cache and PMS health through
    /// it; `None`: this process keeps them (one host).
    pub redis: Option<RedisSettings>,
    /// Hotels, in file order.
    pub hotels: Vec<HotelSettings>,
}

impl Config {
    /// Reads and resolves `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_yaml(&text, path)
    }

    /// Resolves YAML `text`; `path` names the file in errors and anchors relative paths.
    pub fn from_yaml(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Resolver { text, path }.resolve(raw)
    }

    /// The hotel with `id`.
    pub fn hotel(&self, id: &str) -> Option<&HotelSettings> {
        self.hotels.iter().find(|h| h.id == id)
    }
}

/// Maps the seed's vendor names to adapter names.
fn adapter_for_vendor(vendor: &str) -> &str {
    match vendor {
        "opera_cloud" | "opera" => "opera",
        other => other,
    }
}

struct Resolver<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Resolver<'_> {
    fn invalid(
        &self,
        key: impl Into<String>,
        needle: Option<(&str, &str)>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            key: key.into(),
            line: needle.and_then(|(k, v)| line_of(self.text, k, v)),
            message: message.into(),
        }
    }

    /// Reads `egress.trustedCaFiles[i]`: a PEM file holding at least one certificate.
    fn ca_file(&self, i: usize, file: &str) -> Result<Vec<u8>, ConfigError> {
        let key = format!("egress.trustedCaFiles[{i}]");
        let path = self.relative(file);
        let pem = std::fs::read(&path).map_err(|e| {
            self.invalid(&key, None, format!("cannot read {}: {e}", path.display()))
        })?;
        if reqwest::Certificate::from_pem_bundle(&pem).map_or(true, |certs| certs.is_empty()) {
            return Err(self.invalid(
                &key,
                None,
                format!("{} holds no PEM certificate", path.display()),
            ));
        }
        Ok(pem)
    }

    fn relative(&self, p: &str) -> PathBuf {
        let base = self.path.parent().unwrap_or(Path::new("."));
        base.join(p)
    }

    fn address(&self, key: &str, field: &str, value: &str) -> Result<SocketAddr, ConfigError> {
        value.parse().map_err(|_| {
            self.invalid(
                key,
                Some((field, value)),
                format!("`{value}` is not an address such as 127.0.0.1:8080"),
            )
        })
    }

    fn resolve(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let listen = raw.server.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let server = ServerSettings {
            listen: self.address("server.listen", "listen", listen)?,
            tokens: raw
                .server
                .tokens
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    Ok(ApiToken {
                        name: t.name.clone(),
                        sha256: self.sha256(&format!("server.tokens[{i}].sha256"), &t.sha256)?,
                        scopes: t.scopes.clone(),
                    })
                })
                .collect::<Result<_, ConfigError>>()?,
            console: self.console(&raw.server.console)?,
        };
        if server.tokens.is_empty() {
            return Err(self.invalid(
                "server.tokens",
                None,
                "no API token is configured: every API request needs one",
            ));
        }

        let default_limits =
            self.limits("adapters.limits", &raw.adapters.limits, &Limits::default())?;
        let max_concurrent_instances = raw
            .adapters
            .max_concurrent_instances
            .unwrap_or(64)
            .clamp(1, 10_000);
        let mut overrides = BTreeMap::new();
        for (name, block) in &raw.adapters.overrides {
            overrides.insert(
                name.clone(),
                self.limits(
                    &format!("adapters.overrides.{name}"),
                    block,
                    &default_limits,
                )?,
            );
        }
        let adapters = AdapterSettings {
            dir: self.relative(raw.adapters.dir.as_deref().unwrap_or("adapters")),
            cache_dir: self.relative(
                raw.adapters
                    .cache_dir
                    .as_deref()
                    .unwrap_or(".jack-pms/compiled"),
            ),
            allow_unpinned: raw.adapters.allow_unpinned,
            default_limits,
            overrides,
            max_concurrent_instances,
            max_concurrent_calls_per_hotel: raw
                .adapters
                .max_concurrent_calls_per_hotel
                .unwrap_or((max_concurrent_instances / 4).max(1))
                .clamp(1, max_concurrent_instances),
        };

        let egress = EgressPolicy {
            allow_loopback_http: raw.egress.allow_loopback_http,
            allow_loopback: raw.egress.allow_loopback,
            allow_private: raw.egress.allow_private,
            request_timeout: Duration::from_millis(
                raw.egress.request_timeout_ms.unwrap_or(10_000).max(1),
            ),
            max_redirects: raw.egress.max_redirects.unwrap_or(5),
            max_retry_after: Duration::from_millis(
                raw.egress.max_retry_after_ms.unwrap_or(300_000),
            ),
            trusted_ca_pems: raw
                .egress
                .trusted_ca_files
                .iter()
                .enumerate()
                .map(|(i, file)| self.ca_file(i, file))
                .collect::<Result<_, ConfigError>>()?,
            resolve: raw
                .egress
                .resolve
                .iter()
                .map(|(host, addr)| {
                    let parsed = addr.parse().map_err(|_| {
                        self.invalid(
                            format!("egress.resolve.{host}"),
                            None,
                            format!("`{addr}` is not an address:port (like 127.0.0.1:8443)"),
                        )
                    })?;
                    Ok((host.to_ascii_lowercase(), parsed))
                })
                .collect::<Result<_, ConfigError>>()?,
        };

        let mock_pms = match &raw.mock_pms {
            None => None,
            Some(m) => Some({
                if let Some(faults) = &m.faults {
                    faults
                        .validate()
                        .map_err(|e| self.invalid("mockPms.faults", None, e))?;
                }
                MockPmsSettings {
                    enabled: m.enabled,
                    listen: self.address(
                        "mockPms.listen",
                        "listen",
                        m.listen.as_deref().unwrap_or("127.0.0.1:9090"),
                    )?,
                    seed: self.relative(&m.seed),
                    api_key: self.secret_ref("mockPms.apiKey", &m.api_key)?,
                    faults: m.faults.clone().unwrap_or_default(),
                }
            }),
        };

        let mut seen = BTreeSet::new();
        let mut hotels = Vec::new();
        for (i, h) in raw.hotels.iter().enumerate() {
            let key = |k: &str| format!("hotels[{i}].{k}");
            if h.id.is_empty()
                || !h
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(self.invalid(
                    key("id"),
                    Some(("id", &h.id)),
                    "hotel ids use letters, digits, `-` and `_` only",
                ));
            }
            if !seen.insert(h.id.clone()) {
                return Err(self.invalid(
                    key("id"),
                    Some(("id", &h.id)),
                    format!("hotel `{}` is listed twice", h.id),
                ));
            }
            let pms_block = match &h.pms {
                Some(over) => overlay(&raw.pms, over),
                None => raw.pms.clone(),
            };
            let pms = self.pms(&key("pms"), &pms_block)?;
            let time_zone = match (&h.time_zone, &h.pms, &raw.pms.time_zone) {
                (Some(zone), _, _) => Some((key("timeZone"), zone)),
                (
                    None,
                    Some(PmsBlock {
                        time_zone: Some(zone),
                        ..
                    }),
                    _,
                ) => Some((key("pms.timeZone"), zone)),
                (None, _, Some(zone)) => Some(("pms.timeZone".to_owned(), zone)),
                (None, _, None) => None,
            }
            .map(|(k, zone)| {
                HotelZone::parse(zone).map_err(|e| self.invalid(k, Some(("timeZone", zone)), e))
            })
            .transpose()?;
            let adapter = match (&h.adapter, &pms.vendor) {
                (Some(a), _) => a.clone(),
                (None, Some(v)) => adapter_for_vendor(v).to_string(),
                (None, None) => {
                    return Err(self.invalid(
                        key("adapter"),
                        Some(("id", &h.id)),
                        "names no adapter and `pms.vendor` is not set",
                    ));
                }
            };
            if !adapter
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(self.invalid(
                    key("adapter"),
                    Some(("adapter", &adapter)),
                    "adapter names use letters, digits, `-` and `_` only",
                ));
            }
            let sha256 = h
                .sha256
                .as_deref()
                .map(|s| self.sha256(&key("sha256"), s))
                .transpose()?;
            let rate_limits = match &h.rate_limits {
                None => None,
                Some(limits) => Some(
                    limits
                        .iter()
                        .map(|l| {
                            if l.requests == 0 || l.per_seconds == 0 {
                                return Err(self.invalid(
                                    key("rateLimits"),
                                    None,
                                    "requests and perSeconds must be positive",
                                ));
                            }
                            Ok(crate::egress::limits::RateLimit {
                                requests: l.requests,
                                per: Duration::from_secs(u64::from(l.per_seconds)),
                                scope: l.scope,
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                ),
            };
            hotels.push(HotelSettings {
                id: h.id.clone(),
                name: h.name.clone().unwrap_or_else(|| h.id.clone()),
                time_zone,
                adapter,
                sha256,
                settings: h.settings.clone(),
                secrets: h
                    .secrets
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            k.clone(),
                            self.secret_ref(&key(&format!("secrets.{k}")), v)?,
                        ))
                    })
                    .collect::<Result<_, ConfigError>>()?,
                pms,
                rate_limits,
                inbound_webhook_token: h
                    .inbound_webhook
                    .as_ref()
                    .map(|w| self.secret_ref(&key("inboundWebhook.token"), &w.token))
                    .transpose()?,
                writes: self.write_rules(
                    if h.writes.is_some() {
                        key("writes")
                    } else {
                        "writes".into()
                    },
                    &overlay_writes(&raw.writes, h.writes.as_ref()),
                )?,
            });
        }
        Ok(Config {
            path: self.path.to_path_buf(),
            server,
            adapters,
            egress,
            mock_pms,
            state: StateSettings {
                location: self.state_location(&raw.state)?,
                node_id: self.node_id(&raw.state)?,
                master_key: match (&raw.vault.master_key_env, &raw.vault.master_key_file) {
                    (Some(_), Some(_)) => {
                        return Err(self.invalid(
                            "vault",
                            None,
                            "set masterKeyEnv or masterKeyFile, not both",
                        ));
                    }
                    (_, Some(file)) => MasterKeySource::File(self.relative(file)),
                    (Some(var), None) => MasterKeySource::Env(var.clone()),
                    (None, None) => MasterKeySource::Env("JACK_PMS_MASTER_KEY".into()),
                },
                generate_master_key_file: match (
                    raw.vault.generate_master_key_file,
                    &raw.vault.master_key_file,
                ) {
                    (true, None) => {
                        return Err(self.invalid(
                            "vault.generateMasterKeyFile",
                            Some(("generateMasterKeyFile", "")),
                            "needs vault.masterKeyFile: the file to create",
                        ));
                    }
                    (flag, _) => flag,
                },
            },
            outbox: self.outbox(&raw.outbox)?,
            events: self.events(&raw.events)?,
            redis: self.redis(&raw.coordination)?,
            hotels,
        })
    }

    /// `coordination.redis` or `coordination.redisEnv` (at most one), with its prefix and
    /// timeout.
    fn redis(&self, raw: &raw::CoordinationBlock) -> Result<Option<RedisSettings>, ConfigError> {
        let (url, key) = match (&raw.redis, &raw.redis_env) {
            (None, None) => {
                if raw.key_prefix.is_some() || raw.timeout_ms.is_some() {
                    return Err(self.invalid(
                        "coordination",
                        None,
                        "keyPrefix and timeoutMs need redis or redisEnv",
                    ));
                }
                return Ok(None);
            }
            (Some(url), None) => (url.clone(), "coordination.redis"),
            (None, Some(var)) => (
                std::env::var(var).map_err(|_| {
                    self.invalid(
                        "coordination.redisEnv",
                        Some(("redisEnv", var)),
                        format!("environment variable `{var}` is not set (or not UTF-8)"),
                    )
                })?,
                "coordination.redisEnv",
            ),
            (Some(_), Some(_)) => {
                return Err(self.invalid("coordination", None, "set redis or redisEnv, not both"));
            }
        };
        // The URL may hold a password: messages name the key, never the value.
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "redis" | "rediss") && u.host().is_some() => {}
            _ => {
                return Err(self.invalid(
                    key,
                    raw.redis.as_deref().map(|_| ("redis", "")),
                    "not a Redis URL (redis://host:6379/0)",
                ));
            }
        }
        let key_prefix = raw.key_prefix.clone().unwrap_or_else(|| "jack-pms".into());
        let fine = !key_prefix.is_empty()
            && key_prefix.len() <= 64
            && key_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if !fine {
            return Err(self.invalid(
                "coordination.keyPrefix",
                Some(("keyPrefix", &key_prefix)),
                "1 to 64 letters, digits, `-`, `_`, `.` or `:`",
            ));
        }
        let timeout_ms = raw.timeout_ms.unwrap_or(250);
        if !(10..=10_000).contains(&timeout_ms) {
            return Err(self.invalid(
                "coordination.timeoutMs",
                Some(("timeoutMs", &timeout_ms.to_string())),
                "between 10 and 10000",
            ));
        }
        Ok(Some(RedisSettings {
            url: secrecy::SecretString::from(url),
            key_prefix,
            timeout: Duration::from_millis(timeout_ms),
        }))
    }

    /// `state.path`, `state.url` or `state.urlEnv`: at most one of them.
    fn state_location(&self, raw: &raw::StateBlock) -> Result<crate::db::Location, ConfigError> {
        use crate::db::Location;
        let url = match (&raw.path, &raw.url, &raw.url_env) {
            (None, None, None) => {
                return Ok(Location::Sqlite(self.relative(".jack-pms/state.db")));
            }
            (Some(path), None, None) => return Ok(Location::Sqlite(self.relative(path))),
            (None, Some(url), None) => url.clone(),
            (None, None, Some(var)) => std::env::var(var).map_err(|_| {
                self.invalid(
                    "state.urlEnv",
                    Some(("urlEnv", var)),
                    format!("environment variable `{var}` is not set (or not UTF-8)"),
                )
            })?,
            _ => {
                return Err(self.invalid(
                    "state",
                    None,
                    "set one of path (SQLite), url or urlEnv (PostgreSQL)",
                ));
            }
        };
        let key = if raw.url.is_some() {
            "state.url"
        } else {
            "state.urlEnv"
        };
        // The URL may hold a password: messages name the key, never the value.
        match url::Url::parse(&url) {
            Ok(u) if matches!(u.scheme(), "postgres" | "postgresql") && u.host().is_some() => {
                Ok(Location::Postgres(secrecy::SecretString::from(url)))
            }
            _ => Err(self.invalid(
                key,
                raw.url.as_deref().map(|_| ("url", "")),
                "not a PostgreSQL URL (postgres://user@host:5432/database)",
            )),
        }
    }

    /// `state.nodeId`, or the default: `local` for a SQLite file (one host), a name unique to
    /// this process for PostgreSQL (two live hosts must never share one: each would take the
    /// other's writes in flight for its own).
    fn node_id(&self, raw: &raw::StateBlock) -> Result<String, ConfigError> {
        if let Some(id) = &raw.node_id {
            let fine = !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !fine {
                return Err(self.invalid(
                    "state.nodeId",
                    Some(("nodeId", id)),
                    "1 to 64 letters, digits, `-`, `_` or `.`",
                ));
            }
            return Ok(id.clone());
        }
        if raw.url.is_none() && raw.url_env.is_none() {
            return Ok("local".to_owned());
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "host".to_owned());
        let host: String = host
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(40)
            .collect();
        Ok(format!("{host}-{}", std::process::id()))
    }

    fn events(&self, raw: &raw::EventsBlock) -> Result<EventsSettings, ConfigError> {
        let webhooks = raw
            .webhooks
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let key = format!("events.webhooks[{i}]");
                match url::Url::parse(&w.url) {
                    Ok(u) if matches!(u.scheme(), "https" | "http") => {}
                    _ => {
                        return Err(self.invalid(
                            format!("{key}.url"),
                            Some(("url", w.url.as_str())),
                            format!("`{}` is not an http(s) URL", w.url),
                        ));
                    }
                }
                if let Some(kinds) = &w.events {
                    for k in kinds {
                        if crate::events::diff::EventKind::parse(k).is_none() {
                            return Err(self.invalid(
                                format!("{key}.events"),
                                Some((k.as_str(), "")),
                                format!("`{k}` is not an event type"),
                            ));
                        }
                    }
                }
                let format = match w.format.as_deref() {
                    None | Some("jack") => WebhookFormat::Jack,
                    Some("slack") => WebhookFormat::Slack,
                    Some(other) => {
                        return Err(self.invalid(
                            format!("{key}.format"),
                            Some(("format", other)),
                            "expected `jack` or `slack`",
                        ));
                    }
                };
                Ok(WebhookSettings {
                    url: w.url.clone(),
                    secret: self.secret_ref(&format!("{key}.secret"), &w.secret)?,
                    events: w.events.clone(),
                    format,
                })
            })
            .collect::<Result<_, _>>()?;
        let pms_down_after = raw.pms_down_alert_after_secs.unwrap_or(600);
        if !(1..=7 * 24 * 3600).contains(&pms_down_after) {
            return Err(self.invalid(
                "events.pmsDownAlertAfterSecs",
                Some(("pmsDownAlertAfterSecs", &pms_down_after.to_string())),
                "must be between 1 and 604800 (a week)",
            ));
        }
        Ok(EventsSettings {
            retention: raw.retention.unwrap_or(100_000).max(1),
            webhooks,
            webhook_max_attempts: raw.webhook_max_attempts.unwrap_or(8).max(1),
            pms_down_alert_after: Duration::from_secs(pms_down_after),
        })
    }

    fn outbox(&self, raw: &raw::OutboxBlock) -> Result<OutboxSettings, ConfigError> {
        let defaults = OutboxSettings::default();
        let max_attempts = raw.max_attempts.unwrap_or(defaults.max_attempts);
        if max_attempts == 0 {
            return Err(self.invalid(
                "outbox.maxAttempts",
                Some(("maxAttempts", "")),
                "must be at least 1",
            ));
        }
        let initial_delay = raw
            .initial_delay_ms
            .map_or(defaults.initial_delay, Duration::from_millis);
        let max_delay = raw
            .max_delay_ms
            .map_or(defaults.max_delay, Duration::from_millis);
        if initial_delay.is_zero() || max_delay < initial_delay {
            return Err(self.invalid(
                "outbox",
                Some(("maxDelayMs", "")),
                "initialDelayMs must be above 0 and at most maxDelayMs",
            ));
        }
        // A day between attempts is already more than any queue should wait; larger numbers
        // are typos, and would overflow the clock arithmetic of the replay worker.
        if max_delay > Duration::from_secs(86_400) {
            return Err(self.invalid(
                "outbox.maxDelayMs",
                Some(("maxDelayMs", "")),
                "must be at most 86400000 (one day)",
            ));
        }
        let critical = match &raw.critical {
            None => defaults.critical,
            Some(names) => names
                .iter()
                .map(|n| match n.parse::<crate::operation::Operation>() {
                    Ok(op) if op.is_write() => Ok(op),
                    Ok(_) => Err(self.invalid(
                        "outbox.critical",
                        Some((n.as_str(), "")),
                        format!("`{n}` is not a write operation"),
                    )),
                    Err(e) => {
                        Err(self.invalid("outbox.critical", Some((n.as_str(), "")), e.to_string()))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        let retain = match raw.retain_days {
            Some(0) => {
                return Err(self.invalid(
                    "outbox.retainDays",
                    Some(("retainDays", "")),
                    "must be at least 1: the outbox is how a reused Idempotency-Key is recognised",
                ));
            }
            Some(days) if days > 36_500 => {
                return Err(self.invalid(
                    "outbox.retainDays",
                    Some(("retainDays", "")),
                    "must be at most 36500 (a century)",
                ));
            }
            Some(days) => Duration::from_secs(u64::from(days) * 86_400),
            None => defaults.retain,
        };
        Ok(OutboxSettings {
            max_attempts,
            initial_delay,
            max_delay,
            critical,
            retain,
        })
    }

    fn secret_ref(&self, key: &str, r: &raw::SecretRefBlock) -> Result<SecretRef, ConfigError> {
        match (&r.env, &r.vault) {
            (Some(var), None) if !var.is_empty() => Ok(SecretRef::Env(var.clone())),
            (None, Some(name)) if !name.is_empty() => Ok(SecretRef::Vault(name.clone())),
            _ => Err(self.invalid(
                key,
                None,
                "a secret reference is `{ env: VARIABLE }` or `{ vault: NAME }`",
            )),
        }
    }

    fn sha256(&self, key: &str, value: &str) -> Result<[u8; 32], ConfigError> {
        let field = key.rsplit('.').next().unwrap_or(key);
        let mut out = [0u8; 32];
        hex::decode_to_slice(value, &mut out).map_err(|_| {
            self.invalid(
                key,
                Some((field, value)),
                "expected 64 hexadecimal digits (a SHA-256)",
            )
        })?;
        Ok(out)
    }

    fn console(&self, block: &raw::ConsoleBlock) -> Result<ConsoleSettings, ConfigError> {
        let range = |name: &str, value: Option<u64>, max: u64| match value {
            Some(v) if !(1..=max).contains(&v) => Err(self.invalid(
                format!("server.console.{name}"),
                Some((name, &v.to_string())),
                format!("must be between 1 and {max}"),
            )),
            _ => Ok(()),
        };
        range("idleMinutes", block.idle_minutes, 24 * 60)?;
        range("sessionHours", block.session_hours, 7 * 24)?;
        let d = ConsoleSettings::default();
        Ok(ConsoleSettings {
            enabled: block.enabled.unwrap_or(d.enabled),
            idle: block
                .idle_minutes
                .map_or(d.idle, |m| Duration::from_secs(m * 60)),
            lifetime: block
                .session_hours
                .map_or(d.lifetime, |h| Duration::from_secs(h * 3600)),
            secure_cookies: block.secure_cookies.unwrap_or(d.secure_cookies),
        })
    }

    fn limits(
        &self,
        key: &str,
        block: &raw::LimitsBlock,
        base: &Limits,
    ) -> Result<Limits, ConfigError> {
        // Ranges are checked on the numbers as written, before any arithmetic on them.
        let range = |name: &str, value: Option<u64>, min: u64, max: u64| match value {
            Some(v) if !(min..=max).contains(&v) => Err(self.invalid(
                format!("{key}.{name}"),
                None,
                format!("must be between {min} and {max}"),
            )),
            _ => Ok(()),
        };
        range("memoryMib", block.memory_mib, 1, 4096)?;
        range("deadlineMs", block.deadline_ms, 10, 3_600_000)?;
        range(
            "maxRequestsPerCall",
            block.max_requests_per_call.map(u64::from),
            0,
            100_000,
        )?;
        range("maxResponseBytes", block.max_response_bytes, 1, 1 << 30)?;
        range("maxResultBytes", block.max_result_bytes, 1024, 1 << 30)?;
        range(
            "maxLogLinesPerCall",
            block.max_log_lines_per_call.map(u64::from),
            0,
            1_000_000,
        )?;
        range(
            "maxLogBytesPerCall",
            block.max_log_bytes_per_call,
            0,
            1 << 30,
        )?;
        range(
            "maxConcurrentCalls",
            block.max_concurrent_calls.map(u64::from),
            1,
            10_000,
        )?;
        Ok(Limits {
            memory_bytes: block
                .memory_mib
                .map(|m| m << 20)
                .unwrap_or(base.memory_bytes),
            deadline: block
                .deadline_ms
                .map(Duration::from_millis)
                .unwrap_or(base.deadline),
            max_requests_per_call: block
                .max_requests_per_call
                .unwrap_or(base.max_requests_per_call),
            max_response_bytes: block.max_response_bytes.unwrap_or(base.max_response_bytes),
            max_result_bytes: block.max_result_bytes.unwrap_or(base.max_result_bytes),
            max_log_lines_per_call: block
                .max_log_lines_per_call
                .unwrap_or(base.max_log_lines_per_call),
            max_log_bytes_per_call: block
                .max_log_bytes_per_call
                .unwrap_or(base.max_log_bytes_per_call),
            max_concurrent_calls: block.max_concurrent_calls.or(base.max_concurrent_calls),
        })
    }

    fn write_rules(
        &self,
        key: String,
        block: &raw::WritesBlock,
    ) -> Result<WriteRules, ConfigError> {
        let base = WriteRules::default();
        let amount = |field: &str,
                      value: &Option<String>|
         -> Result<Option<Decimal>, ConfigError> {
            value
                .as_deref()
                .map(|v| {
                    let d = Decimal::parse(v)
                        .map_err(|e| self.invalid(format!("{key}.{field}"), Some((field, v)), e))?;
                    if d <= Decimal::ZERO {
                        return Err(self.invalid(
                            format!("{key}.{field}"),
                            Some((field, v)),
                            "must be more than zero",
                        ));
                    }
                    Ok(d)
                })
                .transpose()
        };
        let max_charge_amount =
            amount("maxChargeAmount", &block.max_charge_amount)?.unwrap_or(base.max_charge_amount);
        let approval_threshold = amount("approvalThreshold", &block.approval_threshold)?;
        if approval_threshold.is_some_and(|t| t >= max_charge_amount) {
            return Err(self.invalid(
                format!("{key}.approvalThreshold"),
                None,
                "must be below maxChargeAmount (larger charges are refused, not held)",
            ));
        }
        if let Some(c) = &block.currency
            && (c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(self.invalid(
                format!("{key}.currency"),
                Some(("currency", c)),
                "is not an ISO 4217 code such as EUR",
            ));
        }
        let count = |field: &str, value: Option<u32>, default: u32, max: u32| {
            let v = value.unwrap_or(default);
            if v == 0 || v > max {
                return Err(self.invalid(
                    format!("{key}.{field}"),
                    Some((field, &v.to_string())),
                    format!("must be 1 to {max}"),
                ));
            }
            Ok(v)
        };
        Ok(WriteRules {
            max_charge_amount,
            currency: block.currency.clone(),
            max_charges_per_reservation_per_hour: count(
                "maxChargesPerReservationPerHour",
                block.max_charges_per_reservation_per_hour,
                base.max_charges_per_reservation_per_hour,
                10_000,
            )?,
            approval_threshold,
            checkout_window: Duration::from_secs(
                u64::from(count(
                    "checkoutWindowHours",
                    block.checkout_window_hours,
                    24,
                    24 * 366,
                )?) * 3600,
            ),
            max_preferences_per_guest: count(
                "maxPreferencesPerGuest",
                block.max_preferences_per_guest,
                base.max_preferences_per_guest,
                1000,
            )?,
        })
    }

    fn pms(&self, key: &str, block: &PmsBlock) -> Result<PmsSettings, ConfigError> {
        let stream = |name: &str,
                      s: &Option<raw::SyncStream>,
                      default_days: u32|
         -> Result<SyncStream, ConfigError> {
            let stream = match s {
                Some(s) => SyncStream {
                    enabled: s.enabled,
                    schedule: s.schedule.clone(),
                    look_ahead_days: s.look_ahead_days.unwrap_or(default_days),
                },
                None => SyncStream {
                    enabled: true,
                    schedule: "*/5 * * * *".into(),
                    look_ahead_days: default_days,
                },
            };
            if stream.look_ahead_days > 31 {
                return Err(self.invalid(
                    format!("{key}.sync.{name}.lookAheadDays"),
                    Some(("lookAheadDays", &stream.look_ahead_days.to_string())),
                    "at most 31 days ahead",
                ));
            }
            if stream.schedule.split_whitespace().count() != 5 {
                return Err(self.invalid(
                    format!("{key}.sync.{name}.schedule"),
                    Some(("schedule", &stream.schedule)),
                    "a cron expression has five fields (minute hour day month weekday)",
                ));
            }
            Ok(stream)
        };
        let retry = &block.retry;
        let policy = RetryPolicy {
            max_attempts: retry.max_attempts.unwrap_or(3),
            backoff: retry.backoff.unwrap_or(Backoff::Exponential),
            initial_delay: Duration::from_millis(retry.initial_delay.unwrap_or(1000)),
            max_delay: Duration::from_millis(retry.max_delay.unwrap_or(30_000)),
            jitter: retry.jitter.unwrap_or(true),
        };
        if policy.max_attempts == 0 {
            return Err(self.invalid(
                format!("{key}.retry.maxAttempts"),
                Some(("maxAttempts", "0")),
                "must be at least 1",
            ));
        }
        if policy.max_delay < policy.initial_delay {
            return Err(self.invalid(
                format!("{key}.retry.maxDelay"),
                None,
                "must not be smaller than initialDelay",
            ));
        }
        Ok(PmsSettings {
            vendor: block.vendor.clone(),
            sync: SyncSettings {
                arrivals: stream("arrivals", &block.sync.arrivals, 1)?,
                departures: stream("departures", &block.sync.departures, 1)?,
                in_house: stream("inHouse", &block.sync.in_house, 0)?,
                room_status: stream("roomStatus", &block.sync.room_status, 0)?,
            },
            cache: CacheTtls {
                guest: Duration::from_secs(block.cache.guest_ttl.unwrap_or(3600)),
                reservation: Duration::from_secs(block.cache.reservation_ttl.unwrap_or(300)),
                room_status: Duration::from_secs(block.cache.room_status_ttl.unwrap_or(60)),
            },
            retry: policy,
        })
    }
}

/// A hotel's `writes:` block laid over the file's: set fields win.
fn overlay_writes(base: &raw::WritesBlock, over: Option<&raw::WritesBlock>) -> raw::WritesBlock {
    let Some(over) = over else {
        return base.clone();
    };
    raw::WritesBlock {
        max_charge_amount: over
            .max_charge_amount
            .clone()
            .or_else(|| base.max_charge_amount.clone()),
        currency: over.currency.clone().or_else(|| base.currency.clone()),
        max_charges_per_reservation_per_hour: over
            .max_charges_per_reservation_per_hour
            .or(base.max_charges_per_reservation_per_hour),
        approval_threshold: over
            .approval_threshold
            .clone()
            .or_else(|| base.approval_threshold.clone()),
        checkout_window_hours: over.checkout_window_hours.or(base.checkout_window_hours),
        max_preferences_per_guest: over
            .max_preferences_per_guest
            .or(base.max_preferences_per_guest),
    }
}

/// A hotel's `pms:` block laid over the file's: set fields win.
fn overlay(base: &PmsBlock, over: &PmsBlock) -> PmsBlock {
    PmsBlock {
        vendor: over.vendor.clone().or_else(|| base.vendor.clone()),
        time_zone: over.time_zone.clone().or_else(|| base.time_zone.clone()),
        sync: raw::SyncBlock {
            arrivals: over
                .sync
                .arrivals
                .clone()
                .or_else(|| base.sync.arrivals.clone()),
            departures: over
                .sync
                .departures
                .clone()
                .or_else(|| base.sync.departures.clone()),
            in_house: over
                .sync
                .in_house
                .clone()
                .or_else(|| base.sync.in_house.clone()),
            room_status: over
                .sync
                .room_status
                .clone()
                .or_else(|| base.sync.room_status.clone()),
            guest_profiles: over
                .sync
                .guest_profiles
                .clone()
                .or_else(|| base.sync.guest_profiles.clone()),
        },
        cache: raw::CacheBlock {
            guest_ttl: over.cache.guest_ttl.or(base.cache.guest_ttl),
            reservation_ttl: over.cache.reservation_ttl.or(base.cache.reservation_ttl),
            room_status_ttl: over.cache.room_status_ttl.or(base.cache.room_status_ttl),
        },
        retry: raw::RetryBlock {
            max_attempts: over.retry.max_attempts.or(base.retry.max_attempts),
            backoff: over.retry.backoff.or(base.retry.backoff),
            initial_delay: over.retry.initial_delay.or(base.retry.initial_delay),
            max_delay: over.retry.max_delay.or(base.retry.max_delay),
            jitter: over.retry.jitter.or(base.retry.jitter),
        },
    }
}

/// The 1-based line of the first `key: value` line containing `value`: good enough to point an
/// operator at a semantically wrong value, which the YAML parser cannot locate for us.
fn line_of(text: &str, key: &str, value: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let t = line.trim_start().trim_start_matches("- ");
            t.starts_with(&format!("{key}:")) && t.contains(value)
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests;
