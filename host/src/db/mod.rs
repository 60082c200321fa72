//! The one storage seam: the database the host's durable state lives in, its pool, its schema.
//!
//! Two backends, chosen by config (`state: { path: file.db }` or `state: { url: postgres://… }`):
//! - **SQLite** (the embedded default): one file, WAL, `synchronous=FULL`, mode 0600. One host
//!   (and its CLI) at a time writes it; `BEGIN IMMEDIATE` serializes writers.
//! - **PostgreSQL**: several hosts share one database. Writers that must see a consistent head
//!   (the audit chain, the event log's id order, the vault's change counter) serialize on a
//!   transaction-scoped advisory lock ([`Lock`]), so the lock is released by commit or rollback
//!   even if a node dies, and works through a transaction-pooling proxy.
//!
//! The vault, the outbox, the audit log, the event log, sync snapshots and webhook cursors all
//! borrow the [`Db`]; none creates tables of its own. The schema is a versioned list of
//! migrations per backend (`host/migrations/<backend>/`), embedded in the binary and applied at
//! start; a database that has a migration this binary does not know (it was migrated by a newer
//! jack-pms) is refused rather than used.
//!
//! The stores write their SQL once where the two dialects agree (`$1` placeholders, `ON
//! CONFLICT`, `RETURNING`, integer milliseconds, byte strings) and run it on either backend
//! through [`on_db!`] and [`on_tx!`]; where the dialects differ (locking, sequences, types of
//! meta values), the store matches on the backend and says why.

pub mod scratch;

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::time::Duration;

/// Where the state lives, as the config names it.
#[derive(Clone)]
pub enum Location {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user:password@host/db`). Secret: it may hold a password.
    Postgres(SecretString),
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Location {
    /// How messages and logs name it: the file's path, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => redact_url(url.expose_secret()),
        }
    }
}

/// A PostgreSQL URL with any password replaced by `***` (unparsable URLs are not shown at all).
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            // Query parameters may carry a password too (`?password=`).
            if u.query().is_some() {
                u.set_query(Some("…"));
            }
            u.to_string()
        }
        Err(_) => "postgres://(unparsable URL)".to_owned(),
    }
}

/// Which database a [`Db`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Why the database could not be opened or migrated. Never holds a password.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DbError {
    /// The database could not be reached or opened.
    #[error("state database {at}: {problem}")]
    Open {
        /// The file or the URL (password removed).
        at: String,
        /// What failed.
        problem: String,
    },
    /// The database was migrated by a newer jack-pms.
    #[error(
        "state database {at} has schema version {found}, newer than this jack-pms knows ({known}): \
         run the jack-pms that migrated it, or a newer one"
    )]
    TooNew {
        /// The file or the URL (password removed).
        at: String,
        /// The newest version applied to the database.
        found: i64,
        /// The newest version this binary has.
        known: i64,
    },
    /// A migration failed or an applied one was changed.
    #[error("state database {at}: schema migration failed: {problem}")]
    Migrate {
        /// The file or the URL (password removed).
        at: String,
        /// What failed.
        problem: String,
    },
}

/// The pool of the state database.
#[derive(Clone)]
pub enum Db {
    /// A SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Db({:?})", self.backend())
    }
}

/// A transaction on either backend (`'static`: it owns its connection).
pub enum Tx {
    /// On SQLite.
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    /// On PostgreSQL.
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// What a write transaction serializes with on PostgreSQL (a transaction-scoped advisory lock
/// per purpose; on SQLite `BEGIN IMMEDIATE` already serializes every writer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// The vault's secrets and change counter.
    Vault,
    /// One audit chain (`0..CHAINS`, see the audit log in `state::audit`): a state write holds the
    /// chain it appends to, so the chain's head cannot move under it.
    AuditChain(i32),
    /// The event log, so ids are committed in the order they were issued: a reader that has
    /// seen id `n` never later finds a smaller id appear.
    Events,
}

impl Lock {
    /// The advisory lock key ("jackpms" in ASCII, plus the purpose), unlikely to meet another
    /// application's keys in a shared database.
    pub fn key(self) -> i64 {
        const BASE: i64 = 0x6a61_636b_706d_7300;
        BASE + match self {
            Lock::Vault => 1,
            Lock::Events => 3,
            Lock::AuditChain(chain) => 16 + i64::from(chain),
        }
    }

