//! Mews Connector API JSON shapes (as in Mews' documented examples) and their pure parse and
//! mapping functions. Nothing here touches the host: the benchmark runs these natively.
//!
//! Every field the adapter does not need is ignored, and every field Mews documents as optional
//! or sends as `null` is an `Option`, so a PMS that adds fields never breaks the adapter; a body
//! that misses a required one becomes `internal` naming the problem, never a trap.

use jack_pms_sdk::prelude::*;
use jack_pms_sdk::tz::TimeZone;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashMap;

/// A `null` list is an empty list (Mews sends `null` for lists it did not fill).
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Parses a Mews response body, naming the operation when it cannot be read.
pub fn parse<T: DeserializeOwned>(operation: &str, body: &[u8]) -> Result<T, PmsError> {
    serde_json::from_slice(body).map_err(|e| {
        internal(format!(
            "Mews answered {operation} with a body this adapter cannot read: {e}"
        ))
    })
}

/// One page of a paginated `getAll`: its items and the cursor for the next page.
pub trait Page: DeserializeOwned {
    /// The item type.
    type Item;
    /// The items and the cursor.
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>);
}

macro_rules! page {
    ($name:ident, $field:literal, $item:ty) => {
        #[doc = concat!("A page of `", $field, "`.")]
        #[derive(Debug, Deserialize)]
        pub struct $name {
            #[doc = concat!("The `", $field, "` of this page.")]
            #[serde(rename = $field, default, deserialize_with = "null_as_empty")]
            pub items: Vec<$item>,
            /// Id of the last item: where the next page starts; `null` when there is no data.
            #[serde(rename = "Cursor", default)]
            pub cursor: Option<String>,
        }
        impl Page for $name {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>) {
                (self.items, self.cursor)
            }
        }
    };
}

page!(ReservationsPage, "Reservations", WireReservation);
page!(CustomersPage, "Customers", WireCustomer);
page!(ResourcesPage, "Resources", WireResource);
page!(NotesPage, "ServiceOrderNotes", WireNote);
page!(OrderItemsPage, "OrderItems", WireOrderItem);
page!(PaymentsPage, "Payments", WirePayment);

/// Mews' error body (`Message` required, `RequestId` optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireError {
    /// What went wrong.
    pub message: Option<String>,
    /// Mews' id of the request, for their support.
    pub request_id: Option<String>,
}

/// Maps a Mews error answer to a `pms-error`, carrying `Message` and `RequestId` (from the body,
/// or the `Request-Id` header). `None` for 2xx.
pub fn error_for(
    status: u16,
    body: &[u8],
    request_id_header: Option<&str>,
    retry_after_ms: Option<u64>,
) -> Option<PmsError> {
    if (200..300).contains(&status) {
        return None;
    }
    let parsed: WireError = serde_json::from_slice(body).unwrap_or_default();
    let message = parsed.message.unwrap_or_else(|| {
        let text: String = String::from_utf8_lossy(body).chars().take(200).collect();
        if text.trim().is_empty() {
            "no message".into()
        } else {
            text.trim().to_string()
        }
    });
    let request_id = parsed
        .request_id
        .or_else(|| request_id_header.map(str::to_string));
    let text = match request_id {
        Some(id) => format!("Mews {status}: {message} (RequestId {id})"),
        None => format!("Mews {status}: {message}"),
    };
    Some(match status {
        400 | 413 => PmsError::InvalidRequest(text),
        401 => PmsError::Unauthorized(text),
        // 403 is a business rule Mews wants shown to the user (not a credential problem).
        403 | 409 => PmsError::Conflict(text),
        // 404 means a wrong URL at Mews: the platform address or the adapter is wrong.
        404 => PmsError::Internal(format!("{text}: check the hotel's platformAddress")),
        408 => PmsError::Unavailable(text),
        429 => PmsError::RateLimited(retry_after_ms),
        500..=599 => PmsError::Unavailable(text),
        _ => PmsError::Internal(text),
    })
}

/// `PersonCounts[]` of a reservation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PersonCount {
    /// Age category.
    pub age_category_id: Option<String>,
    /// Persons of that category.
    #[serde(default)]
    pub count: u32,
}

