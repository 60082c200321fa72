//! The host's durable state beside the vault in the state database (SQLite or PostgreSQL, see
//! [`crate::db`]): the outbox of writes, the audit log, and the keys that protect personal data
//! in them.
//!
//! Keys: one 32-byte data key lives in the vault (under [`crate::vault::store::HOST_KEYS`], sealed by the master key
//! like every secret, re-sealed by `vault rotate-master-key`). Two keys are derived from it: the
//! field key that seals personal data ([`pii::FieldCipher`]) and the audit chain's HMAC key.
//! Neither is ever written anywhere else.

pub mod audit;
pub mod outbox;
pub mod pii;
pub mod writer;

use crate::db::Db;
use crate::vault::store::Vault;
use crate::vault::{VaultError, derive_key};
use audit::{AuditFilter, AuditRecord, ChainKey, Verification};
use outbox::{OutboxReader, WriteState};
use pii::FieldCipher;
use std::sync::Arc;
use writer::Writer;

/// Name of the data key in the vault (hotel [`crate::vault::store::HOST_KEYS`]).
pub const DATA_KEY_NAME: &str = "state-data-key";

/// Why the state could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StateError {
    /// SQLite failed.
    #[error("state file: {0}")]
    Storage(String),
    /// A stored value makes no sense (the file was altered or is from a newer version).
    #[error("state file: {0}")]
    Corrupt(String),
    /// A sealed field did not open.
    #[error("state file: {0}")]
    Open(#[from] pii::OpenError),
    /// The vault failed (the data key lives there).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A staff action that does not apply (unknown operation, wrong state).
    #[error("{0}")]
    Refused(String),
    /// The writer task stopped (the host is shutting down).
    #[error("the state writer has stopped")]
    Closed,
}

impl StateError {
    /// A storage error with context. SQLite errors name tables and constraints, never values.
    pub fn storage(context: &str, e: sqlx::Error) -> StateError {
        StateError::Storage(format!("{context}: {e}"))
    }
}

/// The outbox, the audit log and their keys.
#[derive(Debug)]
pub struct State {
    db: Db,
    cipher: Arc<FieldCipher>,
    chain: Arc<ChainKey>,
    writer: Writer,
    outbox: OutboxReader,
}

impl State {
    /// Opens the state in the vault's database (its schema is already migrated): fetches (or
    /// makes) the data key and starts the writer of node `node` (the owner of the writes this
    /// process attempts). Call within a Tokio runtime.
    pub async fn open(vault: &Vault, node: &str) -> Result<State, StateError> {
        let db = vault.db().clone();
        let data_key = vault.host_key(DATA_KEY_NAME).await?;
        let cipher = Arc::new(FieldCipher::new(&derive_key(&data_key, b"jack-pms/pii/v1")));
        let chain = Arc::new(ChainKey::new(&derive_key(
            &data_key,
            b"jack-pms/audit-chain/v1",
        )));
        let writer = Writer::spawn(db.clone(), cipher.clone(), chain.clone(), node);
        Ok(State {
            outbox: OutboxReader {
                db: db.clone(),
                cipher: cipher.clone(),
            },
            db,
            cipher,
            chain,
            writer,
        })
    }

    /// Reads of the outbox.
    pub fn outbox(&self) -> &OutboxReader {
        &self.outbox
    }

    /// The writer of the outbox and the audit log.
    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// The cipher of personal data at rest.
    pub fn cipher(&self) -> &Arc<FieldCipher> {
        &self.cipher
    }

    /// The state database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Audit rows matching `filter`, oldest first.
    pub async fn audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, StateError> {
        audit::list(&self.db, &self.cipher, filter).await
    }

