//! `jack-pms outbox …` and `jack-pms audit …`: staff work on the durable write queue and the
//! audit log, straight on the state database (a serving host picks retried writes up within a
//! second). Both need the vault's master key: the payloads and details are encrypted.

use crate::app::{master_key, open_state_vault};
use crate::config::Config;
use crate::state::audit::AuditFilter;
use crate::state::outbox::{OutboxFilter, WriteState};
use crate::state::{Staff, State};
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// Runs `work` on the state of `config_path`, then closes the file cleanly.
fn with_state<T>(
    config_path: &Path,
    work: impl AsyncFnOnce(&Config, &State) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let config = Config::load(config_path)?;
    super::tokio_runtime()?.block_on(async {
        let vault = open_state_vault(&config, master_key(&config)?).await?;
        let state = State::open(&vault, &cli_node()).await?;
        let result = work(&config, &state).await;
        vault.close().await;
        result
    })
}

/// The node id the CLI's writer runs as. The CLI attempts no writes, so it holds no leases;
/// the id is unique so it is never taken for a host's.
fn cli_node() -> String {
    format!("cli-{}", std::process::id())
}

/// Who the CLI's writes and staff actions are recorded as: `cli:<login>`.
pub(super) fn actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// A staff member's reason, refused when it is empty or longer than
/// [`crate::state::MAX_REASON_CHARS`].
fn checked_reason(reason: Option<&str>) -> anyhow::Result<Option<&str>> {
    reason
        .map(|r| crate::state::check_reason(r).map_err(anyhow::Error::msg))
        .transpose()
}

/// `outbox list [--hotel H] [--state S]…`
pub fn list(
    config_path: &Path,
    hotel: Option<&str>,
    states: &[String],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let states = states
        .iter()
        .map(|s| {
            WriteState::parse(s).map_err(|_| {
                anyhow::anyhow!(
                    "`{s}` is not a state: awaiting_approval, pending, queued, applied, failed or cancelled"
                )
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    with_state(config_path, async |config, state| {
        if let Some(h) = hotel {
            super::require_hotel(config, h)?;
        }
        let rows = state
            .outbox()
            .list(&OutboxFilter {
                hotel: hotel.map(str::to_owned),
                states,
                limit: None,
            })
            .await?;
        let records: Vec<_> = rows.iter().map(|r| r.record()).collect();
        if json {
            println!("{}", serde_json::to_string_pretty(&records)?);
        } else {
            println!(
                "{:<36} {:<10} {:<24} {:<20} {:<9} {:>8}  error",
                "operation", "hotel", "operation", "target", "state", "attempts"
            );
            for r in records {
                println!(
                    "{:<36} {:<10} {:<24} {:<20} {:<9} {:>8}  {}",
                    r.id,
                    r.hotel,
                    r.operation,
                    r.target,
                    r.state,
                    r.attempts,
                    r.error.unwrap_or_default()
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `outbox retry ID [--resend]`
pub fn retry(
    config_path: &Path,
    id: &str,
    resend: bool,
    reason: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let reason = checked_reason(reason)?;
    with_state(config_path, async |_, state| {
        let actor = actor();
        let record = state
            .retry(
                id,
                &Staff {
                    actor: &actor,
                    reason,
                },
                resend,
            )
            .await?;
        eprintln!("operation `{id}` is {}", record.state);
        Ok(ExitCode::SUCCESS)
    })
}

/// `outbox cancel ID`
pub fn cancel(config_path: &Path, id: &str, reason: Option<&str>) -> anyhow::Result<ExitCode> {
    let reason = checked_reason(reason)?;
    with_state(config_path, async |_, state| {
        let actor = actor();
        let record = state
            .cancel(
                id,
                &Staff {
                    actor: &actor,
                    reason,
                },
            )
            .await?;
        eprintln!("operation `{id}` is {}", record.state);
        Ok(ExitCode::SUCCESS)
    })
}

/// `outbox approve ID`
pub fn approve(config_path: &Path, id: &str, reason: Option<&str>) -> anyhow::Result<ExitCode> {
    let reason = checked_reason(reason)?;
    with_state(config_path, async |_, state| {
        let actor = actor();
        let record = state
            .approve(
                id,
                &Staff {
                    actor: &actor,
                    reason,
                },
            )
            .await?;
        eprintln!("operation `{id}` is approved and {}", record.state);
        Ok(ExitCode::SUCCESS)
    })
}

/// `outbox reject ID`
pub fn reject(config_path: &Path, id: &str, reason: Option<&str>) -> anyhow::Result<ExitCode> {
    let reason = checked_reason(reason)?;
    with_state(config_path, async |_, state| {
        let actor = actor();
        let record = state
            .reject(
                id,
                &Staff {
                    actor: &actor,
                    reason,
                },
            )
            .await?;
        eprintln!("operation `{id}` is rejected and {}", record.state);
        Ok(ExitCode::SUCCESS)
    })
}

/// `audit list [--hotel H] [--since T] [--operation ID]`
pub fn audit_list(
    config_path: &Path,
    hotel: Option<&str>,
    since: Option<&str>,
    operation: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let since = since
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&chrono::Utc))
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
                })
                .with_context(|| {
                    format!("--since `{s}` is not an RFC 3339 time or a YYYY-MM-DD date")
                })
        })
        .transpose()?;
    with_state(config_path, async |config, state| {
        if let Some(h) = hotel {
            super::require_hotel(config, h)?;
        }
        let rows = state
            .audit(&AuditFilter {
                hotel: hotel.map(str::to_owned),
                since,
                operation_id: operation.map(str::to_owned),
                ..AuditFilter::default()
            })
            .await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&rows)?);
        } else {
            for r in rows {
                println!(
                    "{:>6} {} {:<16} {:<8} {:<24} {:<36} {:<20} {:<10} {:<10} {}",
                    r.seq,
                    r.at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                    r.actor,
                    r.hotel,
                    r.operation,
                    r.operation_id,
                    r.target,
                    r.event,
                    r.outcome,
                    r.pms_request_id.unwrap_or_default()
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `audit verify`: exit 0 when the chain is intact, 1 (listing every break) when not.
pub fn audit_verify(config_path: &Path) -> anyhow::Result<ExitCode> {
    with_state(config_path, async |_, state| {
        let v = state.verify_audit().await?;
        if v.intact() {
            println!(
                "audit log intact: {} rows in {} chain(s); keep their heads elsewhere to detect truncation:",
                v.rows,
                v.heads.len()
            );
            for head in &v.heads {
                println!(
                    "  chain {} head row {} hash {}",
                    head.chain, head.seq, head.hash
                );
            }
            Ok(ExitCode::SUCCESS)
        } else {
            for p in &v.problems {
                println!("TAMPERED: {p}");
            }
            println!(
                "audit log NOT intact: {} problem(s) in {} rows",
                v.problems.len(),
                v.rows
            );
            Ok(ExitCode::from(1))
        }
    })
}
