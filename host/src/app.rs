//! Assembling the host from a config: egress pipeline, runtime, secrets, service, API router and
//! (when asked) the in-process mock PMS. `serve`, `call`, the tests and the benchmarks all build
//! the host through here.

use crate::api::{self, AppState};
use crate::config::Config;
use crate::egress::{Egress, EgressError};
use crate::mock_pms::{self, MockPms};
use crate::runtime::{Runtime, StartError};
use crate::service::Service;
use crate::vault::{self, EnvSecrets, VaultError};
use secrecy::SecretString;
use std::future::Future;
use std::sync::Arc;

/// Why the host could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The HTTP client could not be built.
    #[error(transparent)]
    Egress(#[from] EgressError),
    /// The runtime could not start.
    #[error(transparent)]
    Runtime(#[from] StartError),
    /// The mock PMS's key is missing.
    #[error("mock PMS: {0}")]
    MockKey(#[from] VaultError),
    /// The mock PMS's seed is invalid.
    #[error("mock PMS: {0}")]
    MockSeed(#[from] mock_pms::SeedError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The assembled host.
pub struct App {
    /// The engine.
    pub service: Arc<Service>,
    /// The API's state.
    pub state: AppState,
}

impl App {
    /// Builds the host for `config` (adapters are loaded and hotels bound here).
    pub fn build(config: &Config) -> Result<App, AppError> {
        let egress = Arc::new(Egress::new(config.egress.clone())?);
        App::build_with(config, egress)
    }

    /// Builds the host over a given egress pipeline (benchmarks answer in-process).
    pub fn build_with(config: &Config, egress: Arc<Egress>) -> Result<App, AppError> {
        let runtime = Arc::new(Runtime::new(config.adapters.clone(), egress)?);
        let mut secrets = EnvSecrets::default();
        for h in &config.hotels {
            secrets.add_hotel(&h.id, &h.secrets);
        }
        let service = Arc::new(Service::new(config, runtime, Arc::new(secrets)));
        let state = AppState {
            service: service.clone(),
            tokens: Arc::new(config.server.tokens.clone()),
        };
        Ok(App { service, state })
    }

    /// The API router.
    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone())
    }

    /// Serves the API on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Starts the mock PMS of `config` when it is enabled, on its configured address.
pub async fn start_mock_pms(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Option<std::net::SocketAddr>, AppError> {
    let Some(settings) = config.mock_pms.as_ref().filter(|m| m.enabled) else {
        return Ok(None);
    };
    let key = vault::read_ref("mock-pms", "apiKey", &settings.api_key)?;
    let seed = mock_pms::load_seed(&settings.seed)?;
    let mock = MockPms::new(
        seed,
        SecretString::from(key.expose().to_string()),
        chrono::Utc::now().date_naive(),
    )?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| AppError::Listen {
            addr: settings.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| AppError::Listen {
        addr: settings.listen,
        source,
    })?;
    tokio::spawn(async move {
        if let Err(e) = mock.serve(listener, shutdown).await {
            tracing::error!(error = %e, "mock PMS stopped");
        }
    });
    Ok(Some(addr))
}
