//! The reference adapter: maps jack-pms's mock PMS (`jack-pms mock-pms`) to the common model.
//!
//! Partners: copy this crate. It shows every pattern an adapter needs: reading the hotel's config,
//! asking the host for credentials by scheme (never by value), following pagination to the end,
//! mapping vendor states to the common enums, passing the host's operation id on every write and
//! answering `find-write` from it, and turning every vendor failure into a `pms-error`.

pub mod wire;

use jack_pms_sdk::http::path_segment as encode;
use jack_pms_sdk::prelude::*;
use wire::{Folio, ListPage, WireGuest, WireReservation, WireRoom, WriteAck};

/// The adapter type; all its behaviour is in the [`Adapter`] impl.
pub struct MockPms;

/// Largest page the mock PMS serves; we ask for it to keep the request count low.
const PAGE_SIZE: u32 = 100;
/// Safety stop: never loop forever on a PMS that keeps announcing more pages.
const MAX_PAGES: u32 = 200;

fn hotel_url(path: &str) -> Result<String, PmsError> {
    let base = config::require("baseUrl")?;
    let hotel = config::require("hotelId")?;
    Ok(format!(
        "{}/api/v1/hotels/{}{}",
        base.trim_end_matches('/'),
        encode(&hotel),
        path
    ))
}

fn get(url: String) -> Request {
    Request::get(url).credentials(CredentialScheme::ApiKeyHeader)
}

/// GET that answers `None` on 404 and parses JSON otherwise.
fn get_optional<T: serde::de::DeserializeOwned>(url: String) -> Result<Option<T>, PmsError> {
    let response = get(url).send()?;
    if response.status() == 404 {
        return Ok(None);
    }
    response.error_for_status()?.json().map(Some)
}

/// Follows `page`/`totalPages` to the end.
fn get_all_pages<T: serde::de::DeserializeOwned>(
    request: impl Fn() -> Request,
) -> Result<Vec<T>, PmsError> {
    let mut items = Vec::new();
    let mut page = 1;
    loop {
        let response = request()
            .query("page", page.to_string())
            .query("pageSize", PAGE_SIZE.to_string())
            .send()?
            .error_for_status()?;
        let body: ListPage<T> = response.json()?;
        items.extend(body.items);
        if page >= body.total_pages {
            return Ok(items);
        }
        if page >= MAX_PAGES {
            return Err(internal(format!(
                "the mock PMS announced more than {MAX_PAGES} pages; refusing to return a partial list"
            )));
        }
        page += 1;
    }
}

fn send_write<B: serde::Serialize>(
    method: Method,
    url: String,
    body: &B,
) -> Result<WriteReceipt, PmsError> {
    let response = Request::new(method, url)
        .credentials(CredentialScheme::ApiKeyHeader)
        .json(body)?
        .send()?
        .error_for_status()?;
    let ack: WriteAck = response.json()?;
    Ok(WriteReceipt {
        pms_reference: Some(ack.request_id),
    })
}

fn reservations(filter: &[(&str, String)]) -> Result<Vec<Reservation>, PmsError> {
    let url = hotel_url("/reservations")?;
    let raw: Vec<WireReservation> = get_all_pages(|| {
        filter
            .iter()
            .fold(get(url.clone()), |r, (k, v)| r.query(k, v))
    })?;
    raw.into_iter().map(WireReservation::into_common).collect()
}

impl Adapter for MockPms {
    const VENDOR: &'static str = "mock";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const OPERATIONS: &'static [Operation] = EVERY_OPERATION;

    fn health_check() -> Result<HealthStatus, PmsError> {
        let response = get(hotel_url("/ping")?).send()?.error_for_status()?;
        let ping: wire::Ping = response.json()?;
        Ok(HealthStatus {
            healthy: ping.status == "ok",
            detail: Some(format!("mock PMS {}", ping.version)),
        })
    }

    fn get_guest(identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
        let found = match identifier {
            GuestIdentifier::Id(id) => {
                get_optional::<WireGuest>(hotel_url(&format!("/guests/{}", encode(&id)))?)?
            }
            GuestIdentifier::Email(email) => first_guest(&[("email", email)])?,
            GuestIdentifier::Phone(phone) => first_guest(&[("phone", phone)])?,
            GuestIdentifier::ConfirmationNumber(number) => {
                match get_optional::<WireReservation>(hotel_url(&format!(
                    "/reservations/{}",
                    encode(&number)
                ))?)? {
                    Some(r) => get_optional::<WireGuest>(hotel_url(&format!(
                        "/guests/{}",
                        encode(&r.guest_id)
                    ))?)?,
                    None => None,
                }
            }
        };
        Ok(found.map(WireGuest::into_common))
    }

    fn search_guests(query: GuestQuery) -> Result<Vec<Guest>, PmsError> {
        let mut filter = Vec::new();
        filter.extend(query.email.map(|v| ("email", v)));
        filter.extend(query.phone.map(|v| ("phone", v)));
        filter.extend(query.name.map(|v| ("name", v)));
        if filter.is_empty() {
            return Err(invalid_request(
                "a guest search needs an email, a phone or a name",
            ));
        }
        let url = hotel_url("/guests")?;
        let raw: Vec<WireGuest> = get_all_pages(|| {
            filter
                .iter()
                .fold(get(url.clone()), |r, (k, v)| r.query(k, v))
        })?;
        Ok(raw.into_iter().map(WireGuest::into_common).collect())
    }

