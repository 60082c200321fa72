//! Typed helpers over the host's `http` import: build a request, send it, check the status and
//! parse JSON, with every failure turned into the right [`PmsError`].
//!
//! The host owns credentials: name the scheme with [`Request::credentials`] and the host fills in
//! the secret. Setting `authorization`, `x-api-key` or other credential headers yourself is refused.

use crate::bindings::jack::pms::http as imports;
use crate::errors::from_status;
use crate::{CredentialScheme, PmsError};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use imports::Method;

/// An outbound request being built.
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
    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }

    /// A POST request.
    pub fn post(url: impl Into<String>) -> Request {
        Request::new(Method::Post, url)
    }

    /// A PUT request.
    pub fn put(url: impl Into<String>) -> Request {
        Request::new(Method::Put, url)
    }

    /// A PATCH request.
    pub fn patch(url: impl Into<String>) -> Request {
        Request::new(Method::Patch, url)
    }

    /// A DELETE request.
    pub fn delete(url: impl Into<String>) -> Request {
        Request::new(Method::Delete, url)
    }

    /// Appends `key=value` to the query string, percent-encoded.
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
    pub fn query_opt(self, key: &str, value: Option<impl AsRef<str>>) -> Request {
        match value {
            Some(value) => self.query(key, value),
            None => self,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets a JSON body and `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(mut self, body: &T) -> Result<Request, PmsError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| PmsError::Internal(format!("could not encode the request body: {e}")))?;
        self.body = Some(bytes);
        Ok(self.header("content-type", "application/json"))
    }

    /// Sets a form body (`application/x-www-form-urlencoded`).
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, pairs: &[(K, V)]) -> Request {
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            form.append_pair(k.as_ref(), v.as_ref());
        }
        self.body = Some(form.finish().into_bytes());
        self.header("content-type", "application/x-www-form-urlencoded")
    }

    /// Sets raw body bytes.
    pub fn body(mut self, body: Vec<u8>) -> Request {
        self.body = Some(body);
        self
    }

    /// Asks the host to apply the manifest's credential scheme.
    pub fn credentials(mut self, scheme: CredentialScheme) -> Request {
        self.credentials = scheme;
        self
    }

    /// The URL as built so far.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends the request through the host. Transport failures become `unavailable`; refusals by
    /// the host's policy become `internal` (they are bugs in the adapter or its manifest).
    pub fn send(self) -> Result<Response, PmsError> {
        let request = imports::Request {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
            credentials: self.credentials,
        };
        imports::send(&request)
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
    pub fn new(status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Response {
        Response {
            status,
            headers,
            body,
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `Retry-After` in milliseconds, when given in seconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after")?
            .trim()
            .parse::<u64>()
            .ok()
            .map(|s| s.saturating_mul(1000))
    }

    /// Passes 2xx (and 3xx) through; turns an error status into the matching [`PmsError`], with up
    /// to 200 characters of the body as the vendor's message.
    pub fn error_for_status(self) -> Result<Response, PmsError> {
        let detail: String = self.text().chars().take(200).collect();
        match from_status(self.status, detail.trim(), self.retry_after_ms()) {
            None => Ok(self),
            Some(error) => Err(error),
        }
    }

    /// Parses the body as JSON into `T`; a malformed body becomes `internal` naming the problem.
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
