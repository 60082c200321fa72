//! Typed helpers over the host's `http` import: build a request, send it, check the status and
//! parse JSON, with every failure turned into the right [`PmsError`].
//!
//! The host owns credentials: name the scheme with [`Request::credentials`] and the host fills in
//! the secret. Setting `authorization`, `x-api-key` or other credential headers yourself is refused.
//!
//! ```
//! use jack_pms_sdk::prelude::*;
//! use jack_pms_sdk::testing::{Harness, fixtures::Exchange};
//! use serde_json::json;
//!
//! #[derive(serde::Deserialize)]
//! struct Room {
//!     number: String,
//! }
//!
//! fn dirty_rooms() -> Result<Vec<Room>, PmsError> {
//!     Request::get("https://pms.example/rooms")
//!         .query("status", "dirty")
//!         .credentials(CredentialScheme::Oauth2ClientCredentials)
//!         .send()? // transport failures: `unavailable`
//!         .error_for_status()? // 401: `unauthorized`, 429: `rate-limited`, …
//!         .json() // a body that does not fit `Room`: `internal`
//! }
//!
//! let pms = Harness::new().exchange(Exchange::json("GET", "/rooms", 200, json!([{"number": "204"}])));
//! assert_eq!(pms.run(dirty_rooms)?[0].number, "204");
//! let pms = pms.exchange(Exchange::json("GET", "/rooms", 200, json!({"unexpected": true})));
//! assert!(matches!(pms.run(dirty_rooms), Err(PmsError::Internal(_))));
//! # Ok::<(), PmsError>(())
//! ```