/// A reservation (ver 2023-06-06).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireReservation {
    /// Reservation (service order) id.
    pub id: String,
    /// Confirmation number.
    pub number: String,
    /// Service order state.
    pub state: String,
    /// The owner (main guest) customer id.
    pub account_id: Option<String>,
    /// Scheduled arrival instant.
    pub scheduled_start_utc: Option<String>,
    /// Scheduled departure instant.
    pub scheduled_end_utc: Option<String>,
    /// Start (older field, kept as a fallback).
    pub start_utc: Option<String>,
    /// End (older field, kept as a fallback).
    pub end_utc: Option<String>,
    /// Assigned room.
    pub assigned_resource_id: Option<String>,
    /// Requested room category.
    pub requested_resource_category_id: Option<String>,
    /// Why it was cancelled.
    pub cancellation_reason: Option<String>,
    /// Persons per age category.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub person_counts: Vec<PersonCount>,
}

/// A customer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireCustomer {
    /// Customer id.
    pub id: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name (required by Mews, tolerated missing).
    pub last_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// The language the customer chose.
    pub preferred_language_code: Option<String>,
    /// The language Mews derived.
    pub language_code: Option<String>,
    /// Classifications (`VeryImportant`, `Returning`, …).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub classifications: Vec<String>,
    /// Room preferences (read-only in Mews).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub preferred_space_features: Vec<String>,
    /// Free-text dietary requirements.
    pub dietary_requirements: Option<String>,
}

/// A resource (room, bed, object).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireResource {
    /// Resource id.
    pub id: String,
    /// Room number.
    pub name: String,
    /// Housekeeping state.
    pub state: String,
    /// Whether still in use.
    pub is_active: Option<bool>,
    /// Last change.
    pub updated_utc: Option<String>,
    /// Space, Object or Person.
    pub data: Option<WireResourceData>,
}

/// `Data` of a resource.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireResourceData {
    /// `Space`, `Object` or `Person`.
    pub discriminator: Option<String>,
}

/// A service order (reservation) note.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireNote {
    /// Note id.
    pub id: String,
    /// Reservation id.
    pub order_id: Option<String>,
    /// Text.
    #[serde(default)]
    pub text: String,
    /// When written.
    pub created_utc: Option<String>,
}

/// An amount (`Currency`, `NetValue`, `GrossValue`; numbers).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireAmount {
    /// ISO 4217.
    pub currency: String,
    /// Without tax.
    pub net_value: Option<serde_json::Value>,
    /// With tax.
    pub gross_value: Option<serde_json::Value>,
}

impl WireAmount {
    /// The gross value (what the guest pays), or the net one when Mews gave no gross.
    pub fn gross(&self) -> Result<Amount, PmsError> {
        match self.gross_value.as_ref().or(self.net_value.as_ref()) {
            Some(v) => Amount::from_json(v),
            None => Err(internal("Mews sent an amount without a value")),
        }
    }
}

/// An order item (a charge on a bill).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireOrderItem {
    /// Item id.
    pub id: String,
    /// Reservation (or product order) id.
    pub service_order_id: Option<String>,
    /// Our operation id, on items this adapter posted.
    pub external_identifier: Option<String>,
    /// Signed amount (negative: rebate).
    pub amount: WireAmount,
    /// `Open`, `Closed`, `Inactive`, `Canceled`.
    pub accounting_state: Option<String>,
}

/// A payment.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WirePayment {
    /// Payment id.
    pub id: String,
    /// Signed amount (payments are negative).
    pub amount: WireAmount,
    /// `Open`, `Closed`, …
    pub accounting_state: Option<String>,
    /// The reservation the payment was made towards, if any.
    pub reservation_id: Option<String>,
}

/// `orders/add` answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderAdded {
    /// The new order's id.
    pub order_id: String,
}

/// `serviceOrderNotes/add` answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotesAdded {
    /// The notes written.
    #[serde(
        rename = "ServiceOrderNotes",
        default,
        deserialize_with = "null_as_empty"
    )]
    pub notes: Vec<WireNote>,
}

/// `customers/update` answer: the customer.
pub type CustomerUpdated = WireCustomer;

/// A `Limitation` of a paginated request.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Limitation {
    /// Page size (1–1000).
    pub count: u32,
    /// Where to continue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

// ---- mapping ----------------------------------------------------------------------------------