    /// Queues a failed or cancelled write again with fresh attempts (`jack-pms outbox retry`).
    /// With `resend`, staff vouch that the PMS does not hold it: no read-back before sending.
    /// A serving host picks it up within a second.
    pub async fn retry(
        &self,
        id: &str,
        by: &Staff<'_>,
        resend: bool,
    ) -> Result<outbox::OperationRecord, StateError> {
        let row = self.row(id).await?;
        let action = StaffAction {
            event: "retry",
            outcome: if resend {
                "queued for resend"
            } else {
                "queued"
            },
            to: WriteState::Queued,
            verify: row.verify && !resend,
            reset_attempts: true,
            from: &[WriteState::Failed, WriteState::Cancelled],
        };
        self.staff_change(&row, by, action).await
    }

    /// Cancels a queued or failed write (`jack-pms outbox cancel`). A write being attempted
    /// right now (`pending`) cannot be cancelled: its outcome is not known yet.
    pub async fn cancel(
        &self,
        id: &str,
        by: &Staff<'_>,
    ) -> Result<outbox::OperationRecord, StateError> {
        let row = self.row(id).await?;
        let action = StaffAction {
            event: "cancelled",
            outcome: "cancelled",
            to: WriteState::Cancelled,
            verify: row.verify,
            reset_attempts: false,
            // A pending write may be cancelled too (its attempt may be stuck, or its host gone):
            // if the attempt then applies it, the PMS's truth is recorded over the cancel.
            from: &[
                WriteState::AwaitingApproval,
                WriteState::Pending,
                WriteState::Queued,
                WriteState::Failed,
            ],
        };
        self.staff_change(&row, by, action).await
    }

    /// Approves a write held for approval (`jack-pms outbox approve`): it is queued and sent
    /// (a serving host picks it up within a second), the audit log naming who approved it.
    pub async fn approve(
        &self,
        id: &str,
        by: &Staff<'_>,
    ) -> Result<outbox::OperationRecord, StateError> {
        self.decide(id, by, ("approved", "queued", WriteState::Queued))
            .await
    }

    /// Rejects a write held for approval (`jack-pms outbox reject`): it is cancelled, never sent.
    pub async fn reject(
        &self,
        id: &str,
        by: &Staff<'_>,
    ) -> Result<outbox::OperationRecord, StateError> {
        self.decide(id, by, ("rejected", "cancelled", WriteState::Cancelled))
            .await
    }

    /// Staff's decision on a held write: (audit event, audit outcome, the write's new state).
    async fn decide(
        &self,
        id: &str,
        by: &Staff<'_>,
        (event, outcome, to): (&'static str, &'static str, WriteState),
    ) -> Result<outbox::OperationRecord, StateError> {
        let row = self.row(id).await?;
        let action = StaffAction {
            event,
            outcome,
            to,
            verify: false,
            reset_attempts: true,
            from: &[WriteState::AwaitingApproval],
        };
        self.staff_change(&row, by, action).await
    }

    async fn row(&self, id: &str) -> Result<outbox::OutboxRow, StateError> {
        self.outbox
            .get(id)
            .await?
            .ok_or_else(|| StateError::Refused(format!("no operation `{id}`")))
    }

    async fn staff_change(
        &self,
        row: &outbox::OutboxRow,
        by: &Staff<'_>,
        action: StaffAction,
    ) -> Result<outbox::OperationRecord, StateError> {
        let change = writer::Transition {
            id: row.id.clone(),
            from: action.from.to_vec(),
            to: action.to,
            verify: action.verify,
            count_attempt: false,
            fenced: false,
            reset_attempts: action.reset_attempts,
            next_attempt_at: chrono::Utc::now(),
            error: row.last_error.clone(),
            pms_reference: None,
            audit: audit::AuditEntry {
                actor: by.actor.to_owned(),
                hotel: row.hotel.clone(),
                operation: row.operation.camel_name().to_owned(),
                operation_id: row.id.clone(),
                target: row.target.clone(),
                event: action.event,
                attempt: None,
                outcome: action.outcome.to_owned(),
                // Sealed at rest like every detail: a reason may name a guest.
                detail: by.reason.map(|r| format!("reason: {r}")),
                pms_request_id: None,
            },
        };
        if !self.writer.transition(change).await? {
            let allowed: Vec<&str> = action.from.iter().map(|s| s.as_str()).collect();
            return Err(StateError::Refused(format!(
                "operation `{}` is {}: only {} writes can be {}",
                row.id,
                row.state,
                allowed.join(" or "),
                match action.event {
                    "retry" => "retried",
                    other => other,
                }
            )));
        }
        Ok(self.row(&row.id).await?.record())
    }

