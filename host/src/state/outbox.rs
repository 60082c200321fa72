//! The outbox: every write Jack asks for, stored before the PMS sees it.
//!
//! A row is written together with its audit row in one transaction (see [`super::writer`]),
//! then attempted. Its life: `pending` (accepted, first attempt running) → `applied`, or
//! `queued` (waiting for the replay worker; `verify` set when an earlier attempt may have reached
//! the PMS) → … → `applied` | `failed` (attempts exhausted, refused by the PMS, or an outcome
//! nobody can tell) | `cancelled` (by staff). A `pending` row found at start was cut off by a
//! crash mid-attempt: it is queued with `verify` set, so it is read back before any resend.
//!
//! **Leases (several hosts on one database).** A `pending` write is held by the host attempting
//! it: `owner` is that host's node id, `lease_until` when its hold runs out. The holder renews
//! the leases of its writes while it lives ([`super::writer::Writer::renew`]); the outcome of an
//! attempt is recorded only if the host still holds the write (a fenced transition), so a host
//! that lost its lease (paused, cut off from the database) cannot overwrite what another host
//! found since. A host recovers only writes whose lease has run out, or that its own earlier
//! life held (same node id): never a live host's write in flight. Recovered writes are read back
//! (`find-write`) before any resend, whoever recovers them.
//!
//! The payload (note text, preferences, charge description) and error texts are sealed by the
//! [`FieldCipher`]; hotel, operation, target ids and states are plain so the queue can be
//! worked and listed without opening anything.

use super::StateError;
use super::pii::FieldCipher;
use crate::db::{Db, quoted_list};
use crate::model::{Charge, Preference, WriteTarget};
use crate::on_db;
use crate::operation::{Call, Operation};
use chrono::{DateTime, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

pub use crate::report::{OperationRecord, WriteState};

impl WriteState {
    /// Parses a stored name.
    pub fn parse(s: &str) -> Result<WriteState, StateError> {
        Ok(match s {
            "awaiting_approval" => WriteState::AwaitingApproval,
            "pending" => WriteState::Pending,
            "queued" => WriteState::Queued,
            "applied" => WriteState::Applied,
            "failed" => WriteState::Failed,
            "cancelled" => WriteState::Cancelled,
            other => {
                return Err(StateError::Corrupt(format!(
                    "unknown outbox state `{other}`"
                )));
            }
        })
    }

    /// True when nothing more will happen to it on its own.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            WriteState::Applied | WriteState::Failed | WriteState::Cancelled
        )
    }
}

impl std::fmt::Display for WriteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to write, as stored (sealed) in the outbox: a [`Call`] without its operation id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "camelCase")]
pub enum WriteRequest {
    /// `addReservationNote`
    #[serde(rename_all = "camelCase")]
    AddReservationNote {
        /// Confirmation number.
        confirmation_number: String,
        /// Note.
        note: String,
    },
    /// `updateGuestPreferences`
    #[serde(rename_all = "camelCase")]
    UpdateGuestPreferences {
        /// PMS guest id.
        guest_pms_id: String,
        /// Preferences.
        preferences: Vec<Preference>,
    },
    /// `updateCheckoutTime`
    #[serde(rename_all = "camelCase")]
    UpdateCheckoutTime {
        /// Confirmation number.
        confirmation_number: String,
        /// RFC 3339 instant.
        time: String,
    },
    /// `postCharge`
    #[serde(rename_all = "camelCase")]
    PostCharge {
        /// Confirmation number.
        confirmation_number: String,
        /// Charge.
        charge: Charge,
    },
}

impl WriteRequest {
    /// The operation.
    pub fn operation(&self) -> Operation {
        match self {
            WriteRequest::AddReservationNote { .. } => Operation::AddReservationNote,
            WriteRequest::UpdateGuestPreferences { .. } => Operation::UpdateGuestPreferences,
            WriteRequest::UpdateCheckoutTime { .. } => Operation::UpdateCheckoutTime,
            WriteRequest::PostCharge { .. } => Operation::PostCharge,
        }
    }

    /// The ordering key: writes to the same target are applied in the order accepted.
    pub fn target(&self) -> String {
        match self {
            WriteRequest::AddReservationNote {
                confirmation_number,
                ..
            }
            | WriteRequest::UpdateCheckoutTime {
                confirmation_number,
                ..
            }
            | WriteRequest::PostCharge {
                confirmation_number,
                ..
            } => format!("reservation:{confirmation_number}"),
            WriteRequest::UpdateGuestPreferences { guest_pms_id, .. } => {
                format!("guest:{guest_pms_id}")
            }
        }
    }

    /// What `find-write` is asked about.
    pub fn write_target(&self) -> WriteTarget {
        match self {
            WriteRequest::AddReservationNote {
                confirmation_number,
                ..
            } => WriteTarget::ReservationNote(confirmation_number.clone()),
            WriteRequest::UpdateGuestPreferences { guest_pms_id, .. } => {
                WriteTarget::GuestPreferences(guest_pms_id.clone())
            }
            WriteRequest::UpdateCheckoutTime {
                confirmation_number,
                ..
            } => WriteTarget::CheckoutTime(confirmation_number.clone()),
            WriteRequest::PostCharge {
                confirmation_number,
                ..
            } => WriteTarget::Charge(confirmation_number.clone()),
        }
    }

