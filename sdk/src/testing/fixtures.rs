//! Recorded HTTP exchanges: the offline stand-in for a PMS (`adapter test --fixtures DIR`).
//!
//! Every `*.json` file in the directory holds one exchange or an array of them:
//!
//! ```json
//! {
//!   "request":  { "method": "GET", "path": "/api/v1/hotels/DEMO1/reservations",
//!                 "query": { "page": "2" }, "bodyContains": "optional substring" },
//!   "response": { "status": 200, "headers": { "content-type": "application/json" },
//!                 "body": { "any": "JSON" } }
//! }
//! ```
//!
//! A request matches an exchange when the method and path are equal, every query parameter the
//! exchange names has that value, and the body contains `bodyContains` (for POST-only APIs such as
//! Mews, where the cursor travels in the body). The first match in file-name order wins. The
//! response body is `body` (JSON) or `text` (raw text, for malformed answers). OAuth token
//! requests need no exchange: `jack-pms adapter test` answers them itself in fixtures mode.
//!
//! The same files serve the SDK's native [`Harness`](super::Harness) and the host's conformance
//! suite, so one recording tests both the mapping (with `cargo test`) and the component.
//!
//! In code, [`Exchange::json`] builds the same thing:
//!
//! ```
//! use jack_pms_sdk::prelude::*;
//! use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
//! use serde_json::json;
//!
//! // Two pages of one path, told apart by the query.
//! let pms = Harness::new()
//!     .exchange(Exchange::json("GET", "/reservations", 200, json!({"items": ["R1"], "next": 2})).with_query("page", "1"))
//!     .exchange(Exchange::json("GET", "/reservations", 200, json!({"items": ["R2"]})).with_query("page", "2"));
//! let second: serde_json::Value = pms.run(|| Request::get("https://pms.example/reservations?page=2&size=50").send()?.json())?;
//! assert_eq!(second["items"][0], "R2");
//! # Ok::<(), PmsError>(())
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Why the fixtures cannot be used.
///
/// ```
/// use jack_pms_sdk::testing::fixtures::Fixtures;
///
/// let error = Fixtures::load(std::path::Path::new("/no/such/fixtures")).unwrap_err();
/// assert_eq!(error.path, "/no/such/fixtures");
/// assert!(error.to_string().starts_with("fixtures /no/such/fixtures: "));
/// ```
#[derive(Debug)]
pub struct FixtureError {
    /// File or directory.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for FixtureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fixtures {}: {}", self.path, self.message)
    }
}

impl std::error::Error for FixtureError {}

/// The request half of an exchange: what to match.
///
/// ```
/// use jack_pms_sdk::testing::fixtures::RequestMatch;
///
/// let matcher: RequestMatch = serde_json::from_value(serde_json::json!({
///     "method": "POST", "path": "/api/connector/v1/reservations/getAll", "bodyContains": "\"Cursor\":\"c2\""
/// })).unwrap();
/// assert_eq!(matcher.body_contains.as_deref(), Some("\"Cursor\":\"c2\""));
/// assert!(matcher.query.is_empty());
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestMatch {
    /// HTTP method, any case.
    pub method: String,
    /// Path, exactly as sent (percent-encoding included).
    pub path: String,
    /// Query parameters that must have these values (others are ignored).
    #[serde(default)]
    pub query: BTreeMap<String, String>,
    /// A substring the request body must contain.
    pub body_contains: Option<String>,
}

/// The response half of an exchange.
///
/// ```
/// use jack_pms_sdk::testing::fixtures::RecordedResponse;
///
/// // A malformed answer, recorded as raw text, for "never trap on a bad body" tests.
/// let response: RecordedResponse = serde_json::from_value(serde_json::json!({
///     "status": 200, "headers": { "Content-Type": "application/json" }, "text": "{\"id\": 12"
/// })).unwrap();
/// assert_eq!(response.body_bytes(), b"{\"id\": 12");
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecordedResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// JSON body.
    pub body: Option<serde_json::Value>,
    /// Raw text body (instead of `body`).
    pub text: Option<String>,
}

