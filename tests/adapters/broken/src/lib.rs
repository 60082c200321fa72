//! An adapter written with three classic mistakes, against the mock PMS's API:
//! - `get-reservation` maps a 429 to `internal` (the vendor's "slow down" is lost);
//! - it `unwrap`s the body's JSON (a malformed body traps the instance);
//! - `get-guest` calls a host its manifest does not declare;
//! - `get-arrivals` passes the PMS's list for the date through, cancelled and no-show stays
//!   included (the contract lists the stays that are happening).
//!
//! The conformance suite's tests run `jack-pms adapter test` on it and expect each mistake to
//! be reported with what to fix. Everything else is done the ordinary way.

use jack_pms_sdk::prelude::*;

struct Broken;

fn reservation_url(confirmation: &str) -> Result<String, PmsError> {
    Ok(format!(
        "{}/api/v1/hotels/{}/reservations/{confirmation}",
        config::require("baseUrl")?.trim_end_matches('/'),
        config::require("hotelId")?
    ))
}

/// The common model's reservation from the mock PMS's JSON, with `status` as the caller read it.
fn reservation(body: &serde_json::Value, status: ReservationStatus) -> Reservation {
    let text = |key: &str| body[key].as_str().unwrap_or_default().to_string();
    Reservation {
        id: text("id"),
        confirmation_number: text("confirmation"),
        guest_pms_id: text("guestId"),
        guest_name: text("guestName"),
        status,
        arrival_date: text("arrival"),
        departure_date: text("departure"),
        checkout_time: None,
        room_number: None,
        room_type: None,
        adults: 1,
        children: 0,
        notes: vec![],
    }
}

impl Adapter for Broken {
    const VENDOR: &'static str = "mock";
    const VERSION: &'static str = "0.1.0";
    const OPERATIONS: &'static [Operation] = &[
        Operation::GetReservation,
        Operation::GetGuest,
        Operation::GetArrivals,
    ];

    fn get_reservation(confirmation_number: String) -> Result<Option<Reservation>, PmsError> {
        let response = Request::get(reservation_url(&confirmation_number)?)
            .credentials(CredentialScheme::ApiKeyHeader)
            .send()?;
        match response.status() {
            404 => return Ok(None),
            // Mistake 1: every error status becomes `internal`, 429 included.
            s if s >= 400 => return Err(internal(format!("HTTP {s}"))),
            _ => {}
        }
        // Mistake 2: trusting the PMS to always send valid JSON.
        let body: serde_json::Value = serde_json::from_slice(response.bytes()).unwrap();
        Ok(Some(reservation(&body, ReservationStatus::Reserved)))
    }

    fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
        let url = format!(
            "{}/api/v1/hotels/{}/reservations",
            config::require("baseUrl")?.trim_end_matches('/'),
            config::require("hotelId")?
        );
        let response = Request::get(url)
            .query("arrival", Date::parse(&date)?.to_string())
            .query("pageSize", "100")
            .credentials(CredentialScheme::ApiKeyHeader)
            .send()?
            .error_for_status()?;
        let body: serde_json::Value = response.json()?;
        let items = body["items"].as_array().cloned().unwrap_or_default();
        // Mistake 4: every stay the PMS lists for the date, whatever its state.
        Ok(items
            .iter()
            .map(|r| {
                let status = match r["state"].as_str() {
                    Some("CANCELLED") => ReservationStatus::Cancelled,
                    Some("NO_SHOW") => ReservationStatus::NoShow,
                    Some("IN_HOUSE" | "DUE_OUT") => ReservationStatus::CheckedIn,
                    Some("CHECKED_OUT") => ReservationStatus::CheckedOut,
                    _ => ReservationStatus::Reserved,
                };
                reservation(r, status)
            })
            .collect())
    }

    fn get_guest(_identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
        // Mistake 3: a host the manifest does not allow.
        Request::get("https://profiles.undeclared.example/guests")
            .credentials(CredentialScheme::ApiKeyHeader)
            .send()?;
        Ok(None)
    }
}

export_adapter!(Broken);