/// Mews' service order state → the common status.
pub fn status(
    state: &str,
    cancellation_reason: Option<&str>,
) -> Result<ReservationStatus, PmsError> {
    Ok(match state {
        "Inquired" | "Confirmed" | "Optional" | "Requested" => ReservationStatus::Reserved,
        "Started" => ReservationStatus::CheckedIn,
        "Processed" => ReservationStatus::CheckedOut,
        "Canceled" if cancellation_reason == Some("NoShow") => ReservationStatus::NoShow,
        "Canceled" => ReservationStatus::Cancelled,
        other => {
            return Err(internal(format!(
                "Mews sent a reservation state this adapter does not know: `{other}`"
            )));
        }
    })
}

/// Mews' resource state → the common housekeeping status (NOTES §4; Mews has no Pickup).
pub fn housekeeping(state: &str) -> Result<HousekeepingStatus, PmsError> {
    Ok(match state {
        "Clean" => HousekeepingStatus::Clean,
        "Dirty" => HousekeepingStatus::Dirty,
        "Inspected" => HousekeepingStatus::Inspected,
        "OutOfService" => HousekeepingStatus::OutOfService,
        "OutOfOrder" => HousekeepingStatus::OutOfOrder,
        other => {
            return Err(internal(format!(
                "Mews sent a resource state this adapter does not know: `{other}`"
            )));
        }
    })
}

/// Whether a resource is a room (a `Space`); beds and objects are not rooms.
pub fn is_room(resource: &WireResource) -> bool {
    resource.is_active != Some(false)
        && resource
            .data
            .as_ref()
            .and_then(|d| d.discriminator.as_deref())
            .is_none_or(|d| d == "Space")
}

/// A resource → the common room status.
pub fn room_status(resource: WireResource) -> Result<RoomStatus, PmsError> {
    Ok(RoomStatus {
        housekeeping: housekeeping(&resource.state)?,
        room_number: resource.name,
        // Occupancy lives in resources/getOccupancyState, which this adapter does not call.
        occupied: None,
        updated_at: resource.updated_utc,
    })
}

/// Preference categories this adapter reads and writes.
pub mod category {
    /// `Classifications[]` (settable).
    pub const CLASSIFICATION: &str = "CLASSIFICATION";
    /// `DietaryRequirements` (settable, free text).
    pub const DIETARY: &str = "DIETARY";
    /// `PreferredSpaceFeatures[]` (read-only in Mews).
    pub const SPACE_FEATURE: &str = "SPACE_FEATURE";
}

/// A customer → the common guest.
pub fn guest(c: WireCustomer) -> Guest {
    let vip = c
        .classifications
        .iter()
        .any(|k| k == "VeryImportant" || k == "Important");
    let mut preferences: Vec<Preference> = c
        .classifications
        .into_iter()
        .map(|code| Preference {
            category: category::CLASSIFICATION.into(),
            code,
            description: None,
        })
        .collect();
    preferences.extend(
        c.preferred_space_features
            .into_iter()
            .map(|code| Preference {
                category: category::SPACE_FEATURE.into(),
                code,
                description: None,
            }),
    );
    if let Some(text) = c.dietary_requirements.filter(|t| !t.trim().is_empty()) {
        preferences.push(Preference {
            category: category::DIETARY.into(),
            code: text.clone(),
            description: Some(text),
        });
    }
    Guest {
        pms_id: c.id,
        first_name: c.first_name.unwrap_or_default(),
        last_name: c.last_name.unwrap_or_default(),
        email: c.email.filter(|e| !e.is_empty()),
        phone: c.phone.filter(|p| !p.is_empty()),
        loyalty_tier: None,
        language: c.preferred_language_code.or(c.language_code),
        vip: Some(vip),
        preferences,
    }
}

/// What a reservation list needs beside the reservations: the customers, rooms and notes they
/// point at, the hotel's time zone and which age categories count as children.
pub struct Context<'a> {
    /// Customers by id.
    pub customers: HashMap<String, WireCustomer>,
    /// Room numbers by resource id.
    pub rooms: HashMap<String, String>,
    /// Notes by reservation id, oldest first.
    pub notes: HashMap<String, Vec<String>>,
    /// The enterprise's time zone.
    pub tz: &'a TimeZone,
    /// Age category ids counted as children.
    pub child_categories: &'a [String],
}

