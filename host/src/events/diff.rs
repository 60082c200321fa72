//! Snapshots of what a hotel's syncs saw, and the change events derived by comparing them.
//!
//! # Why one snapshot per hotel, not per stream
//!
//! The same reservation shows up in several streams: today's arrival is in `arrivals`, and once
//! checked in also in `inHouse` (and on its last day in `departures`). Comparing each stream with
//! its own previous snapshot would report a check-in twice (`guest.arrived` from arrivals, and
//! `reservation.created` from in-house, where the id is new). So reservations live in one map per
//! hotel, keyed by confirmation number; each entry remembers which streams currently see it
//! (`seen_by`). Whichever stream observes a change first reports it and updates the entry; the
//! other streams then find nothing new. An entry is dropped once no stream sees it any more,
//! which keeps the snapshot bounded by what the streams' windows hold.
//!
//! # Baselines
//!
//! The first run of a stream (its bit not yet in `baselined`) records what it sees and reports
//! nothing: without a previous view, every reservation would look "created" and a fresh install
//! (or a newly enabled stream) would flood Jack with thousands of false events. Entries another
//! stream already knows are still compared, because for them there *is* a previous view.
//!
//! # What a snapshot holds
//!
//! Only what is needed to classify a change: confirmation number, a content hash, the status,
//! and for rooms the room number, housekeeping state and occupancy. No names, e-mails or notes,
//! so snapshots can be stored without field encryption. The events themselves carry the full
//! reservation and are sealed by the event log.

use crate::model::{Housekeeping, Reservation, ReservationStatus, RoomStatus};
use crate::report::StreamKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// What one run of a stream fetched from the PMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncItems {
    /// Arrivals, departures or in-house guests.
    Reservations(Vec<Reservation>),
    /// All room statuses.
    Rooms(Vec<RoomStatus>),
}

impl SyncItems {
    /// How many items were fetched.
    pub fn len(&self) -> usize {
        match self {
            SyncItems::Reservations(r) => r.len(),
            SyncItems::Rooms(r) => r.len(),
        }
    }

    /// True when nothing was fetched.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The kinds of change event (`type` on the wire).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A reservation seen for the first time.
    #[serde(rename = "reservation.created")]
    ReservationCreated,
    /// A known reservation whose content changed (other than the transitions below).
    #[serde(rename = "reservation.updated")]
    ReservationUpdated,
    /// A reservation that became cancelled.
    #[serde(rename = "reservation.cancelled")]
    ReservationCancelled,
    /// A reservation that became checked in.
    #[serde(rename = "guest.arrived")]
    GuestArrived,
    /// A reservation that became checked out.
    #[serde(rename = "guest.departed")]
    GuestDeparted,
    /// A room whose housekeeping state or occupancy changed.
    #[serde(rename = "room.status_changed")]
    RoomStatusChanged,
    /// A queued write that was finally given up (emitted by the outbox, not by sync).
    #[serde(rename = "write.failed")]
    WriteFailed,
    /// A hotel's PMS stopped answering.
    #[serde(rename = "pms.unavailable")]
    PmsUnavailable,
    /// A hotel's PMS answers again.
    #[serde(rename = "pms.recovered")]
    PmsRecovered,
    /// Something a person must look at: a write failed, a critical write was queued, a write
    /// awaits approval, a PMS has been unavailable too long (`data.alert` says which).
    #[serde(rename = "staff.alert")]
    StaffAlert,
}

impl EventKind {
    /// Every kind.
    pub const ALL: [EventKind; 10] = [
        EventKind::ReservationCreated,
        EventKind::ReservationUpdated,
        EventKind::ReservationCancelled,
        EventKind::GuestArrived,
        EventKind::GuestDeparted,
        EventKind::RoomStatusChanged,
        EventKind::WriteFailed,
        EventKind::PmsUnavailable,
        EventKind::PmsRecovered,
        EventKind::StaffAlert,
    ];

