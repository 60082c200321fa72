//! The Mews adapter: maps Mews' Connector API (`POST {platformAddress}/api/connector/v1/…`) to
//! the common model.
//!
//! - Credentials: every request names `json-body-credentials`; the host merges `ClientToken`,
//!   `AccessToken` and `Client` into the JSON body. This adapter never sees or writes a token.
//! - Hotel-local dates become UTC intervals with the enterprise's IANA time zone
//!   (`enterpriseTimeZone`), exact on the days clocks change ([`jack_pms_sdk::tz`]).
//! - Lists follow `Limitation`/`Cursor` to the end; a 408 (Mews' answer to a heavy query) is
//!   retried with a smaller page.
//! - Errors carry Mews' `Message` and `RequestId` ([`wire::error_for`]).
//! - Writes carry the host's operation id where Mews keeps something: `ExternalIdentifier` on the
//!   order items of a charge, a trailing `[jack-op:<id>]` line on reservation notes; `find-write`
//!   reads them back.
//!
//! Settings (`config_keys` in `mews.toml`): `platformAddress` (`api.mews.com`, no scheme),
//! `serviceId` (the accommodation service), `enterpriseTimeZone` (IANA), `pricingMode`
//! (`gross` or `net`: which value `orders/add` gets). Optional: `childAgeCategoryIds`
//! (comma-separated age category ids counted as children), `reservationsPageSize` (default
//! 500), `currency` (balances converted to it), `taxCodes` (comma-separated, for charges).

pub mod wire;

/// The SDK this adapter is built on, for native users of [`wire`] (the host's benchmark).
pub use jack_pms_sdk;

use jack_pms_sdk::prelude::*;
use jack_pms_sdk::tz::{self, TimeZone};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use wire::{Limitation, Page, WireCustomer, WireReservation};

/// The adapter type; all its behaviour is in the [`Adapter`] impl.
pub struct Mews;

/// Mews' largest page.
const MAX_PAGE: u32 = 1000;
/// Default page for reservations, Mews' heaviest query (it answers 408 when too heavy).
const RESERVATIONS_PAGE: u32 = 500;
/// Smallest page a 408 shrinks to before the adapter gives up.
const MIN_PAGE: u32 = 1;
/// Safety stop: never loop forever on a PMS that keeps announcing more pages.
const MAX_PAGES: u32 = 1000;
/// Most ids Mews takes in one id filter (`CustomerIds`, `ResourceIds`, …).
const ID_BATCH: usize = 1000;

/// Which `UnitAmount` value `orders/add` gets: gross environments need `GrossValue`, net ones
/// `NetValue` (Mews' "Amount parameters").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pricing {
    /// Prices include tax.
    Gross,
    /// Prices exclude tax.
    Net,
}

impl Pricing {
    /// Parses the `pricingMode` setting.
    pub fn parse(text: &str) -> Result<Pricing, PmsError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "gross" => Ok(Pricing::Gross),
            "net" => Ok(Pricing::Net),
            other => Err(invalid_request(format!(
                "pricingMode `{other}` is neither `gross` nor `net`"
            ))),
        }
    }

    fn field(self) -> &'static str {
        match self {
            Pricing::Gross => "GrossValue",
            Pricing::Net => "NetValue",
        }
    }
}

/// The hotel's settings, read once per call.
struct Settings {
    base: String,
    service_id: String,
    tz: TimeZone,
    pricing: Pricing,
    child_categories: Vec<String>,
    reservations_page: u32,
}

fn list_setting(key: &str) -> Vec<String> {
    config::get(key)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn settings() -> Result<Settings, PmsError> {
    let address = config::require("platformAddress")?;
    let address = address.trim().trim_end_matches('/');
    if address.contains("://") || address.contains('/') {
        return Err(invalid_request(format!(
            "platformAddress `{address}` must be a host (like api.mews.com), without scheme or path"
        )));
    }
    let reservations_page = match config::get("reservationsPageSize") {
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                invalid_request(format!("reservationsPageSize `{v}` is not a number 1–1000"))
            })?,
        None => RESERVATIONS_PAGE,
    };
    Ok(Settings {
        base: format!("https://{address}/api/connector/v1"),
        service_id: config::require("serviceId")?,
        tz: TimeZone::get(&config::require("enterpriseTimeZone")?)?,
        pricing: Pricing::parse(&config::require("pricingMode")?)?,
        child_categories: list_setting("childAgeCategoryIds"),
        reservations_page,
    })
}