    /// Checks the whole audit chain.
    pub async fn verify_audit(&self) -> Result<Verification, StateError> {
        audit::verify(&self.db, &self.chain).await
    }
}

/// The longest reason a staff member may give for an action, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// A reason as given, trimmed; refused when empty (after trimming), longer than
/// [`MAX_REASON_CHARS`], or holding control characters other than line breaks.
pub fn check_reason(reason: &str) -> Result<&str, String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("the reason is empty".into());
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        ));
    }
    if reason
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        return Err("the reason holds control characters".into());
    }
    Ok(reason)
}

/// Who makes a staff change, and why: both go into the audit log.
#[derive(Debug, Clone, Copy)]
pub struct Staff<'a> {
    /// How the audit log names them: an API token's name, `staff:<account>` for the console,
    /// `cli:<login>` for the CLI.
    pub actor: &'a str,
    /// The reason they gave, if any (bounded by the caller).
    pub reason: Option<&'a str>,
}

/// A staff change to one write.
struct StaffAction {
    event: &'static str,
    outcome: &'static str,
    to: WriteState,
    verify: bool,
    reset_attempts: bool,
    /// The states it applies to.
    from: &'static [WriteState],
}

#[cfg(test)]
mod tests {
    use super::outbox::{NewWrite, WriteRequest};
    use super::writer::{Accepted, Transition};
    use super::*;
    use crate::vault::master_key::MasterKey;

    fn note(id: &str, key: Option<&str>) -> NewWrite {
        NewWrite {
            id: id.into(),
            hotel: "H1".into(),
            request: WriteRequest::AddReservationNote {
                confirmation_number: "C1".into(),
                note: "Sarah Chen asks for a late checkout".into(),
            },
            idempotency_key: key.map(str::to_owned),
            caller: "test".into(),
            state: WriteState::Pending,
            queued_because: None,
        }
    }

    fn applied(id: &str) -> Transition {
        Transition {
            id: id.into(),
            from: vec![WriteState::Pending],
            to: WriteState::Applied,
            verify: false,
            count_attempt: true,
            // An applied outcome is recorded whoever holds the write (the PMS's truth wins).
            fenced: false,
            reset_attempts: false,
            next_attempt_at: chrono::Utc::now(),
            error: None,
            pms_reference: Some("ref-1".into()),
            audit: audit::AuditEntry {
                actor: "test".into(),
                hotel: "H1".into(),
                operation: "addReservationNote".into(),
                operation_id: id.into(),
                target: "reservation:C1".into(),
                event: "attempt",
                attempt: Some(1),
                outcome: "applied".into(),
                detail: None,
                pms_request_id: Some("ref-1".into()),
            },
        }
    }

    #[tokio::test]
    async fn outbox_on_sqlite() {
        let dir = tempfile::tempdir().expect("dir");
        let vault = Vault::open(&dir.path().join("state.db"), MasterKey::generate())
            .await
            .expect("vault");
        outbox_orders_dedupes_recovers_prunes_and_keeps_the_audit_chain(&vault).await;
    }

    /// A host's vault (and so its state) on the scratch database `scratch`, sealed by `key`.
    async fn postgres_vault(scratch: &crate::db::scratch::ScratchDb, key: &MasterKey) -> Vault {
        let db = Db::open(&crate::db::Location::Postgres(scratch.url().into()))
            .await
            .expect("open");
        let key = MasterKey::parse(key.to_base64().as_str()).expect("key");
        Vault::from_db(db, key).await.expect("vault")
    }

    async fn scratch() -> crate::db::scratch::ScratchDb {
        crate::db::scratch::ScratchDb::create()
            .await
            .expect("scratch database")
    }