    /// The wire name, such as `reservation.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ReservationCreated => "reservation.created",
            EventKind::ReservationUpdated => "reservation.updated",
            EventKind::ReservationCancelled => "reservation.cancelled",
            EventKind::GuestArrived => "guest.arrived",
            EventKind::GuestDeparted => "guest.departed",
            EventKind::RoomStatusChanged => "room.status_changed",
            EventKind::WriteFailed => "write.failed",
            EventKind::PmsUnavailable => "pms.unavailable",
            EventKind::PmsRecovered => "pms.recovered",
            EventKind::StaffAlert => "staff.alert",
        }
    }

    /// The kind with this wire name.
    pub fn parse(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change event before it has an id (the event log assigns ids).
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeEvent {
    /// What happened.
    pub kind: EventKind,
    /// Jack's hotel id.
    pub hotel: String,
    /// When the change was observed.
    pub occurred_at: DateTime<Utc>,
    /// The reservation, room or write concerned, as a JSON object. May hold personal data.
    pub data: serde_json::Value,
}

impl ChangeEvent {
    /// A reservation event; `data` is `{"reservation": …, "previousStatus"?: …}`.
    pub fn reservation(
        kind: EventKind,
        hotel: &str,
        at: DateTime<Utc>,
        reservation: &Reservation,
        previous_status: Option<ReservationStatus>,
    ) -> ChangeEvent {
        let mut data = serde_json::json!({ "reservation": reservation });
        if let (Some(prev), Some(obj)) = (previous_status, data.as_object_mut()) {
            obj.insert("previousStatus".into(), serde_json::json!(prev));
        }
        ChangeEvent {
            kind,
            hotel: hotel.to_owned(),
            occurred_at: at,
            data,
        }
    }

    /// `write.failed`: `data` is `{"operationId", "operation", "error"}`. For the outbox.
    pub fn write_failed(
        hotel: &str,
        at: DateTime<Utc>,
        operation_id: &str,
        operation: &str,
        error: &str,
    ) -> ChangeEvent {
        ChangeEvent {
            kind: EventKind::WriteFailed,
            hotel: hotel.to_owned(),
            occurred_at: at,
            data: serde_json::json!({
                "operationId": operation_id,
                "operation": operation,
                "error": error,
            }),
        }
    }

    /// `staff.alert`: `data` is `{"alert": <kind>, "message": <one line for a person>, …}` with
    /// `operationId` and `operation` when the alert is about a write.
    pub fn staff_alert(
        hotel: &str,
        at: DateTime<Utc>,
        alert: &str,
        message: &str,
        write: Option<(&str, &str)>,
    ) -> ChangeEvent {
        let mut data = serde_json::json!({ "alert": alert, "message": message });
        if let Some((operation_id, operation)) = write {
            data["operationId"] = serde_json::json!(operation_id);
            data["operation"] = serde_json::json!(operation);
        }
        ChangeEvent {
            kind: EventKind::StaffAlert,
            hotel: hotel.to_owned(),
            occurred_at: at,
            data,
        }
    }

    /// `pms.unavailable` (`detail` = why) or `pms.recovered`: `data` is `{"detail"?}`.
    pub fn pms_health(
        hotel: &str,
        at: DateTime<Utc>,
        available: bool,
        detail: Option<&str>,
    ) -> Self {
        let kind = if available {
            EventKind::PmsRecovered
        } else {
            EventKind::PmsUnavailable
        };
        let data = match detail {
            Some(d) => serde_json::json!({ "detail": d }),
            None => serde_json::json!({}),
        };
        ChangeEvent {
            kind,
            hotel: hotel.to_owned(),
            occurred_at: at,
            data,
        }
    }
}

/// What the snapshot keeps of one reservation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationEntry {
    /// Hex of the first 16 bytes of SHA-256 over the reservation's canonical JSON.
    pub hash: String,
    /// Status when last seen.
    pub status: ReservationStatus,
    /// Bit mask of the streams that saw it on their latest run ([`StreamKind`] bits).
    pub seen_by: u8,
}

