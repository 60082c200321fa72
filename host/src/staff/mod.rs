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

#[cfg(test)]
mod tests {
    use super::accounts::Accounts;
    use super::sessions::{SessionLimits, SessionToken, Sessions};
    use super::*;
    use crate::db::{Db, Location};

    /// Accounts and sessions behave alike on both backends, and neither the password nor the
    /// session cookie is stored: only an Argon2id hash and a SHA-256.
    async fn accounts_and_sessions(db: &Db) {
        let accounts = Accounts::new(db.clone()).expect("accounts");
        let sessions = Sessions::new(db.clone(), SessionLimits::default());
        let password = "a long enough password 1";
        let ana = accounts
            .add("ana", Role::Approver, password)
            .await
            .expect("add");
        assert!(matches!(
            accounts.add("ana", Role::Viewer, password).await,
            Err(StaffError::Exists(_))
        ));
        assert!(matches!(
            accounts.verify("ana", "wrong password at all").await,
            Err(StaffError::WrongPassword)
        ));
        assert!(matches!(
            accounts.verify("nobody", password).await,
            Err(StaffError::WrongPassword)
        ));
        assert_eq!(
            accounts.verify("ana", password).await.expect("verify").role,
            Role::Approver
        );

        let token = sessions.start(&ana).await.expect("session");
        let live = sessions.check(&token).await.expect("check").expect("live");
        assert_eq!((live.account.as_str(), live.role), ("ana", Role::Approver));
        assert!(
            sessions
                .check(&SessionToken::from_cookie("made-up"))
                .await
                .expect("check")
                .is_none()
        );

        // Nothing stored is the password or the cookie.
        let stored: Vec<(String, String)> = crate::on_db!(db, p => sqlx::query_as(
            "SELECT a.password_hash, s.id_hash FROM staff_accounts a \
             JOIN staff_sessions s ON s.account = a.name",
        )
        .fetch_all(p)
        .await)
        .expect("read");
        assert_eq!(stored.len(), 1);
        let (hash, id) = &stored[0];
        assert!(hash.starts_with("$argon2id$") && !hash.contains(password));
        assert_ne!(id, token.expose());
        assert!(!id.contains(token.expose()));

        // A password change ends the session; the role can change with it; removal ends all.
        accounts
            .set_password("ana", "another long password 2", Some(Role::Admin))
            .await
            .expect("passwd");
        assert!(sessions.check(&token).await.expect("check").is_none());
        let ana = accounts.get("ana").await.expect("get");
        assert_eq!(ana.role, Role::Admin);
        let token = sessions.start(&ana).await.expect("session");
        sessions.end(&token).await.expect("logout");
        assert!(sessions.check(&token).await.expect("check").is_none());
        let token = sessions.start(&ana).await.expect("session");
        accounts.remove("ana").await.expect("rm");
        assert!(sessions.check(&token).await.expect("check").is_none());
        assert!(accounts.list().await.expect("list").is_empty());
    }

    #[tokio::test]
    async fn on_sqlite() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&Location::Sqlite(dir.path().join("state.db")))
            .await
            .expect("open");
        accounts_and_sessions(&db).await;
        db.close().await;
    }

    #[tokio::test]
    async fn on_postgres() {
        let scratch = crate::db::scratch::ScratchDb::create()
            .await
            .expect("scratch database");
        let db = Db::open(&Location::Postgres(scratch.url().into()))
            .await
            .expect("open");
        accounts_and_sessions(&db).await;
        db.close().await;
    }
}
