//! Durable writes: every write is stored in the outbox with its audit row before the PMS sees
//! it, attempted at once when nothing stands before it, and otherwise (or when the PMS cannot
//! take it now) left to the replay worker.
//!
//! The rules that keep a write from being lost or doubled:
//! - Accepted means on disk (`synchronous=FULL`), together with its audit row.
//! - Writes to one target (reservation or guest) are applied in the order they were accepted:
//!   a write with an earlier one still pending or queued is queued behind it.
//! - A row is marked `pending` while an attempt runs. If an attempt may have reached the PMS
//!   (timeout, 5xx, trap, garbage answer) or the process died during one, the write is read back
//!   (`find-write`) before it is sent again; when nobody can tell, it is not resent but `failed`
//!   for staff to check (`jack-pms outbox retry --resend` once they have).
//! - Failures that could not have reached the PMS (rate limits, refused credentials, an adapter
//!   that would not start) are simply retried later.
//! - Refusals (not found, invalid, conflict, unsupported) are final: `failed`, and the caller
//!   gets the problem at once.

use super::ServiceError;
use super::guardrails::Verdict;
use super::reads::Reads;
use super::registry::{BoundHotel, HotelRegistry};
use crate::config::OutboxSettings;
use crate::events::diff::ChangeEvent;
use crate::events::tracker::ChangeTracker;
use crate::metrics::{AlertLabels, WriteLabels, metrics};
use crate::model::{PmsError, WritePresence, WriteReceipt};
use crate::operation::{Call, Operation, Outcome};
use crate::outage::PmsOutages;
use crate::runtime::CallError;
use crate::state::State;
use crate::state::audit::AuditEntry;
use crate::state::outbox::{NewWrite, OperationRecord, OutboxRow, WriteRequest, WriteState};
use crate::state::writer::{Accepted, LEASE, Transition};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How many due writes the worker takes per round.
const ROUND: u32 = 256;
/// How often a node looks for writes whose node's lease ran out.
const LEASE_CHECK_EVERY: Duration = Duration::from_secs(2);

/// How often old applied and cancelled writes are pruned from the outbox.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How many hotels the worker replays at once.
const HOTELS_IN_PARALLEL: usize = 16;
/// Longest a hotel is treated as unavailable (new writes queued without an attempt) after its
/// last failure; then writes are attempted again, which is the probe.
const MAX_DOWN: Duration = Duration::from_secs(30);

/// What a person may decide about a stored write (`POST /v1/operations/{id}/{action}`, the same
/// as `jack-pms outbox retry|cancel|approve|reject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StaffAction {
    /// Queue a failed or cancelled write again, with fresh attempts; it is read back first
    /// when its outcome at the PMS is unknown.
    Retry,
    /// Like `retry`, without the read-back: the person checked that the PMS does not hold it.
    Resend,
    /// Cancel a held, queued, pending or failed write.
    Cancel,
    /// Send a write held for approval.
    Approve,
    /// Cancel a write held for approval, unsent.
    Reject,
}

impl StaffAction {
    /// The token scope the action needs.
    pub fn scope(self) -> crate::config::TokenScope {
        match self {
            StaffAction::Retry | StaffAction::Resend | StaffAction::Cancel => {
                crate::config::TokenScope::Operator
            }
            StaffAction::Approve | StaffAction::Reject => crate::config::TokenScope::Approver,
        }
    }
}

/// A stored write as staff see it: its record, whether its outcome at the PMS is unknown (it
/// is read back before any resend), and what it holds in one line (personal data: the console
/// shows it only to roles that act on writes).
#[derive(Debug, Clone)]
pub struct StaffWrite {
    /// The write's public record.
    pub record: OperationRecord,
    /// The last attempt may or may not have reached the PMS.
    pub outcome_unknown: bool,
    /// What it writes: `charge 25.00 EUR "Minibar"`, `note "…"`, ….
    pub summary: String,
}

/// One line saying what a write holds, each text bounded and escaped for a log-safe line.
fn summarize(request: &crate::state::outbox::WriteRequest) -> String {
    use crate::state::outbox::WriteRequest as W;
    let text = |t: &str| crate::untrusted::escape(t, 120);
    match request {
        W::AddReservationNote { note, .. } => format!("note \"{}\"", text(note)),
        W::UpdateCheckoutTime { time, .. } => format!("check-out at {}", text(time)),
        W::PostCharge { charge, .. } => format!(
            "charge {} {} \"{}\"",
            text(&charge.amount),
            text(&charge.currency),
            text(&charge.description)
        ),
        W::UpdateGuestPreferences { preferences, .. } => format!(
            "preferences {}",
            preferences
                .iter()
                .map(|p| format!("{}={}", text(&p.category), text(&p.code)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The answer to a write: the operation id and where the write stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "operationId": "op-527729240bbe409096aabdcf279d210f", "status": "applied",
    "pmsReference": "mock-req-5"
}))]
pub struct Written {
    /// The host's operation id (`GET /v1/operations/{id}`).
    pub operation_id: String,
    /// `applied` (200) or `queued`/`pending` (202: the host will apply it).
    pub status: WriteState,
    /// The PMS's reference, once applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pms_reference: Option<String>,
}

/// What one attempt came to.
enum Attempted {
    Applied(Option<String>),
    Queued,
    Failed {
        reason: String,
        cause: Option<CallError>,
    },
}

/// Whether a failed call could have changed the PMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Nothing was sent, or the PMS said it did nothing and will take it later.
    NotSent,
    /// It may have been applied.
    MaybeSent,
    /// The PMS refused it for good.
    Refused,
}