    /// The advisory lock key of one item (a write's target, an idempotency key): a hash of
    /// `kind` and `parts`, so equal items always meet on one key. Two items may share a key by
    /// chance; that only makes them wait for each other.
    pub fn item_key(kind: &str, parts: &[&str]) -> i64 {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(kind.as_bytes());
        for p in parts {
            h.update([0]);
            h.update(p.as_bytes());
        }
        let digest = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(first)
    }
}

/// Runs `$body` with `$pool` bound to the backend's pool (`&SqlitePool` or `&PgPool`); the body
/// is compiled once per backend, so the SQL in it must be valid in both dialects.
#[macro_export]
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to the transaction's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`); as [`on_db!`], the body is compiled once per backend.
#[macro_export]
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::db::Tx::Sqlite(t) => {
                let $conn: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::db::Tx::Postgres(t) => {
                let $conn: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}

/// How long a SQLite statement waits for another connection's (or process's) lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections to a SQLite file (one writer at a time; the rest read, in WAL mode, in parallel).
const SQLITE_CONNECTIONS: u32 = 8;
/// Connections to PostgreSQL per host: the writer, the replay worker, readers, the scheduler.
const POSTGRES_CONNECTIONS: u32 = 16;
/// How long taking a connection from the pool may wait before the request fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The migrations of each backend, embedded at build time.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The connection settings of a SQLite state file: created if missing, WAL journal,
/// `synchronous=FULL` (nothing is acknowledged before it is on disk), a 5 s busy timeout,
/// foreign keys on.
pub fn sqlite_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
}

impl Db {
    /// Opens the database at `location` (creating a SQLite file, mode 0600, if missing) and
    /// brings its schema up to date.
    pub async fn open(location: &Location) -> Result<Db, DbError> {
        let at = location.describe();
        let open = |problem: String| DbError::Open {
            at: at.clone(),
            problem,
        };
        let db = match location {
            Location::Sqlite(path) => {
                create_private_file(path).map_err(open)?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(SQLITE_CONNECTIONS)
                    .min_connections(0)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(sqlite_options(path))
                    .await
                    .map_err(|e| open(e.to_string()))?;
                Db::Sqlite(pool)
            }
            Location::Postgres(url) => {
                let options = PgConnectOptions::from_str(url.expose_secret())
                    .map_err(|e| open(format!("not a PostgreSQL URL: {}", scrub(&e, url))))?
                    .application_name("jack-pms");
                let pool = PgPoolOptions::new()
                    .max_connections(POSTGRES_CONNECTIONS)
                    .min_connections(0)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(|e| open(scrub(&e, url)))?;
                Db::Postgres(pool)
            }
        };
        db.migrate(&at).await?;
        Ok(db)
    }

    /// Opens a SQLite state file (see [`Db::open`]).
    pub async fn open_sqlite(path: &Path) -> Result<Db, DbError> {
        Db::open(&Location::Sqlite(path.to_path_buf())).await
    }

    /// Uses an existing SQLite pool (which should use [`sqlite_options`]), migrating it.
    pub async fn from_sqlite_pool(pool: SqlitePool) -> Result<Db, DbError> {
        let at = pool.connect_options().get_filename().display().to_string();
        let db = Db::Sqlite(pool);
        db.migrate(&at).await?;
        Ok(db)
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite pool, when this is SQLite (tests and tools that read the file itself).
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match self {
            Db::Sqlite(p) => Some(p),
            Db::Postgres(_) => None,
        }
    }

    /// The newest schema version this binary knows for this backend.
    pub fn known_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self {
            Db::Sqlite(_) => &SQLITE_MIGRATIONS,
            Db::Postgres(_) => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies the migrations this database lacks (PostgreSQL: under sqlx's advisory lock, so
    /// nodes starting together migrate once). A database with a migration this binary does not
    /// know is refused.
    async fn migrate(&self, at: &str) -> Result<(), DbError> {
        let result = match self {
            Db::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await,
            Db::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await,
        };
        match result {
            Ok(()) => Ok(()),
            Err(sqlx::migrate::MigrateError::VersionMissing(found)) => Err(DbError::TooNew {
                at: at.to_owned(),
                found,
                known: self.known_version(),
            }),
            Err(e) => Err(DbError::Migrate {
                at: at.to_owned(),
                problem: e.to_string(),
            }),
        }
    }

    /// Begins a read-only transaction whose reads all see one snapshot (SQLite: a WAL read
    /// transaction; PostgreSQL: `REPEATABLE READ`, since its default isolation gives each
    /// statement a snapshot of its own).
    pub async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Db::Postgres(p) => Tx::Postgres(
                p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?,
            ),
        })
    }

