//! The audit log of PMS writes: append-only and tamper-evident.
//!
//! Every row carries the hash of the row before it in its chain and its own hash, an
//! HMAC-SHA256 (keyed with a data key from the vault) over its fields and that previous hash.
//! Editing a row breaks its hash; deleting one leaves a gap in the sequence and breaks the next
//! row's link; recomputing a chain after an edit needs the key, which is in the vault, not in the
//! file. Deleting rows from the end of a chain is caught by its head record (`audit_heads`)
//! unless that is rewritten too, which is why `jack-pms audit verify` prints every chain's head:
//! keep them somewhere else to anchor the chains.
//!
//! Triggers refuse `UPDATE` and `DELETE` on the table (on PostgreSQL `TRUNCATE` too), so the
//! host itself cannot rewrite history by mistake; the hashes catch anyone who drops the triggers.
//!
//! **A few chains, shared by every hotel and every node.** A row is `(chain, seq)`; each chain
//! is hash-linked on its own and has its own head record. A write transaction holds one chain
//! for its whole life ([`crate::db::Db::begin_chain_write`]: SQLite's file write lock, which
//! makes chain 0 the only one a SQLite file ever writes; on PostgreSQL the first free of
//! [`CHAINS`] advisory locks, starting at one chosen by the node's id), so the head read at its
//! start is still the head at its commit, whichever host commits. Hosts therefore append, and
//! commit, in parallel instead of taking turns on one lock, while `audit verify` stays a walk of
//! [`CHAINS`] chains with as many heads to anchor, not one per hotel or per node. Chain 0 is
//! the single chain of earlier versions: its rows hash exactly as they always did.
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

/// How many chains a PostgreSQL database spreads appends over: more than the hosts of a
/// cluster, so that each host's transaction almost always finds its own chain free.
pub const CHAINS: i32 = 8;

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
    /// The chain the row is in (see the module docs).
    pub chain: i32,
    /// Position in its chain (1, 2, …).
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
    /// The last row of each chain that has rows (anchor them elsewhere to catch truncation).
    pub heads: Vec<ChainHead>,
    /// Every break found; empty when every chain is intact.
    pub problems: Vec<String>,
}

