//! Scheduled sync: what one run of a stream does for a hotel. The scheduler
//! ([`crate::sync::scheduler`]) decides when; this fetches fresh from the PMS (never from the
//! cache, since the point is to notice changes), through the same runtime and egress pipeline as
//! Jack's reads (so runs take their place in the hotel's rate budget), stores the results in the
//! read cache, and hands them to the change tracker.

use super::reads::pms_is_down;
use super::registry::BoundHotel;
use super::{Service, ServiceError};
use crate::events::diff::SyncItems;
use crate::model::{Reservation, ReservationStatus};
use crate::operation::{Call, Outcome};
use crate::sync::StreamKind;
use crate::sync::schedule::BoxFuture;
use crate::sync::scheduler::{RunOutcome, SchedulerError, SyncFailure, SyncRunner};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Stays that left a list looked up per run, at most (the rest wait for the next runs).
const MAX_VANISHED_LOOKUPS: usize = 50;

impl Service {
    /// One run of `stream` for `hotel`: arrivals and departures for the hotel's today (its
    /// local date at `now`) and the next `look_ahead_days` days, in-house guests, or every
    /// room's status.
    pub async fn sync_stream(
        &self,
        hotel: &str,
        stream: StreamKind,
        look_ahead_days: u32,
        now: DateTime<Utc>,
    ) -> Result<SyncItems, SyncFailure> {
        let bound = self
            .hotels
            .resolve(hotel)
            .map_err(|e| SyncFailure::Failed(e.to_string()))?;
        let zone = &bound.binding().zone;
        let now = jiff::Timestamp::from_millisecond(now.timestamp_millis())
            .unwrap_or_else(|_| jiff::Timestamp::now());
        // Today and up to 31 days ahead (a config range check keeps lookAheadDays there too).
        let dates = || {
            zone.dates_from(now, look_ahead_days.min(31) + 1)
                .into_iter()
        };
        let calls: Vec<Call> = match stream {
            StreamKind::Arrivals => dates().map(Call::GetArrivals).collect(),
            StreamKind::Departures => dates().map(Call::GetDepartures).collect(),
            StreamKind::InHouse => vec![Call::GetInHouseGuests],
            StreamKind::RoomStatus => vec![Call::GetAllRoomStatuses],
        };
        // Several dates can list the same reservation: keep one, by confirmation number.
        let mut reservations = BTreeMap::new();
        let mut rooms = Vec::new();
        for call in calls {
            match self.fetch_into_cache(&bound, call).await? {
                Outcome::Reservations(rs) => {
                    for r in rs {
                        reservations.insert(r.confirmation_number.clone(), r);
                    }
                }
                Outcome::Rooms(rs) => rooms = rs,
                _ => {
                    return Err(SyncFailure::Failed(
                        "the adapter answered a sync with the wrong kind of result".into(),
                    ));
                }
            }
        }
        if matches!(stream, StreamKind::Arrivals | StreamKind::Departures) {
            self.confirm_vanished(&bound, stream, &mut reservations)
                .await;
        }
        Ok(match stream {
            StreamKind::RoomStatus => SyncItems::Rooms(rooms),
            _ => SyncItems::Reservations(reservations.into_values().collect()),
        })
    }

    /// Arrivals and departures list only stays that are happening, so a cancelled or no-show
    /// stay leaves the list instead of showing its new status. The stays this stream saw last
    /// time and no longer lists are read one by one (at most [`MAX_VANISHED_LOOKUPS`] a run,
    /// through the normal pipeline); those now cancelled or no-show are added to the run's
    /// items, so the change tracker reports them. The others moved dates and are left out.
    async fn confirm_vanished(
        &self,
        bound: &BoundHotel,
        stream: StreamKind,
        reservations: &mut BTreeMap<String, Reservation>,
    ) {
        let hotel = bound.id();
        let listed = SyncItems::Reservations(reservations.values().cloned().collect());
        let vanished = self.tracker.vanished(hotel, stream, &listed).await;
        if vanished.len() > MAX_VANISHED_LOOKUPS {
            tracing::warn!(%hotel, %stream, vanished = vanished.len(), "more stays left the list than one run looks up; the rest are looked up on the next runs");
        }
        for number in vanished.into_iter().take(MAX_VANISHED_LOOKUPS) {
            match self
                .fetch_into_cache(bound, Call::GetReservation(number))
                .await
            {
                Ok(Outcome::Reservation(Some(r)))
                    if matches!(
                        r.status,
                        ReservationStatus::Cancelled | ReservationStatus::NoShow
                    ) =>
                {
                    reservations.insert(r.confirmation_number.clone(), r);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(%hotel, %stream, error = %e, "a stay that left the list could not be read back");
                }
            }
        }
    }

    /// Runs `stream` (`arrivals`, `departures`, `inHouse`, `roomStatus`) of `hotel` now,
    /// through the scheduler (so never alongside a scheduled run of the same stream).
    pub async fn sync_now(&self, hotel: &str, stream: &str) -> Result<RunOutcome, ServiceError> {
        self.hotels.resolve(hotel)?;
        let kind = StreamKind::ALL
            .into_iter()
            .find(|k| k.as_str() == stream)
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "no sync stream `{stream}`; streams are arrivals, departures, inHouse, roomStatus"
                ))
            })?;
        let scheduler = self
            .scheduler
            .get()
            .ok_or_else(|| ServiceError::HotelUnavailable {
                hotel: hotel.to_owned(),
                reason: "the sync scheduler is not running in this process".into(),
            })?;
        scheduler.run_now(hotel, kind).await.map_err(|e| match e {
            SchedulerError::Busy { .. } => ServiceError::Busy(e.to_string()),
            other => ServiceError::NotFound(other.to_string()),
        })
    }

    /// One fetch of a run, fresh from the PMS and kept in the read cache.
    async fn fetch_into_cache(
        &self,
        bound: &BoundHotel,
        call: Call,
    ) -> Result<Outcome, SyncFailure> {
        self.reads
            .fetch_and_keep(bound, call)
            .await
            .map_err(|e| match e {
                ServiceError::Call(c) if pms_is_down(&c) => SyncFailure::Unavailable(c.to_string()),
                other => SyncFailure::Failed(other.to_string()),
            })
    }
}

/// The scheduler's runner: [`Service::sync_stream`].
pub struct ServiceRunner(pub Arc<Service>);

impl SyncRunner for ServiceRunner {
    fn run<'a>(
        &'a self,
        hotel: &'a str,
        stream: StreamKind,
        look_ahead_days: u32,
        now: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<SyncItems, SyncFailure>> {
        Box::pin(self.0.sync_stream(hotel, stream, look_ahead_days, now))
    }
}
