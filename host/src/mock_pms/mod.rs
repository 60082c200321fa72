//! # Mock PMS
//!
//! A development and test HTTP server that imitates a hotel PMS: seeded guests, reservations,
//! rooms and folios behind `/api/v1/...` (API key in `x-api-key`), with fault injection,
//! request statistics and a front-desk simulation (book, check in or out, cancel, set a room's
//! housekeeping: `POST /admin/hotels/{hotel}/reservations`,
//! `PUT /admin/hotels/{hotel}/reservations/{confirmation}/state`,
//! `PUT /admin/hotels/{hotel}/rooms/{number}`) behind `/admin/...`.
//!
//! Optionally ([`MockPms::with_oauth`]) it also plays an OAuth 2 authorization server in the style
//! of Oracle OPERA Cloud's OHIP: `POST /oauth/v1/tokens` (HTTP Basic client credentials plus
//! `x-app-key`; `grant_type=client_credentials` or `password`) issues opaque bearer tokens, and
//! `/api/v1` then accepts `Authorization: Bearer <token>` with `x-app-key` as well as `x-api-key`.
//! `PUT /admin/oauth` sets that configuration at run time (development only: it takes secrets
//! in clear JSON, and never sends them back).
//!
//! This module owns the [`MockPms`] handle and serving. It is a dev tool: the `/admin`
//! endpoints need no key, so bind it to loopback (the host does by default) and never expose it.
//! `/api/v1/echo` deliberately echoes every request header, credentials included, so tests can
//! check that the host scrubs secrets from what it passes on.
//!
//! Files: `seed` (seed file types, loading, validation), `store` (in-memory data and writes),
//! `routes` (axum handlers and the auth/fault/stats gate), `faults` (fault injection and stats),
//! `oauth` (OAuth configuration, issued tokens, credential checks).

mod faults;
mod oauth;
mod routes;
mod seed;
mod store;

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use secrecy::{ExposeSecret, SecretString};

pub use faults::{FailNext, Faults, Outage, RateLimited, Rejected, Stats, TimeoutAfterApply};
pub use oauth::OAuthConfig;
pub use seed::{
    Email, Guest, HOUSEKEEPING_STATES, Phone, Preference, RESERVATION_STATES, Seed, SeedError,
    SeedHotel, SeedPosting, SeedReservation, SeedRoom, load_seed,
};

use faults::{FaultState, StatsState};
use oauth::OAuthState;
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
    oauth: Mutex<OAuthState>,
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

    pub(crate) fn oauth(&self) -> MutexGuard<'_, OAuthState> {
        lock(&self.oauth)
    }

    /// Replaces or removes the OAuth configuration, revoking every token; logs no secret.
    pub(crate) fn set_oauth(&self, oauth: Option<OAuthConfig>) {
        match &oauth {
            Some(config) => tracing::info!(
                password_grant = config.username.is_some() && config.password.is_some(),
                token_lifetime_seconds = config.token_lifetime.as_secs(),
                "mock PMS OAuth configured"
            ),
            None => tracing::info!("mock PMS OAuth turned off"),
        }
        self.oauth().set(oauth);
    }

    /// Compares a presented key with the configured one in constant time (for equal lengths).
    pub(crate) fn key_matches(&self, presented: &[u8]) -> bool {
        ct_eq(self.api_key.expose_secret().as_bytes(), presented)
    }
}

/// Compares a secret with a presented value in constant time when the lengths are equal (a
/// length mismatch answers at once, which reveals only the length).
pub(crate) fn ct_eq(expected: &[u8], presented: &[u8]) -> bool {
    expected.len() == presented.len()
        && std::hint::black_box(
            expected
                .iter()
                .zip(presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b)),
        ) == 0
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
            oauth: Mutex::new(OAuthState::default()),
        };
        Ok(MockPms {
            shared: Arc::new(shared),
        })
    }

    /// Turns on the OAuth token endpoint and bearer tokens (see the module docs); the API key
    /// keeps working. Shared by every clone of this handle.
    pub fn with_oauth(self, oauth: OAuthConfig) -> MockPms {
        self.set_oauth(Some(oauth));
        self
    }

    /// Replaces the OAuth configuration at run time, or turns OAuth off with `None`; either way
    /// every token issued so far is revoked.
    pub fn set_oauth(&self, oauth: Option<OAuthConfig>) {
        self.shared.set_oauth(oauth);
    }

    /// Whether OAuth is configured.
    pub fn oauth_enabled(&self) -> bool {
        self.shared.oauth().configured()
    }

    /// Invalidates every token issued so far (they get 401 from then on); returns how many
    /// tokens were held.
    pub fn revoke_all_tokens(&self) -> usize {
        self.shared.oauth().revoke_all()
    }

    /// How many issued tokens are still valid now.
    pub fn active_tokens(&self) -> usize {
        self.shared.oauth().active_tokens(Instant::now())
    }

    /// The whole app: `/api/v1/...` (key or bearer token required), `/oauth/v1/tokens` (when
    /// OAuth is configured) and `/admin/...` (no key).
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