/// One recorded exchange.
///
/// ```
/// use jack_pms_sdk::testing::fixtures::Exchange;
///
/// let exchange: Exchange = serde_json::from_str(r#"{
///     "request":  { "method": "GET", "path": "/rooms/204" },
///     "response": { "status": 404, "body": { "error": "no such room" } }
/// }"#).unwrap();
/// assert_eq!((exchange.request.path.as_str(), exchange.response.status), ("/rooms/204", 404));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// What to match.
    pub request: RequestMatch,
    /// What to answer.
    pub response: RecordedResponse,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Box<Exchange>),
    Many(Vec<Exchange>),
}

impl RecordedResponse {
    /// The body bytes.
    ///
    /// ```
    /// use jack_pms_sdk::testing::fixtures::Exchange;
    ///
    /// let exchange = Exchange::json("GET", "/rooms", 200, serde_json::json!([{"n": 1}]));
    /// assert_eq!(exchange.response.body_bytes(), br#"[{"n":1}]"#);
    /// ```
    pub fn body_bytes(&self) -> Vec<u8> {
        match (&self.body, &self.text) {
            (Some(json), _) => serde_json::to_vec(json).unwrap_or_default(),
            (None, Some(text)) => text.as_bytes().to_vec(),
            (None, None) => Vec::new(),
        }
    }

    /// Headers with lowercase names; JSON bodies get a JSON content type unless one is given.
    ///
    /// ```
    /// use jack_pms_sdk::testing::fixtures::Exchange;
    ///
    /// let mut exchange = Exchange::json("GET", "/rooms", 429, serde_json::json!({}));
    /// exchange.response.headers.insert("Retry-After".into(), "2".into());
    /// assert_eq!(exchange.response.header_list(), [
    ///     ("retry-after".to_string(), "2".to_string()),
    ///     ("content-type".to_string(), "application/json".to_string()),
    /// ]);
    /// ```
    pub fn header_list(&self) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        if self.body.is_some() && !headers.iter().any(|(k, _)| k == "content-type") {
            headers.push(("content-type".into(), "application/json".into()));
        }
        headers
    }
}

/// Every exchange of a directory, in file-name order.
///
/// ```
/// use jack_pms_sdk::testing::fixtures::{Exchange, Fixtures};
///
/// let fixtures = Fixtures::from_exchanges(vec![
///     Exchange::json("GET", "/rooms", 200, serde_json::json!(["page 2"])).with_query("page", "2"),
///     Exchange::json("GET", "/rooms", 200, serde_json::json!(["page 1"])),
/// ]);
/// let answer = |url| fixtures.find("GET", url, None).map(|e| e.response.body_bytes());
/// assert_eq!(answer("/rooms?page=2").as_deref(), Some(&br#"["page 2"]"#[..]));
/// assert_eq!(answer("/rooms").as_deref(), Some(&br#"["page 1"]"#[..]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Fixtures {
    exchanges: Vec<Exchange>,
}

