//! The seed file: its JSON types, loading from disk, and validation (unique ids, known states,
//! guests that exist, well-formed amounts). Also owns the exact decimal-amount helpers, which
//! work in integer cents so money is never a float.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Reservation states the mock knows, as they appear on the wire.
pub const RESERVATION_STATES: [&str; 6] = [
    "RESERVED",
    "IN_HOUSE",
    "DUE_OUT",
    "CHECKED_OUT",
    "CANCELLED",
    "NO_SHOW",
];

/// Housekeeping states the mock knows, as they appear on the wire.
pub const HOUSEKEEPING_STATES: [&str; 6] = [
    "CLEAN",
    "DIRTY",
    "INSPECTED",
    "PICKUP",
    "OUT_OF_ORDER",
    "OUT_OF_SERVICE",
];

/// A whole seed file: the hotels the mock serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// The hotels, each with its own guests, reservations and rooms.
    pub hotels: Vec<SeedHotel>,
}

/// One hotel in the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedHotel {
    /// Hotel code used in URLs (`/api/v1/hotels/{id}/...`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// ISO 4217 currency of the hotel's folios, e.g. `EUR`.
    pub currency: String,
    /// Guest profiles.
    #[serde(default)]
    pub guests: Vec<Guest>,
    /// Reservations, with dates relative to the server's `today`.
    #[serde(default)]
    pub reservations: Vec<SeedReservation>,
    /// Rooms and their housekeeping state.
    #[serde(default)]
    pub rooms: Vec<SeedRoom>,
}

/// A guest profile; the same shape is served by `GET .../guests/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Guest {
    /// Profile id, unique within the hotel.
    pub id: String,
    /// First name.
    pub given_name: String,
    /// Last name.
    pub surname: String,
    /// Email addresses.
    #[serde(default)]
    pub emails: Vec<Email>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// Loyalty tier, e.g. `GOLD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub membership_level: Option<String>,
    /// Preferred language (BCP 47), e.g. `en`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Whether the guest is a VIP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vip: Option<bool>,
    /// Stay preferences.
    #[serde(default)]
    pub preferences: Vec<Preference>,
}

/// An email address of a guest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Email {
    /// The address.
    pub address: String,
    /// Whether this is the guest's primary address.
    #[serde(default)]
    pub primary: bool,
}

/// A phone number of a guest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Phone {
    /// The number, as written (spaces and dashes allowed).
    pub number: String,
    /// Whether this is the guest's primary number.
    #[serde(default)]
    pub primary: bool,
}

/// One guest preference; also the element of the preferences-replace request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preference {
    /// Preference group, e.g. `PILLOW`.
    pub group: String,
    /// Code within the group, e.g. `FEATHER`.
    pub code: String,
    /// Free text description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A reservation in the seed; dates are offsets from the server's `today`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedReservation {
    /// Internal reservation id, unique within the hotel.
    pub id: String,
    /// Confirmation number used in URLs, unique within the hotel.
    pub confirmation: String,
    /// Id of the booking guest; must exist in the same hotel.
    pub guest_id: String,
    /// One of [`RESERVATION_STATES`].
    pub state: String,
    /// Arrival date as days from today (negative = in the past).
    pub arrival_offset_days: i64,
    /// Length of stay; departure is arrival plus this many days (at least 1).
    pub nights: u32,
    /// Assigned room number, if any; must exist in the hotel's rooms.
    #[serde(default)]
    pub room: Option<String>,
    /// Room type code, e.g. `KING`.
    #[serde(default)]
    pub room_type: Option<String>,
    /// Number of adults.
    pub adults: u32,
    /// Number of children.
    #[serde(default)]
    pub children: u32,
    /// Existing reservation comments.
    #[serde(default)]
    pub comments: Vec<String>,
    /// Existing folio postings, in the hotel's currency.
    #[serde(default)]
    pub postings: Vec<SeedPosting>,
}

/// A folio posting in the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedPosting {
    /// Decimal amount with at most two decimals, e.g. `"45.00"` or `"-10.5"`.
    pub amount: String,
    /// What was charged.
    pub description: String,
    /// Transaction code, e.g. `RS`.
    #[serde(default)]
    pub code: Option<String>,
}

/// A room in the seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedRoom {
    /// Room number, unique within the hotel.
    pub number: String,
    /// One of [`HOUSEKEEPING_STATES`].
    pub housekeeping: String,
    /// Whether the room is occupied, if known.
    #[serde(default)]
    pub occupied: Option<bool>,
}

