//! The credential vault: secret values encrypted in the state database (SQLite or PostgreSQL).
//!
//! Every value is sealed with XChaCha20-Poly1305 under the [`MasterKey`], with a random 24-byte
//! nonce per write and associated data that binds it to its hotel and name, so a record copied
//! onto another row does not decrypt. A key-check record in the meta table makes opening with
//! another key fail clearly. The database never holds a value in plaintext.
//!
//! Reads ([`Vault::get`]) are synchronous and served from an in-memory snapshot of the
//! decrypted values; [`Vault::refresh`] reloads it when the change counter in the meta table
//! moved (another process wrote: the `jack-pms vault` CLI, or another host on the same
//! PostgreSQL database), and [`Vault::spawn_refresh`] does so periodically.
//!
//! The database ([`Db`]) is shared with other parts of the host (outbox, audit): this module
//! only touches the tables prefixed `vault_`. Writers serialize on [`Lock::Vault`], so two hosts
//! setting secrets at once each bump the change counter once.
//!
//! Tables:
//! - `vault_secrets(hotel, name, nonce, ciphertext, created_at, updated_at)`, primary key
//!   `(hotel, name)`; dates are RFC 3339 UTC text.
//! - `vault_meta(key, value)`: `format_version` (1), `key_check` (nonce ‖ sealed known text),
//!   `generation` (change counter, bumped by every write). SQLite keeps the counters in `value`
//!   (it stores an integer there as it is); PostgreSQL, typed, in a column `number` beside it.
use super::master_key::MasterKey;
use super::{Secret, SecretStore, VaultError};
use crate::db::{Db, DbError, Lock, Tx};
use crate::{on_db, on_tx};
use chacha20poly1305::aead::AeadInPlace as _;
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore as _;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use zeroize::Zeroizing;

/// The on-disk format this code reads and writes.
const FORMAT_VERSION: i64 = 1;
/// The known plaintext of the key-check record.
const KEY_CHECK_PLAINTEXT: &[u8] = b"jack-pms vault key check v1";
/// Associated data of the key-check record.
const KEY_CHECK_AAD: &[u8] = b"jack-pms/vault/v1/key-check";
/// Domain prefix of a secret's associated data.
const SECRET_AAD_PREFIX: &[u8] = b"jack-pms/vault/v1/secret";
/// XChaCha20-Poly1305 nonce length.
const NONCE_LEN: usize = 24;
/// Poly1305 tag length.
const TAG_LEN: usize = 16;
/// Longest hotel or secret name, in bytes.
pub const MAX_NAME_LEN: usize = 128;
/// The reserved "hotel" under which the host keeps its own data keys (configured hotel ids
/// cannot start with `@`, so no hotel's secrets collide with them).
pub const HOST_KEYS: &str = "@host";
/// Longest secret value, in bytes.
pub const MAX_VALUE_LEN: usize = 64 * 1024;

/// What `vault list` shows of one secret: never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretInfo {
    /// The hotel id.
    pub hotel: String,
    /// The secret's name.
    pub name: String,
    /// When the secret was first set (serialized as RFC 3339 UTC).
    #[serde(serialize_with = "rfc3339")]
    pub created_at: DateTime<Utc>,
    /// When the secret's value was last set (serialized as RFC 3339 UTC). Re-encryption by
    /// [`Vault::rotate`] does not change it.
    #[serde(serialize_with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
}

fn rfc3339<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// One decrypted row of the snapshot.
enum Entry {
    Value(Secret),
    /// The record does not decrypt under the vault's key with its hotel and name.
    Undecryptable,
}

/// The decrypted contents of the vault as of one `generation`.
struct Snapshot {
    /// The change counter these entries reflect; -1 before the first load.
    generation: i64,
    /// hotel → name → entry.
    entries: BTreeMap<String, BTreeMap<String, Entry>>,
}

impl Snapshot {
    fn len(&self) -> usize {
        self.entries.values().map(BTreeMap::len).sum()
    }

    fn clone_entries(&self) -> BTreeMap<String, BTreeMap<String, Entry>> {
        self.entries
            .iter()
            .map(|(hotel, names)| {
                let names = names
                    .iter()
                    .map(|(name, e)| {
                        let e = match e {
                            Entry::Value(s) => Entry::Value(s.clone()),
                            Entry::Undecryptable => Entry::Undecryptable,
                        };
                        (name.clone(), e)
                    })
                    .collect();
                (hotel.clone(), names)
            })
            .collect()
    }
}

/// The credential vault in the state database. See the module docs.
pub struct Vault {
    /// How messages name the database (file path, or URL without password).
    at: String,
    db: Db,
    /// Serializes this handle's database operations and snapshot updates; holds the key.
    op: tokio::sync::Mutex<MasterKey>,
    /// What `get` reads. Replaced whole, never edited in place.
    snapshot: RwLock<Arc<Snapshot>>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("at", &self.at)
            .field("secrets", &self.current().len())
            .finish()
    }
}

impl Vault {
    /// Opens the vault in the SQLite state file at `path`, creating the file (mode 0600 on unix)
    /// and the schema if missing. A new vault is bound to `key`; an existing one must have been
    /// created (or last rotated) with `key`, or this fails with [`VaultError::WrongMasterKey`].
    pub async fn open(path: &Path, key: MasterKey) -> Result<Vault, VaultError> {
        let db = Db::open_sqlite(path).await.map_err(db_error)?;
        Self::from_db(db, key).await
    }

    /// Opens the vault in an open state database (its schema already migrated). Otherwise as
    /// [`Vault::open`].
    pub async fn from_db(db: Db, key: MasterKey) -> Result<Vault, VaultError> {
        let at = describe(&db);
        init_meta(&db, &at, &key).await?;
        let vault = Vault {
            at,
            db,
            op: tokio::sync::Mutex::new(key),
            snapshot: RwLock::new(Arc::new(Snapshot {
                generation: -1,
                entries: BTreeMap::new(),
            })),
        };
        vault.refresh().await?;
        Ok(vault)
    }

