//! The Cloudbeds adapter: maps Cloudbeds API v1.2/v1.3 (`https://api.cloudbeds.com/api/v1.x/`)
//! to the common model.
//!
//! What Cloudbeds is like, and what this adapter does about it (vendor-api NOTES §3):
//! - RPC-style methods; reads take query parameters, writes are
//!   `application/x-www-form-urlencoded` (arrays in PHP bracket form, `items[0][itemName]`).
//! - Failures often come back as HTTP 200 with `{"success": false, "message": …}`: every answer
//!   goes through [`wire::Envelope::checked`], and the message is carried in the `pms-error`.
//! - The API key travels in `x-api-key`, set by the host (`api-key-header`); the adapter never
//!   sees it. The property is named in every call (`propertyID`) from the `propertyId` setting.
//! - Lists page with `pageNumber`/`pageSize`; this adapter follows them to the end.
//! - Charges go through `postCustomItem` with `referenceID` = the host's operation id, which
//!   Cloudbeds uses to refuse duplicates, so a replayed write can never post twice
//!   (`chargeMode: adjustment` uses `postAdjustment` instead, which has no such reference).
//!
//! Settings (`cloudbeds.toml` lists them):
//! - `propertyId` (required): the Cloudbeds property id.
//! - `apiVersion` (required): `v1.3` or `v1.2`.
//! - `currency`: the property's ISO 4217 currency; read from `getHotelDetails` when not set.
//! - `chargeMode`: `customItem` (default) or `adjustment`.
//! - `chargeItemCategory`: `itemCategoryName` for custom items (optional).
//! - `adjustmentType`: `postAdjustment`'s `type` (`product` by default; `rate`, `fee`, `tax`).
//! - `adjustmentItemId`: `postAdjustment`'s `itemID` (optional).
//! - `preferencesCustomField`: the guest custom field that holds preferences; without it,
//!   `update-guest-preferences` answers `unsupported` (Cloudbeds has no preferences field).

pub mod mapping;
pub mod wire;

/// The SDK this adapter is built on, for native users of [`mapping`] (the host's benchmark).
pub use jack_pms_sdk;

use jack_pms_sdk::prelude::*;
use wire::{Envelope, Ignored, WireAdjustment, WireHotel, WireReservation, WireSoldItem};

/// The adapter type; all its behaviour is in the [`Adapter`] impl.
pub struct Cloudbeds;

/// The only origin Cloudbeds serves its API from (the manifest allows exactly this one).
const ORIGIN: &str = "https://api.cloudbeds.com";
/// getReservations and getGuestList serve at most 100 per page.
const PAGE_SIZE: u32 = 100;
/// getHousekeepingStatus serves up to 5000 per page: one request for most hotels.
const HOUSEKEEPING_PAGE_SIZE: u32 = 5000;
/// Safety stop: never loop forever on an API that keeps announcing more.
const MAX_PAGES: u32 = 200;

fn base_url() -> Result<String, PmsError> {
    let version = config::require("apiVersion")?;
    if version != "v1.2" && version != "v1.3" {
        return Err(invalid_request(format!(
            "`apiVersion` must be v1.2 or v1.3, not `{version}`"
        )));
    }
    Ok(format!("{ORIGIN}/api/{version}"))
}

fn property_id() -> Result<String, PmsError> {
    config::require("propertyId")
}

/// A GET of `method` with the property set, under the name the spec declares for it
/// (`propertyIDs` on getGuestList, which takes several; `propertyID` elsewhere).
fn get(method: &str) -> Result<Request, PmsError> {
    let name = match method {
        "getGuestList" => "propertyIDs",
        _ => "propertyID",
    };
    Ok(Request::get(format!("{}/{method}", base_url()?))
        .credentials(CredentialScheme::ApiKeyHeader)
        .query(name, property_id()?))
}

