//! The `log` import: guest log lines as `tracing` events with the adapter's and hotel's names.
//! A call may log a bounded number of lines of bounded length, so a guest cannot flood the log.

use std::sync::Arc;

/// Lines one call may log; further lines are dropped, with one warning.
const MAX_LINES_PER_CALL: u32 = 1000;
/// Longest line kept, in bytes.
const MAX_LINE_BYTES: usize = 8192;

/// Levels of the WIT `log.level` enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Trace.
    Trace,
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warn.
    Warn,
    /// Error.
    Error,
}

/// Per-call context.
#[derive(Debug)]
pub struct Ctx {
    /// Adapter name.
    pub adapter: Arc<str>,
    /// Hotel id.
    pub hotel: Arc<str>,
    /// Lines logged so far in this call.
    pub lines: u32,
}

impl Ctx {
    /// Writes one guest log line.
    pub fn log(&mut self, level: Level, message: &str) {
        self.lines += 1;
        if self.lines > MAX_LINES_PER_CALL {
            if self.lines == MAX_LINES_PER_CALL + 1 {
                tracing::warn!(adapter = %self.adapter, hotel = %self.hotel, "adapter exceeded {MAX_LINES_PER_CALL} log lines in one call; dropping the rest");
            }
            return;
        }
        let message = match message.char_indices().nth(MAX_LINE_BYTES) {
            Some((cut, _)) => &message[..cut],
            None => message,
        };
        let (adapter, hotel) = (&*self.adapter, &*self.hotel);
        match level {
            Level::Trace => tracing::trace!(target: "jack_pms::guest", adapter, hotel, "{message}"),
            Level::Debug => tracing::debug!(target: "jack_pms::guest", adapter, hotel, "{message}"),
            Level::Info => tracing::info!(target: "jack_pms::guest", adapter, hotel, "{message}"),
            Level::Warn => tracing::warn!(target: "jack_pms::guest", adapter, hotel, "{message}"),
            Level::Error => tracing::error!(target: "jack_pms::guest", adapter, hotel, "{message}"),
        }
    }
}