    /// The write a [`Call`] makes, if it is a write (its operation id is dropped: the outbox
    /// gives each write its own).
    pub fn from_call(call: Call) -> Option<WriteRequest> {
        Some(match call {
            Call::AddReservationNote {
                confirmation_number,
                note,
                ..
            } => WriteRequest::AddReservationNote {
                confirmation_number,
                note,
            },
            Call::UpdateGuestPreferences {
                guest_pms_id,
                preferences,
                ..
            } => WriteRequest::UpdateGuestPreferences {
                guest_pms_id,
                preferences,
            },
            Call::UpdateCheckoutTime {
                confirmation_number,
                time,
                ..
            } => WriteRequest::UpdateCheckoutTime {
                confirmation_number,
                time,
            },
            Call::PostCharge {
                confirmation_number,
                charge,
                ..
            } => WriteRequest::PostCharge {
                confirmation_number,
                charge,
            },
            _ => return None,
        })
    }

    /// The adapter call for this write.
    pub fn to_call(&self, operation_id: &str) -> Call {
        let operation_id = operation_id.to_owned();
        match self.clone() {
            WriteRequest::AddReservationNote {
                confirmation_number,
                note,
            } => Call::AddReservationNote {
                operation_id,
                confirmation_number,
                note,
            },
            WriteRequest::UpdateGuestPreferences {
                guest_pms_id,
                preferences,
            } => Call::UpdateGuestPreferences {
                operation_id,
                guest_pms_id,
                preferences,
            },
            WriteRequest::UpdateCheckoutTime {
                confirmation_number,
                time,
            } => Call::UpdateCheckoutTime {
                operation_id,
                confirmation_number,
                time,
            },
            WriteRequest::PostCharge {
                confirmation_number,
                charge,
            } => Call::PostCharge {
                operation_id,
                confirmation_number,
                charge,
            },
        }
    }
}

/// A write to accept.
#[derive(Debug, Clone)]
pub struct NewWrite {
    /// Operation id.
    pub id: String,
    /// Hotel.
    pub hotel: String,
    /// What to write.
    pub request: WriteRequest,
    /// The caller's `Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// Who asked (API token name).
    pub caller: String,
    /// `Pending` to attempt now, `Queued` to leave to the worker.
    pub state: WriteState,
    /// Why it was queued without an attempt (for the audit row).
    pub queued_because: Option<String>,
}

/// One outbox row, opened.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// Insertion order.
    pub seq: i64,
    /// Operation id.
    pub id: String,
    /// Hotel.
    pub hotel: String,
    /// Operation.
    pub operation: Operation,
    /// Ordering key (`reservation:<n>` / `guest:<id>`).
    pub target: String,
    /// Who asked.
    pub caller: String,
    /// What to write.
    pub request: WriteRequest,
    /// State.
    pub state: WriteState,
    /// Read back before the next send.
    pub verify: bool,
    /// Attempts so far.
    pub attempts: u32,
    /// Not before.
    pub next_attempt_at: DateTime<Utc>,
    /// Last error.
    pub last_error: Option<String>,
    /// PMS reference once applied.
    pub pms_reference: Option<String>,
    /// Accepted at.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl OutboxRow {
    /// The public view.
    pub fn record(&self) -> OperationRecord {
        OperationRecord {
            id: self.id.clone(),
            hotel: self.hotel.clone(),
            operation: self.operation.camel_name().to_owned(),
            target: self.target.clone(),
            state: self.state,
            attempts: self.attempts,
            error: self.last_error.clone(),
            pms_reference: self.pms_reference.clone(),
            caller: self.caller.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            next_attempt_at: (self.state == WriteState::Queued).then_some(self.next_attempt_at),
        }
    }
}

/// Milliseconds since the epoch.
pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

const COLUMNS: &str = "seq, id, hotel, operation, target, caller, payload, state, verify, \
                       attempts, next_attempt_at, last_error, pms_reference, created_at, updated_at";

