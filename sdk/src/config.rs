//! The hotel's non-secret settings, from the host's `config` import.

use crate::PmsError;
use crate::bindings::jack::pms::config as imports;

/// The value of `key`, or `None` when the hotel config does not set it.
pub fn get(key: &str) -> Option<String> {
    imports::get(key)
}

/// The value of `key`, or an `invalid-request` error naming the missing key.
pub fn require(key: &str) -> Result<String, PmsError> {
    get(key).ok_or_else(|| {
        PmsError::InvalidRequest(format!(
            "the hotel config does not set `{key}`, which this adapter needs"
        ))
    })
}

/// Every setting as (key, value) pairs.
pub fn all() -> Vec<(String, String)> {
    imports::all()
}
