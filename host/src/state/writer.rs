//! The one writer of the outbox and the audit log, with group commit.
//!
//! Every change to a write's state and its audit row go into the same transaction. Requests
//! arrive on a channel; the writer takes all that are waiting (up to [`MAX_BATCH`]) and commits
//! them together, so one fsync covers many writes (`synchronous=FULL`: nothing is acknowledged
//! before it is on disk). If a batch fails, its jobs are redone one per transaction so that one
//! bad job cannot fail the others.
//!
//! Each transaction holds one audit chain before its head is read ([`Db::begin_chain_write`]:
//! SQLite's write lock; on PostgreSQL the first free chain lock, starting from one picked by
//! this node's id), so a CLI process or another host changing the outbox at the same time
//! appends to another chain, or waits for this one, and never forks a chain. Accepting a write
//! also locks its target (and its idempotency key) until commit, so that two hosts accepting
//! writes to one reservation at once take turns: the second sees the first and queues behind
//! it, and a key used on two hosts at once gives one write. A state change locks its write the
//! same way. These item locks are all taken at the start of the transaction, in ascending
//! order, so two hosts' batches that touch the same writes take turns instead of deadlocking on
//! the rows; the jobs that touch many rows at once (recovery, lease renewal, pruning) skip rows
//! another transaction holds (`FOR UPDATE SKIP LOCKED`) and so never wait on one. Hosts
//! therefore commit in parallel, each batch one transaction: one commit (one WAL flush) for all
//! its writes.
//!
//! The writer belongs to one node (its id is the `owner` of the writes it attempts; see
//! [`super::outbox`] on leases).

use super::StateError;
use super::audit::{AuditEntry, CHAINS, ChainKey, Head};
use super::outbox::{NewWrite, WriteState, millis, states_sql};
use super::pii::FieldCipher;
use crate::db::{Db, Lock, Tx};
use crate::on_tx;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most jobs committed in one transaction.
pub const MAX_BATCH: usize = 512;

/// How long a node holds a write it is attempting without renewing: longer than any attempt's
/// deadline, so a live node renews (every third of it) long before another may take it over.
pub const LEASE: Duration = Duration::from_secs(30);

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
    /// Only if this node still holds the write's lease: the outcome of this node's own attempt,
    /// which must not overwrite what another node did after taking an expired lease over.
    pub fenced: bool,
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
    Recover(Recovery, oneshot::Sender<Result<u64, StateError>>),
    Renew(oneshot::Sender<Result<u64, StateError>>),
    Audit(AuditEntry, oneshot::Sender<Result<bool, StateError>>),
    Prune(DateTime<Utc>, oneshot::Sender<Result<u64, StateError>>),
}

