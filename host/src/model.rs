//! The common data model Jack sees (DESIGN §2), as JSON with camelCase field names.
//!
//! These types are the host's own: the runtime converts WIT types into them, so the API and the
//! CLI never see generated bindings. Nothing here knows about wasmtime or axum.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Ids the PMS uses for a guest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalIds {
    /// The PMS's own profile id.
    pub pms: String,
}

/// A guest preference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preference {
    /// The vendor's preference group (`PILLOW`, `FLOOR` …): 1 to 64 characters, not all white
    /// space, no control characters.
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub category: String,
    /// The preference code within its group (the same shape as `category`).
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub code: String,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A guest profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "mock:G1001", "externalIds": {"pms": "G1001"}, "firstName": "Sarah", "lastName": "Chen",
    "email": "sarah.chen@example.com", "phone": "+31612345678", "loyaltyTier": "GOLD",
    "language": "en", "vip": true,
    "preferences": [{"category": "PILLOW", "code": "FEATHER", "description": "Feather pillows"}]
}))]
pub struct Guest {
    /// `"<vendor>:<pmsId>"`.
    pub id: String,
    /// The PMS's ids for this guest.
    pub external_ids: ExternalIds,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Primary e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Primary phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Loyalty tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loyalty_tier: Option<String>,
    /// Preferred language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// VIP flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip: Option<bool>,
    /// Preferences.
    pub preferences: Vec<Preference>,
}

/// Common reservation status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Booked, not yet arrived.
    Reserved,
    /// In house.
    CheckedIn,
    /// Departed.
    CheckedOut,
    /// Cancelled.
    Cancelled,
    /// Did not arrive.
    NoShow,
}

/// A reservation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "R5001", "confirmationNumber": "CONF1001", "guestId": "mock:G1001",
    "guestName": "Sarah Chen", "status": "checked_in", "arrivalDate": "2024-01-14",
    "departureDate": "2024-01-17", "checkoutTime": "2024-01-17T11:00:00+01:00",
    "roomNumber": "101", "roomType": "KING", "adults": 2, "children": 0,
    "notes": ["Late arrival"]
}))]
pub struct Reservation {
    /// The PMS's internal reservation id.
    pub id: String,
    /// Confirmation number.
    pub confirmation_number: String,
    /// `"<vendor>:<pmsId>"` of the main guest.
    pub guest_id: String,
    /// Main guest's display name.
    pub guest_name: String,
    /// Status.
    pub status: ReservationStatus,
    /// Arrival date, hotel-local `YYYY-MM-DD`.
    pub arrival_date: String,
    /// Departure date, hotel-local `YYYY-MM-DD`.
    pub departure_date: String,
    /// Expected check-out instant (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkout_time: Option<String>,
    /// Assigned room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_number: Option<String>,
    /// Room type code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_type: Option<String>,
    /// Adults.
    pub adults: u32,
    /// Children.
    pub children: u32,
    /// Notes, oldest first.
    pub notes: Vec<String>,
}

/// Money as a decimal string and an ISO 4217 currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Money {
    /// Decimal string such as `"12.50"`.
    #[schema(example = "12.50")]
    pub amount: String,
    /// ISO 4217 code such as `"EUR"`.
    #[schema(example = "EUR")]
    pub currency: String,
}

