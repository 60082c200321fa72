-- The audit log's chains (see host/src/state/audit.rs and the PostgreSQL migration of the same
-- name). A SQLite file has one writer at a time, so only chain 0 is ever written here; the
-- column and the heads table keep one code path for both backends.
ALTER TABLE audit ADD COLUMN chain INTEGER NOT NULL DEFAULT 0;
CREATE TABLE audit_heads (
    chain INTEGER NOT NULL PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL);
INSERT INTO audit_heads (chain, seq, hash) SELECT 0, seq, hash FROM audit_head WHERE seq > 0;
DROP TABLE audit_head;