impl Job {
    fn fail(self, e: StateError) {
        // The asker may have gone away (request cancelled): nothing to tell then.
        match self {
            Job::Accept(_, reply) => drop(reply.send(Err(e))),
            Job::Transition(_, reply) => drop(reply.send(Err(e))),
            Job::Recover(_, reply) | Job::Renew(reply) => drop(reply.send(Err(e))),
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

/// Which `pending` writes [`Writer::recover`] queues again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// At start: those this node's earlier life held (it is not attempting them now), those
    /// whose lease ran out, and those from before leases (no owner).
    AtStart,
    /// While running: only those whose lease ran out (their node died or lost the database).
    Expired,
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
    db: Db,
    cipher: Arc<FieldCipher>,
    chain: Arc<ChainKey>,
    node: Arc<str>,
    /// The audit chain this node tries first (PostgreSQL): spread by the node's id, so that
    /// hosts rarely meet on one chain.
    first_chain: i32,
}

/// The chain node `node` tries first: a stable hash of its id over [`CHAINS`].
fn first_chain(node: &str) -> i32 {
    let key = Lock::item_key("audit-chain", &[node]);
    i32::try_from(key.rem_euclid(i64::from(CHAINS))).unwrap_or(0)
}

impl Writer {
    /// Starts the writer task of node `node` on `db`.
    pub fn spawn(db: Db, cipher: Arc<FieldCipher>, chain: Arc<ChainKey>, node: &str) -> Writer {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(
            Context {
                db,
                cipher,
                chain,
                node: Arc::from(node),
                first_chain: first_chain(node),
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

    /// Queues (with read-back) the writes left `pending` by a process that stopped, or lost
    /// its lease, mid-attempt (which ones: see [`Recovery`]). Returns how many.
    pub async fn recover(&self, which: Recovery) -> Result<u64, StateError> {
        let (tx, rx) = oneshot::channel();
        self.ask(Job::Recover(which, tx), rx).await
    }

    /// Extends the lease of every write this node is attempting by [`LEASE`]. Returns how many.
    pub async fn renew(&self) -> Result<u64, StateError> {
        let (tx, rx) = oneshot::channel();
        self.ask(Job::Renew(tx), rx).await
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
            (Job::Recover(_, r), Done::Count(n))
            | (Job::Renew(r), Done::Count(n))
            | (Job::Prune(_, r), Done::Count(n)) => drop(r.send(Ok(n))),
            (job, _) => job.fail(StateError::Corrupt("writer reply mismatch".into())),
        }
    }
}

async fn commit(ctx: &Context, jobs: &[Job]) -> Result<Vec<Done>, StateError> {
    let (mut tx, chain) = ctx
        .db
        .begin_chain_write(ctx.first_chain, CHAINS)
        .await
        .map_err(|e| StateError::storage("cannot begin a write", e))?;
    // The targets and idempotency keys of the writes accepted here, and the writes changed
    // here, held until commit (see the module docs).
    let items: Vec<i64> = jobs.iter().flat_map(item_locks).collect();
    tx.lock_items(&items)
        .await
        .map_err(|e| StateError::storage("cannot lock the writes' targets", e))?;
    let mut head = Head::load(&mut tx, chain).await?;
    let mut done = Vec::with_capacity(jobs.len());
    let now = Utc::now();
    for job in jobs {
        done.push(match job {
            Job::Accept(w, _) => Done::Accept(accept(ctx, &mut tx, &mut head, w, now).await?),
            Job::Transition(t, _) => {
                Done::Transition(transition(ctx, &mut tx, &mut head, t, now).await?)
            }
            Job::Recover(which, _) => {
                Done::Count(recover(ctx, &mut tx, &mut head, *which, now).await?)
            }
            Job::Renew(_) => Done::Count(renew(ctx, &mut tx, now).await?),
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

/// The item locks `job` needs (see the module docs).
fn item_locks(job: &Job) -> Vec<i64> {
    match job {
        Job::Accept(w, _) => {
            let target = Lock::item_key("outbox-target", &[&w.hotel, &w.request.target()]);
            let key = w
                .idempotency_key
                .as_deref()
                .map(|k| Lock::item_key("outbox-idempotency", &[&w.hotel, k]));
            std::iter::once(target).chain(key).collect()
        }
        Job::Transition(t, _) => vec![Lock::item_key("outbox-write", &[&t.id])],
        Job::Recover(..) | Job::Renew(_) | Job::Audit(..) | Job::Prune(..) => Vec::new(),
    }
}

/// What the statements that touch many outbox rows add to their row selection: on PostgreSQL,
/// lock the rows and skip those another transaction holds, so they never wait (and never take
/// part in a deadlock); SQLite has one writer at a time and no row locks.
fn skip_locked(tx: &Tx) -> &'static str {
    match tx {
        Tx::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        Tx::Sqlite(_) => "",
    }
}

async fn accept(
    ctx: &Context,
    tx: &mut Tx,
    head: &mut Head,
    w: &NewWrite,
    now: DateTime<Utc>,
) -> Result<Accepted, StateError> {
    if let Some(key) = &w.idempotency_key {
        let existing: Option<String> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT id FROM outbox WHERE hotel = $1 AND idempotency_key = $2",
        )
        .bind(&w.hotel)
        .bind(key)
        .fetch_optional(&mut *c)
        .await)
        .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        if let Some(id) = existing {
            return Ok(Accepted::Existing(id));
        }
    }
    let target = w.request.target();
    let mut state = w.state;
    let mut reason = w.queued_because.clone();
    if state == WriteState::Pending {
        let blocked: Option<i64> = on_tx!(tx, c => sqlx::query_scalar(
            "SELECT seq FROM outbox WHERE hotel = $1 AND target = $2 \
             AND state IN ('pending', 'queued') LIMIT 1",
        )
        .bind(&w.hotel)
        .bind(&target)
        .fetch_optional(&mut *c)
        .await)
        .map_err(|e| StateError::storage("cannot read the outbox", e))?;
        if blocked.is_some() {
            state = WriteState::Queued;
            reason = Some("behind an earlier write to the same target".into());
        }
    }
    let payload = serde_json::to_string(&w.request)
        .map_err(|e| StateError::Corrupt(format!("cannot encode a write: {e}")))?;
    let sealed = ctx.cipher.seal_str("outbox", &w.id, "payload", &payload);
    let (owner, lease_until) = hold(ctx, state, now);
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO outbox (id, hotel, operation, target, idempotency_key, caller, payload, \
         state, verify, attempts, next_attempt_at, created_at, updated_at, owner, lease_until) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, 0, $9, $9, $9, $10, $11)",
    )
    .bind(&w.id)
    .bind(&w.hotel)
    .bind(w.request.operation().camel_name())
    .bind(&target)
    .bind(w.idempotency_key.as_deref())
    .bind(&w.caller)
    .bind(&sealed)
    .bind(state.as_str())
    .bind(millis(now))
    .bind(owner)
    .bind(lease_until)
    .execute(&mut *c)
    .await.map(drop))
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
    tx: &mut Tx,
    head: &mut Head,
    t: &Transition,
    now: DateTime<Utc>,
) -> Result<bool, StateError> {
    if t.from.is_empty() {
        return Ok(false);
    }
    let error = t
        .error
        .as_deref()
        .map(|e| ctx.cipher.seal_str("outbox", &t.id, "last_error", e));
    let (owner, lease_until) = hold(ctx, t.to, now);
    let sql = format!(
        "UPDATE outbox SET state = $2, verify = $3, \
         attempts = CASE WHEN $9 THEN 0 ELSE attempts + $4 END, \
         next_attempt_at = $5, last_error = $6, pms_reference = COALESCE($7, pms_reference), \
         updated_at = $8, owner = $10, lease_until = $11 \
         WHERE id = $1 AND state IN ({}) AND (NOT $12 OR owner = $13)",
        states_sql(&t.from)
    );
    let changed = on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&t.id)
        .bind(t.to.as_str())
        .bind(t.verify)
        .bind(i64::from(t.count_attempt))
        .bind(millis(t.next_attempt_at))
        .bind(error.as_deref())
        .bind(t.pms_reference.as_deref())
        .bind(millis(now))
        .bind(t.reset_attempts)
        .bind(owner)
        .bind(lease_until)
        .bind(t.fenced)
        .bind(&*ctx.node)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|e| StateError::storage("cannot update the write", e))?;
    if changed == 0 {
        return Ok(false);
    }
    head.append(tx, &ctx.chain, &ctx.cipher, &t.audit, now)
        .await?;
    Ok(true)
}