/// Sends and returns the body of a 2xx answer; any other status becomes a `pms-error` with
/// Cloudbeds' message.
fn send(request: Request) -> Result<Response, PmsError> {
    let response = request.send()?;
    if response.is_success() {
        Ok(response)
    } else {
        Err(mapping::http_failure(
            response.status(),
            response.bytes(),
            response.retry_after_ms(),
        ))
    }
}

/// A form-encoded write of `method` with `propertyID` first.
fn write(method: Method, name: &str, fields: &[(String, String)]) -> Result<Response, PmsError> {
    let mut form = vec![("propertyID".to_string(), property_id()?)];
    form.extend(fields.iter().cloned());
    send(
        Request::new(method, format!("{}/{name}", base_url()?))
            .credentials(CredentialScheme::ApiKeyHeader)
            .form(&form),
    )
}

fn field(k: &str, v: impl Into<String>) -> (String, String) {
    (k.to_string(), v.into())
}

/// Pages through a list call. `page` maps one body to (items, raw row count, announced total).
fn all_pages<T>(
    request: impl Fn() -> Result<Request, PmsError>,
    page_size: u32,
    page: impl Fn(&[u8]) -> Result<(Vec<T>, usize, Option<u64>), PmsError>,
) -> Result<Vec<T>, PmsError> {
    let mut items = Vec::new();
    let mut rows_seen: u64 = 0;
    for number in 1..=MAX_PAGES {
        let response = send(
            request()?
                .query("pageNumber", number.to_string())
                .query("pageSize", page_size.to_string()),
        )?;
        let (mut batch, rows, total) = page(response.bytes())?;
        rows_seen += rows as u64;
        items.append(&mut batch);
        let done = match total {
            Some(total) => rows_seen >= total || rows == 0,
            // Without a total, a short page is the last one.
            None => rows < page_size as usize,
        };
        if done {
            return Ok(items);
        }
    }
    Err(internal(format!(
        "Cloudbeds announced more than {MAX_PAGES} pages; refusing to return a partial list"
    )))
}

fn reservations(filter: &[(&str, String)]) -> Result<Vec<Reservation>, PmsError> {
    all_pages(
        || {
            Ok(filter
                .iter()
                .fold(get("getReservations")?, |r, (k, v)| r.query(k, v))
                .query("includeAllRooms", "true"))
        },
        PAGE_SIZE,
        |body| {
            let (items, total) = mapping::reservations_page(body)?;
            let n = items.len();
            Ok((items, n, total))
        },
    )
}

fn fetch_reservation(number: &str) -> Result<Option<WireReservation>, PmsError> {
    let response = send(get("getReservation")?.query("reservationID", number))?;
    mapping::reservation_answer(response.bytes())
}

fn fetch_notes(number: &str) -> Result<Vec<wire::WireNote>, PmsError> {
    let response = send(get("getReservationNotes")?.query("reservationID", number))?;
    mapping::notes(response.bytes())
}

fn fetch_guest(id: &str) -> Result<Option<Guest>, PmsError> {
    let response = send(get("getGuest")?.query("guestID", id))?;
    match mapping::guest_answer(response.bytes())? {
        Some(raw) => mapping::guest(
            id.to_string(),
            raw,
            config::get("preferencesCustomField").as_deref(),
        )
        .map(Some),
        None => Ok(None),
    }
}

fn guest_list(filter: &[(&str, String)], first_only: bool) -> Result<Vec<Guest>, PmsError> {
    let request = || {
        Ok(filter
            .iter()
            .fold(get("getGuestList")?, |r, (k, v)| r.query(k, v))
            .query("includeGuestInfo", "true"))
    };
    if first_only {
        let response = send(request()?.query("pageNumber", "1").query("pageSize", "1"))?;
        return Ok(mapping::guest_list_page(response.bytes())?.0);
    }
    let mut guests: Vec<Guest> = Vec::new();
    for g in all_pages(request, PAGE_SIZE, mapping::guest_list_page)? {
        // The same guest can come back on two pages (one row per reservation).
        if !guests.iter().any(|x| x.pms_id == g.pms_id) {
            guests.push(g);
        }
    }
    Ok(guests)
}

