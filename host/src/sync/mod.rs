//! Scheduled syncs (issue part 4): each hotel's arrivals, departures, in-house and room-status
//! streams, fired on their cron schedules with a per-hotel jitter.

pub mod schedule;
pub mod scheduler;

use serde::{Deserialize, Serialize};

/// One sync stream of a hotel.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum StreamKind {
    /// Reservations arriving today and the next `lookAheadDays` days.
    Arrivals,
    /// Reservations departing today and the next `lookAheadDays` days.
    Departures,
    /// Guests in house.
    InHouse,
    /// Housekeeping state of every room.
    RoomStatus,
}

impl StreamKind {
    /// All four, in the order the config lists them.
    pub const ALL: [StreamKind; 4] = [
        StreamKind::Arrivals,
        StreamKind::Departures,
        StreamKind::InHouse,
        StreamKind::RoomStatus,
    ];

    /// The config and JSON name: `arrivals`, `departures`, `inHouse`, `roomStatus`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Arrivals => "arrivals",
            StreamKind::Departures => "departures",
            StreamKind::InHouse => "inHouse",
            StreamKind::RoomStatus => "roomStatus",
        }
    }

    /// A distinct bit per stream, for the snapshot's "seen by" and "baselined" masks.
    pub(crate) fn bit(self) -> u8 {
        match self {
            StreamKind::Arrivals => 1,
            StreamKind::Departures => 2,
            StreamKind::InHouse => 4,
            StreamKind::RoomStatus => 8,
        }
    }
}

impl std::fmt::Display for StreamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