use crate::bindings::jack::pms::http as imports;
use crate::errors::from_status;
use crate::{CredentialScheme, PmsError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An HTTP method, for [`Request::new`] (the shorthands [`Request::get`] … are usually nicer).
///
/// ```
/// use jack_pms_sdk::http::{Method, Request};
///
/// let request = Request::new(Method::Head, "https://pms.example/ping");
/// assert_eq!(request.url(), "https://pms.example/ping");
/// ```
pub use imports::Method;

/// Percent-encodes one path segment (an id or a confirmation number put into a URL path), so
/// that `/`, `?`, `#`, spaces and non-ASCII cannot change which resource the request names.
///
/// ```
/// use jack_pms_sdk::http::path_segment;
///
/// assert_eq!(path_segment("CONF 10/01"), "CONF%2010%2F01");
/// assert_eq!(path_segment("G-1001_a.b~c"), "G-1001_a.b~c");
/// assert_eq!(path_segment("é"), "%C3%A9");
/// ```
pub fn path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// An outbound request being built.
///
/// Start with a method shorthand, add query parameters, headers, a body and the credential
/// scheme, then [`Request::send`] it.
///
/// ```
/// use jack_pms_sdk::prelude::*;
///
/// let request = Request::get("https://pms.example/reservations")
///     .query("arrival", "2024-01-15")
///     .header("accept-language", "en")
///     .credentials(CredentialScheme::ApiKeyHeader);
/// assert_eq!(request.url(), "https://pms.example/reservations?arrival=2024-01-15");
/// ```
#[derive(Clone, Debug)]
pub struct Request {
    method: Method,
    url: String,
    has_query: bool,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    credentials: CredentialScheme,
}

impl Request {
    /// A request with `method` to `url` (absolute, `https://…`).
    ///
    /// ```
    /// use jack_pms_sdk::http::{Method, Request};
    ///
    /// let request = Request::new(Method::Get, format!("https://{}/api/v1", "pms.example"));
    /// assert_eq!(request.url(), "https://pms.example/api/v1");
    /// ```
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        let url = url.into();
        Request {
            method,
            has_query: url.contains('?'),
            url,
            headers: Vec::new(),
            body: None,
            credentials: CredentialScheme::None,
        }
    }

    /// A GET request.
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("GET", "/rooms/204", 200, serde_json::json!({"clean": true})));
    /// let room: serde_json::Value = pms.run(|| Request::get("https://pms.example/rooms/204").send()?.json())?;
    /// assert_eq!(room["clean"], true);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }

    /// A POST request.
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("POST", "/notes", 201, serde_json::json!({"id": "N1"})));
    /// let status = pms.run(|| Request::post("https://pms.example/notes").json(&["Late arrival"])?.send())?.status();
    /// assert_eq!(status, 201);
    /// assert_eq!(pms.requests()[0].method, "POST");
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn post(url: impl Into<String>) -> Request {
        Request::new(Method::Post, url)
    }

    /// A PUT request.
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("PUT", "/guests/P7/vip", 200, serde_json::json!({})));
    /// let response = pms.run(|| Request::put("https://pms.example/guests/P7/vip").json(&true)?.send())?;
    /// assert!(response.is_success());
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn put(url: impl Into<String>) -> Request {
        Request::new(Method::Put, url)
    }

    /// A PATCH request.
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("PATCH", "/reservations/R1", 200, serde_json::json!({})));
    /// let body = serde_json::json!({"departureTime": "2024-01-18T13:00:00Z"});
    /// assert!(pms.run(|| Request::patch("https://pms.example/reservations/R1").json(&body)?.send())?.is_success());
    /// assert_eq!(pms.requests()[0].json(), Some(body));
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn patch(url: impl Into<String>) -> Request {
        Request::new(Method::Patch, url)
    }

    /// A DELETE request.
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("DELETE", "/notes/N1", 204, serde_json::json!(null)));
    /// assert_eq!(pms.run(|| Request::delete("https://pms.example/notes/N1").send())?.status(), 204);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn delete(url: impl Into<String>) -> Request {
        Request::new(Method::Delete, url)
    }

    /// Appends `key=value` to the query string, percent-encoded.
    ///
    /// ```
    /// use jack_pms_sdk::Request;
    ///
    /// let request = Request::get("https://pms.example/guests").query("name", "Chen & Co").query("page", 2.to_string());
    /// assert_eq!(request.url(), "https://pms.example/guests?name=Chen+%26+Co&page=2");
    /// ```
    pub fn query(mut self, key: &str, value: impl AsRef<str>) -> Request {
        let pair: String = form_urlencoded::Serializer::new(String::new())
            .append_pair(key, value.as_ref())
            .finish();
        self.url.push(if self.has_query { '&' } else { '?' });
        self.url.push_str(&pair);
        self.has_query = true;
        self
    }

    /// Appends `key=value` when `value` is `Some`.
    ///
    /// ```
    /// use jack_pms_sdk::{GuestQuery, Request};
    ///
    /// let query = GuestQuery { email: Some("ada@example.com".into()), phone: None, name: None };
    /// let request = Request::get("https://pms.example/guests")
    ///     .query_opt("email", query.email)
    ///     .query_opt("phone", query.phone);
    /// assert_eq!(request.url(), "https://pms.example/guests?email=ada%40example.com");
    /// ```
    pub fn query_opt(self, key: &str, value: Option<impl AsRef<str>>) -> Request {
        match value {
            Some(value) => self.query(key, value),
            None => self,
        }
    }

    /// Adds a header.
    ///
    /// Credential headers (`authorization`, `x-api-key`, `cookie` …) are the host's: sending one
    /// fails with `internal`. Use [`Request::credentials`] instead.
    ///
    /// ```
    /// use jack_pms_sdk::{PmsError, Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("GET", "/rooms", 200, serde_json::json!([])));
    /// pms.run(|| Request::get("https://pms.example/rooms").header("x-hotel-code", "H1").send())?;
    /// assert!(pms.requests()[0].headers.contains(&("x-hotel-code".into(), "H1".into())));
    ///
    /// let refused = pms.run(|| Request::get("https://pms.example/rooms").header("Authorization", "Bearer mine").send());
    /// assert!(matches!(refused, Err(PmsError::Internal(m)) if m.contains("Authorization")));
    /// # Ok::<(), PmsError>(())
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body and `content-type: application/json`.
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    /// use serde_json::json;
    ///
    /// #[derive(serde::Serialize)]
    /// #[serde(rename_all = "camelCase")]
    /// struct NewNote<'a> {
    ///     text: &'a str,
    ///     external_id: &'a str,
    /// }
    ///
    /// let pms = Harness::new().exchange(Exchange::json("POST", "/notes", 201, json!({})));
    /// pms.run(|| Request::post("https://pms.example/notes").json(&NewNote { text: "Late arrival", external_id: "op-1" })?.send())?;
    /// let sent = &pms.requests()[0];
    /// assert_eq!(sent.json(), Some(json!({"text": "Late arrival", "externalId": "op-1"})));
    /// assert!(sent.headers.contains(&("content-type".into(), "application/json".into())));
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Request, PmsError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| PmsError::Internal(format!("could not encode the request body: {e}")))?;
        self.body = Some(bytes);
        Ok(self.header("content-type", "application/json"))
    }

    /// Sets a form body (`application/x-www-form-urlencoded`).
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("POST", "/postCustomItem", 200, serde_json::json!({"success": true})));
    /// pms.run(|| Request::post("https://pms.example/postCustomItem").form(&[("reservationID", "R1"), ("itemName", "Mini bar")]).send())?;
    /// assert_eq!(pms.requests()[0].form()[1], ("itemName".to_string(), "Mini bar".to_string()));
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Request {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            form.append_pair(k.as_ref(), v.as_ref());
        }
        self.body = Some(form.finish().into_bytes());
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// Sets raw body bytes.
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let xml = b"<Note>Late arrival</Note>".to_vec();
    /// let pms = Harness::new().exchange(Exchange::json("POST", "/notes", 201, serde_json::json!({})));
    /// pms.run(|| Request::post("https://pms.example/notes").header("content-type", "application/xml").body(xml.clone()).send())?;
    /// assert_eq!(pms.requests()[0].body, Some(xml));
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn body(mut self, body: Vec<u8>) -> Request {
        self.body = Some(body);
        self
    }

    /// Asks the host to apply the manifest's credential scheme.
    ///
    /// The adapter names the scheme; the host adds the secret (header, bearer token, or JSON body
    /// fields) after the request leaves the sandbox, so the adapter never sees it.
    ///
    /// ```
    /// use jack_pms_sdk::{CredentialScheme, Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new().exchange(Exchange::json("GET", "/hotels", 200, serde_json::json!([])));
    /// pms.run(|| Request::get("https://pms.example/hotels").credentials(CredentialScheme::Oauth2ClientCredentials).send())?;
    /// assert_eq!(pms.requests()[0].credentials, CredentialScheme::Oauth2ClientCredentials);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn credentials(mut self, scheme: CredentialScheme) -> Request {
        self.credentials = scheme;
        self
    }

    /// The URL as built so far.
    ///
    /// ```
    /// use jack_pms_sdk::Request;
    ///
    /// assert_eq!(Request::get("https://pms.example/a?x=1").query("y", "2").url(), "https://pms.example/a?x=1&y=2");
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends the request through the host. Transport failures become `unavailable`; refusals by
    /// the host's policy become `internal` (they are bugs in the adapter or its manifest).
    ///
    /// An HTTP error status is still a [`Response`]: check it with [`Response::error_for_status`]
    /// or [`Response::status`].
    ///
    /// ```
    /// use jack_pms_sdk::{Request, testing::{Harness, fixtures::Exchange}};
    ///
    /// let pms = Harness::new()
    ///     .setting("baseUrl", "https://pms.example")
    ///     .exchange(Exchange::json("GET", "/reservations/ABC1", 200, serde_json::json!({"id": "R1"})));
    /// let response = pms.run(|| {
    ///     let base = jack_pms_sdk::config::require("baseUrl")?;
    ///     Request::get(format!("{base}/reservations/ABC1")).send()
    /// })?;
    /// assert_eq!(response.status(), 200);
    /// // Nothing recorded for this one: the harness answers 404 and lists it.
    /// let missing = pms.run(|| Request::get("https://pms.example/reservations/NOPE").send())?;
    /// assert_eq!(missing.status(), 404);
    /// assert_eq!(pms.unmatched(), ["GET /reservations/NOPE"]);
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn send(self) -> Result<Response, PmsError> {
        let request = imports::Request {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
            credentials: self.credentials,
        };
        crate::host::send(&request)
            .map(Response::from)
            .map_err(map_http_error)
    }
}