impl Money {
    /// Checks the amount is a plain decimal string (`-`, digits, at most one `.` with up to four
    /// decimals) and the currency three upper-case letters.
    pub fn validate(&self) -> Result<(), String> {
        Decimal::parse(&self.amount)?;
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "`{}` is not an ISO 4217 currency code such as \"EUR\"",
                self.currency
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
impl Reservation {
    /// A stay for unit tests: `number` arriving and departing on the dates, in `status`.
    pub(crate) fn stay(
        number: &str,
        status: ReservationStatus,
        arrival: &str,
        departure: &str,
    ) -> Reservation {
        Reservation {
            id: number.into(),
            confirmation_number: number.into(),
            guest_id: "mock:G1".into(),
            guest_name: "Ann Lee".into(),
            status,
            arrival_date: arrival.into(),
            departure_date: departure.into(),
            checkout_time: None,
            room_number: None,
            room_type: None,
            adults: 1,
            children: 0,
            notes: vec![],
        }
    }
}

/// An exact decimal amount, in ten-thousandths (the four decimals [`Money::validate`] allows):
/// compared and summed without a float's rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decimal(i128);

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal(0);

    /// Parses `-`, up to 15 digits, and at most four decimals after a `.` (`"12.50"`).
    pub fn parse(text: &str) -> Result<Decimal, String> {
        let bad = || {
            format!(
                "`{}` is not a decimal amount such as \"12.50\"",
                crate::untrusted::escape(text, 40)
            )
        };
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        if whole.is_empty()
            || whole.len() > 15
            || fraction.len() > 4
            || (digits.contains('.') && fraction.is_empty())
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let mut value: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            value = value * 10 + i128::from(b - b'0');
        }
        for _ in fraction.len()..4 {
            value *= 10;
        }
        Ok(Decimal(if negative { -value } else { value }))
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (whole, fraction) = (abs / 10_000, abs % 10_000);
        // Two decimals unless more are significant.
        let mut text = format!("{fraction:04}");
        while text.len() > 2 && text.ends_with('0') {
            text.pop();
        }
        write!(f, "{sign}{whole}.{text}")
    }
}

/// A charge to post. Its amount must be more than zero and at most the hotel's
/// `maxChargeAmount`, in the hotel's `currency` when it has one (422 `write-refused` otherwise).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(example = json!({"amount": "12.50", "currency": "EUR", "description": "Minibar", "code": "MINIBAR"}))]
pub struct Charge {
    /// Decimal string: up to 15 digits, and up to four decimals after a `.`.
    #[schema(example = "12.50", pattern = r"^-?\d{1,15}(\.\d{1,4})?$")]
    pub amount: String,
    /// ISO 4217 code.
    #[schema(example = "EUR", pattern = "^[A-Z]{3}$")]
    pub currency: String,
    /// Text on the folio (the guest reads it): 1 to 200 characters, not all white space, no
    /// control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub description: String,
    /// Vendor transaction or article code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl Charge {
    /// The amount as [`Money`].
    pub fn money(&self) -> Money {
        Money {
            amount: self.amount.clone(),
            currency: self.currency.clone(),
        }
    }
}

/// Housekeeping status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Housekeeping {
    /// Clean.
    Clean,
    /// Dirty.
    Dirty,
    /// Inspected.
    Inspected,
    /// Needs a touch-up.
    Pickup,
    /// Out of order.
    OutOfOrder,
    /// Out of service.
    OutOfService,
}

/// The state of one room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "roomNumber": "101", "housekeeping": "clean", "occupied": true,
    "updatedAt": "2024-01-15T09:12:00Z"
}))]
pub struct RoomStatus {
    /// Room number.
    pub room_number: String,
    /// Housekeeping state.
    pub housekeeping: Housekeeping,
    /// Occupied, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupied: Option<bool>,
    /// Last change (RFC 3339), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// What an adapter reports about the PMS's health.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PmsHealth {
    /// True when the PMS answered and accepted the credentials.
    pub healthy: bool,
    /// Detail from the adapter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// How to find one guest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GuestIdentifier {
    /// PMS profile id (without the vendor prefix).
    Id(String),
    /// E-mail address.
    Email(String),
    /// Phone number.
    Phone(String),
    /// Confirmation number of one of the guest's reservations.
    ConfirmationNumber(String),
}

/// A guest search; fields that are set must all match, and at least one must be set.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, utoipa::IntoParams,
)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct GuestQuery {
    /// E-mail address (exact, case-insensitive).
    #[param(
        nullable = false,
        min_length = 1,
        pattern = r"\S",
        example = "ann.lee@example.com"
    )]
    pub email: Option<String>,
    /// Phone number.
    #[param(
        nullable = false,
        min_length = 1,
        pattern = r"\S",
        example = "+31201234567"
    )]
    pub phone: Option<String>,
    /// Name, or part of one.
    #[param(nullable = false, min_length = 1, pattern = r"\S", example = "Lee")]
    pub name: Option<String>,
}

