//! Secrets: where credential values come from, and the type that carries them.
//!
//! A [`Secret`] never prints its value (`Debug` shows `Secret([REDACTED])`), is zeroed when
//! dropped, and is only exposed at the moment the egress path writes it into an outbound request.
//! Secrets come from environment variables named in the hotel config, or from the encrypted
//! vault in the state file ([`store::Vault`]); [`ConfiguredSecrets`] resolves both.

pub mod master_key;
pub mod store;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::fmt;
use zeroize::Zeroizing;

/// Where a secret value comes from, as a hotel's config names it (`secrets:`): never the value,
/// which is read only when a request needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// The vault, under this name for the hotel.
    Vault(String),
}

/// A secret value.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value.
    pub fn new(value: String) -> Secret {
        Secret(SecretString::from(value))
    }

    /// The value. Call only where it is written into an outbound request or compared.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

/// Why a secret could not be had. Never contains the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The hotel config names no secret by this name.
    #[error("hotel `{hotel}` configures no secret named `{name}`")]
    NotConfigured {
        /// Hotel id.
        hotel: String,
        /// Secret name.
        name: String,
    },
    /// The environment variable is not set (or empty, or not UTF-8).
    #[error("secret `{name}` of hotel `{hotel}`: environment variable `{var}` is not set")]
    EnvMissing {
        /// Hotel id.
        hotel: String,
        /// Secret name.
        name: String,
        /// Variable name.
        var: String,
    },
    /// The vault holds no secret by this hotel and name.
    #[error(
        "secret `{name}` of hotel `{hotel}` is not in the vault; set it with `jack-pms vault set {hotel} {name}`"
    )]
    NotInVault {
        /// The hotel id.
        hotel: String,
        /// The secret's name.
        name: String,
    },
    /// The vault's record of this secret does not decrypt: it was altered, or copied from another row.
    #[error(
        "secret `{name}` of hotel `{hotel}` in the vault ({path}) cannot be decrypted: its record was altered or copied from another row; set it again with `jack-pms vault set {hotel} {name}`"
    )]
    Undecryptable {
        /// The hotel id.
        hotel: String,
        /// The secret's name.
        name: String,
        /// The vault's state file.
        path: String,
    },
    /// The master key is not the one the vault was created or last rotated with.
    #[error(
        "the master key does not match this vault ({path}): it is not the key the vault was created or last rotated with"
    )]
    WrongMasterKey {
        /// The vault's state file.
        path: String,
    },
    /// The master key could not be had: missing, unreadable, not base64, wrong length, or too widely readable.
    #[error("master key: {0}")]
    MasterKey(String),
    /// A hotel or secret name the vault does not accept.
    #[error("{0}")]
    InvalidName(String),
    /// A secret value the vault does not accept (empty, or too long).
    #[error("secret `{name}` of hotel `{hotel}`: {problem}")]
    InvalidValue {
        /// The hotel id.
        hotel: String,
        /// The secret's name.
        name: String,
        /// What is wrong with the value (never the value itself).
        problem: String,
    },
    /// The vault's state file could not be read or written, or is not in a shape this version understands.
    #[error("vault storage: {0}")]
    Storage(String),
}

/// A source of secret values, by hotel and name.
pub trait SecretStore: Send + Sync {
    /// The value of secret `name` of `hotel`.
    fn get(&self, hotel: &str, name: &str) -> Result<Secret, VaultError>;
}

/// The host's secrets: each hotel's references from the config, resolved from the environment
/// or the vault; a secret the config does not mention is looked up in the vault under its own
/// name, so `jack-pms vault set HOTEL NAME` is all an operator needs.
#[derive(Debug, Default, Clone)]
pub struct ConfiguredSecrets {
    /// Shared by clones, and replaced whole by a reload of the config.
    refs: std::sync::Arc<std::sync::RwLock<BTreeMap<(String, String), SecretRef>>>,
    vault: Option<std::sync::Arc<store::Vault>>,
}

impl ConfiguredSecrets {
    /// Secrets with `vault` (if any) as the store for vault references.
    pub fn new(vault: Option<std::sync::Arc<store::Vault>>) -> ConfiguredSecrets {
        ConfiguredSecrets {
            refs: Default::default(),
            vault,
        }
    }

    /// Adds `hotel`'s secret references.
    pub fn add_hotel(&mut self, hotel: &str, secrets: &BTreeMap<String, SecretRef>) {
        let mut refs = self.refs.write().unwrap_or_else(|p| p.into_inner());
        for (name, r) in secrets {
            refs.insert((hotel.to_string(), name.clone()), r.clone());
        }
    }

    /// Replaces every hotel's references with `hotels`' (hotel id and its references: a reload
    /// of the config); every clone sees the new ones.
    pub fn replace_hotels<'a>(
        &self,
        hotels: impl IntoIterator<Item = (&'a str, &'a BTreeMap<String, SecretRef>)>,
    ) {
        let fresh = hotels
            .into_iter()
            .flat_map(|(hotel, secrets)| {
                secrets
                    .iter()
                    .map(move |(name, r)| ((hotel.to_owned(), name.clone()), r.clone()))
            })
            .collect();
        *self.refs.write().unwrap_or_else(|p| p.into_inner()) = fresh;
    }
}

/// Reads an environment-variable secret (also the mock PMS's own key).
pub fn read_env(hotel: &str, name: &str, var: &str) -> Result<Secret, VaultError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
        _ => Err(VaultError::EnvMissing {
            hotel: hotel.into(),
            name: name.into(),
            var: var.into(),
        }),
    }
}

impl SecretStore for ConfiguredSecrets {
    fn get(&self, hotel: &str, name: &str) -> Result<Secret, VaultError> {
        let vault = |vault_name: &str| match &self.vault {
            Some(v) => v.get(hotel, vault_name),
            None => Err(VaultError::NotConfigured {
                hotel: hotel.into(),
                name: name.into(),
            }),
        };
        let found = self
            .refs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(hotel.to_string(), name.to_string()))
            .cloned();
        match found {
            Some(SecretRef::Env(var)) => read_env(hotel, name, &var),
            Some(SecretRef::Vault(vault_name)) => vault(&vault_name),
            None => vault(name),
        }
    }
}

/// A purpose-bound key from a 32-byte data key (HMAC-SHA256 as a PRF), so that the field cipher
/// of the state, the audit chain and the sealing of shared coordination never share key
/// material.
pub fn derive_key(data_key: &Zeroizing<[u8; 32]>, purpose: &[u8]) -> Zeroizing<[u8; 32]> {
    use hmac::{Hmac, Mac as _};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(data_key.as_slice())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(purpose);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-very-secret".into());
        assert_eq!(format!("{s:?}"), "Secret([REDACTED])");
        assert_eq!(s.expose(), "hunter2-very-secret");
    }

    #[test]
    fn missing_env_names_the_variable_not_a_value() {
        let mut store = ConfiguredSecrets::default();
        let refs = [(
            "apiKey".to_string(),
            SecretRef::Env("JACK_TEST_SURELY_UNSET_VAR".into()),
        )]
        .into();
        store.add_hotel("H1", &refs);
        let e = store.get("H1", "apiKey").unwrap_err().to_string();
        assert!(e.contains("JACK_TEST_SURELY_UNSET_VAR"), "{e}");
        assert!(matches!(
            store.get("H1", "other"),
            Err(VaultError::NotConfigured { .. })
        ));
    }
}
