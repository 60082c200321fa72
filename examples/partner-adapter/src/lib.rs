//! A jack-pms adapter for [Apaleo](https://api.apaleo.com), written only against `jack-pms-sdk`
//! and the partner guide, the way a partner writes one.
//!
//! What it maps (Apaleo API → `jack:pms/adapter`):
//!
//! | operation | Apaleo |
//! |---|---|
//! | `health-check` | `GET /inventory/v1/properties/{propertyId}` |
//! | `get-reservation` | `GET /booking/v1/reservations/{id}`, else the channel's code (`externalCode`) |
//! | `get-arrivals`, `get-departures` | `GET /booking/v1/reservations?dateFilter=Arrival\|Departure&from=D&to=D+1` |
//! | `get-in-house-guests` | `GET /booking/v1/reservations?status=InHouse` |
//! | `get-guest`, `search-guests` | the reservation's `primaryGuest` (`textSearch` for e-mail and name) |
//! | `add-reservation-note`, `find-write` | the reservation's `comment` (`PATCH`, JSON Patch), with a marker |
//! | `get-balance` | the reservation's `balance` (sign flipped: positive = the guest owes) |
//! | `get-room-status`, `get-all-room-statuses` | `GET /inventory/v1/units` (`condition`, `maintenance`) |
//!
//! Everything else answers `unsupported` with the reason. Lists follow `pageNumber`/`pageSize`
//! to the end (Apaleo's `count` is the total); an empty list is Apaleo's `204 No Content`.
//!
//! Settings (hotel config): `propertyId` (required, e.g. `MUC`); optional `pageSize` (default
//! 100) and `inspectsRooms` (`true` when the property inspects rooms, so that `Clean` means
//! inspected). Credentials: OAuth 2 client credentials, applied by the host; this code never sees
//! them.

pub mod wire;

use jack_pms_sdk::http::path_segment as encode;
use jack_pms_sdk::paging::{self, Page};
use jack_pms_sdk::prelude::*;
use wire::{ApaleoReservation, ApaleoUnit, Property, ReservationList, UnitList};

/// The adapter.
pub struct ApaleoAdapter;

/// Apaleo's API origin; the manifest allows exactly this one.
pub const API: &str = "https://api.apaleo.com";
/// Page size asked of Apaleo unless the hotel sets `pageSize`.
const DEFAULT_PAGE_SIZE: u32 = 100;
/// Pages followed at most: an error beyond it, never a silently short list.
const MAX_PAGES: usize = 500;
/// Statuses of reservations that really arrive or leave (not cancelled, not no-shows).
const STAYING: &str = "Confirmed,InHouse,CheckedOut";

/// The hotel's Apaleo property id.
fn property() -> Result<String, PmsError> {
    config::require("propertyId")
}

/// The page size: the `pageSize` setting, or the default.
fn page_size() -> Result<u32, PmsError> {
    match config::get("pageSize") {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(text) => match text.trim().parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(invalid_request(format!(
                "setting `pageSize` is `{text}`; it must be a number from 1 to 1000"
            ))),
        },
    }
}

/// A request the host signs with the OAuth token of the manifest's client-credentials grant.
fn api(request: Request) -> Request {
    request
        .header("accept", "application/json")
        .credentials(CredentialScheme::Oauth2ClientCredentials)
}

/// One reservation by Apaleo id, `None` when Apaleo has none or it belongs to another property
/// (one Apaleo account may hold several hotels; this hotel sees only its own).
fn reservation_by_id(id: &str) -> Result<Option<ApaleoReservation>, PmsError> {
    let response = api(Request::get(format!(
        "{API}/booking/v1/reservations/{}",
        encode(id)
    )))
    .send()?;
    if response.status() == 404 {
        return Ok(None);
    }
    let reservation: ApaleoReservation = response.error_for_status()?.json()?;
    let property = property()?;
    Ok(reservation
        .property
        .as_ref()
        .is_none_or(|p| p.id == property)
        .then_some(reservation))
}

