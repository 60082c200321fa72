//! The hotel's non-secret settings, from the host's `config` import.
//!
//! Each hotel's entry in the host config carries `settings` (hostname, hotel id, currency …); the
//! adapter reads them here. Secrets are never settings: the host applies them to requests itself
//! (see [`crate::http::Request::credentials`]).
//!
//! ```
//! use jack_pms_sdk::prelude::*;
//! use jack_pms_sdk::testing::Harness;
//!
//! fn hotel_url(path: &str) -> Result<String, PmsError> {
//!     let hostname = config::require("hostname")?;
//!     let hotel = config::require("hotelId")?;
//!     Ok(format!("https://{hostname}/hotels/{hotel}{path}"))
//! }
//!
//! let hotel = Harness::new().setting("hostname", "pms.example").setting("hotelId", "H1");
//! assert_eq!(hotel.run(|| hotel_url("/rooms")).as_deref(), Ok("https://pms.example/hotels/H1/rooms"));
//! ```

use crate::PmsError;

/// The value of `key`, or `None` when the hotel config does not set it.
///
/// ```
/// use jack_pms_sdk::{config, testing::Harness};
///
/// let hotel = Harness::new().setting("currency", "CHF");
/// let currency = hotel.run(|| config::get("currency").unwrap_or_else(|| "EUR".into()));
/// assert_eq!(currency, "CHF");
/// assert_eq!(hotel.run(|| config::get("pageSize")), None);
/// ```
pub fn get(key: &str) -> Option<String> {
    crate::host::config_get(key)
}

/// The value of `key`, or an `invalid-request` error naming the missing key.
///
/// ```
/// use jack_pms_sdk::{PmsError, config, testing::Harness};
///
/// let hotel = Harness::new().setting("hotelId", "H1");
/// assert_eq!(hotel.run(|| config::require("hotelId")), Ok("H1".to_string()));
/// let missing = hotel.run(|| config::require("hostname"));
/// assert!(matches!(missing, Err(PmsError::InvalidRequest(m)) if m.contains("`hostname`")));
/// ```
pub fn require(key: &str) -> Result<String, PmsError> {
    get(key).ok_or_else(|| {
        PmsError::InvalidRequest(format!(
            "the hotel config does not set `{key}`, which this adapter needs"
        ))
    })
}

/// Every setting as (key, value) pairs.
///
/// ```
/// use jack_pms_sdk::{config, testing::Harness};
///
/// let hotel = Harness::new().setting("hotelId", "H1").setting("hostname", "pms.example");
/// let settings = hotel.run(config::all);
/// assert_eq!(settings.len(), 2);
/// assert!(settings.contains(&("hotelId".to_string(), "H1".to_string())));
/// ```
pub fn all() -> Vec<(String, String)> {
    crate::host::config_all()
}