fn reach(e: &CallError) -> Reach {
    match e {
        CallError::Pms(PmsError::RateLimited(_) | PmsError::Unauthorized(_))
        | CallError::CircuitOpen { .. }
        | CallError::Instantiate { .. } => Reach::NotSent,
        CallError::Pms(
            PmsError::NotFound
            | PmsError::InvalidRequest(_)
            | PmsError::Unsupported(_)
            | PmsError::Conflict(_),
        ) => Reach::Refused,
        CallError::Pms(PmsError::Unavailable(_) | PmsError::Internal(_))
        | CallError::Deadline { .. }
        | CallError::Trap { .. }
        | CallError::Memory { .. }
        | CallError::TooMuchData { .. }
        | CallError::InvalidOutput { .. } => Reach::MaybeSent,
    }
}

/// True for failures that say the PMS itself cannot be reached or is failing.
fn pms_down(e: &CallError) -> bool {
    matches!(
        e,
        CallError::Pms(PmsError::Unavailable(_)) | CallError::Deadline { .. }
    )
}

/// The write path: accepts writes into the durable outbox, attempts them, and replays the
/// queue (see the module docs).
pub struct Outbox {
    policy: OutboxSettings,
    /// Which PMSes are down (writes held without an attempt), shared with the change tracker.
    outages: Arc<dyn PmsOutages>,
    /// Wakes the replay worker when a write was queued or a PMS came back.
    wake: tokio::sync::Notify,
    pub(super) state: Arc<State>,
    /// Sends through the same calls as reads, and forgets what a write may have changed.
    pub(super) reads: Arc<Reads>,
    /// Resolves the hotel of each replayed write.
    hotels: Arc<HotelRegistry>,
    tracker: Arc<ChangeTracker>,
}

impl Outbox {
    /// The outbox over `state`, with the `outbox:` policy of the config.
    pub fn new(
        policy: OutboxSettings,
        outages: Arc<dyn PmsOutages>,
        state: Arc<State>,
        reads: Arc<Reads>,
        hotels: Arc<HotelRegistry>,
        tracker: Arc<ChangeTracker>,
    ) -> Outbox {
        Outbox {
            policy,
            outages,
            wake: tokio::sync::Notify::new(),
            state,
            reads,
            hotels,
            tracker,
        }
    }

    async fn is_down(&self, hotel: &str) -> bool {
        self.outages.writes_held(hotel).await
    }

    /// Marks the hotel's PMS down; true when it was up before (time to alert).
    async fn mark_down(&self, hotel: &str) -> bool {
        let hold_for = |failures: u32| backoff(&self.policy, failures, false).min(MAX_DOWN);
        self.outages.hold_writes(hotel, &hold_for).await
    }

    /// Marks the hotel's PMS up; true when it was down before.
    async fn mark_up(&self, hotel: &str) -> bool {
        self.outages.release_writes(hotel).await
    }
}

/// Delay before attempt `attempts + 1`: exponential from the initial delay, capped, with the
/// seed's 0–50 % jitter so a hotel's queue does not fire in lockstep.
fn backoff(policy: &OutboxSettings, attempts: u32, jitter: bool) -> Duration {
    let exp = attempts.saturating_sub(1).min(30);
    let base = policy
        .initial_delay
        .saturating_mul(1u32 << exp.min(31))
        .min(policy.max_delay);
    if !jitter {
        return base;
    }
    let extra = rand::random::<f64>() * 0.5;
    base + base.mul_f64(extra)
}