/// One reservation by the number a guest knows: Apaleo's reservation id, or else the channel's
/// confirmation code (`externalCode`, e.g. Booking.com's).
fn find_reservation(number: &str) -> Result<Option<ApaleoReservation>, PmsError> {
    let number = number.trim();
    if number.is_empty() {
        return Err(invalid_request("the confirmation number is empty"));
    }
    if let Some(found) = reservation_by_id(number)? {
        return Ok(Some(found));
    }
    let mut matches = reservations(&[("externalCode", number.to_string())])?;
    matches.retain(|r| r.external_code.as_deref() == Some(number));
    Ok(matches.into_iter().next())
}

/// Every reservation of the hotel matching `filter`, all pages.
fn reservations(filter: &[(&str, String)]) -> Result<Vec<ApaleoReservation>, PmsError> {
    let property = property()?;
    let size = page_size()?;
    let mut received = 0usize;
    let all = paging::by_page_number(MAX_PAGES, |page| {
        let request = filter.iter().fold(
            api(Request::get(format!("{API}/booking/v1/reservations"))),
            |r, (k, v)| r.query(k, v),
        );
        let response = request
            .query("propertyIds", &property)
            .query("pageNumber", page.to_string())
            .query("pageSize", size.to_string())
            .send()?
            .error_for_status()?;
        // Apaleo answers an empty list with 204 and no body.
        if response.status() == 204 {
            return Ok(Page {
                items: vec![],
                more: false,
            });
        }
        let list: ReservationList = response.json()?;
        received += list.reservations.len();
        Ok(Page {
            more: received < list.count,
            items: list.reservations,
        })
    })?;
    jack_pms_sdk::debug!("{} reservation(s) for {:?}", all.len(), filter);
    Ok(all)
}

/// Maps every reservation; one that cannot be mapped fails the whole list (never a silent gap).
fn common(list: Vec<ApaleoReservation>) -> Result<Vec<Reservation>, PmsError> {
    list.into_iter()
        .map(ApaleoReservation::into_common)
        .collect()
}

/// Reservations whose `date_filter` date (`Arrival`, `Departure`) is the hotel-local `date`.
fn on_day(date_filter: &str, date: &str) -> Result<Vec<Reservation>, PmsError> {
    let day = Date::parse(date)?;
    // Pure dates are the property's local days; `to` is exclusive.
    common(reservations(&[
        ("dateFilter", date_filter.to_string()),
        ("from", day.to_string()),
        ("to", day.add_days(1).to_string()),
        ("status", STAYING.to_string()),
    ])?)
}

/// Every unit of the hotel (optionally narrowed by Apaleo's `textSearch`), all pages.
fn units(text: Option<&str>) -> Result<Vec<ApaleoUnit>, PmsError> {
    let property = property()?;
    let size = page_size()?;
    let mut received = 0usize;
    paging::by_page_number(MAX_PAGES, |page| {
        let response = api(Request::get(format!("{API}/inventory/v1/units")))
            .query("propertyId", &property)
            .query_opt("textSearch", text)
            .query("pageNumber", page.to_string())
            .query("pageSize", size.to_string())
            .send()?
            .error_for_status()?;
        if response.status() == 204 {
            return Ok(Page {
                items: vec![],
                more: false,
            });
        }
        let list: UnitList = response.json()?;
        received += list.units.len();
        Ok(Page {
            more: received < list.count,
            items: list.units,
        })
    })
}