impl Fixtures {
    /// Reads every `*.json` file of `dir`.
    ///
    /// A file that is not an exchange (or a list of them) is an error naming the file; so is a
    /// directory without any.
    ///
    /// ```
    /// use jack_pms_sdk::testing::fixtures::Fixtures;
    ///
    /// # let dir = std::env::temp_dir().join(format!("jack-pms-sdk-doc-load-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// std::fs::write(dir.join("01-rooms.json"), r#"[
    ///     { "request": { "method": "GET", "path": "/rooms" }, "response": { "status": 200, "body": [] } },
    ///     { "request": { "method": "GET", "path": "/rooms/204" }, "response": { "status": 404, "text": "" } }
    /// ]"#).unwrap();
    /// let fixtures = Fixtures::load(&dir).unwrap();
    /// assert_eq!(fixtures.find("GET", "/rooms/204", None).map(|e| e.response.status), Some(404));
    ///
    /// std::fs::write(dir.join("02-typo.json"), r#"{ "request": { "method": "GET" } }"#).unwrap();
    /// assert!(Fixtures::load(&dir).unwrap_err().path.ends_with("02-typo.json"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn load(dir: &Path) -> Result<Fixtures, FixtureError> {
        let error = |path: &Path, message: String| FixtureError {
            path: path.display().to_string(),
            message,
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| error(dir, e.to_string()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut exchanges = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|e| error(file, e.to_string()))?;
            match serde_json::from_str::<OneOrMany>(&text) {
                Ok(OneOrMany::One(e)) => exchanges.push(*e),
                Ok(OneOrMany::Many(many)) => exchanges.extend(many),
                Err(e) => {
                    return Err(error(
                        file,
                        format!("not an exchange or a list of exchanges: {e}"),
                    ));
                }
            }
        }
        if exchanges.is_empty() {
            return Err(error(dir, "holds no *.json exchange".into()));
        }
        Ok(Fixtures { exchanges })
    }

    /// Exchanges given in code rather than files.
    ///
    /// ```
    /// use jack_pms_sdk::testing::fixtures::{Exchange, Fixtures};
    ///
    /// let fixtures = Fixtures::from_exchanges(vec![Exchange::json("GET", "/ping", 200, serde_json::json!("pong"))]);
    /// assert!(fixtures.find("GET", "https://pms.example/ping", None).is_some());
    /// ```
    pub fn from_exchanges(exchanges: Vec<Exchange>) -> Fixtures {
        Fixtures { exchanges }
    }

    /// Adds an exchange that takes precedence over the ones already held.
    ///
    /// ```
    /// use jack_pms_sdk::testing::fixtures::{Exchange, Fixtures};
    ///
    /// let mut fixtures = Fixtures::from_exchanges(vec![Exchange::json("GET", "/rooms", 200, serde_json::json!([]))]);
    /// fixtures.push_front(Exchange::json("GET", "/rooms", 500, serde_json::json!({"error": "down"})));
    /// assert_eq!(fixtures.find("GET", "/rooms", None).map(|e| e.response.status), Some(500));
    /// ```
    pub fn push_front(&mut self, exchange: Exchange) {
        self.exchanges.insert(0, exchange);
    }

    /// The first exchange matching a request for `url` (absolute, or a path with a query).
    ///
    /// ```
    /// use jack_pms_sdk::testing::fixtures::{Exchange, Fixtures};
    ///
    /// let f = Fixtures::from_exchanges(vec![Exchange::json("GET", "/r", 200, serde_json::json!([]))]);
    /// assert!(f.find("GET", "https://pms.example/r?page=1", None).is_some());
    /// assert!(f.find("POST", "https://pms.example/r", None).is_none());
    /// ```
    pub fn find(&self, method: &str, url: &str, body: Option<&[u8]>) -> Option<&Exchange> {
        let (path, query) = split_url(url);
        let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        self.exchanges.iter().find(|e| {
            let r = &e.request;
            r.method.eq_ignore_ascii_case(method)
                && r.path == path
                && r.query
                    .iter()
                    .all(|(k, v)| query.iter().any(|(qk, qv)| qk == k && qv == v))
                && r.body_contains.as_ref().is_none_or(|needle| {
                    body.is_some_and(|b| String::from_utf8_lossy(b).contains(needle.as_str()))
                })
        })
    }
}

/// The path and the query of `url` (absolute or not), without the fragment.
///
/// ```
/// assert_eq!(jack_pms_sdk::testing::fixtures::split_url("https://h:1/a?x=1#f"), ("/a", "x=1"));
/// ```
pub fn split_url(url: &str) -> (&str, &str) {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            after.find('/').map_or("/", |j| &after[j..])
        }
        None => url,
    };
    let rest = rest.split('#').next().unwrap_or_default();
    match rest.split_once('?') {
        Some((path, query)) => (path, query),
        None => (rest, ""),
    }
}

