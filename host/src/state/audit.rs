//! The audit log of PMS writes: append-only and tamper-evident.
//!
//! Every row carries the hash of the row before it and its own hash, an HMAC-SHA256 (keyed with a
//! data key from the vault) over its fields and that previous hash. Editing a row breaks its hash;
//! deleting one leaves a gap in the sequence and breaks the next row's link; recomputing the
//! chain after an edit needs the key, which is in the vault, not in the file. Deleting rows from
//! the end is caught by the head record (`audit_head`) unless it is rewritten too, which is why
//! `jack-pms audit verify` prints the head: keep it somewhere else to anchor the chain.
//!
//! Triggers refuse `UPDATE` and `DELETE` on the table (on PostgreSQL `TRUNCATE` too), so the
//! host itself cannot rewrite history by mistake; the hashes catch anyone who drops the triggers.
//!
//! **One chain for every hotel and every node.** Appends happen only inside the writer's
//! transactions, which hold [`crate::db::Lock::State`] (SQLite: the file's write lock), so the
//! head read at the start of a transaction is still the head at its commit, whichever host
//! commits. One chain keeps `audit verify` a single walk with one head to anchor; the price is
//! that state writes of all nodes commit one transaction at a time, which group commit (many
//! writes per transaction) makes affordable. Per-hotel chains would let nodes commit in
//! parallel, at the cost of one head per hotel to anchor.
//!
//! Personal data (what a note said, the charge's description, error details that may quote the
//! PMS) sits in `detail`, sealed by the [`FieldCipher`] and bound to its row.

use super::StateError;
use super::pii::FieldCipher;
use crate::db::{Db, Tx};
use crate::{on_db, on_tx};
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One row to append.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// Who: the API token's name, `worker` for replays, `cli:<user>` for the CLI.
    pub actor: String,
    /// Hotel.
    pub hotel: String,
    /// Operation (`postCharge`, …).
    pub operation: String,
    /// The write's operation id.
    pub operation_id: String,
    /// Target ids (`reservation:<number>`, `guest:<id>`).
    pub target: String,
    /// What happened: `accepted`, `attempt`, `verified`, `retry`, `cancelled`.
    pub event: &'static str,
    /// Attempt number, for attempts.
    pub attempt: Option<u32>,
    /// Result: `queued`, `applied`, `failed`, `absent`, ….
    pub outcome: String,
    /// Details that may hold personal data (sealed at rest).
    pub detail: Option<String>,
    /// The PMS's request id or reference, when it gave one.
    pub pms_request_id: Option<String>,
}

/// A stored row, opened.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Position in the chain (1, 2, …).
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// Hotel.
    pub hotel: String,
    /// Operation.
    pub operation: String,
    /// Operation id.
    pub operation_id: String,
    /// Target ids.
    pub target: String,
    /// What happened.
    pub event: String,
    /// Attempt number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Result.
    pub outcome: String,
    /// Details (decrypted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// PMS request id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pms_request_id: Option<String>,
    /// This row's hash.
    pub hash: String,
}

/// What `audit verify` found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Rows checked.
    pub rows: u64,
    /// The last row's sequence number.
    pub head_seq: i64,
    /// The last row's hash (anchor it elsewhere to catch truncation).
    pub head_hash: String,
    /// Every break found; empty when the chain is intact.
    pub problems: Vec<String>,
}

impl Verification {
    /// True when nothing was found.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The keyed hash of the chain. `Debug` never shows the key.
pub struct ChainKey(Hmac<Sha256>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey([REDACTED])")
    }
}

