//! What hosts must agree on while they call the vendors: the rate-limit buckets, the OAuth
//! tokens, the circuit breakers, which PMSes are down, and the read cache. Each is a small
//! trait beside the component that uses it ([`RateLimiter`] and [`TokenStore`] in the egress
//! pipeline, [`CircuitBreakers`] in the runtime, [`PmsOutages`] for the write path and the
//! change tracker, [`SharedCache`] behind the read cache); [`Coordination`] is the set of them
//! one host runs with, handed to those components when the host is built.
//!
//! [`Coordination::in_process`] keeps everything in this process: right for one host, and the
//! default. [`Coordination::redis`] shares them through Redis ([`shared`]), for several hosts.

pub mod shared;

use crate::cache::{ReadCache, SharedCache};
use crate::config::RedisSettings;
use crate::egress::Egress;
use crate::egress::limits::{RateLimiter, RateLimits};
use crate::egress::oauth::{TokenCache, TokenStore};
use crate::outage::{LocalOutages, PmsOutages};
use crate::runtime::Runtime;
use crate::runtime::breaker::{CircuitBreakers, LocalBreakers};
use serde::Serialize;
use shared::bus::{Bus, Message};
use shared::link::{Link, LinkError};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The coordination one host runs with (see the module docs).
#[derive(Clone)]
pub struct Coordination {
    /// Rate-limit buckets per hotel, credential and vendor environment.
    pub limits: Arc<dyn RateLimiter>,
    /// OAuth tokens, one per hotel and endpoint.
    pub tokens: Arc<dyn TokenStore>,
    /// Circuit breakers per (hotel, adapter).
    pub breakers: Arc<dyn CircuitBreakers>,
    /// Which PMSes are down.
    pub outages: Arc<dyn PmsOutages>,
    /// The read cache's shared second level, if hosts share one.
    pub cache: Option<Arc<dyn SharedCache>>,
    redis: Option<(Arc<Link>, Arc<Bus>)>,
}

/// How this host coordinates, as health shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoordinationStatus {
    /// `in-process` (one host), `redis` (shared with the other hosts), or `local-fallback`
    /// (configured to share through Redis, which does not answer: this host decides alone and
    /// keeps to its share of every rate limit).
    pub mode: &'static str,
    /// This host's node id.
    pub node: String,
    /// Live hosts sharing the coordination, as last seen (1 in-process).
    pub nodes: u32,
}

impl Coordination {
    /// Everything in this process (one host).
    pub fn in_process() -> Coordination {
        Coordination {
            limits: Arc::new(RateLimits::default()),
            tokens: Arc::new(TokenCache::default()),
            breakers: Arc::new(LocalBreakers::default()),
            outages: Arc::new(LocalOutages::default()),
            cache: None,
            redis: None,
        }
    }

    /// Everything shared through the Redis of `settings`, as host `node`, sealing with keys
    /// derived from `key` (the vault's coordination key). Starts the heartbeat and the
    /// subscription; a Redis that does not answer yet is not an error (the host starts in
    /// local fallback).
    pub async fn redis(
        settings: &RedisSettings,
        node: &str,
        key: &Zeroizing<[u8; 32]>,
    ) -> Result<Coordination, LinkError> {
        let link = Link::connect(settings, node, key).await?;
        link.spawn_heartbeat();
        let bus = Bus::new(link.clone());
        let breakers = Arc::new(shared::breakers::SharedBreakers::new(
            link.clone(),
            bus.channel().to_owned(),
        ));
        let weak = Arc::downgrade(&breakers);
        bus.on_message(move |m| {
            if let Some(b) = weak.upgrade() {
                b.apply(m);
            }
        });
        let weak = Arc::downgrade(&breakers);
        bus.on_resync(move || {
            if let Some(b) = weak.upgrade() {
                b.resync();
            }
        });
        let cache = shared::cache::RedisCache::new(link.clone(), bus.clone());
        cache.spawn_stats();
        // Handlers added later (the read cache's) are called too: the list is read per message.
        bus.spawn();
        Ok(Coordination {
            limits: Arc::new(shared::limits::SharedLimits::new(link.clone())),
            tokens: Arc::new(shared::tokens::SharedTokens::new(link.clone())),
            breakers,
            outages: Arc::new(shared::outages::SharedOutages::new(link.clone())),
            cache: Some(cache),
            redis: Some((link, bus)),
        })
    }

    /// `egress` with its buckets and tokens kept here.
    pub fn egress(&self, egress: Egress) -> Egress {
        egress.coordinated_by(self.limits.clone(), self.tokens.clone())
    }

    /// `runtime` with its breakers kept here.
    pub fn runtime(&self, runtime: Runtime) -> Runtime {
        runtime.with_breakers(self.breakers.clone())
    }

    /// The read cache of this host: with the shared second level, if there is one, and told of
    /// the other hosts' invalidations (its fresh entries are all forgotten whenever it may have
    /// missed some).
    pub fn read_cache(&self) -> Arc<ReadCache> {
        let mut cache = ReadCache::default();
        if let Some(shared) = &self.cache {
            cache = cache.with_shared(shared.clone());
        }
        let cache = Arc::new(cache);
        if let Some((_, bus)) = &self.redis {
            let weak = Arc::downgrade(&cache);
            bus.on_message(move |m| {
                if let (Some(c), Message::Invalidate { hotel, what, .. }) = (weak.upgrade(), m) {
                    c.forget_here(hotel, what);
                }
            });
            let weak = Arc::downgrade(&cache);
            bus.on_resync(move || {
                if let Some(c) = weak.upgrade() {
                    c.forget_all_here();
                }
            });
        }
        cache
    }

    /// How this host coordinates now.
    pub fn status(&self, node: &str) -> CoordinationStatus {
        match &self.redis {
            None => CoordinationStatus {
                mode: "in-process",
                node: node.to_owned(),
                nodes: 1,
            },
            Some((link, _)) => CoordinationStatus {
                mode: if link.is_up() {
                    "redis"
                } else {
                    "local-fallback"
                },
                node: link.node().to_owned(),
                nodes: link.nodes(),
            },
        }
    }
}

impl std::fmt::Debug for Coordination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordination").finish_non_exhaustive()
    }
}
