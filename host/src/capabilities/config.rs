//! The `config` import: the hotel's non-secret settings, read-only.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Per-call context: the hotel's settings, shared by all calls for the hotel.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// Settings.
    pub settings: Arc<BTreeMap<String, String>>,
}

impl Ctx {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        self.settings.get(key).cloned()
    }

    /// Every setting.
    pub fn all(&self) -> Vec<(String, String)> {
        self.settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}