/// What the PMS said when it accepted a write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WriteReceipt {
    /// The PMS's reference for the write, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pms_reference: Option<String>,
}

/// The write asked about by `find-write`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum WriteTarget {
    /// A note on this reservation.
    ReservationNote(String),
    /// Preferences of this guest (PMS id).
    GuestPreferences(String),
    /// A charge on this reservation.
    Charge(String),
    /// The check-out time of this reservation.
    CheckoutTime(String),
}

/// Whether a write reached the PMS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WritePresence {
    /// The PMS holds it.
    Applied,
    /// The PMS does not hold it.
    Absent,
    /// Cannot tell.
    Unknown,
}

/// What an adapter says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    /// Vendor key.
    pub vendor: String,
    /// Adapter version.
    pub adapter_version: String,
    /// Supported operations (camelCase names).
    pub operations: Vec<String>,
}

/// Why a PMS operation failed: the WIT `pms-error`, as the host's own type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PmsError {
    /// Not found.
    #[error("not found in the PMS")]
    NotFound,
    /// Credentials refused.
    #[error("the PMS refused the credentials: {0}")]
    Unauthorized(String),
    /// Rate limited by the PMS.
    #[error("the PMS is rate limiting us{}", .0.map(|ms| format!(" (retry after {ms} ms)")).unwrap_or_default())]
    RateLimited(Option<u64>),
    /// PMS unreachable or failing.
    #[error("the PMS is unavailable: {0}")]
    Unavailable(String),
    /// Invalid request.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Not supported by this vendor.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// Refused because of the target's state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else.
    #[error("adapter error: {0}")]
    Internal(String),
}

impl PmsError {
    /// The error as the host may pass it on: its text escaped and cut to
    /// [`crate::untrusted::MAX_ERROR_BYTES`] (an adapter controls it), and a `rate-limited`
    /// delay cut to `max_delay` (an adapter, or the vendor behind it, controls that too).
    pub fn contained(self, max_delay: std::time::Duration) -> PmsError {
        use crate::untrusted::error_text as t;
        match self {
            PmsError::NotFound => PmsError::NotFound,
            PmsError::Unauthorized(m) => PmsError::Unauthorized(t(&m)),
            PmsError::RateLimited(ms) => {
                let cap = u64::try_from(max_delay.as_millis()).unwrap_or(u64::MAX);
                PmsError::RateLimited(ms.map(|ms| ms.min(cap)))
            }
            PmsError::Unavailable(m) => PmsError::Unavailable(t(&m)),
            PmsError::InvalidRequest(m) => PmsError::InvalidRequest(t(&m)),
            PmsError::Unsupported(m) => PmsError::Unsupported(t(&m)),
            PmsError::Conflict(m) => PmsError::Conflict(t(&m)),
            PmsError::Internal(m) => PmsError::Internal(t(&m)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_validation() {
        let ok = |a: &str, c: &str| {
            Money {
                amount: a.into(),
                currency: c.into(),
            }
            .validate()
            .is_ok()
        };
        assert!(ok("12.50", "EUR"));
        assert!(ok("-3", "USD"));
        assert!(ok("0.1234", "JPY"));
        assert!(!ok("12.50000", "EUR"));
        assert!(!ok("1e3", "EUR"));
        assert!(!ok("12,50", "EUR"));
        assert!(!ok("", "EUR"));
        assert!(!ok(".5", "EUR"));
        assert!(!ok("12.50", "eur"));
        assert!(!ok("12.50", "EURO"));
    }

    #[test]
    fn json_shapes_are_camel_case() {
        let r = RoomStatus {
            room_number: "101".into(),
            housekeeping: Housekeeping::OutOfOrder,
            occupied: None,
            updated_at: None,
        };
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"roomNumber": "101", "housekeeping": "out_of_order"})
        );
    }
}
