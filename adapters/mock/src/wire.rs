//! The mock PMS's own JSON shapes, and their mapping to the common model.

use jack_pms_sdk::prelude::*;
use serde::{Deserialize, Serialize};

/// One page of a list.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub total_pages: u32,
}

#[derive(Deserialize)]
pub struct Ping {
    pub status: String,
    pub version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteAck {
    pub request_id: String,
}

#[derive(Deserialize)]
pub struct Contact {
    #[serde(alias = "address", alias = "number")]
    pub value: String,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Deserialize, Serialize)]
pub struct WirePreference {
    pub group: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl WirePreference {
    pub fn from_common(p: Preference) -> WirePreference {
        WirePreference {
            group: p.category,
            code: p.code,
            text: p.description,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireGuest {
    pub id: String,
    pub given_name: String,
    pub surname: String,
    #[serde(default)]
    pub emails: Vec<Contact>,
    #[serde(default)]
    pub phones: Vec<Contact>,
    pub membership_level: Option<String>,
    pub language: Option<String>,
    pub vip: Option<bool>,
    #[serde(default)]
    pub preferences: Vec<WirePreference>,
}

/// The primary entry, or the first when none is marked primary.
fn primary(contacts: Vec<Contact>) -> Option<String> {
    let index = contacts.iter().position(|c| c.primary).unwrap_or(0);
    contacts.into_iter().nth(index).map(|c| c.value)
}

impl WireGuest {
    pub fn into_common(self) -> Guest {
        Guest {
            pms_id: self.id,
            first_name: self.given_name,
            last_name: self.surname,
            email: primary(self.emails),
            phone: primary(self.phones),
            loyalty_tier: self.membership_level,
            language: self.language,
            vip: self.vip,
            preferences: self
                .preferences
                .into_iter()
                .map(|p| Preference {
                    category: p.group,
                    code: p.code,
                    description: p.text,
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
pub struct Comment {
    pub text: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireReservation {
    pub id: String,
    pub confirmation: String,
    pub guest_id: String,
    pub guest_name: String,
    pub state: String,
    pub arrival: String,
    pub departure: String,
    pub checkout_time: Option<String>,
    pub room: Option<String>,
    pub room_type: Option<String>,
    pub adults: u32,
    #[serde(default)]
    pub children: u32,
    #[serde(default)]
    pub comments: Vec<Comment>,
}

impl WireReservation {
    pub fn into_common(self) -> Result<Reservation, PmsError> {
        let status = match self.state.as_str() {
            "RESERVED" | "CONFIRMED" | "DUE_IN" => ReservationStatus::Reserved,
            "IN_HOUSE" | "DUE_OUT" => ReservationStatus::CheckedIn,
            "CHECKED_OUT" => ReservationStatus::CheckedOut,
            "CANCELLED" => ReservationStatus::Cancelled,
            "NO_SHOW" => ReservationStatus::NoShow,
            other => {
                return Err(internal(format!(
                    "reservation {} has a state this adapter does not know: `{other}`",
                    self.confirmation
                )));
            }
        };
        // Validate dates so Jack never receives garbage from a broken PMS.
        Date::parse(&self.arrival)?;
        Date::parse(&self.departure)?;
        Ok(Reservation {
            id: self.id,
            confirmation_number: self.confirmation,
            guest_pms_id: self.guest_id,
            guest_name: self.guest_name,
            status,
            arrival_date: self.arrival,
            departure_date: self.departure,
            checkout_time: self.checkout_time,
            room_number: self.room,
            room_type: self.room_type,
            adults: self.adults,
            children: self.children,
            notes: self.comments.into_iter().map(|c| c.text).collect(),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireRoom {
    pub number: String,
    pub housekeeping: String,
    pub occupied: Option<bool>,
    pub updated_at: Option<String>,
}

impl WireRoom {
    pub fn into_common(self) -> Result<RoomStatus, PmsError> {
        let housekeeping = match self.housekeeping.as_str() {
            "CLEAN" => HousekeepingStatus::Clean,
            "DIRTY" => HousekeepingStatus::Dirty,
            "INSPECTED" => HousekeepingStatus::Inspected,
            "PICKUP" => HousekeepingStatus::Pickup,
            "OUT_OF_ORDER" => HousekeepingStatus::OutOfOrder,
            "OUT_OF_SERVICE" => HousekeepingStatus::OutOfService,
            other => {
                return Err(internal(format!(
                    "room {} has a housekeeping state this adapter does not know: `{other}`",
                    self.number
                )));
            }
        };
        Ok(RoomStatus {
            room_number: self.number,
            housekeeping,
            occupied: self.occupied,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Deserialize)]
pub struct WireMoney {
    pub amount: String,
    pub currency: String,
}

#[derive(Deserialize)]
pub struct Folio {
    pub balance: WireMoney,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesUpdate {
    pub operation_id: String,
    pub preferences: Vec<WirePreference>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NoteAdd {
    pub operation_id: String,
    pub text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutUpdate {
    pub operation_id: String,
    pub checkout_time: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargePost {
    pub operation_id: String,
    pub amount: String,
    pub currency: String,
    pub description: String,
    pub code: Option<String>,
}