/// Whether the property inspects rooms (`inspectsRooms` setting).
fn inspects_rooms() -> bool {
    config::get("inspectsRooms").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Why a phone number cannot be looked up.
const NO_PHONE_SEARCH: &str = "Apaleo's reservation search (textSearch) covers names, e-mail and company, not phone numbers; find the guest by e-mail, name or confirmation number";

impl Adapter for ApaleoAdapter {
    const VENDOR: &'static str = "apaleo";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const OPERATIONS: &'static [Operation] = &[
        Operation::HealthCheck,
        Operation::GetGuest,
        Operation::SearchGuests,
        Operation::GetReservation,
        Operation::GetArrivals,
        Operation::GetDepartures,
        Operation::GetInHouseGuests,
        Operation::AddReservationNote,
        Operation::GetBalance,
        Operation::GetRoomStatus,
        Operation::GetAllRoomStatuses,
        Operation::FindWrite,
    ];

    fn health_check() -> Result<HealthStatus, PmsError> {
        let id = property()?;
        let response = api(Request::get(format!(
            "{API}/inventory/v1/properties/{}",
            encode(&id)
        )))
        .send()?;
        if response.status() == 404 {
            return Ok(HealthStatus {
                healthy: false,
                detail: Some(format!(
                    "Apaleo accepted the credentials but has no property `{id}`"
                )),
            });
        }
        let found: Property = response.error_for_status()?.json()?;
        Ok(HealthStatus {
            healthy: true,
            detail: Some(match found.name {
                Some(name) => format!("property {} ({name})", found.id),
                None => format!("property {}", found.id),
            }),
        })
    }

    fn get_guest(identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
        match identifier {
            // A guest's PMS id is the id of the reservation it was read from.
            GuestIdentifier::Id(id) | GuestIdentifier::ConfirmationNumber(id) => {
                Ok(find_reservation(&id)?.and_then(|r| r.guest()))
            }
            GuestIdentifier::Email(email) => {
                let email = email.trim();
                if email.is_empty() {
                    return Err(invalid_request("the e-mail address is empty"));
                }
                Ok(reservations(&[("textSearch", email.to_string())])?
                    .iter()
                    .filter_map(ApaleoReservation::guest)
                    .find(|g| {
                        g.email
                            .as_deref()
                            .is_some_and(|e| e.eq_ignore_ascii_case(email))
                    }))
            }
            GuestIdentifier::Phone(_) => Err(PmsError::Unsupported(NO_PHONE_SEARCH.into())),
        }
    }

    fn search_guests(query: GuestQuery) -> Result<Vec<Guest>, PmsError> {
        if query.phone.is_some() {
            return Err(PmsError::Unsupported(NO_PHONE_SEARCH.into()));
        }
        let email = query
            .email
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let name = query
            .name
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let Some(text) = email.or(name) else {
            return Err(invalid_request("set an e-mail address or a name to search"));
        };
        let name_lower = name.map(str::to_lowercase);
        // Apaleo's textSearch is a containment match over several fields; each field asked for
        // must match here as the contract says (e-mail exactly, name within the full name).
        Ok(reservations(&[("textSearch", text.to_string())])?
            .iter()
            .filter_map(ApaleoReservation::guest)
            .filter(|g| {
                email.is_none_or(|e| {
                    g.email
                        .as_deref()
                        .is_some_and(|ge| ge.eq_ignore_ascii_case(e))
                }) && name_lower.as_deref().is_none_or(|n| {
                    format!("{} {}", g.first_name, g.last_name)
                        .to_lowercase()
                        .contains(n)
                })
            })
            .collect())
    }

    fn update_guest_preferences(
        _operation_id: String,
        _guest_pms_id: String,
        _preferences: Vec<Preference>,
    ) -> Result<WriteReceipt, PmsError> {
        Err(PmsError::Unsupported(
            "Apaleo keeps no guest profiles and no preference codes: a guest exists only inside reservations".into(),
        ))
    }

    fn get_reservation(confirmation_number: String) -> Result<Option<Reservation>, PmsError> {
        find_reservation(&confirmation_number)?
            .map(ApaleoReservation::into_common)
            .transpose()
    }

    fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
        on_day("Arrival", &date)
    }

    fn get_departures(date: String) -> Result<Vec<Reservation>, PmsError> {
        on_day("Departure", &date)
    }

    fn get_in_house_guests() -> Result<Vec<Reservation>, PmsError> {
        common(reservations(&[("status", "InHouse".to_string())])?)
    }

    fn add_reservation_note(
        operation_id: String,
        confirmation_number: String,
        note: String,
    ) -> Result<WriteReceipt, PmsError> {
        if note.trim().is_empty() {
            return Err(invalid_request("a note cannot be empty"));
        }
        let reservation = find_reservation(&confirmation_number)?.ok_or(PmsError::NotFound)?;
        // A replay of a note that already arrived must not add it twice.
        if wire::comment_has_operation(reservation.comment.as_deref(), &operation_id) {
            return Ok(WriteReceipt {
                pms_reference: Some(reservation.id),
            });
        }
        // Apaleo keeps one comment per reservation: the note is appended to it, one line per note.
        // Read-modify-write: an edit made in Apaleo between the read and the PATCH is overwritten
        // (Apaleo's reservation PATCH takes no precondition).
        let comment = wire::appended_comment(
            reservation.comment.as_deref(),
            &wire::note_line(&note, &operation_id),
        );
        let patch = serde_json::json!([{ "op": "replace", "path": "/comment", "value": comment }]);
        api(Request::patch(format!(
            "{API}/booking/v1/reservations/{}",
            encode(&reservation.id)
        )))
        .json(&patch)?
        .send()?
        .error_for_status()?;
        Ok(WriteReceipt {
            pms_reference: Some(reservation.id),
        })
    }

    fn update_checkout_time(
        _operation_id: String,
        _confirmation_number: String,
        _time: String,
    ) -> Result<WriteReceipt, PmsError> {
        Err(PmsError::Unsupported(
            "Apaleo changes a departure only by amending the stay ($amend with time slices and prices), which may reprice it; this adapter does not amend stays".into(),
        ))
    }

    fn post_charge(
        _operation_id: String,
        _confirmation_number: String,
        _charge: Charge,
    ) -> Result<WriteReceipt, PmsError> {
        Err(PmsError::Unsupported(
            "Apaleo posts folio charges with a service type and a VAT type that the contract's charge does not carry; this adapter does not post charges".into(),
        ))
    }

    fn get_balance(confirmation_number: String) -> Result<Money, PmsError> {
        find_reservation(&confirmation_number)?
            .ok_or(PmsError::NotFound)?
            .open_balance()
    }

    fn get_room_status(room_number: String) -> Result<Option<RoomStatus>, PmsError> {
        let room = room_number.trim();
        if room.is_empty() {
            return Err(invalid_request("the room number is empty"));
        }
        // textSearch narrows the list; the exact name decides.
        units(Some(room))?
            .into_iter()
            .find(|u| u.name == room)
            .map(|u| u.into_common(inspects_rooms()))
            .transpose()
    }

    fn get_all_room_statuses() -> Result<Vec<RoomStatus>, PmsError> {
        let inspects = inspects_rooms();
        units(None)?
            .into_iter()
            .map(|u| u.into_common(inspects))
            .collect()
    }

    fn find_write(operation_id: String, target: WriteTarget) -> Result<WritePresence, PmsError> {
        match target {
            WriteTarget::ReservationNote(number) => Ok(match find_reservation(&number)? {
                Some(r) if wire::comment_has_operation(r.comment.as_deref(), &operation_id) => {
                    WritePresence::Applied
                }
                Some(_) => WritePresence::Absent,
                // The reservation is gone: the note cannot be there.
                None => WritePresence::Absent,
            }),
            // This adapter makes no other writes, so Apaleo cannot hold one.
            WriteTarget::GuestPreferences(_)
            | WriteTarget::Charge(_)
            | WriteTarget::CheckoutTime(_) => Ok(WritePresence::Absent),
        }
    }
}

export_adapter!(ApaleoAdapter);
