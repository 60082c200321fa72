//! The one writer of the outbox and the audit log, with group commit.
//!
//! Every change to a write's state and its audit row go into the same transaction. Requests
//! arrive on a channel; the writer takes all that are waiting (up to [`MAX_BATCH`]) and commits
//! them together, so one fsync covers many writes (`synchronous=FULL`: nothing is acknowledged
//! before it is on disk). If a batch fails, its jobs are redone one per transaction so that one
//! bad job cannot fail the others.
//!
//! `BEGIN IMMEDIATE` takes SQLite's write lock before the audit head is read, so a CLI process
//! changing the outbox at the same time (`jack-pms outbox retry`) extends the same chain.

use super::StateError;
use super::audit::{AuditEntry, ChainKey, Head};
use super::outbox::{NewWrite, WriteState, millis};
use super::pii::FieldCipher;
use chrono::{DateTime, Utc};
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most jobs committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// What accepting a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored with this state (`Pending`: attempt it now; `Queued`: the worker will).
    New(WriteState),
    /// The idempotency key was used before: this is the first write's operation id.
    Existing(String),
}

/// A change of one write's state, with its audit row.
#[derive(Debug, Clone)]
pub struct Transition {
    /// Operation id.
    pub id: String,
    /// Only if the write is in one of these states now.
    pub from: Vec<WriteState>,
    /// New state.
    pub to: WriteState,
    /// Read back before the next send.
    pub verify: bool,
    /// Count this as an attempt.
    pub count_attempt: bool,
    /// Start counting attempts from zero again (staff retry).
    pub reset_attempts: bool,
    /// Not before (queued writes).
    pub next_attempt_at: DateTime<Utc>,
    /// Error to show (sealed at rest); `None` clears it.
    pub error: Option<String>,
    /// PMS reference (kept if `None`).
    pub pms_reference: Option<String>,
    /// The audit row.
    pub audit: AuditEntry,
}

enum Job {
    Accept(NewWrite, oneshot::Sender<Result<Accepted, StateError>>),
    Transition(Transition, oneshot::Sender<Result<bool, StateError>>),
    Recover(oneshot::Sender<Result<u64, StateError>>),
    Audit(AuditEntry, oneshot::Sender<Result<bool, StateError>>),
    Prune(DateTime<Utc>, oneshot::Sender<Result<u64, StateError>>),
}

impl Job {
    fn fail(self, e: StateError) {
        // The asker may have gone away (request cancelled): nothing to tell then.
        match self {
            Job::Accept(_, reply) => drop(reply.send(Err(e))),
            Job::Transition(_, reply) => drop(reply.send(Err(e))),
            Job::Recover(reply) => drop(reply.send(Err(e))),
            Job::Audit(_, reply) => drop(reply.send(Err(e))),
            Job::Prune(_, reply) => drop(reply.send(Err(e))),
        }
    }
}

enum Done {
    Accept(Accepted),
    Transition(bool),
    Count(u64),
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: mpsc::Sender<JobBox>,
}

/// `Job` is not `Debug` (it holds reply channels); this wrapper keeps `Writer: Debug`.
struct JobBox(Job);

impl std::fmt::Debug for JobBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

struct Context {
    pool: SqlitePool,
    cipher: Arc<FieldCipher>,
    chain: Arc<ChainKey>,
}

impl Writer {
    /// Starts the writer task on `pool`.
    pub fn spawn(pool: SqlitePool, cipher: Arc<FieldCipher>, chain: Arc<ChainKey>) -> Writer {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(
            Context {
                pool,
                cipher,
                chain,
            },
            rx,
        ));
        Writer { jobs: tx }
    }

    async fn ask<T>(
        &self,
        job: Job,
        reply: oneshot::Receiver<Result<T, StateError>>,
    ) -> Result<T, StateError> {
        self.jobs
            .send(JobBox(job))
            .await
            .map_err(|_| StateError::Closed)?;
        reply.await.map_err(|_| StateError::Closed)?
    }

    /// Stores a new write and its `accepted` audit row (one transaction). A write asked to be
    /// attempted now is queued instead when an earlier write to the same target is still
    /// pending or queued: writes to one reservation are applied in order.
    pub async fn accept(&self, write: NewWrite) -> Result<Accepted, StateError> {
        let (tx, rx) = oneshot::channel();
        self.ask(Job::Accept(write, tx), rx).await
    }

    /// Applies a state change and its audit row (one transaction); `false` when the write was
    /// not in one of `from` (nothing changed, no audit row).
    pub async fn transition(&self, change: Transition) -> Result<bool, StateError> {
        let (tx, rx) = oneshot::channel();
        self.ask(Job::Transition(change, tx), rx).await
    }

    /// Forgets applied and cancelled writes last changed before `before` (their audit rows stay:
    /// the audit log is never pruned). Queued, pending and failed writes are kept whatever their
    /// age. Returns how many were removed.
    pub async fn prune(&self, before: DateTime<Utc>) -> Result<u64, StateError> {
        let (tx, rx) = oneshot::channel();
        self.ask(Job::Prune(before, tx), rx).await
    }

    /// Appends one audit row that belongs to no stored write (a write the guardrails refused
    /// before it was stored).
    pub async fn audit(&self, entry: AuditEntry) -> Result<(), StateError> {
        let (tx, rx) = oneshot::channel();
        self.ask(Job::Audit(entry, tx), rx).await.map(|_| ())
    }

    /// Queues (with read-back) every write left `pending` by a process that stopped mid-attempt.
    pub async fn recover(&self) -> Result<u64, StateError> {
        let (tx, rx) = oneshot::channel();
        self.ask(Job::Recover(tx), rx).await
    }
}