    /// The state database (the host's other tables live in it too).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Closes the pool, waiting for its connections to finish (SQLite: checkpoints the WAL).
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// The value of secret `name` of `hotel`, from the in-memory snapshot (no I/O).
    pub fn get(&self, hotel: &str, name: &str) -> Result<Secret, VaultError> {
        check_names(hotel, name)?;
        let snap = self.current();
        match snap.entries.get(hotel).and_then(|m| m.get(name)) {
            Some(Entry::Value(s)) => Ok(s.clone()),
            Some(Entry::Undecryptable) => Err(VaultError::Undecryptable {
                hotel: hotel.to_owned(),
                name: name.to_owned(),
                path: self.at.clone(),
            }),
            None => Err(VaultError::NotInVault {
                hotel: hotel.to_owned(),
                name: name.to_owned(),
            }),
        }
    }

    /// Reloads the snapshot if the vault changed since it was loaded (one small read when it
    /// did not). On error the previous snapshot stays in use.
    pub async fn refresh(&self) -> Result<(), VaultError> {
        let key = self.op.lock().await;
        let mut tx = self
            .db
            .begin_read()
            .await
            .map_err(|e| storage(&self.at, "cannot begin a read", e))?;
        let generation = read_generation(&mut tx, &self.at).await?;
        if generation == self.current().generation {
            return tx
                .rollback()
                .await
                .map_err(|e| storage(&self.at, "cannot end a read", e));
        }
        let snap = load(&mut tx, &self.at, &key, generation).await?;
        tx.rollback()
            .await
            .map_err(|e| storage(&self.at, "cannot end a read", e))?;
        tracing::debug!(
            at = %self.at,
            generation,
            secrets = snap.len(),
            "vault snapshot reloaded"
        );
        self.install(snap);
        Ok(())
    }

