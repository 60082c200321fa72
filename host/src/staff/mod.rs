//! Staff: the people who work the console (`/console`), as opposed to Jack's API tokens.
//!
//! Accounts live in the state database beside the outbox and the audit log (so every host of a
//! cluster knows them), with passwords hashed with Argon2id; sessions are stored as the SHA-256
//! of their cookie, so a copy of the database opens no session. `jack-pms staff add|passwd|rm|list`
//! manages accounts; the console logs people in. The HTTP side is in [`crate::console`].

pub mod accounts;
pub mod sessions;
pub mod throttle;

use serde::Serialize;

/// What a staff member may do. Roles are not ranked: an approver decides on held writes but
/// does not retry failed ones, unless they are also an admin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads every page; sees no write payloads or audit details (they may hold personal data).
    Viewer,
    /// Also retries, resends and cancels writes, and sees what they hold.
    Operator,
    /// Also approves and rejects held writes, and sees what they hold.
    Approver,
    /// Everything an operator and an approver may do.
    Admin,
}

impl Role {
    /// Every role, in the order the CLI lists them.
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Operator, Role::Approver, Role::Admin];

    /// The role's name in the CLI, the database and the console.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// Parses a role's name.
    pub fn parse(name: &str) -> Result<Role, StaffError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or_else(|| {
                StaffError::Invalid(format!(
                    "`{}` is not a role: viewer, operator, approver or admin",
                    crate::untrusted::escape(name, 40)
                ))
            })
    }

    /// May retry, resend and cancel writes.
    pub fn operates(self) -> bool {
        matches!(self, Role::Operator | Role::Admin)
    }

    /// May approve and reject writes held for approval.
    pub fn approves(self) -> bool {
        matches!(self, Role::Approver | Role::Admin)
    }

    /// May see what writes hold and the audit log's details (personal data).
    pub fn sees_personal_data(self) -> bool {
        self != Role::Viewer
    }

    /// May take `action` on a write.
    pub fn may(self, action: crate::service::StaffAction) -> bool {
        use crate::config::TokenScope;
        match action.scope() {
            TokenScope::Operator => self.operates(),
            TokenScope::Approver => self.approves(),
        }
    }
}

/// Why a staff operation failed. Never holds a password or a session cookie.
#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// A name, password or role that is not acceptable, and why.
    #[error("{0}")]
    Invalid(String),
    /// No account of that name.
    #[error("no staff account `{0}`")]
    NoSuchAccount(String),
    /// An account of that name exists already.
    #[error(
        "staff account `{0}` exists already (use `jack-pms staff passwd` to change its password)"
    )]
    Exists(String),
    /// The name and password do not match an account (which of the two is not said).
    #[error("wrong name or password")]
    WrongPassword,
    /// The database failed.
    #[error("state database: {0}")]
    Storage(String),
    /// Hashing failed (out of memory, or a stored hash that is not a PHC string).
    #[error("password hash: {0}")]
    Hash(String),
}

impl StaffError {
    fn storage(context: &str, e: sqlx::Error) -> StaffError {
        StaffError::Storage(format!("{context}: {e}"))
    }
}

/// Milliseconds since the epoch, now.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
