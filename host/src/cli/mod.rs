//! The command line (clap): `serve`, `call`, `adapter inspect`, `mock-pms`, `token`, `vault`,
//! `outbox` and `audit`.
//! This is the binary's edge: errors are `anyhow` here and nowhere below.

mod adapter;
mod call;
mod mock_pms;
mod outbox;
mod serve;
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
        /// Only these states (pending, queued, applied, failed, cancelled); repeatable.
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
    },
    /// Cancel a queued or failed write.
    Cancel {
        /// Config file.
        #[arg(long)]
        config: PathBuf,
        /// Operation id.
        id: String,
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
        Command::Call {
            config,
            hotel,
            operation,
            args,
        } => call::run(&config, &hotel, &operation, &args),
        Command::Adapter {
            command:
                AdapterCommand::Inspect {
                    file,
                    manifest,
                    json,
                },
        } => adapter::inspect(&file, manifest.as_deref(), json),
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
            OutboxCommand::Retry { config, id, resend } => outbox::retry(&config, &id, resend),
            OutboxCommand::Cancel { config, id } => outbox::cancel(&config, &id),
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