    /// Refreshes the snapshot every `every` (clamped to 10 ms ..= 1 day) until the vault is
    /// dropped; failures are logged at warn and the previous snapshot stays in use. The task
    /// holds only a weak reference. Call within a Tokio runtime.
    pub fn spawn_refresh(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        let every = every.clamp(Duration::from_millis(10), Duration::from_secs(86_400));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(vault) = weak.upgrade() else {
                    break;
                };
                if let Err(e) = vault.refresh().await {
                    tracing::warn!(
                        at = %vault.at,
                        error = %e,
                        "vault refresh failed; keeping the secrets loaded before"
                    );
                }
            }
        })
    }

    /// Sets secret `name` of `hotel` (insert or replace) and updates the snapshot.
    pub async fn set(&self, hotel: &str, name: &str, value: &Secret) -> Result<(), VaultError> {
        self.write_secret(hotel, name, value, true)
            .await
            .map(|_| ())
    }

    /// The host's own 32-byte data key `name` (kept under the reserved hotel [`HOST_KEYS`]),
    /// created at random on first use. Two processes creating it at once agree on one key: the
    /// insert never replaces, and the loser reads the winner's key back.
    pub async fn host_key(&self, name: &str) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let decode = |s: &Secret| -> Result<Zeroizing<[u8; 32]>, VaultError> {
            use base64::Engine as _;
            let bytes = Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(s.expose())
                    .map_err(|_| VaultError::Undecryptable {
                        hotel: HOST_KEYS.to_owned(),
                        name: name.to_owned(),
                        path: self.at.clone(),
                    })?,
            );
            let mut key = Zeroizing::new([0u8; 32]);
            if bytes.len() != key.len() {
                return Err(VaultError::Undecryptable {
                    hotel: HOST_KEYS.to_owned(),
                    name: name.to_owned(),
                    path: self.at.clone(),
                });
            }
            key.copy_from_slice(&bytes);
            Ok(key)
        };
        match self.get(HOST_KEYS, name) {
            Ok(s) => return decode(&s),
            Err(VaultError::NotInVault { .. }) => {}
            Err(e) => return Err(e),
        }
        let fresh = {
            use base64::Engine as _;
            let mut raw = Zeroizing::new([0u8; 32]);
            rand::rng().fill_bytes(raw.as_mut_slice());
            Secret::new(base64::engine::general_purpose::STANDARD.encode(raw.as_slice()))
        };
        if !self.write_secret(HOST_KEYS, name, &fresh, false).await? {
            // Another process created it first: use theirs.
            self.refresh().await?;
        }
        decode(&self.get(HOST_KEYS, name)?)
    }

    /// Inserts (or, with `replace`, replaces) a secret; `false` when it existed and `replace`
    /// was off (nothing changed).
    async fn write_secret(
        &self,
        hotel: &str,
        name: &str,
        value: &Secret,
        replace: bool,
    ) -> Result<bool, VaultError> {
        check_names(hotel, name)?;
        let bytes = value.expose().as_bytes();
        if bytes.is_empty() || bytes.len() > MAX_VALUE_LEN {
            return Err(VaultError::InvalidValue {
                hotel: hotel.to_owned(),
                name: name.to_owned(),
                problem: if bytes.is_empty() {
                    "the value is empty".to_owned()
                } else {
                    format!("the value is longer than {MAX_VALUE_LEN} bytes")
                },
            });
        }
        let key = self.op.lock().await;
        let (nonce, ciphertext) = seal(&key.cipher(), &secret_aad(hotel, name), bytes)?;
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
        let path = self.at.as_str();

        let mut tx = self.begin_write().await?;
        let prev = read_generation(&mut tx, path).await?;
        verify_key(&mut tx, path, &key).await?;
        let on_conflict = if replace {
            "DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, \
             updated_at = excluded.updated_at"
        } else {
            "DO NOTHING"
        };
        let sql = format!(
            "INSERT INTO vault_secrets (hotel, name, nonce, ciphertext, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (hotel, name) {on_conflict}"
        );
        let written = on_tx!(&mut tx, c => sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(hotel)
            .bind(name)
            .bind(&nonce[..])
            .bind(&ciphertext)
            .bind(&now)
            .execute(&mut *c)
            .await
            .map(|r| r.rows_affected()))
        .map_err(|e| storage(path, "cannot write the secret", e))?;
        self.finish_write(tx, &key, prev, written, "the secret", |entries| {
            entries
                .entry(hotel.to_owned())
                .or_default()
                .insert(name.to_owned(), Entry::Value(value.clone()));
        })
        .await
    }

    /// Hotel, name and dates of every secret, ordered by hotel and name. Never values.
    pub async fn list(&self) -> Result<Vec<SecretInfo>, VaultError> {
        let rows: Vec<(String, String, String, String)> = on_db!(&self.db, p => sqlx::query_as(
            "SELECT hotel, name, created_at, updated_at FROM vault_secrets ORDER BY hotel, name",
        )
        .fetch_all(p)
        .await)
        .map_err(|e| storage(&self.at, "cannot list the secrets", e))?;
        rows.into_iter()
            .map(|(hotel, name, created, updated)| {
                let created_at = parse_time(&self.at, &hotel, &name, &created)?;
                let updated_at = parse_time(&self.at, &hotel, &name, &updated)?;
                Ok(SecretInfo {
                    hotel,
                    name,
                    created_at,
                    updated_at,
                })
            })
            .collect()
    }

    /// Removes secret `name` of `hotel`; `false` if there was none.
    pub async fn remove(&self, hotel: &str, name: &str) -> Result<bool, VaultError> {
        check_names(hotel, name)?;
        let key = self.op.lock().await;
        let path = self.at.as_str();
        let mut tx = self.begin_write().await?;
        let prev = read_generation(&mut tx, path).await?;
        verify_key(&mut tx, path, &key).await?;
        let removed = on_tx!(&mut tx, c => sqlx::query(
            "DELETE FROM vault_secrets WHERE hotel = $1 AND name = $2",
        )
        .bind(hotel)
        .bind(name)
        .execute(&mut *c)
        .await
        .map(|r| r.rows_affected()))
        .map_err(|e| storage(path, "cannot remove the secret", e))?;
        self.finish_write(tx, &key, prev, removed, "the removal", |entries| {
            if let Some(names) = entries.get_mut(hotel) {
                names.remove(name);
                if names.is_empty() {
                    entries.remove(hotel);
                }
            }
        })
        .await
    }

    /// Re-encrypts every value and the key check under `new_key`, in one transaction; afterwards
    /// only `new_key` opens the vault (other handles still on the old key get
    /// [`VaultError::WrongMasterKey`] and keep their snapshot). Returns how many values were
    /// re-encrypted. If any value does not decrypt under the current key, nothing changes and
    /// the error names it: set it again or remove it, then rotate.
    pub async fn rotate(&self, new_key: MasterKey) -> Result<usize, VaultError> {
        let mut key = self.op.lock().await;
        let path = self.at.as_str();
        let old = key.cipher();
        let new = new_key.cipher();
        let mut tx = self.begin_write().await?;
        let prev = read_generation(&mut tx, path).await?;
        verify_key(&mut tx, path, &key).await?;
        let rows: Vec<(String, String, Vec<u8>, Vec<u8>)> = on_tx!(&mut tx, c => sqlx::query_as(
            "SELECT hotel, name, nonce, ciphertext FROM vault_secrets ORDER BY hotel, name",
        )
        .fetch_all(&mut *c)
        .await)
        .map_err(|e| storage(path, "cannot read the secrets", e))?;
        let mut entries: BTreeMap<String, BTreeMap<String, Entry>> = BTreeMap::new();
        let count = rows.len();
        for (hotel, name, nonce, ciphertext) in rows {
            let aad = secret_aad(&hotel, &name);
            let Some(plain) = unseal(&old, &aad, &nonce, &ciphertext) else {
                return Err(VaultError::Undecryptable {
                    hotel,
                    name,
                    path: path.to_owned(),
                });
            };
            let (nonce, ciphertext) = seal(&new, &aad, &plain)?;
            on_tx!(&mut tx, c => sqlx::query(
                "UPDATE vault_secrets SET nonce = $1, ciphertext = $2 WHERE hotel = $3 AND name = $4",
            )
            .bind(&nonce[..])
            .bind(&ciphertext)
            .bind(&hotel)
            .bind(&name)
            .execute(&mut *c)
            .await.map(drop))
            .map_err(|e| storage(path, "cannot re-encrypt a secret", e))?;
            let entry = match to_secret(&plain) {
                Some(s) => Entry::Value(s),
                None => Entry::Undecryptable,
            };
            entries.entry(hotel).or_default().insert(name, entry);
        }
        let record = key_check_record(&new)?;
        on_tx!(&mut tx, c => sqlx::query("UPDATE vault_meta SET value = $1 WHERE key = 'key_check'")
            .bind(&record)
            .execute(&mut *c)
            .await.map(drop))
        .map_err(|e| storage(path, "cannot write the key check", e))?;
        let generation = bump_generation(&mut tx, path, prev).await?;
        tx.commit()
            .await
            .map_err(|e| storage(path, "cannot commit the rotation", e))?;
        *key = new_key;
        self.install(Snapshot {
            generation,
            entries,
        });
        tracing::info!(at = %path, secrets = count, "vault master key rotated");
        Ok(count)
    }

    fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn install(&self, snap: Snapshot) {
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(snap);
    }

    async fn begin_write(&self) -> Result<Tx, VaultError> {
        self.db
            .begin_write(Lock::Vault)
            .await
            .map_err(|e| storage(&self.at, "cannot begin a write", e))
    }

    /// Ends a write of one secret that changed `rows` rows in `tx`: none, and it is rolled back
    /// (`false`); otherwise the change counter moves on from `prev`, the transaction commits
    /// (`what` names it in errors) and the snapshot, with `change` applied, is installed.
    async fn finish_write(
        &self,
        mut tx: Tx,
        key: &MasterKey,
        prev: i64,
        rows: u64,
        what: &str,
        change: impl FnOnce(&mut BTreeMap<String, BTreeMap<String, Entry>>),
    ) -> Result<bool, VaultError> {
        let path = self.at.as_str();
        if rows == 0 {
            tx.rollback()
                .await
                .map_err(|e| storage(path, "cannot end a write", e))?;
            return Ok(false);
        }
        let generation = bump_generation(&mut tx, path, prev).await?;
        let snap = self
            .next_snapshot(&mut tx, key, prev, generation, change)
            .await?;
        tx.commit()
            .await
            .map_err(|e| storage(path, &format!("cannot commit {what}"), e))?;
        self.install(snap);
        Ok(true)
    }

    /// The snapshot after a write in `tx` that moved the counter from `prev` to `generation`:
    /// the current one with `change` applied if it reflects `prev`, else reloaded inside `tx`
    /// (another process wrote since it was loaded; `tx` already sees this write).
    async fn next_snapshot(
        &self,
        tx: &mut Tx,
        key: &MasterKey,
        prev: i64,
        generation: i64,
        change: impl FnOnce(&mut BTreeMap<String, BTreeMap<String, Entry>>),
    ) -> Result<Snapshot, VaultError> {
        let current = self.current();
        if current.generation == prev {
            let mut entries = current.clone_entries();
            change(&mut entries);
            Ok(Snapshot {
                generation,
                entries,
            })
        } else {
            load(tx, &self.at, key, generation).await
        }
    }
}