    #[tokio::test]
    async fn outbox_on_postgres() {
        let scratch = scratch().await;
        let vault = postgres_vault(&scratch, &MasterKey::generate()).await;
        outbox_orders_dedupes_recovers_prunes_and_keeps_the_audit_chain(&vault).await;
        vault.close().await;
    }

    /// Three hosts accepting writes at once on one database append to several chains in
    /// parallel, and the log verifies while they do and after: every chain intact, every row
    /// counted, details still open. Writes to one target stay in order across the hosts, and
    /// one idempotency key sent to all three gives one write.
    #[tokio::test]
    async fn hosts_append_to_several_chains_and_the_log_stays_verifiable() {
        let scratch = scratch().await;
        let key = MasterKey::generate();
        let mut hosts = Vec::new();
        for node in ["node-a", "node-b", "node-c"] {
            let vault = postgres_vault(&scratch, &key).await;
            let state = State::open(&vault, node).await.expect("state");
            hosts.push((vault, Arc::new(state)));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (_, state)) in hosts.iter().enumerate() {
            for n in 0..60 {
                let state = state.clone();
                tasks.spawn(async move {
                    let mut w = note(&format!("op-{i}-{n}"), None);
                    // A third of the writes share one reservation across the hosts.
                    if n % 3 == 0 {
                        w.request = WriteRequest::AddReservationNote {
                            confirmation_number: "SHARED".into(),
                            note: format!("note {i}-{n}"),
                        };
                    } else {
                        w.request = WriteRequest::AddReservationNote {
                            confirmation_number: format!("C{i}-{n}"),
                            note: format!("note {i}-{n}"),
                        };
                    }
                    state.writer().accept(w).await.expect("accept")
                });
            }
            let state = state.clone();
            tasks.spawn(async move {
                state
                    .writer()
                    .accept(note(&format!("op-key-{i}"), Some("same-key")))
                    .await
                    .expect("accept")
            });
        }
        // Verified while the hosts write: never a false alarm.
        let verifier = hosts[0].1.clone();
        let mut answers = Vec::new();
        while let Some(answer) = tasks.join_next().await {
            answers.push(answer.expect("task"));
            if answers.len() % 40 == 0 {
                let v = verifier.verify_audit().await.expect("verify");
                assert!(v.intact(), "{:?}", v.problems);
            }
        }
        let pending_shared = {
            let rows: Vec<(String,)> = crate::on_db!(hosts[0].0.db(), p => sqlx::query_as(
                "SELECT state FROM outbox WHERE target = 'reservation:SHARED' AND state = 'pending'",
            )
            .fetch_all(p)
            .await)
            .expect("query");
            rows.len()
        };
        assert_eq!(
            pending_shared, 1,
            "one write to the shared reservation is attempted, the others queue behind it"
        );
        let new_with_key = answers
            .iter()
            .filter(|a| matches!(a, Accepted::New(_)))
            .count();
        assert_eq!(new_with_key, 3 * 60 + 1, "one write for the shared key");
        let v = verifier.verify_audit().await.expect("verify");
        assert!(v.intact(), "{:?}", v.problems);
        assert_eq!(v.rows, 3 * 60 + 1);
        assert!(
            v.heads.len() > 1,
            "three hosts writing at once spread over chains: {:?}",
            v.heads
        );
        let rows = verifier
            .audit(&audit::AuditFilter {
                limit: Some(10_000),
                ..audit::AuditFilter::default()
            })
            .await
            .expect("list");
        assert_eq!(rows.len(), 3 * 60 + 1);
        for (vault, _) in hosts {
            vault.close().await;
        }
    }

