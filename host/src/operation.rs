//! The operations of the `adapter` interface: their names, whether they write, and a typed call
//! with its arguments ([`Call`]) and result ([`Outcome`]).
//!
//! One enum for all operations keeps a single call path through the runtime (limits, deadline,
//! error mapping) and gives the CLI, the API and the logs the same names.

use crate::model::{
    AdapterInfo, Charge, Guest, GuestIdentifier, GuestQuery, Money, PmsHealth, Preference,
    Reservation, RoomStatus, WritePresence, WriteReceipt, WriteTarget,
};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// One operation of `jack:pms/adapter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    /// `describe`
    Describe,
    /// `health-check`
    HealthCheck,
    /// `get-guest`
    GetGuest,
    /// `search-guests`
    SearchGuests,
    /// `update-guest-preferences`
    UpdateGuestPreferences,
    /// `get-reservation`
    GetReservation,
    /// `get-arrivals`
    GetArrivals,
    /// `get-departures`
    GetDepartures,
    /// `get-in-house-guests`
    GetInHouseGuests,
    /// `add-reservation-note`
    AddReservationNote,
    /// `update-checkout-time`
    UpdateCheckoutTime,
    /// `post-charge`
    PostCharge,
    /// `get-balance`
    GetBalance,
    /// `get-room-status`
    GetRoomStatus,
    /// `get-all-room-statuses`
    GetAllRoomStatuses,
    /// `find-write`
    FindWrite,
}

impl Operation {
    /// Every operation, in WIT order.
    pub const ALL: [Operation; 16] = [
        Operation::Describe,
        Operation::HealthCheck,
        Operation::GetGuest,
        Operation::SearchGuests,
        Operation::UpdateGuestPreferences,
        Operation::GetReservation,
        Operation::GetArrivals,
        Operation::GetDepartures,
        Operation::GetInHouseGuests,
        Operation::AddReservationNote,
        Operation::UpdateCheckoutTime,
        Operation::PostCharge,
        Operation::GetBalance,
        Operation::GetRoomStatus,
        Operation::GetAllRoomStatuses,
        Operation::FindWrite,
    ];

    /// The WIT name (`get-guest`).
    pub fn wit_name(self) -> &'static str {
        match self {
            Operation::Describe => "describe",
            Operation::HealthCheck => "health-check",
            Operation::GetGuest => "get-guest",
            Operation::SearchGuests => "search-guests",
            Operation::UpdateGuestPreferences => "update-guest-preferences",
            Operation::GetReservation => "get-reservation",
            Operation::GetArrivals => "get-arrivals",
            Operation::GetDepartures => "get-departures",
            Operation::GetInHouseGuests => "get-in-house-guests",
            Operation::AddReservationNote => "add-reservation-note",
            Operation::UpdateCheckoutTime => "update-checkout-time",
            Operation::PostCharge => "post-charge",
            Operation::GetBalance => "get-balance",
            Operation::GetRoomStatus => "get-room-status",
            Operation::GetAllRoomStatuses => "get-all-room-statuses",
            Operation::FindWrite => "find-write",
        }
    }

    /// The seed's camelCase name (`getGuest`), used in the API and the logs.
    pub fn camel_name(self) -> &'static str {
        match self {
            Operation::Describe => "describe",
            Operation::HealthCheck => "healthCheck",
            Operation::GetGuest => "getGuest",
            Operation::SearchGuests => "searchGuests",
            Operation::UpdateGuestPreferences => "updateGuestPreferences",
            Operation::GetReservation => "getReservation",
            Operation::GetArrivals => "getArrivals",
            Operation::GetDepartures => "getDepartures",
            Operation::GetInHouseGuests => "getInHouseGuests",
            Operation::AddReservationNote => "addReservationNote",
            Operation::UpdateCheckoutTime => "updateCheckoutTime",
            Operation::PostCharge => "postCharge",
            Operation::GetBalance => "getBalance",
            Operation::GetRoomStatus => "getRoomStatus",
            Operation::GetAllRoomStatuses => "getAllRoomStatuses",
            Operation::FindWrite => "findWrite",
        }
    }

    /// True for operations that change the PMS.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Operation::UpdateGuestPreferences
                | Operation::AddReservationNote
                | Operation::UpdateCheckoutTime
                | Operation::PostCharge
        )
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.camel_name())
    }
}

/// An operation name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error("unknown operation `{0}`; operations are: {list}", list = Operation::ALL.iter().map(|o| o.camel_name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownOperation(pub String);

impl FromStr for Operation {
    type Err = UnknownOperation;

    /// Accepts the camelCase name (`getGuest`) or the WIT name (`get-guest`).
    fn from_str(s: &str) -> Result<Operation, UnknownOperation> {
        Operation::ALL
            .into_iter()
            .find(|o| o.camel_name() == s || o.wit_name() == s)
            .ok_or_else(|| UnknownOperation(s.to_string()))
    }
}

