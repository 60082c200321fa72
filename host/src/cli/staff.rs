//! `jack-pms staff add|passwd|rm|list`: the console's accounts, straight on the state database
//! (a serving host sees changes at once: sessions of a changed account end on their next request).

use crate::app::open_state_db;
use crate::config::Config;
use crate::staff::Role;
use crate::staff::accounts::Accounts;
use anyhow::Context as _;
use std::io::BufRead as _;
use std::path::Path;
use std::process::ExitCode;

/// Runs `work` on the accounts of `config_path`'s state database, then closes it.
fn with_accounts<T>(
    config_path: &Path,
    work: impl AsyncFnOnce(&Accounts) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let config = Config::load(config_path)?;
    super::tokio_runtime()?.block_on(async {
        let db = open_state_db(&config).await?;
        let accounts = Accounts::new(db.clone())?;
        let result = work(&accounts).await;
        db.close().await;
        result
    })
}

/// The password: the first line of stdin, without its line break. Nothing is echoed back.
fn read_password() -> anyhow::Result<zeroize::Zeroizing<String>> {
    let mut line = zeroize::Zeroizing::new(String::new());
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(
        !password.is_empty(),
        "no password on stdin: pipe it in, e.g. `jack-pms staff add NAME --role R --config C < file`"
    );
    Ok(zeroize::Zeroizing::new(password))
}

/// `staff add NAME --role R`
pub fn add(config_path: &Path, name: &str, role: &str) -> anyhow::Result<ExitCode> {
    let role = Role::parse(role)?;
    crate::staff::accounts::check_name(name)?;
    let password = read_password()?;
    with_accounts(config_path, async |accounts| {
        let account = accounts.add(name, role, &password).await?;
        eprintln!(
            "staff account `{}` added as {}",
            account.name,
            role.as_str()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `staff passwd NAME [--role R]`
pub fn passwd(config_path: &Path, name: &str, role: Option<&str>) -> anyhow::Result<ExitCode> {
    let role = role.map(Role::parse).transpose()?;
    let password = read_password()?;
    with_accounts(config_path, async |accounts| {
        let account = accounts.set_password(name, &password, role).await?;
        eprintln!(
            "staff account `{}` ({}): password changed, its sessions ended",
            account.name,
            account.role.as_str()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `staff rm NAME`
pub fn rm(config_path: &Path, name: &str) -> anyhow::Result<ExitCode> {
    with_accounts(config_path, async |accounts| {
        accounts.remove(name).await?;
        eprintln!("staff account `{name}` removed, its sessions ended");
        Ok(ExitCode::SUCCESS)
    })
}

/// `staff list [--json]`
pub fn list(config_path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    with_accounts(config_path, async |accounts| {
        let all = accounts.list().await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&all)?);
        } else {
            println!("{:<32} {:<9} password changed", "name", "role");
            for a in all {
                println!(
                    "{:<32} {:<9} {}",
                    a.name,
                    a.role.as_str(),
                    a.updated_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
