-- The state of jack-pms on PostgreSQL: the same tables as the SQLite state file, with
-- PostgreSQL's types. Times in the outbox are milliseconds since the epoch; audit and event
-- times are RFC 3339 text (the audit hash covers the text as written).

CREATE TABLE vault_meta (
    key TEXT NOT NULL PRIMARY KEY,
    -- The key-check record (bytes) or, for counters, NULL and `number` set.
    value BYTEA,
    number BIGINT);
CREATE TABLE vault_secrets (
    hotel TEXT NOT NULL,
    name TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    ciphertext BYTEA NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (hotel, name));

CREATE TABLE outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    hotel TEXT NOT NULL,
    operation TEXT NOT NULL,
    target TEXT NOT NULL,
    idempotency_key TEXT,
    caller TEXT NOT NULL,
    payload BYTEA NOT NULL,
    state TEXT NOT NULL,
    verify BOOLEAN NOT NULL DEFAULT FALSE,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error BYTEA,
    pms_reference TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    owner TEXT,
    lease_until BIGINT,
    UNIQUE (hotel, idempotency_key));
CREATE INDEX outbox_work ON outbox (state, next_attempt_at);
CREATE INDEX outbox_order ON outbox (hotel, target, state, seq);
CREATE INDEX outbox_leases ON outbox (state, lease_until);

CREATE TABLE audit (
    seq BIGINT NOT NULL PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    hotel TEXT NOT NULL,
    operation TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    target TEXT NOT NULL,
    event TEXT NOT NULL,
    attempt BIGINT,
    outcome TEXT NOT NULL,
    detail BYTEA,
    pms_request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL);
CREATE INDEX audit_by_hotel ON audit (hotel, at);
CREATE INDEX audit_by_operation ON audit (operation_id);
CREATE TABLE audit_head (
    one INTEGER NOT NULL PRIMARY KEY CHECK (one = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL);
-- Append-only, enforced by the database: no UPDATE, DELETE or TRUNCATE of audit rows. The
-- hashes catch anyone who drops these triggers.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- Ids come from the identity sequence (never reused); appends hold the events advisory lock,
-- so ids commit in the order they were issued.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TEXT NOT NULL,
    hotel TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload BYTEA NOT NULL);

CREATE TABLE sync_snapshots (
    hotel TEXT PRIMARY KEY,
    snapshot BYTEA NOT NULL);
CREATE TABLE webhook_cursors (
    target TEXT PRIMARY KEY,
    last_event_id BIGINT NOT NULL);
