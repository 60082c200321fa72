//! Cloudbeds API v1.2/v1.3 JSON shapes (`pms-v1.3-openapi.yaml`), read leniently.
//!
//! Cloudbeds publishes no example payloads and its schemas mark nothing as required, so every
//! field is optional here; numbers that the spec types as strings (`adults`, `children`) are
//! accepted either way. The envelope is always `{ success, data, message }`, and failures often
//! come back as HTTP 200 with `success: false`: [`Envelope::into_data`] is the one place that
//! turns that into a [`PmsError`].

use jack_pms_sdk::PmsError;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use std::collections::BTreeMap;
use std::fmt;

/// The v1.x response envelope around `data`.
#[derive(Deserialize, Debug)]
pub struct Envelope<T> {
    /// Whether Cloudbeds completed the request (a boolean; tolerated as `"true"`/`"false"`).
    #[serde(default, deserialize_with = "lenient")]
    pub success: Option<bool>,
    /// The payload (absent on failures and on some writes).
    #[serde(default = "none")]
    pub data: Option<T>,
    /// The error text when `success` is false.
    #[serde(default)]
    pub message: Option<String>,
    /// Results in this page (list calls).
    #[serde(default, deserialize_with = "lenient")]
    pub count: Option<u64>,
    /// Results for the whole query (list calls).
    #[serde(default, deserialize_with = "lenient")]
    pub total: Option<u64>,
    /// postReservationNote's id, returned beside `data`.
    #[serde(default, rename = "reservationNoteID", deserialize_with = "lenient")]
    pub reservation_note_id: Option<String>,
}

fn none<T>() -> Option<T> {
    None
}

impl<T> Envelope<T> {
    /// Checks `success` and returns the whole envelope, or the vendor's refusal as a
    /// [`PmsError`] carrying Cloudbeds' `message`.
    pub fn checked(self) -> Result<Envelope<T>, PmsError> {
        match self.success {
            Some(true) => Ok(self),
            Some(false) => Err(crate::mapping::refusal(
                self.message.as_deref().unwrap_or(""),
            )),
            None => Err(PmsError::Internal(
                "Cloudbeds answered without a `success` flag; refusing to guess whether it worked"
                    .into(),
            )),
        }
    }

    /// Checks `success` and returns `data`, which must be present.
    pub fn into_data(self, what: &str) -> Result<T, PmsError> {
        self.checked()?.data.ok_or_else(|| {
            PmsError::Internal(format!("Cloudbeds reported success but sent no {what}"))
        })
    }
}

/// A room of a reservation (`assigned[]`/`unassigned[]` of getReservation, `rooms[]` of
/// getReservations with `includeAllRooms`).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireRoomStay {
    /// Room name as the hotel numbers it ("101").
    #[serde(default, deserialize_with = "lenient")]
    pub room_name: Option<String>,
    /// Room type name.
    #[serde(default, deserialize_with = "lenient")]
    pub room_type_name: Option<String>,
    /// Short room type name.
    #[serde(default, deserialize_with = "lenient")]
    pub room_type_name_short: Option<String>,
    /// Adults in this room.
    #[serde(default, deserialize_with = "lenient")]
    pub adults: Option<u64>,
    /// Children in this room.
    #[serde(default, deserialize_with = "lenient")]
    pub children: Option<u64>,
    /// `cancelled`, `in_house`, `checked_out`, `not_checked_in` (getReservations rooms).
    #[serde(default, deserialize_with = "lenient")]
    pub room_status: Option<String>,
}

/// One entry of a reservation's `guestList` map.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireReservationGuest {
    /// Guest id.
    #[serde(default, rename = "guestID", deserialize_with = "lenient")]
    pub guest_id: Option<String>,
    /// Given name.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_first_name: Option<String>,
    /// Family name.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_last_name: Option<String>,
    /// Whether this is the reservation's main guest.
    #[serde(default, deserialize_with = "lenient")]
    pub is_main_guest: Option<bool>,
    /// The room this guest is in.
    #[serde(default, deserialize_with = "lenient")]
    pub room_name: Option<String>,
}

