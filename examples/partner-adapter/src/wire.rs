//! Apaleo's JSON shapes (booking/v1, inventory/v1) and their mapping to jack-pms's common model.
//!
//! Pure functions over deserialized data: `tests/mapping.rs` runs them natively, with recorded
//! exchanges. Fields Apaleo may leave out are `Option`s or defaulted, so that a sparse answer maps
//! instead of failing; fields the mapping cannot do without (ids, status, stay dates) are required,
//! and their absence becomes `internal`, never a guess.

use jack_pms_sdk::dates;
use jack_pms_sdk::money::Amount;
use jack_pms_sdk::prelude::*;
use serde::Deserialize;

/// Marks a note this adapter appended to a reservation's `comment`, with the host's operation id,
/// so that `find-write` can tell whether the note arrived. Apaleo keeps one free-text comment per
/// reservation and no note objects, hence a marker inside the text.
pub const NOTE_MARKER: &str = "[jack:";

/// The text appended to the comment for a note written by operation `operation_id`.
pub fn note_line(note: &str, operation_id: &str) -> String {
    format!("{} {NOTE_MARKER}{operation_id}]", note.trim())
}

/// Whether `comment` holds the note written by `operation_id`.
pub fn comment_has_operation(comment: Option<&str>, operation_id: &str) -> bool {
    let needle = format!("{NOTE_MARKER}{operation_id}]");
    comment.is_some_and(|c| c.contains(&needle))
}

/// The comment after appending `line` (one note per line, oldest first).
pub fn appended_comment(existing: Option<&str>, line: &str) -> String {
    match existing.map(str::trim_end) {
        Some(text) if !text.is_empty() => format!("{text}\n{line}"),
        _ => line.to_string(),
    }
}

/// One page of `GET /booking/v1/reservations` (`count` is the total over every page).
#[derive(Debug, Deserialize)]
pub struct ReservationList {
    /// The page's reservations.
    pub reservations: Vec<ApaleoReservation>,
    /// Reservations matching the filter, over all pages.
    pub count: usize,
}

/// One page of `GET /inventory/v1/units`.
#[derive(Debug, Deserialize)]
pub struct UnitList {
    /// The page's units.
    pub units: Vec<ApaleoUnit>,
    /// Units matching the filter, over all pages.
    pub count: usize,
}

/// Apaleo's monetary value: a JSON number and a currency code.
#[derive(Debug, Clone, Deserialize)]
pub struct MonetaryValue {
    /// The amount, a JSON number (kept as a value so that `Amount` converts it exactly once).
    pub amount: serde_json::Value,
    /// ISO 4217 code.
    pub currency: String,
}

/// An embedded reference (`property`, `ratePlan`, `unitGroup`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Embedded {
    /// Apaleo id (`MUC`, `MUC-DBL`).
    pub id: String,
    /// Short code (`DBL`), on unit groups and rate plans.
    pub code: Option<String>,
    /// Display name.
    pub name: Option<String>,
}

/// The unit (room) assigned to a reservation.
#[derive(Debug, Clone, Deserialize)]
pub struct EmbeddedUnit {
    /// Apaleo id (`MUC-101`).
    pub id: String,
    /// The room's name as the hotel uses it (`101`).
    pub name: Option<String>,
}

/// A guest as Apaleo embeds it in a reservation (`primaryGuest`). Apaleo has no guest profiles of
/// its own: a guest exists only inside reservations and bookings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApaleoGuest {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name (the one name Apaleo requires).
    pub last_name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Two-letter language code.
    pub preferred_language: Option<String>,
}