/// Sends one Connector API request; an error status becomes the matching `pms-error`.
fn post(s: &Settings, operation: &str, body: &Value) -> Result<Response, PmsError> {
    let response = Request::post(format!("{}/{operation}", s.base))
        .credentials(CredentialScheme::JsonBodyCredentials)
        .json(body)?
        .send()?;
    match wire::error_for(
        response.status(),
        response.bytes(),
        response.header("request-id"),
        response.retry_after_ms(),
    ) {
        Some(e) => Err(e),
        None => Ok(response),
    }
}

/// Follows `Limitation`/`Cursor` to the end, shrinking the page on 408.
fn get_all<P: Page>(
    s: &Settings,
    operation: &str,
    filter: Map<String, Value>,
    page_size: u32,
) -> Result<Vec<P::Item>, PmsError> {
    let mut count = page_size.clamp(MIN_PAGE, MAX_PAGE);
    let mut cursor: Option<String> = None;
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let mut body = filter.clone();
        let limitation = Limitation {
            count,
            cursor: cursor.clone(),
        };
        body.insert("Limitation".into(), json!(limitation));
        let response = Request::post(format!("{}/{operation}", s.base))
            .credentials(CredentialScheme::JsonBodyCredentials)
            .json(&body)?
            .send()?;
        // Mews answers 408 to a query too heavy to finish: the same page, smaller, usually passes.
        if response.status() == 408 && count > MIN_PAGE {
            let smaller = (count / 2).max(MIN_PAGE);
            jack_pms_sdk::warn!(
                "Mews timed out on {operation} with pages of {count}; retrying with {smaller}"
            );
            count = smaller;
            continue;
        }
        if let Some(e) = wire::error_for(
            response.status(),
            response.bytes(),
            response.header("request-id"),
            response.retry_after_ms(),
        ) {
            return Err(e);
        }
        let (batch, next) = wire::parse::<P>(operation, response.bytes())?.into_parts();
        let full = batch.len() >= count as usize;
        items.extend(batch);
        match next {
            Some(next) if full => {
                if cursor.as_deref() == Some(next.as_str()) {
                    return Err(internal(format!(
                        "Mews returned the same cursor twice for {operation}; refusing to loop"
                    )));
                }
                cursor = Some(next);
            }
            _ => return Ok(items),
        }
    }
    Err(internal(format!(
        "Mews announced more than {MAX_PAGES} pages for {operation}; refusing to return a partial list"
    )))
}

