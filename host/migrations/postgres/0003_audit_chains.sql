-- Several audit chains, so that hosts append in parallel instead of one at a time (see
-- host/src/state/audit.rs): a row is identified by (chain, seq). Chain 0 is the one chain of
-- earlier versions; its rows keep their hashes.
ALTER TABLE audit ADD COLUMN chain INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit DROP CONSTRAINT audit_pkey;
ALTER TABLE audit ADD PRIMARY KEY (chain, seq);
CREATE TABLE audit_heads (
    chain INTEGER NOT NULL PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL);
INSERT INTO audit_heads (chain, seq, hash) SELECT 0, seq, hash FROM audit_head WHERE seq > 0;
DROP TABLE audit_head;
