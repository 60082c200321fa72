//! The only place wasmtime is used: the engine, loading and vetting adapters, binding them to
//! hotels, and running one call in a fresh sandboxed instance.

pub mod breaker;
pub mod call;
pub mod engine;
pub mod loader;
pub mod state;
mod validate;
pub mod vet;
mod wasi;
pub mod wit;

use crate::config::{AdapterSettings, HotelSettings, Limits};
use crate::egress::allowlist;
use crate::egress::credentials::Auth;
use crate::egress::{Destination, Egress};
use crate::operation::{Call, Outcome};
use crate::vault::SecretStore;
use crate::zone::HotelZone;
pub use call::CallError;
pub use loader::{LoadError, LoadedAdapter};
use state::CallState;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use wasmtime::component::Linker;

/// Why a hotel cannot use its adapter.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// The adapter did not load.
    #[error(transparent)]
    Load(#[from] Arc<LoadError>),
    /// The component is not the one the hotel pinned, or none was pinned.
    #[error("hotel `{hotel}`: {message}")]
    Pin {
        /// Hotel.
        hotel: String,
        /// What is wrong.
        message: String,
    },
    /// The hotel's settings do not fit the manifest.
    #[error("hotel `{hotel}`: {message}")]
    Settings {
        /// Hotel.
        hotel: String,
        /// What is wrong.
        message: String,
    },
}

/// An adapter bound to one hotel: what each call for the hotel needs.
pub struct HotelBinding {
    /// Hotel id.
    pub hotel_id: Arc<str>,
    /// Adapter name.
    pub adapter_name: Arc<str>,
    /// The adapter.
    pub adapter: Arc<LoadedAdapter>,
    /// Egress destination (allowlist resolved, credentials).
    pub destination: Arc<Destination>,
    /// The hotel's settings for the `config` import.
    pub settings: Arc<BTreeMap<String, String>>,
    /// The hotel's time zone: what "today" is there.
    pub zone: HotelZone,
    /// Where [`HotelBinding::zone`] came from.
    pub zone_source: ZoneSource,
    /// Limits.
    pub limits: Limits,
}

/// Where a hotel's time zone came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ZoneSource {
    /// `hotels[].timeZone` or `pms.timeZone`.
    Config,
    /// The adapter's own zone setting (its manifest's `time_zone_key`), as the hotel set it.
    AdapterSetting,
    /// Nothing named one: UTC is assumed (health says so).
    Default,
}

/// The hotel's zone, and its settings with the adapter's zone setting (`time_zone_key`) filled
/// from it: a zone configured for the hotel wins; without one, the adapter's own setting names
/// the hotel's zone; both set and different is an error, since host and adapter would then
/// disagree on which day "today" is.
fn settle_zone(
    hotel: &HotelSettings,
    key: Option<&str>,
) -> Result<(HotelZone, ZoneSource, BTreeMap<String, String>), String> {
    let mut settings = hotel.settings.clone();
    let adapter_setting = key.and_then(|k| settings.get(k).map(|v| (k, v.clone())));
    let settled = match (&hotel.time_zone, adapter_setting) {
        (Some(zone), None) => {
            if let Some(k) = key {
                settings.insert(k.to_owned(), zone.name().to_owned());
            }
            (zone.clone(), ZoneSource::Config)
        }
        (Some(zone), Some((k, value))) => {
            match HotelZone::parse(&value) {
                Ok(own) if own == *zone => {}
                _ => {
                    return Err(format!(
                        "settings.{k} is `{}` but the hotel's timeZone is `{}`; remove \
                         settings.{k} (the host fills it from timeZone)",
                        crate::untrusted::escape(&value, 80),
                        zone.name()
                    ));
                }
            }
            (zone.clone(), ZoneSource::Config)
        }
        (None, Some((k, value))) => {
            let zone = HotelZone::parse(&value).map_err(|e| {
                format!("settings.{k}: {e}; set the hotel's timeZone to its IANA zone")
            })?;
            (zone, ZoneSource::AdapterSetting)
        }
        (None, None) => (HotelZone::utc(), ZoneSource::Default),
    };
    Ok((settled.0, settled.1, settings))
}