/// Who holds a write entering `state`, and until when: this node with a fresh lease while it is
/// `pending` (being attempted), nobody otherwise.
fn hold(ctx: &Context, state: WriteState, now: DateTime<Utc>) -> (Option<&str>, Option<i64>) {
    if state == WriteState::Pending {
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::MAX);
        (Some(&*ctx.node), Some(millis(until)))
    } else {
        (None, None)
    }
}

async fn recover(
    ctx: &Context,
    tx: &mut Tx,
    head: &mut Head,
    which: Recovery,
    now: DateTime<Utc>,
) -> Result<u64, StateError> {
    let at_start = which == Recovery::AtStart;
    let mine = if at_start {
        "OR owner IS NULL OR lease_until IS NULL OR owner = $2"
    } else {
        ""
    };
    let sql = format!(
        "SELECT id, hotel, operation, target, owner FROM outbox \
         WHERE state = 'pending' AND (lease_until < $1 {mine}) ORDER BY seq{}",
        skip_locked(tx)
    );
    let rows: Vec<(String, String, String, String, Option<String>)> = on_tx!(tx, c => {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(millis(now));
        let q = if at_start { q.bind(&*ctx.node) } else { q };
        q.fetch_all(&mut *c).await
    })
    .map_err(|e| StateError::storage("cannot read the outbox", e))?;
    for (id, hotel, operation, target, owner) in &rows {
        on_tx!(tx, c => sqlx::query(
            "UPDATE outbox SET state = 'queued', verify = TRUE, next_attempt_at = $2, \
             updated_at = $2, owner = NULL, lease_until = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(millis(now))
        .execute(&mut *c)
        .await.map(drop))
        .map_err(|e| StateError::storage("cannot update the write", e))?;
        let detail = match owner.as_deref() {
            Some(node) if node != &*ctx.node => format!(
                "host `{node}` stopped or lost the database during an attempt (its lease ran out): \
                 read back before any resend"
            ),
            _ => "the host stopped during an attempt: read back before any resend".to_owned(),
        };
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
                detail: Some(detail),
                pms_request_id: None,
            },
            now,
        )
        .await?;
    }
    Ok(rows.len() as u64)
}

async fn renew(ctx: &Context, tx: &mut Tx, now: DateTime<Utc>) -> Result<u64, StateError> {
    let (_, until) = hold(ctx, WriteState::Pending, now);
    // A write whose outcome is being recorded right now is skipped: its next renewal, well
    // within the lease, covers it if it is still pending then.
    let sql = format!(
        "UPDATE outbox SET lease_until = $1 WHERE id IN (SELECT id FROM outbox \
         WHERE state = 'pending' AND owner = $2{})",
        skip_locked(tx)
    );
    on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
    .bind(until)
    .bind(&*ctx.node)
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| StateError::storage("cannot renew the leases", e))
}

async fn prune(tx: &mut Tx, before: DateTime<Utc>) -> Result<u64, StateError> {
    let sql = format!(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
         WHERE state IN ('applied', 'cancelled') AND updated_at < $1{})",
        skip_locked(tx)
    );
    on_tx!(tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
    .bind(millis(before))
    .execute(&mut *c)
    .await
    .map(|r| r.rows_affected()))
    .map_err(|e| StateError::storage("cannot prune the outbox", e))
}