/// Now plus `delay`, saturating at the clock's end rather than overflowing.
fn after(delay: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(delay)
        .ok()
        .and_then(|d| Utc::now().checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The stored form of an `Idempotency-Key`: a hash, so keys of any content fit one column and
/// never echo what the caller put in them.
fn idempotency_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// One step of a write's life, as [`Outbox::record`] stores it.
struct Step {
    /// New state.
    to: WriteState,
    /// Attempts made, counting this one if it was an attempt.
    attempts: u32,
    /// Read back before the next send.
    verify: bool,
    /// Error to show; also the audit detail when `detail` is `None`.
    error: Option<String>,
    /// The PMS's reference, once applied.
    pms_reference: Option<String>,
    /// Audit event.
    event: &'static str,
    /// Audit outcome.
    outcome: &'static str,
    /// Audit detail.
    detail: Option<String>,
    /// Not before (queued writes).
    next_attempt_at: DateTime<Utc>,
}

impl Step {
    /// A step to `to` with no error, reference or detail, due now.
    fn new(to: WriteState, attempts: u32, event: &'static str, outcome: &'static str) -> Step {
        Step {
            to,
            attempts,
            verify: false,
            error: None,
            pms_reference: None,
            event,
            outcome,
            detail: None,
            next_attempt_at: Utc::now(),
        }
    }
}

/// One write about to be attempted.
struct Attempt<'a> {
    id: &'a str,
    hotel: &'a str,
    /// The hotel as resolved for this attempt, or why it could not be (a replayed write of a
    /// hotel that was removed or cannot bind: its send fails as "not sent").
    bound: Result<&'a BoundHotel, &'a str>,
    request: &'a WriteRequest,
    actor: &'a str,
    verify: bool,
    attempts: u32,
}

/// Armed while an attempt runs. Dropped without [`InFlight::disarm`], which only happens when
/// the attempt's future was dropped mid-way or unwound from a panic, it moves the write from
/// `pending` back to `queued` in a task of its own: verified before any resend (the attempt may
/// have reached the PMS), counted as an attempt (so a write whose attempts keep dying still
/// runs out of attempts and fails, for staff), and not due before the next backoff.
struct InFlight {
    writer: Option<crate::state::writer::Writer>,
    id: String,
    hotel: String,
    operation: Operation,
    target: String,
    attempts: u32,
    retry_in: Duration,
}

impl InFlight {
    fn disarm(mut self) {
        self.writer = None;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let Some(writer) = self.writer.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime left (the process is stopping): the next start recovers it.
            return;
        };
        let reason = if std::thread::panicking() {
            "the host failed during the attempt"
        } else {
            "the attempt was abandoned before it finished"
        };
        tracing::error!(hotel = %self.hotel, operation = %self.operation, operation_id = %self.id, "{reason}; the write is queued to be read back before any resend");
        let change = Transition {
            id: self.id.clone(),
            from: vec![WriteState::Pending],
            to: WriteState::Queued,
            verify: true,
            count_attempt: true,
            // Only while this node still holds it: another may have taken it over meanwhile.
            fenced: true,
            reset_attempts: false,
            next_attempt_at: after(self.retry_in),
            error: Some(format!("{reason}: read back before any resend")),
            pms_reference: None,
            audit: AuditEntry {
                actor: "host".into(),
                hotel: self.hotel.clone(),
                operation: self.operation.camel_name().to_owned(),
                operation_id: self.id.clone(),
                target: self.target.clone(),
                event: "interrupted",
                attempt: Some(self.attempts.saturating_add(1)),
                outcome: "queued".into(),
                detail: Some(reason.into()),
                pms_request_id: None,
            },
        };
        let id = self.id.clone();
        runtime.spawn(async move {
            if let Err(e) = writer.transition(change).await {
                tracing::error!(operation_id = %id, error = %e, "cannot queue an interrupted write; the next start recovers it");
            }
        });
    }
}

impl Outbox {
    /// Accepts a write into the outbox and attempts it (see the module docs). The API's write
    /// methods check their input and come here; so does `jack-pms call` for writes.
    pub async fn submit(
        &self,
        bound: &BoundHotel,
        caller: &str,
        idempotency_key: Option<&str>,
        request: WriteRequest,
    ) -> Result<Written, ServiceError> {
        let hotel = bound.id();
        let key = idempotency_key.map(idempotency_hash);
        // A retry of an accepted write answers with the first operation, before any guardrail
        // looks at it again (it would count itself against the per-reservation rate).
        if let Some(key) = &key
            && let Some(first) = self.state.outbox().by_idempotency_key(hotel, key).await?
        {
            return self.first_of_key(hotel, &first, &request).await;
        }
        let verdict = self.guard(bound, caller, &request).await?;
        let id = format!("op-{}", uuid::Uuid::new_v4().simple());
        let down = self.is_down(hotel).await;
        let (state, because) = match &verdict {
            Verdict::Hold(reason) => (WriteState::AwaitingApproval, Some(reason.clone())),
            Verdict::Send if down => (
                WriteState::Queued,
                Some("the PMS is unavailable".to_owned()),
            ),
            Verdict::Send => (WriteState::Pending, None),
        };
        let accepted = self
            .state
            .writer()
            .accept(NewWrite {
                id: id.clone(),
                hotel: hotel.to_owned(),
                request: request.clone(),
                idempotency_key: key,
                caller: caller.to_owned(),
                state,
                queued_because: because.clone(),
            })
            .await?;
        match accepted {
            // Accepted meanwhile under the same key (two retries racing).
            Accepted::Existing(first) => return self.first_of_key(hotel, &first, &request).await,
            Accepted::New(WriteState::Pending) => {}
            Accepted::New(WriteState::AwaitingApproval) => {
                // A write that needs a person: staff hear of it now.
                self.alert(
                    hotel,
                    "awaiting_approval",
                    &id,
                    request.operation(),
                    because.as_deref().unwrap_or("over the approval threshold"),
                );
                return Ok(Written {
                    operation_id: id,
                    status: WriteState::AwaitingApproval,
                    pms_reference: None,
                });
            }
            Accepted::New(state) => {
                self.queued(hotel, &id, request.operation(), "accepted into the queue");
                self.wake.notify_one();
                return Ok(Written {
                    operation_id: id,
                    status: state,
                    pms_reference: None,
                });
            }
        }
        let attempt = Attempt {
            id: &id,
            hotel,
            bound: Ok(bound),
            request: &request,
            actor: caller,
            verify: false,
            attempts: 0,
        };
        match self.attempt(&attempt).await? {
            Attempted::Applied(pms_reference) => Ok(Written {
                operation_id: id,
                status: WriteState::Applied,
                pms_reference,
            }),
            Attempted::Queued => {
                self.wake.notify_one();
                Ok(Written {
                    operation_id: id,
                    status: WriteState::Queued,
                    pms_reference: None,
                })
            }
            Attempted::Failed { cause: Some(e), .. } => Err(ServiceError::Refused {
                operation_id: id,
                error: e,
            }),
            Attempted::Failed { reason, .. } => Err(ServiceError::WriteFailed {
                operation_id: id,
                state: WriteState::Failed,
                reason,
            }),
        }
    }