fn map_http_error(error: imports::HttpError) -> PmsError {
    use imports::HttpError as E;
    match error {
        E::Timeout => PmsError::Unavailable("the PMS did not answer in time".into()),
        E::Connection(m) => PmsError::Unavailable(format!("could not reach the PMS: {m}")),
        E::ForbiddenDestination(m) => {
            PmsError::Internal(format!("the host refused the destination: {m}"))
        }
        E::ForbiddenHeader(h) => PmsError::Internal(format!("the host refused the header `{h}`")),
        E::Credentials(m) => PmsError::Unauthorized(format!("credentials: {m}")),
        E::RequestLimitExceeded(n) => PmsError::Internal(format!(
            "this call exceeded its limit of {n} outbound requests"
        )),
        E::ResponseTooLarge(n) => {
            PmsError::Internal(format!("the PMS response exceeded {n} bytes"))
        }
        E::InvalidRequest(m) => PmsError::InvalidRequest(m),
    }
}

/// A response from the PMS.
///
/// ```
/// use jack_pms_sdk::Response;
///
/// // Mapping code can be tested on hand-made responses.
/// let response = Response::new(200, vec![], br#"{"balance": "12.50"}"#.to_vec());
/// let body: serde_json::Value = response.json()?;
/// assert_eq!(body["balance"], "12.50");
/// # Ok::<(), jack_pms_sdk::PmsError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl From<imports::Response> for Response {
    fn from(r: imports::Response) -> Response {
        Response {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }
    }
}

