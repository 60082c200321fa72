//! Logging through the host: lines land in the host's log with the adapter's and hotel's names.
//!
//! Use the macros: `jack_pms_sdk::info!("fetched {} reservations", n)`. The host writes lines as
//! they are (it only bounds their number and length per call), so never log guests' personal
//! data. In a native test the [`Harness`](crate::testing::Harness) keeps the lines, so a test can
//! check them.
//!
//! ```
//! use jack_pms_sdk::log::Level;
//! use jack_pms_sdk::testing::Harness;
//!
//! let harness = Harness::new();
//! harness.run(|| {
//!     let pages = 3;
//!     jack_pms_sdk::debug!("arrivals: {pages} pages");
//!     jack_pms_sdk::warn!("room {} has an unknown state, skipped", "204");
//! });
//! assert_eq!(harness.logs(), [
//!     (Level::Debug, "arrivals: 3 pages".to_string()),
//!     (Level::Warn, "room 204 has an unknown state, skipped".to_string()),
//! ]);
//! ```

/// How important a log line is; the host's log filter decides which levels it keeps.
///
/// ```
/// use jack_pms_sdk::log::{self, Level};
/// # let harness = jack_pms_sdk::testing::Harness::new();
/// # harness.run(|| {
/// let level = if cfg!(debug_assertions) { Level::Debug } else { Level::Info };
/// log::write(level, "mapping 12 reservations");
/// # });
/// # assert_eq!(harness.logs()[0].1, "mapping 12 reservations");
/// ```
pub use crate::bindings::jack::pms::log::Level;

/// Writes one line at `level`. Prefer the macros.
///
/// ```
/// use jack_pms_sdk::log::{self, Level};
/// use jack_pms_sdk::testing::Harness;
///
/// let harness = Harness::new();
/// harness.run(|| log::write(Level::Error, "the PMS sent an empty folio"));
/// assert_eq!(harness.logs(), [(Level::Error, "the PMS sent an empty folio".to_string())]);
/// ```
pub fn write(level: Level, message: &str) {
    crate::host::log(level, message);
}

/// Logs at trace level, `format!` style.
///
/// ```
/// use jack_pms_sdk::{log::Level, testing::Harness};
///
/// let harness = Harness::new();
/// harness.run(|| jack_pms_sdk::trace!("page {} of {}", 1, 4));
/// assert_eq!(harness.logs(), [(Level::Trace, "page 1 of 4".to_string())]);
/// ```
#[macro_export]
macro_rules! trace { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Trace, &::std::format!($($arg)*)) }; }
/// Logs at debug level, `format!` style.
///
/// ```
/// use jack_pms_sdk::{log::Level, testing::Harness};
///
/// let harness = Harness::new();
/// harness.run(|| jack_pms_sdk::debug!("cursor {:?}", Some("c2")));
/// assert_eq!(harness.logs(), [(Level::Debug, "cursor Some(\"c2\")".to_string())]);
/// ```
#[macro_export]
macro_rules! debug { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Debug, &::std::format!($($arg)*)) }; }
/// Logs at info level, `format!` style.
///
/// ```
/// use jack_pms_sdk::{log::Level, testing::Harness};
///
/// let harness = Harness::new();
/// harness.run(|| jack_pms_sdk::info!("fetched {} reservations", 12));
/// assert_eq!(harness.logs(), [(Level::Info, "fetched 12 reservations".to_string())]);
/// ```
#[macro_export]
macro_rules! info { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, &::std::format!($($arg)*)) }; }
/// Logs at warn level, `format!` style.
///
/// ```
/// use jack_pms_sdk::{log::Level, testing::Harness};
///
/// let harness = Harness::new();
/// harness.run(|| jack_pms_sdk::warn!("unknown room state `{}`, treated as dirty", "SPARKLING"));
/// assert_eq!(harness.logs(), [(Level::Warn, "unknown room state `SPARKLING`, treated as dirty".to_string())]);
/// ```
#[macro_export]
macro_rules! warn { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, &::std::format!($($arg)*)) }; }
/// Logs at error level, `format!` style.
///
/// ```
/// use jack_pms_sdk::{log::Level, testing::Harness};
///
/// let harness = Harness::new();
/// harness.run(|| jack_pms_sdk::error!("folio {} has no currency", "F-9"));
/// assert_eq!(harness.logs(), [(Level::Error, "folio F-9 has no currency".to_string())]);
/// ```
#[macro_export]
macro_rules! error { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, &::std::format!($($arg)*)) }; }