impl<'a> Context<'a> {
    /// Builds the lookups from the fetched lists.
    pub fn new(
        customers: Vec<WireCustomer>,
        resources: Vec<WireResource>,
        notes: Vec<WireNote>,
        tz: &'a TimeZone,
        child_categories: &'a [String],
    ) -> Context<'a> {
        let mut by_order: HashMap<String, Vec<(Option<String>, String)>> = HashMap::new();
        for n in notes {
            if let Some(order) = n.order_id {
                by_order.entry(order).or_default().push((
                    n.created_utc,
                    jack_pms_sdk::notes::strip_reference(&n.text).to_string(),
                ));
            }
        }
        let notes = by_order
            .into_iter()
            .map(|(k, mut v)| {
                // RFC 3339 UTC strings sort chronologically.
                v.sort_by(|a, b| a.0.cmp(&b.0));
                (k, v.into_iter().map(|(_, t)| t).collect())
            })
            .collect();
        Context {
            customers: customers.into_iter().map(|c| (c.id.clone(), c)).collect(),
            rooms: resources.into_iter().map(|r| (r.id, r.name)).collect(),
            notes,
            tz,
            child_categories,
        }
    }

    /// One reservation → the common model.
    pub fn reservation(&self, r: WireReservation) -> Result<Reservation, PmsError> {
        let start = r
            .scheduled_start_utc
            .as_deref()
            .or(r.start_utc.as_deref())
            .ok_or_else(|| internal(format!("Mews reservation {} has no start", r.number)))?;
        let end = r
            .scheduled_end_utc
            .as_deref()
            .or(r.end_utc.as_deref())
            .ok_or_else(|| internal(format!("Mews reservation {} has no end", r.number)))?;
        let arrival = self.tz.local_date(start)?;
        let departure = self.tz.local_date(end)?;
        let (mut adults, mut children) = (0u32, 0u32);
        for p in &r.person_counts {
            let child = p
                .age_category_id
                .as_ref()
                .is_some_and(|id| self.child_categories.contains(id));
            if child {
                children = children.saturating_add(p.count);
            } else {
                adults = adults.saturating_add(p.count);
            }
        }
        let customer = r.account_id.as_ref().and_then(|id| self.customers.get(id));
        let guest_name = customer
            .map(|c| {
                let first = c.first_name.as_deref().unwrap_or_default();
                let last = c.last_name.as_deref().unwrap_or_default();
                format!("{first} {last}").trim().to_string()
            })
            .unwrap_or_default();
        Ok(Reservation {
            status: status(&r.state, r.cancellation_reason.as_deref())?,
            arrival_date: arrival.to_string(),
            departure_date: departure.to_string(),
            checkout_time: Some(end.to_string()),
            room_number: r
                .assigned_resource_id
                .as_ref()
                .and_then(|id| self.rooms.get(id).cloned()),
            room_type: r.requested_resource_category_id,
            adults,
            children,
            notes: self.notes.get(&r.id).cloned().unwrap_or_default(),
            guest_pms_id: r.account_id.unwrap_or_default(),
            guest_name,
            confirmation_number: r.number,
            id: r.id,
        })
    }

    /// Every reservation → the common model, in Mews' order.
    pub fn reservations(&self, list: Vec<WireReservation>) -> Result<Vec<Reservation>, PmsError> {
        list.into_iter().map(|r| self.reservation(r)).collect()
    }
}

