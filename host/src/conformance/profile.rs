//! The conformance profile (`conformance.toml`): what the suite cannot guess about an adapter: the
//! hotel settings it needs beyond the allowed-host placeholders, test credentials, the sample
//! inputs each operation is called with, and optional counts that prove pagination reached the
//! end. It lives beside the manifest (or in the fixtures directory); every key is optional.
//!
//! ```toml
//! [settings]                 # the hotel's settings (allowed-host placeholders are set by the suite)
//! hotelId = "DEMO1"
//!
//! [secrets]                  # test credentials, for --against only; never production ones
//! apiKey = { env = "JACK_MOCK_PMS_KEY" }   # or a literal test value: apiKey = "dev-only-key"
//!
//! [inputs]                   # sample inputs; an operation without its input is skipped
//! guestId = "G1001"
//! email = "sarah.chen@example.com"
//! phone = "+31612345678"
//! name = "Chen"
//! confirmationNumber = "CONF1001"
//! date = "today"             # or YYYY-MM-DD; "today" is today in UTC
//! roomNumber = "101"
//! currency = "EUR"
//! preferenceCategory = "PILLOW"   # the preference update-guest-preferences sets
//! preferenceCode = "FEATHER"
//!
//! [expect]                   # optional exact counts the PMS holds, to prove pagination
//! arrivals = 3
//! departures = 2
//! inHouse = 4
//! rooms = 12
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Why a profile is refused.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// Unreadable file.
    #[error("cannot read the conformance profile {path}: {source}")]
    Read {
        /// File.
        path: String,
        /// I/O error.
        source: std::io::Error,
    },
    /// Malformed TOML or unknown key.
    #[error("conformance profile {path}: {message}")]
    Parse {
        /// File.
        path: String,
        /// Parser message (names the key and line).
        message: String,
    },
    /// A secret's environment variable is not set.
    #[error(
        "conformance profile: secret `{name}` reads environment variable `{var}`, which is not set"
    )]
    EnvMissing {
        /// Secret name.
        name: String,
        /// Variable.
        var: String,
    },
}

/// A secret's value in the profile: a literal test value or an environment variable.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawSecret {
    Literal(String),
    Env { env: String },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    settings: BTreeMap<String, String>,
    #[serde(default)]
    secrets: BTreeMap<String, RawSecret>,
    #[serde(default)]
    inputs: Inputs,
    #[serde(default)]
    expect: Expect,
}

/// Sample inputs the operations are called with.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Inputs {
    /// A guest's PMS id (get-guest by id, update-guest-preferences).
    pub guest_id: Option<String>,
    /// A guest's e-mail address (get-guest by e-mail, search-guests).
    pub email: Option<String>,
    /// A guest's phone number.
    pub phone: Option<String>,
    /// A name the vendor's search finds.
    pub name: Option<String>,
    /// A reservation's confirmation number (reservation reads and writes).
    pub confirmation_number: Option<String>,
    /// A hotel-local date for arrivals and departures (`today` or `YYYY-MM-DD`).
    pub date: Option<String>,
    /// A room number.
    pub room_number: Option<String>,
    /// The currency of the test charge (`EUR` when unset).
    pub currency: Option<String>,
    /// The preference group update-guest-preferences sets (`PILLOW` when unset).
    pub preference_category: Option<String>,
    /// The preference code it sets (`FEATHER` when unset).
    pub preference_code: Option<String>,
}

/// Exact counts the PMS holds, checked after following every page.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Expect {
    /// Arrivals on `inputs.date` that are happening (cancelled and no-show stays not counted).
    pub arrivals: Option<usize>,
    /// Departures on `inputs.date` that are happening.
    pub departures: Option<usize>,
    /// Reservations in house.
    pub in_house: Option<usize>,
    /// Rooms.
    pub rooms: Option<usize>,
    /// Guests found by `inputs.name`.
    pub guests_by_name: Option<usize>,
}

/// A parsed profile, secrets resolved.
#[derive(Debug, Default, Clone)]
pub struct Profile {
    /// Hotel settings.
    pub settings: BTreeMap<String, String>,
    /// Test secrets by name (values kept out of `Debug` by [`crate::vault::Secret`]).
    pub secrets: BTreeMap<String, crate::vault::Secret>,
    /// Sample inputs.
    pub inputs: Inputs,
    /// Expected counts.
    pub expect: Expect,
}

impl Profile {
    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Profile::parse(&text, &path.display().to_string())
    }

    /// Parses profile `text`; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Profile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| ProfileError::Parse {
            path: path.into(),
            message: e.to_string(),
        })?;
        let mut secrets = BTreeMap::new();
        for (name, secret) in raw.secrets {
            let value = match secret {
                RawSecret::Literal(v) => v,
                RawSecret::Env { env } => match std::env::var(&env) {
                    Ok(v) if !v.is_empty() => v,
                    _ => return Err(ProfileError::EnvMissing { name, var: env }),
                },
            };
            secrets.insert(name, crate::vault::Secret::new(value));
        }
        Ok(Profile {
            settings: raw.settings,
            secrets,
            inputs: raw.inputs,
            expect: raw.expect,
        })
    }

    /// `inputs.date`, with `today` (or no date) meaning today in UTC.
    pub fn date(&self) -> String {
        match self.inputs.date.as_deref() {
            None | Some("today") => chrono::Utc::now().date_naive().to_string(),
            Some(d) => d.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        // SAFETY: test-local variable name, read back at once.
        unsafe { std::env::set_var("JACK_CONFORMANCE_TEST_KEY", "k-123") };
        let p = Profile::parse(
            "[settings]\nhotelId = \"DEMO1\"\n[secrets]\napiKey = { env = \"JACK_CONFORMANCE_TEST_KEY\" }\nother = \"lit\"\n[inputs]\nconfirmationNumber = \"C1\"\ndate = \"2026-01-02\"\n[expect]\narrivals = 3\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(p.settings["hotelId"], "DEMO1");
        assert_eq!(p.secrets["apiKey"].expose(), "k-123");
        assert_eq!(p.secrets["other"].expose(), "lit");
        assert_eq!(p.date(), "2026-01-02");
        assert_eq!(p.expect.arrivals, Some(3));
    }

    #[test]
    fn unknown_keys_and_missing_variables_are_named() {
        let e = Profile::parse("[inputs]\nconfirmation = \"x\"\n", "c.toml").unwrap_err();
        assert!(e.to_string().contains("confirmation"), "{e}");
        let e = Profile::parse(
            "[secrets]\nk = { env = \"JACK_SURELY_UNSET_VAR\" }\n",
            "c.toml",
        )
        .unwrap_err();
        assert!(e.to_string().contains("JACK_SURELY_UNSET_VAR"), "{e}");
    }
}
