//! The mock's in-memory data: hotels built from the seed, the read queries the routes need, and
//! the writes (notes, preferences, checkout time, charges), each applied at most once per
//! `operationId`. Also the front-desk changes the `/admin` routes make (new reservations,
//! reservation states, housekeeping), so tests can change the simulated hotel between syncs.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use super::seed::{
    Guest, HOUSEKEEPING_STATES, Preference, RESERVATION_STATES, Seed, SeedError, SeedHotel,
    format_cents, parse_cents,
};

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

/// A reservation made at the front desk (`POST /admin/hotels/{hotel}/reservations`), with its
/// dates already parsed; [`Store::create_reservation`] validates the rest.
#[derive(Debug, Clone)]
pub(crate) struct NewReservation {
    /// Confirmation number; must be new to the hotel.
    pub confirmation: String,
    /// The booking guest; must be a guest of the hotel.
    pub guest_id: String,
    /// Arrival date.
    pub arrival: NaiveDate,
    /// Departure date; after the arrival.
    pub departure: NaiveDate,
    /// Assigned room, if any; must be a room of the hotel.
    pub room: Option<String>,
    /// Room type code, e.g. `KING`.
    pub room_type: Option<String>,
    /// Number of adults.
    pub adults: u32,
    /// Number of children.
    pub children: u32,
    /// One of [`RESERVATION_STATES`]; the routes default it to [`NEW_RESERVATION_STATE`].
    pub state: String,
}