async fn run(ctx: Context, mut rx: mpsc::Receiver<JobBox>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(JobBox(first)) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(JobBox(job)) => batch.push(job),
                Err(_) => break,
            }
        }
        let jobs: Vec<Job> = std::mem::take(&mut batch);
        let count = jobs.len();
        match commit(&ctx, &jobs).await {
            Ok(done) => reply_all(jobs, done),
            Err(e) if count == 1 => {
                for job in jobs {
                    job.fail(e.clone());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, jobs = count, "state batch failed; committing its jobs one by one");
                for job in jobs {
                    match commit(&ctx, std::slice::from_ref(&job)).await {
                        Ok(done) => reply_all(vec![job], done),
                        Err(e) => job.fail(e),
                    }
                }
            }
        }
    }
}

fn reply_all(jobs: Vec<Job>, done: Vec<Done>) {
    for (job, d) in jobs.into_iter().zip(done) {
        match (job, d) {
            (Job::Accept(_, r), Done::Accept(a)) => drop(r.send(Ok(a))),
            (Job::Transition(_, r), Done::Transition(t))
            | (Job::Audit(_, r), Done::Transition(t)) => drop(r.send(Ok(t))),
            (Job::Recover(r), Done::Count(n)) | (Job::Prune(_, r), Done::Count(n)) => {
                drop(r.send(Ok(n)))
            }
            (job, _) => job.fail(StateError::Corrupt("writer reply mismatch".into())),
        }
    }
}

async fn commit(ctx: &Context, jobs: &[Job]) -> Result<Vec<Done>, StateError> {
    let mut tx = ctx
        .pool
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(|e| StateError::storage("cannot begin a write", e))?;
    let mut head = Head::load(&mut tx).await?;
    let mut done = Vec::with_capacity(jobs.len());
    let now = Utc::now();
    for job in jobs {
        done.push(match job {
            Job::Accept(w, _) => Done::Accept(accept(ctx, &mut tx, &mut head, w, now).await?),
            Job::Transition(t, _) => {
                Done::Transition(transition(ctx, &mut tx, &mut head, t, now).await?)
            }
            Job::Recover(_) => Done::Count(recover(ctx, &mut tx, &mut head, now).await?),
            Job::Prune(before, _) => Done::Count(prune(&mut tx, *before).await?),
            Job::Audit(entry, _) => {
                head.append(&mut tx, &ctx.chain, &ctx.cipher, entry, now)
                    .await?;
                Done::Transition(true)
            }
        });
    }
    head.store(&mut tx).await?;
    tx.commit()
        .await
        .map_err(|e| StateError::storage("cannot commit a write", e))?;
    Ok(done)
}

