//! The mock's in-memory data: hotels built from the seed, the read queries the routes need, and
//! the writes (notes, preferences, checkout time, charges), each applied at most once per
//! `operationId`.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use super::seed::{Guest, Preference, Seed, SeedError, SeedHotel, format_cents, parse_cents};

/// Why a read or write could not be served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The hotel in the URL is not in the seed.
    #[error("hotel `{0}` not found")]
    UnknownHotel(String),
    /// The record in the URL does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The record exists but its state forbids the write.
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed JSON but its values are wrong.
    #[error("{0}")]
    Invalid(String),
}

/// All hotels, plus the request-id counter shared by every write.
#[derive(Debug)]
pub(crate) struct Store {
    hotels: HashMap<String, Hotel>,
    next_request: u64,
}

/// One hotel's data.
#[derive(Debug)]
pub(crate) struct Hotel {
    pub currency: String,
    /// By guest id.
    pub guests: BTreeMap<String, Guest>,
    /// By confirmation number, so listing is sorted by confirmation.
    pub reservations: BTreeMap<String, Reservation>,
    /// By room number.
    pub rooms: BTreeMap<String, Room>,
    /// Applied writes, by operation id.
    pub operations: HashMap<String, Operation>,
}

/// A reservation as served on the wire (postings are served by the folio instead).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Reservation {
    pub id: String,
    pub confirmation: String,
    pub guest_id: String,
    pub guest_name: String,
    pub state: String,
    pub arrival: NaiveDate,
    pub departure: NaiveDate,
    pub checkout_time: Option<DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room_type: Option<String>,
    pub adults: u32,
    pub children: u32,
    pub comments: Vec<Comment>,
    #[serde(skip)]
    pub postings: Vec<Posting>,
}

/// A reservation comment.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Comment {
    pub text: String,
    pub created_at: DateTime<Utc>,
}

/// A folio posting; `amount` is the canonical two-decimal form of `cents`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Posting {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    #[serde(skip)]
    pub cents: i64,
    pub amount: String,
    pub currency: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub posted_at: DateTime<Utc>,
}

/// A room and its housekeeping state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Room {
    pub number: String,
    pub housekeeping: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupied: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The kind of an applied write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum OpKind {
    Note,
    Preferences,
    Checkout,
    Charge,
}

/// A write that was applied, as served by `GET .../operations/{id}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Operation {
    pub operation_id: String,
    pub kind: OpKind,
    pub target: String,
    pub request_id: String,
}

/// What a write did: applied now, or recognised as a replay of an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WriteOutcome {
    pub request_id: String,
    pub replayed: bool,
}

/// A new folio charge, already validated as a decimal amount.
#[derive(Debug)]
pub(crate) struct Charge {
    pub cents: i64,
    pub currency: String,
    pub description: String,
    pub code: Option<String>,
}

/// Guest search filters; each given filter must match.
#[derive(Debug, Default)]
pub(crate) struct GuestFilter {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
}

impl GuestFilter {
    /// Email: case-insensitive exact; phone: equal without spaces and dashes; name:
    /// case-insensitive substring of "givenName surname".
    pub fn matches(&self, guest: &Guest) -> bool {
        let phone_key = |s: &str| {
            s.chars()
                .filter(|c| *c != ' ' && *c != '-')
                .collect::<String>()
        };
        let email_ok = self.email.as_deref().is_none_or(|want| {
            guest
                .emails
                .iter()
                .any(|e| e.address.eq_ignore_ascii_case(want.trim()))
        });
        let phone_ok = self.phone.as_deref().is_none_or(|want| {
            let want = phone_key(want);
            guest.phones.iter().any(|p| phone_key(&p.number) == want)
        });
        let name_ok = self.name.as_deref().is_none_or(|want| {
            full_name(guest)
                .to_lowercase()
                .contains(&want.to_lowercase())
        });
        email_ok && phone_ok && name_ok
    }
}

/// Reservation list filters; each given filter must match.
#[derive(Debug, Default)]
pub(crate) struct ReservationFilter {
    pub arrival: Option<NaiveDate>,
    pub departure: Option<NaiveDate>,
    pub state: Option<String>,
}