/// The whole read path of a reservation list, from the bodies Mews sent: a reservations page,
/// the customers, resources and notes pages it refers to. What the benchmark compares with the
/// component (which does the same plus the requests).
pub fn map_reservation_bodies(
    reservations: &[u8],
    customers: &[u8],
    resources: &[u8],
    notes: &[u8],
    tz: &TimeZone,
    child_categories: &[String],
) -> Result<Vec<Reservation>, PmsError> {
    let (list, _) = parse::<ReservationsPage>("reservations/getAll", reservations)?.into_parts();
    let (customers, _) = parse::<CustomersPage>("customers/getAll", customers)?.into_parts();
    let (resources, _) = parse::<ResourcesPage>("resources/getAll", resources)?.into_parts();
    let (notes, _) = parse::<NotesPage>("serviceOrderNotes/getAll", notes)?.into_parts();
    Context::new(customers, resources, notes, tz, child_categories).reservations(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESERVATIONS: &str = include_str!(
        "../../../tests/vendor-api/mews/examples/reservations-getAll-2023-06-06.response.json"
    );
    const CUSTOMERS: &str =
        include_str!("../../../tests/vendor-api/mews/examples/customers-getAll.response.json");
    const RESOURCES: &str =
        include_str!("../../../tests/vendor-api/mews/examples/resources-getAll.response.json");
    const NOTES: &str = include_str!(
        "../../../tests/vendor-api/mews/examples/serviceOrderNotes-getAll.response.json"
    );

    #[test]
    fn the_documented_examples_map() {
        let tz = TimeZone::get("Europe/Prague").unwrap();
        let list = map_reservation_bodies(
            RESERVATIONS.as_bytes(),
            CUSTOMERS.as_bytes(),
            RESOURCES.as_bytes(),
            NOTES.as_bytes(),
            &tz,
            &["ab58c939-be30-4a60-8f75-ae1600c60c9f".to_string()],
        )
        .unwrap();
        let r = &list[0];
        assert_eq!(r.confirmation_number, "52");
        assert_eq!(r.status, ReservationStatus::Reserved);
        assert_eq!(r.guest_name, "John Smith");
        assert_eq!(r.guest_pms_id, "fadd5bb6-b428-45d5-94f8-fd0d89fece6d");
        assert_eq!(r.arrival_date, "2023-04-23");
        assert_eq!(r.departure_date, "2023-04-25");
        assert_eq!(r.room_number.as_deref(), Some("101"));
        assert_eq!((r.adults, r.children), (2, 2));
        assert_eq!(r.checkout_time.as_deref(), Some("2023-04-25T12:00:00Z"));
    }

    #[test]
    fn customers_map_with_preferences() {
        let (customers, cursor) = parse::<CustomersPage>("c", CUSTOMERS.as_bytes())
            .unwrap()
            .into_parts();
        assert!(cursor.is_some());
        let g = guest(customers.into_iter().next().unwrap());
        assert_eq!(
            (g.first_name.as_str(), g.last_name.as_str()),
            ("John", "Smith")
        );
        assert_eq!(g.language.as_deref(), Some("en-GB"));
        assert_eq!(g.vip, Some(false));
        assert!(
            g.preferences
                .iter()
                .any(|p| p.category == category::SPACE_FEATURE && p.code == "OceanView")
        );
    }

    #[test]
    fn rooms_map_and_beds_are_not_rooms() {
        let (resources, _) = parse::<ResourcesPage>("r", RESOURCES.as_bytes())
            .unwrap()
            .into_parts();
        let rooms: Vec<RoomStatus> = resources
            .into_iter()
            .filter(is_room)
            .map(|r| room_status(r).unwrap())
            .collect();
        assert_eq!(rooms.len(), 2);
        assert_eq!(rooms[0].housekeeping, HousekeepingStatus::Clean);
        assert_eq!(rooms[1].housekeeping, HousekeepingStatus::Dirty);
        assert!(housekeeping("Pickup").is_err());
    }

    #[test]
    fn errors_carry_message_and_request_id() {
        let e = error_for(
            403,
            br#"{"Message":"Reservation is closed.","RequestId":"r-1"}"#,
            None,
            None,
        )
        .unwrap();
        assert!(
            matches!(&e, PmsError::Conflict(m) if m.contains("Reservation is closed.") && m.contains("r-1")),
            "{e:?}"
        );
        let e = error_for(401, b"", Some("hdr-9"), None).unwrap();
        assert!(
            matches!(&e, PmsError::Unauthorized(m) if m.contains("hdr-9")),
            "{e:?}"
        );
        assert_eq!(
            error_for(429, b"{}", None, Some(3000)),
            Some(PmsError::RateLimited(Some(3000)))
        );
        assert!(error_for(200, b"", None, None).is_none());
    }

    #[test]
    fn malformed_bodies_are_internal_errors() {
        let tz = TimeZone::get("UTC").unwrap();
        for bad in [&b"{"[..], b"\"text\"", br#"{"Reservations":[{"Id":1}]}"#] {
            let e = map_reservation_bodies(bad, b"{}", b"{}", b"{}", &tz, &[]).unwrap_err();
            assert!(matches!(e, PmsError::Internal(_)), "{e:?}");
        }
        let odd = br#"{"Reservations":[{"Id":"x","Number":"1","State":"Teleported","ScheduledStartUtc":"2024-01-01T00:00:00Z","ScheduledEndUtc":"2024-01-02T00:00:00Z"}],"Cursor":"x"}"#;
        let e = map_reservation_bodies(odd, b"{}", b"{}", b"{}", &tz, &[]).unwrap_err();
        assert!(
            matches!(&e, PmsError::Internal(m) if m.contains("Teleported")),
            "{e:?}"
        );
    }
}