/// An outbox row as stored (the columns of [`COLUMNS`]), still sealed.
#[derive(sqlx::FromRow)]
struct StoredRow {
    seq: i64,
    id: String,
    hotel: String,
    operation: String,
    target: String,
    caller: String,
    payload: Vec<u8>,
    state: String,
    verify: bool,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<Vec<u8>>,
    pms_reference: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// Opens a stored row.
fn open_row(cipher: &FieldCipher, r: StoredRow) -> Result<OutboxRow, StateError> {
    let id = r.id;
    let payload = cipher.open("outbox", &id, "payload", &r.payload)?;
    let request: WriteRequest = serde_json::from_slice(&payload)
        .map_err(|e| StateError::Corrupt(format!("outbox row {id}: payload: {e}")))?;
    let last_error = r
        .last_error
        .map(|e| cipher.open_str("outbox", &id, "last_error", &e))
        .transpose()?;
    let operation = r
        .operation
        .parse::<Operation>()
        .map_err(|e| StateError::Corrupt(format!("outbox row {id}: {e}")))?;
    Ok(OutboxRow {
        seq: r.seq,
        hotel: r.hotel,
        operation,
        target: r.target,
        caller: r.caller,
        request,
        state: WriteState::parse(&r.state)?,
        verify: r.verify,
        attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
        next_attempt_at: from_millis(r.next_attempt_at),
        last_error,
        pms_reference: r.pms_reference,
        created_at: from_millis(r.created_at),
        updated_at: from_millis(r.updated_at),
        id,
    })
}

/// The SQL list of `states` for an `IN (…)` clause.
pub(super) fn states_sql(states: &[WriteState]) -> String {
    quoted_list(states.iter().map(|s| s.as_str()))
}

/// Read access to the outbox (reads never wait for the writer: WAL on SQLite, MVCC on
/// PostgreSQL).
#[derive(Debug, Clone)]
pub struct OutboxReader {
    pub(super) db: Db,
    pub(super) cipher: std::sync::Arc<FieldCipher>,
}

/// Filter of [`OutboxReader::list`].
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// Only this hotel.
    pub hotel: Option<String>,
    /// Only these states.
    pub states: Vec<WriteState>,
    /// At most this many (newest first), default 1,000.
    pub limit: Option<u32>,
}

impl OutboxReader {
    /// The row of operation `id`.
    pub async fn get(&self, id: &str) -> Result<Option<OutboxRow>, StateError> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = $1");
        let row: Option<StoredRow> =
            on_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id)
            .fetch_optional(p)
            .await)
            .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        row.map(|r| open_row(&self.cipher, r)).transpose()
    }

    /// Writes the worker may attempt now: queued, due, and first in line for their target
    /// (no earlier write to the same target still pending or queued), oldest first.
    pub async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxRow>, StateError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox o WHERE o.state = 'queued' AND o.next_attempt_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.hotel = o.hotel AND p.target = o.target \
             AND p.state IN ('pending', 'queued') AND p.seq < o.seq) \
             ORDER BY o.seq LIMIT $2"
        );
        let rows: Vec<StoredRow> =
            on_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(millis(now))
            .bind(i64::from(limit))
            .fetch_all(p)
            .await)
            .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        self.open_all(rows)
    }

    /// When the next queued write falls due, if any.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        let next: Option<i64> = on_db!(&self.db, p => sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'",
        )
        .fetch_one(p)
        .await)
        .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        Ok(next.map(from_millis))
    }

    /// Writes matching `filter`, newest first.
    pub async fn list(&self, filter: &OutboxFilter) -> Result<Vec<OutboxRow>, StateError> {
        let states = if filter.states.is_empty() {
            String::new()
        } else {
            format!("AND state IN ({})", states_sql(&filter.states))
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox WHERE ($1 IS NULL OR hotel = $1) {states} \
             ORDER BY seq DESC LIMIT $2"
        );
        let limit = i64::from(filter.limit.unwrap_or(1000));
        let rows: Vec<StoredRow> =
            on_db!(&self.db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(filter.hotel.as_deref())
            .bind(limit)
            .fetch_all(p)
            .await)
            .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        self.open_all(rows)
    }

    /// The write `hotel` accepted under the (hashed) idempotency key `key`, if any.
    pub async fn by_idempotency_key(
        &self,
        hotel: &str,
        key: &str,
    ) -> Result<Option<String>, StateError> {
        on_db!(&self.db, p => sqlx::query_scalar(
            "SELECT id FROM outbox WHERE hotel = $1 AND idempotency_key = $2",
        )
        .bind(hotel)
        .bind(key)
        .fetch_optional(p)
        .await)
        .map_err(|e| StateError::storage("cannot read the outbox", e))
    }

    /// Writes of `operation` to `target` of `hotel` accepted since `since` that are, or may yet
    /// be, applied (held, pending, queued or applied; not failed or cancelled): what a
    /// per-reservation rate guardrail counts.
    pub async fn recent(
        &self,
        hotel: &str,
        operation: Operation,
        target: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, StateError> {
        let n: i64 = on_db!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE hotel = $1 AND operation = $2 AND target = $3 \
             AND created_at >= $4 \
             AND state IN ('awaiting_approval', 'pending', 'queued', 'applied')",
        )
        .bind(hotel)
        .bind(operation.camel_name())
        .bind(target)
        .bind(millis(since))
        .fetch_one(p)
        .await)
        .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Writes of `hotel` not yet applied, failed or cancelled.
    pub async fn depth(&self, hotel: &str) -> Result<u64, StateError> {
        let n: i64 = on_db!(&self.db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE hotel = $1 AND state IN ('pending', 'queued')",
        )
        .bind(hotel)
        .fetch_one(p)
        .await)
        .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    fn open_all(&self, rows: Vec<StoredRow>) -> Result<Vec<OutboxRow>, StateError> {
        rows.into_iter()
            .map(|r| open_row(&self.cipher, r))
            .collect()
    }
}