impl ReservationFilter {
    /// True when every given filter matches.
    pub fn matches(&self, r: &Reservation) -> bool {
        self.arrival.is_none_or(|d| r.arrival == d)
            && self.departure.is_none_or(|d| r.departure == d)
            && self.state.as_deref().is_none_or(|s| r.state == s)
    }
}

fn full_name(guest: &Guest) -> String {
    format!("{} {}", guest.given_name, guest.surname)
}

impl Store {
    /// Builds the store from a seed, resolving date offsets against `today`.
    pub fn from_seed(seed: Seed, today: NaiveDate, now: DateTime<Utc>) -> Result<Store, SeedError> {
        seed.validate()?;
        let hotels = seed
            .hotels
            .into_iter()
            .map(|h| Ok((h.id.clone(), Hotel::from_seed(h, today, now)?)))
            .collect::<Result<_, SeedError>>()?;
        Ok(Store {
            hotels,
            next_request: 0,
        })
    }

    /// Whether the hotel exists (used for stats).
    pub fn has_hotel(&self, id: &str) -> bool {
        self.hotels.contains_key(id)
    }

    /// The hotel, or `UnknownHotel`.
    pub fn hotel(&self, id: &str) -> Result<&Hotel, StoreError> {
        self.hotels
            .get(id)
            .ok_or_else(|| StoreError::UnknownHotel(id.to_owned()))
    }

    /// Appends a comment to a reservation.
    pub fn add_note(
        &mut self,
        hotel: &str,
        op: &str,
        confirmation: &str,
        text: String,
    ) -> Result<WriteOutcome, StoreError> {
        self.write(hotel, op, OpKind::Note, confirmation, |h| {
            let created_at = Utc::now();
            h.reservation_mut(confirmation)?
                .comments
                .push(Comment { text, created_at });
            Ok(())
        })
    }

    /// Replaces a guest's preferences.
    pub fn replace_preferences(
        &mut self,
        hotel: &str,
        op: &str,
        guest_id: &str,
        preferences: Vec<Preference>,
    ) -> Result<WriteOutcome, StoreError> {
        self.write(hotel, op, OpKind::Preferences, guest_id, |h| {
            let guest = h
                .guests
                .get_mut(guest_id)
                .ok_or_else(|| not_found("guest", guest_id))?;
            guest.preferences = preferences;
            Ok(())
        })
    }

    /// Sets the (planned) checkout time; refused for cancelled or checked-out reservations.
    pub fn set_checkout(
        &mut self,
        hotel: &str,
        op: &str,
        confirmation: &str,
        time: DateTime<FixedOffset>,
    ) -> Result<WriteOutcome, StoreError> {
        self.write(hotel, op, OpKind::Checkout, confirmation, |h| {
            let r = h.reservation_mut(confirmation)?;
            if r.state == "CANCELLED" || r.state == "CHECKED_OUT" {
                let state = &r.state;
                return Err(StoreError::Conflict(format!(
                    "reservation {confirmation} is {state}"
                )));
            }
            r.checkout_time = Some(time);
            Ok(())
        })
    }

    /// Posts a charge to a reservation's folio; the currency must be the hotel's.
    pub fn post_charge(
        &mut self,
        hotel: &str,
        op: &str,
        confirmation: &str,
        charge: Charge,
    ) -> Result<WriteOutcome, StoreError> {
        self.write(hotel, op, OpKind::Charge, confirmation, |h| {
            if charge.currency != h.currency {
                let problem = format!(
                    "currency {} is not the hotel currency {}",
                    charge.currency, h.currency
                );
                return Err(StoreError::Invalid(problem));
            }
            let posting = Posting {
                operation_id: Some(op.to_owned()),
                cents: charge.cents,
                amount: format_cents(charge.cents),
                currency: charge.currency,
                description: charge.description,
                code: charge.code,
                posted_at: Utc::now(),
            };
            h.reservation_mut(confirmation)?.postings.push(posting);
            Ok(())
        })
    }