fn filter(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn customer_extent() -> Value {
    json!({ "Customers": true, "Documents": false, "Addresses": false })
}

fn customers(s: &Settings, mut f: Map<String, Value>) -> Result<Vec<WireCustomer>, PmsError> {
    f.insert("Extent".into(), customer_extent());
    get_all::<wire::CustomersPage>(s, "customers/getAll", f, MAX_PAGE)
}

fn customers_by_id(s: &Settings, ids: &BTreeSet<&str>) -> Result<Vec<WireCustomer>, PmsError> {
    let ids: Vec<&str> = ids.iter().copied().collect();
    let mut found = Vec::new();
    for chunk in ids.chunks(ID_BATCH) {
        found.extend(customers(s, filter(json!({ "CustomerIds": chunk })))?);
    }
    Ok(found)
}

fn reservations_raw(
    s: &Settings,
    mut f: Map<String, Value>,
) -> Result<Vec<WireReservation>, PmsError> {
    f.insert("ServiceIds".into(), json!([s.service_id]));
    get_all::<wire::ReservationsPage>(s, "reservations/getAll/2023-06-06", f, s.reservations_page)
}

/// Reservations with what the common model needs from elsewhere: guest names (customers), room
/// numbers (resources) and notes (service order notes), each fetched once for the whole list.
fn reservations(s: &Settings, f: Map<String, Value>) -> Result<Vec<Reservation>, PmsError> {
    let list = reservations_raw(s, f)?;
    if list.is_empty() {
        return Ok(Vec::new());
    }
    let accounts: BTreeSet<&str> = list
        .iter()
        .filter_map(|r| r.account_id.as_deref())
        .collect();
    let rooms: Vec<&str> = list
        .iter()
        .filter_map(|r| r.assigned_resource_id.as_deref())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
    let customers = customers_by_id(s, &accounts)?;
    let mut resources = Vec::new();
    for chunk in rooms.chunks(ID_BATCH) {
        resources.extend(get_all::<wire::ResourcesPage>(
            s,
            "resources/getAll",
            filter(
                json!({ "ResourceIds": chunk, "Extent": { "Resources": true, "Inactive": true } }),
            ),
            MAX_PAGE,
        )?);
    }
    let mut notes = Vec::new();
    for chunk in ids.chunks(ID_BATCH) {
        notes.extend(get_all::<wire::NotesPage>(
            s,
            "serviceOrderNotes/getAll",
            filter(json!({ "ServiceOrderIds": chunk })),
            MAX_PAGE,
        )?);
    }
    wire::Context::new(customers, resources, notes, &s.tz, &s.child_categories).reservations(list)
}

/// The reservation with confirmation number `number`, unmapped (for writes and lookups).
fn find_reservation(s: &Settings, number: &str) -> Result<Option<WireReservation>, PmsError> {
    let found = reservations_raw(s, filter(json!({ "Numbers": [number] })))?;
    Ok(found.into_iter().find(|r| r.number == number))
}

fn require_reservation(s: &Settings, number: &str) -> Result<WireReservation, PmsError> {
    find_reservation(s, number)?.ok_or(PmsError::NotFound)
}

fn phone_unsupported() -> PmsError {
    PmsError::Unsupported(
        "Mews cannot search customers by phone: customers/getAll and customers/search filter by \
         id, e-mail, name or loyalty code only, and this adapter does not scan every customer"
            .into(),
    )
}

fn receipt(response: &Response, reference: Option<String>) -> WriteReceipt {
    WriteReceipt {
        pms_reference: reference.or_else(|| response.header("request-id").map(str::to_string)),
    }
}

/// Splits a name query into Mews' `FirstNames`/`LastNames` filters: one word is a last name,
/// more words are "first … last".
fn name_filter(name: &str, f: &mut Map<String, Value>) {
    let words: Vec<&str> = name.split_whitespace().collect();
    match words.split_last() {
        Some((last, [])) => {
            f.insert("LastNames".into(), json!([last]));
        }
        Some((last, first)) => {
            f.insert("FirstNames".into(), json!([first.join(" ")]));
            f.insert("LastNames".into(), json!([last]));
        }
        None => {}
    }
}

impl Adapter for Mews {
    const VENDOR: &'static str = "mews";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");
    const OPERATIONS: &'static [Operation] = EVERY_OPERATION;

    fn health_check() -> Result<HealthStatus, PmsError> {
        let s = settings()?;
        post(
            &s,
            "resources/getAll",
            &json!({ "Extent": { "Resources": true }, "Limitation": { "Count": 1 } }),
        )?;
        Ok(HealthStatus {
            healthy: true,
            detail: Some(format!(
                "Mews Connector API answered; time zone {}",
                s.tz.name()
            )),
        })
    }

    fn get_guest(identifier: GuestIdentifier) -> Result<Option<Guest>, PmsError> {
        let s = settings()?;
        let found = match identifier {
            GuestIdentifier::Id(id) => customers(&s, filter(json!({ "CustomerIds": [id] })))?
                .into_iter()
                .find(|c| c.id == id),
            GuestIdentifier::Email(email) => customers(&s, filter(json!({ "Emails": [email] })))?
                .into_iter()
                .next(),
            GuestIdentifier::Phone(_) => return Err(phone_unsupported()),
            GuestIdentifier::ConfirmationNumber(number) => {
                match find_reservation(&s, &number)?.and_then(|r| r.account_id) {
                    Some(account) => customers(&s, filter(json!({ "CustomerIds": [account] })))?
                        .into_iter()
                        .find(|c| c.id == account),
                    None => None,
                }
            }
        };
        Ok(found.map(wire::guest))
    }

    fn search_guests(query: GuestQuery) -> Result<Vec<Guest>, PmsError> {
        if query.phone.is_some() {
            return Err(phone_unsupported());
        }
        let mut f = Map::new();
        if let Some(email) = query.email.filter(|e| !e.trim().is_empty()) {
            f.insert("Emails".into(), json!([email.trim()]));
        }
        if let Some(name) = query.name.filter(|n| !n.trim().is_empty()) {
            name_filter(&name, &mut f);
        }
        if f.is_empty() {
            return Err(invalid_request("a guest search needs an email or a name"));
        }
        let s = settings()?;
        Ok(customers(&s, f)?.into_iter().map(wire::guest).collect())
    }

    fn update_guest_preferences(
        _operation_id: String,
        guest_pms_id: String,
        preferences: Vec<Preference>,
    ) -> Result<WriteReceipt, PmsError> {
        let mut classifications = Vec::new();
        let mut dietary = Vec::new();
        for p in preferences {
            match p.category.as_str() {
                wire::category::CLASSIFICATION => classifications.push(p.code),
                wire::category::DIETARY => dietary.push(p.description.unwrap_or(p.code)),
                wire::category::SPACE_FEATURE => {
                    return Err(PmsError::Unsupported(
                        "Mews does not let integrations set PreferredSpaceFeatures (read-only)"
                            .into(),
                    ));
                }
                other => {
                    return Err(PmsError::Unsupported(format!(
                        "preference category `{other}` has no Mews field; use {} or {}",
                        wire::category::CLASSIFICATION,
                        wire::category::DIETARY
                    )));
                }
            }
        }
        let dietary = dietary.join("; ");
        if dietary.chars().count() > 255 {
            return Err(PmsError::Unsupported(
                "Mews keeps at most 255 characters of dietary requirements".into(),
            ));
        }
        let s = settings()?;
        let body = json!({
            "CustomerId": guest_pms_id,
            "Classifications": classifications,
            "DietaryRequirements": dietary,
        });
        let response = post(&s, "customers/update", &body)?;
        // The answer is the customer; reading it proves Mews understood the update.
        let updated: wire::CustomerUpdated = wire::parse("customers/update", response.bytes())?;
        Ok(receipt(&response, Some(updated.id)))
    }

    fn get_reservation(confirmation_number: String) -> Result<Option<Reservation>, PmsError> {
        let s = settings()?;
        let list = reservations(&s, filter(json!({ "Numbers": [confirmation_number] })))?;
        Ok(list
            .into_iter()
            .find(|r| r.confirmation_number == confirmation_number))
    }

    fn get_arrivals(date: String) -> Result<Vec<Reservation>, PmsError> {
        let s = settings()?;
        let day = s.tz.day_utc(Date::parse(&date)?)?;
        reservations(
            &s,
            filter(json!({
                "ScheduledStartUtc": { "StartUtc": day.start_utc, "EndUtc": day.end_utc },
                "States": ["Confirmed", "Started"],
            })),
        )
    }

    fn get_departures(date: String) -> Result<Vec<Reservation>, PmsError> {
        let s = settings()?;
        let day = s.tz.day_utc(Date::parse(&date)?)?;
        reservations(
            &s,
            filter(json!({
                "ScheduledEndUtc": { "StartUtc": day.start_utc, "EndUtc": day.end_utc },
                "States": ["Started", "Processed"],
            })),
        )
    }

    fn get_in_house_guests() -> Result<Vec<Reservation>, PmsError> {
        let s = settings()?;
        let now = tz::now_utc();
        // Checked in and active now; a one-minute window because Start == End means equality.
        let later = tz::add_seconds(&now, 60)?;
        reservations(
            &s,
            filter(json!({
                "CollidingUtc": { "StartUtc": now, "EndUtc": later },
                "States": ["Started"],
            })),
        )
    }

    fn add_reservation_note(
        operation_id: String,
        confirmation_number: String,
        note: String,
    ) -> Result<WriteReceipt, PmsError> {
        if note.trim().is_empty() {
            return Err(invalid_request("a note cannot be empty"));
        }
        let s = settings()?;
        let reservation = require_reservation(&s, &confirmation_number)?;
        let body = json!({
            "ServiceOrderNotes": [{
                "ServiceOrderId": reservation.id,
                "Text": jack_pms_sdk::notes::with_reference(&note, &operation_id),
            }]
        });
        let response = post(&s, "serviceOrderNotes/add", &body)?;
        let added: wire::NotesAdded = wire::parse("serviceOrderNotes/add", response.bytes())?;
        let id = added.notes.into_iter().next().map(|n| n.id);
        Ok(receipt(&response, id))
    }

    fn update_checkout_time(
        _operation_id: String,
        confirmation_number: String,
        time: String,
    ) -> Result<WriteReceipt, PmsError> {
        let end = tz::to_utc(&time)?;
        let s = settings()?;
        let reservation = require_reservation(&s, &confirmation_number)?;
        let body = json!({
            "ReservationId": reservation.id,
            "EndUtc": end,
            "ChargeCancellationFee": false,
        });
        let response = post(&s, "reservations/updateInterval", &body)?;
        Ok(receipt(&response, None))
    }

    fn post_charge(
        operation_id: String,
        confirmation_number: String,
        charge: Charge,
    ) -> Result<WriteReceipt, PmsError> {
        let amount = Amount::parse(&charge.amount.amount)?;
        let currency = charge.amount.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(invalid_request(format!(
                "`{}` is not an ISO 4217 currency code",
                charge.amount.currency
            )));
        }
        if charge.description.trim().is_empty() {
            return Err(invalid_request("a charge needs a description"));
        }
        let s = settings()?;
        let reservation = require_reservation(&s, &confirmation_number)?;
        let account = reservation.account_id.ok_or_else(|| {
            internal(format!(
                "Mews reservation {confirmation_number} has no owner to charge"
            ))
        })?;
        let mut unit = Map::new();
        unit.insert("Currency".into(), json!(currency));
        unit.insert(s.pricing.field().into(), json!(amount.to_f64()));
        let tax_codes = list_setting("taxCodes");
        if !tax_codes.is_empty() {
            unit.insert("TaxCodes".into(), json!(tax_codes));
        }
        let mut item = Map::new();
        item.insert("Name".into(), json!(charge.description));
        item.insert("UnitCount".into(), json!(1));
        item.insert("UnitAmount".into(), Value::Object(unit));
        item.insert("ExternalIdentifier".into(), json!(operation_id));
        if let Some(code) = charge.code.filter(|c| !c.trim().is_empty()) {
            item.insert("AccountingCategoryId".into(), json!(code));
        }
        let body = json!({
            "ServiceId": s.service_id,
            "AccountId": account,
            "LinkedReservationId": reservation.id,
            "Items": [Value::Object(item)],
        });
        let response = post(&s, "orders/add", &body)?;
        let added: wire::OrderAdded = wire::parse("orders/add", response.bytes())?;
        Ok(receipt(&response, Some(added.order_id)))
    }

    fn get_balance(confirmation_number: String) -> Result<Money, PmsError> {
        let s = settings()?;
        let reservation = require_reservation(&s, &confirmation_number)?;
        let account = reservation.account_id.clone().ok_or_else(|| {
            internal(format!(
                "Mews reservation {confirmation_number} has no owner account"
            ))
        })?;
        // Mews keeps no balance: what is owed is the open order items minus the open payments
        // (negative amounts, so both are summed) of the owner's account, less what belongs to
        // the account's other stays: items of their service orders, payments made towards them.
        // Product orders (charges, Jack's included) carry their own order id; one linked to no
        // other stay counts here.
        let currency = config::get("currency");
        let mut f = filter(json!({ "AccountIds": [&account], "AccountingStates": ["Open"] }));
        if let Some(c) = &currency {
            f.insert("Currency".into(), json!(c));
        }
        let other_stays: BTreeSet<String> =
            reservations_raw(&s, filter(json!({ "AccountIds": [&account] })))?
                .into_iter()
                .map(|r| r.id)
                .filter(|id| *id != reservation.id)
                .collect();
        let elsewhere =
            |id: &Option<String>| id.as_ref().is_some_and(|id| other_stays.contains(id));
        let items: Vec<wire::WireOrderItem> =
            get_all::<wire::OrderItemsPage>(&s, "orderItems/getAll", f.clone(), MAX_PAGE)?
                .into_iter()
                .filter(|i| !elsewhere(&i.service_order_id))
                .collect();
        let payments: Vec<wire::WirePayment> =
            get_all::<wire::PaymentsPage>(&s, "payments/getAll", f, MAX_PAGE)?
                .into_iter()
                .filter(|p| !elsewhere(&p.reservation_id))
                .collect();
        let mut total = Amount::ZERO;
        let mut seen: Option<String> = currency;
        let amounts = items
            .iter()
            .filter(|i| i.accounting_state.as_deref().is_none_or(|a| a == "Open"))
            .map(|i| &i.amount)
            .chain(
                payments
                    .iter()
                    .filter(|p| p.accounting_state.as_deref().is_none_or(|a| a == "Open"))
                    .map(|p| &p.amount),
            );
        for amount in amounts {
            match &seen {
                Some(c) if !c.eq_ignore_ascii_case(&amount.currency) => {
                    return Err(internal(format!(
                        "Mews sent open items in {c} and {}; set the hotel's `currency` to have them converted",
                        amount.currency
                    )));
                }
                Some(_) => {}
                None => seen = Some(amount.currency.clone()),
            }
            total = total + amount.gross()?;
        }
        // ISO 4217 "XXX" (no currency) when there is nothing open and no currency is configured.
        Ok(total.with_currency(seen.unwrap_or_else(|| "XXX".into())))
    }

    fn get_room_status(room_number: String) -> Result<Option<RoomStatus>, PmsError> {
        let s = settings()?;
        let found = get_all::<wire::ResourcesPage>(
            &s,
            "resources/getAll",
            filter(
                json!({ "Names": [room_number], "Extent": { "Resources": true, "Inactive": false } }),
            ),
            MAX_PAGE,
        )?;
        found
            .into_iter()
            .find(|r| r.name == room_number && wire::is_room(r))
            .map(wire::room_status)
            .transpose()
    }

    fn get_all_room_statuses() -> Result<Vec<RoomStatus>, PmsError> {
        let s = settings()?;
        let found = get_all::<wire::ResourcesPage>(
            &s,
            "resources/getAll",
            filter(json!({ "Extent": { "Resources": true, "Inactive": false } })),
            MAX_PAGE,
        )?;
        found
            .into_iter()
            .filter(wire::is_room)
            .map(wire::room_status)
            .collect()
    }

    fn find_write(operation_id: String, target: WriteTarget) -> Result<WritePresence, PmsError> {
        let s = settings()?;
        let present = |yes: bool| {
            if yes {
                WritePresence::Applied
            } else {
                WritePresence::Absent
            }
        };
        match target {
            WriteTarget::ReservationNote(number) => {
                let Some(reservation) = find_reservation(&s, &number)? else {
                    return Ok(WritePresence::Absent);
                };
                let notes = get_all::<wire::NotesPage>(
                    &s,
                    "serviceOrderNotes/getAll",
                    filter(json!({ "ServiceOrderIds": [reservation.id] })),
                    MAX_PAGE,
                )?;
                Ok(present(notes.iter().any(|n| {
                    jack_pms_sdk::notes::has_reference(&n.text, &operation_id)
                })))
            }
            WriteTarget::Charge(number) => {
                let Some(account) = find_reservation(&s, &number)?.and_then(|r| r.account_id)
                else {
                    return Ok(WritePresence::Absent);
                };
                let items = get_all::<wire::OrderItemsPage>(
                    &s,
                    "orderItems/getAll",
                    filter(json!({ "AccountIds": [account] })),
                    MAX_PAGE,
                )?;
                let found = items
                    .iter()
                    .any(|i| i.external_identifier.as_deref() == Some(operation_id.as_str()));
                Ok(present(found))
            }
            // Both are "set to this value" writes: sending one again leaves Mews in the same
            // state whether or not the first attempt landed, so resending is always safe.
            WriteTarget::CheckoutTime(_) | WriteTarget::GuestPreferences(_) => {
                Ok(WritePresence::Absent)
            }
        }
    }
}

export_adapter!(Mews);
