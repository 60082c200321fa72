//! Shared test harness: builds the adapter components once, picks free loopback ports, writes a
//! config, and runs the real `jack-pms serve` binary (with its in-process mock PMS) as a child
//! process whose logs go to a file the tests can scan. Dropping a [`Stack`] kills the process.
#![allow(dead_code)]

pub mod browser;
pub mod console;
pub mod contract;
pub mod events;
pub mod evil;
pub mod pms;
pub mod tls;

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Builds the adapters (once per test binary) and returns `target/adapters`.
pub fn adapters_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = Command::new("bash")
                .arg(root().join("adapters/build.sh"))
                .current_dir(root())
                .output()
                .expect("run adapters/build.sh");
            assert!(
                out.status.success(),
                "adapters/build.sh failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            root().join("target/adapters")
        })
        .clone()
}

/// Runs `jack-pms adapter test <args> --json` with `env` added (off the async runtime, which
/// keeps serving the PMS); returns the exit code and the parsed report.
pub async fn adapter_test(
    args: Vec<String>,
    env: Vec<(String, String)>,
) -> (i32, serde_json::Value) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_jack-pms"))
            .args(["adapter", "test"])
            .args(&args)
            .arg("--json")
            .envs(env)
            .env("RUST_LOG", "error")
            .output()
            .expect("run jack-pms adapter test");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "not a JSON report ({e}):\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), report)
    })
    .await
    .expect("join")
}

/// Runs `jack-pms adapter test` on the built adapter `name` with its manifest and profile from
/// `adapters/<name>/`, against `url` (a simulator served with [`tls::serve_https`]), with `env`
/// holding the profile's test secrets, and the manifest's rate limits lifted when `unlimited`;
/// returns the JSON report (its exit code must agree).
pub async fn conformance(
    name: &str,
    url: &str,
    env: Vec<(String, String)>,
    unlimited: bool,
) -> serde_json::Value {
    let wasm = adapters_dir().join(format!("{name}.wasm"));
    let manifest = root().join(format!("adapters/{name}/{name}.toml"));
    let mut args = vec![
        "--against".to_string(),
        url.to_string(),
        "--ca-file".to_string(),
        tls::ca_path().display().to_string(),
        "--manifest".to_string(),
        manifest.display().to_string(),
        wasm.display().to_string(),
    ];
    if unlimited {
        args.push("--unlimited".into());
    }
    let (code, report) = adapter_test(args, env).await;
    assert_eq!(
        code == 0,
        report["failed"] == 0,
        "the exit code disagrees with the report: {report:#}"
    );
    report
}