    /// Begins a write transaction that no other writer of `lock`'s kind interleaves with, on
    /// any node: SQLite takes the file's write lock at once (`BEGIN IMMEDIATE`, so a head read
    /// in it cannot go stale); PostgreSQL takes the advisory lock of `lock`, held to commit.
    pub async fn begin_write(&self, lock: Lock) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(lock.key())
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// Begins a write transaction that holds one of `chains` audit chains for its whole life,
    /// and answers which. SQLite: the file's write lock (`BEGIN IMMEDIATE`), chain 0 (one
    /// writer at a time, so one chain). PostgreSQL: the first of the chains' advisory locks that
    /// is free, trying from `start` on; if every one is taken, it waits for `start`'s (holding
    /// no other lock while it waits, so it cannot be part of a deadlock).
    pub async fn begin_chain_write(
        &self,
        start: i32,
        chains: i32,
    ) -> Result<(Tx, i32), sqlx::Error> {
        match self {
            Db::Sqlite(p) => Ok((Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?), 0)),
            Db::Postgres(p) => {
                let chains = chains.max(1);
                let start = start.rem_euclid(chains);
                let mut tx = p.begin().await?;
                for i in 0..chains {
                    let chain = (start + i) % chains;
                    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                        .bind(Lock::AuditChain(chain).key())
                        .fetch_one(&mut *tx)
                        .await?;
                    if got {
                        return Ok((Tx::Postgres(tx), chain));
                    }
                }
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(Lock::AuditChain(start).key())
                    .execute(&mut *tx)
                    .await?;
                Ok((Tx::Postgres(tx), start))
            }
        }
    }

    /// Closes the pool, waiting for its connections to finish (SQLite: checkpoints the WAL).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

impl Tx {
    /// Takes the advisory locks `keys` (from [`Lock::item_key`]) until the transaction ends,
    /// in ascending order whatever order they come in, so that two transactions locking
    /// overlapping sets cannot deadlock. SQLite's write transactions are serialized already:
    /// nothing to do there.
    pub async fn lock_items(&mut self, keys: &[i64]) -> Result<(), sqlx::Error> {
        let Tx::Postgres(tx) = self else {
            return Ok(());
        };
        if keys.is_empty() {
            return Ok(());
        }
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        // unnest walks the array in order: the locks are taken in ascending order.
        sqlx::query("SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS t(k)")
            .bind(keys)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }

    /// Rolls back (ends a read, or a write that changed nothing).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t) => t.rollback().await,
            Tx::Postgres(t) => t.rollback().await,
        }
    }
}

/// A database error's text with the URL's password removed, should a driver quote it.
fn scrub(e: &dyn fmt::Display, url: &SecretString) -> String {
    let text = e.to_string();
    match url::Url::parse(url.expose_secret())
        .ok()
        .and_then(|u| u.password().map(str::to_owned))
    {
        Some(password) if !password.is_empty() => text.replace(&password, "***"),
        _ => text,
    }
}

/// Creates `path` with mode 0600 on unix if it does not exist, so that SQLite's WAL and
/// shared-memory files, which take the database file's mode, are private too. Its directory must
/// exist (the host creates the configured one; a mistyped path should fail, not be made).
fn create_private_file(path: &Path) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(format!("cannot create the state file: {e}")),
    }
}

/// `'a','b'`: a SQL list of names from this program's own constants (never input), for
/// `IN (…)` clauses that both dialects accept.
pub fn quoted_list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|n| {
            debug_assert!(n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            format!("'{n}'")
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        let shown = redact_url("postgres://jack:s3cr3t-pw@db.example:5432/state?sslmode=require");
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(shown.contains("db.example"), "{shown}");
        let shown = redact_url("postgres://jack@db/state?password=s3cr3t-pw");
        assert!(!shown.contains("s3cr3t-pw"), "{shown}");
        assert!(!redact_url("not a url s3cr3t").contains("s3cr3t"));
    }

    #[test]
    fn lock_keys_are_distinct() {
        let mut keys: Vec<i64> = [Lock::Vault, Lock::Events]
            .into_iter()
            .chain((0..64).map(Lock::AuditChain))
            .map(Lock::key)
            .collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n);
        assert_eq!(
            Lock::item_key("target", &["h1", "reservation:1"]),
            Lock::item_key("target", &["h1", "reservation:1"])
        );
        assert_ne!(
            Lock::item_key("target", &["h1", "reservation:1"]),
            Lock::item_key("target", &["h1r", "eservation:1"])
        );
    }
}
