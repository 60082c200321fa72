//! What the host reports of its own work: the state of a write and its record, the status of a
//! sync stream and the outcome of a run. These are the answers the API documents (and so the
//! only types here with OpenAPI schemas); the storage and the scheduler produce them but carry
//! no API concerns of their own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A write's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WriteState {
    /// Held for a person's approval (over the hotel's `writes.approvalThreshold`): nothing is
    /// sent until staff approve it (`jack-pms outbox approve`), or reject it.
    #[serde(rename = "awaiting_approval")]
    AwaitingApproval,
    /// Accepted; its first attempt is running.
    Pending,
    /// Waiting for the replay worker.
    Queued,
    /// The PMS holds it.
    Applied,
    /// It will not be applied without staff: see its error.
    Failed,
    /// Staff cancelled it.
    Cancelled,
}

impl WriteState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            WriteState::AwaitingApproval => "awaiting_approval",
            WriteState::Pending => "pending",
            WriteState::Queued => "queued",
            WriteState::Applied => "applied",
            WriteState::Failed => "failed",
            WriteState::Cancelled => "cancelled",
        }
    }
}

/// A write's state as `GET /v1/operations/{id}` and `jack-pms outbox list` show it. Never holds
/// the payload (personal data).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "op-527729240bbe409096aabdcf279d210f", "hotel": "DEMO1", "operation": "postCharge",
    "target": "reservation:CONF1001", "state": "queued", "attempts": 1,
    "error": "the PMS is unavailable", "caller": "jack", "createdAt": "2024-01-15T10:30:00Z",
    "updatedAt": "2024-01-15T10:30:01Z", "nextAttemptAt": "2024-01-15T10:30:03Z"
}))]
pub struct OperationRecord {
    /// Operation id.
    pub id: String,
    /// Hotel.
    pub hotel: String,
    /// Operation name (`postCharge`, …).
    pub operation: String,
    /// Target ids (`reservation:<number>`, `guest:<id>`).
    pub target: String,
    /// `pending`, `queued`, `applied`, `failed` or `cancelled`.
    pub state: WriteState,
    /// Attempts made.
    pub attempts: u32,
    /// Why it failed or was last retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The PMS's reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pms_reference: Option<String>,
    /// Who asked for it.
    pub caller: String,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Next attempt, while queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

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
}

impl std::fmt::Display for StreamKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of the last run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum RunOutcome {
    /// Fetched and diffed.
    Ok {
        /// Items fetched.
        items: usize,
        /// Change events produced.
        events: usize,
    },
    /// Failed.
    Error {
        /// Why.
        message: String,
    },
}

/// One stream's status, as shown by `/v1/hotels/{hotel}/health`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamStatus {
    /// Which stream.
    pub stream: StreamKind,
    /// False when disabled in config (it never runs).
    pub enabled: bool,
    /// The cron expression.
    pub schedule: String,
    /// Start of the last run.
    pub last_started: Option<DateTime<Utc>>,
    /// End of the last run.
    pub last_finished: Option<DateTime<Utc>>,
    /// Duration of the last run, in milliseconds.
    pub duration_ms: Option<u64>,
    /// Result of the last run.
    pub outcome: Option<RunOutcome>,
    /// Runs so far.
    pub runs: u64,
    /// Fires skipped because the previous run was still going.
    pub skipped_overlaps: u64,
    /// When it fires next.
    pub next_run: Option<DateTime<Utc>>,
    /// True while a run is in progress.
    pub running: bool,
    /// The host (node id) that ran the last run, when several share the state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_node: Option<String>,
    /// Fires another host claimed and ran (several hosts share the state).
    pub run_elsewhere: u64,
}
