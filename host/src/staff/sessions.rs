//! Console sessions: a random cookie per login, stored only as its SHA-256, ended by logout,
//! by the idle timeout, by the absolute lifetime, and by any change to the account.
//!
//! The CSRF token of a session is derived from its cookie (a keyed hash with a fixed label), so
//! it needs no storage, differs per session, and cannot be computed by a page that cannot read
//! the cookie (it is `HttpOnly`).

use super::accounts::Account;
use super::{Role, StaffError, now_ms};
use crate::db::Db;
use crate::on_db;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use std::time::Duration;

/// A session cookie's value. `Debug` does not show it.
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

impl SessionToken {
    /// The value as the client sent it (no check: a wrong value is simply not found).
    pub fn from_cookie(value: &str) -> SessionToken {
        SessionToken(value.to_owned())
    }

    /// The cookie's value.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database holds: the hex SHA-256.
    fn id_hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The session's CSRF token.
    pub fn csrf(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"jack-pms console csrf v1\0");
        h.update(self.0.as_bytes());
        hex::encode(h.finalize())
    }

    /// True when `sent` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, sent: &str) -> bool {
        constant_time_eq(&self.csrf(), sent)
    }
}

/// True when `a` and `b` are equal, in time that depends on their lengths only.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Whose.
    pub account: String,
    /// Their role, as it is now.
    pub role: Role,
}

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Ends a session nobody used for this long.
    pub idle: Duration,
    /// Ends every session this long after login, used or not.
    pub lifetime: Duration,
}

impl Default for SessionLimits {
    fn default() -> SessionLimits {
        SessionLimits {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 3600),
        }
    }
}

/// How stale `last_seen_at` may get before a request refreshes it: one write a minute per
/// active session, not one per request.
const TOUCH_AFTER_MS: i64 = 60_000;

/// The sessions, in the state database.
#[derive(Clone, Debug)]
pub struct Sessions {
    db: Db,
    limits: SessionLimits,
}

#[derive(sqlx::FromRow)]
struct Row {
    account: String,
    generation: i64,
    created_at: i64,
    last_seen_at: i64,
    role: Option<String>,
    current_generation: Option<i64>,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Sessions {
    /// The sessions in `db` (already migrated).
    pub fn new(db: Db, limits: SessionLimits) -> Sessions {
        Sessions { db, limits }
    }

    /// The limits sessions are held to.
    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    /// Starts a session for `account` (just verified) and answers its cookie. Ends the
    /// sessions that are over, so the table does not grow with logins.
    pub async fn start(&self, account: &Account) -> Result<SessionToken, StaffError> {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let token = SessionToken(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
        let now = now_ms();
        on_db!(&self.db, p => sqlx::query(
            "DELETE FROM staff_sessions WHERE last_seen_at < $1 OR created_at < $2",
        )
        .bind(now.saturating_sub(ms(self.limits.idle)))
        .bind(now.saturating_sub(ms(self.limits.lifetime)))
        .execute(p)
        .await
        .map(|_| ()))
        .map_err(|e| StaffError::storage("cannot end old sessions", e))?;
        on_db!(&self.db, p => sqlx::query(
            "INSERT INTO staff_sessions (id_hash, account, generation, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(token.id_hash())
        .bind(&account.name)
        .bind(account.generation)
        .bind(now)
        .execute(p)
        .await
        .map(|_| ()))
        .map_err(|e| StaffError::storage("cannot start the session", e))?;
        Ok(token)
    }

    /// The live session of `token`, or `None` (unknown, idle too long, too old, or its
    /// account changed or is gone: then it is ended too).
    pub async fn check(&self, token: &SessionToken) -> Result<Option<Session>, StaffError> {
        let id = token.id_hash();
        let row: Option<Row> = on_db!(&self.db, p => sqlx::query_as(
            "SELECT s.account, s.generation, s.created_at, s.last_seen_at, a.role, \
             a.generation AS current_generation FROM staff_sessions s \
             LEFT JOIN staff_accounts a ON a.name = s.account WHERE s.id_hash = $1",
        )
        .bind(&id)
        .fetch_optional(p)
        .await)
        .map_err(|e| StaffError::storage("cannot read the session", e))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let now = now_ms();
        let live = row.current_generation == Some(row.generation)
            && now.saturating_sub(row.last_seen_at) <= ms(self.limits.idle)
            && now.saturating_sub(row.created_at) <= ms(self.limits.lifetime);
        let role = row
            .role
            .as_deref()
            .map(Role::parse)
            .transpose()
            .ok()
            .flatten();
        let (true, Some(role)) = (live, role) else {
            self.end(token).await?;
            return Ok(None);
        };
        if now.saturating_sub(row.last_seen_at) > TOUCH_AFTER_MS {
            on_db!(&self.db, p => sqlx::query(
                "UPDATE staff_sessions SET last_seen_at = $2 WHERE id_hash = $1",
            )
            .bind(&id)
            .bind(now)
            .execute(p)
            .await
            .map(|_| ()))
            .map_err(|e| StaffError::storage("cannot refresh the session", e))?;
        }
        Ok(Some(Session {
            account: row.account,
            role,
        }))
    }

    /// Ends the session of `token` (logout).
    pub async fn end(&self, token: &SessionToken) -> Result<(), StaffError> {
        on_db!(&self.db, p => sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1")
            .bind(token.id_hash())
            .execute(p)
            .await
            .map(|_| ()))
        .map_err(|e| StaffError::storage("cannot end the session", e))?;
        Ok(())
    }
}
