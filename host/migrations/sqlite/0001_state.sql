-- The state file as jack-pms created it before migrations were versioned: every statement is
-- idempotent, so a file made by an older jack-pms takes this migration without change.

-- The vault (see host/src/vault/store.rs).
CREATE TABLE IF NOT EXISTS vault_meta (
    key TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS vault_secrets (
    hotel TEXT NOT NULL,
    name TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (hotel, name));

-- The outbox of writes (host/src/state/outbox.rs).
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    hotel TEXT NOT NULL,
    operation TEXT NOT NULL,
    target TEXT NOT NULL,
    idempotency_key TEXT,
    caller TEXT NOT NULL,
    payload BLOB NOT NULL,
    state TEXT NOT NULL,
    verify INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error BLOB,
    pms_reference TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (hotel, idempotency_key));
CREATE INDEX IF NOT EXISTS outbox_work ON outbox (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (hotel, target, state, seq);

-- The audit log (host/src/state/audit.rs): append-only, hash-chained.
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER NOT NULL PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    hotel TEXT NOT NULL,
    operation TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    target TEXT NOT NULL,
    event TEXT NOT NULL,
    attempt INTEGER,
    outcome TEXT NOT NULL,
    detail BLOB,
    pms_request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_by_hotel ON audit (hotel, at);
CREATE INDEX IF NOT EXISTS audit_by_operation ON audit (operation_id);
CREATE TABLE IF NOT EXISTS audit_head (
    one INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- The change-event log (host/src/events/log.rs). AUTOINCREMENT: ids are SSE ids and webhook
-- cursors and must never be reused after pruning.
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    hotel TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload BLOB NOT NULL);

-- What each hotel's last sync runs saw (host/src/events/tracker.rs), and how far each webhook
-- receiver has been sent (host/src/events/webhooks.rs).
CREATE TABLE IF NOT EXISTS sync_snapshots (
    hotel TEXT PRIMARY KEY,
    snapshot BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS webhook_cursors (
    target TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL);