    /// The answer to a write whose idempotency key was used before: the first operation's, when
    /// `request` is the same write; a refusal when the key was first used for another (a client
    /// bug that must not pass for success: the second write was never made).
    async fn first_of_key(
        &self,
        hotel: &str,
        first: &str,
        request: &WriteRequest,
    ) -> Result<Written, ServiceError> {
        let row = self
            .state
            .outbox()
            .get(first)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no operation `{first}`")))?;
        if row.request != *request {
            tracing::warn!(%hotel, operation_id = %first, "idempotency key reused for another write: refused");
            return Err(ServiceError::IdempotencyKeyReused {
                operation_id: row.id,
            });
        }
        tracing::info!(%hotel, operation_id = %first, "idempotency key reused: answering with the first operation");
        match row.state {
            WriteState::Failed | WriteState::Cancelled => Err(ServiceError::WriteFailed {
                operation_id: row.id.clone(),
                state: row.state,
                reason: row.last_error.clone().unwrap_or_default(),
            }),
            state => Ok(Written {
                operation_id: row.id,
                status: state,
                pms_reference: row.pms_reference,
            }),
        }
    }

    /// One attempt, guarded: if it never finishes (a panic somewhere on its path, or its
    /// caller went away and dropped it), the write is not left `pending` until the next
    /// restart but queued again at once, to be read back before any resend (see
    /// [`InFlight`]).
    async fn attempt(&self, a: &Attempt<'_>) -> Result<Attempted, ServiceError> {
        let guard = InFlight {
            writer: Some(self.state.writer().clone()),
            id: a.id.to_owned(),
            hotel: a.hotel.to_owned(),
            operation: a.request.operation(),
            target: a.request.target(),
            attempts: a.attempts,
            retry_in: backoff(&self.policy, a.attempts.saturating_add(1), true),
        };
        let result = self.attempt_unguarded(a).await;
        guard.disarm();
        result
    }

    /// One attempt: read back first when needed, then send; records the outcome with its audit
    /// row. Errors only when the state file cannot be written.
    async fn attempt_unguarded(&self, a: &Attempt<'_>) -> Result<Attempted, ServiceError> {
        let operation = a.request.operation();
        let number = a.attempts.saturating_add(1);
        if a.verify {
            let asked = Call::FindWrite {
                operation_id: a.id.to_owned(),
                target: a.request.write_target(),
            };
            match self.send(a, asked).await {
                Ok(Outcome::Presence(WritePresence::Applied)) => {
                    self.writes_metric(a.hotel, operation, "verified_applied");
                    self.after_success(a.hotel).await;
                    self.record(
                        a,
                        Step {
                            detail: Some("found in the PMS when read back: not sent again".into()),
                            ..Step::new(WriteState::Applied, number, "verified", "applied")
                        },
                    )
                    .await?;
                    return Ok(Attempted::Applied(None));
                }
                Ok(Outcome::Presence(WritePresence::Absent)) => {
                    self.record(
                        a,
                        Step {
                            detail: Some("not in the PMS when read back: sending".into()),
                            ..Step::new(WriteState::Pending, a.attempts, "verified", "absent")
                        },
                    )
                    .await?;
                }
                Ok(Outcome::Presence(WritePresence::Unknown))
                | Err(CallError::Pms(PmsError::Unsupported(_))) => {
                    let reason = format!(
                        "an earlier attempt may have reached the PMS and adapter `{}` cannot tell whether it did: check the PMS, then `jack-pms outbox retry {} --resend` or `cancel`",
                        self.adapter_name(a),
                        a.id
                    );
                    return self
                        .give_up(a, number, reason, None, "verified", "unknown")
                        .await;
                }
                Ok(_) => {
                    let reason =
                        "the adapter answered find-write with the wrong kind of result".to_owned();
                    return self
                        .give_up(a, number, reason, None, "verified", "invalid")
                        .await;
                }
                Err(e) => {
                    if pms_down(&e) {
                        self.after_pms_failure(a.hotel, &e).await;
                    }
                    return self.requeue(a, number, true, &e, "verified").await;
                }
            }
        }
        let call = a.request.to_call(a.id);
        let result = self.send(a, call.clone()).await;
        // Even a failed write may have reached the PMS: forget what it may have changed.
        self.reads
            .cache()
            .invalidate_for_write(a.hotel, &call)
            .await;
        match result {
            Ok(Outcome::Receipt(WriteReceipt { pms_reference })) => {
                self.writes_metric(a.hotel, operation, "applied");
                self.after_success(a.hotel).await;
                tracing::info!(hotel = %a.hotel, %operation, operation_id = %a.id, caller = %a.actor, attempt = number, "write applied");
                self.record(
                    a,
                    Step {
                        pms_reference: pms_reference.clone(),
                        ..Step::new(WriteState::Applied, number, "attempt", "applied")
                    },
                )
                .await?;
                Ok(Attempted::Applied(pms_reference))
            }
            Ok(_) => {
                let e = CallError::InvalidOutput {
                    adapter: self.adapter_name(a),
                    operation,
                    reason: "a write answered with something other than a receipt".into(),
                };
                self.requeue(a, number, true, &e, "attempt").await
            }
            Err(e) => match reach(&e) {
                Reach::Refused
                    if a.attempts == 0 && !matches!(e, CallError::Pms(PmsError::Conflict(_))) =>
                {
                    // Refused outright while the caller waits (the target does not exist, the
                    // request is wrong, the vendor cannot do it): the caller hears why and the
                    // audit log keeps it; staff are not alerted, as there is nothing for a
                    // person to resolve.
                    let reason = e.to_string();
                    self.refuse(a, number, reason, e).await
                }
                Reach::Refused => {
                    let reason = e.to_string();
                    self.give_up(a, number, reason, Some(e), "attempt", "refused")
                        .await
                }
                reach => {
                    if pms_down(&e) {
                        self.after_pms_failure(a.hotel, &e).await;
                    }
                    self.requeue(a, number, reach == Reach::MaybeSent, &e, "attempt")
                        .await
                }
            },
        }
    }