/// What the snapshot keeps of one room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomEntry {
    /// Housekeeping state.
    pub housekeeping: Housekeeping,
    /// Occupancy, when known.
    pub occupied: Option<bool>,
}

/// Everything a hotel's streams last saw. See the module docs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HotelSnapshot {
    /// Reservations by confirmation number.
    pub reservations: BTreeMap<String, ReservationEntry>,
    /// Rooms by room number.
    pub rooms: BTreeMap<String, RoomEntry>,
    /// Bit mask of the streams that have had their first (baseline) run.
    pub baselined: u8,
}

/// The content hash of a reservation: SHA-256 over its JSON (fields in declaration order, so the
/// same content always gives the same bytes), first 16 bytes in hex. 128 bits is plenty to tell
/// versions of one reservation apart and halves the snapshot's memory.
pub fn reservation_hash(reservation: &Reservation) -> String {
    // Serializing a plain struct of strings, numbers and vectors cannot fail; if it ever did,
    // hashing the Debug form still gives a stable, content-dependent value.
    let bytes =
        serde_json::to_vec(reservation).unwrap_or_else(|_| format!("{reservation:?}").into_bytes());
    let digest = Sha256::digest(&bytes);
    hex::encode(&digest[..16])
}

impl HotelSnapshot {
    /// True once `stream` has had its baseline run.
    pub fn is_baselined(&self, stream: StreamKind) -> bool {
        self.baselined & stream.bit() != 0
    }

    /// Compares what `stream` fetched with the snapshot, updates the snapshot and returns the
    /// change events, in the order of `items`. Items that do not belong to the stream (rooms
    /// from a reservation stream or the reverse) are ignored.
    pub fn apply(
        &mut self,
        hotel: &str,
        stream: StreamKind,
        items: &SyncItems,
        at: DateTime<Utc>,
    ) -> Vec<ChangeEvent> {
        let baseline = !self.is_baselined(stream);
        self.baselined |= stream.bit();
        match (stream, items) {
            (StreamKind::RoomStatus, SyncItems::Rooms(rooms)) => {
                self.apply_rooms(hotel, rooms, baseline, at)
            }
            (StreamKind::RoomStatus, SyncItems::Reservations(_)) | (_, SyncItems::Rooms(_)) => {
                Vec::new()
            }
            (_, SyncItems::Reservations(list)) => {
                self.apply_reservations(hotel, stream, list, baseline, at)
            }
        }
    }

    fn apply_reservations(
        &mut self,
        hotel: &str,
        stream: StreamKind,
        list: &[Reservation],
        baseline: bool,
        at: DateTime<Utc>,
    ) -> Vec<ChangeEvent> {
        let bit = stream.bit();
        let mut events = Vec::new();
        let mut seen = BTreeSet::new();
        for r in list {
            // A PMS listing the same reservation twice in one answer must not double-report.
            if !seen.insert(r.confirmation_number.as_str()) {
                continue;
            }
            let hash = reservation_hash(r);
            match self.reservations.get_mut(&r.confirmation_number) {
                None => {
                    self.reservations.insert(
                        r.confirmation_number.clone(),
                        ReservationEntry {
                            hash,
                            status: r.status,
                            seen_by: bit,
                        },
                    );
                    if !baseline {
                        // New to the hotel: created, plus the transition from the implied
                        // "reserved" to where it already is (a walk-in appears checked in).
                        events.push(ChangeEvent::reservation(
                            EventKind::ReservationCreated,
                            hotel,
                            at,
                            r,
                            None,
                        ));
                        if let Some(kind) = transition(ReservationStatus::Reserved, r.status) {
                            events.push(ChangeEvent::reservation(kind, hotel, at, r, None));
                        }
                    }
                }
                Some(entry) => {
                    entry.seen_by |= bit;
                    if entry.hash == hash {
                        continue;
                    }
                    let previous = entry.status;
                    entry.hash = hash;
                    entry.status = r.status;
                    // A status change reports the transition only (its data holds the whole
                    // reservation, so other edits made at the same time are visible there);
                    // any other change is an update.
                    let kind = if previous != r.status {
                        transition(previous, r.status).unwrap_or(EventKind::ReservationUpdated)
                    } else {
                        EventKind::ReservationUpdated
                    };
                    events.push(ChangeEvent::reservation(kind, hotel, at, r, Some(previous)));
                }
            }
        }
        // Gone from this stream: no event. A reservation leaves the arrivals window when the
        // date moves on, and many PMSes leave cancelled ones out of arrival lists, so absence
        // cannot tell a cancellation from the window sliding. Cancellations are reported when
        // a stream sees the cancelled status; `vanished` lets a caller confirm the rest with a
        // targeted `getReservation` and feed the result back as an item. Entries no stream
        // sees any more are dropped so the snapshot stays bounded.
        self.reservations.retain(|number, entry| {
            if !seen.contains(number.as_str()) {
                entry.seen_by &= !bit;
            }
            entry.seen_by != 0
        });
        events
    }