impl SecretStore for Vault {
    fn get(&self, hotel: &str, name: &str) -> Result<Secret, VaultError> {
        Vault::get(self, hotel, name)
    }
}

/// How messages name the vault's database: the file, or the URL without its password.
fn describe(db: &Db) -> String {
    match db {
        Db::Sqlite(p) => p.connect_options().get_filename().display().to_string(),
        Db::Postgres(p) => {
            let o = p.connect_options();
            format!(
                "postgres://{}:{}/{}",
                o.get_host(),
                o.get_port(),
                o.get_database().unwrap_or("")
            )
        }
    }
}

/// A database that could not be opened, as the vault reports it.
fn db_error(e: DbError) -> VaultError {
    VaultError::Storage(e.to_string())
}

/// Binds a new vault to `key` (its tables are made by the schema's migrations), or checks that
/// an existing vault is of a known format and was made with `key`.
async fn init_meta(db: &Db, path: &str, key: &MasterKey) -> Result<(), VaultError> {
    let mut tx = db
        .begin_write(Lock::Vault)
        .await
        .map_err(|e| storage(path, "cannot begin a write", e))?;
    let version = read_counter(&mut tx, "format_version")
        .await
        .map_err(|e| storage(path, "cannot read the vault format", e))?;
    let check: Option<Vec<u8>> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT value FROM vault_meta WHERE key = 'key_check'",
    )
    .fetch_optional(&mut *c)
    .await)
    .map_err(|e| storage(path, "cannot read the key check", e))?;
    match (version, check) {
        (Some(v), _) if v != FORMAT_VERSION => Err(VaultError::Storage(format!(
            "the vault in `{path}` has format version {v}; this jack-pms reads version {FORMAT_VERSION}"
        ))),
        (Some(_), Some(record)) => {
            if !check_record_matches(&key.cipher(), &record) {
                return Err(wrong_key(path));
            }
            // Nothing was written: end the transaction.
            tx.rollback()
                .await
                .map_err(|e| storage(path, "cannot end a read", e))
        }
        (None, None) => {
            let secrets: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(
                "SELECT COUNT(*) FROM vault_secrets",
            )
            .fetch_one(&mut *c)
            .await)
            .map_err(|e| storage(path, "cannot count the secrets", e))?;
            if secrets > 0 {
                return Err(VaultError::Storage(format!(
                    "the vault in `{path}` holds {secrets} secrets but no format or key-check record; \
                     the file was altered"
                )));
            }
            let record = key_check_record(&key.cipher())?;
            let insert = match &tx {
                Tx::Sqlite(_) => {
                    "INSERT INTO vault_meta (key, value) VALUES \
                     ('format_version', $1), ('key_check', $2), ('generation', 0)"
                }
                Tx::Postgres(_) => {
                    "INSERT INTO vault_meta (key, value, number) VALUES \
                     ('format_version', NULL, $1), ('key_check', $2, NULL), ('generation', NULL, 0)"
                }
            };
            on_tx!(&mut tx, c => sqlx::query(insert)
                .bind(FORMAT_VERSION)
                .bind(&record)
                .execute(&mut *c)
                .await.map(drop))
            .map_err(|e| storage(path, "cannot initialize the vault", e))?;
            tx.commit()
                .await
                .map_err(|e| storage(path, "cannot initialize the vault", e))?;
            tracing::info!(at = %path, "vault created");
            Ok(())
        }
        _ => Err(VaultError::Storage(format!(
            "the vault in `{path}` lacks its format or key-check record; the file was altered"
        ))),
    }
}

/// A counter of the meta table (`format_version`, `generation`). SQLite keeps it in `value`;
/// PostgreSQL in the typed column `number`.
async fn read_counter(tx: &mut Tx, name: &str) -> Result<Option<i64>, sqlx::Error> {
    let sql = match tx {
        Tx::Sqlite(_) => "SELECT CAST(value AS INTEGER) FROM vault_meta WHERE key = $1",
        Tx::Postgres(_) => "SELECT number FROM vault_meta WHERE key = $1",
    };
    let value: Option<Option<i64>> = on_tx!(tx, c => sqlx::query_scalar(sql)
        .bind(name)
        .fetch_optional(&mut *c)
        .await)?;
    Ok(value.flatten())
}

async fn read_generation(tx: &mut Tx, path: &str) -> Result<i64, VaultError> {
    let generation = read_counter(tx, "generation")
        .await
        .map_err(|e| storage(path, "cannot read the change counter", e))?;
    generation.ok_or_else(|| {
        VaultError::Storage(format!(
            "the vault in `{path}` lacks its change counter; the file was altered"
        ))
    })
}

async fn bump_generation(tx: &mut Tx, path: &str, prev: i64) -> Result<i64, VaultError> {
    let generation = prev.wrapping_add(1).max(0);
    let sql = match tx {
        Tx::Sqlite(_) => "UPDATE vault_meta SET value = $1 WHERE key = 'generation'",
        Tx::Postgres(_) => "UPDATE vault_meta SET number = $1 WHERE key = 'generation'",
    };
    on_tx!(tx, c => sqlx::query(sql).bind(generation).execute(&mut *c).await.map(drop))
        .map_err(|e| storage(path, "cannot bump the change counter", e))?;
    Ok(generation)
}

/// Fails with [`VaultError::WrongMasterKey`] unless the stored key check opens under `key`
/// (e.g. another process rotated the key since this handle was opened).
async fn verify_key(tx: &mut Tx, path: &str, key: &MasterKey) -> Result<(), VaultError> {
    let record: Option<Vec<u8>> = on_tx!(tx, c => sqlx::query_scalar(
        "SELECT value FROM vault_meta WHERE key = 'key_check'",
    )
    .fetch_optional(&mut *c)
    .await)
    .map_err(|e| storage(path, "cannot read the key check", e))?;
    match record {
        Some(r) if check_record_matches(&key.cipher(), &r) => Ok(()),
        Some(_) => Err(wrong_key(path)),
        None => Err(VaultError::Storage(format!(
            "the vault in `{path}` lacks its key-check record; the file was altered"
        ))),
    }
}