/// A reservation as getReservation, getReservations and putReservation send it, plus the field
/// names of the seed's example (`checkIn`, `checkOut`, `roomNumber`, `guestFirstName`,
/// `guestLastName`), which older integrations and the seed use.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireReservation {
    /// Reservation id: also the confirmation number guests see.
    #[serde(default, rename = "reservationID", deserialize_with = "lenient")]
    pub reservation_id: Option<String>,
    /// `confirmed`, `not_confirmed`, `canceled`, `checked_in`, `checked_out`, `no_show`.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<String>,
    /// Main guest id (getReservations).
    #[serde(default, rename = "guestID", deserialize_with = "lenient")]
    pub guest_id: Option<String>,
    /// Main guest's display name.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_name: Option<String>,
    /// Main guest's given name (seed shape).
    #[serde(default, deserialize_with = "lenient")]
    pub guest_first_name: Option<String>,
    /// Main guest's family name (seed shape).
    #[serde(default, deserialize_with = "lenient")]
    pub guest_last_name: Option<String>,
    /// First check-in date.
    #[serde(default, alias = "checkIn", deserialize_with = "lenient")]
    pub start_date: Option<String>,
    /// Last check-out date.
    #[serde(default, alias = "checkOut", deserialize_with = "lenient")]
    pub end_date: Option<String>,
    /// Room number (seed shape).
    #[serde(default, deserialize_with = "lenient")]
    pub room_number: Option<String>,
    /// Adults (getReservations).
    #[serde(default, deserialize_with = "lenient")]
    pub adults: Option<u64>,
    /// Children (getReservations).
    #[serde(default, deserialize_with = "lenient")]
    pub children: Option<u64>,
    /// Balance currently owed (a JSON number; kept raw for exact conversion).
    #[serde(default)]
    pub balance: Option<serde_json::Value>,
    /// Assigned rooms (getReservation).
    #[serde(default, deserialize_with = "or_empty")]
    pub assigned: Vec<WireRoomStay>,
    /// Rooms not yet assigned (getReservation).
    #[serde(default, deserialize_with = "or_empty")]
    pub unassigned: Vec<WireRoomStay>,
    /// All rooms (getReservations with `includeAllRooms=true`).
    #[serde(default, deserialize_with = "or_empty")]
    pub rooms: Vec<WireRoomStay>,
    /// Guests by id.
    #[serde(default, deserialize_with = "or_empty")]
    pub guest_list: BTreeMap<String, WireReservationGuest>,
}

/// A custom field value on a guest.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireCustomField {
    /// Field name (or shortcode).
    #[serde(default, deserialize_with = "lenient")]
    pub custom_field_name: Option<String>,
    /// Field value.
    #[serde(default, deserialize_with = "lenient")]
    pub custom_field_value: Option<String>,
}

/// getGuest's `data`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireGuest {
    /// Given name.
    #[serde(default, deserialize_with = "lenient")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, deserialize_with = "lenient")]
    pub last_name: Option<String>,
    /// E-mail.
    #[serde(default, deserialize_with = "lenient")]
    pub email: Option<String>,
    /// Phone.
    #[serde(default, deserialize_with = "lenient")]
    pub phone: Option<String>,
    /// Cell phone.
    #[serde(default, deserialize_with = "lenient")]
    pub cell_phone: Option<String>,
    /// Custom fields (preferences live in one when configured).
    #[serde(default, deserialize_with = "or_empty")]
    pub custom_fields: Vec<WireCustomField>,
}

/// One entry of getGuestList's `data` (a map keyed by guest id in the spec; some answers send
/// an array).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireGuestListEntry {
    /// Guest id.
    #[serde(default, rename = "guestID", deserialize_with = "lenient")]
    pub guest_id: Option<String>,
    /// Display name.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_name: Option<String>,
    /// Given name.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_first_name: Option<String>,
    /// Family name.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_last_name: Option<String>,
    /// E-mail.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_email: Option<String>,
    /// Phone.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_phone: Option<String>,
    /// Cell phone.
    #[serde(default, deserialize_with = "lenient")]
    pub guest_cell_phone: Option<String>,
}

/// getGuestList's `data`: a map keyed by guest id (spec) or an array.
#[derive(Debug, Default)]
pub struct GuestListData(pub Vec<(Option<String>, WireGuestListEntry)>);

impl<'de> Deserialize<'de> for GuestListData {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Map(BTreeMap<String, WireGuestListEntry>),
            List(Vec<WireGuestListEntry>),
        }
        Ok(GuestListData(match Shape::deserialize(d)? {
            Shape::Map(m) => m.into_iter().map(|(k, v)| (Some(k), v)).collect(),
            Shape::List(l) => l.into_iter().map(|v| (None, v)).collect(),
        }))
    }
}

