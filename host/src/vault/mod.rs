//! Secrets: where credential values come from, and the type that carries them.
//!
//! A [`Secret`] never prints its value (`Debug` shows `Secret([REDACTED])`), is zeroed when
//! dropped, and is only exposed at the moment the egress path writes it into an outbound request.
//! This backend reads environment variables named in the hotel config ([`EnvSecrets`]);
//! the encrypted vault arrives behind the same [`SecretStore`] trait.

use crate::config::SecretRef;
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::fmt;

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
}

/// A source of secret values, by hotel and name.
pub trait SecretStore: Send + Sync {
    /// The value of secret `name` of `hotel`.
    fn get(&self, hotel: &str, name: &str) -> Result<Secret, VaultError>;
}

/// Secrets read from environment variables, as the hotel config names them.
#[derive(Debug, Default, Clone)]
pub struct EnvSecrets {
    refs: BTreeMap<(String, String), SecretRef>,
}

impl EnvSecrets {
    /// Adds `hotel`'s secret references.
    pub fn add_hotel(&mut self, hotel: &str, secrets: &BTreeMap<String, SecretRef>) {
        for (name, r) in secrets {
            self.refs
                .insert((hotel.to_string(), name.clone()), r.clone());
        }
    }
}

/// Reads one secret reference (also used for the mock PMS's own key).
pub fn read_ref(hotel: &str, name: &str, r: &SecretRef) -> Result<Secret, VaultError> {
    match r {
        SecretRef::Env(var) => match std::env::var(var) {
            Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
            _ => Err(VaultError::EnvMissing {
                hotel: hotel.into(),
                name: name.into(),
                var: var.clone(),
            }),
        },
    }
}

impl SecretStore for EnvSecrets {
    fn get(&self, hotel: &str, name: &str) -> Result<Secret, VaultError> {
        let r = self
            .refs
            .get(&(hotel.to_string(), name.to_string()))
            .ok_or_else(|| VaultError::NotConfigured {
                hotel: hotel.into(),
                name: name.into(),
            })?;
        read_ref(hotel, name, r)
    }
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
        let mut store = EnvSecrets::default();
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