    /// Three hosts' replay workers claiming the same queued writes at once, each in its own
    /// order, while they renew leases and look for expired ones: every write is claimed by
    /// exactly one host and no request fails (item locks in one order, bulk updates that skip
    /// held rows: no deadlock between the hosts' batches).
    #[tokio::test]
    async fn hosts_claiming_the_same_writes_each_win_some_and_none_fails() {
        let scratch = scratch().await;
        let key = MasterKey::generate();
        let mut hosts = Vec::new();
        for node in ["claim-a", "claim-b", "claim-c"] {
            let vault = postgres_vault(&scratch, &key).await;
            let state = State::open(&vault, node).await.expect("state");
            hosts.push((vault, Arc::new(state)));
        }
        // Accepted all at once, so that batches hold more audit rows than one statement writes.
        const WRITES: usize = 300;
        let mut accepts = tokio::task::JoinSet::new();
        for n in 0..WRITES {
            let mut w = note(&format!("q-{n}"), None);
            w.state = WriteState::Queued;
            w.request = WriteRequest::AddReservationNote {
                confirmation_number: format!("Q{n}"),
                note: "a note".into(),
            };
            let state = hosts[0].1.clone();
            accepts.spawn(async move { state.writer().accept(w).await });
        }
        while let Some(accepted) = accepts.join_next().await {
            assert_eq!(
                accepted.expect("task").expect("accept"),
                Accepted::New(WriteState::Queued)
            );
        }
        let claim = |id: String| {
            let mut t = applied(&id);
            t.from = vec![WriteState::Queued];
            t.to = WriteState::Pending;
            t.count_attempt = false;
            t.pms_reference = None;
            t.audit.event = "replay";
            t.audit.outcome = "pending".into();
            t
        };
        let mut tasks = tokio::task::JoinSet::new();
        for (h, (_, state)) in hosts.iter().enumerate() {
            // Each host its own order: forwards, backwards, odd ones first.
            let mut order: Vec<usize> = (0..WRITES).collect();
            match h {
                1 => order.reverse(),
                2 => order.sort_by_key(|n| (n % 2 == 0, *n)),
                _ => {}
            }
            for n in order {
                let (state, t) = (state.clone(), claim(format!("q-{n}")));
                tasks.spawn(async move { state.writer().transition(t).await });
            }
            for _ in 0..5 {
                let state = state.clone();
                tasks.spawn(async move {
                    state.writer().renew().await?;
                    state.writer().recover(writer::Recovery::Expired).await?;
                    Ok(false)
                });
            }
        }
        let mut won = 0;
        while let Some(result) = tasks.join_next().await {
            if result.expect("task").expect("no claim or lease job fails") {
                won += 1;
            }
        }
        assert_eq!(won, WRITES, "each write claimed exactly once");
        let v = hosts[0].1.verify_audit().await.expect("verify");
        assert!(v.intact(), "{:?}", v.problems);
        assert_eq!(v.rows, 2 * WRITES as u64, "accepted and claimed, once each");
        for (vault, _) in hosts {
            vault.close().await;
        }
    }