    /// Queues a write again after a failed attempt, or fails it when its attempts are used up.
    async fn requeue(
        &self,
        a: &Attempt<'_>,
        number: u32,
        may_have_applied: bool,
        e: &CallError,
        event: &'static str,
    ) -> Result<Attempted, ServiceError> {
        // Once a send may have reached the PMS, the write stays "read back first" until a
        // read-back says otherwise.
        let verify = a.verify || may_have_applied;
        if number >= self.policy.max_attempts {
            let reason = format!(
                "gave up after {number} attempts: {e}{}",
                if verify {
                    " (the last attempts may have reached the PMS: check it before `jack-pms outbox retry`)"
                } else {
                    ""
                }
            );
            return self.give_up(a, number, reason, None, event, "failed").await;
        }
        let mut delay = backoff(&self.policy, number, true);
        if let CallError::Pms(PmsError::RateLimited(Some(ms))) = e {
            delay = delay.max(Duration::from_millis(*ms));
        }
        let next = after(delay);
        self.writes_metric(a.hotel, a.request.operation(), "queued");
        tracing::warn!(hotel = %a.hotel, operation = %a.request.operation(), operation_id = %a.id, attempt = number, error = %e, retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX), "write queued for retry");
        self.record(
            a,
            Step {
                verify,
                error: Some(e.to_string()),
                next_attempt_at: next,
                ..Step::new(WriteState::Queued, number, event, "queued")
            },
        )
        .await?;
        if a.attempts == 0 {
            self.queued(a.hotel, a.id, a.request.operation(), &e.to_string());
        }
        Ok(Attempted::Queued)
    }

    /// Fails a write the PMS refused outright on its first attempt, without a staff alert: the
    /// caller gets the refusal, the audit log and `/metrics` (`result="refused"`) keep it.
    async fn refuse(
        &self,
        a: &Attempt<'_>,
        number: u32,
        reason: String,
        cause: CallError,
    ) -> Result<Attempted, ServiceError> {
        self.writes_metric(a.hotel, a.request.operation(), "refused");
        tracing::info!(hotel = %a.hotel, operation = %a.request.operation(), operation_id = %a.id, %reason, "write refused by the PMS");
        self.record(
            a,
            Step {
                verify: a.verify,
                error: Some(reason.clone()),
                ..Step::new(WriteState::Failed, number, "attempt", "refused")
            },
        )
        .await?;
        Ok(Attempted::Failed {
            reason,
            cause: Some(cause),
        })
    }

    /// Fails a write for good and alerts staff.
    async fn give_up(
        &self,
        a: &Attempt<'_>,
        number: u32,
        reason: String,
        cause: Option<CallError>,
        event: &'static str,
        outcome: &'static str,
    ) -> Result<Attempted, ServiceError> {
        self.writes_metric(a.hotel, a.request.operation(), "failed");
        self.record(
            a,
            Step {
                verify: a.verify,
                error: Some(reason.clone()),
                ..Step::new(WriteState::Failed, number, event, outcome)
            },
        )
        .await?;
        self.alert(
            a.hotel,
            "write_failed",
            a.id,
            a.request.operation(),
            &reason,
        );
        Ok(Attempted::Failed { reason, cause })
    }

    /// Records one step of a write: its new state and its audit row, in one transaction.
    async fn record(&self, a: &Attempt<'_>, step: Step) -> Result<(), ServiceError> {
        let Step {
            to,
            attempts,
            verify,
            error,
            pms_reference,
            event,
            outcome,
            detail,
            next_attempt_at,
        } = step;
        let detail = detail.or_else(|| error.clone());
        // An applied write is recorded whatever happened meanwhile (staff may have cancelled it
        // while the attempt ran): the PMS's truth wins.
        let from = if to == WriteState::Applied {
            vec![
                WriteState::Pending,
                WriteState::Queued,
                WriteState::Cancelled,
                WriteState::Failed,
            ]
        } else {
            vec![WriteState::Pending]
        };
        let changed = self
            .state
            .writer()
            .transition(Transition {
                id: a.id.to_owned(),
                from,
                to,
                verify,
                count_attempt: attempts > a.attempts,
                // Any other outcome only while this node still holds the write (its lease may
                // have run out and another node taken it over, to read it back itself).
                fenced: to != WriteState::Applied,
                reset_attempts: false,
                next_attempt_at,
                error,
                pms_reference: pms_reference.clone(),
                audit: AuditEntry {
                    actor: a.actor.to_owned(),
                    hotel: a.hotel.to_owned(),
                    operation: a.request.operation().camel_name().to_owned(),
                    operation_id: a.id.to_owned(),
                    target: a.request.target(),
                    event,
                    attempt: Some(attempts.max(1)),
                    outcome: outcome.to_owned(),
                    detail,
                    pms_request_id: pms_reference,
                },
            })
            .await?;
        if !changed {
            tracing::warn!(operation_id = %a.id, state = %to, "write changed state while it was attempted; outcome not recorded over it");
        }
        Ok(())
    }

    /// Runs a call for the write path: failures other than the call's own (the hotel's adapter
    /// not bound) count as "not sent".
    async fn send(&self, a: &Attempt<'_>, call: Call) -> Result<Outcome, CallError> {
        let not_sent = |reason: String| CallError::Instantiate {
            adapter: self.adapter_name(a),
            reason,
        };
        match a.bound {
            Ok(bound) => self.reads.call(bound, call).await.map_err(|e| match e {
                ServiceError::Call(c) => c,
                other => not_sent(other.to_string()),
            }),
            Err(reason) => Err(not_sent(reason.to_owned())),
        }
    }

    /// The adapter the write's hotel is configured with (for messages).
    fn adapter_name(&self, a: &Attempt<'_>) -> String {
        match a.bound {
            Ok(bound) => bound.settings().adapter.clone(),
            Err(_) => self.hotels.adapter_of(a.hotel).unwrap_or_default(),
        }
    }

    fn writes_metric(&self, hotel: &str, operation: Operation, result: &'static str) {
        metrics()
            .writes
            .get_or_create(&WriteLabels {
                hotel: hotel.to_owned(),
                operation: operation.camel_name().to_owned(),
                result,
            })
            .inc();
    }

    /// The seed's fallback for writes: queued and staff alerted; critical operations (config
    /// `outbox.critical`) alert at once, at error level.
    fn queued(&self, hotel: &str, id: &str, operation: Operation, why: &str) {
        if self.policy.critical.contains(&operation) {
            self.alert(hotel, "critical_write_queued", id, operation, why);
        } else {
            tracing::warn!(%hotel, %operation, operation_id = %id, reason = %why, "write queued: the PMS will get it when it can");
        }
    }

    /// A staff alert: a log line, a metric and a `staff.alert` change event (which the console
    /// shows and webhooks deliver); for a failed write also a `write.failed` event.
    fn alert(&self, hotel: &str, kind: &'static str, id: &str, operation: Operation, reason: &str) {
        let now = Utc::now();
        let name = operation.camel_name();
        let message = match kind {
            "write_failed" => format!("{name} {id} failed: {reason}"),
            "critical_write_queued" => format!("{name} {id} is queued: {reason}"),
            "awaiting_approval" => format!("{name} {id} awaits approval: {reason}"),
            _ => format!("{name} {id}: {reason}"),
        };
        let mut events = Vec::with_capacity(2);
        if kind == "write_failed" {
            events.push(ChangeEvent::write_failed(hotel, now, id, name, reason));
        }
        events.push(ChangeEvent::staff_alert(
            hotel,
            now,
            kind,
            &crate::untrusted::escape(&message, 500),
            Some((id, name)),
        ));
        let tracker = self.tracker.clone();
        tokio::spawn(async move {
            if let Err(e) = tracker.log().append(events).await {
                tracing::error!(error = %e, "cannot record a staff alert's events");
            }
        });
        if kind == "awaiting_approval" {
            // Expected work for a person, not a failure.
            tracing::warn!(alert = kind, %hotel, %operation, operation_id = %id, %reason, "staff alert");
        } else {
            tracing::error!(alert = kind, %hotel, %operation, operation_id = %id, %reason, "staff alert");
        }
        metrics()
            .alerts
            .get_or_create(&AlertLabels {
                hotel: hotel.to_owned(),
                kind,
            })
            .inc();
    }

    async fn after_pms_failure(&self, hotel: &str, why: &CallError) {
        if self.mark_down(hotel).await {
            let (tracker, hotel_id, detail) =
                (self.tracker.clone(), hotel.to_owned(), why.to_string());
            tokio::spawn(async move {
                if let Err(e) = tracker.failed(&hotel_id, true, &detail, Utc::now()).await {
                    tracing::error!(error = %e, "cannot record a pms.unavailable event");
                }
            });
            tracing::error!(alert = "pms_unavailable", %hotel, "the PMS is unavailable: writes are queued until it answers");
            metrics()
                .alerts
                .get_or_create(&AlertLabels {
                    hotel: hotel.to_owned(),
                    kind: "pms_unavailable",
                })
                .inc();
        }
    }

    async fn after_success(&self, hotel: &str) {
        if self.mark_up(hotel).await {
            let (tracker, hotel_id) = (self.tracker.clone(), hotel.to_owned());
            tokio::spawn(async move {
                if let Err(e) = tracker.recovered(&hotel_id, Utc::now()).await {
                    tracing::error!(error = %e, "cannot record a pms.recovered event");
                }
            });
            tracing::info!(%hotel, "the PMS answers again: replaying queued writes");
            self.wake.notify_one();
        }
    }

    /// The state of a write.
    pub async fn operation(&self, id: &str) -> Result<OperationRecord, ServiceError> {
        self.state
            .outbox()
            .get(id)
            .await?
            .map(|r| r.record())
            .ok_or_else(|| ServiceError::NotFound(format!("no operation `{id}`")))
    }

    /// Writes a person may need to act on, newest first: held for approval, failed (with or
    /// without a known outcome), queued or being attempted; of one hotel or all.
    pub async fn for_staff(
        &self,
        hotel: Option<&str>,
        limit: u32,
    ) -> Result<Vec<StaffWrite>, ServiceError> {
        let rows = self
            .state
            .outbox()
            .list(&crate::state::outbox::OutboxFilter {
                hotel: hotel.map(str::to_owned),
                states: vec![
                    WriteState::AwaitingApproval,
                    WriteState::Failed,
                    WriteState::Queued,
                    WriteState::Pending,
                ],
                limit: Some(limit),
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| StaffWrite {
                outcome_unknown: r.verify,
                summary: summarize(&r.request),
                record: r.record(),
            })
            .collect())
    }

    /// Audit rows matching `filter`, oldest first (details opened).
    pub async fn audit(
        &self,
        filter: &crate::state::audit::AuditFilter,
    ) -> Result<Vec<crate::state::audit::AuditRecord>, ServiceError> {
        Ok(self.state.audit(filter).await?)
    }

    /// Checks every audit chain.
    pub async fn verify_audit(&self) -> Result<crate::state::audit::Verification, ServiceError> {
        Ok(self.state.verify_audit().await?)
    }

    /// A person's decision on a stored write (see [`StaffAction`]), audited under `actor`.
    /// Unknown operations are not found; an action the write's state does not allow (approving
    /// one that is not held, retrying one that is applied) is refused, naming the state.
    pub async fn act(
        &self,
        id: &str,
        action: StaffAction,
        by: &crate::state::Staff<'_>,
    ) -> Result<OperationRecord, ServiceError> {
        self.operation(id).await?;
        let state = &self.state;
        let done = match action {
            StaffAction::Retry => state.retry(id, by, false).await,
            StaffAction::Resend => state.retry(id, by, true).await,
            StaffAction::Cancel => state.cancel(id, by).await,
            StaffAction::Approve => state.approve(id, by).await,
            StaffAction::Reject => state.reject(id, by).await,
        };
        match done {
            Ok(record) => {
                // A write queued again goes out now, not at the worker's next tick.
                self.wake.notify_one();
                Ok(record)
            }
            Err(crate::state::StateError::Refused(reason)) => Err(ServiceError::NotNow(reason)),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes waiting for `hotel`'s PMS.
    pub async fn queue_depth(&self, hotel: &str) -> Result<u64, ServiceError> {
        Ok(self.state.outbox().depth(hotel).await?)
    }

    /// Queues, to be read back before any resend, every write a stopped process left
    /// mid-attempt. Call before serving: a write accepted by this process must never be taken
    /// for one cut off by a crash.
    pub async fn recover_interrupted(&self) -> Result<u64, ServiceError> {
        let n = self
            .state
            .writer()
            .recover(crate::state::writer::Recovery::AtStart)
            .await?;
        if n > 0 {
            tracing::warn!(
                writes = n,
                "writes were cut off mid-attempt by a stop: they are read back before any resend"
            );
        }
        Ok(n)
    }

    /// Starts the replay worker: replays due writes (oldest first, one at a time per target,
    /// hotels in parallel) until `shutdown` resolves. Run [`Outbox::recover_interrupted`] first.
    pub fn spawn_replay(
        self: &Arc<Self>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        let service = self.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = service.replay_loop() => {}
                () = service.lease_loop() => {}
                () = shutdown => {}
            }
        })
    }

    /// Keeps this node's hold on the writes it is attempting (renewing their leases every third
    /// of [`LEASE`]), and takes back, to be read back before any resend, the writes of nodes
    /// whose leases ran out (they died or lost the database), every few seconds.
    async fn lease_loop(&self) {
        let mut tick = tokio::time::interval(LEASE_CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut next_renew = tokio::time::Instant::now();
        loop {
            tick.tick().await;
            let writer = self.state.writer();
            if tokio::time::Instant::now() >= next_renew {
                match writer.renew().await {
                    Ok(_) => next_renew = tokio::time::Instant::now() + LEASE / 3,
                    Err(e) => tracing::error!(error = %e, "cannot renew this node's write leases"),
                }
            }
            match writer
                .recover(crate::state::writer::Recovery::Expired)
                .await
            {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(
                        writes = n,
                        "took over writes whose node's lease ran out: they are read back before any resend"
                    );
                    self.wake.notify_one();
                }
                Err(e) => tracing::error!(error = %e, "cannot check for expired write leases"),
            }
        }
    }

    async fn replay_loop(self: &Arc<Self>) {
        let mut next_prune = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_prune {
                self.prune_outbox().await;
                next_prune = tokio::time::Instant::now() + PRUNE_EVERY;
            }
            let due = match self.state.outbox().due(Utc::now(), ROUND).await {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the outbox; retrying in 5 s");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    continue;
                }
            };
            let mut by_hotel: BTreeMap<String, Vec<OutboxRow>> = BTreeMap::new();
            for row in due {
                if !self.is_down(&row.hotel).await {
                    by_hotel.entry(row.hotel.clone()).or_default().push(row);
                }
            }
            if by_hotel.is_empty() {
                self.idle().await;
                continue;
            }
            let gate = Arc::new(tokio::sync::Semaphore::new(HOTELS_IN_PARALLEL));
            let mut tasks = tokio::task::JoinSet::new();
            for (hotel, rows) in by_hotel {
                let service = self.clone();
                let gate = gate.clone();
                tasks.spawn(async move {
                    let Ok(_permit) = gate.acquire_owned().await else {
                        return;
                    };
                    service.replay_hotel(&hotel, rows).await;
                });
            }
            while tasks.join_next().await.is_some() {}
        }
    }

    /// Forgets applied and cancelled writes older than `outbox.retainDays`.
    async fn prune_outbox(&self) {
        let before = chrono::Duration::from_std(self.policy.retain)
            .ok()
            .and_then(|d| Utc::now().checked_sub_signed(d))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        match self.state.writer().prune(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                writes = n,
                "pruned old applied and cancelled writes from the outbox"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot prune the outbox; trying again later"),
        }
    }

    /// Waits until a write may be due: the earliest `next_attempt_at`, a wake-up, or 1 s.
    async fn idle(&self) {
        let wait = match self.state.outbox().next_due().await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .clamp(Duration::from_millis(20), Duration::from_secs(1)),
            _ => Duration::from_secs(1),
        };
        let _ = tokio::time::timeout(wait, self.wake.notified()).await;
    }

    async fn replay_hotel(&self, hotel: &str, rows: Vec<OutboxRow>) {
        for row in rows {
            if self.is_down(hotel).await {
                // The PMS failed on an earlier row of this round: the rest wait.
                return;
            }
            if let Err(e) = self.replay_one(&row).await {
                tracing::error!(%hotel, operation_id = %row.id, error = %e, "cannot record a replay");
                return;
            }
        }
    }

    async fn replay_one(&self, row: &OutboxRow) -> Result<(), ServiceError> {
        // Claim it first: a stop during the attempt leaves it `pending`, which the next start
        // reads back before any resend.
        let claimed = self
            .state
            .writer()
            .transition(Transition {
                id: row.id.clone(),
                from: vec![WriteState::Queued],
                to: WriteState::Pending,
                verify: row.verify,
                count_attempt: false,
                // A claim: whoever moves it from `queued` first holds it.
                fenced: false,
                reset_attempts: false,
                next_attempt_at: Utc::now(),
                error: row.last_error.clone(),
                pms_reference: None,
                audit: AuditEntry {
                    actor: "replay".into(),
                    hotel: row.hotel.clone(),
                    operation: row.operation.camel_name().to_owned(),
                    operation_id: row.id.clone(),
                    target: row.target.clone(),
                    event: "replay",
                    attempt: Some(row.attempts.saturating_add(1)),
                    outcome: "pending".into(),
                    detail: None,
                    pms_request_id: None,
                },
            })
            .await?;
        if !claimed {
            return Ok(());
        }
        let resolved = self.hotels.resolve(&row.hotel).map_err(|e| e.to_string());
        let attempt = Attempt {
            id: &row.id,
            hotel: &row.hotel,
            bound: resolved.as_ref().map_err(String::as_str),
            request: &row.request,
            actor: "replay",
            verify: row.verify,
            attempts: row.attempts,
        };
        self.attempt(&attempt).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let policy = OutboxSettings {
            max_attempts: 10,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            critical: vec![],
            retain: Duration::from_secs(86_400),
        };
        let d: Vec<u64> = (1..=6)
            .map(|n| backoff(&policy, n, false).as_secs())
            .collect();
        assert_eq!(d, [1, 2, 4, 8, 8, 8]);
        let j = backoff(&policy, 2, true);
        assert!(
            j >= Duration::from_secs(2) && j <= Duration::from_secs(3),
            "{j:?}"
        );
    }

    #[test]
    fn only_refusals_are_final_and_only_unsent_failures_skip_the_read_back() {
        assert_eq!(
            reach(&CallError::Pms(PmsError::RateLimited(None))),
            Reach::NotSent
        );
        assert_eq!(
            reach(&CallError::Pms(PmsError::Unavailable("503".into()))),
            Reach::MaybeSent
        );
        assert_eq!(
            reach(&CallError::Pms(PmsError::Conflict("x".into()))),
            Reach::Refused
        );
        assert_eq!(
            reach(&CallError::Deadline {
                adapter: "a".into(),
                operation: Operation::PostCharge,
                deadline: Duration::from_secs(1)
            }),
            Reach::MaybeSent
        );
    }
}
