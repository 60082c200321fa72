//! Assembling the host from a config: egress pipeline, runtime, secrets, service, API router and
//! (when asked) the in-process mock PMS. `serve`, `call`, the tests and the benchmarks all build
//! the host through here.

use crate::api::{self, AppState};
use crate::cluster::Cluster;
use crate::config::Config;
use crate::config::{MasterKeySource, SecretRef};
use crate::coordination::Coordination;
use crate::db::{Db, Location};
use crate::egress::{Egress, EgressError};
use crate::events::log::{EventLog, EventLogError, LogOptions};
use crate::events::tracker::ChangeTracker;
use crate::events::webhooks::{WebhookDispatcher, WebhookOptions, WebhookTarget};
use crate::mock_pms::{self, MockPms};
use crate::runtime::{Runtime, StartError};
use crate::service::ServiceRunner;
use crate::service::{ReloadReport, Service};
use crate::state::State;
use crate::sync::schedule::SystemClock;
use crate::sync::scheduler::{Scheduler, SchedulerOptions, jobs_for_hotel};
use crate::vault::master_key::MasterKey;
use crate::vault::store::Vault;
use crate::vault::{self, ConfiguredSecrets, VaultError};
use secrecy::SecretString;
use std::future::Future;
use std::path::{Path, PathBuf};
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
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The outbox or audit log could not be opened.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// A sync schedule is invalid.
    #[error(transparent)]
    Sync(#[from] crate::sync::scheduler::SchedulerError),
    /// Webhook deliveries could not start.
    #[error(transparent)]
    Webhooks(#[from] crate::events::webhooks::WebhookError),
    /// The event log could not be opened.
    #[error(transparent)]
    Events(#[from] EventLogError),
    /// This host could not join the hosts sharing the state.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    /// The coordination store's URL is unusable.
    #[error(transparent)]
    Coordination(#[from] crate::coordination::shared::link::LinkError),
    /// The mock PMS's seed is invalid.
    #[error("mock PMS: {0}")]
    MockSeed(#[from] mock_pms::SeedError),
    /// The staff console could not be set up.
    #[error("staff console: {0}")]
    Console(#[from] crate::staff::StaffError),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// Address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// Name of the vault's host key that seals what hosts share in Redis.
pub const COORDINATION_KEY_NAME: &str = "coordination-key";

/// How long requests under way may take to finish once the host is told to stop.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

impl api::Reload for Reloader {
    fn reload(&self) -> futures_util::future::BoxFuture<'_, Result<ReloadReport, String>> {
        Box::pin(async move { Reloader::reload(self).await.map_err(|e| e.to_string()) })
    }
}

/// The assembled host.
pub struct App {
    /// The engine.
    pub service: Arc<Service>,
    /// This host among the hosts sharing the state.
    pub cluster: Arc<Cluster>,
    /// The API's state.
    pub state: AppState,
    /// The staff console's state (`None` when `server.console.enabled` is false).
    pub console: Option<crate::console::ConsoleState>,
    secrets: Arc<ConfiguredSecrets>,
}

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The config file is unreadable or invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The reload task itself failed.
    #[error("the reload task failed: {0}")]
    Task(String),
}

/// Re-reads the hotels of the config file the host was started with.
pub struct Reloader {
    config_path: PathBuf,
    service: Arc<Service>,
    secrets: Arc<ConfiguredSecrets>,
    /// One reload at a time, so that two never interleave their secret and hotel updates.
    lock: tokio::sync::Mutex<()>,
}

impl Reloader {
    /// Loads and checks the config, then swaps in its hotels; an invalid config changes nothing.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let _one = self.lock.lock().await;
        let path = self.config_path.clone();
        // Reading and validating the file, and binding (which may compile a new component),
        // block: keep them off the async workers.
        let service = self.service.clone();
        let secrets = self.secrets.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let config = Config::load(&path)?;
            secrets.replace_hotels(config.hotels.iter().map(|h| (h.id.as_str(), &h.secrets)));
            Ok::<_, ReloadError>(service.reload_hotels(&config))
        })
        .await;
        let report = match outcome {
            Ok(result) => result?,
            Err(join) => return Err(ReloadError::Task(join.to_string())),
        };
        tracing::info!(
            added = ?report.added,
            removed = ?report.removed,
            unavailable = report.unavailable.len(),
            "config reloaded"
        );
        Ok(report)
    }
}

impl App {
    /// Builds the host for `config` (the vault is opened, adapters are loaded and hotels bound
    /// here).
    pub async fn build(config: &Config) -> Result<App, AppError> {
        crate::metrics::set_node(&config.state.node_id);
        let vault = open_vault(config).await?;
        // Secrets set with the CLI while the host runs are picked up within seconds.
        vault.spawn_refresh(std::time::Duration::from_secs(5));
        let coordination = App::coordination(config, &vault).await?;
        let egress = Arc::new(coordination.egress(Egress::new(config.egress.clone())?));
        App::build_coordinated(config, egress, vault, coordination).await
    }

    /// The coordination `config` asks for: in this process, or shared through Redis (sealed
    /// with a key kept in `vault`, the same for every host sharing the state).
    pub async fn coordination(config: &Config, vault: &Vault) -> Result<Coordination, AppError> {
        match &config.redis {
            None => {
                crate::metrics::metrics().coordination_nodes.set(1);
                Ok(Coordination::in_process())
            }
            Some(redis) => {
                let key = vault.host_key(COORDINATION_KEY_NAME).await?;
                Ok(Coordination::redis(redis, &config.state.node_id, &key).await?)
            }
        }
    }

    /// Builds the host over a given egress pipeline and vault (benchmarks answer in-process),
    /// coordinating in this process only. The outbox, the audit log and the event log live in
    /// the vault's state database.
    pub async fn build_with(
        config: &Config,
        egress: Arc<Egress>,
        vault: Arc<Vault>,
    ) -> Result<App, AppError> {
        App::build_coordinated(config, egress, vault, Coordination::in_process()).await
    }

    /// Builds the host with `coordination`'s breakers, PMS-down state and cache (`egress`
    /// already carries its buckets and tokens: [`Coordination::egress`]).
    pub async fn build_coordinated(
        config: &Config,
        egress: Arc<Egress>,
        vault: Arc<Vault>,
        coordination: Coordination,
    ) -> Result<App, AppError> {
        let runtime =
            Arc::new(coordination.runtime(Runtime::new(config.adapters.clone(), egress)?));
        let state = Arc::new(State::open(&vault, &config.state.node_id).await?);
        let log = Arc::new(EventLog::from_db(
            vault.db().clone(),
            state.cipher().clone(),
            LogOptions {
                retention: config.events.retention,
                ..LogOptions::default()
            },
        ));
        // On PostgreSQL, events committed by any host reach this host's subscribers.
        log.spawn_listener();
        let tracker = Arc::new(ChangeTracker::new(log, coordination.outages.clone()).await?);
        let cluster = Cluster::join(vault.db().clone(), &config.state.node_id).await?;
        let db = vault.db().clone();
        let mut secrets = ConfiguredSecrets::new(Some(vault));
        for h in &config.hotels {
            secrets.add_hotel(&h.id, &h.secrets);
        }
        let secrets = Arc::new(secrets);
        let service = Arc::new(Service::new(
            config,
            runtime,
            secrets.clone(),
            state,
            tracker,
            &coordination,
        ));
        let state = AppState {
            service: service.clone(),
            tokens: Arc::new(config.server.tokens.clone()),
            reloader: None,
        };
        service.attach_cluster(cluster.clone());
        let console = if config.server.console.enabled {
            Some(crate::console::ConsoleState::new(
                service.clone(),
                db,
                config,
            )?)
        } else {
            None
        };
        Ok(App {
            service,
            cluster,
            state,
            console,
            secrets,
        })
    }

    /// Lets `POST /v1/admin/reload` (and SIGHUP, in `serve`) re-read the hotels of the config at
    /// `config_path`; returns the reloader.
    pub fn enable_reload(&mut self, config_path: &Path) -> Arc<Reloader> {
        let reloader = Arc::new(Reloader {
            config_path: config_path.to_path_buf(),
            service: self.service.clone(),
            secrets: self.secrets.clone(),
            lock: tokio::sync::Mutex::new(()),
        });
        self.state.reloader = Some(reloader.clone());
        reloader
    }

    /// Starts the sync scheduler: every enabled stream of every hotel whose adapter is bound,
    /// on the hotel's cron schedules, spread over each interval; results warm the cache and
    /// become change events.
    pub fn start_sync(&self, options: SchedulerOptions) -> Result<Arc<Scheduler>, AppError> {
        let ready: Vec<String> = self
            .service
            .hotels()
            .into_iter()
            .filter(|h| h.problem.is_none())
            .map(|h| h.id)
            .collect();
        let jobs = self
            .service
            .hotel_settings()
            .into_iter()
            .filter(|h| ready.contains(&h.id))
            .flat_map(|h| match self.service.zone(&h.id) {
                Ok(zone) => jobs_for_hotel(&h.id, &h.pms.sync, &zone),
                Err(_) => Vec::new(),
            })
            .collect();
        let options = SchedulerOptions {
            claims: Some(options.claims.unwrap_or_else(|| self.cluster.clone())),
            ..options
        };
        let scheduler = Arc::new(Scheduler::start(
            jobs,
            Arc::new(ServiceRunner(self.service.clone())),
            Some(self.service.tracker().clone()),
            Arc::new(SystemClock),
            options,
        )?);
        self.service.attach_scheduler(scheduler.clone());
        Ok(scheduler)
    }

    /// Starts signed webhook deliveries of change events to the configured receivers.
    pub async fn start_webhooks(
        &self,
        config: &Config,
    ) -> Result<Option<WebhookDispatcher>, AppError> {
        if config.events.webhooks.is_empty() {
            return Ok(None);
        }
        let mut targets = Vec::new();
        for (i, w) in config.events.webhooks.iter().enumerate() {
            let name = format!("events.webhooks[{i}].secret");
            let secret = match &w.secret {
                SecretRef::Env(var) => vault::read_env("events", &name, var)?,
                SecretRef::Vault(_) => {
                    return Err(AppError::Vault(VaultError::NotConfigured {
                        hotel: "events".into(),
                        name: format!(
                            "{name} (webhook secrets come from the environment: {{ env: VAR }})"
                        ),
                    }));
                }
            };
            targets.push(WebhookTarget {
                format: w.format,
                url: w.url.clone(),
                secret: SecretString::from(secret.expose().to_string()),
                events: w.events.clone(),
            });
        }
        let options = WebhookOptions {
            max_attempts: config.events.webhook_max_attempts,
            node: config.state.node_id.clone(),
            ..WebhookOptions::default()
        };
        let log = self.service.tracker().log().clone();
        Ok(Some(WebhookDispatcher::start(log, targets, options).await?))
    }

    /// The API router, with the staff console beside it (`/console`) when it is enabled.
    pub fn router(&self) -> axum::Router {
        let api = api::router(self.state.clone());
        match &self.console {
            Some(console) => api.merge(crate::console::router(console.clone())),
            None => api,
        }
    }

    /// Serves the API on `listener` until `shutdown` completes; requests under way then get
    /// [`SHUTDOWN_GRACE`] to finish. Connections that stay open longer (an SSE client's stream
    /// never ends by itself) are closed: a stop must not wait on a client.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let stopping = Arc::new(tokio::sync::Notify::new());
        let signal = stopping.clone();
        // The peer's address reaches handlers (the console throttles logins per address).
        let app = self
            .router()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                // A stored permit: the grace timer below may start waiting after this.
                signal.notify_one();
            })
            .into_future();
        tokio::select! {
            result = server => result,
            () = async {
                stopping.notified().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::info!("connections still open after the shutdown grace; closing them");
                Ok(())
            }
        }
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

