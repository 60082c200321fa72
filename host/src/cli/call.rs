//! `jack-pms call`: one operation for one hotel, printed as JSON.

use crate::app::App;
use crate::config::Config;
use crate::model::{Charge, GuestIdentifier, GuestQuery, Preference, WriteTarget};
use crate::operation::{Call, Operation};
use crate::state::outbox::WriteRequest;
use anyhow::{Context, bail};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    config_path: &Path,
    hotel: &str,
    operation: &str,
    args: &[String],
) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(config_path)?;
    super::require_hotel(&config, hotel)?;
    // A node id of its own: a write this process attempts is its own to hold (a serving host
    // takes it over if this process dies mid-attempt), never mistaken for the host's.
    config.state.node_id = format!("{}-cli-{}", config.state.node_id, std::process::id());
    let operation: Operation = operation.parse()?;
    let mut args = parse_args(args)?;
    super::tokio_runtime()?.block_on(async move {
        let app = App::build(&config).await?;
        let result = run_call(&app, hotel, operation, &mut args).await;
        // Not a host: it runs no syncs and takes no hotels.
        app.cluster.leave().await;
        result
    })
}

async fn run_call(
    app: &App,
    hotel: &str,
    operation: Operation,
    args: &mut BTreeMap<String, String>,
) -> anyhow::Result<ExitCode> {
    {
        let call = build_call(app, hotel, operation, args)?;
        if let Some(extra) = args.keys().next() {
            bail!("`{extra}` is not an argument of {operation}");
        }
        // Writes go through the outbox and the audit log like any other, recorded as the CLI's
        // user; a write the PMS cannot take now stays queued for the serving host to replay.
        if let Some(request) = WriteRequest::from_call(call.clone()) {
            let written = app
                .service
                .submit(hotel, &super::outbox::actor(), None, request)
                .await?;
            println!("{}", serde_json::to_string_pretty(&written)?);
            return Ok(ExitCode::SUCCESS);
        }
        let outcome = app.service.call(hotel, call).await?;
        println!("{}", serde_json::to_string_pretty(&outcome)?);
        Ok(ExitCode::SUCCESS)
    }
}

fn parse_args(args: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    args.iter()
        .map(|a| {
            a.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .with_context(|| format!("argument `{a}` is not key=value"))
        })
        .collect()
}

fn build_call(
    app: &App,
    hotel: &str,
    operation: Operation,
    args: &mut BTreeMap<String, String>,
) -> anyhow::Result<Call> {
    let mut take = |key: &str| {
        args.remove(key)
            .with_context(|| format!("{operation} needs `{key}=…`"))
    };
    let op_id = || format!("op-cli-{}", uuid::Uuid::new_v4().simple());
    Ok(match operation {
        Operation::Describe => Call::Describe,
        Operation::HealthCheck => Call::HealthCheck,
        Operation::GetGuest => {
            let (key, value) = ["id", "email", "phone", "confirmation"]
                .into_iter()
                .find_map(|k| take(k).ok().map(|v| (k, v)))
                .context("getGuest needs one of id=, email=, phone=, confirmation=")?;
            Call::GetGuest(match key {
                "id" => GuestIdentifier::Id(app.service.pms_guest_id(hotel, &value)?),
                "email" => GuestIdentifier::Email(value),
                "phone" => GuestIdentifier::Phone(value),
                _ => GuestIdentifier::ConfirmationNumber(value),
            })
        }
        Operation::SearchGuests => Call::SearchGuests(GuestQuery {
            email: take("email").ok(),
            phone: take("phone").ok(),
            name: take("name").ok(),
        }),
        Operation::UpdateGuestPreferences => {
            let guest = app.service.pms_guest_id(hotel, &take("guest")?)?;
            let preferences: Vec<Preference> = serde_json::from_str(&take("preferences")?)
                .context("preferences= must be a JSON list of {category, code, description?}")?;
            Call::UpdateGuestPreferences {
                operation_id: op_id(),
                guest_pms_id: guest,
                preferences,
            }
        }
        Operation::GetReservation => Call::GetReservation(take("confirmation")?),
        Operation::GetArrivals => Call::GetArrivals(take("date")?),
        Operation::GetDepartures => Call::GetDepartures(take("date")?),
        Operation::GetInHouseGuests => Call::GetInHouseGuests,
        Operation::AddReservationNote => Call::AddReservationNote {
            operation_id: op_id(),
            confirmation_number: take("confirmation")?,
            note: take("note")?,
        },
        Operation::UpdateCheckoutTime => Call::UpdateCheckoutTime {
            operation_id: op_id(),
            confirmation_number: take("confirmation")?,
            time: take("time")?,
        },
        Operation::PostCharge => {
            let confirmation_number = take("confirmation")?;
            let charge = Charge {
                amount: take("amount")?,
                currency: take("currency")?,
                description: take("description")?,
                code: take("code").ok(),
            };
            charge.money().validate().map_err(anyhow::Error::msg)?;
            Call::PostCharge {
                operation_id: op_id(),
                confirmation_number,
                charge,
            }
        }
        Operation::GetBalance => Call::GetBalance(take("confirmation")?),
        Operation::GetRoomStatus => Call::GetRoomStatus(take("room")?),
        Operation::GetAllRoomStatuses => Call::GetAllRoomStatuses,
        Operation::FindWrite => {
            let operation_id = take("operationId")?;
            let key = take("key")?;
            let target = match take("target")?.as_str() {
                "note" => WriteTarget::ReservationNote(key),
                "preferences" => WriteTarget::GuestPreferences(key),
                "charge" => WriteTarget::Charge(key),
                "checkout" => WriteTarget::CheckoutTime(key),
                other => {
                    bail!("target `{other}` is not one of note, preferences, charge, checkout")
                }
            };
            Call::FindWrite {
                operation_id,
                target,
            }
        }
    })
}