/// The last row of one chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainHead {
    /// The chain.
    pub chain: i32,
    /// Its last row's position.
    pub seq: i64,
    /// Its last row's hash.
    pub hash: String,
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

    /// The hash of one row. Rows of chain 0 hash as the single chain of earlier versions did;
    /// the others also cover their chain, so a row cannot be moved to another chain.
    #[allow(clippy::too_many_arguments)]
    fn hash(
        &self,
        chain: i32,
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
        if chain != 0 {
            part(b"chain");
            part(&chain.to_be_bytes());
        }
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

/// The name a row's sealed detail is bound to: its place in the log (chain 0 keeps the bare
/// sequence number of earlier versions).
fn row_name(chain: i32, seq: i64) -> String {
    if chain == 0 {
        seq.to_string()
    } else {
        format!("{chain}.{seq}")
    }
}

/// A chain's head within one write transaction.
#[derive(Debug, Clone)]
pub struct Head {
    chain: i32,
    seq: i64,
    hash: String,
}

impl Head {
    /// Reads the head of `chain` inside a write transaction that holds that chain (so no other
    /// writer, on any node, can move it until commit).
    pub async fn load(tx: &mut Tx, chain: i32) -> Result<Head, StateError> {
        let row: Option<(i64, String)> = on_tx!(tx, c => sqlx::query_as(
            "SELECT seq, hash FROM audit WHERE chain = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(chain)
        .fetch_optional(&mut *c)
        .await)
        .map_err(|e| StateError::storage("cannot read the audit head", e))?;
        Ok(match row {
            Some((seq, hash)) => Head { chain, seq, hash },
            None => Head {
                chain,
                seq: 0,
                hash: GENESIS.to_owned(),
            },
        })
    }

    /// Appends a row after the head and moves the head.
    ///
    /// One INSERT per row, at once. Writing a transaction's rows together in one statement was
    /// measured and dropped: over TCP, sqlx 0.9 leaves Nagle's algorithm on (no `TCP_NODELAY`),
    /// and the larger message met the peer's delayed ACK, about 40 ms per batch (one host on
    /// PostgreSQL fell from about 5,100 to 1,150 writes/s; over a Unix socket it did not).
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
            .map(|d| cipher.seal_str("audit", &row_name(self.chain, seq), "detail", d));
        let pms = entry.pms_request_id.as_deref().unwrap_or("");
        let hash = key.hash(
            self.chain,
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
             attempt, outcome, detail, pms_request_id, prev_hash, hash, chain) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
        .bind(self.chain)
        .execute(&mut *c)
        .await.map(drop))
        .map_err(|e| StateError::storage("cannot append to the audit log", e))?;
        self.seq = seq;
        self.hash = hash;
        Ok(())
    }

    /// Records the head, so that rows deleted from the end are noticed.
    pub async fn store(&self, tx: &mut Tx) -> Result<(), StateError> {
        if self.seq == 0 {
            // Nothing was ever appended to this chain.
            return Ok(());
        }
        on_tx!(tx, c => sqlx::query(
            "INSERT INTO audit_heads (chain, seq, hash) VALUES ($1, $2, $3) \
             ON CONFLICT (chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .bind(self.chain)
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
    /// Only rows before this instant.
    pub until: Option<DateTime<Utc>>,
    /// Only this operation id.
    pub operation_id: Option<String>,
    /// Only this operation (`postCharge`, …).
    pub operation: Option<String>,
    /// Only this actor (`staff:ana`, a token's name, `worker`).
    pub actor: Option<String>,
    /// At most this many rows (the newest), default 1,000.
    pub limit: Option<u32>,
}

/// An audit row as stored.
#[derive(sqlx::FromRow)]
struct StoredRow {
    chain: i32,
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
const COLUMNS: &str = "chain, seq, at, actor, hotel, operation, operation_id, target, event, attempt, \
                       outcome, detail, pms_request_id, prev_hash, hash";

/// Rows matching `filter`, oldest first, details opened.
pub async fn list(
    db: &Db,
    cipher: &FieldCipher,
    filter: &AuditFilter,
) -> Result<Vec<AuditRecord>, StateError> {
    let instant =
        |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true));
    let (since, until) = (instant(filter.since), instant(filter.until));
    // `at` is stored as RFC 3339 in UTC with microseconds, so text order is time order.
    let sql = format!(
        "SELECT * FROM (SELECT {COLUMNS} FROM audit \
         WHERE ($1 IS NULL OR hotel = $1) AND ($2 IS NULL OR at >= $2) \
         AND ($3 IS NULL OR operation_id = $3) AND ($5 IS NULL OR at < $5) \
         AND ($6 IS NULL OR operation = $6) AND ($7 IS NULL OR actor = $7) \
         ORDER BY at DESC, chain DESC, seq DESC LIMIT $4) \
         AS newest ORDER BY at, chain, seq"
    );
    let rows: Vec<StoredRow> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(filter.hotel.as_deref())
        .bind(since.as_deref())
        .bind(filter.operation_id.as_deref())
        .bind(i64::from(filter.limit.unwrap_or(1000)))
        .bind(until.as_deref())
        .bind(filter.operation.as_deref())
        .bind(filter.actor.as_deref())
        .fetch_all(p)
        .await)
    .map_err(|e| StateError::storage("cannot read the audit log", e))?;
    rows.into_iter()
        .map(|r| {
            let detail = r
                .detail
                .map(|d| cipher.open_str("audit", &row_name(r.chain, r.seq), "detail", &d))
                .transpose()?;
            Ok(AuditRecord {
                chain: r.chain,
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

/// Walks every chain and reports every break: a changed row, a missing row (gap or broken
/// link), a head record that does not match its chain's last row.
pub async fn verify(db: &Db, key: &ChainKey) -> Result<Verification, StateError> {
    use futures_util::TryStreamExt as _;
    // One snapshot for the rows and the heads (SQLite: a WAL read transaction; PostgreSQL:
    // REPEATABLE READ), so hosts appending meanwhile cannot make a head look ahead of its rows.
    let mut tx = db
        .begin_read()
        .await
        .map_err(|e| StateError::storage("cannot begin a read", e))?;
    let mut walks: Vec<Walk> = Vec::new();
    let sql = format!("SELECT {COLUMNS} FROM audit ORDER BY chain, seq");
    on_tx!(&mut tx, c => {
        let mut rows = sqlx::query_as::<_, StoredRow>(sqlx::AssertSqlSafe(sql.as_str())).fetch(&mut *c);
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| StateError::storage("cannot read the audit log", e))?
        {
            match walks.last_mut() {
                Some(walk) if walk.chain == row.chain => walk.step(key, &row),
                _ => {
                    let mut walk = Walk::new(row.chain);
                    walk.step(key, &row);
                    walks.push(walk);
                }
            }
        }
    });
    let heads: Vec<(i32, i64, String)> = on_tx!(&mut tx, c => sqlx::query_as(
        "SELECT chain, seq, hash FROM audit_heads ORDER BY chain",
    )
    .fetch_all(&mut *c)
    .await)
    .map_err(|e| StateError::storage("cannot read the audit heads", e))?;
    tx.rollback()
        .await
        .map_err(|e| StateError::storage("cannot end a read", e))?;
    let mut verification = Verification {
        rows: 0,
        heads: Vec::new(),
        problems: Vec::new(),
    };
    for (chain, seq, _) in &heads {
        // A head past row 0 without rows: its whole chain was deleted.
        if *seq > 0 && !walks.iter().any(|w| w.chain == *chain) {
            verification.problems.push(format!(
                "{}the log has no rows but its head record says row {seq}: rows were deleted or the head was edited",
                chain_prefix(*chain)
            ));
        }
    }
    for walk in walks {
        let head = heads
            .iter()
            .find(|(c, _, _)| *c == walk.chain)
            .map(|(_, seq, hash)| (*seq, hash.clone()));
        walk.finish(head, &mut verification);
    }
    Ok(verification)
}

/// How messages name a chain: not at all for chain 0 (a log with one chain reads as before).
fn chain_prefix(chain: i32) -> String {
    if chain == 0 {
        String::new()
    } else {
        format!("chain {chain}: ")
    }
}

/// The state of a walk along one chain.
struct Walk {
    chain: i32,
    expected_seq: i64,
    prev: String,
    rows_seen: u64,
    problems: Vec<String>,
}

impl Walk {
    fn new(chain: i32) -> Walk {
        Walk {
            chain,
            expected_seq: 1,
            prev: GENESIS.to_owned(),
            rows_seen: 0,
            problems: Vec::new(),
        }
    }

    /// Checks one row against the one before it and its own hash.
    fn step(&mut self, key: &ChainKey, r: &StoredRow) {
        self.rows_seen += 1;
        let seq = r.seq;
        let at = chain_prefix(self.chain);
        if seq != self.expected_seq {
            self.problems.push(format!(
                "{at}rows {}..{} are missing (deleted)",
                self.expected_seq,
                seq.saturating_sub(1)
            ));
        }
        if r.prev_hash != self.prev {
            self.problems.push(format!(
                "{at}row {seq} does not follow the row before it (a row was deleted or edited)"
            ));
        }
        let attempt = r.attempt.and_then(|a| u32::try_from(a).ok());
        let computed = key.hash(
            r.chain,
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
                .push(format!("{at}row {seq} was changed after it was written"));
        }
        self.prev = r.hash.clone();
        self.expected_seq = seq.saturating_add(1);
    }

    /// Adds this chain's verdict, given its head record, to `v`.
    fn finish(mut self, head: Option<(i64, String)>, v: &mut Verification) {
        let last_seq = self.expected_seq - 1;
        let at = chain_prefix(self.chain);
        match head {
            Some((seq, hash)) if seq != last_seq || hash != self.prev => self.problems.push(format!(
                "{at}the log ends at row {last_seq} but its head record says row {seq}: rows were deleted from the end or the head was edited"
            )),
            None if self.rows_seen > 0 => self
                .problems
                .push(format!("{at}the head record is missing")),
            _ => {}
        }
        v.rows += self.rows_seen;
        v.heads.push(ChainHead {
            chain: self.chain,
            seq: last_seq,
            hash: self.prev,
        });
        v.problems.append(&mut self.problems);
    }
}