/// Runs `cargo <args>` in `dir` (a crate outside the workspace: the template, the partner
/// example) with the target directory they share (the SDK is compiled once for all), panicking
/// with the output when it fails.
pub fn cargo_in(dir: &Path, args: &[&str]) {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join("target/template"))
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {args:?} in {} failed:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A loopback port nobody listens on right now.
///
/// Chosen at random below Linux's ephemeral range (32768–60999): a port the kernel handed
/// out with `bind(0)` is released before the host binds it, and in between any outgoing
/// connection of any test process may take it as its local port (a test that restarts a
/// host under load saw "Address already in use"). Below the range only another test's pick
/// can collide, and `Stack::start_with` starts again on new ports when that happens.
pub fn free_port() -> u16 {
    const LOW: u16 = 20_000;
    const HIGH: u16 = 32_000;
    for _ in 0..1_000 {
        let offset = u16::try_from(rand_u128() % u128::from(HIGH - LOW)).expect("below 12000");
        let port = LOW + offset;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in {LOW}..{HIGH}")
}

/// The dev token every test stack accepts.
pub const TOKEN: &str = "test-token-for-jack";

/// A random secret for the mock PMS key.
pub fn random_key() -> String {
    format!("jpms-secret-{:032x}", rand_u128())
}

/// A random vault master key (base64 of 32 bytes).
pub fn random_master_key() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(&rand_u128().to_le_bytes());
    bytes[16..].copy_from_slice(&rand_u128().to_le_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// 128 random bits.
pub fn random_u128() -> u128 {
    rand_u128()
}

fn rand_u128() -> u128 {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("urandom");
    u128::from_le_bytes(bytes)
}

/// Which database a stack keeps its state in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: a SQLite file in the stack's directory.
    Sqlite,
    /// A PostgreSQL database of the test's own (created, and dropped after the test).
    Postgres,
}

/// A state database that outlives one stack: stacks restarted on it, or several nodes sharing it.
pub enum StateDb {
    /// A SQLite file (its directory lives as long as this value).
    Sqlite(tempfile::TempDir),
    /// A PostgreSQL database of this test's own, dropped with this value.
    Postgres(jack_pms_host::db::scratch::ScratchDb),
}

impl StateDb {
    /// A new, empty state database on `backend`.
    pub async fn new(backend: Backend) -> std::sync::Arc<StateDb> {
        std::sync::Arc::new(match backend {
            Backend::Sqlite => StateDb::Sqlite(tempfile::tempdir().expect("tempdir")),
            Backend::Postgres => StateDb::Postgres(
                jack_pms_host::db::scratch::ScratchDb::create()
                    .await
                    .expect("create a PostgreSQL scratch database (is PostgreSQL running on 127.0.0.1:5432?)"),
            ),
        })
    }

    /// The config's `state:` block for a host named `node`.
    pub fn yaml(&self, node: &str) -> String {
        match self {
            StateDb::Sqlite(dir) => format!(
                "state:\n  path: {}\n  nodeId: {node}\n",
                dir.path().join("state.db").display()
            ),
            StateDb::Postgres(db) => format!("state:\n  url: \"{}\"\n  nodeId: {node}\n", db.url()),
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        match self {
            StateDb::Sqlite(_) => Backend::Sqlite,
            StateDb::Postgres(_) => Backend::Postgres,
        }
    }

    /// Opens a pool on the database (for the test's own reads and tampering).
    pub async fn open(&self) -> jack_pms_host::db::Db {
        use jack_pms_host::db::{Db, Location};
        let location = match self {
            StateDb::Sqlite(dir) => Location::Sqlite(dir.path().join("state.db")),
            StateDb::Postgres(db) => Location::Postgres(db.url().into()),
        };
        Db::open(&location).await.expect("open the state database")
    }
}

/// What a stack's config should contain.
pub struct StackOptions {
    /// egress.allowLoopback
    pub allow_loopback: bool,
    /// Extra YAML appended under `hotels:` (each entry indented by two spaces); `{mock_port}`
    /// stands for the mock PMS's port.
    pub extra_hotels: String,
    /// Extra YAML under `adapters.overrides:`.
    pub overrides: String,
    /// RUST_LOG for the child.
    pub log: &'static str,
    /// The key the hotels' secret resolves to (by default the same as the mock PMS's).
    pub hotel_key: Option<String>,
    /// Extra YAML under `pms:` (each line indented by two spaces), e.g. cache TTLs.
    pub pms: String,
    /// Extra environment variables for the host (secrets that extra hotels reference).
    pub env: Vec<(String, String)>,
    /// Extra top-level YAML (e.g. `state:` and `vault:` blocks).
    pub top: String,
    /// Run the scheduled sync streams. Off by default so that no background read disturbs a
    /// test's request counts; `pms` must then not hold a `sync:` block of its own.
    pub sync: bool,
    /// Host names pinned to simulator addresses (`egress.resolve`), for manifests whose allowed
    /// host is a vendor's fixed API host.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Extra YAML under `adapters:` (each line indented by two spaces).
    pub adapters: String,
    /// Extra YAML under `egress:` (each line indented by two spaces).
    pub egress: String,
    /// The state database: with `state` unset, a SQLite file in the stack's directory, or a new
    /// PostgreSQL database for this stack alone.
    pub backend: Backend,
    /// A state database shared with other stacks (restarts, several nodes); overrides `backend`.
    pub state: Option<std::sync::Arc<StateDb>>,
    /// The host's `state.nodeId` (by default the config's default).
    pub node_id: Option<String>,
    /// Run the in-process mock PMS (on by default; off for nodes that share an external one).
    pub mock_pms: bool,
    /// More entries of `server.tokens` (YAML list items, indented four spaces).
    pub tokens: String,
}

impl Default for StackOptions {
    fn default() -> StackOptions {
        StackOptions {
            allow_loopback: true,
            extra_hotels: String::new(),
            overrides: String::new(),
            log: "info",
            hotel_key: None,
            pms: String::new(),
            env: Vec::new(),
            top: String::new(),
            sync: false,
            resolve: Vec::new(),
            adapters: String::new(),
            egress: String::new(),
            backend: Backend::Sqlite,
            state: None,
            node_id: None,
            mock_pms: true,
            tokens: String::new(),
        }
    }
}

/// Every sync stream disabled (under `pms:`).
const SYNC_OFF: &str = "  sync:\n    arrivals: { enabled: false, schedule: \"*/5 * * * *\" }\n    departures: { enabled: false, schedule: \"*/5 * * * *\" }\n    inHouse: { enabled: false, schedule: \"*/5 * * * *\" }\n    roomStatus: { enabled: false, schedule: \"*/5 * * * *\" }\n";

/// A running `jack-pms serve` with its mock PMS.
pub struct Stack {
    child: Child,
    pub api: SocketAddr,
    pub mock: SocketAddr,
    pub key: String,
    /// The key the hotels use, when it differs from the mock PMS's.
    pub hotel_key: Option<String>,
    /// Other secret values the host holds (from `StackOptions::env`).
    pub extra_secrets: Vec<String>,
    /// The vault's master key (`JACK_PMS_MASTER_KEY`).
    pub master_key: String,
    /// Extra environment of the host (from `StackOptions::env`).
    pub env: Vec<(String, String)>,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    /// The state database, when it is not the default file in `dir`.
    pub state: Option<std::sync::Arc<StateDb>>,
}

impl Stack {
    /// Starts a stack with default options.
    pub async fn start() -> Stack {
        Stack::start_with(StackOptions::default()).await
    }

    /// Starts a stack, on new ports if another process took one of the chosen ones first.
    pub async fn start_with(options: StackOptions) -> Stack {
        let mut last = String::new();
        for _ in 0..5 {
            match Stack::start_once(&options).await {
                Ok(stack) => return stack,
                Err(logs) => last = logs,
            }
        }
        panic!("jack-pms serve could not bind its ports five times:\n{last}")
    }

    /// One try at starting a stack: `Err` with the host's log when a port was taken.
    async fn start_once(options: &StackOptions) -> Result<Stack, String> {
        let adapters = adapters_dir();
        let dir = tempfile::tempdir().expect("tempdir");
        let (api_port, mock_port) = (free_port(), free_port());
        let key = random_key();
        let token_sha = sha256_hex(TOKEN.as_bytes());
        let seed = root().join("examples/mock-seed.json");
        let state = match (&options.state, options.backend) {
            (Some(shared), _) => Some(shared.clone()),
            (None, Backend::Postgres) => Some(StateDb::new(Backend::Postgres).await),
            (None, Backend::Sqlite) => None,
        };
        let node = options
            .node_id
            .clone()
            .unwrap_or_else(|| format!("node-{api_port}"));
        let state_yaml = match &state {
            Some(db) => db.yaml(&node),
            None => String::new(),
        };
        let config = format!(
            r#"{state_yaml}{top}pms:
  vendor: mock
{pms}server:
  listen: 127.0.0.1:{api_port}
  tokens:
    - name: test-suite
      sha256: {token_sha}
{tokens}adapters:
  dir: {adapters}
  cacheDir: {cache}
  allowUnpinned: true
{adapters_extra}  overrides:
{overrides}    hostile:
      deadlineMs: 2000
      memoryMib: 32
      maxRequestsPerCall: 10
      maxResponseBytes: 1048576
egress:
  allowLoopbackHttp: true
  allowLoopback: {allow_loopback}
  requestTimeoutMs: 5000
  trustedCaFiles: [{ca}]
  resolve: {{{resolve}}}
{egress_extra}mockPms:
  enabled: {mock_enabled}
  listen: 127.0.0.1:{mock_port}
  seed: {seed}
  apiKey: {{ env: TEST_MOCK_PMS_KEY }}
hotels:
  - id: DEMO1
    adapter: mock
    settings: {{ baseUrl: "http://127.0.0.1:{mock_port}", hotelId: DEMO1 }}
    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}
  - id: DEMO2
    adapter: mock
    settings: {{ baseUrl: "http://127.0.0.1:{mock_port}", hotelId: DEMO2 }}
    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}
  - id: HOSTILE
    adapter: hostile
    settings: {{ baseUrl: "http://127.0.0.1:{mock_port}" }}
    secrets: {{ apiKey: {{ env: TEST_HOTEL_KEY }} }}
  - id: FSREADER
    adapter: fs_reader
{extra}"#,
            tokens = options.tokens,
            adapters = adapters.display(),
            cache = dir.path().join("compiled").display(),
            seed = seed.display(),
            allow_loopback = options.allow_loopback,
            overrides = options.overrides,
            extra = options
                .extra_hotels
                .replace("{mock_port}", &mock_port.to_string()),
            pms = if options.sync || options.pms.contains("sync:") {
                options.pms.clone()
            } else {
                format!("{}{SYNC_OFF}", options.pms)
            },
            top = options.top,
            mock_enabled = options.mock_pms,
            adapters_extra = options.adapters,
            egress_extra = options.egress,
            ca = tls::ca_path().display(),
            resolve = options
                .resolve
                .iter()
                .map(|(host, addr)| format!("\"{host}\": \"{addr}\""))
                .collect::<Vec<_>>()
                .join(", "),
        );
        // The state file's master key (the outbox and audit log need the vault).
        let master_key = random_master_key();
        let config_path = dir.path().join("config.yaml");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(dir.path().join("host.log")).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_jack-pms"))
            .args(["serve", "--config"])
            .arg(&config_path)
            .env("RUST_LOG", options.log)
            .env("NO_COLOR", "1")
            .env("TEST_MOCK_PMS_KEY", &key)
            .env(
                "TEST_HOTEL_KEY",
                options.hotel_key.as_deref().unwrap_or(&key),
            )
            .env("JACK_PMS_MASTER_KEY", &master_key)
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start jack-pms serve");
        let mut stack = Stack {
            child,
            api: format!("127.0.0.1:{api_port}").parse().expect("addr"),
            mock: format!("127.0.0.1:{mock_port}").parse().expect("addr"),
            key,
            hotel_key: options.hotel_key.clone(),
            extra_secrets: options.env.iter().map(|(_, v)| v.clone()).collect(),
            master_key,
            env: options.env.clone(),
            dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            state,
        };
        stack.wait_ready(options.mock_pms).await?;
        Ok(stack)
    }

    /// Waits until the API (and the mock PMS) answer; `Err` with the log if the host exited
    /// because one of its ports was taken, a panic on any other exit or after two minutes.
    async fn wait_ready(&mut self, mock: bool) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let logs = self.logs();
                if logs.contains("Address already in use") {
                    return Err(logs);
                }
                panic!("jack-pms serve exited with {status}:\n{logs}");
            }
            let api = self.http.get(self.url("/healthz")).send().await;
            let mock_ready = !mock
                || self
                    .http
                    .get(self.mock_url("/admin/health"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
            if api.is_ok_and(|r| r.status().is_success()) && mock_ready {
                return Ok(());
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "jack-pms serve did not become ready:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The stack's config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.yaml")
    }

    /// Runs the `jack-pms` binary with `args` and the host's environment (keys, master key).
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_jack-pms"))
            .args(args)
            .env(
                "TEST_HOTEL_KEY",
                self.hotel_key.as_deref().unwrap_or(&self.key),
            )
            .env("TEST_MOCK_PMS_KEY", &self.key)
            .env("JACK_PMS_MASTER_KEY", &self.master_key)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("run jack-pms")
    }

    /// Everything the host logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("host.log")).unwrap_or_default()
    }

    /// URL on the API.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }

    /// URL on the mock PMS.
    pub fn mock_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.mock)
    }

    /// Authenticated GET; returns status and JSON body.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("GET");
        read(r).await
    }

    /// Authenticated request with a JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let r = self
            .http
            .request(method, self.url(path))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("request");
        read(r).await
    }

    /// Sets the mock PMS's faults.
    pub async fn faults(&self, faults: serde_json::Value) {
        let r = self
            .http
            .put(self.mock_url("/admin/faults"))
            .json(&faults)
            .send()
            .await
            .expect("faults");
        assert!(
            r.status().is_success(),
            "setting faults failed: {}",
            r.status()
        );
    }

    /// The mock PMS's request statistics.
    pub async fn mock_stats(&self) -> serde_json::Value {
        self.http
            .get(self.mock_url("/admin/stats"))
            .send()
            .await
            .expect("stats")
            .json()
            .await
            .expect("stats json")
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Every test run doubles as a check that no secret reached the host's log.
        if !std::thread::panicking() {
            let logs = self.logs();
            // A panic of the host itself (the default hook writes `thread '…' panicked at` to
            // stderr, which is this log); a guest's panic is a tagged log line, never this.
            assert!(
                !logs
                    .lines()
                    .any(|l| l.starts_with("thread '") && l.contains("panicked at")),
                "the host panicked:\n{logs}"
            );
            for secret in [&self.key]
                .into_iter()
                .chain(self.hotel_key.as_ref())
                .chain(self.extra_secrets.iter())
            {
                assert!(
                    !logs.contains(secret.as_str()),
                    "the host's log contains a secret"
                );
            }
        }
    }
}

