//! The audit log of PMS writes: append-only and tamper-evident.
//!
//! Every row carries the hash of the row before it and its own hash, an HMAC-SHA256 (keyed with a
//! data key from the vault) over its fields and that previous hash. Editing a row breaks its hash;
//! deleting one leaves a gap in the sequence and breaks the next row's link; recomputing the
//! chain after an edit needs the key, which is in the vault, not in the file. Deleting rows from
//! the end is caught by the head record (`audit_head`) unless it is rewritten too, which is why
//! `jack-pms audit verify` prints the head: keep it somewhere else to anchor the chain.
//!
//! SQLite triggers refuse `UPDATE` and `DELETE` on the table, so the host itself cannot rewrite
//! history by mistake; the hashes catch anyone who drops the triggers.
//!
//! Personal data (what a note said, the charge's description, error details that may quote the
//! PMS) sits in `detail`, sealed by the [`FieldCipher`] and bound to its row.

use super::StateError;
use super::pii::FieldCipher;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use sqlx::{Row, SqliteConnection, SqlitePool};

/// The `prev_hash` of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Schema of the audit tables (idempotent).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS audit (\
     seq INTEGER NOT NULL PRIMARY KEY, \
     at TEXT NOT NULL, \
     actor TEXT NOT NULL, \
     hotel TEXT NOT NULL, \
     operation TEXT NOT NULL, \
     operation_id TEXT NOT NULL, \
     target TEXT NOT NULL, \
     event TEXT NOT NULL, \
     attempt INTEGER, \
     outcome TEXT NOT NULL, \
     detail BLOB, \
     pms_request_id TEXT, \
     prev_hash TEXT NOT NULL, \
     hash TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS audit_by_hotel ON audit (hotel, at)",
    "CREATE INDEX IF NOT EXISTS audit_by_operation ON audit (operation_id)",
    "CREATE TABLE IF NOT EXISTS audit_head (\
     one INTEGER NOT NULL PRIMARY KEY CHECK (one = 1), \
     seq INTEGER NOT NULL, \
     hash TEXT NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit \
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit \
     BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

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
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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
    /// Reads the head inside the transaction (under `BEGIN IMMEDIATE`, so no other writer can
    /// move it until commit).
    pub async fn load(tx: &mut SqliteConnection) -> Result<Head, StateError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await
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
        tx: &mut SqliteConnection,
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
        sqlx::query(
            "INSERT INTO audit (seq, at, actor, hotel, operation, operation_id, target, event, \
             attempt, outcome, detail, pms_request_id, prev_hash, hash) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
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
        .bind(detail)
        .bind(entry.pms_request_id.as_deref())
        .bind(&self.hash)
        .bind(&hash)
        .execute(&mut *tx)
        .await
        .map_err(|e| StateError::storage("cannot append to the audit log", e))?;
        self.seq = seq;
        self.hash = hash;
        Ok(())
    }

    /// Records the head, so that rows deleted from the end are noticed.
    pub async fn store(&self, tx: &mut SqliteConnection) -> Result<(), StateError> {
        sqlx::query(
            "INSERT INTO audit_head (one, seq, hash) VALUES (1, ?1, ?2) \
             ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(self.seq)
        .bind(&self.hash)
        .execute(&mut *tx)
        .await
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

/// Rows matching `filter`, oldest first, details opened.
pub async fn list(
    pool: &SqlitePool,
    cipher: &FieldCipher,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, StateError> {
    let since = filter
        .since
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true));
    let rows = sqlx::query(
        "SELECT * FROM (SELECT seq, at, actor, hotel, operation, operation_id, target, event, \
         attempt, outcome, detail, pms_request_id, hash FROM audit \
         WHERE (?1 IS NULL OR hotel = ?1) AND (?2 IS NULL OR at >= ?2) \
         AND (?3 IS NULL OR operation_id = ?3) ORDER BY seq DESC LIMIT ?4) ORDER BY seq",
    )
    .bind(filter.hotel.as_deref())
    .bind(since)
    .bind(filter.operation_id.as_deref())
    .bind(i64::from(filter.limit.unwrap_or(1000)))
    .fetch_all(pool)
    .await
    .map_err(|e| StateError::storage("cannot read the audit log", e))?;
    rows.into_iter()
        .map(|r| {
            let seq: i64 = r.get("seq");
            let detail: Option<Vec<u8>> = r.get("detail");
            let detail = detail
                .map(|d| cipher.open_str("audit", &seq.to_string(), "detail", &d))
                .transpose()?;
            let at: String = r.get("at");
            Ok(AuditRecord {
                seq,
                at: parse_time(&at)?,
                actor: r.get("actor"),
                hotel: r.get("hotel"),
                operation: r.get("operation"),
                operation_id: r.get("operation_id"),
                target: r.get("target"),
                event: r.get("event"),
                attempt: r
                    .get::<Option<i64>, _>("attempt")
                    .and_then(|a| u32::try_from(a).ok()),
                outcome: r.get("outcome"),
                detail,
                pms_request_id: r.get("pms_request_id"),
                hash: r.get("hash"),
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
pub async fn verify(pool: &SqlitePool, key: &ChainKey) -> Result<Verification, StateError> {
    use futures_util::TryStreamExt as _;
    // One read transaction: the rows and the head come from the same snapshot (WAL), so a host
    // appending meanwhile cannot make the head look ahead of the rows.
    let mut tx = pool
        .begin()
        .await
        .map_err(|e| StateError::storage("cannot begin a read", e))?;
    let mut problems = Vec::new();
    let mut expected_seq = 1i64;
    let mut prev = GENESIS.to_owned();
    let mut rows_seen = 0u64;
    {
        let mut rows = sqlx::query(
            "SELECT seq, at, actor, hotel, operation, operation_id, target, event, attempt, \
             outcome, detail, pms_request_id, prev_hash, hash FROM audit ORDER BY seq",
        )
        .fetch(&mut *tx);
        while let Some(r) = rows
            .try_next()
            .await
            .map_err(|e| StateError::storage("cannot read the audit log", e))?
        {
            rows_seen += 1;
            let seq: i64 = r.get("seq");
            let prev_hash: String = r.get("prev_hash");
            let hash: String = r.get("hash");
            if seq != expected_seq {
                problems.push(format!(
                    "rows {expected_seq}..{} are missing (deleted)",
                    seq - 1
                ));
            }
            if prev_hash != prev {
                problems.push(format!(
                    "row {seq} does not follow the row before it (a row was deleted or edited)"
                ));
            }
            let attempt = r
                .get::<Option<i64>, _>("attempt")
                .and_then(|a| u32::try_from(a).ok());
            let detail: Option<Vec<u8>> = r.get("detail");
            let text = |c: &str| r.get::<String, _>(c);
            let pms: Option<String> = r.get("pms_request_id");
            let event = text("event");
            let computed = key.hash(
                &prev_hash,
                seq,
                &text("at"),
                &[
                    &text("actor"),
                    &text("hotel"),
                    &text("operation"),
                    &text("operation_id"),
                    &text("target"),
                    &event,
                    &text("outcome"),
                    pms.as_deref().unwrap_or(""),
                ],
                attempt,
                detail.as_deref(),
            );
            if computed != hash {
                problems.push(format!("row {seq} was changed after it was written"));
            }
            prev = hash;
            expected_seq = seq + 1;
        }
    }
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE one = 1")
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| StateError::storage("cannot read the audit head", e))?;
    tx.rollback()
        .await
        .map_err(|e| StateError::storage("cannot end a read", e))?;
    let last_seq = expected_seq - 1;
    match head {
        Some((seq, hash)) if seq != last_seq || hash != prev => problems.push(format!(
            "the log ends at row {last_seq} but its head record says row {seq}: rows were deleted from the end or the head was edited"
        )),
        None if rows_seen > 0 => problems.push("the head record is missing".to_owned()),
        _ => {}
    }
    Ok(Verification {
        rows: rows_seen,
        head_seq: last_seq,
        head_hash: prev,
        problems,
    })
}