/// The state of a reservation that is booked but not yet arrived, as in the seed.
pub(crate) const NEW_RESERVATION_STATE: &str = "RESERVED";

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

    /// Adds a reservation, as front-desk staff booking a guest would. Unknown hotel or guest,
    /// or a room the hotel does not have: not found; a confirmation number already in use:
    /// conflict; an empty confirmation number, an unknown state or a departure not after the
    /// arrival: invalid. Returns the new reservation.
    pub fn create_reservation(
        &mut self,
        hotel_id: &str,
        new: NewReservation,
    ) -> Result<Reservation, StoreError> {
        let hotel = self.hotel_mut(hotel_id)?;
        if new.confirmation.trim().is_empty() {
            return Err(StoreError::Invalid(
                "confirmationNumber must not be empty".into(),
            ));
        }
        if hotel.reservations.contains_key(&new.confirmation) {
            return Err(StoreError::Conflict(format!(
                "reservation `{}` already exists",
                new.confirmation
            )));
        }
        check_state(&new.state)?;
        if new.departure <= new.arrival {
            return Err(StoreError::Invalid(format!(
                "departure {} is not after arrival {}",
                new.departure, new.arrival
            )));
        }
        let guest = hotel
            .guests
            .get(&new.guest_id)
            .ok_or_else(|| not_found("guest", &new.guest_id))?;
        if let Some(room) = new
            .room
            .as_deref()
            .filter(|r| !hotel.rooms.contains_key(*r))
        {
            return Err(not_found("room", room));
        }
        let reservation = Reservation {
            // Confirmation numbers are unique per hotel, so this id is too.
            id: format!("R-{}", new.confirmation),
            confirmation: new.confirmation.clone(),
            guest_name: full_name(guest),
            guest_id: new.guest_id,
            state: new.state,
            arrival: new.arrival,
            departure: new.departure,
            checkout_time: None,
            room: new.room,
            room_type: new.room_type,
            adults: new.adults,
            children: new.children,
            comments: Vec::new(),
            postings: Vec::new(),
        };
        hotel
            .reservations
            .insert(new.confirmation, reservation.clone());
        Ok(reservation)
    }

    /// Moves a reservation to `state` (one of [`RESERVATION_STATES`]), as the front desk does on
    /// check-in (`IN_HOUSE`), check-out (`CHECKED_OUT`) or cancellation (`CANCELLED`). Any
    /// transition is allowed, so tests can also stage odd ones (a reinstated cancellation); the
    /// room's housekeeping and occupancy are left alone (see [`Store::set_room`]). Returns the
    /// updated reservation.
    pub fn set_reservation_state(
        &mut self,
        hotel_id: &str,
        confirmation: &str,
        state: &str,
    ) -> Result<Reservation, StoreError> {
        check_state(state)?;
        let r = self.hotel_mut(hotel_id)?.reservation_mut(confirmation)?;
        state.clone_into(&mut r.state);
        Ok(r.clone())
    }

    /// Sets a room's housekeeping state (one of [`HOUSEKEEPING_STATES`]) and, when given, its
    /// occupancy, as housekeeping staff would; `updatedAt` becomes now. Returns the room.
    pub fn set_room(
        &mut self,
        hotel_id: &str,
        number: &str,
        housekeeping: &str,
        occupied: Option<bool>,
        now: DateTime<Utc>,
    ) -> Result<Room, StoreError> {
        if !HOUSEKEEPING_STATES.contains(&housekeeping) {
            return Err(StoreError::Invalid(format!(
                "housekeeping `{housekeeping}` is not one of {}",
                HOUSEKEEPING_STATES.join(", ")
            )));
        }
        let room = self
            .hotel_mut(hotel_id)?
            .rooms
            .get_mut(number)
            .ok_or_else(|| not_found("room", number))?;
        housekeeping.clone_into(&mut room.housekeeping);
        if occupied.is_some() {
            room.occupied = occupied;
        }
        room.updated_at = Some(now);
        Ok(room.clone())
    }

    /// The hotel for a change, or `UnknownHotel`.
    fn hotel_mut(&mut self, id: &str) -> Result<&mut Hotel, StoreError> {
        self.hotels
            .get_mut(id)
            .ok_or_else(|| StoreError::UnknownHotel(id.to_owned()))
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

/// `state` must be one of [`RESERVATION_STATES`].
fn check_state(state: &str) -> Result<(), StoreError> {
    if RESERVATION_STATES.contains(&state) {
        return Ok(());
    }
    Err(StoreError::Invalid(format!(
        "state `{state}` is not one of {}",
        RESERVATION_STATES.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2030, 6, 15).unwrap()
    }

    /// One hotel, `H1`, with guest `G1`, rooms `101` (dirty) and `102`, and reservation `C1`.
    fn store() -> Store {
        let seed: Seed = serde_json::from_value(serde_json::json!({"hotels": [{
            "id": "H1", "name": "Test", "currency": "EUR",
            "guests": [{"id": "G1", "givenName": "Ada", "surname": "Lovelace"}],
            "rooms": [
                {"number": "101", "housekeeping": "DIRTY", "occupied": false},
                {"number": "102", "housekeeping": "CLEAN"}
            ],
            "reservations": [{
                "id": "R1", "confirmation": "C1", "guestId": "G1", "state": "RESERVED",
                "arrivalOffsetDays": 0, "nights": 2, "room": "101", "adults": 1
            }]
        }]}))
        .unwrap();
        Store::from_seed(seed, today(), Utc::now()).unwrap()
    }

    fn new_reservation(confirmation: &str) -> NewReservation {
        NewReservation {
            confirmation: confirmation.into(),
            guest_id: "G1".into(),
            arrival: today(),
            departure: today() + TimeDelta::days(3),
            room: Some("102".into()),
            room_type: Some("KING".into()),
            adults: 2,
            children: 1,
            state: NEW_RESERVATION_STATE.into(),
        }
    }

    #[test]
    fn front_desk_creates_a_reservation() {
        let mut store = store();
        let created = store
            .create_reservation("H1", new_reservation("C2"))
            .unwrap();
        assert_eq!(created.guest_name, "Ada Lovelace");
        assert_eq!((created.state.as_str(), created.adults), ("RESERVED", 2));
        let listed = store.hotel("H1").unwrap().reservation("C2").unwrap();
        assert_eq!(listed.arrival, today());
        assert_eq!(listed.room.as_deref(), Some("102"));
        assert_ne!(listed.id, "R1");
    }

    #[test]
    fn new_reservations_are_validated() {
        let mut store = store();
        let err = |store: &mut Store, hotel: &str, new: NewReservation| {
            store.create_reservation(hotel, new).unwrap_err()
        };
        let e = err(&mut store, "NOPE", new_reservation("C2"));
        assert!(matches!(e, StoreError::UnknownHotel(_)), "{e}");
        let e = err(&mut store, "H1", new_reservation("C1"));
        assert!(matches!(e, StoreError::Conflict(_)), "{e}");
        let e = err(
            &mut store,
            "H1",
            NewReservation {
                guest_id: "G9".into(),
                ..new_reservation("C2")
            },
        );
        assert!(
            matches!(e, StoreError::NotFound(ref m) if m.contains("G9")),
            "{e}"
        );
        let e = err(
            &mut store,
            "H1",
            NewReservation {
                room: Some("999".into()),
                ..new_reservation("C2")
            },
        );
        assert!(
            matches!(e, StoreError::NotFound(ref m) if m.contains("999")),
            "{e}"
        );
        for bad in [
            NewReservation {
                departure: today(),
                ..new_reservation("C2")
            },
            NewReservation {
                state: "CHECKED_IN".into(),
                ..new_reservation("C2")
            },
            new_reservation(" "),
        ] {
            let e = err(&mut store, "H1", bad);
            assert!(matches!(e, StoreError::Invalid(_)), "{e}");
        }
        assert_eq!(store.hotel("H1").unwrap().reservations.len(), 1);
    }

    #[test]
    fn front_desk_moves_reservation_states() {
        let mut store = store();
        for state in ["IN_HOUSE", "CHECKED_OUT", "CANCELLED", "RESERVED"] {
            let r = store.set_reservation_state("H1", "C1", state).unwrap();
            assert_eq!(r.state, state);
            assert_eq!(
                store.hotel("H1").unwrap().reservation("C1").unwrap().state,
                state
            );
        }
        let e = store.set_reservation_state("H1", "C1", "CHECKED_IN");
        assert!(matches!(e, Err(StoreError::Invalid(_))));
        let e = store.set_reservation_state("H1", "C9", "IN_HOUSE");
        assert!(matches!(e, Err(StoreError::NotFound(_))));
        let e = store.set_reservation_state("H9", "C1", "IN_HOUSE");
        assert!(matches!(e, Err(StoreError::UnknownHotel(_))));
    }

    #[test]
    fn housekeeping_changes_rooms() {
        let mut store = store();
        let later = Utc::now() + TimeDelta::minutes(5);
        let room = store.set_room("H1", "101", "CLEAN", None, later).unwrap();
        assert_eq!(room.housekeeping, "CLEAN");
        assert_eq!(room.occupied, Some(false), "occupancy kept when not given");
        assert_eq!(room.updated_at, Some(later));
        let room = store
            .set_room("H1", "101", "DIRTY", Some(true), later)
            .unwrap();
        assert_eq!(room.occupied, Some(true));
        assert_eq!(
            store.hotel("H1").unwrap().rooms["101"].housekeeping,
            "DIRTY"
        );
        let e = store.set_room("H1", "101", "SPARKLING", None, later);
        assert!(matches!(e, Err(StoreError::Invalid(_))));
        let e = store.set_room("H1", "999", "CLEAN", None, later);
        assert!(matches!(e, Err(StoreError::NotFound(_))));
    }
}
