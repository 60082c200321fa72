//! Assembling the host from a config: egress pipeline, runtime, secrets, service, API router and
//! (when asked) the in-process mock PMS. `serve`, `call`, the tests and the benchmarks all build
//! the host through here.

use crate::api::{self, AppState};
use crate::config::Config;
use crate::config::{MasterKeySource, SecretRef};
use crate::egress::{Egress, EgressError};
use crate::mock_pms::{self, MockPms};
use crate::runtime::{Runtime, StartError};
use crate::service::Service;
use crate::vault::master_key::MasterKey;
use crate::vault::sqlite::SqliteVault;
use crate::vault::{self, ConfiguredSecrets, VaultError};
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
    MockKey(VaultError),
    /// The vault could not be opened.
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
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
    /// Builds the host for `config` (the vault is opened, adapters are loaded and hotels bound
    /// here).
    pub async fn build(config: &Config) -> Result<App, AppError> {
        let egress = Arc::new(Egress::new(config.egress.clone())?);
        let vault = open_vault(config).await?;
        if let Some(v) = &vault {
            // Secrets set with the CLI while the host runs are picked up within seconds.
            v.spawn_refresh(std::time::Duration::from_secs(5));
        }
        App::build_with(config, egress, vault)
    }

    /// Builds the host over a given egress pipeline and vault (benchmarks answer in-process).
    pub fn build_with(
        config: &Config,
        egress: Arc<Egress>,
        vault: Option<Arc<SqliteVault>>,
    ) -> Result<App, AppError> {
        let runtime = Arc::new(Runtime::new(config.adapters.clone(), egress)?);
        let mut secrets = ConfiguredSecrets::new(vault);
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
    let key = match &settings.api_key {
        SecretRef::Env(var) => {
            vault::read_env("mock-pms", "apiKey", var).map_err(AppError::MockKey)?
        }
        SecretRef::Vault(_) => {
            return Err(AppError::MockKey(VaultError::NotConfigured {
                hotel: "mock-pms".into(),
                name: "apiKey (use { env: VAR })".into(),
            }));
        }
    };
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

/// The master key named by the config.
pub fn master_key(config: &Config) -> Result<MasterKey, VaultError> {
    match &config.state.master_key {
        MasterKeySource::Env(var) => MasterKey::from_env(var),
        MasterKeySource::File(path) => MasterKey::from_file(path),
    }
}

/// Opens the vault when a master key is available. Without one the host runs on environment
/// secrets only, unless a hotel refers to the vault, which is then an error naming the key source.
pub async fn open_vault(config: &Config) -> Result<Option<Arc<SqliteVault>>, VaultError> {
    let referenced = config
        .hotels
        .iter()
        .any(|h| h.secrets.values().any(|r| matches!(r, SecretRef::Vault(_))));
    let key = match master_key(config) {
        Ok(key) => key,
        Err(e) if referenced => return Err(e),
        Err(_) => {
            tracing::info!(
                "no vault master key configured: secrets come from the environment only"
            );
            return Ok(None);
        }
    };
    let vault = open_state_vault(config, key).await?;
    tracing::info!(path = %config.state.path.display(), "vault open");
    Ok(Some(Arc::new(vault)))
}

/// Opens (creating if needed) the vault in the config's state file under `key`.
pub async fn open_state_vault(config: &Config, key: MasterKey) -> Result<SqliteVault, VaultError> {
    if let Some(dir) = config.state.path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| VaultError::Storage(format!("cannot create {}: {e}", dir.display())))?;
    }
    SqliteVault::open(&config.state.path, key).await
}