/// A load's outcome, remembered so that a refused adapter is not recompiled for every hotel.
type LoadResult = Result<Arc<LoadedAdapter>, Arc<LoadError>>;

/// Engine, linker and loaded adapters.
pub struct Runtime {
    engine: engine::EngineHandle,
    linker: Linker<CallState>,
    egress: Arc<Egress>,
    settings: AdapterSettings,
    adapters: Mutex<HashMap<String, LoadResult>>,
    breakers: Arc<dyn breaker::CircuitBreakers>,
    /// One permit per pooling-allocator slot: calls queue for a slot (up to their deadline)
    /// instead of failing when all are busy.
    slots: Arc<tokio::sync::Semaphore>,
    /// Each hotel's and each adapter's share of the slots, so that one hotel's slow PMS or one
    /// slow adapter cannot hold every slot while other hotels wait.
    shares: Shares,
}

/// Fair shares of the sandbox slots: a semaphore per hotel and per adapter, taken before a pool
/// slot (tokio's semaphores queue waiters in order, so a share's own callers are served first
/// come, first served).
#[derive(Default)]
struct Shares {
    hotels: Mutex<HashMap<String, (u32, Arc<tokio::sync::Semaphore>)>>,
    adapters: Mutex<HashMap<String, (u32, Arc<tokio::sync::Semaphore>)>>,
}

impl Shares {
    fn share(
        map: &Mutex<HashMap<String, (u32, Arc<tokio::sync::Semaphore>)>>,
        key: &str,
        cap: u32,
    ) -> Arc<tokio::sync::Semaphore> {
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((c, s)) if *c == cap => s.clone(),
            // New, or its cap changed with a reload: calls holding the old one finish on it.
            _ => {
                let s = Arc::new(tokio::sync::Semaphore::new(cap as usize));
                map.insert(key.to_owned(), (cap, s.clone()));
                s
            }
        }
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the WebAssembly runtime: {0}")]
pub struct StartError(String);

impl Runtime {
    /// Builds the engine and linker.
    pub fn new(settings: AdapterSettings, egress: Arc<Egress>) -> Result<Runtime, StartError> {
        let max_memory = settings
            .overrides
            .values()
            .chain([&settings.default_limits])
            .map(|l| l.memory_bytes)
            .max()
            .unwrap_or(64 << 20);
        let engine = engine::build(settings.max_concurrent_instances, max_memory)
            .map_err(|e| StartError(format!("{e:#}")))?;
        let settings_slots = settings.max_concurrent_instances as usize;
        let mut linker = Linker::new(&engine.engine);
        wasi::add_to_linker(&mut linker).map_err(|e| StartError(format!("{e:#}")))?;
        wit::add_to_linker(&mut linker).map_err(|e| StartError(format!("{e:#}")))?;
        Ok(Runtime {
            engine,
            linker,
            egress,
            settings,
            adapters: Mutex::new(HashMap::new()),
            breakers: Arc::new(breaker::LocalBreakers::default()),
            slots: Arc::new(tokio::sync::Semaphore::new(settings_slots)),
            shares: Shares::default(),
        })
    }

    /// The circuit breaker of `hotel` on `adapter`, as it is now.
    pub async fn breaker_status(&self, hotel: &str, adapter: &str) -> breaker::BreakerStatus {
        self.breakers.status(hotel, adapter).await
    }

    /// The same runtime with its circuit breakers kept by `breakers` instead of this process
    /// (several hosts opening a failing adapter's breaker once for all of them).
    pub fn with_breakers(mut self, breakers: Arc<dyn breaker::CircuitBreakers>) -> Runtime {
        self.breakers = breakers;
        self
    }

