//! What hosts must agree on while they call the vendors: the rate-limit buckets, the OAuth
//! tokens, the circuit breakers and which PMSes are down. Each is a small trait beside the
//! component that uses it ([`RateLimiter`] and [`TokenStore`] in the egress pipeline,
//! [`CircuitBreakers`] in the runtime, [`PmsOutages`] for the write path and the change
//! tracker); [`Coordination`] is the set of them one host runs with, handed to those components
//! when the host is built.
//!
//! [`Coordination::in_process`] keeps everything in this process: right for one host, and the
//! default. A store shared by several hosts is another implementation of the same traits.

use crate::egress::Egress;
use crate::egress::limits::{RateLimiter, RateLimits};
use crate::egress::oauth::{TokenCache, TokenStore};
use crate::outage::{LocalOutages, PmsOutages};
use crate::runtime::Runtime;
use crate::runtime::breaker::{CircuitBreakers, LocalBreakers};
use std::sync::Arc;

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
}

impl Coordination {
    /// Everything in this process (one host).
    pub fn in_process() -> Coordination {
        Coordination {
            limits: Arc::new(RateLimits::default()),
            tokens: Arc::new(TokenCache::default()),
            breakers: Arc::new(LocalBreakers::default()),
            outages: Arc::new(LocalOutages::default()),
        }
    }

    /// `egress` with its buckets and tokens kept here.
    pub fn egress(&self, egress: Egress) -> Egress {
        egress.coordinated_by(self.limits.clone(), self.tokens.clone())
    }

    /// `runtime` with its breakers kept here.
    pub fn runtime(&self, runtime: Runtime) -> Runtime {
        runtime.with_breakers(self.breakers.clone())
    }
}

impl std::fmt::Debug for Coordination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordination").finish_non_exhaustive()
    }
}
