//! # Mock PMS
//!
//! A development and test HTTP server that imitates a hotel PMS: seeded guests, reservations,
//! rooms and folios behind `/api/v1/...` (API key in `x-api-key`), with fault injection and
//! request statistics behind `/admin/...`.
//!
//! This module owns the [`MockPms`] handle and serving. It is a dev tool: the `/admin`
//! endpoints need no key, so bind it to loopback (the host does by default) and never expose it.
//! `/api/v1/echo` deliberately echoes every request header, credentials included, so tests can
//! check that the host scrubs secrets from what it passes on.
//!
//! Files: `seed` (seed file types, loading, validation), `store` (in-memory data and writes),
//! `routes` (axum handlers and the auth/fault/stats gate), `faults` (fault injection and stats).

mod faults;
mod routes;
mod seed;
mod store;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{NaiveDate, Utc};
use secrecy::{ExposeSecret, SecretString};

pub use faults::{Faults, Outage, RateLimited, Rejected, Stats};
pub use seed::{
    Email, Guest, HOUSEKEEPING_STATES, Phone, Preference, RESERVATION_STATES, Seed, SeedError,
    SeedHotel, SeedPosting, SeedReservation, SeedRoom, load_seed,
};

use faults::{FaultState, StatsState};
use store::Store;

/// A running-or-ready mock PMS. Cheap to clone: all clones share one store, faults and stats.
#[derive(Debug, Clone)]
pub struct MockPms {
    shared: Arc<Shared>,
}

/// State shared by the handle and the handlers.
#[derive(Debug)]
pub(crate) struct Shared {
    api_key: SecretString,
    store: Mutex<Store>,
    faults: Mutex<FaultState>,
    stats: Mutex<StatsState>,
}

/// Locks a mutex, carrying on with the data if a panicking thread poisoned it.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultState> {
        lock(&self.faults)
    }

    pub(crate) fn stats(&self) -> MutexGuard<'_, StatsState> {
        lock(&self.stats)
    }

    /// Compares a presented key with the configured one in constant time (for equal lengths).
    pub(crate) fn key_matches(&self, presented: &[u8]) -> bool {
        let expected = self.api_key.expose_secret().as_bytes();
        expected.len() == presented.len()
            && std::hint::black_box(
                expected
                    .iter()
                    .zip(presented)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b)),
            ) == 0
    }
}

impl MockPms {
    /// Build from a parsed seed; dates in the seed are offsets from `today`.
    pub fn new(seed: Seed, api_key: SecretString, today: NaiveDate) -> Result<MockPms, SeedError> {
        let store = Store::from_seed(seed, today, Utc::now())?;
        let shared = Shared {
            api_key,
            store: Mutex::new(store),
            faults: Mutex::new(FaultState::default()),
            stats: Mutex::new(StatsState::default()),
        };
        Ok(MockPms {
            shared: Arc::new(shared),
        })
    }

    /// The whole app: `/api/v1/...` (key required) and `/admin/...` (no key).
    pub fn router(&self) -> axum::Router {
        routes::router(self.shared.clone())
    }

    /// Serves the app on `listener` until `shutdown` completes, then drains connections.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, "mock PMS listening (development tool: /admin needs no key)");
            if !addr.ip().is_loopback() {
                tracing::warn!(%addr, "mock PMS is bound to a non-loopback address; its /admin endpoints are open");
            }
        }
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Replaces the injected faults (also resets the requests-per-minute window).
    pub fn set_faults(&self, faults: Faults) {
        tracing::info!(?faults, "mock PMS faults set");
        self.shared.faults().set(faults);
    }

    /// The injected faults now (`rateLimited.count` shows what is left).
    pub fn faults(&self) -> Faults {
        self.shared.faults().faults.clone()
    }

    /// Request statistics since start or the last [`MockPms::reset_stats`].
    pub fn stats(&self) -> Stats {
        self.shared.stats().stats.clone()
    }

    /// Zeroes the request statistics.
    pub fn reset_stats(&self) {
        self.shared.stats().reset();
    }
}