    /// The egress pipeline.
    pub fn egress(&self) -> &Arc<Egress> {
        &self.egress
    }

    /// The engine.
    pub fn engine(&self) -> &wasmtime::Engine {
        &self.engine.engine
    }

    /// Loads adapter `name` (once; later calls return the same result).
    pub fn load(&self, name: &str) -> Result<Arc<LoadedAdapter>, Arc<LoadError>> {
        let mut adapters = self.adapters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = adapters.get(name) {
            return found.clone();
        }
        let result = loader::load(
            &self.engine.engine,
            &self.linker,
            &self.settings.dir,
            &self.settings.cache_dir,
            name,
        )
        .map(Arc::new)
        .map_err(Arc::new);
        match &result {
            Ok(a) => tracing::info!(
                adapter = name,
                sha256 = %a.sha256_hex(),
                wit = a.version.package(),
                cached = a.from_cache,
                ms = a.load_time.as_millis() as u64,
                "adapter loaded"
            ),
            Err(e) => tracing::error!(adapter = name, error = %e, "adapter refused"),
        }
        adapters.insert(name.to_string(), result.clone());
        result
    }

    /// Forgets every loaded adapter, so that the next [`Runtime::bind`] reads the files again
    /// (a reload). Compiled code is cached on disk by sha256, so an unchanged file costs little.
    pub fn forget_loaded(&self) {
        self.adapters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Loads adapter `name` afresh, bypassing the memo of [`Runtime::load`] (benchmarks, and
    /// reloading a changed component).
    pub fn load_uncached(&self, name: &str) -> Result<LoadedAdapter, LoadError> {
        loader::load(
            &self.engine.engine,
            &self.linker,
            &self.settings.dir,
            &self.settings.cache_dir,
            name,
        )
    }

    /// Binds `hotel` to its adapter: pin check, settings and secrets the manifest needs, and the
    /// allowlist resolved for the hotel.
    pub fn bind(
        &self,
        hotel: &HotelSettings,
        secrets: Arc<dyn SecretStore>,
    ) -> Result<HotelBinding, BindError> {
        let adapter = self.load(&hotel.adapter)?;
        let pin_error = |message: String| BindError::Pin {
            hotel: hotel.id.clone(),
            message,
        };
        match hotel.sha256 {
            Some(pin) if pin == adapter.sha256 => {}
            Some(pin) => {
                return Err(pin_error(format!(
                    "adapter `{}` has sha256 {} but the config pins {}; refusing to run an unreviewed component",
                    adapter.name,
                    adapter.sha256_hex(),
                    hex::encode(pin)
                )));
            }
            None if self.settings.allow_unpinned => tracing::warn!(
                hotel = %hotel.id,
                adapter = %adapter.name,
                sha256 = %adapter.sha256_hex(),
                "running an unpinned adapter (adapters.allowUnpinned is on: development only)"
            ),
            None => {
                return Err(pin_error(format!(
                    "no sha256 is pinned for adapter `{}` (its sha256 is {}); pin it in the hotel config",
                    adapter.name,
                    adapter.sha256_hex()
                )));
            }
        }
        let settings_error = |message: String| BindError::Settings {
            hotel: hotel.id.clone(),
            message,
        };
        let manifest = &adapter.manifest;
        let (zone, zone_source, settings) =
            settle_zone(hotel, manifest.time_zone_key.as_deref()).map_err(settings_error)?;
        let missing: Vec<&str> = manifest
            .config_keys
            .iter()
            .filter(|k| !settings.contains_key(*k))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(settings_error(format!(
                "settings lack {} needed by adapter `{}`",
                missing.join(", "),
                adapter.name
            )));
        }
        let auth = manifest
            .auth_for(&settings)
            .map_err(settings_error)?
            .clone();
        // Secrets are read at send time, so one set later (`jack-pms vault set`) takes effect
        // without a restart; until then calls fail with this same message. Only the chosen
        // scheme's secrets matter: a hotel on one OAuth grant needs none of the other's.
        let unchosen: Vec<&str> = manifest
            .auth_schemes()
            .flat_map(Auth::secret_names)
            .filter(|n| !auth.secret_names().contains(n))
            .collect();
        for name in manifest
            .secrets
            .iter()
            .filter(|n| !unchosen.contains(&n.as_str()))
        {
            if let Err(e) = secrets.get(&hotel.id, name) {
                tracing::warn!(hotel = %hotel.id, adapter = %adapter.name, "{e}");
            }
        }

        let allowlist = manifest
            .allowed_hosts
            .iter()
            .map(|entry| allowlist::resolve(entry, &settings))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| settings_error(e.to_string()))?;
        Ok(HotelBinding {
            hotel_id: hotel.id.as_str().into(),
            adapter_name: adapter.name.as_str().into(),
            destination: Arc::new(Destination {
                hotel: hotel.id.clone(),
                adapter: adapter.name.clone(),
                allowlist,
                auth: auth.clone(),
                secrets,
                retry: hotel.pms.retry.clone(),
                no_retry_statuses: manifest.no_retry_statuses.clone(),
                rate_limits: hotel
                    .rate_limits
                    .clone()
                    .unwrap_or_else(|| manifest.rate_limits.iter().map(|l| l.to_limit()).collect()),
                request_headers: manifest
                    .request_headers
                    .iter()
                    .filter_map(|(header, key)| {
                        settings.get(key).map(|v| (header.clone(), v.clone()))
                    })
                    .collect(),
                token_headers: auth
                    .oauth()
                    .map(|(o, _)| {
                        o.token_headers_from_config
                            .iter()
                            .filter_map(|k| settings.get(k).map(|v| (k.clone(), v.clone())))
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            settings: Arc::new(settings),
            zone,
            zone_source,
            limits: self.settings.limits_for(&adapter.name).clone(),
            adapter,
        })
    }

    /// Waits, up to `deadline`, for the hotel's share, the adapter's share and a pool slot.
    async fn slot(
        &self,
        binding: &HotelBinding,
        deadline: tokio::time::Instant,
    ) -> Result<[tokio::sync::OwnedSemaphorePermit; 3], CallError> {
        let pool = self.settings.max_concurrent_instances;
        let hotel_cap = self.settings.max_concurrent_calls_per_hotel;
        let adapter_cap = binding
            .limits
            .max_concurrent_calls
            .unwrap_or((pool / 2).max(1))
            .min(pool);
        let busy = |what: String| CallError::Instantiate {
            adapter: binding.adapter.name.clone(),
            reason: format!("{what} stayed busy until the call's deadline"),
        };
        let take = |s: Arc<tokio::sync::Semaphore>| async move {
            match tokio::time::timeout_at(deadline, s.acquire_owned()).await {
                Ok(Ok(permit)) => Some(permit),
                _ => None,
            }
        };
        let hotel = take(Shares::share(&self.shares.hotels, &binding.hotel_id, hotel_cap))
            .await
            .ok_or_else(|| {
                busy(format!(
                    "hotel `{}`'s share of the sandbox ({hotel_cap} calls at once, adapters.maxConcurrentCallsPerHotel)",
                    binding.hotel_id
                ))
            })?;
        let adapter = take(Shares::share(
            &self.shares.adapters,
            &binding.adapter.name,
            adapter_cap,
        ))
        .await
        .ok_or_else(|| {
            busy(format!(
                "adapter `{}`'s share of the sandbox ({adapter_cap} calls at once, maxConcurrentCalls)",
                binding.adapter.name
            ))
        })?;
        let slot = take(self.slots.clone())
            .await
            .ok_or_else(|| busy("every sandbox slot".into()))?;
        Ok([hotel, adapter, slot])
    }

    /// Runs `call` for the hotel in a fresh instance and checks the result against the contract.
    pub async fn call(&self, binding: &HotelBinding, call: Call) -> Result<Outcome, CallError> {
        let (hotel, adapter): (&str, &str) = (&binding.hotel_id, &binding.adapter.name);
        if let Err((traps, retry_after)) = self.breakers.check(hotel, adapter).await {
            return Err(CallError::CircuitOpen {
                adapter: binding.adapter.name.clone(),
                traps,
                retry_after,
            });
        }
        let operation = call.operation();
        let deadline = tokio::time::Instant::now() + binding.limits.deadline;
        let permit = self.slot(binding, deadline).await?;
        let result = call::run(&self.engine.engine, &self.egress, binding, call, deadline).await;
        drop(permit);
        self.breakers
            .record(
                hotel,
                adapter,
                result.as_ref().is_err_and(CallError::is_sandbox_failure),
            )
            .await;
        if let Err(e) = &result
            && e.is_sandbox_failure()
        {
            tracing::error!(adapter = %binding.adapter.name, hotel = %binding.hotel_id, %operation, error = %e, "adapter failed; instance discarded");
            crate::metrics::metrics()
                .adapter_failures
                .get_or_create(&crate::metrics::AdapterLabels {
                    adapter: binding.adapter.name.clone(),
                })
                .inc();
        }
        let outcome = result?;
        validate::outcome(&binding.adapter.manifest.vendor, operation, outcome).map_err(|reason| {
            CallError::InvalidOutput {
                adapter: binding.adapter.name.clone(),
                operation,
                // The reason quotes the offending value, which the adapter chose.
                reason: crate::untrusted::error_text(&reason),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn hotel(extra: &str) -> HotelSettings {
        let yaml = format!(
            "server:\n  tokens:\n    - name: t\n      sha256: 0000000000000000000000000000000000000000000000000000000000000000\nhotels:\n  - id: H1\n    adapter: mews\n{extra}"
        );
        Config::from_yaml(&yaml, std::path::Path::new("/tmp/t.yaml"))
            .expect("config")
            .hotels
            .remove(0)
    }

    #[test]
    fn the_zone_is_configured_once_and_handed_to_the_adapter() {
        let key = Some("enterpriseTimeZone");
        // Configured: the adapter's setting is filled from it.
        let (zone, source, settings) =
            settle_zone(&hotel("    timeZone: Asia/Tokyo\n"), key).expect("settled");
        assert_eq!((zone.name(), source), ("Asia/Tokyo", ZoneSource::Config));
        assert_eq!(
            settings.get("enterpriseTimeZone").map(String::as_str),
            Some("Asia/Tokyo")
        );
        // Only the adapter's setting: it names the hotel's zone.
        let (zone, source, _) = settle_zone(
            &hotel("    settings: { enterpriseTimeZone: Europe/Prague }\n"),
            key,
        )
        .expect("settled");
        assert_eq!(
            (zone.name(), source),
            ("Europe/Prague", ZoneSource::AdapterSetting)
        );
        // Both, and different: host and adapter would disagree on "today".
        let e = settle_zone(
            &hotel(
                "    timeZone: Asia/Tokyo\n    settings: { enterpriseTimeZone: Europe/Prague }\n",
            ),
            key,
        )
        .expect_err("contradiction");
        assert!(
            e.contains("Europe/Prague") && e.contains("Asia/Tokyo"),
            "{e}"
        );
        // Neither: UTC, said so.
        let (zone, source, _) = settle_zone(&hotel(""), key).expect("settled");
        assert_eq!((zone.name(), source), ("UTC", ZoneSource::Default));
        // A fixed offset in the adapter's setting is not a zone.
        assert!(
            settle_zone(
                &hotel("    settings: { enterpriseTimeZone: \"+01:00\" }\n"),
                key
            )
            .is_err()
        );
    }
}