impl Exchange {
    /// An exchange answering `method path` (any query) with `status` and a JSON body.
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("GET", "/folio", 200, serde_json::json!({"balance": 12.5})));
    /// let balance = pms.run(|| {
    ///     let folio: serde_json::Value = Request::get("https://pms.example/folio?reservation=R1").send()?.json()?;
    ///     Amount::from_json(&folio["balance"])
    /// })?;
    /// assert_eq!(balance.to_string(), "12.50");
    /// # Ok::<(), PmsError>(())
    /// ```
    pub fn json(method: &str, path: &str, status: u16, body: serde_json::Value) -> Exchange {
        Exchange {
            request: RequestMatch {
                method: method.into(),
                path: path.into(),
                query: BTreeMap::new(),
                body_contains: None,
            },
            response: RecordedResponse {
                status,
                headers: BTreeMap::new(),
                body: Some(body),
                text: None,
            },
        }
    }

    /// Only when the query has `key=value` (pages of one path).
    ///
    /// ```
    /// use jack_pms_sdk::testing::fixtures::{Exchange, Fixtures};
    ///
    /// let fixtures = Fixtures::from_exchanges(vec![
    ///     Exchange::json("GET", "/guests", 200, serde_json::json!([])).with_query("email", "ada@example.com"),
    /// ]);
    /// assert!(fixtures.find("GET", "/guests?email=ada%40example.com&limit=5", None).is_some());
    /// assert!(fixtures.find("GET", "/guests?email=bob%40example.com", None).is_none());
    /// ```
    pub fn with_query(mut self, key: &str, value: &str) -> Exchange {
        self.request.query.insert(key.into(), value.into());
        self
    }

    /// Only when the request body contains `needle` (POST-only APIs).
    ///
    /// ```
    /// use jack_pms_sdk::prelude::*;
    /// use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
    /// use serde_json::json;
    ///
    /// // Mews-style paging: every page is a POST to the same path; the cursor is in the body.
    /// let path = "/api/connector/v1/reservations/getAll";
    /// let pms = Harness::new()
    ///     .exchange(Exchange::json("POST", path, 200, json!({"Reservations": [], "Cursor": null})).with_body_containing(r#""Cursor":"c2""#));
    /// let page: serde_json::Value = pms.run(|| {
    ///     Request::post(format!("https://api.mews-demo.com{path}")).json(&json!({"Limitation": {"Cursor": "c2"}}))?.send()?.json()
    /// })?;
    /// assert!(page["Cursor"].is_null());
    /// # Ok::<(), PmsError>(())
    /// ```
    pub fn with_body_containing(mut self, needle: &str) -> Exchange {
        self.request.body_contains = Some(needle.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory removed when dropped (the SDK keeps its dependencies minimal).
    struct TempDir(std::path::PathBuf);
    impl TempDir {
        fn new(name: &str) -> TempDir {
            let dir =
                std::env::temp_dir().join(format!("jack-pms-sdk-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
        fn path(&self) -> &Path {
            &self.0
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn matches_method_path_query_and_body() {
        let dir = TempDir::new("t1");
        std::fs::write(
            dir.path().join("a.json"),
            r#"[{"request":{"method":"GET","path":"/r","query":{"page":"2"}},"response":{"status":200,"body":{"p":2}}},
                {"request":{"method":"GET","path":"/r"},"response":{"status":200,"body":{"p":1}}},
                {"request":{"method":"POST","path":"/m","bodyContains":"\"Cursor\":\"c2\""},"response":{"status":200,"text":"two"}}]"#,
        )
        .unwrap();
        let f = Fixtures::load(dir.path()).unwrap();
        let url = |s: &str| format!("https://pms.test{s}");
        let body = |e: &Exchange| e.response.body_bytes();
        assert_eq!(
            body(f.find("GET", &url("/r?page=2&size=5"), None).unwrap()),
            br#"{"p":2}"#
        );
        assert_eq!(
            body(f.find("get", &url("/r?page=1"), None).unwrap()),
            br#"{"p":1}"#
        );
        assert!(
            f.find("POST", &url("/m"), Some(br#"{"Cursor":"c1"}"#))
                .is_none()
        );
        assert_eq!(
            body(
                f.find("POST", &url("/m"), Some(br#"{"Cursor":"c2"}"#))
                    .unwrap()
            ),
            b"two"
        );
    }

    #[test]
    fn bad_files_are_named() {
        let dir = TempDir::new("t2");
        std::fs::write(dir.path().join("bad.json"), "{\"request\": 1}").unwrap();
        let e = Fixtures::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("bad.json"), "{e}");
        let empty = TempDir::new("t3");
        assert!(Fixtures::load(empty.path()).is_err());
    }
}