/// Why a seed could not be loaded or is inconsistent.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The file could not be read.
    #[error("cannot read mock PMS seed file {}: {source}", path.display())]
    Read {
        /// The seed file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid seed JSON (the serde error carries line and column).
    #[error("mock PMS seed file {} is not valid: {source}", path.display())]
    Parse {
        /// The seed file.
        path: PathBuf,
        /// The JSON error, with line and column.
        source: serde_json::Error,
    },
    /// The seed parsed but a record is wrong.
    #[error("mock PMS seed: hotel `{hotel}`, {record}: {problem}")]
    Invalid {
        /// Hotel id (or `#index` when the id itself is the problem).
        hotel: String,
        /// The offending record, e.g. ``reservation `R5001` ``.
        record: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// Reads, parses and validates a seed JSON file.
pub fn load_seed(path: &Path) -> Result<Seed, SeedError> {
    let text = std::fs::read_to_string(path).map_err(|source| SeedError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let seed: Seed = serde_json::from_str(&text).map_err(|source| SeedError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    seed.validate()?;
    Ok(seed)
}

impl Seed {
    /// Checks the seed is consistent: unique ids, existing guests and rooms, known states,
    /// well-formed amounts. The error names the hotel and record at fault.
    pub fn validate(&self) -> Result<(), SeedError> {
        let mut hotel_ids = HashSet::new();
        for (index, hotel) in self.hotels.iter().enumerate() {
            let invalid = |record: String, problem: String| SeedError::Invalid {
                hotel: if hotel.id.is_empty() {
                    format!("#{index}")
                } else {
                    hotel.id.clone()
                },
                record,
                problem,
            };
            if hotel.id.is_empty() || !hotel_ids.insert(hotel.id.as_str()) {
                return Err(invalid(
                    "hotel".into(),
                    "hotel id is empty or duplicated".into(),
                ));
            }
            if hotel.currency.len() != 3 || !hotel.currency.bytes().all(|b| b.is_ascii_uppercase())
            {
                let problem = format!("currency `{}` is not a 3-letter ISO code", hotel.currency);
                return Err(invalid("hotel".into(), problem));
            }
            hotel.validate_records(&invalid)?;
        }
        Ok(())
    }
}

impl SeedHotel {
    fn validate_records(
        &self,
        invalid: &dyn Fn(String, String) -> SeedError,
    ) -> Result<(), SeedError> {
        let mut guests = HashSet::new();
        for guest in &self.guests {
            if guest.id.is_empty() || !guests.insert(guest.id.as_str()) {
                return Err(invalid(
                    format!("guest `{}`", guest.id),
                    "id is empty or duplicated".into(),
                ));
            }
        }
        let mut rooms = HashSet::new();
        for room in &self.rooms {
            let record = format!("room `{}`", room.number);
            if room.number.is_empty() || !rooms.insert(room.number.as_str()) {
                return Err(invalid(record, "number is empty or duplicated".into()));
            }
            if !HOUSEKEEPING_STATES.contains(&room.housekeeping.as_str()) {
                let problem = format!(
                    "housekeeping `{}` is not one of {}",
                    room.housekeeping,
                    HOUSEKEEPING_STATES.join(", ")
                );
                return Err(invalid(record, problem));
            }
        }
        let (mut ids, mut confirmations) = (HashSet::new(), HashSet::new());
        for r in &self.reservations {
            let record = format!("reservation `{}`", r.id);
            let fail = |problem: String| Err(invalid(record.clone(), problem));
            if r.id.is_empty() || !ids.insert(r.id.as_str()) {
                return fail("id is empty or duplicated".into());
            }
            if r.confirmation.is_empty() || !confirmations.insert(r.confirmation.as_str()) {
                return fail(format!(
                    "confirmation `{}` is empty or duplicated",
                    r.confirmation
                ));
            }
            if !guests.contains(r.guest_id.as_str()) {
                return fail(format!(
                    "guestId `{}` is not a guest of this hotel",
                    r.guest_id
                ));
            }
            if !RESERVATION_STATES.contains(&r.state.as_str()) {
                return fail(format!(
                    "state `{}` is not one of {}",
                    r.state,
                    RESERVATION_STATES.join(", ")
                ));
            }
            if r.nights == 0 {
                return fail("nights must be at least 1".into());
            }
            if r.arrival_offset_days.unsigned_abs() > 3650 {
                return fail("arrivalOffsetDays must be within ±3650".into());
            }
            if let Some(room) = r.room.as_deref().filter(|room| !rooms.contains(room)) {
                return fail(format!("room `{room}` is not a room of this hotel"));
            }
            for posting in &r.postings {
                if let Err(problem) = parse_cents(&posting.amount) {
                    return fail(format!("posting `{}`: {problem}", posting.description));
                }
            }
        }
        Ok(())
    }
}

/// Parses a decimal amount (`"12"`, `"12.5"`, `"-3.25"`, at most two decimals) into cents.
pub(crate) fn parse_cents(amount: &str) -> Result<i64, String> {
    let bad = || format!("amount `{amount}` is not a decimal with at most 2 decimals");
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "00"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) || fraction.len() > 2 {
        return Err(bad());
    }
    let fraction = if fraction.len() == 1 {
        format!("{fraction}0")
    } else {
        fraction.to_owned()
    };
    let cents = whole
        .parse::<i64>()
        .ok()
        .and_then(|w| w.checked_mul(100))
        .zip(fraction.parse::<i64>().ok())
        .and_then(|(w, f)| w.checked_add(f))
        .ok_or_else(|| format!("amount `{amount}` is too large"))?;
    Ok(if negative { -cents } else { cents })
}

/// Formats cents as a decimal with exactly two decimals, e.g. `-50` → `"-0.50"`.
pub(crate) fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(parse_cents("12.50"), Ok(1250));
        assert_eq!(parse_cents("12.5"), Ok(1250));
        assert_eq!(parse_cents("12"), Ok(1200));
        assert_eq!(parse_cents("-0.05"), Ok(-5));
        for bad in [
            "",
            ".5",
            "1.",
            "1.234",
            "+1",
            "1e3",
            "abc",
            "1,50",
            "--1",
            "99999999999999999999",
        ] {
            assert!(parse_cents(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn amounts_format_with_two_decimals() {
        assert_eq!(format_cents(1250), "12.50");
        assert_eq!(format_cents(5), "0.05");
        assert_eq!(format_cents(-50), "-0.50");
        assert_eq!(format_cents(0), "0.00");
    }
}