impl ChainKey {
    /// A chain key from 32 key bytes.
    pub fn new(key: &[u8; 32]) -> ChainKey {
        // HMAC accepts keys of any length.
        ChainKey(<Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!()))
    }

    /// The hash of one row.
    #[allow(clippy::too_many_arguments)]
    fn hash(
        &self,
        prev: &str,
        seq: i64,
        at: &str,
        fields: &[&str],
        attempt: Option<u32>,
        detail: Option<&[u8]>,
    ) -> String {
        let mut mac = self.0.clone();
        let mut part = |bytes: &[u8]| {
            mac.update(&(bytes.len() as u64).to_be_bytes());
            mac.update(bytes);
        };
        part(prev.as_bytes());
        part(&seq.to_be_bytes());
        part(at.as_bytes());
        for f in fields {
            part(f.as_bytes());
        }
        part(&attempt.map(i64::from).unwrap_or(-1).to_be_bytes());
        match detail {
            Some(d) => part(d),
            None => part(b"\xff-none"),
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

/// The chain's head within one write transaction.
#[derive(Debug, Clone)]
pub struct Head {
    seq: i64,
    hash: String,
}

impl Head {
    /// Reads the head inside a write transaction (which holds the state lock, so no other
    /// writer, on any node, can move it until commit).
    pub async fn load(tx: &mut Tx) -> Result<Head, StateError> {
        let row: Option<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
        )
        .fetch_optional(&mut *c)
        .await)
        .map_err(|e| StateError::storage("cannot read the audit head", e))?;
        Ok(match row {
            Some((seq, hash)) => Head { seq, hash },
            None => Head {
                seq: 0,
                hash: GENESIS.to_owned(),
            },
        })
    }

    /// Appends a row after the head and moves the head.
    pub async fn append(
        &mut self,
        tx: &mut Tx,
        key: &ChainKey,
        cipher: &FieldCipher,
        entry: &AuditEntry,
        at: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let seq = self.seq + 1;
        let at = at.to_rfc3339_opts(SecondsFormat::Micros, true);
        let detail = entry
            .detail
            .as_deref()
            .map(|d| cipher.seal_str("audit", &seq.to_string(), "detail", d));
        let pms = entry.pms_request_id.as_deref().unwrap_or("");
        let hash = key.hash(
            &self.hash,
            seq,
            &at,
            &[
                &entry.actor,
                &entry.hotel,
                &entry.operation,
                &entry.operation_id,
                &entry.target,
                entry.event,
                &entry.outcome,
                pms,
            ],
            entry.attempt,
            detail.as_deref(),
        );
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO audit (seq, at, actor, hotel, operation, operation_id, target, event, \
             attempt, outcome, detail, pms_request_id, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(seq)
        .bind(&at)
        .bind(&entry.actor)
        .bind(&entry.hotel)
        .bind(&entry.operation)
        .bind(&entry.operation_id)
        .bind(&entry.target)
        .bind(entry.event)
        .bind(entry.attempt.map(i64::from))
        .bind(&entry.outcome)
        .bind(detail.as_deref())
        .bind(entry.pms_request_id.as_deref())
        .bind(&self.hash)
        .bind(&hash)
        .execute(&mut *c)
        .await.map(drop))
        .map_err(|e| StateError::storage("cannot append to the audit log", e))?;
        self.seq = seq;
        self.hash = hash;
        Ok(())
    }

    /// Records the head, so that rows deleted from the end are noticed.
    pub async fn store(&self, tx: &mut Tx) -> Result<(), StateError> {
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO audit_head (one, seq, hash) VALUES (1, $1, $2) \
             ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(self.seq)
        .bind(&self.hash)
        .execute(&mut *c)
        .await.map(drop))
        .map_err(|e| StateError::storage("cannot record the audit head", e))?;
        Ok(())
    }
}

/// Filter of [`list`].
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this hotel.
    pub hotel: Option<String>,
    /// Only rows at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only this operation id.
    pub operation_id: Option<String>,
    /// At most this many rows (the newest), default 1,000.
    pub limit: Option<u32>,
}

/// An audit row as stored.
#[derive(sqlx::FromRow)]
struct StoredRow {
    seq: i64,
    at: String,
    actor: String,
    hotel: String,
    operation: String,
    operation_id: String,
    target: String,
    event: String,
    attempt: Option<i64>,
    outcome: String,
    detail: Option<Vec<u8>>,
    pms_request_id: Option<String>,
    prev_hash: String,
    hash: String,
}

/// The columns of [`StoredRow`].
const COLUMNS: &str = "seq, at, actor, hotel, operation, operation_id, target, event, attempt, \
                       outcome, detail, pms_request_id, prev_hash, hash";