async fn accept(
    ctx: &Context,
    tx: &mut SqliteConnection,
    head: &mut Head,
    w: &NewWrite,
    now: DateTime<Utc>,
) -> Result<Accepted, StateError> {
    if let Some(key) = &w.idempotency_key {
        let existing: Option<String> =
            sqlx::query_scalar("SELECT id FROM outbox WHERE hotel = ?1 AND idempotency_key = ?2")
                .bind(&w.hotel)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        if let Some(id) = existing {
            return Ok(Accepted::Existing(id));
        }
    }
    let target = w.request.target();
    let mut state = w.state;
    let mut reason = w.queued_because.clone();
    if state == WriteState::Pending {
        let blocked: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM outbox WHERE hotel = ?1 AND target = ?2 \
             AND state IN ('pending', 'queued') LIMIT 1",
        )
        .bind(&w.hotel)
        .bind(&target)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        if blocked.is_some() {
            state = WriteState::Queued;
            reason = Some("behind an earlier write to the same target".into());
        }
    }
    let payload = serde_json::to_string(&w.request)
        .map_err(|e| StateError::Corrupt(format!("cannot encode a write: {e}")))?;
    let sealed = ctx.cipher.seal_str("outbox", &w.id, "payload", &payload);
    sqlx::query(
        "INSERT INTO outbox (id, hotel, operation, target, idempotency_key, caller, payload, \
         state, verify, attempts, next_attempt_at, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9, ?9, ?9)",
    )
    .bind(&w.id)
    .bind(&w.hotel)
    .bind(w.request.operation().camel_name())
    .bind(&target)
    .bind(w.idempotency_key.as_deref())
    .bind(&w.caller)
    .bind(sealed)
    .bind(state.as_str())
    .bind(millis(now))
    .execute(&mut *tx)
    .await
    .map_err(|e| StateError::storage("cannot store the write", e))?;
    let detail = match &reason {
        Some(r) => format!("{payload}\nqueued: {r}"),
        None => payload,
    };
    head.append(
        tx,
        &ctx.chain,
        &ctx.cipher,
        &AuditEntry {
            actor: w.caller.clone(),
            hotel: w.hotel.clone(),
            operation: w.request.operation().camel_name().to_owned(),
            operation_id: w.id.clone(),
            target,
            event: "accepted",
            attempt: None,
            outcome: state.as_str().to_owned(),
            detail: Some(detail),
            pms_request_id: None,
        },
        now,
    )
    .await?;
    Ok(Accepted::New(state))
}

async fn transition(
    ctx: &Context,
    tx: &mut SqliteConnection,
    head: &mut Head,
    t: &Transition,
    now: DateTime<Utc>,
) -> Result<bool, StateError> {
    let from: Vec<&str> = t.from.iter().map(|s| s.as_str()).collect();
    let error = t
        .error
        .as_deref()
        .map(|e| ctx.cipher.seal_str("outbox", &t.id, "last_error", e));
    let changed = sqlx::query(
        "UPDATE outbox SET state = ?2, verify = ?3, \
         attempts = CASE WHEN ?10 THEN 0 ELSE attempts + ?4 END, \
         next_attempt_at = ?5, last_error = ?6, pms_reference = COALESCE(?7, pms_reference), \
         updated_at = ?8 WHERE id = ?1 AND instr(',' || ?9 || ',', ',' || state || ',') > 0",
    )
    .bind(&t.id)
    .bind(t.to.as_str())
    .bind(i64::from(t.verify))
    .bind(i64::from(t.count_attempt))
    .bind(millis(t.next_attempt_at))
    .bind(error)
    .bind(t.pms_reference.as_deref())
    .bind(millis(now))
    .bind(from.join(","))
    .bind(t.reset_attempts)
    .execute(&mut *tx)
    .await
    .map_err(|e| StateError::storage("cannot update the write", e))?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    head.append(tx, &ctx.chain, &ctx.cipher, &t.audit, now)
        .await?;
    Ok(true)
}

async fn recover(
    ctx: &Context,
    tx: &mut SqliteConnection,
    head: &mut Head,
    now: DateTime<Utc>,
) -> Result<u64, StateError> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, hotel, operation, target FROM outbox WHERE state = 'pending' ORDER BY seq",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| StateError::storage("cannot read the outbox", e))?;
    for (id, hotel, operation, target) in &rows {
        sqlx::query(
            "UPDATE outbox SET state = 'queued', verify = 1, next_attempt_at = ?2, \
             updated_at = ?2 WHERE id = ?1",
        )
        .bind(id)
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| StateError::storage("cannot update the write", e))?;
        head.append(
            tx,
            &ctx.chain,
            &ctx.cipher,
            &AuditEntry {
                actor: "host".into(),
                hotel: hotel.clone(),
                operation: operation.clone(),
                operation_id: id.clone(),
                target: target.clone(),
                event: "recovered",
                attempt: None,
                outcome: "queued".into(),
                detail: Some(
                    "the host stopped during an attempt: read back before any resend".into(),
                ),
                pms_request_id: None,
            },
            now,
        )
        .await?;
    }
    Ok(rows.len() as u64)
}

async fn prune(tx: &mut SqliteConnection, before: DateTime<Utc>) -> Result<u64, StateError> {
    Ok(sqlx::query(
        "DELETE FROM outbox WHERE state IN ('applied', 'cancelled') AND updated_at < ?1",
    )
    .bind(millis(before))
    .execute(&mut *tx)
    .await
    .map_err(|e| StateError::storage("cannot prune the outbox", e))?
    .rows_affected())
}
