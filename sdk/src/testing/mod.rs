//! A native test harness: run an adapter's operations with plain `cargo test`, on the author's
//! machine, with the host's three imports answered in-process: HTTP from recorded exchanges
//! ([`fixtures`]), settings from a map, log lines collected. Only in native builds (the component
//! always talks to the real host).
//!
//! It behaves like the host where that matters to an adapter: credential headers set by the
//! adapter are refused (`forbidden-header`), the request names a credential scheme (recorded, so
//! a test can check it), and a request no exchange matches gets a 404 and is listed by
//! [`Harness::unmatched`], so a typo in a URL shows up as a failing assertion, not a silent pass.
//!
//! ```
//! use jack_pms_sdk::prelude::*;
//! use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
//!
//! // The adapter's code (normally in src/lib.rs): one read.
//! fn room_count() -> Result<usize, PmsError> {
//!     let base = config::require("baseUrl")?;
//!     let rooms: Vec<serde_json::Value> = Request::get(format!("{base}/rooms"))
//!         .credentials(CredentialScheme::ApiKeyHeader)
//!         .send()?
//!         .error_for_status()?
//!         .json()?;
//!     Ok(rooms.len())
//! }
//!
//! let harness = Harness::new()
//!     .setting("baseUrl", "https://pms.example")
//!     .exchange(Exchange::json("GET", "/rooms", 200, serde_json::json!([{"n": 1}, {"n": 2}])));
//! assert_eq!(harness.run(room_count), Ok(2));
//! assert_eq!(harness.requests().len(), 1);
//! assert_eq!(harness.requests()[0].credentials, CredentialScheme::ApiKeyHeader);
//! assert!(harness.unmatched().is_empty());
//! ```

pub mod fixtures;

use crate::CredentialScheme;
use crate::bindings::jack::pms::http as imports;
use crate::log::Level;
use fixtures::{Exchange, FixtureError, Fixtures};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

/// Headers only the host may set (the host refuses them from a guest; so does the harness):
/// credentials, and content negotiation (the host asks for and decodes compressed answers
/// itself). Compared case-insensitively with `_` read as `-`, as the host does.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "x-app-key",
    "accept-encoding",
    "range",
    "if-range",
    "te",
    "content-encoding",
];

/// A request the adapter sent, as [`Harness::requests`] lists it.
///
/// ```
/// use jack_pms_sdk::prelude::*;
/// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
///
/// let pms = Harness::new().exchange(Exchange::json("GET", "/rooms", 200, serde_json::json!([])));
/// pms.run(|| Request::get("https://pms.example/rooms").query("floor", "2").credentials(CredentialScheme::ApiKeyHeader).send())?;
/// let sent = &pms.requests()[0];
/// assert_eq!((sent.method.as_str(), sent.url.as_str()), ("GET", "https://pms.example/rooms?floor=2"));
/// assert_eq!(sent.credentials, CredentialScheme::ApiKeyHeader);
/// assert_eq!(sent.body, None);
/// # Ok::<(), PmsError>(())
/// ```
#[derive(Debug, Clone)]
pub struct SentRequest {
    /// Method, upper case.
    pub method: String,
    /// URL as built by the adapter.
    pub url: String,
    /// Headers the adapter set.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Option<Vec<u8>>,
    /// The credential scheme the adapter asked the host to apply.
    pub credentials: CredentialScheme,
}

impl SentRequest {
    /// The body as JSON (for assertions on what a write sent).
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// use serde_json::json;
    ///
    /// let pms = Harness::new().exchange(Exchange::json("POST", "/charges", 201, json!({})));
    /// let charge = json!({"amount": "4.50", "currency": "EUR"});
    /// pms.run(|| Request::post("https://pms.example/charges").json(&charge)?.send())?;
    /// assert_eq!(pms.requests()[0].json().unwrap()["amount"], "4.50");
    /// # Ok::<(), PmsError>(())
    /// ```
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(self.body.as_deref()?).ok()
    }

    /// The body as form pairs (for form-encoded vendors).
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("POST", "/postReservationNote", 200, serde_json::json!({})));
    /// pms.run(|| Request::post("https://pms.example/postReservationNote").form(&[("reservationID", "R1"), ("note", "Late & tired")]).send())?;
    /// assert!(pms.requests()[0].form().contains(&("note".to_string(), "Late & tired".to_string())));
    /// # Ok::<(), PmsError>(())
    /// ```
    pub fn form(&self) -> Vec<(String, String)> {
        self.body
            .as_deref()
            .map(|b| form_urlencoded::parse(b).into_owned().collect())
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    fixtures: Fixtures,
    settings: BTreeMap<String, String>,
    requests: Vec<SentRequest>,
    unmatched: Vec<String>,
    logs: Vec<(Level, String)>,
}