    /// Applies `apply` unless `op` was already applied in this hotel, in which case the
    /// original request id is returned and nothing changes.
    fn write(
        &mut self,
        hotel_id: &str,
        op: &str,
        kind: OpKind,
        target: &str,
        apply: impl FnOnce(&mut Hotel) -> Result<(), StoreError>,
    ) -> Result<WriteOutcome, StoreError> {
        let hotel = self
            .hotels
            .get_mut(hotel_id)
            .ok_or_else(|| StoreError::UnknownHotel(hotel_id.to_owned()))?;
        if let Some(done) = hotel.operations.get(op) {
            return Ok(WriteOutcome {
                request_id: done.request_id.clone(),
                replayed: true,
            });
        }
        apply(hotel)?;
        self.next_request += 1;
        let request_id = format!("mock-req-{}", self.next_request);
        let operation = Operation {
            operation_id: op.to_owned(),
            kind,
            target: target.to_owned(),
            request_id: request_id.clone(),
        };
        hotel.operations.insert(op.to_owned(), operation);
        Ok(WriteOutcome {
            request_id,
            replayed: false,
        })
    }
}

impl Hotel {
    fn from_seed(
        seed: SeedHotel,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Hotel, SeedError> {
        let out_of_range = |id: &str| SeedError::Invalid {
            hotel: seed.id.clone(),
            record: format!("reservation `{id}`"),
            problem: "dates are out of range".into(),
        };
        let mut reservations = BTreeMap::new();
        for r in &seed.reservations {
            let arrival = TimeDelta::try_days(r.arrival_offset_days)
                .and_then(|d| today.checked_add_signed(d))
                .ok_or_else(|| out_of_range(&r.id))?;
            let departure = arrival
                .checked_add_signed(TimeDelta::days(i64::from(r.nights)))
                .ok_or_else(|| out_of_range(&r.id))?;
            let guest_name = seed
                .guests
                .iter()
                .find(|g| g.id == r.guest_id)
                .map(full_name)
                .unwrap_or_default();
            let postings = r
                .postings
                .iter()
                .map(|p| {
                    // Validated by `Seed::validate`; 0 would only hide a bug, never panic.
                    let cents = parse_cents(&p.amount).unwrap_or_default();
                    Posting {
                        operation_id: None,
                        cents,
                        amount: format_cents(cents),
                        currency: seed.currency.clone(),
                        description: p.description.clone(),
                        code: p.code.clone(),
                        posted_at: now,
                    }
                })
                .collect();
            let comments = r
                .comments
                .iter()
                .map(|text| Comment {
                    text: text.clone(),
                    created_at: now,
                })
                .collect();
            let reservation = Reservation {
                id: r.id.clone(),
                confirmation: r.confirmation.clone(),
                guest_id: r.guest_id.clone(),
                guest_name,
                state: r.state.clone(),
                arrival,
                departure,
                checkout_time: None,
                room: r.room.clone(),
                room_type: r.room_type.clone(),
                adults: r.adults,
                children: r.children,
                comments,
                postings,
            };
            reservations.insert(r.confirmation.clone(), reservation);
        }
        let rooms = seed
            .rooms
            .into_iter()
            .map(|r| {
                let room = Room {
                    number: r.number.clone(),
                    housekeeping: r.housekeeping,
                    occupied: r.occupied,
                    updated_at: Some(now),
                };
                (r.number, room)
            })
            .collect();
        let guests = seed.guests.into_iter().map(|g| (g.id.clone(), g)).collect();
        Ok(Hotel {
            currency: seed.currency,
            guests,
            reservations,
            rooms,
            operations: HashMap::new(),
        })
    }

    /// The reservation with this confirmation number, or `NotFound`.
    pub fn reservation(&self, confirmation: &str) -> Result<&Reservation, StoreError> {
        self.reservations
            .get(confirmation)
            .ok_or_else(|| not_found("reservation", confirmation))
    }

    fn reservation_mut(&mut self, confirmation: &str) -> Result<&mut Reservation, StoreError> {
        self.reservations
            .get_mut(confirmation)
            .ok_or_else(|| not_found("reservation", confirmation))
    }
}

fn not_found(what: &str, id: &str) -> StoreError {
    StoreError::NotFound(format!("{what} `{id}`"))
}