/// Posts `note` to `url` (a `…/notes` route of a host's API) with the test token: the note and
/// the answer, or `None` when the host died before answering (it was killed mid-request).
pub async fn post_note(
    http: reqwest::Client,
    url: String,
    note: String,
) -> (String, Option<(u16, serde_json::Value)>) {
    let sent = http
        .post(url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({ "note": note }))
        .send()
        .await;
    let answer = match sent {
        Ok(r) => Some(read(r).await),
        Err(_) => None,
    };
    (note, answer)
}

/// Status and JSON body (Null when empty or not JSON).
pub async fn read(r: reqwest::Response) -> (u16, serde_json::Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Today's date (UTC), as the mock PMS seeds it.
pub fn today() -> String {
    chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

impl Stack {
    /// Kills the host (SIGKILL on unix: no clean shutdown) and waits for it to exit. The
    /// stack's directory (config, state file, log) stays until the stack is dropped; the
    /// in-process mock PMS dies with the host.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the host cleanly (SIGTERM) and waits for it to exit.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while matches!(self.child.try_wait(), Ok(None)) {
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "the host did not stop within 30 s of SIGTERM:\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The host's process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The state file at the config's default path (`.jack-pms/state.db` beside the config).
    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join(".jack-pms/state.db")
    }

    /// The stack's state backend.
    pub fn backend(&self) -> Backend {
        self.state.as_ref().map_or(Backend::Sqlite, |s| s.backend())
    }

    /// A pool on the stack's state database, whichever backend it is.
    pub async fn open_state(&self) -> jack_pms_host::db::Db {
        match &self.state {
            Some(db) => db.open().await,
            None => jack_pms_host::db::Db::open_sqlite(&self.state_path())
                .await
                .expect("open the state file"),
        }
    }
}

impl Stack {
    /// Every file that holds the stack's state at rest, with its bytes: the SQLite file and its
    /// journals, or the PostgreSQL database's files and recent write-ahead log.
    pub async fn state_files(&self) -> Vec<(String, Vec<u8>)> {
        match &self.state {
            None => sqlite_files(&self.state_path()),
            Some(db) => match db.as_ref() {
                StateDb::Sqlite(dir) => sqlite_files(&dir.path().join("state.db")),
                StateDb::Postgres(_) => postgres_files(self).await,
            },
        }
    }
}

/// The SQLite state file and its journals, as they are on disk.
fn sqlite_files(db: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .filter_map(|suffix| {
            let path = format!("{}{suffix}", db.display());
            std::fs::read(&path).ok().map(|bytes| (path, bytes))
        })
        .collect()
}

/// Every file of the stack's PostgreSQL database as it is on disk after a checkpoint (tables,
/// indexes, TOAST, free-space maps), and the server's write-ahead log written during the last
/// ten minutes: all that holds the database's rows at rest.
async fn postgres_files(s: &Stack) -> Vec<(String, Vec<u8>)> {
    let db = s.open_state().await;
    let pool = match &db {
        jack_pms_host::db::Db::Postgres(p) => p.clone(),
        jack_pms_host::db::Db::Sqlite(_) => panic!("not a PostgreSQL stack"),
    };
    sqlx::query("CHECKPOINT")
        .execute(&pool)
        .await
        .expect("checkpoint");
    let data: String = sqlx::query_scalar("SELECT current_setting('data_directory')")
        .fetch_one(&pool)
        .await
        .expect("data directory");
    let oid: i64 = sqlx::query_scalar(
        "SELECT oid::bigint FROM pg_database WHERE datname = current_database()",
    )
    .fetch_one(&pool)
    .await
    .expect("database oid");
    db.close().await;
    let mut files = Vec::new();
    let recent = std::time::SystemTime::now() - Duration::from_secs(600);
    for (dir, only_recent) in [
        (format!("{data}/base/{oid}"), false),
        (format!("{data}/pg_wal"), true),
    ] {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!("cannot read {dir} (the test reads PostgreSQL's files): {e}")
        });
        for entry in entries.flatten() {
            let meta = entry.metadata().expect("metadata");
            if !meta.is_file() || (only_recent && meta.modified().map_or(true, |m| m < recent)) {
                continue;
            }
            let path = entry.path();
            let bytes = std::fs::read(&path).expect("read a PostgreSQL file");
            files.push((path.display().to_string(), bytes));
        }
    }
    files
}

/// Runs an async scenario `fn name(backend: Backend)` once on each state backend, as the tests
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident: Backend) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                scenario($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                scenario($crate::support::Backend::Postgres).await
            }
            async fn scenario($backend: $crate::support::Backend) $body
        }
    };
}
