//! Change events (issue part 5): derived from sync snapshots, kept in a durable bounded log,
//! delivered as server-sent events and as signed webhooks.

pub mod alerts;
pub mod diff;
pub mod log;
pub mod sse;
pub mod tracker;
pub mod webhooks;

pub use diff::{ChangeEvent, EventKind, HotelSnapshot, SyncItems};
pub use log::{EventLog, EventLogError, LogOptions, StoredEvent};