/// The property's currency: the `currency` setting, or getHotelDetails.
fn currency() -> Result<String, PmsError> {
    if let Some(c) = config::get("currency") {
        return Ok(c);
    }
    let response = send(get("getHotelDetails")?)?;
    let hotel: WireHotel =
        mapping::parse(response.bytes(), "getHotelDetails")?.into_data("hotel")?;
    hotel
        .property_currency
        .and_then(|c| c.currency_code)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| internal("Cloudbeds' getHotelDetails names no property currency"))
}

impl Adapter for Cloudbeds {
    const VENDOR: &'static str = "cloudbeds";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const OPERATIONS: &'static [Operation] = EVERY_OPERATION;

    fn health_check() -> Result<HealthStatus, PmsError> {
        let response = send(get("getHotelDetails")?)?;
        let wire::Obj(hotel): wire::Obj<WireHotel> =
            mapping::parse(response.bytes(), "getHotelDetails")?.into_data("hotel")?;
        Ok(HealthStatus {
            healthy: true,
            detail: Some(format!(
                "Cloudbeds {}: {}",
                config::get("apiVersion").unwrap_or_default(),
                hotel.property_name.unwrap_or_else(|| "property".into())
            )),
        })
    }

    fn get_guest(identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
        let id = match identifier {
            GuestIdentifier::Id(id) => Some(id),
            GuestIdentifier::Email(email) => guest_list(&[("guestEmail", email)], true)?
                .into_iter()
                .next()
                .map(|g| g.pms_id),
            GuestIdentifier::Phone(phone) => guest_list(&[("guestPhone", phone)], true)?
                .into_iter()
                .next()
                .map(|g| g.pms_id),
            GuestIdentifier::ConfirmationNumber(number) => match fetch_reservation(&number)? {
                Some(r) => Some(mapping::reservation(r, Vec::new())?.guest_pms_id)
                    .filter(|id| !id.is_empty()),
                None => None,
            },
        };
        match id {
            Some(id) => fetch_guest(&id),
            None => Ok(None),
        }
    }