impl Response {
    /// Builds a response by hand (for tests of mapping code).
    ///
    /// ```
    /// use jack_pms_sdk::Response;
    ///
    /// let response = Response::new(429, vec![("Retry-After".into(), "3".into())], vec![]);
    /// assert_eq!(response.retry_after_ms(), Some(3000));
    /// ```
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Response {
        Response {
            status,
            headers,
            body,
        }
    }

    /// The status code.
    ///
    /// ```
    /// use jack_pms_sdk::Response;
    ///
    /// // Vendors that answer 404 for "no such reservation": that is `None`, not an error.
    /// let response = Response::new(404, vec![], b"not found".to_vec());
    /// let found: Option<serde_json::Value> = if response.status() == 404 { None } else { Some(response.json()?) };
    /// assert!(found.is_none());
    /// # Ok::<(), jack_pms_sdk::PmsError>(())
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// True for 2xx.
    ///
    /// ```
    /// use jack_pms_sdk::Response;
    ///
    /// assert!(Response::new(204, vec![], vec![]).is_success());
    /// assert!(!Response::new(302, vec![], vec![]).is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header named `name` (case-insensitive).
    ///
    /// ```
    /// use jack_pms_sdk::Response;
    ///
    /// let response = Response::new(200, vec![("X-Request-Id".into(), "req-42".into())], vec![]);
    /// assert_eq!(response.header("x-request-id"), Some("req-42"));
    /// assert_eq!(response.header("etag"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body bytes.
    ///
    /// ```
    /// use jack_pms_sdk::Response;
    ///
    /// assert_eq!(Response::new(200, vec![], b"OK".to_vec()).bytes(), b"OK");
    /// ```
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    ///
    /// ```
    /// use jack_pms_sdk::Response;
    ///
    /// assert_eq!(Response::new(200, vec![], b"caf\xC3\xA9 \xFF".to_vec()).text(), "café \u{FFFD}");
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `Retry-After` in milliseconds, when given in seconds.
    ///
    /// ```
    /// use jack_pms_sdk::Response;
    ///
    /// let retry = |value: &str| Response::new(429, vec![("retry-after".into(), value.into())], vec![]).retry_after_ms();
    /// assert_eq!(retry("2"), Some(2000));
    /// // The HTTP-date form is not read: the host's own back-off applies.
    /// assert_eq!(retry("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    /// ```
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after")?
            .trim()
            .parse::<u64>()
            .ok()
            .map(|s| s.saturating_mul(1000))
    }

    /// Passes 2xx (and 3xx) through; turns an error status into the matching [`PmsError`], with up
    /// to 200 characters of the body as the vendor's message.
    ///
    /// ```
    /// use jack_pms_sdk::{PmsError, Response};
    ///
    /// let ok = Response::new(200, vec![], b"{}".to_vec());
    /// assert!(ok.error_for_status().is_ok());
    /// let refused = Response::new(401, vec![], b"token expired".to_vec());
    /// assert_eq!(refused.error_for_status().unwrap_err(), PmsError::Unauthorized("HTTP 401: token expired".into()));
    /// ```
    pub fn error_for_status(self) -> Result<Response, PmsError> {
        let detail: String = self.text().chars().take(200).collect();
        match from_status(self.status, detail.trim(), self.retry_after_ms()) {
            None => Ok(self),
            Some(error) => Err(error),
        }
    }

    /// Parses the body as JSON into `T`; a malformed body becomes `internal` naming the problem.
    ///
    /// ```
    /// use jack_pms_sdk::{PmsError, Response};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Folio {
    ///     balance: f64,
    /// }
    ///
    /// let folio: Folio = Response::new(200, vec![], br#"{"balance": 12.5}"#.to_vec()).json()?;
    /// assert_eq!(folio.balance, 12.5);
    /// let truncated = Response::new(200, vec![], br#"{"balance": 1"#.to_vec());
    /// assert!(matches!(truncated.json::<Folio>(), Err(PmsError::Internal(_))));
    /// # Ok::<(), PmsError>(())
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PmsError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            PmsError::Internal(format!("the PMS sent a body this adapter cannot read: {e}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_encoded_and_joined() {
        let r = Request::get("https://pms.example/a")
            .query("name", "Chen & Co")
            .query("page", "2");
        assert_eq!(r.url(), "https://pms.example/a?name=Chen+%26+Co&page=2");
        let r = Request::get("https://pms.example/a?x=1")
            .query_opt("y", Some("2"))
            .query_opt("z", None::<&str>);
        assert_eq!(r.url(), "https://pms.example/a?x=1&y=2");
    }

    #[test]
    fn error_for_status_maps_and_keeps_the_vendor_message() {
        let r = Response::new(429, vec![("Retry-After".into(), "2".into())], vec![]);
        assert_eq!(
            r.error_for_status().unwrap_err(),
            PmsError::RateLimited(Some(2000))
        );
        let r = Response::new(503, vec![], b"maintenance".to_vec());
        assert!(
            matches!(r.error_for_status(), Err(PmsError::Unavailable(m)) if m.contains("maintenance"))
        );
        let r = Response::new(200, vec![], b"{}".to_vec());
        assert!(r.error_for_status().is_ok());
    }

    #[test]
    fn malformed_json_is_an_internal_error_not_a_panic() {
        #[derive(serde::Deserialize, Debug)]
        struct Thing {
            #[allow(dead_code)]
            id: String,
        }
        let r = Response::new(200, vec![], b"{\"id\": 12".to_vec());
        assert!(matches!(r.json::<Thing>(), Err(PmsError::Internal(_))));
    }
}
