//! Recent writes and their state, for `GET /v1/operations/{id}`. Bounded and in memory: the
//! durable outbox of a later issue replaces it with the same answers.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How many recent writes are remembered.
pub const CAPACITY: usize = 10_000;

/// A write's state.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationRecord {
    /// Operation id.
    pub id: String,
    /// Hotel.
    pub hotel: String,
    /// Operation name (`postCharge`, …).
    pub operation: String,
    /// `applied` or `failed`.
    pub state: &'static str,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The PMS's reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pms_reference: Option<String>,
    /// Who asked for it.
    pub caller: String,
    /// When it finished.
    pub at: DateTime<Utc>,
}

/// The bounded record of recent writes.
#[derive(Debug, Default)]
pub struct Operations {
    inner: Mutex<(HashMap<String, OperationRecord>, VecDeque<String>)>,
}

impl Operations {
    /// Records (or replaces) a write's state.
    pub fn record(&self, record: OperationRecord) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(record.id.clone(), record.clone()).is_none() {
            order.push_back(record.id);
            while order.len() > CAPACITY {
                if let Some(old) = order.pop_front() {
                    map.remove(&old);
                }
            }
        }
    }

    /// The record of `id`.
    pub fn get(&self, id: &str) -> Option<OperationRecord> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .0
            .get(id)
            .cloned()
    }
}
