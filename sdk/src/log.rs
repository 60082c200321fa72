//! Logging through the host: lines land in the host's log with the adapter's and hotel's names.
//!
//! Use the macros: `jack_pms_sdk::info!("fetched {} reservations", n)`.

pub use crate::bindings::jack::pms::log::Level;

/// Writes one line at `level`. Prefer the macros.
pub fn write(level: Level, message: &str) {
    crate::bindings::jack::pms::log::log(level, message);
}

/// Logs at trace level, `format!` style.
#[macro_export]
macro_rules! trace { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Trace, &::std::format!($($arg)*)) }; }
/// Logs at debug level, `format!` style.
#[macro_export]
macro_rules! debug { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Debug, &::std::format!($($arg)*)) }; }
/// Logs at info level, `format!` style.
#[macro_export]
macro_rules! info { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Info, &::std::format!($($arg)*)) }; }
/// Logs at warn level, `format!` style.
#[macro_export]
macro_rules! warn { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Warn, &::std::format!($($arg)*)) }; }
/// Logs at error level, `format!` style.
#[macro_export]
macro_rules! error { ($($arg:tt)*) => { $crate::log::write($crate::log::Level::Error, &::std::format!($($arg)*)) }; }