    fn search_guests(query: GuestQuery) -> Result<Vec<Guest>, PmsError> {
        let mut filter = Vec::new();
        filter.extend(query.email.map(|v| ("guestEmail", v)));
        filter.extend(query.phone.map(|v| ("guestPhone", v)));
        if let Some(name) = query
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            match name.split_once(' ') {
                Some((first, last)) => {
                    filter.push(("guestFirstName", first.trim().to_string()));
                    filter.push(("guestLastName", last.trim().to_string()));
                }
                None => filter.push(("guestLastName", name.to_string())),
            }
        }
        if filter.is_empty() {
            return Err(invalid_request(
                "a guest search needs an email, a phone or a name",
            ));
        }
        guest_list(&filter, false)
    }

    fn update_guest_preferences(
        _operation_id: String,
        guest_pms_id: String,
        preferences: Vec<Preference>,
    ) -> Result<WriteReceipt, PmsError> {
        let Some(custom_field) = config::get("preferencesCustomField") else {
            return Err(PmsError::Unsupported(
                "Cloudbeds has no guest preferences; set `preferencesCustomField` to the guest \
                 custom field that should hold them"
                    .into(),
            ));
        };
        let value = mapping::encode_preferences(&preferences)?;
        let response = write(
            Method::Put,
            "putGuest",
            &[
                field("guestID", guest_pms_id),
                field("guestCustomFields[0][customFieldName]", custom_field),
                field("guestCustomFields[0][customFieldValue]", value),
            ],
        )?;
        let _: Envelope<Ignored> =
            mapping::parse::<Ignored>(response.bytes(), "putGuest")?.checked()?;
        Ok(WriteReceipt {
            pms_reference: response.header("x-request-id").map(str::to_string),
        })
    }

    fn get_reservation(confirmation_number: String) -> Result<Option<Reservation>, PmsError> {
        let Some(raw) = fetch_reservation(&confirmation_number)? else {
            return Ok(None);
        };
        // Mapped before the notes are fetched: a reservation this adapter cannot read fails as
        // such, whatever the notes call says.
        let mut reservation = mapping::reservation(raw, Vec::new())?;
        reservation.notes = mapping::note_texts(&fetch_notes(&confirmation_number)?);
        Ok(Some(reservation))
    }

    fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
        let date = Date::parse(&date)?.to_string();
        // Cloudbeds lists cancelled and no-show reservations for the date too.
        reservations(&[("checkInFrom", date.clone()), ("checkInTo", date)]).map(happening)
    }

    fn get_departures(date: String) -> Result<Vec<Reservation>, PmsError> {
        let date = Date::parse(&date)?.to_string();
        reservations(&[("checkOutFrom", date.clone()), ("checkOutTo", date)]).map(happening)
    }

    fn get_in_house_guests() -> Result<Vec<Reservation>, PmsError> {
        reservations(&[("status", "checked_in".to_string())])
    }

    fn add_reservation_note(
        operation_id: String,
        confirmation_number: String,
        note: String,
    ) -> Result<WriteReceipt, PmsError> {
        if note.trim().is_empty() {
            return Err(invalid_request("a note cannot be empty"));
        }
        let response = write(
            Method::Post,
            "postReservationNote",
            &[
                field("reservationID", confirmation_number),
                field(
                    "reservationNote",
                    jack_pms_sdk::notes::with_reference(&note, &operation_id),
                ),
            ],
        )?;
        let ack = mapping::parse::<Ignored>(response.bytes(), "postReservationNote")?.checked()?;
        Ok(WriteReceipt {
            pms_reference: ack.reservation_note_id,
        })
    }

    fn update_checkout_time(
        _operation_id: String,
        confirmation_number: String,
        time: String,
    ) -> Result<WriteReceipt, PmsError> {
        // Cloudbeds keeps a check-out date per reservation, no time: the date of the instant
        // as written (its own offset, i.e. the hotel's local date) is what it can store.
        let date = jack_pms_sdk::dates::parse_rfc3339_date(&time)?;
        let response = write(
            Method::Put,
            "putReservation",
            &[
                field("reservationID", confirmation_number),
                field("checkoutDate", date.to_string()),
            ],
        )?;
        mapping::parse::<Ignored>(response.bytes(), "putReservation")?.checked()?;
        Ok(WriteReceipt {
            pms_reference: response.header("x-request-id").map(str::to_string),
        })
    }

    fn post_charge(
        operation_id: String,
        confirmation_number: String,
        charge: Charge,
    ) -> Result<WriteReceipt, PmsError> {
        let amount = Amount::parse(&charge.amount.amount)?;
        if charge.description.trim().is_empty() {
            return Err(invalid_request("a charge needs a description"));
        }
        if let Some(currency) = config::get("currency")
            && !currency.eq_ignore_ascii_case(&charge.amount.currency)
        {
            return Err(invalid_request(format!(
                "this property posts in {currency}, not {}",
                charge.amount.currency
            )));
        }
        let mode = config::get("chargeMode").unwrap_or_else(|| "customItem".into());
        match mode.as_str() {
            "customItem" => {
                let mut fields = vec![
                    field("reservationID", confirmation_number),
                    field("referenceID", operation_id.clone()),
                    field(
                        "items[0][appItemID]",
                        mapping::app_item_id(charge.code.as_deref(), &charge.description),
                    ),
                    field("items[0][itemName]", charge.description.trim()),
                    field("items[0][itemQuantity]", "1"),
                    field("items[0][itemPrice]", amount.to_string()),
                    field("items[0][itemNote]", format!("jack-op:{operation_id}")),
                ];
                if let Some(sku) = charge.code.as_deref().filter(|c| !c.trim().is_empty()) {
                    fields.push(field("items[0][itemSKU]", sku));
                }
                if let Some(category) = config::get("chargeItemCategory") {
                    fields.push(field("items[0][itemCategoryName]", category));
                }
                let response = write(Method::Post, "postCustomItem", &fields)?;
                let wire::Obj(sold): wire::Obj<WireSoldItem> =
                    mapping::parse(response.bytes(), "postCustomItem")?.into_data("sold item")?;
                if let Some(notice) = sold.notice.as_deref().filter(|n| !n.is_empty()) {
                    // The referenceID was used before: the charge is already on the folio.
                    jack_pms_sdk::info!(
                        "postCustomItem: Cloudbeds already holds operation {operation_id}: {notice}"
                    );
                }
                Ok(WriteReceipt {
                    pms_reference: sold.transaction_id.or(sold.sold_product_id),
                })
            }
            "adjustment" => {
                let mut fields = vec![
                    field("reservationID", confirmation_number),
                    field(
                        "type",
                        config::get("adjustmentType").unwrap_or_else(|| "product".into()),
                    ),
                    field("amount", amount.to_string()),
                    field(
                        "notes",
                        jack_pms_sdk::notes::with_reference(
                            charge.description.trim(),
                            &operation_id,
                        ),
                    ),
                ];
                if let Some(item) = config::get("adjustmentItemId") {
                    fields.push(field("itemID", item));
                }
                let response = write(Method::Post, "postAdjustment", &fields)?;
                let wire::Obj(adjustment): wire::Obj<WireAdjustment> =
                    mapping::parse(response.bytes(), "postAdjustment")?.into_data("adjustment")?;
                Ok(WriteReceipt {
                    pms_reference: adjustment.adjustment_id,
                })
            }
            other => Err(invalid_request(format!(
                "`chargeMode` must be customItem or adjustment, not `{other}`"
            ))),
        }
    }

    fn get_balance(confirmation_number: String) -> Result<Money, PmsError> {
        let raw = fetch_reservation(&confirmation_number)?.ok_or(PmsError::NotFound)?;
        mapping::balance(&raw, &currency()?)
    }

    fn get_room_status(room_number: String) -> Result<Option<RoomStatus>, PmsError> {
        // getHousekeepingStatus has no room filter: read all and pick the room.
        Ok(Self::get_all_room_statuses()?
            .into_iter()
            .find(|r| r.room_number == room_number))
    }

    fn get_all_room_statuses() -> Result<Vec<RoomStatus>, PmsError> {
        all_pages(
            || get("getHousekeepingStatus"),
            HOUSEKEEPING_PAGE_SIZE,
            mapping::housekeeping_page,
        )
    }

    fn find_write(operation_id: String, target: WriteTarget) -> Result<WritePresence, PmsError> {
        match target {
            WriteTarget::ReservationNote(number) => {
                let notes = match fetch_notes(&number) {
                    Err(PmsError::NotFound) => return Ok(WritePresence::Absent),
                    other => other?,
                };
                let found = notes.iter().any(|n| {
                    n.reservation_note
                        .as_deref()
                        .is_some_and(|t| jack_pms_sdk::notes::has_reference(t, &operation_id))
                });
                Ok(if found {
                    WritePresence::Applied
                } else {
                    WritePresence::Absent
                })
            }
            WriteTarget::Charge(_) => {
                if config::get("chargeMode").is_some_and(|m| m == "adjustment") {
                    // postAdjustment keeps no reference and v1.x cannot list adjustments.
                    Ok(WritePresence::Unknown)
                } else {
                    // Cloudbeds cannot list custom items, but the resend carries the same
                    // referenceID, which Cloudbeds refuses to post twice ("notice"): sending
                    // again is the read-back, and it cannot double the charge.
                    Ok(WritePresence::Absent)
                }
            }
            // Both writes set a value (the check-out date, the preferences field) rather than
            // add one: applying them again leaves the same state, so a resend is safe.
            WriteTarget::CheckoutTime(_) | WriteTarget::GuestPreferences(_) => {
                Ok(WritePresence::Absent)
            }
        }
    }
}

export_adapter!(Cloudbeds);