/// An operation with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    /// `describe`
    Describe,
    /// `health-check`
    HealthCheck,
    /// `get-guest`
    GetGuest(GuestIdentifier),
    /// `search-guests`
    SearchGuests(GuestQuery),
    /// `update-guest-preferences`
    UpdateGuestPreferences {
        /// Host operation id.
        operation_id: String,
        /// PMS profile id.
        guest_pms_id: String,
        /// New preferences.
        preferences: Vec<Preference>,
    },
    /// `get-reservation`
    GetReservation(String),
    /// `get-arrivals` for a hotel-local date.
    GetArrivals(String),
    /// `get-departures` for a hotel-local date.
    GetDepartures(String),
    /// `get-in-house-guests`
    GetInHouseGuests,
    /// `add-reservation-note`
    AddReservationNote {
        /// Host operation id.
        operation_id: String,
        /// Confirmation number.
        confirmation_number: String,
        /// Note text.
        note: String,
    },
    /// `update-checkout-time`
    UpdateCheckoutTime {
        /// Host operation id.
        operation_id: String,
        /// Confirmation number.
        confirmation_number: String,
        /// RFC 3339 instant.
        time: String,
    },
    /// `post-charge`
    PostCharge {
        /// Host operation id.
        operation_id: String,
        /// Confirmation number.
        confirmation_number: String,
        /// The charge.
        charge: Charge,
    },
    /// `get-balance`
    GetBalance(String),
    /// `get-room-status`
    GetRoomStatus(String),
    /// `get-all-room-statuses`
    GetAllRoomStatuses,
    /// `find-write`
    FindWrite {
        /// Host operation id of the write.
        operation_id: String,
        /// What it wrote to.
        target: WriteTarget,
    },
}

impl Call {
    /// The operation this call invokes.
    pub fn operation(&self) -> Operation {
        match self {
            Call::Describe => Operation::Describe,
            Call::HealthCheck => Operation::HealthCheck,
            Call::GetGuest(_) => Operation::GetGuest,
            Call::SearchGuests(_) => Operation::SearchGuests,
            Call::UpdateGuestPreferences { .. } => Operation::UpdateGuestPreferences,
            Call::GetReservation(_) => Operation::GetReservation,
            Call::GetArrivals(_) => Operation::GetArrivals,
            Call::GetDepartures(_) => Operation::GetDepartures,
            Call::GetInHouseGuests => Operation::GetInHouseGuests,
            Call::AddReservationNote { .. } => Operation::AddReservationNote,
            Call::UpdateCheckoutTime { .. } => Operation::UpdateCheckoutTime,
            Call::PostCharge { .. } => Operation::PostCharge,
            Call::GetBalance(_) => Operation::GetBalance,
            Call::GetRoomStatus(_) => Operation::GetRoomStatus,
            Call::GetAllRoomStatuses => Operation::GetAllRoomStatuses,
            Call::FindWrite { .. } => Operation::FindWrite,
        }
    }
}

/// The result of a successful call; the variant matches the operation.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// `describe`
    Info(AdapterInfo),
    /// `health-check`
    Health(PmsHealth),
    /// `get-guest`
    Guest(Option<Guest>),
    /// `search-guests`
    Guests(Vec<Guest>),
    /// `get-reservation`
    Reservation(Option<Reservation>),
    /// `get-arrivals`, `get-departures`, `get-in-house-guests`
    Reservations(Vec<Reservation>),
    /// Any write.
    Receipt(WriteReceipt),
    /// `get-balance`
    Balance(Money),
    /// `get-room-status`
    Room(Option<RoomStatus>),
    /// `get-all-room-statuses`
    Rooms(Vec<RoomStatus>),
    /// `find-write`
    Presence(WritePresence),
}

impl Outcome {
    /// About how many bytes of memory the result holds (its strings, plus each item's fixed
    /// size): what the read cache weighs entries by.
    pub fn approximate_bytes(&self) -> usize {
        use crate::model::{Guest, Reservation, RoomStatus};
        fn opt(s: &Option<String>) -> usize {
            s.as_ref().map_or(0, String::len)
        }
        fn guest(g: &Guest) -> usize {
            std::mem::size_of::<Guest>()
                + g.id.len()
                + g.external_ids.pms.len()
                + g.first_name.len()
                + g.last_name.len()
                + opt(&g.email)
                + opt(&g.phone)
                + opt(&g.loyalty_tier)
                + opt(&g.language)
                + g.preferences
                    .iter()
                    .map(|p| 72 + p.category.len() + p.code.len() + opt(&p.description))
                    .sum::<usize>()
        }
        fn reservation(r: &Reservation) -> usize {
            std::mem::size_of::<Reservation>()
                + r.id.len()
                + r.confirmation_number.len()
                + r.guest_id.len()
                + r.guest_name.len()
                + r.arrival_date.len()
                + r.departure_date.len()
                + opt(&r.checkout_time)
                + opt(&r.room_number)
                + opt(&r.room_type)
                + r.notes.iter().map(|n| 24 + n.len()).sum::<usize>()
        }
        fn room(r: &RoomStatus) -> usize {
            std::mem::size_of::<RoomStatus>() + r.room_number.len() + opt(&r.updated_at)
        }
        std::mem::size_of::<Outcome>()
            + match self {
                Outcome::Info(i) => {
                    i.vendor.len()
                        + i.adapter_version.len()
                        + i.operations.iter().map(|o| 24 + o.len()).sum::<usize>()
                }
                Outcome::Health(h) => opt(&h.detail),
                Outcome::Guest(g) => g.as_ref().map_or(0, guest),
                Outcome::Guests(gs) => gs.iter().map(guest).sum(),
                Outcome::Reservation(r) => r.as_ref().map_or(0, reservation),
                Outcome::Reservations(rs) => rs.iter().map(reservation).sum(),
                Outcome::Receipt(r) => opt(&r.pms_reference),
                Outcome::Balance(m) => m.amount.len() + m.currency.len(),
                Outcome::Room(r) => r.as_ref().map_or(0, room),
                Outcome::Rooms(rs) => rs.iter().map(room).sum(),
                Outcome::Presence(_) => 0,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(op.camel_name().parse::<Operation>().unwrap(), op);
            assert_eq!(op.wit_name().parse::<Operation>().unwrap(), op);
        }
        let err = "getGuests".parse::<Operation>().unwrap_err().to_string();
        assert!(err.contains("getGuest,"), "{err}");
    }
}
