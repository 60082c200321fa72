-- Staff accounts and console sessions (see host/src/console/). Passwords are Argon2id PHC
-- strings; a session is stored as the SHA-256 of its cookie, never the cookie itself.
-- `generation` changes when the password, the role or the account changes, ending its sessions.
CREATE TABLE staff_accounts (
    name TEXT NOT NULL PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL);
CREATE TABLE staff_sessions (
    id_hash TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL);
CREATE INDEX staff_sessions_account ON staff_sessions (account);