/// The in-process host of a native test. Build it, then [`Harness::run`] adapter code in it.
///
/// Clones share one state: what a clone records, every clone sees.
///
/// ```
/// use jack_pms_sdk::prelude::*;
/// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
///
/// let pms = Harness::new()
///     .setting("hotelId", "H1")
///     .exchange(Exchange::json("GET", "/hotels/H1/rooms", 200, serde_json::json!([])));
/// let rooms: Vec<serde_json::Value> = pms.run(|| {
///     let hotel = config::require("hotelId")?;
///     Request::get(format!("https://pms.example/hotels/{hotel}/rooms")).send()?.json()
/// })?;
/// assert!(rooms.is_empty());
/// assert!(pms.unmatched().is_empty());
/// # Ok::<(), PmsError>(())
/// ```
#[derive(Clone, Default)]
pub struct Harness {
    state: Rc<RefCell<State>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Harness>> = const { RefCell::new(None) };
}

impl Harness {
    /// A harness with no settings and no exchanges.
    ///
    /// ```
    /// use jack_pms_sdk::{config, testing::Harness};
    ///
    /// let empty = Harness::new();
    /// assert!(empty.run(config::all).is_empty());
    /// assert!(empty.requests().is_empty());
    /// ```
    pub fn new() -> Harness {
        Harness::default()
    }

    /// Answers from every `*.json` exchange in `dir` (the format of [`fixtures`]).
    ///
    /// The same directory serves `jack-pms adapter test --fixtures DIR`, so one recording tests
    /// both the mapping and the built component.
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::Harness;
    ///
    /// # let dir = std::env::temp_dir().join(format!("jack-pms-sdk-doc-harness-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// // Usually `Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")`.
    /// std::fs::write(dir.join("rooms.json"), r#"{
    ///     "request": { "method": "GET", "path": "/rooms" },
    ///     "response": { "status": 200, "body": [{ "number": "101" }] }
    /// }"#).unwrap();
    ///
    /// let pms = Harness::from_fixtures(&dir).unwrap();
    /// let rooms: Vec<serde_json::Value> = pms.run(|| Request::get("https://pms.example/rooms").send()?.json())?;
    /// assert_eq!(rooms[0]["number"], "101");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), PmsError>(())
    /// ```
    pub fn from_fixtures(dir: &Path) -> Result<Harness, FixtureError> {
        let harness = Harness::new();
        harness.state.borrow_mut().fixtures = Fixtures::load(dir)?;
        Ok(harness)
    }

    /// Sets one hotel setting (what `config::get` answers).
    ///
    /// ```
    /// use jack_pms_sdk::{config, testing::Harness};
    ///
    /// let hotel = Harness::new().setting("hostname", "pms.example").setting("hotelId", "H1");
    /// assert_eq!(hotel.run(|| config::get("hotelId")).as_deref(), Some("H1"));
    /// ```
    pub fn setting(self, key: &str, value: &str) -> Harness {
        self.state
            .borrow_mut()
            .settings
            .insert(key.into(), value.into());
        self
    }

    /// Adds an exchange, matched before those already held.
    ///
    /// So a test can start from a directory of fixtures and override one answer (an error, a
    /// malformed body) for one scenario.
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// use serde_json::json;
    ///
    /// let fetch = || Request::get("https://pms.example/rooms").send()?.error_for_status();
    /// let pms = Harness::new().exchange(Exchange::json("GET", "/rooms", 200, json!([])));
    /// assert!(pms.run(fetch).is_ok());
    /// let pms = pms.exchange(Exchange::json("GET", "/rooms", 503, json!({"error": "maintenance"})));
    /// assert!(matches!(pms.run(fetch), Err(PmsError::Unavailable(_))));
    /// ```
    pub fn exchange(self, exchange: Exchange) -> Harness {
        self.state.borrow_mut().fixtures.push_front(exchange);
        self
    }

