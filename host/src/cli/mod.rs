//! The command line (clap): `serve`, `call`, `adapter inspect`, `mock-pms`, `token`, `vault`,
//! `outbox`, `audit` and `staff`.
//! This is the binary's edge: errors are `anyhow` here and nowhere below.

mod adapter;
mod call;
mod mock_pms;
mod new;
mod outbox;
mod serve;
mod staff;
mod token;
mod vault;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// jack-pms: a sandboxed WebAssembly host for hotel PMS adapters.
#[derive(Debug, Parser)]
#[command(name = "jack-pms", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The log filter `call --trace` adds: the adapter's outbound requests and its own log lines.
const TRACE_FILTER: &str =
    "jack_pms_host::capabilities::http=debug,jack_pms::guest=trace,jack_pms_host::egress=debug";

impl Cli {
    /// Log directives the command asks for on top of `RUST_LOG`.
    pub fn extra_log_directives(&self) -> Option<&'static str> {
        match &self.command {
            Command::Call { trace: true, .. } => Some(TRACE_FILTER),
            _ => None,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Jack's HTTP API for the hotels in the config.
    Serve {
        /// Config file (YAML).
        #[arg(long)]
        config: PathBuf,
        /// Listen address; overrides `server.listen` (default 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run one adapter operation for a hotel and print the result as JSON.
    ///
    /// Arguments are key=value pairs: getGuest id=mock:G1001 (or email=, phone=, confirmation=);
    /// searchGuests email= phone= name=; getReservation|getBalance confirmation=CONF1001;
    /// getArrivals|getDepartures date=YYYY-MM-DD; getRoomStatus room=101;
    /// addReservationNote confirmation= note=; updateCheckoutTime confirmation= time=RFC3339;
    /// postCharge confirmation= amount=12.50 currency=EUR description= [code=];
    /// updateGuestPreferences guest= preferences='[{"category":"PILLOW","code":"FEATHER"}]';
    /// findWrite operationId= target=note|preferences|charge|checkout key=CONF-or-guest.
    Call {
        /// Config file (YAML).
        #[arg(long)]
        config: PathBuf,
        /// Hotel id.
        hotel: String,
        /// Operation (camelCase, e.g. getReservation, or the WIT name, e.g. get-reservation).
        operation: String,
        /// key=value arguments.
        args: Vec<String>,
        /// Print to stderr every outbound request the adapter made (method, URL, status; never a
        /// credential) and every line it logged, whatever `RUST_LOG` says.
        #[arg(long)]
        trace: bool,
    },
    /// Work with adapter components.
    Adapter {
        #[command(subcommand)]
        command: AdapterCommand,
    },
    /// Run the mock PMS on its own (a development server).
    MockPms {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: String,
        /// Seed file.
        #[arg(long, default_value = "examples/mock-seed.json")]
        seed: PathBuf,
        /// Environment variable holding the API key the mock PMS expects.
        #[arg(long, default_value = "JACK_MOCK_PMS_KEY")]
        api_key_env: String,
    },
    /// Print the HTTP API's OpenAPI document (the same as `GET /openapi.json`), for client
    /// generators such as the TypeScript client's `npm run generate`.
    Openapi,
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The credential vault in the state file (encrypted under the master key).
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// The durable write queue: list writes, retry failed ones, cancel queued ones.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// The audit log of PMS writes.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Staff accounts of the console (`/console`). Passwords are read from stdin.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Add an account; its password is read from stdin (one line, at least 12 characters):
    /// `jack-pms staff add ana --role admin --config jack-pms.yaml < password-file`.
    Add {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Login name (letters, digits, `.`, `_`, `-`, `@`).
        name: String,
        /// viewer (reads), operator (retry, resend, cancel), approver (approve, reject) or
        /// admin (all of them).
        #[arg(long)]
        role: String,
    },
    /// Set an account's password (from stdin) and, with --role, its role; its sessions end.
    Passwd {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Login name.
        name: String,
        /// A new role.
        #[arg(long)]
        role: Option<String>,
    },
    /// Remove an account; its sessions end.
    Rm {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Login name.
        name: String,
    },
    /// List the accounts and their roles.
    List {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum VaultCommand {
    /// Store a secret; the value is read from stdin (`printf %s "$KEY" | jack-pms vault set …`).
    Set {
        /// Config file (names the state file and the master key's source).
        #[arg(long)]
        config: PathBuf,
        /// Hotel id.
        hotel: String,
        /// Secret name, as the adapter's manifest declares it.
        name: String,
    },
    /// List secrets: hotel, name and dates, never values.
    List {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a secret.
    Rm {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Hotel id.
        hotel: String,
        /// Secret name.
        name: String,
    },
    /// Re-encrypt every secret under a new master key.
    RotateMasterKey {
        /// Config file (its vault key source is the current key).
        #[arg(long)]
        config: PathBuf,
        /// Environment variable holding the new key.
        #[arg(long)]
        new_key_env: Option<String>,
        /// File holding the new key (mode 0600).
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
    /// Print a new random master key (base64).
    NewKey,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// Writes, newest first (never their content: it is personal data).
    List {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Only this hotel.
        #[arg(long)]
        hotel: Option<String>,
        /// Only these states (awaiting_approval, pending, queued, applied, failed, cancelled);
        /// repeatable.
        #[arg(long = "state")]
        states: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue a failed or cancelled write again, with fresh attempts.
    Retry {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Operation id.
        id: String,
        /// You checked the PMS and it does not hold the write: send without reading back first.
        #[arg(long)]
        resend: bool,
        /// Why, for the audit log (e.g. "guest disputed the charge").
        #[arg(long)]
        reason: Option<String>,
    },
    /// Cancel a queued, failed or held write.
    Cancel {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Operation id.
        id: String,
        /// Why, for the audit log (e.g. "guest disputed the charge").
        #[arg(long)]
        reason: Option<String>,
    },
    /// Approve a write held for approval (over the hotel's `writes.approvalThreshold`): it is
    /// then sent. The audit log records who approved it.
    Approve {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Operation id.
        id: String,
        /// Why, for the audit log (e.g. "guest disputed the charge").
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject a write held for approval: it is cancelled, never sent.
    Reject {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Operation id.
        id: String,
        /// Why, for the audit log (e.g. "guest disputed the charge").
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Audit rows, oldest first (details decrypted).
    List {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Only this hotel.
        #[arg(long)]
        hotel: Option<String>,
        /// Only rows since this RFC 3339 time or YYYY-MM-DD date.
        #[arg(long)]
        since: Option<String>,
        /// Only this operation id.
        #[arg(long)]
        operation: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check the hash chain: exit 1 naming every edited or deleted row.
    Verify {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum AdapterCommand {
    /// What a security reviewer reads: WIT version, imports and exports with the host's verdict
    /// on each, allowed hosts, auth scheme, secret names, config keys, rate limits and sha256.
    Inspect {
        /// The component.
        file: PathBuf,
        /// Its manifest (default: the same name with `.toml`).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// A host config, to resolve allowed hosts, credentials, limits and the pin for a hotel.
        #[arg(long, requires = "hotel")]
        config: Option<PathBuf>,
        /// The hotel of `--config` to resolve for.
        #[arg(long, requires = "config")]
        hotel: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a ready-to-build adapter crate (manifest, conformance profile, native tests)
    /// that speaks the mock PMS's API, to start a new adapter from.
    New {
        /// Adapter name: lowercase letters, digits and `_` (the vendor key and file names).
        name: String,
        /// Where to write it (default `./NAME`; must not exist or be empty).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The jack-pms SDK to depend on (default: the SDK of the checkout this binary was
        /// built from).
        #[arg(long)]
        sdk: Option<PathBuf>,
    },
    /// Run the conformance suite against an adapter: manifest and WIT version, every declared
    /// operation, unsupported ones, bad credentials, HTTP error statuses, malformed bodies and
    /// pagination. Exits 1 when a check fails.
    #[command(group(clap::ArgGroup::new("source").required(true).args(["against", "fixtures"])))]
    Test {
        /// The component.
        file: PathBuf,
        /// Its manifest (default: the same name with `.toml`).
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// A running PMS or simulator to test against (base URL; requests keep their path).
        #[arg(long)]
        against: Option<url::Url>,
        /// A directory of recorded exchanges to answer from instead.
        #[arg(long)]
        fixtures: Option<PathBuf>,
        /// The conformance profile (default: conformance.toml in the fixtures directory or
        /// beside the manifest).
        #[arg(long)]
        profile: Option<PathBuf>,
        /// A PEM CA to trust for an https `--against` URL.
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// Lift the manifest's rate limits (only for a local simulator or mock PMS: a vendor's
        /// sandbox may suspend a key that exceeds them).
        #[arg(long)]
        unlimited: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Print a new random token and the sha256 to put in `server.tokens`.
    New,
    /// Read a token from stdin and print its sha256.
    Hash,
}

/// Runs the command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { config, listen } => serve::run(&config, listen.as_deref()),
        Command::Openapi => {
            let doc = serde_json::to_string_pretty(&crate::api::doc::document())
                .map_err(|e| anyhow::anyhow!("the OpenAPI document does not serialize: {e}"))?;
            println!("{doc}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Call {
            config,
            hotel,
            operation,
            args,
            trace: _,
        } => call::run(&config, &hotel, &operation, &args),
        Command::Adapter {
            command:
                AdapterCommand::Inspect {
                    file,
                    manifest,
                    config,
                    hotel,
                    json,
                },
        } => adapter::inspect(
            &file,
            manifest.as_deref(),
            config.as_deref().zip(hotel.as_deref()),
            json,
        ),
        Command::Adapter {
            command: AdapterCommand::New { name, dir, sdk },
        } => new::run(&name, dir.as_deref(), sdk.as_deref()),
        Command::Adapter {
            command:
                AdapterCommand::Test {
                    file,
                    manifest,
                    against,
                    fixtures,
                    profile,
                    ca_file,
                    unlimited,
                    json,
                },
        } => {
            let options = crate::conformance::Options {
                manifest: manifest.unwrap_or_else(|| file.with_extension("toml")),
                wasm: file,
                source: match (against, fixtures) {
                    (Some(url), _) => crate::conformance::Source::Against(url),
                    (None, Some(dir)) => crate::conformance::Source::Fixtures(dir),
                    (None, None) => anyhow::bail!("give --against URL or --fixtures DIR"),
                },
                profile,
                ca_file,
                unlimited,
            };
            let report = tokio_runtime()?.block_on(crate::conformance::run(&options))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::MockPms {
            listen,
            seed,
            api_key_env,
        } => mock_pms::run(&listen, &seed, &api_key_env),
        Command::Token {
            command: TokenCommand::New,
        } => token::new(),
        Command::Token {
            command: TokenCommand::Hash,
        } => token::hash(),
        Command::Vault { command } => match command {
            VaultCommand::Set {
                config,
                hotel,
                name,
            } => vault::set(&config, &hotel, &name),
            VaultCommand::List { config, json } => vault::list(&config, json),
            VaultCommand::Rm {
                config,
                hotel,
                name,
            } => vault::remove(&config, &hotel, &name),
            VaultCommand::RotateMasterKey {
                config,
                new_key_env,
                new_key_file,
            } => vault::rotate(&config, new_key_env.as_deref(), new_key_file.as_deref()),
            VaultCommand::NewKey => vault::new_key(),
        },
        Command::Outbox { command } => match command {
            OutboxCommand::List {
                config,
                hotel,
                states,
                json,
            } => outbox::list(&config, hotel.as_deref(), &states, json),
            OutboxCommand::Retry {
                config,
                id,
                resend,
                reason,
            } => outbox::retry(&config, &id, resend, reason.as_deref()),
            OutboxCommand::Cancel { config, id, reason } => {
                outbox::cancel(&config, &id, reason.as_deref())
            }
            OutboxCommand::Approve { config, id, reason } => {
                outbox::approve(&config, &id, reason.as_deref())
            }
            OutboxCommand::Reject { config, id, reason } => {
                outbox::reject(&config, &id, reason.as_deref())
            }
        },
        Command::Audit { command } => match command {
            AuditCommand::List {
                config,
                hotel,
                since,
                operation,
                json,
            } => outbox::audit_list(
                &config,
                hotel.as_deref(),
                since.as_deref(),
                operation.as_deref(),
                json,
            ),
            AuditCommand::Verify { config } => outbox::audit_verify(&config),
        },
        Command::Staff { command } => match command {
            StaffCommand::Add { config, name, role } => staff::add(&config, &name, &role),
            StaffCommand::Passwd { config, name, role } => {
                staff::passwd(&config, &name, role.as_deref())
            }
            StaffCommand::Rm { config, name } => staff::rm(&config, &name),
            StaffCommand::List { config, json } => staff::list(&config, json),
        },
    }
}

/// Refuses a hotel id the config does not list, naming the ones it does.
fn require_hotel(config: &crate::config::Config, hotel: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        config.hotel(hotel).is_some(),
        "unknown hotel `{hotel}`; the config has: {}",
        config
            .hotels
            .iter()
            .map(|h| h.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// A multi-threaded tokio runtime for the commands that need one.
fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
