//! The `log` import, and the budget every output channel of one call shares: guest log lines,
//! stdout and stderr become `tracing` events with the adapter's and hotel's names, escaped (no
//! forged lines, no terminal escapes) and bounded per call in lines and in bytes. What is over
//! the budget is dropped and counted, and one warning at the end of the call says how much.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Longest line kept, in bytes; a longer one is cut (and says so).
pub const MAX_LINE_BYTES: usize = 8192;

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

/// The lines and bytes one call may still write to the log, over all its output channels.
/// Shared (`Arc`) by the `log` import and the call's stdout and stderr; when the last holder
/// drops it at the end of the call, it reports what it dropped.
#[derive(Debug)]
pub struct OutputBudget {
    adapter: Arc<str>,
    hotel: Arc<str>,
    max_lines: u32,
    max_bytes: u64,
    lines: AtomicU32,
    bytes: AtomicU64,
    dropped_lines: AtomicU32,
    dropped_bytes: AtomicU64,
}

impl OutputBudget {
    /// A fresh budget for one call.
    pub fn new(adapter: Arc<str>, hotel: Arc<str>, max_lines: u32, max_bytes: u64) -> Arc<Self> {
        Arc::new(OutputBudget {
            adapter,
            hotel,
            max_lines,
            max_bytes,
            lines: AtomicU32::new(0),
            bytes: AtomicU64::new(0),
            dropped_lines: AtomicU32::new(0),
            dropped_bytes: AtomicU64::new(0),
        })
    }

    /// Writes one line from `stream` (`log`, `stdout`, `stderr`) at `level`, escaped and cut to
    /// [`MAX_LINE_BYTES`], if the budget still allows it; counts it as dropped otherwise.
    pub fn emit(&self, level: Level, stream: &'static str, raw: &str) {
        let size = u64::try_from(raw.len()).unwrap_or(u64::MAX);
        let lines = self.lines.fetch_add(1, Ordering::Relaxed);
        let bytes = self.bytes.fetch_add(size, Ordering::Relaxed);
        if lines >= self.max_lines || bytes.saturating_add(size) > self.max_bytes {
            self.dropped_lines.fetch_add(1, Ordering::Relaxed);
            self.dropped_bytes.fetch_add(size, Ordering::Relaxed);
            return;
        }
        let message = crate::untrusted::escape(raw, MAX_LINE_BYTES);
        let (adapter, hotel) = (&*self.adapter, &*self.hotel);
        match level {
            Level::Trace => {
                tracing::trace!(target: "jack_pms::guest", adapter, hotel, stream, "{message}")
            }
            Level::Debug => {
                tracing::debug!(target: "jack_pms::guest", adapter, hotel, stream, "{message}")
            }
            Level::Info => {
                tracing::info!(target: "jack_pms::guest", adapter, hotel, stream, "{message}")
            }
            Level::Warn => {
                tracing::warn!(target: "jack_pms::guest", adapter, hotel, stream, "{message}")
            }
            Level::Error => {
                tracing::error!(target: "jack_pms::guest", adapter, hotel, stream, "{message}")
            }
        }
    }

    /// True once nothing more may be written (the writers then only count what they drop).
    pub fn exhausted(&self) -> bool {
        self.lines.load(Ordering::Relaxed) >= self.max_lines
            || self.bytes.load(Ordering::Relaxed) >= self.max_bytes
    }

    /// Counts output dropped unread because the budget is exhausted: `bytes` bytes holding
    /// `lines` line breaks.
    pub fn drop_unread(&self, lines: u32, bytes: u64) {
        self.dropped_lines.fetch_add(lines, Ordering::Relaxed);
        self.dropped_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Lines and bytes dropped so far.
    pub fn dropped(&self) -> (u32, u64) {
        (
            self.dropped_lines.load(Ordering::Relaxed),
            self.dropped_bytes.load(Ordering::Relaxed),
        )
    }
}

impl Drop for OutputBudget {
    fn drop(&mut self) {
        let (lines, bytes) = self.dropped();
        if lines > 0 {
            tracing::warn!(adapter = %self.adapter, hotel = %self.hotel, dropped_lines = lines, dropped_bytes = bytes, max_lines = self.max_lines, max_bytes = self.max_bytes, "adapter output over its per-call budget; the rest was dropped");
            crate::metrics::metrics()
                .guest_log_dropped
                .get_or_create(&crate::metrics::AdapterLabels {
                    adapter: self.adapter.to_string(),
                })
                .inc_by(u64::from(lines));
        }
    }
}

/// Per-call context of the `log` import.
#[derive(Debug)]
pub struct Ctx {
    /// The call's output budget, shared with its stdout and stderr.
    pub budget: Arc<OutputBudget>,
}

impl Ctx {
    /// Writes one guest log line.
    pub fn log(&mut self, level: Level, message: &str) {
        self.budget.emit(level, "log", message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_counts_lines_and_bytes_over_every_channel() {
        let b = OutputBudget::new("a".into(), "h".into(), 3, 10);
        b.emit(Level::Info, "log", "12345");
        b.emit(Level::Info, "stdout", "12345");
        assert_eq!(b.dropped(), (0, 0));
        b.emit(Level::Info, "stderr", "1");
        assert_eq!(b.dropped(), (1, 1), "over the byte budget");
        let b = OutputBudget::new("a".into(), "h".into(), 1, 1 << 20);
        b.emit(Level::Info, "log", "x");
        b.emit(Level::Info, "log", "y");
        assert_eq!(b.dropped(), (1, 1), "over the line budget");
    }
}