impl ApaleoGuest {
    /// "First Last", or whichever of the two is present.
    pub fn display_name(&self) -> String {
        [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A reservation (`GET /booking/v1/reservations/{id}` and the items of the list).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApaleoReservation {
    /// Reservation id (`FHXZQNDK-1`): the booking id plus a running number. The guest's
    /// confirmation carries it.
    pub id: String,
    /// `Confirmed`, `InHouse`, `CheckedOut`, `Canceled` or `NoShow`.
    pub status: String,
    /// Arrival, a date-time with the property's UTC offset.
    pub arrival: String,
    /// Departure, a date-time with the property's UTC offset.
    pub departure: String,
    /// The property (hotel) the reservation belongs to.
    pub property: Option<Embedded>,
    /// The assigned unit, once one is.
    pub unit: Option<EmbeddedUnit>,
    /// The booked unit group (room type).
    pub unit_group: Option<Embedded>,
    /// Adults.
    #[serde(default)]
    pub adults: u32,
    /// One age per child.
    #[serde(default)]
    pub children_ages: Vec<u32>,
    /// The hotel's free-text comment.
    pub comment: Option<String>,
    /// What the guest wrote when booking.
    pub guest_comment: Option<String>,
    /// The channel's confirmation code (Booking.com, Expedia …).
    pub external_code: Option<String>,
    /// The main guest.
    pub primary_guest: Option<ApaleoGuest>,
    /// Balance of the reservation's folios, from the hotel's side: negative while the guest owes.
    pub balance: Option<MonetaryValue>,
}

/// Maps Apaleo's reservation status; an unknown one is an error, never a guess.
pub fn reservation_status(status: &str) -> Result<ReservationStatus, PmsError> {
    Ok(match status {
        "Confirmed" => ReservationStatus::Reserved,
        "InHouse" => ReservationStatus::CheckedIn,
        "CheckedOut" => ReservationStatus::CheckedOut,
        "Canceled" => ReservationStatus::Cancelled,
        "NoShow" => ReservationStatus::NoShow,
        other => {
            return Err(internal(format!(
                "Apaleo sent the unknown reservation status `{other}`"
            )));
        }
    })
}

/// The hotel-local date of an Apaleo date-time. Apaleo writes stay times with the property's own
/// UTC offset, so the date part is already the hotel's date.
fn local_date(field: &str, value: &str) -> Result<String, PmsError> {
    dates::parse_rfc3339_date(value)
        .map(|d| d.to_string())
        .map_err(|_| internal(format!("Apaleo sent `{value}` as the {field}")))
}

impl ApaleoReservation {
    /// The common model's reservation.
    ///
    /// The guest's PMS id is the reservation id: Apaleo keeps no guest profiles, so the guest
    /// is found again through the reservation it belongs to (see [`ApaleoReservation::guest`]).
    pub fn into_common(self) -> Result<Reservation, PmsError> {
        let status = reservation_status(&self.status)?;
        let arrival_date = local_date("arrival", &self.arrival)?;
        let departure_date = local_date("departure", &self.departure)?;
        let guest_name = self
            .primary_guest
            .as_ref()
            .map(ApaleoGuest::display_name)
            .unwrap_or_default();
        let mut notes = Vec::new();
        if let Some(text) = self.guest_comment.as_deref().map(str::trim)
            && !text.is_empty()
        {
            notes.push(text.to_string());
        }
        if let Some(comment) = &self.comment {
            notes.extend(
                comment
                    .lines()
                    .map(strip_marker)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            );
        }
        Ok(Reservation {
            confirmation_number: self.id.clone(),
            guest_pms_id: self.id.clone(),
            id: self.id,
            guest_name,
            status,
            arrival_date,
            departure_date,
            // Apaleo's departure is the expected check-out instant, offset included.
            checkout_time: Some(self.departure),
            room_number: self.unit.map(|u| u.name.unwrap_or(u.id)),
            room_type: self.unit_group.map(|g| g.code.unwrap_or(g.id)),
            adults: self.adults,
            children: u32::try_from(self.children_ages.len()).unwrap_or(u32::MAX),
            notes,
        })
    }

    /// The reservation's main guest as a common-model guest, with the reservation id as its PMS
    /// id; `None` when Apaleo has no primary guest on it.
    pub fn guest(&self) -> Option<Guest> {
        let g = self.primary_guest.as_ref()?;
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Some(Guest {
            pms_id: self.id.clone(),
            first_name: nonempty(&g.first_name).unwrap_or_default(),
            last_name: nonempty(&g.last_name).unwrap_or_default(),
            email: nonempty(&g.email),
            phone: nonempty(&g.phone),
            loyalty_tier: None,
            language: nonempty(&g.preferred_language),
            vip: None,
            preferences: vec![],
        })
    }

    /// What the guest owes: Apaleo's balance with its sign flipped (Apaleo counts it from the
    /// hotel's side, negative while charges exceed payments; the common model's open balance is
    /// positive when the guest owes).
    pub fn open_balance(&self) -> Result<Money, PmsError> {
        let balance = self.balance.as_ref().ok_or_else(|| {
            internal(format!(
                "Apaleo sent reservation {} without a balance",
                self.id
            ))
        })?;
        let amount = Amount::from_json(&balance.amount)?;
        Ok((-amount).with_currency(balance.currency.trim().to_ascii_uppercase()))
    }
}

/// A comment line without this adapter's operation marker.
fn strip_marker(line: &str) -> &str {
    let line = line.trim();
    match line.rfind(NOTE_MARKER) {
        Some(i) if line.ends_with(']') => line[..i].trim_end(),
        _ => line,
    }
}

/// The maintenance a unit is under right now.
#[derive(Debug, Clone, Deserialize)]
pub struct Maintenance {
    /// `OutOfService`, `OutOfOrder` or `OutOfInventory`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// A unit's state.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitStatus {
    /// Whether a guest occupies it.
    pub is_occupied: Option<bool>,
    /// `Clean`, `CleanToBeInspected` or `Dirty`.
    pub condition: String,
    /// The current maintenance, if any.
    pub maintenance: Option<Maintenance>,
}

/// A unit (room) of `GET /inventory/v1/units`.
#[derive(Debug, Clone, Deserialize)]
pub struct ApaleoUnit {
    /// Apaleo id (`MUC-101`).
    pub id: String,
    /// The room's name as the hotel uses it (`101`).
    pub name: String,
    /// Its state.
    pub status: UnitStatus,
}

impl ApaleoUnit {
    /// The common model's room status.
    ///
    /// A maintenance wins over the condition: `OutOfOrder` and `OutOfInventory` (the room is not
    /// sellable) read as out-of-order, `OutOfService` as out-of-service. Then the condition:
    /// `Dirty` is dirty and `CleanToBeInspected` is clean (cleaned, not yet inspected). `Clean` is
    /// the state after inspection when the property inspects rooms (setting `inspectsRooms =
    /// "true"`): then it reads as inspected; otherwise as clean.
    pub fn into_common(self, inspects_rooms: bool) -> Result<RoomStatus, PmsError> {
        let housekeeping = match (
            self.status.maintenance.as_ref().map(|m| m.kind.as_str()),
            self.status.condition.as_str(),
        ) {
            (Some("OutOfOrder" | "OutOfInventory"), _) => HousekeepingStatus::OutOfOrder,
            (Some("OutOfService"), _) => HousekeepingStatus::OutOfService,
            (Some(other), _) => {
                return Err(internal(format!(
                    "Apaleo sent the unknown maintenance type `{other}` for unit {}",
                    self.id
                )));
            }
            (None, "Dirty") => HousekeepingStatus::Dirty,
            (None, "CleanToBeInspected") => HousekeepingStatus::Clean,
            (None, "Clean") if inspects_rooms => HousekeepingStatus::Inspected,
            (None, "Clean") => HousekeepingStatus::Clean,
            (None, other) => {
                return Err(internal(format!(
                    "Apaleo sent the unknown unit condition `{other}` for unit {}",
                    self.id
                )));
            }
        };
        Ok(RoomStatus {
            room_number: self.name,
            housekeeping,
            occupied: self.status.is_occupied,
            // Apaleo's unit list does not say when the condition last changed.
            updated_at: None,
        })
    }
}

/// `GET /inventory/v1/properties/{id}`, for the health check.
#[derive(Debug, Deserialize)]
pub struct Property {
    /// Property id.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_found_and_hidden() {
        let line = note_line("  Extra towels ", "op-1");
        assert_eq!(line, "Extra towels [jack:op-1]");
        let comment = appended_comment(Some("VIP guest\n"), &line);
        assert_eq!(comment, "VIP guest\nExtra towels [jack:op-1]");
        assert!(comment_has_operation(Some(&comment), "op-1"));
        assert!(!comment_has_operation(Some(&comment), "op-2"));
        assert!(!comment_has_operation(None, "op-1"));
        assert_eq!(strip_marker("Extra towels [jack:op-1]"), "Extra towels");
        assert_eq!(strip_marker("[not ours]"), "[not ours]");
        assert_eq!(appended_comment(Some("  "), "x"), "x");
    }
}
