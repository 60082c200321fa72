//! Staff accounts: names, roles and Argon2id password hashes in the state database.

use super::{Role, StaffError, now_ms};
use crate::db::Db;
use crate::on_db;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::Serialize;

/// Shortest password accepted, in characters (NIST SP 800-63B asks for at least 8; staff
/// accounts can approve charges, so more).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted, in bytes: Argon2 hashes any length, but an unbounded input is
/// an unbounded cost per login attempt.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest account name.
pub const MAX_NAME_CHARS: usize = 64;

/// One account as listed (never its hash).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// The login name, also how the audit log names the person (`staff:<name>`).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Changes with every password or role change; sessions of an older generation are over.
    #[serde(skip)]
    pub generation: i64,
    /// When the account was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When its password or role last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The accounts, in the state database.
#[derive(Clone, Debug)]
pub struct Accounts {
    db: Db,
    hasher: Argon2<'static>,
    /// A hash of no password, verified against when the name is unknown, so that a login for
    /// an unknown name takes as long as one for a known name.
    decoy: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    role: String,
    password_hash: String,
    generation: i64,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn account(self) -> Result<(Account, String), StaffError> {
        let role = Role::parse(&self.role).map_err(|_| {
            StaffError::Storage(format!("account `{}` has an unknown role", self.name))
        })?;
        let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
        Ok((
            Account {
                name: self.name,
                role,
                generation: self.generation,
                created_at: at(self.created_at),
                updated_at: at(self.updated_at),
            },
            self.password_hash,
        ))
    }
}

impl Accounts {
    /// The accounts in `db` (already migrated). Hashes with Argon2id, 19 MiB, 2 passes, one
    /// lane: OWASP's recommended minimum, about 30 ms per login on a small VM.
    pub fn new(db: Db) -> Result<Accounts, StaffError> {
        let params =
            Params::new(19 * 1024, 2, 1, None).map_err(|e| StaffError::Hash(e.to_string()))?;
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let decoy = hash_with(&hasher, "decoy password for unknown names")?;
        Ok(Accounts { db, hasher, decoy })
    }

    /// Adds an account.
    pub async fn add(&self, name: &str, role: Role, password: &str) -> Result<Account, StaffError> {
        check_name(name)?;
        check_password(password)?;
        let hash = self.hash(password).await?;
        let now = now_ms();
        let inserted = on_db!(&self.db, p => sqlx::query(
            "INSERT INTO staff_accounts (name, role, password_hash, generation, created_at, updated_at) \
             VALUES ($1, $2, $3, 1, $4, $4) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(&hash)
        .bind(now)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .map_err(|e| StaffError::storage("cannot add the account", e))?;
        if inserted == 0 {
            return Err(StaffError::Exists(name.to_owned()));
        }
        self.get(name).await
    }

    /// Sets an account's password (and, with `role`, its role); its sessions end.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        role: Option<Role>,
    ) -> Result<Account, StaffError> {
        check_password(password)?;
        let hash = self.hash(password).await?;
        let changed = on_db!(&self.db, p => sqlx::query(
            "UPDATE staff_accounts SET password_hash = $2, role = COALESCE($3, role), \
             generation = generation + 1, updated_at = $4 WHERE name = $1",
        )
        .bind(name)
        .bind(&hash)
        .bind(role.map(Role::as_str))
        .bind(now_ms())
        .execute(p)
        .await
        .map(|r| r.rows_affected()))
        .map_err(|e| StaffError::storage("cannot change the password", e))?;
        if changed == 0 {
            return Err(StaffError::NoSuchAccount(name.to_owned()));
        }
        self.end_sessions(name).await?;
        self.get(name).await
    }

    /// Removes an account and ends its sessions.
    pub async fn remove(&self, name: &str) -> Result<(), StaffError> {
        let removed =
            on_db!(&self.db, p => sqlx::query("DELETE FROM staff_accounts WHERE name = $1")
            .bind(name)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))
            .map_err(|e| StaffError::storage("cannot remove the account", e))?;
        self.end_sessions(name).await?;
        if removed == 0 {
            return Err(StaffError::NoSuchAccount(name.to_owned()));
        }
        Ok(())
    }

