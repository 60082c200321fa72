//! Shorthands for building [`PmsError`] values, and the mapping from HTTP status codes.
//!
//! Every adapter function answers a [`PmsError`] rather than trapping; these helpers keep the
//! messages uniform. [`crate::http::Response::error_for_status`] applies [`from_status`] for you.
//!
//! ```
//! use jack_pms_sdk::errors::{from_status, invalid_request};
//! use jack_pms_sdk::PmsError;
//!
//! fn nights(n: i64) -> Result<u32, PmsError> {
//!     u32::try_from(n).map_err(|_| invalid_request(format!("{n} is not a number of nights")))
//! }
//! assert!(nights(-1).is_err());
//! assert_eq!(from_status(429, "", Some(1000)), Some(PmsError::RateLimited(Some(1000))));
//! ```

use crate::PmsError;

/// `unsupported` with a reason naming the operation.
///
/// ```
/// use jack_pms_sdk::{PmsError, errors::unsupported};
///
/// // A vendor that can look guests up by id only.
/// let error = unsupported("get-guest by phone");
/// assert_eq!(error, PmsError::Unsupported("get-guest by phone is not supported by this adapter".into()));
/// ```
pub fn unsupported(what: &str) -> PmsError {
    PmsError::Unsupported(format!("{what} is not supported by this adapter"))
}

/// `invalid-request` with a message.
///
/// ```
/// use jack_pms_sdk::{PmsError, errors::invalid_request};
///
/// let error = invalid_request("a note must not be empty");
/// assert_eq!(error, PmsError::InvalidRequest("a note must not be empty".into()));
/// ```
pub fn invalid_request(message: impl Into<String>) -> PmsError {
    PmsError::InvalidRequest(message.into())
}

/// `internal` with a message.
///
/// ```
/// use jack_pms_sdk::{PmsError, errors::internal};
///
/// // The PMS answered something this adapter cannot map: say what, do not trap.
/// let state = "SPARKLING";
/// assert_eq!(internal(format!("unknown room state `{state}`")), PmsError::Internal("unknown room state `SPARKLING`".into()));
/// ```
pub fn internal(message: impl Into<String>) -> PmsError {
    PmsError::Internal(message.into())
}

/// Maps an HTTP error status to the matching [`PmsError`]; `None` for 1xx–3xx.
///
/// `detail` is the vendor's message (put into the error's string); `retry_after_ms` is the parsed
/// `Retry-After` header, used for 429.
///
/// | status | error |
/// |---|---|
/// | 400, 422 | `invalid-request` |
/// | 401, 403 | `unauthorized` |
/// | 404, 410 | `not-found` |
/// | 408, 5xx | `unavailable` |
/// | 409, 412 | `conflict` |
/// | 429 | `rate-limited` |
/// | any other 4xx | `internal` |
///
/// ```
/// use jack_pms_sdk::{PmsError, errors::from_status};
///
/// assert_eq!(from_status(204, "", None), None);
/// assert_eq!(from_status(404, "no such booking", None), Some(PmsError::NotFound));
/// assert_eq!(
///     from_status(503, "maintenance until 4am", None),
///     Some(PmsError::Unavailable("HTTP 503: maintenance until 4am".into()))
/// );
/// ```
pub fn from_status(status: u16, detail: &str, retry_after_ms: Option<u64>) -> Option<PmsError> {
    let with = |what: &str| {
        if detail.is_empty() {
            format!("HTTP {status}: {what}")
        } else {
            format!("HTTP {status}: {detail}")
        }
    };
    Some(match status {
        0..=399 => return None,
        400 | 422 => PmsError::InvalidRequest(with("the PMS refused the request as invalid")),
        401 | 403 => PmsError::Unauthorized(with("the PMS refused the credentials")),
        404 | 410 => PmsError::NotFound,
        408 => PmsError::Unavailable(with("the PMS timed out")),
        409 | 412 => PmsError::Conflict(with("the PMS refused the change")),
        429 => PmsError::RateLimited(retry_after_ms),
        500..=599 => PmsError::Unavailable(with("the PMS failed")),
        _ => PmsError::Internal(with("unexpected status")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_contract() {
        assert_eq!(from_status(200, "", None), None);
        assert_eq!(from_status(304, "", None), None);
        assert!(
            matches!(from_status(400, "bad", None), Some(PmsError::InvalidRequest(m)) if m.contains("bad"))
        );
        assert!(matches!(
            from_status(401, "", None),
            Some(PmsError::Unauthorized(_))
        ));
        assert_eq!(from_status(404, "", None), Some(PmsError::NotFound));
        assert!(matches!(
            from_status(408, "", None),
            Some(PmsError::Unavailable(_))
        ));
        assert!(matches!(
            from_status(409, "", None),
            Some(PmsError::Conflict(_))
        ));
        assert_eq!(
            from_status(429, "", Some(2000)),
            Some(PmsError::RateLimited(Some(2000)))
        );
        assert!(matches!(
            from_status(503, "", None),
            Some(PmsError::Unavailable(_))
        ));
        assert!(matches!(
            from_status(418, "", None),
            Some(PmsError::Internal(_))
        ));
    }
}