/// One getHousekeepingStatus row.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireHousekeeping {
    /// Room id.
    #[serde(default, rename = "roomID", deserialize_with = "lenient")]
    pub room_id: Option<String>,
    /// Room name ("101").
    #[serde(default, deserialize_with = "lenient")]
    pub room_name: Option<String>,
    /// `clean`, `dirty` (and `inspected` where the property enables it).
    #[serde(default, deserialize_with = "lenient")]
    pub room_condition: Option<String>,
    /// Occupied now.
    #[serde(default, deserialize_with = "lenient")]
    pub room_occupied: Option<bool>,
    /// Blocked: out of order.
    #[serde(default, deserialize_with = "lenient")]
    pub room_blocked: Option<bool>,
    /// Vacant pickup.
    #[serde(default, deserialize_with = "lenient")]
    pub vacant_pickup: Option<bool>,
}

/// One getReservationNotes entry.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireNote {
    /// Note id.
    #[serde(default, rename = "reservationNoteID", deserialize_with = "lenient")]
    pub reservation_note_id: Option<String>,
    /// Creation time (`YYYY-MM-DD HH:MM:SS`).
    #[serde(default, deserialize_with = "lenient")]
    pub date_created: Option<String>,
    /// Text.
    #[serde(default, deserialize_with = "lenient")]
    pub reservation_note: Option<String>,
}

/// postCustomItem's `data`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireSoldItem {
    /// Sold product id.
    #[serde(default, rename = "soldProductID", deserialize_with = "lenient")]
    pub sold_product_id: Option<String>,
    /// Transaction id.
    #[serde(default, rename = "transactionID", deserialize_with = "lenient")]
    pub transaction_id: Option<String>,
    /// Set when the `referenceID` was already used: nothing was created.
    #[serde(default, deserialize_with = "lenient")]
    pub notice: Option<String>,
}

/// postAdjustment's `data`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireAdjustment {
    /// Adjustment id.
    #[serde(default, rename = "adjustmentID", deserialize_with = "lenient")]
    pub adjustment_id: Option<String>,
}

/// getHotelDetails' `data` (the parts this adapter reads).
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireHotel {
    /// Property name.
    #[serde(default, deserialize_with = "lenient")]
    pub property_name: Option<String>,
    /// Property currency.
    #[serde(default)]
    pub property_currency: Option<WireCurrency>,
}

/// getHotelDetails' `propertyCurrency`.
#[derive(Deserialize, Debug, Default)]
#[serde(rename_all = "camelCase")]
pub struct WireCurrency {
    /// ISO 4217 code.
    #[serde(default, deserialize_with = "lenient")]
    pub currency_code: Option<String>,
}

/// A value that must be a JSON object. Serde's derived structs also accept an array (fields by
/// position), which would turn `"data": [1, 2]` into a reservation with id `1`: this refuses it.
#[derive(Debug, Default)]
pub struct Obj<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> de::Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData)).map(Obj)
    }
}

/// A JSON value that may be anything: used where a write's `data` is not read.
pub type Ignored = serde::de::IgnoredAny;

// Lenient field readers. A value of an unexpected type must never fail the whole response
// (Cloudbeds' schemas and answers disagree on string vs number), but it must not be invented
// either: it becomes `None`, and the mapping decides whether that is acceptable.

/// What a lenient field reader makes of each JSON scalar; `None`: not usable as this type.
trait Lenient: Sized {
    /// For serde's error message.
    const EXPECTING: &'static str;
    fn from_str(v: &str) -> Option<Self>;
    fn from_u64(v: u64) -> Option<Self>;
    fn from_i64(v: i64) -> Option<Self>;
    fn from_f64(v: f64) -> Option<Self>;
    fn from_bool(v: bool) -> Option<Self>;
    /// An owned string, for the types that can keep it without a copy.
    fn from_string(v: String) -> Option<Self> {
        Self::from_str(&v)
    }
}

impl Lenient for String {
    const EXPECTING: &'static str = "a string, number or null";
    fn from_str(v: &str) -> Option<Self> {
        Some(v.to_owned())
    }
    fn from_string(v: String) -> Option<Self> {
        Some(v)
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v.to_string())
    }
    fn from_i64(v: i64) -> Option<Self> {
        Some(v.to_string())
    }
    fn from_f64(v: f64) -> Option<Self> {
        Some(v.to_string())
    }
    fn from_bool(v: bool) -> Option<Self> {
        Some(v.to_string())
    }
}