    /// Every account, by name.
    pub async fn list(&self) -> Result<Vec<Account>, StaffError> {
        let rows: Vec<Row> = on_db!(&self.db, p => sqlx::query_as(
            "SELECT name, role, password_hash, generation, created_at, updated_at \
             FROM staff_accounts ORDER BY name",
        )
        .fetch_all(p)
        .await)
        .map_err(|e| StaffError::storage("cannot list the accounts", e))?;
        rows.into_iter()
            .map(|r| r.account().map(|(a, _)| a))
            .collect()
    }

    /// The account `name`.
    pub async fn get(&self, name: &str) -> Result<Account, StaffError> {
        self.find(name)
            .await?
            .map(|(a, _)| a)
            .ok_or_else(|| StaffError::NoSuchAccount(name.to_owned()))
    }

    /// The account whose name and password these are. Unknown names cost a hash too, and the
    /// error does not say which of the two was wrong.
    pub async fn verify(&self, name: &str, password: &str) -> Result<Account, StaffError> {
        if password.len() > MAX_PASSWORD_BYTES || name.chars().count() > MAX_NAME_CHARS {
            return Err(StaffError::WrongPassword);
        }
        let found = self.find(name).await?;
        let stored = match &found {
            Some((_, hash)) => hash.clone(),
            None => self.decoy.clone(),
        };
        let hasher = self.hasher.clone();
        let password = zeroize::Zeroizing::new(password.to_owned());
        // Argon2 takes tens of milliseconds of CPU: off the async workers.
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .map(|parsed| hasher.verify_password(password.as_bytes(), &parsed).is_ok())
                .map_err(|e| StaffError::Hash(e.to_string()))
        })
        .await
        .map_err(|e| StaffError::Hash(e.to_string()))??;
        match found {
            Some((account, _)) if matches => Ok(account),
            _ => Err(StaffError::WrongPassword),
        }
    }

    async fn find(&self, name: &str) -> Result<Option<(Account, String)>, StaffError> {
        let row: Option<Row> = on_db!(&self.db, p => sqlx::query_as(
            "SELECT name, role, password_hash, generation, created_at, updated_at \
             FROM staff_accounts WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(p)
        .await)
        .map_err(|e| StaffError::storage("cannot read the account", e))?;
        row.map(Row::account).transpose()
    }

    async fn end_sessions(&self, name: &str) -> Result<(), StaffError> {
        on_db!(&self.db, p => sqlx::query("DELETE FROM staff_sessions WHERE account = $1")
            .bind(name)
            .execute(p)
            .await
            .map(|_| ()))
        .map_err(|e| StaffError::storage("cannot end the account's sessions", e))?;
        Ok(())
    }

    async fn hash(&self, password: &str) -> Result<String, StaffError> {
        let hasher = self.hasher.clone();
        let password = zeroize::Zeroizing::new(password.to_owned());
        tokio::task::spawn_blocking(move || hash_with(&hasher, &password))
            .await
            .map_err(|e| StaffError::Hash(e.to_string()))?
    }
}

/// An Argon2id PHC string of `password` with a fresh random salt.
fn hash_with(hasher: &Argon2<'_>, password: &str) -> Result<String, StaffError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    hasher
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StaffError::Hash(e.to_string()))
}

/// Names are 1 to 64 letters, digits and `.`, `_`, `-`, `@`: they appear in the audit log and
/// on pages, so nothing that needs escaping.
pub fn check_name(name: &str) -> Result<(), StaffError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(StaffError::Invalid(format!(
            "an account name is 1 to {MAX_NAME_CHARS} letters, digits, `.`, `_`, `-` or `@`"
        )))
    }
}

/// At least [`MIN_PASSWORD_CHARS`] characters, at most [`MAX_PASSWORD_BYTES`] bytes, not only
/// spaces.
pub fn check_password(password: &str) -> Result<(), StaffError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.trim().is_empty() {
        return Err(StaffError::Invalid(format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(StaffError::Invalid(format!(
            "a password has at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}