/// Reads and decrypts every secret (after checking the key) as of `generation`.
async fn load(
    tx: &mut Tx,
    path: &str,
    key: &MasterKey,
    generation: i64,
) -> Result<Snapshot, VaultError> {
    verify_key(tx, path, key).await?;
    let rows: Vec<(String, String, Vec<u8>, Vec<u8>)> = on_tx!(tx, c => sqlx::query_as(
        "SELECT hotel, name, nonce, ciphertext FROM vault_secrets",
    )
    .fetch_all(&mut *c)
    .await)
    .map_err(|e| storage(path, "cannot read the secrets", e))?;
    let cipher = key.cipher();
    let mut entries: BTreeMap<String, BTreeMap<String, Entry>> = BTreeMap::new();
    for (hotel, name, nonce, ciphertext) in rows {
        let entry = match unseal(&cipher, &secret_aad(&hotel, &name), &nonce, &ciphertext)
            .and_then(|plain| to_secret(&plain))
        {
            Some(s) => Entry::Value(s),
            None => {
                tracing::warn!(
                    at = %path,
                    hotel = %hotel,
                    name = %name,
                    "vault secret cannot be decrypted: its record was altered or copied from another row"
                );
                Entry::Undecryptable
            }
        };
        entries.entry(hotel).or_default().insert(name, entry);
    }
    Ok(Snapshot {
        generation,
        entries,
    })
}

/// Associated data binding a value to its hotel and name (length-prefixed, so unambiguous).
fn secret_aad(hotel: &str, name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(SECRET_AAD_PREFIX.len() + 8 + hotel.len() + name.len());
    aad.extend_from_slice(SECRET_AAD_PREFIX);
    for part in [hotel, name] {
        // Names are at most MAX_NAME_LEN bytes when written; longer ones read back from a
        // tampered file still get a distinct prefix.
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        aad.extend_from_slice(&len.to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

/// Encrypts `plaintext` under a fresh random nonce. The working buffer is zeroized if
/// encryption fails (on success it holds only ciphertext).
fn seal(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<([u8; NONCE_LEN], Vec<u8>), VaultError> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    // Room for the tag up front, so the buffer holding plaintext is never reallocated.
    let mut buf = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
    buf.extend_from_slice(plaintext);
    cipher
        .encrypt_in_place(XNonce::from_slice(&nonce), aad, &mut *buf)
        .map_err(|_| VaultError::Storage("encryption failed".to_owned()))?;
    Ok((nonce, std::mem::take(&mut *buf)))
}

/// Decrypts; `None` if the record does not authenticate (wrong key, wrong row, altered).
fn unseal(
    cipher: &XChaCha20Poly1305,
    aad: &[u8],
    nonce: &[u8],
    ciphertext: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if nonce.len() != NONCE_LEN || ciphertext.len() < TAG_LEN {
        return None;
    }
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_in_place(XNonce::from_slice(nonce), aad, &mut *buf)
        .ok()?;
    Some(buf)
}

/// Copies decrypted bytes into a [`Secret`] (exact capacity, so no unzeroized reallocation).
fn to_secret(plain: &[u8]) -> Option<Secret> {
    let text = std::str::from_utf8(plain).ok()?;
    let mut owned = String::with_capacity(text.len());
    owned.push_str(text);
    Some(Secret::new(owned))
}

/// The key-check record: nonce ‖ sealed known text.
fn key_check_record(cipher: &XChaCha20Poly1305) -> Result<Vec<u8>, VaultError> {
    let (nonce, ciphertext) = seal(cipher, KEY_CHECK_AAD, KEY_CHECK_PLAINTEXT)?;
    let mut record = Vec::with_capacity(NONCE_LEN + ciphertext.len());
    record.extend_from_slice(&nonce);
    record.extend_from_slice(&ciphertext);
    Ok(record)
}

fn check_record_matches(cipher: &XChaCha20Poly1305, record: &[u8]) -> bool {
    if record.len() < NONCE_LEN {
        return false;
    }
    let (nonce, ciphertext) = record.split_at(NONCE_LEN);
    unseal(cipher, KEY_CHECK_AAD, nonce, ciphertext)
        .is_some_and(|plain| plain.as_slice() == KEY_CHECK_PLAINTEXT)
}

fn wrong_key(path: &str) -> VaultError {
    VaultError::WrongMasterKey {
        path: path.to_owned(),
    }
}

fn storage(path: &str, what: &str, e: sqlx::Error) -> VaultError {
    VaultError::Storage(format!("{what} (`{path}`): {e}"))
}

fn parse_time(
    path: &str,
    hotel: &str,
    name: &str,
    text: &str,
) -> Result<DateTime<Utc>, VaultError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            VaultError::Storage(format!(
                "secret `{name}` of hotel `{hotel}` in `{path}` has an unreadable date"
            ))
        })
}

fn check_names(hotel: &str, name: &str) -> Result<(), VaultError> {
    check_name("hotel", hotel)?;
    check_name("secret", name)
}