/// The master key named by the config. With `vault.generateMasterKeyFile` (development only) a
/// missing key file is created (mode 0600) with a new random key.
pub fn master_key(config: &Config) -> Result<MasterKey, VaultError> {
    match &config.state.master_key {
        MasterKeySource::Env(var) => MasterKey::from_env(var),
        MasterKeySource::File(path) if config.state.generate_master_key_file && !path.exists() => {
            generate_key_file(path)
        }
        MasterKeySource::File(path) => MasterKey::from_file(path),
    }
}

fn generate_key_file(path: &std::path::Path) -> Result<MasterKey, VaultError> {
    use std::io::Write as _;
    let shown = path.display();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| VaultError::MasterKey(format!("cannot create {}: {e}", dir.display())))?;
    }
    let key = MasterKey::generate();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut file = opts
        .open(path)
        .map_err(|e| VaultError::MasterKey(format!("cannot create key file `{shown}`: {e}")))?;
    file.write_all(key.to_base64().as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| VaultError::MasterKey(format!("cannot write key file `{shown}`: {e}")))?;
    tracing::warn!(
        path = %shown,
        "generated a new master key file (vault.generateMasterKeyFile: development only)"
    );
    Ok(key)
}

/// Opens the vault. The host needs it: it holds the key that seals personal data in the outbox
/// and the audit log, so a missing master key is an error that says how to make one.
pub async fn open_vault(config: &Config) -> Result<Arc<Vault>, VaultError> {
    let key = master_key(config).map_err(|e| match e {
        VaultError::MasterKey(m) => VaultError::MasterKey(format!(
            "{m} (the state file's outbox and audit log are encrypted with keys held in the vault)"
        )),
        other => other,
    })?;
    let vault = open_state_vault(config, key).await?;
    tracing::info!(
        at = %config.state.location.describe(),
        node = %config.state.node_id,
        "state database and vault open"
    );
    Ok(Arc::new(vault))
}

/// Opens the config's state database (creating a SQLite file and its directory if needed,
/// applying any schema migrations) and the vault in it under `key`.
pub async fn open_state_vault(config: &Config, key: MasterKey) -> Result<Vault, VaultError> {
    let db = open_state_db(config)
        .await
        .map_err(|e| VaultError::Storage(e.to_string()))?;
    Vault::from_db(db, key).await
}

/// Opens (and migrates) the config's state database, creating a SQLite file's directory.
pub async fn open_state_db(config: &Config) -> Result<Db, crate::db::DbError> {
    if let Location::Sqlite(path) = &config.state.location
        && let Some(dir) = path.parent()
    {
        std::fs::create_dir_all(dir).map_err(|e| crate::db::DbError::Open {
            at: path.display().to_string(),
            problem: format!("cannot create {}: {e}", dir.display()),
        })?;
    }
    Db::open(&config.state.location).await
}