    fn apply_rooms(
        &mut self,
        hotel: &str,
        rooms: &[RoomStatus],
        baseline: bool,
        at: DateTime<Utc>,
    ) -> Vec<ChangeEvent> {
        let mut events = Vec::new();
        let mut seen = BTreeSet::new();
        for room in rooms {
            if !seen.insert(room.room_number.as_str()) {
                continue;
            }
            let current = RoomEntry {
                housekeeping: room.housekeeping,
                occupied: room.occupied,
            };
            let previous = self.rooms.insert(room.room_number.clone(), current.clone());
            // `updatedAt` alone moving is not a change Jack cares about, so rooms compare the
            // classified state, not a hash of the whole record. A room appearing for the first
            // time after the baseline (added to the PMS) is reported as a change from nothing.
            let changed = match &previous {
                Some(prev) => *prev != current,
                None => !baseline,
            };
            if changed {
                let mut data = serde_json::json!({ "room": room });
                if let (Some(prev), Some(obj)) = (&previous, data.as_object_mut()) {
                    obj.insert("previous".into(), serde_json::json!(prev));
                }
                events.push(ChangeEvent {
                    kind: EventKind::RoomStatusChanged,
                    hotel: hotel.to_owned(),
                    occurred_at: at,
                    data,
                });
            }
        }
        self.rooms
            .retain(|number, _| seen.contains(number.as_str()));
        events
    }

