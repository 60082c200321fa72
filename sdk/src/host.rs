//! The three things an adapter asks of the host (send a request, read a setting, write a log
//! line), in one place: inside a component they are the WIT imports; in a native build (an
//! adapter author's `cargo test`) they go to the [`crate::testing::Harness`] running the test.

use crate::bindings::jack::pms::http as http_imports;
use crate::bindings::jack::pms::log::Level;

#[cfg(target_arch = "wasm32")]
pub(crate) fn send(
    request: &http_imports::Request,
) -> Result<http_imports::Response, http_imports::HttpError> {
    http_imports::send(request)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn send(
    request: &http_imports::Request,
) -> Result<http_imports::Response, http_imports::HttpError> {
    crate::testing::dispatch::send(request)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn config_get(key: &str) -> Option<String> {
    crate::bindings::jack::pms::config::get(key)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn config_get(key: &str) -> Option<String> {
    crate::testing::dispatch::config_get(key)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn config_all() -> Vec<(String, String)> {
    crate::bindings::jack::pms::config::all()
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn config_all() -> Vec<(String, String)> {
    crate::testing::dispatch::config_all()
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn log(level: Level, message: &str) {
    crate::bindings::jack::pms::log::log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn log(level: Level, message: &str) {
    crate::testing::dispatch::log(level, message);
}