    fn update_guest_preferences(
        operation_id: String,
        guest_pms_id: String,
        preferences: Vec<Preference>,
    ) -> Result<WriteReceipt, PmsError> {
        let body = wire::PreferencesUpdate {
            operation_id,
            preferences: preferences
                .into_iter()
                .map(wire::WirePreference::from_common)
                .collect(),
        };
        send_write(
            Method::Put,
            hotel_url(&format!("/guests/{}/preferences", encode(&guest_pms_id)))?,
            &body,
        )
    }

    fn get_reservation(confirmation_number: String) -> Result<Option<Reservation>, PmsError> {
        get_optional::<WireReservation>(hotel_url(&format!(
            "/reservations/{}",
            encode(&confirmation_number)
        ))?)?
        .map(WireReservation::into_common)
        .transpose()
    }

    fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
        let date = Date::parse(&date)?;
        reservations(&[("arrival", date.to_string())]).map(happening)
    }

    fn get_departures(date: String) -> Result<Vec<Reservation>, PmsError> {
        let date = Date::parse(&date)?;
        reservations(&[("departure", date.to_string())]).map(happening)
    }

    fn get_in_house_guests() -> Result<Vec<Reservation>, PmsError> {
        // Guests leaving today (DUE_OUT) are still in house; the mock PMS filters one state at a time.
        let mut all = reservations(&[("state", "IN_HOUSE".to_string())])?;
        all.extend(reservations(&[("state", "DUE_OUT".to_string())])?);
        all.sort_by(|a, b| a.confirmation_number.cmp(&b.confirmation_number));
        Ok(all)
    }

    fn add_reservation_note(
        operation_id: String,
        confirmation_number: String,
        note: String,
    ) -> Result<WriteReceipt, PmsError> {
        if note.trim().is_empty() {
            return Err(invalid_request("a note cannot be empty"));
        }
        let body = wire::NoteAdd {
            operation_id,
            text: note,
        };
        send_write(
            Method::Post,
            hotel_url(&format!(
                "/reservations/{}/notes",
                encode(&confirmation_number)
            ))?,
            &body,
        )
    }

    fn update_checkout_time(
        operation_id: String,
        confirmation_number: String,
        time: String,
    ) -> Result<WriteReceipt, PmsError> {
        jack_pms_sdk::dates::parse_rfc3339_date(&time)?;
        let body = wire::CheckoutUpdate {
            operation_id,
            checkout_time: time,
        };
        send_write(
            Method::Put,
            hotel_url(&format!(
                "/reservations/{}/checkout",
                encode(&confirmation_number)
            ))?,
            &body,
        )
    }

    fn post_charge(
        operation_id: String,
        confirmation_number: String,
        charge: Charge,
    ) -> Result<WriteReceipt, PmsError> {
        let body = wire::ChargePost {
            operation_id,
            amount: charge.amount.amount,
            currency: charge.amount.currency,
            description: charge.description,
            code: charge.code,
        };
        send_write(
            Method::Post,
            hotel_url(&format!(
                "/reservations/{}/charges",
                encode(&confirmation_number)
            ))?,
            &body,
        )
    }

    fn get_balance(confirmation_number: String) -> Result<Money, PmsError> {
        let folio: Folio = get_optional(hotel_url(&format!(
            "/reservations/{}/folio",
            encode(&confirmation_number)
        ))?)?
        .ok_or(PmsError::NotFound)?;
        Ok(Money {
            amount: folio.balance.amount,
            currency: folio.balance.currency,
        })
    }

    fn get_room_status(room_number: String) -> Result<Option<RoomStatus>, PmsError> {
        get_optional::<WireRoom>(hotel_url(&format!("/rooms/{}", encode(&room_number)))?)?
            .map(WireRoom::into_common)
            .transpose()
    }

    fn get_all_room_statuses() -> Result<Vec<RoomStatus>, PmsError> {
        let url = hotel_url("/rooms")?;
        let raw: Vec<WireRoom> = get_all_pages(|| get(url.clone()))?;
        raw.into_iter().map(WireRoom::into_common).collect()
    }

    fn find_write(operation_id: String, _target: WriteTarget) -> Result<WritePresence, PmsError> {
        // The mock PMS keeps every operation id it applied, like Cloudbeds' referenceID.
        let found: Option<serde_json::Value> = get_optional(hotel_url(&format!(
            "/operations/{}",
            encode(&operation_id)
        ))?)?;
        Ok(if found.is_some() {
            WritePresence::Applied
        } else {
            WritePresence::Absent
        })
    }
}

fn first_guest(filter: &[(&str, String)]) -> Result<Option<WireGuest>, PmsError> {
    let request = filter
        .iter()
        .fold(get(hotel_url("/guests")?), |r, (k, v)| r.query(k, v))
        .query("pageSize", "1");
    let page: ListPage<WireGuest> = request.send()?.error_for_status()?.json()?;
    Ok(page.items.into_iter().next())
}

export_adapter!(MockPms);