    /// The documented PostgreSQL setup: hosts connect as a role that does not own the tables,
    /// granted only SELECT and INSERT on `audit` (and UPDATE on `audit_heads`, whose rows move
    /// with every append). That role can append and read rows, but cannot change or remove one:
    /// the database refuses it on privileges, before any trigger.
    #[tokio::test]
    async fn a_role_without_update_or_delete_can_only_append_to_the_audit_log() {
        use sqlx::Connection as _;
        let scratch = scratch().await;
        let vault = postgres_vault(&scratch, &MasterKey::generate()).await;
        let db = vault.db().clone();
        let state = State::open(&vault, "owner").await.expect("state");
        state
            .writer()
            .accept(note("op-1", None))
            .await
            .expect("accept");
        let role = format!("jack_pms_appender_{}", uuid::Uuid::new_v4().simple());
        let admin = |sql: String| {
            let db = db.clone();
            async move {
                let Db::Postgres(pool) = &db else {
                    unreachable!("a PostgreSQL database")
                };
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(pool)
                    .await
                    .expect("admin statement");
            }
        };
        // The role name is ours (letters, digits, underscores): safe to splice into DDL.
        admin(format!("CREATE ROLE {role} LOGIN")).await;
        admin(format!("GRANT SELECT, INSERT ON audit TO {role}")).await;
        admin(format!(
            "GRANT SELECT, INSERT, UPDATE ON audit_heads TO {role}"
        ))
        .await;
        let mut url = url::Url::parse(&scratch.url()).expect("url");
        url.set_username(&role).expect("user");
        let mut conn = sqlx::postgres::PgConnection::connect(url.as_str())
            .await
            .expect("connect as the appending role");
        let refused = |e: sqlx::Error| e.to_string();
        let update = sqlx::query("UPDATE audit SET outcome = 'failed' WHERE seq = 1")
            .execute(&mut conn)
            .await
            .map_err(refused);
        let delete = sqlx::query("DELETE FROM audit")
            .execute(&mut conn)
            .await
            .map_err(refused);
        let truncate = sqlx::query("TRUNCATE audit")
            .execute(&mut conn)
            .await
            .map_err(refused);
        let read: i64 = sqlx::query_scalar("SELECT count(*) FROM audit")
            .fetch_one(&mut conn)
            .await
            .expect("the role reads the log");
        conn.close().await.expect("close");
        admin(format!("REVOKE ALL ON audit, audit_heads FROM {role}")).await;
        admin(format!("DROP ROLE {role}")).await;
        for (what, result) in [
            ("update", update),
            ("delete", delete),
            ("truncate", truncate),
        ] {
            let error = result.expect_err(what);
            assert!(
                error.contains("permission denied"),
                "{what} refused on privileges: {error}"
            );
        }
        assert_eq!(read, 1);
        assert!(state.verify_audit().await.expect("verify").intact());
        vault.close().await;
    }

    async fn outbox_orders_dedupes_recovers_prunes_and_keeps_the_audit_chain(vault: &Vault) {
        let state = State::open(vault, "test-node").await.expect("state");
        let w = state.writer();
        assert_eq!(
            w.accept(note("op-1", Some("k"))).await.unwrap(),
            Accepted::New(WriteState::Pending)
        );
        // Same key: the first operation. Same target while op-1 is pending: queued behind it.
        assert_eq!(
            w.accept(note("op-x", Some("k"))).await.unwrap(),
            Accepted::Existing("op-1".into())
        );
        assert_eq!(
            w.accept(note("op-2", None)).await.unwrap(),
            Accepted::New(WriteState::Queued)
        );
        // op-2 is not due while op-1 is pending; a stop now leaves op-1 to be read back.
        assert!(
            state
                .outbox()
                .due(chrono::Utc::now(), 10)
                .await
                .unwrap()
                .is_empty()
        );
        // A node's own write is not taken back while it runs, only once its lease ran out or
        // at the node's next start.
        assert_eq!(w.recover(writer::Recovery::Expired).await.unwrap(), 0);
        assert_eq!(w.recover(writer::Recovery::AtStart).await.unwrap(), 1);
        let op1 = state.outbox().get("op-1").await.unwrap().unwrap();
        assert_eq!((op1.state, op1.verify), (WriteState::Queued, true));
        let due = state.outbox().due(chrono::Utc::now(), 10).await.unwrap();
        assert_eq!(
            due.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["op-1"]
        );

        let mut t = applied("op-1");
        t.from = vec![WriteState::Queued];
        assert!(w.transition(t).await.unwrap());
        // Not pruned while young; pruned once older than the cutoff. Queued op-2 stays.
        assert_eq!(
            w.prune(chrono::Utc::now() - chrono::Duration::days(1))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            w.prune(chrono::Utc::now() + chrono::Duration::seconds(1))
                .await
                .unwrap(),
            1
        );
        assert!(state.outbox().get("op-1").await.unwrap().is_none());
        assert!(state.outbox().get("op-2").await.unwrap().is_some());

        let v = state.verify_audit().await.unwrap();
        assert!(v.intact(), "{:?}", v.problems);
        assert_eq!(v.rows, 4, "accepted x2, recovered, applied");
        let rows = state.audit(&audit::AuditFilter::default()).await.unwrap();
        assert!(
            rows[0]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("Sarah Chen")
        );
    }
}