impl Lenient for u64 {
    const EXPECTING: &'static str = "a count";
    fn from_str(v: &str) -> Option<Self> {
        let v = v.trim();
        v.parse::<u64>()
            .ok()
            .or_else(|| v.parse::<f64>().ok().and_then(Self::from_f64))
    }
    fn from_u64(v: u64) -> Option<Self> {
        Some(v)
    }
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok()
    }
    fn from_f64(v: f64) -> Option<Self> {
        // "2.0" from a float-typed field
        (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e15).then_some(v as u64)
    }
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
}

impl Lenient for bool {
    const EXPECTING: &'static str = "a flag";
    fn from_str(v: &str) -> Option<Self> {
        match v.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }
    fn from_u64(v: u64) -> Option<Self> {
        match v {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
    fn from_i64(v: i64) -> Option<Self> {
        u64::try_from(v).ok().and_then(Self::from_u64)
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
}

struct LenientVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Lenient> de::Visitor<'de> for LenientVisitor<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(T::from_str(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(T::from_string(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(T::from_u64(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(T::from_i64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(T::from_f64(v))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(T::from_bool(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
        skip_seq(a).map(|()| None)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
        skip_map(a).map(|()| None)
    }
}

/// A string, count or flag read leniently (see [`Lenient`] for what each type accepts).
fn lenient<'de, D: Deserializer<'de>, T: Lenient>(d: D) -> Result<Option<T>, D::Error> {
    d.deserialize_any(LenientVisitor(std::marker::PhantomData))
}

/// A list or a map read leniently: what a field of another type (null, a scalar, or PHP's
/// empty array where a map was due) leaves is the empty collection. Read in one pass (no
/// buffering of the value, which costs the sandbox dearly).
trait Collection<'de>: Default {
    /// For serde's error message.
    const EXPECTING: &'static str;
    /// From a JSON array (a map skips it and stays empty).
    fn from_seq<A: de::SeqAccess<'de>>(a: A) -> Result<Self, A::Error>;
    /// From a JSON object (a list skips it and stays empty).
    fn from_map<A: de::MapAccess<'de>>(a: A) -> Result<Self, A::Error>;
}

fn skip_seq<'de, A: de::SeqAccess<'de>>(mut a: A) -> Result<(), A::Error> {
    while a.next_element::<de::IgnoredAny>()?.is_some() {}
    Ok(())
}

fn skip_map<'de, A: de::MapAccess<'de>>(mut a: A) -> Result<(), A::Error> {
    while a.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
    Ok(())
}

impl<'de, T: Deserialize<'de>> Collection<'de> for Vec<T> {
    const EXPECTING: &'static str = "a list";
    fn from_seq<A: de::SeqAccess<'de>>(mut a: A) -> Result<Self, A::Error> {
        let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0).min(64));
        while let Some(item) = a.next_element::<T>()? {
            out.push(item);
        }
        Ok(out)
    }
    fn from_map<A: de::MapAccess<'de>>(a: A) -> Result<Self, A::Error> {
        skip_map(a).map(|()| Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Collection<'de> for BTreeMap<String, T> {
    const EXPECTING: &'static str = "a map";
    fn from_seq<A: de::SeqAccess<'de>>(a: A) -> Result<Self, A::Error> {
        skip_seq(a).map(|()| BTreeMap::new())
    }
    fn from_map<A: de::MapAccess<'de>>(mut a: A) -> Result<Self, A::Error> {
        let mut out = BTreeMap::new();
        while let Some((k, v)) = a.next_entry::<String, T>()? {
            out.insert(k, v);
        }
        Ok(out)
    }
}

struct CollectionVisitor<C>(std::marker::PhantomData<C>);

impl<'de, C: Collection<'de>> de::Visitor<'de> for CollectionVisitor<C> {
    type Value = C;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(C::EXPECTING)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
        C::from_seq(a)
    }
    fn visit_map<A: de::MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
        C::from_map(a)
    }
    fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
        d.deserialize_any(self)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(C::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(C::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(C::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(C::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(C::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(C::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(C::default())
    }
}

/// A list or map, or the empty one (see [`Collection`]).
fn or_empty<'de, D: Deserializer<'de>, C: Collection<'de>>(d: D) -> Result<C, D::Error> {
    d.deserialize_any(CollectionVisitor(std::marker::PhantomData))
}
