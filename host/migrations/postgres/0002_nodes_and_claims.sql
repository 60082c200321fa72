-- The hosts sharing this state, and who ran what (see the SQLite migration of the same name).
CREATE TABLE nodes (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL);

CREATE TABLE sync_runs (
    hotel TEXT NOT NULL,
    stream TEXT NOT NULL,
    fire_at BIGINT NOT NULL,
    node TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    outcome TEXT,
    PRIMARY KEY (hotel, stream));

ALTER TABLE webhook_cursors ADD COLUMN owner TEXT;
ALTER TABLE webhook_cursors ADD COLUMN lease_until BIGINT;