/// Rows matching `filter`, oldest first, details opened.
pub async fn list(
    db: &Db,
    cipher: &FieldCipher,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, StateError> {
    let since = filter
        .since
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true));
    let sql = format!(
        "SELECT * FROM (SELECT {COLUMNS} FROM audit \
         WHERE ($1 IS NULL OR hotel = $1) AND ($2 IS NULL OR at >= $2) \
         AND ($3 IS NULL OR operation_id = $3) ORDER BY seq DESC LIMIT $4) AS newest ORDER BY seq"
    );
    let rows: Vec<StoredRow> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(filter.hotel.as_deref())
        .bind(since.as_deref())
        .bind(filter.operation_id.as_deref())
        .bind(i64::from(filter.limit.unwrap_or(1000)))
        .fetch_all(p)
        .await)
    .map_err(|e| StateError::storage("cannot read the audit log", e))?;
    rows.into_iter()
        .map(|r| {
            let detail = r
                .detail
                .map(|d| cipher.open_str("audit", &r.seq.to_string(), "detail", &d))
                .transpose()?;
            Ok(AuditRecord {
                seq: r.seq,
                at: parse_time(&r.at)?,
                actor: r.actor,
                hotel: r.hotel,
                operation: r.operation,
                operation_id: r.operation_id,
                target: r.target,
                event: r.event,
                attempt: r.attempt.and_then(|a| u32::try_from(a).ok()),
                outcome: r.outcome,
                detail,
                pms_request_id: r.pms_request_id,
                hash: r.hash,
            })
        })
        .collect()
}

fn parse_time(at: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StateError::Corrupt(format!("audit time `{at}` is not RFC 3339")))
}

/// Walks the whole chain and reports every break: a changed row, a missing row (gap or broken
/// link), a head that does not match the last row.
pub async fn verify(db: &Db, key: &ChainKey) -> Result<Verification, StateError> {
    use futures_util::TryStreamExt as _;
    // One snapshot for the rows and the head (SQLite: a WAL read transaction; PostgreSQL:
    // REPEATABLE READ), so hosts appending meanwhile cannot make the head look ahead of the rows.
    let mut tx = db
        .begin_read()
        .await
        .map_err(|e| StateError::storage("cannot begin a read", e))?;
    let mut walk = Walk::default();
    let sql = format!("SELECT {COLUMNS} FROM audit ORDER BY seq");
    on_tx!(&mut tx, c => {
        let mut rows = sqlx::query_as::<_, StoredRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch(&mut *c);
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| StateError::storage("cannot read the audit log", e))?
        {
            walk.step(key, &row);
        }
    });
    let head: Option<(i64, String)> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT seq, hash FROM audit_head WHERE one = 1",
    )
    .fetch_optional(&mut *c)
    .await)
    .map_err(|e| StateError::storage("cannot read the audit head", e))?;
    tx.rollback()
        .await
        .map_err(|e| StateError::storage("cannot end a read", e))?;
    Ok(walk.finish(head))
}

/// The state of a walk along the chain.
struct Walk {
    expected_seq: i64,
    prev: String,
    rows_seen: u64,
    problems: Vec<String>,
}

impl Default for Walk {
    fn default() -> Walk {
        Walk {
            expected_seq: 1,
            prev: GENESIS.to_owned(),
            rows_seen: 0,
            problems: Vec::new(),
        }
    }
}

impl Walk {
    /// Checks one row against the one before it and its own hash.
    fn step(&mut self, key: &ChainKey, r: &StoredRow) {
        self.rows_seen += 1;
        let seq = r.seq;
        if seq != self.expected_seq {
            self.problems.push(format!(
                "rows {}..{} are missing (deleted)",
                self.expected_seq,
                seq - 1
            ));
        }
        if r.prev_hash != self.prev {
            self.problems.push(format!(
                "row {seq} does not follow the row before it (a row was deleted or edited)"
            ));
        }
        let attempt = r.attempt.and_then(|a| u32::try_from(a).ok());
        let computed = key.hash(
            &r.prev_hash,
            seq,
            &r.at,
            &[
                &r.actor,
                &r.hotel,
                &r.operation,
                &r.operation_id,
                &r.target,
                &r.event,
                &r.outcome,
                r.pms_request_id.as_deref().unwrap_or(""),
            ],
            attempt,
            r.detail.as_deref(),
        );
        if computed != r.hash {
            self.problems
                .push(format!("row {seq} was changed after it was written"));
        }
        self.prev = r.hash.clone();
        self.expected_seq = seq + 1;
    }

    /// The verdict, given the head record.
    fn finish(mut self, head: Option<(i64, String)>) -> Verification {
        let last_seq = self.expected_seq - 1;
        match head {
            Some((seq, hash)) if seq != last_seq || hash != self.prev => self.problems.push(format!(
                "the log ends at row {last_seq} but its head record says row {seq}: rows were deleted from the end or the head was edited"
            )),
            None if self.rows_seen > 0 => self.problems.push("the head record is missing".to_owned()),
            _ => {}
        }
        Verification {
            rows: self.rows_seen,
            head_seq: last_seq,
            head_hash: self.prev,
            problems: self.problems,
        }
    }
}
