//! The hotels and the adapters they are bound to: bound at start, bound again by a reload, and
//! resolved once per request ([`HotelRegistry::resolve`]) so that every step of one request sees
//! the same binding, even when a reload swaps the hotels in the middle of it.

use super::ServiceError;
use crate::config::{Config, HotelSettings};
use crate::runtime::{HotelBinding, Runtime, ZoneSource};
use crate::vault::SecretStore;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// One configured hotel and its binding (or why it has none).
struct Hotel {
    settings: HotelSettings,
    binding: Result<Arc<HotelBinding>, String>,
}

/// The hotels as bound at one moment; a reload swaps in a new map while calls in flight keep the
/// one they started with.
type Hotels = Arc<BTreeMap<String, Arc<Hotel>>>;

/// A hotel as one request sees it from start to end: its settings and its bound adapter, taken
/// together from one version of the hotels.
#[derive(Clone)]
pub struct BoundHotel {
    hotel: Arc<Hotel>,
    binding: Arc<HotelBinding>,
}

impl BoundHotel {
    /// The hotel's id.
    pub fn id(&self) -> &str {
        &self.hotel.settings.id
    }

    /// The hotel's settings (config).
    pub fn settings(&self) -> &HotelSettings {
        &self.hotel.settings
    }

    /// The hotel's adapter binding.
    pub fn binding(&self) -> &Arc<HotelBinding> {
        &self.binding
    }
}

/// A hotel as listed by `GET /v1/hotels`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "DEMO1", "name": "Hotel Demo Amsterdam", "adapter": "mock",
    "adapterVersion": "0.1.0",
    "adapterSha256": "3ed329c200789dc8eb56d61adf9da3dc1b51bf758be1afaacfb5554c3329f2b0",
    "status": "ready"
}))]
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

/// The hotels, bound to their adapters.
pub struct HotelRegistry {
    runtime: Arc<Runtime>,
    secrets: Arc<dyn SecretStore>,
    hotels: RwLock<Hotels>,
}

impl HotelRegistry {
    /// Binds every hotel of `config`. A hotel that cannot be bound stays listed as unavailable
    /// with its reason, so one broken hotel never takes the others down.
    pub fn new(
        config: &Config,
        runtime: Arc<Runtime>,
        secrets: Arc<dyn SecretStore>,
    ) -> HotelRegistry {
        let hotels = bind_all(config, &runtime, &secrets);
        HotelRegistry {
            runtime,
            secrets,
            hotels: RwLock::new(Arc::new(hotels)),
        }
    }

    /// The hotels as bound now.
    fn now(&self) -> Hotels {
        self.hotels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `hotel` as bound now, for one request: unknown and unavailable hotels are errors.
    pub fn resolve(&self, hotel: &str) -> Result<BoundHotel, ServiceError> {
        let entry = self
            .now()
            .get(hotel)
            .cloned()
            .ok_or_else(|| ServiceError::UnknownHotel(hotel.to_string()))?;
        let binding =
            entry
                .binding
                .as_ref()
                .cloned()
                .map_err(|reason| ServiceError::HotelUnavailable {
                    hotel: hotel.to_string(),
                    reason: reason.clone(),
                })?;
        Ok(BoundHotel {
            hotel: entry,
            binding,
        })
    }

    /// Every hotel's settings, bound or not.
    pub fn settings(&self) -> Vec<HotelSettings> {
        self.now().values().map(|h| h.settings.clone()).collect()
    }

    /// The adapter `hotel` is configured with, bound or not.
    pub fn adapter_of(&self, hotel: &str) -> Option<String> {
        self.now().get(hotel).map(|h| h.settings.adapter.clone())
    }

    /// Every hotel's id.
    pub fn ids(&self) -> Vec<String> {
        self.now().keys().cloned().collect()
    }

    /// The hotels and the state of their adapters.
    pub fn summaries(&self) -> Vec<HotelSummary> {
        self.now()
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

    /// Binds the hotels of `config` again (after its secret references were updated) and swaps
    /// them in: adapter files are re-read, so a new or changed component is picked up without a
    /// restart. Requests in flight finish with the binding they resolved.
    pub fn reload(&self, config: &Config) -> ReloadReport {
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
