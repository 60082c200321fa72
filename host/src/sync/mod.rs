//! Scheduled syncs (issue part 4): each hotel's arrivals, departures, in-house and room-status
//! streams, fired on their cron schedules with a per-hotel jitter.

pub mod schedule;
pub mod scheduler;

pub use crate::report::StreamKind;

impl StreamKind {
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