/// Non-empty, at most [`MAX_NAME_LEN`] bytes, no control characters.
fn check_name(kind: &str, name: &str) -> Result<(), VaultError> {
    let problem = if name.is_empty() {
        "is empty"
    } else if name.len() > MAX_NAME_LEN {
        "is longer than 128 bytes"
    } else if name.chars().any(char::is_control) {
        "contains a control character"
    } else {
        return Ok(());
    };
    // Quoted with escapes, and cut short, so the message stays one readable line.
    let shown: String = name.chars().take(40).collect();
    let more = if shown.len() < name.len() { "…" } else { "" };
    Err(VaultError::InvalidName(format!(
        "{kind} name {shown:?}{more} {problem}; names are 1 to {MAX_NAME_LEN} bytes without control characters"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A fresh key and its text, to make further copies with `MasterKey::parse`.
    fn new_key() -> (MasterKey, String) {
        let k = MasterKey::generate();
        let text = k.to_base64().as_str().to_owned();
        (k, text)
    }

    fn key(text: &str) -> MasterKey {
        MasterKey::parse(text).unwrap()
    }

    fn secret(v: &str) -> Secret {
        Secret::new(v.to_owned())
    }

    fn state(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("state.sqlite")
    }

    async fn bump_generation_raw(v: &Vault) {
        sqlx::query("UPDATE vault_meta SET value = value + 1 WHERE key = 'generation'")
            .execute(v.db().sqlite().unwrap())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn set_then_get_also_after_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, text) = new_key();
        let v = Vault::open(&path, k).await.unwrap();
        v.set("hotel-a", "api_key", &secret("alpha-secret-value"))
            .await
            .unwrap();
        v.set("hotel-b", "api_key", &secret("bravo-secret-value"))
            .await
            .unwrap();
        assert_eq!(
            v.get("hotel-a", "api_key").unwrap().expose(),
            "alpha-secret-value"
        );
        // Replace.
        v.set("hotel-a", "api_key", &secret("alpha-secret-value-2"))
            .await
            .unwrap();
        assert_eq!(
            v.get("hotel-a", "api_key").unwrap().expose(),
            "alpha-secret-value-2"
        );
        // Through the trait too.
        let store: &dyn SecretStore = &v;
        assert_eq!(
            store.get("hotel-b", "api_key").unwrap().expose(),
            "bravo-secret-value"
        );
        v.close().await;
        drop(v);

        let v = Vault::open(&path, key(&text)).await.unwrap();
        assert_eq!(
            v.get("hotel-a", "api_key").unwrap().expose(),
            "alpha-secret-value-2"
        );
        assert_eq!(
            v.get("hotel-b", "api_key").unwrap().expose(),
            "bravo-secret-value"
        );
    }

    fn assert_no_fragment(bytes: &[u8], secret: &str, what: &str) {
        let s = secret.as_bytes();
        for window in s.windows(8) {
            assert!(
                !bytes.windows(8).any(|w| w == window),
                "{what} contains an 8-byte fragment of a secret"
            );
        }
    }

    fn scan_files(path: &Path, secrets: &[String]) -> usize {
        let mut scanned = 0;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            scanned += bytes.len();
            for s in secrets {
                assert_no_fragment(&bytes, s, &format!("state file{suffix}"));
            }
        }
        scanned
    }

    #[tokio::test]
    async fn state_file_never_holds_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, _) = new_key();
        let v = Vault::open(&path, k).await.unwrap();
        let secrets: Vec<String> = (0..6)
            .map(|i| {
                format!(
                    "Pa55w0rd-{i}-{}",
                    MasterKey::generate().to_base64().as_str()
                )
            })
            .collect();
        for (i, s) in secrets.iter().enumerate() {
            v.set(
                &format!("hotel-{}", i % 3),
                &format!("secret_{i}"),
                &secret(s),
            )
            .await
            .unwrap();
        }
        // Overwrite a few, so old versions of pages exist in the WAL too.
        for (i, s) in secrets.iter().enumerate().take(3) {
            v.set(
                &format!("hotel-{}", i % 3),
                &format!("secret_{i}"),
                &secret(s),
            )
            .await
            .unwrap();
        }
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        assert!(
            std::fs::metadata(&wal)
                .map(|m| m.len() > 0)
                .unwrap_or(false),
            "expected a non-empty WAL while open"
        );
        assert!(scan_files(&path, &secrets) > 0);
        // Positive control: the scan does see what is stored in plaintext (the names).
        let mut all = std::fs::read(&path).unwrap();
        all.extend(std::fs::read(&wal).unwrap());
        assert!(all.windows(8).any(|w| w == b"secret_5"));
        v.close().await;
        drop(v);
        assert!(scan_files(&path, &secrets) > 0);
    }

    #[tokio::test]
    async fn swapped_records_fail_to_decrypt() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, text) = new_key();
        let v = Vault::open(&path, k).await.unwrap();
        v.set("h1", "user", &secret("first-value-xxxxxxxx"))
            .await
            .unwrap();
        v.set("h1", "pass", &secret("second-value-yyyyyyy"))
            .await
            .unwrap();
        v.set("h2", "pass", &secret("third-value-zzzzzzzz"))
            .await
            .unwrap();

        // Swap the ciphertexts only of h1/user and h1/pass.
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT name, ciphertext FROM vault_secrets WHERE hotel = 'h1' ORDER BY name",
        )
        .fetch_all(v.db().sqlite().unwrap())
        .await
        .unwrap();
        for (name, other) in [(&rows[0].0, &rows[1].1), (&rows[1].0, &rows[0].1)] {
            sqlx::query(
                "UPDATE vault_secrets SET ciphertext = ?1 WHERE hotel = 'h1' AND name = ?2",
            )
            .bind(other)
            .bind(name)
            .execute(v.db().sqlite().unwrap())
            .await
            .unwrap();
        }
        bump_generation_raw(&v).await;
        v.refresh().await.unwrap();
        for name in ["user", "pass"] {
            let e = v.get("h1", name).unwrap_err();
            assert!(matches!(e, VaultError::Undecryptable { .. }), "{e:?}");
            let msg = e.to_string();
            assert!(msg.contains("cannot be decrypted"), "{msg}");
            assert!(msg.contains(&format!("`{name}` of hotel `h1`")), "{msg}");
            assert!(msg.contains("jack-pms vault set h1"), "{msg}");
        }
        // Others are unaffected.
        assert_eq!(
            v.get("h2", "pass").unwrap().expose(),
            "third-value-zzzzzzzz"
        );

        // A whole record (nonce and ciphertext) copied onto another hotel's row fails too.
        v.set("h1", "user", &secret("first-value-xxxxxxxx"))
            .await
            .unwrap();
        sqlx::query(
            "UPDATE vault_secrets SET \
             nonce = (SELECT nonce FROM vault_secrets WHERE hotel = 'h1' AND name = 'user'), \
             ciphertext = (SELECT ciphertext FROM vault_secrets WHERE hotel = 'h1' AND name = 'user') \
             WHERE hotel = 'h2' AND name = 'pass'",
        )
        .execute(v.db().sqlite().unwrap())
        .await
        .unwrap();
        // ...also as seen by a fresh open, and a fresh open still succeeds.
        v.close().await;
        drop(v);
        let v = Vault::open(&path, key(&text)).await.unwrap();
        assert!(matches!(
            v.get("h2", "pass"),
            Err(VaultError::Undecryptable { .. })
        ));
        assert_eq!(
            v.get("h1", "user").unwrap().expose(),
            "first-value-xxxxxxxx"
        );

        // Rotation refuses, naming the record, and changes nothing.
        let (new, _) = new_key();
        let e = v.rotate(new).await.unwrap_err();
        assert!(matches!(e, VaultError::Undecryptable { .. }), "{e:?}");
        v.close().await;
        drop(v);
        let v = Vault::open(&path, key(&text)).await.unwrap();
        assert_eq!(
            v.get("h1", "user").unwrap().expose(),
            "first-value-xxxxxxxx"
        );
    }

    #[tokio::test]
    async fn wrong_master_key_is_refused_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, _) = new_key();
        let v = Vault::open(&path, k).await.unwrap();
        v.set("h", "n", &secret("some-value-here")).await.unwrap();
        v.close().await;
        drop(v);
        let (other, _) = new_key();
        let e = Vault::open(&path, other).await.unwrap_err();
        assert_eq!(
            e,
            VaultError::WrongMasterKey {
                path: path.display().to_string()
            }
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!(
                "the master key does not match this vault ({})",
                path.display()
            )),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn rotate_reencrypts_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, old_text) = new_key();
        let v = Vault::open(&path, k).await.unwrap();
        let other = Vault::open(&path, key(&old_text)).await.unwrap();
        let values = [
            ("h1", "a", "value-a-1234567"),
            ("h1", "b", "value-b-1234567"),
            ("h2", "a", "value-c-1234567"),
        ];
        for (h, n, s) in values {
            v.set(h, n, &secret(s)).await.unwrap();
        }
        let (new, new_text) = new_key();
        assert_eq!(v.rotate(new).await.unwrap(), 3);
        // This handle goes on reading and writing under the new key.
        assert_eq!(v.get("h1", "a").unwrap().expose(), "value-a-1234567");
        v.set("h3", "x", &secret("value-x-1234567")).await.unwrap();

        // A handle still on the old key can neither refresh nor write.
        assert!(matches!(
            other.refresh().await,
            Err(VaultError::WrongMasterKey { .. })
        ));
        assert!(matches!(
            other.set("h9", "n", &secret("nope-nope-nope")).await,
            Err(VaultError::WrongMasterKey { .. })
        ));
        assert!(matches!(
            other.remove("h1", "a").await,
            Err(VaultError::WrongMasterKey { .. })
        ));
        v.close().await;
        other.close().await;
        drop((v, other));

        assert!(matches!(
            Vault::open(&path, key(&old_text)).await,
            Err(VaultError::WrongMasterKey { .. })
        ));
        let v = Vault::open(&path, key(&new_text)).await.unwrap();
        for (h, n, s) in values {
            assert_eq!(v.get(h, n).unwrap().expose(), s);
        }
        assert_eq!(v.get("h3", "x").unwrap().expose(), "value-x-1234567");
    }

    #[tokio::test]
    async fn list_shows_names_and_dates_never_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, _) = new_key();
        let v = Vault::open(&path, k).await.unwrap();
        let before = Utc::now();
        v.set("hotel-b", "password", &secret("listed-value-one"))
            .await
            .unwrap();
        v.set("hotel-a", "client_secret", &secret("listed-value-two"))
            .await
            .unwrap();
        let first = v.list().await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        v.set("hotel-b", "password", &secret("listed-value-three"))
            .await
            .unwrap();
        let list = v.list().await.unwrap();
        let names: Vec<(&str, &str)> = list
            .iter()
            .map(|i| (i.hotel.as_str(), i.name.as_str()))
            .collect();
        assert_eq!(
            names,
            [("hotel-a", "client_secret"), ("hotel-b", "password")]
        );
        for i in &list {
            assert!(i.created_at >= before - chrono::Duration::seconds(1));
            assert!(i.updated_at >= i.created_at);
        }
        assert_eq!(list[1].created_at, first[1].created_at);
        assert!(list[1].updated_at > first[1].updated_at);

        let json = serde_json::to_string(&list).unwrap();
        assert!(
            json.contains("\"createdAt\":\"") && json.contains("\"updatedAt\":\""),
            "{json}"
        );
        assert!(json.contains("\"hotel\":\"hotel-a\""), "{json}");
        for s in ["listed-value-one", "listed-value-two", "listed-value-three"] {
            assert!(!json.contains(s));
            assert!(!format!("{list:?}").contains(s));
        }
    }

    #[tokio::test]
    async fn remove_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        let (k, _) = new_key();
        let v = Vault::open(&state(&dir), k).await.unwrap();
        v.set("h", "n", &secret("to-be-removed")).await.unwrap();
        assert!(v.remove("h", "n").await.unwrap());
        assert!(!v.remove("h", "n").await.unwrap());
        let e = v.get("h", "n").unwrap_err();
        assert_eq!(
            e,
            VaultError::NotInVault {
                hotel: "h".into(),
                name: "n".into()
            }
        );
        assert!(
            e.to_string()
                .contains("set it with `jack-pms vault set h n`"),
            "{e}"
        );
        assert!(v.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn refresh_sees_another_handles_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, text) = new_key();
        let a = Vault::open(&path, k).await.unwrap();
        let b = Vault::open(&path, key(&text)).await.unwrap();

        // Nothing changed: refresh keeps the same snapshot.
        let before = a.current();
        a.refresh().await.unwrap();
        assert!(Arc::ptr_eq(&before, &a.current()));

        b.set("h", "n", &secret("from-the-cli-value"))
            .await
            .unwrap();
        assert!(matches!(
            a.get("h", "n"),
            Err(VaultError::NotInVault { .. })
        ));
        a.refresh().await.unwrap();
        assert_eq!(a.get("h", "n").unwrap().expose(), "from-the-cli-value");
        let loaded = a.current();
        a.refresh().await.unwrap();
        assert!(Arc::ptr_eq(&loaded, &a.current()));

        // A write through a stale handle also brings in the other handle's writes.
        b.set("h", "other", &secret("second-cli-value"))
            .await
            .unwrap();
        a.set("h", "mine", &secret("written-by-a-value"))
            .await
            .unwrap();
        assert_eq!(a.get("h", "other").unwrap().expose(), "second-cli-value");
        assert_eq!(a.get("h", "mine").unwrap().expose(), "written-by-a-value");

        assert!(b.remove("h", "n").await.unwrap());
        a.refresh().await.unwrap();
        assert!(matches!(
            a.get("h", "n"),
            Err(VaultError::NotInVault { .. })
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn spawn_refresh_picks_up_changes_and_stops_with_the_vault() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, text) = new_key();
        let a = Arc::new(Vault::open(&path, k).await.unwrap());
        let b = Vault::open(&path, key(&text)).await.unwrap();
        let task = a.spawn_refresh(Duration::from_millis(20));
        b.set("h", "n", &secret("periodic-value")).await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while a.get("h", "n").is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "refresh did not pick up the change"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(a.get("h", "n").unwrap().expose(), "periodic-value");
        drop(a);
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("refresh task should end once the vault is dropped")
            .unwrap();
    }

    #[tokio::test]
    async fn debug_shows_no_material() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, text) = new_key();
        let v = Vault::open(&path, k).await.unwrap();
        v.set("h", "a", &secret("debug-secret-one")).await.unwrap();
        v.set("h", "b", &secret("debug-secret-two")).await.unwrap();
        let d = format!("{v:?} {v:#?}");
        assert!(d.contains(&format!("{path:?}")), "{d}");
        assert!(d.contains("secrets: 2"), "{d}");
        assert!(!d.contains("debug-secret") && !d.contains(&text), "{d}");
        let s = v.get("h", "a").unwrap();
        assert_eq!(format!("{s:?}"), "Secret([REDACTED])");
        assert!(!format!("{:?}", key(&text)).contains(&text));
    }

    #[tokio::test]
    async fn names_and_values_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let (k, _) = new_key();
        let v = Vault::open(&state(&dir), k).await.unwrap();
        let long = "x".repeat(129);
        for (h, n, problem) in [
            ("", "n", "is empty"),
            ("h", "", "is empty"),
            (long.as_str(), "n", "longer than 128 bytes"),
            ("h", "bad\nname", "control character"),
        ] {
            let e = v.set(h, n, &secret("valid-value")).await.unwrap_err();
            assert!(matches!(e, VaultError::InvalidName(_)), "{e:?}");
            assert!(e.to_string().contains(problem), "{e}");
            assert!(!e.to_string().contains('\n'), "{e}");
            assert!(matches!(v.get(h, n), Err(VaultError::InvalidName(_))));
            assert!(matches!(
                v.remove(h, n).await,
                Err(VaultError::InvalidName(_))
            ));
        }
        assert!(
            v.set(&"x".repeat(128), "ünïcode name", &secret("ok-value"))
                .await
                .is_ok()
        );
        let e = v.set("h", "n", &secret("")).await.unwrap_err();
        assert!(matches!(e, VaultError::InvalidValue { .. }), "{e:?}");
        assert!(e.to_string().contains("empty"), "{e}");
    }

    #[tokio::test]
    async fn shares_the_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        {
            let pool = sqlx::SqlitePool::connect_with(crate::db::sqlite_options(&path))
                .await
                .unwrap();
            sqlx::query("CREATE TABLE other_tool (id INTEGER PRIMARY KEY, body TEXT)")
                .execute(&pool)
                .await
                .unwrap();
            sqlx::query("INSERT INTO other_tool (body) VALUES ('hello')")
                .execute(&pool)
                .await
                .unwrap();
            let (k, _) = new_key();
            let db = Db::from_sqlite_pool(pool.clone()).await.unwrap();
            let v = Vault::from_db(db, k).await.unwrap();
            v.set("h", "n", &secret("shared-file-value")).await.unwrap();
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(mode, "wal");
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(sync, 2, "synchronous=FULL");
            let body: String = sqlx::query_scalar("SELECT body FROM other_tool")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(body, "hello");
            pool.close().await;
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn new_state_file_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = state(&dir);
        let (k, _) = new_key();
        let v = Vault::open(&path, k).await.unwrap();
        v.set("h", "n", &secret("private-file-value"))
            .await
            .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mode = std::fs::metadata(&wal).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[tokio::test]
    async fn open_fails_clearly_on_a_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("state.sqlite");
        let (k, _) = new_key();
        let e = Vault::open(&path, k).await.unwrap_err();
        assert!(matches!(e, VaultError::Storage(_)), "{e:?}");
        assert!(e.to_string().contains("no-such-dir"), "{e}");
    }

    /// Two hosts' vaults on one PostgreSQL database: what one sets the other sees after a
    /// refresh; both agree on one host key when they create it at once; a rotation by one locks
    /// out the other until it has the new key; values never sit in plaintext.
    #[tokio::test]
    async fn on_postgres_two_hosts_share_one_vault() {
        let scratch = crate::db::scratch::ScratchDb::create().await.unwrap();
        let location = crate::db::Location::Postgres(scratch.url().into());
        let (k, text) = new_key();
        let a = Vault::from_db(Db::open(&location).await.unwrap(), k)
            .await
            .unwrap();
        let b = Vault::from_db(Db::open(&location).await.unwrap(), key(&text))
            .await
            .unwrap();
        a.set("h1", "api_key", &secret("pg-shared-secret-1"))
            .await
            .unwrap();
        assert!(matches!(
            b.get("h1", "api_key"),
            Err(VaultError::NotInVault { .. })
        ));
        b.refresh().await.unwrap();
        assert_eq!(
            b.get("h1", "api_key").unwrap().expose(),
            "pg-shared-secret-1"
        );
        let (ka, kb) = tokio::join!(a.host_key("data-key"), b.host_key("data-key"));
        assert_eq!(*ka.unwrap(), *kb.unwrap(), "one host key for both");

        let raw: Vec<Vec<u8>> = on_db!(a.db(), p => sqlx::query_scalar(
            "SELECT ciphertext FROM vault_secrets",
        )
        .fetch_all(p)
        .await)
        .unwrap();
        for bytes in &raw {
            assert_no_fragment(bytes, "pg-shared-secret-1", "vault_secrets.ciphertext");
        }

        let (new, new_text) = new_key();
        assert_eq!(a.rotate(new).await.unwrap(), 2);
        assert!(matches!(
            b.set("h2", "n", &secret("refused-value-1")).await,
            Err(VaultError::WrongMasterKey { .. })
        ));
        a.close().await;
        b.close().await;
        let c = Vault::from_db(Db::open(&location).await.unwrap(), key(&new_text))
            .await
            .unwrap();
        assert_eq!(
            c.get("h1", "api_key").unwrap().expose(),
            "pg-shared-secret-1"
        );
        assert!(matches!(
            Vault::from_db(Db::open(&location).await.unwrap(), key(&text)).await,
            Err(VaultError::WrongMasterKey { .. })
        ));
        c.close().await;
    }
}