    /// Confirmation numbers that `stream` saw on its previous run but not in `items`: candidates
    /// for a targeted lookup (see the comment in [`HotelSnapshot::apply`]). Call before `apply`.
    pub fn vanished(&self, stream: StreamKind, items: &SyncItems) -> Vec<String> {
        let SyncItems::Reservations(list) = items else {
            return Vec::new();
        };
        let present: BTreeSet<&str> = list
            .iter()
            .map(|r| r.confirmation_number.as_str())
            .collect();
        self.reservations
            .iter()
            .filter(|(n, e)| e.seen_by & stream.bit() != 0 && !present.contains(n.as_str()))
            // A stay already seen cancelled, no-show or checked out has nothing left to report.
            .filter(|(_, e)| {
                !matches!(
                    e.status,
                    ReservationStatus::Cancelled
                        | ReservationStatus::NoShow
                        | ReservationStatus::CheckedOut
                )
            })
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// The event for a status transition, if it is one Jack is told about by name.
fn transition(from: ReservationStatus, to: ReservationStatus) -> Option<EventKind> {
    if from == to {
        return None;
    }
    match to {
        ReservationStatus::Cancelled => Some(EventKind::ReservationCancelled),
        ReservationStatus::CheckedIn => Some(EventKind::GuestArrived),
        ReservationStatus::CheckedOut => Some(EventKind::GuestDeparted),
        // Back to reserved (check-in undone, reinstated) or no-show: an update.
        ReservationStatus::Reserved | ReservationStatus::NoShow => None,
    }
}

/// The pure form of [`HotelSnapshot::apply`]: events from comparing `previous` (None = nothing
/// seen yet, so `current` is a baseline and gives no events) with what `stream` fetched, and
/// the snapshot to keep.
pub fn diff(
    hotel: &str,
    previous: Option<&HotelSnapshot>,
    stream: StreamKind,
    items: &SyncItems,
    at: DateTime<Utc>,
) -> (HotelSnapshot, Vec<ChangeEvent>) {
    let mut next = previous.cloned().unwrap_or_default();
    let events = next.apply(hotel, stream, items, at);
    (next, events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(n: &str, status: ReservationStatus) -> Reservation {
        Reservation {
            id: format!("id-{n}"),
            confirmation_number: n.into(),
            guest_id: "mock:g1".into(),
            guest_name: "Ada Lovelace".into(),
            status,
            arrival_date: "2026-05-01".into(),
            departure_date: "2026-05-03".into(),
            checkout_time: None,
            room_number: Some("101".into()),
            room_type: None,
            adults: 2,
            children: 0,
            notes: vec![],
        }
    }

    fn room(n: &str, hk: Housekeeping, occupied: Option<bool>) -> RoomStatus {
        RoomStatus {
            room_number: n.into(),
            housekeeping: hk,
            occupied,
            updated_at: None,
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default()
    }

    fn kinds(events: &[ChangeEvent]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.as_str()).collect()
    }

    /// A snapshot whose arrivals stream has seen `list` as its baseline.
    fn baselined(list: Vec<Reservation>) -> HotelSnapshot {
        let mut s = HotelSnapshot::default();
        let ev = s.apply(
            "h1",
            StreamKind::Arrivals,
            &SyncItems::Reservations(list),
            at(),
        );
        assert!(ev.is_empty(), "a baseline gives no events");
        s
    }

    #[test]
    fn no_change_no_events() {
        let list = vec![res("A1", ReservationStatus::Reserved)];
        let mut s = baselined(list.clone());
        let ev = s.apply(
            "h1",
            StreamKind::Arrivals,
            &SyncItems::Reservations(list),
            at(),
        );
        assert!(ev.is_empty());
    }

    #[test]
    fn baseline_is_silent_even_with_many_items() {
        let (snap, ev) = diff(
            "h1",
            None,
            StreamKind::InHouse,
            &SyncItems::Reservations(vec![
                res("A1", ReservationStatus::CheckedIn),
                res("A2", ReservationStatus::CheckedIn),
            ]),
            at(),
        );
        assert!(ev.is_empty());
        assert_eq!(snap.reservations.len(), 2);
        assert!(snap.is_baselined(StreamKind::InHouse));
    }

    #[test]
    fn created() {
        let mut s = baselined(vec![res("A1", ReservationStatus::Reserved)]);
        let list = vec![
            res("A1", ReservationStatus::Reserved),
            res("A2", ReservationStatus::Reserved),
        ];
        let ev = s.apply(
            "h1",
            StreamKind::Arrivals,
            &SyncItems::Reservations(list),
            at(),
        );
        assert_eq!(kinds(&ev), ["reservation.created"]);
        assert_eq!(ev[0].hotel, "h1");
        assert_eq!(ev[0].data["reservation"]["confirmationNumber"], "A2");
    }

    #[test]
    fn updated() {
        let mut s = baselined(vec![res("A1", ReservationStatus::Reserved)]);
        let mut changed = res("A1", ReservationStatus::Reserved);
        changed.notes.push("late arrival".into());
        let ev = s.apply(
            "h1",
            StreamKind::Arrivals,
            &SyncItems::Reservations(vec![changed]),
            at(),
        );
        assert_eq!(kinds(&ev), ["reservation.updated"]);
        assert_eq!(ev[0].data["previousStatus"], "reserved");
    }

    #[test]
    fn cancelled_arrived_departed() {
        for (to, kind) in [
            (ReservationStatus::Cancelled, "reservation.cancelled"),
            (ReservationStatus::CheckedIn, "guest.arrived"),
            (ReservationStatus::CheckedOut, "guest.departed"),
            (ReservationStatus::NoShow, "reservation.updated"),
        ] {
            let mut s = baselined(vec![res("A1", ReservationStatus::Reserved)]);
            let ev = s.apply(
                "h1",
                StreamKind::Arrivals,
                &SyncItems::Reservations(vec![res("A1", to)]),
                at(),
            );
            assert_eq!(kinds(&ev), [kind], "to {to:?}");
        }
    }

    #[test]
    fn gone_is_not_cancelled_and_is_pruned() {
        let mut s = baselined(vec![res("A1", ReservationStatus::Reserved)]);
        let items = SyncItems::Reservations(vec![]);
        assert_eq!(s.vanished(StreamKind::Arrivals, &items), ["A1"]);
        let ev = s.apply("h1", StreamKind::Arrivals, &items, at());
        assert!(ev.is_empty());
        assert!(s.reservations.is_empty(), "no stream sees it: dropped");
    }

    #[test]
    fn check_in_seen_by_two_streams_is_reported_once() {
        let mut s = baselined(vec![res("A1", ReservationStatus::Reserved)]);
        // In-house baseline before the check-in: empty.
        assert!(
            s.apply(
                "h1",
                StreamKind::InHouse,
                &SyncItems::Reservations(vec![]),
                at()
            )
            .is_empty()
        );
        let checked_in = SyncItems::Reservations(vec![res("A1", ReservationStatus::CheckedIn)]);
        let ev = s.apply("h1", StreamKind::InHouse, &checked_in, at());
        assert_eq!(kinds(&ev), ["guest.arrived"]);
        let ev = s.apply("h1", StreamKind::Arrivals, &checked_in, at());
        assert!(
            ev.is_empty(),
            "arrivals finds nothing new: {:?}",
            kinds(&ev)
        );
        // Leaving arrivals but still in house: kept.
        s.apply(
            "h1",
            StreamKind::Arrivals,
            &SyncItems::Reservations(vec![]),
            at(),
        );
        assert_eq!(s.reservations.len(), 1);
    }

    #[test]
    fn walk_in_is_created_and_arrived() {
        let mut s = HotelSnapshot::default();
        s.apply(
            "h1",
            StreamKind::InHouse,
            &SyncItems::Reservations(vec![]),
            at(),
        );
        let ev = s.apply(
            "h1",
            StreamKind::InHouse,
            &SyncItems::Reservations(vec![res("W1", ReservationStatus::CheckedIn)]),
            at(),
        );
        assert_eq!(kinds(&ev), ["reservation.created", "guest.arrived"]);
    }

    #[test]
    fn rooms() {
        let mut s = HotelSnapshot::default();
        let first = SyncItems::Rooms(vec![
            room("101", Housekeeping::Dirty, Some(false)),
            room("102", Housekeeping::Clean, None),
        ]);
        assert!(
            s.apply("h1", StreamKind::RoomStatus, &first, at())
                .is_empty()
        );
        assert!(
            s.apply("h1", StreamKind::RoomStatus, &first, at())
                .is_empty()
        );
        let mut touched = room("102", Housekeeping::Clean, None);
        touched.updated_at = Some("2026-05-01T10:00:00Z".into());
        let second = SyncItems::Rooms(vec![room("101", Housekeeping::Clean, Some(false)), touched]);
        let ev = s.apply("h1", StreamKind::RoomStatus, &second, at());
        assert_eq!(kinds(&ev), ["room.status_changed"]);
        assert_eq!(ev[0].data["room"]["roomNumber"], "101");
        assert_eq!(ev[0].data["previous"]["housekeeping"], "dirty");
    }

    #[test]
    fn snapshot_holds_no_personal_data() {
        let s = baselined(vec![res("A1", ReservationStatus::Reserved)]);
        let json = serde_json::to_string(&s).unwrap_or_default();
        assert!(!json.contains("Ada"), "{json}");
        assert!(!json.contains("mock:g1"), "{json}");
    }

    #[test]
    fn kind_names_round_trip() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap_or_default(),
                serde_json::json!(k.as_str())
            );
        }
    }
}
