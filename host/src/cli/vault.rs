//! `jack-pms vault …`: set, list, remove secrets, rotate the master key, make a new key.
//! Values are read from stdin, never from arguments (which land in shell history and `ps`).

use crate::app::{master_key, open_state_vault};
use crate::config::Config;
use crate::vault::Secret;
use crate::vault::master_key::MasterKey;
use crate::vault::store::Vault;
use anyhow::Context;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;

/// The CLI, unlike `serve`, always needs the vault: a missing master key is an error here.
async fn open(config: &Config) -> anyhow::Result<Vault> {
    Ok(open_state_vault(config, master_key(config)?).await?)
}

/// `vault set HOTEL NAME`, the value on stdin.
pub fn set(config_path: &Path, hotel: &str, name: &str) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_path)?;
    super::require_hotel(&config, hotel)?;
    if std::io::stdin().is_terminal() {
        eprintln!(
            "reading the value of `{name}` for `{hotel}` from stdin; end with Ctrl-D (or pipe it in)"
        );
    }
    let mut raw = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .read_to_string(&mut raw)
        .context("cannot read the value from stdin")?;
    let value = Secret::new(raw.trim_end_matches(['\n', '\r']).to_string());
    super::tokio_runtime()?.block_on(async {
        let vault = open(&config).await?;
        vault.set(hotel, name, &value).await?;
        vault.close().await;
        eprintln!(
            "secret `{name}` of `{hotel}` stored in {}",
            config.state.location.describe()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `vault list`: names and dates, never values.
pub fn list(config_path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_path)?;
    super::tokio_runtime()?.block_on(async {
        let vault = open(&config).await?;
        let entries = vault.list().await?;
        vault.close().await;
        if json {
            println!("{}", serde_json::to_string_pretty(&entries)?);
        } else {
            println!("{:<20} {:<24} {:<25} updated", "hotel", "name", "created");
            for e in entries {
                println!(
                    "{:<20} {:<24} {:<25} {}",
                    e.hotel,
                    e.name,
                    e.created_at.to_rfc3339(),
                    e.updated_at.to_rfc3339()
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `vault rm HOTEL NAME`.
pub fn remove(config_path: &Path, hotel: &str, name: &str) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_path)?;
    super::tokio_runtime()?.block_on(async {
        let vault = open(&config).await?;
        let removed = vault.remove(hotel, name).await?;
        vault.close().await;
        if removed {
            eprintln!("secret `{name}` of `{hotel}` removed");
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!("the vault holds no secret `{name}` for `{hotel}`");
            Ok(ExitCode::from(1))
        }
    })
}

/// `vault rotate-master-key`: every value re-encrypted under the new key, in one transaction.
pub fn rotate(
    config_path: &Path,
    new_key_env: Option<&str>,
    new_key_file: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let config = Config::load(config_path)?;
    let new_key = match (new_key_env, new_key_file) {
        (Some(var), None) => MasterKey::from_env(var)?,
        (None, Some(path)) => MasterKey::from_file(path)?,
        _ => anyhow::bail!(
            "give the new key with exactly one of --new-key-env VAR or --new-key-file PATH"
        ),
    };
    super::tokio_runtime()?.block_on(async {
        let vault = open(&config).await?;
        let n = vault.rotate(new_key).await?;
        vault.close().await;
        eprintln!("{n} secrets re-encrypted; point the config's vault key at the new key before restarting the host");
        Ok(ExitCode::SUCCESS)
    })
}

/// `vault new-key`: a random master key, base64, on stdout.
pub fn new_key() -> anyhow::Result<ExitCode> {
    println!("{}", MasterKey::generate().to_base64().as_str());
    Ok(ExitCode::SUCCESS)
}