    /// Runs `f` with this harness as the host (on this thread), and returns what it returned.
    ///
    /// Adapter code that reaches the host (HTTP, settings, logs) outside `run` panics: a native
    /// build has no other host.
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::Harness;
    ///
    /// struct MyPms;
    /// impl Adapter for MyPms {
    ///     const VENDOR: &'static str = "mypms";
    ///     const VERSION: &'static str = "0.1.0";
    ///     const OPERATIONS: &'static [Operation] = &[Operation::HealthCheck];
    ///     fn health_check() -> Result<HealthStatus, PmsError> {
    ///         let hostname = config::require("hostname")?;
    ///         Ok(HealthStatus { healthy: true, detail: Some(hostname) })
    ///     }
    /// }
    ///
    /// let pms = Harness::new().setting("hostname", "pms.example");
    /// let health = pms.run(MyPms::health_check)?;
    /// assert_eq!(health.detail.as_deref(), Some("pms.example"));
    /// # Ok::<(), PmsError>(())
    /// ```
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        struct Reset(Option<Harness>);
        impl Drop for Reset {
            fn drop(&mut self) {
                let previous = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = previous);
            }
        }
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        let _reset = Reset(previous);
        f()
    }

    /// Every request sent so far, oldest first.
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::Harness;
    ///
    /// let pms = Harness::new();
    /// pms.run(|| {
    ///     for page in 1..=2 {
    ///         let _ = Request::get("https://pms.example/rooms").query("page", page.to_string()).send();
    ///     }
    /// });
    /// let urls: Vec<String> = pms.requests().into_iter().map(|r| r.url).collect();
    /// assert_eq!(urls, ["https://pms.example/rooms?page=1", "https://pms.example/rooms?page=2"]);
    /// ```
    pub fn requests(&self) -> Vec<SentRequest> {
        self.state.borrow().requests.clone()
    }

    /// `METHOD path` of each request no exchange matched (answered 404).
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("GET", "/rooms", 200, serde_json::json!([])));
    /// // A typo in the adapter's URL: answered 404, and listed here.
    /// let status = pms.run(|| Request::get("https://pms.example/room?page=1").send().map(|r| r.status()));
    /// assert_eq!(status, Ok(404));
    /// assert_eq!(pms.unmatched(), ["GET /room"]);
    /// ```
    pub fn unmatched(&self) -> Vec<String> {
        self.state.borrow().unmatched.clone()
    }

    /// Log lines written so far.
    ///
    /// ```
    /// use jack_pms_sdk::{log::Level, testing::Harness};
    ///
    /// let pms = Harness::new();
    /// pms.run(|| jack_pms_sdk::info!("skipped {} cancelled reservations", 2));
    /// assert_eq!(pms.logs(), [(Level::Info, "skipped 2 cancelled reservations".to_string())]);
    /// ```
    pub fn logs(&self) -> Vec<(Level, String)> {
        self.state.borrow().logs.clone()
    }
}

/// What [`crate::host`] calls in a native build.
pub(crate) mod dispatch {
    use super::*;

    fn current() -> Harness {
        CURRENT.with(|c| c.borrow().clone()).unwrap_or_else(|| {
            // A native build has no host: adapter code must run inside Harness::run.
            panic!("adapter code called the host outside jack_pms_sdk::testing::Harness::run")
        })
    }

    pub(crate) fn send(
        request: &imports::Request,
    ) -> Result<imports::Response, imports::HttpError> {
        let harness = current();
        let mut state = harness.state.borrow_mut();
        if let Some((name, _)) = request.headers.iter().find(|(n, _)| {
            CREDENTIAL_HEADERS.contains(&n.to_ascii_lowercase().replace('_', "-").as_str())
        }) {
            return Err(imports::HttpError::ForbiddenHeader(name.clone()));
        }
        let method = match request.method {
            imports::Method::Get => "GET",
            imports::Method::Post => "POST",
            imports::Method::Put => "PUT",
            imports::Method::Patch => "PATCH",
            imports::Method::Delete => "DELETE",
            imports::Method::Head => "HEAD",
        }
        .to_string();
        state.requests.push(SentRequest {
            method: method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            credentials: request.credentials,
        });
        let found = state
            .fixtures
            .find(&method, &request.url, request.body.as_deref())
            .map(|e| {
                (
                    e.response.status,
                    e.response.header_list(),
                    e.response.body_bytes(),
                )
            });
        Ok(match found {
            Some((status, headers, body)) => imports::Response {
                status,
                headers,
                body,
            },
            None => {
                let (path, _) = fixtures::split_url(&request.url);
                state.unmatched.push(format!("{method} {path}"));
                imports::Response {
                    status: 404,
                    headers: vec![("content-type".into(), "application/json".into())],
                    body: br#"{"error":"no recorded exchange matches this request"}"#.to_vec(),
                }
            }
        })
    }

    pub(crate) fn config_get(key: &str) -> Option<String> {
        current().state.borrow().settings.get(key).cloned()
    }

    pub(crate) fn config_all() -> Vec<(String, String)> {
        current()
            .state
            .borrow()
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub(crate) fn log(level: Level, message: &str) {
        current()
            .state
            .borrow_mut()
            .logs
            .push((level, message.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn credential_headers_are_refused_like_the_host_does() {
        let harness = Harness::new();
        let result = harness.run(|| {
            Request::get("https://pms.example/x")
                .header("Authorization", "Bearer mine")
                .send()
        });
        assert!(matches!(result, Err(PmsError::Internal(m)) if m.contains("Authorization")));
    }

    #[test]
    fn unmatched_requests_are_listed_and_logs_kept() {
        let harness = Harness::new().setting("baseUrl", "https://pms.example");
        let status = harness.run(|| {
            crate::info!("looking up {}", 7);
            Request::post("https://pms.example/notes?x=1")
                .send()
                .map(|r| r.status())
        });
        assert_eq!(status, Ok(404));
        assert_eq!(harness.unmatched(), vec!["POST /notes".to_string()]);
        assert_eq!(harness.logs()[0].1, "looking up 7");
        assert_eq!(
            harness.run(|| config::get("baseUrl")).as_deref(),
            Some("https://pms.example")
        );
    }
}
